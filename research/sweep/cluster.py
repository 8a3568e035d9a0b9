"""The Dask executor: a sweep's chunks on a dask.distributed cluster (a LocalCluster unless given an address).

Each worker returns metrics accumulators only. Before submitting, the client runs the fused kernel once on one
config, which compiles it or loads it from numba's on-disk cache and so leaves the cache warm; workers then
load the compiled kernel from that cache instead of compiling it (each chunk reports how many compilations it
needed; tests assert 0). Local workers see the same cache (the package's __pycache__, or `NUMBA_CACHE_DIR`,
passed on to them). For workers on other machines, point `NUMBA_CACHE_DIR` at a shared directory, or accept
one compilation per machine. A worker plugin sets numba's thread count to the worker's thread count.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import numba
from dask.distributed import Client, LocalCluster, WorkerPlugin, as_completed
from tqdm.auto import tqdm

from research.sweep.executors import ChunkResult, Job, run_chunk, warm


class NumbaSetup(WorkerPlugin):
    """Worker plugin: numba threads = the worker's threads; the plan modules imported (cache loaded) up front."""

    def __init__(self, threads: int, modules: list[str]):
        self.threads = threads
        self.modules = modules

    def setup(self, worker: Any) -> None:
        numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
        for m in self.modules:
            importlib.import_module(m)


class DaskExecutor:
    """Chunks on a Dask cluster: a LocalCluster of worker processes by default, or the scheduler at `address`."""

    name = "dask"

    def __init__(self, address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1):
        self.cluster = None
        self.threads = threads_per_worker
        if address:
            self.client = Client(address)
        else:
            env = {"NUMBA_NUM_THREADS": str(threads_per_worker), "OMP_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
            if os.environ.get("NUMBA_CACHE_DIR"):
                env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
            self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                        processes=True, dashboard_address=None, env=env)
            self.client = Client(self.cluster)

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def map(self, job: Job, spans: list[tuple[int, int]], progress: bool, desc: str) -> list[ChunkResult]:
        mods = [job.plan.module] if job.plan.fused else []
        if job.plan.fused:
            warm(job)
        self.client.register_plugin(NumbaSetup(self.threads, mods), name="flowbt-numba")
        shared = self.client.scatter(job, broadcast=True)
        futures = [self.client.submit(run_chunk, shared, lo, hi, pure=False) for lo, hi in spans]
        out: list[ChunkResult] = []
        with tqdm(total=job.plan.size, desc=desc, unit="cfg", disable=not progress) as bar:
            for fut in as_completed(futures):
                res = fut.result()
                out.append(res)
                bar.update(res.hi - res.lo)
        return sorted(out, key=lambda r: r.lo)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
