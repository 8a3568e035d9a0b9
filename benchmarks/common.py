"""Measurement helpers: a benchmark function in a fresh subprocess, spreads, machine facts.

`measure("benchmarks.sweep:fused", n_configs=10_000)` runs `benchmarks.sweep.fused(n_configs=10_000)` in a new
Python process (`python -m benchmarks.common`), which prints the function's result (a JSON dict) with its own
peak resident memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) added. One process per measurement keeps
the peak memory of one measurement out of the next, and makes numba's cache state explicit.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@flowbt-bench@@"


class BenchError(RuntimeError):
    pass


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


#: Set by `python -m benchmarks.run --inprocess` (tests, debugging): measure in this process, no isolation.
INPROCESS = {"on": False}


def measure(target: str, *, env: dict[str, str] | None = None, timeout: float = 900, **kwargs: Any) -> dict:
    """Run `module:function(**kwargs)` in a fresh Python process; its JSON result plus `peak_rss_mb`."""
    if INPROCESS["on"]:
        module, func = target.split(":")
        t0 = time.perf_counter()
        out = getattr(importlib.import_module(module), func)(**kwargs)
        return {**out, "peak_rss_mb": peak_rss_mb(), "process_seconds": time.perf_counter() - t0}
    cmd = [sys.executable, "-m", "benchmarks.common", target, json.dumps(kwargs)]
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BenchError(f"{target}({kwargs}) failed (exit {proc.returncode}):\n{tail}")
    out = json.loads(lines[-1][len(MARK):])
    out["process_seconds"] = wall
    return out


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall seconds of `repeat` calls of fn (after whatever warm-up the caller did) and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def spread(values: Sequence[float]) -> dict[str, Any]:
    """{median, min, max, runs} of a list of measurements."""
    v = sorted(float(x) for x in values)
    if not v:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "runs": 0}
    mid = len(v) // 2
    med = v[mid] if len(v) % 2 else 0.5 * (v[mid - 1] + v[mid])
    return {"median": med, "min": v[0], "max": v[-1], "runs": len(v)}


def rate(count: int, seconds: Sequence[float]) -> dict[str, Any]:
    """Throughput spread (count / seconds per run): note min rate comes from the slowest run."""
    return spread([count / s for s in seconds if s > 0])


def machine() -> dict[str, Any]:
    """Facts that make a figure comparable: CPU, cores, load, library versions, date."""
    import numba
    import numpy
    import pandas

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        mem_gb = float("nan")
    versions = {"python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
                "numba": numba.__version__}
    for name in ("vectorbt", "bt"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001 - optional
            versions[name] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "memory_gb": round(mem_gb, 1), "load_average": load, "platform": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "versions": versions}


def _main(argv: list[str]) -> int:
    target, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    module, func = target.split(":")
    fn = getattr(importlib.import_module(module), func)
    out = fn(**kwargs)
    out["peak_rss_mb"] = peak_rss_mb()
    print(MARK + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
