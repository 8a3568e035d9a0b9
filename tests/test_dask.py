"""Distributed sweeps: a LocalCluster of two worker processes gives the local run's results, compile-free."""

from __future__ import annotations

import numpy as np
import pytest

import strategies
from research.run import default_config
from research.sweep import plans
from research.sweep.executors import LocalExecutor
from research.sweep.grid import expand
from research.sweep.runner import evaluate, make_job

pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    from research.sweep.cluster import DaskExecutor

    ex = DaskExecutor(n_workers=2, threads_per_worker=1)
    yield ex
    ex.close()


def test_dask_matches_local_and_workers_do_not_compile(market, cluster):
    strat = strategies.get("fresh_flow_low_exposure")
    params = expand(strat, {"hold": [2, 4, 6], "top_n": [1, 2, 3], "pct_below": [0.2, 0.3, 0.4]})
    plan = plans.prepare(strat, market, params)
    slots = np.full(plan.size, -1, dtype=np.int64)
    slots[[0, 13]] = [0, 1]
    job = make_job(plan, market, default_config(strat), None, slots=slots)
    local_acc, _, local_ret = evaluate(job, LocalExecutor(), 27, False, "local")
    results = cluster.map(job, [(0, 9), (9, 18), (18, 27)], False, "dask")
    assert [(r.lo, r.hi) for r in results] == [(0, 9), (9, 18), (18, 27)]
    np.testing.assert_array_equal(np.concatenate([r.acc for r in results]), local_acc)
    rets = {int(s): row for r in results for s, row in zip(r.slots, r.returns, strict=True)}
    np.testing.assert_array_equal(rets[0], local_ret[0])
    np.testing.assert_array_equal(rets[1], local_ret[1])
    assert sum(r.compiled for r in results) == 0  # the client warmed the on-disk cache; workers loaded it
    workers = cluster.client.run(lambda: __import__("numba").get_num_threads())
    assert len(workers) == 2 and set(workers.values()) == {1}

