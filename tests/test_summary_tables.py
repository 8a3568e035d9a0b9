"""Every summary says what it compares: first-fill metrics, period, data, own benchmark, active return and IR;
synthetic and real rows apart; short histories flagged and not ranked."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from research.analytics import metrics as m
from research.console import SUMMARY_COLUMNS, format_summary
from research.demo import write_index
from research.report.summary import MIN_YEARS, first_fill_metrics, grouped, run_summary


@pytest.fixture(scope="module")
def warm_record(market):
    """A sector book that holds nothing for its first 200 decision dates: a long warm-up."""
    import research
    from research.backtest import ExecutionConfig, backtest

    run = research.run("fresh_flow_low_exposure", market)
    rec = run.record()
    target = rec.target.copy()
    target.iloc[:200] = 0.0
    res = backtest(market.prices, target, ExecutionConfig(mode="long_only"))
    return dataclasses.replace(rec, returns=res.returns, turnover=res.turnover, target=target, costs=res.costs,
                               gross=res.gross, net=res.net, equity=res.equity, weights=res.weights)


def test_metrics_start_at_the_first_fill(warm_record):
    rec = warm_record
    mm = first_fill_metrics(rec)
    r = rec.returns.dropna()
    start = r.index[rec.turnover.reindex(r.index).fillna(0).to_numpy() > 0][0]
    assert mm["first_fill"] == start.date().isoformat() == mm["start"]
    assert mm["warm_up_sessions"] == int((r.index < start).sum()) > 900
    assert mm["sharpe"] == pytest.approx(m.sharpe(r.loc[start:]))
    assert mm["volatility"] > m.annual_volatility(r)  # the flat warm-up no longer dilutes the volatility
    spy = rec.benchmarks["SPY"].reindex(r.loc[start:].index)
    assert mm["benchmarks"]["SPY"]["cagr"] == pytest.approx(m.cagr(spy))
    row = run_summary(rec)
    active = r.loc[start:] - rec.benchmarks["EW_SECTORS"].reindex(r.loc[start:].index)
    assert row["benchmark"] == "EW_SECTORS" and row["synthetic"] is True
    assert row["active_ir"] == pytest.approx(m.sharpe(active), rel=1e-6)
    assert row["years"] == pytest.approx(mm["n_days"] / 252) and not row["short_history"]


def _row(name, syn, ir, years):
    return {"strategy": name, "synthetic": syn, "data": "synthetic(seed=0)" if syn else "real(../shared/data)",
            "active_ir": ir, "years": years, "short_history": years < MIN_YEARS, "period": "2020-01-02 to 2024-12-31",
            "benchmark": "EW_SECTORS", "cagr": 0.05, "volatility": 0.1, "sharpe": 0.5, "max_drawdown": -0.2,
            "active_return": 0.01, "warm_up_sessions": 3, "hypothesis": "h", "turnover": 2.0}


def test_groups_keep_synthetic_and_real_apart_and_do_not_rank_short_histories():
    rows = [_row("a", True, 0.1, 20), _row("b", False, 0.9, 8), _row("c", True, 0.5, 20),
            _row("short", False, 3.0, 0.35), _row("nan", True, float("nan"), 10)]
    groups = grouped(rows)
    titles = [t for t, _ in groups]
    assert titles[0].startswith("synthetic data, ranked") and titles[1].startswith("real data, ranked")
    assert [r["strategy"] for r in groups[0][1]] == ["c", "a", "nan"]  # best IR first, undefined last
    assert [r["strategy"] for r in groups[1][1]] == ["b"]  # the 0.35-year history is not ranked above it
    assert "not ranked" in titles[2] and [r["strategy"] for r in groups[2][1]] == ["short"]
    text = format_summary(rows)
    assert "short *" in text and "history shorter than 3 years" in text
    for head in ("period", "years", "benchmark", "active/yr", "IR (own bench)", "warm-up"):
        assert head in text
    assert text.index("synthetic data") < text.index("real data") < text.index("not ranked")


def test_demo_index_groups_rows_and_names_what_it_compares(tmp_path):
    rows = [_row("a", True, 0.1, 20), _row("short", False, 3.0, 0.35),
            {"strategy": "s", "hypothesis": "h", "data": "x", "skipped": "x lacks cftc"}]
    page = write_index(tmp_path, rows, "synthetic(seed=0)").read_text()
    assert page.count("<tr class='group'>") == 3
    assert page.index("synthetic data, ranked") < page.index("real data, history shorter") < page.index("skipped")
    for head in ("period from the first fill", "own benchmark", "active return/yr",
                 "information ratio vs own benchmark", "warm-up (sessions)"):
        assert head in page
    assert "short history (&lt; 3 years)" in page and "2020-01-02 to 2024-12-31" in page
    assert set(SUMMARY_COLUMNS) <= set(rows[0])


def test_flowbt_run_prints_the_summary_with_period_and_benchmark(market, tmp_path, capsys):
    from research.cli import main

    main(["run", "fresh_flow_low_exposure", "--out", str(tmp_path / "run"), "--no-tearsheet"])
    out = capsys.readouterr().out
    assert "synthetic data, ranked" in out and "EW_SECTORS" in out and " to 20" in out
    row = next(line for line in out.splitlines() if line.startswith("fresh_flow_low_exposure"))
    assert np.isfinite(float(row.split()[-2]))  # the information ratio against EW_SECTORS
