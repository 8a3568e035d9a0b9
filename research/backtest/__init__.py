"""Backtesting: target weights -> a vectorbt portfolio with honest timing and costs, and its benchmarks.

`CarryPortfolio` is imported on first use (it imports vectorbt, ~3 s), so a run that never asks for the
vectorbt portfolio does not pay for it.
"""

from __future__ import annotations

from typing import Any

from research.backtest.benchmarks import benchmark_results, benchmark_returns
from research.backtest.config import ExecutionConfig
from research.backtest.engine import BacktestResult, backtest

__all__ = [
    "BacktestResult",
    "CarryPortfolio",
    "ExecutionConfig",
    "backtest",
    "benchmark_results",
    "benchmark_returns",
]


def __getattr__(name: str) -> Any:
    if name == "CarryPortfolio":
        from research.backtest.portfolio import CarryPortfolio

        return CarryPortfolio
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
