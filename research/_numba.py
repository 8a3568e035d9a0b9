"""One numba cache for every way flowbt is started, and a notice when kernels compile.

Every kernel is `@njit(cache=True)`: compiled once, then loaded from numba's on-disk cache. Where that cache is
depends on NUMBA_CACHE_DIR, so `make` (which sets it) and an activated venv (which did not) kept two caches, and
the first `flowbt run` after `make demo` recompiled everything (41 s against 7 s warm). `set_default_cache_dir`
gives the package one default, applied when `research` is imported and the user has not set NUMBA_CACHE_DIR:

- in a source checkout (an editable install, `make`): `<checkout>/.numba_cache`, the Makefile's own folder;
- otherwise (an installed wheel): `$FLOWBT_CACHE/numba`, else `~/.cache/flowbt/numba`.

`announce_compiles` logs "compiling numba kernels (first run only, ~20 s)" once per process, when numba first
compiles one of flowbt's kernels (a cache miss: numba fires its `numba:compile` event only then). It must not
import numba itself (`import research` stays cheap), so it waits for numba's import with a one-shot import hook.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

NOTICE = "compiling numba kernels (first run only, ~20 s)"
_OURS = ("research.", "strategies.", "strategies")


def checkout_root() -> Path | None:
    """The source checkout this package runs from (its pyproject.toml names flowbt), or None when installed."""
    root = Path(__file__).resolve().parents[1]
    try:
        text = (root / "pyproject.toml").read_text()
    except OSError:
        return None
    return root if 'name = "flowbt"' in text else None


def default_cache_dir() -> Path:
    """`<checkout>/.numba_cache` in a source checkout, else `$FLOWBT_CACHE/numba` or `~/.cache/flowbt/numba`."""
    root = checkout_root()
    if root is not None:
        return root / ".numba_cache"
    base = os.environ.get("FLOWBT_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "flowbt") / "numba"


def set_default_cache_dir() -> str:
    """Set NUMBA_CACHE_DIR to `default_cache_dir()` unless the user set it; the directory in effect.

    If numba is already imported its config read the environment already, so its CACHE_DIR is set too."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    path = str(default_cache_dir())
    os.environ["NUMBA_CACHE_DIR"] = path
    config = sys.modules.get("numba.core.config")
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = path
    return path


_state: dict[str, Any] = {"registered": False, "announced": False, "depth": 0, "t0": 0.0, "seconds": 0.0}


def compile_seconds() -> float:
    """Seconds this process has spent compiling numba kernels (cache misses) so far, any kernel's: so that
    a sweep can report its own time apart from the first run's compilation."""
    return float(_state["seconds"])


def _on_compile(event: Any) -> None:
    """Time the outermost compilations; log NOTICE when numba starts compiling the first flowbt kernel."""
    import time

    if event.is_start:
        if _state["depth"] == 0:
            _state["t0"] = time.perf_counter()
        _state["depth"] += 1
    else:
        _state["depth"] = max(_state["depth"] - 1, 0)
        if _state["depth"] == 0:
            _state["seconds"] += time.perf_counter() - _state["t0"]
        return
    if _state["announced"]:
        return
    fn = getattr((event.data or {}).get("dispatcher"), "py_func", None)
    if str(getattr(fn, "__module__", "")).startswith(_OURS):
        _state["announced"] = True
        from research.logs import get_logger

        get_logger(__name__).info(NOTICE)


def _register(numba_module: Any = None) -> None:
    if _state["registered"]:
        return
    from numba.core import event

    class _Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            _on_compile(ev)

        def on_end(self, ev: Any) -> None:
            _on_compile(ev)

    event.register("numba:compile", _Listener())
    _state["registered"] = True


class _AfterNumba(importlib.abc.MetaPathFinder):
    """A one-shot import hook: registers the listener right after numba is imported, whoever imports it."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "numba":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("numba")
        if spec is None or spec.loader is None:
            return spec
        loader, run = spec.loader, spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _register(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def announce_compiles() -> None:
    """Log NOTICE on the first compilation of a flowbt kernel in this process (see the module docstring)."""
    if "numba" in sys.modules:
        _register()
        return
    if not any(isinstance(f, _AfterNumba) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterNumba())
