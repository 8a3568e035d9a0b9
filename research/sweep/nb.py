"""The shared simulation core of the fused sweep kernel: the engine's portfolio, one config at a time, online.

Each strategy plan (`research.sweep.plans.<strategy>`) writes a batch of configs' target weights (decisions x
assets each) into a shared buffer from the batched signals (its `rows_many_nb`, configs in `prange`), and
`simulate_rows_nb` runs each distinct one through `simulate_nb`, every session exactly as
`research.backtest.engine` documents (carry -> fill -> mark):

  1. carry on the previous close's state: cash += cash * r_i - sum_j max(-n_j, 0) * C_{i-1,j} * b_{i,j}
  2. fill (the session after a decision): the engine's targets (0 where the decision close or the fill price
     is missing, then the gross and net limits, on numpy's pairwise row sums: `row_sum_nb`); equity V at the
     fill price (last close where missing); orders d_j = w_j V / P_j - n_j with the no-trade band
     (`research.backtest.nb.order_sizes_nb`), sells first (`sell_first_order_nb`), executed at P (1 +- s_j)
     with fee f_j |d_j| P (1 +- s_j), positions snapped to 0 as vectorbt's `process_order_nb` does
     (`is_close_nb` / `add_nb`)
  3. mark: E_i = cash + sum_j n_j * (last close)_j, r_i = E_i / E_{i-1} - 1 (E_{-1} = initial cash)

Daily returns are bit-identical to the engine's: every floating-point operation on the portfolio is the one
the engine does, in the same order (the shortcuts only skip work whose result is known exactly: an order of 0
shares, a cost of 0, a held column list instead of a test per asset), and `add_nb` is the engine's port of
vectorbt's (`research.backtest.nb`), so loading this kernel does not import vectorbt. Tested to the bit
against the engine on random weights (`tests/test_sweep.py::test_core_returns_are_the_engines_bit_for_bit`).
Nothing of size configs x sessions x assets exists: the state of a config is a few arrays of n_assets values
and its daily returns (n_sessions), the weights are a batch of configs at a time (`research.sweep.executors`),
and the metrics are accumulated in two places: turnover, exposure, costs, running wealth, peak and drawdown in
the session loop, and the moments in a vectorised second pass over the config's daily returns (`moments_nb`:
power sums, turned into mean, M2, M3, M4 by `central_moments_nb`; downside sum of squares; range; hits), for
raw returns and, with a benchmark, active returns, plus per-segment (n, mean, M2) of the scored returns for
walk-forward selection (`segments_nb`). Daily returns are copied out only for configs given a slot >= 0.

Speed (issue 9). Between fills the holdings are constant, so a session costs one multiply-add per *held*
asset (held columns and shares are listed after each fill) on the forward-filled closes
`Market.last_close`, shared by every config; the moments run apart, where the compiler can use SIMD lanes.
A fill sizes only the columns that can trade (targeted or held; any other has d = 0 exactly); its sells and
buys are split without a branch, each side sorted on its own and executed by a loop of its own, so no branch
depends on an order's side (a random outcome for rebalancing trades, and a pipeline flush when mispredicted).
A session idle in cash (nothing held, no interest) only records its return, an exact 0. Configs that share
their first weight rows share the state before the first fill where the rows part: `simulate_rows_nb` runs
configs in the plan's order, a run per thread, each one resuming from the previous one's checkpoint at that
fill (`plan_runs_nb`, `resume_point_nb`; checkpoints every CK_STRIDE fills), with the previous one's daily
returns before it. `simulate_nb` is one function on purpose: numba reference-counts every array passed to a
call it does not inline, and a call per session or per fill costs more than the work.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from research.backtest.nb import ABS_TOL, add_nb  # ABS_TOL: is_close_nb(x, 0.0) is exactly |x| <= ABS_TOL

A_I = 0  # next session to simulate
A_CASH = 1
A_PREV = 2  # equity at the previous close
A_N = 3  # number of returns
A_MEAN = 4
A_M2 = 5
A_M3 = 6
A_M4 = 7
A_DOWN = 8  # sum of min(r, 0) ** 2
A_MIN = 9
A_MAX = 10
A_WEALTH = 11  # prod(1 + r)
A_PEAK = 12
A_MDD = 13  # min(wealth / peak - 1)
A_TURN = 14  # sum of daily turnover
A_HIT = 15  # returns > 0
A_MOVED = 16  # returns != 0
A_GROSS = 17  # sum of gross exposure at the close
A_NET = 18
A_COST = 19  # sum of daily costs / previous equity
X_N = 20  # active returns r - benchmark: n, mean, M2, M3, M4, min, max
X_MEAN = 21
X_M2 = 22
X_M3 = 23
X_M4 = 24
X_MIN = 25
X_MAX = 26
N_ACC = 27
# ---- checkpoint layout: the state before a fill (one float64 row of length N_CK + m per CK_STRIDE fills) ----
C_CASH = 0
C_PREV = 1
C_WEALTH = 2
C_PEAK = 3
C_MDD = 4
C_TURN = 5
C_GROSS = 6
C_NET = 7
C_COST = 8
N_CK = 9  # then the shares of each asset
#: Every CK_STRIDE-th fill is checkpointed: a config resumes at most CK_STRIDE - 1 fills before it must.
CK_STRIDE = 4
#: Configs a lane runs in a row in a plan's `sweep_nb` (each resuming after the previous); lanes take
#: every n-th chunk, so their work evens out.
CHUNK = 32
#: Per-segment accumulators (n, mean, M2) of the scored returns (active with a benchmark, else raw).
N_SEG = 3


class Market(NamedTuple):
    """Everything the core reads, shared by every config (see `research.sweep.kernel.build_market`)."""

    close: np.ndarray  # (n, m) closes of the run's sessions, NaN where not priced
    last_close: np.ndarray  # (n, m) the last known close at each session (close forward-filled in the run)
    fill_price: np.ndarray  # (n, m) fill prices (close or open)
    dec_rows: np.ndarray  # (K,) int64 session of each decision row in the run
    no_price: np.ndarray  # (K, m) bool: no close at the decision or no fill price at the fill -> weight 0
    fees: np.ndarray  # (m,) fractions
    slippage: np.ndarray  # (m,)
    borrow_day: np.ndarray  # (n, m) fraction of short notional per session
    cash_rate: np.ndarray  # (n,) daily rate
    band: float
    init_cash: float
    max_gross: float  # NaN = no limit
    max_net: float
    bench: np.ndarray  # (n,) benchmark daily returns (used when has_bench)
    has_bench: bool
    seg_of: np.ndarray  # (n,) int64 segment of each session (walk-forward); -1 = none


@njit(cache=True)
def central_moments_nb(n: float, s1: float, s2: float, s3: float, s4: float, lo: float, hi: float
                       ) -> tuple[float, float, float, float]:
    """(mean, M2, M3, M4) of n values from their power sums s_p = sum x^p; lo / hi are their min / max.

    M_p = sum (x - mean)^p. Daily returns have |mean| << std, so the cancellation costs a few digits at
    most (results agree with two-pass moments to ~1e-13); equal values (lo == hi) have M_p = 0 exactly.
    """
    if n <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    mean = s1 / n
    if not hi > lo:
        return mean, 0.0, 0.0, 0.0
    mu2 = mean * mean
    m2 = s2 - s1 * mean
    m3 = s3 - 3.0 * mean * s2 + 2.0 * n * mu2 * mean
    m4 = s4 - 4.0 * mean * s3 + 6.0 * mu2 * s2 - 3.0 * n * mu2 * mu2
    return mean, max(m2, 0.0), m3, max(m4, 0.0)




@njit(cache=True)
def row_sum_nb(x: np.ndarray, absolute: bool) -> float:
    """sum(x) (or sum(|x|)) exactly as numpy sums a row (`np.sum(axis=1)`, as the engine's limits do).

    numpy adds the row's pairwise sum (`pairwise_sum_nb`) to its identity 0.0 (so a row of -0.0 sums to 0.0).
    A plain loop differs in the last bit.
    """
    return 0.0 + pairwise_sum_nb(x, absolute)


@njit(cache=True)
def pairwise_sum_nb(x: np.ndarray, absolute: bool) -> float:
    """numpy's pairwise summation of a contiguous run: fewer than 8 values in order from 0.0; up to 128
    values in 8 interleaved partial sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then
    the tail in order; longer runs split in two (at a multiple of 8 below the middle)."""
    n = x.shape[0]
    if n < 8:
        s = 0.0
        for j in range(n):
            s += abs(x[j]) if absolute else x[j]
        return s
    if n > 128:
        half = n // 2
        half -= half % 8
        return pairwise_sum_nb(x[:half], absolute) + pairwise_sum_nb(x[half:], absolute)
    r = np.empty(8)
    for j in range(8):
        r[j] = abs(x[j]) if absolute else x[j]
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += abs(x[i + j]) if absolute else x[i + j]
        i += 8
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        s += abs(x[i]) if absolute else x[i]
        i += 1
    return s


@njit(cache=True, error_model="numpy")
def simulate_nb(mk: Market, weights: np.ndarray, acc: np.ndarray, seg: np.ndarray, ret_out: np.ndarray,
                slot: int, rets: np.ndarray, ckpt: np.ndarray, k0: int) -> None:
    """Run one config through every session of the market; fold its returns into `acc` (N_ACC,) and `seg`.

    `weights` (K, m) holds the config's target row of every decision (as the strategy's weights() frame).
    Daily returns are written to `rets` (n_sessions,) and copied to ret_out[slot] when slot >= 0; the state
    before every CK_STRIDE-th fill goes to `ckpt` (`lane_buffers`). With k0 > 0 (a multiple of CK_STRIDE) the
    run resumes at fill k0 from ckpt and rets as the previous config left them: valid when that config's
    weights rows before k0 are this one's (`resume_point_nb`), since the state before fill k0 depends on
    nothing else. The state is a few arrays of m values; accumulators live in local scalars. One function on
    purpose: see the module docstring.
    """
    last_close = mk.last_close
    fill_price = mk.fill_price
    dec_rows = mk.dec_rows
    no_price = mk.no_price
    fees = mk.fees
    slippage = mk.slippage
    borrow_day = mk.borrow_day
    cash_rate = mk.cash_rate
    bench = mk.bench
    seg_of = mk.seg_of
    has_bench = mk.has_bench
    band = mk.band
    max_gross = mk.max_gross
    max_net = mk.max_net
    n_sessions, m = last_close.shape
    n_dec = dec_rows.shape[0]
    position = np.zeros(m)
    target = np.zeros(m)
    # column indices are kept unsigned: numba indexes with an unsigned value without its negative-index fix-up
    # (a shift, a mask and an add per access), which the orders' loops would otherwise pay on every load
    held = np.zeros(m, dtype=np.uint64)  # columns with a position, ascending (rebuilt after each fill)
    held_n = np.zeros(m)  # and their shares
    u_col = np.zeros(m, dtype=np.uint64)  # a fill's columns that can trade (targeted or held), ascending
    u_part = np.zeros(m, dtype=np.int64)  # and the number of unpriced assets before each
    o_col = np.zeros(m, dtype=np.uint64)  # a fill's orders by column: column, shares, d * P, part
    o_size = np.zeros(m)
    o_key = np.zeros(m)
    o_part = np.zeros(m, dtype=np.int64)
    sells = np.zeros(m, dtype=np.uint64)  # a part's sells, then its buys, in execution order
    buys = np.zeros(m, dtype=np.uint64)
    seg[:, :] = 0.0
    n_held = 0
    n_short = 0

    cash = mk.init_cash
    prev = mk.init_cash
    wealth = 1.0
    peak = 1.0
    mdd = 0.0
    turn = 0.0
    gross_sum = 0.0
    net_sum = 0.0
    cost_sum = 0.0

    k = 0  # next decision row
    start = 0
    if k0 > 0:  # resume before fill k0 (the sessions before it are the previous config's)
        row = ckpt[k0 // CK_STRIDE]
        cash, prev, wealth, peak, mdd = row[C_CASH], row[C_PREV], row[C_WEALTH], row[C_PEAK], row[C_MDD]
        turn, gross_sum, net_sum, cost_sum = row[C_TURN], row[C_GROSS], row[C_NET], row[C_COST]
        for col in range(m):
            x = row[N_CK + col]
            position[col] = x
            held[n_held] = col
            held_n[n_held] = x
            n_held += x != 0.0
            n_short += x < 0.0
        k = k0
        start = dec_rows[k0] + 1
    next_fill = dec_rows[k] + 1 if k < n_dec else -1
    for i in range(start, n_sessions):
        if n_held == 0 and i != next_fill and prev == cash and 0.0 < abs(cash) < np.inf and cash_rate[i] == 0:
            # idle in cash (no position, no interest, equity = the previous close's): r = cash / cash - 1 = 0
            # exactly, and every accumulator would add an exact 0 (the drawdown is the previous session's)
            rets[i] = 0.0
            continue
        cost = 0.0
        if i == next_fill and k % CK_STRIDE == 0:  # the state before this fill, for configs that share it
            row = ckpt[k // CK_STRIDE]
            row[C_CASH], row[C_PREV], row[C_WEALTH], row[C_PEAK], row[C_MDD] = cash, prev, wealth, peak, mdd
            row[C_TURN], row[C_GROSS], row[C_NET], row[C_COST] = turn, gross_sum, net_sum, cost_sum
            for col in range(m):
                row[N_CK + col] = position[col]
        # 1. carry on the previous close's state
        if i > 0:
            interest = cash * cash_rate[i]
            borrow = 0.0
            if n_short > 0:
                for t in range(n_held):
                    col = held[t]
                    if position[col] < 0.0:
                        borrow += -position[col] * last_close[i - 1, col] * borrow_day[i, col]
            cash = cash + interest - borrow
            cost += borrow - interest
        # 2. fill the decision of the previous session
        turnover = 0.0
        if i == next_fill:
            # (branch-free where the outcome depends on the data: which assets trade changes every fill)
            # 2a. targets as the engine fixes them (`engine._targets`): 0 where unpriced, then the limits; and
            # the columns that can trade (targeted or held), each with its part: the unpriced assets before it
            nu = 0
            nan_before = 0
            for j in range(m):
                tj = 0.0 if no_price[k, j] else weights[k, j]
                target[j] = tj
                u_col[nu] = j
                u_part[nu] = nan_before
                nu += (tj != 0.0) | (position[j] != 0.0)
                p = fill_price[i, j]
                nan_before += p != p
            if not np.isnan(max_gross):
                g = row_sum_nb(target, True)
                if g > max_gross * (1.0 + 1e-12):
                    f = max_gross / g
                    for j in range(m):
                        target[j] *= f
            if not np.isnan(max_net):
                g = row_sum_nb(target, False)
                if abs(g) > max_net * (1.0 + 1e-12):
                    f = max_net / abs(g)
                    for j in range(m):
                        target[j] *= f
            if nu > 0:  # else nothing is held or wanted: no order, nothing changes
                # 2b. equity at the fill: held shares at the fill price, else the previous close
                value = cash
                for t in range(n_held):
                    col = held[t]
                    p = fill_price[i, col]
                    value += held_n[t] * (p if not np.isnan(p) else last_close[i - 1, col])
                # 2c. orders as `research.backtest.nb.order_sizes_nb` sizes them: d = w V / P - n (exactly -n
                # when w = 0); none without a fill price (d is NaN), without anything to trade or under the
                # band. The other columns have d = 0 exactly, which is no order either
                count = 0
                if value > 0.0:
                    for t in range(nu):
                        col = u_col[t]
                        p = fill_price[i, col]
                        d = target[col] * value / p - position[col]
                        o_col[count] = col
                        o_size[count] = d
                        o_key[count] = d * p
                        o_part[count] = u_part[t]
                        count += (d == d) & (d != 0.0) & (not abs(d) * p < band * value)
                # 2d. the order `sell_first_order_nb` executes them in: its stable insertion sort by d * P
                # runs over every asset, and an asset without a fill price has the key NaN that nothing moves
                # past, so the orders go part by part (they are listed by column, so a part is a run of them),
                # and in a part by (d * P, column): the sells (d * P < 0) by d * P, then the buys by d * P.
                # Each side is split off without a branch and sorted on its own (a stable insertion sort), and
                # executed by a loop of its own, so no branch depends on an order's side
                notional = 0.0
                b0 = 0
                while b0 < count:
                    part = o_part[b0]
                    n_sell = 0
                    n_buy = 0
                    b1 = b0
                    while b1 < count and o_part[b1] == part:
                        is_sell = o_key[b1] < 0.0
                        sells[n_sell] = b1
                        buys[n_buy] = b1
                        n_sell += is_sell
                        n_buy += not is_sell
                        b1 += 1
                    for u in range(1, n_sell):
                        x = sells[u]
                        kx = o_key[x]
                        t = u
                        while t > 0 and o_key[sells[t - 1]] > kx:
                            sells[t] = sells[t - 1]
                            t -= 1
                        sells[t] = x
                    for u in range(1, n_buy):
                        x = buys[u]
                        kx = o_key[x]
                        t = u
                        while t > 0 and o_key[buys[t - 1]] > kx:
                            buys[t] = buys[t - 1]
                            t -= 1
                        buys[t] = x
                    # 2e. execute as vectorbt's `process_order_nb` with unlimited cash: at P (1 +- s), fee f
                    # |d| P (1 +- s), positions snapped to 0 (`is_close_nb(x, 0)` is |x| <= ABS_TOL; `add_nb`
                    # is a plain sum unless the order crosses zero)
                    for t in range(n_sell):
                        u = sells[t]
                        q = -o_size[u]
                        if q <= ABS_TOL:
                            continue
                        col = o_col[u]
                        p = fill_price[i, col]
                        pos = position[col]
                        if abs(pos) <= ABS_TOL:
                            pos = 0.0
                        adj = p * (1.0 - slippage[col])
                        fee = q * adj * fees[col]
                        cash += q * adj - fee
                        position[col] = pos - q if pos <= 0.0 else add_nb(pos, -q)
                        notional += q * p
                        cost += fee + q * abs(adj - p)
                    for t in range(n_buy):
                        u = buys[t]
                        d = o_size[u]
                        if d <= ABS_TOL:
                            continue
                        col = o_col[u]
                        p = fill_price[i, col]
                        pos = position[col]
                        if abs(pos) <= ABS_TOL:
                            pos = 0.0
                        adj = p * (1.0 + slippage[col])
                        fee = d * adj * fees[col]
                        cash -= d * adj + fee
                        position[col] = pos + d if pos >= 0.0 else add_nb(pos, d)
                        notional += d * p
                        cost += fee + d * abs(adj - p)
                    b0 = b1
                if notional > 0.0:
                    turnover = notional / value
                # 2f. the held columns and shares for the sessions up to the next fill (only a column that
                # could trade can hold shares)
                n_held = 0
                n_short = 0
                for t in range(nu):
                    col = u_col[t]
                    x = position[col]
                    held[n_held] = col
                    held_n[n_held] = x
                    n_held += x != 0.0
                    n_short += x < 0.0
            k += 1
            next_fill = dec_rows[k] + 1 if k < n_dec else -1
        # 3. mark to the close
        equity = cash
        gross = 0.0
        net = 0.0
        for t in range(n_held):
            h = held_n[t] * last_close[i, held[t]]
            equity += h
            gross += abs(h)
            net += h
        r = equity / prev - 1.0
        if cost != 0.0 or not (prev != 0.0 and prev == prev):  # 0 / prev adds nothing (unless prev is 0 or NaN)
            cost_sum += cost / prev
        prev = equity
        g = gross / equity
        gross_sum += g
        net_sum += g if net == gross else net / equity
        turn += turnover
        # 4. wealth and drawdown here (a product chain); the moments in a second pass over `rets`
        wealth = wealth * (1.0 + r)
        peak = wealth if wealth > peak else peak
        dd = wealth / peak - 1.0  # exactly 0 at a peak
        mdd = dd if dd < mdd else mdd
        rets[i] = r
    if slot >= 0:
        ret_out[slot, :] = rets
    s1, s2, s3, s4, down, rmin, rmax, hits, moved = moments_nb(rets, bench, False)
    x1, x2, x3, x4, xmin, xmax = 0.0, 0.0, 0.0, 0.0, np.inf, -np.inf
    if has_bench:
        x1, x2, x3, x4, _, xmin, xmax, _, _ = moments_nb(rets, bench, True)
    segments_nb(rets, bench, has_bench, seg_of, seg)
    acc[A_I] = n_sessions
    acc[A_CASH] = cash
    acc[A_PREV] = prev
    n = float(n_sessions)
    mean, m2, m3, m4 = central_moments_nb(n, s1, s2, s3, s4, rmin, rmax)
    xn = n if has_bench else 0.0
    xmean, xm2, xm3, xm4 = central_moments_nb(xn, x1, x2, x3, x4, xmin, xmax)
    acc[A_N] = n
    acc[A_MEAN] = mean
    acc[A_M2] = m2
    acc[A_M3] = m3
    acc[A_M4] = m4
    acc[A_DOWN] = down
    acc[A_MIN] = rmin
    acc[A_MAX] = rmax
    acc[A_WEALTH] = wealth
    acc[A_PEAK] = peak
    acc[A_MDD] = mdd
    acc[A_TURN] = turn
    acc[A_HIT] = hits
    acc[A_MOVED] = moved
    acc[A_GROSS] = gross_sum
    acc[A_NET] = net_sum
    acc[A_COST] = cost_sum
    acc[X_N] = xn
    acc[X_MEAN] = xmean
    acc[X_M2] = xm2
    acc[X_M3] = xm3
    acc[X_M4] = xm4
    acc[X_MIN] = xmin
    acc[X_MAX] = xmax


@njit(cache=True, fastmath={"reassoc", "nsz"}, error_model="numpy")
def moments_nb(r: np.ndarray, bench: np.ndarray, active: bool
               ) -> tuple[float, float, float, float, float, float, float, float, float]:
    """Power sums s1..s4, downside sum of squares, min, max, count > 0 and count != 0 of r (or r - bench).

    A pass of its own so the compiler vectorises it ("reassoc": the sums are added in SIMD lanes, which moves
    them by ~1e-16 relative from a sequential sum; min, max and the counts are exact in any order).
    """
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    down = 0.0
    hits = 0.0
    moved = 0.0
    lo = np.inf
    hi = -np.inf
    n = r.shape[0]
    for i in range(n):
        x = r[i] - bench[i] if active else r[i]
        xx = x * x
        s1 += x
        s2 += xx
        s3 += xx * x
        s4 += xx * xx
        down += xx if x < 0.0 else 0.0
        hits += 1.0 if x > 0.0 else 0.0
        moved += 1.0 if x != 0.0 else 0.0
    for i in range(n):
        x = r[i] - bench[i] if active else r[i]
        lo = x if x < lo else lo
        hi = x if x > hi else hi
    return s1, s2, s3, s4, down, lo, hi, hits, moved


@njit(cache=True, error_model="numpy")
def segments_nb(r: np.ndarray, bench: np.ndarray, has_bench: bool, seg_of: np.ndarray, seg: np.ndarray) -> None:
    """Per-segment (n, mean, M2) of the scored returns (active with a benchmark, else raw), Welford's update."""
    for i in range(r.shape[0]):
        s = seg_of[i]
        if s >= 0:
            x = r[i] - bench[i] if has_bench else r[i]
            sn = seg[s, 0] + 1.0
            sd = x - seg[s, 1]
            seg[s, 1] += sd / sn
            seg[s, 2] += sd * (x - seg[s, 1])
            seg[s, 0] = sn


def lane_buffers(mk: Market, lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per lane (the buffers of a thread's run of configs): daily returns and checkpoints of its last one."""
    n_sessions, m = mk.last_close.shape
    n_ckpt = mk.dec_rows.shape[0] // CK_STRIDE + 1
    return np.zeros((lanes, n_sessions)), np.zeros((lanes, n_ckpt, N_CK + m))


@njit(cache=True)
def fills_nb(mk: Market) -> int:
    """How many decisions fill (their next session is in the run): all but a decision on the last session."""
    n = 0
    while n < mk.dec_rows.shape[0] and mk.dec_rows[n] + 1 < mk.last_close.shape[0]:
        n += 1
    return n


@njit(cache=True)
def resume_point_nb(w: np.ndarray, w_prev: np.ndarray, n_fills: int) -> int:
    """The fill a config with weights `w` can resume at after one with `w_prev`: the last checkpointed fill
    (a multiple of CK_STRIDE, and one of the n_fills that happen) not after their first differing row. Rows
    compare by their bits, as the fingerprint does."""
    if n_fills == 0:
        return 0
    a = w.reshape(w.size).view(np.uint64)
    b = w_prev.reshape(w_prev.size).view(np.uint64)
    m = w.shape[1]
    k = 0
    while k < n_fills - 1:
        same = True
        for j in range(k * m, (k + 1) * m):
            same &= a[j] == b[j]
        if not same:
            break
        k += 1
    return k - k % CK_STRIDE


@njit(cache=True)
def plan_runs_nb(mk: Market, wbuf: np.ndarray, rows: np.ndarray, w_last: np.ndarray, has_last: bool,
                 k0s: np.ndarray, bounds: np.ndarray) -> None:
    """Where each row resumes (k0s) and the rows cut into len(bounds) - 1 contiguous runs of about equal work.

    Row t resumes after row t - 1 (`resume_point_nb`), row 0 after `w_last` (the last config of the previous
    batch, when has_last) in the run that continues its buffers; every other run starts from the first
    session. A row's work is taken as its sessions from its resume point, plus a tenth of the run's sessions
    for the moments and the set-up; the cuts fall where the running work passes each equal share.
    """
    n = rows.shape[0]
    lanes = bounds.shape[0] - 1
    n_sessions = mk.last_close.shape[0]
    n_fills = fills_nb(mk)
    work = np.empty(n)
    total = 0.0
    for t in range(n):
        if t == 0:
            k0s[t] = resume_point_nb(wbuf[rows[0]], w_last, n_fills) if has_last else 0
        else:
            k0s[t] = resume_point_nb(wbuf[rows[t]], wbuf[rows[t - 1]], n_fills)
        start = mk.dec_rows[k0s[t]] + 1 if k0s[t] > 0 else 0
        work[t] = n_sessions - start + 0.1 * n_sessions
        total += work[t]
    bounds[0] = 0
    r = 1
    done = 0.0
    for t in range(n):
        if r < lanes and t > bounds[r - 1] and done >= total * r / lanes:
            bounds[r] = t
            k0s[t] = 0  # a new run: its buffers hold another config's state
            r += 1
            done += 1.1 * n_sessions
        else:
            done += work[t]
    while r <= lanes:
        bounds[r] = n
        r += 1


@njit(cache=True, parallel=True)
def simulate_rows_nb(mk: Market, wbuf: np.ndarray, rows: np.ndarray, configs: np.ndarray, slots: np.ndarray,
                     acc: np.ndarray, seg: np.ndarray, ret: np.ndarray, lane_rets: np.ndarray,
                     lane_ckpt: np.ndarray, k0s: np.ndarray, bounds: np.ndarray, sets: np.ndarray) -> None:
    """`simulate_nb` on weights wbuf[rows[t]] for config configs[t] (acc, seg and slots indexed by config).

    Run r (rows bounds[r]..bounds[r+1]-1, one run per thread) uses the lane buffers sets[r]
    (`lane_buffers`), and row t resumes at fill k0s[t] (`plan_runs_nb`): configs in a sweep's order share
    their first rows often (the warm-up of a signal window, the same signal with another holding rule), and
    those fills are not run again. Exact: the state before a fill depends on the rows before it only.
    """
    for r in prange(bounds.shape[0] - 1):
        lane = sets[r]
        for t in range(bounds[r], bounds[r + 1]):
            c = configs[t]
            simulate_nb(mk, wbuf[rows[t]], acc[c], seg[c], ret, slots[c], lane_rets[lane], lane_ckpt[lane],
                        k0s[t])


# ---- shared by the plans: row helpers, fingerprints -----------------------------------------------------------
_FP1 = np.uint64(0x9E3779B97F4A7C15)
_FP2 = np.uint64(0xBF58476D1CE4E5B9)
_FP_SEED = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def select_nb(score: np.ndarray, n: int, top: int, largest: bool, chosen: np.ndarray) -> None:
    """chosen[:n] = the `top` largest (`largest`) or smallest of score[:n]; ties go to the lower index.

    The same choice as `research.signals.nb.select_row_nb` on a row whose valid entries are score[:n] in
    column order (all of them when n <= top), by repeated arg-max instead of an O(n^2) ranking. No NaN.
    """
    if n <= top:
        for c in range(n):
            chosen[c] = True
        return
    for c in range(n):
        chosen[c] = False
    for _ in range(top):
        best = -1
        for c in range(n):
            if not chosen[c] and (best < 0 or (score[c] > score[best] if largest else score[c] < score[best])):
                best = c
        chosen[best] = True


@njit(cache=True)
def fingerprint_nb(w: np.ndarray, out: np.ndarray) -> None:
    """A 128-bit fingerprint of the float64 bits of C-contiguous `w` into out[0], out[1] (uint64).

    Configs with equal fingerprints have (but for a ~2^-128 chance) bit-identical weights, hence identical
    portfolios: a sweep simulates one of them and copies its metrics (`research.sweep.executors`). Two
    multiply-xorshift hashes, each over four interleaved lanes (independent chains the CPU overlaps).
    """
    bits = w.reshape(w.size).view(np.uint64)
    n = bits.shape[0]
    a0, a1, a2, a3 = _FP_SEED, _FP_SEED ^ _FP1, _FP_SEED ^ _FP2, _FP1 ^ _FP2
    b0, b1, b2, b3 = _FP1, _FP2, _FP_SEED, _FP1 + _FP2
    s29 = np.uint64(29)
    s31 = np.uint64(31)
    i = 0
    while i + 4 <= n:
        a0 = (a0 ^ bits[i]) * _FP1
        a1 = (a1 ^ bits[i + 1]) * _FP1
        a2 = (a2 ^ bits[i + 2]) * _FP1
        a3 = (a3 ^ bits[i + 3]) * _FP1
        a0 ^= a0 >> s29
        a1 ^= a1 >> s29
        a2 ^= a2 >> s29
        a3 ^= a3 >> s29
        b0 = (b0 + bits[i]) * _FP2
        b1 = (b1 + bits[i + 1]) * _FP2
        b2 = (b2 + bits[i + 2]) * _FP2
        b3 = (b3 + bits[i + 3]) * _FP2
        b0 ^= b0 >> s31
        b1 ^= b1 >> s31
        b2 ^= b2 >> s31
        b3 ^= b3 >> s31
        i += 4
    while i < n:
        a0 = (a0 ^ bits[i]) * _FP1
        a0 ^= a0 >> s29
        b0 = (b0 + bits[i]) * _FP2
        b0 ^= b0 >> s31
        i += 1
    h1 = _FP_SEED
    h2 = _FP1
    for x in (a0, a1, a2, a3, np.uint64(n)):
        h1 = (h1 ^ x) * _FP1
        h1 ^= h1 >> s29
    for x in (b0, b1, b2, b3, np.uint64(n)):
        h2 = (h2 + x) * _FP2
        h2 ^= h2 >> s31
    out[0] = h1
    out[1] = h2


@njit(cache=True)
def fold_nb(r: np.ndarray, turnover: np.ndarray, gross: np.ndarray, net: np.ndarray, cost: np.ndarray,
            bench: np.ndarray, has_bench: bool, seg_of: np.ndarray, acc: np.ndarray, seg: np.ndarray) -> None:
    """The accumulators of `simulate_nb` from finished daily series (the engine's, for generic plans)."""
    acc[:] = 0.0
    seg[:, :] = 0.0
    acc[A_MIN] = np.inf
    acc[A_MAX] = -np.inf
    acc[X_MIN] = np.inf
    acc[X_MAX] = -np.inf
    acc[A_WEALTH] = 1.0
    acc[A_PEAK] = 1.0
    for i in range(r.shape[0]):
        x = r[i]
        for base in (A_N, X_N):
            if base == X_N:
                if not has_bench:
                    break
                x = r[i] - bench[i]
            n1 = acc[base]
            nn = n1 + 1.0
            delta = x - acc[base + 1]
            dn = delta / nn
            dn2 = dn * dn
            t1 = delta * dn * n1
            acc[base + 4] += t1 * dn2 * (nn * nn - 3.0 * nn + 3.0) + 6.0 * dn2 * acc[base + 2] - 4.0 * dn * acc[base + 3]
            acc[base + 3] += t1 * dn * (nn - 2.0) - 3.0 * dn * acc[base + 2]
            acc[base + 2] += t1
            acc[base + 1] += dn
            acc[base] = nn
            lo = A_MIN if base == A_N else X_MIN
            acc[lo] = min(acc[lo], x)
            acc[lo + 1] = max(acc[lo + 1], x)
        ri = r[i]
        if ri < 0.0:
            acc[A_DOWN] += ri * ri
        if ri > 0.0:
            acc[A_HIT] += 1.0
        if ri != 0.0:
            acc[A_MOVED] += 1.0
        acc[A_WEALTH] = acc[A_WEALTH] * (1.0 + ri)
        if acc[A_WEALTH] > acc[A_PEAK]:
            acc[A_PEAK] = acc[A_WEALTH]
        acc[A_MDD] = min(acc[A_MDD], acc[A_WEALTH] / acc[A_PEAK] - 1.0)
        acc[A_TURN] += turnover[i]
        acc[A_GROSS] += gross[i]
        acc[A_NET] += net[i]
        acc[A_COST] += cost[i]
        s = seg_of[i]
        if s >= 0:
            sn = seg[s, 0] + 1.0
            sd = x - seg[s, 1]
            seg[s, 1] += sd / sn
            seg[s, 2] += sd * (x - seg[s, 1])
            seg[s, 0] = sn
    acc[A_I] = r.shape[0]
