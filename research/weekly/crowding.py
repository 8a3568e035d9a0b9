"""Hedge-fund crowding from 13F filings in the weekly brief, point in time.

Reads the sector metrics of `research.data.thirteenf` (source ``13f``): a quarter counts from its filing deadline
(45 days after quarter end, 17:30 ET), so the brief as of mid-February still reads the third quarter. Per sector:
``hf_crowding`` (the average number of a fund's ten largest positions in the sector), ``hf_weight`` (the sector's
share of the funds' mapped 13F value) and its change since the previous quarter in percentage points (unknown when
that quarter is missing: more than `MAX_STEP` earlier), ``hf_top10_share`` and ``hf_vip_count`` (names of the VIP
basket in the sector). No percentiles: a quarterly series needs years of filings before a one-year window means
anything, and the real folder holds four quarters.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from research.data.thirteenf import SOURCE
from research.data.universe import BOOK, SECTORS
from research.weekly.facts import _day, _num, history

MAX_STEP = pd.Timedelta(days=100)
METRICS = ("hf_crowding", "hf_weight", "hf_top10_share", "hf_vip_count")


def crowding_section(panel: pd.DataFrame) -> dict[str, Any] | None:
    """The sectors at the latest 13F quarter public in `panel` (already cut at the as-of), most crowded first;
    None without 13F rows."""
    p = panel[panel["source"] == SOURCE]
    frames = {m: history(p, m, SECTORS) for m in METRICS}
    crowd = frames["hf_crowding"].dropna(how="all")
    if crowd.empty:
        return None
    q = crowd.index.max()
    earlier = crowd.index[crowd.index < q]
    prev = earlier[-1] if len(earlier) and q - earlier[-1] <= MAX_STEP else None
    funds = history(p, "hf_funds", [BOOK])
    rows = []
    for s in crowd.columns:
        if pd.isna(crowd.at[q, s]):
            continue
        w = frames["hf_weight"]
        now = _num(w.at[q, s]) if s in w.columns else None
        before = _num(w.at[prev, s]) if prev is not None and s in w.columns else None
        rows.append({"sector": s, "crowding": float(crowd.at[q, s]),
                     "weight": now, "weight_change": None if now is None or before is None else 100 * (now - before),
                     **{m.removeprefix("hf_"): (_num(frames[m].at[q, s]) if s in frames[m].columns else None)
                        for m in ("hf_top10_share", "hf_vip_count")}})
    rows.sort(key=lambda r: (-r["crowding"], r["sector"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return {"quarter": _day(q), "published": str(p.loc[p["as_of"] == q, "available_at"].max()),
            "previous": _day(prev), "rows": rows,
            "funds": _num(funds.at[q, BOOK]) if BOOK in funds.columns and q in funds.index else None}
