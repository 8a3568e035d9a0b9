"""Errors that tell the user what is wrong, where, and what to do."""

from __future__ import annotations


class FlowbtError(Exception):
    """Base class of every error flowbt raises on purpose."""


class DataError(FlowbtError, ValueError):
    """Bad input data: the message names the file, row, column or date, and what to do."""


class ConfigError(FlowbtError, ValueError):
    """A bad parameter, strategy name or command-line option."""


class NetworkError(FlowbtError, RuntimeError):
    """A remote source could not be reached and the cache cannot serve the request."""


class OutputError(FlowbtError, OSError):
    """An output (run, sweep, report folder) could not be written: the message names the path and the reason,
    and nothing partial was left behind."""
