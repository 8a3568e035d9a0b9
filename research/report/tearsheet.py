"""Tear sheets: one self-contained HTML page (figures embedded) and an A4 PDF of the same blocks, per run.

A tear sheet is built only from the run folder (`load_run`), so `flowbt report RUN_DIR` rebuilds what `flowbt run`
wrote (byte for byte, except the build time). It answers, in order, the questions a portfolio manager asks:

    header       what is the idea, on what data, under which execution and costs, from which code and inputs
    metrics      did it work, against SPY and the equal-weight sectors, after costs
    performance  wealth on a log scale, drawdowns and the five worst of them
    rolling      was it steady: rolling 52-week Sharpe, volatility, beta; monthly and annual returns
    pm           trailing returns, best/worst day and month, VaR/CVaR, stress periods, cost sensitivity and
                 (real data) a Fama-French 3-factor regression, from the first fill (`research.report.pmtables`)
    positioning  what it held, how much it traded, where the return came from
    signal       does the signal rank sectors by future returns (rank IC by horizon, Newey-West t, spreads, decay)
    statistics   is it real or luck: bootstrap interval of the Sharpe, PSR, DSR with the number of trials, sweeps
    provenance   every input with its range, rows, missing values and publication-lag rule; the run log

Every section id above is an HTML anchor; `SECTION_KEYS` lists them. Numbers come from `research.analytics`
(one definition per metric); this module only arranges them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.analytics import metrics as M
from research.report import figures as F
from research.report.active import grid_size, own_active, warm_up
from research.report.load import RunRecord, load_run
from research.report.render import (
    KV,
    STAMP_RE,
    Document,
    Fig,
    Note,
    Raw,
    Section,
    Table,
    draw_figures,
    fmt,
    fmt_date,
    render_html,
)
from research.report.trials import sweep_stats, trial_stats
from research.report.trials import trials_db as trials_path

__all__ = ["HEADLINE", "SECTION_KEYS", "STAMP_RE", "Section", "build_sections", "fmt", "headline_frame",
           "headline_table", "kpi_strip", "sharpe_ci", "tearsheet_document", "write_document",
           "write_tearsheet"]

ROLLING = 252  # 52 weeks of sessions
BOOT_N = 1000  # bootstrap resamples
BOOT_SEED = 0
LEVEL = 0.95
SPREAD_N = 3  # top / bottom assets for the spread (of 11 sectors)
WARM_UP_SHOWN = 5  # the header names a warm-up longer than this (1 session is the decision-to-fill lag)
SECTION_KEYS = ("header", "metrics", "performance", "rolling", "pm", "positioning", "signal", "statistics",
                "provenance")
NO_SIGNAL = "No signal diagnostics: this strategy has no cross-sectional signal."

# Headline rows: (key in metrics.json, label, format)
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"), ("volatility", "Volatility", "pct"),
    ("sharpe", "Sharpe", "num"), ("sortino", "Sortino", "num"), ("max_drawdown", "Max drawdown", "pct"),
    ("calmar", "Calmar", "num"), ("hit_rate", "Hit rate (days up / days moved)", "pct"),
    ("turnover", "Turnover (x equity / year)", "num"), ("avg_gross", "Average gross exposure", "pct"),
    ("avg_net", "Average net exposure", "pct"), ("beta", "Beta to SPY", "num"),
    ("alpha", "Alpha to SPY (annual)", "pct"), ("information_ratio", "Information ratio vs SPY", "num"),
    ("tracking_error", "Tracking error vs SPY", "pct"), ("up_capture", "Up capture", "num"),
    ("down_capture", "Down capture", "num"), ("costs_paid", "Costs paid (sum, % of equity)", "pct"),
)


def headline_frame(columns: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The HEADLINE rows of several metrics.json dicts side by side, formatted (n/a where one does not apply)."""
    data = {col: [fmt(m.get(key), kind) for key, _, kind in HEADLINE] for col, m in columns.items()}
    return pd.DataFrame(data, index=pd.Index([label for _, label, _ in HEADLINE], name="metric"))


def headline_table(metrics: dict[str, Any], name: str = "strategy") -> pd.DataFrame:
    """Strategy and benchmarks side by side, formatted (n/a where a metric does not apply)."""
    return headline_frame({name: metrics, **metrics.get("benchmarks", {})})


#: The code a bootstrap interval depends on: part of its on-disk cache key.
_BOOT_MODULES = ("research.analytics.stats", "research.analytics.resample", "research.analytics.metrics",
                 "research.report.tearsheet")  # the call's own arguments (statistic, block, periods) live here


def sharpe_ci(returns: pd.Series) -> Any:
    """The seeded stationary-bootstrap interval (BOOT_N, LEVEL) of the Sharpe ratio of the non-missing returns;
    None when there are fewer than three of them or they never move.

    Kept in the on-disk cache (`research.data.cache`) under the SHA-256 of the returns' bytes: 1,000 resamples
    take about 0.15 s and the same series recur (the benchmarks of every strategy on one schedule, a tear sheet
    rebuilt by `flowbt report`, a comparison sheet), and the interval is a function of those bytes alone."""
    import hashlib

    from research.analytics import stats as S
    from research.data.cache import cached

    r = returns.dropna()
    if len(r) < 3 or not np.ptp(r.to_numpy()) > 0:
        return None
    values = np.ascontiguousarray(r.to_numpy(dtype=float))
    key = (hashlib.sha256(values.tobytes()).hexdigest(), BOOT_N, LEVEL, BOOT_SEED)
    return cached("sharpe_ci", key, _BOOT_MODULES,
                  lambda: S.bootstrap_ci(r, "sharpe", n=BOOT_N, level=LEVEL, seed=BOOT_SEED), keep=512)


def kpi_strip(tiles: list[tuple[str, str, str, float | None]], name: str = "key figures") -> Raw:
    """A strip of KPI tiles (label, value, detail, sign: a negative sign colours the value) for the HTML, and
    the same figures as a two-column table for the PDF."""

    def tile(label: str, value: str, detail: str, sign: float | None) -> str:
        neg = sign is not None and np.isfinite(sign) and sign < 0
        return (f"<div class='kpi'><div class='label'>{html.escape(label)}</div>"
                f"<div class='value{' neg' if neg else ''}'>{html.escape(value)}</div>"
                f"<div class='detail'>{html.escape(detail)}</div></div>")

    strip = "<div class='kpis'>" + "".join(tile(*t) for t in tiles) + "</div>"
    table = Table(pd.DataFrame({"value": [t[1] for t in tiles], "context": [t[2] for t in tiles]},
                               index=pd.Index([t[0] for t in tiles], name=name)), text=("context",), cls="kpis")
    return Raw(strip, [table])


def write_document(doc: Document, path: Path, *, pdf: bool = True) -> Path:
    """Draw the figures into figures/ next to `path` (one PNG each), write the HTML page at `path` and, with
    `pdf`, the A4 PDF beside it (same name, .pdf); returns `path`."""
    path = Path(path)
    draw_figures(doc.sections, path.parent / "figures")
    path.write_text(render_html(doc))
    if pdf:
        from research.report.pdf import render_pdf

        render_pdf(doc, path.with_suffix(".pdf"))
    return path


# --------------------------------------------------------------------------------------------------------------
# the analysis behind the sections, computed once


@dataclass
class Honesty:
    """Sharpe with its bootstrap interval, PSR and DSR, and where the number of trials came from."""

    sharpe: float
    lower: float
    upper: float
    block: int
    bench: dict[str, tuple[float, float, float]]
    psr: float
    dsr: float
    n_trials: int
    trials_source: str
    sr_std_annual: float  # std of annualised Sharpe across trials (NaN with one trial)
    hurdle: float  # annualised expected max Sharpe of n_trials unskilled trials
    n_obs: int
    skew: float
    kurtosis: float
    basis: str = "raw returns"  # what PSR and DSR judge: the active return against the strategy's own benchmark
    active_sharpe: float = float("nan")  # annualised Sharpe of that active return (information ratio)
    active_return: float = float("nan")  # its annualised mean


def honesty(rec: RunRecord, trials_db: Path | None = None) -> Honesty:
    """Bootstrap interval (seeded) of the Sharpe ratio from the first fill (the headline's period), PSR and DSR of
    the active return against the own benchmark, with n_trials from the trial log, the sweep or the grid."""
    from research.analytics import stats as S

    start, _ = warm_up(rec)
    r = rec.returns.dropna()
    r = r.loc[start:] if start is not None else r
    nan = float("nan")
    if (ci := sharpe_ci(r)) is not None:
        est, lo, hi, block = ci.estimate, ci.lower, ci.upper, ci.block
    else:
        est, lo, hi, block = M.sharpe(r), nan, nan, 0
    bench: dict[str, tuple[float, float, float]] = {}
    for col in rec.benchmarks.columns:
        if (c := sharpe_ci(rec.benchmarks[col].reindex(r.index))) is not None:
            bench[str(col)] = (c.estimate, c.lower, c.upper)
    basis, active = own_active(rec)
    judged = active.dropna() if active is not None else r
    sr, n, skew, kurt = S.sharpe_moments(judged)
    psr = S.probabilistic_sharpe_ratio(sr, n, skew, kurt) if np.isfinite(sr) else nan
    data_hash = (rec.provenance or {}).get("data_hash") or None
    found = trial_stats(None, trials_db, data_hash=data_hash)  # every strategy's trials on these inputs count
    own = trial_stats(rec.name, trials_db, data_hash=data_hash)
    db = trials_path(trials_db)
    declared = grid_size(rec)
    if found is not None:
        n_trials, var = found
        mine = own[0] if own is not None else 0
        source = (f"trial log {db} ({n_trials:,} configurations of every strategy on these inputs, {mine:,} of "
                  f"them {rec.name}'s)")
    elif rec.sweep is not None and "sharpe" in rec.sweep and (sw := sweep_stats(rec.sweep["sharpe"])) is not None:
        n_trials, var = sw
        source = f"sweep.parquet in the run folder ({n_trials} configurations; no trial log at {db})"
    else:
        n_trials, var = 1, nan
        source = f"no trial log at {db} and no sweep.parquet"
    if n_trials < declared:
        # at least the declared grid: its configurations are the trials the declaration invites. Without their
        # Sharpe ratios, their spread is the one skill-free trials would show: 1/n per period (each estimated
        # Sharpe's sampling variance), a standard null (Bailey and Lopez de Prado 2014).
        n_trials, var = declared, (var if np.isfinite(var) and var > 0 else 1.0 / max(n, 1))
        source += (f"; counted as the {declared:,} configurations of the strategy's declared grid, whose Sharpe "
                   "spread is taken as that of skill-free trials (1/n per period)")
    elif n_trials == 1:
        source += ": counted as a single trial, so DSR equals PSR; if other configurations were tried, this "\
                  "overstates the evidence"
    if n_trials > 1 and np.isfinite(var) and var > 0 and np.isfinite(sr):
        dsr = S.deflated_sharpe_ratio(sr, n, skew, kurt, n_trials, var)
        hurdle = S.expected_max_sharpe(n_trials, var) * math.sqrt(M.PERIODS)
    else:
        dsr, hurdle = psr, 0.0
    sr_std = math.sqrt(var * M.PERIODS) if n_trials > 1 and np.isfinite(var) else nan
    act_sr = float(sr * math.sqrt(M.PERIODS)) if active is not None and np.isfinite(sr) else nan
    act_ret = float(judged.mean() * M.PERIODS) if active is not None and len(judged) else nan
    basis_text = f"active return against {basis}" if active is not None else "raw returns"
    return Honesty(est, lo, hi, block, bench, psr, dsr, int(n_trials), source, sr_std, hurdle, n, skew, kurt,
                   basis_text, act_sr, act_ret)


def _signal_frame(rec: RunRecord) -> tuple[pd.DataFrame | None, str]:
    """(signal, where it came from) or (None, why there is none)."""
    if rec.signal is not None and rec.signal.shape[1] > 0:
        return rec.signal, "the strategy's signal (signal.parquet)"
    if rec.config.get("mode") == "timing" or rec.target.shape[1] < 3:
        return None, NO_SIGNAL
    t = rec.target
    if not (t.std(axis=1) > 0).any():
        return None, NO_SIGNAL
    return t, ("the strategy defines no signal, so its target weights stand in for it (many ties at zero weight "
               "weaken the rank statistics; define Strategy.signal for sharper diagnostics)")


@dataclass
class Context:
    rec: RunRecord
    spy: pd.Series | None
    honesty: Honesty
    sharpe_png: bytes | None = None  # the sharpe_ci figure, when drawn beside the honesty numbers


# --------------------------------------------------------------------------------------------------------------
# sections


def shown_metrics(rec: RunRecord) -> dict[str, Any]:
    """The headline numbers a tear sheet shows: a run's from its first fill (`research.report.summary`), the
    metrics of a returns series or portfolio as given."""
    from research.report.summary import first_fill_metrics

    return first_fill_metrics(rec) if rec.kind == "run" else rec.metrics


def _kpis(ctx: Context) -> Raw:
    m, h = shown_metrics(ctx.rec), ctx.honesty
    spy = m.get("benchmarks", {}).get("SPY", {})
    ci = f"{LEVEL:.0%} CI [{fmt(h.lower)}, {fmt(h.upper)}]"
    tiles = [
        ("CAGR", fmt(m.get("cagr"), "pct"), f"SPY {fmt(spy.get('cagr'), 'pct')}", m.get("cagr")),
        ("Sharpe", fmt(m.get("sharpe")), ci, m.get("sharpe")),
        ("Max drawdown", fmt(m.get("max_drawdown"), "pct", 1), f"SPY {fmt(spy.get('max_drawdown'), 'pct', 1)}",
         None),
        ("Volatility", fmt(m.get("volatility"), "pct", 1), f"SPY {fmt(spy.get('volatility'), 'pct', 1)}", None),
        ("Active vs benchmark", fmt(h.active_return, "pct"), f"information ratio {fmt(h.active_sharpe)}; "
         f"{h.basis.removeprefix('active return against ')}", h.active_return),
        ("Deflated Sharpe prob.", fmt(h.dsr, "pct", 0), f"of the active return; {h.n_trials:,} trial(s)", None),
    ]
    return kpi_strip(tiles)


def _header(ctx: Context) -> Section:
    rec = ctx.rec
    cfg, prov = rec.config, rec.provenance or {}
    code = prov.get("code", {}) or {}
    commit = code.get("commit") or "not a git checkout"
    if code.get("dirty"):
        commit += " (with uncommitted changes)"
    r = rec.returns.dropna()
    period = f"{fmt_date(r.index[0])} to {fmt_date(r.index[-1])} ({len(r):,} sessions, {len(r) / 252:.1f} years)"
    if rec.kind == "run":
        start, warm = warm_up(rec)
        if start is not None and warm > WARM_UP_SHOWN:
            period += f"; first fill {fmt_date(start)} after a warm-up of {warm:,} sessions, where the metrics start"
    params = ", ".join(f"{k}={v}" for k, v in cfg.get("params", {}).items()) or "none"
    grid = cfg.get("grid", {}) or {}
    n_grid = int(np.prod([len(v) for v in grid.values()])) if grid else 1
    sec = Section("header", rec.name)
    if rec.kind != "run":
        if cfg.get("description"):
            sec.add(Note(str(cfg["description"]), "muted"))
        sec.add(_kpis(ctx))
        bench = ", ".join(map(str, rec.benchmarks.columns)) or "none given"
        sec.add(KV([("Input", str(cfg.get("data", ""))), ("Period", period), ("Benchmark", bench)]))
        return sec
    sig, sig_note = _signal_frame(rec)
    if rec.synthetic:
        sec.add(Note("SYNTHETIC DATA — a simulated market with planted, documented mechanisms. These results are "
                     "not market history and say nothing about real returns.", "banner"))
    sec.add(Raw(f"<p class='hypothesis'><b>Hypothesis.</b> {html.escape(cfg.get('hypothesis', ''))}</p>",
                [Note(f"Hypothesis. {cfg.get('hypothesis', '')}", "lead")]))
    if cfg.get("description"):
        sec.add(Note(str(cfg["description"]), "muted"))
    sec.add(_kpis(ctx))
    left = [
        ("Mode", str(cfg.get("mode", ""))),
        ("Parameters", params),
        ("Grid", f"{n_grid} configurations ({', '.join(grid) or 'none'})"),
        ("Signal", sig_note if sig is not None else "none (timing or single-asset strategy)"),
    ]
    if rec.synthetic and rec.truth and cfg.get("mechanism"):
        mech = cfg["mechanism"]
        strength = (rec.truth.get("strengths") or {}).get(mech, "n/a")
        left.append(("Planted mechanism", f"{mech} (strength {strength}); see Data provenance"))
    right = [
        ("Data", str(cfg.get("data", ""))),
        ("Period", period),
        ("Run", f"{prov.get('created_utc', '')} ({fmt(prov.get('seconds'), 'num', 1)} s to run)"),
        ("Code version", commit),
        ("Input hash", f"sha256 {prov.get('data_hash', '')}"),
        ("Run folder", rec.folder.name),
    ]
    kv_l, kv_r = KV(left, "Strategy"), KV(right, "Run")
    from research.report.render import kv_html

    kv_x = KV([("Execution and costs", str(cfg.get("execution_text", "")))])
    sec.add(Raw(f"<div class='meta'><div>{kv_html(kv_l)}</div><div>{kv_html(kv_r)}</div></div>{kv_html(kv_x)}",
                [kv_l, kv_r, kv_x]))
    if not rec.sources.empty:
        s = rec.sources
        t = pd.DataFrame({
            "source": s["name"].astype(str),
            "from": s["start"].map(fmt_date), "to": s["end"].map(fmt_date),
            "publication lag rule applied": s["lag_rule"].astype(str),
        })
        sec.add(Table(t, "Data sources", index=False, text=("source", "publication lag rule applied"),
                      cls="wide"))
    return sec


def _metrics(ctx: Context) -> Section:
    rec = ctx.rec
    against = ("SPY and the equal-weight sector ETFs" if rec.kind == "run" else
               ", ".join(map(str, rec.benchmarks.columns)) or "no benchmark")
    sec = Section("metrics", "Headline metrics against the benchmarks", pdf_new_page=False,
                  intro=f"Did it work? Daily returns after costs, against {against}.")
    m = shown_metrics(rec)
    table = headline_table(m, rec.name)
    period = f"{m.get('start', '')} to {m.get('end', '')} ({fmt(m.get('n_days'), 'int')} sessions)"
    if rec.kind == "run":
        warm = m.get("warm_up_sessions", 0)
        period = f"from the first fill, {period}; warm-up before it: {warm:,} session{'s' if warm != 1 else ''}"
    sec.add(Table(table, f"Period {period}", cls=""))
    from research.report.summary import MIN_YEARS

    years = float(m.get("n_days") or 0) / M.PERIODS
    if years < MIN_YEARS:
        sec.add(Note(f"A history of {years:.1f} years, shorter than {MIN_YEARS:g}: too short to tell skill from luck. "
                     "The summary tables flag it and do not rank it with the others.", "warn"))
    sec.add(Note("Sharpe and Sortino use a zero risk-free rate; alpha and beta are against SPY's daily returns; "
                 "turnover is traded notional over equity per year; costs are fees, slippage and borrow as a "
                 "fraction of equity, summed. Definitions: research/analytics/metrics.py.", "muted"))
    return sec


def _performance(ctx: Context) -> Section:
    rec = ctx.rec
    sec = Section("performance", "Performance and drawdowns",
                  intro="How did wealth evolve, and how deep and how long were the losses?")
    sec.add(Fig("equity", partial(F.equity_curve, rec.returns, rec.benchmarks, rec.name),
                "Wealth from 1 at the first session, log scale; benchmarks over the same sessions. "
                "Final multiple in the legend."))
    sec.add(Fig("underwater", partial(F.underwater, rec.returns, ctx.spy),
                "Loss from the previous high-water mark; SPY's drawdown as a line for scale."))
    dd = M.drawdowns(rec.returns, top=5)
    pos = {d: i for i, d in enumerate(rec.returns.dropna().index)}
    rows = []
    for _, d in dd.iterrows():
        rows.append({
            "start (peak)": fmt_date(d["peak"]), "trough": fmt_date(d["trough"]),
            "recovery": fmt_date(d["recovery"]) or "not recovered",
            "depth": fmt(d["depth"], "pct", 1),
            "peak to trough": f"{pos.get(d['trough'], 0) - pos.get(d['peak'], 0):,}",
            "under water": f"{int(d['length']):,}",
        })
    if rows:
        t = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="#"))
        sec.add(Table(t, "Five worst drawdowns (lengths in sessions)", text=()))
    else:
        sec.add(Note("No drawdown: wealth never fell below a previous peak.", "empty"))
    return sec


def _rolling(ctx: Context) -> Section:
    rec = ctx.rec
    sec = Section("rolling", "Rolling risk, monthly and annual returns",
                  intro="Was performance steady through time, or concentrated in a few periods?")
    spy = ctx.spy
    beta = M.rolling_beta(rec.returns, spy, ROLLING) if spy is not None else None
    bs = M.rolling_sharpe(spy.reindex(rec.returns.index), ROLLING) if spy is not None else None
    bv = M.rolling_volatility(spy.reindex(rec.returns.index), ROLLING) if spy is not None else None
    sec.add(Fig("rolling", partial(F.rolling_panel, M.rolling_sharpe(rec.returns, ROLLING),
                                   M.rolling_volatility(rec.returns, ROLLING), beta, bs, bv),
                "Trailing 252 sessions; the dashed line is the strategy's average. SPY in grey."))
    monthly = M.monthly_returns(rec.returns)
    annual = M.annual_returns(rec.returns)
    sec.add(Fig("monthly", partial(F.monthly_heatmap, monthly, annual),
                "Compounded return of each calendar month, and of the year (right).",
                cost=1.0 + len(monthly) / 10))  # a number in every cell: 26 years draw as three other figures
    bench_annual = M.annual_returns(spy.reindex(rec.returns.index)).rename("SPY") if spy is not None else None
    sec.add(Fig("annual", partial(F.annual_bars, annual, bench_annual), "Calendar-year returns against SPY."))
    m = monthly.stack().dropna()
    if len(m):
        rows = [("Best month", f"{fmt(m.max(), 'pct', 1)} ({m.idxmax()[0]}-{m.idxmax()[1]:02d})"),
                ("Worst month", f"{fmt(m.min(), 'pct', 1)} ({m.idxmin()[0]}-{m.idxmin()[1]:02d})"),
                ("Positive months", f"{fmt((m > 0).mean(), 'pct', 0)} of {len(m)}"),
                ("Best year", f"{fmt(annual.max(), 'pct', 1)} ({annual.idxmax()})"),
                ("Worst year", f"{fmt(annual.min(), 'pct', 1)} ({annual.idxmin()})")]
        if bench_annual is not None:
            both = pd.concat([annual, bench_annual], axis=1).dropna()
            rows.append(("Years beating SPY", f"{int((both.iloc[:, 0] > both.iloc[:, 1]).sum())} of {len(both)}"))
        sec.add(KV(rows, "Months and years"))
    return sec


def _pm(ctx: Context) -> Section:
    from research.report.pmtables import pm_section

    return pm_section(ctx.rec)


def contributions(rec: RunRecord) -> pd.Series | None:
    """Sum over sessions of (weight held at the previous close x the asset's close-to-close return), per asset.

    An attribution before costs that ignores intraday fills; with `costs_paid` it adds up to about the sum of
    the strategy's daily returns. None when the run folder has no close.parquet.
    """
    if rec.close is None:
        return None
    w = rec.weights.astype(float)
    cols = [c for c in w.columns if c in rec.close.columns]
    if not cols:
        return None
    ret = rec.close[cols].pct_change(fill_method=None).reindex(w.index)
    contrib = (w[cols].shift(1) * ret).sum()
    return contrib.loc[lambda s: (w[s.index].abs() > 1e-12).any()]


def _positioning(ctx: Context) -> Section:
    rec = ctx.rec
    sec = Section("positioning", "Positioning",
                  intro="What did it hold, how much did it trade, and where did the return come from?")
    _, word = F.weights_freq(pd.DatetimeIndex(rec.weights.index))
    sec.add(Fig("weights", partial(F.weights_area, rec.weights),
                f"Held weights after drift, {word} averages (a daily view flickers with every rebalance)."))
    sec.add(Fig("exposure", partial(F.exposure_turnover, rec.gross, rec.net, rec.turnover),
                "Gross = sum of |weights| (shaded), net = sum of weights (line). Turnover bars: traded notional "
                "over equity per month."))
    contrib = contributions(rec)
    w = rec.weights.astype(float)
    held = w.loc[:, (w.abs() > 1e-12).any()]
    if contrib is not None and len(contrib):
        costs = rec.metrics.get("costs_paid")
        sec.add(Fig("contribution", partial(F.contribution_bars, contrib, costs),
                    "Sum over sessions of the weight held at the previous close times the asset's return; costs "
                    "as one bar. An arithmetic attribution: it does not compound."))
    if held.shape[1]:
        table = pd.DataFrame({
            "average weight": held.mean().map(lambda v: fmt(v, "pct", 1)),
            "average |weight|": held.abs().mean().map(lambda v: fmt(v, "pct", 1)),
            "time held": (held.abs() > 1e-9).mean().map(lambda v: fmt(v, "pct", 0)),
            "last weight": held.iloc[-1].map(lambda v: fmt(v, "pct", 1)),
        })
        if contrib is not None:
            table["contribution"] = contrib.reindex(held.columns).map(lambda v: fmt(v, "pct", 1))
        order = [c for c in F.ASSET_COLORS if c in table.index] + [c for c in table.index
                                                                    if c not in F.ASSET_COLORS]
        table = table.loc[order]
        table.index.name = "asset"
        sec.add(Table(table, "By asset"))
        if contrib is not None:
            total = float(rec.returns.dropna().sum())
            costs = float(rec.metrics.get("costs_paid") or 0.0)
            sec.add(Note(f"Check: contributions {fmt(contrib.sum(), 'pct', 1)} minus costs {fmt(costs, 'pct', 1)} "
                         f"= {fmt(contrib.sum() - costs, 'pct', 1)}, against the sum of daily returns "
                         f"{fmt(total, 'pct', 1)} (the gap is fills away from the close and cash interest).",
                         "muted"))
    return sec


def _signal(ctx: Context) -> Section:
    from research.analytics import diagnostics as D
    from research.errors import FlowbtError

    rec = ctx.rec
    sec = Section("signal", "Signal diagnostics",
                  intro="Does the signal rank the sectors by their future returns, and for how long?")
    signal, source = _signal_frame(rec)
    if signal is None:
        sec.add(Note(NO_SIGNAL, "empty"))
        return sec
    if rec.close is None:
        sec.add(Note("No signal diagnostics: this run folder has no close.parquet (it predates them); run the "
                     "strategy again.", "empty"))
        return sec
    try:
        diag = D.signal_diagnostics(signal, rec.close, D.HORIZONS, n=SPREAD_N)
    except FlowbtError as exc:
        sec.add(Note(f"No signal diagnostics: {exc}", "empty"))
        return sec
    if diag.summary["n_dates"].max() == 0:
        sec.add(Note(f"No signal diagnostics: fewer than {D.MIN_ASSETS} assets have both a score and a forward "
                     "return on any date.", "empty"))
        return sec
    sec.add(Note(f"Signal: {source}. Dates: {fmt_date(signal.index[0])} to {fmt_date(signal.index[-1])}, "
                 f"{len(signal):,} decision dates, {signal.shape[1]} assets. Forward returns run from the close "
                 "of the first session after each decision date to the close h weeks later (no look-ahead).",
                 "muted"))
    rows = []
    for h, s in diag.summary.iterrows():
        sp = diag.spread[h].dropna()
        lags = D.newey_west_lags(len(sp), int(h))
        rows.append({
            "mean rank IC": fmt(s["mean_ic"], "num", 3), "t (Newey-West)": fmt(s["t_nw"]),
            "IC > 0": fmt(s["hit"], "pct", 0), "dates": fmt(s["n_dates"], "int"),
            f"top {SPREAD_N} - bottom {SPREAD_N}": fmt(sp.mean(), "pct", 2) if len(sp) else "n/a",
            "spread t (NW)": fmt(D.newey_west_tstat(sp.to_numpy(), lags)) if len(sp) else "n/a",
        })
    table = pd.DataFrame(rows, index=pd.Index([f"{h} week{'s' if h > 1 else ''}" for h in diag.summary.index],
                                              name="horizon"))
    sec.add(Table(table, "Rank IC and top-minus-bottom spread by forward horizon"))
    sec.add(Note("t-statistics use Newey-West standard errors with at least h - 1 lags, because h-week forward "
                 "returns overlap from one weekly date to the next. With 11 sectors and weekly data an IC of "
                 "0.03 needs about nine years to reach t = 2: judge the t-statistics, not the IC alone.", "muted"))
    trailing = {h: diag.ic[h].dropna().rolling(52, min_periods=26).mean() for h in diag.ic.columns}
    sec.add(Fig("ic", partial(F.ic_over_time, diag.ic, trailing),
                "Grey bars: the cross-sectional rank IC of each decision date at the shortest horizon. Lines: "
                "the mean of the last 52 dates with an IC, at each horizon."))
    sec.add(Fig("spread", partial(F.spread_panel, diag.spread, SPREAD_N),
                f"Left: running sum of the 1-week return of the top {SPREAD_N} assets by signal minus the bottom "
                f"{SPREAD_N} (before costs). Right: mean spread divided by the weeks held."))
    sec.add(Fig("decay", partial(F.decay_bars, diag.decay),
                "Mean 1-week rank IC when the signal is k decision dates old: how fast its information fades."))
    return sec


def _statistics(ctx: Context) -> Section:
    rec, h = ctx.rec, ctx.honesty
    sec = Section("statistics", "Statistical honesty",
                  intro="Is it real or luck? Sampling uncertainty, and the number of configurations tried.")
    verdict_ci = ("the interval excludes zero" if h.lower > 0 else
                  "the interval includes zero: the Sharpe ratio is not distinguishable from zero")
    rows = [
        ("Sharpe ratio (annualised)", f"{fmt(h.sharpe)}, {LEVEL:.0%} interval [{fmt(h.lower)}, {fmt(h.upper)}]: "
         f"{verdict_ci}"),
        ("Bootstrap", f"stationary bootstrap (Politis-Romano), expected block {h.block} sessions, {BOOT_N} "
         f"resamples, seed {BOOT_SEED}"),
        ("What is judged", f"the {h.basis} (annualised {fmt(h.active_return, 'pct')}, information ratio "
         f"{fmt(h.active_sharpe)}): an edge is performance beyond what the benchmark gives for free"),
        ("Probabilistic Sharpe (PSR)", f"{fmt(h.psr, 'pct', 1)} probability that the true Sharpe ratio of the "
         f"{h.basis} is above 0 (skew {fmt(h.skew)}, kurtosis {fmt(h.kurtosis)}, {h.n_obs:,} daily returns)"),
        ("Trials", f"{h.n_trials}: {h.trials_source}"),
    ]
    if h.n_trials > 1:
        rows.append(("Expected best of the trials", f"{fmt(h.hurdle)}: the Sharpe ratio the best of {h.n_trials} "
                     f"unskilled configurations would show (their Sharpe std {fmt(h.sr_std_annual)})"))
    rows.append(("Deflated Sharpe (DSR)", f"{fmt(h.dsr, 'pct', 1)} probability that the true Sharpe ratio is "
                 f"above {'that hurdle' if h.n_trials > 1 else '0 (a single trial)'}"))
    sec.add(KV(rows))
    passed = np.isfinite(h.dsr) and h.dsr >= 0.95
    sec.add(Note(
        (f"Deflated Sharpe probability {fmt(h.dsr, 'pct', 0)} >= 95%: the {h.basis} clears the deflation for "
         f"{h.n_trials:,} trial(s)."
         if passed else
         f"Deflated Sharpe probability {fmt(h.dsr, 'pct', 0)} < 95%: the {h.basis} does not reach 95% "
         f"confidence once sampling error and {h.n_trials:,} trial(s) are accounted for."),
        "ok" if passed else "warn"))
    if h.n_trials == 1:
        sec.add(Note("Only one trial is on record. Record every configuration you tried (results/trials.duckdb, "
                     "table trials(strategy, params, sharpe, ...)) and the tear sheet deflates by that count.",
                     "muted"))
    if np.isfinite(h.sharpe) and h.sharpe > 1.5:
        sec.add(Note("A sector-flow Sharpe ratio far above 1 is more likely a bug than a discovery: check timing "
                     "(publication lags, fills) and costs before believing it.", "warn"))
    if (fig := _sharpe_fig(h)) is not None:
        fig.png = ctx.sharpe_png or b""
        sec.add(fig)
    sw = rec.sweep
    if sw is not None and "sharpe" in sw.columns and len(sw) > 1:
        known = set(rec.config.get("params", {}))
        params = [c for c in sw.columns if c not in M.SUMMARY_KEYS and sw[c].nunique() > 1]
        params.sort(key=lambda c: (c not in known, -sw[c].nunique()))  # the strategy's parameters first
        if len(params) >= 2:
            x, y = params[0], params[1]
            sel: dict[str, Any] = dict(rec.config.get("params", {}))
            sel["_metric"] = rec.metrics.get("sharpe")
            sec.add(Fig("sweep", partial(F.sweep_heatmap, sw, x, y, sel),
                        f"Median Sharpe of the sweep's {len(sw)} configurations by {y} and {x} (other parameters "
                        "pooled); this run's cell outlined. Right: every configuration's Sharpe ratio."))
        else:
            t = sw.sort_values("sharpe", ascending=False).head(20)
            sec.add(Table(t.map(lambda v: fmt(v) if isinstance(v, float) else str(v)),
                          f"Sweep: {len(sw)} configurations (best 20)", index=False))
    else:
        sec.add(Note("No sweep heatmap: this run folder has no sweep.parquet (parameter columns and sharpe).",
                     "empty"))
    return sec


def _sharpe_fig(h: Honesty) -> Fig | None:
    """The Sharpe intervals of the strategy and its benchmarks (None when no interval is finite)."""
    bars = [("strategy", h.sharpe, h.lower, h.upper)] + [(k, *v) for k, v in h.bench.items()]
    bars = [b for b in bars if all(np.isfinite(x) for x in b[1:])]
    if not bars:
        return None
    hurdle = h.hurdle if h.n_trials > 1 else None
    return Fig("sharpe_ci", partial(F.sharpe_intervals, bars, hurdle, LEVEL),
               "Dots: Sharpe ratio over the whole run; bars: its bootstrap interval. Dashed: the Sharpe the best "
               "of the recorded trials would reach by luck alone.")


def _honesty_and_figure(rec: RunRecord, trials_db: Path | None) -> tuple[Honesty, bytes | None]:
    """`honesty` and its figure drawn (one task of `build_sections`' queue)."""
    h = honesty(rec, trials_db)
    fig = _sharpe_fig(h)
    return h, fig.render() if fig is not None else None


def _provenance(ctx: Context) -> Section:
    rec = ctx.rec
    prov = rec.provenance or {}
    sec = Section("provenance", "Data provenance",
                  intro="What data is it built on, and when was each value public?")
    if not rec.sources.empty:
        s = rec.sources.copy()
        t = pd.DataFrame({
            "input": s["name"].astype(str), "kind": s["kind"].astype(str),
            "from": s["start"].map(fmt_date), "to": s["end"].map(fmt_date),
            "rows": s["rows"].map(lambda v: fmt(v, "int")), "missing": s["missing"].map(lambda v: fmt(v, "int")),
            "lag rule applied": s["lag_rule"].astype(str), "detail": s.get("detail", "").astype(str),
        })
        sec.add(Table(t, "Inputs", index=False, text=("input", "kind", "lag rule applied", "detail"),
                      pdf_records=True, cls="wide"))
        sec.add(Note("Values reach a signal only through the point-in-time alignment: at each session, the latest "
                     "value whose publication time is at or before that session's close. Missing values are never "
                     "filled.", "muted"))
    else:
        sec.add(Note("This run folder has no sources.json.", "empty"))
    libs = prov.get("libraries", {}) or {}
    code = prov.get("code", {}) or {}
    files = sorted(p.name for p in rec.folder.glob("*.parquet"))
    sec.add(KV([
        ("Input hash", f"sha256 {prov.get('data_hash', '')} (prices open and close, and the panel)"),
        ("Code version", f"{code.get('commit') or 'not a git checkout'}"
                         f"{' (with uncommitted changes)' if code.get('dirty') else ''}"),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in libs.items())),
        ("Run folder files", ", ".join(files)),
    ], "Reproducibility"))
    log = prov.get("log", []) or []
    if log:
        sec.add(Table(pd.DataFrame({"entry": [str(x) for x in log]}), "Run log", index=False, text=("entry",),
                      pdf_records=True, cls="wide"))
    if rec.truth:
        mech = rec.truth.get("mechanisms", {}) or {}
        strengths = rec.truth.get("strengths", {}) or {}
        t = pd.DataFrame({"strength": [str(strengths.get(k, "n/a")) for k in mech],
                          "what was planted": [str(v) for v in mech.values()]},
                         index=pd.Index(list(mech), name="mechanism"))
        short = t.assign(**{"what was planted": [v.split(". ")[0].rstrip(".") + ". (Full text in the HTML.)"
                                                 for v in t["what was planted"]]})
        sec.add(Table(t, "Planted mechanisms (synthetic truth)", text=("what was planted",), pdf_records=True,
                      cls="wide", pdf_df=short))
    return sec


#: Section builders in page order.
BUILDERS = [_header, _metrics, _performance, _rolling, _pm, _positioning, _signal, _statistics, _provenance]
#: The builders that read `Context.honesty` (the bootstrap intervals, PSR and DSR).
_NEED_HONESTY = (_header, _statistics)
_KEY = dict(zip(BUILDERS, SECTION_KEYS, strict=True))
#: Titles of the sections a tear sheet of returns or of a portfolio may omit.
_TITLES = {"pm": "Trailing returns, tail risk, stress periods and costs", "positioning": "Positioning",
           "signal": "Signal diagnostics", "provenance": "Data provenance",
           "rolling": "Rolling risk, monthly and annual returns", "statistics": "Statistical honesty"}


def _omitted(builder: Any, why: str) -> Section:
    """A section the input cannot support: its title and one line saying why, on the page before."""
    key = _KEY[builder]
    return Section(key, _TITLES.get(key, key.title()), pdf_new_page=False).add(Note(f"Not shown: {why}", "empty"))


def build_sections(rec: RunRecord, trials_db: Path | None = None, *, draw: bool = False) -> list[Section]:
    """The sections in page order; figures are recipes, built when drawn (`render.draw_figures`).

    With `draw`, the figures are drawn here, in one queue with the statistical-honesty numbers (three
    1,000-resample bootstraps; their figure is drawn with them), shared with a forked process
    (`research.forkmap.fork_map`): the bootstraps no longer wait for the figures or the figures for them.
    """
    from research.forkmap import fork_map

    spy = rec.benchmarks["SPY"] if "SPY" in rec.benchmarks else None
    ctx = Context(rec, spy, None)  # type: ignore[arg-type]  # honesty is filled in below
    built = {b: _omitted(b, rec.omit[_KEY[b]]) if _KEY[b] in rec.omit else b(ctx)
             for b in BUILDERS if b not in _NEED_HONESTY}
    figs = sorted((f for sec in built.values() for f in sec.figures), key=lambda f: -f.cost) if draw else []

    def first() -> tuple[Honesty, bytes | None]:
        return _honesty_and_figure(rec, trials_db) if draw else (honesty(rec, trials_db), None)

    done = fork_map(lambda task: task(), [first, *(f.render for f in figs)])  # costliest figures first
    ctx.honesty, ctx.sharpe_png = done[0]
    for f, png in zip(figs, done[1:], strict=True):
        f.png = png
    built.update({b: b(ctx) for b in _NEED_HONESTY})
    return [built[b] for b in BUILDERS]


def write_tearsheet(folder: Path, *, pdf: bool = True, trials_db: Path | None = None) -> Path:
    """Write tearsheet.html, tearsheet.pdf and figures/NN_name.png into the run folder; return the HTML path."""
    from research.atomic import atomic_files

    folder = Path(folder)
    doc = tearsheet_document(load_run(folder), trials_db)
    with atomic_files(folder) as work:  # tearsheet.html/.pdf and figures/ replaced whole, or left as they were
        write_document(doc, work / "tearsheet.html", pdf=pdf)
    return folder / "tearsheet.html"


def tearsheet_document(rec: RunRecord, trials_db: Path | None = None) -> Document:
    """The tear sheet of a run record (from a folder or built in memory), its figures drawn."""
    if rec.returns.dropna().empty:
        from research.errors import ConfigError

        raise ConfigError(f"{rec.folder}: the returns hold no value, so there is nothing to report.")
    sections = build_sections(rec, trials_db, draw=True)
    r = rec.returns.dropna()
    doc = Document(
        title=f"{rec.name} — tear sheet",
        subtitle=" · ".join(x for x in (str(rec.config.get("data", "")),
                                          f"{fmt_date(r.index[0])} to {fmt_date(r.index[-1])}",
                                          str(rec.config.get("mode", ""))) if x),
        sections=sections, synthetic=rec.synthetic,
        footer=f"{rec.name} · inputs sha256 {str((rec.provenance or {}).get('data_hash', ''))[:16]} · "
               f"run {(rec.provenance or {}).get('created_utc', '')}",
    )
    if rec.kind != "run":
        doc.footer = f"{rec.name} · {rec.config.get('data', '')}"
    return doc

