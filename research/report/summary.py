"""What every summary of a run says: its numbers from the first fill, against its own benchmark, with its
period, its data and whether its history is long enough to rank.

A strategy that waits for its signal holds nothing for a while (`sector_flow_momentum`: 769 sessions); counting
those flat sessions would shrink its volatility and stretch its years. So the tear sheet's headline metrics, the
demo index and the terminal tables start at the first fill (`metrics.first_fill`) and report the warm-up before
it on its own. metrics.json keeps the whole-run numbers (`research.run.headline_metrics`), which the regression
baselines compare; `run_summary` is computed from the run record and is never stored there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from research.analytics import metrics as M
from research.report.active import warm_up
from research.report.load import RunRecord

#: A history shorter than this many years is flagged and not ranked with the others: with 11 sectors and
#: weekly data an information ratio needs years to separate from zero.
MIN_YEARS = 3.0


def _costs(rec: RunRecord) -> pd.Series | None:
    """Daily costs as a fraction of the previous close's equity, as `research.run.headline_metrics` has them."""
    if rec.costs.empty or rec.equity.empty:
        return None
    init = float((rec.config.get("execution") or {}).get("init_cash", rec.equity.iloc[0]))
    return rec.costs.sum(axis=1) / rec.equity.shift(1).fillna(init)


def first_fill_metrics(rec: RunRecord) -> dict[str, Any]:
    """`metrics.summary` of the strategy from its first fill, against SPY, with each benchmark's over the same
    sessions under `benchmarks` (the layout of metrics.json), plus `first_fill` and `warm_up_sessions`.
    A record that never traded keeps its whole-run metrics."""
    start, warm = warm_up(rec)
    if start is None:
        return {**rec.metrics, "first_fill": "", "warm_up_sessions": warm}
    r = rec.returns.dropna().loc[start:]
    bench = rec.benchmarks.reindex(r.index)
    spy = bench["SPY"] if "SPY" in bench else None

    def since(s: pd.Series | None) -> pd.Series | None:
        return s.loc[start:] if s is not None and len(s) else None

    out: dict[str, Any] = M.summary(r, spy, turnover=since(rec.turnover), gross=since(rec.gross),
                                    net=since(rec.net), costs=since(_costs(rec)))
    out["benchmarks"] = {str(b): M.summary(bench[b], spy) for b in bench.columns}
    out.update(first_fill=start.date().isoformat(), warm_up_sessions=warm)
    return out


def run_summary(rec: RunRecord) -> dict[str, Any]:
    """One row of the demo index and the terminal tables: the first-fill metrics, the period, the data (synthetic
    or real), the strategy's own benchmark with the active return (annualised mean) and the information ratio
    against it, and whether the history is shorter than `MIN_YEARS`."""
    from research.report.active import own_active

    m = first_fill_metrics(rec)
    basis, active = own_active(rec)
    years = m.get("n_days", 0) / M.PERIODS
    a = active.dropna() if active is not None else None
    return {
        "strategy": rec.name, **{k: v for k, v in m.items() if k != "benchmarks"},
        "data": str(rec.config.get("data", "")), "synthetic": rec.synthetic,
        "period": f"{m.get('start', '')} to {m.get('end', '')}", "years": years,
        "benchmark": basis.split(" (")[0] if a is not None else "none (raw returns)",
        "active_return": float(a.mean() * M.PERIODS) if a is not None and len(a) else float("nan"),
        "active_ir": M.sharpe(a) if a is not None else float("nan"),
        "short_history": bool(years < MIN_YEARS),
    }


def grouped(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The rows in groups that may be compared: synthetic, then real data, each ranked by the information ratio
    against the own benchmark (best first); a history shorter than `MIN_YEARS` goes to its own group per data
    kind, unranked (in the order given). Empty groups are left out; skipped rows (with "skipped") are not here."""
    out = []
    for kind, syn in (("synthetic data", True), ("real data", False)):
        mine = [r for r in rows if "skipped" not in r and bool(r.get("synthetic")) == syn]
        ranked = sorted((r for r in mine if not r.get("short_history")),
                        key=lambda r: -r["active_ir"] if np.isfinite(r.get("active_ir", np.nan)) else np.inf)
        short = [r for r in mine if r.get("short_history")]
        if ranked:
            out.append((f"{kind}, ranked by information ratio against the own benchmark", ranked))
        if short:
            out.append((f"{kind}, history shorter than {MIN_YEARS:g} years: not ranked", short))
    return out
