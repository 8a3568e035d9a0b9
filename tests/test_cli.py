"""The `flowbt` command line: listing, clear errors, data validation and the offline price fetch."""

from __future__ import annotations

import pandas as pd
import pytest

from research import registry
from research.cli import main


def test_list_shows_every_strategy_with_its_hypothesis(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, strat in registry.registry().items():
        assert name in out
        assert strat.hypothesis in out


def test_unknown_strategy_suggests_the_closest_name(capsys):
    assert main(["run", "fresh_flow_low_exposur", "--no-tearsheet"]) == 2
    err = capsys.readouterr().err
    assert "unknown strategy" in err and "fresh_flow_low_exposure" in err


def test_bad_parameter_is_a_clear_error(capsys):
    assert main(["run", "fresh_flow_low_exposure", "--set", "nonsense=3", "--no-tearsheet"]) == 2
    assert "unknown parameter 'nonsense'" in capsys.readouterr().err


def test_bad_data_spec_is_a_clear_error(capsys, tmp_path):
    missing = tmp_path / "nowhere"
    assert main(["run", "fresh_flow_low_exposure", "--data", str(missing), "--no-tearsheet"]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_data_validate_reports_each_problem_with_its_line(tmp_path, capsys):
    f = tmp_path / "book.csv"
    f.write_text("as_of,sector,metric,value\n2024-01-05,Energy,net_flow,12.5\n"
                 "2024-01-05,Enrgy,net_flow,1.0\n2024-13-05,Utilities,net_flow,2.0\n")
    assert main(["data", "validate", str(f)]) == 1
    out = capsys.readouterr().out
    assert "line 3" in out and "line 4" in out and "book.csv" in out


def test_data_validate_accepts_a_good_file(tmp_path, capsys):
    f = tmp_path / "book.csv"
    f.write_text("as_of,sector,metric,value\n2024-01-05,Energy,net_flow,12.5\n2024-01-05,BOOK,gross_leverage,210.6\n")
    assert main(["data", "validate", str(f)]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_fetch_prices_offline_names_the_tickers(monkeypatch, tmp_path, capsys):
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    code = main(["data", "fetch-prices", "XLK,XLE", "--start", "2020-01-01", "--end", "2020-02-01",
                 "--cache", str(tmp_path), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "XLK" in err and "XLE" in err


def test_run_writes_a_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "fresh_flow_low_exposure", "--out", str(out), "--no-tearsheet", "--fees-bps", "1"]) == 0
    for name in ("config.json", "metrics.json", "provenance.json", "returns.csv", "weights.csv", "trades.parquet"):
        assert (out / name).exists(), name
    assert "Sharpe" in capsys.readouterr().out


@pytest.mark.parametrize("spec", ["synthetic:seed=x", "synthetic:ic"])
def test_bad_synthetic_spec(spec, capsys):
    code = main(["run", "fresh_flow_low_exposure", "--data", spec, "--no-tearsheet"])
    assert code == 2
    assert "synthetic" in capsys.readouterr().err
