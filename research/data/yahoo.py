"""yfinance prices through a local parquet cache: download only what the cache lacks, read every run from it.

Cache: one parquet file per ticker, `<cache_dir>/<TICKER>.parquet` (`^VIX.parquet` keeps Yahoo's caret). The
default directory is `$FLOWBT_CACHE/prices` if FLOWBT_CACHE is set (the root of all flowbt caches), else
`~/.cache/flowbt/prices`. A file holds Yahoo's raw `auto_adjust=False` columns (Open, High, Low, Close,
Adj Close, Volume) on tz-naive session dates, unchanged, and in its schema metadata the date range already
asked of Yahoo (`covered_start`, `covered_end`), so a ticker that starts later than asked is not re-downloaded.

Merging: a download for an existing ticker overlaps its cached rows by OVERLAP. Yahoo re-bases the whole
adjusted history at each dividend or split, so if Close or Adj Close on the overlap differ from the cache the
ticker is re-downloaded over its full range rather than stitched (stitching two bases would invent a return).
A session's bar is cached only SETTLE after that session's close: an intraday bar is partial.
Offline: yfinance returns an empty frame. That becomes a NetworkError for tickers the cache lacks; tickers the
cache has are served from it, with a note. Reading: Yahoo rows on days the NYSE was closed are kept in the
cache (it mirrors Yahoo) but dropped from `Prices` with a note (the CSV loader makes them an error instead,
because a user can fix a file and cannot fix Yahoo).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from research.data.bars import LAYOUT_ADJ, adjust
from research.data.calendar import TZ, nyse
from research.data.plausible import check_history
from research.data.prices import Prices, combine, day, gaps_note, non_sessions
from research.data.universe import TICKERS
from research.errors import ConfigError, DataError, NetworkError

ENV_VAR = "FLOWBT_CACHE"
RAW_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
DEFAULT_START = pd.Timestamp("1990-01-02")
OVERLAP = pd.Timedelta(days=10)
SETTLE = pd.Timedelta(hours=1)
_META = b"flowbt"
_TICKER = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]*$")


@dataclass(frozen=True)
class CacheEntry:
    """One ticker's cached raw rows and the date range already asked of Yahoo."""

    ticker: str
    raw: pd.DataFrame
    covered_start: pd.Timestamp
    covered_end: pd.Timestamp


@dataclass(frozen=True)
class FetchResult:
    """What `fetch_prices` did for one ticker (for the CLI summary and the run log)."""

    ticker: str
    path: Path
    action: str  # "up to date", "created", "extended", "refetched", "stale" (served from cache), "failed"
    rows: int  # rows cached after the fetch
    downloaded: int  # rows received from yfinance
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    notes: tuple[str, ...] = ()


def default_cache_dir() -> Path:
    """`$FLOWBT_CACHE/prices`, else `~/.cache/flowbt/prices`."""
    root = os.environ.get(ENV_VAR)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "flowbt") / "prices"


def cache_file(ticker: str, cache_dir: Path | None = None) -> Path:
    """Path of a ticker's parquet file in the cache."""
    return (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()) / f"{_name(ticker)}.parquet"


def fetch_prices(
    tickers: Sequence[str] | str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    *,
    now: pd.Timestamp | None = None,
) -> list[FetchResult]:
    """Bring the cache up to date for `tickers` over [start, end] (default: from 1990 to the last settled session).

    Downloads only the missing part of each ticker (plus OVERLAP), one yfinance call per distinct range.
    Raises NetworkError naming the tickers yfinance returned nothing for and the cache cannot serve.
    `now` (tz-naive New York time) is for tests.
    """
    names = _tickers(tickers)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    req_start, req_end = _window(start, end, now)
    entries = {t: read_entry(t, cache) for t in names}
    results: dict[str, FetchResult] = {}
    groups: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
    for t in names:
        plan = _plan(entries[t], req_start, req_end)
        if plan is None:
            results[t] = _result(t, cache, entries[t], "up to date", 0)
        else:
            groups.setdefault(plan, []).append(t)
    for (fs, fe), group in groups.items():
        data, err = _download(group, fs, fe, progress)
        for t in group:
            new, notes = _extract(data, t, len(group))
            results[t] = _absorb(t, cache, entries[t], new, notes, fs, fe, err, progress)
    failed = [t for t in names if results[t].action == "failed"]
    if failed:
        served = [t for t in names if t not in failed]
        raise NetworkError(
            f"yfinance returned no prices for {failed} ({req_start.date()} → {req_end.date()}) and the cache "
            f"{cache} has none: the network is down, Yahoo refused the request, or a symbol is wrong "
            f"({'; '.join(n for t in failed for n in results[t].notes)}). "
            + (f"{served} are cached. " if served else "")
            + f"Retry online with `flowbt data fetch-prices {' '.join(failed)}`, drop those tickers, or load "
            "with offline=True / a CSV directory."
        )
    return [results[t] for t in names]


def read_cached(
    tickers: Sequence[str] | str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cache_dir: Path | None = None,
    *,
    allow: str | None = None,
) -> Prices:
    """Prices from the cache alone (never the network); a ticker not cached is a NetworkError saying what to run.
    Every ticker passes the plausibility checks (`research.data.plausible`; `allow`, default $FLOWBT_ALLOW)."""
    names = _tickers(tickers)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    entries = {t: read_entry(t, cache) for t in names}
    missing = [t for t, e in entries.items() if e is None]
    if missing:
        raise NetworkError(
            f"no cached prices for {missing} in {cache}. While online run `flowbt data fetch-prices "
            f"{' '.join(missing)}` (or load_prices('yfinance', offline=False)), or drop those tickers."
        )
    lo, hi = day(start), day(end)
    frames, notes = {}, []
    for t, e in entries.items():
        assert e is not None
        raw, entry_notes = _checked(e, cache_file(t, cache), allow)
        notes += [f"{t}: {n}" for n in entry_notes]
        if (lo is not None and lo < e.covered_start) or (hi is not None and hi > e.covered_end):
            notes.append(f"{t}: the cache covers {e.covered_start.date()} → {e.covered_end.date()} only "
                         f"(asked {lo.date() if lo else '…'} → {hi.date() if hi else '…'}); fetch to extend it")
        frames[t] = adjust(raw, LAYOUT_ADJ).loc[lo:hi]
    return combine(frames, "yfinance", notes)


def load_yahoo(
    tickers: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    offline: bool = False,
    cache_dir: Path | None = None,
    progress: bool | None = None,
    allow: str | None = None,
) -> Prices:
    """`load_prices("yfinance", ...)`: fetch what the cache lacks (unless offline), then read from the cache.

    Default tickers: the universe (SPY and the 11 sector ETFs). Progress shows in Jupyter and on an interactive
    terminal (not in CI, not with --quiet) unless `progress` says otherwise (`research.logs.progress_enabled`).
    """
    names = _tickers(list(tickers) if tickers is not None else list(TICKERS))
    if offline:
        return read_cached(names, start, end, cache_dir, allow=allow)
    from research.logs import progress_enabled

    shown = progress_enabled(progress)
    results = fetch_prices(names, start, end, cache_dir, shown)
    prices = read_cached(names, start, end, cache_dir, allow=allow)
    fetch_notes = tuple(f"{r.ticker}: {n}" for r in results for n in r.notes)
    return replace(prices, notes=fetch_notes + prices.notes)


def read_entry(ticker: str, cache_dir: Path | None = None) -> CacheEntry | None:
    """A ticker's cache entry, or None if it has none; an unreadable file is a DataError saying to delete it."""
    path = cache_file(ticker, cache_dir)
    if not path.exists():
        return None
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[_META])
        raw = table.to_pandas()
        start, stop = pd.Timestamp(meta["covered_start"]), pd.Timestamp(meta["covered_end"])
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: unreadable price cache file ({type(exc).__name__}: {exc}). "
                        "Delete it and fetch again.") from None
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: cache file lacks columns {missing}. Delete it and fetch again.")
    raw.index = pd.DatetimeIndex(raw.index, name="date").as_unit("ns")
    return CacheEntry(_name(ticker), raw[list(RAW_COLUMNS)].astype(float), start, stop)


def write_entry(entry: CacheEntry, cache_dir: Path | None = None) -> Path:
    """Write a cache entry atomically (a crash never leaves a half-written file)."""
    path = cache_file(entry.ticker, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(entry.raw, preserve_index=True)
    meta = {"ticker": entry.ticker, "covered_start": str(entry.covered_start.date()),
            "covered_end": str(entry.covered_end.date()), "source": "yfinance auto_adjust=False",
            "written_at": pd.Timestamp.now(tz=TZ).isoformat()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: json.dumps(meta).encode()})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:  # a full disk or Ctrl-C: no half-written temporary file left behind
        tmp.unlink(missing_ok=True)
    return path


# --- helpers ----------------------------------------------------------------------------------------------------


def _name(ticker: str) -> str:
    name = str(ticker).strip().upper()
    if not _TICKER.match(name):
        raise ConfigError(f"{ticker!r} is not a Yahoo ticker symbol (letters, digits, '.', '-', '=', leading '^').")
    return name


def _tickers(tickers: Sequence[str] | str) -> list[str]:
    items = tickers.replace(",", " ").split() if isinstance(tickers, str) else list(tickers)
    names = list(dict.fromkeys(_name(t) for t in items))
    if not names:
        raise ConfigError("no tickers given.")
    return names


def _window(start: str | pd.Timestamp | None, end: str | pd.Timestamp | None,
            now: pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First session >= start and last settled session <= end."""
    now = pd.Timestamp.now(tz=TZ).tz_localize(None) if now is None else _ny_time(now)
    cal = nyse()
    all_sessions = pd.DatetimeIndex(cal.sessions)
    closes = pd.DatetimeIndex(cal.closes.dt.tz_convert(TZ).dt.tz_localize(None).to_numpy())
    settled = all_sessions[closes + SETTLE <= now]
    lo = day(start) if start is not None else DEFAULT_START
    hi = day(end) if end is not None else None
    after = all_sessions[all_sessions >= lo]
    upto = settled[settled <= hi] if hi is not None else settled
    if len(after) == 0 or len(upto) == 0 or upto[-1] < after[0]:
        raise ConfigError(
            f"no settled NYSE session between {lo.date()} and {hi.date() if hi is not None else 'now'} "
            f"(now is {now:%Y-%m-%d %H:%M} New York): a session's bar is final {SETTLE} after its close."
        )
    return after[0], upto[-1]


def _ny_time(value: str | pd.Timestamp) -> pd.Timestamp:
    """A timestamp as tz-naive New York wall-clock time."""
    ts = pd.Timestamp(value)
    return ts.tz_convert(TZ).tz_localize(None) if ts.tzinfo is not None else ts


def _plan(entry: CacheEntry | None, lo: pd.Timestamp, hi: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The range to download so the cache covers [lo, hi], overlapping cached rows; None if already covered."""
    if entry is None:
        return lo, hi
    before, after = lo < entry.covered_start, hi > entry.covered_end
    first, last = entry.raw.index[0], entry.raw.index[-1]
    if before and after:
        return lo, hi
    if before:
        return lo, min(first + OVERLAP, entry.covered_end)
    if after:
        return last - OVERLAP, hi
    return None


def _download(group: list[str], start: pd.Timestamp, end: pd.Timestamp, progress: bool):
    """One yfinance call; (frame, "") or (None, what went wrong). yfinance's `end` is exclusive."""
    import yfinance as yf

    try:
        data = yf.download(group, start=f"{start:%Y-%m-%d}", end=f"{end + pd.Timedelta(days=1):%Y-%m-%d}",
                           auto_adjust=False, actions=False, group_by="ticker", threads=False, progress=progress)
    except Exception as exc:  # any failure inside yfinance is a failed download, reported by the caller
        return None, f"{type(exc).__name__}: {exc}"
    return data, ""


def _extract(data: pd.DataFrame | None, ticker: str, n_group: int) -> tuple[pd.DataFrame, list[str]]:
    """One ticker's raw rows from a yfinance frame (ticker on either column level; empty if it has none),
    without all-empty rows, and notes on anything removed."""
    empty = pd.DataFrame(columns=list(RAW_COLUMNS), index=pd.DatetimeIndex([], name="date"), dtype=float)
    if data is None or len(data) == 0:
        return empty, []
    cols = data.columns
    if isinstance(cols, pd.MultiIndex):
        level = next((lv for lv in range(cols.nlevels) if ticker in cols.get_level_values(lv)), None)
        if level is None:
            return empty, []
        sub = data.xs(ticker, axis=1, level=level)
    elif n_group == 1:
        sub = data
    else:
        raise DataError(f"yfinance returned flat columns {list(cols)} for {n_group} tickers; expected a "
                        "(Ticker, Price) column MultiIndex. Check the installed yfinance version.")
    missing = [c for c in RAW_COLUMNS if c not in sub.columns]
    if missing:
        raise DataError(f"yfinance returned columns {list(sub.columns)} for {ticker}, lacking {missing}; "
                        "flowbt asks for auto_adjust=False. Check the installed yfinance version.")
    sub = sub[list(RAW_COLUMNS)].astype(float)
    idx = pd.DatetimeIndex(sub.index)
    idx = idx.tz_convert(TZ).tz_localize(None) if idx.tz is not None else idx
    sub = sub.set_axis(pd.DatetimeIndex(idx.normalize(), name="date").as_unit("ns"))
    sub = sub[~sub.isna().all(axis=1)].sort_index()
    dup = sub.index.duplicated(keep="last")
    notes = [f"yfinance sent {int(dup.sum())} duplicate date(s) ({sub.index[dup][0].date()}...); kept the last"
             ] if dup.any() else []
    return sub[~dup], notes


def _absorb(t: str, cache: Path, entry: CacheEntry | None, new: pd.DataFrame, notes: list[str],
            fs: pd.Timestamp, fe: pd.Timestamp, err: str, progress: bool) -> FetchResult:
    """Merge a download into a ticker's cache entry and write it; decide the FetchResult."""
    late = new.index > fe
    if late.any():
        notes.append(f"ignored {int(late.sum())} row(s) after {fe.date()} (from {new.index[late][0].date()}): "
                     "not settled yet, possibly an intraday bar")
        new = new[~late]
    if new.empty:
        why = f"yfinance returned no rows for {fs.date()} → {fe.date()}" + (f" ({err})" if err else "")
        if entry is None:
            return _result(t, cache, None, "failed", 0, (*notes, why))
        return _result(t, cache, entry, "stale", 0, (*notes, f"{why}; serving the cache, which covers "
                                                      f"{entry.covered_start.date()} → {entry.covered_end.date()}",))
    if entry is None:
        entry = CacheEntry(t, new, fs, fe)
        write_entry(entry, cache)
        return _result(t, cache, entry, "created", len(new), tuple(notes))
    lo, hi = min(entry.covered_start, fs), max(entry.covered_end, fe)
    merged, detail = _merge(entry.raw, new)
    if merged is not None:
        entry = CacheEntry(t, merged, lo, hi)
        write_entry(entry, cache)
        return _result(t, cache, entry, "extended", len(new), tuple(notes))
    data, err2 = _download([t], lo, hi, progress)
    full, full_notes = _extract(data, t, 1)
    full = full[full.index <= hi]
    notes += full_notes
    if full.empty:
        return _result(t, cache, entry, "stale", len(new), (
            f"Yahoo re-based the adjusted history ({detail}) but re-downloading {lo.date()} → {hi.date()} "
            f"returned nothing{f' ({err2})' if err2 else ''}; serving the old cache, which is consistent",))
    entry = CacheEntry(t, full, lo, hi)
    write_entry(entry, cache)
    return _result(t, cache, entry, "refetched", len(new) + len(full), (
        *notes, f"Yahoo re-based the adjusted history ({detail}): re-downloaded {lo.date()} → {hi.date()}"))


def _merge(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """Old rows plus new ones (new wins on the overlap), or None with the reason if the overlap disagrees."""
    overlap = old.index.intersection(new.index)
    if len(overlap) == 0:
        return None, "no overlapping rows to check the adjustment against"
    for col in ("Close", "Adj Close"):
        a, b = old.loc[overlap, col].to_numpy(), new.loc[overlap, col].to_numpy()
        bad = ~np.isclose(a, b, rtol=1e-6, atol=0.0, equal_nan=True)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            return None, f"{col} on {overlap[i].date()}: cached {a[i]:.6g}, now {b[i]:.6g}"
    return pd.concat([old.drop(overlap), new]).sort_index(), ""


def _checked(entry: CacheEntry, path: Path, allow: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Cached rows ready for `adjust`: non-sessions dropped and noted, gaps noted, bad or implausible prices an
    error (`research.data.plausible`)."""
    raw, notes = entry.raw, []
    bad, _ = non_sessions(raw.index)
    if bad.any():
        shown = ", ".join(str(d.date()) for d in raw.index[bad][:5])
        notes.append(f"dropped {int(bad.sum())} Yahoo row(s) on days the NYSE was closed: {shown}")
        raw = raw[~bad]
    prices = raw[["Open", "High", "Low", "Close", "Adj Close"]]
    nonpos = (prices <= 0).to_numpy()
    if nonpos.any():
        r, c = np.argwhere(nonpos)[0]
        raise DataError(f"{path}: {prices.columns[c]} = {prices.iat[r, c]} on {prices.index[r].date()}; prices "
                        "must be > 0. Delete the cache file and fetch again; if Yahoo still sends it, report it.")
    notes += check_history(raw, LAYOUT_ADJ, entry.ticker, str(path), allow=allow,
                           fix="Delete the cache file and fetch again; if Yahoo still sends it, report it.")
    holes = prices[["Open", "Close", "Adj Close"]].isna().any(axis=1)
    if holes.any():
        notes.append(f"{int(holes.sum())} row(s) with some empty prices, left NaN (first {holes[holes].index[0].date()})")
    return raw, notes + gaps_note(raw.index)


def _result(t: str, cache: Path, entry: CacheEntry | None, action: str, downloaded: int,
            notes: tuple[str, ...] = ()) -> FetchResult:
    raw = entry.raw if entry is not None else None
    has = raw is not None and len(raw) > 0
    return FetchResult(t, cache_file(t, cache), action, 0 if raw is None else len(raw), downloaded,
                       raw.index[0] if has else None, raw.index[-1] if has else None, notes)
