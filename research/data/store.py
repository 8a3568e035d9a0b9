"""Parquet store of parsed real data: each source is parsed once, then read back from parquet.

Why: parsing ../shared/data (182 FINRA files, 553 price files, nine years of CFTC files, 13F, GICS) takes about
ten seconds; reading the parsed frames back takes a fraction of one. An entry is a set of named DataFrames
(parquet, one file each) plus a JSON manifest with JSON-able metadata; never a pickle.

Key (SHA-256): the entry's name, the content hash (SHA-256) of every input file with its path relative to the
data directory, and the source of the code that shapes the value (`code_hash` of the given modules), plus the
pandas and pyarrow versions. A file's content hash is recomputed only when its size or modification time differs
from the one recorded beside it (a `files.json` per data directory), so a warm load only stats the files. A
changed file or parser is a new key, never a stale hit; a damaged entry is rebuilt.

Where: ``$FLOWBT_CACHE/real`` if FLOWBT_CACHE is set, else ``~/.cache/flowbt/real``; FLOWBT_NO_CACHE=1 turns it
off (everything is parsed in process).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

Frames = dict[str, pd.DataFrame]


def store_dir() -> Path:
    root = os.environ.get("FLOWBT_CACHE")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "flowbt") / "real"


def enabled() -> bool:
    return os.environ.get("FLOWBT_NO_CACHE", "") not in ("1", "true", "yes")


@cache
def code_hash(*modules: str) -> str:
    """SHA-256 of the source files of `modules` (dotted names) and the library versions that shape frames."""
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        mod = sys.modules.get(name) or __import__(name, fromlist=["_"])
        h.update(name.encode())
        h.update(Path(mod.__file__).read_bytes())
    for lib in ("pandas", "pyarrow", "numpy"):
        h.update(f"{lib}={metadata.version(lib)}".encode())
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def file_hashes(base: Path, files: Iterable[Path]) -> dict[str, str]:
    """Relative path -> SHA-256 of content, re-reading a file only when its size or mtime changed."""
    base = Path(base).resolve()
    index_path = store_dir() / "files" / (hashlib.sha256(str(base).encode()).hexdigest()[:24] + ".json")
    try:
        known = json.loads(index_path.read_text())
    except (OSError, ValueError):
        known = {}
    out: dict[str, str] = {}
    changed = False
    for f in sorted(Path(x) for x in files):
        rel = str(f.resolve().relative_to(base)) if f.resolve().is_relative_to(base) else str(f.resolve())
        st = f.stat()
        rec = known.get(rel)
        if rec and rec[0] == st.st_size and rec[1] == st.st_mtime_ns:
            out[rel] = rec[2]
            continue
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        known[rel] = [st.st_size, st.st_mtime_ns, digest]
        out[rel] = digest
        changed = True
    if changed and enabled():
        _write_atomic(index_path, json.dumps(known).encode())
    return out


def key_of(name: str, hashes: dict[str, str], code: str, extra: Any = None) -> str:
    h = hashlib.sha256(name.encode())
    h.update(json.dumps(sorted(hashes.items())).encode())
    h.update(code.encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def _entry(name: str, key: str) -> Path:
    return store_dir() / f"{name}-{key}"


def load(name: str, key: str) -> tuple[Frames, dict[str, Any]] | None:
    """The frames and metadata of an entry, or None when absent or unreadable."""
    folder = _entry(name, key)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        frames = {k: pd.read_parquet(folder / f"{k}.parquet") for k in manifest["frames"]}
    except (OSError, ValueError, KeyError):
        return None
    return frames, manifest.get("meta", {})


def save(name: str, key: str, frames: Frames, meta: dict[str, Any], files: dict[str, str]) -> None:
    """Write an entry: parquet per frame, then the manifest last (an entry without one is not read)."""
    folder = _entry(name, key)
    folder.mkdir(parents=True, exist_ok=True)
    for k, df in frames.items():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{k}.", suffix=".tmp")  # unique: writers may race
        os.close(fd)
        df.to_parquet(tmp)
        os.replace(tmp, folder / f"{k}.parquet")
    manifest = {"name": name, "key": key, "frames": list(frames), "meta": meta, "files": files}
    _write_atomic(folder / "manifest.json", json.dumps(manifest, default=str).encode())


def cached(name: str, base: Path, files: Iterable[Path], modules: tuple[str, ...],
           build: Callable[[], tuple[Frames, dict[str, Any]]], extra: Any = None) -> tuple[Frames, dict[str, Any], str]:
    """(frames, meta, key) of `build()`, read from the store when the files, code and `extra` are unchanged."""
    hashes = file_hashes(base, files)
    key = key_of(name, hashes, code_hash(*modules), extra)
    if enabled():
        hit = load(name, key)
        if hit is not None:
            return hit[0], hit[1], key
    frames, meta = build()
    if enabled():
        save(name, key, frames, meta, hashes)
    return frames, meta, key
