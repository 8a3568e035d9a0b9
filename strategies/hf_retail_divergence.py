"""Hedge funds against retail: side with hedge funds when they and retail trade a sector in opposite ways.

Hypothesis: a sector hedge funds have been net selling while retail net buys for several weeks lags the
other sectors, and one they buy while retail sells leads them.
Data: per-sector `net_flow` (hedge funds) and `retail_flow` (weekly, public Tuesday).
Signal: the divergence streak of the two flows (each smoothed by an EWMA of `smooth` weeks; 1 = raw): at
least `min_weeks` straight weeks of hedge-fund selling with retail buying is an underweight, the opposite an
overweight, kept `hold` weeks. Book: the sides minus their cross-sectional mean, dollar-neutral, gross 1.
Score (`signal`): the side, +1 / 0 / -1 (NaN where unpriced, or where a flow is missing and no side is
kept; a session where every sector has the same side is no ranking, NaN).
Mechanism: none planted (synthetic retail flow is noise plus contrarian trading).
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import carry, neutral_book, on_decisions, scores_on_decisions
from research.data.market import MarketData
from research.observe import SECTOR_TICKERS, observed, priced, sector_obs
from research.strategy import Int, Strategy


def sides(data: MarketData, min_weeks: int, hold: int, smooth: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(side, known) on observed weeks: +1 / -1 for `hold` weeks after a long enough divergence streak, NaN
    otherwise; and where the divergence streak is defined (both flows reported)."""
    hf, retail = observed(sector_obs(data, "net_flow"), sector_obs(data, "retail_flow"))
    if smooth > 1:
        hf, retail = sig.ewma(hf, smooth), sig.ewma(retail, smooth)
    streaks = sig.divergence(hf, retail)
    side = (streaks >= min_weeks).astype(float) - (streaks <= -min_weeks).astype(float)
    return carry(side, side != 0, hold), streaks.notna()


def weights(data: MarketData, *, min_weeks: int = 3, hold: int = 2, smooth: int = 1) -> pd.DataFrame:
    """Overweight sectors hedge funds buy while retail sells, underweight the reverse, dollar-neutral."""
    side, _ = sides(data, min_weeks, hold, smooth)
    side = side.fillna(0.0)
    return on_decisions(neutral_book(side, priced(data, side.index, SECTOR_TICKERS)), data)


def signal(data: MarketData, *, min_weeks: int = 3, hold: int = 2, smooth: int = 1, **_: object) -> pd.DataFrame:
    """The side the book takes: +1 (hedge funds buy, retail sells), -1 (the reverse), 0 (neither)."""
    side, known = sides(data, min_weeks, hold, smooth)
    live = priced(data, side.index, SECTOR_TICKERS)
    return scores_on_decisions(side.fillna(0.0).where((known | side.notna()) & live), data)


STRATEGY = Strategy(
    name="hf_retail_divergence",
    hypothesis="Sectors hedge funds sell while retail buys for several weeks lag the others; those they buy "
               "while retail sells lead.",
    needs=("net_flow", "retail_flow", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"min_weeks": Int(3, grid=[1, 2, 3, 4, 5, 6], lo=1, hi=520), "hold": Int(2, grid=[1, 2, 4], lo=1, hi=520),
            "smooth": Int(1, grid=[1, 2, 4], lo=1, hi=520)},
    weights=weights,
    signal=signal,
    mode="dollar_neutral",
    mechanism=None,
    tags=("sector", "flow", "retail"),
)
