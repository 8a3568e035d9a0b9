"""13F holdings: messy values, filing-deadline timing, the VIP basket and sector crowding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data.gics import load_gics, load_gics_snapshots
from research.data.panel import align
from research.data.thirteenf import (
    COLUMNS_13F,
    SOURCE,
    filing_deadlines,
    load_13f_dir,
    parse_delta,
    parse_money,
    parse_portfolio_pct,
    quarter_end,
    read_13f,
    thirteenf_panel,
    top_holdings,
    vip_basket,
)
from research.errors import DataError

HEADER = ",".join(COLUMNS_13F)


@pytest.fixture(scope="module")
def real_gics(shared_data):
    return load_gics(shared_data)


@pytest.fixture(scope="module")
def q34(shared_data) -> pd.DataFrame:
    return load_13f_dir(shared_data / "13f", pattern="holdings_2025Q[34].csv")


@pytest.fixture(scope="module")
def q4(q34) -> pd.DataFrame:
    return q34[q34.quarter == "2025Q4"].reset_index(drop=True)


@pytest.mark.parametrize("text, value", [("30.01M", 30.01e6), ("521.15K", 521_150.0), ("1.2B", 1.2e9),
                                         ("1.57T", 1.57e12), ("-2.47M", -2.47e6), ("107.46", 107.46), ("0", 0.0)])
def test_parse_money(text, value):
    assert parse_money(text) == pytest.approx(value)


def test_parse_delta_and_portfolio_share():
    assert parse_delta("NEW")[0] == "new" and np.isnan(parse_delta("NEW")[1])
    assert parse_delta("CLOSE") == ("close", -100.0)
    assert parse_delta("NO CHANGE") == ("unchanged", 0.0)
    assert parse_delta("+49.2%") == ("change", 49.2) and parse_delta("-2.5%") == ("change", -2.5)
    assert parse_portfolio_pct("7.1%")[0] == 7.1
    pct, below = parse_portfolio_pct("<.01%")
    assert np.isnan(pct) and below == 0.01  # censored, not invented
    for bad, fn in (("30.01X", parse_money), ("GROWN", parse_delta), ("7.1", parse_portfolio_pct)):
        with pytest.raises(ValueError):
            fn(bad)


def test_quarter_end_and_filing_deadline():
    assert quarter_end("2025Q1") == pd.Timestamp("2025-03-31")
    got = filing_deadlines([quarter_end(f"2025Q{q}") for q in range(1, 5)])
    # Q4: 2026-02-14 is a Saturday and 02-16 Presidents' Day, so the deadline is Tuesday 02-17.
    assert list(got.strftime("%Y-%m-%d %H:%M")) == ["2025-05-15 17:30", "2025-08-14 17:30", "2025-11-14 17:30",
                                                    "2026-02-17 17:30"]


def test_real_file_parses_every_row(q4, shared_data):
    n_lines = sum(1 for _ in open(shared_data / "13f" / "holdings_2025Q4.csv", encoding="utf-8")) - 1
    assert len(q4) == n_lines - q4.fund.nunique()  # one Total row per fund dropped
    first = q4.iloc[0]
    assert (first.fund, first.ticker, first.value, first.delta_kind) == ("3G", "AMZN", 30.01e6, "new")
    assert set(q4.delta_kind) == {"new", "close", "unchanged", "change"}
    assert (q4.loc[q4.delta_kind == "close", "shares"] == 0).all()
    assert q4.available_at.eq(pd.Timestamp("2026-02-17 17:30")).all()
    garbled = q4[q4.company.str.startswith("PALADIN")]
    assert list(garbled.ticker) == ["PDN"]


def test_top_holdings_are_each_funds_ten_largest_open_positions(q4):
    top = top_holdings(q4)
    assert top.groupby("fund").size().max() == 10
    g3 = top[top.fund == "3G"]
    open3 = q4[(q4.fund == "3G") & (q4.shares > 0)].nlargest(10, "value")
    assert set(g3.cusip) == set(open3.cusip)
    assert (top.shares > 0).all()


def test_vip_basket_counts_top10_appearances(q4, real_gics):
    vip = vip_basket(q4, real_gics, n=50)
    assert len(vip) == 50 and list(vip["rank"]) == list(range(1, 51))
    assert vip.iloc[0].ticker == "NVDA"
    top = top_holdings(q4)
    assert vip.iloc[0].funds == top[top.ticker == "NVDA"].fund.nunique()
    assert vip.funds.is_monotonic_decreasing
    assert vip.sector.notna().all()  # only stocks placeable in a sector
    every = vip_basket(q4, None, n=50)
    assert every.sector.isna().all() and len(every) == 50


def test_panel_crowding_and_timing(q34, real_gics):
    panel = thirteenf_panel(q34, real_gics)
    assert set(panel.source) == {SOURCE}
    v = panel.set_index(["as_of", "entity", "metric"])["value"]
    q3 = pd.Timestamp("2025-09-30")
    crowd = v.xs((q3, "hf_crowding"), level=["as_of", "metric"])
    assert crowd.idxmax() == "Information Technology"
    share = v.xs((q3, "hf_top10_share"), level=["as_of", "metric"])
    weight = v.xs((q3, "hf_weight"), level=["as_of", "metric"])
    assert weight.sum() == pytest.approx(1.0)
    assert 0.3 < share.sum() < 1  # the rest of the top-10 slots hold names without a sector (ETFs, non-S&P)
    slots = (top_holdings(q34).quarter == "2025Q3").sum()
    assert np.allclose(share / crowd, v[q3, "BOOK", "hf_funds"] / slots)
    assert v[q3, "HF_VIP", "hf_vip_members"] == 50
    assert v.xs((q3, "hf_vip_count"), level=["as_of", "metric"]).sum() == 50
    assert 0 < v[q3, "BOOK", "hf_mapped_share"] < 1
    idx = pd.DatetimeIndex(["2026-02-17", "2026-02-18"])  # the Q4 deadline is 2026-02-17 17:30
    seen = align(panel, idx, "hf_crowding", entities=["Information Technology"], field="as_of")
    assert seen.iloc[0, 0] == q3 and seen.iloc[1, 0] == pd.Timestamp("2025-12-31")


def test_crowding_on_a_small_file(tmp_path):
    snap = tmp_path / "g.csv"
    snap.write_text("snapshot_date,symbol,gics_sector\n2024-12-31,AAA,Energy\n2024-12-31,BBB,Utilities\n")
    rows = [f"2025Q1,F{f},C{f}{k},{t},{t} CO,100,0,{v}M,0,NO CHANGE,10%"
            for f in range(2) for k, (t, v) in enumerate((("AAA", 5), ("BBB", 3 - f), ("SPY", 9)))]
    path = tmp_path / "holdings_2025Q1.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    panel = thirteenf_panel(read_13f(path), load_gics_snapshots(snap), n=1, top=2)
    v = panel.set_index(["entity", "metric"])["value"]
    assert v["Energy", "hf_crowding"] == 1.0 and v["Utilities", "hf_crowding"] == 0.0  # SPY took a top-2 slot
    assert v["Energy", "hf_vip_count"] == 1 and v["Utilities", "hf_vip_count"] == 0
    assert v["Energy", "hf_weight"] == pytest.approx(10 / 15)
    assert v["BOOK", "hf_mapped_share"] == pytest.approx(15 / 33)


# --- malformed -----------------------------------------------------------------------------------------------------

def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "holdings_2025Q1.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


GOOD = "2025Q1,3G,146869102,CVNA,CARVANA CO,140000,105000,29.27M,21.95M,+300%,8.4%"


def test_bad_value_delta_and_quarter_are_located(tmp_path):
    path = _write(tmp_path, GOOD, GOOD.replace("3G", "X").replace("29.27M", "29.27Q"),
                  GOOD.replace("3G", "Y").replace("+300%", "UP"), GOOD.replace("2025Q1", "2025Q5"))
    with pytest.raises(DataError) as err:
        read_13f(path)
    msg = str(err.value)
    assert "holdings_2025Q1.csv: 3 problems" in msg
    assert "line 3, column 8 ('Value'): '29.27Q' is not an amount" in msg
    assert "line 4, column 10 ('Delta'): 'UP' is not NEW, CLOSE" in msg
    assert "line 5, column 1 ('Quarter'): '2025Q5' is not a quarter" in msg


def test_truncated_line_wrong_count_and_duplicates(tmp_path):
    path = _write(tmp_path, GOOD, GOOD[:40])
    with pytest.raises(DataError, match=r"line 3: 6 fields where the header has 11: columns from 7 \('Delta_Shares'\)"):
        read_13f(path)
    path = _write(tmp_path, GOOD + ",x")
    with pytest.raises(DataError, match=r"line 2: 12 fields where the header has 11"):
        read_13f(path)
    path = _write(tmp_path, GOOD, GOOD)
    with pytest.raises(DataError, match=r"line 3, column 3 \('CUSIP'\): duplicate row: 3G 2025Q1 CUSIP 146869102 "
                                        r"also on line 2"):
        read_13f(path)
    (tmp_path / "h.csv").write_text("Quarter,Fund,Ticker\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['CUSIP'"):
        read_13f(tmp_path / "h.csv")
