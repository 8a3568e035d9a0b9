"""The trial log: every configuration ever run for a strategy, in an embedded DuckDB database.

`results/trials.duckdb`, table `trials`: one row per config per sweep (strategy, params as canonical JSON,
data_hash, code_version, run_at, the headline metrics and the deflated-Sharpe inputs of raw and active
returns). Sweeps append; nothing is ever deleted, so the deflated Sharpe ratio can count every trial.

`trial_stats` is what DSR needs: the number of distinct trials (a config re-run on the same data is one
trial; its latest result counts) and the sample variance (ddof=1) of their per-period Sharpe ratios.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from research.sweep.grid import params_key

#: Default database (relative to the working directory, like every results/ path); FLOWBT_TRIALS overrides it.
DEFAULT_DB = Path("results") / "trials.duckdb"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("strategy", "VARCHAR"), ("params", "JSON"), ("data_hash", "VARCHAR"), ("code_version", "VARCHAR"),
    ("run_at", "TIMESTAMP"), ("sharpe", "DOUBLE"), ("sortino", "DOUBLE"), ("cagr", "DOUBLE"),
    ("volatility", "DOUBLE"), ("max_drawdown", "DOUBLE"), ("turnover", "DOUBLE"), ("n_obs", "BIGINT"),
    ("sharpe_per_period", "DOUBLE"), ("skew", "DOUBLE"), ("kurtosis", "DOUBLE"),
    ("benchmark", "VARCHAR"), ("active_sharpe", "DOUBLE"), ("active_sharpe_per_period", "DOUBLE"),
    ("active_skew", "DOUBLE"), ("active_kurtosis", "DOUBLE"), ("sweep_id", "VARCHAR"), ("data_name", "VARCHAR"),
    ("engine", "VARCHAR"),
)


def db_path(db: str | Path | None = None) -> Path:
    """`db`, else $FLOWBT_TRIALS, else results/trials.duckdb."""
    if db is not None:
        return Path(db)
    return Path(os.environ.get("FLOWBT_TRIALS", DEFAULT_DB))


def _connect(db: str | Path | None, create: bool):
    import duckdb

    path = db_path(db)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    if create:
        cols = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
        con.execute(f"CREATE TABLE IF NOT EXISTS trials ({cols})")
    return con


def code_version_text() -> str:
    """Short git commit of the checkout, '+dirty' when it has uncommitted changes; 'unknown' outside git."""
    from research.provenance import code_version

    v = code_version()
    if not v.get("commit"):
        return "unknown"
    return f"{str(v['commit'])[:12]}{'+dirty' if v.get('dirty') else ''}"


def append(
    strategy: str,
    params: Sequence[Mapping[str, Any]],
    metrics: pd.DataFrame,
    *,
    data_hash: str,
    code_version: str | None = None,
    benchmark: str | None = None,
    sweep_id: str | None = None,
    data_name: str | None = None,
    engine: str = "fused",
    db: str | Path | None = None,
    run_at: datetime | None = None,
) -> int:
    """Append one row per config (params[i] with metrics row i); returns the number of rows written."""
    if len(params) != len(metrics):
        raise ValueError(f"{len(params)} configs but {len(metrics)} metric rows")
    when = (run_at or datetime.now(UTC)).replace(tzinfo=None)
    frame = pd.DataFrame({
        "strategy": strategy,
        "params": [params_key(p) for p in params],
        "data_hash": data_hash,
        "code_version": code_version or code_version_text(),
        "run_at": pd.Timestamp(when),
    }, index=range(len(params)))
    for name, _ in COLUMNS[5:]:
        if name in frame.columns:
            continue
        if name in metrics.columns:
            frame[name] = metrics[name].to_numpy()
        else:
            frame[name] = {"benchmark": benchmark, "sweep_id": sweep_id, "data_name": data_name,
                           "engine": engine}.get(name)
    frame = frame[[c for c, _ in COLUMNS]]
    con = _connect(db, create=True)
    try:
        con.register("new_trials", frame)
        con.execute("INSERT INTO trials SELECT * FROM new_trials")
        con.unregister("new_trials")
    finally:
        con.close()
    return len(frame)


def trials(strategy: str | None = None, db: str | Path | None = None) -> pd.DataFrame:
    """Every logged trial (of one strategy), oldest first; empty without a database."""
    if not db_path(db).exists():
        return pd.DataFrame(columns=[c for c, _ in COLUMNS])
    con = _connect(db, create=False)
    try:
        where, args = ("WHERE strategy = ?", [strategy]) if strategy else ("", [])
        return con.execute(f"SELECT * FROM trials {where} ORDER BY run_at", args).df()
    finally:
        con.close()


def trial_stats(
    strategy: str, db: str | Path | None = None, *, data_hash: str | None = None, active: bool = False
) -> tuple[int, float] | None:
    """(number of distinct trials, variance of their per-period Sharpe) for DSR, or None if none is logged.

    A trial is a distinct (params, data) pair (its latest result counts). `data_hash` restricts to trials on
    that data; `active` uses the Sharpe of returns against the benchmark instead of raw returns. The
    variance is the sample variance (ddof=1) over trials with a defined Sharpe; 0.0 with a single trial.
    """
    if not db_path(db).exists():
        return None
    col = "active_sharpe_per_period" if active else "sharpe_per_period"
    con = _connect(db, create=False)
    try:
        where = "strategy = ?" + (" AND data_hash = ?" if data_hash else "")
        args = [strategy] + ([data_hash] if data_hash else [])
        row = con.execute(
            f"""WITH latest AS (
                    SELECT arg_max({col}, run_at) AS sr FROM trials WHERE {where}
                    GROUP BY CAST(params AS VARCHAR), data_hash)
                SELECT count(*), var_samp(sr) FROM latest WHERE sr IS NOT NULL AND isfinite(sr)""",
            args,
        ).fetchone()
    finally:
        con.close()
    if row is None or not row[0]:
        return None
    n = int(row[0])
    return n, float(row[1]) if row[1] is not None else 0.0
