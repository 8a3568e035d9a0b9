"""Tear sheets of anything with returns: a run in memory, a run folder, a returns Series, a `vbt.Portfolio`.

`tearsheet(x, benchmark=None, out=None)` turns its input into a `RunRecord` (what a run folder holds) and builds
the same document `flowbt report` builds from a folder: every section the input supports, and for the others a
line saying why they are not shown (a returns Series has no positions, no signal and no data provenance).
`compare(runs)` does the same for the comparison sheet. Both return a `TearSheet`: shown inline in a notebook,
styled within its own container; with `out`, also written there as HTML and PDF.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from research.errors import ConfigError
from research.report.load import RunRecord, load_run
from research.report.render import Document, draw_figures, render_fragment, render_html

_NO_POSITIONS = "the input is a returns series: it holds no positions."
_NO_SIGNAL = "the input has no cross-sectional signal."
_NO_PROVENANCE = "the input carries no record of its data sources (a run folder does)."


@dataclass
class TearSheet:
    """A tear sheet or comparison sheet: the document (figures drawn) and, when written, its files."""

    doc: Document
    path: Path | None = None  # the HTML file, when written
    pdf: Path | None = None

    @property
    def html(self) -> str:
        """The self-contained HTML page."""
        return render_html(self.doc)

    def _repr_html_(self) -> str:
        return render_fragment(self.doc)

    def __repr__(self) -> str:
        where = f", written to {self.path}" if self.path else " (in memory; pass out= to write it)"
        return f"<TearSheet {self.doc.title!r}: {len(self.doc.sections)} sections{where}>"


def tearsheet(x: Any, benchmark: Any = None, out: str | Path | None = None, *, pdf: bool = True,
              name: str | None = None) -> TearSheet:
    """The tear sheet of `x`: a `Run`, a run folder, a folder holding returns.parquet or returns.csv, a returns
    Series (or one-column DataFrame), or a `vbt.Portfolio`.

    `benchmark`: a returns Series, or a name: a column of the run's benchmarks (SPY, EW_SECTORS), else a ticker
    read from the yfinance cache (offline). `out`: a folder to write tearsheet.html, tearsheet.pdf (`pdf`) and
    figures/ into; a folder given without `out` gets its tear sheet written into itself, as `flowbt report`
    does. Nothing else is written."""
    from research.report.tearsheet import tearsheet_document, write_document

    rec, home = _record(x, benchmark, name, Path(out) if out is not None else None)
    doc = tearsheet_document(rec)
    folder = Path(out) if out is not None else home
    if folder is None:
        draw_figures(doc.sections)
        return TearSheet(doc)
    from research.atomic import atomic_files

    with atomic_files(folder) as work:  # the sheet's files replaced whole, or left as they were
        write_document(doc, work / "tearsheet.html", pdf=pdf)
    path = folder / "tearsheet.html"
    return TearSheet(doc, path, path.with_suffix(".pdf") if pdf else None)


def compare(runs: Any, out: str | Path | None = None, *, pdf: bool = True) -> TearSheet:
    """The comparison sheet of several runs (`Run`s in memory or run folders); written into `out` when given."""
    from research.report.compare import comparison_document
    from research.report.tearsheet import write_document

    recs = [_run_record(r, None) for r in runs]
    doc = comparison_document(recs)
    if out is None:
        draw_figures(doc.sections)
        return TearSheet(doc)
    from research.atomic import atomic_files

    with atomic_files(out) as work:  # the sheet's files replaced whole, or left as they were
        write_document(doc, work / "comparison.html", pdf=pdf)
    path = Path(out) / "comparison.html"
    return TearSheet(doc, path, path.with_suffix(".pdf") if pdf else None)


# --------------------------------------------------------------------------------------------------------------
# inputs -> RunRecord


def _run_record(x: Any, folder: Path | None) -> RunRecord:
    if hasattr(x, "record") and hasattr(x, "strategy"):
        return x.record(folder)
    if isinstance(x, str | Path):
        return load_run(Path(x))
    raise ConfigError(f"expected a Run or a run folder, got {type(x).__name__}")


def _record(x: Any, benchmark: Any, name: str | None, out: Path | None) -> tuple[RunRecord, Path | None]:
    """(the record, the folder to write into when `out` is not given: a run folder's own, else None)."""
    if hasattr(x, "record") and hasattr(x, "strategy"):  # a Run
        rec = x.record(out)
        return _with_benchmark(rec, benchmark), None
    if isinstance(x, str | Path):
        folder = Path(x)
        if (folder / "metrics.json").exists():
            return _with_benchmark(load_run(folder), benchmark), folder
        return returns_record(_returns_in_folder(folder), benchmark, name or folder.name,
                              source=f"returns in {folder}"), folder
    if _is_portfolio(x):
        return portfolio_record(x, benchmark, name or "portfolio"), None
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise ConfigError(f"a tear sheet is of one series of returns; this DataFrame has {x.shape[1]} columns "
                              f"({list(x.columns)[:5]}): pass one column, or compare runs with research.compare")
        x = x.iloc[:, 0]
    if isinstance(x, pd.Series):
        return returns_record(x, benchmark, name), None
    raise ConfigError(f"cannot make a tear sheet of a {type(x).__name__}: give a Run, a run folder, a returns "
                      "Series or a vbt.Portfolio")


def _is_portfolio(x: Any) -> bool:
    vbt = sys.modules.get("vectorbt")
    return vbt is not None and isinstance(x, vbt.Portfolio)


def _returns_in_folder(folder: Path) -> pd.Series:
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a directory")
    for fname in ("returns.parquet", "returns.csv"):
        path = folder / fname
        if path.exists():
            df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, index_col=0,
                                                                                      parse_dates=True)
            if df.shape[1] != 1:
                raise ConfigError(f"{path}: expected one column of daily returns, found {list(df.columns)}")
            return df.iloc[:, 0]
    raise ConfigError(f"{folder} is neither a run folder (no metrics.json) nor a folder of returns "
                      "(no returns.parquet or returns.csv)")


def _checked_returns(returns: pd.Series, what: str) -> pd.Series:
    if not isinstance(returns.index, pd.DatetimeIndex):
        try:
            returns = returns.set_axis(pd.DatetimeIndex(returns.index))
        except (TypeError, ValueError):
            raise ConfigError(f"{what}: the index must be dates (one return per session), "
                              f"got {type(returns.index).__name__}") from None
    try:
        r = returns.astype(float).sort_index()
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: values must be numbers (daily simple returns)") from None
    if r.index.has_duplicates:
        raise ConfigError(f"{what}: duplicate dates, first {r.index[r.index.duplicated()][0].date()}")
    if r.dropna().empty:
        raise ConfigError(f"{what}: no return to report (empty or all missing)")
    if (r.dropna() <= -1).any():
        bad = r.index[r <= -1][0]
        raise ConfigError(f"{what}: a return of {r[bad]:.4g} on {bad.date()} (<= -100%): expected simple daily "
                          "returns, not prices or percentages")
    return r


def _run_of(x: Any) -> Any:
    """The `Run` in memory that `x` came from: its returns (tagged in their attrs) or its portfolio; else None."""
    run_mod = sys.modules.get("research.run")
    if run_mod is None:
        return None
    if isinstance(x, pd.Series):
        return run_mod.RUNS.get(x.attrs.get(run_mod.RUN_KEY, ""))
    return next((r for r in list(run_mod.RUNS.values()) if r.result.__dict__.get("portfolio") is x), None)


def _benchmark(benchmark: Any, returns: pd.Series, source: Any = None) -> pd.DataFrame:
    """The benchmark's returns as a one-column frame (none: empty). A name is looked up in the run the input
    came from (`source`, or the returns: `Run.returns` carries it), then in the yfinance cache."""
    if benchmark is None:
        return pd.DataFrame(index=returns.index)
    if isinstance(benchmark, pd.Series):
        b = _checked_returns(benchmark, "benchmark")
        return b.rename(str(benchmark.name or "benchmark")).to_frame()
    if not isinstance(benchmark, str):
        raise ConfigError(f"benchmark must be a returns Series or a name such as 'SPY', got {type(benchmark).__name__}")
    run = _run_of(source if source is not None else returns)
    if run is not None:
        if benchmark not in run.benchmarks:
            raise ConfigError(f"benchmark {benchmark!r}: the run this input came from has "
                              f"{list(run.benchmarks.columns)}")
        return run.benchmarks[[benchmark]]
    from research.data.yahoo import read_cached
    from research.errors import FlowbtError

    r = returns.dropna()
    try:
        close = read_cached([benchmark], r.index[0], r.index[-1]).close[benchmark]
    except FlowbtError as exc:
        raise ConfigError(f"benchmark {benchmark!r}: not the benchmark of a run, and not in the price cache ({exc}). "
                          "Pass its daily returns as a Series, or fetch it: flowbt data fetch-prices "
                          f"{benchmark} --start {r.index[0].date()}") from None
    return close.pct_change(fill_method=None).rename(benchmark).to_frame()


def _config(name: str, source: str, kind: str, description: str) -> dict[str, Any]:
    return {"strategy": name, "kind": kind, "data": source, "synthetic": False, "params": {},
            "description": description}


def returns_record(returns: pd.Series, benchmark: Any = None, name: str | None = None, *,
                   source: str = "a returns series") -> RunRecord:
    """A record of daily returns alone: metrics, performance, rolling risk and statistics; no positions,
    signal or provenance."""
    from research.analytics.metrics import summary

    label = name or (str(returns.name) if returns.name is not None else "returns")
    r = _checked_returns(returns, label)
    bench = _benchmark(benchmark, returns).reindex(r.index)
    b = bench.iloc[:, 0] if bench.shape[1] else None
    metrics: dict[str, Any] = summary(r, benchmark=b)  # type: ignore[assignment]
    metrics["benchmarks"] = {str(c): summary(bench[c], benchmark=b) for c in bench.columns}
    empty = pd.DataFrame(index=r.index)
    desc = (f"Daily returns of {label}. Alpha, beta and capture are against {bench.columns[0]}." if b is not None
            else f"Daily returns of {label}; no benchmark given, so no alpha, beta or capture.")
    return RunRecord(
        folder=Path(label), config=_config(label, source, "returns", desc), metrics=metrics, provenance={},
        returns=r.rename("returns"), equity=(1 + r.fillna(0)).cumprod(), weights=empty, target=empty,
        benchmarks=bench, gross=pd.Series(dtype=float), net=pd.Series(dtype=float),
        turnover=pd.Series(dtype=float), costs=empty, trades=pd.DataFrame(), sources=pd.DataFrame(),
        omit={"positioning": _NO_POSITIONS, "signal": _NO_SIGNAL, "provenance": _NO_PROVENANCE},
    )


def portfolio_record(pf: Any, benchmark: Any = None, name: str = "portfolio") -> RunRecord:
    """A record of a `vbt.Portfolio` (one column or one group): its returns, held weights, exposure, turnover
    and fees from its orders; no signal or provenance."""
    from research.analytics.metrics import summary

    rets = pf.returns()
    if isinstance(rets, pd.DataFrame):
        if rets.shape[1] != 1:
            raise ConfigError(f"this portfolio has {rets.shape[1]} columns ({list(rets.columns)[:5]}): select one "
                              "(pf[col]) or group them with cash sharing")
        rets = rets.iloc[:, 0]
    r = _checked_returns(rets, name)
    value = pf.value()
    value = value.iloc[:, 0] if isinstance(value, pd.DataFrame) else value
    weights = pf.asset_value(group_by=False).div(value, axis=0)
    orders = pf.orders.records_readable
    date_col = next((c for c in ("Timestamp", "Index", "Date") if c in orders.columns), None)
    traded = pd.Series(0.0, index=r.index)
    fees = pd.Series(0.0, index=r.index)
    if date_col is not None and len(orders):
        notional = (orders["Size"].abs() * orders["Price"]).groupby(orders[date_col]).sum()
        traded = traded.add(notional.reindex(r.index).fillna(0.0) / value.shift(1).fillna(pf.init_cash), fill_value=0)
        fees = fees.add(orders["Fees"].groupby(orders[date_col]).sum().reindex(r.index).fillna(0.0), fill_value=0)
    cost_frac = fees / value.shift(1).fillna(pf.init_cash)
    gross, net = weights.abs().sum(axis=1), weights.sum(axis=1)
    bench = _benchmark(benchmark, r, pf).reindex(r.index)
    b = bench.iloc[:, 0] if bench.shape[1] else None
    metrics: dict[str, Any] = summary(r, benchmark=b, turnover=traded, gross=gross, net=net,  # type: ignore[assignment]
                                      costs=cost_frac)
    metrics["benchmarks"] = {str(c): summary(bench[c], benchmark=b) for c in bench.columns}
    close = pf.close if isinstance(pf.close, pd.DataFrame) else pf.close.to_frame()
    desc = (f"A vectorbt portfolio of {weights.shape[1]} asset(s); turnover and fees from its order records "
            "(costs paid are those fees: slippage sits in the fill prices, carry in the returns)."
            + (f" Alpha and beta against {bench.columns[0]}." if b is not None else ""))
    return RunRecord(
        folder=Path(name), config=_config(name, "a vectorbt portfolio", "portfolio", desc), metrics=metrics,
        provenance={}, returns=r.rename("returns"), equity=value, weights=weights, target=pd.DataFrame(),
        benchmarks=bench, gross=gross, net=net, turnover=traded, costs=pd.DataFrame({"fees": fees}),
        trades=orders, sources=pd.DataFrame(), close=close.astype(float),
        omit={"signal": _NO_SIGNAL, "provenance": _NO_PROVENANCE},
    )


def _with_benchmark(rec: RunRecord, benchmark: Any) -> RunRecord:
    """A run's record with `benchmark` first among its benchmarks (a name it has, or a returns Series)."""
    if benchmark is None:
        return rec
    if isinstance(benchmark, str):
        if benchmark not in rec.benchmarks:
            raise ConfigError(f"benchmark {benchmark!r}: this run's benchmarks are {list(rec.benchmarks.columns)}")
        cols = [benchmark, *(c for c in rec.benchmarks.columns if c != benchmark)]
        rec.benchmarks = rec.benchmarks[cols]
        return rec
    extra = _benchmark(benchmark, rec.returns).reindex(rec.returns.index)
    rec.benchmarks = pd.concat([extra, rec.benchmarks.drop(columns=extra.columns, errors="ignore")], axis=1)
    return rec
