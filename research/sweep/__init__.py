"""Parameter sweeps, the trial log, overfitting statistics and walk-forward (issue 7).

- `run_sweep` / `analyse` / `write_sweep`: many configs at once through the fused numba kernel
  (`research.sweep.nb`, one plan per strategy in `research.sweep.plans`), ranked, logged, and judged.
- `triallog`: every config ever run, in results/trials.duckdb; `trial_stats` feeds the deflated Sharpe ratio.
- `walkforward`: anchored / rolling splits, in-sample choice, stitched out-of-sample run and tear sheet.
- executors: `local` (numba threads) or `dask` (`research.sweep.cluster`).

The package is callable: `research.sweep(strategy, data="synthetic", grid=None, **options)` is `sweep` below.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from research.sweep.grid import expand, parse_grid
from research.sweep.runner import SweepResult, run_sweep
from research.sweep.triallog import trial_stats
from research.sweep.verdict import SweepStats, analyse

__all__ = ["SweepResult", "SweepStats", "analyse", "expand", "parse_grid", "run_sweep", "sweep", "trial_stats"]


def sweep(strategy: Any, data: Any = "synthetic", grid: Mapping[str, Sequence[Any]] | None = None, *,
          judge: bool = True, progress: bool | None = None, **options: Any) -> SweepResult:
    """Sweep `strategy` over `grid` (its own grid by default) on `data` (a `MarketData` or a spec), every config
    through the fused kernel and into the trial log; with `judge`, the best config's deflated Sharpe, PBO,
    bootstrap interval and SPA (`analyse`). `options` go to `run_sweep` (base, config, benchmark,
    executor_name, ...). Nothing is written but the trial log: see `SweepResult.save`."""
    from research.data.market import MarketData
    from research.run import load_data

    market = data if isinstance(data, MarketData) else load_data(data if isinstance(data, str | Path) else str(data))
    res = run_sweep(strategy, market, grid, progress=progress, **options)
    if judge:
        analyse(res)
    return res


class _CallableModule(types.ModuleType):
    """`research.sweep` is this package and the function `sweep` at once."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
