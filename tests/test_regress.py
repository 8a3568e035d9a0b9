"""The regression harness catches a change and names it; unchanged runs pass; reports are written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from research import regress as R
from research.cli import main
from research.errors import ConfigError

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
    assert {"target weights", "daily returns"} <= {d.what for d in bad.failures}
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
    assert [d.what for d in out[0].failures] == ["sharpe"]


def test_within_tolerance_is_not_drift():
    returns = pd.Series([0.01, -0.02], index=pd.date_range("2020-01-01", periods=2))
    target = pd.DataFrame({"SPY": [1.0]}, index=returns.index[:1])
    base = R.Snapshot({"params": {}, "metrics": {"sharpe": 0.5}, "returns_digest": "a", "weights_digest": "b"},
                      returns, target)
    cur = R.Snapshot({"params": {}, "metrics": {"sharpe": 0.5 + 1e-12}, "returns_digest": "a", "weights_digest": "b"},
                     returns + 1e-12, target + 1e-12)
    assert R.compare("x", base, cur) == []


def test_committed_baselines_exist_for_every_synthetic_strategy():
    from research import registry

    names = {n for n, s in registry.registry().items() if "real-data" not in s.tags}
    folder = Path(__file__).resolve().parents[1] / R.BASELINES / "synthetic"
    have = {p.stem for p in folder.glob("*.json")}
    missing = names - have
    assert not missing, f"no committed baseline for {sorted(missing)}: run `flowbt regress --update` and commit"


def test_numbers_not_bits_a_last_bit_change_is_a_note(baselines, market, monkeypatch):
    """A 1e-10 change in one day's return (another CPU's last bits, magnified) passes, with the digest shown as a
    note."""
    folder = baselines / "synthetic"
    saved = R.Snapshot.read(folder, "leverage_regime")
    nudged = saved.returns.copy()
    nudged.iloc[100] += 1e-10  # survives the digest's rounding to 1e-12
    record = saved.record | {"returns_digest": R.digest(nudged)}
    R.Snapshot(record, nudged, saved.target).write(folder, "leverage_regime")
    try:
        out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=["leverage_regime"])
    finally:
        saved.write(folder, "leverage_regime")
    assert out[0].status == "ok", R.table(out)
    assert [d.what for d in out[0].notes] == ["returns digest"]
    assert "information, not a failure" in R.table(out)


def test_a_moved_return_names_the_first_session(baselines, market):
    folder = baselines / "synthetic"
    saved = R.Snapshot.read(folder, "leverage_regime")
    moved = saved.returns.copy()
    moved.iloc[[500, 900]] += 1e-6
    R.Snapshot(saved.record, moved, saved.target).write(folder, "leverage_regime")
    try:
        out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=["leverage_regime"])
    finally:
        saved.write(folder, "leverage_regime")
    assert out[0].status == "drift"
    (drift,) = out[0].failures
    assert drift.what == "daily returns"
    assert f"2 sessions beyond 1e-09, first {moved.index[500].date()}" in drift.detail


def test_a_flipped_selection_names_sessions_and_assets(baselines, market):
    folder = baselines / "synthetic"
    saved = R.Snapshot.read(folder, "fresh_flow_low_exposure")
    target = saved.target.copy()
    row = target.index[400]
    held = target.columns[target.loc[row] > 0][0]
    spare = target.columns[target.loc[row] == 0][0]
    target.loc[row, [held, spare]] = target.loc[row, [spare, held]].to_numpy()
    R.Snapshot(saved.record, saved.returns, target).write(folder, "fresh_flow_low_exposure")
    try:
        out = R.regress({"synthetic": lambda: market}, baselines=baselines, only=["fresh_flow_low_exposure"])
    finally:
        saved.write(folder, "fresh_flow_low_exposure")
    (drift,) = [d for d in out[0].failures if d.what == "target weights"]
    assert drift.baseline == "1 sessions" and "2 weights" in drift.current
    assert f"{row.date()} {held}" in drift.detail and f"{row.date()} {spare}" in drift.detail


def test_no_baselines_is_an_error_naming_the_folder(tmp_path, market):
    with pytest.raises(ConfigError, match=str(tmp_path / "nowhere")):
        R.regress({"synthetic": lambda: market}, baselines=tmp_path / "nowhere", only=ONLY)


def test_a_strategy_without_baseline_fails(baselines, market, tmp_path):
    folder = tmp_path / "partial" / "synthetic"
    R.Snapshot.read(baselines / "synthetic", "leverage_regime").write(folder, "leverage_regime")
    out = R.regress({"synthetic": lambda: market}, baselines=tmp_path / "partial", only=ONLY)
    status = {o.strategy: o.status for o in out}
    assert status == {"fresh_flow_low_exposure": "missing", "leverage_regime": "ok"}
    assert R.failed(out) and "--update --only fresh_flow_low_exposure" in R.table(out)


def test_cli_regress_from_an_empty_folder_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["regress", "--only", "leverage_regime", "--real-data", str(tmp_path / "none"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no regression baselines in" in err and str(tmp_path / "results" / "baselines") in err


def test_inputs_hash_ignores_what_the_strategy_does_not_read(market):
    import numpy as np

    from research import registry
    from research.data.market import MarketData
    from research.data.prices import Prices
    from research.provenance import inputs_hash

    strat = registry.get("leverage_regime")
    base = inputs_hash(market, strat)
    extra_rows = market.panel[market.panel["metric"] == "net_flow"].assign(metric="short_interest_usd")
    p = market.prices
    wider = Prices(p.close.assign(GVIP=1.0), p.open.assign(GVIP=1.0), p.volume.assign(GVIP=np.nan), p.source)
    grown = MarketData(wider, pd.concat([market.panel, extra_rows], ignore_index=True), market.name)
    assert inputs_hash(grown, strat) == base
    changed = market.panel.copy()
    changed.loc[changed.index[changed["metric"] == "gross_leverage"][5], "value"] += 1.0
    assert inputs_hash(MarketData(p, changed, market.name), strat) != base


@pytest.mark.parametrize("cpu", ["native", "no-avx512"])
def test_committed_baselines_pass_with_and_without_avx512(cpu, tmp_path):
    """`flowbt regress` on the committed baselines, in a child process, with NumPy's AVX-512 loops on and off."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"} | {"FLOWBT_NO_CACHE": "1"}
    if cpu == "no-avx512":
        env["NPY_DISABLE_CPU_FEATURES"] = "X86_V4 AVX512_ICL AVX512_SPR"
    only = [a for name in ("fresh_flow_low_exposure", "leverage_regime", "sector_flow_momentum",
                           "cot_leveraged_funds") for a in ("--only", name)]
    out = subprocess.run([sys.executable, "-m", "research.cli", "regress", *only, "--quiet"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 failed" in out.stdout
