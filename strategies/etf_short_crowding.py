"""Crowded hedges in sector ETFs: overweight the sectors whose ETF is unusually heavily shorted.

Hypothesis: short interest in a sector ETF is mostly hedging and macro positioning, not stock-specific conviction;
when an ETF's days to cover is extreme against its own history the hedge is crowded, and as it unwinds the sector
beats the others, while a sector nobody bothers to hedge is complacent and lags.
Data: FINRA short interest of the 11 SPDR sector ETFs (`si_days_to_cover`: shares short / average daily volume,
or `si_shares`), twice a month, each report public on FINRA's 8th business day after settlement
(`research.data.finra`); read on the weekly decision sessions as observed reports (a week without a new report
repeats nothing). ../shared/data covers 2017-12 -> 2025-07.
Signal: each ETF's percentile of the measure over its last `window` reports (at least `min_reports`).
Book: equal weight over the priced sector ETFs, times (1 + tilt) where the percentile is >= `high` (crowded hedge)
and (1 - tilt) where it is <= `low`, renormalised to 1; the run starts at the first decision with a score.
Score (`signal`): the percentile (higher = more crowded hedge = overweight).
Mechanism: none planted — a real-data strategy (FINRA files in ../shared/data), not run on the synthetic market.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import choice, on_decisions, ranked, scores_on_decisions
from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS, observed, weekly_obs
from research.strategy import Choice, Float, Int, Strategy

MEASURES = ("si_days_to_cover", "si_shares")


def crowding(data: MarketData, measure: str, window: int, min_reports: int) -> pd.DataFrame:
    """Each sector ETF's percentile of `measure` over its last `window` observed reports (NaN unpriced)."""
    choice(measure, MEASURES, "etf_short_crowding: measure")
    if not 1 <= min_reports <= window:
        raise ConfigError(f"etf_short_crowding: need 1 <= min_reports <= window, got {min_reports}, {window}.")
    (obs,) = observed(weekly_obs(data, measure, SECTOR_TICKERS))
    reports = int(obs.notna().sum().max()) if len(obs) else 0
    if reports < min_reports:
        raise ConfigError(f"etf_short_crowding: {reports} FINRA reports of sector ETF short interest; min_reports "
                          f"is {min_reports}, so no report has a score.")
    pct = obs.apply(lambda c: sig.pct_rank(c.dropna().to_frame(), window, min_count=min_reports).iloc[:, 0]
                    .reindex(c.index))
    pct.columns.name = None
    live = data.prices.close.loc[pct.index, SECTOR_TICKERS].notna()
    pct = pct.where(live)
    start = pct.first_valid_index()
    return pct.loc[start:]


def weights(data: MarketData, *, measure: str = "si_days_to_cover", window: int = 52, min_reports: int = 24,
            low: float = 0.2, high: float = 0.8, tilt: float = 0.5) -> pd.DataFrame:
    """Equal weight over priced sector ETFs, tilted toward crowded hedges and away from unhedged sectors."""
    if not 0.0 <= low < high <= 1.0 or not 0.0 <= tilt <= 1.0:
        raise ConfigError(f"etf_short_crowding: need 0 <= low < high <= 1 and 0 <= tilt <= 1; got low={low}, "
                          f"high={high}, tilt={tilt}.")
    pct = crowding(data, measure, window, min_reports)
    live = data.prices.close.loc[pct.index, SECTOR_TICKERS].notna()
    mult = pd.DataFrame(1.0, index=pct.index, columns=SECTOR_TICKERS)
    mult = mult.mask(pct >= high, 1.0 + tilt).mask(pct <= low, 1.0 - tilt).where(live, 0.0)
    book = mult.div(mult.sum(axis=1), axis=0).fillna(0.0)
    out = on_decisions(book, data)
    return out.loc[pct.index[0]:]


def signal(data: MarketData, *, measure: str = "si_days_to_cover", window: int = 52, min_reports: int = 24,
           **_: object) -> pd.DataFrame:
    """The percentile the tilt is set by (higher = more crowded hedge = overweight)."""
    pct = crowding(data, measure, window, min_reports)
    return scores_on_decisions(ranked(pct), data).loc[pct.index[0]:]


STRATEGY = Strategy(
    name="etf_short_crowding",
    hypothesis="Sector ETFs whose short interest is extreme against their own history are crowded hedges that "
               "unwind: overweight them, underweight the unhedged.",
    needs=("si_days_to_cover", "si_shares", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"measure": Choice("si_days_to_cover", tuple(MEASURES), grid=list(MEASURES)),
            "window": Int(52, grid=[26, 52, 78], lo=2, hi=520), "min_reports": Int(24, lo=2, hi=520),
            "low": Float(0.2, grid=[0.1, 0.2, 0.3], lo=0.0, hi=1.0),
            "high": Float(0.8, grid=[0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "tilt": Float(0.5, grid=[0.25, 0.5], lo=0.0, hi=10.0)},
    weights=weights,
    signal=signal,
    mode="long_only",
    mechanism=None,
    tags=("sector", "short interest", "finra", "real-data"),
)
