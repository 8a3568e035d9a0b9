"""Where a sweep's chunks run: in this process (`local`) or on a Dask cluster (`dask`, see `cluster`).

A sweep is cut into coarse chunks of configs (`Job` + (lo, hi)); each chunk returns metrics accumulators only
(and the daily returns of the few configs that asked for them). Chunks are independent and each config's
numbers depend on nothing but its inputs, so any executor gives bit-identical results.

Dask: `DaskExecutor()` starts a `LocalCluster` (worker processes, one thread each); `DaskExecutor(address)`
connects to any dask.distributed scheduler (`tcp://host:8786`). The client compiles (or loads) the fused kernel
first, so the on-disk numba cache exists before any worker needs it; workers on this machine, or on machines
sharing `NUMBA_CACHE_DIR`, load it instead of compiling. The job (market and signal arrays) is scattered to
the workers once. Workers need the same flowbt code installed (the kernels are imported by module name).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from research.sweep import nb
from research.sweep.plans import Plan


@dataclass
class Job:
    """Everything a chunk needs: the plan, the shared market, return slots; the engine inputs for generic plans."""

    plan: Plan
    market: nb.Market
    slots: np.ndarray  # (C,) int64: row of the returns output of each config, -1 = none
    n_slots: int
    data: Any = None  # MarketData (generic plans only)
    config: Any = None  # ExecutionConfig (generic plans only)
    bench: Any = None  # benchmark returns Series (generic plans only)


@dataclass
class ChunkResult:
    lo: int
    hi: int
    acc: np.ndarray  # (hi - lo, N_ACC)
    seg: np.ndarray  # (hi - lo, S, N_SEG)
    slots: np.ndarray  # global slot of each returned row
    returns: np.ndarray  # (len(slots), n_sessions)
    compiled: int = 0  # numba compilations this chunk needed (0 when the cache was warm)


def n_segments(mk: nb.Market) -> int:
    return max(int(mk.seg_of.max()) + 1, 1) if len(mk.seg_of) else 1


def run_chunk(job: Job, lo: int, hi: int) -> ChunkResult:
    """Run configs lo..hi-1 of the job (fused kernel, or the engine per config for a generic plan)."""
    mk = job.market
    n = mk.close.shape[0]
    s = n_segments(mk)
    global_slots = job.slots[lo:hi]
    want = np.flatnonzero(global_slots >= 0)
    local = np.full(hi - lo, -1, dtype=np.int64)
    local[want] = np.arange(len(want))
    acc = np.zeros((hi - lo, nb.N_ACC))
    seg = np.zeros((hi - lo, s, nb.N_SEG))
    ret = np.zeros((len(want), n))
    compiled = 0
    if job.plan.fused:
        mod = importlib.import_module(job.plan.module)
        before = _compiled(mod.sweep_nb)
        p = job.plan
        mod.sweep_nb(mk, p.arrays, p.ints[lo:hi], p.floats[lo:hi], local, acc, seg, ret)
        compiled = _compiled(mod.sweep_nb) - before
    else:
        from research.sweep.generic import engine_config

        for c in range(lo, hi):
            engine_config(job, c, acc[c - lo], seg[c - lo], ret, int(local[c - lo]))
    return ChunkResult(lo, hi, acc, seg, global_slots[want], ret, compiled)


def _compiled(dispatcher: Any) -> int:
    """Compilations (cache misses) of a numba dispatcher so far."""
    return int(sum(dispatcher.stats.cache_misses.values()))


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def progress_enabled(flag: bool | None = None) -> bool:
    """Progress bars unless CI=true or stderr is not a terminal (or `flag` says otherwise)."""
    if flag is not None:
        return flag
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return sys.stderr.isatty()


class LocalExecutor:
    """Chunks one after another in this process; the fused kernel itself runs configs in parallel threads."""

    name = "local"

    def map(self, job: Job, spans: list[tuple[int, int]], progress: bool, desc: str) -> list[ChunkResult]:
        out = []
        with tqdm(total=job.plan.size, desc=desc, unit="cfg", disable=not progress) as bar:
            for lo, hi in spans:
                out.append(run_chunk(job, lo, hi))
                bar.update(hi - lo)
        return out

    def close(self) -> None:
        pass


def warm(job: Job) -> None:
    """Compile or load the job's fused kernel in this process (one config), writing the on-disk cache."""
    run_chunk(job, 0, min(1, job.plan.size))


def executor(name: str, scheduler: str | None = None, **kw: Any) -> Any:
    """An executor by name: 'local' or 'dask' (LocalCluster, or the scheduler at `scheduler`)."""
    from research.errors import ConfigError

    if name == "local":
        if scheduler:
            raise ConfigError("--scheduler needs --executor dask.")
        return LocalExecutor()
    if name == "dask":
        from research.sweep.cluster import DaskExecutor

        return DaskExecutor(scheduler, **kw)
    raise ConfigError(f"executor must be 'local' or 'dask', got {name!r}.")
