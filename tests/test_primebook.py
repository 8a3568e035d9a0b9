"""Prime-book exports: the schema validator reports every problem with its line; the loader builds a panel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from research.data.panel import align
from research.data.primebook import METRICS, Problem, load_primebook, read_primebook, validate_file
from research.errors import DataError

GOOD = """as_of,sector,metric,value,units,available_at
2024-01-05,Industrials,net_flow,412.5,usd_mn,2024-01-08 08:30
2024-01-05,Industrials,buy_sell_ratio,3.7,ratio,2024-01-08 08:30
2024-01-05,BOOK,gross_leverage,210.6,pct_equity,2024-01-08 08:30
2024-01-05,information technology,net_exposure,-1.8,,2024-01-08T09:00:00-05:00
2024-01-12,XLK,net_exposure,-2.0,pct_gross,2024-01-16 08:30
2024-01-05,Industrials,net_flow,415.0,usd_mn,2024-01-09 08:30
"""


def write(tmp_path: Path, text: str, name: str = "flows.csv", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_a_valid_file_loads_as_a_panel(tmp_path):
    path = write(tmp_path, GOOD)
    assert validate_file(path) == []
    panel = load_primebook(path)
    assert len(panel) == 6 and set(panel.source) == {"prime_book:flows.csv"}
    assert set(panel.entity) == {"Industrials", "BOOK", "Information Technology"}
    it = panel[(panel.entity == "Information Technology") & (panel.as_of == "2024-01-05")].iloc[0]
    assert it.units == "pct_gross" and it.available_at == pd.Timestamp("2024-01-08 09:00")  # offset converted
    # The revision (later available_at) is a second vintage: alignment uses the latest one public.
    seen = align(panel, pd.DatetimeIndex(["2024-01-08", "2024-01-09"]), "net_flow", entities=["Industrials"])
    assert seen["Industrials"].tolist() == [412.5, 415.0]


def test_default_available_at_is_the_next_session_evening(tmp_path):
    path = write(tmp_path, "as_of,sector,metric,value\n2024-01-12,Energy,net_flow,-50\n", newline="\r\n")
    panel = load_primebook(path)
    # Friday 2024-01-12; Monday 01-15 is MLK day, so the next session is Tuesday 01-16.
    assert panel.available_at.iloc[0] == pd.Timestamp("2024-01-16 18:00")
    assert panel.units.iloc[0] == METRICS["net_flow"]
    later = load_primebook(path, lag_sessions=2, clock=pd.Timedelta(hours=9))
    assert later.available_at.iloc[0] == pd.Timestamp("2024-01-17 09:00")


def test_excel_workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["As_Of", "Sector", "Metric", "Value", "Units"])
    ws.append([datetime(2024, 1, 5), "Energy", "net_flow", 12.25, "usd_mn"])
    ws.append([datetime(2024, 1, 5), "Energy", "gross_flow", "lots", "usd_mn"])
    ws.append([datetime(2024, 1, 5), "Utilities", "net_flow", 3, None])
    wb.save(tmp_path / "flows.xlsx")
    probs = validate_file(tmp_path / "flows.xlsx")
    assert [(p.line, p.column) for p in probs] == [(3, "value")]
    fixed = openpyxl.load_workbook(tmp_path / "flows.xlsx")
    fixed.active.delete_rows(3)
    fixed.save(tmp_path / "fixed.xlsx")
    panel = load_primebook(tmp_path / "fixed.xlsx")
    assert sorted(panel.value) == [3.0, 12.25]
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert "save it as .xlsx" in validate_file(tmp_path / "old.xls")[0].message


def test_every_problem_is_reported_with_its_line(tmp_path):
    text = """as_of,sector,metric,value,units,available_at,desk
2024-01-05,Industrials,net_flow,412.5,usd_mn,2024-01-08 08:30,x
2024-01-32,Industrials,net_flow,1,usd_mn,,x
2024-01-05,Crypto,net_flow,1,usd_mn,,x
2024-01-05,Energy,Net Flow,1,usd_mn,,x
2024-01-05,Energy,net_flow,,usd_mn,,x
2024-01-05,Energy,gross_flow,12.5%,usd_mn,,x
2024-01-05,Energy,long_buys,"1,200",usd_mn,,x
2024-01-05,Energy,short_sales,1,dollars,,x
2024-01-05,Energy,gross_leverage,210,ratio,,x
2024-01-05,Energy,vol_of_flow,1,,,x
2024-01-05,Energy,long_sells,1,usd_mn,2024-01-05 10:00,x
2024-01-05,Energy,short_covers,1,usd_mn,soon,x
2024-01-05,Industrials,net_flow,413,usd_mn,2024-01-08 08:30,x
2024-01-05,Energy,net_flow,1,usd_mn
2024-01-04,Energy,net_flow,1,usd_mn,,x
"""
    probs = validate_file(write(tmp_path, text))
    where = {(p.line, p.column, p.severity) for p in probs}
    expected = {
        (1, "7 ('desk')", "warning"), (3, "as_of", "error"), (4, "sector", "error"), (5, "metric", "error"),
        (6, "value", "error"), (7, "value", "error"), (8, "value", "error"), (9, "units", "error"),
        (10, "units", "error"), (11, "units", "error"), (12, "available_at", "error"),
        (13, "available_at", "error"), (14, "as_of", "error"), (15, None, "error"), (16, "as_of", "warning"),
    }
    assert where == expected
    by_line = {p.line: p for p in probs if p.severity == "error"}
    assert "Drop the % sign" in by_line[7].message and "thousands separators" in by_line[8].message
    assert "also on line 2" in by_line[14].message and "5 fields where the header has 7" in by_line[15].message
    assert "before the close" in by_line[12].message
    assert str(by_line[3]).startswith(f"{tmp_path / 'flows.csv'}: line 3, column as_of: '2024-01-32'")
    with pytest.raises(DataError, match=r"flows\.csv: 13 problems"):
        load_primebook(tmp_path / "flows.csv")


def test_unit_conflict_across_rows_and_structure_problems(tmp_path):
    text = "as_of,sector,metric,value,units\n2024-01-05,Energy,flow_x,1,usd_mn\n2024-01-12,Energy,flow_x,1,ratio\n"
    probs = errors(validate_file(write(tmp_path, text)))
    assert [(p.line, p.column) for p in probs] == [(3, "units")] and "usd_mn on line 2" in probs[0].message
    probs = validate_file(write(tmp_path, "as_of,sector,value\n2024-01-05,Energy,1\n", "m.csv"))
    assert len(probs) == 1 and probs[0].line == 1 and "missing required column(s) ['metric']" in probs[0].message
    probs = validate_file(write(tmp_path, "as_of,sector,metric,value,Value\n", "d.csv"))
    assert any("appears twice" in p.message for p in probs)
    probs = validate_file(write(tmp_path, "as_of,sector,metric,value\n", "e.csv"))
    assert [p.message for p in probs] == ["no data rows under the header."]
    probs = validate_file(write(tmp_path, 'as_of,sector,metric,value\n2024-01-05,"Energy,net_flow,1\n', "q.csv"))
    assert probs[0].line == 2 and "cannot split" in probs[0].message
    (tmp_path / "latin.csv").write_bytes("as_of,sector,metric,value\n2024-01-05,Énergie,net_flow,1\n".encode("cp1252"))
    assert "not UTF-8" in validate_file(tmp_path / "latin.csv")[0].message
    assert "no such file" in validate_file(tmp_path / "missing.csv")[0].message


def test_read_primebook_returns_clean_rows(tmp_path):
    rows = read_primebook(write(tmp_path, GOOD))
    assert list(rows.line) == [2, 3, 4, 5, 6, 7]
    assert rows.available_at.notna().all()
