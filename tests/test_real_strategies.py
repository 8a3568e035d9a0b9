"""Strategies on real data (../shared/data): CFTC positioning against real ETF prices, with no look-ahead."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from research import registry
from research.data.market import MarketData
from research.run import load_data, run_strategy
from research.schedule import weekly

REAL = sorted(n for n, s in registry.registry().items() if "real-data" in s.tags)
CUT = pd.Timestamp("2025-07-31 23:59")  # after the first 13F quarter and ~8 years of CFTC weeks


@pytest.fixture(scope="module")
def real(shared_data) -> MarketData:
    return load_data(shared_data)


def test_the_real_data_strategies_exist():
    assert {"cot_leveraged_funds", "cot_sector_positioning", "vix_positioning", "thirteenf_crowding"} <= set(REAL)


def test_synthetic_market_lacks_cftc_so_they_are_skipped_there(market):
    for name in REAL:
        assert registry.get(name).missing_data(market), name


@pytest.mark.parametrize("name", REAL)
def test_weights_are_valid_and_start_when_the_signal_does(name, real):
    s = registry.get(name)
    w = s.target_weights(real)
    assert not w.isna().any().any()
    assert set(w.index) <= set(real.index)
    assert w.index[0] >= pd.Timestamp("2017-01-06")  # the first CFTC release in the files
    if "cftc" in s.tags:
        assert w.index.isin(weekly(real.index, weekday=4)).all()  # decided at the Friday CFTC release
    if "13f" in s.tags:
        assert w.index[0] > pd.Timestamp("2025-05-15")  # Q1 2025 is public at the 45-day deadline, 17:30
    if s.mode == "timing":
        assert list(w.columns) == ["SPY"] and w["SPY"].between(0, 1).all()
    else:
        assert np.allclose(w.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", REAL)
def test_no_look_ahead(name, real):
    panel = real.panel.copy()
    late = (panel["available_at"] > CUT).to_numpy()
    panel.loc[late, "value"] = panel.loc[late, "value"].to_numpy() * np.random.default_rng(0).normal(1, 2, late.sum())
    close = real.prices.close.copy()
    close.loc[close.index > CUT] *= 1.7
    pert = dataclasses.replace(real, panel=panel,
                               prices=dataclasses.replace(real.prices, close=close))
    s = registry.get(name)
    a = s.target_weights(real).loc[:CUT.normalize()]
    b = s.target_weights(pert).loc[:CUT.normalize()]
    pd.testing.assert_frame_equal(a, b)
    if s.signal is not None:
        pd.testing.assert_frame_equal(s.target_signal(real).loc[:CUT.normalize()],
                                      s.target_signal(pert).loc[:CUT.normalize()])


@pytest.mark.parametrize("name", [n for n in REAL if registry.get(n).signal is not None])
def test_signal_is_on_the_weights_dates(name, real):
    s = registry.get(name)
    sig, w = s.target_signal(real), s.target_weights(real)
    assert sig.index.equals(w.index) and set(sig.columns) <= set(w.columns)


def test_cftc_week_is_invisible_before_its_release(real):
    as_of = real.flow("lev_money_net", ["SPY"], field="as_of")["SPY"]
    assert as_of.loc["2020-03-19"] == pd.Timestamp("2020-03-10")
    assert as_of.loc["2020-03-20"] == pd.Timestamp("2020-03-17")


@pytest.mark.slow
def test_cot_leveraged_funds_end_to_end(real, tmp_path):
    out = run_strategy("cot_leveraged_funds", real, out=tmp_path / "cot")
    assert (out.folder / "tearsheet.html").exists() and (out.folder / "tearsheet.pdf").exists()
    html = (out.folder / "tearsheet.html").read_text()
    assert "SYNTHETIC DATA" not in html and "cftc_tff" in html
    assert out.metrics["n_days"] > 1500
