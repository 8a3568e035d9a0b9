"""Analytics: performance metrics, statistical tests of overfitting and luck, and signal diagnostics.

- `metrics`: one function per performance metric on daily returns, and `summary` (the headline numbers).
- `stats`: probabilistic/deflated Sharpe, PBO by CSCV, stationary-bootstrap intervals, SPA / Reality Check.
- `diagnostics`: forward returns, rank IC with Newey-West t-statistics, spreads and decay of a signal.

The names below are imported on first use, so `import research.analytics.metrics` stays light (scipy and
arch load only when a statistical test is called).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "summary": "metrics", "drawdowns": "metrics", "SUMMARY_KEYS": "metrics",
    "probabilistic_sharpe_ratio": "stats", "deflated_sharpe_ratio": "stats", "expected_max_sharpe": "stats",
    "pbo": "stats", "bootstrap_ci": "stats", "spa_test": "stats", "reality_check": "stats",
    "ic_summary": "diagnostics", "signal_diagnostics": "diagnostics",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"research.analytics.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'research.analytics' has no attribute {name!r}")
