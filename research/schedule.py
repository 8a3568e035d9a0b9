"""Rebalance schedules: which sessions a strategy decides on."""

from __future__ import annotations

import pandas as pd


def weekly(index: pd.DatetimeIndex, weekday: int = 1) -> pd.DatetimeIndex:
    """The first session of each week on or after `weekday` (0=Monday; default Tuesday, when the book is public).

    A week whose sessions all fall before `weekday` (e.g. a short holiday week) uses its last session.
    """
    idx = pd.DatetimeIndex(index)
    frame = pd.DataFrame({"d": idx, "wk": idx.to_period("W-SUN"), "ok": idx.weekday >= weekday})
    chosen = []
    for _, g in frame.groupby("wk", sort=True):
        hit = g.loc[g["ok"], "d"]
        chosen.append(hit.iloc[0] if len(hit) else g["d"].iloc[-1])
    return pd.DatetimeIndex(chosen, name=idx.name)


def monthly(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The last session of each month."""
    idx = pd.DatetimeIndex(index)
    return pd.DatetimeIndex(pd.Series(idx, index=idx).groupby(idx.to_period("M")).last().to_numpy(), name=idx.name)
