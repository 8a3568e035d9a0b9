"""Shared plan of the z-score long/short sector books (sector_flow_momentum, fade_most_short_sectors).

Both strategies z-score a `weeks`-week rolling sum of a weekly sector series over `window` weeks and hold the
top n long / bottom n short, equal weight, dollar-neutral, gross 1. Batched once: the rolling sum per
distinct `weeks` (pandas, as the strategy) and `zscore_nb` per distinct (weeks, window) pair; per config and
week: `select_row_nb` top / bottom n and `weights_row_nb` (equal, long-short, net 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange

from research.data.market import MarketData
from research.errors import ConfigError
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map
from strategies._common import SECTOR_TICKERS, decisions, priced


def prepare_zbook(name: str, module: str, data: MarketData, series: pd.DataFrame,
                  params: list[dict[str, Any]]) -> Plan:
    """`series`: the strategy's weekly input on observed weeks (columns = sector tickers)."""
    for p in params:
        if int(p["weeks"]) < 1 or int(p["window"]) < 1 or int(p["n"]) < 0:
            raise ConfigError(f"{name}: weeks and window must be >= 1 and n >= 0; got {p}.")
    pairs, pair_idx = codes([(int(p["weeks"]), int(p["window"])) for p in params], "z")
    live = priced(data, series.index, SECTOR_TICKERS).to_numpy()
    z = np.empty((len(pairs), len(series), len(SECTOR_TICKERS)))
    sums: dict[int, np.ndarray] = {}
    for i, (weeks, window) in enumerate(pairs):
        if weeks not in sums:
            sums[weeks] = np.ascontiguousarray(
                series.rolling(weeks, min_periods=weeks).sum().to_numpy(dtype=float))
        w = np.array([window], dtype=np.int64)
        z[i] = snb.zscore_nb(sums[weeks], w, w.copy())[0]
    z[:, ~live] = np.nan
    dates = decisions(data)
    arrays = (z, decision_map(series.index, dates))
    ints = np.array([[pair_idx[i], int(p["n"])] for i, p in enumerate(params)], dtype=np.int64).reshape(-1, 2)
    floats = np.zeros((len(params), 1))
    return Plan(name, params, dates, list(SECTOR_TICKERS), arrays, ints, floats, module=module)


@njit(cache=True)
def rows_nb(a, ci, cf, out):
    z, obs_map = a
    n_dec, m = out.shape
    zi, n = ci[0], ci[1]
    top = np.zeros(m, dtype=np.bool_)
    bottom = np.zeros(m, dtype=np.bool_)
    side = np.empty(m)
    mask = np.zeros(m, dtype=np.bool_)
    vol = np.ones(m)
    for k in range(n_dec):
        row = out[k]
        w = obs_map[k]
        if w < 0:
            row[:] = 0.0
            continue
        zr = z[zi, w]
        snb.select_row_nb(zr, n, True, top)
        snb.select_row_nb(zr, n, False, bottom)
        for j in range(m):
            side[j] = (1.0 if top[j] else 0.0) - (1.0 if bottom[j] else 0.0)
            mask[j] = side[j] != 0.0
        snb.weights_row_nb(side, mask, vol, snb.EQUAL, 1.0, 0.0, True, row)


@njit(cache=True, parallel=True)
def sweep_nb(mk, a, ints, floats, slots, acc, seg, ret):
    n_dec, m = mk.no_price.shape
    for c in prange(ints.shape[0]):
        w = np.empty((n_dec, m))
        rows_nb(a, ints[c], floats[c], w)
        core.simulate_nb(mk, w, acc[c], seg[c], ret, slots[c])


@njit(cache=True)
def weights_nb(a, ci, cf, n_dec, m):
    out = np.empty((n_dec, m))
    rows_nb(a, ci, cf, out)
    return out
