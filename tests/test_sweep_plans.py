"""Fused plans on a market with gaps: weights() identical where weeks go missing series by series.

The default synthetic market publishes every prime-book metric every week, so a plan that mixed up two
strategies' observed weeks (e.g. gross and net leverage, or net_flow / net_exposure against gross leverage)
would still pass tests/test_sweep.py. Here 7% of the panel rows are dropped at random, so each metric has its
own missing weeks and each strategy its own observed weeks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_sweep import sample_params

from research import registry
from research.sweep import plans

#: Plans of strategies that run on the synthetic market (real-data plans: tests/test_sweep_real.py).
SYNTHETIC_PLANS = [n for n in plans.available() if "real-data" not in registry.get(n).tags]


@pytest.fixture(scope="module")
def gappy(market):
    keep = np.random.default_rng(5).random(len(market.panel)) > 0.07
    return dataclasses.replace(market, panel=market.panel.loc[keep].reset_index(drop=True))


@pytest.mark.parametrize("name", SYNTHETIC_PLANS)
def test_plan_weights_on_a_market_with_gaps(gappy, name):
    strat = registry.get(name)
    params = sample_params(strat, k=3, seed=1)
    plan = plans.prepare(strat, gappy, params)
    for c, p in enumerate(params):
        w = strat.weights(gappy, **p).astype(float)
        got = plan.weights(c)
        pd.testing.assert_frame_equal(got, w, check_names=False, check_freq=False, check_exact=True)
