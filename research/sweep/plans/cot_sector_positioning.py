"""Plan of `cot_sector_positioning`: the equal-weight sector book tilted by leveraged funds' sector positioning.

Batched once per distinct (window, min_weeks, stale_weeks): each sector future's net-position percentile
carried `stale_weeks` (`research.positioning.sector_positioning`, the strategy's own function) on the
Friday-release sessions from the first with a score (`_realdata.aligned`: one common start). Per config and decision (no allocation): the
multiplier 1, 1 + tilt where the percentile is <= low, 1 - tilt where it is >= high (the later mask wins), 0
where unpriced, divided by the row's sum, 0 where that is NaN. pandas sums the row with NumPy's pairwise
summation (the frame's rows are contiguous), so `pairwise_sum_nb` repeats it: with a tilt such as 0.1 the
order of the additions shows in the last bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS
from research.positioning import sector_positioning
from research.sweep import nb as core
from research.sweep.plans import Plan, codes
from research.sweep.plans._realdata import aligned


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        if not 0.0 <= float(p["tilt"]) <= 1.0:
            raise ConfigError(f"cot_sector_positioning: tilt must be in [0, 1], got {p['tilt']}")
    keys, key_idx = codes([(int(p["window"]), int(p["min_weeks"]), int(p["stale_weeks"])) for p in params],
                          "signal")
    dates, scores = aligned("cot_sector_positioning", keys, lambda key: sector_positioning(data, *key))
    live = np.ascontiguousarray(data.prices.close.loc[dates, SECTOR_TICKERS].notna().to_numpy())
    arrays = (scores, live)
    ints = np.asarray(key_idx, dtype=np.int64).reshape(-1, 1)
    floats = np.array([[float(p["low"]), float(p["high"]), 1.0 + float(p["tilt"]), 1.0 - float(p["tilt"])]
                       for p in params], dtype=np.float64).reshape(-1, 4)
    return Plan("cot_sector_positioning", params, dates.rename("date"), list(SECTOR_TICKERS), arrays, ints,
                floats, module=__name__)


@njit(cache=True, inline="always")
def pairwise_sum_nb(a):
    """NumPy's `pairwise_sum` of a contiguous run of at most 128 values (what `a.sum()` adds, in its order)."""
    n = a.shape[0]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - n % 8:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    scores, live = a
    x = scores[ci[0]]
    n_dec, m = out.shape
    low, high, up, down = cf[0], cf[1], cf[2], cf[3]
    for k in range(n_dec):
        for j in range(m):
            v = x[k, j]
            r = 1.0
            if v <= low:
                r = up
            if v >= high:
                r = down
            if not live[k, j]:
                r = 0.0
            out[k, j] = r
        total = pairwise_sum_nb(out[k])
        for j in range(m):
            w = out[k, j] / total
            out[k, j] = 0.0 if w != w else w


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
