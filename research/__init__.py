"""flowbt: backtesting research framework for hedge-fund flow and positioning signals on US sector ETFs.

The public API (each name imported on first use, so `import research` stays cheap):

    research.strategies()                                 the registered strategies, their modes and hypotheses
    research.load(spec)                                   market data: "synthetic", "synthetic:seed=3,ic=0",
                                                          "yfinance:SPY,XLK" (the price cache), a directory
    research.run(strategy, data="synthetic", **params)    a Run in memory: metrics, returns, weights, trades,
                                                          benchmarks, .portfolio, .tearsheet(path), .save(folder)
    research.sweep(strategy, data="synthetic", grid=None) a SweepResult: ranked configs, DSR / PBO / bootstrap
    research.tearsheet(x, benchmark=None, out=None)       x: a Run, a run folder, a returns Series, a vbt.Portfolio
    research.compare(runs, out=None)                      the comparison sheet of several runs

The command line (`flowbt`, `python -m research`) is built on the same functions.
"""

from __future__ import annotations

from typing import Any

from research import _numba

_numba.set_default_cache_dir()  # before numba is imported: one kernel cache for `make` and an activated venv
_numba.announce_compiles()


def _version() -> str:
    """The installed distribution's version (package metadata); '0+unknown' when flowbt is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowbt")
    except PackageNotFoundError:
        return "0+unknown"


#: Public name -> (module, attribute; None for the module itself, which is callable).
_API: dict[str, tuple[str, str | None]] = {
    "load": ("research.run", "load_data"),
    "strategies": ("research.run", "strategy_table"),
    "run": ("research.run", None),
    "sweep": ("research.sweep", None),
    "tearsheet": ("research.report.sheets", "tearsheet"),
    "compare": ("research.report.sheets", "compare"),
    "Run": ("research.run", "Run"),
    "TearSheet": ("research.report.sheets", "TearSheet"),
    "SweepResult": ("research.sweep.runner", "SweepResult"),
    "MarketData": ("research.data.market", "MarketData"),
}
__all__ = ["MarketData", "Run", "SweepResult", "TearSheet", "compare", "load", "run", "strategies", "sweep",
           "tearsheet"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = v = _version()
        return v
    if name in _API:
        import importlib

        module, attr = _API[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def brief(*args: Any, **kwargs: Any) -> Any:
    """The weekly flow brief: `research.weekly.brief` (imported on first use, so `import research` stays light)."""
    from research.weekly import brief as _brief

    return _brief(*args, **kwargs)
