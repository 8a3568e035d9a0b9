"""Numba kernels of the benchmarks: the minimal reference loop and a driver over given weights.

`minimal_nb` is the yardstick of issue 9, "a minimal numba loop over the same data": given target weights,
size every asset at each fill (w V / P - n, no costs, no order sequence), mark every session, and keep the sum
and sum of squares of the daily returns. It is what a loop over these arrays costs with nothing else to do;
the fused kernel does the engine's whole execution and every metric on top.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from research.sweep import nb as core


@njit(cache=True, error_model="numpy")
def minimal_one_nb(close: np.ndarray, fill: np.ndarray, dec_rows: np.ndarray, w: np.ndarray) -> float:
    """Sharpe-like number of one weights matrix (K, m) on NaN-free close / fill prices (n, m)."""
    n, m = close.shape
    pos = np.zeros(m)
    cash = 1e6
    prev = 1e6
    s1 = 0.0
    s2 = 0.0
    k = 0
    next_fill = dec_rows[0] + 1
    for i in range(n):
        if i == next_fill:
            value = cash
            for j in range(m):
                value += pos[j] * fill[i, j]
            for j in range(m):
                p = fill[i, j]
                if p > 0.0:
                    d = w[k, j] * value / p - pos[j]
                    cash -= d * p
                    pos[j] += d
            k += 1
            next_fill = dec_rows[k] + 1 if k < dec_rows.shape[0] else -1
        equity = cash
        for j in range(m):
            equity += pos[j] * close[i, j]
        r = equity / prev - 1.0
        prev = equity
        s1 += r
        s2 += r * r
    return s1 / np.sqrt(s2)


@njit(cache=True, parallel=True)
def minimal_nb(close: np.ndarray, fill: np.ndarray, dec_rows: np.ndarray, weights: np.ndarray, n_configs: int,
               out: np.ndarray) -> None:
    """`minimal_one_nb` for n_configs configs (cycling through the weights given, (C, K, m)) in prange."""
    for c in prange(n_configs):
        out[c] = minimal_one_nb(close, fill, dec_rows, weights[c % weights.shape[0]])


@njit(cache=True, parallel=True)
def simulate_many_nb(mk: core.Market, weights: np.ndarray, n_configs: int, acc: np.ndarray) -> None:
    """The fused core (`research.sweep.nb.simulate_nb`) on given weights (C, K, m), n_configs configs."""
    seg = np.zeros((n_configs, 1, core.N_SEG))
    ret = np.zeros((0, mk.close.shape[0]))
    n_sessions, m = mk.last_close.shape
    n_ckpt = mk.dec_rows.shape[0] // core.CK_STRIDE + 1
    for c in prange(n_configs):  # every config from its first session (no resuming)
        rets = np.empty(n_sessions)
        ckpt = np.empty((n_ckpt, core.N_CK + m))
        core.simulate_nb(mk, weights[c % weights.shape[0]], acc[c], seg[c], ret, -1, rets, ckpt, 0)
