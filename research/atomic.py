"""Atomic output folders: a run, sweep or report is complete or absent, never half-written.

`atomic_folder(dest)` yields a working folder named like `dest` inside a hidden temporary folder beside it
(`.NAME.tmp-XXXX/NAME`: same file system, so the final rename is atomic, and the work carries its final name,
which a tear sheet prints); at the end it is renamed to `dest`. On any failure, Ctrl-C included, the temporary
folder is removed; an OSError (a full disk, a read-only folder) becomes an `OutputError` naming the path that
failed and why, with what to do. An existing `dest` is replaced only when it is a flowbt output (it holds one of
OUTPUT_MARKERS); any other non-empty folder is refused, so `--out ~` never deletes a home folder.

`atomic_files(folder)` does the same for files added to an existing folder (a tear sheet rebuilt into a run
folder): they are written into a temporary folder beside it and each moved into place with an atomic rename.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from research.errors import ConfigError, OutputError

#: A folder holding one of these was written by flowbt and may be replaced by a new output of the same path.
OUTPUT_MARKERS = ("metrics.json", "sweep.json", "summary.json", "comparison.html", "tearsheet.html",
                  "index.html", "config.json")

_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or write elsewhere (--out)",
    errno.EDQUOT: "the disk quota is exhausted: free some space or write elsewhere (--out)",
    errno.EROFS: "the file system is read-only: write elsewhere (--out)",
    errno.EACCES: "permission denied: write to a folder you may write to (--out)",
    errno.EPERM: "permission denied: write to a folder you may write to (--out)",
}


def output_error(exc: OSError, dest: Path, work: Path | None = None) -> OutputError:
    """An OutputError naming the path that failed (inside `work`, shown under `dest`) and why."""
    where = Path(exc.filename) if getattr(exc, "filename", None) else dest
    if work is not None:
        try:
            where = dest / where.relative_to(work)
        except ValueError:
            pass
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _HINTS.get(exc.errno or 0, "check the path and try again")
    return OutputError(f"could not write {where}: {reason} ({hint}). Nothing was left behind: {dest} was not "
                       "written.")


def _temporary(dest: Path) -> Path:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.tmp-"))
    except OSError as exc:
        raise output_error(exc, dest) from exc


def _replaceable(dest: Path) -> bool:
    """True when `dest` is absent, empty, or a flowbt output folder."""
    if not dest.exists():
        return True
    if not dest.is_dir():
        return False
    names = {p.name for p in dest.iterdir()}
    return not names or bool(names & set(OUTPUT_MARKERS))


@contextmanager
def atomic_folder(dest: str | Path) -> Iterator[Path]:
    """Yield a folder to fill; renamed to `dest` when the block ends without an error (see the module)."""
    dest = Path(dest)
    if not _replaceable(dest):
        raise ConfigError(f"{dest} exists and is not a flowbt output folder (none of {', '.join(OUTPUT_MARKERS)}); "
                          "give a new or empty folder.")
    box = _temporary(dest)
    work = box / dest.name
    try:
        work.mkdir()
        yield work
        previous = box / ".previous"
        if dest.exists():  # a previous output of the same path: set it aside, then swap
            os.rename(dest, previous)
        try:
            os.rename(work, dest)
        except OSError:
            if previous.exists():  # put the previous output back rather than lose both
                os.rename(previous, dest)
            raise
    except OSError as exc:
        raise output_error(exc, dest, work) from exc
    finally:
        shutil.rmtree(box, ignore_errors=True)


@contextmanager
def atomic_files(folder: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; what is written there is moved into `folder` (each file or subfolder replaced
    whole) when the block ends without an error, and removed otherwise. A `folder` that does not exist yet is the
    temporary folder itself, renamed into place."""
    folder = Path(folder)
    box = _temporary(folder)
    work = box / folder.name
    try:
        work.mkdir()
        yield work
        if not folder.exists():
            os.rename(work, folder)
            return
        for item in sorted(work.iterdir()):
            target = folder / item.name
            if item.is_dir() and target.is_dir():
                os.rename(target, box / f".previous-{item.name}")
            os.replace(item, target)
    except OSError as exc:
        raise output_error(exc, folder, work) from exc
    finally:
        shutil.rmtree(box, ignore_errors=True)
