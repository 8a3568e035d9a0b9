"""FINRA short interest in the weekly brief, point in time: the sectors' and sector ETFs' short interest, and who
entered and left the most-short basket.

Every fact reads only FINRA reports public at the as-of moment (a report's rows carry its publication time,
`research.data.finra`). The panel metrics are those of `research.data.short_positioning` (source ``finra_si``);
the basket members are the ones `research.data.baskets.most_short_members` chose, as the real-data assembly
keeps them (`MarketData.tables["basket_members"]`, coverage in ``basket_coverage``): nothing is ranked again here.

Definitions (the brief's, applied to reports twice a month):

- **report**: the latest settlement date whose rows are public by the as-of; **previous report**: the one before.
- **change**: ``si_change_pct``, the change of short interest since the previous report at constant prices
  (sectors) or in shares (ETFs); **rank** 1 = the largest rise; **dtc rank** 1 = the highest median days to cover.
- **streak**: consecutive reports with short interest rising (> 0) or falling (< 0); a step longer than
  `MAX_STEP` (FINRA reports are 13-19 days apart) is a missing report and ends it.
- **percentile over N weeks**: as everywhere in the brief, the share of the values in [report - 7N days, report)
  strictly below this report's, here over the reports of that window (about 24 a year; `n` says how many).
  Given for the change and the days to cover, not for the dollar level: ``si_usd`` is priced at adjusted closes,
  so a level before a later split is understated and its percentile would mislead.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from research.data.calendar import decision_times
from research.data.finra import SOURCE
from research.data.universe import BASKET_MOST_SHORT, SECTOR_ETFS, SECTORS, TICKERS
from research.weekly.facts import WINDOWS, _day, _num, flow_facts, history, level_facts, percentile

MAX_STEP = pd.Timedelta(days=20)


def _value(frame: pd.DataFrame, ent: str, when: pd.Timestamp) -> float | None:
    if ent not in frame.columns or when not in frame.index:
        return None
    return _num(frame.at[when, ent])


def _pcts(frame: pd.DataFrame, ent: str, when: pd.Timestamp) -> dict[str, Any]:
    s = frame[ent].loc[:when].dropna() if ent in frame.columns else pd.Series(dtype=float)
    ok = len(s) and s.index[-1] == when
    return {k: percentile(s, n) if ok else None for k, n in WINDOWS.items()}


def short_interest_section(panel: pd.DataFrame) -> dict[str, Any] | None:
    """Per GICS sector and per sector ETF (and SPY): short interest at the latest public report, its change since
    the previous one, days to cover, ranks and percentiles (module docstring); None without FINRA rows."""
    si = panel[panel["source"] == SOURCE]
    chg = history(si, "si_change_pct", [*SECTORS, *TICKERS])
    if chg.empty or chg.dropna(how="all").empty:
        return None
    sectors = [s for s in SECTORS if s in chg.columns]
    report = chg[sectors].dropna(how="all").index.max() if sectors else chg.dropna(how="all").index.max()
    published = si.loc[si["as_of"] == report, "available_at"].max()
    usd, dtc = history(si, "si_usd", [*SECTORS, *TICKERS]), history(si, "si_median_dtc", SECTORS)
    names, priced = history(si, "si_names", SECTORS), history(si, "si_priced_share", SECTORS)
    prev = chg.index[chg.index < report]
    rows = []
    for s in sectors:
        c = flow_facts(chg, s, report, MAX_STEP)
        if c is None:
            continue
        d = level_facts(dtc, s, report, MAX_STEP) if s in dtc.columns else None
        rows.append({"sector": s, "etf": {v: k for k, v in SECTOR_ETFS.items()}[s],
                     "si_usd": _value(usd, s, report), "change_pct": c["value"], "streak": c["streak"],
                     "largest": c["largest"], "change_pct_percentile": _pcts(chg, s, report),
                     "median_dtc": None if d is None else d["value"],
                     "median_dtc_change": None if d is None else d["change"],
                     "median_dtc_percentile": None if d is None else d["percentile"],
                     "names": _value(names, s, report), "priced_share": _value(priced, s, report)})
    rows.sort(key=lambda r: (-r["change_pct"], r["sector"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    by_dtc = sorted((r for r in rows if r["median_dtc"] is not None), key=lambda r: (-r["median_dtc"], r["sector"]))
    for i, r in enumerate(by_dtc, start=1):
        r["dtc_rank"] = i
    return {"report": _day(report), "published": str(published), "previous": _day(prev[-1]) if len(prev) else None,
            "rows": rows, "rose": sum(r["change_pct"] > 0 for r in rows),
            "fell": sum(r["change_pct"] < 0 for r in rows), "reported": len(rows),
            "missing": [s for s in SECTORS if s not in {r["sector"] for r in rows}],
            "etfs": etf_rows(si, chg, usd)}


def etf_rows(si: pd.DataFrame, chg: pd.DataFrame, usd: pd.DataFrame) -> list[dict[str, Any]]:
    """SPY and the sector ETFs at their latest public report: shares short, change, days to cover (with its
    percentiles) and dollars (shares x the unadjusted close)."""
    shares, dtc = history(si, "si_shares", TICKERS), history(si, "si_days_to_cover", TICKERS)
    out = []
    for t in TICKERS:
        if t not in shares.columns or shares[t].dropna().empty:
            continue
        when = shares[t].dropna().index[-1]
        d = level_facts(dtc, t, when, MAX_STEP) if t in dtc.columns else None
        out.append({"ticker": t, "sector": SECTOR_ETFS.get(t, "S&P 500"), "report": _day(when),
                    "shares": float(shares.at[when, t]), "change_pct": _value(chg, t, when),
                    "days_to_cover": None if d is None else d["value"],
                    "days_to_cover_percentile": None if d is None else d["percentile"],
                    "usd": _value(usd, t, when)})
    return out


def basket_changes(members: pd.DataFrame | None, coverage: pd.DataFrame | None, at: pd.Timestamp,
                   basket: str = BASKET_MOST_SHORT) -> dict[str, Any] | None:
    """The names that entered and left `basket` at the latest FINRA report public by `at`, with their days to
    cover (leavers: at the previous report, the last one that ranked them), and the basket's price coverage at
    its rebalance session when that session has closed by `at`."""
    if members is None or members.empty:
        return None
    m = members[(members["basket"] == basket) & (members["available_at"] <= at)]
    if m.empty:
        return None
    reports = sorted(m["settlement_date"].unique())
    now = m[m["settlement_date"] == reports[-1]].sort_values("rank")
    before = m[m["settlement_date"] == reports[-2]] if len(reports) > 1 else None
    out: dict[str, Any] = {"basket": basket, "by": str(now["by"].iloc[0]) if "by" in now else "days_to_cover",
                           "report": _day(reports[-1]), "published": str(now["available_at"].max()),
                           "previous": _day(reports[-2]) if before is not None else None, "size": int(len(now))}
    if before is not None:
        out["entered"] = [{"symbol": r.symbol, "rank": int(r.rank), "days_to_cover": float(r.score)}
                          for r in now[~now["symbol"].isin(before["symbol"])].itertuples()]
        gone = before[~before["symbol"].isin(now["symbol"])].sort_values("rank")
        out["left"] = [{"symbol": r.symbol, "previous_rank": int(r.rank), "previous_days_to_cover": float(r.score)}
                       for r in gone.itertuples()]
    out["coverage"] = None
    if coverage is not None and len(coverage):
        c = coverage[(coverage["basket"] == basket) & (coverage["settlement_date"] == reports[-1])]
        if len(c):
            row = c.iloc[-1]
            session = pd.Timestamp(row["session"])
            if decision_times(pd.DatetimeIndex([session]))[0] <= at:
                out["coverage"] = {"session": _day(session), "chosen": int(row["chosen"]),
                                   "priced": int(row["priced"]), "share": float(row["share"]),
                                   "missing": str(row["missing"]).split()}
            else:
                out["coverage_pending"] = _day(session)
    return out
