"""Flows observed at decision sessions: the point-in-time panel sampled where a strategy decides.

Strategies decide on the weekly sessions of `research.schedule.weekly` (the first session on or after Tuesday,
when the prime book is public). Panel metrics are sampled there through `MarketData.flow` only, as *observed
weeks*: a decision session at which no new week was published (a holiday week that repeats last week's value)
is dropped, so streaks, windows and holding periods count published weeks; a value whose own `as_of` did not
advance is NaN (stale, i.e. missing). CFTC positioning is sampled the same way on its Friday release sessions
(`cot_observations`). What happens next — scores, books, carrying them to every decision session — is
`research.book`.
"""

from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.data.universe import BOOK, ETF_OF_SECTOR, SECTOR_ETFS, SECTORS
from research.errors import ConfigError
from research.schedule import weekly

#: The sector ETF tickers, in the column order every sector strategy uses.
SECTOR_TICKERS: list[str] = list(SECTOR_ETFS)
#: The weekday of the CFTC release (Tuesday positions, public Friday 15:30 ET).
FRIDAY = 4
_OBS: dict[tuple, tuple[weakref.ref, weakref.ref, pd.DataFrame]] = {}
_OBS_SIZE = 64


def decisions(data: MarketData) -> pd.DatetimeIndex:
    """The weekly decision sessions of `data` (`research.schedule.weekly`, cached per session index)."""
    idx = data.index
    return _weekly(len(idx), idx.asi8.tobytes()).rename(idx.name)


@lru_cache(maxsize=64)
def _weekly(n: int, stamps: bytes) -> pd.DatetimeIndex:
    """`weekly` of the session index packed as int64 nanoseconds (hashable, so it can be cached)."""
    return weekly(pd.DatetimeIndex(np.frombuffer(stamps, dtype=np.int64).astype("datetime64[ns]")))


def weekly_obs(data: MarketData, metric: str, entities: list[str]) -> pd.DataFrame:
    """`metric` at every decision session (columns = entities), NaN where the entity's as_of did not advance.

    Memoised per (panel, prices, metric, entities) object identity, so strategies sharing a metric on one
    market align it once; treat a MarketData as read-only (a changed panel must be a new frame).
    """
    key = (id(data.panel), id(data.prices.close), metric, tuple(entities))
    hit = _OBS.get(key)
    if hit is not None and hit[0]() is data.panel and hit[1]() is data.prices.close:
        return hit[2].copy()
    dates = decisions(data)
    value = data.flow(metric, entities).loc[dates]
    as_of = data.flow(metric, entities, field="as_of").loc[dates]
    new = as_of.notna() & as_of.ne(as_of.shift(1))
    out = value.where(new)
    out.columns = pd.Index(list(entities), name=metric)
    if len(_OBS) >= _OBS_SIZE:
        _OBS.pop(next(iter(_OBS)))
    _OBS[key] = (weakref.ref(data.panel), weakref.ref(data.prices.close), out)
    return out.copy()


def sector_obs(data: MarketData, metric: str) -> pd.DataFrame:
    """A per-sector metric at every decision session, columns renamed to the sector ETF tickers."""
    out = weekly_obs(data, metric, list(SECTORS))
    return out.rename(columns=ETF_OF_SECTOR)[SECTOR_TICKERS]


def book_obs(data: MarketData, metric: str) -> pd.DataFrame:
    """A book-wide metric (gross_leverage, net_leverage, long_short_ratio) at every decision session."""
    return weekly_obs(data, metric, [BOOK])


def observed(*frames: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The frames restricted to observed weeks: the decision sessions where any of them has a new value."""
    keep = np.zeros(len(frames[0]), dtype=bool)
    for f in frames:
        keep |= f.notna().any(axis=1).to_numpy()
    return tuple(f.loc[keep] for f in frames)


def priced(data: MarketData, index: pd.Index, tickers: list[str]) -> pd.DataFrame:
    """True where a ticker has a close on the session (it trades: after its inception)."""
    return data.prices.close.loc[index, tickers].notna()


def first_priced(data: MarketData, tickers: list[str], who: str) -> pd.Timestamp:
    """The first decision session with every ticker priced (a run on them starts there), or a ConfigError."""
    both = data.prices.close.loc[decisions(data), tickers].notna().all(axis=1)
    if not both.any():
        raise ConfigError(f"{who}: {' and '.join(tickers)} are never priced together in {data.name}.")
    return both.idxmax()


def cot_observations(data: MarketData, metric: str, entities: list[str]) -> pd.DataFrame:
    """`metric` at each Friday-release decision session, NaN where no new CFTC week arrived (never filled)."""
    dates = weekly(data.index, weekday=FRIDAY)
    value = data.flow(metric, entities).loc[dates]
    as_of = data.flow(metric, entities, field="as_of").loc[dates]
    return value.where(as_of.notna() & as_of.ne(as_of.shift(1)))


def require_history(name: str, obs: pd.DataFrame, min_weeks: int) -> None:
    """A clear error when no column has more than `min_weeks` reported weeks: the first score needs `min_weeks`
    weeks, and a later week to be traded (instead of the engine's "weights is empty")."""
    weeks = int(obs.notna().sum().max()) if obs.shape[1] else 0
    if weeks <= min_weeks:
        span = (f" ({obs.dropna(how='all').index[0].date()} -> {obs.dropna(how='all').index[-1].date()})"
                if weeks else "")
        raise ConfigError(f"{name}: {weeks} weeks of history{span}; min_weeks is {min_weeks}, so no week has a score "
                          "to trade. Give a longer CFTC history or a smaller min_weeks.")
