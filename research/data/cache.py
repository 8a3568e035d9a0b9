"""On-disk cache of deterministic, expensive values: the NYSE session table, the synthetic market, and the
tear sheet's bootstrap intervals.

Why: a `flowbt run` on the synthetic market spends about a second building the same inputs every time (the NYSE
calendar's holiday rules, ~0.5 s; the market itself, ~0.5 s), and a run should take a few seconds. They are
pure functions of their arguments, this code and the libraries, so they are built once and read back (~0.05 s).
The same holds for a bootstrap interval, a function of the returns' bytes (`report.tearsheet.sharpe_ci`).

Correctness. An entry's key is a SHA-256 of the arguments, of the source of every module that shapes the value
(`fingerprint`: a code change is a new key, never a stale hit) and of the versions of Python, NumPy, pandas,
numba, pyarrow and exchange-calendars. Entries are pickles written atomically (temporary file, then rename);
an unreadable entry is rebuilt. Each kind keeps its most recently used entries only (`keep`).

Where: `$FLOWBT_CACHE/data` if FLOWBT_CACHE is set (the root of every flowbt cache, as for Yahoo prices), else
`~/.cache/flowbt/data`. FLOWBT_NO_CACHE=1 turns it off (everything is then built in process).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_LIBS = ("numpy", "pandas", "numba", "pyarrow", "exchange-calendars")
_ROOT = Path(__file__).resolve().parents[2]  # the checkout: module names are relative to it


def cache_dir() -> Path:
    """`$FLOWBT_CACHE/data`, else `~/.cache/flowbt/data`."""
    root = os.environ.get("FLOWBT_CACHE")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "flowbt") / "data"


def enabled() -> bool:
    """False when FLOWBT_NO_CACHE is 1 / true / yes; unset, empty, 0 / false / no keep the cache on."""
    value = os.environ.get("FLOWBT_NO_CACHE", "").strip().lower()
    if value in ("", "0", "false", "no"):
        return True
    if value in ("1", "true", "yes"):
        return False
    from research.errors import ConfigError

    raise ConfigError(f"FLOWBT_NO_CACHE must be 1 (no on-disk cache) or 0, got {value!r}.")


@cache
def _versions() -> str:
    out = [platform.python_version(), platform.machine()]  # BLAS results may differ across CPUs
    for name in _LIBS:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=none")
    return ";".join(out)


@cache
def fingerprint(modules: tuple[str, ...]) -> str:
    """SHA-256 of the source files of `modules` (dotted names under the checkout) and the library versions."""
    h = hashlib.sha256(_versions().encode())
    for mod in modules:
        path = _ROOT.joinpath(*mod.split(".")).with_suffix(".py")
        h.update(mod.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cached(kind: str, key: Iterable[Any], modules: tuple[str, ...], build: Callable[[], T], keep: int = 8) -> T:
    """`build()`, read from the cache when an entry for (kind, key, the modules' fingerprint) exists, else built
    and stored. `key` must have a stable repr (numbers, strings, timestamps, tuples of them)."""
    if not enabled():
        return build()
    digest = hashlib.sha256(repr((kind, tuple(key), fingerprint(modules))).encode()).hexdigest()[:40]
    folder = cache_dir()
    path = folder / f"{kind}-{digest}.pkl"
    try:
        with path.open("rb") as fh:
            value = pickle.load(fh)
    except FileNotFoundError:
        pass
    except Exception:  # a truncated or foreign file: rebuild it
        _quietly(path.unlink, missing_ok=True)
    else:
        _quietly(os.utime, path)  # most recently used (a read-only cache is still read)
        return value
    value = build()
    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{kind}-", delete=False) as tmp:
            tmp_name = tmp.name
            pickle.dump(value, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp_name, path)
        tmp_name = None
        _evict(folder, kind, keep)
    except Exception:  # a read-only or full disk, an unpicklable value: costs speed, never the result
        pass
    finally:
        if tmp_name is not None:  # no half-written entry left behind
            _quietly(os.unlink, tmp_name)
    return value


def _quietly(fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
    """fn(*args, **kw), ignoring an OSError (a read-only or vanished cache entry)."""
    try:
        fn(*args, **kw)
    except OSError:
        pass


def _evict(folder: Path, kind: str, keep: int) -> None:
    """Delete all but the `keep` most recently used entries of `kind`."""
    entries = sorted(folder.glob(f"{kind}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
