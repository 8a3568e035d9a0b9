"""Real data: a directory laid out like ../shared/data, assembled into one MarketData.

    <dir>/prices/      Yahoo CSVs (required; a directory holding only CSVs is read as prices itself)
    <dir>/cftc_tff/    CFTC Traders in Financial Futures files (FinFut*.txt)
    <dir>/13f/         13F holdings (holdings_*.csv), mapped to sectors with <dir>/reference GICS snapshots
    <dir>/finra/       FINRA short-interest files (pipe-delimited *.csv)
    <dir>/primebook/   prime-book exports (*.csv, *.xlsx) in the documented schema

Each present source is parsed by its own module, stamped with its publication lag, and validated; an absent one
is simply not in the panel (and the provenance table says which were read). Nothing is filled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from research.data.market import MarketData, SourceInfo
from research.data.panel import PANEL_COLUMNS, validate_panel
from research.data.prices import Prices, load_prices
from research.errors import DataError

LAG_RULES = {
    "cftc_tff": "Tuesday positions, public the following Friday 15:30 ET (later after federal holidays)",
    "13f": "quarter-end holdings, public at the 45-day filing deadline 17:30 ET",
    "finra_si": "settlement-date short interest, public 8 NYSE sessions later 18:00 ET",
    "prime_book": "as in the file's available_at, else the next session 18:00 ET after as_of",
}


def _prices(base: Path) -> Prices:
    sub = base / "prices"
    if sub.is_dir():
        return load_prices(sub)
    if any(base.glob("*.csv")):
        return load_prices(base)
    raise DataError(f"{base}: no prices/ folder and no CSV files. Put Yahoo-style <TICKER>.csv files in "
                    f"{sub}, or fill the yfinance cache with `flowbt data fetch-prices`.")


def _panels(base: Path) -> list[tuple[str, pd.DataFrame]]:
    """Every positioning source present under `base`, parsed into validated panels."""
    from research.data import cftc, finra, primebook, thirteenf
    from research.data.gics import load_gics

    found: list[tuple[str, pd.DataFrame]] = []
    if (base / "cftc_tff").is_dir():
        found.append(("cftc_tff", cftc.load_cftc_dir(base / "cftc_tff")))
    needs_gics = (base / "13f").is_dir() or (base / "finra").is_dir()
    gics = load_gics(base) if needs_gics else None
    if (base / "13f").is_dir():
        found.append(("13f", thirteenf.load_13f(base / "13f", gics)))
    if (base / "finra").is_dir():
        found.append(("finra_si", finra.load_short_interest(base / "finra", gics)))
    if (base / "primebook").is_dir():
        for f in sorted(base.glob("primebook/*")):
            if f.suffix.lower() in (".csv", ".xlsx"):
                found.append(("prime_book", primebook.load_primebook(f)))
    return found


def _source_info(kind: str, panel: pd.DataFrame) -> SourceInfo:
    return SourceInfo(
        name=kind, kind="panel", start=panel["as_of"].min(), end=panel["as_of"].max(), rows=len(panel),
        missing=0, lag_rule=LAG_RULES.get(kind, "available_at as given"),
        detail=f"{panel['entity'].nunique()} entities, {panel['metric'].nunique()} metrics",
    )


def _price_info(prices: Prices) -> SourceInfo:
    close = prices.close
    return SourceInfo(
        name=f"prices ({prices.source})", kind="prices", start=close.index[0], end=close.index[-1],
        rows=int(close.notna().sum().sum()), missing=int(close.isna().sum().sum()),
        lag_rule="close of session t known at t's close", detail="; ".join(prices.notes[:6]),
    )


def empty_panel() -> pd.DataFrame:
    """A panel with the panel's columns and no row (prices alone)."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("as_of", "available_at") else
                                      ("float64" if c == "value" else "object")) for c in PANEL_COLUMNS})


def prices_market(prices: Prices, name: str) -> MarketData:
    """MarketData of prices alone (no positioning panel): strategies that need flows say what is missing."""
    return MarketData(prices=prices, panel=empty_panel(), name=name, synthetic=False, sources=(_price_info(prices),))


@lru_cache(maxsize=4)
def _load_real_cached(base: Path) -> MarketData:
    prices = _prices(base)
    panels = _panels(base)
    if panels:
        entities = set().union(*(set(p["entity"]) for _, p in panels))
        panel = validate_panel(pd.concat([p for _, p in panels], ignore_index=True), name=str(base),
                               entities=entities)
    else:
        panel = empty_panel()
    sources = (_price_info(prices), *(_source_info(k, p) for k, p in panels))
    return MarketData(prices=prices, panel=panel, name=f"real({base})", synthetic=False, sources=sources)


def load_real(path: Path, progress: Callable[[str], None] | None = None) -> MarketData:
    """MarketData from a real-data directory (cached per resolved path within a process)."""
    base = Path(path).resolve()
    if not base.is_dir():
        raise DataError(f"--data {path}: not a directory. Use 'synthetic' or a folder like ../shared/data.")
    return _load_real_cached(base)
