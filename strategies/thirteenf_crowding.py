"""Hedge-fund crowding from 13F filings: leave the most crowded sectors out of an equal-weight sector book.

Hypothesis: sectors that crowd hedge funds' top-10 holdings (the published "VIP" names) underperform the other
sectors while the crowding lasts, so an equal-weight sector book without the most crowded ones beats the equal weight.
Data: 13F `hf_crowding` per GICS sector (the average number of a fund's top-10 holdings in that sector; or
`hf_weight`, the sector's share of those holdings) from ../shared/data/13f, each quarter public at its 45-day filing
deadline, 17:30 ET — so a quarter first counts at the next session's close. Weekly decisions (Tuesday) carry the
latest public quarter; before the first filing there is no position (the run starts then).
Mechanism: none planted — a real-data strategy (13F files in ../shared/data), not run on the synthetic market. The
files cover 2025 only, so a backtest spans a few months: read it as a demonstration of the pipeline, not evidence.
"""

from __future__ import annotations

import pandas as pd

from research.data.market import MarketData
from research.data.universe import ETF_OF_SECTOR, SECTOR_ETFS, SECTORS
from research.errors import ConfigError
from research.schedule import weekly
from research.strategy import Choice, Int, Strategy

SECTOR_TICKERS = list(SECTOR_ETFS)
MEASURES = ("hf_crowding", "hf_weight")


def crowding(data: MarketData, measure: str) -> pd.DataFrame:
    """The 13F crowding measure per sector ETF at each weekly decision, from the first public quarter on."""
    if measure not in MEASURES:
        raise ConfigError(f"thirteenf_crowding: measure must be one of {', '.join(MEASURES)}; got {measure!r}")
    dates = weekly(data.index)
    c = data.flow(measure, list(SECTORS)).loc[dates].rename(columns=ETF_OF_SECTOR)[SECTOR_TICKERS]
    start = c.dropna(how="all").index.min()
    if start is None or pd.isna(start):
        raise ConfigError("thirteenf_crowding: no 13F quarter is public within the price history")
    return c.loc[start:]


def weights(data: MarketData, *, measure: str = "hf_crowding", n_out: int = 2) -> pd.DataFrame:
    """Equal weight over priced sector ETFs, without the `n_out` most crowded (ties: ETF order)."""
    if n_out < 0 or n_out >= len(SECTOR_TICKERS):
        raise ConfigError(f"thirteenf_crowding: n_out must be in [0, {len(SECTOR_TICKERS) - 1}], got {n_out}")
    c = crowding(data, measure)
    live = data.prices.close.loc[c.index, SECTOR_TICKERS].notna()
    rank = c.where(live).rank(axis=1, ascending=False, method="first")
    keep = live & ~(rank <= n_out)
    w = keep.astype(float)
    return w.div(w.sum(axis=1), axis=0).fillna(0.0).rename_axis("date")


def signal(data: MarketData, *, measure: str = "hf_crowding", **_: object) -> pd.DataFrame:
    """Minus the crowding measure: higher = less crowded = more bullish under the hypothesis."""
    return -crowding(data, measure)


STRATEGY = Strategy(
    name="thirteenf_crowding",
    hypothesis="Sectors that crowd hedge funds' top-10 13F holdings underperform: an equal-weight sector book "
               "without the most crowded beats the equal weight.",
    needs=("hf_crowding", "hf_weight", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"measure": Choice("hf_crowding", tuple(MEASURES), grid=list(MEASURES)),
            "n_out": Int(2, grid=[1, 2, 3, 4], lo=1, hi=10)},
    weights=weights,
    mode="long_only",
    mechanism=None,
    signal=signal,
    tags=("sector", "13f", "real-data"),
)
