"""Prime-book exports: the documented schema (docs/primebook_schema.md), a validator and a panel loader.

A prime-book export is the weekly sector flow and exposure data a prime broker sends its clients, as CSV
(UTF-8, comma-delimited, one header line) or Excel (.xlsx, first worksheet, header on row 1). `validate_file`
checks a file against the schema and returns every problem with its line (the Excel row); the CLI prints them
(``flowbt data validate FILE``). `load_primebook` returns a validated panel or raises one `DataError` listing
them. Warnings (an unknown extra column, an as_of that is not a Friday) do not stop loading.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import Problem, raise_problems, read_text, sessions_after, split_rows
from research.data.calendar import TZ
from research.data.gics import normalize_sector
from research.data.panel import validate_panel
from research.data.universe import BASKETS, BOOK, SECTORS
from research.errors import DataError

__all__ = ["METRICS", "Problem", "REQUIRED", "OPTIONAL", "UNITS", "load_primebook", "read_primebook",
           "validate_file"]

REQUIRED: tuple[str, ...] = ("as_of", "sector", "metric", "value")
OPTIONAL: tuple[str, ...] = ("available_at", "units", "source")

#: Units a value may be given in.
UNITS: frozenset[str] = frozenset({"usd_mn", "pct_gross", "pct_equity", "ratio", "count", "z_score", "percentile"})

#: Documented metrics and their units (other snake_case metrics are allowed with an explicit `units`).
METRICS: dict[str, str] = {
    "net_flow": "usd_mn",          # buys minus sells, long and short books together
    "gross_flow": "usd_mn",        # buys plus sells
    "long_buys": "usd_mn",
    "long_sells": "usd_mn",
    "short_sales": "usd_mn",
    "short_covers": "usd_mn",
    "long_short_ratio": "ratio",   # long exposure / short exposure
    "buy_sell_ratio": "ratio",     # long buys / short sales ("3.7 to 1")
    "net_exposure": "pct_gross",   # sector net as a share of book gross
    "gross_exposure": "pct_gross",  # sector gross as a share of book gross
    "gross_leverage": "pct_equity",
    "net_leverage": "pct_equity",
    "net_flow_z": "z_score",
    "gross_leverage_pctile": "percentile",
}

_METRIC_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ENTITY_ALIASES = {"book": BOOK, "total": BOOK, "all": BOOK, "all sectors": BOOK,
                   **{b.lower(): b for b in BASKETS}}
_DATE_FORMATS = ("%Y-%m-%d",)
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
DEFAULT_LAG_SESSIONS = 1
DEFAULT_CLOCK = pd.Timedelta(hours=18)
#: The largest |value| a prime-book row may hold: flows are in millions of dollars, exposures in percent.
MAX_ABS_VALUE = 1e9


@dataclass(frozen=True)
class _Cells:
    """A file's header and data rows as text, with the line (or Excel row) number of each row."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int


def _cell_text(v: object) -> str:
    """An Excel cell as the text a CSV would hold (dates ISO, integers without '.0')."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) else v.strftime(
            "%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_cells(path: Path, problems: list[Problem]) -> _Cells | None:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            import openpyxl
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one reported problem
            problems.append(Problem(str(path), None, None, f"cannot be opened as an Excel workbook ({exc})."))
            return None
        ws = wb.worksheets[0]
        rows, lines = [], []
        for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in r]
            if any(c.strip() for c in cells):
                rows.append(cells)
                lines.append(i)
        wb.close()
        if rows:  # trailing empty cells of the header's width are formatting, not data
            width = max((k + 1 for k, c in enumerate(rows[0]) if c.strip()), default=0)
            rows = [r[:width] + [""] * (width - len(r)) if all(not c.strip() for c in r[width:]) else r
                    for r in rows]
    elif suffix == ".xls":
        problems.append(Problem(str(path), None, None, "old .xls workbooks are not read: save it as .xlsx or CSV."))
        return None
    else:
        try:
            text = read_text(path)
        except DataError as exc:
            problems.append(Problem(str(path), None, None, str(exc)))
            return None
        rows, lines = split_rows(path, text, ",", problems)
    if not rows:
        problems.append(Problem(str(path), None, None, f"no rows: expected a header {', '.join(REQUIRED)}."))
        return None
    return _Cells([h.strip() for h in rows[0]], rows[1:], lines[1:], lines[0])


def _entity(text: str) -> str | None:
    key = " ".join(text.split()).lower()
    return _ENTITY_ALIASES.get(key) or normalize_sector(text)


def _parse_time(text: str) -> pd.Timestamp | None:
    """A timestamp in New York time: tz-naive as written, or converted from an explicit offset."""
    for fmt in _TIME_FORMATS + _DATE_FORMATS:
        try:
            return pd.Timestamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if ts.tzinfo is None or not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    return ts.tz_convert(TZ).tz_localize(None)


def _check(path: Path) -> tuple[list[Problem], pd.DataFrame]:
    """All problems of a file, and the rows that passed (as_of, available_at or NaT, entity, metric, value, ...)."""
    problems: list[Problem] = []
    f = str(path)
    today = pd.Timestamp.now(tz=TZ).tz_localize(None).normalize()
    cells = _read_cells(path, problems)
    if cells is None:
        return problems, pd.DataFrame()
    header = [h.lower() for h in cells.header]
    for name in sorted({h for h in header if header.count(h) > 1 and h}):
        problems.append(Problem(f, cells.header_line, name, "column appears twice in the header."))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(f, cells.header_line, None,
                                f"missing required column(s) {missing}; the header is {cells.header}. "
                                f"Required: {', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)}."))
        return problems, pd.DataFrame()
    for k, h in enumerate(cells.header):
        if h.lower() not in REQUIRED + OPTIONAL:
            problems.append(Problem(f, cells.header_line, f"{k + 1} ({h!r})" if h else str(k + 1),
                                    "unknown column, ignored.", "warning"))
    pos = {h: header.index(h) for h in REQUIRED + OPTIONAL if h in header}
    recs = []
    first_seen: dict[tuple, int] = {}
    units_of: dict[str, tuple[str, int]] = {}
    for row, line in zip(cells.rows, cells.lines, strict=True):
        if len(row) != len(header):
            problems.append(Problem(f, line, None, f"{len(row)} fields where the header has {len(header)} "
                                    "(a truncated line, or an unquoted comma inside a field?)."))
            continue
        cell = {h: row[i].strip() for h, i in pos.items()}
        bad = False

        def report(col: str, msg: str, severity: str = "error", _line: int = line) -> None:
            nonlocal bad
            bad = bad or severity == "error"
            problems.append(Problem(f, _line, col, msg, severity))

        as_of = None
        try:
            as_of = pd.Timestamp(datetime.strptime(cell["as_of"], "%Y-%m-%d"))
        except ValueError:
            report("as_of", f"{cell['as_of']!r} is not a date written YYYY-MM-DD." if cell["as_of"]
                   else "blank as_of date.")
        if as_of is not None and as_of > today:
            report("as_of", f"{as_of.date()} is in the future (today is {today.date()}): a typing error in the "
                   "year?")
        elif as_of is not None and as_of.weekday() != 4:
            report("as_of", f"{as_of.date()} is a {as_of.day_name()}; weekly data is usually stamped with the "
                   "Friday ending the week.", "warning")
        entity = _entity(cell["sector"])
        if entity is None:
            report("sector", f"{cell['sector']!r} is not a GICS sector; use one of {', '.join(SECTORS)}, "
                   f"{BOOK} (or Total) for the whole book, or a basket ({', '.join(BASKETS)}).")
        metric = cell["metric"]
        if not _METRIC_RE.match(metric):
            report("metric", f"{metric!r} is not a metric name (lower-case snake_case, e.g. net_flow).")
        units = cell.get("units", "")
        if _METRIC_RE.match(metric):
            if units and units not in UNITS:
                report("units", f"{units!r} is not a known unit; use one of {', '.join(sorted(UNITS))}.")
            elif units and metric in METRICS and units != METRICS[metric]:
                report("units", f"{metric} is given in {METRICS[metric]}, not {units}.")
            elif not units and metric not in METRICS:
                report("units", f"{metric} is not a documented metric, so its units are needed "
                       f"(one of {', '.join(sorted(UNITS))}).")
            else:
                units = units or METRICS[metric]
                if metric in units_of and units_of[metric][0] != units:
                    report("units", f"{metric} is in {units} here but {units_of[metric][0]} on line "
                           f"{units_of[metric][1]}; one metric has one unit.")
                else:
                    units_of.setdefault(metric, (units, line))
        raw_value = cell["value"]
        value = None
        if raw_value == "":
            report("value", "blank value: a missing observation is an absent row, so delete this row.")
        else:
            try:
                value = float(raw_value)
                if not math.isfinite(value):
                    raise ValueError
                if abs(value) > MAX_ABS_VALUE:
                    report("value", f"{raw_value!r} is beyond any flow, exposure or ratio (|value| <= "
                           f"{MAX_ABS_VALUE:g}; usd_mn is millions): an overflow or a typing error.")
                    value = None
            except ValueError:
                hint = " Drop the % sign and give the units." if raw_value.endswith("%") else (
                    " Remove thousands separators." if "," in raw_value else "")
                report("value", f"{raw_value!r} is not a number.{hint}")
                value = None
        avail = None
        if cell.get("available_at", ""):
            avail = _parse_time(cell["available_at"])
            if avail is None:
                report("available_at", f"{cell['available_at']!r} is not a time written YYYY-MM-DD HH:MM "
                       "(New York time) or ISO 8601 with an offset.")
            elif as_of is not None and avail < as_of + pd.Timedelta(hours=16):
                report("available_at", f"{avail} is before the close of the as_of day {as_of.date()}: data "
                       "cannot be public before the week it describes ends.")
        source = cell.get("source", "")
        if as_of is not None and entity is not None:
            key = (as_of, entity, metric, avail, source)
            if key in first_seen:
                report("as_of", f"duplicate row: {as_of.date()} {entity} {metric} is also on line "
                       f"{first_seen[key]}. Keep one row (revisions need a later available_at).")
            else:
                first_seen[key] = line
        if not bad:
            recs.append((as_of, avail, entity, metric, value, source, units, line))
    if not recs and not any(p.severity == "error" for p in problems):
        problems.append(Problem(f, None, None, "no data rows under the header."))
    cols = ["as_of", "available_at", "entity", "metric", "value", "source", "units", "line"]
    return problems, pd.DataFrame(recs, columns=cols)


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem of a prime-book file against the schema, in file order; an empty list means it loads."""
    problems, _ = _check(Path(path))
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def read_primebook(path: str | Path) -> pd.DataFrame:
    """The rows of a valid file (raises DataError listing every problem otherwise); available_at NaT if absent."""
    path = Path(path)
    problems, rows = _check(path)
    raise_problems(sorted(problems, key=lambda p: p.line or 0),
                   "See docs/primebook_schema.md; `flowbt data validate FILE` lists the same problems.")
    return rows


def load_primebook(path: str | Path, *, lag_sessions: int = DEFAULT_LAG_SESSIONS,
                   clock: pd.Timedelta = DEFAULT_CLOCK) -> pd.DataFrame:
    """A prime-book file as a validated panel.

    Rows without `available_at` are stamped `lag_sessions` NYSE sessions after as_of at `clock` (default: the
    next session at 18:00, i.e. a Friday week is first usable at Tuesday's decision). Rows without `source`
    get ``prime_book:<file name>``.
    """
    path = Path(path)
    rows = read_primebook(path)
    no_time = rows["available_at"].isna().to_numpy()
    avail = pd.Series(pd.to_datetime(rows["available_at"]).astype("datetime64[ns]"))
    if no_time.any():
        stamped = sessions_after(pd.DatetimeIndex(rows.loc[no_time, "as_of"]), lag_sessions) + clock
        avail[no_time] = np.asarray(stamped, dtype="datetime64[ns]")
    rows = rows.assign(available_at=avail.to_numpy(),
                       source=rows["source"].where(rows["source"] != "", f"prime_book:{path.name}"))
    ents = set(SECTORS) | {BOOK, *BASKETS}
    return validate_panel(rows.drop(columns="line"), name=str(path), entities=ents)
