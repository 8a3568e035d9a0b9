"""Crowding overlay: the equal-weight sector book without the sectors hedge funds crowd into.

Hypothesis: when hedge funds' net exposure to a sector is near its historical high while the book's gross
leverage is also high, the crowded longs unwind together and the sector lags.
Data: per-sector `net_exposure`, BOOK `gross_leverage` (weekly prime book, public Tuesday).
Signal: net-exposure percentile over `window` weeks >= `exposure_pct` and gross-leverage percentile
>= `leverage_pct`. Book: equal weight of the priced sector ETFs, leaving out any sector crowded in the last
`hold` weeks (the equal weight of all of them when every sector is crowded).
Score (`signal`): -1 for a sector crowded in the last `hold` weeks (left out), 0 for the others (NaN where
unpriced or without both percentiles; a session with no crowded sector ranks nothing, NaN).
Mechanism: synthetic `crowding` (156-week percentiles >= 0.8; each crowded week drifts the sector down).
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import equal_when_idle, on_decisions, recent, scores_on_decisions
from research.data.market import MarketData
from research.data.universe import BOOK
from research.observe import SECTOR_TICKERS, book_obs, observed, priced, sector_obs
from research.strategy import Float, Int, Strategy


def crowding(
    data: MarketData, window: int, exposure_pct: float, leverage_pct: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(crowded, known) on observed weeks: the `crowded` flags, and where both percentiles exist."""
    exposure, leverage = observed(sector_obs(data, "net_exposure"), book_obs(data, "gross_leverage"))
    lev_pct = sig.pct_rank(leverage, window)[BOOK]
    exp_pct = sig.pct_rank(exposure, window)
    book_high = lev_pct >= leverage_pct
    flags = (exp_pct >= exposure_pct) & book_high.to_numpy()[:, None]
    return flags, exp_pct.notna() & lev_pct.notna().to_numpy()[:, None]


def crowded(data: MarketData, window: int, exposure_pct: float, leverage_pct: float) -> pd.DataFrame:
    """Sectors whose net exposure and the book's gross leverage are both at high percentiles (observed weeks)."""
    return crowding(data, window, exposure_pct, leverage_pct)[0]


def weights(
    data: MarketData,
    *,
    window: int = 156,
    exposure_pct: float = 0.8,
    leverage_pct: float = 0.8,
    hold: int = 4,
) -> pd.DataFrame:
    """Equal weight of the priced sectors not crowded in the last `hold` weeks."""
    avoid = recent(crowded(data, window, exposure_pct, leverage_pct), hold)
    keep = priced(data, avoid.index, SECTOR_TICKERS) & ~avoid
    book = sig.weights_from_scores(keep.astype(float), mask=keep)
    return equal_when_idle(on_decisions(book, data), data)


def signal(
    data: MarketData,
    *,
    window: int = 156,
    exposure_pct: float = 0.8,
    leverage_pct: float = 0.8,
    hold: int = 4,
    **_: object,
) -> pd.DataFrame:
    """-1 for the sectors the book leaves out (crowded in the last `hold` weeks), 0 for those it keeps."""
    flags, known = crowding(data, window, exposure_pct, leverage_pct)
    avoid = recent(flags, hold)
    live = priced(data, avoid.index, SECTOR_TICKERS) & (known | avoid)
    return scores_on_decisions((0.0 - avoid.astype(float)).where(live), data)


STRATEGY = Strategy(
    name="crowding_overlay",
    hypothesis="Sectors where hedge-fund net exposure sits near its high while book gross leverage is also high "
               "are crowded and lag; an equal-weight sector book should leave them out.",
    needs=("net_exposure", "gross_leverage", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"window": Int(156, grid=[104, 156, 260], lo=2, hi=1040),
            "exposure_pct": Float(0.8, grid=[0.7, 0.75, 0.8, 0.85, 0.9], lo=0.0, hi=1.0),
            "leverage_pct": Float(0.8, grid=[0.6, 0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "hold": Int(4, grid=[1, 2, 4, 6], lo=1, hi=520)},
    weights=weights,
    signal=signal,
    mode="long_only",
    mechanism="crowding",
    tags=("sector", "positioning", "crowding", "overlay"),
)
