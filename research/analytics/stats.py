"""Statistical honesty: is a backtest's Sharpe ratio more than luck and selection?

- Probabilistic and deflated Sharpe ratios (Bailey & López de Prado 2012, "The Sharpe Ratio Efficient
  Frontier"; 2014, "The Deflated Sharpe Ratio"). **All Sharpe inputs here are per-period (not annualised)**:
  for daily returns pass mean/std of daily returns, i.e. an annual Sharpe divided by sqrt(252). Kurtosis is
  Pearson's (3 for a normal distribution), not excess kurtosis.
- Probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado & Zhu 2015, "The Probability of Backtest Overfitting").
- Stationary-bootstrap confidence intervals (arch's `StationaryBootstrap`, Politis & Romano 1994), block length
  from `optimal_block_length` (Politis & White 2004, Patton et al. 2009); both ported in `resample`, same numbers.
- Hansen's SPA test and White's Reality Check (arch's `SPA`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from research.analytics import metrics
from research.errors import ConfigError, DataError

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant


# --------------------------------------------------------------------------------------------------------------
# probabilistic and deflated Sharpe ratio


def sharpe_moments(returns: pd.Series | np.ndarray) -> tuple[float, int, float, float]:
    """(per-period Sharpe, n_obs, skew, Pearson kurtosis) of `returns`, the inputs of PSR and DSR.

    Sharpe is mean / std(ddof=1) without annualisation; skew and kurtosis are the sample (biased) moments, as
    in the papers. NaN dropped.
    """
    r = metrics._values(returns)
    if r.size < 2 or np.ptp(r) == 0.0:
        return float("nan"), int(r.size), float("nan"), float("nan")
    skew, kurtosis = _skew_kurtosis(r)
    return float(r.mean() / r.std(ddof=1)), int(r.size), skew, kurtosis


def _skew_kurtosis(r: np.ndarray) -> tuple[float, float]:
    """scipy.stats.skew(r) and kurtosis(r, fisher=False) (biased sample moments) of a 1-d array, computed with
    scipy's own operations (`_moment`: powers by squaring about the keepdims mean), so the same bits, without
    importing scipy.stats (~0.8 s). tests/test_stats.py compares them with scipy."""
    mean = np.mean(r, keepdims=True)
    d = r - mean
    d2 = d**2
    m2 = np.mean(d2)
    m3 = np.mean(d**2 * d)
    m4 = np.mean(d2**2)
    with np.errstate(all="ignore"):
        zero = m2 <= (np.finfo(m2.dtype).eps * mean[0]) ** 2
        skew = np.nan if zero else m3 / m2**1.5
        kurt = np.nan if zero else m4 / m2**2.0
    return float(skew), float(kurt)


def probabilistic_sharpe_ratio(
    sr: float, n_obs: int, skew: float, kurtosis: float, sr_benchmark: float = 0.0
) -> float:
    """P[true Sharpe > sr_benchmark] given an observed per-period Sharpe `sr` (Bailey & López de Prado 2012).

    PSR = Phi((sr - sr_benchmark) * sqrt(n_obs - 1) / sqrt(1 - skew * sr + (kurtosis - 1) / 4 * sr**2)).
    `sr` and `sr_benchmark` are per-period (not annualised); `kurtosis` is Pearson (normal = 3).
    NaN if n_obs < 2 or the variance term is not positive.
    """
    if n_obs < 2 or not np.isfinite(sr):
        return float("nan")
    var = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if not var > 0.0:
        return float("nan")
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(var)
    return float(ndtr(z))  # scipy.stats.norm.cdf


def expected_max_sharpe(n_trials: int, sr_variance: float, sr_mean: float = 0.0) -> float:
    """Expected maximum of `n_trials` independent Sharpe estimates with variance `sr_variance` (DSR paper, eq. 6).

    E[max] ~ sr_mean + sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e))), g = Euler-Mascheroni.
    An extreme-value approximation, close for N >= 10 (about 1% high at N = 100). With one trial there is
    no selection, so the expectation is `sr_mean`. Units are those of `sr_variance` (per-period for DSR).
    """
    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    if sr_variance < 0:
        raise ConfigError(f"sr_variance must be >= 0, got {sr_variance}")
    if n_trials == 1:
        return float(sr_mean)
    z = (1.0 - EULER_GAMMA) * ndtri(1.0 - 1.0 / n_trials) + EULER_GAMMA * ndtri(  # ndtri: norm.ppf
        1.0 - 1.0 / (n_trials * math.e)
    )
    return float(sr_mean + math.sqrt(sr_variance) * z)


def deflated_sharpe_ratio(
    sr: float, n_obs: int, skew: float, kurtosis: float, n_trials: int, sr_variance: float
) -> float:
    """PSR against the Sharpe the best of `n_trials` unskilled trials would show (Bailey & López de Prado 2014).

    DSR = PSR(sr; sr_benchmark = expected_max_sharpe(n_trials, sr_variance)). All Sharpe quantities are
    per-period: `sr` is the selected strategy's, `sr_variance` the variance of the per-period Sharpe ratios
    across all trials (an annual variance divided by periods). `kurtosis` is Pearson (normal = 3).
    """
    sr0 = expected_max_sharpe(n_trials, sr_variance)
    return probabilistic_sharpe_ratio(sr, n_obs, skew, kurtosis, sr_benchmark=sr0)


# --------------------------------------------------------------------------------------------------------------
# probability of backtest overfitting (CSCV)


@dataclass(frozen=True)
class PBOResult:
    """Outcome of combinatorially symmetric cross-validation; arrays have one entry per IS/OOS split.

    pbo: fraction of splits whose in-sample best config ranks in the bottom half out of sample (logit <= 0).
    logits: log(w / (1 - w)) with w the selected config's relative OOS rank, rank / (N + 1).
    is_metric, oos_metric: the selected config's metric in and out of sample.
    selected: column index of the config chosen in sample.
    slope, intercept: least-squares fit oos_metric ~ is_metric (performance degradation; slope < 0 is typical
    of overfitting). prob_oos_loss: fraction of splits where the selected config's OOS metric is < 0.
    """

    pbo: float
    logits: np.ndarray
    oos_rank: np.ndarray
    is_metric: np.ndarray
    oos_metric: np.ndarray
    selected: np.ndarray
    slope: float
    intercept: float
    prob_oos_loss: float
    n_splits: int
    n_configs: int

    @property
    def n_combinations(self) -> int:
        return int(self.logits.size)


Metric = str | Callable[[np.ndarray], np.ndarray]


def _check_matrix(returns_matrix: pd.DataFrame | np.ndarray) -> np.ndarray:
    """T x N float matrix without NaN, or a DataError naming the first bad column and row."""
    x = np.asarray(returns_matrix, dtype=float)
    if x.ndim != 2:
        raise DataError(f"returns_matrix must be T x N (periods x configs), got shape {x.shape}")
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        r, c = bad[0]
        where = (
            f"column {returns_matrix.columns[c]!r} at {returns_matrix.index[r]}"
            if isinstance(returns_matrix, pd.DataFrame)
            else f"column {c} row {r}"
        )
        raise DataError(
            f"returns_matrix has {len(bad)} non-finite value(s), first in {where}; align the configs on a common "
            "period (dropna) or fill flat periods with 0 before computing PBO."
        )
    return x


def _block_stats(x: np.ndarray, n_splits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block row counts (S,), means (S x N) and within-block sums of squared deviations (S x N)."""
    blocks = np.array_split(x, n_splits, axis=0)
    counts = np.array([len(b) for b in blocks], dtype=float)
    means = np.stack([b.mean(axis=0) for b in blocks])
    ssw = np.stack([((b - b.mean(axis=0)) ** 2).sum(axis=0) for b in blocks])
    return counts, means, ssw


def _pooled_metric(mask: np.ndarray, counts: np.ndarray, means: np.ndarray, ssw: np.ndarray,
                   metric: str, periods: int) -> np.ndarray:
    """Metric of every config on the union of blocks selected by each row of `mask` (C x S) -> C x N."""
    m = mask.astype(float)
    n = m @ counts  # (C,)
    mean = (m @ (counts[:, None] * means)) / n[:, None]
    if metric == "mean":
        return mean
    between = m @ (counts[:, None] * means**2) - n[:, None] * mean**2
    var = (m @ ssw + between) / (n[:, None] - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mean / np.sqrt(np.maximum(var, 0.0)) * math.sqrt(periods)
    return np.where(var > 0.0, out, np.nan)


def _relative_rank(values: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Average-tie rank (1..N) of column `chosen[c]` within row c of `values`, divided by N + 1."""
    c = np.arange(values.shape[0])
    v = values[c, chosen][:, None]
    below = (values < v).sum(axis=1)
    ties = (values == v).sum(axis=1)
    rank = below + (ties + 1) / 2.0
    return rank / (values.shape[1] + 1.0)


def pbo(
    returns_matrix: pd.DataFrame | np.ndarray, n_splits: int = 16, metric: Metric = "sharpe",
    periods: int = metrics.PERIODS,
) -> PBOResult:
    """Probability of backtest overfitting of choosing the best of N configs (columns) by `metric`.

    The T rows are cut into `n_splits` (even) contiguous blocks (`np.array_split`, so the first blocks may be
    one row longer). For every way of choosing half the blocks as in-sample (C(S, S/2) splits; the other half
    is out-of-sample) the config with the best in-sample metric is selected (first column on ties) and its
    out-of-sample rank among all configs recorded. `metric` is "sharpe" (annualised with `periods`; also
    `metrics.sharpe`), "mean", or a function from a (rows x N) array to N values (higher is better). NaN metrics rank lowest.
    """
    x = _check_matrix(returns_matrix)
    t, n_cfg = x.shape
    if metric is metrics.sharpe:  # the 1-d metric itself: use the fast column-wise equivalent
        metric = "sharpe"
    if n_splits < 2 or n_splits % 2:
        raise ConfigError(f"n_splits must be an even number >= 2, got {n_splits}")
    if t < 2 * n_splits:
        raise DataError(f"PBO with {n_splits} splits needs at least {2 * n_splits} rows, got {t}")
    if n_cfg < 2:
        raise DataError(f"PBO compares configurations: need at least 2 columns, got {n_cfg}")
    combos = list(combinations(range(n_splits), n_splits // 2))
    mask = np.zeros((len(combos), n_splits), dtype=bool)
    for i, cmb in enumerate(combos):
        mask[i, list(cmb)] = True

    if isinstance(metric, str):
        if metric not in ("sharpe", "mean"):
            raise ConfigError(f"metric must be 'sharpe', 'mean' or a callable, got {metric!r}")
        counts, means, ssw = _block_stats(x, n_splits)
        is_vals = _pooled_metric(mask, counts, means, ssw, metric, periods)
        oos_vals = _pooled_metric(~mask, counts, means, ssw, metric, periods)
    else:
        edges = np.cumsum([0] + [len(b) for b in np.array_split(np.arange(t), n_splits)])
        rows = [np.arange(edges[s], edges[s + 1]) for s in range(n_splits)]
        is_vals = np.empty((len(combos), n_cfg))
        oos_vals = np.empty((len(combos), n_cfg))
        for i in range(len(combos)):
            is_rows = np.concatenate([rows[s] for s in range(n_splits) if mask[i, s]])
            oos_rows = np.concatenate([rows[s] for s in range(n_splits) if not mask[i, s]])
            is_vals[i] = np.asarray(metric(x[is_rows]), dtype=float)
            oos_vals[i] = np.asarray(metric(x[oos_rows]), dtype=float)

    is_vals = np.where(np.isnan(is_vals), -np.inf, is_vals)
    oos_ranked = np.where(np.isnan(oos_vals), -np.inf, oos_vals)
    selected = np.argmax(is_vals, axis=1)
    w = _relative_rank(oos_ranked, selected)
    logits = np.log(w / (1.0 - w))
    c = np.arange(len(combos))
    is_best, oos_best = is_vals[c, selected], oos_vals[c, selected]
    fit = np.isfinite(is_best) & np.isfinite(oos_best)
    if fit.sum() >= 2 and np.ptp(is_best[fit]) > 0:
        slope, intercept = np.polyfit(is_best[fit], oos_best[fit], 1)
    else:
        slope = intercept = float("nan")
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        oos_rank=w,
        is_metric=is_best,
        oos_metric=oos_best,
        selected=selected,
        slope=float(slope),
        intercept=float(intercept),
        prob_oos_loss=float(np.mean(oos_best < 0.0)),
        n_splits=n_splits,
        n_configs=n_cfg,
    )


# --------------------------------------------------------------------------------------------------------------
# bootstrap confidence intervals


@dataclass(frozen=True)
class BootstrapCI:
    """A bootstrap confidence interval: the statistic on the data, the interval, and how it was made."""

    estimate: float
    lower: float
    upper: float
    level: float
    block: int
    n: int
    method: str = "percentile"


def block_length(x: pd.Series | np.ndarray) -> int:
    """Expected block length for a stationary bootstrap: arch's `optimal_block_length`, rounded up, >= 1."""
    from research.analytics.resample import optimal_block_length

    v = metrics._values(x)
    if v.size < 3 or np.ptp(v) == 0.0:
        return 1
    b = optimal_block_length(v)
    return max(1, math.ceil(b)) if np.isfinite(b) else 1


def _statistic(stat: str | Callable[[np.ndarray], float], periods: int) -> Callable[[np.ndarray], float]:
    if callable(stat):
        return stat
    named: dict[str, Callable[[np.ndarray], float]] = {
        "sharpe": lambda r: metrics.sharpe(r, periods=periods),
        "cagr": lambda r: metrics.cagr(r, periods=periods),
        "mean": lambda r: float(np.mean(r)),
    }
    if stat not in named:
        raise ConfigError(f"stat must be one of {sorted(named)} or a callable, got {stat!r}")
    return named[stat]


_BOOT_ROWS = 100  # resamples drawn and scored at a time (100 x 6,500 sessions: 5 MB)


def bootstrap_ci(
    returns: pd.Series | np.ndarray,
    stat: str | Callable[[np.ndarray], float] = "sharpe",
    n: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    block: int | None = None,
    periods: int = metrics.PERIODS,
) -> BootstrapCI:
    """Percentile confidence interval of `stat` by the stationary bootstrap (random-length blocks).

    Blocks keep serial dependence (volatility clustering, overlapping positions) inside each resample, so the
    interval is not falsely narrow the way an i.i.d. bootstrap's is on autocorrelated returns. `block` is the
    expected block length (default: `block_length(returns)`). `stat` is "sharpe" (annualised), "cagr", "mean"
    or a function of a 1-d array. NaN returns dropped. Same inputs and seed, same interval: arch's
    `StationaryBootstrap(block, r, seed=np.random.default_rng(seed)).conf_int(..., method="percentile")`, bit for
    bit (`research.analytics.resample` says why it is not called).
    """
    from research.analytics.resample import sharpe_rows, stationary_indices

    r = metrics._values(returns)
    if r.size < 3:
        raise DataError(f"bootstrap_ci needs at least 3 non-NaN returns, got {r.size}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    f = _statistic(stat, periods)
    b = block if block is not None else block_length(r)
    rng = np.random.default_rng(seed)
    results = np.empty(n)
    for lo in range(0, n, _BOOT_ROWS):
        rows = min(_BOOT_ROWS, n - lo)
        sample = r[stationary_indices(rng, r.size, b, rows)]
        if stat == "sharpe":
            results[lo:lo + rows] = sharpe_rows(sample, periods)
        else:
            results[lo:lo + rows] = [f(x) for x in sample]
    alpha = (1.0 - level) / 2
    lower, upper = np.percentile(results, [100 * alpha, 100 * (1.0 - alpha)])
    return BootstrapCI(float(f(r)), float(lower), float(upper), level, int(b), int(n))


# --------------------------------------------------------------------------------------------------------------
# Hansen's SPA and White's Reality Check


@dataclass(frozen=True)
class SPAResult:
    """p-values of the null "no strategy beats the benchmark" (small = some strategy is genuinely better).

    lower, consistent, upper: Hansen's (2005) three p-values (consistent is the recommended one; upper, with
    non-studentized statistics, is White's (2000) Reality Check).
    """

    lower: float
    consistent: float
    upper: float
    block: int
    reps: int
    n_strategies: int
    studentize: bool


def _spa_inputs(
    strategy_returns: pd.DataFrame | pd.Series | np.ndarray, benchmark_returns: pd.Series | np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """(benchmark T, strategies T x K) aligned on dates, rows with any NaN dropped."""
    strat = strategy_returns
    if isinstance(strat, pd.Series):
        strat = strat.to_frame()
    if np.ndim(benchmark_returns) == 0:
        s = np.asarray(strat, dtype=float)
        s = s.reshape(len(s), -1)
        bench = np.full(len(s), float(benchmark_returns))  # type: ignore[arg-type]
    elif isinstance(strat, pd.DataFrame) and isinstance(benchmark_returns, pd.Series):
        both = pd.concat([benchmark_returns.rename("__bench__"), strat], axis=1, join="inner").astype(float)
        bench, s = both.iloc[:, 0].to_numpy(), both.iloc[:, 1:].to_numpy()
    else:
        s = np.asarray(strat, dtype=float)
        s = s.reshape(len(s), -1)
        bench = np.asarray(benchmark_returns, dtype=float).ravel()
        if len(bench) != len(s):
            raise DataError(f"strategy and benchmark returns differ in length: {len(s)} vs {len(bench)}")
    ok = np.isfinite(bench) & np.isfinite(s).all(axis=1)
    if ok.sum() < 10:
        raise DataError(f"SPA needs at least 10 dates where every series has a return, got {int(ok.sum())}")
    return bench[ok], s[ok]


def spa_test(
    strategy_returns: pd.DataFrame | pd.Series | np.ndarray,
    benchmark_returns: pd.Series | np.ndarray | float = 0.0,
    seed: int = 0,
    reps: int = 1000,
    block: int | None = None,
    studentize: bool = True,
) -> SPAResult:
    """Hansen's test of superior predictive ability: does any of the K strategies beat the benchmark?

    The null is that no strategy has a higher expected return than the benchmark. The differences
    strategy - benchmark are resampled by the stationary bootstrap (`block`: its expected block length, default
    the median `block_length` of the differences, over at most 64 of them spread evenly) and the statistic is
    Hansen's studentized maximum (`research.analytics.nb.spa_nb`, by blocks: a sweep's thousands of configs in
    about a second). Its p-values agree with arch's `SPA` within bootstrap error (tests/test_stats.py). Rows
    with any NaN dropped.
    """
    from research.analytics.nb import spa_nb
    from research.analytics.resample import stationary_blocks

    bench, strat = _spa_inputs(strategy_returns, benchmark_returns)
    d = np.ascontiguousarray(strat - bench[:, None])
    if block is None:
        cols = np.unique(np.linspace(0, d.shape[1] - 1, min(64, d.shape[1])).round().astype(int))
        block = int(np.median([block_length(d[:, k]) for k in cols]))
    b = max(1, int(block))
    starts, lengths, ptr = stationary_blocks(np.random.default_rng(seed), len(d), b, reps)
    lower, consistent, upper = spa_nb(d, starts, lengths, ptr, studentize)
    return SPAResult(float(lower), float(consistent), float(upper), b, reps, d.shape[1], studentize)


def reality_check(
    strategy_returns: pd.DataFrame | pd.Series | np.ndarray,
    benchmark_returns: pd.Series | np.ndarray | float = 0.0,
    seed: int = 0,
    reps: int = 1000,
    block: int | None = None,
) -> SPAResult:
    """White's (2000) Reality Check: `spa_test` with non-studentized statistics; its p-value is `upper`.

    More conservative than SPA when poor strategies are included (they are not re-centred away).
    """
    return spa_test(strategy_returns, benchmark_returns, seed=seed, reps=reps, block=block, studentize=False)
