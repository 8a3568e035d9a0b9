"""Signal diagnostics: timing of forward returns, rank IC vs scipy, Newey-West vs a reference, spreads, decay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from research.analytics import diagnostics as dg
from research.data.universe import SECTOR_ETFS
from research.errors import DataError

TICKERS = list(SECTOR_ETFS)  # the 11 sector ETFs


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Six years of daily closes for 11 sectors (with two holidays removed) and weekly Friday decision dates."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2015-01-01", "2020-12-31", name="date")
    days = days.drop(pd.to_datetime(["2016-01-18", "2017-07-04"]))
    rets = rng.normal(0.0003, 0.012, (len(days), len(TICKERS)))
    close = pd.DataFrame(100.0 * np.cumprod(1.0 + rets, axis=0), index=days, columns=TICKERS)
    close.loc[:"2015-10-07", "XLRE"] = np.nan  # before inception
    fridays = pd.date_range("2015-01-02", "2020-12-31", freq="W-FRI")
    return close, fridays


# --------------------------------------------------------------------------------------------------------------
# forward returns


def test_forward_return_timing_hand_case():
    days = pd.bdate_range("2024-01-01", "2024-02-29").drop(pd.Timestamp("2024-01-15"))  # MLK day
    close = pd.DataFrame({"XLK": 100.0 + np.arange(len(days))}, index=days)
    fri = pd.DatetimeIndex(["2024-01-05", "2024-01-12"])
    fwd = dg.forward_returns(close, fri, horizon=1)
    px = close["XLK"]
    # decided Friday Jan 5 -> entered at Monday Jan 8's close -> exit Jan 16 (first session after Jan 12;
    # Jan 15 is a holiday)
    assert fwd.iloc[0, 0] == pytest.approx(px["2024-01-16"] / px["2024-01-08"] - 1.0)
    assert fwd.iloc[1, 0] == pytest.approx(px["2024-01-22"] / px["2024-01-16"] - 1.0)
    # a date at the end of the data has no forward return
    assert dg.forward_returns(close, pd.DatetimeIndex(["2024-02-23"]), 1).isna().all().all()


def test_forward_returns_do_not_look_ahead(market):
    close, fridays = market
    dates = fridays[fridays.isin(close.index)][10:20]
    base = dg.forward_returns(close, dates, 1)
    bumped = close.copy()
    bumped.loc[dates] *= 1.5  # the decision-date closes are not part of the trade
    pd.testing.assert_frame_equal(dg.forward_returns(bumped, dates, 1), base)
    entry = close.index[close.index.searchsorted(dates[0], side="right")]
    bumped.loc[entry] *= 1.5
    assert not dg.forward_returns(bumped, dates, 1).iloc[0].equals(base.iloc[0])


def test_multi_week_forward_return_chains_weekly_ones(market):
    close, fridays = market
    d = fridays[100:104]
    one = dg.forward_returns(close, d, 1)
    four = dg.forward_returns(close, d[:1], 4)
    np.testing.assert_allclose(four.iloc[0].to_numpy(), ((1.0 + one).prod() - 1.0).to_numpy())
    assert dg.forward_returns(close, fridays[:5], 1)["XLRE"].isna().all()  # no price yet


# --------------------------------------------------------------------------------------------------------------
# rank IC


def test_rank_ic_matches_scipy_spearman(market):
    close, fridays = market
    rng = np.random.default_rng(1)
    sig = pd.DataFrame(rng.normal(size=(60, len(TICKERS))).round(1), index=fridays[200:260], columns=TICKERS)
    sig.iloc[::7, 2] = np.nan
    fwd = dg.forward_returns(close, sig.index, 1)
    ic = dg.rank_ic(sig, fwd)
    for date in sig.index:
        s, f = sig.loc[date], fwd.loc[date]
        ok = s.notna() & f.notna()
        expected = sps.spearmanr(s[ok], f[ok]).statistic
        assert ic[date] == pytest.approx(expected, abs=1e-12)


def test_rank_ic_hand_cases():
    idx = pd.DatetimeIndex(["2024-01-05", "2024-01-12", "2024-01-19"])
    fwd = pd.DataFrame([[0.01, 0.02, 0.03, 0.04]] * 3, index=idx, columns=list("ABCD"))
    sig = pd.DataFrame([[1, 2, 3, 4], [4, 3, 2, 1], [1, np.nan, np.nan, 2]], index=idx, columns=list("ABCD"))
    ic = dg.rank_ic(sig, fwd)
    assert ic.iloc[0] == pytest.approx(1.0) and ic.iloc[1] == pytest.approx(-1.0)
    assert math.isnan(ic.iloc[2])  # two assets are too few for a cross-sectional correlation
    flat = pd.DataFrame([[1.0, 1.0, 1.0, 1.0]], index=idx[:1], columns=list("ABCD"))
    assert math.isnan(dg.rank_ic(flat, fwd).iloc[0])  # no dispersion


# --------------------------------------------------------------------------------------------------------------
# Newey-West


def _nw_reference(x: np.ndarray, lags: int) -> float:
    """Var(mean) = (1/n^2) sum_i sum_j k(|i-j|) e_i e_j, Bartlett k(l) = 1 - l/(lags+1) for l <= lags."""
    e = x - x.mean()
    n = len(e)
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    k = np.where(lag <= lags, 1.0 - lag / (lags + 1.0), 0.0)
    return math.sqrt(e @ k @ e / n**2)


def test_newey_west_against_reference():
    x = np.cumsum(np.random.default_rng(2).normal(size=300)) * 0.01 + np.random.default_rng(3).normal(size=300)
    for lags in (0, 1, 3, 12):
        assert dg.newey_west_se(x, lags) == pytest.approx(_nw_reference(x, lags), rel=1e-12)
    assert dg.newey_west_se(x, 0) == pytest.approx(x.std(ddof=0) / math.sqrt(len(x)))
    assert dg.newey_west_tstat(x, 3) == pytest.approx(x.mean() / _nw_reference(x, 3))
    with_gaps = np.concatenate([x[:100], [np.nan], x[100:]])
    assert dg.newey_west_tstat(with_gaps, 3) == pytest.approx(dg.newey_west_tstat(x, 3))


def test_newey_west_lag_rule():
    assert dg.newey_west_lags(300, 1) == 5  # floor(4 * 3 ** (2/9)) = floor(5.1)
    assert dg.newey_west_lags(300, 13) == 12  # the overlap of 13-week returns dominates
    assert dg.newey_west_lags(100, 4) == 4


# --------------------------------------------------------------------------------------------------------------
# summary, spreads, decay


def _planted(close: pd.DataFrame, fridays: pd.DatetimeIndex, strength: float, seed: int) -> pd.DataFrame:
    """A signal equal to next week's forward return plus noise (an oracle of a given strength)."""
    fwd = dg.forward_returns(close, fridays, 1)
    noise = np.random.default_rng(seed).normal(0.0, 0.03, fwd.shape)
    return strength * fwd + pd.DataFrame(noise, index=fwd.index, columns=fwd.columns)


def test_ic_summary_columns_and_consistency(market):
    close, fridays = market
    sig = _planted(close, fridays, 1.0, seed=4)
    table = dg.ic_summary(sig, close)
    assert list(table.columns) == ["mean_ic", "t_nw", "n_dates", "hit"]
    assert list(table.index) == [1, 4, 13] and table.index.name == "horizon"
    ics = dg.ic_series(sig, close)
    for h in (1, 4, 13):
        ic = ics[h].dropna()
        assert table.loc[h, "n_dates"] == len(ic)
        assert table.loc[h, "mean_ic"] == pytest.approx(ic.mean())
        assert table.loc[h, "hit"] == pytest.approx((ic > 0).mean())
        lags = dg.newey_west_lags(len(ic), h)
        assert table.loc[h, "t_nw"] == pytest.approx(ic.mean() / _nw_reference(ic.to_numpy(), lags))
    assert table.loc[1, "mean_ic"] > 0.2 and table.loc[1, "t_nw"] > 5
    noise = dg.ic_summary(_planted(close, fridays, 0.0, seed=5), close)
    assert (noise["t_nw"].abs() < 3).all()


def test_top_bottom_spread_hand_case():
    idx = pd.DatetimeIndex(["2024-01-05", "2024-01-12"])
    cols = list("ABCDEF")
    sig = pd.DataFrame([[6, 5, 4, 3, 2, 1], [1, 2, 3, np.nan, np.nan, 4]], index=idx, columns=cols, dtype=float)
    fwd = pd.DataFrame([[0.06, 0.05, 0.04, 0.03, 0.02, 0.01]] * 2, index=idx, columns=cols)
    spread = dg.top_bottom_spread(sig, fwd, n=2)
    assert spread.iloc[0] == pytest.approx((0.06 + 0.05) / 2 - (0.02 + 0.01) / 2)
    # second date: only A, B, C, F are valid (4 = 2n): top = C, F; bottom = A, B
    assert spread.iloc[1] == pytest.approx((0.04 + 0.01) / 2 - (0.06 + 0.05) / 2)
    assert math.isnan(dg.top_bottom_spread(sig, fwd, n=3).iloc[1])  # 4 valid < 6


def test_spread_of_an_oracle_is_positive(market):
    close, fridays = market
    spreads = dg.spread_returns(_planted(close, fridays, 1.0, seed=6), close, horizons=(1,), n=3)
    assert spreads[1].mean() > 0.005


def test_signal_decay_of_a_one_week_oracle(market):
    close, fridays = market
    sig = _planted(close, fridays, 1.0, seed=7)
    decay = dg.signal_decay(sig, close, max_lag=4)
    assert list(decay.index) == [0, 1, 2, 3, 4]
    assert decay[0] == pytest.approx(dg.ic_series(sig, close, (1,))[1].mean())
    assert decay[0] > 0.2 and (decay.iloc[1:].abs() < 0.05).all()


def test_sector_names_map_to_tickers_and_errors_are_clear(market):
    close, fridays = market
    sig = _planted(close, fridays[:80], 1.0, seed=8)
    by_sector = sig.rename(columns=SECTOR_ETFS)
    pd.testing.assert_frame_equal(dg.ic_series(by_sector, close), dg.ic_series(sig, close))
    with pytest.raises(DataError, match="share no asset"):
        dg.ic_series(sig.rename(columns=str.lower), close)


def test_signal_diagnostics_bundle(market):
    close, fridays = market
    sig = _planted(close, fridays, 0.5, seed=9)
    out = dg.signal_diagnostics(sig, close, window=26, max_lag=3)
    pd.testing.assert_frame_equal(out.ic_rolling, out.ic.rolling(26, min_periods=13).mean())
    assert list(out.spread.columns) == [1, 4, 13] and len(out.decay) == 4
    assert out.summary.loc[1, "mean_ic"] > 0
