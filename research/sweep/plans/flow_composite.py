"""Plan of `flow_composite`: equal weight plus `tilt` on fresh under-owned sectors, minus crowded ones, fused.

Batched once: on the observed weeks of (net_flow, net_exposure), `fresh_nb` per distinct (buy_weeks,
sell_weeks) and the net-exposure `pct_rank_nb` per distinct window (the fresh_flow_low_exposure event); on the
observed weeks of (net_exposure, gross_leverage), the crowding percentiles per distinct window (`_crowding`).
Per config and decision (no allocation): the latest event and latest crowded week per sector (each on its own
observed weeks, carried to decisions as `on_decisions` does), score 1 + tilt * fresh on priced, uncrowded
sectors, proportional weights (`weights_row_nb`), and the equal weight when nothing is held.
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
from research.sweep.plans._crowding import NEVER, advance_nb, crowding_inputs


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    for p in params:
        if (int(p["fresh_hold"]) < 1 or int(p["crowd_hold"]) < 1 or int(p["window"]) < 1
                or int(p["buy_weeks"]) < 1 or int(p["sell_weeks"]) < 0):
            raise ConfigError(f"flow_composite: bad parameters {p}.")
    flow, exposure = observed(sector_obs(data, "net_flow"), sector_obs(data, "net_exposure"))
    pairs, pair_idx = codes([(int(p["buy_weeks"]), int(p["sell_weeks"])) for p in params], "fresh")
    windows, win_idx = codes([int(p["window"]) for p in params], "window")
    fresh = snb.fresh_nb(np.ascontiguousarray(flow.to_numpy(dtype=float)),
                         np.array([a for a, _ in pairs], dtype=np.int64),
                         np.array([b for _, b in pairs], dtype=np.int64), np.ones(len(pairs), dtype=np.int64))
    w = np.array(windows, dtype=np.int64)
    pct = snb.pct_rank_nb(np.ascontiguousarray(exposure.to_numpy(dtype=float)), w, w.copy())
    crowd_obs, exp_pct, lev_pct = crowding_inputs(data, windows)
    dates = decisions(data)
    arrays = (
        fresh,
        pct,
        decision_map(flow.index, dates),
        exp_pct,
        lev_pct,
        decision_map(crowd_obs, dates),
        np.ascontiguousarray(priced(data, dates, SECTOR_TICKERS).to_numpy()),
    )
    ints = np.array([[pair_idx[i], win_idx[i], int(p["fresh_hold"]), int(p["crowd_hold"])]
                     for i, p in enumerate(params)], dtype=np.int64).reshape(-1, 4)
    floats = np.array([[float(p["pct_below"]), float(p["exposure_pct"]), float(p["leverage_pct"]),
                        float(p["tilt"])] for p in params], dtype=np.float64).reshape(-1, 4)
    return Plan("flow_composite", params, dates, list(SECTOR_TICKERS), arrays, ints, floats, module=__name__)


@njit(cache=True, error_model="numpy")
def rows_nb(a, ci, cf, out):
    fresh, pct, fresh_map, exp_pct, lev_pct, crowd_map, live_dec = a
    n_dec, m = out.shape
    f, wi, fresh_hold, crowd_hold = ci[0], ci[1], ci[2], ci[3]
    below, ep, lp, tilt = cf[0], cf[1], cf[2], cf[3]
    xf = fresh[f]
    xp = pct[wi]
    xe = exp_pct[wi]
    xl = lev_pct[wi]
    last_event = np.full(m, NEVER, dtype=np.int64)
    last_crowd = np.full(m, NEVER, dtype=np.int64)
    score = np.empty(m)
    mask = np.ones(m, dtype=np.bool_)
    vol = np.ones(m)
    seen_f = -1
    seen_c = -1
    for k in range(n_dec):
        row = out[k]
        wf = fresh_map[k]
        wc = crowd_map[k]
        while seen_f < wf:
            seen_f += 1
            for j in range(m):
                if xf[seen_f, j] and xp[seen_f, j] < below:
                    last_event[j] = seen_f
        if wc >= 0:
            seen_c = advance_nb(xe, xl, ep, lp, seen_c, wc, last_crowd)
        for j in range(m):
            is_fresh = 1.0 if wf >= 0 and wf - last_event[j] < fresh_hold else 0.0
            crowd = wc >= 0 and wc - last_crowd[j] < crowd_hold
            score[j] = np.nan if crowd or not live_dec[k, j] else 1.0 + tilt * is_fresh
        snb.weights_row_nb(score, mask, vol, snb.PROPORTIONAL, 1.0, np.inf, False, row)
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
