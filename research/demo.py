"""`flowbt demo`: every registered strategy on the synthetic market, one tear sheet each, and an index page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from research.cli import SUMMARY_COLUMNS, format_table
from research.run import load_data, run_strategy


def run_demo(out: Path, *, data_spec: str = "synthetic", pdf: bool = True) -> list[dict[str, Any]]:
    """Run every strategy into `out/<name>/`, write `out/index.html`, print and return the summary rows."""
    import strategies

    data = load_data(data_spec)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    reg = strategies.registry()
    for i, (name, strat) in enumerate(reg.items(), 1):
        print(f"[{i}/{len(reg)}] {name} ...", flush=True)
        missing = strat.missing_data(data)
        if missing:
            print(f"    skipped: {data.name} lacks {missing}")
            continue
        res = run_strategy(strat, data, out=out / name, pdf=pdf)
        rows.append({"strategy": name, "hypothesis": strat.hypothesis, **res.metrics})
    write_index(out, rows, data.name, data.synthetic)
    print()
    print(format_table(rows, SUMMARY_COLUMNS))
    print(f"\nindex: {out / 'index.html'}")
    return rows


def write_index(out: Path, rows: list[dict[str, Any]], data_name: str, synthetic: bool) -> Path:
    """A self-contained page linking each strategy's tear sheet, with the summary table."""
    def pct(v: float) -> str:
        return "n/a" if v is None or v != v else f"{v:+.2%}"

    def num(v: float) -> str:
        return "n/a" if v is None or v != v else f"{v:.2f}"

    body = "\n".join(
        f"<tr><td><a href='{html.escape(r['strategy'])}/tearsheet.html'>{html.escape(r['strategy'])}</a></td>"
        f"<td>{html.escape(r['hypothesis'])}</td><td>{pct(r['cagr'])}</td><td>{pct(r['volatility'])}</td>"
        f"<td>{num(r['sharpe'])}</td><td>{pct(r['max_drawdown'])}</td><td>{num(r['turnover'])}</td></tr>"
        for r in rows
    )
    banner = ("<p class='banner'>SYNTHETIC DATA — planted mechanisms, not market history.</p>"
              if synthetic else "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowbt demo</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
.banner{{background:#fff3cd;border:1px solid #e0b000;padding:6px}}</style></head>
<body><h1>flowbt demo</h1>{banner}<p>Data: {html.escape(data_name)}</p>
<table><thead><tr><th>strategy</th><th>hypothesis</th><th>CAGR</th><th>volatility</th><th>Sharpe</th>
<th>max drawdown</th><th>turnover</th></tr></thead><tbody>
{body}
</tbody></table></body></html>
"""
    path = out / "index.html"
    path.write_text(page)
    return path
