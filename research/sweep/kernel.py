"""Python side of the fused kernel: the shared `Market` built as the engine builds its inputs, and metrics.

`build_market` prepares exactly what `research.backtest.engine.backtest` prepares (run index from the first
decision, close / fill prices, per-asset costs, borrow per session, cash rate, unpriced-target mask) so that
the kernel's portfolio is the engine's. `finalise` turns the kernel's online accumulators into the metrics of
`research.analytics.metrics.summary` (same definitions: ddof=1, NaN rules) plus the inputs of the deflated
Sharpe ratio (per-period Sharpe, skew, Pearson kurtosis), for raw and, with a benchmark, active returns.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from research.analytics.metrics import PERIODS
from research.backtest.config import ExecutionConfig
from research.data.prices import Prices
from research.errors import DataError
from research.sweep import nb

#: Metric columns of a sweep, in order (raw returns first, then active returns against the benchmark).
METRICS: tuple[str, ...] = (
    "sharpe", "sortino", "cagr", "volatility", "max_drawdown", "turnover", "total_return", "calmar", "hit_rate",
    "avg_gross", "avg_net", "costs_paid", "n_obs", "sharpe_per_period", "skew", "kurtosis",
    "active_sharpe", "active_return", "active_sharpe_per_period", "active_skew", "active_kurtosis",
)


def run_index(prices: Prices, dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The sessions of a run whose first decision is dates[0] (as the engine)."""
    return prices.index[prices.index >= dates[0]]


def build_market(
    prices: Prices,
    dates: pd.DatetimeIndex,
    tickers: list[str],
    config: ExecutionConfig,
    bench: pd.Series | None = None,
    segments: np.ndarray | None = None,
) -> nb.Market:
    """The kernel's shared inputs for weights on `dates` x `tickers` under `config` (see the engine)."""
    dates = pd.DatetimeIndex(dates)
    index = run_index(prices, dates)
    close = np.ascontiguousarray(prices.close.loc[index, tickers].to_numpy(dtype=float))
    fill_frame = prices.close if config.fill == "close" else prices.open
    fill_price = np.ascontiguousarray(fill_frame.loc[index, tickers].to_numpy(dtype=float))
    dec = index.get_indexer(dates)
    if (dec < 0).any():
        raise DataError(f"decision dates {list(dates[dec < 0][:3])} are not price sessions.")
    n = len(index)
    fill = np.minimum(dec + 1, n - 1)
    no_price = np.isnan(close[dec]) | np.isnan(fill_price[fill])
    cash_rate, _ = config.cash_rate_per_session(index)
    if bench is not None:
        b = bench.reindex(index).to_numpy(dtype=float)
        if np.isnan(b).any():
            raise DataError(f"benchmark returns miss {int(np.isnan(b).sum())} session(s) of the run.")
    else:
        b = np.zeros(n)
    seg = np.full(n, -1, dtype=np.int64) if segments is None else np.asarray(segments, dtype=np.int64)
    if seg.shape != (n,):
        raise DataError(f"segments must have one entry per session of the run ({n}), got {seg.shape}.")
    return nb.Market(
        close=close,
        last_close=np.ascontiguousarray(pd.DataFrame(close).ffill().to_numpy(dtype=float)),
        fill_price=fill_price,
        dec_rows=dec.astype(np.int64),
        no_price=np.ascontiguousarray(no_price),
        fees=config.fees(tickers),
        slippage=config.slippage(tickers),
        borrow_day=np.ascontiguousarray(config.borrow_per_session(index, tickers)),
        cash_rate=np.ascontiguousarray(cash_rate, dtype=float),
        band=float(config.no_trade_band),
        init_cash=float(config.init_cash),
        max_gross=np.nan if config.max_gross is None else float(config.max_gross),
        max_net=np.nan if config.max_net is None else float(config.max_net),
        bench=np.ascontiguousarray(b),
        has_bench=bench is not None,
        seg_of=seg,
    )


def with_segments(mk: nb.Market, segments: np.ndarray) -> nb.Market:
    """The same market with another session -> segment map."""
    return mk._replace(seg_of=np.asarray(segments, dtype=np.int64))


def _sharpe_parts(n: np.ndarray, mean: np.ndarray, m2: np.ndarray, lo: np.ndarray, hi: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(annualised Sharpe, per-period Sharpe) with metrics.sharpe's NaN rules (n < 2 or no dispersion)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt(m2 / (n - 1.0))
        ok = (n >= 2) & (hi > lo) & np.isfinite(std) & (std > 0)
        per = np.where(ok, mean / np.where(ok, std, 1.0), np.nan)
    return per * math.sqrt(PERIODS), per


def _shape(n: np.ndarray, m2: np.ndarray, m3: np.ndarray, m4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Biased sample skew and Pearson kurtosis (scipy.stats.skew / kurtosis(fisher=False))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var = m2 / n
        skew = np.where(var > 0, (m3 / n) / var**1.5, np.nan)
        kurt = np.where(var > 0, (m4 / n) / var**2, np.nan)
    return skew, kurt


def active_metrics(active: np.ndarray) -> dict[str, np.ndarray]:
    """The `active_*` columns of `finalise` from daily active returns (T, K), NaN rows of a column skipped:
    the same formulas (`_sharpe_parts`, `_shape`) on moments taken directly."""
    x = np.asarray(active, dtype=float)
    ok = np.isfinite(x)
    n = ok.sum(axis=0).astype(float)
    z = np.where(ok, x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = z.sum(axis=0) / n
        d = np.where(ok, x - mean, 0.0)
    m2, m3, m4 = (d**2).sum(axis=0), (d**3).sum(axis=0), (d**4).sum(axis=0)
    lo = np.where(ok, x, np.inf).min(axis=0)
    hi = np.where(ok, x, -np.inf).max(axis=0)
    sharpe, sr = _sharpe_parts(n, mean, m2, lo, hi)
    skew, kurt = _shape(n, m2, m3, m4)
    return {"active_sharpe": sharpe, "active_return": mean * PERIODS, "active_sharpe_per_period": sr,
            "active_skew": skew, "active_kurtosis": kurt}


def finalise(acc: np.ndarray, periods: int = PERIODS) -> pd.DataFrame:
    """Metrics (columns `METRICS`) from the kernel's accumulators (C, N_ACC)."""
    a = np.asarray(acc, dtype=float)
    n = a[:, nb.A_N]
    mean = a[:, nb.A_MEAN]
    nan = np.full(len(a), np.nan)
    sharpe, sr = _sharpe_parts(n, mean, a[:, nb.A_M2], a[:, nb.A_MIN], a[:, nb.A_MAX])
    skew, kurt = _shape(n, a[:, nb.A_M2], a[:, nb.A_M3], a[:, nb.A_M4])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wealth = a[:, nb.A_WEALTH]
        cagr = np.where(n > 0, wealth ** (periods / n) - 1.0, np.nan)
        vol = np.where(n >= 2, np.sqrt(a[:, nb.A_M2] / (n - 1.0)) * math.sqrt(periods), np.nan)
        down = np.sqrt(a[:, nb.A_DOWN] / n) * math.sqrt(periods)
        sortino = np.where((n >= 2) & (down > 0) & np.isfinite(down), mean * periods / down, np.nan)
        mdd = np.where(n > 0, a[:, nb.A_MDD], np.nan)
        calmar = np.where(mdd < 0, cagr / np.abs(mdd), np.nan)
        calmar = np.where(np.isfinite(calmar), calmar, np.nan)
        hit = np.where(a[:, nb.A_MOVED] > 0, a[:, nb.A_HIT] / a[:, nb.A_MOVED], np.nan)
        years = n / periods
        turnover = np.where(n > 0, a[:, nb.A_TURN] / years, np.nan)
        avg_gross = np.where(n > 0, a[:, nb.A_GROSS] / n, np.nan)
        avg_net = np.where(n > 0, a[:, nb.A_NET] / n, np.nan)
    has_active = a[:, nb.X_N] > 0
    xs, xsr = _sharpe_parts(a[:, nb.X_N], a[:, nb.X_MEAN], a[:, nb.X_M2], a[:, nb.X_MIN], a[:, nb.X_MAX])
    xskew, xkurt = _shape(a[:, nb.X_N], a[:, nb.X_M2], a[:, nb.X_M3], a[:, nb.X_M4])
    return pd.DataFrame({
        "sharpe": sharpe, "sortino": sortino, "cagr": cagr, "volatility": vol, "max_drawdown": mdd,
        "turnover": turnover, "total_return": np.where(n > 0, wealth - 1.0, np.nan), "calmar": calmar,
        "hit_rate": hit, "avg_gross": avg_gross, "avg_net": avg_net,
        "costs_paid": np.where(n > 0, a[:, nb.A_COST], np.nan), "n_obs": n.astype(np.int64),
        "sharpe_per_period": sr, "skew": skew, "kurtosis": kurt,
        "active_sharpe": np.where(has_active, xs, nan),
        "active_return": np.where(has_active, a[:, nb.X_MEAN] * periods, nan),
        "active_sharpe_per_period": np.where(has_active, xsr, nan),
        "active_skew": np.where(has_active, xskew, nan), "active_kurtosis": np.where(has_active, xkurt, nan),
    }, columns=list(METRICS))


def segment_sharpe(seg: np.ndarray, members: np.ndarray, periods: int = PERIODS) -> np.ndarray:
    """Annualised Sharpe of each config over the union of the segments flagged in `members` (S,) bool.

    `seg` is (C, S, 3) of per-segment (n, mean, M2); segments are merged exactly (Chan et al.).
    """
    s = np.asarray(seg)[:, np.asarray(members, dtype=bool), :]
    n = s[:, :, 0].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (s[:, :, 0] * s[:, :, 1]).sum(axis=1) / n
        m2 = s[:, :, 2].sum(axis=1) + (s[:, :, 0] * (s[:, :, 1] - mean[:, None]) ** 2).sum(axis=1)
        std = np.sqrt(m2 / (n - 1.0))
        out = np.where((n >= 2) & (std > 1e-300), mean / std * math.sqrt(periods), np.nan)
    return out
