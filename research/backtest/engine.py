"""The portfolio engine: target weights -> a vectorbt portfolio, accounted for as a PM's risk desk would.

Exact semantics (the NumPy reference in tests/reference_engine.py and any sweep kernel must match them):

Timing. `weights` is indexed by decision sessions: a row decided at session t's close (from data public by then)
fills at the next session t+1 of the price index, at its close (fill="close", the default) or its open
(fill="open"). A decision on the last session has no fill (logged, dropped). Between fills share counts are
constant, so weights drift with prices. The run spans the first decision session to the last price session and
starts all in cash (`init_cash`).

Each session i, in this order (n_j shares, C close, P fill price, cash may be negative: a margin account):
  1. Carry, on the state at the previous close (from the second session on):
       interest = cash * r_i                    r = cash_rate on session i (daily decimal); 0 if none.
                                               Short-sale proceeds sit in cash and earn it; negative cash pays it.
       borrow   = sum_j max(-n_j, 0) * C_{i-1,j} * b_{i,j} / 1e4 / 252      b = annual borrow bps on session i
       cash    += interest - borrow
  2. Fill, if a decision fills on session i:
       mark_j = P_{i,j}, or the last close where the fill price is missing
       V      = cash + sum_j n_j * mark_j                        (pre-trade equity at the fill)
       d_j    = w_j * V / P_{i,j} - n_j  shares, for each asset with a fill price; skipped if |d_j| P < band * V
       executed at P (1 + s_j) when buying, P (1 - s_j) when selling; fee = f_j * |d_j| * executed price
       cash  -= d_j * executed price + fee           (s_j, f_j: slippage and fees bps / 1e4, per asset)
     so post-trade weights equal the targets up to the costs just paid; nothing is renormalised.
  3. Close: equity E_i = cash + sum_j n_j * C_{i,j} (last known close where missing).
Daily return r_i = E_i / E_{i-1} - 1 (close to close; the first session against init_cash).

Targets, fixed before the simulation (every change is logged with dates):
  - An asset with no close on the decision session, or no fill price on the fill session, gets weight 0.
    A held asset without a fill price keeps its shares at that fill (it cannot trade).
  - Limits: a row with gross sum|w| > max_gross is scaled by max_gross / gross; then a row with
    |sum w| > max_net is scaled by max_net / |net|. (Scaling keeps the row's shape and dollar neutrality.)
  - Modes check the input: long_only (w >= 0), long_short (any sign), dollar_neutral (|sum w| <= 1e-6 per
    row), timing (exactly one asset against cash, any sign).

Reported costs, in dollars per session, positive = paid: fees; slippage = sum |d_j| * |executed - P|; borrow;
cash_interest = -interest (negative when cash earns). Turnover on a fill = sum_j |d_j| * P_{i,j} / V
(buys plus sells; a full switch is 2). Gross and net exposure and held weights are at each close, over E_i.

Orders are executed as vectorbt's `process_order_nb` executes them, into vectorbt's order records (a port of
that path, checked against vectorbt order by order: see `research.backtest.nb`); the result's `portfolio` is a
`vbt.Portfolio` built from those records whose cash also carries borrow and interest, so its value() and
returns() equal the engine's equity and returns. It is built on first access: importing vectorbt takes ~3 s,
which a run that only writes its folder and tear sheet need not pay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from research.backtest import nb
from research.backtest.config import ExecutionConfig
from research.data.prices import Prices, check_price_frame
from research.errors import DataError

if TYPE_CHECKING:
    from research.backtest.portfolio import CarryPortfolio

NEUTRAL_TOL = 1e-6
DEFAULT_CONFIG = ExecutionConfig()
_LIMIT_TOL = 1e-12


@dataclass(frozen=True)
class PortfolioInputs:
    """What the vectorbt portfolio of a backtest is built from: closes, order records, call sequence, carry."""

    close: pd.DataFrame
    records: np.ndarray
    call_seq: np.ndarray
    carry: np.ndarray
    init_cash: float

    def build(self) -> CarryPortfolio:
        """The `CarryPortfolio` (one group, shared cash) of these records; imports vectorbt."""
        from vectorbt.base.array_wrapper import ArrayWrapper
        from vectorbt.portfolio.enums import log_dt

        from research.backtest.portfolio import CarryPortfolio

        wrapper = ArrayWrapper.from_obj(self.close, freq="1D", group_by=True)
        return CarryPortfolio(wrapper, self.close, self.records, np.empty(0, dtype=log_dt), self.init_cash, True,
                              call_seq=self.call_seq, fillna_close=True, carry=self.carry)


@dataclass(repr=False)
class BacktestResult:
    """Everything a run produces; frames are indexed by session (trades and target by their own keys)."""

    returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    trades: pd.DataFrame
    turnover: pd.Series
    gross: pd.Series
    net: pd.Series
    costs: pd.DataFrame
    log: list[str]
    target: pd.DataFrame
    config: ExecutionConfig
    portfolio_inputs: PortfolioInputs = field(repr=False)

    def __repr__(self) -> str:
        r = self.returns.dropna()
        span = f"{r.index[0].date()} to {r.index[-1].date()}" if len(r) else "no returns"
        return (f"<BacktestResult {self.config.mode}, {span}, {self.weights.shape[1]} assets, {len(self.trades):,} "
                f"trades, final equity {self.equity.iloc[-1]:,.0f}>" if len(self.equity) else
                f"<BacktestResult {self.config.mode}, {span}>")

    @cached_property
    def portfolio(self) -> CarryPortfolio:
        """The run as a vectorbt portfolio (value(), returns(), stats(), orders), built on first access."""
        return self.portfolio_inputs.build()

    def save(self, folder: Path, *, csv: bool = True) -> None:
        """Write every frame as parquet, returns and weights also as CSV (`csv=False`: later, by `save_csv`), plus
        execution.json and engine.log."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        frames: dict[str, pd.DataFrame] = {
            "returns": self.returns.to_frame("return"),
            "equity": self.equity.to_frame("equity"),
            "weights": self.weights,
            "trades": self.trades,
            "turnover": self.turnover.to_frame("turnover"),
            "exposure": pd.DataFrame({"gross": self.gross, "net": self.net}),
            "costs": self.costs,
            "target": self.target,
        }
        for name, frame in frames.items():
            frame.to_parquet(folder / f"{name}.parquet")
        if csv:
            self.save_csv(folder)
        (folder / "execution.json").write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        (folder / "engine.log").write_text("\n".join(self.log) + "\n")

    def save_csv(self, folder: Path) -> None:
        """returns.csv and weights.csv (for spreadsheets; nothing in flowbt reads them back)."""
        self.returns.to_frame("return").to_csv(Path(folder) / "returns.csv")
        self.weights.to_csv(Path(folder) / "weights.csv")


def backtest(
    prices: Prices, weights: pd.DataFrame, config: ExecutionConfig = DEFAULT_CONFIG
) -> BacktestResult:
    """Trade `weights` (decision sessions x tickers) on `prices` under `config`; see the module docstring."""
    tickers = check_weights(weights, prices, config)
    w = weights.astype(float)
    close_all = prices.close[tickers]
    open_all = prices.open[tickers]
    check_price_frame(close_all, f"{prices.source}: close")
    check_price_frame(open_all, f"{prices.source}: open")
    for name, frame in (("close", close_all), ("open", open_all)):
        inf = np.isinf(frame.to_numpy(dtype=float))
        if inf.any():
            r, c = np.argwhere(inf)[0]
            raise DataError(
                f"{prices.source}: {name} is infinite on {frame.index[r].date()} for {tickers[c]!r}."
            )

    index = prices.index[prices.index >= w.index[0]]
    close = close_all.loc[index].to_numpy(dtype=float)
    fill_frame = close_all if config.fill == "close" else open_all
    fill_price = fill_frame.loc[index].to_numpy(dtype=float)
    n, m = close.shape
    log = [f"execution: {config.describe()}"]

    fees = config.fees(tickers)
    slippage = config.slippage(tickers)
    borrow_day = config.borrow_per_session(index, tickers)
    cash_rate, filled = config.cash_rate_per_session(index)
    if filled:
        log.append(f"cash_rate: {filled} session(s) without a rate took the previous session's rate.")

    target, fill_rows, target_log = _targets(w, index, close, fill_price, tickers, config)
    log += target_log
    fill_mask = np.zeros(n, dtype=np.bool_)
    fill_mask[fill_rows] = True

    records, call_seq, position, cash, equity, borrow, interest, fill_value = nb.simulate_nb(
        close,
        fill_price,
        target,
        fill_mask,
        fees,
        slippage,
        borrow_day,
        cash_rate,
        float(config.no_trade_band),
        float(config.init_cash),
    )
    log += _untradable_holdings(position, fill_price, fill_rows, index, tickers)
    bad = fill_rows[~(fill_value[fill_rows] > 0)]
    if len(bad):
        log.append(
            f"equity was not positive at {len(bad)} fill(s) from {index[bad[0]].date()}: no trades there."
        )

    close_df = pd.DataFrame(close, index=index, columns=tickers)
    carry = -borrow
    carry[:, 0] += interest
    portfolio = PortfolioInputs(close_df, records, call_seq, carry, float(config.init_cash))

    equity_s = pd.Series(equity, index=index, name="equity")
    prev = np.concatenate([[config.init_cash], equity[:-1]])
    returns = pd.Series(equity / prev - 1.0, index=index, name="return")
    last_close = close_df.ffill().to_numpy()
    held_value = np.where(position != 0.0, position * np.nan_to_num(last_close), 0.0)
    held = pd.DataFrame(held_value / equity[:, None], index=index, columns=tickers)
    trades, turnover, fees_paid, slip_paid = _trades(records, index, tickers, fill_price, fill_value)
    costs = pd.DataFrame(
        {"fees": fees_paid, "slippage": slip_paid, "borrow": borrow.sum(axis=1), "cash_interest": -interest},
        index=index,
    )
    target_df = pd.DataFrame(target[fill_rows], index=index[fill_rows - 1], columns=tickers)
    target_df.index.name = "decision"
    return BacktestResult(
        returns=returns,
        equity=equity_s,
        weights=held,
        trades=trades,
        turnover=pd.Series(turnover, index=index, name="turnover"),
        gross=held.abs().sum(axis=1).rename("gross"),
        net=held.sum(axis=1).rename("net"),
        costs=costs,
        log=log,
        target=target_df,
        config=config,
        portfolio_inputs=portfolio,
    )


def check_weights(weights: pd.DataFrame, prices: Prices, config: ExecutionConfig) -> list[str]:
    """Raise DataError unless `weights` is a complete, finite frame on price sessions fitting `config.mode`."""
    if not isinstance(weights, pd.DataFrame):
        raise DataError(f"weights must be a DataFrame (sessions x tickers), got {type(weights).__name__}.")
    if weights.empty:
        raise DataError("weights is empty: no decision rows or no tickers.")
    idx = weights.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise DataError(
            f"weights must be indexed by session dates (DatetimeIndex), got {type(idx).__name__}."
        )
    if idx.tz is not None:
        raise DataError(f"weights dates must be tz-naive New York sessions, got time zone {idx.tz}.")
    if (idx != idx.normalize()).any():
        raise DataError(f"weights dates must be midnight-stamped sessions; {idx[idx != idx.normalize()][0]}.")
    if idx.has_duplicates or not idx.is_monotonic_increasing:
        dups = list(map(str, idx[idx.duplicated()].date[:3]))
        raise DataError(f"weights dates must be sorted and unique (duplicates: {dups}).")
    cols = [str(c) for c in weights.columns]
    if len(set(cols)) != len(cols):
        raise DataError(f"weights has duplicate tickers: {sorted({c for c in cols if cols.count(c) > 1})}.")
    unknown = [c for c in weights.columns if c not in prices.close.columns]
    if unknown:
        raise DataError(f"weights has tickers without prices: {unknown}; available: {prices.tickers}.")
    outside = idx[~idx.isin(prices.index)]
    if len(outside):
        raise DataError(
            f"{len(outside)} rebalance date(s) are not sessions of the price index "
            f"({prices.index[0].date()}..{prices.index[-1].date()}): {[str(d.date()) for d in outside[:5]]}. "
            "Decide on price sessions only."
        )
    try:
        values = weights.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError("weights must be numeric.") from None
    bad = ~np.isfinite(values)
    if bad.any():
        r = int(np.argwhere(bad)[0][0])
        which = [c for c, b in zip(weights.columns, bad[r], strict=True) if b]
        raise DataError(
            f"weights row {idx[r].date()} has NaN/inf for {which} ({int(bad.any(axis=1).sum())} bad row(s)); "
            "rows must be complete: use 0 for a ticker you do not hold."
        )
    mode = config.mode
    if mode == "long_only" and (values < 0).any():
        r, c = np.argwhere(values < 0)[0]
        raise DataError(
            f"mode long_only but weight {values[r, c]:.6g} for {weights.columns[c]!r} on {idx[r].date()}; "
            "use mode='long_short' or clip the weights."
        )
    if mode == "dollar_neutral":
        net = values.sum(axis=1)
        off = np.abs(net) > NEUTRAL_TOL
        if off.any():
            r = int(np.argmax(off))
            raise DataError(
                f"mode dollar_neutral but the weights on {idx[r].date()} sum to {net[r]:.6g} "
                f"({int(off.sum())} row(s) off by more than {NEUTRAL_TOL:g}); make each row sum to 0."
            )
    if mode == "timing" and weights.shape[1] != 1:
        raise DataError(f"mode timing trades one asset against cash; weights has {weights.shape[1]} columns.")
    return list(weights.columns)


def _targets(
    w: pd.DataFrame,
    index: pd.DatetimeIndex,
    close: np.ndarray,
    fill_price: np.ndarray,
    tickers: list[str],
    config: ExecutionConfig,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Target matrix on fill rows (NaN elsewhere), the fill rows, and the log of every change made."""
    log: list[str] = []
    n, m = close.shape
    dec = index.get_indexer(w.index)
    values = w.to_numpy(dtype=float).copy()
    if dec[-1] == n - 1:
        log.append(
            f"decision on the last session {index[-1].date()} has no next session to fill: not traded."
        )
        dec, values = dec[:-1], values[:-1]
    fill = dec + 1

    first = pd.DataFrame(close, index=index, columns=tickers).apply(lambda s: s.first_valid_index())
    for j, t in enumerate(tickers):
        if first.iloc[j] is None or pd.isna(first.iloc[j]):
            log.append(
                f"{t}: no price in the run {index[0].date()}..{index[-1].date()}; weight 0 throughout."
            )
        elif first.iloc[j] > index[0]:
            log.append(
                f"{t}: first price {first.iloc[j].date()}, after the run start {index[0].date()}; weight 0 before."
            )

    no_price = np.isnan(close[dec]) | np.isnan(fill_price[fill])
    zeroed = no_price & (values != 0)
    for j, t in enumerate(tickers):
        rows = np.flatnonzero(zeroed[:, j])
        if len(rows):
            log.append(
                f"{t}: no price at the decision or the fill on {len(rows)} decision date(s) "
                f"{_span(index[dec[rows]])}; its nonzero target weight was set to 0 (the row is not renormalised)."
            )
    values[no_price] = 0.0

    if config.mode == "dollar_neutral" and zeroed.any():
        net = values.sum(axis=1)
        off = np.abs(net) > NEUTRAL_TOL
        if off.any():
            log.append(
                f"dollar_neutral: after zeroing unpriced assets {int(off.sum())} row(s) are not neutral "
                f"{_span(index[dec[off]])}, max |net| {np.abs(net).max():.4g}."
            )
    if config.max_gross is not None:
        gross = np.abs(values).sum(axis=1)
        over = gross > config.max_gross * (1 + _LIMIT_TOL)
        if over.any():
            values[over] *= (config.max_gross / gross[over])[:, None]
            log.append(
                f"max_gross {config.max_gross:g}: {int(over.sum())} row(s) scaled down {_span(index[dec[over]])}, "
                f"largest gross {gross.max():.4g}."
            )
    if config.max_net is not None:
        net = values.sum(axis=1)
        over = np.abs(net) > config.max_net * (1 + _LIMIT_TOL)
        if over.any():
            values[over] *= (config.max_net / np.abs(net[over]))[:, None]
            log.append(
                f"max_net {config.max_net:g}: {int(over.sum())} row(s) scaled down {_span(index[dec[over]])}, "
                f"largest |net| {np.abs(net).max():.4g}."
            )
    target = np.full((n, m), np.nan)
    target[fill] = values
    return target, fill, log


def _untradable_holdings(
    position: np.ndarray,
    fill_price: np.ndarray,
    fill_rows: np.ndarray,
    index: pd.DatetimeIndex,
    tickers: list[str],
) -> list[str]:
    """Log assets held into a fill that had no fill price (their shares were kept)."""
    log = []
    rows = fill_rows[fill_rows > 0]
    stuck = (position[rows - 1] != 0) & np.isnan(fill_price[rows])
    for j, t in enumerate(tickers):
        hit = rows[stuck[:, j]]
        if len(hit):
            log.append(f"{t}: held but no fill price on {len(hit)} fill(s) {_span(index[hit])}; shares kept.")
    return log


def _trades(
    records: np.ndarray,
    index: pd.DatetimeIndex,
    tickers: list[str],
    fill_price: np.ndarray,
    fill_value: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Trades table and daily turnover, fees and slippage (dollars) from the order records (vectorbt's layout)."""
    n = len(index)
    row, col = records["idx"], records["col"]
    sign = np.where(records["side"] == nb.BUY, 1.0, -1.0)
    shares = sign * records["size"]
    ref = fill_price[row, col]
    notional = records["size"] * ref
    slip = records["size"] * np.abs(records["price"] - ref)
    trades = pd.DataFrame(
        {
            "date": index[row],
            "decision": index[row - 1],
            "ticker": np.asarray(tickers, dtype=object)[col],
            "side": np.where(sign > 0, "buy", "sell"),
            "shares": shares,
            "ref_price": ref,
            "price": records["price"],
            "notional": notional,
            "fees": records["fees"],
            "slippage": slip,
        }
    )
    turnover = np.zeros(n)
    np.add.at(turnover, row, notional)
    has = turnover > 0
    turnover[has] /= fill_value[has]
    fees = np.zeros(n)
    np.add.at(fees, row, records["fees"])
    slippage = np.zeros(n)
    np.add.at(slippage, row, slip)
    return trades, turnover, fees, slippage


def _span(dates: pd.DatetimeIndex) -> str:
    """'on 2020-01-07' or 'from 2020-01-07 to 2020-03-03'."""
    if len(dates) == 1:
        return f"on {dates[0].date()}"
    return f"from {dates[0].date()} to {dates[-1].date()}"
