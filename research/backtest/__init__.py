"""Backtesting: target weights -> a vectorbt portfolio with honest timing and costs, and its benchmarks."""

from research.backtest.benchmarks import benchmark_results, benchmark_returns
from research.backtest.config import ExecutionConfig
from research.backtest.engine import BacktestResult, backtest
from research.backtest.portfolio import CarryPortfolio

__all__ = [
    "BacktestResult",
    "CarryPortfolio",
    "ExecutionConfig",
    "backtest",
    "benchmark_results",
    "benchmark_returns",
]
