"""FINRA equity short interest: parser, publication time, sector aggregates and the "most short" basket.

File format (FINRA's consolidated short interest files; pipe-delimited despite the ``.csv`` name), header::

    accountingYearMonthNumber|symbolCode|issueName|issuerServicesGroupExchangeCode|marketClassCode|
    currentShortPositionQuantity|previousShortPositionQuantity|stockSplitFlag|averageDailyVolumeQuantity|
    daysToCoverQuantity|revisionFlag|changePercent|changePreviousNumber|settlementDate

Positions are as of the settlement date (mid-month and month-end). Publication rule: firms report by 18:00 ET
on the 2nd business day after the settlement date, and "FINRA compiles the short interest data and provides it
for publication on the 8th business day after the reporting settlement date" (Nasdaq Trader, "Short Interest
Publication Schedule", nasdaqtrader.com/Trader.aspx?id=ShortIntPubSch; FINRA Rule 4560 and FINRA's short
interest reporting pages). The files carry no publication date and FINRA's own calendar may not be reproduced,
so the rule is approximated conservatively: a business day is a day that is both an NYSE session and a US
federal business day (Columbus Day and Veterans Day, when equity settlement banks are closed, do not count), and
`available_at` is the 8th such day after settlement at 18:00 ET (Nasdaq disseminates "after 4:00 p.m." that
day). If FINRA counts those two bank holidays as business days, the date here is a day later than FINRA's; it is
never earlier than the 8th-business-day rule (FINRA's own summary says "about seven business days": the rule
text, the later of the two, is used). A value is first usable at the next session's decision. Blank volume or days-to-cover is missing, never filled.

Real files (../shared/data/finra, 2017-12-29 -> 2025-07-15): quantities are shares as of the settlement date,
**not adjusted for later splits**; ``stockSplitFlag`` = ``S`` marks a split within the period, where
``previousShortPositionQuantity`` is still on the pre-split share count (AAPL 2020-08-31: 79.7M now, 23.7M
before its 4:1 split), so the change of a flagged row is not comparable and is left out (``split`` column,
``change_ok`` False). ``revisionFlag`` = ``R`` (about 3% of rows) marks a value FINRA revised after first
publication; the files hold only the revised value, so the original cannot be recovered: such rows are used at
the original publication time and counted in the provenance (`research.data.real`), a stated approximation.

Sectors come from the point-in-time GICS map (`research.data.gics`) at the settlement date; symbols outside it
(not S&P 500 members then, ETFs, OTC names) are unmapped and counted in `BOOK`'s ``si_mapped_share``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import (
    Problem,
    check_widths,
    col_label,
    column,
    dates,
    is_federal_business_day,
    numbers,
    raise_problems,
    read_text,
    split_rows,
)
from research.data.calendar import sessions
from research.data.gics import GicsMap, normalize_symbol
from research.data.panel import validate_panel
from research.data.universe import BASKET_MOST_SHORT, BOOK, SECTORS
from research.errors import ConfigError, DataError

SOURCE = "finra_si"
PUBLICATION_LAG_SESSIONS = 8
PUBLICATION_CLOCK = pd.Timedelta(hours=18)
PUBLICATION_RULE = ("settlement-date short interest, public on the 8th business day after settlement 18:00 ET "
                    "(FINRA Rule 4560 / Nasdaq Trader publication schedule; business day = NYSE session and "
                    "federal business day, so never earlier than FINRA's calendar)")
FINRA_COLUMNS: tuple[str, ...] = (
    "accountingYearMonthNumber", "symbolCode", "issueName", "issuerServicesGroupExchangeCode", "marketClassCode",
    "currentShortPositionQuantity", "previousShortPositionQuantity", "stockSplitFlag",
    "averageDailyVolumeQuantity", "daysToCoverQuantity", "revisionFlag", "changePercent",
    "changePreviousNumber", "settlementDate",
)
_NUMERIC = {
    "currentShortPositionQuantity": ("short_interest", True),
    "previousShortPositionQuantity": ("previous_short_interest", True),
    "averageDailyVolumeQuantity": ("avg_daily_volume", True),
    "daysToCoverQuantity": ("days_to_cover", True),
    "changePercent": ("change_pct", False),
    "changePreviousNumber": ("change_shares", False),
}
FINRA_ENTITIES: frozenset[str] = frozenset((*SECTORS, BOOK, BASKET_MOST_SHORT))


def business_days_after(days: pd.DatetimeIndex, n: int) -> pd.DatetimeIndex:
    """The n-th day strictly after each date that is both an NYSE session and a federal business day."""
    d = pd.DatetimeIndex(days).normalize().astype("datetime64[ns]")
    if len(d) == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    sess = sessions(d.min(), d.max() + pd.Timedelta(days=3 * n + 20)).astype("datetime64[ns]")
    biz = sess[is_federal_business_day(sess)]
    return pd.DatetimeIndex(biz[biz.searchsorted(d, side="right") + (n - 1)])


def publication_times(settlement: Iterable, lag_sessions: int = PUBLICATION_LAG_SESSIONS) -> pd.DatetimeIndex:
    """When each settlement date's short interest is public (module docstring): the lag_sessions-th business
    day (NYSE session and federal business day) after settlement, 18:00 ET."""
    vals = settlement if isinstance(settlement, (pd.Series, pd.Index, np.ndarray)) else list(settlement)
    d = pd.DatetimeIndex(pd.to_datetime(vals))
    return pd.DatetimeIndex(business_days_after(d, lag_sessions) + PUBLICATION_CLOCK, name="available_at")


def read_short_interest(path: str | Path, *, lag_sessions: int = PUBLICATION_LAG_SESSIONS) -> pd.DataFrame:
    """Parse one FINRA short interest file to a typed frame, one row per (symbol, settlement date).

    Columns: file, line, symbol (normalised), issue_name, market, settlement_date, available_at, short_interest,
    previous_short_interest, avg_daily_volume, days_to_cover, change_pct, change_shares, revised (bool), split
    (bool: stockSplitFlag S), change_ok (bool: the change against previous_short_interest is on one share count).
    Errors name the file, line and column: missing header columns, wrong field count, bad date, non-number,
    negative quantity, duplicate (symbol, settlement date).
    """
    path = Path(path)
    problems: list[Problem] = []
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delim = "|" if "|" in first else ","
    rows, lines = split_rows(path, text, delim, problems)
    raise_problems(problems, "Fix the quoting or download the file again.")
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header {'|'.join(FINRA_COLUMNS)}.")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in FINRA_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: line {lines[0]}: missing column(s) {missing}. A FINRA short interest file is "
                        f"pipe-delimited with the header {'|'.join(FINRA_COLUMNS)}; the header read is {header}.")
    rows, lines = rows[1:], lines[1:]
    check_widths(path, rows, lines, header, problems)
    raise_problems(problems, "A truncated or damaged file: download it again.")
    pos = {h: i for i, h in enumerate(header)}
    ln = np.asarray(lines)

    def lab(name: str) -> str:
        return col_label(name, pos[name])

    settle = dates(path, column(rows, pos["settlementDate"]), ln, lab("settlementDate"),
                   ("%Y-%m-%d", "%Y%m%d"), problems)
    sym = column(rows, pos["symbolCode"])
    for p in np.flatnonzero((sym == "").to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), lab("symbolCode"), "blank symbol."))
    out = pd.DataFrame({"file": str(path), "line": ln, "symbol": sym.map(normalize_symbol),
                        "issue_name": column(rows, pos["issueName"]), "market": column(rows, pos["marketClassCode"]),
                        "settlement_date": settle})
    for col, (name, nonneg) in _NUMERIC.items():
        out[name] = numbers(path, column(rows, pos[col]), ln, lab(col), problems, nonneg=nonneg)
    for col in ("currentShortPositionQuantity", "previousShortPositionQuantity"):
        blank = np.flatnonzero(np.isnan(out[_NUMERIC[col][0]].to_numpy()) & (column(rows, pos[col]) == "").to_numpy())
        for p in blank:
            problems.append(Problem(str(path), int(ln[p]), lab(col), "blank short position quantity."))
    out["revised"] = column(rows, pos["revisionFlag"]).str.upper().isin(["R", "Y", "TRUE", "1"]).to_numpy()
    out["split"] = column(rows, pos["stockSplitFlag"]).str.upper().isin(["S", "Y", "TRUE", "1"]).to_numpy()
    out["change_ok"] = ~out["split"].to_numpy()
    dup = out.duplicated(["symbol", "settlement_date"], keep=False) & out["settlement_date"].notna()
    for (s, d), g in out[dup].groupby(["symbol", "settlement_date"]):
        problems.append(Problem(str(path), int(g["line"].iloc[1]), lab("symbolCode"),
                                f"duplicate row: {s} settlement {d.date()} also on line {int(g['line'].iloc[0])}. "
                                "Keep one row per symbol and settlement date."))
    raise_problems(problems, "Fix these rows and load the file again.")
    out["available_at"] = publication_times(out["settlement_date"], lag_sessions).to_numpy()
    return out


def load_short_interest_files(paths: str | Path | Iterable[str | Path], *, pattern: str = "*.csv",
                              lag_sessions: int = PUBLICATION_LAG_SESSIONS) -> pd.DataFrame:
    """Parse a file, a directory (files matching `pattern`) or a list of files; a symbol-date in two files is an error."""
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        files = sorted(p.glob(pattern)) if p.is_dir() else [p]
    else:
        files = [Path(x) for x in paths]
    if not files:
        raise DataError(f"{paths}: no FINRA short interest files match {pattern!r}.")
    si = pd.concat([read_short_interest(f, lag_sessions=lag_sessions) for f in files], ignore_index=True)
    dup = si.duplicated(["symbol", "settlement_date"], keep=False)
    if dup.any():
        problems = []
        for (s, d), g in si[dup].groupby(["symbol", "settlement_date"]):
            a, b = g.iloc[0], g.iloc[1]
            problems.append(Problem(b["file"], int(b["line"]), None, f"{s} settlement {d.date()} is also in "
                                    f"{a['file']} line {int(a['line'])}."))
        raise_problems(problems, "Load each settlement date from one file only.")
    return si


def with_sectors(si: pd.DataFrame, gics: GicsMap) -> pd.DataFrame:
    """`si` plus a 'sector' column from the GICS snapshot in force at each settlement date (NaN: unmapped)."""
    return si.assign(sector=gics.map(si["symbol"], si["settlement_date"]).to_numpy())


RANK_BY = ("days_to_cover", "change")


def rank_most_short(df: pd.DataFrame, *, n: int = 50, by: str = "days_to_cover", min_adv: float = 0.0
                    ) -> pd.DataFrame:
    """The n rows of `df` (parsed FINRA rows) per settlement date with the highest score, plus 'score' and 'rank'.

    ``days_to_cover``: short interest / average daily volume, computed from the two quantities (exact, not FINRA's
    rounded and capped column; split-invariant), rows without volume above `min_adv` left out. ``change``: short
    interest / previous - 1, rows flagged with a split (``change_ok`` False) or without a previous quantity left
    out. Ties break by symbol. The one ranking of both most-short baskets (`most_short_basket` over the GICS map,
    `research.data.baskets.most_short_members` over point-in-time S&P 500 members).
    """
    if by not in RANK_BY:
        raise ConfigError(f"most-short basket: by must be one of {', '.join(RANK_BY)}; got {by!r}.")
    if n < 1:
        raise ConfigError(f"most-short basket: n must be >= 1; got {n}.")
    if by == "days_to_cover":
        df = df[df["avg_daily_volume"] > max(min_adv, 0.0)]
        score = df["short_interest"] / df["avg_daily_volume"]
    else:
        df = df[df["change_ok"] & (df["previous_short_interest"] > 0)]
        score = df["short_interest"] / df["previous_short_interest"] - 1.0
    df = df.assign(score=score.to_numpy())
    df = df.sort_values(["settlement_date", "score", "symbol"], ascending=[True, False, True], kind="stable")
    top = df.groupby("settlement_date", sort=True).head(n).copy()
    top["rank"] = top.groupby("settlement_date").cumcount() + 1
    return top.reset_index(drop=True)


def most_short_basket(si: pd.DataFrame, gics: GicsMap, *, n: int = 50, min_adv: float = 0.0) -> pd.DataFrame:
    """The n GICS-mapped stocks with the highest days to cover per date (`rank_most_short`).

    Columns: settlement_date, available_at, rank, symbol, sector, days_to_cover, short_interest.
    """
    df = with_sectors(si, gics)
    top = rank_most_short(df[df["sector"].notna()], n=n, min_adv=min_adv).rename(columns={"score": "days_to_cover"})
    cols = ["settlement_date", "available_at", "rank", "symbol", "sector", "days_to_cover", "short_interest"]
    return top[cols]


def _aggregate(g: pd.DataFrame) -> dict[str, float]:
    """Sector-style aggregates of one group of stocks at one settlement date."""
    vol = g["avg_daily_volume"]
    has_vol = vol > 0
    prev = g["previous_short_interest"].sum()
    out = {"si_shares": float(g["short_interest"].sum()), "si_names": float(len(g))}
    if has_vol.any():
        out["si_days_to_cover"] = float(g.loc[has_vol, "short_interest"].sum() / vol[has_vol].sum())
    if prev > 0:
        out["si_change_pct"] = float(100.0 * (g["short_interest"].sum() - prev) / prev)
    return out


_UNITS = {"si_shares": "shares", "si_names": "count", "si_days_to_cover": "days", "si_change_pct": "pct",
          "si_most_short_count": "count", "si_mapped_share": "ratio"}


def short_interest_panel(si: pd.DataFrame, gics: GicsMap, *, n: int = 50) -> pd.DataFrame:
    """Panel of sector short interest, the whole mapped book and the most-short basket.

    Sectors and BOOK: si_shares (shares), si_names (count), si_days_to_cover (sum short / sum volume, days),
    si_change_pct (change of summed short interest since the previous report, pct), si_most_short_count (basket
    names in the sector, count). BOOK also: si_mapped_share (share of reported symbols with a sector, ratio).
    MOST_SHORT: si_shares, si_names, si_days_to_cover, si_change_pct over its members.
    """
    df = with_sectors(si, gics)
    basket = most_short_basket(si, gics, n=n)
    recs = []
    for (d, avail), g in df.groupby(["settlement_date", "available_at"], sort=True):
        mapped = g[g["sector"].notna()]
        in_basket = set(basket.loc[basket["settlement_date"] == d, "symbol"])
        groups = [(s, mapped[mapped["sector"] == s]) for s in sorted(mapped["sector"].unique())]
        groups += [(BOOK, mapped), (BASKET_MOST_SHORT, mapped[mapped["symbol"].isin(in_basket)])]
        for ent, part in groups:
            if part.empty:
                continue
            vals = _aggregate(part)
            if ent != BASKET_MOST_SHORT:
                vals["si_most_short_count"] = float(part["symbol"].isin(in_basket).sum())
            if ent == BOOK:
                vals["si_mapped_share"] = len(mapped) / len(g)
            recs += [(d, avail, ent, m, v) for m, v in vals.items()]
        if mapped.empty:
            recs.append((d, avail, BOOK, "si_mapped_share", 0.0))
    out = pd.DataFrame(recs, columns=["as_of", "available_at", "entity", "metric", "value"])
    out["source"] = SOURCE
    out["units"] = out["metric"].map(_UNITS)
    return validate_panel(out, name="finra short interest", entities=FINRA_ENTITIES)


def load_short_interest(paths: str | Path | Iterable[str | Path], gics: GicsMap, *, n: int = 50,
                        pattern: str = "*.csv", lag_sessions: int = PUBLICATION_LAG_SESSIONS) -> pd.DataFrame:
    """FINRA files -> validated panel (see `short_interest_panel`)."""
    si = load_short_interest_files(paths, pattern=pattern, lag_sessions=lag_sessions)
    return short_interest_panel(si, gics, n=n)
