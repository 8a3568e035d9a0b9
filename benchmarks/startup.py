"""Start-up: `flowbt run` end to end (synthetic market, tear sheet HTML and PDF), cold and warm numba cache.

Cold: a new, empty NUMBA_CACHE_DIR, so every kernel the run touches compiles, and a new, empty FLOWBT_CACHE, so
the NYSE session table and the synthetic market are built (what a fresh clone or a new machine pays once); each
cold run gets new, empty directories.
Warm: the same directories again, kernels and inputs loaded from disk (every later run). Each run is its own
process; wall time from launch to exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, BenchError, spread

STRATEGY = "fresh_flow_low_exposure"


def _flowbt() -> list[str]:
    exe = Path(sys.executable).with_name("flowbt")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "research.cli"]


def run_once(cache_dir: str, out_dir: str, pdf: bool = True, timeout: float = 900) -> float:
    cmd = [*_flowbt(), "run", STRATEGY, "--out", out_dir] + ([] if pdf else ["--no-pdf"])
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "MPLBACKEND": "Agg", "CI": "true",
           "FLOWBT_CACHE": str(Path(cache_dir).with_name("flowbt_cache"))}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise BenchError(f"flowbt run failed:\n{proc.stderr[-2000:]}")
    return seconds


def startup(warm_runs: int = 3, cold: bool = True, pdf: bool = True, cold_runs: int = 3) -> dict:
    """`cold_runs` runs each with new, empty caches (with `cold`), then `warm_runs` on the last one's caches."""
    with tempfile.TemporaryDirectory(prefix="flowbt-bench-") as tmp:
        out: dict = {"strategy": STRATEGY, "pdf": pdf}
        if cold:
            times = []
            for i in range(max(cold_runs, 1)):
                cache = str(Path(tmp) / f"cold{i}" / "numba_cache")
                times.append(run_once(cache, str(Path(tmp) / f"cold{i}" / "run"), pdf))
            out["cold_seconds"] = spread(times)
        else:
            cache = str(Path(tmp) / "numba_cache")
            run_once(cache, str(Path(tmp) / "prime"), pdf)
        warm = [run_once(cache, str(Path(tmp) / f"warm{i}"), pdf) for i in range(warm_runs)]
        out["warm_seconds"] = spread(warm)
        out["tearsheet"] = (Path(tmp) / "warm0" / "tearsheet.html").exists()
        out["pdf_written"] = (Path(tmp) / "warm0" / "tearsheet.pdf").exists()
    return out
