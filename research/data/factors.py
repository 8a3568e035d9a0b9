"""Fama-French daily factors (Kenneth R. French Data Library) as decimal returns on a date index.

The library's daily CSV: a few preamble lines, a header `,Mkt-RF,SMB,HML,RF` (first cell empty), rows
`YYYYMMDD, value, ...` in percent, a blank line, then a copyright footer. The data block is the run of lines
after the header up to the first blank line; everything after it is ignored. The zip the library serves may
be given directly. The library's missing-value markers (-99.99, -999) become NaN and are listed in
`df.attrs["notes"]` (the run log), never used as returns.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from research.errors import DataError

FACTOR_COLUMNS: tuple[str, ...] = ("Mkt-RF", "SMB", "HML", "RF")
MISSING_MARKERS: tuple[float, ...] = (-99.99, -999.0)
_DATE = re.compile(r"^\d{8}$")


def load_ff_factors(path: str | Path) -> pd.DataFrame:
    """Daily factors as decimals (the file's percent / 100), columns as in the header, index 'date'.

    Requires at least Mkt-RF, SMB, HML and RF (the 3- and 5-factor daily files both have them). Raises
    DataError naming the file, line (header = the line a text editor shows) and value for any malformed row.
    """
    path = Path(path)
    lines = _read_lines(path)
    h = _header_line(path, lines)
    columns = [c.strip() for c in lines[h].split(",")[1:]]
    missing = [c for c in FACTOR_COLUMNS if c not in columns]
    if missing:
        raise DataError(f"{path}, line {h + 1}: missing column(s) {missing}; header is {lines[h]!r}, expected "
                        f"',{','.join(FACTOR_COLUMNS)}' (the daily Fama-French factors file).")
    dates, rows, line_nos = [], [], []
    for i in range(h + 1, len(lines)):
        text = lines[i].strip()
        if not text:
            break
        fields = [f.strip() for f in text.split(",")]
        where = f"{path}, line {i + 1}"
        if not _DATE.match(fields[0]):
            hint = (" It looks like a monthly/annual file (YYYYMM/YYYY); give the daily one."
                    if re.fullmatch(r"\d{4}|\d{6}", fields[0]) else "")
            raise DataError(f"{where}, column 'date': {fields[0]!r} is not a YYYYMMDD date.{hint}")
        if len(fields) != len(columns) + 1:
            raise DataError(f"{where}: {len(fields)} fields, the header has {len(columns) + 1} "
                            f"({text!r}); the line looks truncated. Re-download the file.")
        rows.append([_number(v, f"{where}, column {c!r}") for c, v in zip(columns, fields[1:], strict=True)])
        dates.append(fields[0])
        line_nos.append(i + 1)
    if not rows:
        raise DataError(f"{path}, line {h + 2}: no data rows after the header.")
    parsed = pd.to_datetime(pd.Series(dates), format="%Y%m%d", errors="coerce")
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"{path}, line {line_nos[i]}, column 'date': {dates[i]!r} is not a calendar date.")
    idx = pd.DatetimeIndex(parsed, name="date").as_unit("ns")
    _check_order(path, idx, line_nos)
    values = np.asarray(rows, dtype=float)
    marker = np.isin(values, MISSING_MARKERS)
    notes = []
    if marker.any():
        r, c = np.argwhere(marker)[0]
        notes.append(f"{path.name}: {int(marker.sum())} missing value(s) (-99.99/-999) left NaN, first "
                     f"{columns[c]} on {idx[r].date()} (line {line_nos[r]})")
        values[marker] = np.nan
    out = pd.DataFrame(values / 100.0, index=idx, columns=columns)
    out.attrs.update(source=str(path), notes=notes)
    return out


def load_rf(path: str | Path) -> pd.Series:
    """Daily risk-free rate (the one-month T-bill compounded to a daily simple rate) as a decimal Series 'rf'."""
    factors = load_ff_factors(path)
    rf = factors["RF"].rename("rf")
    rf.attrs.update(factors.attrs)
    return rf


def _read_lines(path: Path) -> list[str]:
    """The file's lines; a .zip holding a single CSV is read directly."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if n.lower().endswith(".csv")]
                if len(members) != 1:
                    raise DataError(f"{path}: expected one .csv inside the zip, found {members}.")
                raw = zf.read(members[0])
        else:
            raw = path.read_bytes()
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot read the factors file ({exc}).") from None
    text = raw.decode("latin-1")  # the library's files are ASCII; latin-1 never fails on a stray byte
    return text.lstrip("\ufeff").splitlines()


def _header_line(path: Path, lines: list[str]) -> int:
    """Index of the header: the first line whose first cell is empty and whose other cells are names."""
    for i, line in enumerate(lines):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) > 1 and fields[0] == "" and all(fields[1:]):
            return i
    raise DataError(f"{path}: no header line like ',{','.join(FACTOR_COLUMNS)}' (first cell empty); "
                    "is this the daily Fama-French factors CSV?")


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number.") from None


def _check_order(path: Path, idx: pd.DatetimeIndex, line_nos: list[int]) -> None:
    dup = np.flatnonzero(np.asarray(idx.duplicated()))
    if len(dup):
        i = int(dup[0])
        raise DataError(f"{path}, line {line_nos[i]}: duplicate date {idx[i].date()}. Keep one row per date.")
    back = np.flatnonzero(np.diff(idx.asi8) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise DataError(f"{path}, line {line_nos[i]}: {idx[i].date()} comes after {idx[i - 1].date()}; "
                        "dates must be ascending.")
