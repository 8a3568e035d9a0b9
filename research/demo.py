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

from research.console import SUMMARY_COLUMNS, format_table
from research.data.market import MarketData
from research.logs import get_logger
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
        rows.append({"strategy": name, "hypothesis": strat.hypothesis, "data": use.name, **res.metrics})
        if "history" in strat.tags and use is data and real is not None and Path(real).is_dir():
            real_data = real_data or load_data(Path(real))
            if not strat.missing_data(real_data):
                print(f"    ... and on {real_data.name}", flush=True)
                res = run_strategy(strat, real_data, out=out / f"{name}_real", pdf=pdf)
                rows.append({"strategy": name, "folder": f"{name}_real", "hypothesis": strat.hypothesis,
                             "data": real_data.name, **res.metrics})
    write_index(out, rows, data.name)
    print()
    print(format_table([r for r in rows if "skipped" not in r], SUMMARY_COLUMNS))
    print(f"\nindex: {out / 'index.html'}")
    return rows


def write_index(out: Path, rows: list[dict[str, Any]], data_name: str) -> Path:
    """A self-contained page linking each strategy's tear sheet, with the summary table."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None or v != v else f"{v:+.2%}"

    def num(v: float | None) -> str:
        return "n/a" if v is None or v != v else f"{v:.2f}"

    def row(r: dict[str, Any]) -> str:
        name = html.escape(r["strategy"])
        folder = html.escape(r.get("folder", r["strategy"]))
        if "skipped" in r:
            return (f"<tr class='skip'><td>{name}</td><td>{html.escape(r['hypothesis'])}</td>"
                    f"<td colspan='6'>skipped: {html.escape(r['skipped'])}</td></tr>")
        tag = (" <span class='syn'>synthetic</span>" if r["data"].startswith("synthetic")
               else " <span class='real'>real data</span>")
        return (f"<tr><td><a href='{folder}/tearsheet.html'>{name}</a> (<a href='{folder}/tearsheet.pdf'>pdf</a>)</td>"
                f"<td>{html.escape(r['hypothesis'])}</td><td>{html.escape(r['data'])}{tag}</td>"
                f"<td>{pct(r.get('cagr'))}</td><td>{pct(r.get('volatility'))}</td><td>{num(r.get('sharpe'))}</td>"
                f"<td>{pct(r.get('max_drawdown'))}</td><td>{num(r.get('turnover'))}</td></tr>")

    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowbt demo</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}}
table{{border-collapse:collapse;font-size:14px}}td,th{{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left}}
td:nth-child(n+4){{text-align:right}} .skip{{color:#888}}
.banner{{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}}
.syn{{background:#fff3cd;border-radius:3px;padding:0 4px;font-size:11px}}
.real{{background:#d1e7dd;border-radius:3px;padding:0 4px;font-size:11px}}</style></head>
<body><h1>flowbt demo</h1>
<p class='banner'>Rows marked <b>synthetic</b> ran on {html.escape(data_name)}: a simulated market with planted,
documented mechanisms — not market history. Rows marked <b>real data</b> ran on market history: real ETF prices,
CFTC positioning, 13F, FINRA short interest and the real GVIP and most-short baskets.</p>
<table><thead><tr><th>strategy</th><th>hypothesis</th><th>data</th><th>CAGR</th><th>volatility</th><th>Sharpe</th>
<th>max drawdown</th><th>turnover</th></tr></thead><tbody>
{chr(10).join(row(r) for r in rows)}
</tbody></table></body></html>
"""
    path = out / "index.html"
    path.write_text(page)
    return path
