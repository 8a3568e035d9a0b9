"""Numba kernels of the luck statistics: Hansen's SPA over every config of a sweep, by stationary-bootstrap blocks.

A sweep's verdict tests all its configs at once (often thousands of daily series of 6,500 sessions, 500
resamples): arch's SPA gathers T x K values per resample (about 10 s for 324 configs); here a resample is its
stationary-bootstrap blocks, each summed from per-config prefix sums, so a resample costs (blocks x K).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def prefix_sums_nb(d: np.ndarray) -> np.ndarray:
    """P[t, k] = sum of d[:t, k] (P[0] = 0), the block sums' source."""
    n, k = d.shape
    p = np.zeros((n + 1, k))
    for t in range(n):
        for j in range(k):
            p[t + 1, j] = p[t, j] + d[t, j]
    return p


@njit(cache=True)
def block_means_nb(p: np.ndarray, starts: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """Means of one stationary-bootstrap resample per config: blocks (starts[b], lengths[b]) wrap around the end.

    The lengths sum to n exactly (the last block is cut), so out[k] is the mean of n resampled values.
    """
    n = p.shape[0] - 1
    k = p.shape[1]
    for j in range(k):
        out[j] = 0.0
    for b in range(starts.shape[0]):
        s = starts[b]
        e = s + lengths[b]
        if e <= n:
            for j in range(k):
                out[j] += p[e, j] - p[s, j]
        else:
            e -= n
            for j in range(k):
                out[j] += (p[n, j] - p[s, j]) + p[e, j]
    for j in range(k):
        out[j] /= n


@njit(cache=True)
def spa_nb(d: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ptr: np.ndarray,
           studentize: bool = True) -> tuple[float, float, float]:
    """Hansen's (2005) SPA p-values (lower, consistent, upper) of H0: no column of `d` has a positive mean.

    d[t, k]: config k's return in excess of the benchmark (active return). Resample r is the blocks
    ptr[r]:ptr[r+1] of (starts, lengths). omega_k^2 = n x the bootstrap variance of config k's mean; the statistic
    is max(0, max_k sqrt(n) mean_k / omega_k); each resample is re-centred at the config's mean, plus (consistent)
    its mean where it is clearly negative (below -omega_k sqrt(2 log log n / n)), (lower) its mean where
    negative, (upper) nothing. Small = some config genuinely beats the benchmark. `studentize` False divides by
    nothing (omega_k = 1 in the statistic): White's (2000) Reality Check, whose p-value is `upper`.
    """
    n, k = d.shape
    reps = ptr.shape[0] - 1
    p = prefix_sums_nb(d)
    mean = np.empty(k)
    for j in range(k):
        mean[j] = p[n, j] / n
    boot = np.empty((reps, k))
    for r in range(reps):
        block_means_nb(p, starts[ptr[r]:ptr[r + 1]], lengths[ptr[r]:ptr[r + 1]], boot[r])
    omega = np.empty(k)
    for j in range(k):
        v = 0.0
        for r in range(reps):
            x = boot[r, j] - mean[j]
            v += x * x
        omega[j] = math.sqrt(n * v / reps)
    scale_of = np.empty(k)
    for j in range(k):
        scale_of[j] = (math.sqrt(n) / omega[j] if studentize else math.sqrt(n)) if omega[j] > 0.0 else 0.0
    stat = 0.0
    for j in range(k):
        stat = max(stat, mean[j] * scale_of[j])
    if stat <= 0.0:  # no config has a positive mean: nothing to reject (Hansen's max(., 0) would tie at 0)
        return 1.0, 1.0, 1.0
    threshold = math.sqrt(2.0 * math.log(math.log(n))) if n > 15 else 0.0
    counts = np.zeros(3)
    for r in range(reps):
        t_low = 0.0
        t_con = 0.0
        t_up = 0.0
        for j in range(k):
            if omega[j] <= 0.0:
                continue
            z = boot[r, j] - mean[j]
            scale = scale_of[j]
            low = z + min(mean[j], 0.0)
            con = z + (mean[j] if math.sqrt(n) * mean[j] / omega[j] <= -threshold else 0.0)
            t_low = max(t_low, low * scale)
            t_con = max(t_con, con * scale)
            t_up = max(t_up, z * scale)
        counts[0] += t_low > stat
        counts[1] += t_con > stat
        counts[2] += t_up > stat
    return counts[0] / reps, counts[1] / reps, counts[2] / reps
