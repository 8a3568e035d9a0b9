"""Numba kernel of the portfolio engine: drifted-weight rebalancing in a margin account, on vectorbt's orders.

One cached loop over sessions drives vectorbt's own order processing (`vectorbt.portfolio.nb.process_order_nb`:
slippage, fees, order records in vectorbt's layout) and adds what vectorbt lacks: borrow cost on shorts,
interest on cash, target-weight sizing at the fill price with a no-trade band, and a margin account
(cash may go negative). Why not `Portfolio.from_order_func`: its simulation takes user callbacks and so
cannot be cached by numba (every new process recompiles it, ~12 s); this loop compiles once per machine.

The exact semantics are documented in `research.backtest.engine` (module docstring). Plain NumPy in and out.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from vectorbt.portfolio.enums import Direction, OrderSide, OrderStatus, ProcessOrderState, SizeType
from vectorbt.portfolio.nb import init_records_nb, order_nb, process_order_nb


@njit(cache=True)
def order_sizes_nb(
    position: np.ndarray,
    mark: np.ndarray,
    fill_price: np.ndarray,
    target: np.ndarray,
    cash: float,
    band: float,
    size_out: np.ndarray,
) -> float:
    """Order sizes (shares) that move `position` to `target` weights of equity valued at `mark`; returns equity.

    Equity V = cash + sum(position * mark) over held assets. An asset trades only if its fill price and target
    are finite; its order is target * V / fill price - position, skipped (0) when |order| * fill price < band * V.
    """
    value = cash
    for col in range(position.shape[0]):
        if position[col] != 0.0:
            value += position[col] * mark[col]
    for col in range(position.shape[0]):
        size_out[col] = 0.0
        p = fill_price[col]
        w = target[col]
        if np.isnan(p) or np.isnan(w) or not value > 0.0:
            continue
        d = w * value / p - position[col]
        if abs(d) * p < band * value:
            continue
        size_out[col] = d
    return value


@njit(cache=True)
def sell_first_order_nb(size: np.ndarray, price: np.ndarray, seq: np.ndarray) -> None:
    """Fill `seq` with column indices sorted by signed order value (sells first, then buys); stable."""
    n = size.shape[0]
    for k in range(n):
        seq[k] = k
    for k in range(1, n):
        j = k
        while j > 0 and size[seq[j]] * price[seq[j]] < size[seq[j - 1]] * price[seq[j - 1]]:
            tmp = seq[j - 1]
            seq[j - 1] = seq[j]
            seq[j] = tmp
            j -= 1


@njit(cache=True)
def simulate_nb(
    close: np.ndarray,
    fill_price: np.ndarray,
    target: np.ndarray,
    fill_mask: np.ndarray,
    fees: np.ndarray,
    slippage: np.ndarray,
    borrow_day: np.ndarray,
    cash_rate: np.ndarray,
    band: float,
    init_cash: float,
):
    """Simulate one portfolio with shared cash; returns vectorbt order records and the daily state.

    Args (n sessions x m assets): `close` (NaN where no price), `fill_price` (close or open of the fill
    session, NaN where no price), `target` (weights, read on rows where `fill_mask`), `fees`/`slippage` (m,
    fractions), `borrow_day` (n, m: fraction of short notional per session), `cash_rate` (n: daily rate),
    `band` (fraction of equity), `init_cash`.

    Returns (order_records, call_seq, position (n, m) at each close, cash (n,), equity (n,), borrow (n, m),
    interest (n,), fill_value (n,): pre-trade equity at the fill, NaN on non-fill rows).
    """
    n, m = close.shape
    n_fills = 0
    for i in range(n):
        if fill_mask[i]:
            n_fills += 1
    order_records, log_records = init_records_nb((n, m), max(n_fills * m, 1), 0)
    call_seq = np.empty((n, m), dtype=np.int64)
    for i in range(n):
        for col in range(m):
            call_seq[i, col] = col
    position_out = np.zeros((n, m))
    cash_out = np.zeros(n)
    equity_out = np.zeros(n)
    borrow_out = np.zeros((n, m))
    interest_out = np.zeros(n)
    fill_value_out = np.full(n, np.nan)

    position = np.zeros(m)
    debt = np.zeros(m)
    last_close = np.full(m, np.nan)
    mark = np.full(m, np.nan)
    size = np.zeros(m)
    seq = np.zeros(m, dtype=np.int64)
    cash = init_cash
    oidx = 0
    lidx = 0
    for i in range(n):
        # 1. Carry on the state at the previous close: interest on cash, borrow on short notional.
        if i > 0:
            interest = cash * cash_rate[i]
            borrow = 0.0
            for col in range(m):
                if position[col] < 0.0:
                    b = -position[col] * last_close[col] * borrow_day[i, col]
                    borrow_out[i, col] = b
                    borrow += b
            interest_out[i] = interest
            cash = cash + interest - borrow

        # 2. Fill: size at the fill price, execute through vectorbt (unlimited buying power = margin account).
        if fill_mask[i]:
            for col in range(m):
                p = fill_price[i, col]
                mark[col] = p if not np.isnan(p) else last_close[col]
            value = order_sizes_nb(position, mark, fill_price[i], target[i], cash, band, size)
            fill_value_out[i] = value
            sell_first_order_nb(size, fill_price[i], seq)
            for k in range(m):
                col = seq[k]
                call_seq[i, k] = col
                if size[col] == 0.0:
                    continue
                order = order_nb(
                    size=size[col],
                    price=fill_price[i, col],
                    size_type=SizeType.Amount,
                    direction=Direction.Both,
                    fees=fees[col],
                    slippage=slippage[col],
                    raise_reject=True,
                )
                state = ProcessOrderState(
                    cash=np.inf,
                    position=position[col],
                    debt=debt[col],
                    free_cash=np.inf,
                    val_price=mark[col],
                    value=value,
                    oidx=oidx,
                    lidx=lidx,
                )
                result, new_state = process_order_nb(
                    i, col, 0, state, False, order, order_records, log_records
                )
                if result.status == OrderStatus.Filled:
                    if result.side == OrderSide.Buy:
                        cash -= result.size * result.price + result.fees
                    else:
                        cash += result.size * result.price - result.fees
                position[col] = new_state.position
                debt[col] = new_state.debt
                oidx = new_state.oidx
                lidx = new_state.lidx

        # 3. Mark to the close (last known close where the price is missing).
        equity = cash
        for col in range(m):
            c = close[i, col]
            if not np.isnan(c):
                last_close[col] = c
            if position[col] != 0.0:
                equity += position[col] * last_close[col]
            position_out[i, col] = position[col]
        cash_out[i] = cash
        equity_out[i] = equity
    return (
        order_records[:oidx],
        call_seq,
        position_out,
        cash_out,
        equity_out,
        borrow_out,
        interest_out,
        fill_value_out,
    )
