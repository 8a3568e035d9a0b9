"""Point-in-time ticker -> GICS sector map from yearly S&P 500 constituent snapshots.

The snapshot in force at a date is the latest one dated on or before it: a classification is never used before
it was recorded (GOOGL is Information Technology until the 2020-08-22 snapshot, although GICS moved it in
September 2018; the file has no 2019 snapshot). Before the first snapshot nothing is mapped. Stocks outside the
snapshot (not S&P 500 members then) are unmapped and reported by the callers, never guessed.

Sector names are normalised to the 11 names of `research.data.universe.SECTORS`:

- ``Telecommunication Services`` / ``Telecommunications Services`` -> ``Communication Services`` (GICS renamed and
  widened the sector in September 2018; it is the sector XLC tracks);
- ``Industries`` (a 2013 typo, Nielsen) -> ``Industrials``;
- a blank sector (LyondellBasell in 2013) is not filled: the row is dropped and listed in `GicsMap.dropped`.

An unknown sector name is an error naming the line, so a new variant is added here on purpose, not absorbed.
Symbols are normalised (upper case; ``BRK-B``, ``BRK/B`` and ``BRK B`` -> ``BRK.B``) so snapshots, FINRA and 13F agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import Problem, check_widths, column, dates, raise_problems, read_text, split_rows
from research.data.universe import SECTOR_ETFS, SECTORS
from research.errors import DataError

SNAPSHOT_FILE = "sp500_gics_snapshots_yearly.csv"
SNAPSHOT_COLUMNS: tuple[str, ...] = ("snapshot_date", "symbol", "gics_sector")

#: Variant sector names found in constituent files -> the GICS sector name used as a panel entity.
SECTOR_ALIASES: dict[str, str] = {
    "telecommunication services": "Communication Services",
    "telecommunications services": "Communication Services",
    "telecom services": "Communication Services",
    "telecommunications": "Communication Services",
    "industries": "Industrials",
    "information tech": "Information Technology",
    "info tech": "Information Technology",
    "technology": "Information Technology",
    "healthcare": "Health Care",
    **{s.lower(): s for s in SECTORS},
    **{etf.lower(): s for etf, s in SECTOR_ETFS.items()},
}

_SYMBOL_SEP = re.compile(r"[-/ ]+")


def normalize_sector(name: object) -> str | None:
    """The GICS sector name for a (possibly variant) sector name, or None when it is blank or unknown."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    key = " ".join(str(name).split()).lower()
    return SECTOR_ALIASES.get(key)


def normalize_symbol(symbol: object) -> str:
    """Upper-case ticker with class separators written as a dot (BRK-B, BRK/B -> BRK.B)."""
    return _SYMBOL_SEP.sub(".", str(symbol).strip().upper())


@dataclass(frozen=True)
class GicsMap:
    """Sector of each symbol in each snapshot; look-ups use the snapshot in force at the date asked."""

    table: pd.DataFrame  # snapshot_date, symbol, sector (normalised), one row per (snapshot_date, symbol)
    dropped: pd.DataFrame  # snapshot_date, symbol, line, raw_sector, reason: rows that could not be mapped
    path: str = ""

    @property
    def snapshots(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.table["snapshot_date"].unique()).sort_values()

    def snapshot_at(self, dates: Iterable | pd.Timestamp) -> pd.DatetimeIndex:
        """The snapshot in force at each date (NaT before the first snapshot)."""
        if isinstance(dates, (str, pd.Timestamp, np.datetime64)) or not hasattr(dates, "__len__"):
            dates = [dates]
        d = pd.DatetimeIndex(dates).astype("datetime64[ns]")
        snaps = self.snapshots.astype("datetime64[ns]")
        pos = snaps.searchsorted(d, side="right") - 1
        out = np.where(pos >= 0, snaps.to_numpy()[np.clip(pos, 0, None)], np.datetime64("NaT"))
        return pd.DatetimeIndex(out)

    def sectors_at(self, date: str | pd.Timestamp) -> pd.Series:
        """symbol -> sector for the snapshot in force at `date` (empty before the first snapshot)."""
        snap = self.snapshot_at(date)[0]
        if pd.isna(snap):
            return pd.Series(dtype=object, name="sector")
        rows = self.table[self.table["snapshot_date"] == snap]
        return pd.Series(rows["sector"].to_numpy(), index=pd.Index(rows["symbol"], name="symbol"), name="sector")

    def sector(self, symbol: str, date: str | pd.Timestamp) -> str | None:
        """Sector of one symbol at one date, or None when it is not in the snapshot in force."""
        return self.sectors_at(date).get(normalize_symbol(symbol))

    def map(self, symbols: Iterable, dates: Iterable) -> pd.Series:
        """Vectorised look-up: the sector of each (symbol, date) pair, NaN where unmapped."""
        raw = pd.Series(list(symbols) if not isinstance(symbols, pd.Series) else symbols.to_numpy(), dtype=object)
        sym = raw.map({s: normalize_symbol(s) for s in pd.unique(raw)})
        snap = self.snapshot_at(dates if hasattr(dates, "__len__") else list(dates))
        if len(sym) != len(snap):
            raise ValueError("symbols and dates must have the same length")
        keys = pd.MultiIndex.from_arrays([snap, sym])
        lookup = self.table.set_index(["snapshot_date", "symbol"])["sector"]
        return pd.Series(lookup.reindex(keys).to_numpy(), dtype=object, name="sector")


def load_gics_snapshots(path: str | Path) -> GicsMap:
    """Read a snapshot file (snapshot_date, symbol, gics_sector, ...) into a point-in-time `GicsMap`.

    Located errors (file, line, column) for a missing column, a bad date, an unknown sector name, a wrong field
    count, and one symbol with two different sectors in the same snapshot.
    """
    path = Path(path)
    problems: list[Problem] = []
    rows, lines = split_rows(path, read_text(path), ",", problems)
    raise_problems(problems, "Fix the file and load it again.")
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header with {list(SNAPSHOT_COLUMNS)}.")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in SNAPSHOT_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: line {lines[0]}: missing column(s) {missing}; the header is {header}.")
    rows, lines = rows[1:], lines[1:]
    check_widths(path, rows, lines, header, problems)
    raise_problems(problems, "Fix or remove these lines.")
    idx = {c: header.index(c) for c in SNAPSHOT_COLUMNS}
    snap = dates(path, column(rows, idx["snapshot_date"]), lines,
                 f"{idx['snapshot_date'] + 1} ('snapshot_date')", ("%Y-%m-%d",), problems)
    sym_raw = column(rows, idx["symbol"])
    raw_sector = column(rows, idx["gics_sector"])
    sector = raw_sector.map(normalize_sector)
    label_sec = f"{idx['gics_sector'] + 1} ('gics_sector')"
    blank = raw_sector == ""
    for pos in np.flatnonzero((sector.isna() & ~blank).to_numpy()):
        problems.append(Problem(str(path), lines[pos], label_sec,
                                f"unknown sector name {raw_sector.iloc[pos]!r}; known: {', '.join(SECTORS)} "
                                "(and the variants in research.data.gics.SECTOR_ALIASES). Add an alias on purpose."))
    for pos in np.flatnonzero((sym_raw == "").to_numpy()):
        problems.append(Problem(str(path), lines[pos], f"{idx['symbol'] + 1} ('symbol')", "blank symbol."))
    raise_problems(problems, "Fix the file and load it again.")
    df = pd.DataFrame({"snapshot_date": snap, "symbol": sym_raw.map(normalize_symbol), "sector": sector,
                       "raw_sector": raw_sector, "line": lines})
    dropped = df[blank.to_numpy()].assign(reason="blank sector (not filled)")
    df = df[~blank.to_numpy()]
    dup = df.duplicated(["snapshot_date", "symbol"], keep=False)
    conflict = df[dup].groupby(["snapshot_date", "symbol"])["sector"].transform("nunique") > 1
    for _, r in df[dup][conflict].iterrows():
        problems.append(Problem(str(path), int(r["line"]), label_sec,
                                f"{r['symbol']} has two different sectors in snapshot {r['snapshot_date'].date()} "
                                f"({r['raw_sector']!r} here). Keep one row per symbol and snapshot."))
    raise_problems(problems, "Fix the file and load it again.")
    df = df.drop_duplicates(["snapshot_date", "symbol"])
    table = df[["snapshot_date", "symbol", "sector"]].sort_values(["snapshot_date", "symbol"]).reset_index(drop=True)
    cols = ["snapshot_date", "symbol", "line", "raw_sector", "reason"]
    return GicsMap(table, dropped[cols].reset_index(drop=True), str(path))


def load_gics(data_dir: str | Path) -> GicsMap:
    """The snapshot file of a data directory (``<data_dir>/reference/`` or ``<data_dir>/``)."""
    base = Path(data_dir)
    for cand in (base / "reference" / SNAPSHOT_FILE, base / SNAPSHOT_FILE, base):
        if cand.is_file():
            return load_gics_snapshots(cand)
    raise DataError(f"{base}: no {SNAPSHOT_FILE} found (looked in {base / 'reference'} and {base}).")
