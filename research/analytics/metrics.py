"""Performance metrics on daily simple returns: one small function per metric, one definition each.

Conventions (shared by every function unless its docstring says otherwise):

- `returns` are non-cumulative simple returns, one per session: a `pd.Series` on a DatetimeIndex (or a 1-d
  array where no dates are needed). `periods` is the number of periods per year (252 sessions).
- **NaN means "no observation"**: NaN returns are dropped before computing, so a metric of a series with
  NaNs equals the metric of the same series with them removed. Pairwise metrics (beta, alpha, capture,
  tracking error, information ratio) use the dates present and non-NaN in *both* series.
- A metric that is undefined (too few observations, zero volatility, no drawdown, ...) is NaN, never +-inf,
  so that it can be stored in a JSON baseline and compared.
- Definitions follow empyrical (`empyrical/stats.py`) so that, on series without NaN, results agree with it
  to floating-point precision. Where they differ the docstring says how and why:
  cagr/total_return count only non-NaN observations (empyrical counts NaN rows in the number of years);
  ratios return NaN where empyrical returns +-inf; information_ratio is annualised (empyrical's
  `excess_sharpe` is not).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from research.errors import ConfigError

PERIODS = 252  # sessions per year
_TINY_VAR = 1.0e-30  # variance below this is treated as zero (as empyrical's beta does)

ArrayLike = pd.Series | np.ndarray


# --------------------------------------------------------------------------------------------------------------
# input handling


def _values(x: ArrayLike | None) -> np.ndarray:
    """1-d float array of `x` with NaN removed."""
    if x is None:
        return np.array([], dtype=float)
    if isinstance(x, pd.DataFrame):
        raise ConfigError(f"expected one series of returns, got a DataFrame with columns {list(x.columns)[:5]}")
    a = np.asarray(x, dtype=float).ravel()
    return a[~np.isnan(a)]


def _clean(returns: ArrayLike) -> ArrayLike:
    """`returns` with NaN removed, keeping its index when it is a Series."""
    if isinstance(returns, pd.Series):
        return returns.astype(float).dropna()
    return _values(returns)


def _paired(returns: ArrayLike, benchmark: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Two float arrays over the observations present and non-NaN in both inputs.

    Series are aligned on their dates (inner join); arrays must have the same length.
    """
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        both = pd.concat([returns.astype(float), benchmark.astype(float)], axis=1, join="inner")
        a, b = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
    else:
        a, b = np.asarray(returns, dtype=float).ravel(), np.asarray(benchmark, dtype=float).ravel()
        if a.shape != b.shape:
            raise ConfigError(f"returns and benchmark must have the same length, got {a.size} and {b.size}")
    ok = ~(np.isnan(a) | np.isnan(b))
    return a[ok], b[ok]


def _excess(returns: ArrayLike, rf: float | ArrayLike | None) -> np.ndarray:
    """Returns minus the per-period risk-free rate (a constant or a series aligned on dates), NaN dropped."""
    if rf is None:
        return _values(returns)
    if np.ndim(rf) == 0:
        return _values(returns) - float(rf)  # type: ignore[arg-type]
    r, f = _paired(returns, rf)
    return r - f


def _ratio(num: float, den: float) -> float:
    """num / den, NaN when the denominator is zero or NaN."""
    if not np.isfinite(den) or den == 0.0:
        return float("nan")
    return float(num / den)


# --------------------------------------------------------------------------------------------------------------
# return and risk


def total_return(returns: ArrayLike) -> float:
    """Compounded return over the whole series: prod(1 + r) - 1. NaN dropped; NaN if no observation."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    return float(np.prod(1.0 + r) - 1.0)


def cagr(returns: ArrayLike, periods: int = PERIODS) -> float:
    """Compound annual growth rate: (1 + total_return) ** (periods / n) - 1, n = number of observations.

    As empyrical's `annual_return`, except that NaN returns are dropped and not counted in n.
    NaN if no observation.
    """
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    return float(np.prod(1.0 + r) ** (periods / r.size) - 1.0)


def annual_volatility(returns: ArrayLike, periods: int = PERIODS) -> float:
    """Sample standard deviation (ddof=1) times sqrt(periods). NaN dropped; NaN if fewer than 2 observations."""
    r = _values(returns)
    if r.size < 2:
        return float("nan")
    return float(np.std(r, ddof=1) * math.sqrt(periods))


def sharpe(returns: ArrayLike, rf: float | ArrayLike | None = None, periods: int = PERIODS) -> float:
    """Annualised Sharpe ratio: mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods), as empyrical.

    `rf` is the per-period risk-free return (a constant, or a series aligned on dates; dates where it is
    missing are dropped). NaN if fewer than 2 observations or if the excess returns have zero dispersion
    (empyrical returns +-inf there).
    """
    x = _excess(returns, rf)
    if x.size < 2 or np.ptp(x) == 0.0:
        return float("nan")
    return _ratio(float(np.mean(x)), float(np.std(x, ddof=1))) * math.sqrt(periods)


def downside_risk(returns: ArrayLike, required_return: float = 0.0, periods: int = PERIODS) -> float:
    """Annualised downside deviation: sqrt(mean(min(r - required_return, 0) ** 2)) * sqrt(periods).

    The mean is over *all* observations (not only the losing ones), as empyrical. NaN if no observation.
    """
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    d = np.minimum(r - required_return, 0.0)
    return float(np.sqrt(np.mean(d**2)) * math.sqrt(periods))


def sortino(returns: ArrayLike, required_return: float = 0.0, periods: int = PERIODS) -> float:
    """Sortino ratio: mean(r - required_return) * periods / downside_risk, as empyrical.

    NaN if fewer than 2 observations or no downside (empyrical returns +inf there).
    """
    r = _values(returns)
    if r.size < 2:
        return float("nan")
    return _ratio(float(np.mean(r - required_return)) * periods, downside_risk(r, required_return, periods))


def drawdown_series(returns: pd.Series) -> pd.Series:
    """Drawdown at each date: wealth / running peak - 1 (<= 0), wealth starting at 1 before the first return.

    The starting capital counts as a peak, so a loss on the first day is a drawdown. NaN dropped.
    """
    r = _clean(returns)
    wealth = np.cumprod(1.0 + np.asarray(r, dtype=float))
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    dd = wealth / peak - 1.0
    index = r.index if isinstance(r, pd.Series) else None
    return pd.Series(dd, index=index, name="drawdown")


def max_drawdown(returns: ArrayLike) -> float:
    """Largest peak-to-trough loss of wealth, a number <= 0 (e.g. -0.25), as empyrical. NaN if no observation."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    return float(drawdown_series(r).min())


def calmar(returns: ArrayLike, periods: int = PERIODS) -> float:
    """Calmar ratio: cagr / |max_drawdown|, as empyrical. NaN if there is no drawdown."""
    mdd = max_drawdown(returns)
    if not mdd < 0.0:
        return float("nan")
    value = cagr(returns, periods) / abs(mdd)
    return value if np.isfinite(value) else float("nan")


def hit_rate(returns: ArrayLike) -> float:
    """Fraction of periods with a non-zero return in which the return is positive.

    Flat days (no position, a holiday in the index) are excluded: they are neither hits nor misses.
    NaN dropped; NaN if no non-zero return. (empyrical has no such metric.)
    """
    r = _values(returns)
    moved = r[r != 0.0]
    if moved.size == 0:
        return float("nan")
    return float(np.mean(moved > 0.0))


# --------------------------------------------------------------------------------------------------------------
# relative to a benchmark


def beta(returns: ArrayLike, benchmark: ArrayLike, rf: float | ArrayLike | None = None) -> float:
    """CAPM beta: cov(r, b) / var(b) over paired observations (on excess returns when `rf` is given).

    A constant rf leaves beta unchanged, as in empyrical (which ignores rf). NaN if fewer than 2 pairs or
    the benchmark is constant.
    """
    r, b = _paired(returns, benchmark)
    r, b = _subtract_rf(r, b, returns, benchmark, rf)
    if r.size < 2:
        return float("nan")
    bc = b - b.mean()
    var = float(np.mean(bc**2))
    if var < _TINY_VAR:
        return float("nan")
    return float(np.mean(bc * r) / var)


def alpha(
    returns: ArrayLike, benchmark: ArrayLike, rf: float | ArrayLike | None = None, periods: int = PERIODS
) -> float:
    """Annualised Jensen's alpha, as empyrical: (1 + mean(r_ex - beta * b_ex)) ** periods - 1.

    r_ex, b_ex are excess returns over `rf` (per period). NaN where beta is NaN.
    """
    r, b = _paired(returns, benchmark)
    r, b = _subtract_rf(r, b, returns, benchmark, rf)
    if r.size < 2:
        return float("nan")
    bet = beta(r, b)
    if np.isnan(bet):
        return float("nan")
    return float((1.0 + np.mean(r - bet * b)) ** periods - 1.0)


def _subtract_rf(
    r: np.ndarray, b: np.ndarray, returns: ArrayLike, benchmark: ArrayLike, rf: float | ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    """Paired (r, b) minus rf; a series rf is aligned on the dates of both (pairs without rf are dropped)."""
    if rf is None:
        return r, b
    if np.ndim(rf) == 0:
        return r - float(rf), b - float(rf)  # type: ignore[arg-type]
    if not (isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series) and isinstance(rf, pd.Series)):
        raise ConfigError("a risk-free series needs returns, benchmark and rf as pd.Series (aligned on dates)")
    frame = pd.concat([returns, benchmark, rf], axis=1, join="inner").astype(float).dropna()
    x = frame.to_numpy()
    return x[:, 0] - x[:, 2], x[:, 1] - x[:, 2]


def tracking_error(returns: ArrayLike, benchmark: ArrayLike, periods: int = PERIODS) -> float:
    """Annualised tracking error: std(r - b, ddof=1) * sqrt(periods). NaN if fewer than 2 pairs.

    (empyrical has no tracking-error function; tested against this formula.)
    """
    r, b = _paired(returns, benchmark)
    if r.size < 2:
        return float("nan")
    return float(np.std(r - b, ddof=1) * math.sqrt(periods))


def information_ratio(returns: ArrayLike, benchmark: ArrayLike, periods: int = PERIODS) -> float:
    """Annualised information ratio: mean(r - b) / std(r - b, ddof=1) * sqrt(periods).

    Equals empyrical's `excess_sharpe` times sqrt(periods) (empyrical leaves it per-period; we annualise
    so it sits beside the Sharpe ratio). NaN if fewer than 2 pairs or zero tracking error.
    """
    r, b = _paired(returns, benchmark)
    active = r - b
    if active.size < 2 or np.ptp(active) == 0.0:
        return float("nan")
    return _ratio(float(np.mean(active)), float(np.std(active, ddof=1))) * math.sqrt(periods)


def up_capture(returns: ArrayLike, benchmark: ArrayLike, periods: int = PERIODS) -> float:
    """Up-market capture: cagr(r on days b > 0) / cagr(b on days b > 0), as empyrical.

    NaN if there is no up day or the benchmark's up-day CAGR is zero.
    """
    r, b = _paired(returns, benchmark)
    up = b > 0.0
    if not up.any():
        return float("nan")
    return _ratio(cagr(r[up], periods), cagr(b[up], periods))


def down_capture(returns: ArrayLike, benchmark: ArrayLike, periods: int = PERIODS) -> float:
    """Down-market capture: cagr(r on days b < 0) / cagr(b on days b < 0), as empyrical.

    Below 1 means the strategy loses less than the benchmark in falling markets. NaN if no down day.
    """
    r, b = _paired(returns, benchmark)
    down = b < 0.0
    if not down.any():
        return float("nan")
    return _ratio(cagr(r[down], periods), cagr(b[down], periods))


# --------------------------------------------------------------------------------------------------------------
# tables and rolling series (need dates)


def _series(returns: pd.Series, what: str) -> pd.Series:
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ConfigError(f"{what} needs returns as a pd.Series on a DatetimeIndex, got {type(returns).__name__}")
    return returns.astype(float)


def drawdowns(returns: pd.Series, top: int = 5) -> pd.DataFrame:
    """The `top` deepest drawdown episodes, deepest first.

    An episode is a maximal run of sessions below the previous high-water mark. Columns:
    `peak` (last session at the high-water mark before the episode; the first session when the peak is the
    starting capital), `trough` (session of the lowest wealth), `recovery` (first session back at or above
    the peak; NaT if not recovered), `depth` (trough wealth / peak - 1, <= 0) and `length` (sessions under
    water: peak exclusive to recovery exclusive, or to the last session). NaN returns dropped.
    """
    dd = drawdown_series(_series(returns, "drawdowns"))
    under = dd.to_numpy() < 0.0
    idx = dd.index
    rows: list[dict[str, Any]] = []
    i, n = 0, len(dd)
    while i < n:
        if not under[i]:
            i += 1
            continue
        j = i
        while j < n and under[j]:
            j += 1
        seg = dd.iloc[i:j]
        rows.append({
            "peak": idx[i - 1] if i > 0 else idx[0],
            "trough": seg.idxmin(),
            "recovery": idx[j] if j < n else pd.NaT,
            "depth": float(seg.min()),
            "length": j - i,
        })
        i = j
    cols = ["peak", "trough", "recovery", "depth", "length"]
    table = pd.DataFrame(rows, columns=cols)
    table = table.sort_values("depth", kind="stable").head(top).reset_index(drop=True)
    for c in ("peak", "trough", "recovery"):
        table[c] = pd.to_datetime(table[c])
    return table.astype({"depth": float, "length": int})


def rolling_volatility(returns: pd.Series, window: int = PERIODS, periods: int = PERIODS) -> pd.Series:
    """Annualised volatility over a trailing window of `window` sessions (52 weeks = 252).

    NaN until the window is full and for any window that contains a NaN return.
    """
    r = _series(returns, "rolling_volatility")
    return r.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(periods)


def rolling_sharpe(returns: pd.Series, window: int = PERIODS, periods: int = PERIODS) -> pd.Series:
    """Annualised Sharpe ratio over a trailing window of `window` sessions (same definition as `sharpe`).

    NaN until the window is full, for a window containing a NaN return, and for a zero-volatility window.
    """
    r = _series(returns, "rolling_sharpe")
    roll = r.rolling(window, min_periods=window)
    std = roll.std(ddof=1)
    flat = (roll.max() - roll.min()) == 0.0
    return (roll.mean() / std.mask(flat)) * math.sqrt(periods)


def rolling_beta(returns: pd.Series, benchmark: pd.Series, window: int = PERIODS) -> pd.Series:
    """Beta over a trailing window of `window` sessions, on the dates common to both series.

    NaN until the window is full, for windows containing a NaN in either series, and for a constant benchmark.
    """
    r = _series(returns, "rolling_beta")
    b = _series(benchmark, "rolling_beta")
    both = pd.concat([r, b], axis=1, join="inner")
    both = both.where(both.notna().all(axis=1))
    r, b = both.iloc[:, 0], both.iloc[:, 1]
    cov = r.rolling(window, min_periods=window).cov(b)
    var = b.rolling(window, min_periods=window).var()
    return (cov / var.where(var > _TINY_VAR)).rename("beta")


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return of each calendar month: a year x month (1..12) table, NaN for months without data."""
    r = _series(returns, "monthly_returns").dropna()
    grouped = (1.0 + r).groupby([r.index.year, r.index.month]).prod() - 1.0
    table = grouped.unstack()
    table = table.reindex(columns=range(1, 13))
    table.index.name, table.columns.name = "year", "month"
    return table


def annual_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar year, indexed by year. NaN dropped."""
    r = _series(returns, "annual_returns").dropna()
    out = (1.0 + r).groupby(r.index.year).prod() - 1.0
    out.index.name = "year"
    return out.rename("return")


# --------------------------------------------------------------------------------------------------------------
# headline numbers

#: The keys of `summary`, in order. Regression baselines store them: add keys at the end, never rename.
SUMMARY_KEYS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "hit_rate",
    "turnover", "avg_gross", "avg_net", "beta", "alpha", "information_ratio", "tracking_error",
    "up_capture", "down_capture", "costs_paid", "n_days", "start", "end",
)


def _mean_or_nan(x: ArrayLike | None) -> float:
    v = _values(x)
    return float(v.mean()) if v.size else float("nan")


def summary(
    returns: ArrayLike,
    benchmark: ArrayLike | None = None,
    rf: float | ArrayLike | None = None,
    turnover: ArrayLike | None = None,
    gross: ArrayLike | None = None,
    net: ArrayLike | None = None,
    costs: ArrayLike | None = None,
    periods: int = PERIODS,
) -> dict[str, float | int | str]:
    """Every headline number of a run, keyed by `SUMMARY_KEYS` (stable snake_case).

    `turnover`, `gross`, `net` and `costs` are per-session series (fraction of NAV traded, gross and net
    exposure, cost paid as a fraction of NAV). Definitions:
    turnover = sum(daily turnover) / years with years = n_days / periods; avg_gross, avg_net = their means;
    costs_paid = sum of daily cost fractions; n_days = number of non-NaN returns; start, end = ISO dates of
    the first and last non-NaN return ("" without dates). Benchmark metrics (beta, alpha, information_ratio,
    tracking_error, up/down capture) are NaN without a benchmark; a missing input gives NaN, not 0.
    """
    r = _clean(returns)
    n = int(len(r))
    years = n / periods if n else float("nan")
    has_dates = isinstance(r, pd.Series) and isinstance(r.index, pd.DatetimeIndex) and n > 0
    nan = float("nan")
    b = benchmark
    out: dict[str, float | int | str] = {
        "total_return": total_return(r),
        "cagr": cagr(r, periods),
        "volatility": annual_volatility(r, periods),
        "sharpe": sharpe(r, rf, periods),
        "sortino": sortino(r, periods=periods),
        "max_drawdown": max_drawdown(r),
        "calmar": calmar(r, periods),
        "hit_rate": hit_rate(r),
        "turnover": float(_values(turnover).sum() / years) if turnover is not None and n else nan,
        "avg_gross": _mean_or_nan(gross) if gross is not None else nan,
        "avg_net": _mean_or_nan(net) if net is not None else nan,
        "beta": beta(r, b, rf) if b is not None else nan,
        "alpha": alpha(r, b, rf, periods) if b is not None else nan,
        "information_ratio": information_ratio(r, b, periods) if b is not None else nan,
        "tracking_error": tracking_error(r, b, periods) if b is not None else nan,
        "up_capture": up_capture(r, b, periods) if b is not None else nan,
        "down_capture": down_capture(r, b, periods) if b is not None else nan,
        "costs_paid": float(_values(costs).sum()) if costs is not None else nan,
        "n_days": n,
        "start": r.index[0].date().isoformat() if has_dates else "",
        "end": r.index[-1].date().isoformat() if has_dates else "",
    }
    return out


# --------------------------------------------------------------------------------------------------------------
# the PM tables (quantstats' and pyfolio's): trailing returns, extremes, VaR, stress periods, factor regression


def first_fill(returns: pd.Series, turnover: pd.Series | None = None) -> pd.Timestamp | None:
    """The first session the book traded: the first with turnover > 0, else (no turnover given) the first
    non-zero return; None when it never traded. Sessions before it are warm-up (the strategy had no position),
    so the performance tables start there and the warm-up is reported on its own."""
    if turnover is not None and len(turnover):
        t = turnover.astype(float).fillna(0.0)
        return t.index[int(np.argmax(t.to_numpy() > 0.0))] if (t > 0.0).any() else None
    r = _series(returns, "first_fill").dropna()
    moved = r.ne(0.0)
    return r.index[int(np.argmax(moved.to_numpy()))] if moved.any() else None


#: Trailing windows of `trailing_returns`: label -> calendar months (0 = month to date, -1 = year to date).
TRAILING: tuple[tuple[str, int], ...] = (("MTD", 0), ("YTD", -1), ("1y", 12), ("3y (ann.)", 36),
                                         ("5y (ann.)", 60), ("10y (ann.)", 120))
#: A window counts as covered when the returns start at most this many calendar days after its start (a long
#: weekend plus a holiday, or a first fill on the first session of the window).
_COVER_DAYS = 7


def trailing_returns(returns: pd.Series, asof: pd.Timestamp | None = None) -> pd.Series:
    """Compounded return over each `TRAILING` window ending at `asof` (default: the last date), as quantstats'
    `metrics` table: MTD from the last close of the previous month, YTD from the last close of the previous
    year, 1y simple, 3/5/10 y annualised by the window's nominal years ((1 + R) ** (1 / k) - 1), and
    "since start (ann.)" the CAGR of the whole series. A window the series does not cover is NaN, never a
    shorter window passed off as a longer one. NaN dropped."""
    r = _series(returns, "trailing_returns").dropna()
    out: dict[str, float] = {}
    if r.empty:
        return pd.Series({label: np.nan for label, _ in TRAILING} | {"since start (ann.)": np.nan}, dtype=float)
    end = pd.Timestamp(asof) if asof is not None else r.index[-1]
    r = r.loc[:end]
    for label, months in TRAILING:
        if months == 0:
            start = end.to_period("M").to_timestamp() - pd.Timedelta(days=1)
        elif months == -1:
            start = pd.Timestamp(year=end.year, month=1, day=1) - pd.Timedelta(days=1)
        else:
            start = end - pd.DateOffset(months=months)
        window = r.loc[r.index > start]
        covered = len(window) and r.index[0] <= start + pd.Timedelta(days=_COVER_DAYS)
        total = float(np.prod(1.0 + window.to_numpy()) - 1.0) if covered else np.nan
        out[label] = (1.0 + total) ** (12.0 / months) - 1.0 if months > 12 and covered else total
    out["since start (ann.)"] = cagr(r)
    return pd.Series(out, dtype=float)


def extremes(returns: pd.Series) -> pd.DataFrame:
    """Best and worst day and calendar month: rows best day, worst day, best month, worst month; columns
    `return` and `when` (the date, or YYYY-MM). A month is compounded from its sessions (`monthly_returns`)."""
    r = _series(returns, "extremes").dropna()
    m = monthly_returns(r).stack().dropna() if len(r) else pd.Series(dtype=float)
    rows = {}
    for label, s, pick in (("best day", r, "max"), ("worst day", r, "min"), ("best month", m, "max"),
                           ("worst month", m, "min")):
        if not len(s):
            rows[label] = (np.nan, "")
            continue
        at = s.idxmax() if pick == "max" else s.idxmin()
        when = at.date().isoformat() if isinstance(at, pd.Timestamp) else f"{at[0]}-{int(at[1]):02d}"
        rows[label] = (float(s.loc[at]), when)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["return", "when"])


def value_at_risk(returns: ArrayLike, level: float = 0.95) -> float:
    """Historical one-period value at risk: the (1 - level) quantile of the returns (a loss is negative, e.g.
    -0.02 = "on 5% of days it lost 2% or more"), linear interpolation, as empyrical's `value_at_risk`.
    NaN if no observation."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    return float(np.percentile(r, 100.0 * (1.0 - level)))


def conditional_value_at_risk(returns: ArrayLike, level: float = 0.95) -> float:
    """Historical expected shortfall: the mean of the returns at or below `value_at_risk(level)`, as empyrical's
    `conditional_value_at_risk`. NaN if no observation."""
    r = _values(returns)
    if r.size == 0:
        return float("nan")
    return float(r[r <= value_at_risk(r, level)].mean())


#: Named stress periods: the S&P 500's closing high before each sell-off to its closing low (S&P Dow Jones
#: Indices' daily history of the index; every date checked against SPY's closes in the shared real data, where
#: SPY peaks and bottoms on the same sessions). 2015-16 is the exception: it starts at the last close before
#: China's yuan devaluation of 2015-08-11 (the index's high was in May). A period's return runs from the close
#: of its first session to the close of its last; comments give the S&P 500's closes.
STRESS_PERIODS: tuple[tuple[str, str, str], ...] = (
    ("2008 crisis", "2007-10-09", "2009-03-09"),  # 1565.15 -> 676.53
    ("2011 US downgrade", "2011-07-07", "2011-10-03"),  # 1353.22 -> 1099.23 (S&P's downgrade on 2011-08-05)
    ("2015-16 China, oil", "2015-08-10", "2016-02-11"),  # 2104.18 -> 1829.08
    ("2018 Q4", "2018-09-20", "2018-12-24"),  # 2930.75 -> 2351.10
    ("2020 Covid crash", "2020-02-19", "2020-03-23"),  # 3386.15 -> 2237.40
    ("2022 bear market", "2022-01-03", "2022-10-12"),  # 4796.56 -> 3577.03
)


def stress_periods(returns: pd.DataFrame) -> pd.DataFrame:
    """Return and max drawdown of each column of `returns` (strategy and benchmarks, daily) in each
    `STRESS_PERIODS` window the data covers entirely (rows start to end, from the close of its first session);
    a window not covered by every column is omitted. Columns: a (column, "return" | "max drawdown")
    MultiIndex; index: the period's name, with `start` and `end` columns first."""
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ConfigError("stress_periods needs a DataFrame of daily returns on a DatetimeIndex")
    rows = {}
    for name, a, b in STRESS_PERIODS:
        start, end = pd.Timestamp(a), pd.Timestamp(b)
        covered = all(len(s := returns[c].dropna()) and s.index[0] <= start and s.index[-1] >= end
                      for c in returns.columns)
        if not covered:
            continue
        window = returns.loc[(returns.index > start) & (returns.index <= end)]
        row: dict[tuple[str, str], Any] = {("", "start"): a, ("", "end"): b}
        for c in returns.columns:
            row[(str(c), "return")] = total_return(window[c])
            row[(str(c), "max drawdown")] = max_drawdown(window[c])
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def factor_regression(returns: pd.Series, factors: pd.DataFrame, lags: int | None = None,
                      periods: int = PERIODS) -> pd.DataFrame:
    """OLS of the excess return (returns - factors["RF"]) on the factor columns other than RF, with Newey-West
    (HAC, Bartlett kernel) standard errors: rows `alpha` (annualised: daily intercept x periods) and one per
    factor (beta); columns `coef`, `t` (Newey-West), `se`; `attrs` hold n, lags, r2 and the period.

    Only the dates present in both are used (inner join; NaN dropped). Lags default to Newey & West's (1994)
    rule floor(4 (n / 100) ** (2 / 9)). The covariance is (X'X)^-1 S (X'X)^-1 with S the Bartlett-weighted
    sum of the score autocovariances, no small-sample correction: statsmodels' `cov_type="HAC"` with
    `use_correction=False`, which the tests check. Written here (twenty lines of numpy) rather than adding
    statsmodels, a dependency of 40 MB, for one regression.
    """
    if "RF" not in factors.columns:
        raise ConfigError(f"factor_regression needs an 'RF' column (the risk-free rate); got {list(factors.columns)}")
    names = [c for c in factors.columns if c != "RF"]
    frame = pd.concat([_series(returns, "factor_regression").rename("_r"), factors.astype(float)], axis=1,
                      join="inner").dropna()
    n, k = len(frame), len(names) + 1
    if n <= k + 1:
        raise ConfigError(f"factor_regression: {n} common dates with the factors, need more than {k + 1}")
    y = (frame["_r"] - frame["RF"]).to_numpy()
    x = np.column_stack([np.ones(n), frame[names].to_numpy()])
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    resid = y - x @ coef
    lags = int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))) if lags is None else int(lags)
    u = x * resid[:, None]
    s = u.T @ u
    for lag in range(1, min(lags, n - 1) + 1):
        g = u[lag:].T @ u[:-lag]
        s += (1.0 - lag / (lags + 1.0)) * (g + g.T)
    se = np.sqrt(np.diag(xtx_inv @ s @ xtx_inv))
    scale = np.array([periods] + [1.0] * len(names))
    out = pd.DataFrame({"coef": coef * scale, "t": coef / se, "se": se * scale},
                       index=pd.Index(["alpha", *names], name="term"))
    ss_tot = float(((y - y.mean()) ** 2).sum())
    out.attrs.update(n=n, lags=lags, r2=1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else np.nan,
                     start=frame.index[0].date().isoformat(), end=frame.index[-1].date().isoformat())
    return out
