"""Tear sheets: one self-contained HTML file (figures embedded) and a PDF of the same figures, per run.

The tear sheet is built only from the run folder (`load_run`), so `flowbt report RUN_DIR` rebuilds exactly what
`flowbt run` wrote. Sections are plain `Section` objects; the HTML and the PDF render the same list.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from research.analytics import metrics as M
from research.report import figures as F
from research.report.load import RunRecord, load_run

ROLLING = 252  # 52 weeks of sessions

# Headline rows: (key in metrics.json, label, format)
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"), ("volatility", "Volatility", "pct"),
    ("sharpe", "Sharpe", "num"), ("sortino", "Sortino", "num"), ("max_drawdown", "Max drawdown", "pct"),
    ("calmar", "Calmar", "num"), ("hit_rate", "Hit rate", "pct"), ("turnover", "Turnover (x / year)", "num"),
    ("avg_gross", "Average gross", "pct"), ("avg_net", "Average net", "pct"), ("beta", "Beta to SPY", "num"),
    ("alpha", "Alpha (annual)", "pct"), ("information_ratio", "Information ratio", "num"),
    ("tracking_error", "Tracking error", "pct"), ("up_capture", "Up capture", "num"),
    ("down_capture", "Down capture", "num"), ("costs_paid", "Costs paid", "pct"),
)


@dataclass
class Section:
    """One section of the tear sheet: a title, HTML fragments and named figures."""

    key: str
    title: str
    html: list[str] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # plain lines for the PDF's text pages


def fmt(value: Any, kind: str = "num") -> str:
    """Format a metric for humans: percentages, plain numbers, n/a for missing."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value:.2%}" if kind == "pct" else f"{value:.2f}"


def table_html(df: pd.DataFrame, cls: str = "tbl") -> str:
    """A DataFrame as an escaped HTML table."""
    return df.to_html(classes=cls, border=0, escape=True, na_rep="n/a")


def _header(rec: RunRecord) -> Section:
    cfg, prov = rec.config, rec.provenance or {}
    code = prov.get("code", {})
    commit = code.get("commit") or "not a git checkout"
    if code.get("dirty"):
        commit += " (uncommitted changes)"
    rows = [
        ("Hypothesis", cfg.get("hypothesis", "")),
        ("Data", cfg.get("data", "")),
        ("Parameters", ", ".join(f"{k}={v}" for k, v in cfg.get("params", {}).items())),
        ("Execution", cfg.get("execution_text", "")),
        ("Mode", cfg.get("mode", "")),
        ("Period", f"{rec.returns.index[0].date()} to {rec.returns.index[-1].date()} ({len(rec.returns)} sessions)"),
        ("Run", f"{prov.get('created_utc', '')} UTC, {prov.get('seconds', 0):.1f} s"),
        ("Code version", commit),
        ("Input hash", prov.get("data_hash", "")),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in prov.get("libraries", {}).items())),
    ]
    sec = Section("header", rec.name)
    if rec.synthetic:
        sec.html.append("<div class='banner'>SYNTHETIC DATA — a simulated market with planted, documented "
                        "mechanisms. These results are not market history.</div>")
        sec.text.append("*** SYNTHETIC DATA: simulated market with planted mechanisms, not market history ***")
    sec.html.append("<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows) + "</table>")
    sec.text += [f"{k}: {v}" for k, v in rows]
    return sec


def headline_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """Strategy and benchmarks side by side, formatted."""
    cols = {"strategy": metrics, **metrics.get("benchmarks", {})}
    data = {name: [fmt(m.get(key), kind) for key, _, kind in HEADLINE] for name, m in cols.items()}
    return pd.DataFrame(data, index=[label for _, label, _ in HEADLINE])


def _headline(rec: RunRecord) -> Section:
    sec = Section("metrics", "Headline metrics against the benchmarks")
    table = headline_table(rec.metrics)
    sec.html.append(table_html(table))
    sec.text += table.to_string().splitlines()
    return sec


def _performance(rec: RunRecord) -> Section:
    sec = Section("performance", "Performance and drawdowns")
    sec.figures.append(("equity", F.equity_curve(rec.returns, rec.benchmarks, rec.name)))
    sec.figures.append(("underwater", F.underwater(rec.returns)))
    dd = M.drawdowns(rec.returns, top=5)
    sec.html.append("<h3>Five worst drawdowns</h3>" + table_html(dd))
    sec.text += ["Five worst drawdowns:", *dd.to_string().splitlines()]
    return sec


def _rolling(rec: RunRecord) -> Section:
    sec = Section("rolling", "Rolling risk, monthly and annual returns")
    spy = rec.benchmarks["SPY"] if "SPY" in rec.benchmarks else None
    beta = M.rolling_beta(rec.returns, spy, ROLLING) if spy is not None else None
    sec.figures.append(("rolling", F.rolling_panel(M.rolling_sharpe(rec.returns, ROLLING),
                                                   M.rolling_volatility(rec.returns, ROLLING), beta)))
    sec.figures.append(("monthly", F.monthly_heatmap(M.monthly_returns(rec.returns))))
    bench_annual = M.annual_returns(spy).rename("SPY") if spy is not None else None
    sec.figures.append(("annual", F.annual_bars(M.annual_returns(rec.returns), bench_annual)))
    return sec


def _positioning(rec: RunRecord) -> Section:
    sec = Section("positioning", "Positioning")
    sec.figures.append(("weights", F.weights_area(rec.weights)))
    sec.figures.append(("exposure", F.exposure_turnover(rec.gross, rec.net, rec.turnover)))
    return sec


def _provenance(rec: RunRecord) -> Section:
    sec = Section("provenance", "Data provenance")
    if not rec.sources.empty:
        sec.html.append(table_html(rec.sources))
        sec.text += rec.sources.to_string().splitlines()
    log = (rec.provenance or {}).get("log", [])
    if log:
        sec.html.append("<h3>Run log</h3><ul class='log'>" + "".join(
            f"<li>{html.escape(str(x))}</li>" for x in log) + "</ul>")
        sec.text += ["Run log:", *map(str, log)]
    if rec.truth:
        mech = rec.truth.get("mechanisms", {})
        strengths = rec.truth.get("strengths", {})
        sec.html.append("<h3>Planted mechanisms (synthetic truth)</h3><ul>" + "".join(
            f"<li><b>{html.escape(k)}</b> (strength {strengths.get(k, 'n/a')}): {html.escape(v)}</li>"
            for k, v in mech.items()) + "</ul>")
    return sec


#: Section builders in page order; later issues add theirs here.
BUILDERS = [_header, _headline, _performance, _rolling, _positioning, _provenance]


def build_sections(rec: RunRecord) -> list[Section]:
    return [b(rec) for b in BUILDERS]


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1080px;color:#222}
h1{margin-bottom:4px} h2{border-bottom:2px solid #1f4e79;padding-bottom:3px;margin-top:28px}
.banner{background:#fff3cd;border:2px solid #e0b000;padding:8px 12px;font-weight:bold;margin:10px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:right}
table.kv th{text-align:left;color:#555;white-space:nowrap} table.kv td{text-align:left}
img{max-width:100%;display:block;margin:8px 0}
.fig,table,section h2{break-inside:avoid;page-break-inside:avoid}
ul.log{font-size:12px;color:#444}
@media print{body{margin:0;max-width:none} h2{page-break-after:avoid}}
"""


def render_html(title: str, sections: Iterable[Section], images: dict[str, bytes]) -> str:
    """The whole page: every image inline as a data URI, no external resource."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for sec in sections:
        parts.append(f"<section id='{sec.key}'>")
        if sec.key != "header":
            parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        parts += sec.html
        for name, _ in sec.figures:
            b64 = base64.b64encode(images[name]).decode()
            parts.append(f"<div class='fig'><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    """A text page (header, tables) in a monospace font, split over pages when long."""
    per_page = 70
    for start in range(0, max(len(lines), 1), per_page):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.05, 0.97, title, fontsize=13, fontweight="bold", va="top")
        fig.text(0.05, 0.94, "\n".join(lines[start:start + per_page]), fontsize=6.5, family="monospace", va="top")
        pdf.savefig(fig)
        plt.close(fig)


def write_tearsheet(folder: Path, *, pdf: bool = True) -> Path:
    """Write tearsheet.html (and tearsheet.pdf) and figures/*.png into the run folder; return the HTML path."""
    folder = Path(folder)
    rec = load_run(folder)
    sections = build_sections(rec)
    figdir = folder / "figures"
    figdir.mkdir(exist_ok=True)
    images: dict[str, bytes] = {}
    for i, (name, fig) in enumerate(f for s in sections for f in s.figures):
        images[name] = png_bytes(fig)
        (figdir / f"{i:02d}_{name}.png").write_bytes(images[name])
    title = f"{rec.name} — tear sheet"
    out = folder / "tearsheet.html"
    out.write_text(render_html(title, sections, images))
    if pdf:
        with PdfPages(folder / "tearsheet.pdf") as doc:
            for sec in sections:
                if sec.text:
                    _text_page(doc, title if sec.key == "header" else sec.title, sec.text)
                for _, fig in sec.figures:
                    doc.savefig(fig)
            info = doc.infodict()
            info["Title"] = title
            info["Creator"] = "flowbt"
    for s in sections:
        for _, fig in s.figures:
            plt.close(fig)
    return out


def write_comparison(folders: list[Path], out: Path) -> Path:
    """A comparison sheet: headline metrics side by side, equity curves together, return correlations."""
    recs = [load_run(f) for f in folders]
    names = [f"{r.name} ({r.folder.name})" if [x.name for x in recs].count(r.name) > 1 else r.name for r in recs]
    rets = pd.concat([r.returns.rename(n) for r, n in zip(recs, names, strict=True)], axis=1)
    table = pd.DataFrame({n: [fmt(r.metrics.get(k), kind) for k, _, kind in HEADLINE]
                          for r, n in zip(recs, names, strict=True)}, index=[lab for _, lab, _ in HEADLINE])
    sec = Section("comparison", "Strategies compared")
    sec.html.append(table_html(table))
    sec.figures.append(("equity", F.equity_comparison(rets)))
    sec.figures.append(("correlation", F.correlation_matrix(rets.corr())))
    sec.text += table.to_string().splitlines()
    out.mkdir(parents=True, exist_ok=True)
    images = {name: png_bytes(fig) for name, fig in sec.figures}
    path = out / "comparison.html"
    path.write_text(render_html("Strategy comparison", [sec], images))
    with PdfPages(out / "comparison.pdf") as doc:
        _text_page(doc, "Strategy comparison", sec.text)
        for _, fig in sec.figures:
            doc.savefig(fig)
            plt.close(fig)
    return path
