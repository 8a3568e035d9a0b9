"""Metrics against empyrical-reloaded (same returns, 1e-10) and against hand-computed cases."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.analytics import metrics as m

TOL = 1e-10


@pytest.fixture(scope="module")
def rets() -> tuple[pd.Series, pd.Series]:
    """Three years of a strategy and a correlated benchmark (seeded)."""
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2019-01-01", periods=756, name="date")
    bench = rng.normal(0.0004, 0.011, len(idx))
    strat = 0.0002 + 0.6 * bench + rng.normal(0.0, 0.007, len(idx))
    return pd.Series(strat, idx, name="strategy"), pd.Series(bench, idx, name="SPY")


def close(a: float, b: float, tol: float = TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --------------------------------------------------------------------------------------------------------------
# single-series metrics vs empyrical


def test_return_and_risk_match_empyrical(rets):
    r, _ = rets
    assert close(m.total_return(r), ep.cum_returns_final(r))
    assert close(m.cagr(r), ep.annual_return(r))
    assert close(m.annual_volatility(r), ep.annual_volatility(r))
    assert close(m.sharpe(r), ep.sharpe_ratio(r))
    assert close(m.sharpe(r, rf=0.0001), ep.sharpe_ratio(r, risk_free=0.0001))
    assert close(m.sortino(r), ep.sortino_ratio(r))
    assert close(m.downside_risk(r), ep.downside_risk(r))
    assert close(m.max_drawdown(r), ep.max_drawdown(r))
    assert close(m.calmar(r), ep.calmar_ratio(r))


def test_periods_is_the_annualisation_factor(rets):
    r, _ = rets
    assert close(m.sharpe(r, periods=52), ep.sharpe_ratio(r, annualization=52))
    assert close(m.cagr(r, periods=52), ep.annual_return(r, annualization=52))
    assert close(m.annual_volatility(r, periods=12), ep.annual_volatility(r, annualization=12))


def test_sharpe_with_risk_free_series_is_mean_excess_over_std(rets):
    r, _ = rets
    rf = pd.Series(np.linspace(0.0, 0.0002, len(r)), index=r.index)
    x = (r - rf).to_numpy()
    assert close(m.sharpe(r, rf=rf), x.mean() / x.std(ddof=1) * math.sqrt(252))


def test_relative_metrics_match_empyrical(rets):
    r, b = rets
    assert close(m.beta(r, b), ep.beta(r, b))
    assert close(m.alpha(r, b), ep.alpha(r, b))
    assert close(m.alpha(r, b, rf=0.0001), ep.alpha(r, b, risk_free=0.0001))
    assert close(m.beta(r, b, rf=0.0001), m.beta(r, b))  # a constant rf does not change beta
    assert close(m.up_capture(r, b), ep.up_capture(r, b))
    assert close(m.down_capture(r, b), ep.down_capture(r, b))
    # empyrical's excess_sharpe is the per-period information ratio
    assert close(m.information_ratio(r, b), ep.excess_sharpe(r, b) * math.sqrt(252))


def test_tracking_error_formula(rets):
    r, b = rets
    active = (r - b).to_numpy()
    expected = math.sqrt(((active - active.mean()) ** 2).sum() / (len(active) - 1)) * math.sqrt(252)
    assert close(m.tracking_error(r, b), expected)


def test_beta_of_a_levered_benchmark_is_the_leverage(rets):
    _, b = rets
    assert close(m.beta(2.5 * b, b), 2.5)
    assert close(m.tracking_error(b, b), 0.0)
    assert math.isnan(m.information_ratio(b, b))


# --------------------------------------------------------------------------------------------------------------
# hand-computed cases and NaN policy


def test_hand_computed_values():
    r = pd.Series([0.10, -0.05, 0.0, 0.02], index=pd.bdate_range("2024-01-01", periods=4))
    assert close(m.total_return(r), 1.10 * 0.95 * 1.0 * 1.02 - 1.0)
    assert close(m.cagr(r, periods=4), 1.10 * 0.95 * 1.02 - 1.0)  # 4 periods = one year
    assert close(m.hit_rate(r), 2 / 3)  # the flat day is neither a hit nor a miss
    assert close(m.max_drawdown(r), -0.05)
    assert math.isnan(m.hit_rate(pd.Series([0.0, 0.0])))


def test_nan_returns_are_dropped(rets):
    r, b = rets
    holes = r.copy()
    holes.iloc[[0, 10, 11, 400]] = np.nan
    clean = holes.dropna()
    for f in (m.total_return, m.cagr, m.annual_volatility, m.sharpe, m.sortino, m.max_drawdown, m.calmar,
              m.hit_rate):
        assert close(f(holes), f(clean)), f.__name__
    bench_holes = b.copy()
    bench_holes.iloc[[5, 6]] = np.nan
    pairs = pd.concat([holes, bench_holes], axis=1).dropna()
    for g in (m.beta, m.alpha, m.tracking_error, m.information_ratio, m.up_capture, m.down_capture):
        assert close(g(holes, bench_holes), g(pairs.iloc[:, 0], pairs.iloc[:, 1])), g.__name__


def test_pairwise_metrics_align_on_dates(rets):
    r, b = rets
    shuffled = b.sample(frac=1.0, random_state=0)
    assert close(m.beta(r, shuffled), m.beta(r, b))
    assert close(m.beta(r.iloc[100:], b), m.beta(r.iloc[100:], b.iloc[100:]))


def test_undefined_metrics_are_nan_not_inf():
    flat = pd.Series([0.001] * 10, index=pd.bdate_range("2024-01-01", periods=10))
    assert math.isnan(m.sharpe(flat))
    assert math.isnan(m.sortino(flat))  # no downside
    assert math.isnan(m.calmar(flat))  # no drawdown
    assert math.isnan(m.beta(flat, flat))  # constant benchmark
    assert math.isnan(m.sharpe(flat.iloc[:1]))
    empty = pd.Series([], dtype=float)
    assert math.isnan(m.total_return(empty)) and math.isnan(m.cagr(empty)) and math.isnan(m.max_drawdown(empty))


# --------------------------------------------------------------------------------------------------------------
# drawdowns table


def test_drawdowns_table_hand_case():
    idx = pd.bdate_range("2024-01-01", periods=8)
    # wealth (exact in binary): 2, 1, 2, 4, 2, 1, 2, 3
    r = pd.Series([1.0, -0.5, 1.0, 1.0, -0.5, -0.5, 1.0, 0.5], index=idx)
    table = m.drawdowns(r, top=5)
    assert list(table.columns) == ["peak", "trough", "recovery", "depth", "length"]
    assert len(table) == 2
    deep, shallow = table.iloc[0], table.iloc[1]
    # deepest: peak 4 on day 4, trough 1 on day 6, not recovered (3 < 4), under water days 5-8
    assert deep["peak"] == idx[3] and deep["trough"] == idx[5] and pd.isna(deep["recovery"])
    assert close(deep["depth"], -0.75) and deep["length"] == 4
    # shallower: peak 2 on day 1, trough 1 on day 2, recovered on day 3 (back to exactly 2)
    assert shallow["peak"] == idx[0] and shallow["trough"] == idx[1] and shallow["recovery"] == idx[2]
    assert close(shallow["depth"], -0.5) and shallow["length"] == 1
    assert close(table["depth"].min(), m.max_drawdown(r))
    assert len(m.drawdowns(r, top=1)) == 1


def test_drawdowns_from_the_first_day_and_top(rets):
    idx = pd.bdate_range("2024-01-01", periods=3)
    table = m.drawdowns(pd.Series([-0.1, 0.05, 0.2], index=idx))
    assert table.iloc[0]["peak"] == idx[0] and table.iloc[0]["recovery"] == idx[2]
    r, _ = rets
    t3 = m.drawdowns(r, top=3)
    assert len(t3) == 3 and t3["depth"].is_monotonic_increasing
    assert close(t3["depth"].iloc[0], ep.max_drawdown(r))


# --------------------------------------------------------------------------------------------------------------
# rolling and calendar tables vs empyrical


def test_rolling_match_empyrical(rets):
    r, b = rets
    r, b = r.iloc[:320], b.iloc[:320]
    w = 252
    ours = m.rolling_sharpe(r, w).dropna()
    theirs = ep.roll_sharpe_ratio(r, window=w)
    assert len(ours) == len(theirs) == 320 - w + 1
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(m.rolling_volatility(r, w).dropna().to_numpy(),
                               ep.roll_annual_volatility(r, window=w).to_numpy(), rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(m.rolling_beta(r, b, 60).dropna().to_numpy(),
                               ep.roll_beta(r, b, window=60).to_numpy(), rtol=1e-9, atol=TOL)
    assert m.rolling_sharpe(r, w).iloc[: w - 1].isna().all()


def test_monthly_and_annual_returns_match_empyrical(rets):
    r, _ = rets
    table = m.monthly_returns(r)
    agg = ep.aggregate_returns(r, "monthly")
    assert list(table.columns) == list(range(1, 13))
    for (year, month), value in agg.items():
        assert close(table.loc[year, month], value)
    yearly = m.annual_returns(r)
    np.testing.assert_allclose(yearly.to_numpy(), ep.aggregate_returns(r, "yearly").to_numpy(), atol=TOL)
    assert list(yearly.index) == [2019, 2020, 2021]


def test_monthly_table_has_nan_for_missing_months():
    r = pd.Series([0.01, 0.02], index=pd.to_datetime(["2024-01-15", "2024-03-15"]))
    table = m.monthly_returns(r)
    assert close(table.loc[2024, 1], 0.01) and math.isnan(table.loc[2024, 2])


# --------------------------------------------------------------------------------------------------------------
# summary


def test_summary_keys_and_values(rets):
    r, b = rets
    n = len(r)
    turnover = pd.Series(0.1, index=r.index)
    gross = pd.Series(np.linspace(1.0, 2.0, n), index=r.index)
    net = pd.Series(0.25, index=r.index)
    costs = pd.Series(0.0001, index=r.index)
    s = m.summary(r, benchmark=b, turnover=turnover, gross=gross, net=net, costs=costs)
    assert tuple(s) == m.SUMMARY_KEYS
    assert close(s["sharpe"], ep.sharpe_ratio(r)) and close(s["beta"], ep.beta(r, b))
    assert close(s["volatility"], ep.annual_volatility(r)) and close(s["alpha"], ep.alpha(r, b))
    assert close(s["turnover"], 0.1 * n / (n / 252))  # = 25.2 times NAV a year
    assert close(s["avg_gross"], 1.5) and close(s["avg_net"], 0.25)
    assert close(s["costs_paid"], 0.0001 * n)
    assert s["n_days"] == n and s["start"] == "2019-01-01" and s["end"] == r.index[-1].date().isoformat()


def test_summary_without_benchmark_or_exposures(rets):
    r, _ = rets
    s = m.summary(r)
    assert tuple(s) == m.SUMMARY_KEYS
    for k in ("beta", "alpha", "information_ratio", "tracking_error", "up_capture", "down_capture", "turnover",
              "avg_gross", "avg_net", "costs_paid"):
        assert math.isnan(s[k]), k
    assert close(s["total_return"], ep.cum_returns_final(r))


# --------------------------------------------------------------------------------------------------------------
# property: agreement with empyrical on arbitrary clean series


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=3, max_size=60),
       st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=60, max_size=60))
def test_property_agrees_with_empyrical(xs, ys):
    r = np.array(xs)
    b = np.array(ys[: len(xs)])
    assert close(m.max_drawdown(r), ep.max_drawdown(r))
    assert close(m.cagr(r), ep.annual_return(r), tol=1e-9)
    if np.ptp(r) > 1e-6:
        assert close(m.sharpe(r), ep.sharpe_ratio(r), tol=1e-9)
    if np.ptp(b) > 1e-6:
        assert close(m.beta(r, b), ep.beta(r, b), tol=1e-8)
