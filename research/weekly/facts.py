"""The numbers of the weekly brief, point in time: every fact is computed from the rows public at the as-of moment.

Definitions (stated once, used by every section, the prose and the JSON):

- **as-of moment** `at`: a timestamp (tz-naive New York). A date alone means that day's NYSE close (16:00, 13:00
  on early-close days; the last session's close for a weekend or holiday). Only panel rows with
  `available_at <= at` and price closes with their session's close `<= at` are read.
- **weekly history** of a metric: one value per (`as_of` week, entity), the latest vintage public by `at` (a
  revision published before `at` replaces the first print; one published later is ignored).
- **this week**: the latest `as_of` of the section's history. A series without a value that week is *not
  reported*: its facts are omitted, never carried from an older week.
- **percentile over N weeks** (N = 52, 156, 260 for 1, 3, 5 years): the share, in percent, of the series' values
  in the previous N weeks (`as_of` in [w - 7N days, w), this week excluded) strictly below this week's value.
  Given only when the history reaches back N weeks (its first week at most w - 7N days + 3 days, a holiday
  tolerance); `n` says how many weeks the window held.
- **weekly change**: this week's value minus the previous week's; unknown (None) when that week is missing (the
  previous value is more than 10 days older, or the entity is missing in a week others report).
- **streak**: consecutive weeks with the same sign (net buying > 0, net selling < 0; for a level, its weekly
  change: rises > 0, falls < 0), counted by `research.signals.streak`; a missing week ends it.
- **highest / lowest since**: the latest earlier week whose value was at least (at most) this week's; none means
  a record in the data, whose first week is given. "Largest net buying since" applies this to a positive flow,
  "largest net selling since" to a negative one.
- **legs ratio**: long buys / |short sales| ("long buys outpaced short sales 3.7 to 1"); from the legs when the
  data has them, else the reported `buy_sell_ratio`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import research.signals as sig
from research.data.calendar import decision_times, session_table
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP, BOOK, SECTOR_ETFS, SECTORS
from research.errors import ConfigError

WINDOWS: dict[str, int] = {"1y": 52, "3y": 156, "5y": 260}
TOLERANCE = pd.Timedelta(days=3)
MAX_STEP = pd.Timedelta(days=10)  # a longer step between two reported weeks is a missing week
LEGS: tuple[str, ...] = ("long_buys", "long_sells", "short_sales", "short_covers")
LEVELS: dict[str, str] = {"gross_leverage": "Gross leverage", "net_leverage": "Net leverage",
                          "long_short_ratio": "The long/short ratio"}
#: Prime-book metrics that make the Book and Sectors sections.
PRIME_METRICS: tuple[str, ...] = ("net_flow", *LEGS, "buy_sell_ratio", "net_exposure", "retail_flow", *LEVELS)
#: CFTC index markets the positioning section writes sentences about (its table adds the select-sector futures
#: reported that week, entities named by their sector ETF).
FUTURES: dict[str, str] = {"SPY": "E-mini S&P 500", "NDX": "E-mini Nasdaq-100", "RTY": "E-mini Russell 2000",
                           "VIX": "VIX futures"}
POSITIONING: dict[str, str] = {"lev_money_net_pct_oi": "leveraged funds", "asset_mgr_net_pct_oi": "asset managers"}
#: Price columns of the VIP basket (first present wins) and of the most-short basket.
VIP_COLUMNS: tuple[str, ...] = (BASKET_VIP, "GVIP")
MOST_SHORT_COLUMNS: tuple[str, ...] = (BASKET_MOST_SHORT,)
#: Flags, in the manner of the strategies (fresh_flow_low_exposure, crowding_overlay, hf_retail_divergence).
FRESH_WEEKS, FRESH_AFTER, FRESH_HOLD, FRESH_BELOW = 3, 2, 2, 30.0
CROWD_ABOVE = 80.0
DIVERGE_WEEKS = 3


# ----------------------------------------------------------------------------------------------------------
# time


def moment(as_of: str | pd.Timestamp | None, latest: pd.Timestamp) -> pd.Timestamp:
    """The as-of moment: `latest` when None; a date alone is that day's NYSE close (the last close on or before
    it for a non-session day); a timestamp with a time is taken as it is (tz-aware is converted to New York)."""
    if as_of is None:
        return pd.Timestamp(latest)
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ConfigError(f"--as-of {as_of!r} is not a date; give YYYY-MM-DD or 'YYYY-MM-DD HH:MM'.") from None
    if ts.tz is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    if ts != ts.normalize() or (isinstance(as_of, str) and ":" in as_of):
        return ts
    table, closes = session_table()
    pos = table.searchsorted(ts, "right") - 1
    if pos < 0:
        raise ConfigError(f"--as-of {as_of}: before the first NYSE session of the calendar ({table[0].date()}).")
    return pd.Timestamp(closes.iloc[pos])


def public(panel: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The panel rows public at `at`."""
    return panel[panel["available_at"] <= at]


def history(panel: pd.DataFrame, metric: str, entities: Iterable[str] | None = None) -> pd.DataFrame:
    """Weekly history (as_of x entity) of `metric` in an already point-in-time panel: the latest vintage of
    each week (several sources for one week: the one published last)."""
    sub = panel[panel["metric"] == metric]
    if entities is not None:
        sub = sub[sub["entity"].isin(list(entities))]
    if sub.empty:
        return pd.DataFrame(columns=list(entities or []), dtype=float)
    sub = sub.sort_values(["available_at"], kind="stable").drop_duplicates(["as_of", "entity"], keep="last")
    out = sub.pivot(index="as_of", columns="entity", values="value").sort_index()
    if entities is not None:
        out = out.reindex(columns=[e for e in entities if e in out.columns])
    out.columns.name = metric
    return out.astype(float)


# ----------------------------------------------------------------------------------------------------------
# one series


def _day(ts: Any) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).date().isoformat()


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(float(x)) else float(x)


def percentile(s: pd.Series, n: int) -> dict[str, Any] | None:
    """Share (percent) of the previous `n` weeks' values strictly below the last one (see the module docstring);
    None when the history does not reach back `n` weeks."""
    s = s.dropna()
    if len(s) < 2:
        return None
    w = s.index[-1]
    start = w - pd.Timedelta(days=7 * n)
    if s.index[0] > start + TOLERANCE:
        return None
    prev = s[(s.index >= start) & (s.index < w)]
    if prev.empty:
        return None
    return {"pct": round(100.0 * float((prev < s.iloc[-1]).mean()), 1), "n": int(len(prev))}


def since(s: pd.Series, higher: bool) -> dict[str, Any]:
    """The latest earlier week at least (`higher`) or at most as high as the last value: its date and the number
    of weeks back; `record` when there is none (then `first` is where the data begins)."""
    s = s.dropna()
    v, w = s.iloc[-1], s.index[-1]
    prev = s.iloc[:-1]
    hit = prev[prev >= v] if higher else prev[prev <= v]
    if hit.empty:
        return {"since": None, "weeks": None, "record": len(prev) > 0, "first": _day(s.index[0])}
    d = hit.index[-1]
    return {"since": _day(d), "weeks": int(round((w - d).days / 7)), "record": False, "first": _day(s.index[0])}


def with_gaps(frame: pd.DataFrame, max_step: pd.Timedelta = MAX_STEP) -> pd.DataFrame:
    """`frame` (as_of x entity) with an all-NaN row a week after each reported week that is followed by a step
    longer than `max_step` (MAX_STEP for weekly data), so that changes and streaks do not span a missing week."""
    idx = pd.DatetimeIndex(frame.index)
    if len(idx) < 2:
        return frame
    step = idx[1:] - idx[:-1]
    holes = idx[:-1][step > max_step] + pd.Timedelta(days=7)
    return frame if holes.empty else frame.reindex(idx.union(holes))


def level_facts(frame: pd.DataFrame, entity: str, week: pd.Timestamp, max_step: pd.Timedelta = MAX_STEP
                ) -> dict[str, Any] | None:
    """Value, weekly change, streak of rises/falls, percentiles and records of a level (leverage, a ratio, a
    position); None when the entity has no value in `week`. `max_step`: the longest step between two reports
    that is not a missing report (a week for weekly data)."""
    if entity not in frame.columns or week not in frame.index or pd.isna(frame.at[week, entity]):
        return None
    col = with_gaps(frame[[entity]].loc[:week].dropna(), max_step)
    s = col[entity].dropna()
    diff = col.diff()
    change = diff.at[week, entity]
    streak = sig.streak(diff).at[week, entity]
    return {
        "as_of": _day(week), "value": float(s.iloc[-1]), "previous": _num(col[entity].shift(1).at[week]),
        "change": _num(change), "streak": None if pd.isna(streak) else int(streak),
        "percentile": {k: percentile(s, n) for k, n in WINDOWS.items()},
        "high": since(s, True), "low": since(s, False),
    }


def flow_facts(flows: pd.DataFrame, entity: str, week: pd.Timestamp, max_step: pd.Timedelta = MAX_STEP
               ) -> dict[str, Any] | None:
    """Net flow (or any signed change), its streak of one sign and how large it is against earlier weeks of the
    same sign (`max_step` as in `level_facts`)."""
    if entity not in flows.columns or week not in flows.index or pd.isna(flows.at[week, entity]):
        return None
    col = with_gaps(flows[[entity]].loc[:week].dropna(), max_step)
    v = float(col.at[week, entity])
    streaks = sig.streak(col)[entity]
    streak = streaks.at[week]
    before = streaks.shift(1).at[week] if abs(streak) == 1 else np.nan  # the run this week ended
    s = col[entity].dropna()
    same = s[np.sign(s) == np.sign(v)] if v != 0 else s.iloc[-1:]
    largest = since(same, v > 0) if v != 0 else {"since": None, "weeks": None, "record": False, "first": None}
    if largest["since"] is not None:  # weeks back counted over all weeks, not only those of the same sign
        largest["weeks"] = int(round((week - pd.Timestamp(largest["since"])).days / 7))
    return {"as_of": _day(week), "value": v, "direction": "bought" if v > 0 else "sold" if v < 0 else "flat",
            "streak": None if pd.isna(streak) else int(streak), "largest": largest,
            "before": int(abs(before)) if pd.notna(before) and np.sign(before) == -np.sign(v) else None}


def legs_facts(legs: dict[str, pd.DataFrame], ratio: pd.DataFrame, entity: str, week: pd.Timestamp
               ) -> dict[str, Any]:
    """The four legs this week (those reported) and long buys / |short sales|."""
    out: dict[str, Any] = {}
    for name, frame in legs.items():
        if entity in frame.columns and week in frame.index and pd.notna(frame.at[week, entity]):
            out[name] = float(frame.at[week, entity])
    buys, shorts = out.get("long_buys"), out.get("short_sales")
    if buys is not None and shorts is not None and shorts != 0:
        out["buy_sell_ratio"] = buys / abs(shorts)
    elif entity in ratio.columns and week in ratio.index and pd.notna(ratio.at[week, entity]):
        out["buy_sell_ratio"] = float(ratio.at[week, entity])
    return out


# ----------------------------------------------------------------------------------------------------------
# sections


@dataclass
class Prime:
    """The prime-book histories a brief reads (as_of x entity), all point in time."""

    flow: pd.DataFrame
    legs: dict[str, pd.DataFrame]
    ratio: pd.DataFrame
    exposure: pd.DataFrame
    retail: pd.DataFrame
    levels: dict[str, pd.DataFrame]

    @classmethod
    def read(cls, panel: pd.DataFrame) -> Prime:
        ents = [*SECTORS, BOOK]
        return cls(flow=history(panel, "net_flow", ents),
                   legs={m: history(panel, m, ents) for m in LEGS},
                   ratio=history(panel, "buy_sell_ratio", ents),
                   exposure=history(panel, "net_exposure", SECTORS),
                   retail=history(panel, "retail_flow", SECTORS),
                   levels={m: history(panel, m, [BOOK]) for m in LEVELS})

    def book_flow(self) -> tuple[pd.DataFrame, str]:
        """The book's weekly net flow: its own BOOK row when reported, else the sum of the reported sectors."""
        if BOOK in self.flow.columns and self.flow[BOOK].notna().any():
            return self.flow[[BOOK]], "reported"
        sectors = [s for s in SECTORS if s in self.flow.columns]
        if not sectors:
            return pd.DataFrame(columns=[BOOK], dtype=float), "absent"
        return self.flow[sectors].sum(axis=1, min_count=1).to_frame(BOOK), "sum of sectors"

    def book_legs(self) -> dict[str, pd.DataFrame]:
        """The book's legs: its own BOOK rows, else the sum over sectors in the weeks where every sector that
        reported a net flow reported the leg (a partial sum would misstate the book)."""
        out = {}
        flows = self.flow[[s for s in SECTORS if s in self.flow.columns]]
        for name, frame in self.legs.items():
            if BOOK in frame.columns and frame[BOOK].notna().any():
                out[name] = frame[[BOOK]]
                continue
            cols = [s for s in SECTORS if s in frame.columns]
            if not cols:
                continue
            leg = frame[cols].reindex(index=flows.index, columns=flows.columns)
            complete = (flows.notna() <= leg.notna()).all(axis=1)
            out[name] = leg.sum(axis=1, min_count=1).where(complete).to_frame(BOOK)
        return out

    def week(self) -> pd.Timestamp | None:
        """This week: the latest as_of of net flow or leverage."""
        frames = [self.flow, *self.levels.values()]
        ends = [f.dropna(how="all").index.max() for f in frames if not f.dropna(how="all").empty]
        return max(ends) if ends else None


def book_section(prime: Prime, week: pd.Timestamp) -> dict[str, Any]:
    flow, how = prime.book_flow()
    out: dict[str, Any] = {"as_of": _day(week), "flow_basis": how,
                           "flow": flow_facts(flow, BOOK, week) if not flow.empty else None}
    if out["flow"] is not None:
        out["flow"]["legs"] = legs_facts(prime.book_legs(), prime.ratio, BOOK, week)
    out["levels"] = {m: level_facts(f, BOOK, week) for m, f in prime.levels.items()}
    return out


def sector_section(prime: Prime, week: pd.Timestamp, gross_pct_3y: float | None) -> dict[str, Any] | None:
    """The sectors table (ranked by net flow this week), counts and flags."""
    sectors = [s for s in SECTORS if s in prime.flow.columns]
    if not sectors or week not in prime.flow.index:
        return None
    flows = with_gaps(prime.flow[sectors].loc[:week].dropna(how="all"))
    now = flows.loc[week].dropna().sort_values(ascending=False, kind="stable")
    if now.empty:
        return None
    fresh = sig.fresh(flows, FRESH_WEEKS, FRESH_AFTER, FRESH_HOLD)
    div = None
    if not prime.retail.empty:
        cols = [s for s in sectors if s in prime.retail.columns]
        r = prime.retail[cols].reindex(flows.index)
        div = sig.divergence(flows[cols], r) if cols else None
    rows = []
    for rank, name in enumerate(now.index, start=1):
        f = flow_facts(flows, name, week)
        assert f is not None
        row: dict[str, Any] = {"sector": name, "rank": rank, **{k: f[k] for k in ("value", "direction", "streak")},
                               "largest": f["largest"], **legs_facts(prime.legs, prime.ratio, name, week)}
        exp = level_facts(prime.exposure, name, week) if name in prime.exposure.columns else None
        row["net_exposure"] = None if exp is None else exp["value"]
        row["net_exposure_pct"] = None if exp is None else {k: exp["percentile"][k] for k in ("1y", "3y")}
        if div is not None and name in div.columns and week in div.index and pd.notna(div.at[week, name]):
            row["retail_flow"] = float(prime.retail.at[week, name])
            row["divergence_streak"] = int(div.at[week, name])
        flags = []
        pct3 = (row["net_exposure_pct"] or {}).get("3y")
        if bool(fresh.at[week, name]) and pct3 is not None and pct3["pct"] < FRESH_BELOW:
            flags.append("fresh_buying_under_owned")
        if pct3 is not None and pct3["pct"] >= CROWD_ABOVE and gross_pct_3y is not None \
                and gross_pct_3y >= CROWD_ABOVE:
            flags.append("crowded")
        if abs(row.get("divergence_streak") or 0) >= DIVERGE_WEEKS:
            flags.append("hf_retail_divergence")
        row["flags"] = flags
        rows.append(row)
    return {"as_of": _day(week), "rows": rows, "bought": int((now > 0).sum()), "sold": int((now < 0).sum()),
            "reported": int(len(now)), "missing": [s for s in SECTORS if s not in now.index]}


def positioning_section(panel: pd.DataFrame, markets: Iterable[str] | None = None) -> dict[str, Any] | None:
    """CFTC futures positioning: each market's net position as a share of open interest, by trader group
    (`markets`: only these markets' facts, e.g. for the week-by-week table; the week is still the latest any
    market reported)."""
    out: dict[str, Any] = {}
    keep = None if markets is None else set(markets)
    for metric, who in POSITIONING.items():
        hist = history(panel, metric, [*FUTURES, *SECTOR_ETFS])
        if hist.empty:
            continue
        week = hist.dropna(how="all").index.max()
        facts = {e: level_facts(hist, e, week) for e in hist.columns if keep is None or e in keep}
        out[metric] = {"who": who, "as_of": _day(week), "markets": {e: f for e, f in facts.items() if f}}
    return out or None


def basket_section(close: pd.DataFrame | None, at: pd.Timestamp) -> dict[str, Any] | None:
    """VIP against most-short basket returns over one week, one month and the year to date, from closes public
    at `at` (a session's close is public at its close)."""
    if close is None:
        return None
    vip = next((c for c in VIP_COLUMNS if c in close.columns), None)
    short = next((c for c in MOST_SHORT_COLUMNS if c in close.columns), None)
    if vip is None or short is None:
        return {"missing": [n for n, c in (("VIP", vip), ("most-short", short)) if c is None]}
    px = close[[vip, short]]
    px = px[decision_times(px.index) <= at].dropna()
    if len(px) < 2:
        return None
    end = px.index[-1]
    starts = {"1w": end - pd.Timedelta(days=7), "1m": end - pd.DateOffset(months=1),
              "ytd": pd.Timestamp(year=end.year, month=1, day=1) - pd.Timedelta(days=1)}
    periods = {}
    for k, t in starts.items():
        base = px.loc[:t]
        if base.empty:
            continue
        r = px.iloc[-1] / base.iloc[-1] - 1.0
        periods[k] = {"from": _day(base.index[-1]), "vip": float(r[vip]), "most_short": float(r[short]),
                      "spread": float(r[vip] - r[short])}
    return {"as_of": _day(end), "vip": vip, "most_short": short, "periods": periods}


def sources_section(panel: pd.DataFrame, close_end: pd.Timestamp | None, price_source: str | None,
                    rules: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per source: its latest week, when that week was published (all public at the as-of moment) and its
    publication rule (`rules`: by source name, or by the part before ':' as in prime_book:FILE)."""
    rules = rules or {}
    out = []
    for src, g in panel.groupby("source", sort=True):
        last = g["as_of"].max()
        rule = rules.get(str(src)) or rules.get(str(src).split(":")[0], "")
        out.append({"source": str(src), "latest_week": _day(last),
                    "published": str(g.loc[g["as_of"] == last, "available_at"].max()), "rule": rule,
                    "metrics": int(g["metric"].nunique()), "rows": int(len(g))})
    if close_end is not None:
        out.append({"source": f"prices ({price_source})", "latest_week": _day(close_end),
                    "published": f"{_day(close_end)} close", "rule": "a close is public at its session's close",
                    "metrics": None, "rows": None})
    return out


def headline(panel: pd.DataFrame, close: pd.DataFrame | None, at: pd.Timestamp,
             markets: Iterable[str] | None = None) -> dict[str, Any]:
    """The book, sectors, positioning (`markets`: only these) and basket facts of the brief at `at` (the models
    are separate)."""
    panel = public(panel, at)
    prime = Prime.read(panel[panel["metric"].isin(PRIME_METRICS)])
    week = prime.week()
    out: dict[str, Any] = {"as_of": str(at), "week": _day(week)}
    if week is not None:
        out["book"] = book_section(prime, week)
        g = (out["book"]["levels"].get("gross_leverage") or {}).get("percentile", {}).get("3y")
        out["sectors"] = sector_section(prime, week, None if g is None else g["pct"])
    out["positioning"] = positioning_section(panel[panel["metric"].isin(list(POSITIONING))], markets)
    if week is None and out["positioning"]:  # no prime book: the brief's week is the CFTC week
        out["week"] = max(b["as_of"] for b in out["positioning"].values())
    out["baskets"] = basket_section(close, at)
    return out
