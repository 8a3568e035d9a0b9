"""The comparison sheet: several saved runs side by side (`flowbt report RUN_DIR RUN_DIR ...`).

Sections: header (the runs, their data and a warning when their inputs differ), metrics (headline numbers and
Sharpe intervals side by side), equity (growth of 1 and drawdowns together), correlation (of daily and monthly
returns, on the sessions common to all runs) and rolling (52-week Sharpe and volatility).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd

from research.analytics import metrics as M
from research.errors import ConfigError
from research.report import figures as F
from research.report.load import RunRecord, load_run
from research.report.render import KV, Document, Fig, Note, Section, Table, fmt, fmt_date
from research.report.tearsheet import LEVEL, headline_frame, sharpe_ci, write_document

COMPARISON_KEYS = ("header", "metrics", "equity", "correlation", "rolling")


def run_labels(recs: list[RunRecord]) -> list[str]:
    """Strategy names, with the folder name added where two runs share a strategy."""
    names = [r.name for r in recs]
    labels = [f"{r.name} ({r.folder.name})" if names.count(r.name) > 1 else r.name for r in recs]
    if len(set(labels)) < len(labels):  # same strategy, same folder name: number them
        labels = [f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels


def _header(recs: list[RunRecord], labels: list[str]) -> Section:
    sec = Section("header", "Strategy comparison")
    if any(r.synthetic for r in recs):
        which = "all runs" if all(r.synthetic for r in recs) else "some runs (marked below)"
        sec.add(Note(f"SYNTHETIC DATA in {which} — a simulated market with planted mechanisms, not market "
                     "history.", "banner"))
    rows = []
    for r, lab in zip(recs, labels, strict=True):
        ret = r.returns.dropna()
        rows.append({
            "run": lab, "hypothesis": str(r.config.get("hypothesis", "")),
            "data": str(r.config.get("data", "")) + (" (synthetic)" if r.synthetic else ""),
            "period": f"{fmt_date(ret.index[0])} to {fmt_date(ret.index[-1])}",
            "parameters": ", ".join(f"{k}={v}" for k, v in r.config.get("params", {}).items()),
            "input hash": str((r.provenance or {}).get("data_hash", ""))[:12],
            "folder": str(r.folder),
        })
    sec.add(Table(pd.DataFrame(rows).set_index("run"), "Runs", text=("hypothesis", "data", "period", "parameters",
                                                                     "input hash", "folder"),
                  pdf_records=True, cls="wide"))
    hashes = {str((r.provenance or {}).get("data_hash", "")) for r in recs}
    if len(hashes) > 1:
        sec.add(Note("These runs read different inputs (their input hashes differ): differences between them mix "
                     "strategy and data.", "warn"))
    spans = {(r.returns.dropna().index[0], r.returns.dropna().index[-1]) for r in recs}
    if len(spans) > 1:
        sec.add(Note("The runs cover different periods: headline metrics are over each run's own period; "
                     "correlations use the sessions common to all.", "warn"))
    return sec


def _metrics(recs: list[RunRecord], labels: list[str]) -> Section:
    sec = Section("metrics", "Headline metrics side by side", pdf_new_page=False,
                  intro="Each run after its own costs, over its own period.")
    table = headline_frame({lab: r.metrics for r, lab in zip(recs, labels, strict=True)})
    cis = [f"[{fmt(c.lower)}, {fmt(c.upper)}]" if (c := sharpe_ci(r.returns)) is not None else "n/a" for r in recs]
    table.loc[f"Sharpe {LEVEL:.0%} bootstrap interval"] = cis
    sec.add(Table(table))
    return sec


def _equity(rets: pd.DataFrame) -> Section:
    sec = Section("equity", "Equity curves and drawdowns", intro="How did the runs' wealth evolve together?")
    sec.add(Fig("equity", partial(F.equity_comparison, rets),
                "Wealth from 1 at each run's first session, log scale."))
    sec.add(Fig("drawdowns", partial(F.drawdown_comparison, rets), "Loss from each run's previous high-water mark."))
    return sec


def _correlation(rets: pd.DataFrame) -> Section:
    sec = Section("correlation", "Return correlations",
                  intro="Do the runs diversify each other, or are they the same bet?")
    common = rets.dropna()
    if len(common) < 20:
        sec.add(Note(f"Too few common sessions ({len(common)}) to correlate the runs.", "empty"))
        return sec
    daily = common.corr()
    monthly = common.groupby([common.index.year, common.index.month]).apply(lambda g: (1 + g).prod() - 1).corr()
    sec.add(Fig("correlation", partial(F.correlation_matrix, daily, "Correlation of daily returns"),
                f"Pearson correlation over the {len(common):,} sessions common to all runs."))
    sec.add(Table(monthly.map(lambda v: fmt(v)), "Correlation of monthly returns"))
    return sec


def _rolling(rets: pd.DataFrame) -> Section:
    sec = Section("rolling", "Rolling 52-week Sharpe and volatility",
                  intro="Did the runs work at the same times?")
    sharpe = pd.DataFrame({c: M.rolling_sharpe(rets[c].dropna(), 252) for c in rets.columns})
    vol = pd.DataFrame({c: M.rolling_volatility(rets[c].dropna(), 252) for c in rets.columns})
    sec.add(Fig("rolling_sharpe", partial(F.rolling_comparison, sharpe, "Rolling 52-week Sharpe ratio"),
                "Trailing 252 sessions of each run."))
    sec.add(Fig("rolling_vol",
                partial(F.rolling_comparison, vol, "Rolling 52-week volatility (annualised)", pct=True),
                "Trailing 252 sessions of each run."))
    return sec


def write_comparison(folders: list[Path], out: Path, *, pdf: bool = True) -> Path:
    """Write comparison.html, comparison.pdf and figures/*.png of several run folders into `out`."""
    folders = [Path(f) for f in folders]
    if len(folders) < 2:
        raise ConfigError(f"a comparison needs at least two run folders, got {len(folders)}")
    return write_document(comparison_document([load_run(f) for f in folders]), Path(out) / "comparison.html",
                          pdf=pdf)


def comparison_document(recs: list[RunRecord]) -> Document:
    """The comparison sheet of several run records (from folders or in memory), figures not yet drawn."""
    if len(recs) < 2:
        raise ConfigError(f"a comparison needs at least two runs, got {len(recs)}")
    labels = run_labels(recs)
    rets = pd.concat([r.returns.rename(lab) for r, lab in zip(recs, labels, strict=True)], axis=1).sort_index()
    sections = [_header(recs, labels), _metrics(recs, labels), _equity(rets), _correlation(rets), _rolling(rets)]
    start, end = rets.dropna(how="all").index[[0, -1]]
    return Document(title="Strategy comparison", subtitle=f"{len(recs)} runs · {', '.join(labels)} · "
                    f"{fmt_date(start)} to {fmt_date(end)}", sections=sections,
                    synthetic=any(r.synthetic for r in recs), footer=f"comparison of {len(recs)} runs")


__all__ = ["COMPARISON_KEYS", "KV", "comparison_document", "run_labels", "write_comparison"]
