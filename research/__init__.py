"""flowbt: backtesting research framework for hedge-fund flow and positioning signals on US sector ETFs."""

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


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = v = _version()
        return v
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
