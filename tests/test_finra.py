"""FINRA short interest: the pipe-delimited format, publication lag, sector aggregates, most-short basket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data.finra import (
    FINRA_COLUMNS,
    SOURCE,
    load_short_interest,
    load_short_interest_files,
    most_short_basket,
    publication_times,
    read_short_interest,
    short_interest_panel,
)
from research.data.gics import load_gics, load_gics_snapshots
from research.data.panel import align
from research.errors import DataError

HEADER = "|".join(FINRA_COLUMNS)


def si_line(symbol: str, settle: str, short: int, prev: int, adv: int | str, *, name: str = "", dtc: str | None = None,
            revision: str = "", market: str = "NYSE") -> str:
    """One record exactly as FINRA writes it (settlement date also as accountingYearMonthNumber)."""
    d = pd.Timestamp(settle)
    if dtc is None:
        dtc = f"{min(short / adv, 999.99):.2f}" if isinstance(adv, int) and adv > 0 else ""
    chg = short - prev
    pct = f"{100 * chg / prev:.2f}" if prev else ""
    return "|".join([d.strftime("%Y%m%d"), symbol, name or f"{symbol} Inc", "A", market, str(short), str(prev), "",
                     str(adv), dtc, revision, pct, str(chg), d.strftime("%Y-%m-%d")])


def write_si(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text(newline.join([HEADER, *lines]) + newline)
    return path


@pytest.fixture(scope="module")
def gics(tmp_path_factory) -> object:
    """A small point-in-time map: ZZZ moves from Industrials to Energy in the 2024-06-01 snapshot."""
    p = tmp_path_factory.mktemp("gics") / "snap.csv"
    rows = ["snapshot_date,source_commit,symbol,name,gics_sector,gics_sub_industry"]
    for snap, zzz in (("2023-12-31", "Industrials"), ("2024-06-01", "Energy")):
        rows += [f"{snap},c,AAA,A,Information Technology,", f"{snap},c,BBB,B,Information Technology,",
                 f"{snap},c,CCC,C,Financials,", f"{snap},c,BRK-B,Berkshire,Financials,", f"{snap},c,ZZZ,Z,{zzz},"]
    p.write_text("\n".join(rows) + "\n")
    return load_gics_snapshots(p)


@pytest.fixture()
def two_dates(tmp_path) -> Path:
    lines = [si_line("AAA", "2024-01-12", 1000, 800, 100), si_line("BBB", "2024-01-12", 500, 500, 1000),
             si_line("CCC", "2024-01-12", 3000, 2000, 500), si_line("BRK.B", "2024-01-12", 50, 40, 0),
             si_line("ZZZ", "2024-01-12", 900, 1000, 300), si_line("OTCX", "2024-01-12", 10**6, 10, 1),
             si_line("AAA", "2024-06-14", 1200, 1000, 100), si_line("ZZZ", "2024-06-14", 800, 900, 100)]
    return write_si(tmp_path / "shrt20240614.csv", lines)


def test_parse_the_pipe_format(two_dates):
    si = read_short_interest(two_dates)
    assert len(si) == 8 and set(si.columns) >= {"symbol", "settlement_date", "short_interest", "avg_daily_volume"}
    brk = si[si.symbol == "BRK.B"].iloc[0]
    assert np.isnan(brk.days_to_cover)  # FINRA leaves it blank when volume is zero: not filled
    aaa = si[(si.symbol == "AAA") & (si.settlement_date == "2024-01-12")].iloc[0]
    assert aaa.short_interest == 1000 and aaa.previous_short_interest == 800 and aaa.days_to_cover == 10.0
    assert aaa.change_pct == pytest.approx(25.0) and not aaa.revised


def test_publication_is_eight_sessions_after_settlement():
    # 2024-01-12 (Fri) + 8 NYSE sessions (MLK Monday closed) = 2024-01-25; 2024-01-31 -> 2024-02-12.
    got = publication_times(["2024-01-12", "2024-01-31"])
    assert list(got) == [pd.Timestamp("2024-01-25 18:00"), pd.Timestamp("2024-02-12 18:00")]


def test_sector_aggregates_are_point_in_time(two_dates, gics):
    panel = load_short_interest(two_dates, gics, n=2)
    assert set(panel.source) == {SOURCE}
    v = panel.set_index(["as_of", "entity", "metric"])["value"]
    jan = pd.Timestamp("2024-01-12")
    assert v[jan, "Information Technology", "si_shares"] == 1500
    assert v[jan, "Information Technology", "si_days_to_cover"] == pytest.approx(1500 / 1100)
    assert v[jan, "Information Technology", "si_change_pct"] == pytest.approx(100 * (1500 - 1300) / 1300)
    assert v[jan, "Industrials", "si_shares"] == 900  # ZZZ before the snapshot that moves it
    assert v[pd.Timestamp("2024-06-14"), "Energy", "si_shares"] == 800
    assert (pd.Timestamp("2024-06-14"), "Industrials", "si_shares") not in v.index
    assert v[jan, "Financials", "si_days_to_cover"] == pytest.approx(3000 / 500)  # BRK.B has no volume
    assert v[jan, "BOOK", "si_mapped_share"] == pytest.approx(5 / 6)  # OTCX is not in the map
    assert v[jan, "BOOK", "si_names"] == 5


def test_most_short_basket_ranks_by_days_to_cover(two_dates, gics):
    si = read_short_interest(two_dates)
    basket = most_short_basket(si, gics, n=2)
    jan = basket[basket.settlement_date == "2024-01-12"]
    assert list(jan.symbol) == ["AAA", "CCC"]  # 10.0 and 6.0 days; OTCX (unmapped) and BRK.B (no volume) excluded
    assert list(jan["rank"]) == [1, 2]
    panel = short_interest_panel(si, gics, n=2)
    v = panel.set_index(["as_of", "entity", "metric"])["value"]
    jan_t = pd.Timestamp("2024-01-12")
    assert v[jan_t, "MOST_SHORT", "si_days_to_cover"] == pytest.approx(4000 / 600)
    assert v[jan_t, "Information Technology", "si_most_short_count"] == 1
    assert v[jan_t, "Industrials", "si_most_short_count"] == 0


def test_values_are_invisible_until_published(two_dates, gics):
    panel = load_short_interest(two_dates, gics)
    idx = pd.DatetimeIndex(["2024-01-24", "2024-01-25", "2024-01-26"])
    seen = align(panel, idx, "si_shares", entities=["Information Technology"])
    assert np.isnan(seen.iloc[0, 0]) and np.isnan(seen.iloc[1, 0]) and seen.iloc[2, 0] == 1500


def test_crlf_comma_fallback_and_directory(tmp_path, gics):
    lines = [si_line("AAA", "2024-01-31", 10, 5, 10)]
    a = read_short_interest(write_si(tmp_path / "a.csv", lines, newline="\r\n"))
    assert a.short_interest.iloc[0] == 10
    (tmp_path / "comma.csv").write_text(HEADER.replace("|", ",") + "\n" + lines[0].replace("|", ",") + "\n")
    assert read_short_interest(tmp_path / "comma.csv").symbol.iloc[0] == "AAA"
    d = tmp_path / "dir"
    d.mkdir()
    write_si(d / "s1.csv", [si_line("AAA", "2024-01-12", 10, 5, 10)])
    write_si(d / "s2.csv", [si_line("AAA", "2024-01-31", 12, 10, 10)])
    assert len(load_short_interest_files(d)) == 2
    write_si(d / "s3.csv", [si_line("AAA", "2024-01-31", 13, 10, 10)])
    with pytest.raises(DataError, match=r"s3\.csv: line 2: AAA settlement 2024-01-31 is also in .*s2\.csv line 2"):
        load_short_interest_files(d)


def test_real_gics_map_places_large_caps(shared_data, tmp_path):
    g = load_gics(shared_data)
    path = write_si(tmp_path / "s.csv", [si_line("V", "2022-12-30", 100, 90, 50), si_line("V", "2024-01-12", 100, 90, 50)])
    v = load_short_interest(path, g).set_index(["as_of", "entity", "metric"])["value"]
    assert (pd.Timestamp("2022-12-30"), "Information Technology", "si_shares") in v.index
    assert (pd.Timestamp("2024-01-12"), "Financials", "si_shares") in v.index


# --- malformed -----------------------------------------------------------------------------------------------------

def test_missing_header_column(tmp_path):
    (tmp_path / "x.csv").write_text(HEADER.replace("|daysToCoverQuantity", "") + "\n")
    with pytest.raises(DataError, match=r"x\.csv: line 1: missing column\(s\) \['daysToCoverQuantity'\]"):
        read_short_interest(tmp_path / "x.csv")


def test_truncated_and_long_lines(tmp_path):
    good = si_line("AAA", "2024-01-12", 10, 5, 10)
    path = write_si(tmp_path / "x.csv", [good, good.rsplit("|", 3)[0], good.replace("AAA", "BBB") + "|extra"])
    with pytest.raises(DataError) as err:
        read_short_interest(path)
    msg = str(err.value)
    assert "x.csv: line 3: 11 fields where the header has 14: columns from 12 ('changePercent') on are missing" in msg
    assert "line 4: 15 fields where the header has 14" in msg


def test_bad_date_number_and_duplicate(tmp_path):
    bad_date = si_line("AAA", "2024-01-12", 10, 5, 10).replace("|2024-01-12", "|2024-01-32")
    path = write_si(tmp_path / "d.csv", [bad_date])
    with pytest.raises(DataError, match=r"d\.csv: line 2, column 14 \('settlementDate'\): '2024-01-32' is not a date"):
        read_short_interest(path)
    path = write_si(tmp_path / "n.csv", [si_line("AAA", "2024-01-12", 10, 5, "1,000")])
    with pytest.raises(DataError, match=r"line 2, column 9 \('averageDailyVolumeQuantity'\): '1,000' is not a number"):
        read_short_interest(path)
    path = write_si(tmp_path / "neg.csv", [si_line("AAA", "2024-01-12", -10, 5, 10)])
    with pytest.raises(DataError, match=r"column 6 \('currentShortPositionQuantity'\): '-10' is negative"):
        read_short_interest(path)
    row = si_line("AAA", "2024-01-12", 10, 5, 10)
    path = write_si(tmp_path / "dup.csv", [row, si_line("BBB", "2024-01-12", 1, 1, 1), row])
    with pytest.raises(DataError, match=r"line 4, column 2 \('symbolCode'\): duplicate row: AAA settlement "
                                        r"2024-01-12 also on line 2"):
        read_short_interest(path)
