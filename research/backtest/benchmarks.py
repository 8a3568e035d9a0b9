"""Benchmarks on the strategy's terms: SPY buy-and-hold, and the equal-weight sector basket.

Both run through the same engine and execution config as the strategy (fill timing, fees, slippage, cash
interest, no-trade band), long-only and without limits; their returns are what relative metrics compare with.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from research.backtest.config import ExecutionConfig
from research.backtest.engine import BacktestResult, backtest
from research.data.prices import Prices
from research.data.universe import MARKET, SECTOR_ETFS
from research.errors import DataError

EW_SECTORS = "EW_SECTORS"


def benchmark_results(
    prices: Prices, schedule: pd.DatetimeIndex, config: ExecutionConfig, names: tuple[str, ...] | None = None
) -> dict[str, BacktestResult]:
    """Backtests of SPY buy-and-hold (bought at the first fill) and the sector basket rebalanced on `schedule`
    (only those in `names`, when given: a sweep needs one).

    The basket holds 1/N of each sector ETF priced at the decision close (N = those priced then; an ETF
    before its first trading day is not in N), which the run log states.
    """
    unknown = sorted(set(names or ()) - {MARKET, EW_SECTORS})
    if unknown:
        raise DataError(f"unknown benchmark(s) {unknown}; the benchmarks are {MARKET} and {EW_SECTORS}.")
    schedule = pd.DatetimeIndex(schedule)
    if schedule.empty:
        raise DataError("benchmark schedule is empty.")
    outside = schedule[~schedule.isin(prices.index)]
    if len(outside):
        raise DataError(
            f"{len(outside)} schedule date(s) are not price sessions: {[str(d.date()) for d in outside[:5]]}."
        )
    want_market = names is None or MARKET in names
    want_sectors = names is None or EW_SECTORS in names
    if want_market and MARKET not in prices.tickers:
        raise DataError(f"benchmarks need {MARKET} prices; available: {prices.tickers}.")
    sectors = [t for t in SECTOR_ETFS if t in prices.tickers]
    if want_sectors and not sectors:
        raise DataError(
            f"benchmarks need sector ETF prices ({', '.join(SECTOR_ETFS)}); none in {prices.tickers}."
        )
    bench = dataclasses.replace(config, mode="long_only", max_gross=None, max_net=None, borrow_bps=0.0)
    schedule = schedule.sort_values().unique()

    spy = pd.DataFrame({MARKET: [1.0]}, index=schedule[:1])
    priced = prices.close.loc[schedule, sectors].notna().to_numpy()
    counts = priced.sum(axis=1, keepdims=True)
    ew = pd.DataFrame(np.where(priced, 1.0 / np.maximum(counts, 1), 0.0), index=schedule, columns=sectors)
    out = {}
    if want_market:
        out[MARKET] = backtest(prices, spy, bench)
    if want_sectors:
        out[EW_SECTORS] = backtest(prices, ew, bench)
        changes = np.flatnonzero(np.diff(counts[:, 0]) != 0) + 1
        notes = [f"{EW_SECTORS}: 1/{int(counts[0, 0])} in each priced sector ETF from {schedule[0].date()}"]
        notes += [f"1/{int(counts[k, 0])} from {schedule[k].date()}" for k in changes]
        out[EW_SECTORS].log.insert(1, "; ".join(notes) + ".")
    return out


def benchmark_returns(
    prices: Prices, schedule: pd.DatetimeIndex, config: ExecutionConfig, names: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Daily returns of the benchmarks (columns SPY and EW_SECTORS, or `names`) from the first schedule date."""
    res = benchmark_results(prices, schedule, config, names)
    return pd.DataFrame({name: r.returns for name, r in res.items()})
