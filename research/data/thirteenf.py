"""13F-HR hedge-fund holdings: parser, release dates, the hedge-fund VIP basket and sector crowding.

Input: per-quarter holdings files with the columns
``Quarter,Fund,CUSIP,Ticker,Company,Shares,Delta_Shares,Value,Delta_Value,Delta,Portfolio%``
(the per-fund files of dokson/hedge-fund-tracker concatenated). Messy values are parsed: ``Value`` like
``30.01M``/``521.15K``/``1.2B``/``1.57T`` or plain dollars; ``Delta`` is ``NEW``, ``CLOSE``, ``NO CHANGE`` or a
signed percent; ``Portfolio%`` like ``7.1%`` or ``<.01%`` (censored: NaN with ``portfolio_pct_below`` = 0.01).
Each fund's ``Total`` summary row is dropped. A ticker garbled with the company name (``PDN,Paladin Energy Ltd"``)
keeps the part before the comma.

Timing: a 13F is due 45 days after quarter end (the next federal business day when that is a weekend or
holiday); the deadline at 17:30 ET (EDGAR's filing-date cut-off) is `available_at`. Funds often file earlier:
using the deadline is conservative, never early.

VIP basket (as published: the stocks that appear most often among funds' top-10 holdings): each fund's top 10
positions by value (open positions, any security), then the eligible stocks ranked by how many funds hold them in
their top 10 (ties: total value, then ticker). Eligible stocks are those with a GICS sector in the snapshot in
force at quarter end (S&P 500 members), which leaves out ETFs, ADRs and small caps that a sector framework cannot
place; the slots they fill in a fund's top 10 are not handed to lower holdings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from research.data._parsing import (
    Problem,
    check_widths,
    col_label,
    column,
    numbers,
    raise_problems,
    read_text,
    roll_to_federal_business_day,
    split_rows,
)
from research.data.gics import GicsMap, normalize_symbol
from research.data.panel import validate_panel
from research.data.universe import BASKET_VIP, BOOK, SECTORS
from research.errors import DataError

SOURCE = "13f"
FILING_DAYS = 45
FILING_CLOCK = pd.Timedelta(hours=17, minutes=30)
COLUMNS_13F: tuple[str, ...] = ("Quarter", "Fund", "CUSIP", "Ticker", "Company", "Shares", "Delta_Shares", "Value",
                                "Delta_Value", "Delta", "Portfolio%")
THIRTEENF_ENTITIES: frozenset[str] = frozenset((*SECTORS, BOOK, BASKET_VIP))
_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_MONEY = re.compile(r"^([+-]?)\$?(\d+(?:\.\d*)?|\.\d+)\s*([KMBT]?)$", re.IGNORECASE)
_PCT = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)%$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def parse_money(text: str) -> float:
    """'30.01M' -> 30010000.0; '521.15K', '1.2B', '1.57T', '-2.47M', '107.46' likewise. ValueError otherwise."""
    m = _MONEY.match(text.strip().replace(",", ""))
    if not m:
        raise ValueError(f"{text!r} is not an amount like 30.01M, 521.15K, 1.2B or 107.46")
    sign = -1.0 if m.group(1) == "-" else 1.0
    return sign * float(m.group(2)) * _SUFFIX[m.group(3).upper()]


def parse_delta(text: str) -> tuple[str, float]:
    """'NEW' -> ('new', nan); 'CLOSE' -> ('close', -100.0); 'NO CHANGE' -> ('unchanged', 0.0); '+49.2%' -> ('change', 49.2)."""
    t = " ".join(text.strip().upper().split())
    if t == "NEW":
        return "new", float("nan")
    if t in ("CLOSE", "CLOSED"):
        return "close", -100.0
    if t == "NO CHANGE":
        return "unchanged", 0.0
    m = _PCT.match(t)
    if not m:
        raise ValueError(f"{text!r} is not NEW, CLOSE, NO CHANGE or a percent like +49.2%")
    return "change", (-1.0 if m.group(1) == "-" else 1.0) * float(m.group(2))


def parse_portfolio_pct(text: str) -> tuple[float, float]:
    """'7.1%' -> (7.1, nan); '<.01%' -> (nan, 0.01) (censored: below 0.01%); '' -> (nan, nan)."""
    t = text.strip()
    if t == "":
        return float("nan"), float("nan")
    if t.startswith("<"):
        m = _PCT.match(t[1:].strip())
        if m:
            return float("nan"), float(m.group(2))
    m = _PCT.match(t)
    if not m:
        raise ValueError(f"{text!r} is not a percent like 7.1% or <.01%")
    return (-1.0 if m.group(1) == "-" else 1.0) * float(m.group(2)), float("nan")


def quarter_end(quarter: str) -> pd.Timestamp:
    """'2025Q1' -> 2025-03-31."""
    m = _QUARTER.match(quarter.strip())
    if not m:
        raise ValueError(f"{quarter!r} is not a quarter like 2025Q1")
    return pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q").end_time.normalize()


def filing_deadlines(quarter_ends: Iterable) -> pd.DatetimeIndex:
    """13F deadline of each quarter end (45 days later, rolled to a federal business day) at 17:30."""
    d = pd.DatetimeIndex(pd.to_datetime(list(quarter_ends))) + pd.Timedelta(days=FILING_DAYS)
    return pd.DatetimeIndex(roll_to_federal_business_day(d) + FILING_CLOCK, name="available_at")


def _parse_each(path: Path, values: pd.Series, lines: np.ndarray, label: str, fn, problems: list[Problem],
                blank_ok: bool) -> list:
    """Apply a scalar parser to each distinct value once; failures become located problems."""
    parsed: dict[str, object] = {}
    for v in pd.unique(values):
        if v == "" and blank_ok:
            parsed[v] = None
            continue
        try:
            parsed[v] = fn(v)
        except ValueError as exc:
            parsed[v] = exc
    out = [parsed[v] for v in values]
    for i, r in enumerate(out):
        if isinstance(r, ValueError):
            problems.append(Problem(str(path), int(lines[i]), label, str(r) + "."))
            out[i] = None
    return out


def read_13f(path: str | Path) -> pd.DataFrame:
    """Parse one holdings file to a typed frame, one row per (quarter, fund, CUSIP); fund Total rows dropped.

    Columns: file, line, quarter, quarter_end, available_at, fund, cusip, ticker, company, shares, delta_shares,
    value, delta_value (USD), delta_kind, delta_pct, portfolio_pct, portfolio_pct_below. Errors name file, line
    and column: missing column, wrong field count, bad quarter, unparseable amount or percent, duplicate rows.
    """
    path = Path(path)
    problems: list[Problem] = []
    rows, lines = split_rows(path, read_text(path), ",", problems)
    raise_problems(problems, "Fix the quoting of these lines.")
    if not rows:
        raise DataError(f"{path}: the file is empty; expected the header {','.join(COLUMNS_13F)}.")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in COLUMNS_13F if c not in header]
    if missing:
        raise DataError(f"{path}: line {lines[0]}: missing column(s) {missing}; the header read is {header}.")
    rows, lines = rows[1:], lines[1:]
    check_widths(path, rows, lines, header, problems)
    raise_problems(problems, "A truncated or damaged file: fix or remove these lines.")
    pos = {h: i for i, h in enumerate(header)}
    cusip = column(rows, pos["CUSIP"])
    keep = (cusip.str.lower() != "total").to_numpy()
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    ln = np.asarray(lines)[keep]

    def lab(name: str) -> str:
        return col_label(name, pos[name])

    def col(name: str) -> pd.Series:
        return column(rows, pos[name])

    quarter = col("Quarter")
    qend = _parse_each(path, quarter, ln, lab("Quarter"), quarter_end, problems, blank_ok=False)
    fund = col("Fund")
    for p in np.flatnonzero((fund == "").to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), lab("Fund"), "blank fund name."))
    value = _parse_each(path, col("Value"), ln, lab("Value"), parse_money, problems, blank_ok=False)
    dvalue = _parse_each(path, col("Delta_Value"), ln, lab("Delta_Value"), parse_money, problems, blank_ok=True)
    delta = _parse_each(path, col("Delta"), ln, lab("Delta"), parse_delta, problems, blank_ok=False)
    port = _parse_each(path, col("Portfolio%"), ln, lab("Portfolio%"), parse_portfolio_pct, problems, blank_ok=False)
    shares_txt = col("Shares")
    shares = numbers(path, shares_txt, ln, lab("Shares"), problems, nonneg=True)
    for p in np.flatnonzero((shares_txt == "").to_numpy()):
        problems.append(Problem(str(path), int(ln[p]), lab("Shares"), "blank share count."))
    dshares = numbers(path, col("Delta_Shares"), ln, lab("Delta_Shares"), problems)
    raise_problems(problems, "Fix these values and load the file again.")
    ticker = col("Ticker").str.split(",", n=1).str[0].str.replace('"', "", regex=False).map(
        lambda t: normalize_symbol(t) if t.strip() else "")
    out = pd.DataFrame({
        "file": str(path), "line": ln, "quarter": quarter.to_numpy(),
        "quarter_end": pd.DatetimeIndex(qend), "fund": fund.to_numpy(), "cusip": col("CUSIP").to_numpy(),
        "ticker": ticker.to_numpy(), "company": col("Company").to_numpy(), "shares": shares,
        "delta_shares": dshares, "value": np.array(value, dtype=float),
        "delta_value": np.array([np.nan if v is None else v for v in dvalue], dtype=float),
        "delta_kind": [d[0] for d in delta], "delta_pct": np.array([d[1] for d in delta], dtype=float),
        "portfolio_pct": np.array([v[0] for v in port], dtype=float),
        "portfolio_pct_below": np.array([v[1] for v in port], dtype=float),
    })
    dup = out.duplicated(["quarter", "fund", "cusip"], keep=False)
    for (q, f, c), g in out[dup].groupby(["quarter", "fund", "cusip"]):
        problems.append(Problem(str(path), int(g["line"].iloc[1]), lab("CUSIP"),
                                f"duplicate row: {f} {q} CUSIP {c} also on line {int(g['line'].iloc[0])}."))
    raise_problems(problems, "Keep one row per quarter, fund and CUSIP.")
    out["available_at"] = filing_deadlines(out["quarter_end"]).to_numpy()
    return out


def load_13f_dir(path: str | Path, *, pattern: str = "holdings_*.csv") -> pd.DataFrame:
    """All holdings files of a directory, concatenated (a quarter-fund-CUSIP in two files is an error)."""
    base = Path(path)
    files = sorted(base.glob(pattern)) if base.is_dir() else [base]
    if not files:
        raise DataError(f"{base}: no files match {pattern!r}.")
    h = pd.concat([read_13f(f) for f in files], ignore_index=True)
    dup = h.duplicated(["quarter", "fund", "cusip"], keep=False)
    if dup.any():
        r = h[dup].iloc[1]
        raise DataError(f"{r['file']}: line {int(r['line'])}: {r['fund']} {r['quarter']} CUSIP {r['cusip']} is in "
                        "two files. Load each quarter once.")
    return h


def top_holdings(holdings: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Each fund's `top` largest open positions by value per quarter (closed positions and blank tickers excluded)."""
    open_ = holdings[(holdings["shares"] > 0) & (holdings["value"] > 0) & (holdings["ticker"] != "")]
    ranked = open_.sort_values(["quarter_end", "fund", "value", "ticker"], ascending=[True, True, False, True],
                               kind="stable")
    out = ranked.groupby(["quarter_end", "fund"], sort=False).head(top).copy()
    out["fund_rank"] = out.groupby(["quarter_end", "fund"]).cumcount() + 1
    return out.reset_index(drop=True)


def vip_basket(holdings: pd.DataFrame, gics: GicsMap | None, *, n: int = 50, top: int = 10) -> pd.DataFrame:
    """The hedge-fund VIP basket per quarter: stocks most often among funds' top-`top` holdings.

    Columns: quarter_end, available_at, rank, ticker, sector, funds (how many funds have it in their top 10),
    value (USD held by those funds). With `gics` None every ticker is eligible and sector is NaN.
    """
    t = top_holdings(holdings, top)
    # One count per fund: a fund holding two share classes of one ticker counts once.
    per = t.groupby(["quarter_end", "available_at", "ticker", "fund"], as_index=False)["value"].sum()
    agg = per.groupby(["quarter_end", "available_at", "ticker"], as_index=False).agg(
        funds=("fund", "nunique"), value=("value", "sum"))
    agg["sector"] = gics.map(agg["ticker"], agg["quarter_end"]).to_numpy() if gics is not None else np.nan
    if gics is not None:
        agg = agg[agg["sector"].notna()]
    agg = agg.sort_values(["quarter_end", "funds", "value", "ticker"], ascending=[True, False, False, True],
                          kind="stable")
    out = agg.groupby("quarter_end", sort=True).head(n).copy()
    out["rank"] = out.groupby("quarter_end").cumcount() + 1
    return out[["quarter_end", "available_at", "rank", "ticker", "sector", "funds", "value"]].reset_index(drop=True)


_UNITS = {"hf_crowding": "count", "hf_top10_share": "ratio", "hf_weight": "ratio", "hf_vip_count": "count",
          "hf_mapped_share": "ratio", "hf_funds": "count", "hf_vip_members": "count"}


def thirteenf_panel(holdings: pd.DataFrame, gics: GicsMap, *, n: int = 50, top: int = 10) -> pd.DataFrame:
    """Panel per quarter of sector crowding and the VIP basket.

    Sectors: hf_crowding (average number of a fund's top-10 names in the sector, count), hf_top10_share (share of
    all top-10 slots, ratio), hf_weight (share of the mapped 13F value, ratio), hf_vip_count (VIP names in the
    sector, count). BOOK: hf_funds (funds filing, count), hf_mapped_share (share of 13F value in mapped stocks,
    ratio). HF_VIP: hf_vip_members (basket size, count).
    """
    hold = holdings[(holdings["shares"] > 0) & (holdings["value"] > 0)]
    hold = hold.assign(sector=gics.map(hold["ticker"], hold["quarter_end"]).to_numpy())
    t = top_holdings(holdings, top)
    t = t.assign(sector=gics.map(t["ticker"], t["quarter_end"]).to_numpy())
    vip = vip_basket(holdings, gics, n=n, top=top)
    recs = []
    for (q, avail), g in hold.groupby(["quarter_end", "available_at"], sort=True):
        tq = t[t["quarter_end"] == q]
        vq = vip[vip["quarter_end"] == q]
        funds = g["fund"].nunique()
        mapped_value = g.loc[g["sector"].notna(), "value"].sum()
        recs.append((q, avail, BOOK, "hf_funds", float(funds)))
        recs.append((q, avail, BOOK, "hf_mapped_share", float(mapped_value / g["value"].sum())))
        recs.append((q, avail, BASKET_VIP, "hf_vip_members", float(len(vq))))
        for s in SECTORS:
            in_s = g["sector"] == s
            if not in_s.any():
                continue  # no mapped holdings in the sector this quarter: absent, not zero
            slots = int((tq["sector"] == s).sum())
            recs.append((q, avail, s, "hf_crowding", slots / funds))
            recs.append((q, avail, s, "hf_top10_share", slots / len(tq) if len(tq) else np.nan))
            recs.append((q, avail, s, "hf_weight", float(g.loc[in_s, "value"].sum() / mapped_value)))
            recs.append((q, avail, s, "hf_vip_count", float((vq["sector"] == s).sum())))
    out = pd.DataFrame(recs, columns=["as_of", "available_at", "entity", "metric", "value"])
    out = out[np.isfinite(out["value"].to_numpy(dtype=float))]
    out["source"] = SOURCE
    out["units"] = out["metric"].map(_UNITS)
    return validate_panel(out, name="13f", entities=THIRTEENF_ENTITIES)


def load_13f(path: str | Path, gics: GicsMap, *, n: int = 50, top: int = 10,
             pattern: str = "holdings_*.csv") -> pd.DataFrame:
    """A holdings file or directory -> validated panel (see `thirteenf_panel`)."""
    return thirteenf_panel(load_13f_dir(path, pattern=pattern), gics, n=n, top=top)
