"""Distributed sweeps: a LocalCluster of two worker processes gives the local run's results, compile-free."""

from __future__ import annotations

import numpy as np
import pytest

from research import registry
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
    strat = registry.get("fresh_flow_low_exposure")
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



def _notebook_weights(data, *, weeks: int = 2, n: int = 1):
    """A strategy body as a notebook would write it (this module is not importable on a worker by name)."""
    from research.book import on_decisions
    from research.observe import sector_obs

    flow = sector_obs(data, "net_flow").dropna(how="all").rolling(weeks, min_periods=1).sum()
    rank = flow.rank(axis=1, ascending=False)
    book = (rank <= n).astype(float)
    return on_decisions(book.div(book.sum(axis=1).clip(lower=1.0), axis=0), data)


def test_an_unregistered_strategy_sweeps_on_dask(market, cluster):
    """A Strategy object that is in no registry (a notebook's) runs on the workers: the plan carries it."""
    from research.observe import SECTOR_TICKERS
    from research.strategy import Int, Strategy

    mine = Strategy("notebook_only_demo", "Last weeks' most-bought sectors outperform.",
                    ("net_flow", *(f"price:{t}" for t in SECTOR_TICKERS)),
                    {"weeks": Int(2, grid=[1, 2], lo=1, hi=52), "n": Int(1, grid=[1, 2], lo=1, hi=11)},
                    weights=_notebook_weights)
    assert "notebook_only_demo" not in registry.registry()
    params = expand(mine)
    plan = plans.prepare(mine, market, params)
    assert not plan.fused and plan.source is mine
    job = make_job(plan, market, default_config(mine), None, slots=np.full(plan.size, -1, dtype=np.int64))
    local_acc, _, _ = evaluate(job, LocalExecutor(), plan.size, False, "local")
    results = cluster.map(job, [(0, 2), (2, 4)], False, "dask")
    np.testing.assert_allclose(np.concatenate([r.acc for r in results]), local_acc, rtol=0, atol=0)


def test_a_notebook_strategy_named_like_a_shipped_one_does_not_get_its_plan(market):
    from dataclasses import replace

    shipped = registry.get("fresh_flow_low_exposure")
    variant = replace(shipped, weights=_notebook_weights, params={"weeks": 2, "n": 1}, grid={})
    assert plans.prepare(shipped, market, [shipped.params]).fused
    assert not plans.prepare(variant, market, [variant.params]).fused
