"""The sweep folder and its tear sheet (HTML and PDF): verdict, luck statistics, ranked table, heatmap.

results/sweeps/<strategy>/<stamp>/ holds sweep.parquet (params + metrics, ranked), returns.parquet (daily
returns of the kept configs, and the benchmark), stats.json, sweep.json (grid, data, timing) and
tearsheet.html / tearsheet.pdf with figures/*.png. The sheet is a `research.report.render.Document`, rendered
like a run's tear sheet (header card, synthetic banner, KPI strip, the A4 PDF).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from research import registry
from research.atomic import atomic_folder
from research.report.figures import _log_ticks, styled
from research.report.render import (
    KV,
    Document,
    Fig,
    Note,
    Raw,
    Section,
    Table,
    fmt,
    fmt_date,
    kv_html,
    table_html,
)
from research.report.tearsheet import kpi_strip, write_document
from research.run import RESULTS, write_json
from research.sweep import figures as F
from research.sweep.verdict import DSR_LEVEL, SPA_LEVEL, SweepStats, analyse

if TYPE_CHECKING:  # annotations only: the runner imports this module to write a result
    from research.sweep.runner import SweepResult

TABLE_ROWS = 25
SHOWN = ("sharpe", "active_sharpe", "sortino", "cagr", "volatility", "max_drawdown", "turnover")
PCT = {"cagr", "volatility", "max_drawdown", "active_return", "total_return"}
SECTION_KEYS = ("header", "luck", "ranked", "heatmap")
#: Column headings of the sheet's ranked table.
HEADINGS = {"sharpe": "Sharpe", "active_sharpe": "active Sharpe", "sortino": "Sortino", "cagr": "CAGR",
            "volatility": "volatility", "max_drawdown": "max drawdown", "turnover": "turnover"}


def score_label(score: str) -> str:
    """'active Sharpe' for active_sharpe: the score as words."""
    return HEADINGS.get(score, score.replace("_", " "))


def figure(name: str, make: Callable[..., Figure], *args: Any, caption: str = "") -> Fig:
    """A sweep figure built under the tear-sheet style (log axes with plain ticks: 1, 2, 5), as a block."""
    fig = styled(make)(*args)
    for ax in fig.axes:
        if ax.get_yscale() == "log":
            _log_ticks(ax, *ax.get_ylim())
        if ax.images:  # no grid lines across the cells of a heatmap
            ax.grid(False)
    return Fig(name, fig, caption)


def is_synthetic(data_name: str) -> bool:
    """Whether a data set's name is the synthetic market's (`synthetic(seed=..., ...)`)."""
    return str(data_name).startswith("synthetic")


def synthetic_banner() -> Note:
    return Note("SYNTHETIC DATA — a simulated market with planted, documented mechanisms. These results are not "
                "market history and say nothing about real returns.", "banner")


def meta_block(left: KV, right: KV) -> Raw:
    """Two definition tables side by side (one under the other in the PDF), as in the run tear sheet's header."""
    return Raw(f"<div class='meta'><div>{kv_html(left)}</div><div>{kv_html(right)}</div></div>", [left, right])


def verdict_block(title: str, text: str, good: bool) -> Raw:
    """A sentence stated prominently: a green or amber box with a bold lead-in."""
    kind = "ok" if good else "warn"
    return Raw(f"<p class='{kind} lead'><b>{html.escape(title)}</b> {html.escape(text)}</p>",
               [Note(f"{title} {text}", kind)])


def hypothesis_block(strategy: str) -> Raw | None:
    """The strategy's hypothesis when it is registered (a sweep may be of an unregistered Strategy object)."""
    from research.errors import ConfigError

    try:
        text = registry.get(strategy).hypothesis
    except ConfigError:
        return None
    if not text:
        return None
    return Raw(f"<p class='hypothesis'><b>Hypothesis.</b> {html.escape(text)}</p>",
               [Note(f"Hypothesis. {text}", "lead")])


def sweep_folder(strategy: str, out: Path | None = None) -> Path:
    if out is not None:
        return Path(out)
    return RESULTS / "sweeps" / strategy / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def heatmap_axes(result: SweepResult, choice: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """The two heatmap parameters: `choice`, else the two varied parameters with the most values."""
    if choice:
        for c in choice:
            if c not in result.table.columns:
                from research.errors import ConfigError

                raise ConfigError(f"--heatmap: {c!r} is not a parameter of {result.strategy}.")
        return choice
    counts = {k: result.table[k].nunique() for k in result.varied}
    ranked = sorted(counts, key=lambda k: -counts[k])
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None


def ranked_table(result: SweepResult, rows: int = TABLE_ROWS) -> pd.DataFrame:
    t = result.table.head(rows)
    cols = [c for c in SHOWN if c in t.columns and t[c].notna().any()]
    out = pd.DataFrame(index=t.index)
    out["params"] = [result.label(int(c)) for c in t.index]
    for c in cols:
        out[c] = [fmt(v, "pct" if c in PCT else "num") for v in t[c].to_numpy(dtype=float)]
    out.index.name = "config"
    return out


def _label(result: SweepResult) -> str:
    return score_label(result.score)


def sheet_table(result: SweepResult, rows: int = TABLE_ROWS) -> pd.DataFrame:
    """The sheet's ranked table, best first: config id, one column per varied parameter, the metrics."""
    t = result.table.head(rows)
    keys = result.varied or list(result.table.attrs["params"])
    out = pd.DataFrame(index=pd.Index([str(c) for c in t.index], name="config"))
    for k in keys:
        out[k] = [str(v) for v in t[k].to_numpy()]
    metrics = [result.score] + [c for c in SHOWN if c != result.score]
    for c in metrics:
        if c in t.columns and t[c].notna().any():
            out[HEADINGS.get(c, c)] = [fmt(v, "pct", 1) if c in PCT else fmt(v) for v in t[c].to_numpy(dtype=float)]
    return out


def _kpis(result: SweepResult, st: SweepStats) -> Raw:
    row = result.table.loc[result.best]
    b = st.bootstrap
    ci = f"{b.level:.0%} CI [{fmt(b.lower)}, {fmt(b.upper)}]" if b is not None else "no bootstrap interval"
    cagr, mdd = row.get("cagr"), row.get("max_drawdown")
    tiles: list[tuple[str, str, str, float | None]] = [(f"Best {_label(result)}", fmt(st.score), ci, st.score)]
    if result.benchmark:
        tiles.append(("Its Sharpe", fmt(st.sharpe), f"CAGR {fmt(cagr, 'pct', 1)}, max DD {fmt(mdd, 'pct', 1)}",
                      st.sharpe))
    else:
        tiles.append(("Its CAGR", fmt(cagr, "pct", 1), f"max drawdown {fmt(mdd, 'pct', 1)}", cagr))
    tiles += [
        ("SPA p-value (decides)", fmt(st.spa.consistent, "num", 3) if st.spa is not None else "n/a",
         f"all {st.spa.n_strategies:,} configs; real below {SPA_LEVEL}" if st.spa is not None else "not run",
         None),
        ("Best from luck", fmt(st.expected_max_sharpe), f"expected best of {st.n_trials:,} trials", None),
        ("Deflated Sharpe probability", fmt(st.dsr), f"PSR {fmt(st.psr)}; diagnostic", None),
        ("PBO", fmt(st.pbo.pbo) if st.pbo is not None else "n/a",
         f"top {st.pbo.n_configs} configs; diagnostic" if st.pbo is not None else "too few returns kept", None),
    ]
    return kpi_strip(tiles)


def _header(result: SweepResult, st: SweepStats) -> Section:
    t = result.table
    idx = result.returns.index
    period = (f"{fmt_date(idx[0])} to {fmt_date(idx[-1])} ({len(idx):,} sessions, {len(idx) / 252:.1f} years)"
              if len(idx) else "no returns kept")
    sec = Section("header", result.strategy)
    if is_synthetic(result.data_name):
        sec.add(synthetic_banner())
    if (hyp := hypothesis_block(result.strategy)) is not None:
        sec.add(hyp)
    sec.add(verdict_block(f"Verdict: {st.verdict}.", st.statement, st.verdict == "real"))
    sec.add(_kpis(result, st))
    against = ((f" against {result.benchmark} x each config's average exposure" if result.matched
                else f" against {result.benchmark}") if result.benchmark else " (no benchmark: raw returns)")
    left = KV([
        ("Configs", f"{len(t):,}"),
        ("Grid", "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in result.grid.items())),
        ("Ranked by", f"{result.score}{against}"),
        ("Best config", f"{result.best}: {result.label(result.best)}"),
    ], "Sweep")
    right = KV([
        ("Data", result.data_name),
        ("Period", period),
        ("Kernel", f"{result.kind} on executor '{result.executor}', {result.seconds:.1f} s "
                   f"({len(t) / max(result.seconds, 1e-9):,.0f} configs/s including preparation)"
                   + (f"; {result.compile_seconds:.1f} s compiling numba kernels first, not counted"
                      if result.compile_seconds >= 0.05 else "")),
        ("Sweep", result.sweep_id),
        ("Input hash", f"sha256 {result.data_hash}"),
    ], "Run")
    sec.add(meta_block(left, right))
    return sec


def _luck(result: SweepResult, st: SweepStats) -> Section:
    t = result.table
    label = _label(result)
    sec = Section("luck", "Is it luck? Deflated Sharpe, PBO, bootstrap, SPA",
                  intro=f"Does the best of {len(t):,} configurations still stand out once the number of "
                        "configurations tried is accounted for?")
    # labels short enough for the PDF's label column
    rows = [
        ("Trials counted", f"{st.n_trials:,} ({st.trials_source}, same data)"),
        ("Sharpe variance (annual)", f"{fmt(st.sr_variance * 252, 'num', 4)} across the trials"),
        ("Expected best from luck", f"{fmt(st.expected_max_sharpe)}: the best annual Sharpe ratio of "
                                    f"{st.n_trials:,} unskilled trials"),
        (f"Best {label}", f"{fmt(st.score)} (config {result.best})"),
        ("Probabilistic Sharpe (PSR)", f"{fmt(st.psr, 'num', 3)}: probability its true Sharpe ratio is above 0"),
        ("Deflated Sharpe prob.", f"{fmt(st.dsr, 'num', 3)} (clears the deflation at >= {DSR_LEVEL}; a "
                                   "diagnostic)"),
    ]
    if st.pbo is not None:
        rows.append(("PBO, top candidates", f"{fmt(st.pbo.pbo)} over the top {st.pbo.n_configs} (CSCV, "
                     f"{st.pbo.n_splits} blocks, {st.pbo.n_combinations:,} splits)"))
        rows.append(("P(OOS loss) of IS winner", f"{fmt(st.pbo.prob_oos_loss)}: share of splits where the in-sample "
                     f"winner's out-of-sample {label} is below 0"))
    if st.pbo_search is not None:
        rows.append(("PBO, whole search", f"{fmt(st.pbo_search.pbo)} over {st.pbo_search.n_configs} configs "
                     "spread evenly over the ranking"))
    if st.bootstrap is not None:
        b = st.bootstrap
        rows.append((f"Bootstrap {b.level:.0%} interval", f"[{fmt(b.lower)}, {fmt(b.upper)}] of the selected "
                     f"config's {label}, not adjusted for its selection (stationary, block {b.block}, {b.n} "
                     "resamples)"))
    if st.spa is not None:
        rows.append(("SPA p-value (Hansen)", f"{fmt(st.spa.consistent, 'num', 3)} over {st.spa.n_strategies:,} "
                     f"configs' active returns (consistent; lower {fmt(st.spa.lower, 'num', 3)}, upper "
                     f"{fmt(st.spa.upper, 'num', 3)}; block {st.spa.block}, {st.spa.reps} resamples)"))
    sec.add(KV(rows))
    sec.add(Note(f"The verdict: real when Hansen's SPA test rejects, at {SPA_LEVEL}, that no config of the whole "
                 "search beats the benchmark (its consistent p-value, studentized, stationary bootstrap over the "
                 "configs' active daily returns); otherwise likely luck. Why this test: the family is every config "
                 "tried, so picking the best is paid for; measured on the synthetic market (BENCHMARKS.md, "
                 "calibration), it calls luck in at least 97% of seeds with no edge and finds a planted edge at "
                 "twice the default strength in 99-100% of them. The deflated Sharpe probability (that the best "
                 "config's true Sharpe ratio beats the best of as many unskilled trials) and PBO (that the "
                 "in-sample best of the top candidates lands below their median out of sample) are diagnostics: "
                 "PBO is high for a real but weak edge shared by many near-identical configs, so it no longer "
                 "decides.", "muted"))
    sec.add(figure("score_histogram", F.score_histogram, t[result.score], st.expected_max_sharpe, st.score, label,
                   caption=f"The {label} of every config. Red: the best; dashed: the best Sharpe ratio expected "
                           f"from {st.n_trials:,} trials with no skill and the observed spread of their Sharpe "
                           "ratios. A best to the right of the dashed line is what skill would look like."))
    if st.pbo is not None:
        sec.add(figure("pbo", F.pbo_panel, st.pbo.logits, st.pbo.is_metric, st.pbo.oos_metric, st.pbo.pbo,
                       caption=f"Combinatorially symmetric cross-validation over the top {st.pbo.n_configs} "
                               f"candidates ({st.pbo.n_combinations:,} ways to split {st.pbo.n_splits} time blocks "
                               "into halves). Left: logit of the out-of-sample rank of each split's in-sample "
                               "winner; PBO is the share at or below 0. Right: that winner's in-sample Sharpe "
                               "against its out-of-sample Sharpe."))
    else:
        sec.add(Note("No PBO: fewer than two candidate configs or fewer than 32 sessions of kept returns.",
                     "empty"))
    return sec


def _ranked(result: SweepResult) -> Section:
    t = result.table
    sec = Section("ranked", f"Top {min(TABLE_ROWS, len(t))} configs",
                  intro="Which configurations rank highest, and how different are their equity curves?")
    table = Table(sheet_table(result), f"Ranked by {_label(result)}, best first")
    sec.add(Raw(f"<div style='overflow-x:auto'>{table_html(table)}</div>", [table]))  # wide grids scroll
    keep = [c for c in t.index[:10] if c in result.returns.columns]
    if keep:
        sec.add(figure("top_equity", F.top_equity, result.returns[keep], result.best, result.bench,
                       result.benchmark,
                       caption=f"Growth of 1 of the {len(keep)} best configs (grey), the best (blue) and the "
                               "benchmark (dashed), log scale, after costs. Nothing here corrects for luck: the "
                               "best curve is also the one luck flatters most."))
    return sec


def _heatmap(result: SweepResult, heatmap: tuple[str, str] | None) -> Section:
    axes = heatmap_axes(result, heatmap)
    title = f"Heatmap: {axes[0]} x {axes[1]}" if axes else "Heatmap"
    sec = Section("heatmap", title,
                  intro="Is the best an isolated peak, or part of a plateau of good configurations?")
    if axes is None:
        sec.add(Note("No heatmap: the grid varies fewer than two parameters.", "empty"))
        return sec
    x, y = axes
    label = _label(result)
    sec.add(figure("heatmap", F.heatmap, result.table, x, y, result.score, label,
                   caption=f"Each cell: the best {label} over the other parameters for that {y} and {x}. A "
                           "plateau of similar values is more credible than one bright cell."))
    return sec


def build_sections(result: SweepResult, heatmap: tuple[str, str] | None = None) -> list[Section]:
    """The sweep sheet's sections: header (verdict, key figures), luck statistics, ranked configs, heatmap."""
    st = result.stats or analyse(result)
    return [_header(result, st), _luck(result, st), _ranked(result), _heatmap(result, heatmap)]


def sweep_document(result: SweepResult, heatmap: tuple[str, str] | None = None) -> Document:
    idx = result.returns.index
    span = f" · {fmt_date(idx[0])} to {fmt_date(idx[-1])}" if len(idx) else ""
    against = f" against {result.benchmark}" if result.benchmark else ""
    return Document(
        title=f"{result.strategy} — sweep of {result.n_configs:,} configs",
        subtitle=f"{result.data_name}{span} · ranked by {_label(result)}{against}",
        sections=build_sections(result, heatmap), synthetic=is_synthetic(result.data_name),
        footer=f"sweep {result.sweep_id} · inputs sha256 {result.data_hash[:16]}",
    )


def write_sweep(result: SweepResult, out: Path | None = None, *, heatmap: tuple[str, str] | None = None,
                pdf: bool = True) -> Path:
    """Write the sweep folder and its tear sheet; returns the folder."""
    folder = sweep_folder(result.strategy, out)
    st = result.stats or analyse(result)
    with atomic_folder(folder) as work:  # renamed to `folder` once complete; removed on any failure
        _write_sweep(result, st, work, heatmap, pdf)
    return folder


def _write_sweep(result: SweepResult, st: SweepStats, folder: Path, heatmap: tuple[str, str] | None, pdf: bool) -> None:
    table = result.table.copy()
    for k in table.attrs.get("params", []):
        if table[k].dtype == object:
            table[k] = table[k].astype(str)
    table.attrs = {}
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.to_parquet(folder / "sweep.parquet")
    rets = result.returns.copy()
    rets.columns = [f"config_{c}" for c in rets.columns]
    if result.bench is not None:
        rets[f"benchmark_{result.benchmark}"] = result.bench.reindex(rets.index)
    rets.to_parquet(folder / "returns.parquet")
    write_json(folder / "stats.json", st.to_dict())
    write_json(folder / "sweep.json", _meta(result))
    write_document(sweep_document(result, heatmap), folder / "tearsheet.html", pdf=pdf)


def _meta(result: SweepResult) -> dict[str, Any]:
    return {
        "strategy": result.strategy, "sweep_id": result.sweep_id, "grid": result.grid, "varied": result.varied,
        "n_configs": result.n_configs, "score": result.score, "benchmark": result.benchmark, "kind": result.kind,
        "executor": result.executor, "seconds": round(result.seconds, 3), "data_name": result.data_name,
        "data_hash": result.data_hash, "best": result.best, "best_params": result.params(result.best),
        "kept_returns": [int(c) for c in result.returns.columns], "pbo_configs": result.pbo_ids,
        "search_configs": result.search_ids,
    }
