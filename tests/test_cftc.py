"""CFTC Traders in Financial Futures: every published variant, malformed input, release timing, coverage."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data.cftc import (
    CFTC_ENTITIES,
    MARKETS,
    SOURCE,
    SOURCE_COMBINED,
    TFF_COLUMNS,
    cftc_coverage,
    cftc_presence,
    load_cftc,
    load_cftc_dir,
    read_tff,
    release_time,
    release_times,
)
from research.data.panel import align
from research.errors import DataError

SPX_OLD = "E-MINI S&P 500 STOCK INDEX - CHICAGO MERCANTILE EXCHANGE"
SPX_NEW = "E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE"
_TEXT = {"Market_and_Exchange_Names", "Contract_Units", "CFTC_Contract_Market_Code_Quotes",
         "CFTC_Market_Code_Quotes", "CFTC_Commodity_Code_Quotes", "CFTC_SubGroup_Code", "FutOnly_or_Combined"}


def tff_row(code: str, day: str, market: str = SPX_NEW, kind: str = "FutOnly", **values: object) -> dict[str, str]:
    """One TFF row as the CFTC writes it: space-padded numbers, '.' where the file has no value."""
    d = pd.Timestamp(day)
    row = {c: f"{0:>8}" for c in TFF_COLUMNS}
    row.update({"Market_and_Exchange_Names": market, "As_of_Date_In_Form_YYMMDD": d.strftime("%y%m%d"),
                "Report_Date_as_YYYY-MM-DD": d.strftime("%Y-%m-%d"), "CFTC_Contract_Market_Code": code,
                "CFTC_Market_Code": "CME ", "CFTC_Region_Code": "00", "CFTC_Commodity_Code": "138 ",
                "Open_Interest_All": f"{2_000_000:>8}", "Lev_Money_Positions_Long_All": f"{300_000:>8}",
                "Lev_Money_Positions_Short_All": f"{500_000:>8}", "Asset_Mgr_Positions_Long_All": f"{900_000:>8}",
                "Asset_Mgr_Positions_Short_All": f"{200_000:>8}", "Dealer_Positions_Long_All": f"{100_000:>8}",
                "Dealer_Positions_Short_All": f"{400_000:>8}", "Pct_of_OI_Lev_Money_Long_All": f"{15.0:>7.1f}",
                "Pct_of_OI_Lev_Money_Short_All": f"{25.0:>7.1f}", "Change_in_Open_Interest_All": ".",
                "Contract_Units": "($50 X S&P 500 INDEX)", "CFTC_Contract_Market_Code_Quotes": code,
                "CFTC_Market_Code_Quotes": "CME ", "CFTC_Commodity_Code_Quotes": "138 ",
                "CFTC_SubGroup_Code": "F20", "FutOnly_or_Combined": kind})
    row.update({k: str(v) for k, v in values.items()})
    return row


def write_tff(path: Path, rows: list[dict[str, str]], *, header: bool = True, newline: str = "\n",
              columns: tuple[str, ...] = TFF_COLUMNS, bom: bool = False, quote_text: bool = True) -> Path:
    """Write rows in the CFTC text layout (quoted header and text fields, bare numbers)."""
    def fmt(c: str, v: str) -> str:
        return f'"{v}"' if quote_text and c in _TEXT else v
    lines = []
    if header:
        lines.append(",".join(f'"{c}"' for c in columns))
    lines += [",".join(fmt(c, r.get(c, "")) for c in columns) for r in rows]
    path.write_bytes((("\ufeff" if bom else "") + newline.join(lines) + newline).encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def real(shared_data) -> pd.DataFrame:
    t0 = time.perf_counter()
    panel = load_cftc_dir(shared_data / "cftc_tff")
    panel.attrs["seconds"] = time.perf_counter() - t0
    return panel


def one(panel: pd.DataFrame, entity: str, metric: str, as_of: str) -> pd.Series:
    sel = panel[(panel.entity == entity) & (panel.metric == metric) & (panel.as_of == pd.Timestamp(as_of))]
    assert len(sel) == 1, sel
    return sel.iloc[0]


# --- real files -----------------------------------------------------------------------------------------------

def test_columns_match_the_official_header(shared_data):
    with open(shared_data / "cftc_tff" / "FinFut2017.txt", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == TFF_COLUMNS


def test_real_directory_loads_fast_with_known_values(real):
    assert real.attrs["seconds"] < 15
    assert set(real.entity) <= CFTC_ENTITIES and set(real.source) == {SOURCE}
    r = one(real, "SPY", "lev_money_net", "2017-12-26")
    assert r.value == 420751 - 570387 and r.units == "contracts"
    assert r.available_at == pd.Timestamp("2017-12-29 15:30")
    assert one(real, "SPY", "lev_money_pct_oi_long", "2017-12-26").value == pytest.approx(13.7)
    assert one(real, "SPY", "asset_mgr_long", "2017-12-26").value == 1539279
    assert one(real, "SPY", "open_interest", "2017-12-26").value == 3061310
    net_pct = one(real, "SPY", "lev_money_net_pct_oi", "2017-12-26").value
    assert net_pct == pytest.approx(100 * (420751 - 570387) / 3061310)
    for m in ("lev_money_short", "asset_mgr_net", "dealer_net", "dealer_pct_oi_short"):
        assert m in set(real.metric)


def test_market_rename_is_keyed_on_the_code(real):
    spy = real[(real.entity == "SPY") & (real.metric == "open_interest")].set_index("as_of")
    assert pd.Timestamp("2022-02-01") in spy.index and pd.Timestamp("2022-02-08") in spy.index
    assert spy.index.is_unique and len(spy) == 501  # every week 2017-01-03 .. 2026-08-04, both names


def test_week_of_2020_03_17_is_not_visible_before_its_release(real):
    idx = pd.DatetimeIndex(["2020-03-19", "2020-03-20"])
    seen = align(real, idx, "lev_money_net", entities=["SPY"], field="as_of")["SPY"]
    assert seen.iloc[0] == pd.Timestamp("2020-03-10")
    assert seen.iloc[1] == pd.Timestamp("2020-03-17")
    val = align(real, idx, "lev_money_net", entities=["SPY"])["SPY"]
    assert val.iloc[1] == one(real, "SPY", "lev_money_net", "2020-03-17").value
    assert val.iloc[0] == one(real, "SPY", "lev_money_net", "2020-03-10").value


def test_release_rule_holds_on_every_real_week(real):
    weeks = pd.DatetimeIndex(sorted(real.as_of.unique()))
    rel = release_times(weeks)
    assert (rel - weeks >= pd.Timedelta(days=3, hours=15, minutes=30)).all()
    assert ((rel - rel.normalize()) == pd.Timedelta(hours=15, minutes=30)).all()
    assert (rel.day_of_week < 5).all()
    # Outside the two shutdowns every report is out within a week of its as-of date.
    normal = ~(((weeks >= "2018-12-22") & (weeks <= "2019-03-05")) | ((weeks >= "2025-09-30") & (weeks <= "2026-01-13")))
    assert ((rel - weeks)[normal] <= pd.Timedelta(days=7, hours=16)).all()


def test_select_sector_futures_are_sparse_and_reported_not_filled(real):
    cov = cftc_coverage(real).set_index("entity")
    assert cov.loc["SPY", "share_of_all_weeks"] == 1.0 and cov.loc["SPY", "code"] == "13874A"
    assert cov.loc["XLY", "weeks"] == 6 and cov.loc["XLY", "missing_in_span"] > 300
    assert cov.loc["RTY", "first"] == pd.Timestamp("2017-08-15")
    pres = cftc_presence(real)
    assert pres.shape == (501, len(cov)) and pres["XLY"].sum() == 6
    xly = real[(real.entity == "XLY") & (real.metric == "open_interest")]
    assert len(xly) == 6  # no filled weeks


# --- release timing ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_of, released", [
    ("2020-03-17", "2020-03-20"),  # ordinary week
    ("2024-01-16", "2024-01-19"),  # MLK Monday before: no delay
    ("2024-06-18", "2024-06-24"),  # Juneteenth Wednesday
    ("2024-07-02", "2024-07-08"),  # Independence Day Thursday
    ("2024-11-26", "2024-12-02"),  # Thanksgiving
    ("2024-12-24", "2024-12-30"),  # Christmas Wednesday
    ("2021-06-15", "2021-06-21"),  # Juneteenth first observed Friday 2021-06-18
    ("2017-07-03", "2017-07-07"),  # Monday data (Tuesday holiday), Friday release
    ("2018-12-24", "2019-02-01"),  # 2018-19 shutdown catch-up
    ("2025-09-30", "2025-11-19"),  # 2025 shutdown catch-up
    ("2026-01-20", "2026-01-23"),  # back to normal
])
def test_release_dates(as_of, released):
    assert release_time(as_of) == pd.Timestamp(released) + pd.Timedelta(hours=15, minutes=30)


def test_2013_shutdown_weeks_need_explicit_release_dates():
    with pytest.raises(DataError, match="2013-10-08.*release_overrides"):
        release_times(["2013-10-08"])
    got = release_times(["2013-10-08"], {"2013-10-08": "2013-10-29 15:30"})
    assert got[0] == pd.Timestamp("2013-10-29 15:30")


# --- variants -----------------------------------------------------------------------------------------------------

def test_headerless_weekly_file_equals_the_headed_file(tmp_path):
    rows = [tff_row("13874A", "2024-03-05"), tff_row("209742", "2024-03-05", market="NASDAQ MINI - CME")]
    headed = load_cftc(write_tff(tmp_path / "FinFut24.txt", rows))
    weekly = load_cftc(write_tff(tmp_path / "FinFutWk.txt", rows, header=False))
    pd.testing.assert_frame_equal(headed, weekly)
    assert set(weekly.entity) == {"SPY", "NDX"}
    assert one(weekly, "SPY", "lev_money_net", "2024-03-05").value == -200_000


def test_futures_and_options_combined_is_a_separate_source(tmp_path):
    fut = write_tff(tmp_path / "FinFut24.txt", [tff_row("13874A", "2024-03-05")])
    com = write_tff(tmp_path / "FinCom24.txt", [tff_row("13874A", "2024-03-05", kind="Combined",
                                                         Lev_Money_Positions_Long_All=" 350000")])
    both = pd.concat([load_cftc(fut), load_cftc(com)], ignore_index=True)
    assert set(both.source) == {SOURCE, SOURCE_COMBINED}
    assert read_tff(com)["variant"].iloc[0] == "combined"
    net = both[(both.metric == "lev_money_net")].set_index("source")["value"]
    assert list(net.index) == [SOURCE] and net[SOURCE] == -200_000  # never mixed with the combined rows
    com_net = both[(both.metric == "lev_money_net_combined")].set_index("source")["value"]
    assert list(com_net.index) == [SOURCE_COMBINED] and com_net[SOURCE_COMBINED] == -150_000


def test_excel_csv_with_bom_us_dates_blanks_and_no_quote_columns(tmp_path):
    cols = tuple("Report_Date_as_MM_DD_YYYY" if c == "Report_Date_as_YYYY-MM-DD" else c
                 for c in TFF_COLUMNS if not c.endswith("_Quotes"))
    r = tff_row("13874A", "2024-03-05", Lev_Money_Positions_Short_All="", Change_in_Open_Interest_All="")
    r["Report_Date_as_MM_DD_YYYY"] = "3/5/2024"
    cad = tff_row("90741", "2024-03-05", market="CANADIAN DOLLAR - CHICAGO MERCANTILE EXCHANGE")
    cad["Report_Date_as_MM_DD_YYYY"] = "03/05/2024"
    path = write_tff(tmp_path / "FinFut24_excel.csv", [r, cad], columns=cols, bom=True, newline="\r\n",
                     quote_text=False)
    raw = read_tff(path)
    assert list(raw.code) == ["090741", "13874A"]  # Excel's dropped leading zero restored
    panel = load_cftc(path)
    spy = panel[panel.entity == "SPY"].set_index("metric")["value"]
    assert spy["lev_money_long"] == 300_000
    assert "lev_money_short" not in spy and "lev_money_net" not in spy  # blank -> absent, not filled
    assert panel.as_of.unique().tolist() == [pd.Timestamp("2024-03-05")]


def test_columns_are_found_by_name_in_any_order(tmp_path):
    rows = [tff_row("13874A", "2024-03-05")]
    ordered = load_cftc(write_tff(tmp_path / "a.txt", rows))
    shuffled = load_cftc(write_tff(tmp_path / "b.txt", rows, columns=tuple(reversed(TFF_COLUMNS))))
    pd.testing.assert_frame_equal(ordered, shuffled)


def test_crlf_and_lf_give_the_same_panel(tmp_path):
    rows = [tff_row("13874A", "2024-03-12"), tff_row("13874A", "2024-03-05")]
    lf = load_cftc(write_tff(tmp_path / "lf.txt", rows))
    crlf = load_cftc(write_tff(tmp_path / "crlf.txt", rows, newline="\r\n"))
    pd.testing.assert_frame_equal(lf, crlf)


def test_text_codes_dots_and_renames(tmp_path):
    rows = [tff_row("13874A", "2022-02-08", market=SPX_NEW),
            tff_row("13874A", "2022-02-01", market=SPX_OLD, Lev_Money_Positions_Long_All="       ."),
            tff_row("20974+", "2022-02-01", market="NASDAQ-100 Consolidated - CME")]
    path = write_tff(tmp_path / "FinFut22.txt", rows)
    raw = read_tff(path)
    assert set(raw.code) == {"13874A", "20974+"}
    spx = raw[raw.code == "13874A"].set_index("as_of")["lev_money_long"]
    assert np.isnan(spx[pd.Timestamp("2022-02-01")]) and spx[pd.Timestamp("2022-02-08")] == 300_000
    panel = load_cftc(path)
    assert set(panel.entity) == {"SPY"}
    oi = panel[panel.metric == "open_interest"]
    assert len(oi) == 2
    assert not ((panel.metric == "lev_money_long") & (panel.as_of == "2022-02-01")).any()


def test_future_perturbation_leaves_the_past_unchanged(tmp_path):
    weeks = ["2024-03-05", "2024-03-12", "2024-03-19"]
    base = [tff_row("13874A", w, Lev_Money_Positions_Long_All=f" {300000 + i}") for i, w in enumerate(weeks)]
    later = [dict(r) for r in base]
    later[2]["Lev_Money_Positions_Long_All"] = " 999999"
    a = load_cftc(write_tff(tmp_path / "a.txt", base))
    b = load_cftc(write_tff(tmp_path / "b.txt", later))
    idx = pd.DatetimeIndex(pd.bdate_range("2024-03-04", "2024-03-29"))
    wa, wb = align(a, idx, "lev_money_net"), align(b, idx, "lev_money_net")
    before = idx < pd.Timestamp("2024-03-22")
    pd.testing.assert_frame_equal(wa[before], wb[before])
    assert (wa[~before] != wb[~before]).all().all()


def test_identical_weeks_in_two_files_merge_and_conflicts_are_named(tmp_path):
    d1, d2 = tmp_path / "same", tmp_path / "conflict"
    d1.mkdir()
    d2.mkdir()
    row = tff_row("13874A", "2024-03-05")
    write_tff(d1 / "FinFut24.txt", [row])
    write_tff(d1 / "FinFutWk.txt", [row], header=False)
    assert len(load_cftc_dir(d1)) == len(load_cftc(d1 / "FinFut24.txt"))
    write_tff(d2 / "FinFut24.txt", [row])
    write_tff(d2 / "FinFutWk.txt", [tff_row("13874A", "2024-03-05", Open_Interest_All=" 2100000")], header=False)
    with pytest.raises(DataError, match=r"FinFutWk\.txt: line 1.*FinFut24\.txt line 2"):
        load_cftc_dir(d2)
    with pytest.raises(DataError, match="no files match"):
        load_cftc_dir(tmp_path / "same", pattern="FinCom*.txt")


# --- malformed input: every error names file, line and column -----------------------------------------------------

def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_truncated_line(tmp_path):
    path = write_tff(tmp_path / "FinFut24.txt", [tff_row("13874A", "2024-03-12"), tff_row("13874A", "2024-03-05")])
    lines = _lines(path)
    lines[2] = lines[2][:120]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"FinFut24\.txt: line 3: \d+ fields where the header has 87: columns "
                                        r"from \d+ \('[A-Za-z_]+'\) on are missing"):
        read_tff(path)


def test_wrong_column_count(tmp_path):
    path = write_tff(tmp_path / "FinFut24.txt", [tff_row("13874A", "2024-03-12"), tff_row("13874A", "2024-03-05")])
    lines = _lines(path)
    lines[1] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 2: 88 fields where the header has 87"):
        read_tff(path)


def test_bad_date(tmp_path):
    path = write_tff(tmp_path / "FinFut24.txt", [tff_row("13874A", "2024-03-12"),
                                                  tff_row("13874A", "2024-03-05", **{"Report_Date_as_YYYY-MM-DD": "2024-13-05"})])
    with pytest.raises(DataError, match=r"FinFut24\.txt: line 3, column 3 \('Report_Date_as_YYYY-MM-DD'\): '2024-13-05'"):
        read_tff(path)


def test_dates_that_disagree(tmp_path):
    path = write_tff(tmp_path / "x.txt", [tff_row("13874A", "2024-03-05", As_of_Date_In_Form_YYMMDD="240312")])
    with pytest.raises(DataError, match=r"line 2, column 2 \('As_of_Date_In_Form_YYMMDD'\): '240312' disagrees"):
        read_tff(path)


def test_duplicate_rows(tmp_path):
    path = write_tff(tmp_path / "FinFut24.txt", [tff_row("13874A", "2024-03-05"), tff_row("13874A", "2024-03-12"),
                                                  tff_row("13874A", "2024-03-05")])
    with pytest.raises(DataError, match=r"line 4, column 4 \('CFTC_Contract_Market_Code'\): duplicate row: "
                                        r"market 13874A week 2024-03-05 also on line 2"):
        read_tff(path)


def test_non_number_and_negative_position(tmp_path):
    path = write_tff(tmp_path / "x.txt", [tff_row("13874A", "2024-03-05", Open_Interest_All="12a4"),
                                           tff_row("13874A", "2024-03-12", Dealer_Positions_Long_All="-5")])
    with pytest.raises(DataError) as err:
        read_tff(path)
    msg = str(err.value)
    assert "2 problems" in msg
    assert "line 2, column 8 ('Open_Interest_All'): '12a4' is not a number" in msg
    assert "line 3, column 9 ('Dealer_Positions_Long_All'): '-5' is negative" in msg


def test_bad_code_missing_column_unclosed_quote_and_empty(tmp_path):
    bad = write_tff(tmp_path / "code.txt", [tff_row("13874", "2024-03-05")])
    assert read_tff(bad).code.tolist() == ["013874"]  # five digits: an Excel-stripped code, padded
    worse = write_tff(tmp_path / "code2.txt", [tff_row("1387-A", "2024-03-05")])
    with pytest.raises(DataError, match=r"line 2, column 4 .*'1387-A' is not a 6-character CFTC contract code"):
        read_tff(worse)
    cols = tuple(c for c in TFF_COLUMNS if c != "Lev_Money_Positions_Long_All")
    with pytest.raises(DataError, match=r"missing column\(s\) \['Lev_Money_Positions_Long_All'\]"):
        read_tff(write_tff(tmp_path / "cols.txt", [tff_row("13874A", "2024-03-05")], columns=cols))
    q = write_tff(tmp_path / "quote.txt", [tff_row("13874A", "2024-03-05")])
    q.write_text(q.read_text() + '"E-MINI S&P 500 - CME,240312,2024-03-12\n')
    with pytest.raises(DataError, match=r"quote\.txt: line 3: cannot split this line"):
        read_tff(q)
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(DataError, match="empty"):
        read_tff(tmp_path / "empty.txt")


def test_markets_map_each_code_to_one_entity():
    assert len(set(MARKETS.values())) == len(MARKETS)
    assert MARKETS["13874A"] == "SPY" and MARKETS["138749"] == "XLE" and MARKETS["1170E1"] == "VIX"
