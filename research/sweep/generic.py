"""The generic sweep path: a strategy without a fused plan runs its weights() and the vectorbt engine per config.

Slow (the engine and the strategy's pandas code once per config) but exactly the single-run numbers; the sweep
labels it "engine (no fused plan)". The engine's daily series are folded into the same accumulators as the
fused kernel's (`nb.fold_nb`), so everything downstream is shared.
"""

from __future__ import annotations

import numpy as np

from research import registry
from research.backtest.engine import backtest
from research.strategy import Strategy
from research.sweep import nb


def engine_config(job, c: int, acc: np.ndarray, seg: np.ndarray, ret: np.ndarray, slot: int) -> None:
    """Run config c of a generic job through the engine and fold its daily series into acc / seg / ret[slot]."""
    strat: Strategy | None = job.plan.source
    if strat is None:  # a plan built before plans carried their strategy
        strat = registry.get(job.plan.strategy)
    weights = strat.weights(job.data, **job.plan.params[c])
    res = backtest(job.data.prices, weights, job.config)
    r = res.returns.to_numpy(dtype=float)
    mk = job.market
    if len(r) != mk.close.shape[0]:
        raise ValueError(f"{strat.name} config {c}: the run has {len(r)} sessions, the sweep {mk.close.shape[0]} "
                         "(its first decision date moved); sweep it in groups with the same schedule.")
    prev = res.equity.shift(1).fillna(job.config.init_cash).to_numpy(dtype=float)
    cost = res.costs.sum(axis=1).to_numpy(dtype=float) / prev
    nb.fold_nb(r, res.turnover.to_numpy(dtype=float), res.gross.to_numpy(dtype=float),
               res.net.to_numpy(dtype=float), cost, mk.bench, mk.has_bench, mk.seg_of, acc, seg)
    if slot >= 0:
        ret[slot] = r
