"""Deflated Sharpe (paper example, Monte Carlo), PBO (hand cases, noise, a real edge), bootstrap, SPA."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import IIDBootstrap
from scipy import stats as sps

from research.analytics import metrics
from research.analytics import stats as s
from research.errors import ConfigError, DataError

# --------------------------------------------------------------------------------------------------------------
# PSR / DSR


def test_moments_and_normal_cdf_are_scipys_bit_for_bit():
    """stats computes skew, kurtosis and the normal cdf/ppf without scipy.stats (slow to import): same bits."""
    rng = np.random.default_rng(3)
    for n in (3, 7, 250, 6539, 9001):
        for scale in (1e-4, 0.01, 3.0):
            x = rng.standard_t(3, n) * scale + rng.normal() * scale
            assert s._skew_kurtosis(x) == (float(sps.skew(x)), float(sps.kurtosis(x, fisher=False)))
    x = np.full(10, 0.01)  # no dispersion: NaN, as scipy
    assert all(math.isnan(v) for v in s._skew_kurtosis(x))
    for z in np.linspace(-9, 9, 301):
        assert float(s.ndtr(z)) == float(sps.norm.cdf(z))
    for p in np.linspace(1e-6, 1 - 1e-6, 301):
        assert float(s.ndtri(p)) == float(sps.norm.ppf(p))


def test_deflated_sharpe_paper_example():
    """Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", section "A numerical example":
    N = 100 trials, annualised variance of the trials' Sharpe ratios 1/2, best annualised SR 2.5 from
    T = 1250 daily observations (5 years), skewness -3, kurtosis 10. The paper reports a threshold
    SR0 ~ 0.1132 (non-annualised) and DSR ~ 0.9004."""
    sr = 2.5 / math.sqrt(250)
    var = 0.5 / 250
    sr0 = s.expected_max_sharpe(100, var)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = s.deflated_sharpe_ratio(sr, 1250, skew=-3.0, kurtosis=10.0, n_trials=100, sr_variance=var)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    assert dsr == s.probabilistic_sharpe_ratio(sr, 1250, -3.0, 10.0, sr_benchmark=sr0)


def test_psr_under_normal_returns_matches_the_textbook_formula():
    sr, n = 0.08, 500
    z = sr * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2)  # skew 0, kurtosis 3
    assert s.probabilistic_sharpe_ratio(sr, n, 0.0, 3.0) == pytest.approx(sps.norm.cdf(z), abs=1e-12)
    assert s.probabilistic_sharpe_ratio(0.1, n, -1.0, 6.0, sr_benchmark=0.1) == pytest.approx(0.5)
    # negative skew and fat tails lower the confidence in the same Sharpe
    assert s.probabilistic_sharpe_ratio(sr, n, -2.0, 9.0) < s.probabilistic_sharpe_ratio(sr, n, 0.0, 3.0)
    assert math.isnan(s.probabilistic_sharpe_ratio(sr, 1, 0.0, 3.0))


def test_expected_max_sharpe_monte_carlo():
    """The Euler-Mascheroni approximation vs the simulated mean maximum of N independent N(0, V) Sharpes."""
    rng = np.random.default_rng(0)
    for n_trials, var in ((100, 1.0), (1000, 0.04)):
        draws = rng.normal(0.0, math.sqrt(var), size=(4000, n_trials))
        simulated = draws.max(axis=1).mean()
        assert s.expected_max_sharpe(n_trials, var) == pytest.approx(simulated, rel=0.02)
    assert s.expected_max_sharpe(1, 0.3) == 0.0
    assert s.expected_max_sharpe(10, 0.0) == 0.0
    with pytest.raises(ConfigError):
        s.expected_max_sharpe(0, 1.0)


def test_dsr_from_returns_falls_with_trials():
    rng = np.random.default_rng(1)
    r = rng.normal(0.0008, 0.01, 1000)
    sr, n, skew, kurt = s.sharpe_moments(r)
    assert sr == pytest.approx(metrics.sharpe(r) / math.sqrt(252))
    assert kurt == pytest.approx(sps.kurtosis(r) + 3.0)
    dsr = [s.deflated_sharpe_ratio(sr, n, skew, kurt, k, 0.001) for k in (1, 10, 100, 1000)]
    assert dsr[0] == pytest.approx(s.probabilistic_sharpe_ratio(sr, n, skew, kurt))
    assert all(a > b for a, b in zip(dsr, dsr[1:], strict=False))


# --------------------------------------------------------------------------------------------------------------
# PBO


def _blocks(means: list[list[float]], rows_per_block: int = 2) -> np.ndarray:
    """T x N matrix whose block b of config n is constant at means[n][b]."""
    return np.repeat(np.array(means, dtype=float).T, rows_per_block, axis=0)


def test_pbo_hand_case_two_splits():
    # A wins the first half and loses the second; C the reverse; B is middling. Whichever half is IS,
    # its winner is the OOS loser: rank 1 of 3 -> w = 1/4 -> logit ln(1/3); PBO = 1.
    res = s.pbo(_blocks([[3, 1], [2, 2], [1, 3]]), n_splits=2, metric="mean")
    np.testing.assert_allclose(res.logits, [math.log(1 / 3)] * 2)
    assert res.pbo == 1.0 and list(res.selected) == [0, 2]
    # A consistent winner is the OOS best in both splits: rank 3 -> w = 3/4 -> logit ln 3; PBO = 0.
    res = s.pbo(_blocks([[3, 3], [2, 1], [1, 2]]), n_splits=2, metric="mean")
    np.testing.assert_allclose(res.logits, [math.log(3)] * 2)
    assert res.pbo == 0.0 and res.prob_oos_loss == 0.0


def test_pbo_hand_case_four_splits():
    # Block means (blocks 0..3):  A = [4, 0, 0, 1], B = [0, 3, 2, 0], C = [1, 1, 2, 3].
    # IS blocks -> IS sums (A, B, C) -> pick -> OOS sums -> pick's OOS rank -> logit
    # (0,1) 4,3,2 A | (2,3) 1,2,5 rank 1 -> ln(1/3)     (0,2) 4,2,3 A | (1,3) 1,3,4 rank 1 -> ln(1/3)
    # (0,3) 5,0,4 A | (1,2) 0,5,3 rank 1 -> ln(1/3)     (1,2) 0,5,3 B | (0,3) 5,0,4 rank 1 -> ln(1/3)
    # (1,3) 1,3,4 C | (0,2) 4,2,3 rank 2 -> ln(1) = 0   (2,3) 1,2,5 C | (0,1) 4,3,2 rank 1 -> ln(1/3)
    # PBO counts logits <= 0: all six.
    res = s.pbo(_blocks([[4, 0, 0, 1], [0, 3, 2, 0], [1, 1, 2, 3]]), n_splits=4, metric="mean")
    third = math.log(1 / 3)
    np.testing.assert_allclose(res.logits, [third, third, third, third, 0.0, third], atol=1e-12)
    assert list(res.selected) == [0, 0, 0, 1, 2, 2]
    np.testing.assert_allclose(res.is_metric, [2.0, 2.0, 2.5, 2.5, 2.0, 2.5])
    np.testing.assert_allclose(res.oos_metric, [0.5, 0.5, 0.0, 0.0, 1.5, 1.0])
    assert res.pbo == 1.0 and res.n_combinations == 6


def test_pbo_sharpe_fast_path_equals_a_callable():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0002, 0.01, (203, 6))  # 203 rows: uneven blocks

    def annual_sharpe(a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) / a.std(axis=0, ddof=1) * math.sqrt(252)

    fast = s.pbo(x, n_splits=6)
    assert np.array_equal(s.pbo(x, n_splits=6, metric=metrics.sharpe).logits, fast.logits)
    slow = s.pbo(x, n_splits=6, metric=annual_sharpe)
    np.testing.assert_array_equal(fast.selected, slow.selected)
    np.testing.assert_allclose(fast.logits, slow.logits)
    np.testing.assert_allclose(fast.is_metric, slow.is_metric, rtol=1e-9)
    np.testing.assert_allclose(fast.oos_metric, slow.oos_metric, rtol=1e-9)


def test_pbo_noise_is_a_coin_flip_and_a_real_edge_is_not():
    # one noise panel's PBO is itself noisy (the splits share data), so average over panels
    noise = [s.pbo(np.random.default_rng(seed).normal(0.0, 0.01, (1000, 20)), n_splits=10).pbo
             for seed in range(20)]
    assert 0.4 < np.mean(noise) < 0.6
    for seed in range(3):
        x = np.random.default_rng(seed).normal(0.0, 0.01, (1024, 20))
        x[:, 3] += 0.002  # one config with annual Sharpe ~3
        res = s.pbo(x)  # default 16 splits: 12870 combinations
        assert res.n_combinations == 12870 and res.pbo < 0.05
        assert np.mean(res.selected == 3) > 0.95 and res.prob_oos_loss < 0.05


def test_pbo_rejects_bad_input():
    x = np.zeros((40, 3))
    with pytest.raises(ConfigError):
        s.pbo(x, n_splits=5)
    frame = pd.DataFrame(np.ones((40, 2)), columns=["a", "b"], index=pd.bdate_range("2024-01-01", periods=40))
    frame.iloc[7, 1] = np.nan
    with pytest.raises(DataError, match="column 'b'"):
        s.pbo(frame, n_splits=4)


# --------------------------------------------------------------------------------------------------------------
# bootstrap


def _ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 0.01, n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x + 0.0005


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    r = pd.Series(_ar1(750, 0.1, 5), index=pd.bdate_range("2020-01-01", periods=750))
    a = s.bootstrap_ci(r, "sharpe", n=300, seed=4)
    b = s.bootstrap_ci(r, "sharpe", n=300, seed=4)
    c = s.bootstrap_ci(r, "sharpe", n=300, seed=5)
    assert a == b and (a.lower, a.upper) != (c.lower, c.upper)
    assert a.estimate == pytest.approx(metrics.sharpe(r))
    for stat in ("sharpe", "cagr", np.median):
        ci = s.bootstrap_ci(r, stat, n=300, seed=0)
        assert ci.lower < ci.estimate < ci.upper, stat


@pytest.mark.parametrize("n, phi, block", [(50, 0.0, None), (750, 0.3, None), (1000, 0.6, None), (9000, 0.2, None),
                                           (400, 0.1, 1), (400, 0.1, 7)])
def test_bootstrap_is_archs_bit_for_bit(n, phi, block):
    """The port of arch's stationary bootstrap and block length (research.analytics.resample) gives arch's
    numbers exactly: same draws from the same generator, the same statistic of every resample."""
    from arch.bootstrap import StationaryBootstrap, optimal_block_length

    r = _ar1(n, phi, n)
    assert s.block_length(r) == max(1, math.ceil(float(optimal_block_length(r)["stationary"].iloc[0])))
    for stat in ("sharpe", "mean", "cagr", np.median):
        ours = s.bootstrap_ci(r, stat, n=230, level=0.9, seed=n, block=block)
        f = s._statistic(stat, metrics.PERIODS)
        bs = StationaryBootstrap(ours.block, r, seed=np.random.default_rng(n))
        ci = bs.conf_int(lambda a, f=f: np.array([f(a)]), reps=230, method="percentile", size=0.9)
        assert (ours.estimate, ours.lower, ours.upper) == (float(f(r)), float(ci[0, 0]), float(ci[1, 0])), stat


def test_block_bootstrap_is_wider_on_autocorrelated_returns():
    r = _ar1(1000, 0.6, 11)
    block = s.bootstrap_ci(r, "sharpe", n=500, seed=0)
    assert block.block > 1  # optimal_block_length sees the dependence
    iid = IIDBootstrap(r, seed=np.random.default_rng(0)).conf_int(
        lambda a: np.array([metrics.sharpe(a)]), reps=500, method="percentile")
    assert (block.upper - block.lower) > 1.5 * (iid[1, 0] - iid[0, 0])


# --------------------------------------------------------------------------------------------------------------
# SPA / Reality Check


@pytest.fixture(scope="module")
def spa_data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(21)
    idx = pd.bdate_range("2018-01-01", periods=1000)
    bench = pd.Series(rng.normal(0.0003, 0.01, len(idx)), idx)
    noise = pd.DataFrame(bench.to_numpy()[:, None] + rng.normal(0.0, 0.005, (len(idx), 5)), idx,
                         columns=[f"noise{i}" for i in range(5)])
    return noise, bench


def test_spa_superior_strategy_has_small_p_value(spa_data):
    noise, bench = spa_data
    models = noise.assign(good=bench + 0.0015 + np.random.default_rng(2).normal(0.0, 0.005, len(bench)))
    res = s.spa_test(models, bench, seed=0, reps=500)
    assert res.consistent < 0.01 and res.lower <= res.consistent <= res.upper
    assert s.reality_check(models, bench, seed=0, reps=500).upper < 0.05


def test_spa_noise_and_inferior_strategies_are_not_significant(spa_data):
    noise, bench = spa_data
    res = s.spa_test(noise, bench, seed=0, reps=500)
    assert res.consistent > 0.1
    worse_returns = bench - 0.002 + np.random.default_rng(3).normal(0.0, 0.005, len(bench))
    worse = s.spa_test(worse_returns, bench, seed=0, reps=500)  # a Series: one strategy, clearly worse
    assert worse.consistent > 0.3 and worse.upper > 0.9 and worse.n_strategies == 1
    again = s.spa_test(noise, bench, seed=0, reps=500)
    assert again == res  # deterministic by seed
