"""Sweep throughput: one strategy, many configs, five ways (each function runs in its own subprocess).

The workload of issue 9: fresh_flow_low_exposure on the synthetic market's 11 sector ETFs, 2000-2025 daily
sessions, weekly decisions, the engine's default costs (fees 2 bps, slippage 3 bps), metrics per config.
Configs are drawn from a 100,000-point grid in a fixed shuffled order (`configs`), so any n is a
representative mix. Each function warms up (numba compilation or cache load) before it times.

- `fused`: the fused kernel as a sweep runs it (plan with batched signals, market, kernel, metrics table):
  the default (`research.sweep.executors.fused_configs`: the first configs' weights fingerprinted, then
  batches that simulate identical portfolios once if many repeat, else lanes) and, for the record, lanes only
  (every config simulated).
- `minimal`: `benchmarks.nb.minimal_nb` over the same weights: the yardstick.
- `vectorbt`: `vbt.Portfolio.from_orders` broadcast over a column per (config, asset), grouped per config
  with cash sharing, size_type='targetpercent', sells first (call_seq='auto'), on the same target weights
  (materialised, so a subset of configs), then Sharpe, drawdown and total return per config.
- `engine`: the strategy's weights() and flowbt's vectorbt engine per config (what a sweep without a fused
  plan does), with its metrics.
- `bt`: pmorissette/bt per config on the same weights (WeighTarget on fill dates, Rebalance, commissions).
"""

from __future__ import annotations

import itertools
import time
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import peak_rss_mb, rate, spread, timed

STRATEGY = "fresh_flow_low_exposure"
#: 5 * 5 * 10 * 5 * 5 * 4 * 2 * 2 = 100,000 configs.
GRID: dict[str, list[Any]] = {
    "buy_weeks": [1, 2, 3, 4, 5],
    "sell_weeks": [0, 1, 2, 3, 4],
    "window": [52, 78, 104, 130, 156, 182, 208, 234, 260, 286],
    "pct_below": [0.1, 0.2, 0.3, 0.4, 0.5],
    "hold": [1, 2, 3, 4, 6],
    "top_n": [1, 2, 3, 4],
    "weighting": ["equal", "signal"],
    "idle": ["equal", "cash"],
}


def configs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n configs of the 100,000-point grid, in a fixed shuffled order (the strategy's defaults filled in)."""
    from research import registry

    keys = list(GRID)
    points = list(itertools.product(*GRID.values()))
    order = np.random.default_rng(seed).permutation(len(points))[:n]
    base = registry.get(STRATEGY).resolve({})
    return [{**base, **dict(zip(keys, points[i], strict=True))} for i in order]


@lru_cache(maxsize=4)
def market(years: int = 26) -> Any:
    """The synthetic market over the last `years` years of 2000-2025 (default: all of it)."""
    from research.data.synthetic import make_market

    return make_market(start=f"{2026 - years}-01-01" if years < 26 else "2000-01-03")


def _setup(n_configs: int, years: int = 26) -> tuple[Any, Any, list[dict], Any, Any]:
    from research import registry
    from research.run import default_config

    data = market(years)
    strat = registry.get(STRATEGY)
    return data, strat, configs(n_configs), default_config(strat), None


def _fused_once(data: Any, strat: Any, params: list[dict], cfg: Any, dedupe: bool
                ) -> tuple[pd.DataFrame, tuple[int, int]]:
    from research.backtest.benchmarks import benchmark_returns
    from research.sweep import kernel, plans
    from research.sweep.executors import fused_configs
    from research.sweep.runner import make_job

    plan = plans.prepare(strat, data, params)
    bench = benchmark_returns(data.prices, plan.dates, cfg, ("EW_SECTORS",))["EW_SECTORS"]
    job = make_job(plan, data, cfg, bench)
    acc, *_ = fused_configs(job, 0, plan.size, dedupe=dedupe)
    return kernel.finalise(acc), (job.market.close.shape[0], len(plan.dates))


def fused(n_configs: int = 10_000, repeat: int = 3, years: int = 26, dedupe_too: bool = True,
          yardstick: bool = False) -> dict:
    """Configs per second of the fused kernel (plan + market + kernel + metrics), and its peak memory.

    With `yardstick`, the minimal loop (`minimal`) runs between the fused runs, repeat by repeat, and the
    ratio of the two is taken per repeat: both see the same moment of a machine whose speed drifts."""
    data, strat, params, cfg, _ = _setup(n_configs, years)
    _fused_once(data, strat, params[:16], cfg, True)  # compile or load the kernels: batches,
    _fused_once(data, strat, params[:16], cfg, False)  # and lanes (`fused_configs`)
    mini = _minimal_run(data, strat, params[:64], cfg, n_configs) if yardstick else None
    if mini:
        mini()  # compile or load
    # the ways alternate, so that each sees the same moments of a machine whose speed drifts
    times: list[float] = []
    t_all: list[float] = []
    t_min: list[float] = []
    for _ in range(repeat):
        t, (table, (n_sessions, n_dec)) = timed(lambda: _fused_once(data, strat, params, cfg, True), 1)
        times += t
        if dedupe_too:
            t_all += timed(lambda: _fused_once(data, strat, params, cfg, False), 1)[0]
        if mini:
            t_min += timed(mini, 1)[0]
    out = {"configs": n_configs, "years": years, "sessions": n_sessions, "decisions": n_dec,
           "seconds": spread(times), "configs_per_s": rate(n_configs, times),
           "finite_sharpe": int(np.isfinite(table["sharpe"]).sum())}
    if dedupe_too:
        out["every_config_simulated"] = {"seconds": spread(t_all), "configs_per_s": rate(n_configs, t_all)}
    if mini:
        out["minimal_paired"] = {"configs": n_configs, "seconds": spread(t_min),
                                 "configs_per_s": rate(n_configs, t_min),
                                 "fused_over_minimal": spread([m / f for f, m in zip(times, t_min, strict=True)])}
    out["distinct_portfolios"] = distinct_portfolios(strat, data, params)
    out["peak_rss_after_mb"] = peak_rss_mb()
    return out


def distinct_portfolios(strat: Any, data: Any, params: list[dict]) -> int:
    """How many of the configs have distinct target weights (fingerprints of the plan's `rows_many_nb`)."""
    from research.sweep import plans

    plan = plans.prepare(strat, data, params)
    batch = 256
    wbuf = np.empty((batch, len(plan.dates), len(plan.tickers)))
    keys = np.zeros((batch, 2), dtype=np.uint64)
    seen: set[tuple[int, int]] = set()
    for b0 in range(0, plan.size, batch):
        todo = np.arange(b0, min(b0 + batch, plan.size), dtype=np.int64)
        plan.impl().rows_many_nb(plan.arrays, plan.ints, plan.floats, todo, wbuf, keys)
        seen.update(map(tuple, keys[: len(todo)].tolist()))
    return len(seen)


def _weights(plan: Any, n: int) -> np.ndarray:
    return np.stack([plan.weights(c).to_numpy() for c in range(n)])


def stages(n_configs: int = 2_048, batch: int = 64, of: int = 10_000) -> dict:
    """Where a config's time goes, on one thread: the plan's weights + fingerprint (`rows_many_nb`), the core's
    simulation with every metric (`simulate_rows_nb`), and the minimal loop on the same weights; microseconds per
    config, spread over batches of `batch` configs as the fused kernel runs them: n_configs of the `of` configs
    the fused figure times, in batches spread evenly over the plan's order (`sweep_order`), each config resuming
    where the previous one's weights part."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _stages(n_configs, batch, of)
    finally:
        numba.set_num_threads(threads)  # (in process, `--inprocess`, the next measurement gets them back)


def _stages(n_configs: int, batch: int, of: int) -> dict:
    from benchmarks import nb as bnb
    from research.backtest.benchmarks import benchmark_returns
    from research.sweep import nb as core
    from research.sweep import plans
    from research.sweep.executors import Lanes, sweep_order
    from research.sweep.runner import make_job

    data, strat, params, cfg, _ = _setup(max(of, n_configs))
    plan = plans.prepare(strat, data, params)
    bench = benchmark_returns(data.prices, plan.dates, cfg, ("EW_SECTORS",))["EW_SECTORS"]
    mk = make_job(plan, data, cfg, bench).market
    impl = plan.impl()
    n_dec, m = mk.no_price.shape
    wbuf = np.empty((batch, n_dec, m))
    keys = np.zeros((batch, 2), dtype=np.uint64)
    acc = np.zeros((batch, core.N_ACC))
    seg = np.zeros((batch, 1, core.N_SEG))
    ret = np.zeros((0, mk.close.shape[0]))
    slots = np.full(batch, -1, dtype=np.int64)
    rows = np.arange(batch, dtype=np.int64)
    lanes = Lanes(mk, 1)
    close, fill = np.nan_to_num(mk.last_close), np.nan_to_num(mk.fill_price)
    out = np.zeros(batch)
    times: dict[str, list[float]] = {"weights_fingerprint": [], "core": [], "minimal": []}
    order = sweep_order(impl, plan.ints, plan.floats)  # as the fused kernel runs them
    n_batches = max(n_configs // batch, 2)
    for b, b0 in enumerate(np.linspace(0, max(plan.size - batch, 0), n_batches).astype(np.int64)):
        todo = order[np.arange(b0, b0 + batch) % plan.size]
        t0 = time.perf_counter()
        impl.rows_many_nb(plan.arrays, plan.ints, plan.floats, todo, wbuf, keys)
        t1 = time.perf_counter()
        lanes.simulate(wbuf, rows, rows, slots, acc, seg, ret)
        t2 = time.perf_counter()
        w = wbuf * ~mk.no_price[None]  # the engine's targets, as `minimal` gets them
        t3 = time.perf_counter()
        bnb.minimal_nb(close, fill, mk.dec_rows, w, batch, out)
        t4 = time.perf_counter()
        if b > 0:  # the first batch compiles or loads the kernels
            for key, dt in zip(times, (t1 - t0, t2 - t1, t4 - t3), strict=True):
                times[key].append(dt / batch * 1e6)
    return {"configs": n_configs, "of": max(of, n_configs), "batch": batch, "threads": 1,
            "us_per_config": {key: {**spread(v), "mean": float(np.mean(v))} for key, v in times.items()}}


def minimal(n_configs: int = 10_000, n_weights: int = 64, repeat: int = 3) -> dict:
    """The minimal numba loop on the weights of `n_weights` configs, cycled to n_configs configs."""
    data, strat, params, cfg, _ = _setup(n_weights)
    run = _minimal_run(data, strat, params, cfg, n_configs)
    run()
    times, _ = timed(run, repeat)
    return {"configs": n_configs, "seconds": spread(times), "configs_per_s": rate(n_configs, times)}


def _minimal_run(data: Any, strat: Any, params: list[dict], cfg: Any, n_configs: int) -> Any:
    """A call of `benchmarks.nb.minimal_nb` over the weights of `params`, cycled to n_configs configs."""
    from benchmarks import nb as bnb
    from research.sweep import plans
    from research.sweep.kernel import build_market

    plan = plans.prepare(strat, data, params)
    mk = build_market(data.prices, plan.dates, plan.tickers, cfg)
    close = np.nan_to_num(mk.last_close)
    fill = np.nan_to_num(mk.fill_price)
    w = _weights(plan, len(params)) * ~mk.no_price[None]
    out = np.zeros(n_configs)
    return lambda: bnb.minimal_nb(close, fill, mk.dec_rows, w, n_configs, out)


def vectorbt(n_configs: int = 100, repeat: int = 3) -> dict:
    """vectorbt's broadcast from_orders on the same target weights, a column per (config, asset)."""
    import vectorbt as vbt

    from research.sweep import plans
    from research.sweep.kernel import build_market, run_index

    data, strat, params, cfg, _ = _setup(n_configs)
    plan = plans.prepare(strat, data, params)
    mk = build_market(data.prices, plan.dates, plan.tickers, cfg)
    index = run_index(data.prices, plan.dates)
    n, m = mk.close.shape
    fill_rows = mk.dec_rows + 1
    keep = fill_rows < n
    w = _weights(plan, n_configs) * ~mk.no_price[None]  # (C, K, m): the engine's targets
    size = np.full((n, n_configs * m), np.nan)
    size[fill_rows[keep]] = np.transpose(w[:, keep, :], (1, 0, 2)).reshape(int(keep.sum()), n_configs * m)
    close = np.tile(mk.close, (1, n_configs))
    size[np.isnan(close)] = np.nan
    columns = pd.MultiIndex.from_product([range(n_configs), plan.tickers], names=["config", "ticker"])
    close_df = pd.DataFrame(close, index=index, columns=columns)
    size_df = pd.DataFrame(size, index=index, columns=columns)

    def run(c: int) -> pd.DataFrame:
        cols = close_df.columns[: c * m]
        pf = vbt.Portfolio.from_orders(
            close_df[cols], size=size_df[cols], size_type="targetpercent", direction="longonly",
            fees=float(cfg.fees([plan.tickers[0]])[0]), slippage=float(cfg.slippage([plan.tickers[0]])[0]),
            init_cash=float(cfg.init_cash), cash_sharing=True, group_by="config", call_seq="auto", freq="1D")
        return pd.DataFrame({"sharpe": pf.sharpe_ratio(), "max_drawdown": pf.max_drawdown(),
                             "total_return": pf.total_return()})

    run(2)  # compile or load vectorbt's kernels
    times, table = timed(lambda: run(n_configs), repeat)
    return {"configs": n_configs, "seconds": spread(times), "configs_per_s": rate(n_configs, times),
            "finite_sharpe": int(np.isfinite(table["sharpe"]).sum())}


def engine(n_configs: int = 20, repeat: int = 3) -> dict:
    """The strategy's weights() and flowbt's vectorbt engine per config, with the engine's metrics."""
    from research.analytics.metrics import summary
    from research.backtest.engine import backtest

    data, strat, params, cfg, _ = _setup(n_configs)

    def run(c: int) -> None:
        for p in params[:c]:
            res = backtest(data.prices, strat.weights(data, **p), cfg)
            summary(res.returns, turnover=res.turnover, gross=res.gross, net=res.net)

    run(1)
    times, _ = timed(lambda: run(n_configs), repeat)
    return {"configs": n_configs, "seconds": spread(times), "configs_per_s": rate(n_configs, times)}


def bt(n_configs: int = 3, repeat: int = 2) -> dict:
    """pmorissette/bt per config: WeighTarget on the fill sessions, Rebalance, fees + slippage as commissions."""
    try:
        import bt as btlib
    except ImportError:
        return {"configs": 0, "skipped": "bt is not installed (pip install -e '.[bench]')"}

    from research.sweep import plans
    from research.sweep.kernel import run_index

    data, strat, params, cfg, _ = _setup(n_configs)
    plan = plans.prepare(strat, data, params)
    index = run_index(data.prices, plan.dates)
    prices = data.prices.close.loc[index, plan.tickers].ffill().bfill()
    fill_dates = index[np.minimum(index.get_indexer(plan.dates) + 1, len(index) - 1)]
    cost = float(cfg.fees([plan.tickers[0]])[0] + cfg.slippage([plan.tickers[0]])[0])
    live = data.prices.close.loc[index, plan.tickers].notna()
    targets = []
    for c in range(n_configs):
        w = plan.weights(c)
        w.index = fill_dates
        w = w[~w.index.duplicated(keep="last")]
        targets.append(w.where(live.loc[w.index].to_numpy(), 0.0))

    def run(c: int) -> list[float]:
        out = []
        for k in range(c):
            s = btlib.Strategy(f"c{k}", [btlib.algos.WeighTarget(targets[k]), btlib.algos.Rebalance()])
            test = btlib.Backtest(s, prices, initial_capital=float(cfg.init_cash), progress_bar=False,
                                  commissions=lambda q, p: abs(q) * p * cost, integer_positions=False)
            res = btlib.run(test)
            out.append(float(res.stats.loc["daily_sharpe"].iloc[0]))
        return out

    run(1)
    times, sharpe = timed(lambda: run(n_configs), repeat)
    return {"configs": n_configs, "seconds": spread(times), "configs_per_s": rate(n_configs, times),
            "sharpe_first": sharpe[0] if sharpe else None}


def fused_assets(n_assets: int = 11, n_configs: int = 2_000, n_weights: int = 32, repeat: int = 3) -> dict:
    """The core alone on n_assets columns: the 11 sectors sliced (fewer) or tiled (more), weights rescaled."""
    from benchmarks import nb as bnb
    from research.backtest.benchmarks import benchmark_returns
    from research.sweep import nb as core
    from research.sweep import plans
    from research.sweep.kernel import build_market

    data, strat, params, cfg, _ = _setup(n_weights)
    plan = plans.prepare(strat, data, params)
    bench = benchmark_returns(data.prices, plan.dates, cfg, ("EW_SECTORS",))["EW_SECTORS"]
    mk = build_market(data.prices, plan.dates, plan.tickers, cfg, bench)
    w = _weights(plan, n_weights)
    reps = -(-n_assets // 11)
    cols = np.arange(11 * reps)[:n_assets] % 11

    def widen(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[..., cols])

    w = widen(w)
    tot = w.sum(axis=2, keepdims=True)
    w = np.ascontiguousarray(np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), 0.0))
    mk = mk._replace(close=widen(mk.close), last_close=widen(mk.last_close), fill_price=widen(mk.fill_price),
                     no_price=widen(mk.no_price), fees=widen(mk.fees), slippage=widen(mk.slippage),
                     borrow_day=widen(mk.borrow_day))
    plans.refresh_cache(bnb, ("simulate_many_nb", "minimal_nb"))
    acc = np.zeros((n_configs, core.N_ACC))
    bnb.simulate_many_nb(mk, w, 2, acc)
    times, _ = timed(lambda: bnb.simulate_many_nb(mk, w, n_configs, acc), repeat)
    return {"assets": n_assets, "configs": n_configs, "seconds": spread(times),
            "configs_per_s": rate(n_configs, times), "peak_rss_after_mb": peak_rss_mb()}


def baseline_memory() -> dict:
    """Peak memory of a process that imports flowbt and builds the market, and does nothing else."""
    t0 = time.perf_counter()
    market()
    import research.sweep.runner  # noqa: F401

    return {"seconds": time.perf_counter() - t0}
