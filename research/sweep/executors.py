"""Where a sweep's chunks run: in this process (`LocalExecutor`), or on a Dask cluster (`cluster.DaskExecutor`,
built on the pieces here); `runner.executor` picks one by name.

A sweep is cut into coarse chunks of configs (`Job` + (lo, hi)); each chunk returns metrics accumulators only
(and the daily returns of the few configs that asked for them). Chunks are independent and each config's
numbers depend on nothing but its inputs, so any executor gives bit-identical results.

Identical portfolios are simulated once (`fused_configs`): the plan writes a batch of configs' target weights
and fingerprints them (the plan's `rows_many_nb`), the core simulates the batch's configs whose fingerprint
is new (and every config whose daily returns are wanted), and the others copy the accumulators of the first
config with their fingerprint. Grids often hold many such configs
(a top_n above the number of signals, thresholds no observation falls between). The local executor finds
them over the whole sweep; a Dask chunk, within the chunk.

Dask: `DaskExecutor()` starts a `LocalCluster` (worker processes, one thread each); `DaskExecutor(address)`
connects to any dask.distributed scheduler (`tcp://host:8786`). The client compiles (or loads) the fused kernel
first, so the on-disk numba cache exists before any worker needs it; workers on this machine, or on machines
sharing `NUMBA_CACHE_DIR`, load it instead of compiling. The job (market and signal arrays) is scattered to
the workers once. Workers need the same flowbt code installed (the kernels are imported by module name).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from tqdm.auto import tqdm

from research.logs import progress_enabled  # noqa: F401  (re-exported: runner, walk-forward)
from research.sweep import nb
from research.sweep.plans import Plan, refresh_cache


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


#: Configs whose weights are held at once (`fused_configs`): 64 x decisions x assets float64 (7.6 MB for
#: 1,357 weekly decisions x 11 sectors), small enough to stay in cache between the two passes over it.
WEIGHTS_BATCH = 64


#: A sweep fingerprints the weights of its first PROBE_CONFIGS configs (without simulating them); if fewer than
#: DEDUPE_MIN of them repeat an earlier config's weights, every config runs in lanes without fingerprints, else in
#: batches (`fused_configs`). The probe costs ~1% of a 10,000-config sweep. The share is
#: steady along a plan's order: 11-12% at 512, 1,024 and 2,048 configs of the benchmark's 10,000-config
#: sample of fresh_flow_low_exposure's grid (lanes win by ~15-25%), 28-45% on its full 100,000-config grid
#: (batches win by ~14%).
PROBE_CONFIGS = 512
DEDUPE_MIN = 0.25
#: Configs per call of a plan's `sweep_nb` (progress is reported between calls).
LANE_ROUND = 4_096


def fused_configs(job: Job, lo: int, hi: int, dedupe: bool = True,
                  done: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Configs lo..hi-1 of a fused job: (acc, seg, local return slots, returns, compilations).

    Configs go in the plan's order (`sweep_order`), two ways:
      - batches of `WEIGHTS_BATCH`: the plan's `rows_many_nb` writes each config's target weights into a shared
        buffer and fingerprints them (`nb.fingerprint_nb`), then `nb.simulate_rows_nb` simulates the buffer's
        rows, a thread's run of them at a time, each config from the first fill where its weights leave the
        previous one's. A config whose fingerprint was seen before in this span (same weights, same portfolio)
        is not simulated but copies the first such config's metrics, unless its daily returns are wanted.
      - lanes (the plan's `sweep_nb`): a lane per thread takes every n-th chunk of `nb.CHUNK` configs and
        simulates each config as soon as it has written its weights, in a buffer of its own that stays in the
        core's cache, resuming after the lane's previous config; no fingerprint, no buffer shared
        between threads, no Python between configs (~25% faster per config on this 2-core machine, where
        writing every config's weights to a shared buffer is bound by memory bandwidth).
    With `dedupe` the weights of the first `PROBE_CONFIGS` configs are fingerprinted first: batches if at
    least `DEDUPE_MIN` of them repeat an earlier config's weights (a dense grid: simulating each distinct
    portfolio once wins), else lanes (identical neighbours there cost only their last fills). Without `dedupe`,
    lanes. Results are the same either way, to the bit. `done(k)` is called as configs complete (for progress).
    """
    mk = job.market
    p = job.plan
    mod = importlib.import_module(p.module)
    refresh_cache(mod)
    has_lanes = hasattr(mod, "sweep_nb")
    drivers = [mod.rows_many_nb, nb.simulate_rows_nb] + ([mod.sweep_nb] if has_lanes else [])
    before = sum(_compiled(d) for d in drivers)
    n_dec, m = mk.no_price.shape
    count = hi - lo
    ints = p.ints[lo:hi]
    floats = p.floats[lo:hi]
    want = job.slots[lo:hi] >= 0
    local = np.full(count, -1, dtype=np.int64)
    local[want] = np.arange(int(want.sum()))
    acc = np.zeros((count, nb.N_ACC))
    seg = np.zeros((count, n_segments(mk), nb.N_SEG))
    ret = np.zeros((int(want.sum()), mk.close.shape[0]))
    rep = np.arange(count, dtype=np.int64)  # the config each config copies its metrics from (itself: simulated)
    first: dict[tuple[int, int], int] = {}
    size = min(WEIGHTS_BATCH, max(count, 1))
    order = sweep_order(mod, ints, floats)
    threads = numba.get_num_threads()
    b0 = 0
    batched = not has_lanes or (dedupe and _repeats_often(mod, p, ints, floats, order[:PROBE_CONFIGS], size))
    if batched:
        wbuf = np.empty((size, n_dec, m))
        keys = np.zeros((size, 2), dtype=np.uint64)
        lanes = Lanes(mk, threads)
    while batched and b0 < count:
        todo = order[b0:b0 + size]
        mod.rows_many_nb(p.arrays, ints, floats, todo, wbuf, keys)
        rows = np.arange(len(todo), dtype=np.int64)
        if dedupe:
            for t, (k1, k2) in enumerate(keys[: len(todo)].tolist()):
                c = int(todo[t])
                seen = first.setdefault((k1, k2), c)
                if seen != c and not want[c]:
                    rep[c] = seen
            rows = rows[rep[todo] == todo]
        lanes.simulate(wbuf, rows, todo[rows], local, acc, seg, ret)
        b0 += len(todo)
        if done is not None:
            done(len(todo))
    if b0 < count:
        lane_rets, lane_ckpt = nb.lane_buffers(mk, threads)
        lane_w = np.zeros((threads, 2, n_dec, m))
        for r0 in range(b0, count, LANE_ROUND):
            part = np.ascontiguousarray(order[r0:r0 + LANE_ROUND])
            mod.sweep_nb(p.arrays, ints, floats, part, mk, acc, seg, ret, local, lane_rets, lane_ckpt, lane_w)
            if done is not None:
                done(len(part))
    copies = np.flatnonzero(rep != np.arange(count))
    acc[copies] = acc[rep[copies]]
    seg[copies] = seg[rep[copies]]
    compiled = sum(_compiled(d) for d in drivers) - before
    return acc, seg, local, ret, compiled


def _repeats_often(mod: Any, p: Plan, ints: np.ndarray, floats: np.ndarray, probe: np.ndarray, size: int
                   ) -> bool:
    """Whether at least `DEDUPE_MIN` of the `probe` configs repeat an earlier one's weights (their fingerprints
    only, in batches of `size`: nothing is simulated, so lanes lose nothing to the probe but its weights)."""
    if len(probe) == 0:
        return False
    n_dec, m = p.dates.shape[0], len(p.tickers)
    wbuf = np.empty((size, n_dec, m))
    keys = np.zeros((len(probe), 2), dtype=np.uint64)
    for b0 in range(0, len(probe), size):
        mod.rows_many_nb(p.arrays, ints, floats, probe[b0:b0 + size], wbuf, keys[b0:b0 + size])
    distinct = len(set(map(tuple, keys.tolist())))
    return 1.0 - distinct / len(probe) >= DEDUPE_MIN


class Lanes:
    """Runs of configs, one per thread, each resuming where the previous config of its run stops sharing its
    weights (`nb.plan_runs_nb`, `nb.simulate_rows_nb`); the first run of a batch continues the last of the
    previous batch (its weights are kept here)."""

    def __init__(self, mk: nb.Market, threads: int) -> None:
        self.mk = mk
        self.n = max(int(threads), 1)
        self.rets, self.ckpt = nb.lane_buffers(mk, self.n)
        self.w_last = np.zeros(mk.no_price.shape)
        self.has_last = False
        self.last_set = 0
        self.bounds = np.zeros(self.n + 1, dtype=np.int64)

    def simulate(self, wbuf: np.ndarray, rows: np.ndarray, configs: np.ndarray, slots: np.ndarray,
                 acc: np.ndarray, seg: np.ndarray, ret: np.ndarray) -> None:
        """`nb.simulate_rows_nb` on wbuf[rows] for `configs` (acc, seg and slots indexed by config)."""
        if len(rows) == 0:
            return
        k0s = np.zeros(len(rows), dtype=np.int64)
        nb.plan_runs_nb(self.mk, wbuf, rows, self.w_last, self.has_last, k0s, self.bounds)
        sets = (np.arange(self.n, dtype=np.int64) + self.last_set) % self.n
        nb.simulate_rows_nb(self.mk, wbuf, rows, configs, slots, acc, seg, ret, self.rets, self.ckpt, k0s,
                            self.bounds, sets)
        last_run = int(np.flatnonzero(np.diff(self.bounds) > 0)[-1])
        self.last_set = int(sets[last_run])
        self.w_last[...] = wbuf[rows[-1]]
        self.has_last = True


def sweep_order(mod: Any, ints: np.ndarray, floats: np.ndarray) -> np.ndarray:
    """The order a fused sweep runs its configs in: the plan's `sweep_order(ints, floats)` if it has one.

    Results do not depend on it (each config's numbers are its own); speed does. A config resumes where the
    previous one of its thread stops sharing its weights (`nb.simulate_rows_nb`), so an order that puts
    configs with the same first rows together (same signal window, same idle rule) skips those fills. Without a
    plan's order, the given one (a grid's product order already varies its last parameter fastest).
    """
    fn = getattr(mod, "sweep_order", None)
    if fn is None:
        return np.arange(len(ints), dtype=np.int64)
    order = np.asarray(fn(ints, floats), dtype=np.int64)
    if order.shape != (len(ints),) or not np.array_equal(np.sort(order), np.arange(len(ints))):
        raise RuntimeError(f"{mod.__name__}.sweep_order must return a permutation of the {len(ints)} configs.")
    return order


def run_chunk(job: Job, lo: int, hi: int) -> ChunkResult:
    """Run configs lo..hi-1 of the job (fused kernel, distinct weights once; or the engine per config)."""
    mk = job.market
    global_slots = job.slots[lo:hi]
    want = np.flatnonzero(global_slots >= 0)
    if job.plan.fused:
        acc, seg, _, ret, compiled = fused_configs(job, lo, hi)
        return ChunkResult(lo, hi, acc, seg, global_slots[want], ret, compiled)
    from research.sweep.generic import engine_config

    local = np.full(hi - lo, -1, dtype=np.int64)
    local[want] = np.arange(len(want))
    acc = np.zeros((hi - lo, nb.N_ACC))
    seg = np.zeros((hi - lo, n_segments(mk), nb.N_SEG))
    ret = np.zeros((len(want), mk.close.shape[0]))
    for c in range(lo, hi):
        engine_config(job, c, acc[c - lo], seg[c - lo], ret, int(local[c - lo]))
    return ChunkResult(lo, hi, acc, seg, global_slots[want], ret, 0)


def _compiled(dispatcher: Any) -> int:
    """Compilations (cache misses) of a numba dispatcher so far."""
    return int(sum(dispatcher.stats.cache_misses.values()))


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


class LocalExecutor:
    """In this process: the fused kernel runs configs in parallel threads (the engine per config, in order)."""

    name = "local"

    def map(self, job: Job, spans: list[tuple[int, int]], progress: bool, desc: str) -> list[ChunkResult]:
        """A fused job runs as one chunk (distinct weights found over the whole sweep), then is cut into spans."""
        with tqdm(total=job.plan.size, desc=desc, unit="cfg", disable=not progress) as bar:
            if not job.plan.fused or not spans:
                out = []
                for lo, hi in spans:
                    out.append(run_chunk(job, lo, hi))
                    bar.update(hi - lo)
                return out
            lo0, hi0 = spans[0][0], spans[-1][1]
            acc, seg, local, ret, compiled = fused_configs(job, lo0, hi0, done=bar.update)
        out = []
        for lo, hi in spans:
            rows = local[lo - lo0:hi - lo0]
            have = rows >= 0
            out.append(ChunkResult(lo, hi, acc[lo - lo0:hi - lo0], seg[lo - lo0:hi - lo0],
                                   job.slots[lo:hi][have], ret[rows[have]], compiled if lo == lo0 else 0))
        return out

    def close(self) -> None:
        pass


def warm(job: Job) -> None:
    """Compile or load the job's fused kernel in this process (one config), writing the on-disk cache: its
    batches and, when the plan has them, its lanes (`fused_configs`)."""
    run_chunk(job, 0, min(1, job.plan.size))
    if job.plan.fused and job.plan.size:
        fused_configs(job, 0, 1, dedupe=False)

