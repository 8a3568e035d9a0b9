"""Real-data load: `load_real('../shared/data')` in a fresh process, with an empty store (every source parsed)
and warm (read back from the parquet store, `research.data.store`). Target: warm <= 1 s.

Each load is its own process; the time is the `load_real` call alone (imports apart, reported beside it).
Skipped, with the reason, when ../shared/data is not beside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, BenchError, spread

DATA = ROOT.parent / "shared" / "data"
TARGET_WARM_S = 1.0
_PROBE = ("import json, time; t0 = time.perf_counter(); from research.data.real import load_real; "
          "t1 = time.perf_counter(); d = load_real({path!r}); t2 = time.perf_counter(); "
          "print(json.dumps({{'import': t1 - t0, 'load': t2 - t1, 'columns': d.prices.close.shape[1], "
          "'panel_rows': len(d.panel)}}))")


def load_once(store: str, path: Path = DATA, timeout: float = 900) -> dict:
    env = {**os.environ, "FLOWBT_CACHE": store, "CI": "true"}
    env.pop("FLOWBT_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(path=str(path))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise BenchError(f"load_real failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def real_load(cold_runs: int = 2, warm_runs: int = 3) -> dict:
    """`cold_runs` loads each with a new, empty store, then `warm_runs` on the last one's store."""
    if not DATA.is_dir():
        return {"skipped": f"{DATA} is not here"}
    with tempfile.TemporaryDirectory(prefix="flowbt-bench-real-") as tmp:
        cold = [load_once(str(Path(tmp) / f"cold{i}")) for i in range(max(cold_runs, 1))]
        warm = [load_once(str(Path(tmp) / f"cold{len(cold) - 1}")) for _ in range(warm_runs)]
    return {"data": str(DATA), "cold_seconds": spread([r["load"] for r in cold]),
            "warm_seconds": spread([r["load"] for r in warm]), "import_seconds": spread([r["import"] for r in warm]),
            "columns": warm[0]["columns"], "panel_rows": warm[0]["panel_rows"], "target_warm_s": TARGET_WARM_S}
