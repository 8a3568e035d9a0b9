"""NYSE sessions, decision times and rebalance schedules."""

from __future__ import annotations

import pandas as pd

from research.data.calendar import decision_times, sessions
from research.schedule import monthly, weekly


def test_sessions_skip_holidays_and_the_911_closure():
    s = sessions("2001-09-07", "2001-09-20")
    assert pd.Timestamp("2001-09-11") not in s and pd.Timestamp("2001-09-17") in s
    assert pd.Timestamp("2020-01-01") not in sessions("2019-12-30", "2020-01-03")
    assert s.tz is None and s.name == "date"


def test_decision_time_is_the_close_including_early_closes():
    t = decision_times(pd.DatetimeIndex(["2020-03-20", "2019-11-29"]))
    assert t[0] == pd.Timestamp("2020-03-20 16:00")
    assert t[1] == pd.Timestamp("2019-11-29 13:00")  # day after Thanksgiving


def test_weekly_takes_tuesday_or_the_next_session():
    s = sessions("2020-01-13", "2020-01-31")
    w = weekly(s)
    assert list(w) == [pd.Timestamp("2020-01-14"), pd.Timestamp("2020-01-21"), pd.Timestamp("2020-01-28")]
    assert set(w) <= set(s)


def test_monthly_takes_the_last_session():
    m = monthly(sessions("2020-01-01", "2020-03-31"))
    assert list(m) == [pd.Timestamp("2020-01-31"), pd.Timestamp("2020-02-28"), pd.Timestamp("2020-03-31")]
