"""The portfolio engine: agreement with the NumPy reference, costs, timing, universe changes, bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_engine import reference_equity, returns_from_equity

from research.backtest import (
    BacktestResult,
    CarryPortfolio,
    ExecutionConfig,
    backtest,
    benchmark_results,
    benchmark_returns,
)
from research.backtest import engine as engine_mod
from research.data.prices import Prices
from research.data.universe import TICKERS
from research.errors import ConfigError, DataError
from research.schedule import weekly

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TOL = 1e-9
ALL_COSTS = dict(fees_bps=2.0, slippage_bps=3.0, borrow_bps=75.0)


# ----------------------------------------------------------------------------------------------- fixtures
def synthetic_prices(n: int = 1200, seed: int = 7) -> Prices:
    """Seeded random walk for 6 tickers; XLRE starts late, XLU has a 4-session hole mid-sample."""
    rng = np.random.default_rng(seed)
    tickers = ["SPY", "XLK", "XLF", "XLE", "XLRE", "XLU"]
    idx = pd.bdate_range("2010-01-04", periods=n, name="date")
    close = 50 * np.exp(np.cumsum(rng.normal(0.0002, 0.012, (n, len(tickers))), axis=0))
    gap = np.exp(rng.normal(0, 0.004, (n, len(tickers))))
    open_ = np.vstack([close[:1], close[:-1]]) * gap
    close_df = pd.DataFrame(close, index=idx, columns=tickers)
    open_df = pd.DataFrame(open_, index=idx, columns=tickers)
    for df in (close_df, open_df):
        df.iloc[:300, 4] = np.nan
        df.iloc[600:604, 5] = np.nan
    return Prices(close_df, open_df, source="synthetic-test")


@pytest.fixture(scope="module")
def syn() -> Prices:
    return synthetic_prices()


@pytest.fixture(scope="module")
def real() -> Prices:
    """SPY + 11 sector ETFs from ../shared/data/prices (Adj Close; open scaled by Adj Close / Close)."""
    if not (DATA / "prices").is_dir():
        pytest.skip(f"{DATA} is not here")
    closes, opens = {}, {}
    for t in TICKERS:
        df = pd.read_csv(DATA / "prices" / f"{t}.csv", parse_dates=["Date"], index_col="Date")
        if t == "SPY":
            df = df.drop(pd.Timestamp("2025-09-26"))
        closes[t] = df["Adj Close"]
        opens[t] = df["Open"] * df["Adj Close"] / df["Close"]
    close = pd.DataFrame(closes).sort_index()
    open_ = pd.DataFrame(opens).reindex(close.index)
    close.index.name = open_.index.name = "date"
    return Prices(close, open_, source="shared/data/prices")


@pytest.fixture(scope="module")
def ff_rf() -> pd.Series:
    """Fama-French daily RF as a daily decimal rate."""
    raw = pd.read_csv(DATA / "factors" / "F-F_Research_Data_Factors_daily.CSV", skiprows=4, index_col=0)
    raw = raw[raw.index.astype(str).str.strip().str.fullmatch(r"\d{8}")]
    rf = pd.to_numeric(raw["RF"]) / 100.0
    rf.index = pd.to_datetime(raw.index.astype(str).str.strip(), format="%Y%m%d")
    return rf


def random_weights(index: pd.DatetimeIndex, tickers: list[str], mode: str, seed: int) -> pd.DataFrame:
    """Seeded weights per mode: long-only rows with gross 0.7-1.3 (so cash also goes negative), long-short
    rows with gross 1.6, dollar-neutral rows, or a single timing column in {0, 0.5, 1, 1.5}."""
    rng = np.random.default_rng(seed)
    k, m = len(index), len(tickers)
    if mode == "long_only":
        w = rng.dirichlet(np.ones(m), k) * rng.uniform(0.7, 1.3, (k, 1))
    elif mode == "long_short":
        w = rng.normal(size=(k, m))
        w = 1.6 * w / np.abs(w).sum(axis=1, keepdims=True)
    elif mode == "dollar_neutral":
        w = rng.normal(size=(k, m))
        w -= w.mean(axis=1, keepdims=True)
        w = 1.0 * w / np.abs(w).sum(axis=1, keepdims=True)
    else:
        return pd.DataFrame({tickers[0]: rng.choice([0.0, 0.5, 1.0, 1.5], k)}, index=index)
    return pd.DataFrame(w, index=index, columns=tickers)


def run_reference(prices: Prices, weights: pd.DataFrame, config: ExecutionConfig) -> np.ndarray:
    """The reference's daily returns for the engine's run window."""
    tickers = list(weights.columns)
    index = prices.index[prices.index >= weights.index[0]]
    close = prices.close.loc[index, tickers].to_numpy()
    open_ = prices.open.loc[index, tickers].to_numpy()

    def per_asset(v):
        return np.array([v[t] for t in tickers]) if isinstance(v, dict) else v

    borrow = config.borrow_bps
    if isinstance(borrow, pd.DataFrame):
        borrow = borrow[tickers].reindex(borrow.index.union(index)).ffill().loc[index].to_numpy()
    rate = None
    if config.cash_rate is not None:
        rate = config.cash_rate.reindex(config.cash_rate.index.union(index)).ffill().loc[index].to_numpy()
    equity = reference_equity(
        close,
        open_,
        index.get_indexer(weights.index),
        weights.to_numpy(),
        fill=config.fill,
        fees_bps=per_asset(config.fees_bps),
        slippage_bps=per_asset(config.slippage_bps),
        borrow_bps=per_asset(borrow),
        cash_rate=rate,
        band=config.no_trade_band,
        init_cash=config.init_cash,
        max_gross=config.max_gross,
        max_net=config.max_net,
    )
    return returns_from_equity(equity, config.init_cash)


def assert_matches_reference(
    prices: Prices, weights: pd.DataFrame, config: ExecutionConfig
) -> BacktestResult:
    res = backtest(prices, weights, config)
    ref = run_reference(prices, weights, config)
    assert res.returns.shape == ref.shape
    assert np.isfinite(res.returns.to_numpy()).all()
    np.testing.assert_allclose(res.returns.to_numpy(), ref, rtol=0, atol=TOL)
    # the run did something: trades happened and the returns are not flat
    assert len(res.trades) > 0 and res.returns.std() > 0
    return res


# ------------------------------------------------------------------- independent check: the reference
@pytest.mark.parametrize(
    "seed, mode, fill, extra",
    [
        (0, "long_only", "close", {}),
        (1, "long_only", "open", {"no_trade_band": 0.01}),
        (2, "long_short", "close", {}),
        (3, "long_short", "open", {"max_gross": 1.2, "max_net": 0.1}),
        (4, "dollar_neutral", "close", {"no_trade_band": 0.005}),
        (5, "timing", "open", {}),
    ],
)
def test_synthetic_matches_reference_all_costs(syn, seed, mode, fill, extra):
    idx = weekly(syn.index)
    tickers = ["SPY"] if mode == "timing" else syn.tickers
    w = random_weights(idx, tickers, mode, seed=seed)
    rate = pd.Series(np.random.default_rng(1).uniform(0, 2e-4, len(syn.index)), index=syn.index)
    cfg = ExecutionConfig(fill=fill, mode=mode, cash_rate=rate, **ALL_COSTS, **extra)
    res = assert_matches_reference(syn, w, cfg)
    costs = res.costs.sum()
    assert costs["fees"] > 0 and costs["slippage"] > 0 and costs["cash_interest"] != 0
    if mode in ("long_short", "dollar_neutral"):
        assert costs["borrow"] > 0 and (res.weights < 0).any().any()


def test_per_asset_costs_and_borrow_series_match_reference(syn):
    idx = weekly(syn.index)
    w = random_weights(idx, syn.tickers, "long_short", seed=11)
    fees = {t: 1.0 + k for k, t in enumerate(syn.tickers)}
    slip = {"XLK": 10.0, "*": 2.0}
    borrow = pd.DataFrame(
        {t: [30.0 + k, 300.0 + 10 * k] for k, t in enumerate(syn.tickers)},
        index=pd.DatetimeIndex([syn.index[0], syn.index[700]]),
    )
    cfg = ExecutionConfig(
        mode="long_short",
        fees_bps=fees,
        slippage_bps={t: slip.get(t, 2.0) for t in syn.tickers},
        borrow_bps=borrow,
    )
    assert_matches_reference(syn, w, cfg)
    # the '*' default resolves the same as the explicit mapping
    alt = backtest(syn, w, dataclasses.replace(cfg, slippage_bps=slip))
    np.testing.assert_allclose(alt.returns, backtest(syn, w, cfg).returns, atol=0)


@pytest.mark.parametrize("mode", ["long_only", "long_short"])
def test_real_prices_match_reference_all_costs(real, ff_rf, mode):
    prices = real.between("1999-01-01", "2024-08-30")
    idx = weekly(prices.index)
    w = random_weights(idx, prices.tickers, mode, seed=3)
    cfg = ExecutionConfig(mode=mode, cash_rate=ff_rf, no_trade_band=0.002, **ALL_COSTS)
    res = assert_matches_reference(prices, w, cfg)
    assert any("XLRE: first price 2015-10-08" in line for line in res.log)
    assert any(line.startswith("XLC: no price") and "2018-06-12" in line for line in res.log)


@pytest.mark.parametrize("mode, fill", [("long_only", "open"), ("long_short", "close")])
def test_synthetic_market_matches_reference_all_costs(market, mode, fill):
    """The project's synthetic market (12 ETFs plus the HF_VIP and MOST_SHORT baskets), 26 years weekly."""
    prices = market.prices
    w = random_weights(weekly(prices.index), prices.tickers, mode, seed=8)
    rate = pd.Series(8e-5, index=prices.index)
    cfg = ExecutionConfig(mode=mode, fill=fill, cash_rate=rate, no_trade_band=0.001, **ALL_COSTS)
    assert_matches_reference(prices, w, cfg)


# ------------------------------------------------------------------------------------ borrow and cash
def flat_prices(n: int = 300, tickers=("AAA", "BBB"), level=100.0) -> Prices:
    idx = pd.bdate_range("2020-01-01", periods=n, name="date")
    df = pd.DataFrame(level, index=idx, columns=list(tickers))
    return Prices(df, df.copy(), source="flat")


def test_short_pays_exactly_the_borrow_rate():
    prices = flat_prices()
    w = pd.DataFrame({"AAA": [-0.5], "BBB": [0.0]}, index=prices.index[:1])
    cfg = ExecutionConfig(mode="long_short", fees_bps=0.0, slippage_bps=0.0, borrow_bps=50.0)
    res = backtest(prices, w, cfg)
    short = 0.5 * cfg.init_cash
    borrow = res.costs["borrow"]
    assert borrow.iloc[:2].sum() == 0  # shorted at the close of session 1: accrues from session 2
    np.testing.assert_allclose(borrow.iloc[2:], short * 0.005 / 252, rtol=1e-12)
    # one year of sessions pays exactly the annual rate on the short notional
    assert borrow.iloc[2:254].sum() == pytest.approx(short * 0.005, rel=1e-12)
    assert res.equity.iloc[253] == pytest.approx(cfg.init_cash - short * 0.005, rel=1e-12)
    assert res.portfolio.value().iloc[253] == pytest.approx(res.equity.iloc[253], rel=1e-12)


def test_borrow_time_series_switches_on_its_date():
    prices = flat_prices()
    change = prices.index[100]
    rates = pd.DataFrame({"AAA": [50.0, 500.0], "BBB": [0.0, 0.0]}, index=[prices.index[0], change])
    w = pd.DataFrame({"AAA": [-1.0], "BBB": [0.0]}, index=prices.index[:1])
    cfg = ExecutionConfig(mode="long_short", fees_bps=0.0, slippage_bps=0.0, borrow_bps=rates)
    b = backtest(prices, w, cfg).costs["borrow"]
    assert b.loc[prices.index[99]] == pytest.approx(1e6 * 0.005 / 252, rel=1e-12)
    assert b.loc[change] == pytest.approx(1e6 * 0.05 / 252, rel=1e-12)


def test_cash_interest_compounds_and_negative_cash_pays():
    prices = flat_prices(50)
    r = 1e-4
    rate = pd.Series(r, index=prices.index)
    cfg = ExecutionConfig(fees_bps=0.0, slippage_bps=0.0, cash_rate=rate)
    flat = pd.DataFrame({"AAA": [0.0]}, index=prices.index[:1])
    res = backtest(prices, flat, cfg)
    np.testing.assert_allclose(res.equity, 1e6 * (1 + r) ** np.arange(50), rtol=1e-12)
    assert (res.costs["cash_interest"].iloc[1:] < 0).all()  # earned: a negative cost
    levered = pd.DataFrame({"AAA": [2.0]}, index=prices.index[:1])
    res = backtest(prices, levered, cfg)
    # session 1 earns r on 1e6, then borrows V1 = 1e6 (1 + r) to hold 2 V1: from session 2 it pays r, compounding
    v1 = 1e6 * (1 + r)
    assert res.costs["cash_interest"].iloc[2] == pytest.approx(v1 * r, rel=1e-12)
    assert res.equity.iloc[-1] == pytest.approx(2 * v1 - v1 * (1 + r) ** 48, rel=1e-12)


def test_cash_rate_must_cover_the_run_and_be_decimal(syn):
    w = random_weights(weekly(syn.index), syn.tickers, "long_only", 0)
    short = pd.Series(1e-4, index=syn.index[:500])
    with pytest.raises(ConfigError, match="cash_rate covers"):
        backtest(syn, w, ExecutionConfig(cash_rate=short))
    with pytest.raises(ConfigError, match="percent"):
        ExecutionConfig(cash_rate=pd.Series(0.9, index=syn.index))


# --------------------------------------------------------------------------------------------- timing
@pytest.mark.parametrize("fill", ["close", "open"])
def test_decision_fills_at_the_next_session(syn, fill):
    d = syn.index[400]
    w = pd.DataFrame({"XLK": [1.0]}, index=[d])
    res = backtest(syn, w, ExecutionConfig(fill=fill, fees_bps=0.0, slippage_bps=0.0))
    held = res.weights["XLK"]
    assert held.loc[d] == 0 and res.returns.loc[d] == 0
    nxt = syn.index[401]
    assert res.trades["date"].tolist() == [nxt] and res.trades["decision"].tolist() == [d]
    c, o = syn.close["XLK"], syn.open["XLK"]
    expected = 0.0 if fill == "close" else c.loc[nxt] / o.loc[nxt] - 1
    assert res.returns.loc[nxt] == pytest.approx(expected, abs=1e-14)
    later = syn.index[402]
    assert res.returns.loc[later] == pytest.approx(c.loc[later] / c.loc[nxt] - 1, abs=1e-14)
    assert "fill next " + fill in res.config.describe()


def test_weights_drift_between_rebalances(syn):
    idx = syn.index[[350, 400]]
    w = pd.DataFrame({"SPY": [0.5, 0.5], "XLK": [0.5, 0.5]}, index=idx)
    res = backtest(syn, w, ExecutionConfig(fees_bps=0.0, slippage_bps=0.0))
    day = syn.index[380]
    c = syn.close.loc[[syn.index[351], day], ["SPY", "XLK"]]
    grow = c.iloc[1] / c.iloc[0]
    np.testing.assert_allclose(res.weights.loc[day], 0.5 * grow / (0.5 * grow).sum(), rtol=1e-12)
    assert res.weights.loc[syn.index[401]].to_numpy() == pytest.approx([0.5, 0.5], abs=1e-12)
    assert (res.turnover[res.turnover > 0].index == syn.index[[351, 401]]).all()


def test_last_session_decision_is_logged_not_traded(syn):
    w = pd.DataFrame({"SPY": [1.0, 0.0]}, index=syn.index[[-10, -1]])
    res = backtest(syn, w)
    assert any("last session" in line for line in res.log)
    assert len(res.trades) == 1 and res.weights["SPY"].iloc[-1] > 0.99


# -------------------------------------------------------------------------- universe, limits, band
def test_unpriced_asset_gets_zero_weight_and_is_logged_not_renormalised(syn):
    idx = weekly(syn.index)
    w = pd.DataFrame(1 / 6, index=idx, columns=syn.tickers)
    res = backtest(syn, w, ExecutionConfig(fees_bps=0.0, slippage_bps=0.0))
    first = syn.close["XLRE"].first_valid_index()
    assert (res.target.loc[res.target.index < first, "XLRE"] == 0).all()
    early = res.target.loc[res.target.index < first].sum(axis=1)
    np.testing.assert_allclose(early, 5 / 6)  # the other five keep 1/6 each
    assert any(line.startswith("XLRE: first price") and str(first.date()) in line for line in res.log)
    # XLU has no price on sessions 600..603: decisions there (or filling there) give it weight 0
    dec = syn.index.get_indexer(res.target.index)
    hit = res.target.index[np.isin(dec, [599, 600, 601, 602, 603])]
    assert len(hit) and (res.target.loc[hit, "XLU"] == 0).all()
    assert any(
        line.startswith(f"XLU: no price at the decision or the fill on {len(hit)} ") for line in res.log
    )
    assert (res.weights.loc[res.weights.index < first, "XLRE"] == 0).all()


def test_held_asset_without_fill_price_keeps_its_shares(syn):
    # XLU has no price on sessions 600..603: a rebalance filling on 601 cannot trade it
    w = pd.DataFrame({"XLU": [1.0, 0.0], "SPY": [0.0, 1.0]}, index=syn.index[[500, 600]])
    res = backtest(syn, w, ExecutionConfig(fees_bps=0.0, slippage_bps=0.0))
    assert any(line.startswith("XLU: held but no fill price") for line in res.log)
    assert res.weights.loc[syn.index[601], "XLU"] > 0.5
    assert set(res.trades.loc[res.trades["date"] == syn.index[601], "ticker"]) == {"SPY"}


def test_limits_scale_rows_and_log(syn):
    idx = weekly(syn.index)
    w = random_weights(idx, syn.tickers, "long_short", seed=5) * 2  # gross 3.2
    res = backtest(syn, w, ExecutionConfig(mode="long_short", max_gross=2.0, max_net=0.25))
    assert (res.target.abs().sum(axis=1) <= 2.0 + 1e-12).all()
    assert (res.target.sum(axis=1).abs() <= 0.25 + 1e-12).all()
    assert any(line.startswith("max_gross 2") for line in res.log)
    assert any(line.startswith("max_net 0.25") for line in res.log)


def test_no_trade_band_skips_small_trades_and_cuts_turnover(syn):
    idx = weekly(syn.index)
    rng = np.random.default_rng(9)
    w0 = rng.dirichlet(np.ones(6))
    w = pd.DataFrame(
        w0 + rng.uniform(0, 0.01, (len(idx), 6)), index=idx, columns=syn.tickers
    )  # small changes
    base = backtest(syn, w)
    banded = backtest(syn, w, ExecutionConfig(no_trade_band=0.02))
    assert banded.turnover.sum() < 0.8 * base.turnover.sum()
    # with fills at the close and no carry, pre-trade equity = post-trade equity + that day's trading costs
    pre = banded.equity + banded.costs["fees"] + banded.costs["slippage"]
    fill_value = pre.reindex(banded.trades["date"]).to_numpy()
    assert (banded.trades["notional"].to_numpy() >= 0.02 * fill_value).all()
    assert len(banded.trades) < len(base.trades)


# ------------------------------------------------------------------------------------- outputs, vbt
def test_vectorbt_portfolio_agrees_with_the_engine(syn):
    idx = weekly(syn.index)
    w = random_weights(idx, syn.tickers, "long_short", seed=2)
    rate = pd.Series(1e-4, index=syn.index)
    res = backtest(syn, w, ExecutionConfig(mode="long_short", cash_rate=rate, **ALL_COSTS))
    pf = res.portfolio
    assert isinstance(pf, CarryPortfolio)
    np.testing.assert_allclose(pf.value().to_numpy(), res.equity.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(pf.returns().to_numpy(), res.returns.to_numpy(), atol=1e-12)
    assert pf.total_profit() == pytest.approx(res.equity.iloc[-1] - 1e6, rel=1e-9)
    assert pf.orders.count() == len(res.trades)
    assert pf.orders.fees.sum() == pytest.approx(res.costs["fees"].sum(), rel=1e-12)
    carry = pf.carry.sum().sum()
    assert carry == pytest.approx(-res.costs["borrow"].sum() - res.costs["cash_interest"].sum(), rel=1e-12)
    assert pf.replace().carry.sum().sum() == pytest.approx(carry, rel=1e-15)
    held = pf.asset_value(group_by=False).to_numpy() / pf.value().to_numpy()[:, None]
    np.testing.assert_allclose(held, res.weights.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(res.gross, res.weights.abs().sum(axis=1))
    # costs split by kind add up to the gap between a costly and a free run's P&L on the first fill
    free = backtest(syn, w, dataclasses.replace(res.config, fees_bps=0.0, slippage_bps=0.0, borrow_bps=0.0))
    first_fill = res.trades["date"].iloc[0]
    gap = free.equity.loc[first_fill] - res.equity.loc[first_fill]
    assert gap == pytest.approx(res.costs.loc[first_fill, ["fees", "slippage"]].sum(), rel=1e-9)


def test_order_execution_is_vectorbts_order_by_order():
    """`research.backtest.nb.execute_order_nb` is vectorbt's `process_order_nb` for the engine's orders (shares,
    both directions, unlimited cash, fees and slippage): same fill, fees, side, position and debt, bit for bit,
    including the snapping of near-zero positions and orders that cross zero."""
    from vectorbt.portfolio import nb as vnb
    from vectorbt.portfolio.enums import Direction, ProcessOrderState, SizeType, log_dt, order_dt

    from research.backtest import nb

    assert nb.ORDER_DT == order_dt
    rng = np.random.default_rng(0)
    records, logs = np.empty(1, dtype=order_dt), np.empty(1, dtype=log_dt)
    for k in range(3000):
        kind = k % 6
        position = float(rng.choice([0.0, 1e-13, -1e-13, rng.normal(0, 500)]))
        debt = abs(position) * float(rng.uniform(10, 200)) if position < 0 else float(rng.choice([0.0, 1e-13]))
        size = float(rng.normal(0, 300))
        if kind == 1:
            size = -position * float(rng.choice([1.0, 1.0 + 1e-10, 2.0]))  # close out, or cross zero
        elif kind == 2:
            size = float(rng.choice([1e-13, -1e-13, 3e-12]))
        price = float(rng.uniform(1, 500))
        fees, slippage = float(rng.choice([0.0, rng.uniform(0, 0.01)])), float(rng.choice([0.0, 5e-4]))
        state = ProcessOrderState(cash=np.inf, position=position, debt=debt, free_cash=np.inf, val_price=price,
                                  value=1e6, oidx=0, lidx=0)
        order = vnb.order_nb(size=size, price=price, size_type=SizeType.Amount, direction=Direction.Both,
                             fees=fees, slippage=slippage, raise_reject=True)
        result, new = vnb.process_order_nb(0, 0, 0, state, False, order, records, logs)
        status, filled, fill_price, fee, side, pos, dbt = nb.execute_order_nb(size, price, fees, slippage,
                                                                             position, debt)
        assert (status, pos, dbt) == (result.status, new.position, new.debt), (k, size, position)
        if status == nb.FILLED:
            rec = records[0]
            assert (filled, fill_price, fee, side) == (rec["size"], rec["price"], rec["fees"], rec["side"]), k
            assert (filled, fill_price, fee, side) == (result.size, result.price, result.fees, result.side), k


def test_the_vectorbt_portfolio_is_built_on_first_access(syn):
    """The engine does not import vectorbt; `portfolio` builds the vbt.Portfolio when asked for, once."""
    res = backtest(syn, random_weights(weekly(syn.index), syn.tickers, "long_only", seed=1))
    assert "portfolio" not in res.__dict__
    pf = res.portfolio
    assert res.portfolio is pf and isinstance(pf, CarryPortfolio)


def test_carry_portfolio_column_selection_keeps_carry(syn):
    close = syn.close[["SPY", "XLK"]].iloc[:20]
    from vectorbt.base.array_wrapper import ArrayWrapper
    from vectorbt.portfolio.enums import log_dt, order_dt

    wrapper = ArrayWrapper.from_obj(close, freq="1D")
    carry = np.zeros(close.shape)
    carry[5, 1] = -7.0
    pf = CarryPortfolio(
        wrapper, close, np.empty(0, order_dt), np.empty(0, log_dt), np.full(2, 100.0), False, carry=carry
    )
    assert pf["XLK"].value().iloc[-1] == pytest.approx(93.0)
    assert pf["SPY"].value().iloc[-1] == pytest.approx(100.0)


def test_save_writes_parquet_and_csv(syn, tmp_path):
    w = random_weights(weekly(syn.index), syn.tickers, "long_only", seed=4)
    res = backtest(syn, w, ExecutionConfig(cash_rate=pd.Series(1e-4, index=syn.index)))
    res.save(tmp_path / "run")
    out = tmp_path / "run"
    for name in ("returns", "equity", "weights", "trades", "turnover", "exposure", "costs", "target"):
        assert (out / f"{name}.parquet").is_file(), name
    pd.testing.assert_series_equal(
        pd.read_parquet(out / "returns.parquet")["return"], res.returns, check_freq=False
    )
    pd.testing.assert_frame_equal(pd.read_parquet(out / "trades.parquet"), res.trades)
    csv = pd.read_csv(out / "weights.csv", index_col=0, parse_dates=True)
    np.testing.assert_allclose(csv.to_numpy(), res.weights.to_numpy(), rtol=1e-12)
    assert (out / "returns.csv").is_file()
    meta = json.loads((out / "execution.json").read_text())
    assert meta["timing"] == "decide at close t, fill next close" and meta["cash_rate"]["kind"]
    assert (out / "engine.log").read_text().startswith("execution: decide at close t")


def test_config_describe_and_to_dict_are_complete():
    borrow = pd.DataFrame({"XLK": [40.0]}, index=[pd.Timestamp("2020-01-02")])
    cfg = ExecutionConfig(
        fill="open", fees_bps={"XLK": 1.0, "*": 2.0}, borrow_bps=borrow, max_gross=1.5, no_trade_band=0.01
    )
    text = cfg.describe()
    for part in ("fill next open", "fees per asset 1-2 bp", "gross 1.5x", "band 1.00%", "borrow time series"):
        assert part in text
    json.dumps(cfg.to_dict())


# ----------------------------------------------------------------------------------------- benchmarks
def test_benchmarks_spy_buy_and_hold_and_equal_weight(syn):
    sched = weekly(syn.index)
    cfg = ExecutionConfig(fees_bps=0.0, slippage_bps=0.0)
    bench = benchmark_returns(syn, sched, cfg)
    assert list(bench.columns) == ["SPY", "EW_SECTORS"]
    spy = syn.close["SPY"].loc[bench.index]
    np.testing.assert_allclose(bench["SPY"].iloc[2:], spy.pct_change().iloc[2:], atol=1e-12)
    # the basket equals the reference with 1/N of the sector ETFs priced at each decision
    res = benchmark_results(syn, sched, ExecutionConfig())
    sectors = ["XLK", "XLF", "XLE", "XLRE", "XLU"]
    priced = syn.close.loc[sched, sectors].notna()
    w = priced.div(priced.sum(axis=1), axis=0).astype(float)
    ref = run_reference(syn, w, dataclasses.replace(ExecutionConfig(), borrow_bps=0.0))
    np.testing.assert_allclose(res["EW_SECTORS"].returns, ref, atol=TOL)
    assert any("EW_SECTORS: 1/4" in line and "1/5 from" in line for line in res["EW_SECTORS"].log)
    # a sweep asks for the one it scores against: the same numbers, the other not run
    only = benchmark_returns(syn, sched, cfg, ("EW_SECTORS",))
    assert list(only.columns) == ["EW_SECTORS"]
    pd.testing.assert_series_equal(only["EW_SECTORS"], bench["EW_SECTORS"])
    with pytest.raises(DataError, match="unknown benchmark"):
        benchmark_returns(syn, sched, cfg, ("QQQ",))


# ----------------------------------------------------------------------------------------- bad input
@pytest.fixture
def no_simulation(monkeypatch):
    """Fail loudly if validation lets bad input reach the simulation."""

    def boom(*args, **kwargs):
        raise AssertionError("the simulation ran on bad input")

    monkeypatch.setattr(engine_mod.nb, "simulate_nb", boom)


def _good(syn):
    return random_weights(weekly(syn.index), ["SPY", "XLK"], "long_only", seed=1)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda w: w.assign(XYZ=0.1), r"tickers without prices: \['XYZ'\]"),
        (
            lambda w: w.mask(np.arange(len(w))[:, None] == np.full(w.shape, 3)),
            r"has NaN/inf for \['SPY', 'XLK'\]",
        ),
        (
            lambda w: w.rename(index={w.index[2]: w.index[2] + pd.Timedelta(days=4)}).sort_index(),
            "not sessions",
        ),
        (lambda w: w.rename(index={w.index[2]: pd.Timestamp("2030-01-02")}).sort_index(), "2030-01-02"),
        (lambda w: -w, "long_only but weight"),
        (lambda w: w.iloc[:0], "empty"),
        (lambda w: w.set_axis(w.index + pd.Timedelta(hours=16)), "midnight"),
        (lambda w: pd.concat([w, w.iloc[:1]]), "sorted and unique"),
    ],
)
def test_bad_weights_raise_before_simulation(syn, no_simulation, mutate, message):
    with pytest.raises(DataError, match=message):
        backtest(syn, mutate(_good(syn)))


def test_bad_modes_raise_before_simulation(syn, no_simulation):
    w = _good(syn)
    with pytest.raises(DataError, match="dollar_neutral"):
        backtest(syn, w, ExecutionConfig(mode="dollar_neutral"))
    with pytest.raises(DataError, match="timing trades one asset"):
        backtest(syn, w, ExecutionConfig(mode="timing"))
    with pytest.raises(ConfigError, match=r"fees_bps has no entry for \['XLK'\]"):
        backtest(syn, w, ExecutionConfig(fees_bps={"SPY": 1.0}))


def test_negative_prices_raise_before_simulation(syn, no_simulation):
    close = syn.close.copy()
    close.iloc[10, 1] = -1.0
    with pytest.raises(DataError, match="non-positive"):
        Prices(close, syn.open.copy())
    broken = synthetic_prices()
    broken.close.iloc[10, 1] = -1.0  # frames are mutable after validation: the engine checks again
    with pytest.raises(DataError, match=r"non-positive price.*XLK"):
        backtest(broken, _good(broken))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fill": "noon"}, "fill must be"),
        ({"fees_bps": -1.0}, "fees_bps"),
        ({"slippage_bps": {"XLK": float("nan")}}, "slippage_bps"),
        ({"no_trade_band": 1.5}, "no_trade_band"),
        ({"mode": "short_only"}, "mode must be"),
        ({"max_gross": 0.0}, "max_gross"),
        ({"init_cash": -5.0}, "init_cash"),
    ],
)
def test_bad_config_raises(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ExecutionConfig(**kwargs)
