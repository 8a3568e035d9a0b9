"""Sweep plans: a strategy's weights() recast for the fused kernel, one module per strategy.

A plan module `research.sweep.plans.<strategy>` (named after the strategy) provides
  - `prepare(data, params) -> Plan`: the batched signals, computed once per distinct parameter value with the
    `research.signals` kernels, and an integer / float config table (one row per config);
  - `row_nb(arrays, ci, cf, k, out, work)`: njit, the target-weight row of config (ci, cf) at decision k;
  - `sweep_nb(mk, arrays, ints, floats, slots, acc, seg, ret)`: njit(parallel) driver, configs in `prange`,
    decision rows inside, the shared core (`research.sweep.nb`) advancing the portfolio;
  - `weights_nb(arrays, ci, cf, n_dec, m)`: njit, the full weights matrix of one config (tests compare it
    with the strategy's own `weights()` exactly).
Numba cannot cache a kernel that takes another kernel as an argument, so each plan has its own two-line
driver (`sweep_nb`) calling its `row_nb`; everything else is shared.

Strategies without a plan sweep through `generic_plan`: the strategy's `weights()` and the vectorbt engine
per config (slow, correct, labelled "engine (no fused plan)").
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.strategy import Strategy


@dataclass
class Plan:
    """A strategy's configs ready for the kernel: arrays shared by every config and a per-config table."""

    strategy: str
    params: list[dict[str, Any]]
    dates: pd.DatetimeIndex  # decision sessions (the weights index)
    tickers: list[str]
    arrays: tuple = ()
    ints: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.int64))
    floats: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    module: str | None = None  # plan module with sweep_nb / weights_nb; None = generic (engine per config)

    @property
    def fused(self) -> bool:
        return self.module is not None

    @property
    def size(self) -> int:
        return len(self.params)

    @property
    def kind(self) -> str:
        return "fused numba kernel" if self.fused else "engine (no fused plan): vectorbt per config"

    def subset(self, idx: np.ndarray) -> Plan:
        """The same plan restricted to configs `idx` (in that order)."""
        idx = np.asarray(idx, dtype=np.int64)
        return Plan(self.strategy, [self.params[i] for i in idx], self.dates, self.tickers, self.arrays,
                    self.ints[idx] if len(self.ints) else self.ints, self.floats[idx] if len(self.floats) else
                    self.floats, self.module)

    def impl(self) -> Any:
        return importlib.import_module(self.module) if self.module else None

    def weights(self, c: int) -> pd.DataFrame:
        """Target weights of config c (decision sessions x tickers), as the strategy's weights() returns them."""
        mod = self.impl()
        if mod is None:
            raise TypeError("a generic plan has no fused weights; call the strategy's weights()")
        w = mod.weights_nb(self.arrays, self.ints[c], self.floats[c], len(self.dates), len(self.tickers))
        out = pd.DataFrame(w, index=self.dates, columns=list(self.tickers))
        out.index.name = "date"
        return out


def available() -> list[str]:
    """Strategies with a fused plan."""
    return sorted(i.name for i in pkgutil.iter_modules(__path__) if not i.name.startswith("_"))


def has_plan(name: str) -> bool:
    return name in available()


def prepare(strategy: Strategy, data: MarketData, params: list[dict[str, Any]], fused: bool = True) -> Plan:
    """The strategy's plan for these configs: fused when a plan module exists (and `fused`), else generic."""
    if fused and has_plan(strategy.name):
        mod = importlib.import_module(f"{__name__}.{strategy.name}")
        return mod.prepare(data, params)
    return generic_plan(strategy, data, params)


def generic_plan(strategy: Strategy, data: MarketData, params: list[dict[str, Any]]) -> Plan:
    """A plan that runs the strategy's weights() and the engine per config (dates and tickers from config 0)."""
    w0 = strategy.weights(data, **params[0])
    return Plan(strategy.name, params, pd.DatetimeIndex(w0.index), list(w0.columns))


def decision_map(obs_index: pd.DatetimeIndex, dates: pd.DatetimeIndex) -> np.ndarray:
    """For each decision date, the row of the last observed week on or before it (-1 before the first).

    This is `_common.on_decisions`: weights on observed weeks carried to every decision session.
    """
    pos = pd.DatetimeIndex(obs_index).searchsorted(pd.DatetimeIndex(dates), side="right") - 1
    return pos.astype(np.int64)


def codes(values: list[Any], name: str) -> tuple[list[Any], np.ndarray]:
    """Distinct values (first-seen order) and the index of each value among them."""
    distinct: list[Any] = []
    index = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        key = (type(v).__name__, v)
        if key not in index:
            index[key] = len(distinct)
            distinct.append(v)
        out[i] = index[key]
    return distinct, out
