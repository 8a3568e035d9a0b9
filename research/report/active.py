"""A run's active return against its own benchmark, and the size of its declared grid: what its honesty is judged on.

Used by the tear sheet's statistics, the summary tables and the PM tables (one definition; a module of its own
so that none of them imports another's page code).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.analytics import metrics as M
from research.report.load import RunRecord


def warm_up(rec: RunRecord) -> tuple[pd.Timestamp | None, int]:
    """(first fill, sessions before it): the warm-up in which the strategy held nothing."""
    r = rec.returns.dropna()
    start = M.first_fill(r, rec.turnover if len(rec.turnover) else None)
    return start, int((r.index < start).sum()) if start is not None else len(r)


def own_active(rec: RunRecord) -> tuple[str, pd.Series | None]:
    """(benchmark name, daily active returns from the first fill, `warm_up`) against the strategy's own benchmark:
    EW_SECTORS for long-only sector books, SPY times the average net exposure for SPY timing books, zero for
    dollar-neutral and long-short books (their return is already active); (raw, None) when unknown."""
    from research.data.universe import MARKET, SECTOR_ETFS

    start, _ = warm_up(rec)
    if start is None:
        return "raw returns", None
    r = rec.returns.dropna().loc[start:]
    mode, cols = rec.config.get("mode"), [str(c) for c in rec.target.columns]
    b = rec.benchmarks
    if mode == "long_only" and cols and set(cols) <= set(SECTOR_ETFS) and "EW_SECTORS" in b:
        return "EW_SECTORS", r - b["EW_SECTORS"].reindex(r.index)
    if mode == "timing" and cols == [MARKET] and MARKET in b and len(rec.net):
        expo = float(rec.net.reindex(r.index).mean())
        return f"{MARKET} x {expo:.2f} (its average exposure)", r - expo * b[MARKET].reindex(r.index)
    if mode in ("dollar_neutral", "long_short"):
        return "zero (a dollar-neutral book's return is active)", r
    return "raw returns", None


def grid_size(rec: RunRecord) -> int:
    """The number of configurations the strategy's declared grid holds (1 without one)."""
    grid = rec.config.get("grid") or {}
    return int(np.prod([max(len(v), 1) for v in grid.values()])) if grid else 1
