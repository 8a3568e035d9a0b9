"""Signal kernels (`research.signals.nb`) against the idiomatic pandas way of computing the same thing.

A daily-sized panel (6,538 sessions x 11 sectors, 2% NaN) through each kernel and its pandas equivalent;
throughput in cells per second, the ratio, and the largest difference between the two (a sanity check that
both compute the same thing, not a test). Runs in one subprocess, kernels warmed up first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from benchmarks.common import rate, timed


def _panel(rows: int = 6538, cols: int = 11, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (rows, cols)).cumsum(axis=0) * 0.1 + rng.normal(0.0, 1.0, (rows, cols))
    x[rng.random((rows, cols)) < 0.02] = np.nan
    return x


def _streak_pandas(df: pd.DataFrame) -> pd.DataFrame:
    sign = np.sign(df)
    out = {}
    for c in df.columns:
        s = sign[c]
        run = s.ne(s.shift()).cumsum()
        length = s.groupby(run).cumcount() + 1
        out[c] = (s * length).where(s.notna())
    return pd.DataFrame(out)


def cases(window: int = 156) -> dict[str, tuple[Callable, Callable]]:
    """name -> (kernel on the array, pandas on the frame)."""
    from research.signals import nb as snb

    w = np.array([window], dtype=np.int64)
    return {
        "pct_rank": (lambda x: snb.pct_rank_nb(x, w, w)[0],
                     lambda df: df.rolling(window, min_periods=window).rank(method="max", pct=True)),
        "zscore": (lambda x: snb.zscore_nb(x, w, w)[0],
                   lambda df: (df - df.rolling(window, min_periods=window).mean())
                   / df.rolling(window, min_periods=window).std()),
        "ewma": (lambda x: snb.ewma_nb(x, np.array([0.1]), np.array([1], dtype=np.int64))[0],
                 lambda df: df.ewm(alpha=0.1, adjust=False, ignore_na=True).mean()),
        "cs_rank": (lambda x: snb.cs_rank_nb(x, True), lambda df: df.rank(axis=1, method="first")),
        "streak": (lambda x: snb.streak_nb(x), _streak_pandas),
    }


def signals(rows: int = 6538, repeat: int = 5) -> dict:
    x = _panel(rows)
    df = pd.DataFrame(x)
    cells = x.size
    out = {"rows": rows, "cols": int(x.shape[1]), "kernels": {}}
    for name, (kernel, pandas) in cases().items():
        kernel(x[:300])  # compile or load
        tk, a = timed(lambda kernel=kernel: kernel(x), repeat)
        tp, b = timed(lambda pandas=pandas: pandas(df), repeat)
        b = np.asarray(b, dtype=float)
        both = np.isfinite(a) & np.isfinite(b)
        out["kernels"][name] = {
            "kernel_cells_per_s": rate(cells, tk), "pandas_cells_per_s": rate(cells, tp),
            "ratio": float(np.median(tp) / np.median(tk)),
            "max_abs_diff": float(np.max(np.abs(a[both] - b[both]))) if both.any() else None,
            "same_nan": bool(np.array_equal(np.isnan(a), np.isnan(b))),
        }
    return out
