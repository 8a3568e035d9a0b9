"""Price loaders: Yahoo CSV directories (both layouts, every malformed-file error), the yfinance cache, dispatch."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data import yahoo
from research.data.calendar import sessions
from research.data.prices import Prices, load_price_dir, read_price_csv
from research.data.sources import load_prices
from research.errors import ConfigError, DataError, NetworkError

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


@pytest.fixture(scope="module")
def prices_dir(shared_data: Path) -> Path:
    return shared_data / "prices"


@pytest.fixture(scope="module")
def real(prices_dir: Path) -> Prices:
    return load_prices(prices_dir)


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# --- the real directory ---------------------------------------------------------------------------------------


def test_spy_raw_close_and_adjusted_returns(real: Prices, prices_dir: Path) -> None:
    raw = read_price_csv(prices_dir / "SPY.csv").raw
    assert raw.loc["2020-03-23", "Close"] == pytest.approx(222.95, abs=5e-3)
    assert raw.loc["2024-12-31", "Close"] == pytest.approx(586.08, abs=5e-3)
    assert real.close.loc["2020-03-23", "SPY"] == raw.loc["2020-03-23", "Adj Close"] < 222.95
    # Close-to-close returns are Adj Close returns (they include dividends), not raw Close returns.
    yr = slice("2020-01-02", "2020-12-31")
    got = real.close.loc[yr, "SPY"].pct_change()
    pd.testing.assert_series_equal(got, raw.loc[yr, "Adj Close"].pct_change(), check_names=False, check_freq=False)
    assert real.close.loc[yr, "SPY"].iloc[-1] / real.close.loc[yr, "SPY"].iloc[0] > (
        raw.loc[yr, "Close"].iloc[-1] / raw.loc[yr, "Close"].iloc[0] + 0.01)
    # Open carries the same day's adjustment factor as close.
    row = raw.loc["2020-03-23"]
    assert real.open.loc["2020-03-23", "SPY"] == pytest.approx(row["Open"] * row["Adj Close"] / row["Close"])


def test_known_closes_and_inceptions(real: Prices, prices_dir: Path) -> None:
    xlk = read_price_csv(prices_dir / "XLK.csv").raw
    assert xlk.loc["2020-12-31", "Close"] == pytest.approx(130.02, abs=5e-3)
    assert real.close.loc["2020-12-31", "XLK"] == xlk.loc["2020-12-31", "Adj Close"]
    assert real.close.loc["2020-03-16", "VIX"] == pytest.approx(82.69, abs=5e-3)
    first = real.first_valid()
    assert first["XLRE"] == pd.Timestamp("2015-10-08") and first["XLC"] == pd.Timestamp("2018-06-19")
    assert real.close.loc[: "2015-10-07", "XLRE"].isna().all()
    assert real.close.loc[: "2018-06-18", "XLC"].isna().all()
    assert any(n.startswith("XLC: first price 2018-06-19") for n in real.notes)


def test_index_is_sessions_with_the_911_gap(real: Prices) -> None:
    idx = real.index
    assert idx.name == "date" and idx.tz is None and idx.is_unique and idx.is_monotonic_increasing
    assert idx.isin(sessions(idx[0], idx[-1])).all()
    pos = idx.get_loc(pd.Timestamp("2001-09-10"))
    assert idx[pos + 1] == pd.Timestamp("2001-09-17")


def test_partial_spy_row_dropped_and_other_quirks_noted(real: Prices, prices_dir: Path) -> None:
    assert real.index[-1] == pd.Timestamp("2025-09-25")
    assert any("SPY: dropped the final row 2025-09-26" in n for n in real.notes)
    # The rule looks at every file of the directory, so loading SPY alone drops the row too.
    alone = load_prices(prices_dir, ["SPY"], start="2025-09-01")
    assert alone.index[-1] == pd.Timestamp("2025-09-25") and alone.index[0] == pd.Timestamp("2025-09-02")
    assert any("VIX: dropped 323 row(s) empty in every field (323 on NYSE holidays)" in n for n in real.notes)
    assert any(n.startswith("VVIX: 9 NYSE session(s) without a row") for n in real.notes)
    assert any(n.startswith("XLF: Yahoo treats the 2016-09-19 XLRE spin-off") for n in real.notes)
    assert not any(n.startswith("XLF: Yahoo") for n in load_prices(prices_dir, ["XLF"], start="2017-01-03").notes)


def test_partial_rule_needs_exactly_one_session_ahead(tmp_path: Path) -> None:
    row = "{d},10,11,9,10,9,1000"
    write(tmp_path / "AAA.csv", HEADER, row.format(d="2020-01-02"), row.format(d="2020-01-03"))
    write(tmp_path / "BBB.csv", HEADER, row.format(d="2020-01-03"), row.format(d="2020-01-06"))
    p = load_price_dir(tmp_path)
    assert p.close["BBB"].last_valid_index() == pd.Timestamp("2020-01-03")
    assert any("BBB: dropped the final row 2020-01-06 (line 3)" in n for n in p.notes)
    write(tmp_path / "BBB.csv", HEADER, row.format(d="2020-01-03"), row.format(d="2020-01-07"))
    assert load_price_dir(tmp_path).close["BBB"].last_valid_index() == pd.Timestamp("2020-01-07")
    (tmp_path / "AAA.csv").unlink()  # one file alone has no peers: nothing to compare, nothing dropped
    write(tmp_path / "BBB.csv", HEADER, row.format(d="2020-01-03"), row.format(d="2020-01-06"))
    assert load_price_dir(tmp_path).index[-1] == pd.Timestamp("2020-01-06")


def test_ticker_names_and_caret(tmp_path: Path, prices_dir: Path) -> None:
    p = load_prices(prices_dir, ["^VIX", "spy"], start="2020-03-16", end="2020-03-17")
    assert p.tickers == ["^VIX", "spy"] and p.close.loc["2020-03-16", "^VIX"] == pytest.approx(82.69, abs=5e-3)
    with pytest.raises(DataError, match=r"no file for ticker 'XLZ'.*SPY\.csv"):
        load_prices(prices_dir, ["XLZ"])
    write(tmp_path / "VIX.csv", HEADER, "2020-01-02,10,11,9,10,10,0")
    write(tmp_path / "^VIX.csv", HEADER, "2020-01-02,10,11,9,10,10,0")
    with pytest.raises(DataError, match=r"matches \['VIX.csv', '\^VIX.csv'\]"):
        load_prices(tmp_path, ["VIX"])


def test_history_layout_with_aware_dates(tmp_path: Path) -> None:
    write(tmp_path / "XLK.csv", "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits",
          "2020-03-06 00:00:00-05:00,85.5,86.0,84.0,85.0,100,0.0,0.0",
          "2020-03-09 00:00:00-04:00,80.0,81.0,78.0,79.0,200,0.2,0.0",
          "2020-03-10 00:00:00-04:00,81.0,84.0,80.0,83.5,150,0.0,0.0")
    pf = read_price_csv(tmp_path / "XLK.csv")
    assert pf.layout == "history"
    p = load_prices(tmp_path)
    assert list(p.index) == list(pd.to_datetime(["2020-03-06", "2020-03-09", "2020-03-10"]))
    assert p.close["XLK"].tolist() == [85.0, 79.0, 83.5] and p.open["XLK"].tolist() == [85.5, 80.0, 81.0]
    assert p.volume is not None and p.volume["XLK"].tolist() == [100, 200, 150]
    assert p.source == str(tmp_path) and p.notes == ()
    # The same session written in UTC maps to the same New York date.
    write(tmp_path / "XLK.csv", "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits",
          "2020-03-06 05:00:00+00:00,85.5,86.0,84.0,85.0,100,0.0,0.0")
    assert load_prices(tmp_path).index[0] == pd.Timestamp("2020-03-06")


# --- malformed files ------------------------------------------------------------------------------------------

GOOD = ["2020-01-02,10,11,9,10,9.5,100", "2020-01-03,10,11,9,10,9.5,100", "2020-01-06,10,11,9,10,9.5,100"]


@pytest.mark.parametrize(("lines", "pattern"), [
    (["Date,High,Low,Close,Volume,Dividends,Stock Splits", "2020-01-02,11,9,10,100,0,0"],
     r"line 1: missing column\(s\) \['Open'\]"),
    (["Date,Open,High,Low,Adj Close,Volume", "2020-01-02,10,11,9,9.5,100"], r"line 1: missing column\(s\) \['Close'\]"),
    (["Date,Open,High,Low,Close,Volume", "2020-01-02,10,11,9,10,100"], r"line 1: cannot tell whether prices are adjusted"),
    ([HEADER, GOOD[0], "2020-01-32,10,11,9,10,9.5,100"], r"line 3, column 'Date': cannot parse '2020-01-32'"),
    ([HEADER, GOOD[0], "2020-01-03,10,11,9,ten,9.5,100"], r"line 3, column 'Close': 'ten' is not a number"),
    ([HEADER, GOOD[0], GOOD[1], GOOD[1]], r"line 4, column 'Date': duplicate date 2020-01-03 \(also on line 3\)"),
    ([HEADER, GOOD[1], GOOD[0]], r"line 3, column 'Date': 2020-01-02 comes after 2020-01-03 \(line 2\)"),
    ([HEADER, GOOD[0], "2020-01-03,10,11,9,-10,9.5,100"], r"line 3, column 'Close': -10 on 2020-01-03 .* must be > 0"),
    ([HEADER, GOOD[0], "2020-01-03,10,11,9,10,0,100"], r"line 3, column 'Adj Close': 0 on 2020-01-03 .* must be > 0"),
    ([HEADER, GOOD[0], GOOD[1], "2020-01-06,10,11,9,1"], r"line 4: has fewer fields than the header: .*truncated.*'2020-01-06,10,11,9,1'"),
    ([HEADER, GOOD[0], "2020-01-04,10,11,9,10,9.5,100"], r"line 3 \(2020-01-04, Saturday\)"),
    ([HEADER, GOOD[0], "2020-01-03 10:00:00,10,11,9,10,9.5,100"], r"line 3, column 'Date': .*not a midnight session"),
    (["Price,Close,High,Low,Open,Volume", "Ticker,SPY,SPY,SPY,SPY,SPY", "Date,,,,,"], r"line 1: a multi-line header"),
    ([HEADER], r"a header but no data rows"),
])
def test_malformed_csv_names_file_line_column_value(tmp_path: Path, lines: list[str], pattern: str) -> None:
    path = write(tmp_path / "BAD.csv", *lines)
    with pytest.raises(DataError, match=pattern) as info:
        load_prices(tmp_path)
    assert str(path) in str(info.value)


def test_empty_and_partial_fields_are_reported_not_filled(tmp_path: Path) -> None:
    write(tmp_path / "AAA.csv", HEADER, GOOD[0], "2020-01-03,null,null,null,null,null,null",
          "2020-01-06,,11,9,10,9.5,100", "2020-01-07,10,11,9,10,9.5,100")
    p = load_prices(tmp_path)
    assert list(p.index.strftime("%m-%d")) == ["01-02", "01-06", "01-07"]
    assert np.isnan(p.open.loc["2020-01-06", "AAA"]) and p.close.loc["2020-01-06", "AAA"] == 9.5
    assert "AAA: dropped 1 row(s) empty in every field (0 on NYSE holidays, 1 on sessions, left NaN)" in p.notes
    assert "AAA: 1 NYSE session(s) without a row, left NaN: 2020-01-03" in p.notes
    assert any("1 row(s) with some empty prices, left NaN (first: line 4, 2020-01-06)" in n for n in p.notes)


def test_source_dispatch_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown price source 'nope'"):
        load_prices("nope")
    f = write(tmp_path / "SPY.csv", HEADER, GOOD[0])
    with pytest.raises(ConfigError, match="is a file; give the directory"):
        load_prices(f)


@pytest.mark.skipif(importlib.util.find_spec("research.data.synthetic") is None,
                    reason="research.data.synthetic is not written yet")
def test_synthetic_source() -> None:
    p = load_prices("synthetic", ["SPY"], start="2015-01-01")
    assert isinstance(p, Prices) and p.tickers == ["SPY"] and p.source.startswith("synthetic")
    assert p.index[0] >= pd.Timestamp("2015-01-01")


# --- yfinance through the cache -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yahoo_rows(prices_dir: Path) -> dict[str, pd.DataFrame]:
    """Raw auto_adjust=False rows of 2019-2021, the 'server side' of the fake yfinance."""
    return {t: read_price_csv(prices_dir / f"{t}.csv").raw.loc["2019":"2021"] for t in ("SPY", "XLK")}


class FakeYahoo:
    """Stands in for `yfinance.download`, returning frames shaped like yfinance 1.7's (see yfinance/multi.py)."""

    def __init__(self, rows: dict[str, pd.DataFrame]) -> None:
        self.rows, self.calls, self.down, self.rebase, self.ignore_end = rows, [], set(), 1.0, False

    def __call__(self, tickers, start=None, end=None, **kw):
        self.calls.append({"tickers": list(tickers), "start": start, "end": end, **kw})
        dfs = {}
        for t in (t.upper() for t in tickers):
            df = self.rows.get(t) if t not in self.down else None
            if df is None:
                df = pd.DataFrame(columns=list(yahoo.RAW_COLUMNS), index=pd.DatetimeIndex([], name="Date"), dtype=float)
            else:
                df = df.loc[pd.Timestamp(start): None if self.ignore_end else pd.Timestamp(end) - pd.Timedelta(days=1)]
                df = df.copy()
                df["Adj Close"] *= self.rebase
                df.index = pd.DatetimeIndex(df.index.as_unit("s"), name="Date")
            dfs[t] = df
        idx = pd.DatetimeIndex(sorted(set().union(*(d.index for d in dfs.values()))), name="Date").as_unit("s")
        return pd.concat({t: d.reindex(idx) for t, d in dfs.items()}, axis=1, sort=True, names=["Ticker", "Price"])


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch, yahoo_rows: dict[str, pd.DataFrame]) -> FakeYahoo:
    import yfinance

    f = FakeYahoo(yahoo_rows)
    monkeypatch.setattr(yfinance, "download", f)
    return f


NOW = pd.Timestamp("2026-01-05 12:00")


def test_fetch_creates_cache_and_reads_runs_from_it(fake: FakeYahoo, tmp_path: Path, yahoo_rows) -> None:
    res = yahoo.fetch_prices(["SPY", "XLK"], "2020-01-01", "2020-06-30", tmp_path, now=NOW)
    assert [r.action for r in res] == ["created", "created"] and (tmp_path / "SPY.parquet").exists()
    call = fake.calls[0]
    assert call["tickers"] == ["SPY", "XLK"] and (call["start"], call["end"]) == ("2020-01-02", "2020-07-01")
    assert {k: call[k] for k in ("auto_adjust", "actions", "group_by", "threads")} == {
        "auto_adjust": False, "actions": False, "group_by": "ticker", "threads": False}
    assert yahoo.fetch_prices(["SPY", "XLK"], "2020-01-01", "2020-06-30", tmp_path, now=NOW)[0].action == "up to date"
    assert len(fake.calls) == 1
    p = load_prices("yfinance", ["SPY", "XLK"], "2020-01-01", "2020-06-30", cache_dir=tmp_path)
    assert len(fake.calls) == 1 and p.source == "yfinance" and p.index.tz is None and p.index.name == "date"
    spy = yahoo_rows["SPY"].loc["2020-01-01":"2020-06-30"]
    np.testing.assert_array_equal(p.close["SPY"].to_numpy(), spy["Adj Close"].to_numpy())
    assert p.close.loc["2020-03-23", "SPY"] == spy.loc["2020-03-23", "Adj Close"]


def test_fetch_appends_with_overlap_and_refetches_when_rebased(fake: FakeYahoo, tmp_path: Path) -> None:
    yahoo.fetch_prices("SPY", "2020-01-01", "2020-06-30", tmp_path, now=NOW)
    res = yahoo.fetch_prices("SPY", "2020-01-01", "2020-09-30", tmp_path, now=NOW)[0]
    assert res.action == "extended" and fake.calls[-1]["start"] == "2020-06-20"
    entry = yahoo.read_entry("SPY", tmp_path)
    assert entry is not None and entry.raw.index.is_unique and entry.covered_end == pd.Timestamp("2020-09-30")
    assert len(entry.raw) == len(sessions("2020-01-02", "2020-09-30"))
    fake.rebase = 1.01  # a new dividend re-bases every Adj Close: stitching would invent a 1% return
    res = yahoo.fetch_prices("SPY", "2020-01-01", "2020-12-31", tmp_path, now=NOW)[0]
    assert res.action == "refetched" and "re-based" in res.notes[-1]
    assert (fake.calls[-1]["start"], fake.calls[-1]["end"]) == ("2020-01-02", "2021-01-01")
    p = yahoo.read_cached(["SPY"], cache_dir=tmp_path)
    assert p.close["SPY"].pct_change().abs().max() < 0.2


def test_offline_empty_frame_is_a_network_error_for_uncached_only(fake: FakeYahoo, tmp_path: Path) -> None:
    yahoo.fetch_prices("SPY", "2020-01-01", "2020-03-31", tmp_path, now=NOW)
    fake.down = {"SPY", "XLK"}
    with pytest.raises(NetworkError, match=r"no prices for \['XLK'\].*\['SPY'\] are cached.*fetch-prices XLK"):
        yahoo.fetch_prices(["SPY", "XLK"], "2020-01-01", "2020-06-30", tmp_path, now=NOW)
    res = yahoo.fetch_prices(["SPY"], "2020-01-01", "2020-06-30", tmp_path, now=NOW)[0]
    assert res.action == "stale" and "serving the cache" in res.notes[0]
    assert yahoo.read_entry("SPY", tmp_path).covered_end == pd.Timestamp("2020-03-31")  # not marked as fetched


def test_one_failed_ticker_among_good_ones(fake: FakeYahoo, tmp_path: Path) -> None:
    fake.down = {"XLK"}  # yfinance gives it all-NaN columns beside SPY's rows
    with pytest.raises(NetworkError, match=r"no prices for \['XLK'\]"):
        yahoo.fetch_prices(["SPY", "XLK"], "2020-01-01", "2020-03-31", tmp_path, now=NOW)
    assert (tmp_path / "SPY.parquet").exists() and not (tmp_path / "XLK.parquet").exists()


def test_offline_never_touches_the_network(fake: FakeYahoo, tmp_path: Path) -> None:
    yahoo.fetch_prices("SPY", "2020-01-01", "2020-03-31", tmp_path, now=NOW)
    n = len(fake.calls)
    p = load_prices("yfinance", ["SPY"], "2020-01-01", "2020-12-31", offline=True, cache_dir=tmp_path)
    assert len(fake.calls) == n and p.index[-1] == pd.Timestamp("2020-03-31")
    assert any("cache covers 2020-01-02 → 2020-03-31 only" in note for note in p.notes)
    with pytest.raises(NetworkError, match=r"no cached prices for \['XLK'\].*fetch-prices XLK"):
        load_prices("yfinance", ["SPY", "XLK"], offline=True, cache_dir=tmp_path)
    assert len(fake.calls) == n


def test_unsettled_session_is_not_cached(fake: FakeYahoo, tmp_path: Path) -> None:
    res = yahoo.fetch_prices("SPY", "2020-03-02", None, tmp_path, now=pd.Timestamp("2020-03-06 11:00"))[0]
    assert res.last == pd.Timestamp("2020-03-05") and fake.calls[0]["end"] == "2020-03-06"
    fake.ignore_end = True  # as if Yahoo also sent today's intraday bar
    res = yahoo.fetch_prices("XLK", "2020-03-02", None, tmp_path, now=pd.Timestamp("2020-03-06 11:00"))[0]
    assert res.last == pd.Timestamp("2020-03-05") and "ignored" in res.notes[0] and "from 2020-03-06" in res.notes[0]
    with pytest.raises(ConfigError, match="no settled NYSE session"):
        yahoo.fetch_prices("SPY", "2020-03-07", "2020-03-08", tmp_path, now=pd.Timestamp("2020-03-09 10:00"))


def test_cache_dir_default_and_bad_cache_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(yahoo.ENV_VAR, str(tmp_path))
    assert yahoo.default_cache_dir() == tmp_path / "prices"
    assert yahoo.cache_file("^vix") == tmp_path / "prices" / "^VIX.parquet"
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "SPY.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"SPY.parquet: unreadable price cache file.*Delete it"):
        yahoo.read_entry("SPY")
    with pytest.raises(ConfigError, match="not a Yahoo ticker"):
        yahoo.cache_file("../etc")


def test_yahoo_row_on_a_closed_day_is_dropped_with_a_note(tmp_path: Path, yahoo_rows) -> None:
    raw = yahoo_rows["SPY"].loc["2020-01-02":"2020-01-10"].copy()
    raw.loc[pd.Timestamp("2020-01-04")] = raw.iloc[0]  # a Saturday row, as Yahoo occasionally sends
    yahoo.write_entry(yahoo.CacheEntry("SPY", raw.sort_index(), pd.Timestamp("2020-01-02"),
                                       pd.Timestamp("2020-01-10")), tmp_path)
    p = yahoo.read_cached("SPY", cache_dir=tmp_path)
    assert pd.Timestamp("2020-01-04") not in p.index and len(p.index) == 7
    assert "SPY: dropped 1 Yahoo row(s) on days the NYSE was closed: 2020-01-04" in p.notes
    assert len(yahoo.read_entry("SPY", tmp_path).raw) == 8  # the cache still mirrors Yahoo
