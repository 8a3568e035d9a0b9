"""Faults: a full disk, a read-only folder, an interrupt or a crash leave no partial output and say what failed;
the command line answers every fault with one line and the right exit code."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from research.atomic import atomic_files, atomic_folder
from research.cli import main
from research.errors import ConfigError, OutputError

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = "fresh_flow_low_exposure"


@pytest.fixture(scope="module")
def small():
    from research.data.synthetic import make_market

    return make_market(1, 0.03, start="2014-01-02", end="2019-12-31")


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


def _fail_on(monkeypatch, name: str, err: int):
    """Make DataFrame.to_parquet raise OSError(err) when it writes a file called `name`."""
    real = pd.DataFrame.to_parquet

    def failing(self, path, *a, **kw):
        if Path(str(path)).name == name:
            raise OSError(err, {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system",
                                errno.EACCES: "Permission denied"}[err], str(path))
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)


@pytest.mark.parametrize("name", ["returns.parquet", "weights.parquet", "benchmarks.parquet", "close.parquet"])
@pytest.mark.parametrize("err, says", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                       (errno.EACCES, "permission denied")])
def test_run_write_failure_leaves_no_folder_and_names_the_path(small, tmp_path, monkeypatch, name, err, says):
    from research.run import run_strategy

    _fail_on(monkeypatch, name, err)
    dest = tmp_path / "runs" / "r1"
    with pytest.raises(OutputError) as info:
        run_strategy(STRATEGY, small, out=dest, tearsheet=False)
    msg = str(info.value)
    assert str(dest / name) in msg and says in msg and ".tmp-" not in msg
    assert _leftovers(tmp_path / "runs") == []  # neither the run folder nor a temporary one


def test_run_into_a_read_only_parent_is_a_clear_error(small, tmp_path, monkeypatch):
    import tempfile

    from research.run import run_strategy

    def denied(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "ro"))

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    with pytest.raises(OutputError, match="could not write .*ro: Permission denied"):
        run_strategy(STRATEGY, small, out=tmp_path / "ro" / "r1", tearsheet=False)


def test_run_folder_is_complete_and_replaces_an_earlier_run(small, tmp_path):
    from research.run import run_strategy

    dest = tmp_path / "r1"
    first = run_strategy(STRATEGY, small, out=dest, tearsheet=False)
    assert first.folder == dest and (dest / "metrics.json").is_file() and (dest / "weights.parquet").is_file()
    (dest / "stale.txt").write_text("from the first run")
    run_strategy(STRATEGY, small, out=dest, tearsheet=False, overrides={"top_n": 2})
    assert not (dest / "stale.txt").exists() and (dest / "metrics.json").is_file()
    assert _leftovers(tmp_path) == ["r1"]


def test_an_unrelated_folder_is_never_replaced(tmp_path):
    mine = tmp_path / "home"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="not a flowbt output folder"), atomic_folder(mine):
        pass
    assert (mine / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("fault", [KeyboardInterrupt, RuntimeError, OSError])
def test_atomic_folder_leaves_nothing_on_any_fault(tmp_path, fault):
    dest = tmp_path / "out"
    with pytest.raises((fault, OutputError)), atomic_folder(dest) as work:
        (work / "half.parquet").write_bytes(b"PAR1 trunc")
        raise fault("boom")
    assert _leftovers(tmp_path) == []


def test_atomic_files_keep_the_old_files_on_a_fault(tmp_path):
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    (run / "tearsheet.html").write_text("old sheet")
    (run / "figures" / "01.png").write_bytes(b"old")
    with pytest.raises(OutputError, match="No space left"), atomic_files(run) as work:
        (work / "tearsheet.html").write_text("new sheet, half")
        raise OSError(errno.ENOSPC, "No space left on device", str(work / "tearsheet.pdf"))
    assert (run / "tearsheet.html").read_text() == "old sheet" and _leftovers(tmp_path) == ["run"]
    with atomic_files(run) as work:
        (work / "tearsheet.html").write_text("new sheet")
        (work / "figures").mkdir()
        (work / "figures" / "02.png").write_bytes(b"new")
    assert (run / "tearsheet.html").read_text() == "new sheet"
    assert _leftovers(run / "figures") == ["02.png"] and _leftovers(tmp_path) == ["run"]


def test_sweep_write_failure_keeps_the_trials_and_leaves_no_folder(small, tmp_path, monkeypatch):
    from research.sweep import run_sweep, triallog
    from research.sweep.report import write_sweep

    db = tmp_path / "trials.duckdb"
    res = run_sweep(STRATEGY, small, {"top_n": [1, 2, 3], "hold": [2, 4]}, db=db, progress=False)
    _fail_on(monkeypatch, "returns.parquet", errno.ENOSPC)
    with pytest.raises(OutputError, match="returns.parquet: No space left"):
        write_sweep(res, tmp_path / "sweeps" / "s1", pdf=False)
    assert _leftovers(tmp_path / "sweeps") == []
    assert len(triallog.trials(STRATEGY, db)) == 6  # every trial logged before the folder was written


# --- the command line ---------------------------------------------------------------------------------------

def test_cli_disk_full_is_exit_2_with_the_path(tmp_path, monkeypatch, capsys):
    _fail_on(monkeypatch, "weights.parquet", errno.ENOSPC)
    dest = tmp_path / "r"
    code = main(["run", STRATEGY, "--data", "synthetic:seed=1", "--no-tearsheet", "--out", str(dest)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"could not write {dest / 'weights.parquet'}: No space left on device" in err
    assert _leftovers(tmp_path) == []


def test_cli_unexpected_exception_is_one_line_and_a_log(tmp_path, monkeypatch, capsys):
    import research.cli as cli

    monkeypatch.setenv("FLOWBT_CACHE", str(tmp_path))

    def broken(args):
        return {}["no such key"]

    monkeypatch.setattr(cli, "cmd_list", broken)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "KeyError" in err and "this is a bug: please report it" in err
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert str(log) in err and "Traceback" in log.read_text() and "no such key" in log.read_text()


def test_cli_interrupt_is_130_and_leaves_no_temporary_folder(tmp_path, monkeypatch, capsys):
    import research.run as run

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "save_closes", interrupted)  # Ctrl-C in the middle of writing the folder
    code = main(["run", STRATEGY, "--data", "synthetic:seed=1", "--no-tearsheet", "--out", str(tmp_path / "r")])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [FileNotFoundError(errno.ENOENT, "No such file or directory", "prices/XLK.csv"),
                                 PermissionError(errno.EACCES, "Permission denied", "results/runs")])
def test_cli_unreadable_or_unwritable_path_is_a_user_error(monkeypatch, capsys, exc):
    import research.cli as cli

    def fails(args):
        raise exc

    monkeypatch.setattr(cli, "cmd_list", fails)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and exc.filename in err and exc.strerror in err and "bug" not in err


@pytest.mark.parametrize("how", ["module", "function"])
def test_closed_pipe_exits_quietly(how):
    argv = (["-m", "research.cli", "list"] if how == "module"
            else ["-c", "import sys; from research.cli import main; sys.exit(main(['list']))"])
    p = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()  # the reader is gone before the first line (`flowbt list | head -0`)
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert p.returncode == 0 and err == ""


def test_a_failed_swap_puts_the_previous_output_back(tmp_path, monkeypatch):
    import research.atomic as atomic

    dest = tmp_path / "run"
    dest.mkdir()
    (dest / "metrics.json").write_text("old")
    real = atomic.os.rename

    def failing(src, dst):
        if Path(dst) == dest and Path(src).name == "run":
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(dst))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", failing)
    with pytest.raises(OutputError, match="Invalid cross-device link"), atomic_folder(dest) as work:
        (work / "metrics.json").write_text("new")
    assert (dest / "metrics.json").read_text() == "old" and _leftovers(tmp_path) == ["run"]


@pytest.mark.parametrize("fault", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_price_cache_write_leaves_no_temporary_file(tmp_path, monkeypatch, fault):
    import pyarrow.parquet as pq

    from research.data import yahoo

    def failing(table, where, *a, **kw):
        Path(where).write_bytes(b"PAR1 half")
        raise fault

    monkeypatch.setattr(pq, "write_table", failing)
    raw = pd.DataFrame({c: [1.0] for c in yahoo.RAW_COLUMNS}, index=pd.DatetimeIndex(["2020-01-02"], name="date"))
    with pytest.raises(type(fault)):
        yahoo.write_entry(yahoo.CacheEntry("SPY", raw, raw.index[0], raw.index[0]), tmp_path)
    assert _leftovers(tmp_path) == []
