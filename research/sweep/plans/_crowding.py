"""Shared pieces of the crowding plans (crowding_overlay, flow_composite): batched percentiles and the flags.

`crowding_overlay.crowding` flags a sector on an observed week (of net_exposure and BOOK gross_leverage) where
its net-exposure percentile over `window` weeks is >= exposure_pct and the book's gross-leverage percentile is
>= leverage_pct. Batched once per distinct window: both percentiles (`pct_rank_nb`). Per config, `advance_nb`
folds the observed weeks up to the current one into the latest crowded week per sector, so `recent(flags,
hold)` is `w - last[j] < hold`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from research.data.market import MarketData
from research.observe import book_obs, observed, sector_obs
from research.signals import nb as snb

#: "no crowded week yet" in `last`: far enough back that w - NEVER >= any hold.
NEVER = -(1 << 30)


def crowding_inputs(data: MarketData, windows: list[int]) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """(observed weeks, net-exposure percentiles (W, T, m), gross-leverage percentiles (W, T)) per window."""
    exposure, leverage = observed(sector_obs(data, "net_exposure"), book_obs(data, "gross_leverage"))
    w = np.array(windows, dtype=np.int64)
    exp_pct = snb.pct_rank_nb(np.ascontiguousarray(exposure.to_numpy(dtype=float)), w, w.copy())
    lev_pct = snb.pct_rank_nb(np.ascontiguousarray(leverage.to_numpy(dtype=float)), w, w.copy())[:, :, 0]
    return pd.DatetimeIndex(exposure.index), exp_pct, np.ascontiguousarray(lev_pct)


@njit(cache=True)
def advance_nb(exp_pct, lev_pct, exposure_pct, leverage_pct, seen, w, last):
    """Fold observed weeks seen + 1 .. w into `last` (latest crowded week per sector); returns the new `seen`.

    exp_pct (T, m) and lev_pct (T,) are one window's percentiles.
    """
    while seen < w:
        seen += 1
        if lev_pct[seen] >= leverage_pct:
            for j in range(exp_pct.shape[1]):
                if exp_pct[seen, j] >= exposure_pct:
                    last[j] = seen
    return seen
