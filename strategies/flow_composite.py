"""Flow composite: an equal-weight sector book tilted to fresh under-owned buying and away from crowding.

Hypothesis: combining two positioning signals beats either alone: overweight sectors with fresh net buying
and low net exposure, and leave out sectors that are crowded while the book is highly levered.
Data: per-sector `net_flow` and `net_exposure`, BOOK `gross_leverage` (weekly prime book, public Tuesday).
Signal: the fresh_flow_low_exposure event (held `fresh_hold` weeks) and the crowding_overlay flag (held
`crowd_hold` weeks). Book: each priced, uncrowded sector scores 1, plus `tilt` with a fresh signal; weights
proportional to the scores (sum 1); the equal weight when every sector is crowded.
Score (`signal`): that score, 1 + `tilt` (fresh) or 1, with 0 for a crowded sector (NaN where unpriced; a
session where every sector scores the same ranks nothing, NaN).
Mechanism: synthetic `fresh_flow`, and `crowding` through the exclusion.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import equal_when_idle, on_decisions, recent, scores_on_decisions
from research.data.market import MarketData
from research.observe import SECTOR_TICKERS, priced
from research.strategy import Float, Int, Strategy
from strategies.crowding_overlay import crowded
from strategies.fresh_flow_low_exposure import fresh_low_exposure


def composite(
    data: MarketData, buy_weeks: int, sell_weeks: int, window: int, pct_below: float, fresh_hold: int,
    exposure_pct: float, leverage_pct: float, crowd_hold: int, tilt: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(score, crowded) on every decision session: 1 + tilt * fresh (NaN where unpriced), and the crowded flag."""
    event, _ = fresh_low_exposure(data, buy_weeks, sell_weeks, window, pct_below)
    fresh = on_decisions(recent(event, fresh_hold).astype(float), data)
    avoid = on_decisions(recent(crowded(data, window, exposure_pct, leverage_pct), crowd_hold).astype(float), data)
    live = priced(data, fresh.index, SECTOR_TICKERS)
    return (1.0 + tilt * fresh).where(live), avoid != 0.0


def weights(
    data: MarketData,
    *,
    buy_weeks: int = 3,
    sell_weeks: int = 2,
    window: int = 156,
    tilt: float = 2.0,
    pct_below: float = 0.3,
    exposure_pct: float = 0.8,
    fresh_hold: int = 4,
    leverage_pct: float = 0.8,
    crowd_hold: int = 4,
) -> pd.DataFrame:
    """Equal weight plus `tilt` on fresh under-owned sectors, minus the crowded sectors."""
    score, crowd = composite(data, buy_weeks, sell_weeks, window, pct_below, fresh_hold, exposure_pct,
                             leverage_pct, crowd_hold, tilt)
    book = sig.weights_from_scores(score.where(~crowd), method="proportional")
    return equal_when_idle(book, data)


def signal(
    data: MarketData,
    *,
    buy_weeks: int = 3,
    sell_weeks: int = 2,
    window: int = 156,
    pct_below: float = 0.3,
    fresh_hold: int = 4,
    exposure_pct: float = 0.8,
    leverage_pct: float = 0.8,
    crowd_hold: int = 4,
    tilt: float = 2.0,
    **_: object,
) -> pd.DataFrame:
    """The book's score, 1 + tilt on fresh sectors, with 0 for the crowded ones it leaves out."""
    score, crowd = composite(data, buy_weeks, sell_weeks, window, pct_below, fresh_hold, exposure_pct,
                             leverage_pct, crowd_hold, tilt)
    return scores_on_decisions(score.mask(crowd & score.notna(), 0.0), data)


STRATEGY = Strategy(
    name="flow_composite",
    hypothesis="An equal-weight sector book overweighting fresh, under-owned hedge-fund buying and leaving out "
               "crowded sectors beats the equal weight.",
    needs=("net_flow", "net_exposure", "gross_leverage", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"buy_weeks": Int(3, lo=1, hi=52), "sell_weeks": Int(2, lo=0, hi=52), "window": Int(156, lo=2, hi=1040),
            "tilt": Float(2.0, grid=[1.0, 2.0, 4.0, 8.0], lo=0.0, hi=100.0),
            "pct_below": Float(0.3, grid=[0.2, 0.3, 0.4], lo=0.0, hi=1.0),
            "exposure_pct": Float(0.8, grid=[0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "fresh_hold": Int(4, grid=[2, 4, 6], lo=1, hi=520),
            "leverage_pct": Float(0.8, lo=0.0, hi=1.0), "crowd_hold": Int(4, lo=1, hi=520)},
    weights=weights,
    signal=signal,
    mode="long_only",
    mechanism="fresh_flow",
    tags=("sector", "flow", "positioning", "crowding", "combination"),
)
