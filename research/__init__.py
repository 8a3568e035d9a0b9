"""flowbt: backtesting research framework for hedge-fund flow and positioning signals on US sector ETFs."""

from __future__ import annotations

from typing import Any


def _version() -> str:
    """The installed distribution's version (package metadata); '0+unknown' when flowbt is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flowbt")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = v = _version()
        return v
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
