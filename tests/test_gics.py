"""Point-in-time ticker -> GICS sector map: normalisation, look-ups keyed on the snapshot in force, bad files."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data.gics import load_gics, load_gics_snapshots, normalize_sector, normalize_symbol
from research.data.universe import SECTORS
from research.errors import DataError


@pytest.fixture(scope="module")
def gics(shared_data):
    return load_gics(shared_data)


def test_sector_names_are_normalised_to_the_eleven(gics):
    assert set(gics.table.sector) == set(SECTORS)
    assert normalize_sector("Telecommunications Services") == "Communication Services"
    assert normalize_sector("Telecommunication Services") == "Communication Services"
    assert normalize_sector("Industries") == "Industrials"
    assert normalize_sector(" information  technology ") == "Information Technology"
    assert normalize_sector("") is None and normalize_sector(None) is None and normalize_sector("Crypto") is None


def test_blank_sector_is_dropped_and_reported_not_filled(gics):
    assert list(gics.dropped.symbol) == ["LYB"] and gics.dropped.line.iloc[0] == 779
    assert gics.sector("LYB", "2014-01-01") is None  # the 2013-10-05 snapshot has no sector for it
    assert gics.sector("LYB", "2015-01-01") == "Materials"


def test_point_in_time_moves(gics):
    assert gics.sector("V", "2022-12-31") == "Information Technology"
    assert gics.sector("V", "2023-12-31") == "Financials"  # snapshot of that very day is in force
    assert gics.sector("V", "2023-12-30") == "Information Technology"
    assert gics.sector("GOOGL", "2018-12-31") == "Information Technology"
    assert gics.sector("GOOGL", "2020-12-31") == "Communication Services"
    assert gics.sector("T", "2016-01-01") == "Communication Services"  # Telecommunication Services then
    assert gics.sector("NLSN", "2014-01-01") == "Industrials"  # the 'Industries' typo
    assert gics.sector("AAPL", "2012-06-30") is None  # before the first snapshot nothing is known


def test_vectorised_map_and_symbols(gics):
    got = gics.map(["BRK-B", "brk.b", "AAPL", "NOTREAL"], pd.to_datetime(["2014-01-01", "2024-01-01",
                                                                           "2025-01-01", "2025-01-01"]))
    assert got.iloc[:3].tolist() == ["Financials", "Financials", "Information Technology"] and pd.isna(got.iloc[3])
    assert normalize_symbol("brk/b") == "BRK.B" and normalize_symbol(" bf-b ") == "BF.B"
    assert gics.snapshot_at("2019-06-30")[0] == pd.Timestamp("2018-04-02")  # no 2019 snapshot
    assert len(gics.sectors_at("2024-06-30")) == 503


def test_bad_snapshot_files(tmp_path):
    head = "snapshot_date,symbol,gics_sector\n"
    cases = {
        "typo.csv": (head + "2020-01-01,AAA,Energy\n2020-01-01,BBB,Enrgy\n",
                     r"typo\.csv: line 3, column 3 \('gics_sector'\): unknown sector name 'Enrgy'"),
        "date.csv": (head + "2020-13-01,AAA,Energy\n", r"line 2, column 1 \('snapshot_date'\): '2020-13-01'"),
        "clash.csv": (head + "2020-01-01,BRK.B,Financials\n2020-01-01,BRK-B,Energy\n",
                      r"line 3, column 3 .*BRK\.B has two different sectors in snapshot 2020-01-01"),
        "short.csv": (head + "2020-01-01,AAA\n", r"line 2: 2 fields where the header has 3"),
        "cols.csv": ("snapshot_date,ticker,gics_sector\n", r"missing column\(s\) \['symbol'\]"),
    }
    for name, (text, pattern) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=pattern):
            load_gics_snapshots(tmp_path / name)
    (tmp_path / "same.csv").write_text(head + "2020-01-01,BRK.B,Financials\n2020-01-01,BRK-B,Financials\n")
    assert len(load_gics_snapshots(tmp_path / "same.csv").table) == 1
    with pytest.raises(DataError, match="no sp500_gics_snapshots_yearly.csv"):
        load_gics(tmp_path / "nowhere")
