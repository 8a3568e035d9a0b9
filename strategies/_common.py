"""Plumbing shared by the strategy modules: weekly observations, sector columns, holding windows and books.

Strategies decide on the weekly sessions of `research.schedule.weekly` (the first session on or after
Tuesday, when the prime book is public). Panel metrics are sampled there through `MarketData.flow` only, as
*observed weeks*: a decision session at which no new week was published (a holiday week that repeats last
week's value) is dropped, so streaks, windows and holding periods count published weeks; a value whose own
`as_of` did not advance is NaN (stale, i.e. missing). Weights computed on observed weeks are carried to every
decision session by `on_decisions` (a repeated week keeps last week's book), and a strategy's scores (its
`signal`) by `scores_on_decisions`.
"""

from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.data.universe import BOOK, ETF_OF_SECTOR, MARKET, SECTOR_ETFS, SECTORS
from research.errors import ConfigError
from research.schedule import weekly
from research.signals import weights_from_scores

#: The sector ETF tickers, in the column order every sector strategy uses.
SECTOR_TICKERS: list[str] = list(SECTOR_ETFS)
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


def on_decisions(weights: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """Weights on observed weeks carried to every decision session (0 before the first observed week)."""
    out = weights.astype(float).reindex(decisions(data)).ffill().fillna(0.0)
    out.index.name = "date"
    out.columns.name = None
    return out


def ranked(score: pd.DataFrame) -> pd.DataFrame:
    """The score with every row that ranks nothing set to NaN: fewer than two valid values, or all of them equal.

    On such a session the strategy holds its idle book; a row of ties would only let the diagnostics' spread
    break the ties by column order, so it is no score at all. Other NaN stay NaN (nothing is filled).
    """
    s = score.astype(float)
    spread = s.max(axis=1) - s.min(axis=1)
    return s.where(spread.gt(0.0), axis=0)


def scores_on_decisions(score: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """A strategy's scores on observed weeks (see `ranked`) on every decision session, like `on_decisions`.

    A repeated (holiday) week keeps last week's whole row, the score its carried book stands on; no single NaN
    is filled, and sessions before the first observed week are NaN.
    """
    out = ranked(score).reindex(decisions(data), method="ffill")
    out.index.name = "date"
    out.columns.name = None
    return out


def priced(data: MarketData, index: pd.Index, tickers: list[str]) -> pd.DataFrame:
    """True where a ticker has a close on the session (it trades: after its inception)."""
    return data.prices.close.loc[index, tickers].notna()


def recent(event: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """True where the event fired in any of the last `weeks` rows, the current one included."""
    hits = event.fillna(False).astype(float)
    return hits.rolling(weeks, min_periods=1).max().astype(bool)


def carry(score: pd.DataFrame, event: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """The score at the latest event within the last `weeks` rows, NaN where there was none."""
    hit = score.where(event.fillna(False).astype(bool))
    return hit.ffill(limit=weeks - 1) if weeks > 1 else hit


def neutral_book(scores: pd.DataFrame, live: pd.DataFrame, gross: float = 1.0) -> pd.DataFrame:
    """Dollar-neutral weights: scores minus their mean over live entities, scaled to `gross` (0 when flat)."""
    s = scores.fillna(0.0).where(live)
    demeaned = s.sub(s.mean(axis=1), axis=0)
    demeaned = demeaned.mask(demeaned.abs() < 1e-12, 0.0)
    return weights_from_scores(demeaned, mask=live, method="proportional", gross=gross, net=0.0, long_short=True)


def timing_frame(exposure: pd.Series, ticker: str = MARKET) -> pd.DataFrame:
    """A one-column weights frame for a timing strategy (the ticker against cash)."""
    return exposure.astype(float).to_frame(ticker)


def choice(value: str, options: tuple[str, ...], name: str) -> str:
    """`value` if it is one of `options`, else a ConfigError naming them."""
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {value!r}.")
    return value


def equal_when_idle(book: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """Rows of a sector book that hold nothing become the equal weight of the priced sector ETFs."""
    live = priced(data, book.index, list(book.columns)).astype(float)
    ew = live.div(live.sum(axis=1).clip(lower=1.0), axis=0)
    idle = (book.abs().sum(axis=1) == 0.0).to_numpy()[:, None]
    return pd.DataFrame(np.where(idle, ew.to_numpy(), book.to_numpy()), index=book.index, columns=book.columns)
