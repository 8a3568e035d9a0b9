"""What the command line prints: plain fixed-width tables (no pandas, so `flowbt` starts fast).

Shared by the `flowbt` commands and `flowbt demo`'s summary, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The terminal summary's columns (keys of `research.report.summary.run_summary`) and their headers: every table
#: says what it compares (period, data, benchmark) and judges the active return against the own benchmark.
SUMMARY_COLUMNS = ("period", "years", "benchmark", "cagr", "volatility", "sharpe", "max_drawdown", "active_return",
                   "active_ir", "warm_up_sessions")
_HEADERS = {"cagr": "CAGR", "sharpe": "Sharpe", "volatility": "vol", "max_drawdown": "max DD", "active_return": "active/yr",
            "active_ir": "IR (own bench)", "warm_up_sessions": "warm-up"}


def format_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain fixed-width table: percentages for return-like columns, text as given, a session count whole."""
    pct = {"cagr", "volatility", "max_drawdown", "total_return", "active_return"}
    head = ["strategy", *(_HEADERS.get(c, c) for c in columns)]
    body = []
    for r in rows:
        cells = [str(r["strategy"]) + (" *" if r.get("short_history") else "")]
        for c in columns:
            v = r.get(c)
            if isinstance(v, str):
                cells.append(v)
            elif v is None or v != v:
                cells.append("n/a")
            elif c in pct:
                cells.append(f"{v:+.2%}")
            elif c == "years":
                cells.append(f"{v:.1f}")
            elif isinstance(v, int):
                cells.append(f"{v:,}")
            else:
                cells.append(f"{v:.2f}")
        body.append(cells)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 or head[i] in ("period", "benchmark") else f"{{:>{w}}}"
                    for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*b) for b in body]
    return "\n".join(lines)


def format_summary(rows: list[dict[str, Any]]) -> str:
    """`run_summary` rows as terminal tables, one per group of `research.report.summary.grouped` (synthetic and
    real data apart; a history shorter than three years flagged and not ranked), each titled with its data."""
    from research.report.summary import grouped

    parts = []
    for title, group in grouped(rows):
        names = ", ".join(dict.fromkeys(str(r.get("data", "")) for r in group))
        parts.append(f"{title} — {names}\n{format_table(group, SUMMARY_COLUMNS)}")
    if any(r.get("short_history") for r in rows):
        parts.append("* history shorter than 3 years: too short to rank with the others")
    parts.append("Metrics from each run's first fill (warm-up: sessions before it, holding nothing); active and IR "
                 "against the strategy's own benchmark.")
    return "\n\n".join(parts)
