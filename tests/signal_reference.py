"""Plain pandas / NumPy reference implementations of the signal kernels, written from the definitions.

They favour obviousness over speed (loops, O(T^2) look-backs) and, where it helps independence, state a
definition differently from the kernel (e.g. a streak counts backwards; hysteresis looks for the last
decisive observation). Inputs are 2-D float arrays (T x N) with NaN as missing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _sign(v: float) -> float:
    return math.nan if math.isnan(v) else float(np.sign(v))


def streak(x: np.ndarray) -> np.ndarray:
    """At t: sign(x[t]) times the number of consecutive periods ending at t with that same non-zero sign."""
    T, N = x.shape
    out = np.full((T, N), np.nan)
    for j in range(N):
        for t in range(T):
            sgn = _sign(x[t, j])
            if math.isnan(sgn):
                continue
            length = 0
            s = t
            while sgn != 0 and s >= 0 and _sign(x[s, j]) == sgn:
                length += 1
                s -= 1
            out[t, j] = sgn * length
    return out


def fresh(x: np.ndarray, k: int, m: int, hold: int) -> np.ndarray:
    """Positive streak length L in [k, k + hold - 1], and the streak at t - L (just before the run) <= -m."""
    st = streak(x)
    T, N = x.shape
    out = np.zeros((T, N), dtype=bool)
    for j in range(N):
        for t in range(T):
            length = st[t, j]
            if not (k <= length <= k + hold - 1):
                continue
            before = t - int(length)
            prior = st[before, j] if before >= 0 else math.nan
            selling = -prior if prior < 0 else 0.0  # NaN, zero, or the start: no selling
            out[t, j] = selling >= m
    return out


def divergence(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Streak of +1 (a > 0 > b) / -1 (a < 0 < b) / 0 (agree or zero), NaN where either input is NaN."""
    d = np.where((a > 0) & (b < 0), 1.0, np.where((a < 0) & (b > 0), -1.0, 0.0))
    d[np.isnan(a) | np.isnan(b)] = np.nan
    return streak(d)


def _windows(x: np.ndarray, t: int, j: int, window: int) -> np.ndarray:
    w = x[max(0, t - window + 1): t + 1, j]
    return w[~np.isnan(w)]


def pct_rank(x: np.ndarray, window: int, min_count: int) -> np.ndarray:
    """Fraction of the trailing window's valid values (current included) that are <= the current value."""
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[1]):
        for t in range(x.shape[0]):
            vals = _windows(x, t, j, window)
            if not np.isnan(x[t, j]) and len(vals) >= min_count:
                out[t, j] = np.mean(vals <= x[t, j])
    return out


def zscore(x: np.ndarray, window: int, min_count: int) -> np.ndarray:
    """(x - mean) / sample std of the trailing window's valid values; NaN if < 2 values or all equal."""
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[1]):
        for t in range(x.shape[0]):
            vals = _windows(x, t, j, window)
            if np.isnan(x[t, j]) or len(vals) < max(min_count, 2) or vals.min() == vals.max():
                continue
            out[t, j] = (x[t, j] - vals.mean()) / vals.std(ddof=1)
    return out


def ewma(x: np.ndarray, alpha: float, min_count: int) -> np.ndarray:
    """pandas' recursive EWMA that skips NaN."""
    df = pd.DataFrame(x).ewm(alpha=alpha, adjust=False, ignore_na=True, min_periods=min_count).mean()
    return df.to_numpy()


def cs_rank(x: np.ndarray, ascending: bool) -> np.ndarray:
    """pandas row rank, method 'first' (ties: leftmost first)."""
    return pd.DataFrame(x).rank(axis=1, method="first", ascending=ascending).to_numpy()


def select(x: np.ndarray, n: int, largest: bool) -> np.ndarray:
    """The first n valid entities of each row sorted by value (descending when largest), then column."""
    out = np.zeros(x.shape, dtype=bool)
    for t in range(x.shape[0]):
        valid = [j for j in range(x.shape[1]) if not np.isnan(x[t, j])]
        order = sorted(valid, key=lambda j: (-x[t, j] if largest else x[t, j], j))
        out[t, order[:n]] = True
    return out


def breadth(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(count of valid values < threshold per row, NaN where none valid; count of valid values)."""
    df = pd.DataFrame(x)
    valid = df.notna().sum(axis=1).to_numpy(dtype=float)
    below = (df < threshold).sum(axis=1).to_numpy(dtype=float)
    return np.where(valid > 0, below, np.nan), valid


def hysteresis(x: np.ndarray, upper: float, lower: float) -> np.ndarray:
    """On at t iff the last s <= t with x[s] >= upper or x[s] <= lower had x[s] >= upper."""
    out = np.zeros(x.shape, dtype=bool)
    for j in range(x.shape[1]):
        for t in range(x.shape[0]):
            for s in range(t, -1, -1):
                if x[s, j] >= upper:
                    out[t, j] = True
                    break
                if x[s, j] <= lower:
                    break
    return out


def weights(
    score: np.ndarray,
    mask: np.ndarray,
    vol: np.ndarray | None,
    method: str,
    gross: float,
    net: float | None,
    long_short: bool,
) -> np.ndarray:
    """Row by row: raw weights, scale to gross, clip the net, rebalance the two books (see weights_from_scores)."""
    cap = math.inf if net is None else net
    out = np.zeros(score.shape)
    for t in range(score.shape[0]):
        raw: dict[int, float] = {}
        for j in range(score.shape[1]):
            s = score[t, j]
            if not mask[t, j] or math.isnan(s):
                continue
            side = float(np.sign(s)) if long_short else 1.0
            if method == "equal":
                w = side
            elif method == "proportional":
                w = s if long_short else max(s, 0.0)
            else:
                v = vol[t, j]
                w = side / v if np.isfinite(v) and v > 0 else 0.0
            if w != 0:
                raw[j] = w
        longs = {j: w for j, w in raw.items() if w > 0}
        shorts = {j: w for j, w in raw.items() if w < 0}
        if not raw:
            continue
        if not shorts or not longs:
            book = min(gross, cap)
            total = sum(abs(w) for w in raw.values())
            for j, w in raw.items():
                out[t, j] = w / total * book
            continue
        total = sum(abs(w) for w in raw.values())
        scaled_net = sum(w * gross / total for w in raw.values())
        n = min(max(scaled_net, -cap), cap)
        long_book, short_book = (gross + n) / 2, (gross - n) / 2
        for j, w in longs.items():
            out[t, j] = w / sum(longs.values()) * long_book
        for j, w in shorts.items():
            out[t, j] = w / -sum(shorts.values()) * short_book
    return out
