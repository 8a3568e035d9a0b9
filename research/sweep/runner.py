"""Run a sweep: grid -> plan -> kernel (local or Dask) -> ranked metrics, trial log, overfitting statistics.

`run_sweep` evaluates every config (metrics only) and ranks them by the *score*: the Sharpe ratio of active
returns against the strategy's own benchmark (long-only sector books: EW_SECTORS; SPY timing books: SPY times
each config's average net exposure, `matched_active`), else of raw returns (dollar-neutral books: against
zero). It logs every config to the trial log, then re-runs configs to keep their daily returns: the top `top`,
the top `pbo_configs` (the candidates), `pbo_configs` spread evenly over the ranking, and the luck test's
family: every valid config, up to `SPA_MAX` (beyond that the `SPA_MAX` best, said so on the sheet).

Verdict: `research.sweep.verdict` (`analyse`), on the returns kept here.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research import registry
from research.backtest.benchmarks import EW_SECTORS, benchmark_returns
from research.backtest.config import ExecutionConfig
from research.data.market import MarketData
from research.data.universe import MARKET, SECTOR_ETFS
from research.errors import ConfigError
from research.strategy import Strategy
from research.sweep import kernel, plans, triallog
from research.sweep.executors import Job, LocalExecutor, chunks, progress_enabled
from research.sweep.grid import MAX_CONFIGS, expand, params_key, varied
from research.sweep.plans import Plan
from research.sweep.verdict import SweepStats, analyse

#: The luck test's family: every valid config of the sweep, up to this many (the best by score beyond it).
SPA_MAX = 2_000
#: Configs re-run at a time to score timing books against their exposure-matched benchmark.
MATCH_CHUNK = 1_000


@dataclass(repr=False)
class SweepResult:
    """A finished sweep: the ranked table, kept daily returns, and how it was run."""

    strategy: str
    table: pd.DataFrame  # one row per config, ranked by score; index = config id (grid order)
    returns: pd.DataFrame  # daily returns of the kept configs (columns = config ids)
    bench: pd.Series | None
    benchmark: str | None
    score: str  # the metric column ranked on
    grid: dict[str, list[Any]]
    varied: list[str]
    kind: str
    executor: str
    seconds: float
    data_name: str
    data_hash: str
    sweep_id: str
    pbo_ids: list[int] = field(default_factory=list)  # the top candidates
    search_ids: list[int] = field(default_factory=list)  # spread evenly over the ranking (with the best)
    stats: SweepStats | None = None
    compile_seconds: float = 0.0  # numba compilation during the sweep (a cold cache), not in `seconds`
    matched: bool = False  # a timing book scored against SPY x its average exposure (`matched_active`)
    spa_ids: list[int] = field(default_factory=list)  # the family the luck test judges: every valid config (<= SPA_MAX)

    @property
    def n_configs(self) -> int:
        return len(self.table)

    @property
    def best(self) -> int:
        return int(self.table.index[0])

    def params(self, config: int) -> dict[str, Any]:
        return {k: _plain(self.table.loc[config, k]) for k in self.table.attrs["params"]}

    def label(self, config: int) -> str:
        """'buy_weeks=3, hold=4' over the varied parameters."""
        keys = self.varied or self.table.attrs["params"]
        return ", ".join(f"{k}={_plain(self.table.loc[config, k])}" for k in keys)

    def save(self, folder: Any = None, *, heatmap: tuple[str, str] | None = None, pdf: bool = True) -> Path:
        """Write the sweep folder (default results/sweeps/<strategy>/<timestamp>) and its tear sheet."""
        from research.sweep.report import write_sweep

        return write_sweep(self, Path(folder) if folder is not None else None, heatmap=heatmap, pdf=pdf)

    def __repr__(self) -> str:
        from research.display import sweep_text

        return sweep_text(self)

    def _repr_html_(self) -> str:
        from research.display import sweep_html

        return sweep_html(self)

    def scored_returns(self, ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Daily returns the score is computed on: active against the benchmark when there is one (for a timing
        book, `matched`: SPY times each config's average net exposure, from its first traded session)."""
        r = self.returns if ids is None else self.returns[list(ids)]
        if self.bench is None:
            return r
        if self.matched:
            return matched_active(r, self.bench, self.table.loc[list(r.columns), "avg_net"].to_numpy(float))
        return r.sub(self.bench, axis=0)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def matched_active(returns: pd.DataFrame, bench: pd.Series, exposure: np.ndarray) -> pd.DataFrame:
    """Active returns of timing configs against their exposure-matched benchmark: r_k - e_k * SPY, e_k the
    config's average net exposure, NaN before its first non-zero return (the warm-up, when it holds nothing).

    Why not plain SPY: a timing book that is out of the market part of the time earns less of the equity premium
    with no skill at all, so its return against SPY (weight 1) punishes leaving SPY and rewards configs that
    barely do; against e_k * SPY the active return has mean zero without an edge (tests/test_strategy_edges.py).
    """
    r = returns.to_numpy(dtype=float)
    b = bench.reindex(returns.index).to_numpy(dtype=float)
    act = r - b[:, None] * np.asarray(exposure, dtype=float)[None, :]
    started = np.cumsum(np.nan_to_num(np.abs(r)) > 0, axis=0) > 0
    act[~started] = np.nan
    return pd.DataFrame(act, index=returns.index, columns=returns.columns)


def default_benchmark(strategy: Strategy, tickers: Sequence[str]) -> str | None:
    """EW_SECTORS for long-only sector books, SPY for SPY timing, none for dollar-neutral / long-short books."""
    if strategy.mode == "long_only" and set(tickers) <= set(SECTOR_ETFS):
        return EW_SECTORS
    if strategy.mode == "timing" and list(tickers) == [MARKET]:
        return MARKET
    return None


def resolve_benchmark(spec: str | None, strategy: Strategy, tickers: Sequence[str]) -> str | None:
    if spec in (None, "auto"):
        return default_benchmark(strategy, tickers)
    if spec in ("none", "cash", ""):
        return None
    if spec not in (MARKET, EW_SECTORS):
        raise ConfigError(f"benchmark must be auto, none, {MARKET} or {EW_SECTORS}; got {spec!r}.")
    return spec


def executor(name: str, scheduler: str | None = None, **kw: Any) -> Any:
    """An executor by name: 'local' or 'dask' (LocalCluster, or the scheduler at `scheduler`)."""
    if name == "local":
        if scheduler:
            raise ConfigError("--scheduler needs --executor dask.")
        return LocalExecutor()
    if name == "dask":
        if importlib.util.find_spec("distributed") is None:
            raise ConfigError("--executor dask needs Dask's distributed scheduler, which is not installed: "
                              "pip install 'flowbt[dask]' (or use --executor local).")
        from research.sweep.cluster import DaskExecutor  # Dask is optional: imported only when asked for

        return DaskExecutor(scheduler, **kw)
    raise ConfigError(f"executor must be 'local' or 'dask', got {name!r}.")


def evaluate(job: Job, ex: Any, chunk: int, progress: bool, desc: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Accumulators (C, N_ACC), segments (C, S, 3) and {global slot: returns} of every config of a job."""
    results = ex.map(job, chunks(job.plan.size, chunk), progress, desc)
    acc = np.concatenate([r.acc for r in results]) if results else np.zeros((0, kernel.nb.N_ACC))
    seg = np.concatenate([r.seg for r in results]) if results else np.zeros((0, 1, kernel.nb.N_SEG))
    rets = {int(s): row for r in results for s, row in zip(r.slots, r.returns, strict=True)}
    return acc, seg, rets


def make_job(plan: Plan, data: MarketData, config: ExecutionConfig, bench: pd.Series | None,
             segments: np.ndarray | None = None, slots: np.ndarray | None = None) -> Job:
    mk = kernel.build_market(data.prices, plan.dates, plan.tickers, config, bench, segments)
    if slots is None:
        slots = np.full(plan.size, -1, dtype=np.int64)
    n_slots = int((slots >= 0).sum())
    if plan.fused:
        return Job(plan, mk, slots, n_slots)
    return Job(plan, mk, slots, n_slots, data=data, config=config, bench=bench)


def keep_returns(plan: Plan, data: MarketData, config: ExecutionConfig, bench: pd.Series | None,
                 ids: Sequence[int], ex: Any = None) -> pd.DataFrame:
    """Daily returns of configs `ids` of a plan (re-run through the kernel), columns = config ids."""
    ids = [int(i) for i in ids]
    sub = plan.subset(np.array(ids, dtype=np.int64))
    job = make_job(sub, data, config, bench, slots=np.arange(len(ids), dtype=np.int64))
    _, _, rets = evaluate(job, ex or LocalExecutor(), max(len(ids), 1), False, "returns")
    index = kernel.run_index(data.prices, plan.dates)
    return pd.DataFrame({c: rets[k] for k, c in enumerate(ids)}, index=index)


def run_sweep(
    strategy: Strategy | str,
    data: MarketData,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    base: Mapping[str, Any] | None = None,
    config: ExecutionConfig | None = None,
    benchmark: str | None = "auto",
    executor_name: str = "local",
    scheduler: str | None = None,
    ex: Any = None,
    fused: bool = True,
    chunk: int | None = None,
    top: int = 20,
    pbo_configs: int = 64,
    log: bool = True,
    db: Any = None,
    progress: bool | None = None,
    max_configs: int = MAX_CONFIGS,
) -> SweepResult:
    """Sweep `strategy` over `grid` (its own grid by default) on `data`; see the module docstring."""
    from research._numba import compile_seconds
    from research.provenance import data_hash
    from research.run import default_config

    t0, c0 = time.perf_counter(), compile_seconds()
    strat = registry.get(strategy) if isinstance(strategy, str) else strategy
    grid = {k: list(v) for k, v in (strat.grid if grid is None else grid).items()}
    params = expand(strat, grid, base, max_configs=max_configs)
    plan = plans.prepare(strat, data, params, fused=fused)
    cfg = config or default_config(strat)
    bench_name = resolve_benchmark(benchmark, strat, plan.tickers)
    bench = benchmark_returns(data.prices, plan.dates, cfg, (bench_name,))[bench_name] if bench_name else None
    job = make_job(plan, data, cfg, bench)
    own = ex is None
    ex = ex or executor(executor_name, scheduler)
    try:
        size = chunk or (max(256, math.ceil(plan.size / 20)) if plan.fused else 1)
        acc, _, _ = evaluate(job, ex, size, progress_enabled(progress), f"sweep {strat.name}")
        metrics = kernel.finalise(acc)
        matched = bench is not None and bench_name == MARKET and strat.mode == "timing"
        if matched:  # rank timing configs against SPY x their own average exposure, every config in chunks
            for lo in range(0, plan.size, MATCH_CHUNK):
                ids_c = list(range(lo, min(lo + MATCH_CHUNK, plan.size)))
                r = keep_returns(plan, data, cfg, bench, ids_c, ex if not plan.fused else None)
                act = matched_active(r, bench, metrics.loc[ids_c, "avg_net"].to_numpy(float))
                for key, vals in kernel.active_metrics(act.to_numpy()).items():
                    metrics.loc[ids_c, key] = vals
        score = "active_sharpe" if bench is not None else "sharpe"
        table = pd.concat([pd.DataFrame(params), metrics], axis=1)
        table.index.name = "config"
        table = table.sort_values(score, ascending=False, na_position="last", kind="stable")
        table.attrs["params"] = list(params[0])
        ranked = table.index.to_numpy()
        valid = ranked[np.isfinite(table[score].to_numpy())]
        pbo_ids = [int(c) for c in valid[:pbo_configs]]
        search_ids = [int(valid[i]) for i in np.unique(np.linspace(0, len(valid) - 1, min(pbo_configs, len(valid)))
                                                       .round().astype(int))] if len(valid) else []
        spa_ids = [int(c) for c in valid[:SPA_MAX]]
        ids = list(dict.fromkeys([int(i) for i in ranked[:top]] + pbo_ids + search_ids + spa_ids))
        returns = keep_returns(plan, data, cfg, bench, ids, ex if not plan.fused else None)
    finally:
        if own:
            ex.close()
    compiling = compile_seconds() - c0  # a cold numba cache's first sweep: not the sweep's own time
    seconds = time.perf_counter() - t0 - compiling
    dh = data_hash(data)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    result = SweepResult(
        strategy=strat.name, table=table, returns=returns, bench=bench, benchmark=bench_name, score=score,
        grid=grid, varied=varied(params), kind=plan.kind, executor=ex.name, seconds=seconds,
        data_name=data.name, data_hash=dh, sweep_id=f"{strat.name}/{stamp}", pbo_ids=pbo_ids,
        search_ids=search_ids, compile_seconds=compiling, matched=matched, spa_ids=spa_ids,
    )
    if log:
        triallog.append(strat.name, params, metrics, data_hash=dh, benchmark=bench_name,
                        sweep_id=result.sweep_id, data_name=data.name, db=db,
                        engine="fused" if plan.fused else "engine")
    return result


def config_label(result: SweepResult, config: int) -> str:
    """'buy_weeks=3, hold=4' over the varied parameters (`SweepResult.label`)."""
    return result.label(config)


__all__ = ["SweepResult", "SweepStats", "analyse", "config_label", "keep_returns", "params_key", "run_sweep"]
