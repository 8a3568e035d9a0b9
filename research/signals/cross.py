"""Cross-sectional signals: rank, top-n / bottom-n selection, and breadth (how many entities net sold)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.signals import nb
from research.signals._frames import Param, as_array, batch, to_frame


def cs_rank(x: pd.DataFrame, ascending: bool = True, pct: bool = False) -> pd.DataFrame:
    """Rank of each entity among the row's valid entities: 1..n (or rank / n with `pct`), NaN where x is NaN.

    Ordinal ranks: among equal values the leftmost column ranks first, whatever the direction (pandas
    `rank(axis=1, method="first")`), so ranks are distinct and deterministic.
    """
    out = nb.cs_rank_nb(as_array(x, "cs_rank: x"), bool(ascending))
    if pct:
        out = out / np.sum(~np.isnan(out), axis=1, keepdims=True).clip(min=1)
    return pd.DataFrame(out, index=x.index, columns=x.columns)


def _select(x: pd.DataFrame, n: Param, largest: bool, name: str) -> pd.DataFrame:
    b = batch(n=n)
    return to_frame(nb.select_nb(as_array(x, f"{name}: x"), b.ints("n", 0), largest), x, b)


def top_n(x: pd.DataFrame, n: Param) -> pd.DataFrame:
    """True for the n largest valid entities of each row (all valid ones when fewer than n); NaN is never picked.

    Ties go to the leftmost column, consistent with `cs_rank(x, ascending=False) <= n`. A sequence of n gives
    a batch frame with columns (n, entity).
    """
    return _select(x, n, True, "top_n")


def bottom_n(x: pd.DataFrame, n: Param) -> pd.DataFrame:
    """True for the n smallest valid entities of each row; ties go to the leftmost column (see `top_n`)."""
    return _select(x, n, False, "bottom_n")


def breadth(
    x: pd.DataFrame,
    threshold: Param = 0.0,
    *,
    side: Literal["below", "above"] = "below",
    fraction: bool = False,
) -> pd.Series | pd.DataFrame:
    """How many valid entities are below (default: net sold, x < 0) or above the threshold, per row.

    `fraction` divides by the number of valid entities. NaN where no entity is valid. A scalar threshold gives
    a Series; a sequence gives a DataFrame with one column per threshold.
    """
    if side not in ("below", "above"):
        raise ConfigError(f"breadth: side must be 'below' or 'above', not {side!r}.")
    b = batch(threshold=threshold)
    thresholds = b.floats("threshold")
    arr = as_array(x, "breadth: x")
    if side == "above":  # x > thr  <=>  -x < -thr
        arr, thresholds = -arr, -thresholds
    counts, valid = nb.breadth_nb(arr, thresholds)
    if fraction:
        counts = counts / valid
    if not b.names:
        return pd.Series(counts[0], index=x.index, name=f"breadth_{side}")
    return pd.DataFrame(counts.T, index=x.index, columns=pd.Index(b.keys, name="threshold"))
