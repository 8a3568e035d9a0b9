"""Share CPU-bound work with one forked child process: `fork_map` (a list comprehension) and `Standby` (a
child that warms up now and does one job later).

Why: a tear sheet spends about two seconds drawing figures with matplotlib and half a second in bootstrap
resamples, one thing at a time, and importing its code takes another half second, on machines with a second
core idle. A forked child starts with everything already in memory (figures built, returns loaded: no
pickling of inputs, no re-import), does its share and hands the results back through a temporary file.

Only where fork is safe and useful: Linux, two or more usable cores, and either FLOWBT_JOBS > 1 or FLOWBT_JOBS
unset and no other Python thread running (a forked child could inherit a lock such a thread holds: Jupyter's
kernel, a Dask client). FLOWBT_JOBS=1 keeps everything in process. Results do not depend on where an item ran. If the child fails for any reason,
the parent computes the child's share itself, so an error surfaces exactly as it would without the child.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_ITEM = 4  # bytes per item index in the work queue
_PIPE = 65536  # Linux's default pipe capacity: the whole queue is written before anyone reads


def jobs() -> int:
    """Processes the helpers may use: $FLOWBT_JOBS, else min(2, usable cores); 1 where fork is not used."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return 1
    env = os.environ.get("FLOWBT_JOBS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            from research.errors import ConfigError

            raise ConfigError(f"FLOWBT_JOBS must be a whole number >= 1 (1 = no forked helper process), got {env!r}.")
        return value
    if threading.active_count() > 1:
        # another Python thread may hold a lock (logging, an import) that a forked child would inherit locked
        # and wait on forever (Jupyter's kernel, a Dask client): fork only where this is the only thread
        return 1
    return min(2, len(os.sched_getaffinity(0)))


def _fork(work: Callable[[], Any]) -> tuple[int, str] | None:
    """Fork a child that pickles `work()` into a temporary file and exits; (pid, path), or None if no fork."""
    try:
        fd, path = tempfile.mkstemp(prefix="flowbt-fork-")
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(fd)
        os.unlink(path)
        return None
    if pid == 0:  # the child: never returns into the caller, runs no exit handler
        code = 1
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(work(), fh, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    return pid, path


def _join(child: tuple[int, str], kill: bool = False) -> Any:
    """Wait for the child (killing it first if `kill`); its result, or None if it failed."""
    pid, path = child
    try:
        if kill:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        if status != 0 or kill:
            return None
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:
        return None
    except BaseException:  # interrupted while waiting (Ctrl-C, a notebook's interrupt): leave no child behind
        _kill_and_reap(pid)
        raise
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _kill_and_reap(pid: int) -> None:
    """Kill the child `pid` if it is still running and collect its exit status (no zombie)."""
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def fork_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """[fn(x) for x in items], shared with a forked child: both take the next item from one queue (a pipe
    holding the indices) until it is empty, so the load balances itself. `fn`'s results must pickle."""
    n = len(items)
    if n < 2 or n * _ITEM > _PIPE or jobs() < 2:
        return [fn(x) for x in items]
    try:
        r, w = os.pipe()
    except OSError:
        return [fn(x) for x in items]
    try:
        os.write(w, b"".join(i.to_bytes(_ITEM, "little") for i in range(n)))
    finally:
        os.close(w)

    def drain() -> dict[int, R]:
        done: dict[int, R] = {}
        while len(raw := os.read(r, _ITEM)) == _ITEM:
            i = int.from_bytes(raw, "little")
            done[i] = fn(items[i])
        return done

    try:
        child = _fork(drain)
        try:
            mine = drain()
        except BaseException:
            if child is not None:
                _join(child, kill=True)
            raise
        theirs = _join(child) if child is not None else None
    finally:
        os.close(r)
    out = {**(theirs or {}), **mine}
    return [out[i] if i in out else fn(items[i]) for i in range(n)]


def _read(fd: int, n: int) -> bytes:
    """Up to `n` bytes from `fd`: fewer only if the pipe closes first."""
    chunks, got = [], 0
    while got < n and (chunk := os.read(fd, n - got)):
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class Standby:
    """A forked child that runs `warm()` at once (imports, say) and then waits for the arguments of one call
    of `fn`: the caller goes on with its own work meanwhile, `start(*args)` hands the arguments over and
    `wait()` says whether the child completed `fn(*args)`. If it did not (no fork, `warm` or `fn` failed), the
    caller does the work itself. `cancel()` (idempotent) stops a child that is no longer needed.
    """

    def __init__(self, warm: Callable[[], object], fn: Callable[..., object]) -> None:
        self.pid: int | None = None
        self._w: int | None = None
        if jobs() < 2:
            return
        try:
            r, w = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return
        if pid == 0:  # the child
            code = 1
            try:
                os.close(w)
                warm()
                message = _read(r, 8)  # the length of the pickled arguments, then the arguments
                if len(message) == 8:  # else the pipe closed first: cancelled, or the caller is gone
                    fn(*pickle.loads(_read(r, int.from_bytes(message, "little"))))
                code = 0
            finally:
                os._exit(code)
        os.close(r)
        self.pid, self._w = pid, w

    def start(self, *args: object) -> None:
        """Hand `args` to the child, which now runs `fn(*args)`."""
        if self._w is None:
            return
        try:
            data = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
            data = len(data).to_bytes(8, "little") + data
            while data:
                data = data[os.write(self._w, data):]
        except OSError:  # the child is gone (its warm-up failed): wait() reports it
            pass
        finally:
            os.close(self._w)
            self._w = None

    def wait(self) -> bool:
        """Wait for the child; True if it ran `fn(*args)` to the end."""
        if self.pid is None:
            return False
        pid = self.pid
        try:
            if self._w is not None:  # never started: nothing was done
                os.close(self._w)
                self._w = None
                _kill_and_reap(pid)
                return False
            _, status = os.waitpid(pid, 0)
            return status == 0
        except BaseException:  # interrupted while waiting: the child's work is not wanted any more
            _kill_and_reap(pid)
            raise
        finally:
            self.pid = None

    def cancel(self) -> None:
        """Stop the child if it is still there (a no-op after `wait`)."""
        if self.pid is not None:
            if self._w is None:  # started: let it be killed, its work is not wanted
                os.kill(self.pid, 9)
            self.wait()
