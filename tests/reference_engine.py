"""Independent reference for the portfolio engine: drifted-weight rebalancing in plain NumPy.

Written from the engine's documented semantics (research/backtest/engine.py docstring), not from its code:
it uses neither vectorbt nor flowbt's kernels, and it tracks *dollar holdings* that drift with price
relatives (the engine tracks share counts), so agreement is a real check of both.

Per session i: (1) carry on the previous close's state: cash earns cash * r_i, shorts pay
|short dollars| * borrow_bps / 1e4 / 252; (2) on a fill, holdings are re-marked to the fill price, equity V is
cash plus holdings, each priced asset moves to w * V dollars (unless |change| < band * V), paying
change * (1 + s) * (1 + f) when buying and receiving |change| * (1 - s) * (1 - f) when selling;
(3) holdings are re-marked to the close and equity recorded.
"""

from __future__ import annotations

import numpy as np


def reference_equity(
    close: np.ndarray,
    open_: np.ndarray,
    decisions: np.ndarray,
    weights: np.ndarray,
    *,
    fill: str = "close",
    fees_bps: float | np.ndarray = 0.0,
    slippage_bps: float | np.ndarray = 0.0,
    borrow_bps: float | np.ndarray = 0.0,
    cash_rate: np.ndarray | None = None,
    band: float = 0.0,
    init_cash: float = 1_000_000.0,
    max_gross: float | None = None,
    max_net: float | None = None,
) -> np.ndarray:
    """Equity at each close. `decisions` are row numbers of `close`, `weights` one row per decision.

    `borrow_bps` is annual: a scalar, one value per asset, or a (sessions, assets) array.
    """
    n, m = close.shape
    f = np.broadcast_to(np.asarray(fees_bps, dtype=float) / 1e4, (m,))
    s = np.broadcast_to(np.asarray(slippage_bps, dtype=float) / 1e4, (m,))
    borrow = np.broadcast_to(np.asarray(borrow_bps, dtype=float), (n, m)) / 1e4 / 252
    rate = np.zeros(n) if cash_rate is None else np.asarray(cash_rate, dtype=float)
    fill_px = close if fill == "close" else open_

    # Targets by fill session: next session after the decision; unpriced assets get 0; limits scale rows.
    targets: dict[int, np.ndarray] = {}
    for d, row in zip(decisions, weights, strict=True):
        if d + 1 >= n:
            continue
        w = np.array(row, dtype=float)
        w[~(np.isfinite(close[d]) & np.isfinite(fill_px[d + 1]))] = 0.0
        gross = np.abs(w).sum()
        if max_gross is not None and gross > max_gross * (1 + 1e-12):
            w = w * (max_gross / gross)
        net = w.sum()
        if max_net is not None and abs(net) > max_net * (1 + 1e-12):
            w = w * (max_net / abs(net))
        targets[d + 1] = w

    dollars = np.zeros(m)  # holdings in dollars at `basis` prices
    basis = np.full(m, np.nan)
    cash = float(init_cash)
    equity = np.empty(n)
    for i in range(n):
        if i > 0:
            short = np.where(dollars < 0, -dollars, 0.0)
            cash = cash + cash * rate[i] - float((short * borrow[i]).sum())
        if i in targets:
            p = fill_px[i]
            priced = np.isfinite(p)
            moved = priced & (dollars != 0)
            dollars[moved] *= p[moved] / basis[moved]
            basis[priced] = p[priced]
            value = cash + dollars.sum()
            for j in np.flatnonzero(priced):
                if value <= 0:
                    break
                change = targets[i][j] * value - dollars[j]
                if abs(change) < band * value or change == 0:
                    continue
                if change > 0:
                    cash -= change * (1 + s[j]) * (1 + f[j])
                else:
                    cash += -change * (1 - s[j]) * (1 - f[j])
                dollars[j] += change
        c = close[i]
        priced = np.isfinite(c)
        moved = priced & (dollars != 0)
        dollars[moved] *= c[moved] / basis[moved]
        basis[priced] = c[priced]
        equity[i] = cash + dollars.sum()
    return equity


def returns_from_equity(equity: np.ndarray, init_cash: float) -> np.ndarray:
    """Close-to-close returns; the first session against the initial cash."""
    prev = np.concatenate([[init_cash], equity[:-1]])
    return equity / prev - 1.0
