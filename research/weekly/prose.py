"""Sentences written from the facts (`research.weekly.facts`): each cites only values it is given, and a sentence
(or a clause) whose data is missing is left out, never filled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from research.weekly.facts import CROWD_ABOVE, FRESH_AFTER, FRESH_BELOW, FUTURES, LEVELS

#: A record ("largest since") is worth a sentence from this many weeks back; a sector streak from this length.
RECORD_WEEKS, SECTOR_RECORD_WEEKS, STREAK_WEEKS, MAX_NAMED = 8, 26, 4, 4
#: Names of most-short basket changes written out in a sentence (the table lists them all).
MAX_CHANGED = 8
PERIOD_TEXT = {"1w": "over the week", "1m": "over the month", "ytd": "year to date"}
YEARS_TEXT = {"1y": "one year", "3y": "three years", "5y": "five years"}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def article(n: int) -> str:
    """'a' or 'an' before the ordinal of n said aloud (an 8th, an 11th, an 18th, an 80th)."""
    s = str(n)
    return "an" if s[0] == "8" or (len(s) % 3 == 2 and s[:2] in ("11", "18")) else "a"


def weeks_text(weeks: int) -> str:
    """'31 weeks' under a year, else 'over 2 years' (52 weeks a year)."""
    if weeks < 52:
        return f"{weeks} weeks"
    years = weeks // 52
    return "over a year" if years == 1 else f"over {years} years"


def money(v: float) -> str:
    """A usd_mn amount without its sign: $412m, $1.2bn."""
    a = abs(v)
    return f"${a / 1000:,.1f}bn" if a >= 1000 else f"${a:,.0f}m"


def names(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _rank(v: float) -> str:
    """A percentile strictly between 0 and 100 as an ordinal, rounded and kept within 1st..99th."""
    return ordinal(min(max(int(round(v)), 1), 99))


def _pct(p: dict[str, Any] | None) -> str | None:
    if p is None:
        return None
    v = p["pct"]
    return f"{_rank(v)} percentile" if 0 < v < 100 else None


def percentile_clause(pcts: dict[str, dict[str, Any] | None], unit: str = "week") -> str | None:
    """'the 97th percentile over three years (88th over one year, 95th over five years)'; the three-year window
    leads when present. 0 and 100 read as 'below' / 'above every week of the past three years' (`unit`: 'report'
    for data published twice a month)."""
    order = [k for k in ("3y", "1y", "5y") if pcts.get(k) is not None]
    if not order:
        return None
    lead, rest = order[0], order[1:]
    v = pcts[lead]["pct"]
    if v >= 100:
        head = f"above every {unit} of the past {YEARS_TEXT[lead]}"
    elif v <= 0:
        head = f"below every {unit} of the past {YEARS_TEXT[lead]}"
    else:
        head = f"the {_pct(pcts[lead])} over {YEARS_TEXT[lead]}"
    more = [f"above every {unit} over {YEARS_TEXT[k]}" if pcts[k]["pct"] >= 100 else
            f"below every {unit} over {YEARS_TEXT[k]}" if pcts[k]["pct"] <= 0 else
            f"{_rank(pcts[k]['pct'])} over {YEARS_TEXT[k]}" for k in rest]
    return head + (f" ({', '.join(more)})" if more else "")


def record_clause(f: dict[str, Any], up: bool, min_weeks: int = RECORD_WEEKS) -> str | None:
    """'the highest since 2023-05-12' / 'the lowest in the data (since 2000-01-07)' in the direction of the move."""
    rec = f["high"] if up else f["low"]
    word = "highest" if up else "lowest"
    if rec["record"]:
        return f"the {word} in the data (since {rec['first']})"
    if rec["weeks"] is not None and rec["weeks"] >= min_weeks:
        return f"the {word} since {rec['since']}"
    return None


def level_sentence(subject: str, f: dict[str, Any] | None, value: Callable[[float], str],
                   change: Callable[[float], str], noun: tuple[str, str] = ("rise", "fall")) -> str | None:
    """'Gross leverage fell 2.5 points to 210.6%, a 2nd straight fall; the 97th percentile over three years; the
    highest since 2023-05-12.' None when the level is not reported this week."""
    if f is None:
        return None
    c = f["change"]
    if c is None:
        head = f"{subject} is {value(f['value'])}"
    elif c == 0:
        head = f"{subject} was unchanged at {value(f['value'])}"
    else:
        head = f"{subject} {'rose' if c > 0 else 'fell'} {change(abs(c))} to {value(f['value'])}"
        k = f["streak"]
        if k is not None and abs(k) >= 2:
            head += f", {article(abs(k))} {ordinal(abs(k))} straight {noun[0] if k > 0 else noun[1]}"
    parts = [head, percentile_clause(f["percentile"])]
    if c:
        parts.append(record_clause(f, c > 0))
    return "; ".join(p for p in parts if p) + "."


def legs_clause(legs: dict[str, Any]) -> str | None:
    r = legs.get("buy_sell_ratio")
    if r is None or r <= 0:
        return None
    if r >= 1:
        return f"long buys outpacing short sales {r:.1f} to 1"
    return f"short sales outpacing long buys {1 / r:.1f} to 1"


def largest_clause(f: dict[str, Any], min_weeks: int) -> str | None:
    lg = f["largest"]
    what = "net buying" if f["value"] > 0 else "net selling"
    if lg["record"]:
        return f"the largest {what} in the data (since {lg['first']})"
    if lg["weeks"] is not None and lg["weeks"] >= min_weeks:
        return f"the largest {what} in {weeks_text(lg['weeks'])} (since {lg['since']})"
    return None


def book_sentences(book: dict[str, Any] | None) -> list[str]:
    if not book:
        return []
    out = []
    f = book.get("flow")
    if f is not None and f["direction"] != "flat":
        verb = "net bought" if f["value"] > 0 else "net sold"
        k = abs(f["streak"] or 0)
        when = f"for {article(k)} {ordinal(k)} straight week" if k >= 2 else "this week"
        head = f"Hedge funds {verb} US equities {when} ({money(f['value'])})"
        if k == 1 and f.get("before"):
            head += f", after {f['before']} week{'s' if f['before'] > 1 else ''} of net " \
                    f"{'selling' if f['value'] > 0 else 'buying'}"
        clauses = [legs_clause(f.get("legs", {})), largest_clause(f, RECORD_WEEKS)]
        out.append(", ".join([head, *(c for c in clauses if c)]) + ".")
    lev = book.get("levels", {})
    pct = (lambda v: f"{v:.1f}%"), (lambda c: f"{c:.1f} points")
    ratio = (lambda v: f"{v:.3f}"), (lambda c: f"{c:.3f}")
    for metric, subject in LEVELS.items():
        fmt = ratio if metric == "long_short_ratio" else pct
        s = level_sentence(subject, lev.get(metric), *fmt)
        if s:
            out.append(s)
    return out


def sector_sentences(sec: dict[str, Any] | None, gross_pct_3y: float | None = None) -> list[str]:
    if not sec:
        return []
    rows = sec["rows"]
    n, bought, sold = sec["reported"], sec["bought"], sec["sold"]
    out = []
    buyers = [r["sector"] for r in rows if r["value"] > 0]
    sellers = [r["sector"] for r in reversed(rows) if r["value"] < 0]
    if bought >= sold and buyers:
        out.append(f"{bought} of {n} sectors were net bought, led by {names(buyers[:MAX_NAMED])}.")
    elif sellers:
        out.append(f"{bought} of {n} sectors were net bought; the heaviest net selling was in "
                   f"{names(sellers[:MAX_NAMED])}.")
    notable = [r for r in rows if r["value"] != 0 and (r["largest"]["record"] or
                                                      (r["largest"]["weeks"] or 0) >= SECTOR_RECORD_WEEKS)]
    notable.sort(key=lambda r: (not r["largest"]["record"], -(r["largest"]["weeks"] or 0), r["rank"]))
    for r in notable[:3]:
        clauses = [largest_clause(r, SECTOR_RECORD_WEEKS)]
        lc = legs_clause(r)
        if lc:
            clauses.append(lc)
        p1 = (r.get("net_exposure_pct") or {}).get("1y")
        if p1 is not None and p1["pct"] <= 20:
            clauses.append("while its net exposure stays low against the past year "
                           f"({_pct(p1) or 'below every week of it'})")
        elif p1 is not None and p1["pct"] >= 80:
            clauses.append(f"with its net exposure high against the past year ({_pct(p1) or 'above every week of it'})")
        out.append(f"{r['sector']} saw " + ", ".join(c for c in clauses if c) + ".")
    named = {r["sector"] for r in notable[:3]}
    long_runs = [r for r in rows if abs(r["streak"] or 0) >= STREAK_WEEKS and r["sector"] not in named]
    long_runs.sort(key=lambda r: (-abs(r["streak"]), r["rank"]))
    for r in long_runs[:3]:
        verb = "net bought" if r["streak"] > 0 else "net sold"
        k = abs(r["streak"])
        out.append(f"{r['sector']} was {verb} for {article(k)} {ordinal(k)} straight week.")
    fresh = [r for r in rows if "fresh_buying_under_owned" in r["flags"]]
    if fresh:
        bits = [f"{r['sector']} ({r['streak']} weeks of net buying after at least {FRESH_AFTER} of net selling; "
                f"net exposure at the {_pct(r['net_exposure_pct']['3y']) or 'bottom'} over three years)"
                for r in fresh]
        out.append(f"Fresh buying in an under-owned sector (below the {ordinal(int(FRESH_BELOW))} percentile): "
                   + "; ".join(bits) + ".")
    crowded = [r["sector"] for r in rows if "crowded" in r["flags"]]
    if crowded and gross_pct_3y is not None:
        out.append(f"Crowded: {names(crowded)} (net exposure at or above the {ordinal(int(CROWD_ABOVE))} "
                   f"percentile over three years while gross leverage is at the "
                   f"{_rank(gross_pct_3y)}).")
    for r in rows:
        if "hf_retail_divergence" in r["flags"]:
            k = r["divergence_streak"]
            hf, retail = ("net sold", "bought") if k < 0 else ("net bought", "sold")
            out.append(f"Hedge funds and retail diverge in {r['sector']}: hedge funds {hf} while retail {retail} "
                       f"for {article(abs(k))} {ordinal(abs(k))} straight week.")
    return out


def positioning_sentences(pos: dict[str, Any] | None) -> list[str]:
    if not pos:
        return []
    out = []
    val, chg = (lambda v: f"{v:.1f}% of open interest"), (lambda c: f"{c:.1f} points")
    for metric in ("lev_money_net_pct_oi", "asset_mgr_net_pct_oi"):
        block = pos.get(metric)
        if not block:
            continue
        for ent, label in FUTURES.items():
            if metric == "asset_mgr_net_pct_oi" and ent != "SPY":
                continue  # asset managers: the E-mini S&P 500 only, to keep the brief short
            s = level_sentence(f"{block['who'].capitalize()}' net position in {label}", block["markets"].get(ent),
                               val, chg)
            if s:
                out.append(s)
    return out


def basket_sentences(b: dict[str, Any] | None) -> list[str]:
    if not b or "periods" not in b or not b["periods"]:
        return []
    clauses = []
    for k, p in b["periods"].items():
        d = round(p["spread"] * 100, 1)  # a spread under 0.05 points reads as a match, not "lagged by 0.0"
        verb = "beat" if d > 0 else "lagged" if d < 0 else "matched"
        amount = f" by {abs(d):.1f} points" if d else ""
        clauses.append(f"{verb} it{amount} {PERIOD_TEXT[k]}")
    parts = [clauses[0].replace(" it", " the Most Short basket", 1), *clauses[1:]]
    text = "The VIP basket " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])
    w = b["periods"].get("1w")
    detail = f" (VIP {w['vip'] * 100:+.1f}%, Most Short {w['most_short'] * 100:+.1f}% over the week)" if w else ""
    return [text + detail + "."]


def model_sentences(models: dict[str, Any] | None) -> list[str]:
    if not models:
        return []
    out = []
    for m in models["models"]:
        held = sorted(((k, v) for k, v in m["weights"].items() if abs(v) > 1e-9), key=lambda kv: -abs(kv[1]))
        if len(held) > 3 and max(v for _, v in held) - min(v for _, v in held) < 1e-9:
            book = f"an equal weight of {len(held)} tickers ({held[0][1]:+.1%} each)"
        else:
            book = ", ".join(f"{k} {v:+.0%}" for k, v in held[:6]) if held else "nothing (cash)"
        moved = sorted(((k, v) for k, v in m["change"].items() if abs(v) > 1e-6), key=lambda kv: -abs(kv[1]))
        if m["previous"] is None:
            change = ""
        elif moved:
            change = f"; since {m['previous']}: " + ", ".join(f"{k} {v:+.0%}" for k, v in moved[:4])
        else:
            change = f"; unchanged since {m['previous']}"
        out.append(f"{m['strategy']} (decided {m['decided']}) holds {book}{change}.")
    return out


def sentences(facts: dict[str, Any]) -> dict[str, list[str]]:
    """Every section's sentences, in the brief's order."""
    g = ((facts.get("book") or {}).get("levels", {}).get("gross_leverage") or {}).get("percentile", {}).get("3y")
    return {
        "book": book_sentences(facts.get("book")),
        "sectors": sector_sentences(facts.get("sectors"), None if g is None else g["pct"]),
        "positioning": positioning_sentences(facts.get("positioning")),
        "short_interest": short_interest_sentences(facts.get("short_interest")),
        "crowding": crowding_sentences(facts.get("crowding")),
        "baskets": basket_sentences(facts.get("baskets")) + basket_change_sentences(facts.get("most_short_changes")),
        "models": model_sentences(facts.get("models")),
    }


def _signed(v: float) -> str:
    """+8.1%, -0.04% (two decimals under 0.1 in size, so a small change does not read as +0.0%)."""
    return f"{v:+.2f}%" if 0 < abs(v) < 0.1 else f"{v:+.1f}%"


def _shares(v: float) -> str:
    """12.3m shares, 1.2bn shares."""
    return f"{v / 1e9:,.1f}bn" if abs(v) >= 1e9 else f"{v / 1e6:,.1f}m"


def short_interest_sentences(si: dict[str, Any] | None) -> list[str]:
    """'Short interest rose in 7 of 11 sectors ..., most in Energy (+8.1% at constant prices), ...'."""
    if not si or not si["rows"]:
        return []
    rows = si["rows"]
    up = [r for r in rows if r["change_pct"] > 0]
    down = sorted((r for r in rows if r["change_pct"] < 0), key=lambda r: r["change_pct"])
    when = f"FINRA report of {si['report']}, published {si['published'][:10]}"
    lead, other = (up, down) if len(up) >= len(down) else (down, up)
    verb, other_verb = ("rose", "fell") if lead is up else ("fell", "rose")
    parts = []
    if lead:
        cited = [f"{r['sector']} ({_signed(r['change_pct'])}{' at constant prices' if i == 0 else ''})"
                 for i, r in enumerate(lead[:3])]
        parts.append(f"Short interest {verb} in {len(lead)} of {si['reported']} sectors ({when}), "
                     f"{'most in' if len(lead) > 1 else 'in'} {names(cited)}")
        if other:
            word = "most in" if len(other) > 1 else "only in"
            parts.append(f"it {other_verb} {word} "
                         + names([f"{r['sector']} ({_signed(r['change_pct'])})" for r in other[:2]]))
    out = ["; ".join(parts) + "."] if parts else []
    for r in sorted(rows, key=lambda r: (-abs(r["streak"] or 0), r["rank"])):
        k = abs(r["streak"] or 0)
        big = largest_clause({"value": r["change_pct"], "largest": r["largest"]}, SECTOR_RECORD_WEEKS)
        if k < STREAK_WEEKS and big is None:
            continue
        verb = "rose" if r["change_pct"] > 0 else "fell"
        head = f"Short interest in {r['sector']} {verb}"
        head += f" for {article(k)} {ordinal(k)} straight report" if k >= 2 else f" {abs(r['change_pct']):.1f}%"
        if big:
            head += ", " + big.replace("net buying", "rise").replace("net selling", "fall")
        out.append(head + ".")
        if len(out) >= 4:
            break
    dtc = [r for r in rows if r.get("dtc_rank") is not None]
    if dtc:
        hi, lo = min(dtc, key=lambda r: r["dtc_rank"]), max(dtc, key=lambda r: r["dtc_rank"])
        text = f"Median days to cover is highest in {hi['sector']} at {hi['median_dtc']:.1f} days"
        clause = percentile_clause(hi["median_dtc_percentile"] or {}, "report")
        text += f", {clause}" if clause else ""
        if lo is not hi:
            text += f"; lowest in {lo['sector']} at {lo['median_dtc']:.1f} days"
        out.append(text + ".")
    etfs = [e for e in si.get("etfs", []) if e["ticker"] != "SPY" and e["change_pct"] is not None]
    if etfs:
        etfs.sort(key=lambda e: -e["change_pct"])
        top, bottom = etfs[0], etfs[-1]
        dtc_txt = "" if top["days_to_cover"] is None else f", {top['days_to_cover']:.1f} days to cover"
        text = (f"Among the sector ETFs, short interest {'rose' if top['change_pct'] > 0 else 'changed'} most in "
                f"{top['ticker']} ({_signed(top['change_pct'])} in shares{dtc_txt})")
        if bottom is not top and bottom["change_pct"] < 0:
            text += f" and fell most in {bottom['ticker']} ({_signed(bottom['change_pct'])})"
        out.append(text + ".")
    spy = next((e for e in si.get("etfs", []) if e["ticker"] == "SPY"), None)
    if spy is not None:
        bits = [f"{_shares(spy['shares'])} shares"]
        if spy["usd"] is not None:
            bits[0] += f" ({money(spy['usd'] / 1e6)})"
        if spy["change_pct"] is not None:
            bits.append(f"{_signed(spy['change_pct'])} since the previous report")
        if spy["days_to_cover"] is not None:
            clause = percentile_clause(spy["days_to_cover_percentile"] or {}, "report")
            bits.append(f"{spy['days_to_cover']:.2f} days to cover" + (f", {clause}" if clause else ""))
        out.append(f"SPY short interest: {'; '.join(bits)}.")
    return out


def basket_change_sentences(ch: dict[str, Any] | None) -> list[str]:
    """'At the FINRA report of 2025-07-15 (published 2025-07-25), 6 names entered the Most Short basket ...'."""
    if not ch:
        return []
    out = []
    what = f"the Most Short basket (the {ch['size']} S&P 500 members with the highest days to cover)" \
        if ch["by"] == "days_to_cover" else f"the {ch['basket']} basket"
    if "entered" in ch:
        head = f"At the FINRA report of {ch['report']} (published {ch['published'][:10]})"
        if not ch["entered"] and not ch["left"]:
            out.append(f"{head}, {what} was unchanged since {ch['previous']}.")
        else:
            ins = [f"{e['symbol']} ({e['days_to_cover']:.1f} days)" for e in ch["entered"][:MAX_CHANGED]]
            more = len(ch["entered"]) - len(ins)
            text = f"{head}, {len(ch['entered'])} name{'s' if len(ch['entered']) != 1 else ''} entered {what}"
            if ins:
                text += ": " + ", ".join(ins) + (f" and {more} more" if more > 0 else "")
            outs = [e["symbol"] for e in ch["left"][:MAX_CHANGED]]
            more = len(ch["left"]) - len(outs)
            text += f"; {len(ch['left'])} left"
            if outs:
                text += ": " + ", ".join(outs) + (f" and {more} more" if more > 0 else "")
            out.append(text + ".")
    cov = ch.get("coverage")
    if cov is not None:
        text = (f"{cov['priced']} of its {cov['chosen']} names have prices at the {cov['session']} rebalance "
                f"({cov['share']:.0%})")
        if cov["missing"]:
            text += f"; without: {', '.join(cov['missing'])} (left out of the basket, never filled)"
        out.append(text + ".")
    return out


def crowding_sentences(c: dict[str, Any] | None) -> list[str]:
    """'In the 13F filings for the quarter ending 2025-12-31 (196 funds, public 2026-02-17), hedge funds' ten largest
    positions were most crowded in Information Technology (2.2 per fund, 20 VIP names), ...'."""
    if not c or not c["rows"]:
        return []
    funds = f"{c['funds']:.0f} funds, " if c["funds"] is not None else ""
    top = [f"{r['sector']} ({r['crowding']:.1f} per fund" + (
        f", {r['vip_count']:.0f} VIP name{'' if r['vip_count'] == 1 else 's'})" if r["vip_count"] is not None
        else ")") for r in c["rows"][:3]]
    out = [f"In the 13F filings for the quarter ending {c['quarter']} ({funds}public {c['published'][:10]}), hedge "
           f"funds' ten largest positions were most crowded in {names(top)}."]
    moved = [r for r in c["rows"] if r["weight_change"] is not None and r["weight"] is not None]
    if moved:
        up, down = max(moved, key=lambda r: r["weight_change"]), min(moved, key=lambda r: r["weight_change"])
        bits = []
        if up["weight_change"] > 0:
            bits.append(f"rose most in {up['sector']} ({up['weight_change']:+.1f} points to {up['weight']:.1%})")
        if down["weight_change"] < 0:
            bits.append(f"fell most in {down['sector']} ({down['weight_change']:+.1f} points to {down['weight']:.1%})")
        if bits:
            out.append(f"Since the quarter ending {c['previous']}, their sector weight " + " and ".join(bits) + ".")
    return out
