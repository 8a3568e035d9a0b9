"""research.forkmap: work shared with a forked child gives the serial answer, and a failing child changes
nothing but the time taken."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from research import forkmap
from research.errors import ConfigError
from research.forkmap import Standby, fork_map

FORKS = sys.platform == "linux" and len(os.sched_getaffinity(0)) >= 2


@pytest.fixture(autouse=True)
def _two_jobs(monkeypatch):
    """Ask for two processes explicitly: by default flowbt does not fork while other Python threads run, and a
    pytest-xdist worker may have one (execnet's I/O thread)."""
    if FORKS:
        monkeypatch.setenv("FLOWBT_JOBS", "2")


def test_jobs_defaults_to_one_process_while_other_threads_run(monkeypatch):
    monkeypatch.delenv("FLOWBT_JOBS", raising=False)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert forkmap.jobs() == 1
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_bad_flowbt_jobs_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("FLOWBT_JOBS", value)
    with pytest.raises(ConfigError, match="FLOWBT_JOBS must be a whole number >= 1"):
        forkmap.jobs()


def _square_with_pid(x: int) -> tuple[int, int]:
    time.sleep(0.02)  # long enough that both processes take items
    return x * x, os.getpid()


def test_fork_map_equals_the_comprehension_and_shares_the_work():
    out = fork_map(_square_with_pid, list(range(12)))
    assert [v for v, _ in out] == [x * x for x in range(12)]
    pids = {pid for _, pid in out}
    assert os.getpid() in pids
    if FORKS:
        assert len(pids) == 2


def test_fork_map_serial_when_asked(monkeypatch):
    monkeypatch.setenv("FLOWBT_JOBS", "1")
    out = fork_map(_square_with_pid, list(range(5)))
    assert {pid for _, pid in out} == {os.getpid()} and [v for v, _ in out] == [0, 1, 4, 9, 16]


def test_fork_map_redoes_the_share_of_a_failed_child():
    parent = os.getpid()

    def fragile(x: int) -> int:
        if os.getpid() != parent:
            os._exit(3)  # the child dies mid-way
        time.sleep(0.01)
        return -x

    assert fork_map(fragile, list(range(8))) == [-x for x in range(8)]


def test_fork_map_raises_the_parents_error():
    def bad(x: int) -> int:
        if x == 0:
            raise ValueError("item 0")
        time.sleep(0.01)
        return x

    with pytest.raises(ValueError, match="item 0"):
        fork_map(bad, [0, 1, 2, 3])


def test_standby_runs_the_job_after_its_warm_up(tmp_path: Path):
    parent = os.getpid()
    out = tmp_path / "out.txt"

    def job(path: Path, text: str) -> None:
        path.write_text(f"{text} {os.getpid() != parent}")

    s = Standby(lambda: time.sleep(0.05), job)
    s.start(out, "done")
    assert s.wait() is FORKS
    if FORKS:
        assert out.read_text() == "done True"
    s.cancel()  # a no-op once waited for


def test_standby_failures_and_cancel_report_false(tmp_path: Path):
    def boom() -> None:
        raise RuntimeError("warm-up failed")

    failed = Standby(boom, lambda: None)
    failed.start()
    assert failed.wait() is False
    job = tmp_path / "never"
    idle = Standby(lambda: None, lambda: job.write_text("x"))
    idle.cancel()
    assert idle.wait() is False and not job.exists()
    raising = Standby(lambda: None, lambda: 1 / 0)
    raising.start()
    assert raising.wait() is False
