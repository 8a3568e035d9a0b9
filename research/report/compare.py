"""The comparison sheet: several saved runs side by side (`flowbt report RUN_DIR RUN_DIR ...`).

Sections: header (the runs, labelled by what differs between them, and a settings table: strategy, data,
period, parameters, execution and costs, with the rows that differ marked), metrics (headline numbers and Sharpe
intervals side by side), equity (growth of 1 and drawdowns together), correlation (of daily and monthly returns,
on the sessions common to all runs, and only between runs on the same data) and rolling (52-week Sharpe and
volatility).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from research.analytics import metrics as M
from research.errors import ConfigError
from research.report import figures as F
from research.report.load import RunRecord, load_run
from research.report.render import KV, Document, Fig, Note, Section, Table, fmt, fmt_date
from research.report.tearsheet import LEVEL, headline_frame, sharpe_ci, write_document

COMPARISON_KEYS = ("header", "metrics", "equity", "correlation", "rolling")


#: Execution settings shown in the settings table (keys of config.json's "execution"), with their labels.
EXECUTION = (("fill", "fill"), ("fees_bps", "fees (bp)"), ("slippage_bps", "slippage (bp)"),
             ("borrow_bps", "borrow (bp/yr)"), ("cash_rate", "cash interest"), ("no_trade_band", "no-trade band"),
             ("max_gross", "max gross"), ("max_net", "max |net|"), ("init_cash", "initial cash"))


def _text(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:,}"
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)


def settings(rec: RunRecord) -> dict[str, str]:
    """What defines a run, as text: strategy, data, period, each parameter, the execution and costs."""
    cfg = rec.config or {}
    ex = cfg.get("execution", {}) or {}
    r = rec.returns.dropna()
    out = {"strategy": rec.name, "data": str(cfg.get("data", "")) + (" (synthetic)" if rec.synthetic else ""),
           "period": f"{fmt_date(r.index[0])} to {fmt_date(r.index[-1])}" if len(r) else "no returns"}
    out.update({f"{k}": _text(v) for k, v in (cfg.get("params", {}) or {}).items()})
    out.update({label: _text(ex[key]) for key, label in EXECUTION if key in ex})
    return out


def run_labels(recs: list[RunRecord]) -> list[str]:
    """A label per run saying what sets it apart: its strategy when the runs' strategies differ, then each
    setting (data, parameter, fill, cost) in which it departs from the runs it could be confused with (those of
    its strategy for parameters, all runs for data and execution). Where most runs share a value, only the others
    name it; where no value is shared, every run names its own. Runs that differ in nothing get their folder's
    name, or a number."""
    sets = [settings(r) for r in recs]
    names = [r.name for r in recs]
    execution = set(dict(EXECUTION).values())
    labels = []
    for i, mine in enumerate(sets):
        parts = [names[i]] if len(set(names)) > 1 else []
        for key, val in mine.items():
            if key in ("strategy", "period"):
                continue
            pool = [s.get(key) for j, s in enumerate(sets)
                    if key == "data" or key in execution or names[j] == names[i]]
            values = pd.Series(pool).value_counts()
            if len(values) < 2:
                continue
            shared = values.iloc[0] > 1 and (len(values) == 1 or values.iloc[0] > values.iloc[1])
            if not shared or val != values.index[0]:
                parts.append(val.removesuffix(" (synthetic)") if key == "data" else f"{key}={val}")
        labels.append(" · ".join(parts) or names[i])
    for lab in {lab for lab in labels if labels.count(lab) > 1}:  # nothing differs: the folder, else a number
        same = [i for i, x in enumerate(labels) if x == lab]
        folders = [recs[i].folder.name for i in same]
        for k, i in enumerate(same):
            labels[i] = f"{lab} ({folders[k]})" if len(set(folders)) == len(folders) else f"{lab} #{k + 1}"
    return labels


def data_groups(recs: list[RunRecord]) -> list[list[int]]:
    """Indices of the runs that read the same inputs (their input hash; their data name without one)."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(recs):
        key = str((r.provenance or {}).get("data_hash") or r.config.get("data", ""))
        groups.setdefault(key, []).append(i)
    return list(groups.values())


#: Up to this many runs the settings table has a column per run; beyond it, a row per run (it stays narrow).
WIDE_RUNS = 6
_IDENTITY = ("strategy", "data", "period")


def settings_blocks(recs: list[RunRecord], labels: list[str]) -> list[Table | Note]:
    """The settings table (what differs, marked ≠, and what identifies each run) and a note of what all runs
    share. Up to WIDE_RUNS runs, a column per run; beyond, a row per run with the differing settings joined."""
    sets = [settings(r) for r in recs]
    keys = list(dict.fromkeys(k for s in sets for k in s))
    differ = [k for k in keys if len({s.get(k, "—") for s in sets}) > 1]
    shown = [k for k in keys if k in differ or k in _IDENTITY]
    shared = [f"{k}={sets[0][k]}" for k in keys if k not in shown]
    hashes = [str((r.provenance or {}).get("data_hash", ""))[:8] or "—" for r in recs]
    if len(recs) <= WIDE_RUNS:
        rows = {("≠ " if k in differ else "") + k: [s.get(k, "—") for s in sets] for k in shown}
        rows["input hash"] = hashes
        table = pd.DataFrame(rows, index=labels).T
        table.index.name = "setting"
        out: list[Table | Note] = [Table(table, "Settings (≠ marks what differs)", text=tuple(labels), cls="cmp")]
    else:
        params = [k for k in differ if k not in _IDENTITY]
        table = pd.DataFrame({
            "strategy": [s["strategy"] for s in sets], "data": [s["data"] for s in sets],
            "period": [s["period"] for s in sets],
            "differing settings": ["; ".join(f"{k}={s[k]}" for k in params if k in s) for s in sets],
            "input hash": hashes,
        }, index=pd.Index(labels, name="run"))
        out = [Table(table, "Settings", text=tuple(table.columns), cls="cmp")]
    if shared:
        out.append(Note("Shared by all runs: " + "; ".join(shared) + ".", "muted"))
    return out


def _header(recs: list[RunRecord], labels: list[str]) -> Section:
    sec = Section("header", "Strategy comparison")
    if any(r.synthetic for r in recs):
        which = "all runs" if all(r.synthetic for r in recs) else "some runs (marked below)"
        sec.add(Note(f"SYNTHETIC DATA in {which} — a simulated market with planted mechanisms, not market "
                     "history.", "banner"))
    sec.add(*settings_blocks(recs, labels))
    hyps = {r.name: str(r.config.get("hypothesis", "")) for r in recs if r.config.get("hypothesis")}
    if hyps:
        sec.add(KV(list(hyps.items()), "Hypotheses"))
    if len(data_groups(recs)) > 1:
        sec.add(Note("These runs read different inputs (their input hashes differ): differences between them mix "
                     "strategy and data, and no statistic is computed across them.", "warn"))
    spans = {(r.returns.dropna().index[0], r.returns.dropna().index[-1]) for r in recs}
    if len(spans) > 1:
        sec.add(Note("The runs cover different periods: headline metrics are over each run's own period; "
                     "correlations use the sessions common to the runs compared.", "warn"))
    return sec


def _metrics(recs: list[RunRecord], labels: list[str]) -> Section:
    sec = Section("metrics", "Headline metrics side by side", pdf_new_page=False,
                  intro="Each run after its own costs, over its own period.")
    from research.report.summary import run_summary

    table = headline_frame({lab: r.metrics for r, lab in zip(recs, labels, strict=True)})
    cis = [f"[{fmt(c.lower)}, {fmt(c.upper)}]" if (c := sharpe_ci(r.returns)) is not None else "n/a" for r in recs]
    table.loc[f"Sharpe {LEVEL:.0%} bootstrap interval"] = cis
    # what each run is judged against: its own benchmark, from its first fill (research.report.summary)
    rows = [run_summary(r) for r in recs]
    table.loc["Period (from the first fill)"] = [f"{x['start'][:7]} to {x['end'][:7]} ({x['years']:.1f} y)"
                                                 if x.get("start") else "n/a" for x in rows]
    table.loc["Data"] = ["synthetic" if x["synthetic"] else "real" for x in rows]
    table.loc["Own benchmark"] = [x["benchmark"] for x in rows]
    table.loc["Active return / yr"] = [fmt(x["active_return"], "pct") for x in rows]
    table.loc["Information ratio (own benchmark)"] = [fmt(x["active_ir"]) for x in rows]
    sec.add(Table(table, cls="cmp"))
    if any(x["short_history"] for x in rows):
        sec.add(Note("A history shorter than three years is too short to compare with the others: "
                     + ", ".join(lab for lab, x in zip(labels, rows, strict=True) if x["short_history"]) + ".",
                     "warn"))
    return sec


def _equity(rets: pd.DataFrame) -> Section:
    sec = Section("equity", "Equity curves and drawdowns", intro="How did the runs' wealth evolve together?")
    sec.add(Fig("equity", partial(F.equity_comparison, rets),
                "Wealth from 1 at each run's first session, log scale."))
    sec.add(Fig("drawdowns", partial(F.drawdown_comparison, rets), "Loss from each run's previous high-water mark."))
    return sec


def _correlation(rets: pd.DataFrame, groups: list[list[int]]) -> Section:
    """Correlations among the runs on the same data: a synthetic market against market history, or two markets
    against each other, correlate by construction or by accident, never by anything the strategies share."""
    sec = Section("correlation", "Return correlations",
                  intro="Do the runs diversify each other, or are they the same bet?")
    comparable = [g for g in groups if len(g) > 1]
    if len(groups) > 1:
        sec.add(Note("Runs on different data are not correlated with each other"
                     + (": each group of runs on the same data is shown on its own." if comparable else
                        ", and no two runs share their data."), "empty" if not comparable else "muted"))
    for n, g in enumerate(comparable):
        sub = rets.iloc[:, g]
        common = sub.dropna()
        title = "" if len(comparable) == 1 else f" (data group {n + 1})"
        if len(common) < 20:
            sec.add(Note(f"Too few common sessions ({len(common)}) to correlate the runs{title}.", "empty"))
            continue
        daily = common.corr()
        monthly = common.groupby([common.index.year, common.index.month]).apply(lambda x: (1 + x).prod() - 1).corr()
        sec.add(Fig(f"correlation{n if n else ''}", partial(F.correlation_matrix, daily,
                                                             f"Correlation of daily returns{title}"),
                    f"Pearson correlation over the {len(common):,} sessions common to these runs."))
        sec.add(Table(monthly.map(lambda v: fmt(v)), f"Correlation of monthly returns{title}", cls="cmp"))
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
    from research.atomic import atomic_folder

    folders = [Path(f) for f in folders]
    if len(folders) < 2:
        raise ConfigError(f"a comparison needs at least two run folders, got {len(folders)}")
    doc = comparison_document([load_run(f) for f in folders])
    with atomic_folder(out) as work:  # renamed to `out` once complete; removed on any failure
        write_document(doc, work / "comparison.html", pdf=pdf)
    return Path(out) / "comparison.html"


def comparison_document(recs: list[RunRecord]) -> Document:
    """The comparison sheet of several run records (from folders or in memory), figures not yet drawn."""
    if len(recs) < 2:
        raise ConfigError(f"a comparison needs at least two runs, got {len(recs)}")
    labels = run_labels(recs)
    rets = pd.concat([r.returns.rename(lab) for r, lab in zip(recs, labels, strict=True)], axis=1).sort_index()
    sections = [_header(recs, labels), _metrics(recs, labels), _equity(rets), _correlation(rets, data_groups(recs)),
                _rolling(rets)]
    start, end = rets.dropna(how="all").index[[0, -1]]
    return Document(title="Strategy comparison", subtitle=f"{len(recs)} runs · {', '.join(labels)} · "
                    f"{fmt_date(start)} to {fmt_date(end)}", sections=sections,
                    synthetic=any(r.synthetic for r in recs), footer=f"comparison of {len(recs)} runs")


__all__ = ["COMPARISON_KEYS", "KV", "comparison_document", "data_groups", "run_labels", "settings", "write_comparison"]
