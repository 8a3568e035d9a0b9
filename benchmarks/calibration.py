"""Calibration of the sweep's luck test: how often it calls the best config real with no edge, and with one.

`python -m benchmarks.calibration [--seeds 1000:1040] [--ics 0,0.03,0.06] [--strategies a,b] [--quick]`
(`make calibrate`) sweeps each strategy's default grid on the synthetic market of every seed and strength with
`run_sweep` and `analyse`, exactly as `flowbt sweep` does (no trial log), and records per run the sweep's
verdict and the statistics a verdict could use:
- `spa`: Hansen's SPA consistent p-value over the active daily returns of *every* config of the sweep (the
  whole search is the family; studentized; 500 stationary-bootstrap resamples);
- `dsr`: the deflated Sharpe probability of the best config's active Sharpe with the sweep's configs as trials;
- `pbo_top`: PBO by CSCV (16 splits) among the top 64 configs;
- `oracle_t`: the Newey-West t-statistic of the planted config's active return (the strategy's defaults, which
  are the planted definition for matched strategies): the power of one backtest with no search at all.
Active return: the sweep's own (EW_SECTORS for sector books, SPY times each config's average net exposure for
timing books, zero for dollar-neutral books). The old verdict (DSR >= 0.95 and PBO among the top 64 < 0.5) is
scored from the same runs beside the verdict, with the oracle's power: the gap is the price of searching.
Writes results/bench/calibration.json (every run), and benchmarks/calibration.md, the section BENCHMARKS.md shows
(also spliced into BENCHMARKS.md; `make bench` keeps it).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench" / "calibration.json"
SECTION = ROOT / "benchmarks" / "calibration.md"  # committed; BENCHMARKS.md includes it (benchmarks/report.py)
HEADING = "## Calibration of the sweep verdict"
STRATEGIES = ("fresh_flow_low_exposure", "flow_composite", "leverage_regime", "degrossing_squeeze")
TARGETS = ("fresh_flow_low_exposure", "flow_composite")  # the power targets apply to these
SPA_LEVEL = 0.05
REPS = 500


def newey_west_t(x: np.ndarray, lags: int | None = None) -> float:
    """t-statistic of the mean of x with a Bartlett-kernel (Newey-West) standard error."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 10:
        return float("nan")
    lags = int(4 * (n / 100) ** (2 / 9)) if lags is None else lags
    e = x - x.mean()
    var = e @ e / n
    for k in range(1, lags + 1):
        var += 2 * (1 - k / (lags + 1)) * (e[k:] @ e[:-k]) / n
    return float(x.mean() / math.sqrt(var / n)) if var > 0 else float("nan")


def run_stats(name: str, seed: int, ic: float) -> dict[str, Any]:
    """The sweep's own verdict and statistics on one market (`run_sweep` + `analyse`, as `flowbt sweep` runs
    them, without the trial log), and the planted config's Newey-West t (the oracle)."""
    from research import registry
    from research.data.synthetic import make_market
    from research.sweep.runner import analyse, run_sweep

    t0 = time.perf_counter()
    strat = registry.get(name)
    res = run_sweep(strat, make_market(seed, ic), log=False, progress=False, top=1)
    st = analyse(res, use_log=False, n_boot=50, spa_reps=REPS, seed=seed)
    planted = next((i for i in res.table.index if res.params(int(i)) == strat.params), None)
    kept = planted is not None and planted in res.returns.columns
    oracle = newey_west_t(res.scored_returns([planted])[planted].dropna().to_numpy()) if kept else float("nan")
    return {"strategy": name, "seed": seed, "ic": ic, "benchmark": res.benchmark or "zero", "matched": res.matched,
            "n_configs": res.n_configs, "best_active_sharpe": st.score, "verdict": st.verdict,
            "spa": st.spa.consistent if st.spa is not None else float("nan"), "dsr": st.dsr,
            "pbo_top": st.pbo.pbo if st.pbo is not None else float("nan"), "oracle_t": oracle,
            "seconds": time.perf_counter() - t0}


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    """Each rule's call on one run: True = "real"."""
    return {"verdict: SPA p < 0.05 (the sweep's)": r["verdict"] == "real",
            "old: DSR >= 0.95 and PBO(top 64) < 0.5": r["dsr"] >= 0.95 and r["pbo_top"] < 0.5,
            "oracle: planted config alone, NW t > 1.96": bool(r["oracle_t"] > 1.96)}


def summarise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Share of seeds called real, per strategy, strength and rule."""
    out = []
    for (name, ic), grp in pd.DataFrame(rows).groupby(["strategy", "ic"], sort=False):
        calls = pd.DataFrame([verdicts(r) for r in grp.to_dict("records")])
        out.append({"strategy": name, "ic": ic, "seeds": len(grp), **calls.mean().to_dict(),
                    "median SPA p": grp["spa"].median(), "median DSR": grp["dsr"].median()})
    return pd.DataFrame(out)


def table(summary: pd.DataFrame) -> str:
    """Markdown: share of seeds called real (at ic=0 that share is the false-positive rate)."""
    rules = [c for c in summary.columns if c.startswith(("verdict", "old", "oracle"))]
    head = "| strategy | ic | seeds | " + " | ".join(rules) + " | median SPA p | median DSR |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in summary.to_dict("records"):
        lines.append(f"| {r['strategy']} | {r['ic']:g} | {r['seeds']} | "
                     + " | ".join(f"{100 * r[c]:.0f}%" for c in rules)
                     + f" | {r['median SPA p']:.3f} | {r['median DSR']:.2f} |")
    return "\n".join(lines)


def section(summary: pd.DataFrame, rows: list[dict[str, Any]], seeds: list[int]) -> str:
    """The calibration section of BENCHMARKS.md: what was run, the table, and what it says."""
    secs = sum(r["seconds"] for r in rows)
    return "\n".join([
        HEADING, "",
        f"`make calibrate` (`benchmarks/calibration.py`, {len(rows):,} sweeps in {secs / 60:.0f} min): each strategy's "
        f"default grid swept on the synthetic market of seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seeds) at each "
        "strength, judged by the sweep's own verdict (`analyse`: Hansen's SPA over every config, studentized, "
        f"{REPS} stationary-bootstrap resamples, real below p = {SPA_LEVEL}). The share of seeds called real; at "
        "ic = 0 it is the false-positive rate. Beside it: the previous verdict (deflated Sharpe >= 0.95 and PBO "
        "among the top 64 < 0.5) on the same sweeps, and the oracle, the planted config alone with no search "
        "(Newey-West t > 1.96 on its active return): the gap between the oracle and the verdict is the price of "
        "searching the grid.", "",
        table(summary), "",
        "Targets: luck in >= 95% of seeds at ic = 0 for every calibrated strategy; real in >= 50% at ic = 0.03 "
        "and >= 90% at ic = 0.06 for fresh_flow_low_exposure and flow_composite. leverage_regime and "
        "degrossing_squeeze are reported without a power target: one backtest of them has little power even "
        "without a search (the oracle column).", "",
        *[f"- {line}" for line in targets(summary)], "",
    ]) + "\n"


def targets(summary: pd.DataFrame) -> list[str]:
    """Each target, met or not, with the measured share."""
    rule = next(c for c in summary.columns if c.startswith("verdict"))
    out = []
    for r in summary.to_dict("records"):
        share = r[rule]
        if r["ic"] == 0:
            out.append(f"{r['strategy']}, no edge: luck in {100 * (1 - share):.0f}% of seeds "
                       f"({'met' if share <= 0.05 else 'NOT met'}, target >= 95%)")
        elif r["strategy"] in TARGETS and r["ic"] in (0.03, 0.06):
            need = 0.5 if r["ic"] == 0.03 else 0.9
            out.append(f"{r['strategy']}, ic = {r['ic']:g}: real in {100 * share:.0f}% of seeds "
                       f"({'met' if share >= need else 'NOT met'}, target >= {100 * need:.0f}%; the oracle "
                       f"{100 * r[next(c for c in summary.columns if c.startswith('oracle'))]:.0f}%)")
    return out


def write_section(text: str, benchmarks_md: Path = ROOT / "BENCHMARKS.md") -> None:
    """benchmarks/calibration.md, and the same section in BENCHMARKS.md (replaced, or added at its end)."""
    SECTION.write_text(text)
    if benchmarks_md.exists():
        old = benchmarks_md.read_text()
        head = old.split(HEADING)[0].rstrip() + "\n\n"
        benchmarks_md.write_text(head + text)


def parse_seeds(text: str) -> list[int]:
    if ":" in text:
        a, b = text.split(":")
        return list(range(int(a), int(b)))
    return [int(s) for s in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1000:1040")
    ap.add_argument("--ics", default="0,0.03,0.06")
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--quick", action="store_true", help="8 seeds at ic 0 and 0.1 (a smoke run)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    seeds = parse_seeds("1000:1008" if args.quick else args.seeds)
    ics = [0.0, 0.1] if args.quick else [float(x) for x in args.ics.split(",")]
    rows = []
    for name in args.strategies.split(","):
        for ic in ics:
            for seed in seeds:
                rows.append(run_stats(name, seed, ic))
                r = rows[-1]
                print(f"{name} ic={ic:g} seed={seed}: SPA p {r['spa']:.3f}, DSR {r['dsr']:.2f}, "
                      f"PBO top {r['pbo_top']:.2f}, oracle t {r['oracle_t']:.2f} ({r['seconds']:.1f} s)", flush=True)
    summary = summarise(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "summary": summary.to_dict("records"),
                                          "spa_level": SPA_LEVEL, "reps": REPS}, indent=1, default=float))
    print(table(summary))
    if not args.quick and args.out == str(OUT):
        write_section(section(summary, rows, seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
