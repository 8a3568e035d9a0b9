"""The trial log: appends every config, counts distinct trials, and feeds DSR its variance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.sweep import triallog


def metrics(srs: list[float]) -> pd.DataFrame:
    sr = np.array(srs)
    return pd.DataFrame({"sharpe": sr * np.sqrt(252), "sortino": sr, "cagr": sr, "volatility": 0.1,
                         "max_drawdown": -0.1, "turnover": 2.0, "n_obs": 1000, "sharpe_per_period": sr,
                         "skew": 0.0, "kurtosis": 3.0, "active_sharpe_per_period": sr / 2})


def test_append_and_trial_stats(tmp_path):
    db = tmp_path / "trials.duckdb"
    assert triallog.trial_stats("s", db) is None
    params = [{"a": 1}, {"a": 2}, {"a": 3}]
    assert triallog.append("s", params, metrics([0.01, 0.02, 0.03]), data_hash="h1", db=db) == 3
    n, var = triallog.trial_stats("s", db)
    assert n == 3 and var == np.var([0.01, 0.02, 0.03], ddof=1)
    # the same configs on the same data again: still 3 trials, the latest results count
    triallog.append("s", params, metrics([0.02, 0.02, 0.02]), data_hash="h1", db=db,
                    run_at=pd.Timestamp("2100-01-01").to_pydatetime())
    assert triallog.trial_stats("s", db) == (3, 0.0)
    # new data is a new trial set; the filter keeps them apart
    triallog.append("s", params[:2], metrics([0.05, -0.05]), data_hash="h2", db=db)
    assert triallog.trial_stats("s", db)[0] == 5
    assert triallog.trial_stats("s", db, data_hash="h2") == (2, np.var([0.05, -0.05], ddof=1))
    n, var = triallog.trial_stats("s", db, data_hash="h2", active=True)
    assert n == 2 and np.isclose(var, np.var([0.025, -0.025], ddof=1))
    assert triallog.trial_stats("other", db) is None
    log = triallog.trials("s", db)
    assert len(log) == 8 and {"params", "data_hash", "code_version", "run_at", "sharpe", "kurtosis"} <= set(log)
    assert log["params"].iloc[0] == '{"a": 1}'


def test_default_location(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBT_TRIALS", str(tmp_path / "x.duckdb"))
    triallog.append("s", [{"a": 1}], metrics([0.01]), data_hash="h", code_version="abc")
    assert (tmp_path / "x.duckdb").exists()
    assert triallog.trial_stats("s") == (1, 0.0)
    monkeypatch.delenv("FLOWBT_TRIALS")
    assert triallog.db_path() == triallog.DEFAULT_DB
