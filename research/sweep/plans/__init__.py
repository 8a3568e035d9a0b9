"""Sweep plans: a strategy's weights() recast for the fused kernel, one module per strategy.

A plan module `research.sweep.plans.<strategy>` (named after the strategy) provides
  - `prepare(data, params) -> Plan`: the batched signals, computed once per distinct parameter value with the
    `research.signals` kernels (compact dtypes: bool masks), and an integer / float config table (one row
    per config);
  - `rows_nb(arrays, ci, cf, out)`: njit, the target weights of config (ci, cf) at every decision into `out`
    (decisions x assets), allocation-free and without array views or calls per row;
  - `rows_many_nb(arrays, ints, floats, todo, wbuf, keys)`: njit(parallel) driver, the weights of each config
    of `todo` into the buffer wbuf[t] (`rows_nb`) and their fingerprint into keys[t]
    (`research.sweep.nb.fingerprint_nb`); the shared core then simulates the buffer's rows
    (`research.sweep.nb.simulate_rows_nb`), each distinct portfolio once;
  - `weights_nb(arrays, ci, cf, n_dec, m)`: njit, the full weights matrix of one config (tests compare it
    with the strategy's own `weights()` exactly);
  - `sweep_nb(arrays, ints, floats, order, market, acc, seg, ret, slots, lane_rets, lane_ckpt, lane_w)`:
    njit(parallel) driver, configs without a batch buffer (`research.sweep.executors.fused_configs`);
  - optionally `sweep_order(ints, floats)`: the order to run the configs in (a permutation), configs that
    share their first weight rows next to each other, since each resumes where the previous one's weights
    part (`research.sweep.executors.sweep_order`); without it, the given order.
Numba cannot cache a kernel that takes another kernel as an argument, so each plan has its own short drivers
calling its `rows_nb` (copy them from `fresh_flow_low_exposure`); everything else is shared. Numba's cache
does not notice when the core changes under a plan's cached drivers; `refresh_cache` does.

Strategies without a plan sweep through `generic_plan`: the strategy's `weights()` and the vectorbt engine
per config (slow, correct, labelled "engine (no fused plan)").
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.registry import is_shipped
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
    module: str | None = None  # plan module with rows_many_nb / weights_nb; None = generic (engine per config)
    source: Strategy | None = None  # the strategy object of a generic plan (registered or not; pickled to workers)

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
                    self.floats, self.module, self.source)

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
    if fused and has_plan(strategy.name) and is_shipped(strategy):
        mod = importlib.import_module(f"{__name__}.{strategy.name}")
        refresh_cache(mod)
        return mod.prepare(data, params)
    return generic_plan(strategy, data, params)


#: Kernels compiled into every plan's drivers (numba caches a driver with them inlined, but watches only the
#: file that defines the driver).
CORE_SOURCES = ("research/sweep/nb.py", "research/signals/nb.py")
_DRIVERS = ("rows_many_nb", "sweep_nb", "rows_nb", "weights_nb")
_refreshed: set[str] = set()


def _core_digest() -> str:
    root = Path(__file__).resolve().parents[3]
    h = hashlib.sha1()
    for rel in CORE_SOURCES:
        h.update((root / rel).read_bytes())
    return h.hexdigest()


def refresh_cache(mod: Any, names: tuple[str, ...] = _DRIVERS) -> None:
    """Drop a plan's cached drivers when the core kernels changed since they were cached.

    Numba invalidates a cached function when *its* file changes, not when a kernel it calls (the shared core,
    the signal kernels) does; without this a plan would keep running the old core from the on-disk cache.
    A stamp beside each driver's cache records the core it was compiled with. Once per module per process.
    """
    if mod.__name__ in _refreshed:
        return
    _refreshed.add(mod.__name__)
    digest = _core_digest()
    for name in names:
        cache = getattr(getattr(mod, name, None), "_cache", None)
        path = getattr(cache, "cache_path", None)
        if not path:
            continue
        fn = getattr(mod, name).py_func
        stamp = Path(path) / f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__qualname__}.core"
        try:
            if stamp.exists() and stamp.read_text() == digest:
                continue
            cache.flush()
            stamp.write_text(digest)
        except OSError:  # a read-only cache: numba will not write to it either
            pass


def generic_plan(strategy: Strategy, data: MarketData, params: list[dict[str, Any]]) -> Plan:
    """A plan that runs the strategy's weights() and the engine per config (dates and tickers from config 0)."""
    w0 = strategy.weights(data, **params[0])
    return Plan(strategy.name, params, pd.DatetimeIndex(w0.index), list(w0.columns), source=strategy)


def decision_map(obs_index: pd.DatetimeIndex, dates: pd.DatetimeIndex) -> np.ndarray:
    """For each decision date, the row of the last observed week on or before it (-1 before the first).

    This is `research.book.on_decisions`: weights on observed weeks carried to every decision session.
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
