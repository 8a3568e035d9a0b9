"""Read a run folder back into memory, so a tear sheet can be rebuilt without re-running anything."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from research.errors import ConfigError


@dataclass
class RunRecord:
    """Everything a tear sheet shows, as saved by `research.run.save_run`."""

    folder: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    target: pd.DataFrame
    benchmarks: pd.DataFrame
    gross: pd.Series
    net: pd.Series
    turnover: pd.Series
    costs: pd.DataFrame
    trades: pd.DataFrame
    sources: pd.DataFrame
    truth: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    signal: pd.DataFrame | None = None  # signal.parquet: the strategy's scores (decision dates x assets)
    close: pd.DataFrame | None = None  # close.parquet: daily closes of the assets traded or scored
    sweep: pd.DataFrame | None = None  # sweep.parquet: one row per configuration (parameters, sharpe, ...)
    omit: dict[str, str] = field(default_factory=dict)  # tear-sheet sections this input cannot support: why

    @property
    def kind(self) -> str:
        """'run' (a strategy run), or what a tear sheet was asked of: 'returns' or 'portfolio'."""
        return str(self.config.get("kind", "run"))

    @property
    def name(self) -> str:
        return str(self.config.get("strategy", self.folder.name))

    @property
    def synthetic(self) -> bool:
        return bool(self.config.get("synthetic"))


def _frame(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    if not path.exists():
        raise ConfigError(f"{folder}: {path.name} is missing; the run folder is incomplete — run it again.")
    return pd.read_parquet(path)


def _series(folder: Path, name: str) -> pd.Series:
    df = _frame(folder, name)
    return df.iloc[:, 0].rename(name) if isinstance(df, pd.DataFrame) else df


def _optional(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def load_run(folder: Path) -> RunRecord:
    """Load a run folder written by `flowbt run`."""
    folder = Path(folder)
    if not (folder / "metrics.json").exists():
        raise ConfigError(f"{folder} is not a run folder (no metrics.json).")

    def js(name: str) -> Any:
        p = folder / name
        return json.loads(p.read_text()) if p.exists() else None

    exposure = _frame(folder, "exposure")
    sources = pd.read_json(folder / "sources.json") if (folder / "sources.json").exists() else pd.DataFrame()
    return RunRecord(
        folder=folder, config=js("config.json"), metrics=js("metrics.json"), provenance=js("provenance.json"),
        returns=_series(folder, "returns"), equity=_series(folder, "equity"), weights=_frame(folder, "weights"),
        target=_frame(folder, "target"), benchmarks=_frame(folder, "benchmarks"), gross=exposure["gross"],
        net=exposure["net"], turnover=_series(folder, "turnover"), costs=_frame(folder, "costs"),
        trades=_frame(folder, "trades"), sources=sources, truth=js("truth.json"),
        signal=_optional(folder, "signal"), close=_optional(folder, "close"), sweep=_optional(folder, "sweep"),
    )
