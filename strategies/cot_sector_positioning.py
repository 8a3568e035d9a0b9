"""Leveraged funds' positioning in the E-mini Select Sector futures as a sector tilt (CFTC TFF).

Hypothesis: sectors in which leveraged funds are unusually net short (against each sector future's own history)
outperform as they cover, and sectors where they are unusually net long underperform; tilt an equal-weight sector
book towards the first and away from the second.
Data: CFTC TFF futures only (`lev_money_net_pct_oi`, source cftc_tff; the `_combined` metrics are not read)
for the sector futures (XLB … XLY entities). They are sparse — reported only
in weeks with enough reportable traders — so a sector's signal is used for at most `stale_weeks` weeks after its
last report and is neutral after that (its coverage is in the run's provenance); nothing is filled.
Score (`signal`): 1 - that percentile (higher = funds more short = overweight; NaN where stale or unpriced).
Mechanism: none planted — a real-data strategy (CFTC files in ../shared/data), not run on the synthetic market.
"""

from __future__ import annotations

import pandas as pd

from research.book import ranked
from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS
from research.positioning import sector_positioning as positioning
from research.strategy import Float, Int, Strategy


def weights(
    data: MarketData,
    *,
    window: int = 104,
    min_weeks: int = 26,
    low: float = 0.2,
    high: float = 0.8,
    tilt: float = 0.5,
    stale_weeks: int = 4,
) -> pd.DataFrame:
    """Equal weight over priced sector ETFs, times (1 + tilt) where funds are extremely short, (1 - tilt) long."""
    if not 0.0 <= tilt <= 1.0:
        raise ConfigError(f"cot_sector_positioning: tilt must be in [0, 1], got {tilt}")
    score = positioning(data, window, min_weeks, stale_weeks)
    mult = pd.DataFrame(1.0, index=score.index, columns=SECTOR_TICKERS)
    mult = mult.mask(score <= low, 1.0 + tilt).mask(score >= high, 1.0 - tilt)
    live = data.prices.close.loc[score.index, SECTOR_TICKERS].notna()
    raw = mult.where(live, 0.0)
    return raw.div(raw.sum(axis=1), axis=0).fillna(0.0).rename_axis("date")


def signal(
    data: MarketData, *, window: int = 104, min_weeks: int = 26, stale_weeks: int = 4, **_: object
) -> pd.DataFrame:
    """1 - the net-position percentile the tilt is set by (higher = leveraged funds more short = overweight)."""
    score = positioning(data, window, min_weeks, stale_weeks)
    live = data.prices.close.loc[score.index, SECTOR_TICKERS].notna()
    out = ranked((1.0 - score).where(live))
    out.columns.name = None
    return out.rename_axis("date")


STRATEGY = Strategy(
    name="cot_sector_positioning",
    hypothesis="Sectors where leveraged funds are unusually net short in the select-sector futures outperform as "
               "they cover; tilt an equal-weight sector book towards them.",
    needs=("lev_money_net_pct_oi", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"window": Int(104, grid=[52, 104, 156], lo=2, hi=1040), "min_weeks": Int(26, lo=2, hi=1040),
            "low": Float(0.2, grid=[0.1, 0.2, 0.3], lo=0.0, hi=1.0),
            "high": Float(0.8, grid=[0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "tilt": Float(0.5, grid=[0.25, 0.5, 1.0], lo=0.0, hi=10.0),
            "stale_weeks": Int(4, grid=[1, 4, 8], lo=1, hi=520)},
    weights=weights,
    signal=signal,
    mode="long_only",
    mechanism=None,
    tags=("sector", "cftc", "real-data"),
)
