"""Strategy regressions: re-run every registered strategy and compare its numbers with its committed baseline.

A baseline is two files in results/baselines/<dataset>/: `<strategy>.json` (parameters, execution config,
headline metrics, year-end equity, and for information the input hash and digests) and `<strategy>.parquet`
(the daily returns and the target weights, zstd-compressed). A run fails when its numbers move, never on bits:

- parameters and the execution config must be equal (they are inputs, not results);
- each headline metric within `METRIC_ATOL + METRIC_RTOL * |baseline|`;
- the daily returns on the same sessions, each within `RETURNS_ATOL` (the report gives the largest difference
  and the first session beyond the tolerance);
- the target weights on the same decision sessions and assets, each within `WEIGHTS_ATOL` (the report names
  the sessions and assets that moved, so a flipped selection is seen as such).

The input hash (`research.provenance.inputs_hash`: only the prices and panel metrics the strategy reads) and the
SHA-256 digests of returns and weights are shown when they change, as information: on another CPU the last bits
of a few values may differ (NumPy's SIMD loops, the BLAS), and a new, unrelated file in the data folder is no
change to a strategy.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.provenance import inputs_hash
from research.run import RunOutput, run_strategy

BASELINES = Path("results/baselines")
METRIC_RTOL = 1e-7
METRIC_ATOL = 1e-10
RETURNS_ATOL = 1e-9
WEIGHTS_ATOL = 1e-9
COMPARED = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "hit_rate",
            "turnover", "avg_gross", "avg_net", "beta", "alpha", "information_ratio", "costs_paid")
DECIMALS = 12
SHOWN = 5  # sessions/assets listed per moved series


def digest(frame: pd.Series | pd.DataFrame) -> str:
    """SHA-256 of values rounded to 1e-12, with the index and columns (information only)."""
    values = np.round(np.asarray(frame, dtype=float), DECIMALS)
    values = np.where(values == 0.0, 0.0, values)  # -0.0 and 0.0 hash alike
    h = hashlib.sha256(np.ascontiguousarray(values).tobytes())
    h.update(",".join(map(str, frame.index)).encode())
    if isinstance(frame, pd.DataFrame):
        h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()


@dataclass
class Snapshot:
    """What a baseline stores for one run: a JSON record and the two series."""

    record: dict[str, Any]
    returns: pd.Series
    target: pd.DataFrame

    def write(self, folder: Path, name: str) -> None:
        """`<name>.json` and `<name>.parquet` (long rows: series, date, asset, value) in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(self.record, indent=2, sort_keys=True, default=str) + "\n")
        series_frame(self.returns, self.target).to_parquet(
            folder / f"{name}.parquet", index=False, compression="zstd", compression_level=19,
            use_dictionary=["series", "asset"],  # floats split by byte and dates as deltas compress best
            column_encoding={"date": "DELTA_BINARY_PACKED", "value": "BYTE_STREAM_SPLIT"})

    @classmethod
    def read(cls, folder: Path, name: str) -> Snapshot:
        record = json.loads((folder / f"{name}.json").read_text())
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise ConfigError(f"{path} is missing beside {name}.json: run `flowbt regress --update` and commit both.")
        returns, target = split_series(pd.read_parquet(path))
        return cls(record, returns, target)


def series_frame(returns: pd.Series, target: pd.DataFrame) -> pd.DataFrame:
    """Returns and target weights as one long frame (series, date, asset, value): one compact parquet file."""
    r = pd.DataFrame({"series": "returns", "date": returns.index, "asset": "", "value": returns.to_numpy(float)})
    t = target.rename_axis(index="date", columns="asset").stack(future_stack=True).rename("value").reset_index()
    t.insert(0, "series", "target")
    out = pd.concat([r, t], ignore_index=True)
    out["series"] = out["series"].astype("category")
    out["asset"] = out["asset"].astype("category")
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[s]")
    return out


def split_series(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """The inverse of `series_frame`."""
    series = frame["series"].astype(str)
    dates = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    r = frame[series == "returns"]
    returns = pd.Series(r["value"].to_numpy(float), index=pd.DatetimeIndex(dates[r.index]), name="returns")
    t = frame[series == "target"].assign(date=dates, asset=lambda f: f["asset"].astype(str))
    target = t.pivot(index="date", columns="asset", values="value")
    target.columns.name = None
    return returns, target


def snapshot(out: RunOutput, inputs: str) -> Snapshot:
    """The baseline of one run; `inputs` is its `inputs_hash`."""
    returns = out.result.returns
    eq = (1 + returns.fillna(0)).cumprod()
    checkpoints = eq.groupby(eq.index.year).last()
    record = {
        "strategy": out.strategy.name,
        "params": out.params,
        "execution": out.result.config.to_dict(),
        "inputs_hash": inputs,
        "metrics": {k: out.metrics.get(k) for k in COMPARED},
        "returns_digest": digest(returns),
        "weights_digest": digest(out.result.weights),
        "equity_by_year": {str(y): float(v) for y, v in checkpoints.items()},
        "tolerances": tolerances(),
    }
    return Snapshot(record, returns.astype(float), out.result.target.astype(float))


def tolerances() -> dict[str, float]:
    """The tolerances a comparison uses (stored with a baseline for the reader; the code's values apply)."""
    return {"metric_atol": METRIC_ATOL, "metric_rtol": METRIC_RTOL, "returns_atol": RETURNS_ATOL,
            "weights_atol": WEIGHTS_ATOL}


@dataclass
class Drift:
    """One difference between a run and its baseline (`fatal` False: shown as information only)."""

    strategy: str
    what: str
    baseline: Any
    current: Any
    detail: str = ""
    fatal: bool = True

    def line(self) -> str:
        def show(v: Any) -> str:
            return f"{v:.10g}" if isinstance(v, float) else str(v)
        delta = ""
        if isinstance(self.baseline, float) and isinstance(self.current, float):
            delta = f"  (change {self.current - self.baseline:+.3g})"
        tail = f"; {self.detail}" if self.detail else ""
        return f"{self.strategy}: {self.what} moved {show(self.baseline)} -> {show(self.current)}{delta}{tail}"


@dataclass
class Outcome:
    """The regression result of one strategy on one dataset."""

    strategy: str
    dataset: str
    status: str  # "ok", "drift", "missing", "updated", "error"
    drifts: list[Drift] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0

    @property
    def notes(self) -> list[Drift]:
        return [d for d in self.drifts if not d.fatal]

    @property
    def failures(self) -> list[Drift]:
        return [d for d in self.drifts if d.fatal]


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= METRIC_ATOL + METRIC_RTOL * abs(a)
    return a == b


def _dates(index: pd.Index) -> list[str]:
    return [str(pd.Timestamp(d).date()) for d in index[:SHOWN]] + (["…"] if len(index) > SHOWN else [])


def compare_returns(name: str, base: pd.Series, cur: pd.Series) -> list[Drift]:
    """Sessions that differ, and the largest daily difference with the first session beyond `RETURNS_ATOL`."""
    if not base.index.equals(cur.index):
        missing, new = base.index.difference(cur.index), cur.index.difference(base.index)
        return [Drift(name, "return sessions", f"{len(base)} sessions", f"{len(cur)} sessions",
                      f"missing {len(missing)} {_dates(missing)}, new {len(new)} {_dates(new)}")]
    b, c = base.to_numpy(float), cur.to_numpy(float)
    both_nan = np.isnan(b) & np.isnan(c)
    diff = np.where(both_nan, 0.0, np.abs(b - c))
    diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on one side only is a difference
    bad = np.flatnonzero(diff > RETURNS_ATOL)
    if bad.size == 0:
        return []
    first = bad[0]
    return [Drift(name, "daily returns", float(b[first]), float(c[first]),
                  f"{bad.size} sessions beyond {RETURNS_ATOL:g}, first {base.index[first].date()}, "
                  f"largest difference {float(diff.max()):.3g}")]


def compare_weights(name: str, base: pd.DataFrame, cur: pd.DataFrame) -> list[Drift]:
    """Decision sessions and assets whose target weight moved beyond `WEIGHTS_ATOL` (a flipped selection)."""
    drifts = []
    if list(base.columns) != list(cur.columns):
        drifts.append(Drift(name, "target assets", list(base.columns), list(cur.columns)))
    if not base.index.equals(cur.index):
        missing, new = base.index.difference(cur.index), cur.index.difference(base.index)
        drifts.append(Drift(name, "decision sessions", f"{len(base)} sessions", f"{len(cur)} sessions",
                            f"missing {len(missing)} {_dates(missing)}, new {len(new)} {_dates(new)}"))
    if drifts:
        return drifts
    b, c = base.to_numpy(float), cur.to_numpy(float)
    diff = np.where(np.isnan(b) & np.isnan(c), 0.0, np.abs(b - c))
    diff = np.where(np.isnan(diff), np.inf, diff)
    rows, cols = np.nonzero(diff > WEIGHTS_ATOL)
    if rows.size == 0:
        return []
    shown = [f"{base.index[r].date()} {base.columns[k]} {b[r, k]:.6g}->{c[r, k]:.6g}"
             for r, k in zip(rows[:SHOWN], cols[:SHOWN], strict=True)]
    sessions = np.unique(rows).size
    return [Drift(name, "target weights", f"{sessions} sessions", f"{rows.size} weights beyond {WEIGHTS_ATOL:g}",
                  ", ".join(shown) + (", …" if rows.size > SHOWN else ""))]


def compare(name: str, base: Snapshot, cur: Snapshot) -> list[Drift]:
    """Every difference between a baseline and a current snapshot: failures beyond tolerance, then notes."""
    b, c = base.record, cur.record
    drifts: list[Drift] = []
    for key, val in b.get("params", {}).items():
        if c["params"].get(key) != val:
            drifts.append(Drift(name, f"parameter {key}", val, c["params"].get(key)))
    if b.get("execution") != c.get("execution"):
        drifts.append(Drift(name, "execution config", b.get("execution"), c.get("execution")))
    for key in COMPARED:
        if not _close(b["metrics"].get(key), c["metrics"].get(key)):
            drifts.append(Drift(name, key, b["metrics"].get(key), c["metrics"].get(key),
                                f"tolerance {METRIC_ATOL:g} + {METRIC_RTOL:g}·|baseline|"))
    drifts += compare_returns(name, base.returns, cur.returns)
    drifts += compare_weights(name, base.target, cur.target)
    for key, label in (("inputs_hash", "input hash"), ("returns_digest", "returns digest"),
                       ("weights_digest", "weights digest")):
        if b.get(key) != c.get(key):
            drifts.append(Drift(name, label, str(b.get(key, ""))[:12], str(c.get(key, ""))[:12], fatal=False))
    return drifts


def check_baselines(baselines: Path, datasets: list[str]) -> None:
    """Refuse to compare against a folder that holds no baselines (a typo, another working directory)."""
    found = [d for d in datasets if any((baselines / d).glob("*.json"))]
    if not found:
        where = Path(baselines).resolve()
        raise ConfigError(
            f"no regression baselines in {where} (looked for {', '.join(f'{d}/*.json' for d in datasets)}): "
            "run from the project folder, give --baselines, or write them with `flowbt regress --update`.")


def regress(
    datasets: Mapping[str, Callable[[], Any]],
    *,
    update: bool = False,
    baselines: Path = BASELINES,
    only: list[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Run each registered strategy on each dataset that has what it needs; compare or (update) rewrite.

    Without `update`, a folder with no baselines at all is a ConfigError, and a strategy without a baseline is
    a failure ("missing"): only `update` writes baselines.
    """
    import research.registry as strategies

    baselines = Path(baselines)
    if not update:
        check_baselines(baselines, list(datasets))
    outcomes: list[Outcome] = []
    for dataset, loader in datasets.items():
        data = loader()
        for name, strat in strategies.registry().items():
            if only and name not in only:
                continue
            if strat.missing_data(data):
                continue
            folder = baselines / dataset
            t0 = time.perf_counter()
            try:
                out = run_strategy(strat, data, overrides=(overrides or {}).get(name), tearsheet=False,
                                   out=Path("results/regress") / dataset / name)
            except Exception as exc:  # a crash is a regression too: report it, keep going
                outcomes.append(Outcome(name, dataset, "error", message=f"{type(exc).__name__}: {exc}"))
                continue
            cur = snapshot(out, inputs_hash(data, strat))
            secs = time.perf_counter() - t0
            if update:
                cur.write(folder, name)
                outcomes.append(Outcome(name, dataset, "updated", seconds=secs))
            elif not (folder / f"{name}.json").exists():
                outcomes.append(Outcome(name, dataset, "missing", seconds=secs,
                                        message=f"no baseline {folder / (name + '.json')}: run `flowbt regress "
                                                f"--update --only {name}` and commit it"))
            else:
                drifts = compare(name, Snapshot.read(folder, name), cur)
                status = "drift" if any(d.fatal for d in drifts) else "ok"
                outcomes.append(Outcome(name, dataset, status, drifts, seconds=secs))
            if progress:
                progress(f"{dataset}/{name}: {outcomes[-1].status}")
    return outcomes


FAILING = ("drift", "missing", "error")


def table(outcomes: list[Outcome]) -> str:
    """Plain-text report: one line per run, then every failure and every note."""
    lines = [f"{'dataset':<10} {'strategy':<28} {'status':<8} seconds"]
    lines += [f"{o.dataset:<10} {o.strategy:<28} {o.status:<8} {o.seconds:7.2f}" for o in outcomes]
    for o in outcomes:
        lines += [f"  DRIFT {d.line()}" for d in o.failures]
        lines += [f"  note  {d.line()} (information, not a failure)" for d in o.notes]
        if o.message:
            lines.append(f"  {'ERROR' if o.status == 'error' else 'MISSING'} {o.strategy}: {o.message}")
    return "\n".join(lines)


def markdown(outcomes: list[Outcome]) -> str:
    rows = ["| dataset | strategy | status | what moved | notes |", "|---|---|---|---|---|"]
    for o in outcomes:
        what = "<br>".join(escape(d.line()) for d in o.failures) or escape(o.message)
        notes = "<br>".join(escape(d.line()) for d in o.notes)
        rows.append(f"| {o.dataset} | {o.strategy} | {o.status} | {what} | {notes} |")
    return "\n".join(rows) + "\n"


def junit(outcomes: list[Outcome]) -> str:
    failures = sum(o.status in FAILING for o in outcomes)
    cases = []
    for o in outcomes:
        body = ""
        if o.status in FAILING:
            text = "\n".join(d.line() for d in o.failures) or o.message
            body = f"<failure message='{escape(o.status)}'>{escape(text)}</failure>"
        if o.notes:
            body += f"<system-out>{escape(chr(10).join(d.line() for d in o.notes))}</system-out>"
        cases.append(f"<testcase classname='regress.{o.dataset}' name='{escape(o.strategy)}' "
                     f"time='{o.seconds:.3f}'>{body}</testcase>")
    return (f"<?xml version='1.0' encoding='utf-8'?>\n<testsuite name='flowbt-regress' tests='{len(outcomes)}' "
            f"failures='{failures}'>\n" + "\n".join(cases) + "\n</testsuite>\n")


def failed(outcomes: list[Outcome]) -> bool:
    return any(o.status in FAILING for o in outcomes)
