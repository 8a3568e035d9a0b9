"""Plan of `vix_positioning`: SPY at risk_off_weight when short-vol positioning is crowded in a calm VIX.

Batched once per distinct (window, min_weeks): the percentile of leveraged funds' VIX net position
(`research.signals.standardise`, as the strategy computes it), forward-filled, from its first valid Friday-release session
(`_realdata.aligned`: one common start), and the VIX close on those sessions. Per config and decision (no
allocation): risk_off_weight where percentile <= crowded_pct and VIX < vix_calm, else 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.data.universe import MARKET, VIX
from research.observe import cot_observations
from research.signals import standardise
from research.sweep import nb as core
from research.sweep.plans import Plan, codes
from research.sweep.plans._realdata import aligned


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    keys, key_idx = codes([(int(p["window"]), int(p["min_weeks"])) for p in params], "signal")
    net = cot_observations(data, "lev_money_net_pct_oi", [VIX])

    def score_of(key):
        window, min_weeks = key
        pct = standardise(net, "percentile", window, min_weeks)[VIX].ffill()
        return pct[pct.first_valid_index():].to_frame() if pct.notna().any() else pct.iloc[:0].to_frame()

    dates, pct = aligned("vix_positioning", keys, score_of)
    vix = np.ascontiguousarray(data.prices.close[VIX].reindex(dates).to_numpy(dtype=float))
    arrays = (np.ascontiguousarray(pct[:, :, 0]), vix)
    ints = np.asarray(key_idx, dtype=np.int64).reshape(-1, 1)
    floats = np.array([[float(p["crowded_pct"]), float(p["vix_calm"]), float(p["risk_off_weight"])]
                       for p in params], dtype=np.float64).reshape(-1, 3)
    return Plan("vix_positioning", params, dates.rename("date"), [MARKET], arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    pct, vix = a
    x = pct[ci[0]]
    crowded, calm, off = cf[0], cf[1], cf[2]
    for k in range(out.shape[0]):
        out[k, 0] = off if x[k] <= crowded and vix[k] < calm else 1.0


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
