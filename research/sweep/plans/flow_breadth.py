"""Plan of `flow_breadth`: SPY at off_weight while broad net selling is broadening, else 1, fused.

Batched once: the fraction of reported sectors net sold on each observed week of net_flow (`breadth_nb`), and
its EWMA (`ewma_nb`) for each distinct span. Per config and week (no allocation): off where the smoothed
fraction is >= threshold and above its value `trend_weeks` weeks earlier; exposure off * (off_weight - 1) + 1
as the strategy computes it; carried to decisions (`on_decisions`, 0 before the first observed week).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.data.universe import MARKET
from research.errors import ConfigError
from research.observe import decisions, observed, sector_obs
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    (flow,) = observed(sector_obs(data, "net_flow"))
    for p in params:
        if float(p["span"]) < 1 or int(p["trend_weeks"]) < 0:
            raise ConfigError(f"flow_breadth: span must be >= 1 and trend_weeks >= 0; got {p}.")
    counts, valid = snb.breadth_nb(np.ascontiguousarray(flow.to_numpy(dtype=float)), np.zeros(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        sold = np.ascontiguousarray((counts / valid)[0][:, None])  # breadth(..., fraction=True)
    spans, span_idx = codes([float(p["span"]) for p in params], "span")
    alphas = 2.0 / (np.array(spans, dtype=np.float64) + 1.0)
    smooth = np.ascontiguousarray(snb.ewma_nb(sold, alphas, np.ones(len(spans), dtype=np.int64))[:, :, 0])
    dates = decisions(data)
    arrays = (smooth, decision_map(flow.index, dates))
    ints = np.array([[span_idx[i], int(p["trend_weeks"])] for i, p in enumerate(params)],
                    dtype=np.int64).reshape(-1, 2)
    floats = np.array([[float(p["threshold"]), float(p["off_weight"])] for p in params],
                      dtype=np.float64).reshape(-1, 2)
    return Plan("flow_breadth", params, dates, [MARKET], arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    smooth, obs_map = a
    n_dec = out.shape[0]
    si, lag = ci[0], ci[1]
    thr, ow = cf[0], cf[1]
    x = smooth[si]
    for k in range(n_dec):
        w = obs_map[k]
        if w < 0:
            out[k, 0] = 0.0
            continue
        off = 0.0
        if w >= lag and x[w] >= thr and x[w] - x[w - lag] > 0.0:
            off = 1.0
        out[k, 0] = off * (ow - 1.0) + 1.0


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
