"""The public API: research.load / run / sweep / tearsheet / compare, on the same functions as the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import research
from research.errors import ConfigError, FlowbtError
from research.report.load import load_run

ROOT = Path(__file__).resolve().parents[1]
NAME = "fresh_flow_low_exposure"


def same(a: dict, b: dict) -> bool:
    """Equal dicts, NaN equal to NaN (as in metrics.json)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@pytest.fixture(autouse=True)
def _trials(tmp_path, monkeypatch):
    """A trial log of each test's own (a sweep appends to it; the tear sheet reads it)."""
    monkeypatch.setenv("FLOWBT_TRIALS", str(tmp_path / "trials.duckdb"))


@pytest.fixture(scope="module")
def run(market):
    return research.run(NAME, market)


def test_import_research_is_cheap():
    code = ("import sys, research\n"
            "heavy = [m for m in ('pandas', 'numpy', 'numba', 'vectorbt', 'matplotlib') if m in sys.modules]\n"
            "print(heavy, callable(research.run), research.load.__name__, research.tearsheet.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    first, *_ = done.stdout.splitlines()
    assert first.startswith("[] True load_data tearsheet"), done.stdout  # nothing heavy until a name is used


def test_the_api_names_resolve():
    assert callable(research.run) and callable(research.sweep)
    assert research.load is research.run.load_data
    from research.report.sheets import compare, tearsheet

    assert research.tearsheet is tearsheet and research.compare is compare
    table = research.strategies()
    assert NAME in table.index and table.loc[NAME, "mode"] == "long_only" and "hypothesis" in table
    with pytest.raises(AttributeError):
        research.nonsense  # noqa: B018


def test_run_in_memory_equals_the_command_lines_run(run, market, tmp_path):
    from research.run import run_strategy

    assert isinstance(run, research.Run)
    out = run_strategy(NAME, market, out=tmp_path / "cli", tearsheet=False)
    assert same(out.metrics, run.metrics)
    pd.testing.assert_series_equal(out.result.returns, run.result.returns)
    assert run.returns.name == NAME and run.returns.attrs  # tagged with its run
    assert set(run.benchmarks.columns) >= {"SPY"}
    assert len(run.trades) and run.weights.shape[1] == run.target.shape[1]
    assert run.period[0] == run.returns.dropna().index[0]


def test_run_takes_parameters_and_execution_options(market, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = research.run(NAME, market, top_n=2, fees_bps=10)
    assert list(tmp_path.iterdir()) == []  # a run in memory writes nothing
    assert r.params["top_n"] == 2 and r.config.fees_bps == 10
    with pytest.raises(ConfigError, match="unknown parameter"):
        research.run(NAME, market, nonsense=1)
    with pytest.raises(ConfigError, match="not both"):
        research.run(NAME, market, config=r.config, fees_bps=1)


def test_save_writes_the_run_folder_and_record_matches_it(run, tmp_path):
    folder = run.save(tmp_path / "saved", pdf=False)
    assert (folder / "tearsheet.html").exists() and run.folder == folder
    disk, mem = load_run(folder), run.record()
    assert same(disk.metrics, mem.metrics) and same(disk.config, mem.config)
    np.testing.assert_array_equal(disk.returns.to_numpy(), mem.returns.to_numpy())
    pd.testing.assert_frame_equal(disk.close, mem.close, check_freq=False)
    assert disk.provenance["data_hash"] == mem.provenance["data_hash"]


def test_tearsheet_of_returns_writes_html_and_pdf_and_omits_what_returns_cannot_show(run, tmp_path):
    sheet = research.tearsheet(run.returns, benchmark="SPY", out=tmp_path / "ts")
    assert sheet.path == tmp_path / "ts" / "tearsheet.html" and sheet.path.exists() and sheet.pdf.exists()
    keys = {s.key: s for s in sheet.doc.sections}
    assert "Not shown" in keys["positioning"].blocks[0].text
    assert keys["performance"].figures  # performance is drawn
    page = sheet.path.read_text()
    assert "holds no positions" in page and "fig-equity" in page
    # "SPY" resolved to the run's own benchmark (the returns carry their run)
    spy = run.metrics["benchmarks"]["SPY"]["sharpe"]
    assert sheet.doc.sections[1].blocks[0].df.loc["Sharpe", "SPY"] == f"{spy:.2f}"


def test_tearsheet_of_plain_returns_with_a_series_benchmark(run):
    r = pd.Series(run.result.returns.to_numpy(), index=run.result.returns.index, name="mine")
    b = run.benchmarks["SPY"].rename("SPY")
    sheet = research.tearsheet(r, benchmark=b)
    assert sheet.path is None and "mine" in sheet.doc.title
    assert "in memory" in repr(sheet)
    with pytest.raises(ConfigError, match="fetch-prices"):
        research.tearsheet(r, benchmark="NOPE")


def test_tearsheet_of_a_portfolio_shows_positions_but_no_signal(run):
    sheet = research.tearsheet(run.portfolio, benchmark="SPY")  # the run's SPY: the portfolio is the run's
    assert sheet.doc.sections[1].blocks[0].df.loc["Beta to SPY"].iloc[0] == f"{run.metrics['beta']:.2f}"
    keys = {s.key: s for s in sheet.doc.sections}
    assert keys["positioning"].figures
    assert "Not shown" in keys["signal"].blocks[0].text
    m = sheet.doc.sections[1].blocks[0].df
    assert m.loc["Sharpe"].iloc[0] == f"{run.metrics['sharpe']:.2f}"  # the 252-session year throughout


def test_tearsheet_of_a_run_folder_and_of_a_folder_of_returns(run, tmp_path):
    from research.cli import main

    folder = run.save(tmp_path / "run", tearsheet=False)
    sheet = research.tearsheet(folder, pdf=False)
    assert sheet.path == folder / "tearsheet.html"
    plain = tmp_path / "plain"
    plain.mkdir()
    run.result.returns.to_frame("r").to_csv(plain / "returns.csv")
    assert main(["report", str(plain), "--no-pdf", "-q"]) == 0
    assert (plain / "tearsheet.html").exists()  # written into the folder given, as for a run folder
    assert main(["report", str(plain), "--no-pdf", "--out", str(tmp_path / "plain_ts")]) == 0
    assert (tmp_path / "plain_ts" / "tearsheet.html").exists()


def test_bad_inputs_are_clear_errors(run):
    with pytest.raises(ConfigError, match="columns"):
        research.tearsheet(pd.DataFrame({"a": [0.1], "b": [0.2]}))
    with pytest.raises(ConfigError, match="dates"):
        research.tearsheet(pd.Series([0.01, 0.02], index=["x", "y"]))
    with pytest.raises(ConfigError, match="-100%"):
        research.tearsheet(pd.Series([0.01, -1.5], index=pd.date_range("2020-01-01", periods=2)))
    with pytest.raises(ConfigError, match="cannot make a tear sheet"):
        research.tearsheet(42)
    with pytest.raises(ConfigError, match="benchmarks are"):
        research.tearsheet(run, benchmark="QQQ")


def test_compare_runs_in_memory(run, market, tmp_path):
    other = research.run(NAME, market, top_n=2)
    sheet = research.compare([run, other])
    assert [s.key for s in sheet.doc.sections][:2] == ["header", "metrics"]
    written = research.compare([run, other], out=tmp_path / "cmp", pdf=False)
    assert (tmp_path / "cmp" / "comparison.html").exists() and written.path is not None


def test_sweep_returns_a_ranked_result(market, tmp_path):
    res = research.sweep(NAME, market, {"top_n": [2, 3], "hold": [2, 4]}, judge=False, log=False, progress=False)
    assert res.n_configs == 4 and res.stats is None
    assert list(res.table[res.score]) == sorted(res.table[res.score], reverse=True)
    folder = res.save(tmp_path / "sw", pdf=False)
    assert (folder / "tearsheet.html").exists()


def test_yfinance_cache_feeds_a_run_offline(market, tmp_path, monkeypatch):
    """`--data yfinance[:TICKERS]` / research.load("yfinance:...") reads the price cache, never the network."""
    import yfinance

    from research.data import yahoo
    from research.schedule import weekly
    from research.strategy import Strategy

    def download(tickers, start=None, end=None, **_):
        idx = market.prices.close.loc[start:end].index[:-1]
        frames = {t: pd.DataFrame({"Open": market.prices.open.loc[idx, t], "High": market.prices.close.loc[idx, t],
                                   "Low": market.prices.close.loc[idx, t], "Close": market.prices.close.loc[idx, t],
                                   "Adj Close": market.prices.close.loc[idx, t], "Volume": 1e6})
                  for t in tickers}
        out = pd.concat(frames, axis=1, names=["Ticker", "Price"])
        out.index = pd.DatetimeIndex(idx.as_unit("s"), name="Date")
        return out

    monkeypatch.setenv("FLOWBT_CACHE", str(tmp_path))
    monkeypatch.setattr(yfinance, "download", download)
    yahoo.fetch_prices(["SPY", "XLK"], "2019-01-01", "2020-12-31")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("the network was asked"))
    data = research.load("yfinance:SPY,XLK")
    assert data.prices.tickers == ["SPY", "XLK"] and "yfinance cache" in data.name and data.panel.empty
    assert data.prices.index[0] >= pd.Timestamp("2019-01-01")

    def weights(d, **_):
        dates = weekly(d.index)
        return (d.prices.close["SPY"].pct_change(5).reindex(dates) > 0).astype(float).to_frame("SPY")

    r = research.run(Strategy("spy_after_up_weeks", "SPY after an up week.", (), {}, {}, weights, mode="timing"),
                     data)
    assert np.isfinite(r.metrics["sharpe"]) and r.data is data
    with pytest.raises(FlowbtError, match="needs .*net_flow.* which yfinance cache"):
        research.run(NAME, data)  # prices alone: a flow strategy says what it lacks
    with pytest.raises(FlowbtError, match="flowbt data fetch-prices QQQ"):
        research.load("yfinance:QQQ")
