"""Sector flow momentum: long the sectors hedge funds have been buying hardest, short those they sell hardest.

Hypothesis: multi-week hedge-fund net buying, large against the sector's own history, persists and pushes
the sector ahead of the ones being sold.
Data: per-sector `net_flow` (weekly prime book, public Tuesday).
Signal: net flow summed over `weeks` weeks, z-scored over `window` weeks per sector. Book: long the `n`
highest, short the `n` lowest, dollar-neutral, gross 1. Score (`signal`): that z-score (NaN where unpriced
or without `window` weeks of history).
Mechanism: none planted as such (fresh buying in under-owned sectors is; see fresh_flow_low_exposure).
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import on_decisions, scores_on_decisions
from research.data.market import MarketData
from research.observe import SECTOR_TICKERS, observed, priced, sector_obs
from research.strategy import Int, Strategy


def flow_z(data: MarketData, weeks: int, window: int) -> pd.DataFrame:
    """Net flow summed over `weeks` weeks, z-scored over `window` weeks, on observed weeks (NaN where unpriced)."""
    (flow,) = observed(sector_obs(data, "net_flow"))
    return sig.zscore(flow.rolling(weeks, min_periods=weeks).sum(), window).where(
        priced(data, flow.index, SECTOR_TICKERS))


def weights(data: MarketData, *, weeks: int = 4, window: int = 156, n: int = 3) -> pd.DataFrame:
    """Long the top n sectors by multi-week net-flow z-score, short the bottom n, dollar-neutral."""
    z = flow_z(data, weeks, window)
    side = sig.top_n(z, n).astype(float) - sig.bottom_n(z, n).astype(float)
    book = sig.weights_from_scores(side, mask=side != 0, method="equal", net=0.0, long_short=True)
    return on_decisions(book, data)


def signal(data: MarketData, *, weeks: int = 4, window: int = 156, **_: object) -> pd.DataFrame:
    """The multi-week net-flow z-score the book ranks sectors by (higher = bought harder = long)."""
    return scores_on_decisions(flow_z(data, weeks, window), data)


STRATEGY = Strategy(
    name="sector_flow_momentum",
    hypothesis="Sectors with the strongest multi-week hedge-fund net buying against their own history beat "
               "those with the strongest net selling.",
    needs=("net_flow", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"weeks": Int(4, grid=[1, 2, 4, 8, 13], lo=1, hi=520),
            "window": Int(156, grid=[52, 104, 156, 260], lo=2, hi=1040),
            "n": Int(3, grid=[1, 2, 3, 4], lo=1, hi=5)},
    weights=weights,
    signal=signal,
    mode="dollar_neutral",
    mechanism=None,
    tags=("sector", "flow", "momentum"),
)
