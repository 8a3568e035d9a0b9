"""The tear sheet's PM tables, as quantstats and pyfolio users expect them: trailing returns, best and worst
day and month, VaR and CVaR, named stress periods, cost sensitivity and, on real data, a Fama-French
three-factor regression with a Sharpe ratio over the risk-free rate.

Every table starts at the run's first fill (`research.report.active.warm_up`): the warm-up before it, when the
strategy held nothing, is reported on its own and does not dilute the numbers. Each table names its period and the
series it compares: the strategy, its own benchmark (`tearsheet.own_active`) and SPY.

Cost sensitivity re-runs the engine (`research.backtest.backtest`) on the run's saved target weights and
closes with fees, slippage and borrow scaled by 0, 1, 2 and 5: a cost changes equity, hence every later trade
size, so re-running is exact where scaling the saved daily costs is only a first-order approximation. The
re-run at 1x must reproduce the saved returns (to 1e-9); where it cannot (an open fill, whose opens the run
folder does not keep; a cash rate or a borrow time series, which config.json only summarises), the table
scales the saved daily costs instead and says so.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.analytics import metrics as M
from research.report.active import warm_up
from research.report.load import RunRecord
from research.report.render import KV, Note, Section, Table, fmt, fmt_date

COST_MULTIPLES: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0)
VAR_LEVEL = 0.95
REPRO_TOL = 1e-9  # the engine re-run at 1x must reproduce the saved returns to this
FACTORS_FILE = Path("factors") / "F-F_Research_Data_Factors_daily.CSV"
_REAL = re.compile(r"^real\((?P<dir>.*)\)$")


def compared(rec: RunRecord, start: pd.Timestamp) -> pd.DataFrame:
    """Daily returns from `start` of the strategy, its own benchmark (strategy minus `own_active`'s active
    return, when that benchmark is not zero) and SPY: the columns every PM table compares."""
    from research.report.active import own_active

    r = rec.returns.dropna().loc[start:]
    cols: dict[str, pd.Series] = {"strategy": r}
    basis, active = own_active(rec)
    if active is not None and not basis.startswith("zero"):
        cols[basis.split(" (")[0]] = (rec.returns - active).reindex(r.index)
    for b in rec.benchmarks.columns:
        if (b == "SPY" or rec.kind != "run") and str(b) not in cols and len(cols) < 3:
            cols[str(b)] = rec.benchmarks[b].reindex(r.index)
    return pd.DataFrame(cols)


def period_text(r: pd.Series, warm: int) -> str:
    """'2001-01-02 to 2025-09-25 (6,200 sessions, 24.6 years; after a warm-up of 769 sessions)'."""
    r = r.dropna()
    w = f"; after a warm-up of {warm:,} session{'s' if warm > 1 else ''} before the first fill" if warm else ""
    return f"{fmt_date(r.index[0])} to {fmt_date(r.index[-1])} ({len(r):,} sessions, {len(r) / M.PERIODS:.1f} years{w})"


# --------------------------------------------------------------------------------------------------------------
# cost sensitivity


def _config(rec: RunRecord, k: float) -> Any:
    """The run's ExecutionConfig with fees, slippage and borrow times k; None when config.json cannot rebuild it."""
    from research.backtest import ExecutionConfig

    ex = rec.config.get("execution") or {}
    if not ex or ex.get("cash_rate") is not None or ex.get("fill") != "close":
        return None

    def scaled(v: Any) -> Any:
        if isinstance(v, dict):
            return None if "kind" in v else {key: float(x) * k for key, x in v.items()}
        return float(v) * k

    fees, slip, borrow = (scaled(ex.get(key)) for key in ("fees_bps", "slippage_bps", "borrow_bps"))
    if fees is None or slip is None or borrow is None:
        return None
    return ExecutionConfig(fill="close", fees_bps=fees, slippage_bps=slip, borrow_bps=borrow, mode=ex["mode"],
                           max_gross=ex.get("max_gross"), max_net=ex.get("max_net"),
                           no_trade_band=float(ex.get("no_trade_band", 0.0)), init_cash=float(ex["init_cash"]))


def _rerun(rec: RunRecord, multiples: tuple[float, ...]) -> dict[float, tuple[pd.Series, pd.Series]] | None:
    """{k: (returns, net exposure)} from the engine with costs times k; None when the run cannot be re-run
    exactly (see the module docstring)."""
    from research.backtest import backtest
    from research.data.prices import Prices
    from research.errors import FlowbtError

    cols = [str(c) for c in rec.target.columns]
    if rec.close is None or not cols or not set(cols) <= set(rec.close.columns) or _config(rec, 1.0) is None:
        return None
    close = rec.close[cols]
    try:
        prices = Prices(close, close, source="close.parquet")
        out = {}
        for k in multiples:
            res = backtest(prices, rec.target, _config(rec, k))
            out[k] = (res.returns, res.net)
    except FlowbtError:
        return None
    saved = rec.returns.dropna()
    again = out[1.0][0].reindex(saved.index) if 1.0 in out else None
    if again is None or not np.allclose(again.to_numpy(), saved.to_numpy(), atol=REPRO_TOL, rtol=0.0):
        return None
    return out


def cost_sensitivity(rec: RunRecord, start: pd.Timestamp,
                     multiples: tuple[float, ...] = COST_MULTIPLES) -> tuple[pd.DataFrame, str] | None:
    """CAGR, Sharpe, active return and active Sharpe (information ratio against the strategy's own benchmark)
    from `start` at each multiple of the run's fees, slippage and borrow, and how they were computed; None
    without costs or target weights."""
    from research.report.active import own_active

    if rec.kind != "run" or rec.costs.empty or rec.target.empty:
        return None
    runs = _rerun(rec, multiples)
    if runs is not None:
        how = ("the engine re-run on the saved target weights and closes with fees, slippage and borrow scaled "
               "(its 1x run reproduces the saved returns)")
    else:
        paid = rec.costs[[c for c in ("fees", "slippage", "borrow") if c in rec.costs]].sum(axis=1)
        frac = (paid / rec.equity.shift(1).fillna(float((rec.config.get("execution") or {}).get("init_cash", 1.0))))
        r = rec.returns
        runs = {k: (r - (k - 1.0) * frac.reindex(r.index).fillna(0.0), rec.net) for k in multiples}
        how = ("the saved daily costs scaled (this run cannot be re-run exactly from its folder: an open fill, a "
               "cash rate or a borrow time series); a first-order approximation that ignores how costs change "
               "later trade sizes")
    rows = {}
    for k, (r, net) in runs.items():
        basis, active = own_active(dataclasses.replace(rec, returns=r.rename("returns"), net=net))
        r = r.dropna().loc[start:]
        a = active.reindex(r.index).dropna() if active is not None else None
        rows[f"{k:g}x"] = {"CAGR": fmt(M.cagr(r), "pct"), "Sharpe": fmt(M.sharpe(r)),
                           "active return (ann.)": fmt(a.mean() * M.PERIODS, "pct") if a is not None else "n/a",
                           "active Sharpe (IR)": fmt(M.sharpe(a)) if a is not None else "n/a"}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "costs"
    return table, how


# --------------------------------------------------------------------------------------------------------------
# the Fama-French regression (real data)


def factors_path(rec: RunRecord) -> Path | None:
    """The daily Fama-French file of the run's real-data directory (config.json's data is 'real(<dir>)')."""
    m = _REAL.match(str(rec.config.get("data", "")))
    return Path(m.group("dir")) / FACTORS_FILE if m else None


def _factor_blocks(rec: RunRecord, r: pd.Series) -> list[Any]:
    from research.data.factors import load_ff_factors
    from research.errors import FlowbtError

    path = factors_path(rec)
    if rec.synthetic or path is None:
        return [Note("No factor regression: the Fama-French factors describe the real market, and this run is "
                     f"on {rec.config.get('data') or 'data without a real-data directory'}.", "empty")]
    if not path.exists():
        return [Note(f"No factor regression: {path} is not there (run from the folder the run was made in).",
                     "empty")]
    try:
        ff = load_ff_factors(path)
        if ff.index[-1] < r.index[0]:
            return [Note(f"No factor regression: {path.name} ends {fmt_date(ff.index[-1])}, before the first fill "
                         f"{fmt_date(r.index[0])}; a newer file from the Kenneth R. French Data Library would cover "
                         "it.", "empty")]
        reg = M.factor_regression(r, ff[["Mkt-RF", "SMB", "HML", "RF"]])
    except FlowbtError as exc:
        return [Note(f"No factor regression: {exc}", "empty")]
    a = reg.attrs
    t = pd.DataFrame({"coefficient": [fmt(reg.loc["alpha", "coef"], "pct")] +
                      [fmt(v) for v in reg["coef"].iloc[1:]],
                      "t (Newey-West)": reg["t"].map(fmt)}, index=reg.index)
    t.index = ["alpha (annual)", *[f"beta {c}" for c in reg.index[1:]]]
    t.index.name = "term"
    rf = ff["RF"].reindex(r.index)
    both = pd.concat([r, rf], axis=1).dropna()
    cash = (rec.config.get("execution") or {}).get("cash_rate")
    return [
        Table(t, f"Fama-French 3-factor regression, daily, {a['start']} to {a['end']} ({a['n']:,} sessions, "
                 f"R² {fmt(a['r2'])}, {a['lags']} Newey-West lags)"),
        KV([("Sharpe over the risk-free rate", f"{fmt(M.sharpe(both.iloc[:, 0], both.iloc[:, 1]))} (daily excess "
             f"of the one-month T-bill, the factors' RF, {fmt_date(both.index[0])} to {fmt_date(both.index[-1])}); "
             f"{fmt(M.sharpe(both.iloc[:, 0]))} with a zero rate over the same sessions"),
            ("Cash", "earns the run's cash rate" if cash else "earns nothing in this run (no cash rate was "
             "set), so the excess Sharpe understates a book that would hold its cash in T-bills")]),
        Note(f"Excess returns (strategy minus RF) on the market, size and value factors from {path.name} "
             "(Kenneth R. French Data Library); the factors end "
             f"{fmt_date(ff.index[-1])}, so later sessions are left out. Alpha is the daily intercept times 252.",
             "muted"),
    ]


# --------------------------------------------------------------------------------------------------------------
# the section


def _pct_when(v: float, when: str) -> str:
    return f"{fmt(v, 'pct', 1)} ({when})" if np.isfinite(v) else "n/a"


def pm_section(rec: RunRecord) -> Section:
    """The PM tables section of a tear sheet."""
    sec = Section("pm", "Trailing returns, tail risk, stress periods and costs",
                  intro="How has it done lately, how bad were its worst days and crises, and what if costs "
                        "were higher?")
    start, warm = warm_up(rec)
    if start is None:
        return sec.add(Note("No PM tables: the book never traded.", "empty"))
    frame = compared(rec, start)
    r = frame["strategy"]
    period = period_text(r, warm)
    end = fmt_date(r.index[-1])
    sec.add(Note(f"Period of every table below: {period}. Compared: {', '.join(frame.columns)}.", "muted"))
    trailing = pd.DataFrame({c: M.trailing_returns(frame[c].dropna(), r.index[-1]) for c in frame}).T
    sec.add(Table(trailing.map(lambda v: fmt(v, "pct", 1)), f"Trailing returns as of {end} (compounded; "
                  "3 years and longer annualised; n/a where the history is shorter)"))
    tail: dict[str, dict[str, str]] = {}
    for c in frame:
        s = frame[c].dropna()
        e = M.extremes(s)
        col = {label: _pct_when(row["return"], row["when"]) for label, row in e.iterrows()}
        col[f"VaR {VAR_LEVEL:.0%} (daily)"] = fmt(M.value_at_risk(s, VAR_LEVEL), "pct", 2)
        col[f"CVaR {VAR_LEVEL:.0%} (daily)"] = fmt(M.conditional_value_at_risk(s, VAR_LEVEL), "pct", 2)
        tail[c] = col
    t = pd.DataFrame(tail)
    t.index.name = "daily and monthly"
    sec.add(Table(t, f"Best and worst day and month, historical VaR and CVaR, {fmt_date(r.index[0])} to {end}"))
    stress = M.stress_periods(frame) if not rec.synthetic else pd.DataFrame()
    if rec.synthetic:
        sec.add(Note("No stress periods: they are real-market events (2008 to 2022), and the synthetic market's "
                     "dates carry none of them.", "empty"))
    elif len(stress):
        rows = {}
        for name, row in stress.iterrows():
            cells = {"dates": f"{row[('', 'start')]} to {row[('', 'end')]}"}
            for c in frame:
                cells[c] = f"{fmt(row[(c, 'return')], 'pct', 1)} (DD {fmt(row[(c, 'max drawdown')], 'pct', 1)})"
            rows[name] = cells
        st = pd.DataFrame.from_dict(rows, orient="index")
        st.index.name = "stress period"
        sec.add(Table(st, "Stress periods: return and, in brackets, max drawdown inside the period",
                      text=("dates",)))
        left = [p for p, _, _ in M.STRESS_PERIODS if p not in stress.index]
        if left:
            sec.add(Note(f"Not covered by {fmt_date(r.index[0])} to {end}, so left out: {', '.join(left)}. "
                         "Periods: the S&P 500's closing high to its closing low (research/analytics/metrics.py, "
                         "STRESS_PERIODS).", "muted"))
    else:
        sec.add(Note(f"No named stress period (2008 to 2022) lies inside {fmt_date(r.index[0])} to {end}.",
                     "empty"))
    if (cs := cost_sensitivity(rec, start)) is not None:
        table, how = cs
        sec.add(Table(table, f"Cost sensitivity: the run's fees, slippage and borrow times 0, 1, 2 and 5, "
                             f"{fmt_date(r.index[0])} to {end}"))
        sec.add(Note(f"Computed from {how}. Active: against the strategy's own benchmark.", "muted"))
    sec.add(*_factor_blocks(rec, r))
    return sec
