"""Fused plans of the real-data strategies (../shared/data): weights() identical, the engine to 1e-9."""

from __future__ import annotations

import pytest
from test_sweep import assert_agrees, assert_lanes_match_batches, engine_metrics, fused_run, sample_params

from research import registry
from research.backtest import benchmark_returns
from research.errors import ConfigError
from research.run import default_config, load_data
from research.sweep import plans
from research.sweep.runner import default_benchmark

#: The real-data strategies, and those that run on both markets (real baskets and FINRA sectors on real data).
BOTH = ("fade_most_short", "fade_most_short_sectors")
REAL = [n for n in plans.available() if "real-data" in registry.get(n).tags or n in BOTH]


@pytest.fixture(scope="module")
def real(shared_data):
    return load_data(shared_data)


def test_the_real_data_plans_exist():
    assert {"cot_leveraged_funds", "cot_sector_positioning", "vix_positioning", *BOTH} <= set(REAL)


@pytest.mark.parametrize("name", REAL)
def test_real_plan_matches_strategy_and_engine(real, name, monkeypatch):
    strat = registry.get(name)
    params = sample_params(strat, k=3)
    if name == "cot_sector_positioning":  # a tilt whose row sums are not exact: pandas' summation order counts
        params.append(strat.resolve({"tilt": 0.1, "stale_weeks": 2}))
    if name == "cot_leveraged_funds":
        params.append(strat.resolve({"how": "zscore", "base_weight": 0.7, "short_weight": 1.2}))
    plan = plans.prepare(strat, real, params)
    assert plan.fused
    cfg = default_config(strat)
    bname = default_benchmark(strat, plan.tickers)
    bench = benchmark_returns(real.prices, plan.dates, cfg)[bname] if bname else None
    met, rets = fused_run(plan, real, cfg, bench)
    for c, p in enumerate(params):
        w = strat.weights(real, **p)
        assert plan.weights(c).equals(w.astype(float).rename_axis("date")), p
        res, m = engine_metrics(real, w, cfg, bench)
        assert_agrees(met.iloc[c], rets[c], res, m)
    assert_lanes_match_batches(plan, real, cfg, monkeypatch)


def test_configs_with_different_starts_are_refused(real):
    strat = registry.get("cot_leveraged_funds")
    with pytest.raises(ConfigError, match="start on different dates"):
        plans.prepare(strat, real, [strat.resolve({"min_weeks": 26, "window": 52}), strat.resolve({})])
