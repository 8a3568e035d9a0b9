"""The strategy registry: one module per hypothesis in this package, each defining `STRATEGY`.

Modules are discovered by name, so adding a strategy is adding a file. Notebooks can `register` a Strategy
object at run time without writing a file.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import lru_cache

from research.errors import ConfigError
from research.strategy import Strategy

_EXTRA: dict[str, Strategy] = {}


@lru_cache(maxsize=1)
def _discovered() -> dict[str, Strategy]:
    out: dict[str, Strategy] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        strategy = getattr(module, "STRATEGY", None)
        if isinstance(strategy, Strategy):
            out[strategy.name] = strategy
    return out


def registry() -> dict[str, Strategy]:
    """Every registered strategy by name: the modules of this package, then those registered at run time."""
    return {**_discovered(), **_EXTRA}


def get(name: str) -> Strategy:
    """The strategy called `name`, or a ConfigError that suggests the closest names."""
    reg = registry()
    if name in reg:
        return reg[name]
    close = difflib.get_close_matches(name, reg, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown strategy {name!r}.{hint} `flowbt list` shows them all.")


def register(strategy: Strategy, *, replace: bool = False) -> Strategy:
    """Add a strategy at run time (e.g. from a notebook), so `run`, `sweep` and `regress` see it."""
    if strategy.name in registry() and not replace:
        raise ConfigError(f"a strategy named {strategy.name!r} is already registered; pass replace=True")
    _EXTRA[strategy.name] = strategy
    return strategy


def unregister(name: str) -> None:
    """Remove a strategy registered at run time (modules of this package stay)."""
    _EXTRA.pop(name, None)
