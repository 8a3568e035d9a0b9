"""NYSE sessions and decision times from exchange-calendars.

Times are tz-naive New York wall-clock throughout flowbt: a session is a midnight-stamped date and its
decision time is that session's close (16:00, or 13:00 on early-close days).
"""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

EXCHANGE = "XNYS"
TZ = "America/New_York"
_CAL_START = "1990-01-02"


@lru_cache(maxsize=1)
def nyse() -> xcals.ExchangeCalendar:
    """The NYSE calendar (cached; exchange-calendars defaults to 20 years back, so ask for more)."""
    return xcals.get_calendar(EXCHANGE, start=_CAL_START)


def sessions(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions from start to end inclusive, as a tz-naive DatetimeIndex named 'date'."""
    s = nyse().sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))
    return pd.DatetimeIndex(s.tz_localize(None) if s.tz is not None else s, name="date")


def decision_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Decision time of each session: its close, tz-naive New York time.

    A weight decided at a session uses only data whose `available_at` is at or before this time, and trades
    at the next fill. Dates that are not NYSE sessions (e.g. a synthetic calendar) fall back to 16:00.
    """
    idx = pd.DatetimeIndex(index).normalize()
    cal = nyse()
    closes = cal.closes
    naive = closes.index.tz_localize(None) if closes.index.tz is not None else closes.index
    close_local = pd.Series(closes.dt.tz_convert(TZ).dt.tz_localize(None).to_numpy(), index=naive)
    out = close_local.reindex(idx)
    fallback = pd.Series(idx + pd.Timedelta(hours=16), index=idx)
    return pd.DatetimeIndex(out.fillna(fallback).to_numpy(), name="decision_time")
