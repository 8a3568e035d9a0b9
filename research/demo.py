"""`flowbt demo`: every registered strategy, one tear sheet each, an index page and a summary table.

Strategies run on the embedded synthetic market; those that need real positioning data (CFTC) run on the real-data
directory when it is there (default ../shared/data), and are listed as skipped, with the reason, when it is not.
Strategies tagged ``history`` (the most-short books: real GVIP and FINRA baskets, FINRA sector short interest) run
on both: a second row, labelled real data, with its tear sheet in ``<name>_real/``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from research.console import format_summary
from research.data.market import MarketData
from research.logs import get_logger
from research.report.load import load_run
from research.report.summary import MIN_YEARS, grouped, run_summary
from research.run import load_data, run_strategy

log = get_logger(__name__)

DEFAULT_REAL = Path("../shared/data")


def run_demo(out: Path, *, data_spec: str = "synthetic", real: Path | None = DEFAULT_REAL,
             pdf: bool = True) -> list[dict[str, Any]]:
    """Run every strategy into `out/<name>/`, write `out/index.html`, print and return the summary rows."""
    import research.registry as strategies

    data = load_data(data_spec)
    real_data: MarketData | None = None
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    reg = strategies.registry()
    for i, (name, strat) in enumerate(reg.items(), 1):
        log.info("[%d/%d] %s ...", i, len(reg), name)
        use = data
        if strat.missing_data(data):
            if real is not None and Path(real).is_dir():
                real_data = real_data or load_data(Path(real))
                use = real_data
            if strat.missing_data(use):
                reason = f"{use.name} lacks {strat.missing_data(use)}"
                log.warning("%s skipped: %s", name, reason)
                rows.append({"strategy": name, "hypothesis": strat.hypothesis, "data": use.name, "skipped": reason})
                continue
        res = run_strategy(strat, use, out=out / name, pdf=pdf)
        rows.append({**run_summary(load_run(res.folder)), "hypothesis": strat.hypothesis})
        if "history" in strat.tags and use is data and real is not None and Path(real).is_dir():
            real_data = real_data or load_data(Path(real))
            if not strat.missing_data(real_data):
                print(f"    ... and on {real_data.name}", flush=True)
                res = run_strategy(strat, real_data, out=out / f"{name}_real", pdf=pdf)
                rows.append({**run_summary(load_run(res.folder)), "folder": f"{name}_real",
                             "hypothesis": strat.hypothesis})
    write_index(out, rows, data.name)
    print()
    print(format_summary([r for r in rows if "skipped" not in r]))
    print(f"\nindex: {out / 'index.html'}")
    return rows


#: The index's columns after strategy, hypothesis and data: (key of `run_summary`, header, format).
INDEX_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("period", "period from the first fill", "text"), ("years", "years", "years"),
    ("benchmark", "own benchmark", "text"), ("cagr", "CAGR", "pct"), ("volatility", "volatility", "pct"),
    ("sharpe", "Sharpe", "num"), ("max_drawdown", "max drawdown", "pct"), ("active_return", "active return/yr", "pct"),
    ("active_ir", "information ratio vs own benchmark", "num"), ("warm_up_sessions", "warm-up (sessions)", "int"),
    ("turnover", "turnover", "num"),
)


def _cell(v: Any, kind: str) -> str:
    if isinstance(v, str):
        return html.escape(v)
    if v is None or v != v:
        return "n/a"
    return {"pct": f"{v:+.2%}", "years": f"{v:.1f}", "int": f"{int(v):,}"}.get(kind, f"{v:.2f}")


def write_index(out: Path, rows: list[dict[str, Any]], data_name: str) -> Path:
    """A self-contained page linking each strategy's tear sheet, with the summary table: synthetic and real rows
    in separate groups, each ranked by the information ratio against the own benchmark; histories shorter than
    `MIN_YEARS` flagged in groups of their own, unranked; skipped strategies last, with the reason."""
    ncols = 2 + len(INDEX_COLUMNS)

    def row(r: dict[str, Any]) -> str:
        name = html.escape(r["strategy"])
        folder = html.escape(r.get("folder", r["strategy"]))
        hyp = f"<div class='hyp'>{html.escape(r['hypothesis'])}</div>"
        if "skipped" in r:
            return (f"<tr class='skip'><td>{name}{hyp}</td>"
                    f"<td colspan='{ncols - 1}'>skipped: {html.escape(r['skipped'])}</td></tr>")
        tag = " <span class='syn'>synthetic</span>" if r.get("synthetic") else " <span class='real'>real data</span>"
        short = (f" <span class='short'>short history (&lt; {MIN_YEARS:g} years)</span>"
                 if r.get("short_history") else "")
        cells = "".join(f"<td class='{'txt' if kind == 'text' else 'num'}'>{_cell(r.get(k), kind)}</td>"
                        for k, _, kind in INDEX_COLUMNS)
        cls = " class='shortrow'" if short else ""
        return (f"<tr{cls}><td><a href='{folder}/tearsheet.html'>{name}</a> "
                f"(<a href='{folder}/tearsheet.pdf'>pdf</a>){short}{hyp}</td>"
                f"<td>{html.escape(r['data'])}{tag}</td>{cells}</tr>")

    body = []
    for title, group in grouped(rows):
        body.append(f"<tbody><tr class='group'><th colspan='{ncols}'>{html.escape(title)}</th></tr>"
                    + "".join(row(r) for r in group) + "</tbody>")
    skipped = [r for r in rows if "skipped" in r]
    if skipped:
        body.append(f"<tbody><tr class='group'><th colspan='{ncols}'>skipped</th></tr>"
                    + "".join(row(r) for r in skipped) + "</tbody>")
    heads = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in INDEX_COLUMNS)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowbt demo</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left}}
td.num{{text-align:right;white-space:nowrap}} td.txt{{white-space:nowrap}} .skip{{color:#888}}
.shortrow{{color:#666}} .hyp{{color:#666;font-size:12px;max-width:420px;margin-top:2px}}
tr.group th{{background:#f3f3f3;padding-top:12px}}
.banner{{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}}
.syn{{background:#fff3cd;border-radius:3px;padding:0 4px;font-size:11px}}
.real{{background:#d1e7dd;border-radius:3px;padding:0 4px;font-size:11px}}
.short{{background:#f8d7da;border-radius:3px;padding:0 4px;font-size:11px}}</style></head>
<body><h1>flowbt demo</h1>
<p class='banner'>Rows marked <b>synthetic</b> ran on {html.escape(data_name)}: a simulated market with planted,
documented mechanisms — not market history. Rows marked <b>real data</b> ran on market history: real ETF prices,
CFTC positioning, 13F, FINRA short interest and the real GVIP and most-short baskets. The two are never ranked
together.</p>
<p>Every number starts at the run's first fill (the warm-up before it, holding nothing, is counted apart). The
active return and the information ratio are against each strategy's own benchmark: the equal-weight sectors for
sector books, SPY times the average exposure for timing books, zero for dollar-neutral books. A history shorter than
{MIN_YEARS:g} years is flagged and not ranked: too short to tell skill from luck.</p>
<table><thead><tr><th>strategy and hypothesis</th><th>data</th>{heads}</tr></thead>
{chr(10).join(body)}
</table></body></html>
"""
    path = out / "index.html"
    path.write_text(page)
    return path
