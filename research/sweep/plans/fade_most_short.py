"""Plan of `fade_most_short`: +gross/2 HF_VIP, -gross/2 MOST_SHORT, always or `hold` weeks after a squeeze, fused.

Batched once: the log spread MOST_SHORT / HF_VIP at the decision sessions and its change over each distinct
`squeeze_weeks`, and where both baskets are priced. Per config and decision (no allocation): a squeeze where
the change exceeds log1p(squeeze_pct / 100) (computed in Python as the strategy does), on while one happened
in the last `hold` decisions (`recent`) or always, 0 where a basket is unpriced, times gross / 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP
from research.errors import ConfigError
from research.observe import decisions, first_priced
from research.sweep import nb as core
from research.sweep.plans import Plan, codes

VARIANT = {"always": 0, "squeeze": 1}


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        if p["variant"] not in VARIANT:
            raise ConfigError(f"variant must be one of {', '.join(VARIANT)}; got {p['variant']!r}.")
        if int(p["hold"]) < 1:
            raise ConfigError(f"fade_most_short: hold must be >= 1; got {p}.")
    dates = decisions(data)
    dates = dates[dates >= first_priced(data, [BASKET_VIP, BASKET_MOST_SHORT], "fade_most_short")]
    close = data.prices.close.loc[dates, [BASKET_VIP, BASKET_MOST_SHORT]]
    spread = np.log(close[BASKET_MOST_SHORT] / close[BASKET_VIP]).to_numpy(dtype=float)
    lags, lag_idx = codes([int(p["squeeze_weeks"]) for p in params], "squeeze_weeks")
    change = np.full((len(lags), len(spread)), np.nan)
    for i, n in enumerate(lags):  # spread.diff(n)
        if n >= 0:
            change[i, n:] = spread[n:] - spread[:len(spread) - n]
        else:
            change[i, :n] = spread[:n] - spread[-n:]
    live = close.notna().all(axis=1).to_numpy()
    arrays = (change, live)
    ints = np.array([[lag_idx[i], int(p["hold"]), VARIANT[p["variant"]]] for i, p in enumerate(params)],
                    dtype=np.int64).reshape(-1, 3)
    floats = np.array([[float(np.log1p(float(p["squeeze_pct"]) / 100.0)), float(p["gross"]) / 2.0]
                       for p in params], dtype=np.float64).reshape(-1, 2)
    return Plan("fade_most_short", params, dates, [BASKET_VIP, BASKET_MOST_SHORT], arrays, ints, floats,
                module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    change, live = a
    n_dec = out.shape[0]
    x = change[ci[0]]
    hold, squeeze = ci[1], ci[2]
    thr, half = cf[0], cf[1]
    last = -(1 << 30)
    for k in range(n_dec):
        if x[k] > thr:
            last = k
        on = 1.0
        if squeeze == 1:
            on = 1.0 if k - last < hold else 0.0
        if not live[k]:
            on = 0.0
        on = on * half
        out[k, 0] = on
        out[k, 1] = -on


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
