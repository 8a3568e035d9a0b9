"""Real data: a directory laid out like ../shared/data, assembled into one MarketData.

    <dir>/prices/      Yahoo CSVs (required; a directory holding only CSVs is read as prices itself)
    <dir>/cftc_tff/    CFTC Traders in Financial Futures files under their published names (`research.data.cftc`)
    <dir>/13f/         13F holdings (holdings_*.csv), mapped to sectors with <dir>/reference GICS snapshots
    <dir>/finra/       FINRA short-interest files (shrtYYYYMMDD.csv, pipe-delimited)
    <dir>/stocks/      Date,Close of S&P 500 members (prices of the MOST_SHORT basket)
    <dir>/baskets/     GVIP.csv: the HF_VIP basket (Date,Close)
    <dir>/reference/   GICS snapshots and S&P 500 membership intervals
    <dir>/primebook/   prime-book exports (*.csv, *.xlsx) in the documented schema

Each present source is parsed by its own module, stamped with its publication lag, and validated; an absent one
is simply not in the panel (the provenance table says which were read, file by file). Nothing is filled.

With finra/, stocks/ and reference/ present, the price frame gains the MOST_SHORT basket (by days to cover) and
MOST_SHORT_CHG (by the rise of short interest) (`research.data.baskets`), and the panel the sector short
positioning (`research.data.short_positioning`); with baskets/GVIP.csv, HF_VIP. Baskets are price columns like
the ETFs, on the ETFs' sessions (a basket's later closes are cut; noted), with no open price (NaN: fill at the
close). Their coverage goes to `MarketData.notes`, which a run copies to its log, and with their members to
`MarketData.tables`: ``basket_coverage`` (per rebalance: names chosen, priced, missing) and ``basket_members``
(per FINRA report: settlement_date, available_at, rank, symbol, score, basket, by; as
`research.data.baskets.most_short_members` chose them), so a reader such as the weekly brief can say who entered
and who left without ranking again.

Each source is parsed once and stored as parquet (`research.data.store`: prices, cftc, 13f, finra, stocks), keyed
by its files' content hashes and its parser's code; the assembly (baskets, sector positioning, the merged panel)
is stored too, keyed by every input file and all of that code, so a warm load only reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.data import store
from research.data.market import MarketData, SourceInfo
from research.data.panel import PANEL_COLUMNS, validate_panel
from research.data.prices import Prices
from research.data.sources import load_prices
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP
from research.errors import DataError

BASKET_MOST_SHORT_CHG = "MOST_SHORT_CHG"
LAG_RULES = {
    "cftc_tff": "Tuesday positions, public the following Friday 15:30 ET (later after federal holidays)",
    "cftc_tff_combined": "Tuesday positions, public the following Friday 15:30 ET (later after federal holidays)",
    "13f": "quarter-end holdings, public at the 45-day filing deadline 17:30 ET",
    "finra_si": "settlement-date short interest, public on the 8th business day after settlement 18:00 ET",
    "prime_book": "as in the file's available_at, else the next session 18:00 ET after as_of",
}
#: Assembly frames that `MarketData.tables` carries (see the module docstring).
TABLES = ("basket_coverage", "basket_members")
SUBDIRS = ("prices", "cftc_tff", "13f", "finra", "stocks", "baskets", "reference", "primebook")
#: Modules whose code shapes the stored assembly (a change to any is a new store key).
MODULES = ("research.data.real", "research.data.prices", "research.data.cftc", "research.data.finra",
           "research.data.thirteenf", "research.data.primebook", "research.data.gics", "research.data.membership",
           "research.data.baskets", "research.data.short_positioning", "research.data.panel",
           "research.data._parsing", "research.data.calendar", "research.data.universe")


def _files(base: Path, sub: str, pattern: str = "*") -> list[Path]:
    return sorted(f for f in (base / sub).glob(pattern) if f.is_file()) if (base / sub).is_dir() else []


def _rel(f: Path, base: Path) -> str:
    return str(Path(f).resolve().relative_to(base)) if Path(f).resolve().is_relative_to(base) else str(f)


def _stored(name: str, base: Path, files: list[Path], modules: tuple[str, ...],
            build: Callable[[], tuple[store.Frames, dict[str, Any]]]) -> tuple[store.Frames, dict[str, Any]]:
    """One source, parsed once and then read from the store (`research.data.store`)."""
    frames, meta, _ = store.cached(name, base, files, (*modules, "research.data.real"), build, extra=str(base))
    return frames, meta


_PARSE = ("research.data._parsing", "research.data.calendar", "research.data.panel", "research.data.universe")


def _prices(base: Path) -> tuple[Prices, pd.DataFrame]:
    """The ETF prices (adjusted) and their unadjusted closes (`Close`, the traded price) for dollar values."""
    sub = base / "prices"
    if not sub.is_dir() and not any(base.glob("*.csv")):
        raise DataError(f"{base}: no prices/ folder and no CSV files. Put Yahoo-style <TICKER>.csv files in "
                        f"{sub}, or fill the yfinance cache with `flowbt data fetch-prices`.")
    folder = sub if sub.is_dir() else base

    def build() -> tuple[store.Frames, dict[str, Any]]:
        from research.data.prices import read_price_csv

        p = load_prices(folder)
        raw = {}
        for f in sorted(folder.glob("*.csv")):
            r = read_price_csv(f).raw
            if "Close" in r.columns:
                raw[f.stem] = r["Close"]
        frames = {"close": p.close, "open": p.open, "raw_close": pd.DataFrame(raw)}
        if p.volume is not None:
            frames["volume"] = p.volume
        return frames, {"source": p.source, "notes": list(p.notes)}

    fr, meta = _stored("prices", base, sorted(folder.glob("*.csv")), ("research.data.prices", *_PARSE), build)
    return Prices(fr["close"], fr["open"], fr.get("volume"), meta["source"], tuple(meta["notes"])), fr["raw_close"]


def _info(name: str, kind: str, panel: pd.DataFrame, detail: str) -> SourceInfo:
    return SourceInfo(name=name, kind=kind, start=panel["as_of"].min(), end=panel["as_of"].max(), rows=len(panel),
                      missing=0, lag_rule=LAG_RULES.get(name, "available_at as given"), detail=detail)


def _cftc(base: Path) -> list[tuple[pd.DataFrame, SourceInfo]]:
    from research.data import cftc

    def build() -> tuple[store.Frames, dict[str, Any]]:
        panel, read, skipped = cftc.load_cftc_folder(base / "cftc_tff")
        return {"panel": panel}, {"read": {k: [_rel(f, base) for f in v] for k, v in read.items()},
                                  "skipped": [[_rel(f, base), why] for f, why in skipped]}

    fr, meta = _stored("cftc", base, _files(base, "cftc_tff"), ("research.data.cftc", *_PARSE), build)
    out = []
    for src, part in fr["panel"].groupby("source", sort=True):
        detail = (f"{part['entity'].nunique()} markets, {part['metric'].nunique()} metrics; files read: "
                  + ", ".join(meta["read"].get(str(src), [])))
        if meta["skipped"]:
            detail += "; skipped: " + "; ".join(f"{f} ({why})" for f, why in meta["skipped"])
        out.append((part, _info(str(src), "panel", part, detail)))
    return out


def _reference(base: Path) -> list[Path]:
    return _files(base, "reference", "*.csv")


def _thirteenf(base: Path) -> tuple[pd.DataFrame, SourceInfo]:
    from research.data import thirteenf
    from research.data.gics import load_gics

    def build() -> tuple[store.Frames, dict[str, Any]]:
        return {"panel": thirteenf.load_13f(base / "13f", load_gics(base))}, {}

    fr, _ = _stored("13f", base, _files(base, "13f") + _reference(base),
                    ("research.data.thirteenf", "research.data.gics", *_PARSE), build)
    p = fr["panel"]
    return p, _info("13f", "panel", p, f"{p['entity'].nunique()} entities, {p['metric'].nunique()} metrics; files: "
                    + ", ".join(_rel(f, base) for f in _files(base, "13f")))


def _short_interest(base: Path) -> tuple[pd.DataFrame, list[Path]]:
    from research.data import finra

    files = _files(base, "finra", "*.csv")

    def build() -> tuple[store.Frames, dict[str, Any]]:
        return {"si": finra.load_short_interest_files(files)}, {}

    fr, _ = _stored("finra", base, files, ("research.data.finra", "research.data.gics", *_PARSE), build)
    return fr["si"], files


def _stock_closes(base: Path) -> pd.DataFrame:
    from research.data import baskets

    def build() -> tuple[store.Frames, dict[str, Any]]:
        return {"closes": baskets.load_closes(base / "stocks")}, {}

    fr, _ = _stored("stocks", base, _files(base, "stocks", "*.csv"), ("research.data.baskets", "research.data.gics"),
                    build)
    return fr["closes"]


def _finra(base: Path, prices: Prices, raw_close: pd.DataFrame, notes: list[str]
           ) -> tuple[list[tuple[pd.DataFrame, SourceInfo]], dict[str, pd.Series], dict[str, list[pd.DataFrame]]]:
    """FINRA sector positioning and, with stocks/, the MOST_SHORT baskets (levels; coverage and members tables)."""
    from research.data import baskets
    from research.data.gics import load_gics
    from research.data.membership import load_membership
    from research.data.short_positioning import sector_positioning

    si, files = _short_interest(base)
    gics = load_gics(base)
    members = load_membership(base)
    closes = _stock_closes(base) if (base / "stocks").is_dir() else pd.DataFrame(
        index=pd.DatetimeIndex([], name="date"))
    panel = sector_positioning(si, gics, members, closes, raw_close if len(raw_close.columns) else None)
    n_rev, n_split = int(si["revised"].sum()), int(si["split"].sum())
    span = f"{si['settlement_date'].min().date()} -> {si['settlement_date'].max().date()}"
    in_index = members.is_member(si["symbol"], si["settlement_date"])
    absent = pd.Series([s for d, g in si.groupby("settlement_date") for s in members.members_at(d) - set(g["symbol"])],
                       dtype=object).value_counts()
    if len(absent):
        notes.append("finra_si: S&P 500 members of the settlement date without a FINRA row (reports), never in a basket "
                     "or sector: " + ", ".join(f"{k} ({v})" for k, v in absent.items()))
    sources = [(panel, _info("finra_si", "panel", panel,
                             f"FINRA short interest, {len(files)} files shrt*.csv ({span}), {len(si)} rows, "
                             f"{int(in_index.sum())} of S&P 500 members of the date ({len(absent)} members have no "
                             f"row in some report: {', '.join(list(absent.index[:5]))}...); {n_rev} rows flagged revised "
                             f"(used at first publication: only the revised value is in the files), {n_split} "
                             "split-flagged rows (change left out); sector si_usd uses adjusted closes "
                             "(research.data.short_positioning)"))]
    levels: dict[str, pd.Series] = {}
    tables: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    if len(closes.columns):
        for name, by in ((BASKET_MOST_SHORT, "days_to_cover"), (BASKET_MOST_SHORT_CHG, "change")):
            chosen = baskets.most_short_members(si, members, by=by)
            b = baskets.basket_index(chosen, closes, prices.index, name=name)
            levels[name] = b.level
            tables["basket_coverage"].append(b.coverage.assign(basket=name))
            tables["basket_members"].append(chosen.assign(basket=name, by=by))
            notes += b.notes()
            notes.append(f"{name}: built from finra_si (see its notes)")
            c = b.coverage
            share = c["priced"].sum() / max(c["chosen"].sum(), 1)
            sources.append((pd.DataFrame(), SourceInfo(
                name=f"basket {name}", kind="basket", start=c["session"].min(), end=c["session"].max(),
                rows=int(c["chosen"].sum()), missing=int(c["chosen"].sum() - c["priced"].sum()),
                lag_rule="rebalanced at the close of the first session after each FINRA publication",
                detail=(f"top {baskets.DEFAULT_N} S&P 500 members of the date by {by} (FINRA), equal weight, "
                        f"priced from stocks/ ({len(closes.columns)} files); coverage {share:.1%} of basket names "
                        f"priced, lowest {c['share'].min():.0%}; index net of {baskets.REBALANCE_BPS:g} bps per "
                        "unit traded at rebalances; the engine's fees, slippage and borrow apply on top"))))
    return sources, levels, tables


def _panels(base: Path, prices: Prices, raw_close: pd.DataFrame, notes: list[str]
            ) -> tuple[list[tuple[pd.DataFrame, SourceInfo]], dict[str, pd.Series], dict[str, list[pd.DataFrame]]]:
    """Every positioning source present under `base`, parsed into validated panels with their provenance."""
    from research.data import primebook

    found: list[tuple[pd.DataFrame, SourceInfo]] = []
    levels: dict[str, pd.Series] = {}
    tables: dict[str, list[pd.DataFrame]] = {}
    if (base / "cftc_tff").is_dir():
        found += _cftc(base)
    if (base / "13f").is_dir():
        found.append(_thirteenf(base))
    if (base / "finra").is_dir():
        more, levels, tables = _finra(base, prices, raw_close, notes)
        found += more
    for f in _files(base, "primebook"):
        if f.suffix.lower() in (".csv", ".xlsx"):
            p = primebook.load_primebook(f)
            found.append((p, _info("prime_book", "panel", p, f"{f.name}: {p['entity'].nunique()} entities")))
    return found, levels, tables


def _with_baskets(prices: Prices, levels: dict[str, pd.Series], notes: list[str]) -> Prices:
    """`prices` plus basket columns (close = level, open and volume NaN) on its sessions."""
    if not levels:
        return prices
    idx = prices.index
    close, opn = prices.close.copy(), prices.open.copy()
    vol = None if prices.volume is None else prices.volume.copy()
    for name, s in levels.items():
        last = s.last_valid_index()
        if last is not None and last < idx[-1]:
            notes.append(f"{name}: closes end {last.date()}; NaN on the later sessions")
        close[name] = s.reindex(idx).to_numpy()
        opn[name] = np.nan
        if vol is not None:
            vol[name] = np.nan
    return Prices(close, opn, vol, prices.source, (*prices.notes, *(f"{k}: basket index, no open price (fill at "
                                                                    "the close)" for k in levels)))


def _gvip(base: Path, index: pd.DatetimeIndex, notes: list[str]) -> tuple[pd.Series, SourceInfo] | None:
    from research.data.baskets import read_close_csv

    f = base / "baskets" / "GVIP.csv"
    if not f.is_file():
        return None
    s = read_close_csv(f)
    beyond = int((s.index > index[-1]).sum())
    if beyond:
        notes.append(f"{BASKET_VIP}: GVIP closes after {index[-1].date()} ({beyond}) are cut to the ETFs' sessions")
    off = s.index[(s.index <= index[-1]) & ~s.index.isin(index)]
    if len(off):
        raise DataError(f"{f}: {len(off)} date(s) that are not sessions of the price index, first {off[0].date()}.")
    info = SourceInfo(name=f"basket {BASKET_VIP}", kind="basket", start=s.index[0], end=min(s.index[-1], index[-1]),
                      rows=int((s.index <= index[-1]).sum()), missing=0,
                      lag_rule="close of session t known at t's close",
                      detail="GVIP: Goldman Sachs Hedge Industry VIP ETF (adjusted close; baskets/GVIP.csv), the "
                             "investable hedge-fund VIP basket; the engine's fees, slippage and borrow apply")
    return s.reindex(index), info


def _build(base: Path) -> tuple[store.Frames, dict[str, Any]]:
    notes: list[str] = []
    prices, raw_close = _prices(base)
    found, levels, tables = _panels(base, prices, raw_close, notes)
    infos = [_price_info(prices)]
    g = _gvip(base, prices.index, notes)
    if g is not None:
        levels = {BASKET_VIP: g[0], **levels}
        infos.append(g[1])
    prices = _with_baskets(prices, levels, notes)
    infos += [i for _, i in found]
    panels = [p for p, _ in found if len(p)]
    if panels:
        entities = set().union(*(set(p["entity"]) for p in panels))
        panel = validate_panel(pd.concat(panels, ignore_index=True), name=str(base), entities=entities)
    else:
        panel = empty_panel()
    frames = {"close": prices.close, "open": prices.open, "panel": panel}
    if prices.volume is not None:
        frames["volume"] = prices.volume
    frames.update({t: pd.concat(parts, ignore_index=True) for t, parts in tables.items() if parts})
    meta = {"source": prices.source, "price_notes": list(prices.notes), "notes": notes,
            "sources": [{k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in asdict(i).items()}
                        for i in infos]}
    return frames, json.loads(json.dumps(meta, default=str))


def _price_info(prices: Prices) -> SourceInfo:
    """The prices' row of the sources table."""
    return SourceInfo(name=f"prices ({prices.source})", kind="prices", start=prices.close.index[0],
                      end=prices.close.index[-1], rows=int(prices.close.notna().sum().sum()),
                      missing=int(prices.close.isna().sum().sum()),
                      lag_rule="close of session t known at t's close", detail="; ".join(prices.notes[:6]))


def input_files(base: Path) -> list[Path]:
    """Every file the assembly may read (the store key covers them all)."""
    out = [f for d in SUBDIRS if (base / d).is_dir() for f in (base / d).rglob("*") if f.is_file()]
    if not (base / "prices").is_dir():
        out += sorted(base.glob("*.csv"))
    return sorted(out)


def _market(base: Path, frames: store.Frames, meta: dict[str, Any]) -> MarketData:
    prices = Prices(frames["close"], frames["open"], frames.get("volume"), meta["source"],
                    tuple(meta["price_notes"]))
    infos = tuple(SourceInfo(**{k: (pd.Timestamp(v) if k in ("start", "end") and v is not None else v)
                                for k, v in s.items()}) for s in meta["sources"])
    return MarketData(prices=prices, panel=frames["panel"], name=f"real({base})", synthetic=False, sources=infos,
                      notes=tuple(meta["notes"]), tables={k: v for k, v in frames.items() if k in TABLES})


def empty_panel() -> pd.DataFrame:
    """A panel with the panel's columns and no row (prices alone)."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("as_of", "available_at") else
                                      ("float64" if c == "value" else "object")) for c in PANEL_COLUMNS})


def prices_market(prices: Prices, name: str) -> MarketData:
    """MarketData of prices alone (no positioning panel): strategies that need flows say what is missing."""
    return MarketData(prices=prices, panel=empty_panel(), name=name, synthetic=False, sources=(_price_info(prices),))


@lru_cache(maxsize=4)
def _load_real_cached(base: Path) -> MarketData:
    frames, meta, _ = store.cached("market", base, input_files(base), MODULES, lambda: _build(base),
                                   extra=str(base))
    return _market(base, frames, meta)


def load_real(path: Path, progress: Callable[[str], None] | None = None) -> MarketData:
    """MarketData from a real-data directory (stored as parquet across processes, cached within one)."""
    base = Path(path).resolve()
    if not base.is_dir():
        raise DataError(f"--data {path}: not a directory. Use 'synthetic' or a folder like ../shared/data.")
    return _load_real_cached(base)
