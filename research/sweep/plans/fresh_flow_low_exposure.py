"""Plan of `fresh_flow_low_exposure`: its weights() per (config, decision week) inside the fused kernel.

Batched once: `fresh_nb` for each distinct (buy_weeks, sell_weeks) and `pct_rank_nb` for each distinct
window, on the observed weeks of net_flow / net_exposure. Per config and week (no allocation): the event
(fresh and percentile < pct_below) carried `hold` weeks (the latest event within hold - 1 rows back, as
`carry`'s ffill(limit)), score 1 - percentile where priced, `select_row_nb` (top_n), `weights_row_nb`
(equal / proportional), carried to decisions (`on_decisions`) and the equal weight when idle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from research.data.market import MarketData
from research.errors import ConfigError
from research.signals import nb as snb
from research.sweep import nb as core
from research.sweep.plans import Plan, codes, decision_map
from strategies._common import SECTOR_TICKERS, decisions, observed, priced, sector_obs

WEIGHTING = {"equal": snb.EQUAL, "signal": snb.PROPORTIONAL}
IDLE = {"equal": 0, "cash": 1}


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    flow, exposure = observed(sector_obs(data, "net_flow"), sector_obs(data, "net_exposure"))
    x_flow = np.ascontiguousarray(flow.to_numpy(dtype=float))
    x_exp = np.ascontiguousarray(exposure.to_numpy(dtype=float))
    for p in params:
        if p["weighting"] not in WEIGHTING or p["idle"] not in IDLE:
            raise ConfigError(f"fresh_flow_low_exposure: weighting must be one of {list(WEIGHTING)} and idle one "
                              f"of {list(IDLE)}; got {p['weighting']!r}, {p['idle']!r}.")
        if int(p["hold"]) < 1 or int(p["top_n"]) < 0 or int(p["buy_weeks"]) < 1 or int(p["sell_weeks"]) < 0:
            raise ConfigError(f"fresh_flow_low_exposure: bad parameters {p}.")
    pairs, pair_idx = codes([(int(p["buy_weeks"]), int(p["sell_weeks"])) for p in params], "fresh")
    windows, win_idx = codes([int(p["window"]) for p in params], "window")
    ks = np.array([a for a, _ in pairs], dtype=np.int64)
    ms = np.array([b for _, b in pairs], dtype=np.int64)
    fresh = snb.fresh_nb(x_flow, ks, ms, np.ones(len(pairs), dtype=np.int64))
    w = np.array(windows, dtype=np.int64)
    pct = snb.pct_rank_nb(x_exp, w, w.copy())
    dates = decisions(data)
    arrays = (
        fresh,
        pct,
        np.ascontiguousarray(priced(data, flow.index, SECTOR_TICKERS).to_numpy()),
        decision_map(flow.index, dates),
        np.ascontiguousarray(priced(data, dates, SECTOR_TICKERS).to_numpy()),
    )
    ints = np.array([[pair_idx[i], win_idx[i], int(p["hold"]), int(p["top_n"]), WEIGHTING[p["weighting"]],
                      IDLE[p["idle"]]] for i, p in enumerate(params)], dtype=np.int64).reshape(len(params), 6)
    floats = np.array([[float(p["pct_below"])] for p in params], dtype=np.float64).reshape(len(params), 1)
    return Plan("fresh_flow_low_exposure", params, dates, list(SECTOR_TICKERS), arrays, ints, floats,
                module=__name__)


@njit(cache=True)
def rows_nb(a, ci, cf, out):
    """The weights of config (ci, cf) at every decision into `out` (K, m).

    One pass over the observed weeks keeps, per sector, the latest week with an event; a sector scores
    1 - percentile of that week while it is at most hold - 1 weeks old (carry's ffill(limit=hold - 1)).
    """
    fresh, pct, live_obs, obs_map, live_dec = a
    n_dec, m = out.shape
    f, wi, hold, top, method, idle = ci[0], ci[1], ci[2], ci[3], ci[4], ci[5]
    below = cf[0]
    score = np.empty(m)
    mask = np.zeros(m, dtype=np.bool_)
    vol = np.ones(m)
    last_event = np.full(m, -(1 << 30), dtype=np.int64)
    seen = -1  # observed weeks folded into last_event so far
    for k in range(n_dec):
        row = out[k]
        w = obs_map[k]
        while seen < w:
            seen += 1
            for j in range(m):
                if fresh[f, seen, j] and pct[wi, seen, j] < below:
                    last_event[j] = seen
        if w < 0:
            row[:] = 0.0
        else:
            valid = 0
            for j in range(m):
                e = last_event[j]
                if live_obs[w, j] and w - e < hold:
                    score[j] = 1.0 - pct[wi, e, j]
                    valid += 1
                else:
                    score[j] = np.nan
            if valid == 0:  # nothing held: what select_row_nb + weights_row_nb give, without their work
                row[:] = 0.0
            else:
                if valid <= top:  # every valid sector is selected (select_row_nb's rule), no ranking needed
                    for j in range(m):
                        mask[j] = score[j] == score[j]
                else:
                    snb.select_row_nb(score, top, True, mask)
                snb.weights_row_nb(score, mask, vol, method, 1.0, np.inf, False, row)
        if idle == 0:
            tot = 0.0
            for j in range(m):
                tot += abs(row[j])
            if tot == 0.0:
                cnt = 0.0
                for j in range(m):
                    if live_dec[k, j]:
                        cnt += 1.0
                cnt = max(cnt, 1.0)
                for j in range(m):
                    row[j] = (1.0 if live_dec[k, j] else 0.0) / cnt


@njit(cache=True, parallel=True)
def sweep_nb(mk, a, ints, floats, slots, acc, seg, ret):
    n_dec, m = mk.no_price.shape
    for c in prange(ints.shape[0]):
        w = np.empty((n_dec, m))
        rows_nb(a, ints[c], floats[c], w)
        core.simulate_nb(mk, w, acc[c], seg[c], ret, slots[c])


@njit(cache=True)
def weights_nb(a, ci, cf, n_dec, m):
    out = np.empty((n_dec, m))
    rows_nb(a, ci, cf, out)
    return out
