"""Parameter sweeps, the trial log, overfitting statistics and walk-forward (issue 7).

- `run_sweep` / `analyse` / `write_sweep`: many configs at once through the fused numba kernel
  (`research.sweep.nb`, one plan per strategy in `research.sweep.plans`), ranked, logged, and judged.
- `triallog`: every config ever run, in results/trials.duckdb; `trial_stats` feeds the deflated Sharpe ratio.
- `walkforward`: anchored / rolling splits, in-sample choice, stitched out-of-sample run and tear sheet.
- executors: `local` (numba threads) or `dask` (`research.sweep.cluster`).
"""

from research.sweep.grid import expand, parse_grid
from research.sweep.runner import SweepResult, SweepStats, analyse, run_sweep
from research.sweep.triallog import trial_stats

__all__ = ["SweepResult", "SweepStats", "analyse", "expand", "parse_grid", "run_sweep", "trial_stats"]
