"""Provenance of a run: code version, input hash, library versions, and the inputs table."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from research.data.market import MarketData, SourceInfo

if TYPE_CHECKING:
    from research.strategy import Strategy

_ROOT = Path(__file__).resolve().parents[1]
_LIBS = ("flowbt", "vectorbt", "numba", "numpy", "pandas", "matplotlib")


def code_version() -> dict[str, str | bool | None]:
    """The git commit of the checkout (and whether it has uncommitted changes), or None outside git."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    dirty = None if commit is None else bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a result, and Python's."""
    out = {"python": platform.python_version()}
    for name in _LIBS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def frame_hash(*frames: pd.DataFrame | pd.Series) -> str:
    """A stable SHA-256 of frames' values, index and columns (the same data gives the same hash anywhere)."""
    h = hashlib.sha256()
    for f in frames:
        h.update(np.ascontiguousarray(pd.util.hash_pandas_object(f, index=True).to_numpy()).tobytes())
        if isinstance(f, pd.DataFrame):
            h.update("|".join(map(str, f.columns)).encode())
    return h.hexdigest()


def data_hash(data: MarketData) -> str:
    """Hash of every input a strategy could read: prices (open, close) and the panel."""
    return frame_hash(data.prices.close, data.prices.open, data.panel)


def inputs_hash(data: MarketData, strategy: Strategy) -> str:
    """Hash of what one strategy reads: the open and close of the tickers its `needs` name plus the benchmarks'
    (SPY and the sector ETFs present), and the panel rows of the metrics it needs. A file added to a data folder
    for another strategy leaves it unchanged."""
    from research.data.universe import MARKET, SECTOR_ETFS

    needs = [alt for n in strategy.needs for alt in n.split("|")]  # "a|b": either may be read
    wanted = {n.split(":", 1)[1] for n in needs if n.startswith("price:")} | {MARKET, *SECTOR_ETFS}
    tickers = [t for t in data.prices.tickers if t in wanted]
    metrics = sorted(n for n in needs if not n.startswith("price:"))
    panel = data.panel[data.panel["metric"].isin(metrics)].sort_values(
        ["metric", "entity", "as_of", "available_at"], kind="stable").reset_index(drop=True)
    return frame_hash(data.prices.close[tickers], data.prices.open[tickers], panel)


def sources_table(data: MarketData) -> pd.DataFrame:
    """One row per input: name, kind, date range, rows, missing values and the lag rule applied."""
    rows = list(data.sources) or [_prices_source(data)]
    return pd.DataFrame([s.__dict__ for s in rows])


def _prices_source(data: MarketData) -> SourceInfo:
    close = data.prices.close
    return SourceInfo(
        name=f"prices ({data.prices.source})", kind="prices", start=close.index[0], end=close.index[-1],
        rows=int(close.notna().sum().sum()), missing=int(close.isna().sum().sum()),
        lag_rule="close of session t known at t's close", detail=", ".join(close.columns),
    )
