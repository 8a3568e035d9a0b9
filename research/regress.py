"""Strategy regressions: re-run every registered strategy and compare with its committed baseline.

A baseline (results/baselines/<dataset>/<strategy>.json) stores the parameters, the input hash, the headline
metrics, SHA-256 digests of the daily returns and held weights (rounded to 1e-12, so that only a real change moves
them), and year-end equity checkpoints that show *where* a drifted run departs.

Tolerances: each metric may move by at most `ATOL + RTOL * |baseline|`; digests must match exactly. A run is
deterministic (same inputs and seed give bit-identical results), so any drift is a change of code or data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from research.provenance import data_hash
from research.run import RunOutput, run_strategy

BASELINES = Path("results/baselines")
RTOL = 1e-7
ATOL = 1e-10
COMPARED = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "hit_rate",
            "turnover", "avg_gross", "avg_net", "beta", "alpha", "information_ratio", "costs_paid")
DECIMALS = 12


def digest(frame: pd.Series | pd.DataFrame) -> str:
    """SHA-256 of values rounded to 1e-12, with the index and columns."""
    values = np.round(np.asarray(frame, dtype=float), DECIMALS)
    values = np.where(values == 0.0, 0.0, values)  # -0.0 and 0.0 hash alike
    h = hashlib.sha256(np.ascontiguousarray(values).tobytes())
    h.update(",".join(map(str, frame.index)).encode())
    if isinstance(frame, pd.DataFrame):
        h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()


def snapshot(out: RunOutput, data_digest: str) -> dict[str, Any]:
    """What a baseline stores for one run."""
    eq = (1 + out.result.returns.fillna(0)).cumprod()
    checkpoints = eq.groupby(eq.index.year).last()
    return {
        "strategy": out.strategy.name,
        "params": out.params,
        "execution": out.result.config.to_dict(),
        "data_hash": data_digest,
        "metrics": {k: out.metrics.get(k) for k in COMPARED},
        "returns_digest": digest(out.result.returns),
        "weights_digest": digest(out.result.weights),
        "equity_by_year": {str(y): float(v) for y, v in checkpoints.items()},
    }


@dataclass
class Drift:
    """One difference between a run and its baseline."""

    strategy: str
    what: str
    baseline: Any
    current: Any

    def line(self) -> str:
        def show(v: Any) -> str:
            return f"{v:.6g}" if isinstance(v, float) else str(v)
        delta = ""
        if isinstance(self.baseline, float) and isinstance(self.current, float):
            delta = f"  (change {self.current - self.baseline:+.3g})"
        return f"{self.strategy}: {self.what} moved {show(self.baseline)} -> {show(self.current)}{delta}"


@dataclass
class Outcome:
    """The regression result of one strategy on one dataset."""

    strategy: str
    dataset: str
    status: str  # "ok", "drift", "new", "updated", "error"
    drifts: list[Drift] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= ATOL + RTOL * abs(a)
    return a == b


def compare(name: str, base: Mapping[str, Any], cur: Mapping[str, Any]) -> list[Drift]:
    """Every difference between a baseline and a current snapshot beyond tolerance."""
    drifts: list[Drift] = []
    for key, val in base.get("params", {}).items():
        if cur["params"].get(key) != val:
            drifts.append(Drift(name, f"parameter {key}", val, cur["params"].get(key)))
    if base.get("execution") != cur.get("execution"):
        drifts.append(Drift(name, "execution config", base.get("execution"), cur.get("execution")))
    if base.get("data_hash") != cur.get("data_hash"):
        drifts.append(Drift(name, "input data hash", base.get("data_hash", "")[:12], cur["data_hash"][:12]))
    for key in COMPARED:
        if not _close(base["metrics"].get(key), cur["metrics"].get(key)):
            drifts.append(Drift(name, key, base["metrics"].get(key), cur["metrics"].get(key)))
    for key in ("returns_digest", "weights_digest"):
        if base.get(key) != cur.get(key):
            first = next((y for y, v in base.get("equity_by_year", {}).items()
                          if not _close(v, cur["equity_by_year"].get(y))), None)
            where = f" (equity first differs in {first})" if first else ""
            drifts.append(Drift(name, key.replace("_", " ") + where, base.get(key, "")[:12], cur[key][:12]))
    return drifts


def regress(
    datasets: Mapping[str, Callable[[], Any]],
    *,
    update: bool = False,
    baselines: Path = BASELINES,
    only: list[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Run each registered strategy on each dataset that has what it needs; compare or (update) rewrite."""
    import time

    import strategies

    outcomes: list[Outcome] = []
    for dataset, loader in datasets.items():
        data = loader()
        dh = data_hash(data)
        for name, strat in strategies.registry().items():
            if only and name not in only:
                continue
            if strat.missing_data(data):
                continue
            path = baselines / dataset / f"{name}.json"
            t0 = time.perf_counter()
            try:
                out = run_strategy(strat, data, overrides=(overrides or {}).get(name), tearsheet=False,
                                   out=Path("results/regress") / dataset / name)
            except Exception as exc:  # a crash is a regression too: report it, keep going
                outcomes.append(Outcome(name, dataset, "error", message=f"{type(exc).__name__}: {exc}"))
                continue
            cur = snapshot(out, dh)
            secs = time.perf_counter() - t0
            if update or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(cur, indent=2, sort_keys=True, default=str) + "\n")
                outcomes.append(Outcome(name, dataset, "updated" if update else "new", seconds=secs))
            else:
                drifts = compare(name, json.loads(path.read_text()), cur)
                outcomes.append(Outcome(name, dataset, "drift" if drifts else "ok", drifts, seconds=secs))
            if progress:
                progress(f"{dataset}/{name}: {outcomes[-1].status}")
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """Plain-text report: one line per run, then every drift."""
    lines = [f"{'dataset':<10} {'strategy':<28} {'status':<8} seconds"]
    lines += [f"{o.dataset:<10} {o.strategy:<28} {o.status:<8} {o.seconds:7.2f}" for o in outcomes]
    for o in outcomes:
        lines += [f"  DRIFT {d.line()}" for d in o.drifts]
        if o.message:
            lines.append(f"  ERROR {o.strategy}: {o.message}")
    return "\n".join(lines)


def markdown(outcomes: list[Outcome]) -> str:
    rows = ["| dataset | strategy | status | what moved |", "|---|---|---|---|"]
    for o in outcomes:
        what = "<br>".join(escape(d.line()) for d in o.drifts) or escape(o.message)
        rows.append(f"| {o.dataset} | {o.strategy} | {o.status} | {what} |")
    return "\n".join(rows) + "\n"


def junit(outcomes: list[Outcome]) -> str:
    failures = sum(o.status in ("drift", "error") for o in outcomes)
    cases = []
    for o in outcomes:
        body = ""
        if o.status in ("drift", "error"):
            text = "\n".join(d.line() for d in o.drifts) or o.message
            body = f"<failure message='{escape(o.status)}'>{escape(text)}</failure>"
        cases.append(f"<testcase classname='regress.{o.dataset}' name='{escape(o.strategy)}' "
                     f"time='{o.seconds:.3f}'>{body}</testcase>")
    return (f"<?xml version='1.0' encoding='utf-8'?>\n<testsuite name='flowbt-regress' tests='{len(outcomes)}' "
            f"failures='{failures}'>\n" + "\n".join(cases) + "\n</testsuite>\n")


def failed(outcomes: list[Outcome]) -> bool:
    return any(o.status in ("drift", "error") for o in outcomes)
