"""Numba kernels of the signal library: plain NumPy arrays in and out, no pandas.

Conventions (the pandas wrappers beside this module rely on them):

- Inputs are float64 arrays laid out time x entity (T x N); time runs along axis 0.
- NaN is a missing value. Each kernel states what it does with one.
- A batched kernel takes parameter arrays of equal length P, read as P zipped parameter sets (not a product),
  and returns (P, T, N) in one call: sweeps must not loop over parameters in Python.
- Each kernel has an inner function for one column (`*_1d_nb`) or one cross-section (`*_row_nb`) that writes
  into a buffer the caller provides and allocates nothing, so a fused sweep kernel can call it from its own
  njit loop. Unless stated otherwise, `out` must not alias the input.
- Everything is serial and deterministic: the same inputs give bit-identical outputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Weighting methods of `weights_nb` (the wrapper maps names to these codes).
EQUAL = 0
PROPORTIONAL = 1
INVERSE_VOL = 2


# ---------------------------------------------------------------------------------------------------------------
# Streaks
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _streak_step_nb(v: float, run: int, prev: int) -> tuple[int, int]:
    """Advance the streak state by one value.

    `run` is the signed length of the current run (0 after a zero or a NaN); `prev` is the signed length of the
    run that ended just before the current one started (0 when that was a zero, a NaN, or the start).
    Zero and NaN both end a run; they differ only in what the streak outputs.
    """
    if v > 0.0:
        if run > 0:
            run += 1
        else:
            prev = run
            run = 1
    elif v < 0.0:
        if run < 0:
            run -= 1
        else:
            prev = run
            run = -1
    else:
        prev = run
        run = 0
    return run, prev


@njit(cache=True)
def streak_1d_nb(x: np.ndarray, out: np.ndarray) -> None:
    """Signed consecutive-sign streak of one column into `out` (may alias `x`).

    +L on the L-th consecutive value > 0, -L on the L-th consecutive value < 0, 0 at an exact zero.
    NaN outputs NaN and breaks the streak: the next valid value starts again at +-1.
    """
    run = 0
    prev = 0
    for t in range(x.shape[0]):
        v = x[t]
        run, prev = _streak_step_nb(v, run, prev)
        out[t] = np.nan if v != v else run


@njit(cache=True)
def streak_nb(x: np.ndarray) -> np.ndarray:
    """2-D version of `streak_1d_nb`: (T, N) -> (T, N)."""
    out = np.empty(x.shape, dtype=np.float64)
    for j in range(x.shape[1]):
        streak_1d_nb(x[:, j], out[:, j])
    return out


@njit(cache=True)
def fresh_1d_nb(x: np.ndarray, k: int, m: int, hold: int, out: np.ndarray) -> None:
    """Fresh buying after selling, for one column, into boolean `out`.

    True at t when the current positive streak has length in [k, k + hold - 1] and the run immediately before it
    was a negative streak of length >= m (m = 0: no condition on the run before). hold = 1 flags exactly the
    k-th week of buying. A zero or NaN just before the positive run counts as no selling (length 0); NaN and
    zero themselves are never fresh.
    """
    run = 0
    prev = 0
    hi = k + hold - 1
    for t in range(x.shape[0]):
        run, prev = _streak_step_nb(x[t], run, prev)
        out[t] = run >= k and run <= hi and prev <= -m


@njit(cache=True)
def fresh_nb(x: np.ndarray, ks: np.ndarray, ms: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """Batched `fresh_1d_nb`: (T, N) and P parameter sets (k, m, hold) -> boolean (P, T, N)."""
    T, N = x.shape
    P = ks.shape[0]
    out = np.zeros((P, T, N), dtype=np.bool_)
    for j in range(N):
        run = 0
        prev = 0
        for t in range(T):
            run, prev = _streak_step_nb(x[t, j], run, prev)
            for p in range(P):
                out[p, t, j] = run >= ks[p] and run <= ks[p] + holds[p] - 1 and prev <= -ms[p]
    return out


@njit(cache=True)
def _divergence_sign_nb(a: float, b: float) -> float:
    """+1 when a > 0 and b < 0, -1 when a < 0 and b > 0, 0 otherwise, NaN when either is NaN."""
    if a != a or b != b:
        return np.nan
    if a > 0.0 and b < 0.0:
        return 1.0
    if a < 0.0 and b > 0.0:
        return -1.0
    return 0.0


@njit(cache=True)
def divergence_1d_nb(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """Signed streak of divergence between two flow columns into `out`.

    -L on the L-th consecutive period with a < 0 and b > 0 (e.g. hedge funds sell, retail buys), +L on the
    L-th with a > 0 and b < 0, 0 when they agree in sign or either is zero. NaN in either input outputs NaN
    and breaks the streak.
    """
    run = 0
    prev = 0
    for t in range(a.shape[0]):
        d = _divergence_sign_nb(a[t], b[t])
        run, prev = _streak_step_nb(d, run, prev)
        out[t] = np.nan if d != d else run


@njit(cache=True)
def divergence_nb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2-D version of `divergence_1d_nb`: two (T, N) -> (T, N)."""
    out = np.empty(a.shape, dtype=np.float64)
    for j in range(a.shape[1]):
        divergence_1d_nb(a[:, j], b[:, j], out[:, j])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Trailing windows
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def pct_rank_1d_nb(x: np.ndarray, window: int, min_count: int, out: np.ndarray) -> None:
    """Trailing percentile rank of one column into `out`.

    The window is the last `window` periods including t. The rank is the fraction of the window's valid values
    (the current one included) that are <= x[t], so it lies in (0, 1] and the window's maximum scores 1.
    NaN when x[t] is NaN or the window holds fewer than `min_count` valid values. O(T * window), no allocation.
    """
    for t in range(x.shape[0]):
        v = x[t]
        if v != v:
            out[t] = np.nan
            continue
        count = 0
        below = 0
        for s in range(max(0, t - window + 1), t + 1):  # branch-free: a NaN counts in neither
            u = x[s]
            count += u == u
            below += u <= v
        out[t] = below / count if count >= min_count else np.nan


@njit(cache=True)
def pct_rank_nb(x: np.ndarray, windows: np.ndarray, min_counts: np.ndarray) -> np.ndarray:
    """Batched `pct_rank_1d_nb`: (T, N) and P pairs (window, min_count) -> (P, T, N).

    Each column is copied to a contiguous buffer once and ranked for every pair there (1.6x faster than
    ranking the strided column of a (T, N) panel in place).
    """
    T, N = x.shape
    out = np.empty((windows.shape[0], T, N), dtype=np.float64)
    col = np.empty(T)
    res = np.empty(T)
    for j in range(N):
        col[:] = x[:, j]
        for p in range(windows.shape[0]):
            pct_rank_1d_nb(col, windows[p], min_counts[p], res)
            out[p, :, j] = res
    return out


@njit(cache=True)
def zscore_1d_nb(x: np.ndarray, window: int, min_count: int, out: np.ndarray) -> None:
    """Trailing z-score of one column into `out`: (x[t] - mean) / std over the window's valid values.

    The window is the last `window` periods including t; std is the sample std (ddof = 1), computed in two
    passes for accuracy. NaN when x[t] is NaN, fewer than max(min_count, 2) values are valid, or every valid
    value in the window is equal (std exactly 0: no scale to measure against).
    """
    for t in range(x.shape[0]):
        v = x[t]
        if v != v:
            out[t] = np.nan
            continue
        start = max(0, t - window + 1)
        count = 0
        total = 0.0
        lo = np.inf
        hi = -np.inf
        for s in range(start, t + 1):
            u = x[s]
            if u == u:
                count += 1
                total += u
                lo = min(lo, u)
                hi = max(hi, u)
        if count < min_count or count < 2 or lo == hi:
            out[t] = np.nan
            continue
        mean = total / count
        ss = 0.0
        for s in range(start, t + 1):
            u = x[s]
            if u == u:
                ss += (u - mean) * (u - mean)
        out[t] = (v - mean) / np.sqrt(ss / (count - 1))


@njit(cache=True)
def zscore_nb(x: np.ndarray, windows: np.ndarray, min_counts: np.ndarray) -> np.ndarray:
    """Batched `zscore_1d_nb`: (T, N) and P pairs (window, min_count) -> (P, T, N)."""
    T, N = x.shape
    out = np.empty((windows.shape[0], T, N), dtype=np.float64)
    for p in range(windows.shape[0]):
        for j in range(N):
            zscore_1d_nb(x[:, j], windows[p], min_counts[p], out[p, :, j])
    return out


@njit(cache=True)
def ewma_1d_nb(x: np.ndarray, alpha: float, min_count: int, out: np.ndarray) -> None:
    """Exponentially weighted moving average of one column into `out` (may alias `x`).

    avg = first valid value, then avg += alpha * (x[t] - avg) on each valid value (pandas `ewm(alpha=alpha,
    adjust=False, ignore_na=True)`). A NaN neither updates nor decays the average, and the output there carries
    the last average (the smoothed level is still known). NaN until `min_count` valid values have been seen.
    """
    avg = np.nan
    count = 0
    for t in range(x.shape[0]):
        v = x[t]
        if v == v:
            count += 1
            if count == 1:
                avg = v
            else:
                avg += alpha * (v - avg)
        out[t] = avg if count >= min_count else np.nan


@njit(cache=True)
def ewma_nb(x: np.ndarray, alphas: np.ndarray, min_counts: np.ndarray) -> np.ndarray:
    """Batched `ewma_1d_nb`: (T, N) and P pairs (alpha, min_count) -> (P, T, N)."""
    T, N = x.shape
    out = np.empty((alphas.shape[0], T, N), dtype=np.float64)
    for p in range(alphas.shape[0]):
        for j in range(N):
            ewma_1d_nb(x[:, j], alphas[p], min_counts[p], out[p, :, j])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Cross-section
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _rank_of_nb(row: np.ndarray, j: int, ascending: bool) -> float:
    """Ordinal rank (1 = first) of valid entity j among the row's valid entities; ties go to the lower column."""
    v = row[j]
    rank = 1
    for i in range(row.shape[0]):
        u = row[i]
        if u != u:
            continue
        if (u < v if ascending else u > v) or (u == v and i < j):
            rank += 1
    return float(rank)


@njit(cache=True)
def cs_rank_row_nb(row: np.ndarray, ascending: bool, out: np.ndarray) -> None:
    """Cross-sectional ordinal rank of one row into `out`: 1..n over the n valid entities, NaN for NaN ones.

    Ties are broken by column order: the leftmost of equal values ranks first, in either direction
    (pandas `rank(method="first")`). O(N^2) with no sort and no allocation; N is 11.
    """
    for j in range(row.shape[0]):
        out[j] = np.nan if row[j] != row[j] else _rank_of_nb(row, j, ascending)


@njit(cache=True)
def cs_rank_nb(x: np.ndarray, ascending: bool) -> np.ndarray:
    """2-D version of `cs_rank_row_nb`, row by row: (T, N) -> (T, N)."""
    out = np.empty(x.shape, dtype=np.float64)
    for t in range(x.shape[0]):
        cs_rank_row_nb(x[t], ascending, out[t])
    return out


@njit(cache=True)
def select_row_nb(row: np.ndarray, n: int, largest: bool, out: np.ndarray) -> None:
    """Top-n (`largest`) or bottom-n of one row into boolean `out`, among valid entities only.

    Selects the entities ranked 1..n by `cs_rank_row_nb` (descending when `largest`), so among equal values the
    leftmost column is selected first. Fewer than n valid entities: all valid ones are selected.
    """
    for j in range(row.shape[0]):
        out[j] = row[j] == row[j] and _rank_of_nb(row, j, not largest) <= n


@njit(cache=True)
def select_nb(x: np.ndarray, ns: np.ndarray, largest: bool) -> np.ndarray:
    """Batched `select_row_nb`: (T, N) and P counts n -> boolean (P, T, N); each row is ranked once."""
    T, N = x.shape
    P = ns.shape[0]
    out = np.zeros((P, T, N), dtype=np.bool_)
    rank = np.empty(N, dtype=np.float64)
    for t in range(T):
        cs_rank_row_nb(x[t], not largest, rank)
        for p in range(P):
            for j in range(N):
                out[p, t, j] = rank[j] <= ns[p]  # NaN rank compares False
    return out


@njit(cache=True)
def breadth_row_nb(row: np.ndarray, threshold: float) -> tuple[int, int]:
    """(count of valid entities with value < threshold, count of valid entities) of one row."""
    below = 0
    valid = 0
    for j in range(row.shape[0]):
        v = row[j]
        if v == v:
            valid += 1
            if v < threshold:
                below += 1
    return below, valid


@njit(cache=True)
def breadth_nb(x: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breadth per row for P thresholds: counts (P, T), NaN where no entity is valid, and valid counts (T,)."""
    T = x.shape[0]
    P = thresholds.shape[0]
    counts = np.empty((P, T), dtype=np.float64)
    valid = np.empty(T, dtype=np.float64)
    for t in range(T):
        n = 0
        for p in range(P):
            below, n = breadth_row_nb(x[t], thresholds[p])
            counts[p, t] = below if n > 0 else np.nan
        valid[t] = n
    return counts, valid


# ---------------------------------------------------------------------------------------------------------------
# Regimes
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def hysteresis_1d_nb(x: np.ndarray, upper: float, lower: float, out: np.ndarray) -> None:
    """Regime flag with hysteresis of one column into boolean `out`.

    Starts off; turns on when x >= upper, off when x <= lower (upper is checked first, so lower <= upper is
    expected), and otherwise keeps its state. NaN keeps the state: a missing week does not end a regime.
    """
    on = False
    for t in range(x.shape[0]):
        v = x[t]
        if v >= upper:
            on = True
        elif v <= lower:
            on = False
        out[t] = on


@njit(cache=True)
def hysteresis_nb(x: np.ndarray, uppers: np.ndarray, lowers: np.ndarray) -> np.ndarray:
    """Batched `hysteresis_1d_nb`: (T, N) and P pairs (upper, lower) -> boolean (P, T, N)."""
    T, N = x.shape
    out = np.zeros((uppers.shape[0], T, N), dtype=np.bool_)
    for p in range(uppers.shape[0]):
        for j in range(N):
            hysteresis_1d_nb(x[:, j], uppers[p], lowers[p], out[p, :, j])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Scores to weights
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def weights_row_nb(
    score: np.ndarray,
    mask: np.ndarray,
    vol: np.ndarray,
    method: int,
    gross: float,
    net: float,
    long_short: bool,
    out: np.ndarray,
) -> None:
    """Target weights of one row into `out`; never NaN, 0 for entities not held.

    Candidates are entities with mask True and a valid score (and, for INVERSE_VOL, a finite vol > 0).
    Raw weight: EQUAL 1, PROPORTIONAL the score, INVERSE_VOL 1 / vol. Long-only (`long_short` False): the
    score's sign is ignored except that PROPORTIONAL uses max(score, 0). Long-short: the side is the sign of
    the score (0 is not held); EQUAL and INVERSE_VOL take that sign, PROPORTIONAL the score itself.

    Limits: with raw long book L0 and short book S0 (absolute sums), one-sided books are scaled to
    min(gross, net). Two-sided books get net n = clip(gross * (L0 - S0) / (L0 + S0), -net, net), then the long
    book is scaled to (gross + n) / 2 and the short book to (gross - n) / 2: gross is always reached and the
    net cap is met by moving exposure between the sides, keeping proportions within each side. net = inf
    means no net limit (weights are simply scaled to sum |w| = gross).
    """
    long_sum = 0.0
    short_sum = 0.0
    for j in range(score.shape[0]):
        s = score[j]
        w = 0.0
        if mask[j] and s == s:
            side = (1.0 if s > 0.0 else -1.0 if s < 0.0 else 0.0) if long_short else 1.0
            if method == EQUAL:
                w = side
            elif method == PROPORTIONAL:
                w = s if long_short else max(s, 0.0)
            else:
                v = vol[j]
                if v > 0.0 and v < np.inf:
                    w = side / v
        out[j] = w
        if w > 0.0:
            long_sum += w
        elif w < 0.0:
            short_sum -= w
    if long_sum == 0.0 and short_sum == 0.0:
        return
    if short_sum == 0.0:
        long_book = min(gross, net)
        short_book = 0.0
    elif long_sum == 0.0:
        long_book = 0.0
        short_book = min(gross, net)
    else:
        n = min(max(gross * (long_sum - short_sum) / (long_sum + short_sum), -net), net)
        long_book = (gross + n) / 2.0
        short_book = (gross - n) / 2.0
    for j in range(score.shape[0]):
        w = out[j]
        if w > 0.0:
            out[j] = w * (long_book / long_sum)
        elif w < 0.0:
            out[j] = w * (short_book / short_sum)


@njit(cache=True)
def weights_nb(
    scores: np.ndarray,
    masks: np.ndarray,
    vol: np.ndarray,
    method: int,
    gross: np.ndarray,
    net: np.ndarray,
    long_short: bool,
) -> np.ndarray:
    """Batched `weights_row_nb`: scores (Ps, T, N), boolean masks (Pm, T, N), vol (T, N), limits (Pg,) -> (P, T, N).

    Each of Ps, Pm, Pg is 1 (shared by every parameter set) or P = max(Ps, Pm, Pg). `vol` is read only by
    INVERSE_VOL; `net` holds inf where there is no net limit.
    """
    T, N = vol.shape
    P = max(scores.shape[0], masks.shape[0], gross.shape[0])
    out = np.zeros((P, T, N), dtype=np.float64)
    for p in range(P):
        ps = p if scores.shape[0] > 1 else 0
        pm = p if masks.shape[0] > 1 else 0
        pg = p if gross.shape[0] > 1 else 0
        for t in range(T):
            weights_row_nb(scores[ps, t], masks[pm, t], vol[t], method, gross[pg], net[pg], long_short, out[p, t])
    return out
