"""Numba kernel of the portfolio engine: drifted-weight rebalancing in a margin account, on vectorbt's orders.

One cached loop over sessions executes every order exactly as vectorbt's `process_order_nb` does for the one
kind of order the engine sends (a size in shares, both directions, unlimited cash, percentage fees and
slippage, no fixed fees, no size limits, rejections raised): `execute_order_nb` below is that path of
vectorbt's `execute_order_nb` / `buy_nb` / `sell_nb`, operation for operation (the same roundings, the same
snapping of near-zero positions and debt), and writes vectorbt's order records (`ORDER_DT`, equal to
`vectorbt.portfolio.enums.order_dt`). On top it adds what vectorbt lacks: borrow cost on shorts, interest on
cash, target-weight sizing at the fill price with a no-trade band, and a margin account (cash may go negative).

Why a port and not a call into vectorbt: a kernel that calls vectorbt's njit functions makes every process that
loads it from numba's cache import vectorbt (numba rebuilds the callees' module environments), and importing
vectorbt takes ~3 s, most of a `flowbt run`. tests/test_engine.py checks the port against vectorbt's own
`process_order_nb` order by order, and the engine's result against a `vbt.Portfolio` built from its records.
Why not `Portfolio.from_order_func`: its simulation takes user callbacks and so cannot be cached by numba.

The exact semantics are documented in `research.backtest.engine` (module docstring). Plain NumPy in and out.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: vectorbt's order record layout (`vectorbt.portfolio.enums.order_dt`), so the records make a `vbt.Portfolio`.
ORDER_DT = np.dtype(
    [("id", np.int64), ("col", np.int64), ("idx", np.int64), ("size", np.float64), ("price", np.float64),
     ("fees", np.float64), ("side", np.int64)],
    align=True,
)
BUY, SELL = 0, 1  # vectorbt's OrderSide
FILLED, IGNORED = 0, 1  # vectorbt's OrderStatus (a rejection raises)
REL_TOL, ABS_TOL = 1e-9, 1e-12  # vectorbt.utils.math_.rel_tol / abs_tol


class RejectedOrderError(Exception):
    """An order vectorbt would reject (with raise_reject=True, as the engine sends them)."""


@njit(cache=True)
def is_close_nb(a: float, b: float) -> bool:
    """vectorbt's `is_close_nb` at its default tolerances."""
    if np.isnan(a) or np.isnan(b):
        return False
    if np.isinf(a) or np.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


@njit(cache=True)
def add_nb(a: float, b: float) -> float:
    """vectorbt's `add_nb`: a + b, or exactly 0.0 when the two cancel up to the tolerances."""
    if np.sign(a) != np.sign(b):
        zero = is_close_nb(abs(a), abs(b))
    else:
        zero = is_close_nb(a + b, 0.0)
    if zero:
        return 0.0
    return a + b


@njit(cache=True)
def execute_order_nb(
    size: float, price: float, fees: float, slippage: float, position: float, debt: float
) -> tuple[int, float, float, float, int, float, float]:
    """Execute `size` shares (> 0 buys, < 0 sells) at `price`, as vectorbt's `execute_order_nb` with
    size_type=Amount, direction=Both, cash and free cash infinite, fixed_fees=0, min_size=0, max_size=inf, no
    size granularity, reject_prob=0, lock_cash=False, allow_partial=True, raise_reject=True.

    Returns (status, filled size, fill price, fees paid, side, new position, new debt); an ignored order
    (status IGNORED) returns the position and debt after vectorbt's snapping of near-zero values, as it does.
    """
    if is_close_nb(position, 0.0):
        position = 0.0
    if is_close_nb(debt, 0.0):
        debt = 0.0
    nan = np.nan
    if np.isnan(size) or np.isnan(price):
        return IGNORED, nan, nan, nan, -1, position, debt
    if not np.isfinite(position):
        raise ValueError("position must be finite")
    if not np.isfinite(debt) or debt < 0:
        raise ValueError("debt must be finite and 0 or greater")
    if not np.isfinite(price) or price <= 0:
        raise ValueError("order.price must be finite and greater than 0")
    if not np.isfinite(fees):
        raise ValueError("order.fees must be finite")
    if not np.isfinite(slippage) or slippage < 0:
        raise ValueError("order.slippage must be finite and 0 or greater")
    if size < 0 and np.isinf(size):
        raise ValueError("an infinite short order means 100% of resources in vectorbt: not supported here")

    if size > 0:  # vectorbt's buy_nb with cash_limit = inf
        adj_price = price * (1 + slippage)
        if np.isinf(size):
            raise ValueError("Attempt to go in long direction infinitely")
        req_cash = size * adj_price
        req_fees = req_cash * fees + 0.0
        total_req_cash = req_cash + req_fees
        if total_req_cash < np.inf:  # vectorbt: is_close_or_less_nb(total_req_cash, cash_limit = inf)
            final_size = size
            fees_paid = req_fees
        else:  # the order's value overflows: vectorbt sizes it down to the (infinite) cash limit
            max_req_cash = add_nb(np.inf, -0.0) / (1 + fees)
            if max_req_cash <= 0:
                raise RejectedOrderError("Not enough cash to cover fees")
            final_size = max_req_cash / adj_price
            fees_paid = np.inf - max_req_cash
        if is_close_nb(size, 0.0):
            return IGNORED, nan, nan, nan, -1, position, debt
        if not is_close_nb(final_size, 0.0) and final_size < 0.0:
            raise RejectedOrderError("Final size is less than minimum allowed")
        new_position = add_nb(position, final_size)
        if position < 0:
            short_size = final_size if new_position < 0 else abs(position)
            avg_entry_price = debt / abs(position)
            new_debt = add_nb(debt, -(short_size * avg_entry_price))
        else:
            new_debt = debt
        return FILLED, final_size, adj_price, fees_paid, BUY, new_position, new_debt

    # vectorbt's sell_nb (size_limit = the order's size)
    adj_price = price * (1 - slippage)
    size_limit = -size
    if np.isinf(size_limit):
        raise ValueError("Attempt to go in short direction infinitely")
    if is_close_nb(size_limit, 0.0):
        return IGNORED, nan, nan, nan, -1, position, debt
    if not is_close_nb(size_limit, 0.0) and size_limit < 0.0:
        raise RejectedOrderError("Final size is less than minimum allowed")
    acq_cash = size_limit * adj_price
    fees_paid = acq_cash * fees + 0.0
    final_acq_cash = add_nb(acq_cash, -fees_paid)
    if final_acq_cash < 0:
        raise RejectedOrderError("Not enough cash to cover fees")
    new_position = add_nb(position, -size_limit)
    if new_position < 0:
        short_size = size_limit if position < 0 else abs(new_position)
        new_debt = debt + short_size * adj_price
    else:
        new_debt = debt
    return FILLED, size_limit, adj_price, fees_paid, SELL, new_position, new_debt


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
    order_records = np.empty(max(n_fills * m, 1), dtype=ORDER_DT)
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

        # 2. Fill: size at the fill price, execute as vectorbt does (unlimited buying power = margin account).
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
                status, filled, price, fee, side, new_position, new_debt = execute_order_nb(
                    size[col], fill_price[i, col], fees[col], slippage[col], position[col], debt[col]
                )
                position[col] = new_position
                debt[col] = new_debt
                if status == FILLED:
                    rec = order_records[oidx]
                    rec["id"] = oidx
                    rec["col"] = col
                    rec["idx"] = i
                    rec["size"] = filled
                    rec["price"] = price
                    rec["fees"] = fee
                    rec["side"] = side
                    oidx += 1
                    if side == BUY:
                        cash -= filled * price + fee
                    else:
                        cash += filled * price - fee

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
