"""Long/short-ratio extremes: contrarian SPY exposure when hedge funds are extremely long or extremely hedged.

Hypothesis: when the book's long/short ratio is at an extreme high against its history the crowd is all in
and the market lags; at an extreme low it is washed out and the market leads.
Data: BOOK `long_short_ratio` (weekly prime book, public Tuesday).
Signal: the ratio's percentile over `window` weeks; the crowded regime starts at >= `upper` and ends at
<= upper - `band`, the washed-out regime starts at <= `lower` and ends at >= lower + `band` (hysteresis).
Book: SPY at 1 - `tilt` when crowded, 1 + `tilt` when washed out, 1 otherwise.
Mechanism: none planted.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import on_decisions, timing_frame
from research.data.market import MarketData
from research.data.universe import BOOK, MARKET
from research.observe import book_obs, observed
from research.strategy import Float, Int, Strategy


def weights(
    data: MarketData,
    *,
    window: int = 156,
    upper: float = 0.95,
    lower: float = 0.05,
    band: float = 0.15,
    tilt: float = 0.5,
) -> pd.DataFrame:
    """SPY exposure 1 -/+ tilt in the crowded / washed-out long/short-ratio regimes."""
    (ratio,) = observed(book_obs(data, "long_short_ratio"))
    pct = sig.pct_rank(ratio, window)
    crowded = sig.hysteresis(pct, upper, upper - band)[BOOK]
    washed = sig.hysteresis(1.0 - pct, 1.0 - lower, 1.0 - lower - band)[BOOK]
    exposure = 1.0 - tilt * crowded.astype(float) + tilt * washed.astype(float)
    return on_decisions(timing_frame(exposure, MARKET), data)


STRATEGY = Strategy(
    name="long_short_ratio_extreme",
    hypothesis="An extreme hedge-fund long/short ratio is a contrarian signal: the market lags after extreme "
               "highs and leads after extreme lows.",
    needs=("long_short_ratio", f"price:{MARKET}"),
    params={"window": Int(156, grid=[52, 104, 156, 260], lo=2, hi=1040),
            "upper": Float(0.95, grid=[0.8, 0.9, 0.95], lo=0.0, hi=1.0),
            "lower": Float(0.05, grid=[0.05, 0.1, 0.2], lo=0.0, hi=1.0),
            "band": Float(0.15, grid=[0.1, 0.2], lo=0.0, hi=1.0), "tilt": Float(0.5, grid=[0.5, 1.0], lo=0.0, hi=1.0)},
    weights=weights,
    mode="timing",
    mechanism=None,
    tags=("market", "leverage", "timing", "contrarian"),
)
