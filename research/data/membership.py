"""Point-in-time S&P 500 membership from membership intervals (``reference/sp500_ticker_start_end.csv``).

File: ``ticker,start_date,end_date`` (end blank while a member); a ticker may have several intervals (AAL left in
1997 and came back in 2015). Decision: a ticker is a member on ``start_date <= d < end_date`` — the end date is
the day the change took effect, when the index no longer held it. Tickers are today's (renames are not tracked by
the source), normalised like every other symbol (`research.data.gics.normalize_symbol`: ``BRK-B`` -> ``BRK.B``).
Overlapping intervals of one ticker, a bad date or an end before its start are located errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import Problem, check_widths, column, dates, raise_problems, read_text, split_rows
from research.data.gics import normalize_symbol
from research.errors import DataError

MEMBERSHIP_FILE = "sp500_ticker_start_end.csv"
COLUMNS: tuple[str, ...] = ("ticker", "start_date", "end_date")


@dataclass(frozen=True)
class Membership:
    """S&P 500 membership intervals: `members_at(date)` is the set of tickers in the index on that date."""

    table: pd.DataFrame  # symbol, start, end (NaT = still a member), line
    path: str = ""

    def members_at(self, date: str | pd.Timestamp) -> frozenset[str]:
        d = pd.Timestamp(date)
        t = self.table
        live = (t["start"] <= d) & (t["end"].isna() | (t["end"] > d))
        return frozenset(t.loc[live, "symbol"])

    def is_member(self, symbols: pd.Series, on: pd.Series) -> np.ndarray:
        """Vectorised: whether each symbol was a member on its date."""
        left = pd.DataFrame({"symbol": np.asarray(symbols, dtype=object), "d": pd.to_datetime(np.asarray(on)),
                             "i": np.arange(len(symbols))})
        m = left.merge(self.table[["symbol", "start", "end"]], on="symbol", how="inner")
        hit = (m["start"] <= m["d"]) & (m["end"].isna() | (m["end"] > m["d"]))
        out = np.zeros(len(symbols), dtype=bool)
        out[m.loc[hit, "i"].to_numpy()] = True
        return out

    def ever_between(self, start: str | pd.Timestamp, end: str | pd.Timestamp) -> frozenset[str]:
        """Tickers that were members at some point in [start, end]."""
        t = self.table
        live = (t["start"] <= pd.Timestamp(end)) & (t["end"].isna() | (t["end"] > pd.Timestamp(start)))
        return frozenset(t.loc[live, "symbol"])


def load_membership(path: str | Path) -> Membership:
    """Read a membership interval file (a file, or a data directory holding ``reference/<MEMBERSHIP_FILE>``)."""
    path = Path(path)
    if path.is_dir():
        cand = [path / "reference" / MEMBERSHIP_FILE, path / MEMBERSHIP_FILE]
        found = [c for c in cand if c.is_file()]
        if not found:
            raise DataError(f"{path}: no {MEMBERSHIP_FILE} (looked in {path / 'reference'} and {path}).")
        path = found[0]
    problems: list[Problem] = []
    rows, lines = split_rows(path, read_text(path), ",", problems)
    raise_problems(problems, "Fix the file and load it again.")
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header {','.join(COLUMNS)}.")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: line {lines[0]}: missing column(s) {missing}; the header is {header}.")
    rows, lines = rows[1:], lines[1:]
    check_widths(path, rows, lines, header, problems)
    raise_problems(problems, "Fix or remove these lines.")
    pos = {c: header.index(c) for c in COLUMNS}
    ln = np.asarray(lines)
    start = dates(path, column(rows, pos["start_date"]), ln, f"{pos['start_date'] + 1} ('start_date')",
                  ("%Y-%m-%d",), problems)
    end = dates(path, column(rows, pos["end_date"]), ln, f"{pos['end_date'] + 1} ('end_date')", ("%Y-%m-%d",),
                problems, allow_missing=True)
    sym = column(rows, pos["ticker"])
    for p in np.flatnonzero((sym == "").to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), "1 ('ticker')", "blank ticker."))
    for p in np.flatnonzero((end.notna() & start.notna() & (end <= start)).to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), f"{pos['end_date'] + 1} ('end_date')",
                                f"end {end.iloc[p].date()} is not after start {start.iloc[p].date()}."))
    raise_problems(problems, "Fix the file and load it again.")
    t = pd.DataFrame({"symbol": sym.map(normalize_symbol), "start": start, "end": end, "line": ln})
    t = t.sort_values(["symbol", "start"], kind="stable").reset_index(drop=True)
    same = t["symbol"].eq(t["symbol"].shift())
    prev_end = t["end"].shift()
    overlap = same & (prev_end.isna() | (t["start"] < prev_end))
    for p in np.flatnonzero(overlap.to_numpy()):
        problems.append(Problem(str(path), int(t["line"].iloc[p]), "2 ('start_date')",
                                f"{t['symbol'].iloc[p]}: this interval overlaps the one on line "
                                f"{int(t['line'].iloc[p - 1])}. Keep one membership interval at a time."))
    raise_problems(problems, "Fix the file and load it again.")
    return Membership(t, str(path))
