"""Run the benchmark suite: `python -m benchmarks.run [--quick] [--only sweep,signals,startup,realdata,scaling]`.

Writes results/bench/<benchmark>.json, results/bench/latest.json (everything, with machine facts),
BENCHMARKS.md (the table the README links) and benchmarks/scaling.png (the log-log plot). `--quick` runs the
smallest case of everything (a smoke run: the numbers mean little); the full suite takes about ten minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import INPROCESS, ROOT, BenchError, machine, measure

#: What each mode measures: keyword arguments per benchmark function.
PLANS: dict[str, dict[str, Any]] = {
    "full": {
        "fused": {"n_configs": 10_000, "repeat": 5, "yardstick": True},
        "stages": {"n_configs": 2_048, "of": 10_000},
        "minimal": {"n_configs": 10_000, "n_weights": 64, "repeat": 3},
        "vectorbt": {"n_configs": 100, "repeat": 3},
        "engine": {"n_configs": 20, "repeat": 2},
        "bt": {"n_configs": 3, "repeat": 2},
        "memory": {"n_configs": 100_000, "repeat": 2, "dedupe_too": False},
        "signals": {"repeat": 5},
        "startup": {"warm_runs": 3, "cold": True, "cold_runs": 3},
        "realdata": {"cold_runs": 2, "warm_runs": 3},
        "scale_configs": [1_000, 3_000, 30_000],
        "scale_years": [5, 10],
        "scale_assets": [3, 6, 11, 22, 44],
        "scale_assets_configs": 2_000,
        "scale_repeat": 3,
    },
    "quick": {
        "fused": {"n_configs": 200, "repeat": 2, "yardstick": True},
        "stages": {"n_configs": 192, "of": 200},
        "minimal": {"n_configs": 200, "n_weights": 4, "repeat": 2},
        "vectorbt": {"n_configs": 3, "repeat": 2},
        "engine": {"n_configs": 1, "repeat": 1},
        "bt": {"n_configs": 1, "repeat": 1},
        "memory": {"n_configs": 400, "repeat": 1, "dedupe_too": False},
        "signals": {"rows": 400, "repeat": 2},
        "startup": {"warm_runs": 2, "cold": False, "pdf": False},
        "realdata": {"cold_runs": 1, "warm_runs": 2},
        "scale_configs": [100],
        "scale_years": [5],
        "scale_assets": [3, 22],
        "scale_assets_configs": 50,
        "scale_repeat": 2,
    },
}
ALL = ("sweep", "signals", "startup", "realdata", "scaling")


def _step(name: str, target: str, log: list[str], **kw: Any) -> dict | None:
    t0 = time.perf_counter()
    print(f"  {name} ...", end="", flush=True)
    try:
        out = measure(target, **kw)
    except (BenchError, OSError) as exc:
        print(f" failed ({time.perf_counter() - t0:.0f} s)")
        log.append(f"{name}: {exc}")
        return None
    print(f" {time.perf_counter() - t0:.0f} s")
    return out


def run_sweep(p: dict, log: list[str]) -> dict:
    out = {}
    for name in ("fused", "stages", "minimal", "vectorbt", "engine", "bt"):
        out[name] = _step(f"sweep/{name}", f"benchmarks.sweep:{name}", log, **p[name])
    out["memory_fused"] = _step("sweep/memory", "benchmarks.sweep:fused", log, **p["memory"])
    out["memory_baseline"] = _step("sweep/baseline", "benchmarks.sweep:baseline_memory", log)
    return out


def run_scaling(p: dict, log: list[str], done: dict) -> dict:
    rep = p["scale_repeat"]
    rows: dict[str, list[dict]] = {"configs": [], "years": [], "assets": []}
    sweep = done.get("sweep") or {}
    known = {r["configs"]: r for r in (sweep.get("fused"), sweep.get("memory_fused")) if r}
    for n in sorted(set(p["scale_configs"]) | set(known)):
        r = known.get(n) or _step(f"scaling/configs={n}", "benchmarks.sweep:fused", log, n_configs=n,
                                  repeat=rep, dedupe_too=False)
        if r:
            rows["configs"].append(r)
    n_years = p["fused"]["n_configs"]
    for years in p["scale_years"]:
        r = _step(f"scaling/years={years}", "benchmarks.sweep:fused", log, n_configs=n_years, years=years,
                  repeat=rep, dedupe_too=False)
        if r:
            rows["years"].append(r)
    if sweep.get("fused"):
        rows["years"].append(sweep["fused"])
    for m in p["scale_assets"]:
        r = _step(f"scaling/assets={m}", "benchmarks.sweep:fused_assets", log, n_assets=m,
                  n_configs=p["scale_assets_configs"], repeat=rep)
        if r:
            rows["assets"].append(r)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the smallest case of everything (smoke run)")
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench", help="JSON folder")
    ap.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md", help="table to write")
    ap.add_argument("--plot", type=Path, default=ROOT / "benchmarks" / "scaling.png", help="scaling plot")
    ap.add_argument("--inprocess", action="store_true",
                    help="measure in this process (tests, debugging): quicker, but peak memory is not isolated")
    args = ap.parse_args(argv)
    INPROCESS["on"] = args.inprocess
    mode = "quick" if args.quick else "full"
    p = PLANS[mode]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(ALL)}")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"flowbt benchmarks ({mode}): {', '.join(only)}")
    results: dict[str, Any] = {"mode": mode, "machine": machine()}
    log: list[str] = []
    if "sweep" in only:
        results["sweep"] = run_sweep(p, log)
    if "signals" in only:
        results["signals"] = _step("signals", "benchmarks.signals:signals", log, **p["signals"])
    if "startup" in only:
        results["startup"] = _step("startup", "benchmarks.startup:startup", log, **p["startup"])
    if "realdata" in only:
        results["realdata"] = _step("realdata", "benchmarks.realdata:real_load", log, **p["realdata"])
    if "scaling" in only:
        results["scaling"] = run_scaling(p, log, results)
    results["seconds"] = time.perf_counter() - t0
    results["errors"] = log
    from benchmarks import report

    for key in ("sweep", "signals", "startup", "realdata", "scaling"):
        if key in results:
            (args.out / f"{key}.json").write_text(json.dumps(results[key], indent=2, default=str) + "\n")
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    plot = report.plot_scaling(results.get("scaling"), args.plot)
    args.markdown.write_text(report.markdown(results, plot, args.markdown.parent))
    print(f"wrote {args.out / 'latest.json'}, {args.markdown}" + (f", {plot}" if plot else "")
          + f" in {results['seconds']:.0f} s")
    for line in log:
        print(f"error: {line}", file=sys.stderr)
    return 1 if log else 0


if __name__ == "__main__":
    sys.exit(main())
