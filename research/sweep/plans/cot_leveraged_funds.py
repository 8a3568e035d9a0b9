"""Plan of `cot_leveraged_funds`: SPY at short / base / long weight by leveraged funds' E-mini percentile.

Batched once per distinct (how, window, min_weeks): the standardised net position (`standardise`, the
strategy's own function), forward-filled, from its first valid Friday-release session (`_realdata.aligned`:
one common start). Per config and decision (no allocation): base_weight, short_weight where the score is
<= low, long_weight where it is >= high (the later assignment wins, as in the strategy).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.data.universe import MARKET
from research.errors import ConfigError
from research.observe import cot_observations
from research.signals import standardise
from research.sweep import nb as core
from research.sweep.plans import Plan, codes
from research.sweep.plans._realdata import aligned


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        low, high = float(p["low"]), float(p["high"])
        if not 0.0 <= low < high <= 1.0:
            raise ConfigError(f"cot_leveraged_funds: need 0 <= low < high <= 1, got low={low}, high={high}")
        if p["how"] not in ("percentile", "zscore"):
            raise ConfigError(f"cot_leveraged_funds: how must be 'percentile' or 'zscore', not {p['how']!r}")
    keys, key_idx = codes([(p["how"], int(p["window"]), int(p["min_weeks"])) for p in params], "signal")
    net = cot_observations(data, "lev_money_net_pct_oi", [MARKET])

    def score_of(key):
        how, window, min_weeks = key
        score = standardise(net, how, window, min_weeks)[MARKET].ffill()
        return score[score.first_valid_index():].to_frame() if score.notna().any() else score.iloc[:0].to_frame()

    dates, scores = aligned("cot_leveraged_funds", keys, score_of)
    arrays = (np.ascontiguousarray(scores[:, :, 0]),)
    ints = np.asarray(key_idx, dtype=np.int64).reshape(-1, 1)
    floats = np.array([[float(p["low"]), float(p["high"]), float(p["short_weight"]), float(p["base_weight"]),
                        float(p["long_weight"])] for p in params], dtype=np.float64).reshape(-1, 5)
    return Plan("cot_leveraged_funds", params, dates.rename("date"), [MARKET], arrays, ints, floats,
                module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    (scores,) = a
    x = scores[ci[0]]
    low, high, short_w, base_w, long_w = cf[0], cf[1], cf[2], cf[3], cf[4]
    for k in range(out.shape[0]):
        v = x[k]
        e = base_w
        if v <= low:
            e = short_w
        if v >= high:
            e = long_w
        out[k, 0] = e


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
