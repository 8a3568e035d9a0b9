"""The strategy registry: every `Strategy` named `STRATEGY` in the modules of the strategy packages, plus those
registered at run time.

The framework knows its strategy packages by *name* only (`packages`, default the shipped `strategies`): they are
imported on first use with importlib, so no framework module imports a strategy, and a team can add its own
package (`set_packages(["strategies", "our_strategies"])`) without touching the framework. Modules whose name
starts with "_" are skipped; adding a strategy is adding a file. Notebooks `register` a Strategy object without
writing a file.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Sequence
from functools import lru_cache

from research.errors import ConfigError
from research.strategy import Strategy

#: The package of the strategies shipped with flowbt (the hand-written sweep plans are written for its modules).
SHIPPED = "strategies"

_PACKAGES: list[str] = [SHIPPED]
_EXTRA: dict[str, Strategy] = {}


def packages() -> tuple[str, ...]:
    """The packages searched for strategy modules, in order."""
    return tuple(_PACKAGES)


def set_packages(names: Sequence[str]) -> None:
    """Search these packages (importable names, in order) for strategy modules instead; clears the cache."""
    if isinstance(names, str):
        names = [names]
    _PACKAGES[:] = list(names)
    _discovered.cache_clear()


def _discover(package: str) -> dict[str, Strategy]:
    """The `STRATEGY` of each public module of `package`, by strategy name."""
    try:
        pkg = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name != package:
            raise
        raise ConfigError(f"strategy package {package!r} is not importable; install it or put it on the path "
                          f"(strategy packages: {', '.join(_PACKAGES)}).") from None
    out: dict[str, Strategy] = {}
    for info in sorted(pkgutil.iter_modules(getattr(pkg, "__path__", [])), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        strategy = getattr(module, "STRATEGY", None)
        if isinstance(strategy, Strategy):
            out[strategy.name] = strategy
    return out


@lru_cache(maxsize=1)
def _discovered() -> dict[str, Strategy]:
    out: dict[str, Strategy] = {}
    where: dict[str, str] = {}
    for package in _PACKAGES:
        for name, strategy in _discover(package).items():
            if name in out:
                raise ConfigError(f"two strategies are named {name!r}: in {where[name]} and in {package}; "
                                  "rename one.")
            out[name], where[name] = strategy, package
    return out


def registry() -> dict[str, Strategy]:
    """Every registered strategy by name: the modules of the strategy packages, then those registered at run
    time."""
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
    """Remove a strategy registered at run time (the modules of the strategy packages stay)."""
    _EXTRA.pop(name, None)


def is_shipped(strategy: Strategy) -> bool:
    """True for the strategy of the shipped package's module of the same name itself (not another object that
    reuses its name, such as a notebook's variant)."""
    return getattr(strategy.weights, "__module__", None) == f"{SHIPPED}.{strategy.name}"
