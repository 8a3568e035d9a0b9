"""The benchmark suite runs end to end (quick mode's smallest cases, in one process): a smoke test, not timed."""

from __future__ import annotations

import json


def test_quick_suite_writes_json_table_and_plot(tmp_path):
    from benchmarks import run

    md, plot = tmp_path / "BENCHMARKS.md", tmp_path / "scaling.png"
    code = run.main(["--quick", "--inprocess", "--only", "sweep,signals,scaling", "--out", str(tmp_path),
                     "--markdown", str(md), "--plot", str(plot)])
    assert code == 0
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["mode"] == "quick" and not latest["errors"]
    sweep = latest["sweep"]
    for name in ("fused", "minimal", "vectorbt", "engine"):
        assert sweep[name]["configs_per_s"]["median"] > 0, name
    assert "skipped" in sweep["bt"] or sweep["bt"]["configs_per_s"]["median"] > 0  # bt: a bench extra
    assert sweep["fused"]["finite_sharpe"] == sweep["fused"]["configs"]
    paired = sweep["fused"]["minimal_paired"]  # the yardstick timed between the fused runs, ratio per repeat
    assert paired["fused_over_minimal"]["runs"] == sweep["fused"]["seconds"]["runs"]
    assert paired["fused_over_minimal"]["median"] > 0
    stages = sweep["stages"]["us_per_config"]
    assert all(stages[k]["median"] > 0 and stages[k]["runs"] >= 1 for k in ("weights_fingerprint", "core", "minimal"))
    assert set(latest["signals"]["kernels"]) >= {"pct_rank", "zscore", "ewma", "cs_rank", "streak"}
    assert all(k["max_abs_diff"] < 1e-9 for k in latest["signals"]["kernels"].values())
    assert latest["scaling"]["configs"] and latest["scaling"]["assets"]
    for name in ("sweep", "signals", "scaling"):
        assert (tmp_path / f"{name}.json").exists()
    text = md.read_text()
    assert "## Sweep throughput" in text and "## Scaling" in text and plot.exists()
    assert "Where a config's time goes" in text and "repeat by repeat" in text
