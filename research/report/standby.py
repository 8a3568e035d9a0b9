"""The tear-sheet writer forked ahead of time: a `research.forkmap.Standby` child that imports the report code
while the run computes, and writes a run folder's tear sheet as soon as the folder is saved.

Why: the report code (matplotlib above all) takes about half a second to import, and a run needs it only at
its end; on a second core that import costs the run nothing. This module imports nothing heavy itself (the
child does the importing), so that `research.run` can use it without loading the report code.
"""

from __future__ import annotations

from pathlib import Path

from research.forkmap import Standby


def _warm() -> None:
    """Import (and load) everything a tear sheet uses on first use."""
    import pyarrow.parquet  # noqa: F401  # what load_run reads with

    import research.analytics.diagnostics
    import research.analytics.resample
    import research.analytics.stats
    import research.data.cache
    import research.report.pdf
    import research.report.tearsheet  # noqa: F401

    research.report.pdf.font_dir()


def _write(folder: Path, pdf: bool) -> None:
    from research.report.tearsheet import write_tearsheet

    write_tearsheet(folder, pdf=pdf)


def report_standby() -> Standby:
    """A forked child that warms up now and, once started with (folder, pdf), writes that folder's tear sheet;
    without a second core it does nothing and `wait()` is False (the caller writes the tear sheet)."""
    return Standby(_warm, _write)
