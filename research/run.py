"""Run a strategy end to end: data -> target weights -> portfolio -> metrics -> run folder -> tear sheet.

A run folder holds everything needed to rebuild its tear sheet without re-running (`flowbt report`):
config.json, metrics.json, provenance.json, the engine's frames (parquet; returns and weights also CSV),
benchmarks.parquet, target.parquet, truth.json for synthetic data, and the tear sheet files. For the tear sheet's
signal diagnostics it also holds signal.parquet (the strategy's scores, when it defines `signal`) and
close.parquet (daily closes of the assets traded or scored). A sweep may add sweep.parquet (one row per
configuration tried: parameter columns and `sharpe`), which the tear sheet shows.

The module is callable: `research.run(strategy, data="synthetic", **params)` is `run(...)` below, a `Run` in
memory that writes nothing until asked (`Run.save`, `Run.tearsheet`). `run_strategy` is the command line's path
(it writes the folder and the tear sheet, the latter in a forked process); both start at `execute`.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import types
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from research import registry
from research.analytics.metrics import summary
from research.atomic import atomic_folder
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


_YF = re.compile(r"^yfinance(?::(?P<tickers>.*))?$")


def load_data(spec: str | Path = "synthetic") -> MarketData:
    """MarketData from a spec: 'synthetic', 'synthetic:seed=3,ic=0', 'yfinance', 'yfinance:SPY,XLK', or a
    directory of real data.

    A real-data directory is laid out like ../shared/data: `prices/` (Yahoo CSVs) and, when present,
    `cftc_tff/`, `13f/`, `reference/`, `factors/`. A directory of CSVs alone is read as prices.
    'yfinance' reads the price cache that `flowbt data fetch-prices` fills, offline (SPY and the 11 sector ETFs
    unless tickers are named): prices alone, so strategies that need positioning data say what is missing.
    """
    text = str(spec)
    yf = _YF.match(text)
    if yf:
        from research.data.real import prices_market
        from research.data.sources import load_prices

        tickers = [t.strip().upper() for t in (yf.group("tickers") or "").split(",") if t.strip()] or None
        prices = load_prices("yfinance", tickers, offline=True)
        return prices_market(prices, f"yfinance cache ({', '.join(prices.tickers)})")
    text = str(spec)
    m = _SYNTH.match(text)
    if m:
        from research.data.synthetic import make_market

        kwargs: dict[str, Any] = {}
        for part in filter(None, (m.group("args") or "").split(",")):
            key, _, val = part.partition("=")
            if not val:
                raise ConfigError(f"--data {text!r}: expected key=value after 'synthetic:', got {part!r}")
            key = key.strip()
            try:
                kwargs[key] = int(val) if key == "seed" else float(val)
            except ValueError:
                what = "a whole number" if key == "seed" else "a number"
                raise ConfigError(f"--data {text!r}: {key}={val!r} is not {what}") from None
            if key == "seed" and not 0 <= kwargs[key] < 2**63:
                raise ConfigError(f"--data {text!r}: seed={val} must be a whole number >= 0 (numpy's seeds are).")
            if key != "seed" and not (math.isfinite(kwargs[key]) and -1.0 <= kwargs[key] <= 1.0):
                raise ConfigError(f"--data {text!r}: {key}={val} must be a finite number in [-1, 1]: a strength is "
                                  "the rank IC (a correlation) the mechanism adds; ic=0 removes every edge.")
        return make_market(**kwargs)
    from research.data.real import load_real

    return load_real(Path(text))


@dataclass(repr=False)
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

    def __repr__(self) -> str:
        m = self.metrics
        return (f"<RunOutput {self.strategy.name} in {self.folder}: Sharpe {m.get('sharpe', float('nan')):.2f}, "
                f"CAGR {m.get('cagr', float('nan')):+.1%}>")


#: Runs in memory by key, so that a returns Series taken from a run (`Run.returns`, tagged in its attrs) can
#: find that run's benchmarks: `research.tearsheet(run.returns, benchmark="SPY")`.
RUNS: weakref.WeakValueDictionary[str, Run] = weakref.WeakValueDictionary()
RUN_KEY = "flowbt_run"


@dataclass(repr=False, eq=False)
class Run:
    """One strategy run in memory: what `research.run` returns.

    `metrics` are the tear sheet's headline numbers (against SPY, with each benchmark's under `benchmarks`);
    `returns`, `equity`, `weights`, `trades`, `costs` and `target` are the engine's frames; `portfolio` is the
    run as a `vbt.Portfolio` (built on first access). `save(folder)` writes the run folder that `flowbt run`
    writes; `tearsheet(path)` shows the tear sheet inline, and writes it when given a folder.
    """

    strategy: Strategy
    params: dict[str, Any]
    config: ExecutionConfig
    data: MarketData
    result: BacktestResult
    benchmarks: pd.DataFrame
    metrics: dict[str, Any]
    seconds: float
    signal: pd.DataFrame | None = None
    folder: Path | None = None
    created_utc: str = ""

    def __post_init__(self) -> None:
        self.created_utc = self.created_utc or datetime.now(UTC).isoformat(timespec="seconds")
        self.key = f"{self.strategy.name}@{id(self):x}"
        RUNS[self.key] = self

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def returns(self) -> pd.Series:
        """Daily returns after costs (tagged with this run, so `research.tearsheet` finds its benchmarks)."""
        r = self.result.returns.rename(self.name)
        r.attrs[RUN_KEY] = self.key
        return r

    @property
    def equity(self) -> pd.Series:
        return self.result.equity

    @property
    def weights(self) -> pd.DataFrame:
        """Held weights at each close (after drift)."""
        return self.result.weights

    @property
    def target(self) -> pd.DataFrame:
        """Target weights on decision sessions, as the strategy set them (after the engine's checks)."""
        return self.result.target

    @property
    def trades(self) -> pd.DataFrame:
        return self.result.trades

    @property
    def costs(self) -> pd.DataFrame:
        return self.result.costs

    @property
    def portfolio(self) -> Any:
        """The run as a `vbt.Portfolio` (252-session year; imports vectorbt on first access)."""
        return self.result.portfolio

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        r = self.result.returns.dropna()
        return r.index[0], r.index[-1]

    def record(self, folder: Path | None = None) -> Any:
        """The run as a `research.report.load.RunRecord` in memory: what `load_run` reads back from its folder."""
        from research.provenance import sources_table
        from research.report.load import RunRecord

        r = self.result
        prov = run_provenance(self.data, r, self.seconds, self.created_utc, strategy=self.strategy)
        return RunRecord(
            folder=Path(folder) if folder is not None else (self.folder or Path(self.name)),
            config=_jsonable(run_config(self.strategy, self.params, self.config, self.data, self.signal)),
            metrics=_jsonable(self.metrics), provenance=_jsonable(prov),
            returns=r.returns.rename("returns"), equity=r.equity.rename("equity"), weights=r.weights,
            target=r.target, benchmarks=self.benchmarks, gross=r.gross, net=r.net,
            turnover=r.turnover.rename("turnover"), costs=r.costs, trades=r.trades, sources=sources_table(self.data),
            truth=_jsonable(self.data.truth) if self.data.truth is not None else None,
            signal=signal_frame(self.signal) if self.signal is not None else None,
            close=closes_frame(self.data, r.target, self.signal),
        )

    def save(self, folder: str | Path | None = None, *, tearsheet: bool = True, pdf: bool = True) -> Path:
        """Write the run folder (default results/runs/<strategy>/<timestamp>) and its tear sheet; the folder."""
        out = run_folder(self.name, Path(folder) if folder is not None else None)
        save_run(out, self.strategy, self.params, self.config, self.data, self.result, self.benchmarks,
                 self.metrics, self.seconds, signal=self.signal, created_utc=self.created_utc)
        self.folder = out
        if tearsheet:
            from research.report.tearsheet import write_tearsheet

            write_tearsheet(out, pdf=pdf)
        log.info("run folder: %s", out)
        return out

    def tearsheet(self, path: str | Path | None = None, *, benchmark: Any = None, pdf: bool = True) -> Any:
        """The tear sheet (a `research.report.sheets.TearSheet`: shown inline in a notebook); with `path`, also
        written there as tearsheet.html, tearsheet.pdf and figures/."""
        from research.report.sheets import tearsheet

        return tearsheet(self, benchmark=benchmark, out=path, pdf=pdf)

    def __repr__(self) -> str:
        from research.display import run_text

        return run_text(self)

    def _repr_html_(self) -> str:
        from research.display import run_html

        return run_html(self)


def run(strategy: Strategy | str, data: MarketData | str | Path = "synthetic", *,
        config: ExecutionConfig | None = None, fill: str | None = None, fees_bps: float | None = None,
        slippage_bps: float | None = None, borrow_bps: float | None = None, **params: Any) -> Run:
    """Run `strategy` (a name or a `Strategy`) on `data` (a `MarketData` or a spec for `load_data`) with
    `params` overriding its defaults; execution from `config`, else the strategy's default with any of
    fill/fees_bps/slippage_bps/borrow_bps given. Nothing is written: see `Run.save` and `Run.tearsheet`."""
    strat = registry.get(strategy) if isinstance(strategy, str) else strategy
    market = data if isinstance(data, MarketData) else load_data(data)
    if config is None:
        kw = {k: v for k, v in (("fill", fill), ("fees_bps", fees_bps), ("slippage_bps", slippage_bps),
                                ("borrow_bps", borrow_bps)) if v is not None}
        config = default_config(strat, **kw)
    elif any(v is not None for v in (fill, fees_bps, slippage_bps, borrow_bps)):
        raise ConfigError("give either config= or fill/fees_bps/slippage_bps/borrow_bps, not both")
    return execute(strat, market, overrides=params, config=config)


def strategy_table() -> pd.DataFrame:
    """Every registered strategy (the strategy packages of `research.registry` and any registered in this
    session): its mode, what data it needs, its hypothesis. `research.strategies()`; the CLI's `flowbt list`
    prints the same registry."""
    rows = {name: {"mode": s.mode, "needs": ", ".join(s.needs), "hypothesis": s.hypothesis}
            for name, s in registry.registry().items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("strategy")


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
    report = report_standby() if tearsheet else None
    try:
        run = execute(strategy, data, overrides=overrides, config=config)
        folder = run_folder(run.name, out)
        run.folder = folder
        with atomic_folder(folder) as work:  # renamed to `folder` once complete; removed on any failure
            save_run(work, run.strategy, run.params, run.config, data, run.result, run.benchmarks, run.metrics,
                     run.seconds, signal=run.signal, csv=False)
            if report is not None:  # the tear sheet reads the parquet and JSON files, all written by now
                report.start(work, pdf)
            try:
                run.result.save_csv(work)  # ~0.2 s, for spreadsheets: written while the child draws
            except BaseException:
                if report is not None:
                    report.wait()  # let the child finish before its folder is removed
                raise
            if tearsheet and not (report is not None and report.wait()):
                from research.report.tearsheet import write_tearsheet

                log.debug("tear sheet written in this process (no forked writer)")
                write_tearsheet(work, pdf=pdf)
    finally:
        if report is not None:
            report.cancel()
    return RunOutput(folder, run.strategy, run.params, run.metrics, run.result, run.benchmarks, run.seconds,
                     run.signal)


def execute(
    strategy: Strategy | str,
    data: MarketData,
    *,
    overrides: Mapping[str, Any] | None = None,
    config: ExecutionConfig | None = None,
) -> Run:
    """Run one strategy on `data` in memory: target weights, the engine, benchmarks and headline metrics.

    `run_strategy` and `research.run` both start here; nothing is written."""
    t0 = time.perf_counter()
    strat = registry.get(strategy) if isinstance(strategy, str) else strategy
    params = strat.resolve(overrides)
    cfg = config or default_config(strat)
    target = strat.target_weights(data, params)
    signal = strat.target_signal(data, params)
    result = backtest(data.prices, target, cfg)
    bench = benchmark_returns(data.prices, pd.DatetimeIndex(target.index), cfg)
    metrics = headline_metrics(result, bench)
    for entry in result.log:
        log.debug("%s: %s", strat.name, entry)
    return Run(strat, params, cfg, data, result, bench, metrics, time.perf_counter() - t0, signal)


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
    signal: pd.DataFrame | None = None, csv: bool = True, created_utc: str | None = None,
) -> None:
    """Write the run folder (frames, config, metrics, provenance, and what the tear sheet's diagnostics read);
    `csv=False` leaves returns.csv and weights.csv to `BacktestResult.save_csv`."""
    folder.mkdir(parents=True, exist_ok=True)
    result.save(folder, csv=csv)
    bench.to_parquet(folder / "benchmarks.parquet")
    if signal is not None:
        signal_frame(signal).to_parquet(folder / "signal.parquet")
    save_closes(folder, data, result.target, signal)
    write_json(folder / "config.json", run_config(strat, params, cfg, data, signal))
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "provenance.json", run_provenance(data, result, seconds, created_utc, strategy=strat))
    sources_table(data).to_json(folder / "sources.json", orient="records", date_format="iso", indent=2)
    if data.truth is not None:
        write_json(folder / "truth.json", data.truth)


def signal_frame(signal: pd.DataFrame) -> pd.DataFrame:
    """The strategy's scores as signal.parquet holds them: floats, string columns, index named date."""
    sig = signal.astype(float)
    sig.columns = [str(c) for c in sig.columns]
    sig.index.name = "date"
    return sig


def run_config(strat: Strategy, params: dict[str, Any], cfg: ExecutionConfig, data: MarketData,
               signal: pd.DataFrame | None) -> dict[str, Any]:
    """config.json: the strategy, its parameters and grid, the execution and the data's name."""
    return {
        "strategy": strat.name, "hypothesis": strat.hypothesis, "mode": strat.mode, "params": params,
        "grid": {k: list(v) for k, v in strat.grid.items()}, "needs": list(strat.needs),
        "mechanism": strat.mechanism, "execution": cfg.to_dict(), "execution_text": cfg.describe(),
        "data": data.name, "synthetic": data.synthetic, "description": strat.description,
        "signal": "strategy" if signal is not None else None,
    }


def run_provenance(data: MarketData, result: BacktestResult, seconds: float, created_utc: str | None = None,
                   *, strategy: Strategy | None = None) -> dict[str, Any]:
    """provenance.json: when, how long, from which code, libraries and inputs, the engine's log, and (with the
    strategy) which panel metrics and sources it read and the data's notes on them (e.g. basket coverage)."""
    read = [*strategy.data_read(data), *data.notes_for([*result.target.columns, *strategy.sources_read(data)])] \
        if strategy is not None else []
    return {
        "created_utc": created_utc or datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 3),
        "code": code_version(), "libraries": library_versions(), "data_name": data.name,
        "data_hash": data_hash(data), "log": [*result.log, *read],
    }


def save_closes(folder: Path, data: MarketData, target: pd.DataFrame, signal: pd.DataFrame | None) -> None:
    """close.parquet: daily closes of every asset the run traded or scored (signal columns named by GICS sector
    are mapped to their ETF), so the tear sheet can compute forward returns without the data."""
    close = closes_frame(data, target, signal)
    if close is not None:
        close.to_parquet(folder / "close.parquet")


def closes_frame(data: MarketData, target: pd.DataFrame, signal: pd.DataFrame | None) -> pd.DataFrame | None:
    """close.parquet's frame: the closes of the assets traded or scored (None when there is none)."""
    from research.data.universe import ETF_OF_SECTOR

    wanted = [str(c) for c in target.columns]
    if signal is not None:
        wanted += [ETF_OF_SECTOR.get(str(c), str(c)) for c in signal.columns]
    close = data.prices.close
    cols = [c for c in close.columns if c in set(wanted)]
    return close[cols].astype(float).rename_axis("date") if cols else None


class _CallableModule(types.ModuleType):
    """`research.run` is this module and the function `run` at once (`import research; research.run(...)`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Run:
        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
