"""End to end: a sweep on the edgeless market is called luck; the sweep folder, tear sheet and trial log."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from research.cli import main
from research.data.synthetic import make_market
from research.sweep import analyse, run_sweep, triallog
from research.sweep.report import SECTION_KEYS

LUCK_GRID = {"buy_weeks": [1, 2, 3, 4, 5], "sell_weeks": [0, 1, 2, 3, 4], "pct_below": [0.1, 0.2, 0.3, 0.4, 0.5],
             "hold": [1, 2, 4, 6], "top_n": [1, 2]}


def test_best_of_many_on_ic0_is_called_luck(tmp_path):
    """ic=0: the best of 1,000 configs looks significant alone (PSR ~ 1) but the SPA over all of them calls it luck
    (and the deflated Sharpe probability and PBO agree)."""
    db = tmp_path / "trials.duckdb"
    res = run_sweep("fresh_flow_low_exposure", make_market(ic=0.0), LUCK_GRID, db=db, progress=False)
    assert res.n_configs == 1000 and res.benchmark == "EW_SECTORS" and "fused" in res.kind
    st = analyse(res, db=db, n_boot=300, spa_reps=200)
    assert st.trials_source == "trial log" and st.n_trials == 1000
    # a second strategy searched on the same data deflates the first one too
    other = run_sweep("flow_composite", make_market(ic=0.0), db=db, progress=False)
    again = analyse(res, db=db, n_boot=50, spa_reps=100)
    assert again.n_trials == 1000 + other.n_configs
    assert again.trials_source.endswith("1,000 of them fresh_flow_low_exposure's")
    assert st.score > 0.4  # a high Sharpe for a sector tilt (active, against the equal weight)
    assert st.psr > 0.99  # taken alone, it would pass
    assert st.spa.n_strategies == 1000 and st.spa.consistent >= 0.05 and st.verdict == "likely luck"
    assert st.dsr < 0.95 and st.pbo.pbo >= 0.5
    assert "likely luck" in st.statement and "Hansen's SPA over all 1,000 configs" in st.statement
    assert st.bootstrap.lower < st.score < st.bootstrap.upper
    # the table is ranked by the score and holds every parameter and metric
    assert res.table[res.score].is_monotonic_decreasing
    assert {"buy_weeks", "sharpe", "sortino", "cagr", "volatility", "max_drawdown", "turnover"} <= set(res.table)


def test_cli_sweep_writes_folder_tearsheet_and_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWBT_TRIALS", str(tmp_path / "trials.duckdb"))
    out = tmp_path / "sweep"
    argv = ["sweep", "fresh_flow_low_exposure", "--grid", "hold=2,4,6", "--grid", "top_n=1:3",
            "--grid", "pct_below=0.2,0.3", "--heatmap", "hold,top_n", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "18 configs" in text and "deflated Sharpe probability" in text and "Hansen's SPA" in text
    for name in ("sweep.parquet", "returns.parquet", "stats.json", "sweep.json", "tearsheet.html",
                 "tearsheet.pdf"):
        assert (out / name).exists(), name
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 18 and table["rank"].tolist() == list(range(1, 19))
    html = (out / "tearsheet.html").read_text()
    for needle in ("Heatmap: hold x top_n", "Deflated Sharpe prob", "SPA p-value", "PBO", "Bootstrap",
                   "data:image/png;base64"):
        assert needle in html
    # the run tear sheet's document model: header card with banner, verdict and KPI strip, the sections, figures
    assert re.findall(r"<section id='([a-z_]+)'", html) == list(SECTION_KEYS)
    assert "SYNTHETIC DATA" in html and "<div class='kpis'>" in html and "Verdict: " in html
    assert html.count("data:image/png;base64") == 4
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == [
        "00_score_histogram.png", "01_pbo.png", "02_top_equity.png", "03_heatmap.png"]
    assert int(re.search(rb"/Count (\d+)", (out / "tearsheet.pdf").read_bytes()).group(1)) >= 4  # A4 pages
    stats = json.loads((out / "stats.json").read_text())
    assert stats["n_trials"] == 18 and 0 <= stats["dsr"] <= 1
    # a second sweep overlapping the first: the trial log counts the union, and DSR uses it
    grid = {"hold": [2, 4, 6], "top_n": [1, 2, 3], "pct_below": [0.2, 0.3], "buy_weeks": [2, 3]}
    res = run_sweep("fresh_flow_low_exposure", make_market(), grid, progress=False)
    assert triallog.trial_stats("fresh_flow_low_exposure")[0] == 36
    assert analyse(res, n_boot=50, spa_reps=0).n_trials == 36


def test_cli_sweep_errors(capsys):
    assert main(["sweep", "fresh_flow_low_exposure", "--grid", "nope=1"]) == 2
    assert "unknown parameter" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "fresh_flow_low_exposure", "--executor", "spark"])


def test_a_planted_edge_is_called_real_and_no_edge_luck(tmp_path):
    """The calibrated verdict on the default grid: at twice the default strength the SPA over every config calls
    fresh_flow_low_exposure real; with every edge removed, luck (seeds of the calibration's range)."""
    for ic, want in ((0.06, "real"), (0.0, "likely luck")):
        res = run_sweep("fresh_flow_low_exposure", make_market(1001, ic), db=tmp_path / "t.duckdb", progress=False)
        st = analyse(res, db=tmp_path / "t.duckdb", n_boot=100, spa_reps=300)
        assert st.spa.n_strategies == res.n_configs and st.verdict == want, st.statement


def test_timing_books_are_scored_against_their_exposure(tmp_path):
    """leverage_regime: the score is active against SPY x each config's average exposure, not SPY at weight 1."""
    import numpy as np

    market = make_market(1002, 0.0)
    res = run_sweep("leverage_regime", market, {"hold": [1, 4], "crowded_weight": [0.5, 1.0]}, log=False,
                    progress=False)
    assert res.matched and res.benchmark == "SPY"
    act = res.scored_returns()
    spy = res.bench.reindex(act.index)
    for c in act.columns:
        expo = res.table.loc[c, "avg_net"]
        r = res.returns[c]
        first = r.ne(0).idxmax()
        np.testing.assert_allclose(act[c].loc[first:], (r - expo * spy).loc[first:], rtol=0, atol=1e-15)
        assert act[c].loc[:first].iloc[:-1].isna().all()
        x = act[c].dropna()
        assert np.isclose(res.table.loc[c, "active_sharpe"], x.mean() / x.std() * np.sqrt(252), rtol=1e-9)
