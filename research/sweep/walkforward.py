"""Walk-forward analysis: choose parameters in sample by a stated rule, trade them out of sample, stitch.

Splits are by calendar year of the run's sessions. Fold f tests the `test_years` years starting at year
`train_years + f * test_years` of the run (the first, partial, year counts as one) and trains on
  - anchored: every year before the test window,
  - rolling: the `train_years` years just before it.
One kernel pass over every config accumulates per-year (n, mean, M2) of the scored returns (active against
the benchmark when there is one, as the sweep), so each fold's in-sample Sharpe is exact for any window.

Rule "max_score" (the only one): the config with the highest in-sample score (annualised Sharpe of the
scored returns over the training window); ties go to the first config in grid order; undefined scores lose.

The out-of-sample run is one portfolio: from the first test window on, each decision takes the target row of
the config chosen for the fold its decision date falls in, and the engine (vectorbt) trades the stitched
weights once, so switching costs are paid. That run gets a full run folder and tear sheet (`oos/`), and the
walk-forward sheet shows the folds, in- against out-of-sample scores, and the stitched equity curve.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from research import registry
from research.analytics.metrics import summary
from research.backtest.benchmarks import benchmark_returns
from research.backtest.config import ExecutionConfig
from research.backtest.engine import BacktestResult, backtest
from research.data.market import MarketData
from research.errors import ConfigError
from research.run import RESULTS, headline_metrics, save_run, write_json
from research.strategy import Strategy
from research.sweep import kernel, plans
from research.sweep.executors import progress_enabled
from research.sweep.grid import MAX_CONFIGS, expand
from research.sweep.runner import evaluate, make_job, resolve_benchmark

if TYPE_CHECKING:
    from research.report.render import Document

Scheme = Literal["anchored", "rolling"]
RULES = ("max_score",)


@dataclass
class Fold:
    fold: int
    train: list[int]  # year segments
    test: list[int]


@dataclass
class WalkForwardResult:
    strategy: str
    scheme: str
    rule: str
    folds: pd.DataFrame  # one row per fold: spans, chosen config and params, IS and OOS scores
    oos: BacktestResult  # the stitched out-of-sample run (engine)
    oos_metrics: dict[str, Any]
    bench: pd.Series | None
    benchmark: str | None
    score: str
    n_configs: int
    params: list[dict[str, Any]]
    seconds: float
    data_name: str

    @property
    def oos_returns(self) -> pd.Series:
        return self.oos.returns

    @property
    def oos_sharpe(self) -> float:
        return float(self.oos_metrics["sharpe"])

    @property
    def oos_active_sharpe(self) -> float:
        return float(self.oos_metrics.get("active_sharpe", float("nan")))


def make_folds(years: Sequence[int], scheme: Scheme, train_years: int, test_years: int) -> list[Fold]:
    """Folds over year segments 0..len(years)-1 (see the module docstring)."""
    if scheme not in ("anchored", "rolling"):
        raise ConfigError(f"walk-forward scheme must be 'anchored' or 'rolling', got {scheme!r}.")
    if train_years < 1 or test_years < 1:
        raise ConfigError(f"train_years and test_years must be >= 1, got {train_years}, {test_years}.")
    n = len(years)
    folds = []
    start = train_years
    while start < n:
        test = list(range(start, min(start + test_years, n)))
        train = list(range(0, start)) if scheme == "anchored" else list(range(start - train_years, start))
        folds.append(Fold(len(folds), train, test))
        start += test_years
    if not folds:
        raise ConfigError(f"{n} year(s) of data leave nothing to test after {train_years} training year(s); "
                          "use fewer training years or more data.")
    return folds


def walk_forward(
    strategy: Strategy | str,
    data: MarketData,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    scheme: Scheme = "anchored",
    train_years: int = 5,
    test_years: int = 1,
    rule: str = "max_score",
    base: Mapping[str, Any] | None = None,
    config: ExecutionConfig | None = None,
    benchmark: str | None = "auto",
    fused: bool = True,
    ex: Any = None,
    progress: bool | None = None,
    max_configs: int = MAX_CONFIGS,
) -> WalkForwardResult:
    """Run a walk-forward of `strategy` over `grid` (its own by default); see the module docstring."""
    from research.run import default_config
    from research.sweep.executors import LocalExecutor

    if rule not in RULES:
        raise ConfigError(f"walk-forward rule must be one of {', '.join(RULES)}; got {rule!r}.")
    t0 = time.perf_counter()
    strat = registry.get(strategy) if isinstance(strategy, str) else strategy
    params = expand(strat, grid, base, max_configs=max_configs)
    plan = plans.prepare(strat, data, params, fused=fused)
    cfg = config or default_config(strat)
    bench_name = resolve_benchmark(benchmark, strat, plan.tickers)
    bench = benchmark_returns(data.prices, plan.dates, cfg, (bench_name,))[bench_name] if bench_name else None
    index = kernel.run_index(data.prices, plan.dates)
    years = sorted(set(index.year))
    seg_of = (index.year - years[0]).to_numpy().astype(np.int64)
    folds = make_folds(years, scheme, train_years, test_years)
    job = make_job(plan, data, cfg, bench, segments=seg_of)
    size = max(256, -(-plan.size // 20)) if plan.fused else 1
    _, seg, _ = evaluate(job, ex or LocalExecutor(), size, progress_enabled(progress), f"walk-forward {strat.name}")

    rows = []
    chosen_by_fold = []
    for f in folds:
        train = np.zeros(len(years), dtype=bool)
        train[f.train] = True
        test = np.zeros(len(years), dtype=bool)
        test[f.test] = True
        is_score = kernel.segment_sharpe(seg, train)
        oos_score = kernel.segment_sharpe(seg, test)
        ranked = np.where(np.isfinite(is_score), is_score, -np.inf)
        c = int(np.argmax(ranked))
        chosen_by_fold.append(c)
        rows.append({
            "fold": f.fold,
            "train_start": index[seg_of == f.train[0]][0].date(), "train_end": index[seg_of == f.train[-1]][-1].date(),
            "oos_start": index[seg_of == f.test[0]][0].date(), "oos_end": index[seg_of == f.test[-1]][-1].date(),
            "config": c, "params": _label(params[c], plan, params),
            "is_score": float(is_score[c]), "oos_score": float(oos_score[c]),
            "oos_rank": int((oos_score > oos_score[c]).sum() + 1),
        })
    table = pd.DataFrame(rows)

    # the stitched out-of-sample portfolio, traded by the engine
    dates = pd.DatetimeIndex(plan.dates)
    fold_of_date = np.full(len(dates), -1)
    for f, row in zip(folds, rows, strict=True):
        lo, hi = pd.Timestamp(row["oos_start"]), pd.Timestamp(row["oos_end"])
        fold_of_date[(dates >= lo) & (dates <= hi)] = f.fold
    keep = fold_of_date >= 0
    cache: dict[int, pd.DataFrame] = {}
    pieces = []
    for fold, c in enumerate(chosen_by_fold):
        if c not in cache:
            cache[c] = plan.weights(c) if plan.fused else strat.weights(data, **params[c])
        pieces.append(cache[c].loc[dates[keep & (fold_of_date == fold)]])
    stitched = pd.concat(pieces).astype(float)
    stitched.index.name = "date"
    result = backtest(data.prices, stitched, cfg)
    oos_bench = benchmark_returns(data.prices, pd.DatetimeIndex(stitched.index), cfg)
    metrics = headline_metrics(result, oos_bench)
    if bench_name:
        active = result.returns - oos_bench[bench_name].reindex(result.returns.index)
        metrics["active_sharpe"] = summary(active)["sharpe"]
        metrics["active_benchmark"] = bench_name
    return WalkForwardResult(
        strategy=strat.name, scheme=scheme, rule=rule, folds=table, oos=result, oos_metrics=metrics,
        bench=oos_bench[bench_name] if bench_name else None, benchmark=bench_name,
        score="active_sharpe" if bench is not None else "sharpe", n_configs=plan.size, params=params,
        seconds=time.perf_counter() - t0, data_name=data.name,
    )


def _label(p: dict[str, Any], plan: Any, params: list[dict[str, Any]]) -> str:
    from research.sweep.grid import varied

    keys = varied(params) or list(p)
    return ", ".join(f"{k}={p[k]}" for k in keys)


def write_walkforward(wf: WalkForwardResult, data: MarketData, out: Path | None = None, *, pdf: bool = True,
                      run_tearsheet: bool = True) -> Path:
    """results/walkforward/<strategy>/<stamp>/: folds.csv, summary.json, the sheet, and oos/ (a run folder)."""
    from research.atomic import atomic_folder

    folder = Path(out) if out is not None else (
        RESULTS / "walkforward" / wf.strategy / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"))
    with atomic_folder(folder) as work:  # renamed to `folder` once complete; removed on any failure
        _write_walkforward(wf, data, work, pdf, run_tearsheet)
    return folder


def _write_walkforward(wf: WalkForwardResult, data: MarketData, folder: Path, pdf: bool, run_tearsheet: bool) -> None:
    from research.report.tearsheet import write_document

    wf.folds.to_csv(folder / "folds.csv", index=False)
    strat = registry.get(wf.strategy)
    run_dir = folder / "oos"
    bench = benchmark_returns(data.prices, pd.DatetimeIndex(wf.oos.target.index), wf.oos.config)
    params = {"walk_forward": {"scheme": wf.scheme, "rule": wf.rule, "n_configs": wf.n_configs,
                               "folds": wf.folds.astype(str).to_dict(orient="records")}}
    save_run(run_dir, strat, params, wf.oos.config, data, wf.oos, bench, wf.oos_metrics, wf.seconds)
    if run_tearsheet:
        from research.report.tearsheet import write_tearsheet

        write_tearsheet(run_dir, pdf=pdf)
    doc = walkforward_document(wf, data, strat.hypothesis, run_tearsheet=run_tearsheet)
    write_document(doc, folder / "tearsheet.html", pdf=pdf)
    write_json(folder / "summary.json", {"strategy": wf.strategy, "scheme": wf.scheme, "rule": wf.rule,
                                         "n_configs": wf.n_configs, "oos_metrics": wf.oos_metrics,
                                         "seconds": round(wf.seconds, 3)})


def walkforward_document(wf: WalkForwardResult, data: MarketData, hypothesis: str = "", *,
                         run_tearsheet: bool = True) -> Document:
    """The walk-forward sheet as a `research.report.render.Document`: header (summary, key figures) and folds."""
    import html

    from research.report.render import KV, Document, Note, Raw, Section, Table, fmt, fmt_date
    from research.report.tearsheet import kpi_strip
    from research.sweep import figures as F
    from research.sweep.report import figure, meta_block, score_label, synthetic_banner

    m, folds = wf.oos_metrics, wf.folds
    start, end = fmt_date(folds["oos_start"].iloc[0]), fmt_date(folds["oos_end"].iloc[-1])
    score = score_label(wf.score)
    is_mean, oos_mean = float(folds["is_score"].mean()), float(folds["oos_score"].mean())

    head = Section("header", wf.strategy)
    if data.synthetic:
        head.add(synthetic_banner())
    if hypothesis:
        head.add(Raw(f"<p class='hypothesis'><b>Hypothesis.</b> {html.escape(hypothesis)}</p>",
                     [Note(f"Hypothesis. {hypothesis}", "lead")]))
    head.add(Note(f"Out of sample, {start} to {end}, trading each fold's config chosen by its in-sample {score} "
                  f"gave a Sharpe ratio of {fmt(m.get('sharpe'))} and a CAGR of {fmt(m.get('cagr'), 'pct', 1)}. The "
                  f"chosen configs scored {fmt(is_mean)} in sample and {fmt(oos_mean)} out of sample on average.",
                  "lead"))
    tiles: list[tuple[str, str, str, float | None]] = [
        ("OOS Sharpe", fmt(m.get("sharpe")), f"{len(folds)} folds stitched", m.get("sharpe")),
    ]
    if wf.benchmark:
        tiles.append(("OOS active Sharpe", fmt(m.get("active_sharpe")), f"against {wf.benchmark}",
                      m.get("active_sharpe")))
    tiles += [
        ("OOS CAGR", fmt(m.get("cagr"), "pct", 1), f"total {fmt(m.get('total_return'), 'pct', 0)}", m.get("cagr")),
        ("OOS max drawdown", fmt(m.get("max_drawdown"), "pct", 1), f"volatility {fmt(m.get('volatility'), 'pct', 1)}",
         None),
        ("Chosen, in sample", fmt(is_mean), f"mean {score} of the picks", is_mean),
        ("Chosen, out of sample", fmt(oos_mean), f"mean {score}, next window", oos_mean),
    ]
    head.add(kpi_strip(tiles))
    left = KV([
        ("Scheme", f"{wf.scheme}, {len(folds)} folds"),
        ("Rule", f"{wf.rule}: the highest in-sample {wf.score}; ties to the first config in grid order"),
        ("Configs per fold", f"{wf.n_configs:,}"),
        ("Out of sample", f"{start} to {end}"),
    ], "Walk-forward")
    right = KV([
        ("Data", wf.data_name),
        ("Benchmark", wf.benchmark or "none"),
        ("Run time", f"{wf.seconds:.1f} s"),
        ("Out-of-sample run", "oos/ (a run folder" + (" with its own tear sheet)" if run_tearsheet else ")")),
    ], "Run")
    head.add(meta_block(left, right))

    sec = Section("folds", "Folds", intro="Which config did each fold choose, and did it hold up out of sample?")
    show = pd.DataFrame({
        "train": [f"{fmt_date(a)} to {fmt_date(b)}" for a, b in zip(folds["train_start"], folds["train_end"],
                                                                    strict=True)],
        "out of sample": [f"{fmt_date(a)} to {fmt_date(b)}" for a, b in zip(folds["oos_start"], folds["oos_end"],
                                                                            strict=True)],
        "config": [str(c) for c in folds["config"]], "params": [str(p) for p in folds["params"]],
        f"IS {score}": [fmt(v) for v in folds["is_score"]], f"OOS {score}": [fmt(v) for v in folds["oos_score"]],
        "OOS rank": [f"{int(k)} of {wf.n_configs}" for k in folds["oos_rank"]],
    }, index=pd.Index([str(f) for f in folds["fold"]], name="fold"))
    sec.add(Table(show, "One row per fold: the training window, the test window, the chosen config",
                  text=("train", "out of sample", "params")))
    sec.add(figure("oos_equity", F.walkforward_equity, wf.oos_returns, wf.bench, folds, wf.strategy,
                   caption="Growth of 1 of the stitched out-of-sample portfolio (one engine run, switching costs "
                           "paid) against the benchmark, log scale; dotted lines mark the start of each fold."))
    sec.add(figure("is_oos", F.is_oos_bars, folds,
                   caption=f"Each fold's chosen config: its in-sample {score} (grey) and its {score} in the "
                           "following test window (blue). Out-of-sample bars well below the in-sample ones are "
                           "the cost of choosing by in-sample performance."))
    return Document(
        title=f"{wf.strategy} — walk-forward ({wf.scheme})",
        subtitle=f"{wf.data_name} · out of sample {start} to {end} · {len(folds)} folds of {wf.n_configs:,} configs",
        sections=[head, sec], synthetic=bool(data.synthetic),
        footer=f"{wf.strategy} · walk-forward, {wf.scheme}, rule {wf.rule}",
    )
