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
from research.observe import SECTOR_TICKERS, decisions, priced
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map


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


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    """The weights of config (ci, cf) at every decision into `out` (K, m), as the strategy's weights().

    Per decision: the valid z-scores of the week, the top n long and the bottom n short (`core.select_nb`,
    select_row_nb's choice; a sector in both is not held), then `weights_row_nb`'s EQUAL long-short book with
    gross 1 and net 0 written out: long L, short S names; both sides: net clip(1 (L - S) / (L + S), -0, 0),
    long book (1 + net) / 2 over L, short book (1 - net) / 2 over S; one side only: its book min(1, 0) = 0.
    """
    z, obs_map = a
    n_dec, m = out.shape
    zi, n = ci[0], ci[1]
    cand = np.zeros(m, dtype=np.int64)
    val = np.zeros(m)
    top = np.zeros(m, dtype=np.bool_)
    bottom = np.zeros(m, dtype=np.bool_)
    for k in range(n_dec):
        for j in range(m):
            out[k, j] = 0.0
        w = obs_map[k]
        if w < 0:
            continue
        n_cand = 0
        for j in range(m):
            v = z[zi, w, j]
            if v == v:
                cand[n_cand] = j
                val[n_cand] = v
                n_cand += 1
        core.select_nb(val, n_cand, n, True, top)
        core.select_nb(val, n_cand, n, False, bottom)
        long_sum = 0.0
        short_sum = 0.0
        for c in range(n_cand):
            if top[c] and not bottom[c]:
                long_sum += 1.0
            elif bottom[c] and not top[c]:
                short_sum += 1.0
        if long_sum == 0.0 and short_sum == 0.0:
            continue
        if short_sum == 0.0:
            long_book = min(1.0, 0.0)
            short_book = 0.0
        elif long_sum == 0.0:
            long_book = 0.0
            short_book = min(1.0, 0.0)
        else:
            net = min(max(1.0 * (long_sum - short_sum) / (long_sum + short_sum), -0.0), 0.0)
            long_book = (1.0 + net) / 2.0
            short_book = (1.0 - net) / 2.0
        for c in range(n_cand):
            if top[c] and not bottom[c]:
                out[k, cand[c]] = 1.0 * (long_book / long_sum)
            elif bottom[c] and not top[c]:
                out[k, cand[c]] = -1.0 * (short_book / short_sum)


@njit(cache=True)
def weights_nb(a, ci, cf, n_dec, m):
    out = np.empty((n_dec, m))
    rows_nb(a, ci, cf, out)
    return out


@njit(cache=True, parallel=True)
def rows_many_nb(a, ints, floats, todo, wbuf, keys):
    """The weights of configs `todo` into wbuf[t] and their fingerprints (`core.fingerprint_nb`) into keys[t]."""
    for t in prange(todo.shape[0]):
        c = todo[t]
        rows_nb(a, ints[c], floats[c], wbuf[t])
        core.fingerprint_nb(wbuf[t], keys[t])


@njit(cache=True, parallel=True)
def sweep_nb(a, ints, floats, order, mk, acc, seg, ret, slots, lane_rets, lane_ckpt, lane_w):
    """Configs `order` without a batch buffer (`research.sweep.executors.fused_configs`): a lane per thread takes
    every n-th chunk of `core.CHUNK` configs and simulates each config as soon as its weights are written,
    resuming after the lane's previous config (also from one of its chunks to the next: a chunk apart in the
    plan's order, configs still share their first rows often)."""
    lanes = lane_rets.shape[0]
    n = order.shape[0]
    n_fills = core.fills_nb(mk)
    for lane in prange(lanes):
        cur = 0  # lane_w[lane, cur]: this config's weights; lane_w[lane, 1 - cur]: the lane's previous config's
        for lo in range(lane * core.CHUNK, n, lanes * core.CHUNK):
            for t in range(lo, min(lo + core.CHUNK, n)):
                c = order[t]
                w = lane_w[lane, cur]
                rows_nb(a, ints[c], floats[c], w)
                k0 = core.resume_point_nb(w, lane_w[lane, 1 - cur], n_fills) if t > lane * core.CHUNK else 0
                core.simulate_nb(mk, w, acc[c], seg[c], ret, slots[c], lane_rets[lane], lane_ckpt[lane], k0)
                cur = 1 - cur
