"""Plan of `leverage_regime`: SPY exposure 0 / crowded_weight / 1 per (config, observed week), fused.

Batched once: the weekly change of BOOK gross leverage, and `pct_rank_nb` of gross and net leverage for each
distinct window, on the observed weeks of the two series. Per config and week (no allocation): risk-off while
a change <= -drop happened in the last `hold` weeks (`recent`), else crowded_weight while either percentile
is >= crowded_pct, else 1; carried to decisions (`on_decisions`, 0 before the first observed week).
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
    gross, net = observed(book_obs(data, "gross_leverage"), book_obs(data, "net_leverage"))
    for p in params:
        if int(p["hold"]) < 1 or int(p["window"]) < 1:
            raise ConfigError(f"leverage_regime: hold and window must be >= 1; got {p}.")
    g = gross.to_numpy(dtype=float)[:, 0]
    diff = np.full(len(g), np.nan)
    diff[1:] = g[1:] - g[:-1]  # gross.diff()
    x = np.ascontiguousarray(np.column_stack([g, net.to_numpy(dtype=float)[:, 0]]))
    windows, win_idx = codes([int(p["window"]) for p in params], "window")
    w = np.array(windows, dtype=np.int64)
    pct = snb.pct_rank_nb(x, w, w.copy())  # (W, T, 2): gross, net
    dates = decisions(data)
    arrays = (diff, pct, decision_map(gross.index, dates))
    ints = np.array([[win_idx[i], int(p["hold"])] for i, p in enumerate(params)], dtype=np.int64).reshape(-1, 2)
    floats = np.array([[float(p["drop"]), float(p["crowded_pct"]), float(p["crowded_weight"])] for p in params],
                      dtype=np.float64).reshape(-1, 3)
    return Plan("leverage_regime", params, dates, [MARKET], arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    diff, pct, obs_map = a
    n_dec = out.shape[0]
    wi, hold = ci[0], ci[1]
    drop, cpct, cw = cf[0], cf[1], cf[2]
    last = -(1 << 30)  # latest observed week with a sharp de-grossing
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
                if diff[seen] <= -drop:
                    last = seen
            if w - last < hold:
                expo = 0.0
            elif pct[wi, w, 0] >= cpct or pct[wi, w, 1] >= cpct:
                expo = cw
            else:
                expo = 1.0
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
