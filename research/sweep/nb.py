"""The shared simulation core of the fused sweep kernel: the engine's portfolio, one config at a time, online.

Each strategy plan (`research.sweep.plans.<strategy>`) has a small njit driver (`sweep_nb`): blocks of configs
in `prange`; per config the plan writes the config's target-weight rows (decisions x assets) into a per-block
scratch buffer from the batched signals, and `simulate_nb` runs every session exactly as
`research.backtest.engine` documents (carry -> fill -> mark):

  1. carry on the previous close's state: cash += cash * r_i - sum_j max(-n_j, 0) * C_{i-1,j} * b_{i,j}
  2. fill (the session after a decision, `fill_nb`): equity V at the fill price (last close where missing),
     orders d_j = w_j V / P_j - n_j with the engine's no-trade band (`order_sizes_nb`), sells first
     (`sell_first_order_nb`), executed at P (1 +- s_j) with fee f_j |d_j| P (1 +- s_j), positions snapped
     to 0 as vectorbt's `process_order_nb` does (`is_close_nb` / `add_nb`)
  3. mark: E_i = cash + sum_j n_j * (last close)_j, r_i = E_i / E_{i-1} - 1 (E_{-1} = initial cash)

Targets get the engine's treatment first (`target_row_nb`: 0 where the decision close or the fill price is
missing, then the gross and net limits). Nothing of size configs x sessions x assets exists: the per-config
state is a few arrays of n_assets floats, and the metrics are accumulated online in registers (Welford / Pebay
mean, M2, M3, M4; downside sum of squares; range; running wealth, peak and drawdown; turnover, exposure and
costs), for raw returns and, with a benchmark, active returns, plus per-segment (n, mean, M2) of the scored
returns for walk-forward selection. Daily returns are written only for configs given a slot >= 0.

Speed (issue 9). Between fills the holdings are constant, so a session costs one multiply-add per *held*
asset (a list of held columns is rebuilt after each fill) on the forward-filled closes `Market.last_close`,
shared by every config, plus the metric updates; borrow is only summed while something is short. Every
floating-point operation that survives is the one the engine (and the earlier version of this kernel) does,
in the same order, so results are bit-identical; the shortcuts only skip work whose result is known exactly
(an order of 0 shares, a drawdown of 0 at a new peak, a cost of 0, a net exposure equal to the gross).
The session loop is one function and its helpers are small enough for LLVM to inline (no per-session calls,
allocations or reference counting): numba reference-counts every array passed to a call it does not inline.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from vectorbt.utils.math_ import add_nb

# ---- accumulator layout (one float64 row of length N_ACC per config) -------------------------------------
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


@njit(cache=True, inline="always")
def moments_step_nb(n: float, mean: float, m2: float, m3: float, m4: float, x: float
                    ) -> tuple[float, float, float, float, float]:
    """One observation x folded into (n, mean, M2, M3, M4) (Pebay / Terriberry online central moments)."""
    n1 = n
    n = n1 + 1.0
    delta = x - mean
    dn = delta / n
    dn2 = dn * dn
    t1 = delta * dn * n1
    m4 += t1 * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * m2 - 4.0 * dn * m3
    m3 += t1 * dn * (n - 2.0) - 3.0 * dn * m2
    m2 += t1
    mean += dn
    return n, mean, m2, m3, m4


#: vectorbt's absolute tolerance (`vectorbt.utils.math_.abs_tol`): is_close_nb(x, 0.0) is exactly |x| <= ABS_TOL.
ABS_TOL = 1e-12


@njit(cache=True, error_model="numpy")
def simulate_nb(mk: Market, weights: np.ndarray, acc: np.ndarray, seg: np.ndarray, ret_out: np.ndarray,
                slot: int) -> None:
    """Run one config through every session of the market; fold its returns into `acc` (N_ACC,) and `seg`.

    `weights` (K, m) holds the config's target row of every decision (as the strategy's weights() frame).
    Daily returns go to ret_out[slot] when slot >= 0. The state is a few arrays of m values; accumulators
    live in local scalars (registers). One function on purpose: see the module docstring.
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
    held = np.zeros(m, dtype=np.int64)  # columns with a position, ascending (rebuilt after each fill)
    o_col = np.zeros(m, dtype=np.int64)  # a fill's orders in execution order: column, shares, d * P
    o_size = np.zeros(m)
    o_key = np.zeros(m)
    seg[:, :] = 0.0
    n_held = 0
    n_short = 0

    cash = mk.init_cash
    prev = mk.init_cash
    n = 0.0
    mean = 0.0
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    down = 0.0
    rmin = np.inf
    rmax = -np.inf
    wealth = 1.0
    peak = 1.0
    mdd = 0.0
    turn = 0.0
    hits = 0.0
    moved = 0.0
    gross_sum = 0.0
    net_sum = 0.0
    cost_sum = 0.0
    xn = 0.0
    xmean = 0.0
    xm2 = 0.0
    xm3 = 0.0
    xm4 = 0.0
    xmin = np.inf
    xmax = -np.inf

    k = 0  # next decision row
    next_fill = dec_rows[0] + 1 if n_dec > 0 else -1
    for i in range(n_sessions):
        cost = 0.0
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
            # 2a. targets as the engine fixes them (`engine._targets`): 0 where unpriced, then the limits
            for j in range(m):
                target[j] = 0.0 if no_price[k, j] else weights[k, j]
            if not np.isnan(max_gross):
                g = 0.0
                for j in range(m):
                    g += abs(target[j])
                if g > max_gross * (1.0 + 1e-12):
                    f = max_gross / g
                    for j in range(m):
                        target[j] *= f
            if not np.isnan(max_net):
                g = 0.0
                for j in range(m):
                    g += target[j]
                if abs(g) > max_net * (1.0 + 1e-12):
                    f = max_net / abs(g)
                    for j in range(m):
                        target[j] *= f
            # 2b. equity at the fill: held shares at the fill price, else the previous close
            value = cash
            for t in range(n_held):
                col = held[t]
                p = fill_price[i, col]
                value += position[col] * (p if not np.isnan(p) else last_close[i - 1, col])
            # 2c. orders, as `research.backtest.nb.order_sizes_nb` sizes them (d = w V / P - n; exactly -n
            # when w = 0; none without a fill price, without anything to trade, or under the band), in the
            # order `sell_first_order_nb` executes them: its stable insertion sort by d * P runs over every
            # asset, and an asset without a fill price has the key NaN that nothing moves past; so each order
            # is inserted (the same comparisons) among the orders after the last unpriced asset (from `lo`).
            count = 0
            lo = 0
            if value > 0.0:
                for col in range(m):
                    p = fill_price[i, col]
                    if np.isnan(p):
                        lo = count
                        continue
                    w = target[col]
                    if np.isnan(w):
                        continue
                    pos = position[col]
                    if w == 0.0:
                        if pos == 0.0:
                            continue
                        d = -pos
                    else:
                        d = w * value / p - pos
                    if d == 0.0 or abs(d) * p < band * value:
                        continue
                    key = d * p
                    j = count
                    while j > lo and key < o_key[j - 1]:
                        o_col[j] = o_col[j - 1]
                        o_size[j] = o_size[j - 1]
                        o_key[j] = o_key[j - 1]
                        j -= 1
                    o_col[j] = col
                    o_size[j] = d
                    o_key[j] = key
                    count += 1
            # 2d. execute as vectorbt's `process_order_nb` with unlimited cash: at P (1 +- s), fee f |d| P (1 +- s),
            # positions snapped to 0 (`is_close_nb(x, 0)` is |x| <= ABS_TOL; `add_nb` is a plain sum unless
            # the order crosses zero)
            notional = 0.0
            for t in range(count):
                col = o_col[t]
                d = o_size[t]
                p = fill_price[i, col]
                pos = position[col]
                if abs(pos) <= ABS_TOL:
                    pos = 0.0
                if d > 0.0:
                    if d <= ABS_TOL:
                        continue
                    adj = p * (1.0 + slippage[col])
                    fee = d * adj * fees[col]
                    cash -= d * adj + fee
                    position[col] = pos + d if pos >= 0.0 else add_nb(pos, d)
                    q = d
                else:
                    q = -d
                    if q <= ABS_TOL:
                        continue
                    adj = p * (1.0 - slippage[col])
                    fee = q * adj * fees[col]
                    cash += q * adj - fee
                    position[col] = pos - q if pos <= 0.0 else add_nb(pos, -q)
                notional += q * p
                cost += fee + q * abs(adj - p)
            if notional > 0.0:
                turnover = notional / value
            # 2e. the held columns for the sessions up to the next fill
            n_held = 0
            n_short = 0
            for col in range(m):
                if position[col] != 0.0:
                    held[n_held] = col
                    n_held += 1
                    if position[col] < 0.0:
                        n_short += 1
            k += 1
            next_fill = dec_rows[k] + 1 if k < n_dec else -1
        # 3. mark to the close
        equity = cash
        gross = 0.0
        net = 0.0
        for t in range(n_held):
            col = held[t]
            h = position[col] * last_close[i, col]
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
        # 4. metrics: moments, downside, range, hits, wealth and drawdown; active returns; segments
        # (written as selects, not branches: a return's sign is a coin flip for the branch predictor)
        n, mean, m2, m3, m4 = moments_step_nb(n, mean, m2, m3, m4, r)
        down += r * r if r < 0.0 else 0.0
        rmin = r if r < rmin else rmin
        rmax = r if r > rmax else rmax
        hits += 1.0 if r > 0.0 else 0.0
        moved += 1.0 if r != 0.0 else 0.0
        wealth = wealth * (1.0 + r)
        peak = wealth if wealth > peak else peak
        dd = wealth / peak - 1.0  # exactly 0 at a peak
        mdd = dd if dd < mdd else mdd
        x = r
        if has_bench:
            x = r - bench[i]
            xn, xmean, xm2, xm3, xm4 = moments_step_nb(xn, xmean, xm2, xm3, xm4, x)
            xmin = x if x < xmin else xmin
            xmax = x if x > xmax else xmax
        s = seg_of[i]
        if s >= 0:
            sn = seg[s, 0] + 1.0
            sd = x - seg[s, 1]
            seg[s, 1] += sd / sn
            seg[s, 2] += sd * (x - seg[s, 1])
            seg[s, 0] = sn
        if slot >= 0:
            ret_out[slot, i] = r
    acc[A_I] = n_sessions
    acc[A_CASH] = cash
    acc[A_PREV] = prev
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


# ---- shared by the plans: row helpers, fingerprints, blocks of configs ---------------------------------------
#: Configs per task of a plan's parallel driver (each task allocates one weights buffer and runs its configs).
BLOCK = 8
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
    portfolios: a sweep simulates one of them and copies its metrics (`research.sweep.executors`).
    """
    bits = w.reshape(w.size).view(np.uint64)
    h1 = _FP_SEED
    h2 = _FP1
    for i in range(bits.shape[0]):
        x = bits[i]
        h1 = (h1 ^ x) * _FP1
        h1 ^= h1 >> np.uint64(29)
        h2 = (h2 + x) * _FP2
        h2 ^= h2 >> np.uint64(31)
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
