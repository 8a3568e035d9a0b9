"""What the command line prints: plain fixed-width tables (no pandas, so `flowbt` starts fast).

Shared by the `flowbt` commands and `flowbt demo`'s summary, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The headline columns of a run summary, in print order.
SUMMARY_COLUMNS = ("cagr", "volatility", "sharpe", "max_drawdown", "turnover")


def format_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain fixed-width table (percentages for return-like columns)."""
    pct = {"cagr", "volatility", "max_drawdown", "total_return"}
    head = ["strategy", *columns]
    body = []
    for r in rows:
        cells = [str(r["strategy"])]
        for c in columns:
            v = r.get(c)
            if v is None or v != v:
                cells.append("n/a")
            elif c in pct:
                cells.append(f"{v:+.2%}")
            else:
                cells.append(f"{v:.2f}")
        body.append(cells)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*b) for b in body]
    return "\n".join(lines)
