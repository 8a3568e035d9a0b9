"""Trailing-window signals: percentile rank, z-score and EWMA, each batched over its parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.signals import nb
from research.signals._frames import Batch, Param, as_array, batch, to_frame

#: Periods per year of the weekly frames: windows of 1, 3 and 5 years are 52, 156 and 260 periods.
WEEKS_PER_YEAR = 52


def _windows(b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """(windows, min_counts) of a batch; a missing min_count means the full window."""
    windows = b.ints("window", 1)
    if b.raw["min_count"][0] is None:
        return windows, windows.copy()
    min_counts = b.ints("min_count", 1)
    if np.any(min_counts > windows):
        raise ConfigError(f"min_count must not exceed window; got windows {windows.tolist()} "
                          f"and min_count {min_counts.tolist()} (the result would be all NaN).")
    return windows, min_counts


def pct_rank(x: pd.DataFrame, window: Param, min_count: Param | None = None) -> pd.DataFrame:
    """Trailing percentile rank: the fraction of the window's valid values (current included) that are <= x[t].

    The window is the last `window` periods including t (52 / 156 / 260 for 1 / 3 / 5 years of weeks). Values
    lie in (0, 1]; the window's maximum scores 1. NaN where x[t] is NaN or the window holds fewer than
    `min_count` valid values (default: the whole window). Sequences are zipped into a batch.
    """
    b = batch(window=window, min_count=min_count)
    windows, min_counts = _windows(b)
    return to_frame(nb.pct_rank_nb(as_array(x, "pct_rank: x"), windows, min_counts), x, b)


def zscore(x: pd.DataFrame, window: Param, min_count: Param | None = None) -> pd.DataFrame:
    """Trailing z-score (x[t] - mean) / std over the valid values of the last `window` periods, t included.

    std is the sample std (ddof = 1). NaN where x[t] is NaN, fewer than max(min_count, 2) values are valid
    (min_count defaults to the whole window), or every valid value in the window is equal.
    """
    b = batch(window=window, min_count=min_count)
    windows, min_counts = _windows(b)
    return to_frame(nb.zscore_nb(as_array(x, "zscore: x"), windows, min_counts), x, b)


def ewma(
    x: pd.DataFrame,
    span: Param | None = None,
    *,
    halflife: Param | None = None,
    alpha: Param | None = None,
    min_count: Param = 1,
) -> pd.DataFrame:
    """Exponentially weighted moving average, the recursive form: avg += alpha * (x[t] - avg).

    Give exactly one of span (alpha = 2 / (span + 1), span >= 1), halflife (alpha = 1 - 2 ** (-1 / halflife))
    or alpha in (0, 1]. Matches pandas `ewm(..., adjust=False, ignore_na=True).mean()`: NaN is skipped (no
    update, no decay) and the output there carries the last average. NaN until `min_count` valid values.
    """
    given = {k: v for k, v in {"span": span, "halflife": halflife, "alpha": alpha}.items() if v is not None}
    if len(given) != 1:
        raise ConfigError(f"ewma needs exactly one of span, halflife, alpha; got {sorted(given) or 'none'}.")
    (kind, value), = given.items()
    b = batch(**{kind: value}, min_count=min_count)
    p = b.floats(kind)
    if kind == "span":
        if np.any(p < 1):
            raise ConfigError(f"span must be >= 1; got {p.tolist()}.")
        alphas = 2.0 / (p + 1.0)
    elif kind == "halflife":
        if np.any(p <= 0):
            raise ConfigError(f"halflife must be > 0; got {p.tolist()}.")
        alphas = 1.0 - np.exp(-np.log(2.0) / p)
    else:
        if np.any((p <= 0) | (p > 1)):
            raise ConfigError(f"alpha must be in (0, 1]; got {p.tolist()}.")
        alphas = p
    out = nb.ewma_nb(as_array(x, "ewma: x"), alphas, b.ints("min_count", 1))
    return to_frame(out, x, b)


def standardise(x: pd.DataFrame, how: str, window: int, min_weeks: int) -> pd.DataFrame:
    """Each column against its own history, over its reported rows only (NaN rows skipped, not filled):
    `how` = "percentile" is `pct_rank` in [0, 1], "zscore" is `zscore` mapped through the normal CDF."""
    if how == "percentile":
        return x.apply(lambda c: pct_rank(c.dropna().to_frame(), window, min_count=min_weeks).iloc[:, 0]
                       .reindex(c.index))
    if how == "zscore":
        from scipy.stats import norm

        z = x.apply(lambda c: zscore(c.dropna().to_frame(), window, min_count=min_weeks).iloc[:, 0]
                    .reindex(c.index))
        return pd.DataFrame(norm.cdf(z), index=z.index, columns=z.columns).where(z.notna())
    raise ConfigError(f"how must be 'percentile' or 'zscore', not {how!r}")
