"""On-disk cache of deterministic, expensive values: the NYSE session table, the synthetic market, and the
tear sheet's bootstrap intervals.

Why: a `flowbt run` on the synthetic market spends about a second building the same inputs every time (the NYSE
calendar's holiday rules, ~0.5 s; the market itself, ~0.5 s), and a run should take a few seconds. They are
pure functions of their arguments, this code and the libraries, so they are built once and read back (the
full market in ~0.08 s, the session table in ~0.02 s).
The same holds for a bootstrap interval, a function of the returns' bytes (`report.tearsheet.sharpe_ci`).

Correctness. An entry's key is a SHA-256 of the arguments, of the source of every module that shapes the value
(`fingerprint`: a code change is a new key, never a stale hit) and of the versions of Python, NumPy, pandas,
numba, pyarrow and exchange-calendars. Each kind keeps its most recently used entries only (`keep`).

Data, not code. A cache folder may be shared or restored by CI, so nothing read from it is ever executed: an
entry is a folder holding `manifest.json` (the value's structure as tagged JSON, the entry's key and the
SHA-256 of every file), `arrays.npz` (NumPy arrays, read with `allow_pickle=False`) and one parquet file per
frame, series or index (pyarrow; extension types that would unpickle are off since pyarrow 14.0.1). The value
is rebuilt from those plainly: numbers, strings, timestamps, tuples, lists, dicts, arrays, frames and the
research dataclasses (`MarketData`, `Prices`, `Truth`, ...), whose fields are set without calling any code of
theirs; a manifest naming any other class is refused. Pickle is never used: a `kind-<digest>.pkl` file in the
folder (an older flowbt's entry, or one planted in its place) is deleted unread, with a message. An entry whose manifest or a file's digest
does not match (truncated, edited, a foreign file) is rebuilt with a message. The digests catch corruption, not
a forger who rewrites the manifest too: such a forger can feed wrong numbers, as with any data file, but cannot
run code. A value of another type (a function, say) is returned and not stored.

Writes are atomic: the entry is written to a temporary folder beside it and renamed; a read-only or full disk
costs speed, never the result.

Where: `$FLOWBT_CACHE/data` if FLOWBT_CACHE is set (the root of every flowbt cache, as for Yahoo prices), else
`~/.cache/flowbt/data`. FLOWBT_NO_CACHE=1 turns it off (everything is then built in process).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import logging
import math
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
log = logging.getLogger(__name__)
_LIBS = ("numpy", "pandas", "numba", "pyarrow", "exchange-calendars")
_ROOT = Path(__file__).resolve().parents[2]  # the checkout: module names are relative to it
FORMAT = 1  # of an entry's manifest; another format is a miss
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
_TRUSTED = "research."  # the only package whose dataclasses an entry may name
_NAME = re.compile(r"[A-Za-z0-9_]+-[0-9a-f]{40}")  # an entry (or an older flowbt's pickle): kind-digest
_SCALAR_KINDS = "biufM"  # NumPy scalars kept as their own type
_ARRAY_KINDS = "biufcmMU"  # NumPy arrays npz stores without pickle


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
    entry = folder / f"{kind}-{digest}"
    if entry.is_dir():
        try:
            value = read_entry(entry, digest)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with an entry, it is rebuilt, never trusted
            log.warning("flowbt: cache entry %s is unreadable or altered (%s); rebuilding it", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
        else:
            _quietly(os.utime, entry)  # most recently used (a read-only cache is still read)
            return value
    value = build()
    write_entry(folder, entry, digest, value)
    _evict(folder, kind, keep)
    return value


class CacheEntryError(Exception):
    """An entry that does not hold what its manifest says: rebuilt, never trusted."""


class _Unstorable(Exception):
    """A value the data-only format cannot hold (a function, an object array): it is not stored."""


def write_entry(folder: Path, entry: Path, digest: str, value: Any) -> bool:
    """Store `value` as entry `entry` (a temporary folder beside it, renamed at the end); False if it could
    not be stored (an unsupported type, a read-only or full disk), leaving nothing behind."""
    tmp: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=folder, prefix=f".{entry.name}-")
        enc = _Encoder(Path(tmp))
        tree = enc.encode(value)
        files = enc.finish()
        manifest = {"format": FORMAT, "entry": digest, "files": files, "value": tree}
        Path(tmp, MANIFEST).write_text(json.dumps(manifest, allow_nan=False))
        os.rename(tmp, entry)  # atomic; fails if another process stored the same entry first (then keep theirs)
        tmp = None
        return True
    except (_Unstorable, OSError, ValueError, TypeError):
        return False
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def read_entry(entry: Path, digest: str) -> Any:
    """The value stored in `entry`, after checking its manifest and every file's SHA-256 (CacheEntryError)."""
    manifest = json.loads((entry / MANIFEST).read_text())
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("entry") != digest:
        raise CacheEntryError("its manifest is of another format or entry")
    files = manifest["files"]
    blobs: dict[str, bytes] = {}
    for name, want in files.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise CacheEntryError(f"its manifest names a file outside the entry: {name!r}")
        data = (entry / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != want:
            raise CacheEntryError(f"{name} does not match its SHA-256")
        blobs[name] = data
    return _Decoder(blobs).decode(manifest["value"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Encoder:
    """A value as tagged JSON; arrays gathered into one npz, frames into parquet files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, np.ndarray] = {}
        self.frames: list[str] = []

    def finish(self) -> dict[str, str]:
        names = list(self.frames)
        if self.arrays:
            np.savez(self.folder / ARRAYS, allow_pickle=False, **self.arrays)
            names.append(ARRAYS)
        return {n: _sha(self.folder / n) for n in names}

    def _array(self, a: np.ndarray) -> str:
        if a.dtype.kind not in _ARRAY_KINDS:
            raise _Unstorable(f"an array of dtype {a.dtype}")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def _frame(self, df: pd.DataFrame) -> str:
        name = f"f{len(self.frames)}.parquet"
        if not all(isinstance(c, str) for c in df.columns):
            raise _Unstorable("a frame with non-string column labels")
        df.to_parquet(self.folder / name, engine="pyarrow")
        self.frames.append(name)
        return name

    def _freq(self, freq: Any) -> Any:
        if freq is None:
            return None
        if isinstance(freq, pd.offsets.CustomBusinessDay):
            if freq.offset or freq.normalize:
                raise _Unstorable("a custom business day with an offset")
            holidays = np.asarray(freq.holidays, dtype="datetime64[D]")
            return {"$": "cbd", "n": int(freq.n), "weekmask": freq.weekmask, "holidays": self._array(holidays)}
        from pandas.tseries.frequencies import to_offset

        if to_offset(freq.freqstr) != freq:
            raise _Unstorable(f"the frequency {freq!r}")
        return {"$": "freq", "v": freq.freqstr}

    def encode(self, v: Any) -> Any:
        if v is None or type(v) in (bool, str, int):
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"$": "float", "v": repr(v)}
        if isinstance(v, np.generic):
            if v.dtype.kind not in _SCALAR_KINDS:
                raise _Unstorable(f"a NumPy scalar of dtype {v.dtype}")
            return {"$": "np", "dtype": v.dtype.str, "v": self._array(np.asarray(v))}
        if type(v) in (list, tuple):
            return {"$": type(v).__name__, "v": [self.encode(x) for x in v]}
        if type(v) is dict:
            return {"$": "dict", "k": [self.encode(k) for k in v], "v": [self.encode(x) for x in v.values()]}
        if v is pd.NaT:
            return {"$": "nat"}
        if type(v) is pd.Timestamp:
            return {"$": "ts", "ns": v.as_unit("ns").value, "unit": v.unit, "tz": None if v.tz is None else str(v.tz)}
        if type(v) is pd.Timedelta:
            return {"$": "td", "ns": v.as_unit("ns").value, "unit": v.unit}
        if type(v) is np.ndarray:
            return {"$": "array", "v": self._array(v)}
        if type(v) is pd.DatetimeIndex:
            if v.tz is not None:
                raise _Unstorable("a tz-aware index")
            return {"$": "dtindex", "v": self._array(v.to_numpy()), "name": self.encode(v.name),
                    "freq": self._freq(v.freq)}
        if type(v) is pd.DataFrame:
            return {"$": "frame", "file": self._frame(v), "freq": self._index_freq(v.index)}
        if type(v) is pd.Series:
            return {"$": "series", "file": self._frame(v.to_frame("values")), "name": self.encode(v.name),
                    "freq": self._index_freq(v.index)}
        if isinstance(v, pd.Index) and type(v) in (pd.Index, pd.RangeIndex):
            return {"$": "index", "file": self._frame(pd.DataFrame(index=v))}
        if dataclasses.is_dataclass(v) and not isinstance(v, type) and type(v).__module__.startswith(_TRUSTED) \
                and "." not in type(v).__qualname__:
            cls = type(v)
            return {"$": "dataclass", "cls": f"{cls.__module__}:{cls.__qualname__}",
                    "f": {f.name: self.encode(getattr(v, f.name)) for f in dataclasses.fields(v)}}
        raise _Unstorable(f"a value of type {type(v).__name__}")

    def _index_freq(self, index: pd.Index) -> Any:
        return self._freq(index.freq) if isinstance(index, pd.DatetimeIndex) else None


class _Decoder:
    """Tagged JSON back to the value; every tag and class checked, nothing executed."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self._npz: Any = None

    def _array(self, name: str) -> np.ndarray:
        if self._npz is None:
            self._npz = np.load(io.BytesIO(self.blobs[ARRAYS]), allow_pickle=False)
        return self._npz[name]

    def _frame(self, name: str, freq: Any = None) -> pd.DataFrame:
        if not name.endswith(".parquet"):
            raise CacheEntryError(f"not a parquet file: {name!r}")
        df = pd.read_parquet(io.BytesIO(self.blobs[name]), engine="pyarrow")
        if freq is not None:
            df.index = pd.DatetimeIndex(df.index, freq=self._freq(freq))
        return df

    def _freq(self, f: Any) -> Any:
        if f is None:
            return None
        if f["$"] == "cbd":
            return pd.offsets.CustomBusinessDay(n=int(f["n"]), weekmask=str(f["weekmask"]),
                                                holidays=list(self._array(f["holidays"])))
        if f["$"] == "freq":
            from pandas.tseries.frequencies import to_offset

            return to_offset(str(f["v"]))
        raise CacheEntryError(f"unknown frequency tag {f['$']!r}")

    def decode(self, t: Any) -> Any:
        if t is None or isinstance(t, bool | str | int | float):
            return t
        if not isinstance(t, dict):
            raise CacheEntryError(f"an untagged value of type {type(t).__name__}")
        tag = t["$"]
        if tag == "float":
            return float(t["v"])
        if tag == "np":
            a = self._array(t["v"])
            if a.shape != () or a.dtype.str != t["dtype"]:
                raise CacheEntryError("a NumPy scalar of another shape or dtype")
            return a[()]
        if tag in ("list", "tuple"):
            items = [self.decode(x) for x in t["v"]]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            return dict(zip((self.decode(k) for k in t["k"]), (self.decode(x) for x in t["v"]), strict=True))
        if tag == "nat":
            return pd.NaT
        if tag == "ts":
            ts = pd.Timestamp(int(t["ns"]), unit="ns")
            ts = ts if t["tz"] is None else ts.tz_localize("UTC").tz_convert(str(t["tz"]))
            return ts.as_unit(str(t["unit"]))
        if tag == "td":
            return pd.Timedelta(int(t["ns"]), unit="ns").as_unit(str(t["unit"]))
        if tag == "array":
            return self._array(t["v"])
        if tag == "dtindex":
            return pd.DatetimeIndex(self._array(t["v"]), name=self.decode(t["name"]), freq=self._freq(t["freq"]))
        if tag == "frame":
            return self._frame(t["file"], t["freq"])
        if tag == "series":
            df = self._frame(t["file"], t["freq"])
            return df["values"].rename(self.decode(t["name"]))
        if tag == "index":
            return self._frame(t["file"]).index
        if tag == "dataclass":
            return self._dataclass(str(t["cls"]), t["f"])
        raise CacheEntryError(f"unknown tag {tag!r}")

    def _dataclass(self, name: str, fields: dict[str, Any]) -> Any:
        module, _, qualname = name.partition(":")
        if not module.startswith(_TRUSTED) or not qualname.isidentifier():
            raise CacheEntryError(f"names a class outside flowbt: {name!r}")
        cls = getattr(importlib.import_module(module), qualname, None)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise CacheEntryError(f"names {name!r}, which is not a flowbt dataclass")
        want = {f.name for f in dataclasses.fields(cls)}
        if set(fields) != want:
            raise CacheEntryError(f"the fields of {name} are {sorted(want)}, the entry has {sorted(fields)}")
        obj = object.__new__(cls)  # the fields as stored: no __init__ or __post_init__ runs (as pickle would)
        for k, v in fields.items():
            object.__setattr__(obj, k, self.decode(v))
        return obj


def _quietly(fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
    """fn(*args, **kw), ignoring an OSError (a read-only or vanished cache entry)."""
    try:
        fn(*args, **kw)
    except OSError:
        pass


def _evict(folder: Path, kind: str, keep: int) -> None:
    """Delete all but the `keep` most recently used entries of `kind`, and any pickle in the folder."""
    try:  # only names this module writes (kind-<40 hex digits>): FLOWBT_CACHE may point at a shared folder
        pickles = sorted(p for p in folder.glob("*-*.pkl") if _NAME.fullmatch(p.stem))
        entries = sorted((p for p in folder.glob(f"{kind}-*") if p.is_dir() and _NAME.fullmatch(p.name)),
                         key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for p in pickles:  # never read: the cache holds data, not code
        _quietly(p.unlink, missing_ok=True)
    if pickles:
        log.warning("flowbt: removed %d pickle file(s) from the cache %s unread (%s); the cache stores "
                    "parquet/npz with a JSON manifest, never pickles", len(pickles), folder,
                    ", ".join(p.name for p in pickles[:3]) + (", ..." if len(pickles) > 3 else ""))
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)
