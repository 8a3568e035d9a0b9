"""Signal diagnostics for a cross-section of sector ETFs at weekly frequency (the alphalens pipeline, small).

    signal (decision dates x assets) + daily closes
      -> forward returns per horizon (weeks)  -> rank IC per date -> mean IC, Newey-West t, hit rate
                                              -> top-minus-bottom spread returns
      -> signal decay (IC of the signal lagged 0..k decision dates)

Timing, with no look-ahead: a signal dated d is known at d's decision time, so its position is entered at the
close of the first session strictly after d, and the h-week forward return runs to the close of the first
session strictly after d + 7h calendar days (= the entry of the decision h weeks later on a weekly schedule).
Forward returns at h > 1 overlap across consecutive weekly dates, which is why t-statistics use Newey-West
standard errors with at least h - 1 lags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.data.universe import ETF_OF_SECTOR
from research.errors import DataError

HORIZONS: tuple[int, ...] = (1, 4, 13)  # weeks
MIN_ASSETS = 3  # fewest assets with a signal and a forward return for a cross-sectional statistic


# --------------------------------------------------------------------------------------------------------------
# inputs


def _check_dates(index: pd.Index, name: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(f"{name}: the index must be dates (a DatetimeIndex), got {type(index).__name__}")
    if index.tz is not None:
        raise DataError(f"{name}: dates must be tz-naive, got time zone {index.tz}")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise DataError(f"{name}: dates must be sorted and unique")
    return index


def align_assets(signal: pd.DataFrame, close: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Signal and closes restricted to their common assets, in the closes' column order.

    Signal columns named by GICS sector (the flow panel's entities) are mapped to their SPDR tickers first.
    """
    _check_dates(signal.index, "signal")
    _check_dates(close.index, "close prices")
    if not set(signal.columns) & set(close.columns):
        signal = signal.rename(columns=ETF_OF_SECTOR)
    common = [c for c in close.columns if c in set(signal.columns)]
    if not common:
        raise DataError(
            f"signal columns {list(signal.columns)[:5]} share no asset with price columns {list(close.columns)[:5]};"
            " name signal columns by ticker (XLK) or GICS sector (Information Technology)."
        )
    return signal[common].astype(float), close[common].astype(float)


# --------------------------------------------------------------------------------------------------------------
# forward returns


def forward_returns(close: pd.DataFrame, dates: pd.DatetimeIndex | Sequence, horizon: int = 1) -> pd.DataFrame:
    """Simple return from the close of the first session after each date to the close h weeks later.

    Entry: first session strictly after d. Exit: first session strictly after d + 7 * horizon days.
    NaN where the exit lies beyond the last price or either close is missing (e.g. before an ETF's inception).
    """
    if horizon < 1:
        raise DataError(f"horizon must be >= 1 week, got {horizon}")
    sessions = _check_dates(close.index, "close prices")
    d = pd.DatetimeIndex(dates)
    entry = sessions.searchsorted(d, side="right")
    exit_ = sessions.searchsorted(d + pd.Timedelta(days=7 * horizon), side="right")
    px = np.vstack([close.to_numpy(dtype=float), np.full((1, close.shape[1]), np.nan)])  # row len = "no session"
    entry = np.minimum(entry, len(sessions))
    exit_ = np.minimum(exit_, len(sessions))
    out = px[exit_] / px[entry] - 1.0
    return pd.DataFrame(out, index=d, columns=close.columns)


# --------------------------------------------------------------------------------------------------------------
# information coefficient


def rank_ic(signal: pd.DataFrame, forward: pd.DataFrame, min_assets: int = MIN_ASSETS) -> pd.Series:
    """Spearman rank correlation across assets, per date, between the signal and forward returns.

    Only assets with both values count (ties get average ranks); NaN for a date with fewer than
    `min_assets` such assets or with no dispersion in either ranking.
    """
    fwd = forward.reindex(index=signal.index, columns=signal.columns)
    s = signal.to_numpy(dtype=float)
    f = fwd.to_numpy(dtype=float)
    valid = ~(np.isnan(s) | np.isnan(f))
    s_rank = pd.DataFrame(np.where(valid, s, np.nan)).rank(axis=1).to_numpy()
    f_rank = pd.DataFrame(np.where(valid, f, np.nan)).rank(axis=1).to_numpy()
    n = valid.sum(axis=1)
    m = np.maximum(n, 1)[:, None]
    sc = np.where(valid, s_rank - np.where(valid, s_rank, 0.0).sum(axis=1, keepdims=True) / m, 0.0)
    fc = np.where(valid, f_rank - np.where(valid, f_rank, 0.0).sum(axis=1, keepdims=True) / m, 0.0)
    den = np.sqrt((sc**2).sum(axis=1) * (fc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        ic = (sc * fc).sum(axis=1) / den
    ic = np.where((n >= min_assets) & (den > 0), ic, np.nan)
    return pd.Series(ic, index=signal.index, name="ic")


def ic_series(signal: pd.DataFrame, close: pd.DataFrame, horizons: Sequence[int] = HORIZONS,
              min_assets: int = MIN_ASSETS) -> pd.DataFrame:
    """Rank IC per decision date (rows) and horizon in weeks (columns)."""
    sig, px = align_assets(signal, close)
    cols = {h: rank_ic(sig, forward_returns(px, sig.index, h), min_assets) for h in horizons}
    out = pd.DataFrame(cols, index=sig.index)
    out.columns.name = "horizon"
    return out


def rolling_ic(ic: pd.Series | pd.DataFrame, window: int = 52) -> pd.Series | pd.DataFrame:
    """IC over time: trailing mean over `window` decision dates (52 = one year of weeks).

    NaN ICs are skipped; a window needs at least half its dates valid.
    """
    return ic.rolling(window, min_periods=max(1, window // 2)).mean()


def newey_west_lags(n: int, horizon: int = 1) -> int:
    """Lags for a Newey-West standard error: max(horizon - 1, floor(4 * (n / 100) ** (2 / 9))).

    h - 1 covers the overlap of h-week forward returns sampled weekly; the second term is Newey & West's
    (1994) rule of thumb for the remaining autocorrelation of IC.
    """
    return max(horizon - 1, int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))) if n > 0 else 0


def newey_west_se(x: pd.Series | np.ndarray, lags: int) -> float:
    """HAC standard error of the mean of `x` with Bartlett weights 1 - l / (lags + 1) (Newey & West 1987).

    Var(mean) = (g0 + 2 * sum_l w_l g_l) / n with g_l = sum_t (x_t - m)(x_{t-l} - m) / n. NaN dropped (gaps
    are ignored); NaN with fewer than 2 observations.
    """
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 2:
        return float("nan")
    e = v - v.mean()
    s = float(e @ e) / n
    for lag in range(1, min(int(lags), n - 1) + 1):
        s += 2.0 * (1.0 - lag / (lags + 1.0)) * float(e[lag:] @ e[:-lag]) / n
    return math.sqrt(s / n) if s > 0 else float("nan")


def newey_west_tstat(x: pd.Series | np.ndarray, lags: int) -> float:
    """t-statistic of mean(x) = 0 with the Newey-West standard error (NaN dropped)."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    se = newey_west_se(v, lags)
    return float(v.mean() / se) if v.size and np.isfinite(se) and se > 0 else float("nan")


def ic_summary(signal: pd.DataFrame, close: pd.DataFrame, horizons: Sequence[int] = HORIZONS,
               lags: int | None = None, min_assets: int = MIN_ASSETS) -> pd.DataFrame:
    """Per horizon (weeks): mean_ic, t_nw (Newey-West t of the mean), n_dates (dates with an IC), hit
    (fraction of those dates with IC > 0).

    Lags default to `newey_west_lags(n_dates, horizon)`; an explicit `lags` is raised to at least h - 1.
    """
    ics = ic_series(signal, close, horizons, min_assets)
    rows = []
    for h in horizons:
        ic = ics[h].dropna()
        n = int(ic.size)
        lag = newey_west_lags(n, h) if lags is None else max(int(lags), h - 1)
        rows.append({
            "mean_ic": float(ic.mean()) if n else float("nan"),
            "t_nw": newey_west_tstat(ic.to_numpy(), lag),
            "n_dates": n,
            "hit": float((ic > 0).mean()) if n else float("nan"),
        })
    return pd.DataFrame(rows, index=pd.Index(list(horizons), name="horizon"))


# --------------------------------------------------------------------------------------------------------------
# spreads and decay


def top_bottom_spread(signal: pd.DataFrame, forward: pd.DataFrame, n: int = 3) -> pd.Series:
    """Per date: mean forward return of the n highest-signal assets minus that of the n lowest.

    Only assets with both values count; NaN for a date with fewer than 2n of them. Ties in the signal are
    broken by column order (earlier column ranks lower), so the result is deterministic.
    """
    if n < 1:
        raise DataError(f"n must be >= 1, got {n}")
    fwd = forward.reindex(index=signal.index, columns=signal.columns).to_numpy(dtype=float)
    s = signal.to_numpy(dtype=float)
    valid = ~(np.isnan(s) | np.isnan(fwd))
    order = np.argsort(np.where(valid, s, np.inf), axis=1, kind="stable")  # valid ascending, invalid last
    k = valid.sum(axis=1)
    ranked = np.take_along_axis(np.where(valid, fwd, np.nan), order, axis=1)
    rows = np.arange(len(s))[:, None]
    bottom = ranked[:, :n].mean(axis=1)
    top_pos = np.clip(k[:, None] - n + np.arange(n)[None, :], 0, s.shape[1] - 1)
    top = ranked[rows, top_pos].mean(axis=1)
    return pd.Series(np.where(k >= 2 * n, top - bottom, np.nan), index=signal.index, name="spread")


def spread_returns(signal: pd.DataFrame, close: pd.DataFrame, horizons: Sequence[int] = HORIZONS,
                   n: int = 3) -> pd.DataFrame:
    """Top-minus-bottom forward return per decision date (rows) and horizon in weeks (columns).

    Horizons above one week overlap from one weekly date to the next: average them, do not compound them.
    """
    sig, px = align_assets(signal, close)
    out = pd.DataFrame({h: top_bottom_spread(sig, forward_returns(px, sig.index, h), n) for h in horizons},
                       index=sig.index)
    out.columns.name = "horizon"
    return out


def signal_decay(signal: pd.DataFrame, close: pd.DataFrame, max_lag: int = 8, horizon: int = 1,
                 min_assets: int = MIN_ASSETS) -> pd.Series:
    """Mean rank IC, at `horizon` weeks, of the signal lagged 0..max_lag decision dates (a stale signal's IC).

    Lag k pairs the signal of date t-k with the forward returns from date t: how fast the information fades.
    """
    sig, px = align_assets(signal, close)
    fwd = forward_returns(px, sig.index, horizon)
    out = {k: rank_ic(sig.shift(k), fwd, min_assets).mean() for k in range(max_lag + 1)}
    return pd.Series(out, name="mean_ic").rename_axis("lag")


# --------------------------------------------------------------------------------------------------------------
# everything at once


@dataclass(frozen=True)
class SignalDiagnostics:
    """All diagnostics of one signal, for a tear sheet or a notebook."""

    ic: pd.DataFrame  # decision date x horizon
    ic_rolling: pd.DataFrame
    summary: pd.DataFrame  # horizon x [mean_ic, t_nw, n_dates, hit]
    spread: pd.DataFrame  # decision date x horizon
    decay: pd.Series  # lag -> mean IC at horizon 1


def signal_diagnostics(signal: pd.DataFrame, close: pd.DataFrame, horizons: Sequence[int] = HORIZONS,
                       n: int = 3, window: int = 52, max_lag: int = 8) -> SignalDiagnostics:
    """Rank IC, rolling IC, IC summary, top-minus-bottom spreads and decay of `signal` against `close`."""
    ic = ic_series(signal, close, horizons)
    return SignalDiagnostics(
        ic=ic,
        ic_rolling=rolling_ic(ic, window),  # type: ignore[arg-type]
        summary=ic_summary(signal, close, horizons),
        spread=spread_returns(signal, close, horizons, n),
        decay=signal_decay(signal, close, max_lag),
    )
