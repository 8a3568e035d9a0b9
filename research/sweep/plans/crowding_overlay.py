"""Plan of `crowding_overlay`: the equal-weight sector book without the recently crowded sectors, fused.

Batched once per distinct window (`_crowding`): the net-exposure and gross-leverage percentiles on the observed
weeks. Per config and decision (no allocation): the latest crowded week per sector (`_crowding.advance_nb`),
the priced sectors not crowded in the last `hold` weeks at equal weight (`weights_row_nb`), carried to
decisions (`on_decisions`), and the equal weight of the priced sectors when nothing is kept (`equal_when_idle`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS, decisions, priced
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map
from research.sweep.plans._crowding import NEVER, advance_nb, crowding_inputs


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        if int(p["hold"]) < 1 or int(p["window"]) < 1:
            raise ConfigError(f"crowding_overlay: hold and window must be >= 1; got {p}.")
    windows, win_idx = codes([int(p["window"]) for p in params], "window")
    obs, exp_pct, lev_pct = crowding_inputs(data, windows)
    dates = decisions(data)
    arrays = (
        exp_pct,
        lev_pct,
        np.ascontiguousarray(priced(data, obs, SECTOR_TICKERS).to_numpy()),
        decision_map(obs, dates),
        np.ascontiguousarray(priced(data, dates, SECTOR_TICKERS).to_numpy()),
    )
    ints = np.array([[win_idx[i], int(p["hold"])] for i, p in enumerate(params)], dtype=np.int64).reshape(-1, 2)
    floats = np.array([[float(p["exposure_pct"]), float(p["leverage_pct"])] for p in params],
                      dtype=np.float64).reshape(-1, 2)
    return Plan("crowding_overlay", params, dates, list(SECTOR_TICKERS), arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    exp_pct, lev_pct, live_obs, obs_map, live_dec = a
    n_dec, m = out.shape
    wi, hold = ci[0], ci[1]
    ep, lp = cf[0], cf[1]
    xe = exp_pct[wi]
    xl = lev_pct[wi]
    last = np.full(m, NEVER, dtype=np.int64)
    keep = np.zeros(m, dtype=np.bool_)
    score = np.empty(m)
    vol = np.ones(m)
    seen = -1
    for k in range(n_dec):
        row = out[k]
        w = obs_map[k]
        if w < 0:
            row[:] = 0.0
        else:
            seen = advance_nb(xe, xl, ep, lp, seen, w, last)
            for j in range(m):
                keep[j] = live_obs[w, j] and w - last[j] >= hold
                score[j] = 1.0 if keep[j] else 0.0
            snb.weights_row_nb(score, keep, vol, snb.EQUAL, 1.0, np.inf, False, row)
        tot = 0.0
        for j in range(m):
            tot += abs(row[j])
        if tot == 0.0:  # equal_when_idle
            cnt = 0.0
            for j in range(m):
                if live_dec[k, j]:
                    cnt += 1.0
            cnt = max(cnt, 1.0)
            for j in range(m):
                row[j] = (1.0 if live_dec[k, j] else 0.0) / cnt


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
