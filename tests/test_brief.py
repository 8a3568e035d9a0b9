"""The weekly brief: facts and sentences of a hand-built prime-book export, point in time, every output written.

The export (`export_rows`) has 170 Friday weeks from 2021-01-08. Its last week was designed so that each fact has
a value worked out by hand (the comments give the arithmetic):
- BOOK gross leverage 200 + i % 10 up to week 165, then 212, 211, 208, 205.5: it fell 2.5 points, a third
  straight fall; 93 of the previous 156 weeks were below it (59.6%), 30 of the previous 52 (57.7%).
- BOOK net leverage 40 + i % 5, then 48 in the last week: a record, and a 4th straight rise (41, 42, 43, 48).
- No long/short ratio: its sentence is left out and the brief says so.
- Sector flows alternate in sign (+-100, 200, 300) except where set: Industrials 450 after -50, -50, 20, 20, 20
  (a 4-week buying streak after 2 selling weeks, the largest since the 500 of week 130: 39 weeks back), net
  exposure i % 10 then 0.5 (5 of the previous 52 weeks below: 9.6%; 15 of 156: 9.6%); Health Care net bought
  for 6 straight weeks; 8 of 11 sectors bought.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data.universe import SECTORS
from research.weekly import brief, prose
from research.weekly import facts as F

N = 170
WEEKS = pd.date_range("2021-01-08", periods=N, freq="7D")
LAST = {"Industrials": 450.0, "Information Technology": 400.0, "Health Care": 300.0, "Energy": 250.0,
        "Financials": 200.0, "Materials": 100.0, "Utilities": 60.0, "Real Estate": 20.0,
        "Communication Services": -100.0, "Consumer Discretionary": -200.0, "Consumer Staples": -300.0}


def flows() -> pd.DataFrame:
    i = np.arange(N)
    base = np.where(i % 2 == 0, 1.0, -1.0) * 100.0 * (1 + i % 3)
    cols = {s: base.copy() for s in SECTORS}
    cols["Industrials"][130] = 500.0
    cols["Industrials"][164:169] = [-50.0, -50.0, 20.0, 20.0, 20.0]
    cols["Health Care"][163:169] = [-30.0, 30.0, 30.0, 30.0, 30.0, 30.0]
    f = pd.DataFrame(cols, index=WEEKS)
    f.loc[WEEKS[160], "Information Technology"] = 500.0
    f.loc[WEEKS[-1], list(LAST)] = list(LAST.values())
    return f


def export_rows() -> pd.DataFrame:
    i = np.arange(N)
    gross = 200.0 + i % 10
    gross[166:] = [212.0, 211.0, 208.0, 205.5]
    net = 40.0 + i % 5
    net[-1] = 48.0
    rows = []
    for k, w in enumerate(WEEKS):
        rows.append((w, "BOOK", "gross_leverage", gross[k], "pct_equity"))
        rows.append((w, "BOOK", "net_leverage", net[k], "pct_equity"))
    f = flows()
    for s in SECTORS:
        for w, v in f[s].items():
            rows += [(w, s, "net_flow", v, "usd_mn"), (w, s, "long_buys", 100.0 + max(v, 0.0), "usd_mn"),
                     (w, s, "long_sells", -50.0, "usd_mn"), (w, s, "short_sales", -100.0 - max(-v, 0.0), "usd_mn"),
                     (w, s, "short_covers", 50.0, "usd_mn")]
    ne = (i % 10).astype(float)
    ne[-1] = 0.5
    rows += [(w, "Industrials", "net_exposure", ne[k], "pct_gross") for k, w in enumerate(WEEKS)]
    out = pd.DataFrame(rows, columns=["as_of", "sector", "metric", "value", "units"])
    out["as_of"] = out["as_of"].dt.strftime("%Y-%m-%d")
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pb") / "book.csv"
    export_rows().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def known(export):
    return brief(export)


def d(k: int) -> str:
    return WEEKS[k].date().isoformat()


def test_definitions_on_small_series():
    s = pd.Series([1.0, 3.0, 2.0, 5.0, 4.0], index=pd.date_range("2024-01-05", periods=5, freq="7D"))
    assert F.percentile(s, 4) == {"pct": 75.0, "n": 4}  # 1, 3, 2 of 1, 3, 2, 5 are below 4
    assert F.percentile(s, 5) is None  # the history does not reach back five weeks
    assert F.since(s, True) == {"since": "2024-01-26", "weeks": 1, "record": False, "first": "2024-01-05"}
    assert F.since(s, False)["since"] == "2024-01-19"
    ties = pd.Series([4.0, 4.0], index=s.index[:2])
    assert F.percentile(ties, 1) == {"pct": 0.0, "n": 1}  # strictly below: a tie does not count
    assert [prose.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    assert [prose.article(n) for n in (8, 11, 18, 80, 3, 28)] == ["an", "an", "an", "an", "a", "a"]


def test_book_facts_and_json(known):
    f = known.facts
    assert f["week"] == d(N - 1)
    g = f["book"]["levels"]["gross_leverage"]
    assert g["value"] == 205.5 and g["change"] == -2.5 and g["streak"] == -3
    assert g["percentile"] == {"1y": {"pct": 57.7, "n": 52}, "3y": {"pct": 59.6, "n": 156}, "5y": None}
    assert g["low"]["since"] == d(165) and g["low"]["weeks"] == 4
    n = f["book"]["levels"]["net_leverage"]
    assert n["change"] == 5.0 and n["streak"] == 4 and n["high"]["record"] and n["high"]["first"] == d(0)
    assert n["percentile"]["3y"] == {"pct": 100.0, "n": 156}
    assert f["book"]["levels"]["long_short_ratio"] is None
    fl = f["book"]["flow"]
    assert f["book"]["flow_basis"] == "sum of sectors"
    assert fl["value"] == sum(LAST.values()) == 1180.0 and fl["streak"] == 2
    assert fl["legs"]["long_buys"] == 1100.0 + 1780.0 and fl["legs"]["short_sales"] == -1700.0
    assert fl["legs"]["buy_sell_ratio"] == pytest.approx(2880.0 / 1700.0)
    js = json.loads(known.json())
    assert js["book"]["levels"]["gross_leverage"]["percentile"]["3y"]["pct"] == 59.6
    assert js["sentences"]["book"] == known.sentences["book"]


def test_book_sentences(known):
    assert known.sentences["book"] == [
        "Hedge funds net bought US equities for a 2nd straight week ($1.2bn), long buys outpacing short sales "
        "1.7 to 1.",
        "Gross leverage fell 2.5 points to 205.5%, a 3rd straight fall; the 60th percentile over three years "
        "(58th over one year).",
        "Net leverage rose 5.0 points to 48.0%, a 4th straight rise; above every week of the past three years "
        "(above every week over one year); the highest in the data (since 2021-01-08).",
    ]
    assert "Book: long_short_ratio not reported for the week ending " + d(N - 1) + "." in known.notes


def test_sector_facts_and_sentences(known):
    sec = known.facts["sectors"]
    assert (sec["bought"], sec["sold"], sec["reported"]) == (8, 3, 11)
    rows = {r["sector"]: r for r in sec["rows"]}
    assert [r["sector"] for r in sec["rows"]][:4] == ["Industrials", "Information Technology", "Health Care",
                                                       "Energy"]
    ind = rows["Industrials"]
    assert ind["rank"] == 1 and ind["streak"] == 4 and ind["buy_sell_ratio"] == 5.5
    assert ind["largest"] == {"since": d(130), "weeks": 39, "record": False, "first": d(0)}
    assert ind["net_exposure"] == 0.5 and ind["net_exposure_pct"]["1y"] == {"pct": 9.6, "n": 52}
    assert ind["net_exposure_pct"]["3y"] == {"pct": 9.6, "n": 156}
    assert ind["flags"] == ["fresh_buying_under_owned"]
    assert rows["Health Care"]["streak"] == 6 and rows["Consumer Staples"]["rank"] == 11
    assert rows["Consumer Staples"]["streak"] == -1 and rows["Information Technology"]["largest"]["weeks"] == 9
    assert known.sentences["sectors"] == [
        "8 of 11 sectors were net bought, led by Industrials, Information Technology, Health Care and Energy.",
        f"Industrials saw the largest net buying in 39 weeks (since {d(130)}), long buys outpacing short sales "
        "5.5 to 1, while its net exposure stays low against the past year (10th percentile).",
        "Health Care was net bought for a 6th straight week.",
        "Fresh buying in an under-owned sector (below the 30th percentile): Industrials (4 weeks of net buying "
        "after at least 2 of net selling; net exposure at the 10th percentile over three years).",
    ]


def test_a_file_alone_has_no_baskets_or_models_and_says_so(known):
    assert known.facts["models"] is None and known.sentences["models"] == []
    assert any(n.startswith("What the models say: the strategies need prices") for n in known.notes)
    assert any(n.startswith("Futures positioning: no CFTC") for n in known.notes)


def test_missing_data_omits_the_sentence(tmp_path):
    rows = export_rows()
    last = WEEKS[-1].strftime("%Y-%m-%d")
    rows = rows[~((rows["as_of"] == last) & (rows["metric"] == "gross_leverage"))]
    path = tmp_path / "gap.csv"
    rows.to_csv(path, index=False)
    b = brief(path)
    assert b.facts["book"]["levels"]["gross_leverage"] is None
    assert not any(s.startswith("Gross leverage") for s in b.sentences["book"])
    assert any("gross_leverage" in n for n in b.notes)


def test_a_missing_week_breaks_the_change_and_the_streak(tmp_path):
    rows = export_rows()
    gone = (rows["as_of"] == d(N - 2)) & rows["sector"].isin(["BOOK", "Health Care"])
    path = tmp_path / "hole.csv"
    rows[~gone].to_csv(path, index=False)
    b = brief(path)
    g = b.facts["book"]["levels"]["gross_leverage"]
    assert g["change"] is None and g["streak"] is None and g["previous"] is None
    assert g["percentile"]["3y"] == {"pct": 60.0, "n": 155}  # 93 of the 155 weeks left below 205.5 (208 gone)
    assert b.sentences["book"][1] == ("Gross leverage is 205.5%; the 60th percentile over three years "
                                      "(59th over one year).")  # 30 of 51
    hc = {r["sector"]: r for r in b.facts["sectors"]["rows"]}["Health Care"]
    assert hc["streak"] == 1
    assert not any(s.startswith("Health Care was net bought") for s in b.sentences["sectors"])


def test_as_of_uses_only_what_was_public_then(tmp_path):
    """The brief as of week 150's publication is unchanged when every row published later is perturbed, and a
    revision counts only once it is public."""
    rows = export_rows()
    rows["available_at"] = (pd.to_datetime(rows["as_of"]) + pd.Timedelta(days=3, hours=9)).dt.strftime(
        "%Y-%m-%d %H:%M")
    at = f"{(WEEKS[150] + pd.Timedelta(days=3)).date()} 12:00"
    a = tmp_path / "a" / "book.csv"
    a.parent.mkdir()
    rows.to_csv(a, index=False)
    base = brief(a, as_of=at)
    assert base.facts["week"] == d(150)
    rng = np.random.default_rng(7)
    later = pd.to_datetime(rows["available_at"]) > pd.Timestamp(at)
    bent = rows.copy()
    bent.loc[later, "value"] = bent.loc[later, "value"] * rng.uniform(-3, 3, later.sum()) + 1.0
    revision = bent[(bent["as_of"] == d(150)) & (bent["metric"] == "gross_leverage")].assign(
        value=999.0, available_at=f"{(WEEKS[150] + pd.Timedelta(days=5)).date()} 09:00")
    b = tmp_path / "b" / "book.csv"
    b.parent.mkdir()
    pd.concat([bent, revision]).to_csv(b, index=False)
    again = brief(b, as_of=at)
    assert again.json() == base.json()
    assert again.sentences == base.sentences
    later_view = brief(b, as_of=f"{(WEEKS[150] + pd.Timedelta(days=5)).date()} 10:00")
    assert later_view.facts["book"]["levels"]["gross_leverage"]["value"] == 999.0


def test_synthetic_look_ahead_and_models(market):
    """On the synthetic market: perturb every panel row published after the as-of and every later close; the
    brief (models included) does not move."""
    import dataclasses

    from research.data.calendar import decision_times
    from research.data.prices import Prices

    at = F.moment("2024-06-12", market.index[-1])
    base = brief(market, as_of="2024-06-12")
    rng = np.random.default_rng(3)
    panel = market.panel.copy()
    later = panel["available_at"] > at
    panel.loc[later, "value"] = panel.loc[later, "value"] * rng.uniform(0.5, 1.5, later.sum())
    after = pd.Series(decision_times(market.index) > at, index=market.index)
    bump = pd.DataFrame(rng.uniform(0.8, 1.2, market.prices.close.shape), index=market.index,
                        columns=market.prices.close.columns)
    p = market.prices
    prices = Prices(p.close.where(~after, axis=0).fillna(p.close * bump), p.open.where(~after, axis=0).fillna(
        p.open * bump), p.volume, p.source, p.notes)
    bent = dataclasses.replace(market, panel=panel, prices=prices)
    again = brief(bent, as_of="2024-06-12")
    assert again.json() == base.json()
    models = base.facts["models"]["models"]
    assert {m["strategy"] for m in models} >= {"fresh_flow_low_exposure", "crowding_overlay", "leverage_regime"}
    for m in models:
        assert m["decided"] <= "2024-06-12" and abs(sum(m["weights"].values())) <= 1.0 + 1e-9
    assert base.facts["baskets"]["periods"]["1w"]["from"] <= "2024-06-05"
    assert base.sentences["models"] and base.sentences["baskets"][0].startswith("The VIP basket ")


def test_synthetic_end_to_end_writes_four_formats(market, tmp_path):
    b = brief(market, out=tmp_path, weeks=3)
    assert set(b.files) == {"json", "md", "html", "pdf"}
    js = json.loads((tmp_path / "brief.json").read_text())
    assert js["week"] == b.facts["week"] and len(js["weeks"]) == 3
    md = (tmp_path / "brief.md").read_text()
    for head in ("## Book", "## Sectors", "## Baskets", "## What the models say", "## Week by week"):
        assert head in md
    assert b.sentences["book"][0] in md
    page = (tmp_path / "brief.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "http://" not in page and "https://" not in page
    assert (tmp_path / "brief.pdf").read_bytes()[:5] == b"%PDF-"


def test_real_data(shared_data, tmp_path):
    from research.run import load_data

    b = brief(load_data(shared_data), as_of="2025-06-30", out=tmp_path, formats=("json", "md"))
    pos = b.facts["positioning"]["lev_money_net_pct_oi"]
    assert pos["as_of"] == "2025-06-24" and "SPY" in pos["markets"]
    assert any(n.startswith("Book and Sectors: no prime-book") for n in b.notes)
    assert b.sentences["positioning"][0].startswith("Leveraged funds' net position in E-mini S&P 500 ")
    assert {m["strategy"] for m in b.facts["models"]["models"]} >= {"cot_leveraged_funds"}
    assert (tmp_path / "brief.md").exists()


def test_bad_as_of_is_a_clear_error(export):
    from research.errors import ConfigError, DataError

    with pytest.raises(DataError, match="nothing in prime book .* was public by then"):
        brief(export, as_of="2020-06-01")
    with pytest.raises(ConfigError, match="is not a date"):
        brief(export, as_of="last tuesday")


def test_models_link_their_latest_tearsheet_on_the_same_data(market, tmp_path):
    from research.weekly.models import model_section

    for stamp, data in (("20240101T000000Z", market.name), ("20240301T000000Z", market.name),
                        ("20240401T000000Z", "real(elsewhere)")):
        run = tmp_path / "fresh_flow_low_exposure" / stamp
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"data": data}))
        (run / "tearsheet.html").write_text("<html></html>")
    at = F.moment("2024-06-12", market.index[-1])
    got = {m["strategy"]: m["tearsheet"] for m in model_section(market, at, runs=tmp_path)["models"]}
    assert got["fresh_flow_low_exposure"] == str(tmp_path / "fresh_flow_low_exposure" / "20240301T000000Z" /
                                                 "tearsheet.html")
    assert got["crowding_overlay"] is None


def test_cli_brief(export, tmp_path, capsys):
    from research.cli import main

    assert main(["brief", "--data", str(export), "--out", str(tmp_path), "--weeks", "2",
                 "--as-of", d(N - 1)]) == 0  # the Friday's close: the week is not public until Monday
    out = capsys.readouterr().out
    assert f"Weekly flow brief: week ending {d(N - 2)}" in out
    assert {p.name for p in tmp_path.iterdir()} == {"brief.json", "brief.md", "brief.html", "brief.pdf"}
    assert len(json.loads((tmp_path / "brief.json").read_text())["weeks"]) == 2
    assert main(["brief", "--data", str(tmp_path / "nope.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
