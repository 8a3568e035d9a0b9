"""Fresh multi-week net buying in sectors that hedge funds still under-own.

Hypothesis: a sector hedge funds start net buying for several straight weeks after a selling spell, while
their net exposure to it is still low against its own history, beats the other sectors over the next weeks.
Data: per-sector `net_flow` and `net_exposure` from the weekly prime book (public Tuesday).
Signal: the week a net-buying streak reaches `buy_weeks` after at least `sell_weeks` weeks of net selling,
with the net-exposure percentile over `window` weeks below `pct_below`; a sector is held `hold` weeks from
that week. Book: the `top_n` held sectors by how under-owned they were (1 - percentile), equal or signal
weight; when none qualifies, `idle` holds the equal-weight sector ETFs (or cash).
Score (`signal`): for a sector with a live signal (an event in the last `hold` weeks), 1 - its percentile
at the latest event: the key the book takes its top_n by, in (1 - pct_below, 1]. Every other priced sector
with a percentile scores 0 (flat: ranking them by under-ownership alone adds noise, and a spurious IC at
ic = 0, without the event). NaN for unpriced sectors and on sessions with no live signal (the book is idle).
Mechanism: synthetic `fresh_flow` (buy_weeks=3, sell_weeks=2, 156-week percentile < 0.3, 20-session drift).
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import carry, choice, equal_when_idle, on_decisions, scores_on_decisions
from research.data.market import MarketData
from research.observe import SECTOR_TICKERS, observed, priced, sector_obs
from research.strategy import Choice, Float, Int, Strategy

WEIGHTING = {"equal": "equal", "signal": "proportional"}


def fresh_low_exposure(
    data: MarketData, buy_weeks: int, sell_weeks: int, window: int, pct_below: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(event, exposure percentile) on observed weeks: fresh buying in an under-owned sector."""
    flow, exposure = observed(sector_obs(data, "net_flow"), sector_obs(data, "net_exposure"))
    pct = sig.pct_rank(exposure, window)
    return sig.fresh(flow, buy_weeks, sell_weeks) & (pct < pct_below), pct


def held_scores(
    data: MarketData, buy_weeks: int, sell_weeks: int, window: int, pct_below: float, hold: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(score, live) on observed weeks: 1 - percentile at the latest event in the last `hold` weeks (NaN where
    none), and where a sector is priced with an exposure percentile."""
    event, pct = fresh_low_exposure(data, buy_weeks, sell_weeks, window, pct_below)
    live = priced(data, pct.index, SECTOR_TICKERS)
    return carry(1.0 - pct, event, hold).where(live), live & pct.notna()


def weights(
    data: MarketData,
    *,
    buy_weeks: int = 3,
    sell_weeks: int = 2,
    window: int = 156,
    pct_below: float = 0.3,
    hold: int = 4,
    top_n: int = 3,
    weighting: str = "equal",
    idle: str = "equal",
) -> pd.DataFrame:
    """Long the top_n sectors with a fresh, under-owned buying signal in the last `hold` weeks."""
    choice(weighting, tuple(WEIGHTING), "weighting")
    choice(idle, ("equal", "cash"), "idle")
    score, _ = held_scores(data, buy_weeks, sell_weeks, window, pct_below, hold)
    book = sig.weights_from_scores(score, mask=sig.top_n(score, top_n), method=WEIGHTING[weighting])
    book = on_decisions(book, data)
    return equal_when_idle(book, data) if idle == "equal" else book


def signal(
    data: MarketData,
    *,
    buy_weeks: int = 3,
    sell_weeks: int = 2,
    window: int = 156,
    pct_below: float = 0.3,
    hold: int = 4,
    **_: object,
) -> pd.DataFrame:
    """1 - exposure percentile at the latest event for sectors with a live signal, 0 for the other priced sectors
    with a percentile, NaN elsewhere and on sessions with no live signal (see the module docstring)."""
    score, live = held_scores(data, buy_weeks, sell_weeks, window, pct_below, hold)
    return scores_on_decisions(score.fillna(0.0).where(live | score.notna()), data)


STRATEGY = Strategy(
    name="fresh_flow_low_exposure",
    hypothesis="Sectors hedge funds start net buying for several weeks after selling, while their net exposure "
               "is still low against its history, outperform the other sectors.",
    needs=("net_flow", "net_exposure", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"buy_weeks": Int(3, grid=[2, 3, 4], lo=1, hi=52), "sell_weeks": Int(2, grid=[1, 2, 3], lo=0, hi=52),
            "window": Int(156, lo=2, hi=1040), "pct_below": Float(0.3, grid=[0.2, 0.3, 0.4, 0.5], lo=0.0, hi=1.0),
            "hold": Int(4, grid=[2, 4, 6], lo=1, hi=520), "top_n": Int(3, grid=[1, 2, 3], lo=1, hi=11),
            "weighting": Choice("equal", tuple(WEIGHTING)), "idle": Choice("equal", ("equal", "cash"))},
    weights=weights,
    signal=signal,
    mode="long_only",
    mechanism="fresh_flow",
    tags=("sector", "flow", "positioning"),
)
