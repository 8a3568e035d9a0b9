"""Calibration of the sweep's luck test: how often it calls the best config real with no edge, and with one.

`python -m benchmarks.calibration [--seeds 1000:1040] [--ics 0,0.03,0.06] [--strategies a,b] [--quick]`
(`make calibrate`) sweeps each strategy's default grid on the synthetic market of every seed and strength, and
records per run the statistics a verdict can use:
- `spa`: Hansen's SPA consistent p-value over the active daily returns of *every* config of the sweep (the
  whole search is the family; studentized; 500 stationary-bootstrap resamples);
- `dsr`: the deflated Sharpe probability of the best config's active Sharpe with the sweep's configs as trials;
- `pbo_top` / `pbo_all`: PBO by CSCV (16 splits) among the top 64 configs and over all of them;
- `oracle_t`: the Newey-West t-statistic of the planted config's active return (the strategy's defaults, which
  are the planted definition for matched strategies): the power of one backtest with no search at all.
Active return: against EW_SECTORS for sector books, the exposure-matched SPY (SPY times the config's average
net exposure) for timing books, zero for dollar-neutral books. The old verdict (DSR >= 0.95 and PBO among the
top 64 < 0.5) and the new one (SPA p < 0.05) are scored from the same runs, with the oracle's power beside
them: the gap is the price of searching. Writes results/bench/calibration.json and prints the table that
BENCHMARKS.md's calibration section shows.
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


def active_returns(name: str, seed: int, ic: float) -> tuple[pd.DataFrame, dict[str, Any], int | None]:
    """(active daily returns of every config of the default grid from the first fill, facts, planted column)."""
    import strategies
    from research.data.synthetic import make_market
    from research.data.universe import MARKET
    from research.run import default_config
    from research.sweep import plans
    from research.sweep.runner import keep_returns, run_sweep

    data = make_market(seed, ic)
    strat = strategies.get(name)
    res = run_sweep(strat, data, log=False, progress=False, top=1, pbo_configs=2)
    ids = [int(i) for i in res.table.sort_index().index]
    params = [res.params(i) for i in ids]
    plan = plans.prepare(strat, data, params)
    rets = keep_returns(plan, data, default_config(strat), None, list(range(len(ids))))
    rets.columns = ids
    traded = np.flatnonzero((rets.to_numpy() != 0).any(axis=1))
    rets = rets.iloc[traded[0]:] if len(traded) else rets
    if res.benchmark == MARKET:  # exposure-matched: SPY times each config's average net exposure
        spy = data.prices.close[MARKET].pct_change().reindex(rets.index)
        expo = res.table.loc[ids, "avg_net"].to_numpy(dtype=float)
        act = rets - np.outer(spy.to_numpy(), expo)
        bench = f"{MARKET} x average exposure"
    elif res.bench is not None:
        act = rets.sub(res.bench.reindex(rets.index), axis=0)
        bench = res.benchmark
    else:
        act, bench = rets, "zero (dollar-neutral)"
    planted = next((i for i, p in zip(ids, params, strict=True) if p == strat.params), None)
    return act.dropna(), {"benchmark": bench, "n_configs": len(ids)}, planted


def run_stats(name: str, seed: int, ic: float) -> dict[str, Any]:
    """The luck statistics of one sweep (see the module docstring)."""
    from research.analytics import stats as S

    t0 = time.perf_counter()
    act, facts, planted = active_returns(name, seed, ic)
    x = act.to_numpy()
    sr = x.mean(0) / x.std(0, ddof=1)
    best = int(np.nanargmax(sr))
    top = np.argsort(-np.nan_to_num(sr, nan=-np.inf))[:64]
    col = x[:, best]
    skew = float(pd.Series(col).skew())
    kurt = float(pd.Series(col).kurt()) + 3.0
    dsr = S.deflated_sharpe_ratio(float(sr[best]), len(col), skew, kurt, x.shape[1], float(np.nanvar(sr, ddof=1)))
    spa = S.spa_test(x, 0.0, seed=seed, reps=REPS)
    pbo_top = S.pbo(x[:, top], n_splits=16).pbo if len(top) >= 2 else float("nan")
    pbo_all = S.pbo(x, n_splits=16).pbo if x.shape[1] >= 2 else float("nan")
    oracle = newey_west_t(act[planted].to_numpy()) if planted is not None else float("nan")
    return {"strategy": name, "seed": seed, "ic": ic, **facts, "best_active_sharpe": float(sr[best] * math.sqrt(252)),
            "spa": spa.consistent, "dsr": float(dsr), "pbo_top": float(pbo_top), "pbo_all": float(pbo_all),
            "oracle_t": oracle, "seconds": time.perf_counter() - t0}


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    """Each rule's call on one run: True = "real"."""
    return {"new: SPA p < 0.05": r["spa"] < SPA_LEVEL,
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
    rules = [c for c in summary.columns if c.startswith(("new", "old", "oracle"))]
    head = "| strategy | ic | seeds | " + " | ".join(rules) + " | median SPA p | median DSR |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in summary.to_dict("records"):
        lines.append(f"| {r['strategy']} | {r['ic']:g} | {r['seeds']} | "
                     + " | ".join(f"{100 * r[c]:.0f}%" for c in rules)
                     + f" | {r['median SPA p']:.3f} | {r['median DSR']:.2f} |")
    return "\n".join(lines)


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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
