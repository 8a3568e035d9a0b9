"""Fama-French daily factors: the real file, the zip the library serves, and every malformed-file error."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data.factors import load_ff_factors, load_rf
from research.errors import DataError

PREAMBLE = ["This file was created by CMPT_ME_BEME_RETS_DAILY using the 202408 CRSP database.",
            "The Tbill return is the simple daily rate that, over the number of trading days",
            "compounds to 1-month TBill rate.", ""]
HEADER = ",Mkt-RF,SMB,HML,RF"
FOOTER = ["", "Copyright 2024 Eugene F. Fama and Kenneth R. French"]
ROWS = ["20200313,    9.33,   -0.93,   -1.45,   0.006", "20200316,  -12.00,   -0.24,   -0.73,   0.006"]


def write(path: Path, body: list[str], header: str = HEADER) -> Path:
    path.write_bytes("\r\n".join([*PREAMBLE, header, *body, *FOOTER]).encode())
    return path


def test_real_file(shared_data: Path) -> None:
    path = shared_data / "factors" / "F-F_Research_Data_Factors_daily.CSV"
    ff = load_ff_factors(path)
    assert list(ff.columns) == ["Mkt-RF", "SMB", "HML", "RF"] and ff.index.name == "date"
    assert ff.index[0] == pd.Timestamp("1926-07-01") and ff.index[-1] == pd.Timestamp("2024-08-30")
    assert ff.index.is_unique and ff.index.is_monotonic_increasing and not ff.isna().any().any()
    assert ff.loc["2020-03-16", "Mkt-RF"] == -0.12
    assert ff.loc["1926-07-01"].tolist() == pytest.approx([0.001, -0.0025, -0.0027, 0.00009])
    rf = load_rf(path)
    assert rf.name == "rf" and rf.loc["2020-03-16"] == pytest.approx(0.00006)
    assert -1e-4 < rf.min() and rf.max() < 1e-3  # a daily rate as a decimal (1930s T-bills dipped below 0)


def test_zip_and_missing_markers(tmp_path: Path) -> None:
    csv = write(tmp_path / "F-F.CSV", [ROWS[0], "20200316,  -99.99,   -0.24,   -0.73,   0.006"])
    with zipfile.ZipFile(tmp_path / "F-F_daily_CSV.zip", "w") as zf:
        zf.write(csv, "F-F_Research_Data_Factors_daily.CSV")
    ff = load_ff_factors(tmp_path / "F-F_daily_CSV.zip")
    assert np.isnan(ff.loc["2020-03-16", "Mkt-RF"]) and ff.loc["2020-03-13", "Mkt-RF"] == pytest.approx(0.0933)
    assert ff.attrs["notes"] == ["F-F_daily_CSV.zip: 1 missing value(s) (-99.99/-999) left NaN, first Mkt-RF on 2020-03-16 (line 7)"]


@pytest.mark.parametrize(("body", "header", "pattern"), [
    (ROWS, ",Mkt-RF,SMB,RF", r"line 5: missing column\(s\) \['HML'\]"),
    (ROWS, "Mkt-RF,SMB,HML,RF", r"no header line like ',Mkt-RF"),
    ([], HEADER, r"line 6: no data rows after the header"),
    ([ROWS[0], "2020031x,  -12.00,   -0.24,   -0.73,   0.006"], HEADER, r"line 7, column 'date': '2020031x' is not"),
    ([ROWS[0], "20200231,  -12.00,   -0.24,   -0.73,   0.006"], HEADER, r"line 7, column 'date': '20200231' is not a calendar"),
    ([ROWS[0], "202003,  -12.00,   -0.24,   -0.73,   0.006"], HEADER, r"line 7, column 'date'.*monthly"),
    ([ROWS[0], "20200316,  -12.00,   abc,   -0.73,   0.006"], HEADER, r"line 7, column 'SMB': 'abc' is not a number"),
    ([ROWS[0], "20200316,  -12.00,   -0.24"], HEADER, r"line 7: 3 fields, the header has 5 .*truncated"),
    ([ROWS[1], ROWS[0]], HEADER, r"line 7: 2020-03-13 comes after 2020-03-16"),
    ([ROWS[0], ROWS[0]], HEADER, r"line 7: duplicate date 2020-03-13"),
])
def test_malformed(tmp_path: Path, body: list[str], header: str, pattern: str) -> None:
    path = write(tmp_path / "ff.csv", body, header)
    with pytest.raises(DataError, match=pattern) as info:
        load_ff_factors(path)
    assert str(path) in str(info.value)


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the factors file"):
        load_ff_factors(tmp_path / "absent.CSV")
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(DataError, match="cannot read the factors file"):
        load_rf(tmp_path / "bad.zip")
