"""Prices: the contract, and the source that reads a directory of Yahoo-style CSVs.

One entry point for every source (synthetic, a directory, yfinance) is `research.data.sources.load_prices`.

Contract: wide DataFrames on a tz-naive DatetimeIndex of NYSE sessions (named 'date'), one column per ticker,
float64, NaN before a ticker's first trade. `close` and `open` are adjusted for splits and dividends with the
same factor, so returns computed from either are total returns.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research.data.bars import LAYOUT_ADJ, LAYOUT_HISTORY, adjust
from research.data.calendar import TZ, nyse, sessions
from research.data.plausible import PRICE_RANGE, check_history
from research.errors import ConfigError, DataError


@dataclass(frozen=True)
class Prices:
    """Adjusted open and close (and optionally volume) for a set of tickers on one session index."""

    close: pd.DataFrame
    open: pd.DataFrame
    volume: pd.DataFrame | None = None
    source: str = "unknown"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_price_frame(self.close, f"{self.source}: close")
        check_price_frame(self.open, f"{self.source}: open")
        if not self.close.index.equals(self.open.index) or list(self.close.columns) != list(self.open.columns):
            raise DataError(f"{self.source}: open and close must share the same dates and tickers.")

    @property
    def tickers(self) -> list[str]:
        return list(self.close.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.close.index)

    def select(self, tickers: list[str] | tuple[str, ...]) -> Prices:
        """The same prices restricted to `tickers` (an unknown ticker is an error, not a silent NaN column)."""
        unknown = [t for t in tickers if t not in self.close.columns]
        if unknown:
            raise DataError(f"{self.source}: no prices for {unknown}; available: {self.tickers}")
        cols = list(tickers)
        vol = None if self.volume is None else self.volume[cols]
        return Prices(self.close[cols], self.open[cols], vol, self.source, self.notes)

    def between(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None) -> Prices:
        """The same prices restricted to sessions in [start, end]."""
        sl = slice(pd.Timestamp(start) if start else None, pd.Timestamp(end) if end else None)
        vol = None if self.volume is None else self.volume.loc[sl]
        return Prices(self.close.loc[sl], self.open.loc[sl], vol, self.source, self.notes)

    def first_valid(self) -> pd.Series:
        """First session with a close, per ticker."""
        return self.close.apply(lambda s: s.first_valid_index())


def check_price_frame(df: pd.DataFrame, name: str) -> None:
    """Raise DataError unless `df` is a sorted, unique, tz-naive session index of positive float prices."""
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{name}: the index must be dates (a DatetimeIndex), got {type(df.index).__name__}.")
    if df.index.tz is not None:
        raise DataError(f"{name}: dates must be tz-naive session dates, got time zone {df.index.tz}.")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        dups = df.index[df.index.duplicated()].unique()[:5]
        raise DataError(f"{name}: dates must be sorted and unique (duplicates: {list(map(str, dups))}).")
    values = df.to_numpy(dtype=float)
    absurd = np.isinf(values) | (values > PRICE_RANGE[1])
    if absurd.any():
        r, c = np.argwhere(absurd)[0]
        raise DataError(f"{name}: {int(absurd.sum())} infinite or absurd price(s), first at {df.index[r].date()} "
                        f"column {df.columns[c]!r} = {values[r, c]:g} (prices are finite and below "
                        f"{PRICE_RANGE[1]:g}). Fix the source.")
    bad = values <= 0
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: {int(bad.sum())} non-positive price(s), first at {df.index[r].date()} "
            f"column {df.columns[c]!r} = {values[r, c]}. Prices must be > 0; fix the source or drop the rows."
        )


# ---------------------------------------------------------------------------------------------------------------
# A directory of Yahoo-style CSVs (one source of `research.data.sources.load_prices`).
# ---------------------------------------------------------------------------------------------------------------

PRICE_FIELDS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close")
NUMERIC_FIELDS: tuple[str, ...] = (*PRICE_FIELDS, "Volume", "Dividends", "Stock Splits", "Capital Gains")
MISSING_TOKENS: frozenset[str] = frozenset({"", "null", "NULL", "nan", "NaN", "NA", "N/A"})

#: Events whose Yahoo treatment changes price levels (not returns); reported whenever a loaded range covers them.
KNOWN_EVENTS: dict[str, tuple[pd.Timestamp, str]] = {
    "XLF": (pd.Timestamp("2016-09-19"),
            "Yahoo treats the 2016-09-19 XLRE spin-off as a 1.231 split: prices before it are scaled by 1/1.231 "
            "(returns are right; levels before 2016-09-19 are not the traded prices)"),
}
_SHOW = 5


@dataclass(frozen=True)
class PriceFile:
    """One parsed Yahoo-style CSV: its numeric columns on tz-naive session dates, and what was noticed on the way.

    `raw` keeps the file's values unchanged (all-empty rows removed, counted in `notes`); `lines` gives the file
    line number of each row (header = line 1) so later checks can point at the line to fix.
    """

    path: Path
    layout: str
    raw: pd.DataFrame
    lines: np.ndarray
    notes: tuple[str, ...] = ()

    def bars(self) -> pd.DataFrame:
        """Adjusted `open`, `close` and `volume` (see `adjust`)."""
        return adjust(self.raw, self.layout)


def load_price_dir(
    directory: str | Path,
    tickers: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    allow: str | None = None,
) -> Prices:
    """Prices from a directory of Yahoo-style CSVs, one `<TICKER>.csv` per ticker (either layout, see `read_price_csv`).

    File names: a ticker matches its file case-insensitively and with or without Yahoo's index caret, so "VIX"
    and "^VIX" both find `VIX.csv` or `^VIX.csv` (both present is an error). Columns are named as requested, or
    by file stem when `tickers` is None (all files, sorted).
    Partial snapshot rule: a file whose final row is dated exactly one NYSE session after the latest final date
    of every other file in the directory was downloaded during that session; the row is dropped and noted.
    """
    directory = Path(directory).expanduser()
    chosen = _pick_files(directory, tickers)
    last_dates = {p: _tail_date(p) for p in _csv_files(directory)}
    lo, hi = day(start), day(end)
    frames: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for name, path in chosen.items():
        pf = read_price_csv(path, allow=allow)
        notes += [f"{name}: {n}" for n in pf.notes]
        pf = _drop_partial_final_row(pf, name, last_dates, notes)
        bars = pf.bars().loc[lo:hi]
        event = KNOWN_EVENTS.get(_key(path.stem))
        if event is not None and len(bars) and bars.index[0] < event[0]:
            notes.append(f"{name}: {event[1]}")
        frames[name] = bars
    return combine(frames, str(directory), notes)


def read_price_csv(path: str | Path, *, allow: str | None = None) -> PriceFile:
    """Parse and check one Yahoo-style CSV; raise DataError naming the file, line, column and value on any defect.

    Layout is detected from the header: with an `Adj Close` column it is the `auto_adjust=False` download
    layout, else with `Dividends`/`Stock Splits` the `Ticker.history()` layout (prices already adjusted).
    Dates may be plain (`2020-01-02`) or time-zone aware (`2020-01-02 00:00:00-05:00`, read as New York time);
    they must be midnight, unique, ascending, and NYSE sessions (a non-session date with prices is an error: it
    usually means a time-zone shift). Rows empty in every field (Yahoo's holiday rows) are dropped and counted.
    Then the plausibility checks (`research.data.plausible.check_history`: split-unadjusted jumps, moves beyond
    the asset class's bound, Close/Adj Close disagreeing, absurd values, dates outside the calendar).
    """
    path = Path(path)
    header, rows, lines = _read_rows(path)
    layout = _layout(path, header)
    cols = {name: [r[i].strip() for r in rows] for i, name in enumerate(header)}
    dates = _parse_dates(path, cols["Date"], lines)
    numeric = [c for c in header if c in NUMERIC_FIELDS]
    values = pd.DataFrame({c: _parse_numbers(path, c, cols[c], lines) for c in numeric})
    _check_order(path, dates, lines)
    _check_positive(path, values, lines, dates)
    notes: list[str] = []
    empty = values[[c for c in values.columns if c in (*PRICE_FIELDS, "Volume")]].isna().all(axis=1).to_numpy()
    if empty.any():
        notes.append(_empty_rows_note(dates[empty]))
    raw = values.loc[~empty].set_axis(pd.DatetimeIndex(dates[~empty], name="date"))
    kept = lines[~empty]
    notes += check_history(raw, layout, path.stem, str(path), lines=kept, allow=allow)
    notes += _check_sessions(path, raw.index, kept)
    partial = raw[[c for c in raw.columns if c in PRICE_FIELDS]].isna().any(axis=1).to_numpy()
    if partial.any():
        notes.append(f"{int(partial.sum())} row(s) with some empty prices, left NaN (first: line {kept[partial][0]}, "
                     f"{raw.index[partial][0].date()})")
    return PriceFile(path, layout, raw, kept, tuple(notes))


def combine(frames: Mapping[str, pd.DataFrame], source: str, notes: Sequence[str] = ()) -> Prices:
    """One `Prices` on the union of the tickers' sessions from per-ticker `open`/`close`/`volume` frames.

    A ticker is NaN where it has no row (before its first trade, after its last, in its gaps); each such edge is
    written to the notes so the run log says why a column is empty.
    """
    if not frames:
        raise DataError(f"{source}: no tickers to load.")
    idx = pd.DatetimeIndex(sorted(set().union(*(f.index for f in frames.values()))), name="date").as_unit("ns")
    out_notes = list(notes)
    close, opn, vol = {}, {}, {}
    for name, f in frames.items():
        f = f.set_axis(pd.DatetimeIndex(f.index).as_unit("ns")).reindex(idx)
        close[name], opn[name] = f["close"], f["open"]
        vol[name] = f["volume"] if "volume" in f.columns else pd.Series(np.nan, index=idx)
        valid = f["close"].dropna().index
        if len(valid) == 0:
            out_notes.append(f"{name}: no prices in the requested range (column is all NaN)")
            continue
        if len(idx) and valid[0] > idx[0]:
            out_notes.append(f"{name}: first price {valid[0].date()}; NaN on the {idx.get_loc(valid[0])} earlier session(s)")
        if len(idx) and valid[-1] < idx[-1]:
            out_notes.append(f"{name}: last price {valid[-1].date()}; NaN on the {len(idx) - 1 - idx.get_loc(valid[-1])} later session(s)")
    def wide(d: dict[str, pd.Series]) -> pd.DataFrame:
        return pd.DataFrame(d, index=idx, dtype=float)

    volume = wide(vol) if any("volume" in f.columns for f in frames.values()) else None
    return Prices(wide(close), wide(opn), volume, source, tuple(out_notes))


def session_gaps(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """NYSE sessions between the first and last date of `index` that `index` lacks (missing, not closures)."""
    if len(index) == 0:
        return pd.DatetimeIndex([], name="date")
    lo, hi = max(index[0], _cal_first()), min(index[-1], _cal_last())
    if lo > hi:
        return pd.DatetimeIndex([], name="date")
    return sessions(lo, hi).difference(index)


def gaps_note(index: pd.DatetimeIndex) -> list[str]:
    """A note listing the sessions a ticker's history lacks (they stay NaN), or nothing."""
    gaps = session_gaps(index)
    if len(gaps) == 0:
        return []
    shown = ", ".join(str(d.date()) for d in gaps[:_SHOW]) + (" ..." if len(gaps) > _SHOW else "")
    return [f"{len(gaps)} NYSE session(s) without a row, left NaN: {shown}"]


def non_sessions(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Masks over `index`: (dates that are not NYSE sessions, dates outside the calendar so not checked)."""
    cal_lo, cal_hi = _cal_first(), _cal_last()
    outside = np.asarray((index < cal_lo) | (index > cal_hi))
    inside = index[~outside]
    ok = sessions(inside[0], inside[-1]) if len(inside) else pd.DatetimeIndex([])
    bad = ~np.asarray(index.isin(ok)) & ~outside
    return bad, outside


# --- CSV parsing helpers ----------------------------------------------------------------------------------------


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Header, data rows and their line numbers; a row with the wrong field count is a DataError, and so is a
    binary or UTF-16 file or one whose fields are not separated by commas (each named)."""
    from research.data._parsing import check_delimiter, check_text_bytes

    try:
        with path.open("rb") as fh:
            check_text_bytes(path, fh.read(4096))
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            first = next(reader, [])
            if len(first) == 1:
                check_delimiter(path, first[0], ",")
            header = [h.strip() for h in first]
            rows, lines = [], []
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line holds no data
                if len(row) != len(header):
                    kind = ("has fewer fields than the header: the line looks truncated (cut off mid-line)"
                            if len(row) < len(header) else "has more fields than the header")
                    raise DataError(
                        f"{path}, line {reader.line_num}: {kind} ({len(row)} vs {len(header)}: {','.join(row)!r}). "
                        "Re-download the file or fix/delete that line."
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text CSV ({exc.reason} at byte {exc.start}).") from None
    except csv.Error as exc:
        raise DataError(f"{path}: unreadable CSV ({exc}).") from None
    if not header or header == [""]:
        raise DataError(f"{path}: the file is empty; expected a header such as {','.join(_ADJ_HEADER)}.")
    if not rows:
        raise DataError(f"{path}: a header but no data rows.")
    return header, rows, np.asarray(lines, dtype=int)


_ADJ_HEADER = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
_HISTORY_HEADER = ("Date", "Open", "High", "Low", "Close", "Volume", "Dividends", "Stock Splits")


def _layout(path: Path, header: list[str]) -> str:
    """Which Yahoo layout the header is; a missing or repeated column is a DataError."""
    if header[0] in ("Price", "Ticker"):
        raise DataError(
            f"{path}, line 1: a multi-line header ({','.join(header[:4])},...), as written by "
            "yf.download(...).to_csv(). Save one ticker per file with a one-line header, e.g. "
            "yf.download(t, auto_adjust=False, multi_level_index=False).to_csv(f'{t}.csv')."
        )
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise DataError(f"{path}, line 1: column(s) {dups} appear more than once in the header.")
    if "Adj Close" in header:
        layout, expected = LAYOUT_ADJ, _ADJ_HEADER
        required = ("Date", "Open", "Close", "Adj Close")
    elif "Dividends" in header or "Stock Splits" in header:
        layout, expected = LAYOUT_HISTORY, _HISTORY_HEADER
        required = ("Date", "Open", "Close")
    else:
        raise DataError(
            f"{path}, line 1: cannot tell whether prices are adjusted: the header {','.join(header)} has neither "
            f"'Adj Close' (layout {','.join(_ADJ_HEADER)}) nor 'Dividends'/'Stock Splits' "
            f"(Ticker.history() layout {','.join(_HISTORY_HEADER)}). Re-save the file in one of these layouts."
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            f"{path}, line 1: missing column(s) {missing}; header is {','.join(header)}, "
            f"expected {','.join(expected)}."
        )
    return layout


_TZ_SUFFIX = r"(?:[+-]\d{2}:?\d{2}|Z)$"


def _parse_dates(path: Path, texts: list[str], lines: np.ndarray) -> pd.DatetimeIndex:
    """Dates as tz-naive midnights; aware stamps are converted to New York time first."""
    s = pd.Series(texts, dtype=object)
    aware = s.str.contains(_TZ_SUFFIX, regex=True).to_numpy()
    if aware.any() and not aware.all():
        i = int(np.flatnonzero(aware != aware[0])[0])
        raise DataError(
            f"{path}, line {lines[i]}, column 'Date': {texts[i]!r} mixes time-zone-aware and plain dates "
            f"(line {lines[0]} is {texts[0]!r}). Use one form throughout the file."
        )
    if aware.all():
        parsed = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce").dt.tz_convert(TZ).dt.tz_localize(None)
    else:
        parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, line {lines[i]}, column 'Date': cannot parse {texts[i]!r} as a date "
            f"({int(bad.sum())} such row(s)). Use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS-05:00."
        )
    idx = pd.DatetimeIndex(parsed).as_unit("ns")
    timed = np.asarray(idx != idx.normalize())
    if timed.any():
        i = int(np.flatnonzero(timed)[0])
        raise DataError(
            f"{path}, line {lines[i]}, column 'Date': {texts[i]!r} is {idx[i]} in New York time, not a midnight "
            "session date. Only daily bars are supported; re-download with interval='1d'."
        )
    return idx


def _parse_numbers(path: Path, column: str, texts: list[str], lines: np.ndarray) -> np.ndarray:
    """A numeric column; Yahoo's empty markers become NaN, anything else unparseable is a DataError."""
    s = pd.Series(texts, dtype=object)
    missing = s.isin(MISSING_TOKENS).to_numpy()
    values = pd.to_numeric(s.where(~missing, None), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, line {lines[i]}, column {column!r}: {texts[i]!r} is not a number "
            f"({int(bad.sum())} such row(s)). Fix the value, or leave it empty if it is missing."
        )
    return values


def _check_order(path: Path, dates: pd.DatetimeIndex, lines: np.ndarray) -> None:
    """Dates must be unique and ascending."""
    dup = np.asarray(dates.duplicated())
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = lines[int(np.flatnonzero(dates == dates[i])[0])]
        raise DataError(
            f"{path}, line {lines[i]}, column 'Date': duplicate date {dates[i].date()} (also on line {first}). "
            "Keep one row per date."
        )
    back = np.flatnonzero(np.diff(dates.asi8) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise DataError(
            f"{path}, line {lines[i]}, column 'Date': {dates[i].date()} comes after {dates[i - 1].date()} "
            f"(line {lines[i - 1]}); dates must be ascending. Sort the file by date."
        )


def _check_positive(path: Path, values: pd.DataFrame, lines: np.ndarray, dates: pd.DatetimeIndex) -> None:
    """Prices must be > 0 and volume >= 0 where present."""
    for col in values.columns:
        v = values[col].to_numpy()
        bad = (v <= 0) if col in PRICE_FIELDS else (v < 0) if col == "Volume" else np.zeros(len(v), bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            need = "> 0" if col in PRICE_FIELDS else ">= 0"
            raise DataError(
                f"{path}, line {lines[i]}, column {col!r}: {v[i]:g} on {dates[i].date()} ({int(bad.sum())} such "
                f"row(s)); {col} must be {need}. Fix the value, or leave it empty if it is missing."
            )


def _check_sessions(path: Path, index: pd.DatetimeIndex, lines: np.ndarray) -> list[str]:
    """Rows with prices on a non-session are a DataError; the gaps and any unchecked dates become notes."""
    bad, outside = non_sessions(index)
    if bad.any():
        shown = ", ".join(f"line {ln} ({d.date()}, {d.day_name()})" for ln, d in
                          zip(lines[bad][:_SHOW], index[bad][:_SHOW], strict=True))
        raise DataError(
            f"{path}, column 'Date': {int(bad.sum())} row(s) with prices on days the NYSE was closed: {shown}. "
            "A whole run of these usually means dates shifted by a time zone; otherwise delete the lines."
        )
    notes = gaps_note(index)
    if outside.any():
        notes.append(f"{int(outside.sum())} row(s) outside the NYSE calendar ({_cal_first().date()} → "
                     f"{_cal_last().date()}) not checked as sessions")
    return notes


def _empty_rows_note(dates: pd.DatetimeIndex) -> str:
    bad, _ = non_sessions(dates)
    text = f"dropped {len(dates)} row(s) empty in every field ({int(bad.sum())} on NYSE holidays"
    on_sessions = int((~bad).sum())
    return text + (f", {on_sessions} on sessions, left NaN)" if on_sessions else ")")


def _csv_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory of <TICKER>.csv files.")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def _key(name: str) -> str:
    return name.strip().upper().lstrip("^")


def _pick_files(directory: Path, tickers: Sequence[str] | None) -> dict[str, Path]:
    """Column name -> CSV path; a ticker without a file or with two candidate files is an error."""
    files = _csv_files(directory)
    by_key: dict[str, list[Path]] = {}
    for p in files:
        by_key.setdefault(_key(p.stem), []).append(p)
    if not files:
        raise DataError(f"{directory}: no .csv files; expected one <TICKER>.csv per ticker (e.g. SPY.csv).")
    wanted = [p.stem for p in files] if tickers is None else list(tickers)
    chosen: dict[str, Path] = {}
    for t in wanted:
        found = by_key.get(_key(t), [])
        if not found:
            raise DataError(
                f"{directory}: no file for ticker {t!r} (looked for {_key(t)}.csv or ^{_key(t)}.csv, any case); "
                f"files: {', '.join(p.name for p in files)}."
            )
        if len(found) > 1:
            raise DataError(f"{directory}: ticker {t!r} matches {[p.name for p in found]}; keep one of them.")
        chosen[t] = found[0]
    return chosen


def _tail_date(path: Path, nbytes: int = 65536) -> pd.Timestamp | None:
    """Date of the last non-empty data row, read from the end of the file (None if it cannot be read)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - nbytes))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in reversed(text.splitlines()):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 2 or all(f in MISSING_TOKENS for f in fields[1:]):
            continue
        try:
            return day(fields[0])
        except (ValueError, TypeError):
            return None
    return None


def _drop_partial_final_row(pf: PriceFile, name: str, last_dates: Mapping[Path, pd.Timestamp | None],
                            notes: list[str]) -> PriceFile:
    """Apply the partial-snapshot rule of `load_price_dir` (drop + note), or return `pf` unchanged."""
    others = [d for p, d in last_dates.items() if p != pf.path and d is not None]
    if not others or len(pf.raw) < 2:
        return pf
    peers_end = max(others)
    final = pf.raw.index[-1]
    all_sessions = nyse().sessions
    pos = all_sessions.searchsorted(peers_end, side="right")
    if pos >= len(all_sessions) or final != all_sessions[pos]:
        return pf
    notes.append(
        f"{name}: dropped the final row {final.date()} (line {pf.lines[-1]}): it is one session after every other "
        f"file in {pf.path.parent} ends ({peers_end.date()}), the mark of a partial intraday snapshot"
    )
    return PriceFile(pf.path, pf.layout, pf.raw.iloc[:-1], pf.lines[:-1], pf.notes)


def day(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """A user-given date as a tz-naive midnight Timestamp (aware values are read in New York time)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(TZ).tz_localize(None)
    return ts.normalize()


def _cal_first() -> pd.Timestamp:
    return pd.Timestamp(nyse().first_session).tz_localize(None)


def _cal_last() -> pd.Timestamp:
    return pd.Timestamp(nyse().last_session).tz_localize(None)
