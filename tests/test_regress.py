"""The regression harness catches a change and names it; unchanged runs pass; reports are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from research import regress as R
from research.cli import main

ONLY = ["fresh_flow_low_exposure", "leverage_regime"]


@pytest.fixture(scope="module")
def baselines(tmp_path_factory, market):
    folder = tmp_path_factory.mktemp("baselines")
    out = R.regress({"synthetic": lambda: market}, update=True, baselines=folder, only=ONLY)
    assert {o.status for o in out} == {"updated"}
    return folder


def test_unchanged_runs_pass(baselines, market):
    out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=ONLY)
    assert [o.status for o in out] == ["ok", "ok"]
    assert not R.failed(out)


def test_a_perturbed_parameter_fails_and_is_named(baselines, market):
    out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=ONLY,
                    overrides={"fresh_flow_low_exposure": {"top_n": 2}})
    assert R.failed(out)
    bad = next(o for o in out if o.strategy == "fresh_flow_low_exposure")
    assert bad.status == "drift"
    lines = [d.line() for d in bad.drifts]
    assert any("parameter top_n moved 3 -> 2" in x for x in lines), lines
    assert any("returns digest" in x for x in lines)
    assert next(o for o in out if o.strategy == "leverage_regime").status == "ok"
    report = R.table(out)
    assert "DRIFT fresh_flow_low_exposure" in report
    assert "failure" in R.junit(out) and "top_n" in R.markdown(out)


def test_a_moved_metric_beyond_tolerance_is_reported(baselines, market):
    path = baselines / "synthetic" / "leverage_regime.json"
    saved = path.read_text()
    base = json.loads(saved)
    base["metrics"]["sharpe"] += 1e-4
    path.write_text(json.dumps(base))
    try:
        out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=["leverage_regime"])
    finally:
        path.write_text(saved)
    assert out[0].status == "drift"
    assert [d.what for d in out[0].drifts] == ["sharpe"]


def test_within_tolerance_is_not_drift():
    base = {"params": {}, "metrics": {"sharpe": 0.5}, "returns_digest": "a", "weights_digest": "b"}
    cur = {"params": {}, "metrics": {"sharpe": 0.5 + 1e-12}, "returns_digest": "a", "weights_digest": "b"}
    assert R.compare("x", base, cur) == []


def test_committed_baselines_exist_for_every_synthetic_strategy():
    import strategies

    names = {n for n, s in strategies.registry().items() if "real-data" not in s.tags}
    folder = Path(__file__).resolve().parents[1] / R.BASELINES / "synthetic"
    have = {p.stem for p in folder.glob("*.json")}
    missing = names - have
    assert not missing, f"no committed baseline for {sorted(missing)}: run `flowbt regress --update` and commit"


def test_cli_exit_code_on_drift(tmp_path, monkeypatch, baselines):
    monkeypatch.chdir(tmp_path)
    code = main(["regress", "--only", "leverage_regime", "--real-data", str(tmp_path / "none"),
                 "--junit", str(tmp_path / "r.xml"), "--quiet"])
    # No baselines under this cwd: the run is recorded as new, not a failure.
    assert code == 0 and (tmp_path / "r.xml").exists()
