"""How many configurations were tried: the count that deflates a Sharpe ratio (DSR), read defensively.

The trial log is the DuckDB file the sweeps append to (`research.sweep.triallog`): `results/trials.duckdb`, or
$FLOWBT_TRIALS. The table the tear sheet needs, at the least:

    trials(strategy VARCHAR, params VARCHAR or JSON, sharpe DOUBLE, ...)

one row per configuration evaluated: `strategy` the registry name, `params` the configuration (canonical JSON
or any stable text), `sharpe` its annualised Sharpe ratio (as in metrics.json). When the table also has
`data_hash`, only trials on the run's own inputs count; when it has `sharpe_per_period` and `run_at` (the sweep
log's full schema), the sweep module's own `trial_stats` answers (a configuration re-run counts once, at its
latest result).

When the file, the table or its columns are absent, or the file cannot be opened (locked by a writer, DuckDB
not installed, not a database), `trial_stats` returns None and the tear sheet falls back to the run folder's
sweep.parquet, then to a single trial, and says which it used.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from research.analytics.metrics import PERIODS

TRIALS_DB = Path("results") / "trials.duckdb"


def trials_db(db: str | Path | None = None) -> Path:
    """`db`, else $FLOWBT_TRIALS, else results/trials.duckdb (relative to the working directory)."""
    if db is not None:
        return Path(db)
    return Path(os.environ.get("FLOWBT_TRIALS", TRIALS_DB))


def trial_stats(strategy: str | None, db: str | Path | None = None, periods: int = PERIODS,
                data_hash: str | None = None) -> tuple[int, float] | None:
    """(n_trials, sr_variance) of `strategy` (None: of every strategy) from the trial log, or None when there is
    no usable log.

    n_trials is the number of distinct configurations logged for the strategy (on `data_hash` when given and
    the log records it); sr_variance is the sample variance (ddof=1) of their Sharpe ratios *per period*
    (annualised Sharpe / sqrt(periods), so variance / periods), the unit that
    `research.analytics.stats.deflated_sharpe_ratio` takes; 0.0 with a single trial. None when the log is
    missing, unreadable, lacks `trials(strategy, sharpe)`, or holds no usable row for `strategy`.
    """
    path = trials_db(db)
    if not path.is_file():
        return None
    try:
        from research.sweep.triallog import trial_stats as logged
    except ImportError:
        logged = None
    if logged is not None:
        try:
            found = logged(strategy, path, data_hash=data_hash)
        except Exception:  # a lock, no duckdb: try the minimal reader below
            found = None
        if found is not None:  # else another schema (its rows lack the per-period Sharpe): the minimal reader
            return found
    return _read_minimal(strategy, path, periods, data_hash)


def _read_minimal(strategy: str | None, path: Path, periods: int, data_hash: str | None
                  ) -> tuple[int, float] | None:
    """The same statistics from a table with only (strategy, params, sharpe); None on any failure."""
    try:
        import duckdb
    except ImportError:
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception:  # locked, corrupt or another version: no usable log
        return None
    try:
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'trials'").fetchall()}
        if not {"strategy", "sharpe"} <= cols:
            return None
        key = "strategy, CAST(params AS VARCHAR)" if "params" in cols else "CAST(rowid AS VARCHAR)"
        conds, args = (["strategy = ?"], [strategy]) if strategy is not None else ([], [])
        if data_hash is not None and "data_hash" in cols:
            conds, args = [*conds, "data_hash = ?"], [*args, data_hash]
        where = " AND ".join(conds) or "TRUE"
        rows = con.execute(
            f"SELECT avg(sharpe) FROM trials WHERE {where} AND sharpe IS NOT NULL AND isfinite(sharpe) "
            f"GROUP BY {key}", args).fetchall()
    except Exception:  # a table of another shape: no usable log
        return None
    finally:
        con.close()
    return _stats([float(r[0]) for r in rows], periods)


def sweep_stats(sharpes: np.ndarray | list[float], periods: int = PERIODS) -> tuple[int, float] | None:
    """(n_trials, per-period sr_variance) from the annualised Sharpe ratios of a sweep; None if empty."""
    return _stats([float(x) for x in np.asarray(sharpes, dtype=float) if np.isfinite(x)], periods)


def _stats(sharpes: list[float], periods: int) -> tuple[int, float] | None:
    if not sharpes:
        return None
    n = len(sharpes)
    var = float(np.var(sharpes, ddof=1)) / periods if n > 1 else 0.0
    return n, var if math.isfinite(var) else 0.0
