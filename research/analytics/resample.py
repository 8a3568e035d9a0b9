"""The stationary bootstrap (Politis & Romano 1994) as arch implements it, without importing arch.

`optimal_block_length` is arch's `_single_optimal_block` (Politis & White 2004, with the Patton, Politis & White
2009 correction) and `stationary_indices` draws exactly what arch's `StationaryBootstrap.update_indices` draws
from the same NumPy `Generator` (integers, then uniforms, per resample), so `research.analytics.stats.bootstrap_ci`
gives arch's numbers bit for bit (tests/test_stats.py checks both against arch).

Why a port: `import arch.bootstrap` pulls in scipy.stats, statsmodels and arch's univariate models, about 1.5 s,
and the tear sheet needs three intervals; arch's per-resample Python loop added another second. The
statistics of the resamples are computed a block of rows at a time (`sharpe_rows`), which NumPy reduces row by
row with the same pairwise sums as one 1-d array, so each equals `metrics.sharpe` of that resample.
"""

from __future__ import annotations

import math

import numpy as np


def optimal_block_length(x: np.ndarray) -> float:
    """Politis-White optimal expected block length of the stationary bootstrap for a 1-d series (arch's
    `optimal_block_length(x)["stationary"]`, same operations in the same order)."""
    nobs = x.shape[0]
    eps = x - x.mean(0)
    b_max = np.ceil(min(3 * np.sqrt(nobs), nobs / 3))
    kn = max(5, int(np.log10(nobs)))
    m_max = int(np.ceil(np.sqrt(nobs))) + kn
    # the first run of kn autocorrelations that are all insignificant
    cv = 2 * np.sqrt(np.log10(nobs) / nobs)
    acv = np.zeros(m_max + 1)
    abs_acorr = np.zeros(m_max + 1)
    opt_m: int | None = None
    for i in range(m_max + 1):
        v1 = eps[i + 1:] @ eps[i + 1:]
        v2 = eps[: -(i + 1)] @ eps[: -(i + 1)]
        cross_prod = eps[i:] @ eps[: nobs - i]
        acv[i] = cross_prod / nobs
        abs_acorr[i] = np.abs(cross_prod) / np.sqrt(v1 * v2)
        if i >= kn and np.all(abs_acorr[i - kn: i] < cv) and opt_m is None:
            opt_m = i - kn
    m = 2 * max(opt_m, 1) if opt_m is not None else m_max
    m = min(m, m_max)
    g = 0.0
    lr_acv = acv[0]
    for k in range(1, m + 1):
        lam = 1 if k / m <= 1 / 2 else 2 * (1 - k / m)
        g += 2 * lam * k * acv[k]
        lr_acv += 2 * lam * acv[k]
    d_sb = 2 * lr_acv**2
    b_sb = ((2 * g**2) / d_sb) ** (1 / 3) * nobs ** (1 / 3)
    return float(min(b_sb, b_max))


def stationary_indices(rng: np.random.Generator, n: int, block: int, rows: int = 1) -> np.ndarray:
    """Indices of `rows` resamples (rows x n): blocks of geometric length (mean `block`) starting at uniform
    positions, wrapping around the end; consumes `rng` as that many calls of arch's
    `StationaryBootstrap.update_indices` do (per resample: n integers, then n uniforms)."""
    start = np.empty((rows, n), dtype=np.int64)
    u = np.empty((rows, n))
    for k in range(rows):
        start[k] = rng.integers(n, size=n, dtype=np.int64)
        rng.random(n, out=u[k])
    if block == 1:  # p = 1: every u <= p, so every index is a fresh draw
        return start
    # arch walks i = 1..n-1: a new block where u[i] <= p, else the previous index + 1 (n wraps to 0). So each
    # index is its block's first draw plus its offset in the block, modulo n (below 2n: one subtraction).
    new = u <= 1.0 / block
    new[:, 0] = True
    pos = np.arange(n)
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    out = np.take_along_axis(start, first, axis=1) + (pos - first)
    out[out >= n] -= n
    return out


def stationary_blocks(rng: np.random.Generator, n: int, block: float, reps: int) -> tuple[np.ndarray, ...]:
    """The blocks of `reps` stationary-bootstrap resamples of n rows: (starts, lengths, ptr), resample r being
    blocks ptr[r]:ptr[r + 1]. Lengths are geometric with mean `block`, starts uniform; each resample's lengths
    add up to n exactly (its last block is cut). The same resamples as drawing row by row, at a block's cost."""
    p = 1.0 / max(float(block), 1.0)
    per = int(np.ceil(n * p * 1.5)) + 16  # enough blocks for one resample almost always
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    ptr = np.zeros(reps + 1, dtype=np.int64)
    for r in range(reps):
        st_parts, ln_parts, total = [], [], 0
        while total < n:
            ln = rng.geometric(p, per).astype(np.int64)
            st = rng.integers(0, n, per, dtype=np.int64)
            cum = total + np.cumsum(ln)
            cut = min(int(np.searchsorted(cum, n)) + 1, per)  # the first block that reaches n, included
            ln, st = ln[:cut].copy(), st[:cut]
            if cum[cut - 1] > n:
                ln[-1] -= cum[cut - 1] - n
            st_parts.append(st)
            ln_parts.append(ln)
            total = int(min(cum[cut - 1], n))
        starts += st_parts
        lengths += ln_parts
        ptr[r + 1] = ptr[r] + sum(len(x) for x in st_parts)
    return np.concatenate(starts), np.concatenate(lengths), ptr


def sharpe_rows(x: np.ndarray, periods: int) -> np.ndarray:
    """`metrics.sharpe` of each row of a C-contiguous 2-d array (no NaN): mean / std(ddof=1) * sqrt(periods), NaN
    where a row never moves. Row reductions of a C-contiguous array are the 1-d reductions, bit for bit."""
    mean = np.mean(x, axis=1)
    std = np.std(x, axis=1, ddof=1)
    flat = np.ptp(x, axis=1) == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = mean / std
    ratio[flat | ~np.isfinite(std) | (std == 0.0)] = np.nan
    return ratio * math.sqrt(periods)
