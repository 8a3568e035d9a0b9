"""A run's active return against its own benchmark, and the size of its declared grid: what its honesty is judged on.

Used by the tear sheet's statistics, the summary tables and the PM tables (one definition; a module of its own
so that none of them imports another's page code).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.report.load import RunRecord


def own_active(rec: RunRecord) -> tuple[str, pd.Series | None]:
    """(benchmark name, daily active returns from the first traded session) against the strategy's own benchmark:
    EW_SECTORS for long-only sector books, SPY times the average net exposure for SPY timing books, zero for
    dollar-neutral and long-short books (their return is already active); (raw, None) when unknown."""
    from research.data.universe import MARKET, SECTOR_ETFS

    r = rec.returns.dropna()
    traded = r.ne(0.0)
    if not traded.any():
        return "raw returns", None
    r = r.loc[traded.idxmax():]
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
