"""The brief as Markdown (for email or chat), JSON, and through the tear sheets' renderer
(`research.report.render`) as one self-contained HTML page and an A4 PDF, with three small figures: leverage
with its three-year band, sector flow bars, and the streak heat strip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research.data.universe import SECTOR_ETFS
from research.weekly.facts import FUTURES, LEVELS, WINDOWS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from research.weekly.build import Brief

TITLES = {"book": "Book", "sectors": "Sectors", "positioning": "Futures positioning (CFTC)",
          "short_interest": "Short interest (FINRA)", "crowding": "Hedge-fund crowding (13F)", "baskets": "Baskets",
          "models": "What the models say"}
#: Further tables shown in a section after its own (a section: its key, then these keys, in order).
MORE_TABLES = {"short_interest": ("short_etfs",), "baskets": ("basket_changes",)}
STRIP_WEEKS = 26
FLAG_TEXT = {"fresh_buying_under_owned": "fresh buying, under-owned", "crowded": "crowded",
             "hf_retail_divergence": "HF vs retail"}
BAND_WEEKS = 156
#: Table columns rendered as text (left-aligned, not as numbers).
TEXT_COLUMNS = ("flags", "largest since", "since", "group", "week", "weights", "change", "signal", "tear sheet",
                "record", "decided", "from", "sector", "report", "names (days to cover)", "names (priced)")


def _f(v: Any, fmt: str = "{:,.1f}") -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else fmt.format(v)


def _p(p: dict[str, Any] | None) -> str:
    return "" if p is None else f"{p['pct']:.0f}"


# ----------------------------------------------------------------------------------------------------------
# tables (formatted strings, shared by Markdown, HTML and PDF)


def book_table(book: dict[str, Any]) -> pd.DataFrame:
    rows = []
    f = book.get("flow")
    if f is not None:
        legs = f.get("legs", {})
        rows.append({"": "net flow (usd mn)", "value": _f(f["value"]), "change": "",
                     "streak": _f(f["streak"], "{:+d}"), **{k: "" for k in WINDOWS},
                     "record": (f"largest since {f['largest']['since']}" if f["largest"]["since"] else
                                "largest in the data" if f["largest"]["record"] else "")})
        for leg in ("long_buys", "long_sells", "short_sales", "short_covers"):
            if leg in legs:
                rows.append({"": f"  {leg.replace('_', ' ')}", "value": _f(legs[leg])})
        if "buy_sell_ratio" in legs:
            rows.append({"": "long buys / short sales", "value": _f(legs["buy_sell_ratio"], "{:.2f}")})
    for metric, label in LEVELS.items():
        lv = book["levels"].get(metric)
        if lv is None:
            continue
        digits = "{:.3f}" if metric == "long_short_ratio" else "{:.1f}"
        rec = lv["high"] if (lv["change"] or 0) >= 0 else lv["low"]
        word = "highest" if (lv["change"] or 0) >= 0 else "lowest"
        rows.append({"": label.replace("The l", "L").lower(), "value": _f(lv["value"], digits),
                     "change": _f(lv["change"], "{:+" + digits[2:]), "streak": _f(lv["streak"], "{:+d}"),
                     **{k: _p(lv["percentile"][k]) for k in WINDOWS},
                     "record": (f"{word} since {rec['since']}" if rec["since"] else
                                f"{word} in the data" if rec["record"] else "")})
    return pd.DataFrame(rows).fillna("").set_index("")


def sector_table(sec: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for r in sec["rows"]:
        lg = r["largest"]
        rows.append({"sector": r["sector"], "rank": str(r["rank"]), "net flow": _f(r["value"]),
                     "streak": _f(r["streak"], "{:+d}"), "buys/shorts": _f(r.get("buy_sell_ratio"), "{:.2f}"),
                     "largest since": lg["since"] or ("data start" if lg["record"] else ""),
                     "net exposure": _f(r["net_exposure"], "{:.2f}"),
                     "exposure pct 1y": _p((r["net_exposure_pct"] or {}).get("1y")),
                     "flags": ", ".join(FLAG_TEXT.get(f, f) for f in r["flags"])})
    return pd.DataFrame(rows).set_index("sector")


def positioning_table(pos: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for block in pos.values():
        for ent, lv in block["markets"].items():
            rec = lv["high"] if (lv["change"] or 0) >= 0 else lv["low"]
            label = FUTURES.get(ent) or f"{SECTOR_ETFS.get(ent, ent)} select sector"
            rows.append({"market": label, "group": block["who"], "week": lv["as_of"],
                         "net % OI": _f(lv["value"]), "change": _f(lv["change"], "{:+.1f}"),
                         "streak": _f(lv["streak"], "{:+d}"), **{k: _p(lv["percentile"][k]) for k in WINDOWS},
                         "since": rec["since"] or ("data start" if rec["record"] else "")})
    return pd.DataFrame(rows).set_index("market")


def basket_table(b: dict[str, Any]) -> pd.DataFrame:
    rows = [{"period": k, "from": p["from"], "VIP": f"{p['vip']:+.2%}", "Most Short": f"{p['most_short']:+.2%}",
             "VIP - Most Short": f"{p['spread'] * 100:+.2f} pts"} for k, p in b["periods"].items()]
    return pd.DataFrame(rows).set_index("period")


def short_table(si: dict[str, Any]) -> pd.DataFrame:
    """One row per sector (percentile columns: three years; the JSON has one, three and five)."""
    rows = []
    for r in si["rows"]:
        lg = r["largest"]
        q = r["median_dtc_percentile"] or {}
        share = "" if r["priced_share"] is None else f" ({r['priced_share']:.0%})"
        rows.append({"sector": r["sector"], "rank": str(r["rank"]),
                     "short $bn": _f(None if r["si_usd"] is None else r["si_usd"] / 1e9, "{:,.1f}"),
                     "change %": _f(r["change_pct"], "{:+.1f}"), "streak": _f(r["streak"], "{:+d}"),
                     "change pct 3y": _p(r["change_pct_percentile"].get("3y")),
                     "largest since": lg["since"] or ("data start" if lg["record"] else ""),
                     "median dtc": _f(r["median_dtc"], "{:.2f}"), "dtc rank": _f(r.get("dtc_rank"), "{:d}"),
                     "dtc pct 3y": _p(q.get("3y")),
                     "names (priced)": _f(r["names"], "{:.0f}") + share})
    return pd.DataFrame(rows).set_index("sector")


def short_etf_table(si: dict[str, Any]) -> pd.DataFrame:
    rows = [{"ETF": e["ticker"], "sector": e["sector"], "report": e["report"],
             "shares short (m)": _f(e["shares"] / 1e6, "{:,.1f}"),
             "short $bn": _f(None if e["usd"] is None else e["usd"] / 1e9, "{:,.2f}"),
             "change %": _f(e["change_pct"], "{:+.1f}"), "days to cover": _f(e["days_to_cover"], "{:.2f}"),
             "dtc pct 1y": _p((e["days_to_cover_percentile"] or {}).get("1y")),
             "dtc pct 3y": _p((e["days_to_cover_percentile"] or {}).get("3y"))} for e in si["etfs"]]
    return pd.DataFrame(rows).set_index("ETF")


def crowding_table(c: dict[str, Any]) -> pd.DataFrame:
    rows = [{"sector": r["sector"], "rank": str(r["rank"]), "top-10 names per fund": _f(r["crowding"], "{:.2f}"),
             "share of top-10 slots": _f(r["top10_share"], "{:.1%}"), "weight": _f(r["weight"], "{:.1%}"),
             "weight change (pts)": _f(r["weight_change"], "{:+.1f}"), "VIP names": _f(r["vip_count"], "{:.0f}")}
            for r in c["rows"]]
    return pd.DataFrame(rows).set_index("sector")


def basket_change_table(ch: dict[str, Any]) -> pd.DataFrame:
    """Two rows, the names that entered (days to cover at this report) and left (at the previous report)."""
    rows = [{"move": "entered", "report": ch["report"], "count": str(len(ch.get("entered", []))),
             "names (days to cover)": ", ".join(f"{e['symbol']} {e['days_to_cover']:.1f}"
                                                for e in ch.get("entered", []))},
            {"move": "left", "report": ch["previous"], "count": str(len(ch.get("left", []))),
             "names (days to cover)": ", ".join(f"{e['symbol']} {e['previous_days_to_cover']:.1f}"
                                                for e in ch.get("left", []))}]
    return pd.DataFrame(rows).set_index("move")


def model_table(models: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for m in models["models"]:
        w = sorted(((k, v) for k, v in m["weights"].items() if abs(v) > 1e-9), key=lambda kv: -abs(kv[1]))
        c = sorted(((k, v) for k, v in m["change"].items() if abs(v) > 1e-6), key=lambda kv: -abs(kv[1]))
        sg = sorted(m["signal"].items(), key=lambda kv: -abs(kv[1]))
        rows.append({"strategy": m["strategy"], "decided": m["decided"],
                     "weights": ", ".join(f"{k} {v:+.0%}" for k, v in w) or "cash",
                     "change": ", ".join(f"{k} {v:+.0%}" for k, v in c) or "none",
                     "signal": ", ".join(f"{k} {v:.3g}" for k, v in sg[:6]),
                     "tear sheet": m["tearsheet"] or ""})
    return pd.DataFrame(rows).set_index("strategy")


def tables(b: Brief) -> dict[str, pd.DataFrame]:
    f = b.facts
    out = {}
    if f.get("book"):
        out["book"] = book_table(f["book"])
    if f.get("sectors"):
        out["sectors"] = sector_table(f["sectors"])
    if f.get("positioning"):
        out["positioning"] = positioning_table(f["positioning"])
    if (f.get("baskets") or {}).get("periods"):
        out["baskets"] = basket_table(f["baskets"])
    if f.get("short_interest"):
        out["short_interest"] = short_table(f["short_interest"])
        if f["short_interest"]["etfs"]:
            out["short_etfs"] = short_etf_table(f["short_interest"])
    if f.get("crowding"):
        out["crowding"] = crowding_table(f["crowding"])
    ch = f.get("most_short_changes")
    if ch and (ch.get("entered") or ch.get("left")):
        out["basket_changes"] = basket_change_table(ch)
    if (f.get("models") or {}).get("models"):
        out["models"] = model_table(f["models"])
    return out


# ----------------------------------------------------------------------------------------------------------
# Markdown and JSON


def md_table(df: pd.DataFrame) -> str:
    head = [df.index.name or "", *map(str, df.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for idx, row in zip(df.index, df.itertuples(index=False), strict=True):
        lines.append("| " + " | ".join([str(idx), *(str(v).replace("|", "/") for v in row)]) + " |")
    return "\n".join(lines)


def _sections(b: Brief, tabs: dict) -> list[tuple[str, str, list[str], list[str]]]:
    """(key, title, sentences, table keys) of each section with something to show, in TITLES order: the Markdown
    and the HTML/PDF brief lay out the same sections."""
    out = []
    for key, title in TITLES.items():
        sents = b.sentences.get(key, [])
        keys = [k for k in (key, *MORE_TABLES.get(key, ())) if k in tabs]
        if sents or keys:
            out.append((key, title, sents, keys))
    return out


def markdown(b: Brief) -> str:
    f = b.facts
    out = [f"# {b.title}", "", f"*As of {f['as_of']} (New York); week ending {f['week'] or 'n/a'}; data: "
           f"{f['data']}.*", ""]
    tabs = tables(b)
    for _key, title, sents, keys in _sections(b, tabs):
        out += [f"## {title}", ""]
        out += [f"- {s}" for s in sents]
        for k in keys:
            out += ["", md_table(tabs[k])]
        out.append("")
    if b.weeks is not None and not b.weeks.empty:
        out += ["## Week by week", "", md_table(b.weeks), ""]
    if b.notes:
        out += ["## Not in this brief", ""] + [f"- {n}" for n in b.notes] + [""]
    out += ["## Sources", "", md_table(sources_table(f)), "",
            f"*Percentile over N weeks: {f['definitions']['percentile']}*", ""]
    return "\n".join(out)


def sources_table(f: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"source": s["source"], "latest week": s["latest_week"], "published": s["published"],
                          "publication rule": s["rule"]} for s in f["sources"]]).set_index("source")


def to_json(b: Brief) -> str:
    out = {**b.facts, "sentences": b.sentences, "notes": b.notes,
           "weeks": None if b.weeks is None else b.weeks.reset_index().to_dict(orient="records")}
    return json.dumps(out, indent=2, default=str, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------------------------------------
# figures


def leverage_figure(levels: dict[str, pd.Series]) -> Figure:
    """Gross and net leverage over three years, each with the band its three years spanned (10th-90th
    percentile shaded, min-max dotted)."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from research.report.figures import STYLE

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(levels), figsize=(10, 2.6))
        axes = np.atleast_1d(axes)
        for ax, (name, s) in zip(axes, levels.items(), strict=True):
            s = s.dropna()
            s = s[s.index >= s.index[-1] - pd.Timedelta(weeks=BAND_WEEKS)]
            lo, hi = np.percentile(s, [10, 90])
            ax.axhspan(lo, hi, color="#1f4e79", alpha=0.12, lw=0, label="10th-90th pct, 3y")
            ax.axhline(s.min(), color="#888888", lw=0.6, ls=":")
            ax.axhline(s.max(), color="#888888", lw=0.6, ls=":")
            ax.plot(s.index, s.to_numpy(), color="#1f4e79", lw=1.2)
            ax.plot(s.index[-1:], s.to_numpy()[-1:], "o", color="#b03a2e", ms=4)
            ax.set_title(f"{name.replace('_', ' ')}: {s.iloc[-1]:.1f}")
            ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
            ax.legend(loc="lower left", frameon=False)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.86, wspace=0.18)
    return fig


def flow_bars(flows: pd.Series) -> Figure:
    """This week's net flow by sector, largest buying on top."""
    import matplotlib.pyplot as plt

    from research.report.figures import GAIN_COLOR, LOSS_COLOR, STYLE

    s = flows.dropna().sort_values()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 0.28 * len(s) + 0.8))
        ax.barh(range(len(s)), s.to_numpy(), color=[GAIN_COLOR if v > 0 else LOSS_COLOR for v in s])
        ax.set_yticks(range(len(s)), list(s.index))
        ax.axvline(0, color="#444444", lw=0.8)
        ax.set_xlabel("net flow this week (usd mn)")
        fig.subplots_adjust(left=0.2, right=0.98, bottom=0.5 / (0.28 * len(s) + 0.8), top=0.97)
    return fig


def streak_strip(flows: pd.DataFrame) -> Figure:
    """Sign of each sector's net flow over the last weeks: green bought, red sold, grey not reported."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from research.report.figures import STYLE

    f = flows.iloc[-STRIP_WEEKS:]
    z = np.sign(f.to_numpy(dtype=float).T)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(10, 0.24 * f.shape[1] + 0.9))
        cmap = ListedColormap(["#b03a2e", "#eeeeee", "#2e7d4f"]).with_extremes(bad="#cfcfcf")
        ax.imshow(np.ma.masked_invalid(z), aspect="auto", cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_yticks(range(f.shape[1]), list(f.columns))
        ticks = list(range(0, len(f), 4))
        ax.set_xticks(ticks, [f.index[i].strftime("%Y-%m-%d") for i in ticks])
        ax.set_xlabel(f"week (last {len(f)}): green net bought, red net sold, grey not reported")
        fig.subplots_adjust(left=0.2, right=0.98, bottom=0.5 / (0.24 * f.shape[1] + 0.9), top=0.97)
    return fig


# ----------------------------------------------------------------------------------------------------------
# HTML and PDF


def document(b: Brief) -> Any:
    from research.report.render import KV, Document, Note, Raw, Section, Table, table_html

    f = b.facts
    head = Section("header", b.title)
    head.add(KV([("as of", f"{f['as_of']} New York (only data public by then)"), ("week ending", f["week"] or "n/a"),
                 ("data", f["data"]), ("percentile", f["definitions"]["percentile"])]))
    head.add(Table(sources_table(f), caption="Sources: each one's latest week and when it was published",
                   text=("latest week", "published", "publication rule")))
    secs = [head]
    tabs = tables(b)
    for key, title, sents, keys in _sections(b, tabs):
        sec = Section(key, title, pdf_new_page=False)
        sec.add(*(Note(s) for s in sents))
        for k in keys:
            t = tabs[k]
            sec.add(Table(t, text=tuple(c for c in t.columns if c in TEXT_COLUMNS), pdf_records=k == "models"))
        for fig in b.figures.get(key, []):
            sec.add(fig)
        secs.append(sec)
    if b.weeks is not None and not b.weeks.empty:
        t = Table(b.weeks, text=("published", "top buy", "top sell"), pdf_records=True)
        wide = Raw(f"<div style='overflow-x:auto'>{table_html(t)}</div>", [t])  # scrolls itself, not the page
        secs.append(Section("weeks", "Week by week", [wide], pdf_new_page=False))
    if b.notes:
        secs.append(Section("omitted", "Not in this brief", [Note(n, "empty") for n in b.notes],
                            pdf_new_page=False))
    return Document(title=b.title, subtitle=f"week ending {f['week'] or 'n/a'}; as of {f['as_of']}; {f['data']}",
                    sections=secs, synthetic=bool(f.get("synthetic")), footer="flowbt brief")


def write(b: Brief, out: Path, formats: tuple[str, ...] = ("json", "md", "html", "pdf")) -> dict[str, Path]:
    """Write the brief's files into `out` (brief.json, brief.md, brief.html, brief.pdf)."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if "json" in formats:
        files["json"] = out / "brief.json"
        files["json"].write_text(to_json(b))
    if "md" in formats:
        files["md"] = out / "brief.md"
        files["md"].write_text(markdown(b))
    if "html" in formats or "pdf" in formats:
        from research.report.pdf import render_pdf
        from research.report.render import draw_figures, render_html

        doc = document(b)
        draw_figures(doc.sections)
        if "html" in formats:
            files["html"] = out / "brief.html"
            files["html"].write_text(render_html(doc))
        if "pdf" in formats:
            files["pdf"] = render_pdf(doc, out / "brief.pdf")
    return files
