"""Bad input, case by case: every malformed or implausible input is a clear error naming where (file, line,
ticker, date, parameter) and what to do, or is accepted and read back unchanged. Nothing silent, no traceback
from deep inside a library: each case asserts one of those two outcomes.

Families: price CSVs (layouts, encodings, delimiters, plausibility), the real price files, the panel, CFTC
files, prime-book exports, the calendar, the synthetic data spec, strategy parameters and grids.
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research import registry
from research.data.calendar import sessions
from research.errors import ConfigError, DataError

ADJ = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
HIST = ["Date", "Open", "High", "Low", "Close", "Volume", "Dividends", "Stock Splits"]
DAYS = sessions("2020-01-02", "2020-06-30")


def _bars(n: int = len(DAYS)) -> list[dict[str, float | str]]:
    """A smooth, plausible ETF history (moves under 2% a day), Adj Close 0.95 of Close."""
    rows = []
    for i, d in enumerate(DAYS[:n]):
        close = round(100.0 * math.exp(0.01 * math.sin(i / 5.0) + 0.0005 * i), 6)
        rows.append({"Date": str(d.date()), "Open": round(close * 0.998, 6), "High": round(close * 1.01, 6),
                     "Low": round(close * 0.99, 6), "Close": close, "Adj Close": round(close * 0.95, 6),
                     "Volume": 1_000_000, "Dividends": 0.0, "Stock Splits": 0.0})
    return rows


def _write(path: Path, rows: list[dict], header: list[str], *, sep: str = ",", newline: str = "\n",
           encoding: str = "utf-8") -> Path:
    lines = [sep.join(header)] + [sep.join(str(r.get(c, "")) for c in header) for r in rows]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def _scale_from(rows: list[dict], i: int, k: float, cols: tuple[str, ...]) -> None:
    for r in rows[i:]:
        for c in cols:
            r[c] = round(float(r[c]) * k, 6)


def _set(i: int, **values: object) -> Callable[[list[dict]], None]:
    def mutate(rows: list[dict]) -> None:
        rows[i].update(values)
    return mutate


def _times(i: int, k: float, cols: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close")):
    def mutate(rows: list[dict]) -> None:
        for c in cols:
            rows[i][c] = round(float(rows[i][c]) * k, 6)
    return mutate


def _unadjusted_split(i: int, ratio: float):
    def mutate(rows: list[dict]) -> None:
        _scale_from(rows, i, 1 / ratio, ("Open", "High", "Low", "Close", "Adj Close"))
        rows[i]["Stock Splits"] = ratio
    return mutate


def _step(i: int, k: float, cols=("Open", "High", "Low", "Close", "Adj Close")):
    def mutate(rows: list[dict]) -> None:
        _scale_from(rows, i, k, cols)
    return mutate


def _append(date: str):
    def mutate(rows: list[dict]) -> None:
        rows.append({**rows[-1], "Date": date})
    return mutate


def _prepend(date: str):
    def mutate(rows: list[dict]) -> None:
        rows.insert(0, {**rows[0], "Date": date})
    return mutate


# (id, ticker, layout, mutation, what the error says, the date it names)
PRICE_CASES = [
    ("history-split-2-unadjusted", "XLK", HIST, _unadjusted_split(40, 2.0), "2:1 split", DAYS[40]),
    ("history-split-4-unadjusted", "XLK", HIST, _unadjusted_split(60, 4.0), "4:1 split", DAYS[60]),
    ("history-split-3-unadjusted", "SPY", HIST, _unadjusted_split(10, 3.0), "3:1 split", DAYS[10]),
    ("close-x100-spike", "XLE", ADJ, _times(50, 100.0), "close to close return is \\+98\\d\\d", DAYS[50]),
    ("close-x100-spike-history", "XLE", HIST, _times(50, 100.0), "return is \\+98\\d\\d", DAYS[50]),
    ("close-div100", "XLF", ADJ, _times(30, 0.01), "return is -99", DAYS[30]),
    ("etf-minus-40pct-day", "XLY", ADJ, _step(70, 0.6), "close to close return is -(39|40)", DAYS[70]),
    ("etf-plus-36pct-day", "XLB", ADJ, _step(20, 1.36), "close to close return is \\+3[56]", DAYS[20]),
    ("etf-unadjusted-2-1-split-adj-layout", "XLP", ADJ, _step(45, 0.5), "2:1 split", DAYS[45]),
    ("etf-reverse-split", "XLU", ADJ, _step(45, 10.0), "1:10 reverse split", DAYS[45]),
    ("open-x100", "XLV", ADJ, _times(33, 100.0, ("Open",)), "close to open return", DAYS[33]),
    ("vix-x10", "VIX", ADJ, _step(12, 10.0), "an index", DAYS[12]),
    ("vix-div10", "^VIX", ADJ, _step(12, 0.1), "an index", DAYS[12]),
    ("close-vs-adj-close-halved", "XLI", ADJ, _times(25, 0.5, ("Close",)), "Adj Close / Close moves", DAYS[25]),
    ("adj-close-doubled", "XLI", ADJ, _times(25, 2.0, ("Adj Close",)), "Adj Close / Close moves", DAYS[25]),
    ("value-1e300", "SPY", ADJ, _set(5, Close=1e300), "outside \\[0.0001, 1e\\+07\\]", DAYS[5]),
    ("value-1e8", "SPY", ADJ, _set(5, High=1e8), "'High' is 1e\\+08", DAYS[5]),
    ("value-tiny", "SPY", ADJ, _set(5, Low=1e-9), "'Low' is 1e-09", DAYS[5]),
    ("value-inf", "SPY", ADJ, _set(6, Open="inf"), "'Open' is inf", DAYS[6]),
    ("value-minus-inf-volume", "SPY", ADJ, _set(6, Volume="-inf"), "Volume", DAYS[6]),
    ("volume-1e13", "SPY", ADJ, _set(7, Volume=1e13), "'Volume' is 1e\\+13", DAYS[7]),
    ("split-negative", "XLK", HIST, _set(8, **{"Stock Splits": 5000}), "Stock Splits", DAYS[8]),
    ("session-after-calendar", "SPY", ADJ, _append("2031-01-02"), "after today", pd.Timestamp("2031-01-02")),
    ("session-in-the-future", "SPY", ADJ, _append(str((pd.Timestamp.now() + pd.Timedelta(days=400)).date())),
     "after today", None),
    ("session-before-calendar", "SPY", ADJ, _prepend("1985-01-02"), "outside the NYSE calendar",
     pd.Timestamp("1985-01-02")),
]


@pytest.mark.parametrize("case", PRICE_CASES, ids=[c[0] for c in PRICE_CASES])
def test_implausible_prices_are_errors_naming_ticker_date_and_switch(tmp_path, case):
    from research.data.prices import read_price_csv

    _, ticker, header, mutate, says, when = case
    rows = _bars()
    mutate(rows)
    path = _write(tmp_path / f"{ticker}.csv", rows, header)
    with pytest.raises(DataError) as info:
        read_price_csv(path)
    msg = str(info.value)
    assert str(path) in msg and ", line " in msg and ticker in msg
    assert re.search(says, msg), msg
    if when is not None:
        assert str(when.date()) in msg
    if not re.search("after today|is inf|must be >= 0", msg):
        assert "FLOWBT_ALLOW=" in msg  # the documented switch, spelled out (none for inf: never real)


@pytest.mark.parametrize("allow, accepted", [
    ("move:XLY:2020-04-14", True), ("move:*", True), ("move:XLY", True), ("move:xly:2020-04-14", True),
    ("move:XLY:2020-04-15", False), ("move:XLB", False), ("split:XLY", False),
])
def test_the_switch_accepts_exactly_the_declared_case_and_says_so(tmp_path, allow, accepted):
    from research.data.prices import read_price_csv

    rows = _bars()
    _step(70, 0.6)(rows)
    assert rows[70]["Date"] == "2020-04-14"
    path = _write(tmp_path / "XLY.csv", rows, ADJ)
    if accepted:
        pf = read_price_csv(path, allow=allow)
        assert any("allowed by FLOWBT_ALLOW (move): 2020-04-14" in n for n in pf.notes)
        assert pf.raw["Adj Close"].tolist() == [r["Adj Close"] for r in rows]
    else:
        with pytest.raises(DataError, match="2020-04-14"):
            read_price_csv(path, allow=allow)


def test_the_switch_from_the_environment(tmp_path, monkeypatch):
    from research.data.prices import load_price_dir

    rows = _bars()
    _step(70, 0.6)(rows)
    _write(tmp_path / "XLY.csv", rows, ADJ)
    with pytest.raises(DataError, match="FLOWBT_ALLOW=move:XLY:2020-04-14"):
        load_price_dir(tmp_path)
    monkeypatch.setenv("FLOWBT_ALLOW", "move:XLY:2020-04-14")
    prices = load_price_dir(tmp_path)
    assert any("allowed by FLOWBT_ALLOW" in n for n in prices.notes)


@pytest.mark.parametrize("spec", ["move", "jump:XLK", "move:XLK:2020-13-01", "move::2020-01-02", "a:b:c:d"])
def test_a_malformed_switch_is_a_clear_error(spec):
    from research.data.plausible import allowances

    with pytest.raises(ConfigError, match="FLOWBT_ALLOW"):
        allowances(spec)


@pytest.mark.parametrize("ticker, k, ok", [("VIX", 2.5, True), ("^VVIX", 0.3, True), ("XLK", 1.3, True),
                                           ("VIX", 3.9, True), ("XLK", 1.36, False), ("SPY", 0.64, False)])
def test_the_bound_depends_on_the_asset_class(tmp_path, ticker, k, ok):
    from research.data.prices import read_price_csv

    rows = _bars()
    _step(50, k)(rows)
    path = _write(tmp_path / f"{ticker}.csv", rows, ADJ)
    if ok:
        assert read_price_csv(path).raw["Close"].tolist() == [r["Close"] for r in rows]
    else:
        with pytest.raises(DataError, match="an ETF: at most 35%"):
            read_price_csv(path)


def _utf16(text: bytes) -> bytes:
    return text.decode().encode("utf-16")


def _utf16_nobom(text: bytes) -> bytes:
    return text.decode().encode("utf-16-le")


FORMAT_CASES = [
    ("semicolons", lambda t: t.replace(b",", b";"), "separated by semicolons"),
    ("tabs", lambda t: t.replace(b",", b"\t"), "separated by tabs"),
    ("pipes", lambda t: t.replace(b",", b"|"), "separated by pipes"),
    ("utf16-bom", _utf16, "this is UTF-16 text"),
    ("utf16-le-no-bom", _utf16_nobom, "UTF-16 text without a byte-order mark"),
    ("utf32", lambda t: t.decode().encode("utf-32"), "UTF-32 text"),
    ("xlsx-zip", lambda t: b"PK\x03\x04" + bytes(range(200)), "a ZIP archive"),
    ("old-xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel .xls"),
    ("parquet", lambda t: b"PAR1" + bytes(100), "a parquet file"),
    ("gzip", lambda t: gzip.compress(t), "a gzip archive"),
    ("pdf", lambda t: b"%PDF-1.7\n" + bytes(50), "a PDF document"),
    ("random-binary", lambda t: bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)),
     "binary data"),
    ("latin1", lambda t: t.replace(b"Date", b"D\xe4te"), "not a UTF-8"),
    ("empty", lambda t: b"", "the file is empty"),
    ("header-only", lambda t: t.split(b"\n")[0] + b"\n", "a header but no data rows"),
    ("no-adjustment-columns", lambda t: t.replace(b"Adj Close", b"Adjusted"), "cannot tell whether prices are"),
    ("multi-line-header", lambda t: b"Price,Adj Close,Close,High,Low,Open,Volume\nTicker,SPY,SPY,SPY,SPY,SPY,SPY\n"
     + t.split(b"\n", 1)[1], "multi-line header"),
    ("truncated-line", lambda t: t[: t.index(b"\n", 200) - 10] + b"\n" + t[t.index(b"\n", 200) + 1:],
     "truncated"),
    ("extra-field", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-06,1,", 1), "more fields than the header"),
    ("not-a-number", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-06,abc", 1), "is not a number"),
    ("negative-price", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-06,-", 1), "must be > 0"),
    ("saturday", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-04,", 1), "NYSE was closed"),
    ("duplicate-date", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-03,", 1), "duplicate date"),
    ("time-of-day", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-06 10:30:00,", 1), "not a midnight"),
    ("bad-date", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-13-06,", 1), "cannot parse"),
    ("mixed-tz", lambda t: t.replace(b"\n2020-01-06,", b"\n2020-01-06 00:00:00-05:00,", 1), "mixes"),
]


@pytest.mark.parametrize("case", FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_malformed_price_files_are_named_errors(tmp_path, case):
    from research.data.prices import read_price_csv

    _, transform, says = case
    good = _write(tmp_path / "ok.csv", _bars(), ADJ).read_bytes()
    path = tmp_path / "SPY.csv"
    path.write_bytes(transform(good))
    with pytest.raises(DataError) as info:
        read_price_csv(path)
    assert str(path) in str(info.value) and says in str(info.value), str(info.value)


def _aware(line: bytes) -> bytes:
    """A data line with its date written as yfinance writes it: midnight New York time with its UTC offset."""
    day, rest = line.split(b",", 1)
    stamp = pd.Timestamp(day.decode()).tz_localize("America/New_York").isoformat(sep=" ")
    return stamp.encode() + b"," + rest


ACCEPTED = [
    ("plain", lambda t: t),
    ("crlf", lambda t: t.replace(b"\n", b"\r\n")),
    ("utf8-bom", lambda t: b"\xef\xbb\xbf" + t),
    ("blank-lines", lambda t: t.replace(b"\n2020-02-03,", b"\n\n2020-02-03,", 1)),
    ("trailing-blank", lambda t: t + b"\n\n"),
    ("null-row-on-a-holiday", lambda t: t.replace(b"\n2020-01-21,", b"\n2020-01-20,null,null,null,null,null,null\n"
                                                   b"2020-01-21,", 1)),
    ("aware-dates", lambda t: b"\n".join(
        ln if i == 0 or not ln else _aware(ln) for i, ln in enumerate(t.split(b"\n")))),
]


@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_good_price_files_are_read_unchanged(tmp_path, case):
    from research.data.prices import read_price_csv

    _, transform = case
    rows = _bars()
    good = _write(tmp_path / "ok.csv", rows, ADJ).read_bytes()
    path = tmp_path / "SPY.csv"
    path.write_bytes(transform(good))
    pf = read_price_csv(path)
    assert pf.layout == "adj_close" and len(pf.raw) == len(rows)
    for col in ("Open", "Close", "Adj Close", "Volume"):
        assert pf.raw[col].tolist() == [float(r[col]) for r in rows]
    assert list(pf.raw.index) == list(DAYS)


def test_a_good_history_file_with_an_adjusted_split_is_accepted(tmp_path):
    from research.data.prices import read_price_csv

    rows = _bars()
    rows[40]["Stock Splits"] = 2.0  # the split is recorded but the prices are adjusted: no jump
    path = _write(tmp_path / "XLK.csv", rows, HIST)
    pf = read_price_csv(path)
    assert pf.raw["Close"].tolist() == [r["Close"] for r in rows] and pf.raw["Stock Splits"].iloc[40] == 2.0


# --- the real files must pass ----------------------------------------------------------------------------------

REAL = sorted((Path(__file__).resolve().parents[1].parent / "shared" / "data" / "prices").glob("*.csv"))


@pytest.mark.parametrize("path", REAL or [None], ids=[p.name for p in REAL] or ["absent"])
def test_every_real_price_file_passes_unchanged(path, shared_data):
    from research.data.prices import read_price_csv

    if path is None:
        pytest.skip("no real price files")
    pf = read_price_csv(path)
    assert not [n for n in pf.notes if "allowed by" in n]
    ref = pd.read_csv(path, index_col=0, parse_dates=True).dropna(how="all")
    np.testing.assert_array_equal(pf.raw["Adj Close"].to_numpy(), ref["Adj Close"].to_numpy())


# --- the panel -------------------------------------------------------------------------------------------------

def _panel(**change) -> pd.DataFrame:
    as_of = pd.to_datetime(["2024-01-05", "2024-01-12", "2024-01-19"])
    df = pd.DataFrame({"as_of": as_of, "available_at": as_of + pd.Timedelta(days=4, hours=8),
                       "entity": "Energy", "metric": "net_flow", "value": [1.5, -2.0, 3.25],
                       "source": "test", "units": "usd_mn"})
    for k, v in change.items():
        df[k] = v
    return df


PANEL_BAD = [
    ("inf", {"value": [1.0, np.inf, 2.0]}, "infinite or absurd", "row 1"),
    ("minus-inf", {"value": [-np.inf, 1.0, 2.0]}, "infinite or absurd", "row 0"),
    ("1e308", {"value": [1.0, 2.0, 1e308]}, "infinite or absurd", "row 2"),
    ("1e16", {"value": [1e16, 2.0, 3.0]}, "infinite or absurd", "row 0"),
    ("bool-dtype", {"value": [True, False, True]}, "boolean value", "row 0"),
    ("bool-in-object", {"value": pd.Series([1.0, True, 2.0], dtype=object)}, "boolean value", "row 1"),
    ("numpy-bool", {"value": pd.Series([1.0, np.bool_(False), 2.0], dtype=object)}, "boolean value", "row 1"),
    ("nan", {"value": [1.0, np.nan, 2.0]}, "missing 'value'", "row 1"),
    ("text", {"value": ["1.0", "x", "2"]}, "non-numeric", "row 1"),
    ("unknown-entity", {"entity": ["Energy", "Enrgy", "Energy"]}, "unknown entit", "row 1"),
    ("public-before-as-of", {"available_at": pd.to_datetime(["2024-01-01", "2024-01-16", "2024-01-23"])},
     "available_at before as_of", "row 0"),
    ("duplicate", {"as_of": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-19"]),
                   "available_at": pd.to_datetime(["2024-01-09", "2024-01-09", "2024-01-23"])}, "duplicate", "row 1"),
    ("not-a-date", {"as_of": ["2024-01-05", "soon", "2024-01-19"]}, "not dates", "row 1"),
    ("missing-source", {"source": ["a", None, "c"]}, "missing 'source'", "row 1"),
]


@pytest.mark.parametrize("case", PANEL_BAD, ids=[c[0] for c in PANEL_BAD])
def test_the_panel_refuses_with_the_row(case):
    from research.data.panel import validate_panel

    _, change, says, row = case
    with pytest.raises(DataError) as info:
        validate_panel(_panel(**change), name="my panel")
    assert "my panel" in str(info.value) and says in str(info.value) and row in str(info.value), str(info.value)


@pytest.mark.parametrize("values", [[1.5, -2.0, 3.25], [0.0, -0.0, 1e14], [-1e15, 1e15, 5], [1, 2, 3]],
                         ids=["plain", "zeros-and-big", "at-the-bound", "ints"])
def test_the_panel_accepts_and_keeps_good_values(values):
    from research.data.panel import validate_panel

    out = validate_panel(_panel(value=values))
    assert out["value"].tolist() == [float(v) for v in values]


# --- CFTC --------------------------------------------------------------------------------------------------------

CFTC_BAD = [
    ("positions-above-oi", {"Lev_Money_Positions_Long_All": "2500000"}, "exceed the open interest"),
    ("short-above-oi", {"Dealer_Positions_Short_All": "2000001"}, "exceed the open interest"),
    ("oi-zero", {"Open_Interest_All": "0", "Lev_Money_Positions_Long_All": "0", "Lev_Money_Positions_Short_All": "0",
                 "Asset_Mgr_Positions_Long_All": "0", "Asset_Mgr_Positions_Short_All": "0",
                 "Dealer_Positions_Long_All": "0", "Dealer_Positions_Short_All": "0"}, "open interest is 0"),
    ("negative", {"Dealer_Positions_Long_All": "-5"}, "is negative"),
    ("inf", {"Open_Interest_All": "inf"}, "is not a number"),
]


@pytest.mark.parametrize("case", CFTC_BAD, ids=[c[0] for c in CFTC_BAD])
def test_cftc_refuses_impossible_positions_with_the_line(tmp_path, case):
    from test_cftc import tff_row, write_tff

    from research.data.cftc import read_tff

    _, values, says = case
    path = write_tff(tmp_path / "FinFut2024.txt", [tff_row("13874A", "2024-01-02"),
                                                  tff_row("13874A", "2024-01-09", **values)])
    with pytest.raises(DataError) as info:
        read_tff(path)
    assert str(path) in str(info.value) and "line 3" in str(info.value) and says in str(info.value)


@pytest.mark.parametrize("day, ok", [("2024-01-09", True), ("2024-12-23", True), ("2024-01-10", False),
                                     ("2024-01-12", False), ("2024-01-13", False), ("2024-01-14", False)],
                         ids=["tuesday", "holiday-monday", "wednesday", "friday", "saturday", "sunday"])
def test_cftc_as_of_is_a_tuesday(tmp_path, day, ok):
    from test_cftc import tff_row, write_tff

    from research.data.cftc import read_tff

    path = write_tff(tmp_path / "FinFut2024.txt", [tff_row("13874A", day)])
    if ok:
        raw = read_tff(path)
        assert raw["as_of"].tolist() == [pd.Timestamp(day)] and raw["open_interest"].tolist() == [2_000_000]
    else:
        with pytest.raises(DataError, match=f"line 2.*{day} is a {pd.Timestamp(day).day_name()}"):
            read_tff(path)


@pytest.mark.parametrize("transform, says", [
    (lambda t: t.replace(b",", b";"), "separated by semicolons"),
    (lambda t: t.replace(b",", b"\t"), "separated by tabs"),
    (_utf16, "UTF-16 text"),
    (lambda t: gzip.compress(t), "gzip archive"),
], ids=["semicolons", "tabs", "utf16", "gzip"])
def test_cftc_encodings_and_delimiters_are_named(tmp_path, transform, says):
    from test_cftc import tff_row, write_tff

    from research.data.cftc import read_tff

    path = write_tff(tmp_path / "FinFut2024.txt", [tff_row("13874A", "2024-01-09")])
    path.write_bytes(transform(path.read_bytes()))
    with pytest.raises(DataError, match=says):
        read_tff(path)


# --- prime book --------------------------------------------------------------------------------------------------

PRIME_BAD = [
    ("1e308", "2024-01-05,Energy,net_flow,1e308", "beyond any flow"),
    ("1e12", "2024-01-05,Energy,net_flow,1e12", "beyond any flow"),
    ("inf", "2024-01-05,Energy,net_flow,inf", "not a number"),
    ("nan", "2024-01-05,Energy,net_flow,nan", "not a number"),
    ("future", "2031-01-03,Energy,net_flow,1.0", "in the future"),
    ("percent", "2024-01-05,Energy,net_flow,5%", "Drop the % sign"),
    ("thousands", '2024-01-05,Energy,net_flow,"1,000"', "thousands separators"),
    ("blank", "2024-01-05,Energy,net_flow,", "blank value"),
    ("bad-sector", "2024-01-05,Enrgy,net_flow,1.0", "not a GICS sector"),
]


@pytest.mark.parametrize("case", PRIME_BAD, ids=[c[0] for c in PRIME_BAD])
def test_prime_book_refuses_with_the_line(tmp_path, case):
    from research.data.primebook import load_primebook

    _, row, says = case
    path = tmp_path / "book.csv"
    path.write_text(f"as_of,sector,metric,value\n2024-01-05,Utilities,net_flow,2.0\n{row}\n")
    with pytest.raises(DataError) as info:
        load_primebook(path)
    assert "line 3" in str(info.value) and says in str(info.value), str(info.value)


@pytest.mark.parametrize("transform, says", [
    (lambda t: t.replace(b",", b";"), "separated by semicolons"),
    (_utf16, "UTF-16 text"),
    (lambda t: b"PK\x03\x04" + t, "ZIP archive"),
], ids=["semicolons", "utf16", "zip-named-csv"])
def test_prime_book_encodings_and_delimiters_are_named(tmp_path, transform, says):
    from research.data.primebook import load_primebook

    path = tmp_path / "book.csv"
    path.write_bytes(transform(b"as_of,sector,metric,value\n2024-01-05,Utilities,net_flow,2.0\n"))
    with pytest.raises(DataError, match=says):
        load_primebook(path)


def test_prime_book_good_values_are_kept(tmp_path):
    from research.data.primebook import load_primebook

    path = tmp_path / "book.csv"
    path.write_text("as_of,sector,metric,value\n2024-01-05,Utilities,net_flow,2.5\n2024-01-05,Energy,net_flow,-1e6\n")
    assert sorted(load_primebook(path)["value"].tolist()) == [-1e6, 2.5]


# --- the calendar and the synthetic spec -------------------------------------------------------------------------

@pytest.mark.parametrize("lo, hi", [("2100-01-01", "2100-02-01"), ("1900-01-02", "1900-02-01"),
                                    ("2020-01-02", "2199-01-01")])
def test_dates_past_the_calendar_are_a_clear_error(lo, hi):
    with pytest.raises(DataError, match=f"the dates {lo} to {hi} reach outside the NYSE calendar"):
        sessions(lo, hi)


@pytest.mark.parametrize("spec, says", [
    ("synthetic:seed=-1", "seed=-1 must be a whole number >= 0"),
    ("synthetic:seed=1.5", "is not a whole number"),
    ("synthetic:seed=abc", "is not a whole number"),
    ("synthetic:ic=nan", "ic=nan must be a finite number"),
    ("synthetic:ic=inf", "ic=inf must be a finite number"),
    ("synthetic:ic=-inf", "must be a finite number"),
    ("synthetic:ic=2", "in \\[-1, 1\\]"),
    ("synthetic:fresh_flow=nan", "fresh_flow=nan must be a finite number"),
    ("synthetic:ic", "expected key=value"),
    ("synthetic:bogus=1", "unknown mechanism"),
])
def test_bad_synthetic_specs_are_clear_errors(spec, says):
    from research.run import load_data

    with pytest.raises(ConfigError, match=says):
        load_data(spec)


# --- parameters ---------------------------------------------------------------------------------------------------

def _numeric_params() -> list[tuple[str, str]]:
    out = []
    for name, s in registry.registry().items():
        out += [(name, k) for k, v in s.params.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return out


NUMERIC = _numeric_params()


@pytest.mark.parametrize("name, key", NUMERIC, ids=[f"{n}.{k}" for n, k in NUMERIC])
def test_nan_and_inf_are_refused_for_every_numeric_parameter(name, key):
    strat = registry.get(name)
    for bad in ("nan", "inf", "-inf", float("nan")):
        with pytest.raises(ConfigError, match=f"{name}.{key}"):
            strat.resolve({key: bad})
    assert strat.resolve({key: str(strat.params[key])}) == dict(strat.params)  # the default: accepted, unchanged


def _bound_cases() -> list[tuple[str, str, str, str]]:
    """A value just outside each declared bound of every numeric parameter (`Param.lo` / `Param.hi`)."""
    out = []
    for name, s in registry.registry().items():
        for k, p in s.spec.items():
            if not isinstance(p.default, int | float) or isinstance(p.default, bool):
                continue
            step = 1 if isinstance(p.default, int) else 0.5
            if p.lo is not None:
                out.append((name, k, str(p.lo - step), "is not valid; it must be"))
            if p.hi is not None:
                out.append((name, k, str(p.hi + step), "is not valid; it must be"))
    return out


BOUNDS = _bound_cases()


@pytest.mark.parametrize("name, key, value, says", BOUNDS, ids=[f"{n}.{k}={v}" for n, k, v, _ in BOUNDS])
def test_values_outside_the_declared_bounds_are_refused(name, key, value, says):
    with pytest.raises(ConfigError, match=says):
        registry.get(name).resolve({key: value})


@pytest.mark.parametrize("name, key, value", [
    ("fresh_flow_low_exposure", "sell_weeks", "0"), ("flow_composite", "sell_weeks", "0"),
    ("cot_leveraged_funds", "long_weight", "0"), ("flow_breadth", "off_weight", "0.0"),
    ("fresh_flow_low_exposure", "top_n", "11"), ("degrossing_squeeze", "drop", "0.5"),
])
def test_meaningful_edge_values_are_accepted_unchanged(name, key, value):
    strat = registry.get(name)
    assert strat.resolve({key: value})[key] == type(strat.params[key])(float(value))


def test_the_cli_names_the_bad_parameter(capsys):
    from research.cli import main

    assert main(["run", "fresh_flow_low_exposure", "--set", "top_n=0", "--no-tearsheet"]) == 2
    err = capsys.readouterr().err
    assert "fresh_flow_low_exposure.top_n" in err and "Traceback" not in err


# --- grids ----------------------------------------------------------------------------------------------------

GRID_BAD = [
    (["top_n=1:100000000"], "100,000,000 configs, above the cap of 1,000,000"),
    (["top_n=1:2000", "hold=1:1000"], "2,000,000 configs"),
    (["pct_below=0.1:nan"], "not a finite number"),
    (["pct_below=inf:1"], "not a finite number"),
    (["pct_below=nan,0.3"], "not a finite number"),
    (["top_n=0:3"], r"top_n: 0 is not valid; it must be a whole number in \[1, 11\]"),
    (["hold=-2:2"], r"hold: -2 is not valid"),
    (["top_n=3:1"], "start <= stop"),
    (["top_n=1:3:0"], "step > 0"),
    (["top_n=1:3:-1"], "step > 0"),
    (["top_n=a:b"], "not a numeric range"),
    (["top_n=1:2:3:4"], "start:stop or start:stop:step"),
    (["top_n="], "expects key=v1,v2"),
    (["nonsense=1,2"], "unknown parameter 'nonsense'"),
    (["top_n=one,two"], "is not a valid int"),
]


@pytest.mark.parametrize("items, says", GRID_BAD, ids=[" ".join(i) for i, _ in GRID_BAD])
def test_bad_grids_are_refused_before_any_work(items, says):
    from research.sweep.grid import expand, parse_grid

    strat = registry.get("fresh_flow_low_exposure")
    with pytest.raises(ConfigError, match=says):
        expand(strat, parse_grid(items, strat))


def test_the_cap_can_be_raised_and_is_checked_before_expansion():
    from research.sweep.grid import expand, parse_grid

    strat = registry.get("fresh_flow_low_exposure")
    grid = parse_grid(["top_n=1:3", "hold=1:4"], strat, max_configs=20)
    assert len(expand(strat, grid, max_configs=12)) == 12
    with pytest.raises(ConfigError, match="12 configs, above the cap of 11"):
        expand(strat, grid, max_configs=11)


def test_the_cli_cap_flag(capsys):
    from research.cli import main

    assert main(["sweep", "fresh_flow_low_exposure", "--grid", "top_n=1:3", "--max-configs", "2"]) == 2
    assert "3 configs, above the cap of 2" in capsys.readouterr().err
    assert main(["sweep", "fresh_flow_low_exposure", "--max-configs", "0"]) == 2
    assert "--max-configs must be >= 1" in capsys.readouterr().err



# --- the yfinance cache ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("mutate, says", [
    (None, None),
    (_times(50, 100.0), "close to close return"),
    (_times(25, 0.5, ("Close",)), "Adj Close / Close moves"),
    (_set(6, Open=float("inf")), "'Open' is inf"),
    (_set(7, Volume=1e13), "'Volume' is 1e\\+13"),
], ids=["good", "x100", "close-vs-adj", "inf", "volume"])
def test_the_yfinance_cache_is_checked_like_a_file(tmp_path, mutate, says):
    from research.data import yahoo

    rows = _bars()
    if mutate is not None:
        mutate(rows)
    raw = pd.DataFrame(rows).set_index(pd.DatetimeIndex([r["Date"] for r in rows], name="date"))
    raw = raw[list(yahoo.RAW_COLUMNS)].astype(float)
    path = yahoo.write_entry(yahoo.CacheEntry("XLK", raw, DAYS[0], DAYS[-1]), tmp_path)
    if says is None:
        assert yahoo.read_cached("XLK", cache_dir=tmp_path).close["XLK"].tolist() == raw["Adj Close"].tolist()
    else:
        with pytest.raises(DataError, match=says) as info:
            yahoo.read_cached("XLK", cache_dir=tmp_path)
        assert str(path) in str(info.value) and "Delete the cache file" in str(info.value)


# --- the other real-data parsers: encodings and delimiters named ------------------------------------------------

def _head(path: Path, n: int = 6) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:n])


PARSERS = {
    "finra": ("finra/shrt20180112.csv", "research.data.finra:read_short_interest", b"|"),
    "13f": ("13f/holdings_2025Q1.csv", "research.data.thirteenf:read_13f", b","),
    "gics": ("reference/sp500_gics_snapshots_yearly.csv", "research.data.gics:load_gics_snapshots", b","),
}
ENCODINGS = [("utf16", _utf16, "UTF-16 text"), ("gzip", gzip.compress, "gzip archive"),
             ("xlsx", lambda t: b"PK\x03\x04" + t, "ZIP archive"), ("semicolons", None, "separated by semicolons")]


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("case", ENCODINGS, ids=[c[0] for c in ENCODINGS])
def test_real_data_parsers_name_encodings_and_delimiters(tmp_path, shared_data, parser, case):
    import importlib

    rel, target, delim = PARSERS[parser]
    _, transform, says = case
    text = _head(shared_data / rel)
    data = text.replace(delim, b";") if transform is None else transform(text)
    path = tmp_path / Path(rel).name
    path.write_bytes(data)
    module, _, fn = target.partition(":")
    with pytest.raises(DataError) as info:
        getattr(importlib.import_module(module), fn)(path)
    assert str(path) in str(info.value) and says in str(info.value), str(info.value)
