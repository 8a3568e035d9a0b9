"""A small version of `make calibrate`: the sweep's verdict says luck without an edge and real with a strong one."""

from __future__ import annotations

import pytest

from benchmarks.calibration import run_stats, summarise, table

pytestmark = pytest.mark.slow


def test_the_verdict_is_calibrated_on_eight_seeds():
    """fresh_flow_low_exposure's default grid on seeds 1000-1007: luck at ic=0 (at most one false call: the
    test's size is 5%), real at ic=0.1 (every seed: the planted edge is then several standard errors wide)."""
    rows = [run_stats("fresh_flow_low_exposure", seed, ic) for ic in (0.0, 0.1) for seed in range(1000, 1008)]
    calls = {ic: [r["verdict"] for r in rows if r["ic"] == ic] for ic in (0.0, 0.1)}
    assert calls[0.0].count("real") <= 1, calls
    assert calls[0.1].count("real") == 8, calls
    summary = summarise(rows)
    assert list(summary["seeds"]) == [8, 8]
    assert "| fresh_flow_low_exposure | 0.1 | 8 | 100% |" in table(summary)
