"""The point-in-time flow panel: validation and alignment to sessions.

Contract (long format, one row per observation)::

    as_of         datetime64  the date the value describes (e.g. the Friday ending a prime-book week)
    available_at  datetime64  when it became public, tz-naive New York wall-clock time
    entity        str         a GICS sector name, BOOK, a basket (HF_VIP, MOST_SHORT) or a ticker
    metric        str         e.g. net_flow, net_exposure, gross_leverage
    value         float       never NaN: a missing observation is an absent row, reported by `coverage`
    source        str         where it came from (synthetic, cftc_tff, finra_si, 13f, prime_book:FILE)
    units         str         e.g. usd_mn, pct_gross, ratio, contracts

Several rows may share (as_of, entity, metric) with different `available_at`: they are vintages (revisions).
Alignment is the only way data reaches a signal: at each session it takes, among the rows public by that
session's decision time, the one with the latest `as_of` (the latest vintage on ties). No look-ahead by
construction.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from research.data.calendar import TZ, decision_times
from research.data.universe import BASKETS, BOOK, SECTORS, TICKERS
from research.errors import DataError

PANEL_COLUMNS: tuple[str, ...] = ("as_of", "available_at", "entity", "metric", "value", "source", "units")
KEY: list[str] = ["as_of", "entity", "metric", "source", "available_at"]
DEFAULT_ENTITIES: frozenset[str] = frozenset((*SECTORS, BOOK, *BASKETS, *TICKERS))
_MAX_SHOWN = 8
#: The largest |value| a panel row may hold: no flow (usd_mn), position (contracts, shares), count or dollar
#: total flowbt reads comes near it (13F books are ~1e13 USD); 1e308 is an overflow or a typo.
MAX_ABS_VALUE = 1e15


def _rows(df: pd.DataFrame, mask: np.ndarray | pd.Series, cols: Iterable[str]) -> str:
    """A short listing of offending rows (position and values) for an error message."""
    bad = df.loc[np.asarray(mask, dtype=bool), list(cols)]
    lines = [f"  row {pos}: " + ", ".join(f"{c}={r[c]!r}" for c in bad.columns)
             for pos, (_, r) in zip(np.flatnonzero(np.asarray(mask, dtype=bool)), bad.iterrows(), strict=False)]
    more = len(bad) - _MAX_SHOWN
    return "\n".join(lines[:_MAX_SHOWN]) + (f"\n  ... and {more} more" if more > 0 else "")


def _to_naive_ny(col: pd.Series, column: str, name: str) -> pd.Series:
    """Parse a datetime column to tz-naive New York time; refuse mixed or partly-aware time zones."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert(TZ).dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(col.dtype):
        return col.astype("datetime64[ns]")
    tzs = {getattr(v, "tzinfo", None) is not None and str(v.tzinfo) for v in col if isinstance(v, pd.Timestamp)}
    if len(tzs) > 1:
        raise DataError(
            f"{name}: column {column!r} mixes time zones ({sorted(map(str, tzs))}). "
            "Give every timestamp in one zone, or all tz-naive New York time."
        )
    try:
        parsed = pd.to_datetime(col, errors="raise")
    except (ValueError, TypeError) as exc:
        coerced = pd.to_datetime(col, errors="coerce")
        bad = coerced.isna() & col.notna()
        raise DataError(f"{name}: column {column!r} has values that are not dates:\n"
                        f"{_rows(col.to_frame(), bad, [column])}\nFix or remove these rows.") from exc
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(TZ).dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def validate_panel(
    df: pd.DataFrame,
    *,
    name: str = "panel",
    entities: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Check a panel against the contract and return a clean copy (typed, sorted); never drops or fills rows.

    Raises `DataError` naming the offending rows for: missing columns, unparseable or mixed-zone dates,
    unknown entities, `available_at` before `as_of`, NaN in any field, boolean, infinite or absurd values
    (|value| > MAX_ABS_VALUE), and duplicate keys.
    """
    missing = [c for c in PANEL_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; a panel needs {list(PANEL_COLUMNS)}.")
    out = df.loc[:, list(PANEL_COLUMNS)].reset_index(drop=True).copy()
    out["as_of"] = _to_naive_ny(out["as_of"], "as_of", name)
    out["available_at"] = _to_naive_ny(out["available_at"], "available_at", name)
    raw = df["value"].reset_index(drop=True)
    boolean = (raw.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool) if raw.dtype == object
               else np.full(len(raw), pd.api.types.is_bool_dtype(raw.dtype)))
    if boolean.any():
        raise DataError(f"{name}: {int(boolean.sum())} boolean value(s) (True/False is not a measurement):\n"
                        f"{_rows(df.reset_index(drop=True), boolean, PANEL_COLUMNS)}\nGive numbers; if 1/0 is "
                        "meant, convert with .astype(float) first.")
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    huge = ~np.isfinite(out["value"].to_numpy(dtype=float)) & out["value"].notna().to_numpy()
    huge |= np.abs(np.nan_to_num(out["value"].to_numpy(dtype=float))) > MAX_ABS_VALUE
    if huge.any():
        raise DataError(f"{name}: {int(huge.sum())} infinite or absurd value(s) (|value| <= {MAX_ABS_VALUE:g}: "
                        f"no flow, position, count or dollar total is larger):\n"
                        f"{_rows(out, huge, PANEL_COLUMNS)}\nFix the source; a missing value is an absent row.")
    for col in PANEL_COLUMNS:
        nan = out[col].isna()
        if col == "value":
            nan = nan & df["value"].reset_index(drop=True).notna()
            if nan.any():
                raise DataError(f"{name}: non-numeric values:\n{_rows(df.reset_index(drop=True), nan, PANEL_COLUMNS)}")
            nan = out[col].isna()
        if nan.any():
            raise DataError(
                f"{name}: {int(nan.sum())} row(s) with a missing {col!r}:\n{_rows(out, nan, PANEL_COLUMNS)}\n"
                "A missing observation must be an absent row, not a NaN: remove these rows."
            )
    known = DEFAULT_ENTITIES if entities is None else frozenset(entities)
    unknown = ~out["entity"].isin(known)
    if unknown.any():
        raise DataError(
            f"{name}: unknown entit{'y' if unknown.sum() == 1 else 'ies'} "
            f"{sorted(out.loc[unknown, 'entity'].unique())[:10]}:\n{_rows(out, unknown, PANEL_COLUMNS)}\n"
            f"Use GICS sector names ({', '.join(SECTORS)}), {BOOK}, a basket or a ticker."
        )
    early = out["available_at"] < out["as_of"]
    if early.any():
        raise DataError(f"{name}: available_at before as_of (a value public before the date it describes):\n"
                        f"{_rows(out, early, PANEL_COLUMNS)}")
    dup = out.duplicated(KEY, keep=False)
    if dup.any():
        raise DataError(f"{name}: duplicate rows for the same (as_of, entity, metric, source, available_at):\n"
                        f"{_rows(out, dup, PANEL_COLUMNS)}\nKeep one row per key; revisions need a later available_at.")
    for col in ("entity", "metric", "source", "units"):
        out[col] = out[col].astype(str)
    return out.sort_values(["metric", "entity", "available_at", "as_of"], kind="stable").reset_index(drop=True)


def align(
    panel: pd.DataFrame,
    index: pd.DatetimeIndex,
    metric: str,
    *,
    entities: Iterable[str] | None = None,
    field: str = "value",
    at: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Wide frame (index x entities) of `metric` as known at each date's decision time.

    At each date, among the rows with `available_at <= decision time` (the session close, or `at` when given),
    take the one with the latest `as_of`, and among those the latest vintage. `field` may be 'value',
    'as_of' or 'available_at' (to measure staleness). Dates before the first public value are NaN.
    """
    if field not in ("value", "as_of", "available_at"):
        raise ValueError(f"field must be 'value', 'as_of' or 'available_at', not {field!r}")
    idx = pd.DatetimeIndex(index)
    when = decision_times(idx) if at is None else pd.DatetimeIndex(at)
    sub = panel[panel["metric"] == metric]
    if sub.empty:
        known = sorted(panel["metric"].unique())
        raise DataError(f"metric {metric!r} is not in the panel; it has: {', '.join(known)}")
    ents = sorted(sub["entity"].unique()) if entities is None else list(entities)
    dtype = "float64" if field == "value" else "datetime64[ns]"
    out = pd.DataFrame(index=idx, columns=ents, dtype=dtype)
    t = when.to_numpy()
    if np.isnat(t).any() or sub["available_at"].isna().any() or sub["as_of"].isna().any():
        raise DataError(f"align {metric!r}: missing times (NaT) in the decision times or the panel's as_of / "
                        "available_at; every row and date needs one.")
    for ent, rows in sub.groupby("entity", sort=False):
        if ent in out.columns:
            out[ent] = _latest_public(rows["available_at"].to_numpy(), rows["as_of"].to_numpy(),
                                      rows[field].to_numpy(), t)
    out.columns.name = metric
    return out


def _latest_public(available: np.ndarray, as_of: np.ndarray, value: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For each time in `t`, the value of the row with the latest `as_of` among those public at or before it
    (the latest vintage on ties); NaN (NaT) before the first publication.

    Rows are taken in publication order (available_at, then as_of; stable); a row that does not advance `as_of`
    (a late, stale release) keeps the value in force, as does a missing value; of several rows published at the
    same time the last counts; at each t the last row published by t (a binary search).
    """
    if value.dtype.kind not in "fM":
        value = value.astype(float)
    order = np.lexsort((as_of, available))  # stable: ties keep the panel's order
    available, as_of, value = available[order], as_of[order], value[order]
    keep = as_of >= np.maximum.accumulate(as_of)
    keep &= ~(np.isnat(value) if value.dtype.kind == "M" else np.isnan(value))
    last = np.maximum.accumulate(np.where(keep, np.arange(len(value)), -1))  # the row whose value is in force
    final = np.append(available[1:] != available[:-1], True)  # last row of each publication time
    available, last = available[final], last[final]
    hit = np.searchsorted(available, t, side="right") - 1  # last publication at or before t
    src = np.where(hit >= 0, last[np.maximum(hit, 0)], -1)
    out = value[np.maximum(src, 0)]
    out[src < 0] = np.datetime64("NaT") if value.dtype.kind == "M" else np.nan
    return out


def coverage(panel: pd.DataFrame) -> pd.DataFrame:
    """Per (source, entity, metric): rows, first and last as_of, median publication lag, and the longest gap."""
    def one(g: pd.DataFrame) -> pd.Series:
        as_of = g["as_of"].sort_values()
        gaps = as_of.diff().dropna()
        return pd.Series({
            "rows": len(g),
            "first": as_of.iloc[0],
            "last": as_of.iloc[-1],
            "median_lag": (g["available_at"] - g["as_of"]).median(),
            "max_gap_days": gaps.max().days if len(gaps) else 0,
        })
    return panel.groupby(["source", "entity", "metric"]).apply(one).reset_index()
