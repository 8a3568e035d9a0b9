"""Shared pieces of the real-data plans (cot_leveraged_funds, cot_sector_positioning, vix_positioning).

Their signals are CFTC positioning percentiles (or z-scores through the normal CDF) on the Friday-release
sessions, standardised over each column's own reported weeks (`research.signals.standardise`). They are
computed once per distinct signal parameter set with the strategy's own pandas functions (a handful of calls
per sweep; the weekly series are a few hundred rows), and the weights of a config start at the first session
with a score: every config of one plan must share that start (the sweep replays one schedule), as the generic
path requires too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from research.errors import ConfigError


def aligned(name: str, keys: list[Any], score_of: Callable[[Any], pd.DataFrame]) -> tuple[pd.DatetimeIndex,
                                                                                         np.ndarray]:
    """(common dates, scores (S, K, n)) of each signal key; scores start at their first valid row."""
    frames = [score_of(k) for k in keys]
    starts = {f.index[0] if len(f) else None for f in frames}
    if None in starts:
        raise ConfigError(f"{name}: some configs have no score on these data; nothing to sweep.")
    if len(starts) > 1 or len({len(f) for f in frames}) > 1:
        raise ConfigError(f"{name}: these configs start on different dates ({sorted(starts)}), so they do not "
                          "share one schedule; sweep them in groups with the same window / min_weeks.")
    dates = pd.DatetimeIndex(frames[0].index)
    out = np.stack([f.to_numpy(dtype=float) for f in frames])
    return dates, np.ascontiguousarray(out)
