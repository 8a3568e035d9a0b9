"""The PM tables: trailing returns, extremes, VaR/CVaR, stress periods, the factor regression, first fill."""

from __future__ import annotations

import dataclasses
import re

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from research.analytics import metrics as m
from research.errors import ConfigError
from research.report.render import Note


def _daily(start: str, end: str, seed: int = 0, scale: float = 0.01) -> pd.Series:
    idx = pd.bdate_range(start, end)
    return pd.Series(np.random.default_rng(seed).normal(0.0004, scale, len(idx)), index=idx)


def test_trailing_returns_by_hand():
    r = _daily("2019-01-01", "2024-06-14")
    t = m.trailing_returns(r)
    end = r.index[-1]
    assert t["MTD"] == pytest.approx(np.prod(1 + r.loc["2024-06"]) - 1)
    assert t["YTD"] == pytest.approx(np.prod(1 + r.loc["2024"]) - 1)
    assert t["1y"] == pytest.approx(np.prod(1 + r.loc[r.index > end - pd.DateOffset(years=1)]) - 1)
    three = np.prod(1 + r.loc[r.index > end - pd.DateOffset(years=3)])
    assert t["3y (ann.)"] == pytest.approx(three ** (1 / 3) - 1)
    assert t["5y (ann.)"] == pytest.approx(np.prod(1 + r.loc[r.index > end - pd.DateOffset(years=5)]) ** 0.2 - 1)
    assert np.isnan(t["10y (ann.)"])  # 5.5 years of data: never a shorter window passed off as ten years
    assert t["since start (ann.)"] == pytest.approx(m.cagr(r))
    late = r.loc["2021-03-01":]
    assert np.isnan(m.trailing_returns(late)["5y (ann.)"]) and np.isfinite(m.trailing_returns(late)["3y (ann.)"])


def test_extremes_and_var_match_empyrical():
    r = _daily("2020-01-01", "2022-12-30", seed=3)
    e = m.extremes(r)
    assert e.loc["best day", "return"] == r.max() and e.loc["best day", "when"] == r.idxmax().date().isoformat()
    assert e.loc["worst day", "return"] == r.min()
    monthly = m.monthly_returns(r).stack()
    assert e.loc["worst month", "return"] == pytest.approx(monthly.min())
    y, mo = monthly.idxmin()
    assert e.loc["worst month", "when"] == f"{y}-{mo:02d}"
    assert m.value_at_risk(r) == pytest.approx(ep.value_at_risk(r.to_numpy(), 0.05))
    assert m.conditional_value_at_risk(r) == pytest.approx(ep.conditional_value_at_risk(r.to_numpy(), 0.05))
    assert m.conditional_value_at_risk(r) <= m.value_at_risk(r) < 0
    assert np.isnan(m.value_at_risk(pd.Series(dtype=float)))


def test_stress_periods_cover_only_what_the_data_holds():
    r = _daily("2017-01-02", "2021-06-30", seed=5)
    frame = pd.DataFrame({"strategy": r, "SPY": r * 1.5})
    t = m.stress_periods(frame)
    assert list(t.index) == ["2018 Q4", "2020 Covid crash"]
    w = r.loc[(r.index > "2020-02-19") & (r.index <= "2020-03-23")]
    assert t.loc["2020 Covid crash", ("strategy", "return")] == pytest.approx(m.total_return(w))
    assert t.loc["2020 Covid crash", ("SPY", "max drawdown")] == pytest.approx(m.max_drawdown(w * 1.5))
    short = frame.assign(SPY=frame["SPY"].where(frame.index >= "2019-01-01"))
    assert list(m.stress_periods(short).index) == ["2020 Covid crash"]  # a benchmark must cover it too
    names = [p[0] for p in m.STRESS_PERIODS]
    assert len(set(names)) == len(names) and all(a < b for _, a, b in m.STRESS_PERIODS)


def test_factor_regression_recovers_betas_and_matches_statsmodels_hac():
    sm = pytest.importorskip("statsmodels.api")
    idx = pd.bdate_range("2015-01-01", periods=1500)
    g = np.random.default_rng(11)
    f = pd.DataFrame(g.normal(0, 0.01, (len(idx), 3)), index=idx, columns=["Mkt-RF", "SMB", "HML"])
    f["RF"] = 0.0001
    noise = pd.Series(g.normal(0, 0.004, len(idx)), index=idx).rolling(3, min_periods=1).mean()  # autocorrelated
    r = f["RF"] + 0.0002 + 0.8 * f["Mkt-RF"] - 0.3 * f["SMB"] + 0.1 * f["HML"] + noise
    out = m.factor_regression(r, f)
    assert out.loc["Mkt-RF", "coef"] == pytest.approx(0.8, abs=0.03)
    assert out.loc["SMB", "coef"] == pytest.approx(-0.3, abs=0.03)
    ref = sm.OLS((r - f["RF"]).to_numpy(), sm.add_constant(f[["Mkt-RF", "SMB", "HML"]].to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": out.attrs["lags"], "use_correction": False})
    np.testing.assert_allclose(out["t"].to_numpy(), ref.tvalues, rtol=1e-9)
    assert out.loc["alpha", "coef"] == pytest.approx(ref.params[0] * 252)
    assert out.attrs["r2"] == pytest.approx(ref.rsquared)
    with pytest.raises(ConfigError, match="RF"):
        m.factor_regression(r, f.drop(columns="RF"))


def test_first_fill_skips_the_warm_up():
    idx = pd.bdate_range("2020-01-01", periods=10)
    r = pd.Series([0, 0, 0, -0.001, 0.01, 0, 0.02, 0, 0, 0.01], index=idx, dtype=float)
    assert m.first_fill(r) == idx[3]
    turnover = pd.Series(0.0, index=idx)
    turnover.iloc[2] = 1.0  # filled at the close: that session's return is flat before costs
    assert m.first_fill(r, turnover) == idx[2]
    assert m.first_fill(r * 0.0) is None


# --------------------------------------------------------------------------------------------------------------
# the tear sheet's section


@pytest.fixture(scope="module")
def synthetic_run(market):
    import research

    return research.run("fresh_flow_low_exposure", market)


def _tables(sec) -> dict[str, pd.DataFrame]:
    return {re.split(r"[:,(]", b.caption)[0].strip(): b.df for b in sec.blocks if hasattr(b, "df")}


def test_cost_sensitivity_reruns_the_engine_and_costs_only_hurt(synthetic_run):
    from research.report.pmtables import cost_sensitivity, pm_section, warm_up

    rec = synthetic_run.record()
    start, warm = warm_up(rec)
    table, how = cost_sensitivity(rec, start)
    assert how.startswith("the engine re-run")
    sharpe = table["Sharpe"].astype(float)
    assert list(table.index) == ["0x", "1x", "2x", "5x"]
    assert sharpe.is_monotonic_decreasing and sharpe["0x"] > sharpe["5x"]
    r = rec.returns.dropna().loc[start:]
    assert table.loc["1x", "Sharpe"] == f"{m.sharpe(r):.2f}"
    ir = table["active Sharpe (IR)"].astype(float)
    assert ir.is_monotonic_decreasing
    # an open fill cannot be re-run from the folder (no opens): the saved costs are scaled instead, and at 1x
    # that is the run itself
    ex = {**rec.config["execution"], "fill": "open"}
    opened = dataclasses.replace(rec, config={**rec.config, "execution": ex})
    t2, how2 = cost_sensitivity(opened, start)
    assert how2.startswith("the saved daily costs scaled")
    assert t2.loc["1x", "Sharpe"] == table.loc["1x", "Sharpe"]
    sec = pm_section(rec)
    text = " ".join(b.text for b in sec.blocks if isinstance(b, Note))
    assert f"{r.index[0].date()} to {r.index[-1].date()}" in text and "No stress periods" in text
    assert "Fama-French factors describe the real market" in text
    assert {"Trailing returns as of " + str(r.index[-1].date()), "Best and worst day and month"} <= set(_tables(sec))


def test_warm_up_is_reported_and_left_out(synthetic_run):
    from research.report.pmtables import pm_section, warm_up

    rec = synthetic_run.record()
    start, _ = warm_up(rec)
    late = rec.target.index[200]
    target = rec.target.copy()
    target.loc[:late] = 0.0  # 200 decision dates of warm-up: the book holds nothing
    from research.backtest import ExecutionConfig, backtest

    res = backtest(synthetic_run.data.prices, target, ExecutionConfig(mode="long_only"))
    rec2 = dataclasses.replace(rec, returns=res.returns, turnover=res.turnover, target=target, costs=res.costs,
                               net=res.net, equity=res.equity)
    start2, warm2 = warm_up(rec2)
    assert start2 > late and warm2 == int((res.returns.index < start2).sum()) > 200
    note = pm_section(rec2).blocks[0]
    assert isinstance(note, Note)
    text = note.text
    assert f"after a warm-up of {warm2:,} sessions before the first fill" in text
    assert text.startswith(f"Period of every table below: {start2.date()}")


def test_a_short_history_is_flagged_on_its_tear_sheet(market):
    import research
    from research.report.tearsheet import Context, _metrics

    rec = research.run("fresh_flow_low_exposure", market).record()
    cut = rec.returns.index[-400]
    short = dataclasses.replace(rec, returns=rec.returns.loc[cut:], turnover=rec.turnover.loc[cut:])
    notes = [b.text for b in _metrics(Context(short, None, None)).blocks if isinstance(b, Note)]
    assert any("shorter than 3: too short to tell skill from luck" in t for t in notes)
    assert not any("too short" in b.text for b in _metrics(Context(rec, None, None)).blocks if isinstance(b, Note))


def test_real_run_has_stress_periods_and_the_factor_regression(shared_data):
    import research
    from research.report.pmtables import pm_section

    rec = research.run("cot_leveraged_funds", research.load(str(shared_data.resolve()))).record()
    sec = pm_section(rec)
    tables = _tables(sec)
    stress = tables["Stress periods"]
    assert "2020 Covid crash" in stress.index and "2008 crisis" not in stress.index  # CFTC data from 2018
    cols = list(stress.columns)
    assert cols[:2] == ["dates", "strategy"] and cols[2].startswith("SPY x 0.") and cols[3] == "SPY"
    ff = tables["Fama-French 3-factor regression"]
    assert list(ff.index) == ["alpha (annual)", "beta Mkt-RF", "beta SMB", "beta HML"]
    assert 0.5 < float(ff.loc["beta Mkt-RF", "coefficient"]) < 1.2  # a timing book mostly in SPY
    kv = dict(next(b for b in sec.blocks if hasattr(b, "rows")).rows)
    assert "one-month T-bill" in kv["Sharpe over the risk-free rate"] and "earns nothing" in kv["Cash"]
