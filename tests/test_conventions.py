"""Python conventions: version, `python -m research`, licence, typing marker, changelog, logging, -q/-v."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import research
from research import logs
from research.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_version_comes_from_the_package_metadata(capsys):
    assert research.__version__ == version("flowbt")
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowbt {version('flowbt')}"


def test_python_dash_m_research_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "research", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"flowbt {version('flowbt')}"


def test_licence_typing_marker_and_changelog_match_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "research" / "py.typed").exists()
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["research"]
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                kids = _commands(sub, (*path, name))
                out += kids or [((*path, name), sub)]
    return out


def test_every_command_takes_quiet_and_verbose_before_or_after_it():
    parser = build_parser()
    commands = _commands(parser)
    assert len(commands) >= 9
    for path, sub in commands:
        flags = {s for a in sub._actions for s in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose"} <= flags, path
    # global before the command and local after it both reach the same attribute
    assert build_parser().parse_args(["-q", "list"]).quiet is True
    assert build_parser().parse_args(["list", "--quiet"]).quiet is True
    assert build_parser().parse_args(["list"]).quiet is False
    assert build_parser().parse_args(["-vv", "data", "validate", "f.csv"]).verbose == 2
    assert build_parser().parse_args(["data", "validate", "f.csv", "-vv"]).verbose == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["list", "-q", "-v"])  # one or the other


def test_library_messages_go_through_the_flowbt_logger(caplog):
    log = logs.get_logger("research.run")
    assert log.name == "flowbt.run"
    try:
        logs.configure(0)
        with caplog.at_level(logging.INFO, logger="flowbt"):
            log.info("hello %s", "there")
        assert ("flowbt.run", logging.INFO, "hello there") in caplog.record_tuples
        logs.configure(-1)
        assert logging.getLogger("flowbt").level == logging.WARNING
        assert logs.progress_enabled() is False  # quiet: no progress bars
        logs.configure(1)
        assert logging.getLogger("flowbt").level == logging.DEBUG
    finally:
        logs.configure(0)


def test_the_fallback_handler_writes_to_stderr_only_without_a_root_handler(capsys, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a bare script or a notebook
    logs.configure(0)
    logs.get_logger("research.demo").info("visible")
    assert "flowbt: visible" in capsys.readouterr().err
    monkeypatch.setattr(root, "handlers", [logging.NullHandler()])  # the application configured logging
    logs.get_logger("research.demo").warning("routed")
    assert "routed" not in capsys.readouterr().err


def test_progress_shows_in_jupyter_not_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert logs.progress_enabled() is False
    assert logs.progress_enabled(True) is True
    monkeypatch.delenv("CI")
    monkeypatch.setattr(logs, "in_notebook", lambda: True)
    assert logs.progress_enabled() is True
    from tqdm.auto import tqdm

    import research.sweep.executors as ex

    assert ex.tqdm is tqdm  # the sweep's bars are tqdm.auto's (a widget in Jupyter)


def test_dask_is_an_optional_extra_with_a_clear_message_when_absent(monkeypatch):
    import importlib.util

    from research.errors import ConfigError
    from research.sweep.runner import executor

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("dask") for d in meta["dependencies"])
    assert any(d.startswith("dask[distributed]") for d in meta["optional-dependencies"]["dask"])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'flowbt\[dask\]'"):
        executor("dask")
