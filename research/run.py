"""Run a strategy end to end: data -> target weights -> portfolio -> metrics -> run folder -> tear sheet.

A run folder holds everything needed to rebuild its tear sheet without re-running (`flowbt report`):
config.json, metrics.json, provenance.json, the engine's frames (parquet; returns and weights also CSV),
benchmarks.parquet, target.parquet, truth.json for synthetic data, and the tear sheet files. For the tear sheet's
signal diagnostics it also holds signal.parquet (the strategy's scores, when it defines `signal`) and
close.parquet (daily closes of the assets traded or scored). A sweep may add sweep.parquet (one row per
configuration tried: parameter columns and `sharpe`), which the tear sheet shows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from research.analytics.metrics import summary
from research.backtest import BacktestResult, ExecutionConfig, backtest, benchmark_returns
from research.data.market import MarketData
from research.errors import ConfigError
from research.logs import get_logger
from research.provenance import code_version, data_hash, library_versions, sources_table
from research.report.standby import report_standby
from research.strategy import Strategy

RESULTS = Path("results")
log = get_logger(__name__)
_SYNTH = re.compile(r"^synthetic(?::(?P<args>.*))?$")


def load_data(spec: str | Path = "synthetic") -> MarketData:
    """MarketData from a spec: 'synthetic', 'synthetic:seed=3,ic=0', or a directory of real data.

    A real-data directory is laid out like ../shared/data: `prices/` (Yahoo CSVs) and, when present,
    `cftc_tff/`, `13f/`, `reference/`, `factors/`. A directory of CSVs alone is read as prices.
    """
    text = str(spec)
    m = _SYNTH.match(text)
    if m:
        from research.data.synthetic import make_market

        kwargs: dict[str, Any] = {}
        for part in filter(None, (m.group("args") or "").split(",")):
            key, _, val = part.partition("=")
            if not val:
                raise ConfigError(f"--data {text!r}: expected key=value after 'synthetic:', got {part!r}")
            try:
                kwargs[key.strip()] = int(val) if key.strip() == "seed" else float(val)
            except ValueError:
                raise ConfigError(f"--data {text!r}: {key.strip()}={val!r} is not a number") from None
        return make_market(**kwargs)
    from research.data.real import load_real

    return load_real(Path(text))


@dataclass
class RunOutput:
    """What `run_strategy` returns: the folder, the metrics and the engine's result."""

    folder: Path
    strategy: Strategy
    params: dict[str, Any]
    metrics: dict[str, Any]
    result: BacktestResult
    benchmarks: pd.DataFrame
    seconds: float
    signal: pd.DataFrame | None = None


def default_config(strategy: Strategy, **overrides: Any) -> ExecutionConfig:
    """The execution config a strategy runs with by default: its mode, the engine's default costs."""
    return ExecutionConfig(mode=strategy.mode, **overrides)


def run_folder(strategy: str, out: Path | None = None) -> Path:
    """`out` if given, else results/runs/<strategy>/<UTC timestamp>."""
    if out is not None:
        return Path(out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return RESULTS / "runs" / strategy / stamp


def run_strategy(
    strategy: Strategy | str,
    data: MarketData,
    *,
    overrides: Mapping[str, Any] | None = None,
    config: ExecutionConfig | None = None,
    out: Path | None = None,
    tearsheet: bool = True,
    pdf: bool = True,
) -> RunOutput:
    """Run one strategy on `data` and write its run folder (and tear sheet unless `tearsheet=False`).

    The tear sheet is written by a forked process (`research.report.standby`) that imports the report code
    (matplotlib: half a second) while this one runs the strategy, and starts as soon as the folder's parquet and
    JSON files are written (it reads nothing else); without a second core, or if it fails, it is written here.
    """
    import strategies

    report = report_standby() if tearsheet else None
    try:
        t0 = time.perf_counter()
        strat = strategies.get(strategy) if isinstance(strategy, str) else strategy
        params = strat.resolve(overrides)
        cfg = config or default_config(strat)
        target = strat.target_weights(data, params)
        signal = strat.target_signal(data, params)
        result = backtest(data.prices, target, cfg)
        bench = benchmark_returns(data.prices, pd.DatetimeIndex(target.index), cfg)
        metrics = headline_metrics(result, bench)
        seconds = time.perf_counter() - t0
        folder = run_folder(strat.name, out)
        save_run(folder, strat, params, cfg, data, result, bench, metrics, seconds, signal=signal, csv=False)
        if report is not None:  # the tear sheet reads the parquet and JSON files, all written by now
            report.start(folder, pdf)
        try:
            result.save_csv(folder)  # ~0.2 s, for spreadsheets: written while the child draws
        except BaseException:
            if report is not None:
                report.wait()  # let the tear sheet finish rather than kill it half-written
            raise
        if tearsheet and not (report is not None and report.wait()):
            from research.report.tearsheet import write_tearsheet

            write_tearsheet(folder, pdf=pdf)
    finally:
        if report is not None:
            report.cancel()
    return RunOutput(folder, strat, params, metrics, result, bench, seconds, signal)


def headline_metrics(result: BacktestResult, bench: pd.DataFrame) -> dict[str, Any]:
    """The strategy's summary against SPY, plus the same numbers for each benchmark under `benchmarks`."""
    costs = result.costs.sum(axis=1) / result.equity.shift(1).fillna(result.config.init_cash)
    out = summary(result.returns, benchmark=bench.get("SPY"), turnover=result.turnover,
                  gross=result.gross, net=result.net, costs=costs)
    out["benchmarks"] = {name: summary(bench[name], benchmark=bench.get("SPY")) for name in bench.columns}
    return out


def _jsonable(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    if isinstance(obj, pd.Timedelta):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    return str(obj)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(_jsonable(obj), indent=2, sort_keys=False, allow_nan=True) + "\n")


def save_run(
    folder: Path, strat: Strategy, params: dict[str, Any], cfg: ExecutionConfig, data: MarketData,
    result: BacktestResult, bench: pd.DataFrame, metrics: dict[str, Any], seconds: float,
    signal: pd.DataFrame | None = None, csv: bool = True,
) -> None:
    """Write the run folder (frames, config, metrics, provenance, and what the tear sheet's diagnostics read);
    `csv=False` leaves returns.csv and weights.csv to `BacktestResult.save_csv`."""
    folder.mkdir(parents=True, exist_ok=True)
    result.save(folder, csv=csv)
    bench.to_parquet(folder / "benchmarks.parquet")
    if signal is not None:
        sig = signal.astype(float)
        sig.columns = [str(c) for c in sig.columns]
        sig.index.name = "date"
        sig.to_parquet(folder / "signal.parquet")
    save_closes(folder, data, result.target, signal)
    write_json(folder / "config.json", {
        "strategy": strat.name, "hypothesis": strat.hypothesis, "mode": strat.mode, "params": params,
        "grid": {k: list(v) for k, v in strat.grid.items()}, "needs": list(strat.needs),
        "mechanism": strat.mechanism, "execution": cfg.to_dict(), "execution_text": cfg.describe(),
        "data": data.name, "synthetic": data.synthetic, "description": strat.description,
        "signal": "strategy" if signal is not None else None,
    })
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "provenance.json", {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 3),
        "code": code_version(), "libraries": library_versions(), "data_name": data.name,
        "data_hash": data_hash(data), "log": list(result.log),
    })
    sources_table(data).to_json(folder / "sources.json", orient="records", date_format="iso", indent=2)
    if data.truth is not None:
        write_json(folder / "truth.json", data.truth)


def save_closes(folder: Path, data: MarketData, target: pd.DataFrame, signal: pd.DataFrame | None) -> None:
    """close.parquet: daily closes of every asset the run traded or scored (signal columns named by GICS sector
    are mapped to their ETF), so the tear sheet can compute forward returns without the data."""
    from research.data.universe import ETF_OF_SECTOR

    wanted = [str(c) for c in target.columns]
    if signal is not None:
        wanted += [ETF_OF_SECTOR.get(str(c), str(c)) for c in signal.columns]
    close = data.prices.close
    cols = [c for c in close.columns if c in set(wanted)]
    if cols:
        close[cols].astype(float).rename_axis("date").to_parquet(folder / "close.parquet")
