"""The trial log: every configuration ever run for a strategy, in an embedded DuckDB database.

`results/trials.duckdb`, table `trials`: one row per config per sweep (strategy, params as canonical JSON,
data_hash, code_version, run_at (UTC, with its time zone), the headline metrics and the deflated-Sharpe inputs
of raw and active returns). Sweeps append; nothing is ever deleted, so the deflated Sharpe ratio can count
every trial.

`trial_stats` is what DSR needs: the number of distinct trials (a config re-run on the same data is one
trial; its latest result counts) and the sample variance (ddof=1) of their per-period Sharpe ratios.

Nothing is lost. DuckDB lets one process write a file at a time (a second sweep, or a notebook holding the
file open, holds a lock). `append` waits for the lock (FLOWBT_TRIALS_WAIT seconds, default 30, saying so once),
and if it is still held writes the sweep's rows to a staging file beside the log
(`trials.duckdb.staging/*.parquet`, atomically) and says where. The next process that opens the log for
writing or reading merges every staged file in one transaction that also records the file's batch id in
`staged_batches`, so a batch is merged exactly once even if the process dies between the commit and the
deletion of the file.

Schema. `flowbt_meta.schema_version` is SCHEMA_VERSION; a log from an older flowbt is migrated when opened:
missing columns are added (NULL in old rows) and a naive run_at (UTC by construction) becomes TIMESTAMPTZ.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from research.errors import FlowbtError
from research.sweep.grid import params_key

log = logging.getLogger(__name__)

#: Default database (relative to the working directory, like every results/ path); FLOWBT_TRIALS overrides it.
DEFAULT_DB = Path("results") / "trials.duckdb"
#: Version 1: the first schema (run_at naive); 2: run_at TIMESTAMPTZ, flowbt_meta, staged_batches.
SCHEMA_VERSION = 2
DEFAULT_WAIT = 30.0

COLUMNS: tuple[tuple[str, str], ...] = (
    ("strategy", "VARCHAR"), ("params", "JSON"), ("data_hash", "VARCHAR"), ("code_version", "VARCHAR"),
    ("run_at", "TIMESTAMPTZ"), ("sharpe", "DOUBLE"), ("sortino", "DOUBLE"), ("cagr", "DOUBLE"),
    ("volatility", "DOUBLE"), ("max_drawdown", "DOUBLE"), ("turnover", "DOUBLE"), ("n_obs", "BIGINT"),
    ("sharpe_per_period", "DOUBLE"), ("skew", "DOUBLE"), ("kurtosis", "DOUBLE"),
    ("benchmark", "VARCHAR"), ("active_sharpe", "DOUBLE"), ("active_sharpe_per_period", "DOUBLE"),
    ("active_skew", "DOUBLE"), ("active_kurtosis", "DOUBLE"), ("sweep_id", "VARCHAR"), ("data_name", "VARCHAR"),
    ("engine", "VARCHAR"),
)
_NAMES = [c for c, _ in COLUMNS]
#: Columns of the first schema; a `trials` table without them is not a flowbt trial log.
CORE = frozenset({"strategy", "params", "data_hash", "run_at", "sharpe_per_period"})


class TrialLogLocked(FlowbtError, RuntimeError):
    """The trial log stayed locked by another process for the whole wait."""


def db_path(db: str | Path | None = None) -> Path:
    """`db`, else $FLOWBT_TRIALS, else results/trials.duckdb."""
    if db is not None:
        return Path(db)
    return Path(os.environ.get("FLOWBT_TRIALS", DEFAULT_DB))


def staging_dir(db: str | Path | None = None) -> Path:
    """Where rows wait while the log is locked: `<log>.staging/` beside it."""
    path = db_path(db)
    return path.with_name(path.name + ".staging")


def wait_seconds(wait: float | None = None) -> float:
    """`wait`, else $FLOWBT_TRIALS_WAIT, else DEFAULT_WAIT seconds."""
    if wait is not None:
        return float(wait)
    raw = os.environ.get("FLOWBT_TRIALS_WAIT", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_WAIT
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        from research.errors import ConfigError

        raise ConfigError(f"FLOWBT_TRIALS_WAIT must be a number of seconds >= 0, got {raw!r}.")
    return value


_TIMED_OUT: dict[str, float] = {}  # log path -> when a wait for it last timed out


def _is_lock(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def _connect(db: str | Path | None, create: bool, wait: float | None = None):
    """A read-write connection, migrated and with staged rows merged; waits for a lock (TrialLogLocked)."""
    import duckdb

    path = db_path(db)
    if create and not path.exists():
        _create(path)
    limit = wait_seconds(wait)
    if time.monotonic() - _TIMED_OUT.get(str(path), -1e9) < 60:  # it stayed locked a moment ago: wait briefly
        limit = min(limit, 1.0)
    deadline = time.monotonic() + limit
    told = False
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if not _is_lock(exc):
                raise
            if time.monotonic() >= deadline:
                _TIMED_OUT[str(path)] = time.monotonic()
                raise TrialLogLocked(f"the trial log {path} is locked by another process ({exc}). Close the "
                                     "notebook or sweep holding it, or wait for it to finish.") from exc
            if not told:
                log.warning("flowbt: the trial log %s is locked by another process; waiting up to %.0f s",
                            path, limit)
                told = True
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
    try:
        _migrate(con)
        _merge_staged(con, path)
    except BaseException:
        con.close()
        raise
    return con


def _create(path: Path) -> None:
    """Create an empty log at `path` atomically: built under a temporary name, then linked into place (a
    process that opens `path` meanwhile would otherwise find a file DuckDB has not finished writing)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
    try:
        con = duckdb.connect(str(tmp))
        try:
            _migrate(con)
        finally:
            con.close()
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process created it first: use theirs
            pass
        except OSError:  # no hard links here (some network or FAT file systems): a rename, nearly as good
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _migrate(con: Any) -> None:
    """Bring the log to SCHEMA_VERSION: create what is missing, add columns, make run_at time-zoned.

    A `trials` table without the columns every flowbt version wrote (CORE) is someone else's: it is left
    untouched and the answer is a ConfigError."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "flowbt_meta" in tables:
        rows = con.execute("SELECT value FROM flowbt_meta WHERE key = 'schema_version'").fetchall()
        if rows and int(rows[0][0]) >= SCHEMA_VERSION:
            return
    have = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'trials'").fetchall())
    if have and not CORE <= set(have):
        from research.errors import ConfigError

        raise ConfigError(f"the trial log holds a `trials` table that flowbt did not write (it lacks "
                          f"{', '.join(sorted(CORE - set(have)))}); point FLOWBT_TRIALS at another file.")
    con.execute("CREATE TABLE IF NOT EXISTS flowbt_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS staged_batches (batch VARCHAR PRIMARY KEY, rows BIGINT, "
                "merged_at TIMESTAMPTZ)")
    added = []
    if not have:
        con.execute(f"CREATE TABLE trials ({', '.join(f'{name} {kind}' for name, kind in COLUMNS)})")
    else:
        added = [name for name, _ in COLUMNS if name not in have]
        for name, kind in COLUMNS:
            if name not in have:
                con.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")
        if have["run_at"].upper() == "TIMESTAMP":  # version 1 wrote UTC wall-clock without a zone
            con.execute("ALTER TABLE trials ALTER run_at TYPE TIMESTAMPTZ USING timezone('UTC', run_at)")
    con.execute("INSERT OR REPLACE INTO flowbt_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    if have:
        log.info("flowbt: trial log migrated to schema version %d%s", SCHEMA_VERSION,
                 f" (added {', '.join(added)})" if added else "")


def _insert(con: Any, frame: pd.DataFrame) -> None:
    con.register("new_trials", frame[_NAMES])
    try:
        names = ", ".join(_NAMES)
        con.execute(f"INSERT INTO trials ({names}) SELECT {names} FROM new_trials")
    finally:
        con.unregister("new_trials")


def _merge_staged(con: Any, path: Path) -> int:
    """Insert every staged batch not merged yet (one transaction each, recorded in staged_batches); delete
    the files. Returns the number of rows merged."""
    folder = staging_dir(path)
    if not folder.is_dir():
        return 0
    total = 0
    for f in sorted(folder.glob("*.parquet")):
        batch = f.stem
        done = con.execute("SELECT 1 FROM staged_batches WHERE batch = ?", [batch]).fetchall()
        if not done:
            try:
                frame = pd.read_parquet(f)
            except Exception as exc:  # noqa: BLE001 - kept aside for a person to look at, never deleted
                bad = f.with_suffix(".unreadable")
                f.rename(bad)
                log.warning("flowbt: the staged trials %s cannot be read (%s); kept as %s, not merged", f, exc, bad)
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                _insert(con, frame)
                con.execute("INSERT INTO staged_batches VALUES (?, ?, ?)", [batch, len(frame), datetime.now(UTC)])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            total += len(frame)
            log.warning("flowbt: merged %d staged trial(s) from %s into the trial log %s", len(frame), f, path)
        f.unlink(missing_ok=True)
    return total


def _stage(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` to a new staging file beside the log (temporary name, then rename)."""
    folder = staging_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = folder / f".{final.name}.tmp"
    try:
        frame.to_parquet(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


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
    wait: float | None = None,
) -> int:
    """Append one row per config (params[i] with metrics row i); returns the number of rows logged.

    While another process holds the log, waits up to `wait` seconds (`wait_seconds`), then stages the rows
    beside the log (merged at the next open) and says so: a sweep's trials are never lost."""
    if len(params) != len(metrics):
        raise ValueError(f"{len(params)} configs but {len(metrics)} metric rows")
    when = pd.Timestamp(run_at or datetime.now(UTC))
    when = when.tz_localize("UTC") if when.tz is None else when.tz_convert("UTC")  # naive means UTC
    frame = pd.DataFrame({
        "strategy": strategy,
        "params": [params_key(p) for p in params],
        "data_hash": data_hash,
        "code_version": code_version or code_version_text(),
        "run_at": when,
    }, index=range(len(params)))
    for name, _ in COLUMNS[5:]:
        if name in frame.columns:
            continue
        if name in metrics.columns:
            frame[name] = metrics[name].to_numpy()
        else:
            frame[name] = {"benchmark": benchmark, "sweep_id": sweep_id, "data_name": data_name,
                           "engine": engine}.get(name)
    frame = frame[_NAMES]
    try:
        con = _connect(db, create=True, wait=wait)
    except TrialLogLocked as exc:
        staged = _stage(frame, db_path(db))
        log.warning("flowbt: %s The sweep's %d trial(s) are kept in %s and will be merged into the log the "
                    "next time it is opened.", exc, len(frame), staged)
        return len(frame)
    try:
        _insert(con, frame)
    finally:
        con.close()
    return len(frame)


def _connect_read(db: str | Path | None):
    """`_connect` (migrates, merges staged rows), or a read-only connection where the log cannot be written
    (a read-only folder); TrialLogLocked while another process holds it."""
    import duckdb

    try:
        return _connect(db, create=False)
    except duckdb.Error as exc:
        if _is_lock(exc):
            raise
        return duckdb.connect(str(db_path(db)), read_only=True)


def trials(strategy: str | None = None, db: str | Path | None = None) -> pd.DataFrame:
    """Every logged trial (of one strategy), oldest first; empty without a database."""
    if not db_path(db).exists():
        return pd.DataFrame(columns=[c for c, _ in COLUMNS])
    con = _connect_read(db)
    try:
        where, args = ("WHERE strategy = ?", [strategy]) if strategy else ("", [])
        return con.execute(f"SELECT * FROM trials {where} ORDER BY run_at", args).df()
    finally:
        con.close()


def trial_stats(
    strategy: str | None, db: str | Path | None = None, *, data_hash: str | None = None, active: bool = False
) -> tuple[int, float] | None:
    """(number of distinct trials, variance of their per-period Sharpe) for DSR, or None if none is logged.

    A trial is a distinct (strategy, params, data) triple (its latest result counts); `strategy` None counts
    every strategy's: searching 15 strategies on one data set is 15 searches, each deflating the others.
    `data_hash` restricts to trials on that data; `active` uses the Sharpe of returns against the benchmark
    instead of raw returns. The variance is the sample variance (ddof=1) over trials with a defined Sharpe;
    0.0 with a single trial.
    """
    if not db_path(db).exists():
        return None
    col = "active_sharpe_per_period" if active else "sharpe_per_period"
    con = _connect_read(db)
    try:
        conds = (["strategy = ?"] if strategy is not None else []) + (["data_hash = ?"] if data_hash else [])
        where = " AND ".join(conds) or "TRUE"
        args = ([strategy] if strategy is not None else []) + ([data_hash] if data_hash else [])
        row = con.execute(
            f"""WITH latest AS (
                    SELECT arg_max({col}, run_at) AS sr FROM trials WHERE {where}
                    GROUP BY strategy, CAST(params AS VARCHAR), data_hash)
                SELECT count(*), var_samp(sr) FROM latest WHERE sr IS NOT NULL AND isfinite(sr)""",
            args,
        ).fetchone()
    finally:
        con.close()
    if row is None or not row[0]:
        return None
    n = int(row[0])
    return n, float(row[1]) if row[1] is not None else 0.0
