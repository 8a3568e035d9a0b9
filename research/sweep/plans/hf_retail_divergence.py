"""Plan of `hf_retail_divergence`: the dollar-neutral book of hedge-fund / retail divergence sides, fused.

Batched once per distinct `smooth`: the EWMA of both flows (`ewma_nb`, span = smooth; raw at 1) and their
divergence streak (`divergence_1d_nb`), on the observed weeks of (net_flow, retail_flow). Per config and
observed week (no allocation): side +1 / -1 where the streak is >= min_weeks / <= -min_weeks, the latest
non-zero side within `hold` weeks (`carry`), then `neutral_book`: the sides of the priced sectors minus their
mean (an exact sum of +-1), |x| < 1e-12 set to 0, proportional, gross 1, net 0; carried to decisions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS, decisions, observed, priced, sector_obs
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        if int(p["hold"]) < 1 or float(p["smooth"]) < 1:
            raise ConfigError(f"hf_retail_divergence: hold and smooth must be >= 1; got {p}.")
    hf, retail = observed(sector_obs(data, "net_flow"), sector_obs(data, "retail_flow"))
    a = np.ascontiguousarray(hf.to_numpy(dtype=float))
    b = np.ascontiguousarray(retail.to_numpy(dtype=float))
    smooths, sm_idx = codes([p["smooth"] for p in params], "smooth")
    streaks = np.empty((len(smooths), *a.shape))
    ones = np.ones(1, dtype=np.int64)
    for i, s in enumerate(smooths):
        if s > 1:
            alpha = 2.0 / (np.array([float(s)]) + 1.0)
            x, y = snb.ewma_nb(a, alpha, ones)[0], snb.ewma_nb(b, alpha, ones)[0]
        else:
            x, y = a, b
        streaks[i] = snb.divergence_nb(np.ascontiguousarray(x), np.ascontiguousarray(y))
    dates = decisions(data)
    arrays = (
        streaks,
        np.ascontiguousarray(priced(data, hf.index, SECTOR_TICKERS).to_numpy()),
        decision_map(hf.index, dates),
    )
    ints = np.array([[sm_idx[i], int(p["min_weeks"]), int(p["hold"])] for i, p in enumerate(params)],
                    dtype=np.int64).reshape(-1, 3)
    floats = np.zeros((len(params), 1))
    return Plan("hf_retail_divergence", params, dates, list(SECTOR_TICKERS), arrays, ints, floats,
                module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    streaks, live_obs, obs_map = a
    n_dec, m = out.shape
    x = streaks[ci[0]]
    mw, hold = ci[1], ci[2]
    last = np.full(m, -(1 << 30), dtype=np.int64)  # latest observed week with a non-zero side
    last_side = np.zeros(m)
    s = np.empty(m)
    vol = np.ones(m)
    seen = -1
    prev = -1
    for k in range(n_dec):
        row = out[k]
        w = obs_map[k]
        if w < 0:
            row[:] = 0.0
            continue
        if w == prev:  # a repeated week keeps last week's book
            row[:] = out[k - 1]
            continue
        prev = w
        while seen < w:
            seen += 1
            for j in range(m):
                v = x[seen, j]
                side = (1.0 if v >= mw else 0.0) - (1.0 if v <= -mw else 0.0)
                if side != 0.0:
                    last[j] = seen
                    last_side[j] = side
        total = 0.0
        count = 0
        for j in range(m):
            if live_obs[w, j]:
                s[j] = last_side[j] if w - last[j] < hold else 0.0
                total += s[j]
                count += 1
            else:
                s[j] = np.nan
        mean = total / count if count > 0 else np.nan
        for j in range(m):
            d = s[j] - mean
            s[j] = 0.0 if abs(d) < 1e-12 else d
        snb.weights_row_nb(s, live_obs[w], vol, snb.PROPORTIONAL, 1.0, 0.0, True, row)


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
