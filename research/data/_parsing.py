"""Shared helpers of the real-data parsers (CFTC, FINRA, 13F, GICS, prime book).

Every problem found in a user's file is a `Problem` that names the file, the line, the column and what to do;
parsers collect them and raise one `DataError` listing them all, so a user fixes a file in one pass. Also here:
the US federal business-day calendar that dates government publications (CFTC, SEC), and NYSE session offsets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from research.data.calendar import nyse
from research.errors import DataError

_MAX_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where (file, line, column) and what is wrong; `severity` error or warning."""

    file: str
    line: int | None
    column: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f": line {self.line}"
        if self.column:
            where += f", column {self.column}"
        tag = " (warning)" if self.severity == "warning" else ""
        return f"{where}: {self.message}{tag}"


def raise_problems(problems: Sequence[Problem], what_to_do: str) -> None:
    """Raise one DataError listing the error-severity problems (the first 20), or return if there are none."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    lines = [f"  {p}" for p in errors[:_MAX_LISTED]]
    if len(errors) > _MAX_LISTED:
        lines.append(f"  ... and {len(errors) - _MAX_LISTED} more")
    head = f"{errors[0].file}: {len(errors)} problem{'s' if len(errors) > 1 else ''}:"
    raise DataError("\n".join([head, *lines, what_to_do]))


def col_label(name: str, index: int | None = None) -> str:
    """How a column is named in messages: its 1-based position and header name."""
    return f"{index + 1} ({name!r})" if index is not None else repr(name)


#: Leading bytes of formats a user may hand a CSV reader by mistake, and what they are.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook? save the sheet as CSV UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (save the sheet as CSV UTF-8)"),
    (b"PAR1", "a parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip archive (decompress it first)"),
    (b"SQLite format 3", "an SQLite database"),
)


def binary_kind(data: bytes) -> str | None:
    """What `data` (a file's first bytes) is when it is not UTF-8-compatible text: UTF-16/32 text (with or
    without a byte-order mark), a known binary format, or 'binary data'; None for text."""
    head = data[:4096]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32 text"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        pairs = head[: len(head) // 2 * 2]
        odd, even = pairs[1::2], pairs[0::2]
        if pairs and (odd.count(0) > 0.4 * len(odd) or even.count(0) > 0.4 * len(even)):
            return "UTF-16 text without a byte-order mark"
        return "binary data"
    return None


def check_text_bytes(path: Path, data: bytes) -> None:
    """A DataError naming what the file is when it is binary or UTF-16/32 rather than UTF-8 text."""
    kind = binary_kind(data)
    if kind is not None:
        advice = ("Save it as UTF-8 (in Excel: 'CSV UTF-8'; in Python: encoding='utf-8')." if "text" in kind
                  else "Give the CSV file instead.")
        raise DataError(f"{path}: this is {kind}, not a UTF-8 CSV file. {advice}")


#: Delimiters a CSV may use instead of the expected one, as messages name them.
DELIMITERS = {",": "commas (',')", ";": "semicolons (';')", "\t": "tabs", "|": "pipes ('|')"}


def check_delimiter(path: Path, first_line: str, expected: str) -> None:
    """A DataError when the header line holds no `expected` delimiter but another one: names the one found."""
    if expected in first_line:
        return
    found = [d for d in DELIMITERS if d != expected and first_line.count(d) >= 1]
    if found:
        best = max(found, key=first_line.count)
        raise DataError(f"{path}: line 1: fields are separated by {DELIMITERS[best]}, not "
                        f"{DELIMITERS.get(expected, repr(expected))}: {first_line[:80]!r}. Save the file with "
                        f"{DELIMITERS.get(expected, repr(expected))} between fields (in Excel: 'CSV UTF-8').")


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a byte-order mark is dropped); a file that is not UTF-8 is a located error,
    and a binary or UTF-16 file is named as such."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file. Check the path.") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from None
    check_text_bytes(path, data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{path}: line {line}: byte {data[exc.start:exc.start + 1]!r} is not UTF-8 text. "
                        "Save the file as UTF-8 (in Excel: 'CSV UTF-8').") from None


def split_rows(path: Path, text: str, delimiter: str, problems: list[Problem]) -> tuple[list[list[str]], list[int]]:
    """Split delimited text into rows of fields with the physical line number each row starts on.

    CRLF and LF endings both work; blank lines are skipped; a quoting error (an unclosed quote) is a problem at
    the line where the broken row starts, and reading stops there because the rest cannot be split reliably.
    """
    check_delimiter(path, text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r"), delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(str(path), start, None,
                                    f"cannot split this line into fields ({exc}): an unclosed or stray quote "
                                    "character, or a line cut short. Fix the quoting of this line."))
            break
        if len(row) > 1 or (row and row[0].strip()):
            rows.append(row)
            lines.append(start)
        start = reader.line_num + 1
    return rows, lines


def check_widths(path: Path, rows: list[list[str]], lines: list[int], header: Sequence[str],
                 problems: list[Problem], severity: str = "error") -> list[bool]:
    """Flag rows whose field count differs from the header's; returns a mask of well-formed rows."""
    width = len(header)
    ok = []
    for row, line in zip(rows, lines, strict=True):
        good = len(row) == width
        ok.append(good)
        if not good:
            if len(row) < width:
                what = (f"{len(row)} fields where the header has {width}: columns from "
                        f"{col_label(header[len(row)], len(row))} on are missing (a truncated line?)")
            else:
                what = (f"{len(row)} fields where the header has {width} (a stray delimiter, or an unquoted "
                        "delimiter inside a text field?)")
            problems.append(Problem(str(path), line, None, what + ". Fix or remove this line.", severity))
    return ok


def column(rows: list[list[str]], index: int) -> pd.Series:
    """One column of split rows as a Series of stripped strings (a short row gives '')."""
    try:
        raw = [r[index].strip() for r in rows]
    except IndexError:
        raw = [r[index].strip() if index < len(r) else "" for r in rows]
    return pd.Series(raw, dtype=object)


def numbers(path: Path, values: pd.Series, lines: Sequence[int], label: str, problems: list[Problem], *,
            missing: Iterable[str] = ("",), nonneg: bool = False) -> np.ndarray:
    """Parse a column of number strings to float (missing markers give NaN); anything else is a located problem."""
    s = values.astype(str).str.strip()
    miss = s.isin(set(missing)).to_numpy()
    num = pd.to_numeric(s.where(~miss), errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~miss & ~np.isfinite(num)
    if nonneg:
        bad |= np.isfinite(num) & (num < 0)
    for pos in np.flatnonzero(bad):
        what = "is negative" if np.isfinite(num[pos]) else "is not a number"
        problems.append(Problem(str(path), lines[pos], label, f"{s.iloc[pos]!r} {what}. "
                                "Write a plain number (no thousands separators, units or percent sign)."))
    num[bad] = np.nan
    return num


def dates(path: Path, values: pd.Series, lines: Sequence[int], label: str, formats: Sequence[str],
          problems: list[Problem], *, allow_missing: bool = False) -> pd.Series:
    """Parse a column of date strings trying `formats` in order; an unparseable or blank value is a problem."""
    s = values.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = out.isna() & (s != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    bad = out.isna() & ((s != "") | (not allow_missing))
    for pos in np.flatnonzero(bad.to_numpy()):
        problems.append(Problem(str(path), lines[pos], label,
                                f"{s.iloc[pos]!r} is not a date in the expected format ({' or '.join(formats)})."))
    return out


# --- US federal business days (government publications: CFTC, SEC deadlines) ---

#: Federal offices closed by executive order or a national day of mourning (not in pandas' rule-based calendar).
EXTRA_FEDERAL_CLOSURES: tuple[str, ...] = (
    "2018-12-05",  # President G. H. W. Bush, national day of mourning
    "2018-12-24", "2019-12-24", "2020-12-24",  # Christmas Eve closures
    "2024-12-24",
    "2025-01-09",  # President Carter, national day of mourning
    "2025-12-24", "2025-12-26",
)


@lru_cache(maxsize=1)
def federal_holidays() -> np.ndarray:
    """US federal holidays (observed dates, with Juneteenth from 2021) plus ad hoc closures, as datetime64[D]."""
    rules = USFederalHolidayCalendar().holidays("1990-01-01", "2080-12-31")
    extra = pd.DatetimeIndex(list(EXTRA_FEDERAL_CLOSURES))
    days = rules.union(extra).unique().sort_values()
    return np.asarray(days.to_numpy().astype("datetime64[D]"))


def roll_to_federal_business_day(days: pd.DatetimeIndex | pd.Series | np.ndarray) -> pd.DatetimeIndex:
    """Each date, or the next federal business day (Mon-Fri, not a federal holiday) when it is not one."""
    d = pd.DatetimeIndex(days).to_numpy().astype("datetime64[D]")
    return pd.DatetimeIndex(np.busday_offset(d, 0, roll="forward", holidays=federal_holidays())).astype(
        "datetime64[ns]")


def is_federal_business_day(days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Whether each date is a federal business day."""
    d = pd.DatetimeIndex(days).to_numpy().astype("datetime64[D]")
    return np.is_busday(d, holidays=federal_holidays())


def sessions_after(days: pd.DatetimeIndex | pd.Series, n: int) -> pd.DatetimeIndex:
    """The n-th NYSE session strictly after each date (n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, not {n}")
    s = nyse().sessions
    sess = pd.DatetimeIndex(s.tz_localize(None) if s.tz is not None else s).astype("datetime64[ns]")
    d = pd.DatetimeIndex(days).normalize().astype("datetime64[ns]")
    pos = sess.searchsorted(d, side="right") + (n - 1)
    if len(pos) and pos.max() >= len(sess):
        raise DataError(f"dates up to {d.max().date()} are beyond the NYSE calendar's last session "
                        f"({sess[-1].date()}); update exchange-calendars.")
    return pd.DatetimeIndex(sess[pos])
