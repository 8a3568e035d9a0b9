"""The weekly flow brief: what the book did this week, how extreme it is, and what every strategy now holds.

`brief(data, as_of=..., out=..., weeks=N)` reads a market (synthetic, a real-data folder) or a prime-book export
(a file alone: no prices, so no baskets and no models), cuts it at the as-of moment (`facts.moment`), computes
the facts (`facts`), the sentences (`prose`) and the models' books (`models`), and writes JSON, Markdown, HTML
and PDF (`render`). Sections whose data is absent are left out, and the brief says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from research.data.calendar import decision_times
from research.data.market import MarketData
from research.errors import DataError
from research.weekly import facts as F
from research.weekly import prose, shorts
from research.weekly.crowding import crowding_section

PERCENTILE_TEXT = ("the share of the previous N weekly values (as_of in [week - 7N days, week), this week "
                   "excluded) strictly below this week's value, N = 52 / 156 / 260 for 1 / 3 / 5 years; given only "
                   "when the history reaches back N weeks.")
STREAK_TEXT = ("consecutive reported weeks with the same sign (flows: net buying / selling; levels: rises / "
               "falls); a week the entity is missing while others report ends it.")
SHORT_TEXT = ("FINRA short interest, twice a month: the latest report public by the as-of; its change is since the "
              "previous report (sectors: at constant prices; ETFs: in shares); percentiles as above over the reports "
              "of the window; rank 1 = the largest rise.")
#: A section whose latest publication is older than this (days before the as-of) says so: twice its cadence.
STALE_DAYS = {"short_interest": 31, "crowding": 183}
VINTAGE_TEXT = "each week's latest vintage public by the as-of moment; nothing published later is read."


@dataclass
class Inputs:
    """What a brief reads: the panel, closes (None for a prime-book file alone) and the market for the models."""

    panel: pd.DataFrame
    close: pd.DataFrame | None
    market: MarketData | None
    name: str
    price_source: str | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The market's assembly tables (basket members and coverage on real folders; none otherwise)."""
        return {} if self.market is None else dict(self.market.tables)

    @classmethod
    def load(cls, data: MarketData | str | Path) -> Inputs:
        if isinstance(data, MarketData):
            return cls(data.panel, data.prices.close, data, data.name, data.prices.source)
        path = Path(str(data))
        if path.is_file():
            from research.data.primebook import load_primebook

            return cls(load_primebook(path), None, None, f"prime book ({path.name})")
        from research.run import load_data

        if not str(data).startswith("synthetic") and not path.exists():
            raise DataError(f"--data {data}: no such file or folder. Give 'synthetic', a data folder like "
                            "../shared/data, or a prime-book export (docs/primebook_schema.md).")
        return cls.load(load_data(str(data)))

    def rules(self) -> dict[str, str]:
        """Each panel source's publication rule (the market's own, else the real-data loaders')."""
        from research.data.real import LAG_RULES

        out = dict(LAG_RULES)
        panels = [s for s in (self.market.sources if self.market is not None else ()) if s.kind == "panel"]
        out.update({s.name: s.lag_rule for s in panels})
        if self.market is not None and self.market.synthetic and len(panels) == 1:
            out["synthetic"] = panels[0].lag_rule
        return out

    def latest(self) -> pd.Timestamp:
        """The latest moment anything in the data became public (the default as-of)."""
        ends = []
        if len(self.panel):
            ends.append(pd.Timestamp(self.panel["available_at"].max()))
        if self.close is not None and len(self.close):
            ends.append(pd.Timestamp(decision_times(self.close.index[-1:])[0]))
        if not ends:
            raise DataError(f"{self.name}: no panel rows and no prices; nothing to brief.")
        return max(ends)


@dataclass
class Brief:
    """A written brief: its facts (JSON-able), sentences per section, the week-by-week table, what was left out
    and why, and the files written."""

    title: str
    facts: dict[str, Any]
    sentences: dict[str, list[str]]
    notes: list[str]
    weeks: pd.DataFrame | None = None
    figures: dict[str, list[Any]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def markdown(self) -> str:
        from research.weekly.render import markdown

        return markdown(self)

    def json(self) -> str:
        from research.weekly.render import to_json

        return to_json(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return "\n".join(s for sec in self.sentences.values() for s in sec)


def _notes(facts: dict[str, Any], inputs: Inputs) -> list[str]:
    """Why each absent section is absent."""
    out = []
    if facts.get("book") is None:
        out.append("Book and Sectors: no prime-book flows or leverage public by the as-of (metrics net_flow, "
                   "gross_leverage, net_leverage, long_short_ratio; docs/primebook_schema.md).")
    else:
        missing = [m for m, v in facts["book"]["levels"].items() if v is None]
        if missing:
            out.append(f"Book: {', '.join(missing)} not reported for the week ending {facts['week']}.")
        if facts.get("sectors") and facts["sectors"]["missing"]:
            out.append(f"Sectors not reported for the week ending {facts['week']}: "
                       f"{', '.join(facts['sectors']['missing'])}.")
    if facts.get("positioning") is None:
        out.append("Futures positioning: no CFTC Traders in Financial Futures data public by the as-of.")
    if facts.get("short_interest") is None:
        out.append("Short interest: no FINRA short interest public by the as-of (a data folder's finra/).")
    else:
        si = facts["short_interest"]
        age = (pd.Timestamp(facts["as_of"]) - pd.Timestamp(si["published"])).days
        if age > STALE_DAYS["short_interest"]:
            out.append(f"Short interest: the latest FINRA report public by the as-of is of {si['report']}, published "
                       f"{age} days before it; nothing later is in the data.")
        if si["missing"]:
            out.append(f"Short interest: no FINRA sector figure at the {si['report']} report for "
                       f"{', '.join(si['missing'])}.")
    if facts.get("crowding") is None:
        out.append("Hedge-fund crowding: no 13F filings public by the as-of (a data folder's 13f/).")
    else:
        c = facts["crowding"]
        age = (pd.Timestamp(facts["as_of"]) - pd.Timestamp(c["published"])).days
        if age > STALE_DAYS["crowding"]:
            out.append(f"Hedge-fund crowding: the latest 13F quarter public by the as-of ends {c['quarter']}, its "
                       f"filings due {age} days before it; nothing later is in the data.")
    ch = facts.get("most_short_changes")
    if ch is None and inputs.tables.get("basket_members") is not None:
        out.append("Most-short basket changes: no FINRA report public by the as-of.")
    elif ch is not None and ch["coverage"] is None:
        out.append(f"Most-short basket coverage: the {ch['report']} report's basket is bought at the close of "
                   f"{ch.get('coverage_pending') or 'a session after the price data ends'}, after the as-of; "
                   "its price coverage is not known yet.")
    b = facts.get("baskets")
    if b is None:
        out.append("Baskets: no basket prices" + (" (a prime-book file has no prices)." if inputs.close is None
                                                   else " closed by the as-of."))
    elif "missing" in b:
        out.append(f"Baskets: no {' or '.join(b['missing'])} basket prices in this data "
                   f"(VIP: {' or '.join(F.VIP_COLUMNS)}; most short: {' or '.join(F.MOST_SHORT_COLUMNS)}).")
    m = facts.get("models")
    if m is None:
        out.append("What the models say: the strategies need prices, which a prime-book file alone does not have "
                   "(use a data folder with prices/ and primebook/).")
    else:
        for s in m["skipped"]:
            out.append(f"Model {s['strategy']} not run: {s['reason']}.")
    return out


def week_table(inputs: Inputs, at: pd.Timestamp, n: int) -> pd.DataFrame:
    """The headline facts of each of the last `n` weeks, each as the brief would have said it when that week was
    published (its latest row's publication, at most `at`)."""
    panel = F.public(inputs.panel, at)
    prime = panel[panel["metric"].isin(["net_flow", *F.LEVELS])]
    base = prime if len(prime) else panel[panel["metric"].isin(list(F.POSITIONING))]
    if base.empty:
        return pd.DataFrame()
    weeks = sorted(base["as_of"].unique())[-n:]
    rows = []
    for w in weeks:
        when = min(pd.Timestamp(base.loc[base["as_of"] == w, "available_at"].max()), at)
        h = F.headline(inputs.panel, inputs.close, when, markets=("SPY",))  # the table shows ES alone
        row: dict[str, Any] = {"week": F._day(w), "published": str(when)}
        book = h.get("book") or {}
        fl = book.get("flow")
        if fl:
            row["net flow"] = f"{fl['value']:,.0f}"
            row["streak"] = f"{fl['streak']:+d}" if fl["streak"] is not None else ""
            r = fl.get("legs", {}).get("buy_sell_ratio")
            row["buys/shorts"] = "" if r is None else f"{r:.2f}"
        for m in F.LEVELS:
            lv = (book.get("levels") or {}).get(m)
            if lv:
                p = lv["percentile"]["3y"]
                row[m.replace("_", " ")] = f"{lv['value']:.3f}" if m == "long_short_ratio" else f"{lv['value']:.1f}"
                row[f"{m.split('_')[0]} pct 3y"] = "" if p is None else f"{p['pct']:.0f}"
        sec = h.get("sectors")
        if sec:
            row["bought/sold"] = f"{sec['bought']}/{sec['sold']}"
            row["top buy"] = sec["rows"][0]["sector"] if sec["rows"][0]["value"] > 0 else ""
            row["top sell"] = sec["rows"][-1]["sector"] if sec["rows"][-1]["value"] < 0 else ""
        pos = (h.get("positioning") or {}).get("lev_money_net_pct_oi", {}).get("markets", {}).get("SPY")
        if pos:
            row["lev funds ES %OI"] = f"{pos['value']:.1f}"
            p = pos["percentile"]["3y"]
            row["ES pct 3y"] = "" if p is None else f"{p['pct']:.0f}"
        wk = ((h.get("baskets") or {}).get("periods") or {}).get("1w")
        if wk:
            row["VIP-MS 1w"] = f"{wk['spread'] * 100:+.1f}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("week").fillna("")


def _figures(inputs: Inputs, at: pd.Timestamp, facts: dict[str, Any]) -> dict[str, list[Any]]:
    """The figures as functions (drawn only when HTML or PDF is written)."""
    from research.report.render import Fig
    from research.weekly import render as R

    panel = F.public(inputs.panel, at)
    out: dict[str, list[Any]] = {}
    if facts.get("book"):
        week = pd.Timestamp(facts["week"])
        lev = {m: F.history(panel, m, ["BOOK"]) for m in ("gross_leverage", "net_leverage")}
        lev = {m: h["BOOK"].loc[:week] for m, h in lev.items() if "BOOK" in h.columns and week in h.index}
        if lev:
            out["book"] = [Fig("leverage", lambda lev=lev: R.leverage_figure(lev),
                               "Book leverage over three years; shaded: the 10th-90th percentile of those three "
                               "years, dotted: their range; red dot: this week.")]
    if facts.get("sectors"):
        week = pd.Timestamp(facts["week"])
        flows = F.history(panel, "net_flow", list(F.SECTORS)).loc[:week]
        out["sectors"] = [
            Fig("sector_flows", lambda s=flows.loc[week]: R.flow_bars(s), "Net flow this week by sector (usd mn)."),
            Fig("streaks", lambda f=flows: R.streak_strip(f),
                "Streak heat strip: the sign of each sector's net flow, week by week."),
        ]
    pos = (facts.get("positioning") or {}).get("lev_money_net_pct_oi")
    if pos and "SPY" in pos["markets"]:
        s = F.history(panel, "lev_money_net_pct_oi", ["SPY"])["SPY"]
        out["positioning"] = [Fig("es_positioning", lambda s=s: R.leverage_figure({"lev_funds_ES_net_%OI": s}),
                                  "Leveraged funds' E-mini S&P 500 net position (% of open interest) over three "
                                  "years with its 10th-90th percentile band.")]
    return out


def brief(data: MarketData | str | Path = "synthetic", *, as_of: str | pd.Timestamp | None = None,
          out: str | Path | None = None, weeks: int = 0, models: bool = True,
          formats: tuple[str, ...] = ("json", "md", "html", "pdf")) -> Brief:
    """The weekly flow brief of `data` as of `as_of` (default: the latest moment anything in it was published).

    `data`: a MarketData, 'synthetic[:seed=..]', a data folder (like ../shared/data) or a prime-book export
    (CSV/XLSX). `weeks`: also tabulate the headline facts of the last N weeks. `out`: write brief.json, .md,
    .html and .pdf there (`formats` picks). Returns a `Brief` (display it in a notebook, or read `.facts`).
    """
    inputs = Inputs.load(data)
    at = F.moment(as_of, inputs.latest())
    facts = F.headline(inputs.panel, inputs.close, at)
    facts["short_interest"] = shorts.short_interest_section(F.public(inputs.panel, at))
    facts["crowding"] = crowding_section(F.public(inputs.panel, at))
    facts["most_short_changes"] = shorts.basket_changes(inputs.tables.get("basket_members"),
                                                        inputs.tables.get("basket_coverage"), at)
    facts["data"] = inputs.name
    facts["synthetic"] = bool(inputs.market is not None and inputs.market.synthetic)
    if models and inputs.market is not None:
        from research.weekly.models import model_section

        facts["models"] = model_section(inputs.market, at)
    else:
        facts["models"] = None
    close_end = None
    if inputs.close is not None:
        c = inputs.close[decision_times(inputs.close.index) <= at]
        close_end = c.index[-1] if len(c) else None
    seen = F.public(inputs.panel, at)
    if seen.empty and close_end is None:
        first = inputs.panel["available_at"].min() if len(inputs.panel) else None
        raise DataError(f"--as-of {at}: nothing in {inputs.name} was public by then (its first publication: "
                        f"{first}). Give a later --as-of.")
    facts["sources"] = F.sources_section(seen, close_end, inputs.price_source, inputs.rules())
    facts["definitions"] = {"percentile": PERCENTILE_TEXT, "streak": STREAK_TEXT, "history": VINTAGE_TEXT,
                           "short_interest": SHORT_TEXT}
    notes = _notes(facts, inputs)
    title = f"Weekly flow brief: week ending {facts['week']}" if facts["week"] else "Weekly flow brief"
    b = Brief(title, facts, prose.sentences(facts), notes,
              weeks=week_table(inputs, at, weeks) if weeks > 0 else None)
    if out is not None:
        from research.weekly.render import write

        if "html" in formats or "pdf" in formats:
            b.figures = _figures(inputs, at, facts)
        b.files = write(b, Path(out), formats)
    return b
