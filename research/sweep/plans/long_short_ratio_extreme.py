"""Plan of `long_short_ratio_extreme`: SPY at 1 -/+ tilt in the crowded / washed-out regimes, fused.

Batched once: `pct_rank_nb` of the BOOK long/short ratio for each distinct window (observed weeks). Per config
(no allocation): the two hysteresis regimes walked along the observed weeks as `hysteresis_1d_nb` does
(crowded on at pct >= upper, off at <= upper - band; washed out on 1 - pct >= 1 - lower, off at <= 1 - lower -
band, thresholds computed in Python as the strategy does), exposure 1 - tilt * crowded + tilt * washed,
carried to decisions (`on_decisions`, 0 before the first observed week).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.data.universe import MARKET
from research.errors import ConfigError
from research.observe import book_obs, decisions, observed
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    (ratio,) = observed(book_obs(data, "long_short_ratio"))
    rows = []
    for p in params:
        upper, lower, band, tilt = float(p["upper"]), float(p["lower"]), float(p["band"]), float(p["tilt"])
        if int(p["window"]) < 1 or band < 0:
            raise ConfigError(f"long_short_ratio_extreme: window must be >= 1 and band >= 0; got {p}.")
        rows.append([upper, upper - band, 1.0 - lower, 1.0 - lower - band, tilt])
    windows, win_idx = codes([int(p["window"]) for p in params], "window")
    w = np.array(windows, dtype=np.int64)
    pct = np.ascontiguousarray(snb.pct_rank_nb(np.ascontiguousarray(ratio.to_numpy(dtype=float)), w,
                                               w.copy())[:, :, 0])
    dates = decisions(data)
    arrays = (pct, decision_map(ratio.index, dates))
    ints = np.asarray(win_idx, dtype=np.int64).reshape(-1, 1)
    floats = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return Plan("long_short_ratio_extreme", params, dates, [MARKET], arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    pct, obs_map = a
    n_dec = out.shape[0]
    x = pct[ci[0]]
    c_on, c_off, w_on, w_off, tilt = cf[0], cf[1], cf[2], cf[3], cf[4]
    crowded = False
    washed = False
    seen = -1
    expo = 0.0
    for k in range(n_dec):
        w = obs_map[k]
        if w < 0:
            out[k, 0] = 0.0
            continue
        if seen < w:
            while seen < w:
                seen += 1
                v = x[seen]
                if v >= c_on:
                    crowded = True
                elif v <= c_off:
                    crowded = False
                u = 1.0 - v
                if u >= w_on:
                    washed = True
                elif u <= w_off:
                    washed = False
            expo = 1.0 - tilt * (1.0 if crowded else 0.0) + tilt * (1.0 if washed else 0.0)
        out[k, 0] = expo


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
