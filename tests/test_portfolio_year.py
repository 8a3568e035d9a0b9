"""`result.portfolio` (the vbt.Portfolio) annualises with the tear sheet's 252-session year, so vectorbt's
`stats()` reports the tear sheet's Sharpe, volatility, Sortino, Calmar and drawdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.backtest import ExecutionConfig, backtest, benchmark_returns
from research.data.prices import Prices
from research.run import headline_metrics
from research.schedule import weekly


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(11)
    tickers = ["SPY", "XLK", "XLF", "XLE"]
    idx = pd.bdate_range("2012-01-02", periods=800, name="date")
    close = pd.DataFrame(40 * np.exp(np.cumsum(rng.normal(3e-4, 0.011, (800, 4)), axis=0)), idx, tickers)
    prices = Prices(close, close.shift(1).fillna(close.iloc[0]) * np.exp(rng.normal(0, 0.003, (800, 4))),
                    source="test")
    dates = weekly(prices.index)
    w = pd.DataFrame(rng.dirichlet(np.ones(4), len(dates)), dates, tickers)
    cfg = ExecutionConfig(mode="long_only", fees_bps=2.0, slippage_bps=1.0)
    res = backtest(prices, w, cfg)
    bench = benchmark_returns(prices, pd.DatetimeIndex(dates), cfg)
    return res, headline_metrics(res, bench)


def test_stats_match_the_tear_sheet_metrics(run):
    res, m = run
    pf = res.portfolio
    st = pf.stats()
    assert st["Sharpe Ratio"] == pytest.approx(m["sharpe"], rel=1e-9)
    assert st["Sortino Ratio"] == pytest.approx(m["sortino"], rel=1e-9)
    assert st["Calmar Ratio"] == pytest.approx(m["calmar"], rel=1e-9)
    assert -st["Max Drawdown [%]"] / 100 == pytest.approx(m["max_drawdown"], rel=1e-9)
    assert pf.returns_acc.annualized_volatility() == pytest.approx(m["volatility"], rel=1e-9)
    assert pf.returns_acc.sharpe_ratio() == pytest.approx(m["sharpe"], rel=1e-9)
    rs = pf.returns_stats()
    assert rs["Sharpe Ratio"] == pytest.approx(m["sharpe"], rel=1e-9)


def test_a_caller_may_still_choose_another_year(run):
    res, m = run
    pf = res.portfolio
    sr365 = pf.get_returns_acc(year_freq="365 days").sharpe_ratio()
    assert sr365 == pytest.approx(m["sharpe"] * np.sqrt(365 / 252), rel=1e-9)  # vectorbt's own default
