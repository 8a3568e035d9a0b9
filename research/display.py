"""How runs, sweeps and market data show in a notebook (`_repr_html_`) and at a prompt (`__repr__`).

The HTML is a compact card: a title, the data and period, headline numbers, and a small equity figure drawn as an
inline SVG (no matplotlib: a repr must be fast). Its styles are scoped to the card's own container (a unique
id), so showing one restyles nothing else in the notebook. The text reprs are one or two lines: the frames are
one attribute away, and printing 10,000 characters of them helps no one.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

_CSS = """
{s}{{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2430;
 border:1px solid #e2e6eb;border-radius:8px;padding:10px 14px;max-width:860px;background:#fff;box-sizing:border-box}}
{s} .t{{font-size:15px;font-weight:650;margin:0}}
{s} .s{{color:#5b6675;margin:1px 0 8px}}
{s} .syn{{background:#fde8c8;color:#7a3e00;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600}}
{s} .row{{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}}
{s} .k{{display:grid;grid-template-columns:repeat(3,minmax(92px,1fr));gap:6px;flex:1 1 300px}}
{s} .k div{{border:1px solid #e2e6eb;border-radius:5px;padding:4px 8px;background:#fbfcfd}}
{s} .k b{{display:block;font-size:16px;font-variant-numeric:tabular-nums}}
{s} .k span{{font-size:10.5px;color:#5b6675;text-transform:uppercase;letter-spacing:.03em}}
{s} .neg{{color:#a12d22}}
{s} svg{{flex:0 0 auto}}
{s} table{{border-collapse:collapse;font-size:12px;margin:8px 0 2px;font-variant-numeric:tabular-nums}}
{s} th,{s} td{{border-bottom:1px solid #e2e6eb;padding:2px 8px;text-align:right;white-space:nowrap}}
{s} th{{color:#5b6675;font-weight:600}} {s} td.l,{s} th.l{{text-align:left}}
{s} .m{{color:#5b6675;font-size:11.5px;margin:6px 0 0}}
{s} .x{{overflow-x:auto;max-width:100%}}
"""


def card(title: str, subtitle: str, body: str, synthetic: bool = False) -> str:
    """A container with its own id and styles that apply inside it only."""
    sid = f"flowbt-{uuid.uuid4().hex[:10]}"
    tag = " <span class='syn'>SYNTHETIC DATA</span>" if synthetic else ""
    return (f"<div id='{sid}'><style>{_CSS.format(s='#' + sid)}</style>"
            f"<p class='t'>{html.escape(title)}{tag}</p><p class='s'>{html.escape(subtitle)}</p>{body}</div>")


def _fmt(v: Any, kind: str = "num") -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    if not np.isfinite(x):
        return "n/a"
    return f"{x:+.1%}" if kind == "pct" else f"{x:.2f}"


def tiles(items: Iterable[tuple[str, Any, str]]) -> str:
    """Headline numbers as small tiles: (label, value, 'pct' or 'num')."""
    cells = []
    for label, v, kind in items:
        neg = " class='neg'" if isinstance(v, int | float) and np.isfinite(v) and v < 0 else ""
        cells.append(f"<div><span>{html.escape(label)}</span><b{neg}>{_fmt(v, kind)}</b></div>")
    return f"<div class='k'>{''.join(cells)}</div>"


def sparkline(series: Sequence[tuple[str, pd.Series, str]], width: int = 260, height: int = 96) -> str:
    """Growth of 1 on a log scale, one polyline per (label, daily returns, colour), as inline SVG."""
    curves = []
    for label, r, color in series:
        w = np.log((1 + r.dropna().astype(float)).cumprod().to_numpy())
        if len(w) > 1:
            step = max(1, len(w) // width)  # at most one point per pixel
            curves.append((label, w[::step], color))
    if not curves:
        return ""
    lo = min(float(c[1].min()) for c in curves)
    hi = max(float(c[1].max()) for c in curves)
    span = hi - lo or 1.0
    pad = 4
    lines, legend = [], []
    for i, (label, w, color) in enumerate(curves):
        xs = np.linspace(pad, width - pad, len(w))
        ys = height - 14 - (w - lo) / span * (height - 14 - 2 * pad) - pad
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        lines.append(f"<polyline fill='none' stroke='{color}' stroke-width='{1.6 if i == 0 else 1}' points='{pts}'/>")
        legend.append(f"<tspan fill='{color}'>{html.escape(label)} {np.exp(w[-1]):.2f}x</tspan>")
    text = f"<text x='{pad}' y='{height - 2}' font-size='10'>{'  '.join(legend)}</text>"
    return (f"<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
            f"aria-label='growth of 1, log scale'>{''.join(lines)}{text}</svg>")


def _period(index: pd.Index) -> str:
    if not len(index):
        return "no sessions"
    return f"{pd.Timestamp(index[0]).date()} to {pd.Timestamp(index[-1]).date()} ({len(index):,} sessions)"


# --------------------------------------------------------------------------------------------------------------
# Run


def run_text(run: Any) -> str:
    m = run.metrics
    params = ", ".join(f"{k}={v}" for k, v in run.params.items())
    start, end = run.period
    return (f"<Run {run.name} on {run.data.name}, {start.date()} to {end.date()}: Sharpe {_fmt(m.get('sharpe'))}, "
            f"CAGR {_fmt(m.get('cagr'), 'pct')}, max drawdown {_fmt(m.get('max_drawdown'), 'pct')} | {params}>")


def run_html(run: Any) -> str:
    from research.report.summary import run_summary

    m = run_summary(run.record())  # from the first fill, against the strategy's own benchmark
    r = run.result.returns.dropna()
    curves = [(run.name, r, "#1f4e79")]
    if "SPY" in run.benchmarks:
        curves.append(("SPY", run.benchmarks["SPY"].reindex(r.index), "#9aa5b1"))
    kpis = tiles([("CAGR", m.get("cagr"), "pct"), ("Sharpe", m.get("sharpe"), "num"),
                  ("Max drawdown", m.get("max_drawdown"), "pct"), ("Volatility", m.get("volatility"), "pct"),
                  (f"Active vs {m['benchmark']}", m.get("active_return"), "pct"),
                  (f"IR vs {m['benchmark']}", m.get("active_ir"), "num")])
    body = f"<div class='row'>{kpis}{sparkline(curves)}</div>"
    params = ", ".join(f"{k}={v}" for k, v in run.params.items()) or "defaults"
    body += (f"<p class='m'>{html.escape(run.strategy.mode)} · {html.escape(params)} · "
             f"{html.escape(run.config.describe())}</p>"
             "<p class='m'>.returns .weights .trades .benchmarks .metrics .portfolio · .tearsheet(path) · "
             ".save(folder)</p>")
    warm = f" · metrics from the first fill {m['first_fill']}" if m.get("first_fill") else ""
    return card(f"Run: {run.name}", f"{run.data.name} · {_period(r.index)}{warm}", body, run.data.synthetic)


# --------------------------------------------------------------------------------------------------------------
# Sweep


def sweep_text(res: Any) -> str:
    best = res.table.iloc[0] if len(res.table) else None
    score = f", best {res.score} {_fmt(best[res.score])}" if best is not None else ""
    return (f"<SweepResult {res.strategy}: {res.n_configs:,} configs on {res.data_name} in {res.seconds:.1f} s "
            f"({res.kind}){score}>")


def sweep_html(res: Any, top: int = 8) -> str:
    t = res.table
    every = list(t.attrs.get("params", []))
    params = [p for p in every if p in res.varied] or every
    fixed = ", ".join(f"{p}={t[p].iloc[0]}" for p in every if p not in params) if len(t) else ""
    shown = [c for c in (res.score, "sharpe", "cagr", "max_drawdown", "turnover") if c in t.columns]
    shown = list(dict.fromkeys(shown))
    head = "".join(f"<th class='l'>{html.escape(p)}</th>" for p in params)
    head += "".join(f"<th>{html.escape(c)}</th>" for c in shown)
    rows = []
    for cid, row in t.head(top).iterrows():
        cells = "".join(f"<td class='l'>{html.escape(str(row[p]))}</td>" for p in params)
        cells += "".join(f"<td>{_fmt(row[c], 'pct' if c in ('cagr', 'max_drawdown') else 'num')}</td>"
                         for c in shown)
        rows.append(f"<tr><td class='l'>{cid}</td>{cells}</tr>")
    table = f"<table><thead><tr><th class='l'>config</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    st = res.stats
    verdict = f"<p class='m'>{html.escape(st.statement)}</p>" if st is not None else (
        "<p class='m'>Not judged yet: research.sweep(..., judge=True) or analyse(result) adds DSR, PBO and SPA.</p>")
    curves = []
    if len(t) and res.best in res.returns:
        curves.append((f"best #{res.best}", res.returns[res.best], "#1f4e79"))
        if res.bench is not None:
            curves.append((str(res.benchmark), res.bench, "#9aa5b1"))
    sub = (f"{res.data_name} · {res.n_configs:,} configs ({res.kind}, {res.executor}) in {res.seconds:.1f} s · "
           f"ranked by {res.score}" + (f" against {res.benchmark}" if res.benchmark else ""))
    fixed_line = f"<p class='m'>fixed: {html.escape(fixed)}</p>" if fixed else ""
    body = f"<div class='row'><div class='x'>{table}</div>{sparkline(curves)}</div>{fixed_line}{verdict}"
    return card(f"Sweep: {res.strategy}", sub, body, res.data_name.startswith("synthetic"))


# --------------------------------------------------------------------------------------------------------------
# MarketData


def market_text(data: Any) -> str:
    idx = data.index
    span = f"{idx[0].date()} to {idx[-1].date()}" if len(idx) else "no sessions"
    n_metrics = data.panel["metric"].nunique() if "metric" in data.panel else 0
    return (f"<MarketData {data.name}: {len(data.prices.close.columns)} tickers, {span}, "
            f"{len(data.panel):,} panel rows ({n_metrics} metrics){' [synthetic]' if data.synthetic else ''}>")


def market_html(data: Any) -> str:
    close = data.prices.close
    panel = data.panel
    rows = []
    if len(panel):
        g = panel.groupby("metric")
        summary = pd.DataFrame({"entities": g["entity"].nunique(), "rows": g.size(), "from": g["as_of"].min(),
                                "to": g["as_of"].max()})
        for metric, row in summary.iterrows():
            rows.append(f"<tr><td class='l'>{html.escape(str(metric))}</td><td>{row['entities']}</td>"
                        f"<td>{row['rows']:,}</td><td>{pd.Timestamp(row['from']).date()}</td>"
                        f"<td>{pd.Timestamp(row['to']).date()}</td></tr>")
    table = ("<table><thead><tr><th class='l'>panel metric</th><th>entities</th><th>rows</th><th>from</th>"
             f"<th>to</th></tr></thead><tbody>{''.join(rows)}</tbody></table>") if rows else (
             "<p class='m'>No point-in-time panel (prices only).</p>")
    curves = [("SPY", close["SPY"].pct_change(fill_method=None), "#9aa5b1")] if "SPY" in close else []
    tickers = ", ".join(map(str, close.columns))
    body = (f"<div class='row'><div class='x'>{table}</div>{sparkline(curves)}</div>"
            f"<p class='m'>prices: {html.escape(tickers)} · .prices .panel .flow(metric) .truth</p>")
    return card(f"MarketData: {data.name}", _period(data.index), body, data.synthetic)
