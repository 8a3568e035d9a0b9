"""The fused sweep kernel: plans match their strategies' weights() exactly and the engine to 1e-9."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from research import registry
from research.analytics.metrics import summary
from research.analytics.stats import sharpe_moments
from research.backtest import ExecutionConfig, backtest, benchmark_returns
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS
from research.run import default_config
from research.sweep import kernel, plans
from research.sweep.executors import Lanes, LocalExecutor
from research.sweep.grid import expand, parse_grid, varied
from research.sweep.runner import default_benchmark, evaluate, keep_returns, make_job

TOL = 1e-9
HEADLINE = ("sharpe", "sortino", "cagr", "volatility", "max_drawdown", "turnover", "total_return", "calmar",
            "hit_rate", "avg_gross", "avg_net", "costs_paid")


def sample_params(strat, k: int = 2, seed: int = 0) -> list[dict]:
    """The defaults plus k configs drawn from the strategy's grid."""
    grid = expand(strat)
    rng = np.random.default_rng(seed)
    picks = [grid[i] for i in rng.choice(len(grid), size=min(k, len(grid)), replace=False)]
    return [strat.resolve({})] + picks


def engine_metrics(data, weights, cfg, bench):
    res = backtest(data.prices, weights, cfg)
    costs = res.costs.sum(axis=1) / res.equity.shift(1).fillna(cfg.init_cash)
    m = summary(res.returns, turnover=res.turnover, gross=res.gross, net=res.net, costs=costs)
    sr, n, skew, kurt = sharpe_moments(res.returns)
    m.update(sharpe_per_period=sr, n_obs=n, skew=skew, kurtosis=kurt)
    if bench is not None:
        m["active_sharpe"] = summary(res.returns - bench)["sharpe"]
    return res, m


def fused_run(plan, data, cfg, bench):
    job = make_job(plan, data, cfg, bench, slots=np.arange(plan.size, dtype=np.int64))
    acc, _, rets = evaluate(job, LocalExecutor(), plan.size, False, "test")
    return kernel.finalise(acc), rets


def assert_agrees(met_row, ret, res, m):
    np.testing.assert_array_equal(ret, res.returns.to_numpy())  # to the bit
    for key in (*HEADLINE, "sharpe_per_period", "skew", "kurtosis", "active_sharpe"):
        if key not in m:
            continue
        a, b = float(met_row[key]), float(m[key])
        assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= TOL * max(1.0, abs(b)), (key, a, b)
    assert int(met_row["n_obs"]) == m["n_days"]


#: Plans of strategies that run on the synthetic market (real-data plans: tests/test_sweep_real.py).
SYNTHETIC_PLANS = [n for n in plans.available() if "real-data" not in registry.get(n).tags]


@pytest.mark.parametrize("name", SYNTHETIC_PLANS)
def test_plan_matches_strategy_and_engine(market, name):
    """Every plan: weights() identical on sampled configs; metrics and daily returns equal to the engine's."""
    strat = registry.get(name)
    params = sample_params(strat)
    plan = plans.prepare(strat, market, params)
    assert plan.fused
    cfg = default_config(strat)
    bname = default_benchmark(strat, plan.tickers)
    bench = benchmark_returns(market.prices, plan.dates, cfg)[bname] if bname else None
    met, rets = fused_run(plan, market, cfg, bench)
    for c, p in enumerate(params):
        w = strat.weights(market, **p)
        pd.testing.assert_frame_equal(plan.weights(c), w.astype(float), check_names=False, check_freq=False)
        if c == len(params) - 1:  # the engine is slow: one grid config per plan (the others below)
            res, m = engine_metrics(market, w, cfg, bench)
            assert_agrees(met.iloc[c], rets[c], res, m)


def test_kernel_costs_limits_open_fill_and_shorts(market):
    """Every execution path of the core: open fills, band, gross/net limits, borrow on shorts, cash interest."""
    strat = registry.get("sector_flow_momentum")
    params = [strat.resolve({"n": 2, "weeks": 2, "window": 52})]
    plan = plans.prepare(strat, market, params)
    idx = market.prices.index
    rate = pd.Series(0.0001 + 0.00005 * np.sin(np.arange(len(idx)) / 300.0), index=idx)
    cfg = ExecutionConfig(mode="dollar_neutral", fill="open", fees_bps={"*": 3.0, "XLK": 1.0},
                          slippage_bps=4.0, borrow_bps=120.0, cash_rate=rate, no_trade_band=0.002,
                          max_gross=0.8, max_net=0.1)
    met, rets = fused_run(plan, market, cfg, None)
    for c, p in enumerate(params):
        res, m = engine_metrics(market, strat.weights(market, **p), cfg, None)
        assert_agrees(met.iloc[c], rets[c], res, m)
        assert res.costs["borrow"].sum() > 0


@settings(derandomize=True, max_examples=60, deadline=None, database=None)
@given(arrays(np.float64, st.integers(0, 300), elements=st.floats(-1e3, 1e3, allow_subnormal=False)))
def test_row_sum_is_numpys(x):
    """The limits' row sums are numpy's to the bit (its pairwise summation), as the engine computes them."""
    from research.sweep.nb import row_sum_nb

    for absolute in (False, True):
        want = (np.abs(x) if absolute else x).reshape(1, -1).sum(axis=1)[0]
        got = row_sum_nb(x, absolute)
        assert got == want and np.signbit(got) == np.signbit(want)  # the sign of a zero too
    negative_zeros = np.full(9, -0.0)
    assert not np.signbit(row_sum_nb(negative_zeros, False))  # numpy: 0.0 + (the pairwise sum)


def random_weights(rng, tickers, dates, short: bool) -> pd.DataFrame:
    """Sparse random weights on `dates`: some rows repeat, a quarter are empty (cash), shorts when `short`."""
    m = len(tickers)
    w = rng.uniform(-1.0 if short else 0.0, 1.0, (len(dates), m)) * (rng.random((len(dates), m)) < 0.45)
    w[rng.random(len(dates)) < 0.25] = 0.0
    w = w / np.maximum(np.abs(w).sum(axis=1, keepdims=True), 1.0)
    repeat = rng.random(len(dates)) < 0.5
    for k in range(1, len(dates)):
        if repeat[k]:
            w[k] = w[k - 1]
    return pd.DataFrame(w, index=dates, columns=tickers)


@pytest.mark.parametrize("case", range(4))
def test_core_returns_are_the_engines_bit_for_bit(market, case):
    """The core's daily returns equal the engine's exactly, on random weights across the listings of XLRE and XLC
    (unpriced assets split a fill's orders into parts), with shorts, open fills, the band and both limits."""
    from research.sweep import nb

    rng = np.random.default_rng(100 + case)
    tickers = list(SECTOR_TICKERS)
    idx = market.prices.index
    sessions = idx[(idx >= "2014-06-01") & (idx <= "2019-06-30")]
    dates = sessions[:: int(rng.integers(3, 7))]
    configs = [
        ExecutionConfig(),
        ExecutionConfig(mode="long_short", fill="open", slippage_bps=4.0, borrow_bps=120.0),
        ExecutionConfig(mode="long_short", no_trade_band=0.01, max_gross=0.7, max_net=0.05,
                        fees_bps={"*": 3.0, "XLK": 0.5}),
        ExecutionConfig(fill="open", no_trade_band=0.002,
                        cash_rate=pd.Series(0.0001 * (np.arange(len(idx)) % 7 > 2), index=idx)),
    ]
    cfg = configs[case]
    w = random_weights(rng, tickers, dates, short=cfg.mode != "long_only")
    res = backtest(market.prices, w, cfg)
    mk = kernel.build_market(market.prices, dates, tickers, cfg)
    acc = np.zeros(nb.N_ACC)
    seg = np.zeros((1, nb.N_SEG))
    ret = np.zeros((1, mk.close.shape[0]))
    rets, ckpt = nb.lane_buffers(mk, 1)
    nb.simulate_nb(mk, np.ascontiguousarray(w.to_numpy()), acc, seg, ret, 0, rets[0], ckpt[0], 0)
    assert np.isnan(mk.fill_price).any(axis=1).mean() > 0.3  # parts occur
    np.testing.assert_array_equal(ret[0], res.returns.to_numpy())


@pytest.mark.parametrize("lanes", [1, 3])
def test_resuming_where_weights_part_is_exact(market, lanes):
    """Configs that share their first weight rows resume from the previous config's checkpoint: every number
    (metrics, segments, daily returns) equals that of the config run alone, whatever the order and lanes."""
    from research.sweep import nb

    rng = np.random.default_rng(7)
    tickers = list(SECTOR_TICKERS)
    idx = market.prices.index
    dates = idx[(idx >= "2014-06-01") & (idx <= "2019-06-30")][::5]
    cfg = ExecutionConfig(mode="long_short", fill="open", no_trade_band=0.002, max_gross=0.9, borrow_bps=80.0)
    n = len(idx[idx >= dates[0]])
    mk = kernel.build_market(market.prices, dates, tickers, cfg, segments=np.arange(n) * 3 // n)
    base = random_weights(rng, tickers, dates, short=True).to_numpy().copy()
    cuts = [0, 1, 3, 4, 5, 17, 18, 40, 41, len(dates) - 2, len(dates) - 1, len(dates)]
    wbuf = []
    for cut in cuts:  # the base's rows before `cut`, then rows of its own
        w = random_weights(rng, tickers, dates, short=True).to_numpy().copy()
        w[:cut] = base[:cut]
        wbuf.append(w)
    wbuf = np.ascontiguousarray(np.stack(wbuf + wbuf[::-1]))
    c = len(wbuf)
    rows = np.arange(c, dtype=np.int64)
    slots = np.arange(c, dtype=np.int64)
    acc, seg, ret = np.zeros((c, nb.N_ACC)), np.zeros((c, 3, nb.N_SEG)), np.zeros((c, n))
    runs = Lanes(mk, lanes)
    half = c // 2  # two batches: the second continues the first's last run
    runs.simulate(wbuf, rows[:half], rows[:half], slots, acc, seg, ret)
    runs.simulate(wbuf, rows[half:], rows[half:], slots, acc, seg, ret)
    for t in range(c):
        a1, s1, r1 = np.zeros(nb.N_ACC), np.zeros((3, nb.N_SEG)), np.zeros((1, n))
        own_rets, own_ckpt = nb.lane_buffers(mk, 1)
        nb.simulate_nb(mk, wbuf[t], a1, s1, r1, 0, own_rets[0], own_ckpt[0], 0)
        np.testing.assert_array_equal(acc[t], a1)
        np.testing.assert_array_equal(seg[t], s1)
        np.testing.assert_array_equal(ret[t], r1[0])
    n_fills = nb.fills_nb(mk)
    for a, b in ((5, 6), (4, 5), (0, 1), (len(cuts) - 1, len(cuts))):  # cuts 17 / 18, 5 / 17, 0 / 1, K / K
        differ = np.flatnonzero((wbuf[a] != wbuf[b]).any(axis=1))
        first = min(differ[0] if len(differ) else len(dates), n_fills - 1)
        assert nb.resume_point_nb(wbuf[a], wbuf[b], n_fills) == first - first % nb.CK_STRIDE
    assert nb.resume_point_nb(wbuf[5], wbuf[6], n_fills) >= 16
    last = kernel.build_market(market.prices, dates.append(idx[-1:]), tickers, cfg)
    assert nb.fills_nb(last) == len(dates)  # a decision on the last session does not fill


@pytest.mark.parametrize("name", SYNTHETIC_PLANS)
def test_lanes_equal_batches_to_the_bit(market, name, monkeypatch):
    """Every plan's `sweep_nb` (lanes, no fingerprints) gives the batches' numbers to the bit, returns included;
    a sweep that probes fingerprints first and goes on in lanes too."""
    strat = registry.get(name)
    params = sample_params(strat, k=70, seed=3)
    plan = plans.prepare(strat, market, params)
    cfg = default_config(strat)
    assert_lanes_match_batches(plan, market, cfg, monkeypatch)


def assert_lanes_match_batches(plan, data, cfg, monkeypatch) -> None:
    """fused_configs in batches (of 64 and of 2 configs), in lanes, and probing fingerprints before going on in
    lanes: the same numbers to the bit."""
    from research.sweep import executors

    slots = np.full(plan.size, -1, dtype=np.int64)
    slots[:: max(plan.size // 3, 1)] = np.arange(len(slots[:: max(plan.size // 3, 1)]))
    job = make_job(plan, data, cfg, None, slots=slots)
    monkeypatch.setattr(executors, "DEDUPE_MIN", 0.0)  # the probe always chooses batches
    batches = executors.fused_configs(job, 0, plan.size, dedupe=True)
    monkeypatch.setattr(executors, "WEIGHTS_BATCH", 2)
    small = executors.fused_configs(job, 0, plan.size, dedupe=True)
    lanes = executors.fused_configs(job, 0, plan.size, dedupe=False)
    monkeypatch.setattr(executors, "PROBE_CONFIGS", 2)
    monkeypatch.setattr(executors, "DEDUPE_MIN", 1.1)  # the probe always chooses lanes
    probed = executors.fused_configs(job, 0, plan.size, dedupe=True)
    for got in (small, lanes, probed):
        for a, b in zip(batches[:4], got[:4], strict=True):
            np.testing.assert_array_equal(a, b)


def test_probe_counts_repeated_weights(market):
    """The probe that picks batches or lanes counts the configs whose weights repeat an earlier one's exactly."""
    from research.sweep import executors

    strat = registry.get("fresh_flow_low_exposure")
    params = sample_params(strat, k=12, seed=5)
    for probe_params, batch in ((params, 4), (params + params, 5), (params + params + params, 64)):
        plan = plans.prepare(strat, market, probe_params)
        weights = {plan.weights(c).to_numpy().tobytes() for c in range(plan.size)}
        share = 1.0 - len(weights) / plan.size
        for cut in (share - 1e-9, share + 1e-9):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(executors, "DEDUPE_MIN", cut)
                got = executors._repeats_often(plan.impl(), plan, plan.ints, plan.floats, np.arange(plan.size), batch)
            assert got == (share >= cut), (len(probe_params), cut)


def test_generic_fallback_equals_fused(market):
    """A strategy swept without its plan (engine per config) gives the fused kernel's numbers."""
    strat = registry.get("fresh_flow_low_exposure")
    params = [strat.resolve({"weighting": "signal", "idle": "cash", "hold": 2})]
    cfg = default_config(strat)
    bench = benchmark_returns(market.prices, plans.prepare(strat, market, params).dates, cfg)["EW_SECTORS"]
    fused, frets = fused_run(plans.prepare(strat, market, params), market, cfg, bench)
    generic_plan = plans.prepare(strat, market, params, fused=False)
    assert not generic_plan.fused and "engine" in generic_plan.kind
    generic, grets = fused_run(generic_plan, market, cfg, bench)
    pd.testing.assert_frame_equal(fused, generic, rtol=1e-12, atol=1e-12)
    for c in range(len(params)):
        np.testing.assert_array_equal(frets[c], grets[c])


def test_returns_only_for_requested_configs_and_chunking_is_invisible(market):
    """Chunk size changes nothing; returns are kept only for configs that asked (memory ~ configs)."""
    strat = registry.get("fresh_flow_low_exposure")
    params = expand(strat, {"hold": [2, 4, 6], "top_n": [1, 2, 3], "pct_below": [0.2, 0.4]})
    plan = plans.prepare(strat, market, params)
    cfg = default_config(strat)
    job = make_job(plan, market, cfg, None)
    a1, s1, r1 = evaluate(job, LocalExecutor(), len(params), False, "one")
    a2, s2, r2 = evaluate(job, LocalExecutor(), 5, False, "many")
    np.testing.assert_array_equal(a1, a2)
    assert r1 == {} and r2 == {}
    kept = keep_returns(plan, market, cfg, None, [7, 3])
    assert list(kept.columns) == [7, 3]
    met = kernel.finalise(a1)
    for c in (7, 3):
        assert summary(kept[c])["sharpe"] == pytest.approx(met.loc[c, "sharpe"], abs=TOL)


def test_grid_parsing_and_expansion():
    strat = registry.get("fresh_flow_low_exposure")
    grid = parse_grid(["hold=2,4", "top_n=1:3", "pct_below=0.1:0.3:0.1", "weighting=equal,signal"], strat)
    assert grid == {"hold": ["2", "4"], "top_n": [1, 2, 3], "pct_below": [0.1, 0.2, 0.3],
                    "weighting": ["equal", "signal"]}
    params = expand(strat, grid)
    assert len(params) == 2 * 3 * 3 * 2
    assert params[0]["hold"] == 2 and isinstance(params[0]["hold"], int)
    assert varied(params) == ["pct_below", "hold", "top_n", "weighting"]
    assert len(expand(strat, {"hold": [4, 4, "4"]})) == 1
    with pytest.raises(ConfigError, match="unknown parameter"):
        parse_grid(["nope=1,2"], strat)
    with pytest.raises(ConfigError, match="range"):
        parse_grid(["hold=5:1"], strat)


def test_market_matches_engine_inputs(market):
    """Decisions on the last session have no fill; unpriced targets are flagged as the engine zeroes them."""
    strat = registry.get("fresh_flow_low_exposure")
    plan = plans.prepare(strat, market, [strat.resolve({})])
    mk = kernel.build_market(market.prices, plan.dates, plan.tickers, dataclasses.replace(default_config(strat)))
    assert mk.close.shape[0] == len(kernel.run_index(market.prices, plan.dates))
    xlre = plan.tickers.index("XLRE")
    assert mk.no_price[0, xlre] and not mk.no_price[-2, xlre]
