"""Messages and progress: the `flowbt` logger, and whether progress bars show.

Library code logs to `logging.getLogger("flowbt.<module>")` (`get_logger`), never prints. The `flowbt` logger
has one handler of its own that writes "flowbt: message" to stderr, and only while the application has not
configured logging itself (the root logger has no handler): a notebook or a bare script sees the messages with
no setup, and an application that configures logging receives them through propagation, once. Its level is
INFO unless set; the CLI sets it from `--quiet` (WARNING) and `--verbose` (DEBUG).

Progress bars are `tqdm.auto` (a widget in Jupyter, text in a terminal); `progress_enabled` decides whether they
show: not in CI, not with `--quiet`, yes in Jupyter and on an interactive terminal.
"""

from __future__ import annotations

import logging
import os
import sys

LOGGER = "flowbt"
_quiet = False


class _FallbackHandler(logging.StreamHandler):
    """stderr, but only while the root logger has no handler (else the record propagates there)."""

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        self.stream = sys.stderr  # the current stderr (pytest and notebooks replace it)
        super().emit(record)


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = super().format(record)
        kind = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"flowbt: {kind}{msg}"


def _root() -> logging.Logger:
    log = logging.getLogger(LOGGER)
    if not any(isinstance(h, _FallbackHandler) for h in log.handlers):
        h = _FallbackHandler()
        h.setFormatter(_Format("%(message)s"))
        log.addHandler(h)
        if log.level == logging.NOTSET:
            log.setLevel(logging.INFO)
    return log


def get_logger(name: str) -> logging.Logger:
    """The logger of a module: `get_logger(__name__)` in `research.run` is `flowbt.run`."""
    _root()
    short = name.removeprefix("research.").removeprefix("research")
    return logging.getLogger(f"{LOGGER}.{short}" if short else LOGGER)


def configure(verbosity: int = 0) -> None:
    """Set the `flowbt` level from the CLI's flags: -1 quiet (warnings and errors only, no progress bars),
    0 normal (INFO), 1 or more verbose (DEBUG)."""
    global _quiet
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    _root().setLevel(level)
    _quiet = verbosity < 0


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where stderr is not a terminal but a widget can show progress)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_enabled(flag: bool | None = None) -> bool:
    """Progress bars: `flag` when given; else off in CI (CI=true) and when quiet, on in Jupyter and on an
    interactive terminal."""
    if flag is not None:
        return flag
    if _quiet or os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return in_notebook() or sys.stderr.isatty()
