"""Rebalance schedules: which sessions a strategy decides on."""

from __future__ import annotations

import numpy as np
import pandas as pd


def weekly(index: pd.DatetimeIndex, weekday: int = 1) -> pd.DatetimeIndex:
    """The first session of each week on or after `weekday` (0=Monday; default Tuesday, when the book is public).

    A week whose sessions all fall before `weekday` (e.g. a short holiday week) uses its last session.
    """
    idx = pd.DatetimeIndex(index)
    if len(idx) == 0:
        return idx
    week = idx.to_period("W-SUN").asi8
    ok = idx.weekday >= weekday
    # Per week: the first qualifying session, else the week's last session.
    frame = pd.DataFrame({"week": week, "pos": np.arange(len(idx)), "ok": ok})
    first_ok = frame[frame["ok"]].groupby("week")["pos"].first()
    last = frame.groupby("week")["pos"].last()
    chosen = first_ok.reindex(last.index).fillna(last).astype(int).to_numpy()
    return pd.DatetimeIndex(idx[np.sort(chosen)], name=idx.name)


def monthly(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The last session of each month."""
    idx = pd.DatetimeIndex(index)
    return pd.DatetimeIndex(pd.Series(idx, index=idx).groupby(idx.to_period("M")).last().to_numpy(), name=idx.name)
