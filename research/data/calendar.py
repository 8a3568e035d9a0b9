"""NYSE sessions and decision times from exchange-calendars.

Times are tz-naive New York wall-clock throughout flowbt: a session is a midnight-stamped date and its
decision time is that session's close (16:00, or 13:00 on early-close days).

`sessions` and `decision_times` read the calendar's sessions and closes from a table kept in the on-disk
cache (`research.data.cache`): building the calendar (importing exchange-calendars and evaluating its holiday
rules) takes about half a second, which every run would otherwise pay. The table is the calendar's own
sessions and closes, keyed by the exchange-calendars version and the day (the calendar ends a year after
today); requests it does not cover go to the calendar itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import exchange_calendars as xcals

EXCHANGE = "XNYS"
TZ = "America/New_York"
_CAL_START = "1990-01-02"


@lru_cache(maxsize=1)
def nyse() -> xcals.ExchangeCalendar:
    """The NYSE calendar (cached; exchange-calendars defaults to 20 years back, so ask for more)."""
    import exchange_calendars as xcals

    return xcals.get_calendar(EXCHANGE, start=_CAL_START)


@lru_cache(maxsize=1)
def session_table() -> tuple[pd.DatetimeIndex, pd.Series]:
    """(sessions, their closes as tz-naive New York times indexed by session) of `nyse()`, from the disk cache."""
    from research.data.cache import cached

    def build() -> tuple[pd.DatetimeIndex, pd.Series]:
        cal = nyse()
        closes = cal.closes
        naive = closes.index.tz_localize(None) if closes.index.tz is not None else closes.index
        close_local = pd.Series(closes.dt.tz_convert(TZ).dt.tz_localize(None).to_numpy(), index=naive)
        return cal.sessions, close_local

    today = pd.Timestamp.now().floor("D")  # the calendar's default end is a year after today
    return cached("nyse", (EXCHANGE, _CAL_START, str(today)), ("research.data.calendar",), build, keep=2)


def sessions(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions from start to end inclusive, as a tz-naive DatetimeIndex named 'date'."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    table, _ = session_table()
    if (lo.tz is None and hi.tz is None and lo == lo.normalize() and hi == hi.normalize()
            and table[0] <= lo <= hi <= table[-1]):
        # the calendar's own slice (exchange-calendars: searchsorted left of start, right of end)
        return pd.DatetimeIndex(table[table.searchsorted(lo, "left"):table.searchsorted(hi, "right")], name="date")
    from exchange_calendars.errors import DateOutOfBounds

    try:
        s = nyse().sessions_in_range(lo, hi)  # anything else, as the calendar answers it
    except DateOutOfBounds:
        from research.errors import DataError

        first, last = (pd.Timestamp(d).date() for d in (nyse().first_session, nyse().last_session))
        def show(t: pd.Timestamp) -> str:
            return str(t.date()) if t == t.normalize() else str(t)

        raise DataError(f"the dates {show(lo)} to {show(hi)} reach outside the NYSE calendar flowbt uses ({first} to {last}): "
                        "give dates within it (a typing error in the year?).") from None
    return pd.DatetimeIndex(s.tz_localize(None) if s.tz is not None else s, name="date")


def decision_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Decision time of each session: its close, tz-naive New York time.

    A weight decided at a session uses only data whose `available_at` is at or before this time, and trades
    at the next fill. Dates that are not NYSE sessions (e.g. a synthetic calendar) fall back to 16:00.
    """
    idx = pd.DatetimeIndex(index).normalize()
    _, close_local = session_table()
    out = close_local.reindex(idx)
    fallback = pd.Series(idx + pd.Timedelta(hours=16), index=idx)
    return pd.DatetimeIndex(out.fillna(fallback).to_numpy(), name="decision_time")
