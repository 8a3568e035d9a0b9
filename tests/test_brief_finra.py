"""The weekly brief's FINRA parts: sector and ETF short interest, most-short basket changes, on hand-built data with
known facts and on ../shared/data (point in time: everything published after the as-of is perturbed)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from research.data.universe import SECTORS
from research.weekly import brief, prose, shorts
from research.weekly import facts as F

# Reports twice a month (the 1st and the 15th: steps of 14-17 days), each public 10 days later at 18:00.
REPORTS = pd.date_range("2020-01-01", periods=100, freq="SMS")
LASTCHG = {"Energy": 8.1, "Materials": 5.2, "Utilities": 3.0, "Financials": 1.0, "Health Care": 0.5,
           "Industrials": 0.2, "Real Estate": 0.1, "Consumer Staples": -0.5, "Consumer Discretionary": -1.0,
           "Information Technology": -2.5, "Communication Services": -4.0}


def si_panel() -> pd.DataFrame:
    """Energy: +9.0 at report 69 (the largest rise before this one), then rises in the last 4 reports (2.0, 2.0,
    2.0, 8.1); every other sector alternates in sign. Median days to cover 3.0-3.9, Utilities 5.0 in the last report
    (above every earlier report). SPY and XLE/XLU: shares, days to cover, change and dollars."""
    k = np.arange(len(REPORTS))
    rows = []
    for j, s in enumerate(SECTORS):
        chg = np.where(k % 2 == 0, 1.0, -1.0) * (1.0 + 0.1 * j)
        if s == "Energy":
            chg[69] = 9.0
            chg[-4:-1] = 2.0
        chg[-1] = LASTCHG[s]
        dtc = 3.0 + (k % 10) * 0.1
        if s == "Utilities":
            dtc[-1] = 5.0
        for i, w in enumerate(REPORTS):
            rows += [(w, s, "si_change_pct", chg[i], "pct"), (w, s, "si_median_dtc", dtc[i], "days"),
                     (w, s, "si_usd", 1e10 * (j + 1), "usd"), (w, s, "si_names", 20.0, "count"),
                     (w, s, "si_priced_share", 1.0, "ratio")]
    for t, chg in (("SPY", -2.9), ("XLE", 25.3), ("XLU", -10.2)):
        for i, w in enumerate(REPORTS):
            rows += [(w, t, "si_shares", 1e8 + i, "shares"), (w, t, "si_days_to_cover", 1.0 + (i % 7) * 0.2, "days"),
                     (w, t, "si_change_pct", chg if i == len(REPORTS) - 1 else 1.0, "pct"),
                     (w, t, "si_usd", 5e10, "usd")]
    out = pd.DataFrame(rows, columns=["as_of", "entity", "metric", "value", "units"])
    out["available_at"] = out["as_of"] + pd.Timedelta(days=10, hours=18)
    out["source"] = "finra_si"
    return out


def test_sector_short_interest_facts():
    at = REPORTS[-1] + pd.Timedelta(days=11)
    si = shorts.short_interest_section(F.public(si_panel(), at))
    assert si["report"] == REPORTS[-1].date().isoformat() and si["previous"] == REPORTS[-2].date().isoformat()
    assert si["published"] == str(REPORTS[-1] + pd.Timedelta(days=10, hours=18))
    assert (si["rose"], si["fell"], si["reported"]) == (7, 4, 11)
    rows = {r["sector"]: r for r in si["rows"]}
    assert [r["sector"] for r in si["rows"][:3]] == ["Energy", "Materials", "Utilities"]
    e = rows["Energy"]
    assert e["rank"] == 1 and e["streak"] == 4 and e["change_pct"] == 8.1 and e["etf"] == "XLE"
    # the largest rise since report 69's +9.0; weeks back counted over all reports
    assert e["largest"]["since"] == REPORTS[69].date().isoformat()
    assert e["largest"]["weeks"] == round((REPORTS[-1] - REPORTS[69]).days / 7)
    # percentile of the change over one year: every report of [w - 364 days, w) is below 8.1
    window = REPORTS[(REPORTS >= REPORTS[-1] - pd.Timedelta(days=364)) & (REPORTS < REPORTS[-1])]
    assert e["change_pct_percentile"]["1y"] == {"pct": 100.0, "n": len(window)}
    assert e["change_pct_percentile"]["5y"] is None  # the history is about four years
    u = rows["Utilities"]
    assert u["dtc_rank"] == 1 and u["median_dtc"] == 5.0 and u["median_dtc_percentile"]["3y"]["pct"] == 100.0
    # Materials' dtc at the last report (k=99: 3.9) against the previous year's 3.0-3.9: all but the 3.9s below
    m = rows["Materials"]
    prev = 3.0 + (np.arange(len(REPORTS))[(REPORTS >= REPORTS[-1] - pd.Timedelta(days=364)) &
                                         (REPORTS < REPORTS[-1])] % 10) * 0.1
    assert m["median_dtc_percentile"]["1y"]["pct"] == round(100 * float((prev < 3.9 - 1e-12).mean()), 1)
    assert m["si_usd"] == 1e10 * (SECTORS.index("Materials") + 1)
    etfs = {x["ticker"]: x for x in si["etfs"]}
    assert set(etfs) == {"SPY", "XLE", "XLU"} and etfs["XLE"]["change_pct"] == 25.3
    assert etfs["SPY"]["shares"] == 1e8 + 99 and etfs["SPY"]["days_to_cover"] == pytest.approx(1.2)


def test_short_interest_sentences():
    at = REPORTS[-1] + pd.Timedelta(days=11)
    si = shorts.short_interest_section(F.public(si_panel(), at))
    s = prose.short_interest_sentences(si)
    day, pub = REPORTS[-1].date().isoformat(), (REPORTS[-1] + pd.Timedelta(days=10)).date().isoformat()
    assert s[0] == (f"Short interest rose in 7 of 11 sectors (FINRA report of {day}, published {pub}), most in "
                    "Energy (+8.1% at constant prices), Materials (+5.2%) and Utilities (+3.0%); it fell most in "
                    "Communication Services (-4.0%) and Information Technology (-2.5%).")
    assert s[1] == (f"Short interest in Energy rose for a 4th straight report, the largest rise in "
                    f"{prose.weeks_text(si['rows'][0]['largest']['weeks'])} (since {REPORTS[69].date()}).")
    # every sector rose at the previous report too (reports alternate in sign); Materials' and Utilities' rises
    # are the largest in the data; three such sentences at most
    assert s[2] == "Short interest in Materials rose for a 2nd straight report, the largest rise in the data (since " \
                   "2020-01-01)."
    assert s[3].startswith("Short interest in Utilities rose")
    assert s[4] == ("Median days to cover is highest in Utilities at 5.0 days, above every report of the past three "
                    "years (above every report over one year); lowest in Real Estate at 3.9 days.")
    assert s[5] == "Among the sector ETFs, short interest rose most in XLE (+25.3% in shares, 1.2 days to cover) " \
                   "and fell most in XLU (-10.2%)."
    assert s[6].startswith("SPY short interest: 100.0m shares ($50.0bn); -2.9% since the previous report; 1.20 days "
                           "to cover, the 16th percentile over three years")
    assert len(s) == 7


def test_missing_short_interest_data_omits_the_sentence():
    panel = si_panel()
    panel = panel[~panel["entity"].isin(["SPY", "XLE", "XLU"]) & (panel["metric"] != "si_median_dtc")]
    si = shorts.short_interest_section(panel)
    s = prose.short_interest_sentences(si)
    assert si["etfs"] == [] and all(r["median_dtc"] is None for r in si["rows"])
    assert not any(x.startswith(("Median days", "Among the sector ETFs", "SPY")) for x in s)
    assert shorts.short_interest_section(panel.iloc[:0]) is None
    assert prose.short_interest_sentences(None) == []


def members_table() -> pd.DataFrame:
    """Three reports of a 4-name basket: r1 A B C D, r2 A B C E (D left, E entered), r3 unchanged."""
    r = pd.to_datetime(["2024-01-12", "2024-01-31", "2024-02-15"])
    pub = pd.to_datetime(["2024-01-25 18:00", "2024-02-09 18:00", "2024-02-28 18:00"])
    rows = []
    for i, syms in enumerate(("ABCD", "ABCE", "ABCE")):
        for k, sym in enumerate(syms):
            rows.append((r[i], pub[i], k + 1, sym, 10.0 - k - i, "MOST_SHORT", "days_to_cover"))
    return pd.DataFrame(rows, columns=["settlement_date", "available_at", "rank", "symbol", "score", "basket", "by"])


def coverage_table() -> pd.DataFrame:
    return pd.DataFrame({"settlement_date": pd.to_datetime(["2024-01-12", "2024-01-31"]),
                         "available_at": pd.to_datetime(["2024-01-25 18:00", "2024-02-09 18:00"]),
                         "session": pd.to_datetime(["2024-01-26", "2024-02-12"]), "chosen": [4, 4],
                         "priced": [4, 3], "share": [1.0, 0.75], "missing": ["", "E"], "basket": "MOST_SHORT"})


def test_most_short_changes_point_in_time():
    m, c = members_table(), coverage_table()
    assert shorts.basket_changes(m, c, pd.Timestamp("2024-01-25 17:59")) is None
    first = shorts.basket_changes(m, c, pd.Timestamp("2024-02-09 17:59"))
    assert first["report"] == "2024-01-12" and "entered" not in first and first["coverage"]["share"] == 1.0
    pending = shorts.basket_changes(m, c, pd.Timestamp("2024-02-09 18:00"))
    assert pending["report"] == "2024-01-31" and pending["previous"] == "2024-01-12"
    assert pending["entered"] == [{"symbol": "E", "rank": 4, "days_to_cover": 6.0}]
    assert pending["left"] == [{"symbol": "D", "previous_rank": 4, "previous_days_to_cover": 7.0}]
    assert pending["coverage"] is None and pending["coverage_pending"] == "2024-02-12"  # bought at a later close
    done = shorts.basket_changes(m, c, pd.Timestamp("2024-02-12 16:00"))
    assert done["coverage"] == {"session": "2024-02-12", "chosen": 4, "priced": 3, "share": 0.75, "missing": ["E"]}
    s = prose.basket_change_sentences(done)
    assert s == ["At the FINRA report of 2024-01-31 (published 2024-02-09), 1 name entered the Most Short basket "
                 "(the 4 S&P 500 members with the highest days to cover): E (6.0 days); 1 left: D.",
                 "3 of its 4 names have prices at the 2024-02-12 rebalance (75%); without: E (left out of the "
                 "basket, never filled)."]
    same = shorts.basket_changes(m, c, pd.Timestamp("2024-03-01"))
    assert prose.basket_change_sentences(same)[0].endswith("was unchanged since 2024-01-31.")


# ----------------------------------------------------------------------------------------------------------
# real data


@pytest.fixture(scope="module")
def real(shared_data):
    from research.run import load_data

    return load_data(str(shared_data))


def test_real_baskets_and_most_short_changes(real, shared_data, tmp_path):
    """VIP vs Most Short over 1w/1m/ytd, and the names in and out at the 2025-07-15 report, checked against the
    basket ranking run again from the FINRA files."""
    from research.data import baskets
    from research.data.membership import load_membership
    from research.data.real import _short_interest

    b = brief(real, as_of="2025-07-30", out=tmp_path, formats=("json", "md"), models=False)
    bk = b.facts["baskets"]
    assert (bk["vip"], bk["most_short"]) == ("HF_VIP", "MOST_SHORT") and set(bk["periods"]) == {"1w", "1m", "ytd"}
    assert bk["periods"]["ytd"]["from"] == "2024-12-31"
    ch = b.facts["most_short_changes"]
    assert (ch["report"], ch["previous"], ch["size"]) == ("2025-07-15", "2025-06-30", 50)
    si, _ = _short_interest(shared_data.resolve())
    ranked = baskets.most_short_members(si, load_membership(shared_data.resolve()))
    now = ranked[ranked["settlement_date"] == "2025-07-15"].set_index("symbol")
    before = ranked[ranked["settlement_date"] == "2025-06-30"].set_index("symbol")
    assert {e["symbol"] for e in ch["entered"]} == set(now.index) - set(before.index)
    assert {e["symbol"] for e in ch["left"]} == set(before.index) - set(now.index)
    for e in ch["entered"]:
        assert e["days_to_cover"] == pytest.approx(now.at[e["symbol"], "score"])
    cov = ch["coverage"]
    assert cov["session"] == "2025-07-28" and cov["chosen"] == 50 and cov["priced"] == 50 - len(cov["missing"])
    assert b.sentences["baskets"][0].startswith("The VIP basket ")
    assert b.sentences["baskets"][1].startswith("At the FINRA report of 2025-07-15 (published 2025-07-25), ")
    md = (tmp_path / "brief.md").read_text()
    assert "| move | report | count | names (days to cover) |" in md
    assert f"| left | 2025-06-30 | {len(ch['left'])} | " in md
    # before the 2025-07-15 report's publication (2025-07-25 18:00) the brief reads the 2025-06-30 one
    early = brief(real, as_of="2025-07-25 17:59", models=False, formats=())
    assert early.facts["most_short_changes"]["report"] == "2025-06-30"


def test_real_short_interest_section(real):
    b = brief(real, as_of="2025-07-30", models=False, formats=(), weeks=3)
    es = b.facts["positioning"]["lev_money_net_pct_oi"]["markets"]["SPY"]  # the week table computes ES alone
    assert b.weeks.iloc[-1]["lev funds ES %OI"] == f"{es['value']:.1f}" and len(b.weeks) == 3
    assert b.weeks.iloc[-1]["ES pct 3y"] == f"{es['percentile']['3y']['pct']:.0f}"
    si = b.facts["short_interest"]
    assert si["report"] == "2025-07-15" and si["published"].startswith("2025-07-25 18:00")
    assert si["reported"] == 11 and [r["rank"] for r in si["rows"]] == list(range(1, 12))
    assert all(r["si_usd"] > 1e9 and r["median_dtc"] > 0 for r in si["rows"])
    assert si["rows"][0]["change_pct"] >= si["rows"][-1]["change_pct"]
    etfs = {e["ticker"]: e for e in si["etfs"]}
    assert etfs["SPY"]["shares"] == 113_295_755 and etfs["SPY"]["days_to_cover"] == pytest.approx(1.78, abs=0.01)
    assert etfs["XLK"]["shares"] == 6_689_022
    s = b.sentences["short_interest"]
    assert s[0].startswith("Short interest ") and "(FINRA report of 2025-07-15, published 2025-07-25)" in s[0]
    assert any(x.startswith("SPY short interest: 113.3m shares") for x in s)
    # 13F: the second quarter's filings are due 2025-08-14, so the brief of 2025-07-30 reads the first quarter's
    assert b.facts["crowding"]["quarter"] == "2025-03-31" and b.facts["crowding"]["previous"] is None
    assert b.sentences["crowding"][0].startswith("In the 13F filings for the quarter ending 2025-03-31 (")


def test_real_model_inputs_are_those_public_at_the_decision(real):
    """The default as-of is the latest CFTC week (2026) while the closes end in 2025-09: a timing model's inputs are
    the values public at its last decision, not the newer ones."""
    b = brief(real, formats=())
    m = next(x for x in b.facts["models"]["models"] if x["strategy"] == "cot_leveraged_funds")
    assert m["signal_kind"] == "inputs" and m["decided"] <= "2025-09-26" and b.facts["week"] >= "2026-01-01"
    assert m["signal"] and all(k.rsplit("(", 1)[1][:10] <= m["decided"] for k in m["signal"])
    assert "Short interest: the latest FINRA report public by the as-of is of 2025-07-15, published 377 days " \
           "before it; nothing later is in the data." in b.notes
    assert not any(n.startswith("Hedge-fund crowding: the latest") for n in b.notes)  # 2025 Q4, due 2026-02-17


def test_real_look_ahead(real):
    """Perturb everything published after the as-of — FINRA panel rows and basket members by their publication,
    basket coverage by its rebalance close, CFTC rows, closes of later sessions — and the brief's JSON (models
    included) is unchanged; the same perturbation seen after its publication does change it."""
    from research.data.calendar import decision_times
    from research.data.prices import Prices

    as_of = "2025-07-25 17:59"  # one minute before the 2025-07-15 FINRA report is public
    at = pd.Timestamp(as_of)
    base = brief(real, as_of=as_of, formats=())
    assert base.facts["short_interest"]["report"] == "2025-06-30"
    rng = np.random.default_rng(11)
    panel = real.panel.copy()
    later = panel["available_at"] > at
    assert later.sum() > 1000 and (panel.loc[later, "source"] == "finra_si").any()
    panel.loc[later, "value"] = panel.loc[later, "value"] * rng.uniform(-2, 3, later.sum()) + 1.0
    tables = {k: v.copy() for k, v in real.tables.items()}
    mem = tables["basket_members"]
    late = mem["available_at"] > at
    mem.loc[late, "symbol"] = rng.permutation(mem.loc[late, "symbol"].to_numpy())
    mem.loc[late, "score"] = rng.uniform(1, 20, late.sum())
    cov = tables["basket_coverage"]
    late = (cov["available_at"] > at) | (pd.Series(decision_times(pd.DatetimeIndex(cov["session"])), cov.index) > at)
    cov.loc[late, "priced"] = 0
    cov.loc[late, "share"] = 0.0
    after = pd.Series(decision_times(real.index) > at, index=real.index)
    p = real.prices
    bump = pd.DataFrame(rng.uniform(0.7, 1.3, p.close.shape), index=p.close.index, columns=p.close.columns)
    prices = Prices(p.close.where(~after, p.close * bump, axis=0), p.open.where(~after, p.open * bump, axis=0),
                    p.volume, p.source, p.notes)
    bent = dataclasses.replace(real, panel=panel, prices=prices, tables=tables)
    again = brief(bent, as_of=as_of, formats=())
    assert again.json() == base.json()
    assert json.loads(base.json())["most_short_changes"]["report"] == "2025-06-30"
    moved_base = brief(real, as_of="2025-07-25 18:00", models=False, formats=())
    moved = brief(bent, as_of="2025-07-25 18:00", models=False, formats=())
    assert moved.facts["short_interest"] != moved_base.facts["short_interest"]
    assert moved.facts["most_short_changes"] != moved_base.facts["most_short_changes"]


def test_a_spread_under_five_hundredths_of_a_point_reads_as_a_match():
    b = {"periods": {"1w": {"from": "2025-07-23", "vip": 0.0194, "most_short": 0.0195, "spread": -0.0001},
                     "1m": {"from": "2025-06-30", "vip": 0.05, "most_short": 0.02, "spread": 0.03}}}
    assert prose.basket_sentences(b) == ["The VIP basket matched the Most Short basket over the week and beat it by "
                                         "3.0 points over the month (VIP +1.9%, Most Short +1.9% over the week)."]


def thirteenf_rows() -> pd.DataFrame:
    """Two quarters: Information Technology crowding 2.0 then 2.2 (weight 0.38 -> 0.37), Health Care 0.2 (weight
    0.07 -> 0.082), Energy 0.5 (weight 0.05 both); 196 funds in the second quarter."""
    q = pd.to_datetime(["2025-09-30", "2025-12-31"])
    pub = pd.to_datetime(["2025-11-14 17:30", "2026-02-17 17:30"])
    vals = {"Information Technology": ((2.0, 0.38, 20), (2.2, 0.37, 20)), "Health Care": ((0.2, 0.07, 2),
            (0.2, 0.082, 2)), "Energy": ((0.5, 0.05, 1), (0.5, 0.05, 1))}
    rows = []
    for i in range(2):
        rows.append((q[i], pub[i], "BOOK", "hf_funds", 190.0 + 6 * i))
        for s, v in vals.items():
            c, w, n = v[i]
            rows += [(q[i], pub[i], s, "hf_crowding", c), (q[i], pub[i], s, "hf_weight", w),
                     (q[i], pub[i], s, "hf_top10_share", c / 10), (q[i], pub[i], s, "hf_vip_count", float(n))]
    out = pd.DataFrame(rows, columns=["as_of", "available_at", "entity", "metric", "value"])
    return out.assign(source="13f", units="")


def test_thirteenf_crowding_facts_and_sentences():
    from research.weekly.crowding import crowding_section

    panel = thirteenf_rows()
    c = crowding_section(F.public(panel, pd.Timestamp("2026-02-17 17:30")))
    assert (c["quarter"], c["previous"], c["funds"]) == ("2025-12-31", "2025-09-30", 196.0)
    assert [r["sector"] for r in c["rows"]] == ["Information Technology", "Energy", "Health Care"]
    assert c["rows"][0]["weight_change"] == pytest.approx(-1.0) and c["rows"][2]["weight_change"] == pytest.approx(1.2)
    assert prose.crowding_sentences(c) == [
        "In the 13F filings for the quarter ending 2025-12-31 (196 funds, public 2026-02-17), hedge funds' ten largest "
        "positions were most crowded in Information Technology (2.2 per fund, 20 VIP names), Energy (0.5 per fund, "
        "1 VIP name) and Health Care (0.2 per fund, 2 VIP names).",
        "Since the quarter ending 2025-09-30, their sector weight rose most in Health Care (+1.2 points to 8.2%) and "
        "fell most in Information Technology (-1.0 points to 37.0%)."]
    early = crowding_section(F.public(panel, pd.Timestamp("2026-02-17 17:29")))  # before the filing deadline
    assert early["quarter"] == "2025-09-30" and early["previous"] is None and len(prose.crowding_sentences(early)) == 1
    assert crowding_section(panel.iloc[:0]) is None
