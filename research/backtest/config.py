"""Execution configuration of a backtest: fill timing, costs, mode, limits, band, capital.

Costs are in basis points: fees and slippage per side of a trade, borrow per year on short notional.
A per-asset mapping may carry a "*" entry, the default for tickers it does not name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.strategy import Mode

Fill = Literal["close", "open"]
SESSIONS_PER_YEAR = 252
#: A daily cash rate above this is almost surely a percent (FF RF) passed without dividing by 100.
MAX_DAILY_RATE = 0.01
_BPS = 1e-4


@dataclass(frozen=True)
class ExecutionConfig:
    """How target weights become trades and what they cost (see `research.backtest.engine` for semantics)."""

    fill: Fill = "close"
    fees_bps: float | Mapping[str, float] = 2.0
    slippage_bps: float | Mapping[str, float] = 3.0
    borrow_bps: float | Mapping[str, float] | pd.DataFrame = 50.0
    cash_rate: pd.Series | None = None
    mode: Mode = "long_only"
    max_gross: float | None = None
    max_net: float | None = None
    no_trade_band: float = 0.0
    init_cash: float = 1_000_000.0

    def __post_init__(self) -> None:
        if self.fill not in get_args(Fill):
            raise ConfigError(f"fill must be 'close' or 'open', got {self.fill!r}.")
        if self.mode not in get_args(Mode):
            raise ConfigError(f"mode must be one of {', '.join(get_args(Mode))}; got {self.mode!r}.")
        _check_bps(self.fees_bps, "fees_bps", upper=10_000.0)
        _check_bps(self.slippage_bps, "slippage_bps", upper=10_000.0)
        if isinstance(self.borrow_bps, pd.DataFrame):
            _check_borrow_frame(self.borrow_bps)
        else:
            _check_bps(self.borrow_bps, "borrow_bps", upper=1_000_000.0)
        for name in ("max_gross", "max_net"):
            v = getattr(self, name)
            if v is not None and not (_is_number(v) and math.isfinite(v) and v > 0):
                raise ConfigError(f"{name} must be a positive number or None, got {v!r}.")
        if not (_is_number(self.no_trade_band) and 0.0 <= self.no_trade_band < 1.0):
            raise ConfigError(f"no_trade_band is a fraction of equity in [0, 1), got {self.no_trade_band!r}.")
        if not (_is_number(self.init_cash) and math.isfinite(self.init_cash) and self.init_cash > 0):
            raise ConfigError(f"init_cash must be a positive number, got {self.init_cash!r}.")
        if self.cash_rate is not None:
            _check_cash_rate(self.cash_rate)

    # ----- description -----
    def timing(self) -> str:
        """The timing convention, e.g. 'decide at close t, fill next close'."""
        return f"decide at close t, fill next {self.fill}"

    def describe(self) -> str:
        """One line for the tear sheet."""
        parts = [
            self.timing(),
            self.mode,
            f"fees {_bps_text(self.fees_bps)}",
            f"slippage {_bps_text(self.slippage_bps)} per side",
            f"borrow {_bps_text(self.borrow_bps)}/yr on shorts (1/{SESSIONS_PER_YEAR} per session)",
            f"cash interest {_rate_text(self.cash_rate)}",
        ]
        if self.no_trade_band > 0:
            parts.append(f"no-trade band {self.no_trade_band:.2%} of equity")
        limits = []
        if self.max_gross is not None:
            limits.append(f"gross {self.max_gross:g}x")
        if self.max_net is not None:
            limits.append(f"|net| {self.max_net:g}x")
        parts.append("limits " + (", ".join(limits) + " (rows scaled down, logged)" if limits else "none"))
        parts.append(f"initial cash {self.init_cash:,.0f}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (time series are summarised by span and mean)."""
        return {
            "timing": self.timing(),
            "fill": self.fill,
            "mode": self.mode,
            "fees_bps": _bps_json(self.fees_bps),
            "slippage_bps": _bps_json(self.slippage_bps),
            "borrow_bps": _bps_json(self.borrow_bps),
            "borrow_accrual": f"annual rate / {SESSIONS_PER_YEAR} per session on short notional at the previous close",
            "cash_rate": _rate_json(self.cash_rate),
            "max_gross": self.max_gross,
            "max_net": self.max_net,
            "no_trade_band": self.no_trade_band,
            "init_cash": self.init_cash,
        }

    # ----- per-asset arrays for the kernel -----
    def fees(self, tickers: list[str]) -> np.ndarray:
        """Fee fraction per ticker."""
        return _per_asset(self.fees_bps, tickers, "fees_bps") * _BPS

    def slippage(self, tickers: list[str]) -> np.ndarray:
        """Slippage fraction per ticker."""
        return _per_asset(self.slippage_bps, tickers, "slippage_bps") * _BPS

    def borrow_per_session(self, index: pd.DatetimeIndex, tickers: list[str]) -> np.ndarray:
        """Borrow cost per session as a fraction of short notional, shape (sessions, tickers).

        A DataFrame of annual bps is forward-filled onto the sessions (a rate holds until it changes);
        a ticker it lacks, or a session before its first row, is an error.
        """
        if not isinstance(self.borrow_bps, pd.DataFrame):
            row = _per_asset(self.borrow_bps, tickers, "borrow_bps")
            return np.broadcast_to(row * _BPS / SESSIONS_PER_YEAR, (len(index), len(tickers))).copy()
        df = self.borrow_bps
        missing = [t for t in tickers if t not in df.columns]
        if missing:
            raise ConfigError(f"borrow_bps (a DataFrame) has no column for {missing}; add them.")
        aligned = df.sort_index()[tickers].reindex(df.index.union(index)).ffill().reindex(index)
        bad = aligned.isna().any(axis=1)
        if bad.any():
            first = index[bad.to_numpy()][0]
            raise ConfigError(
                f"borrow_bps (a DataFrame) has no rate on {first.date()} for "
                f"{list(aligned.columns[aligned.loc[first].isna()])}; it must start on or before the first "
                f"session {index[0].date()} and cover every traded ticker."
            )
        return aligned.to_numpy(dtype=float) * _BPS / SESSIONS_PER_YEAR

    def cash_rate_per_session(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, int]:
        """Daily cash rate on each session (0 without a rate), and the number of sessions forward-filled.

        The series must span the sessions; inside its span a session it lacks takes the last rate.
        """
        if self.cash_rate is None:
            return np.zeros(len(index)), 0
        rate = self.cash_rate.dropna().sort_index()
        if len(index) and (rate.index[0] > index[0] or rate.index[-1] < index[-1]):
            raise ConfigError(
                f"cash_rate covers {rate.index[0].date()}..{rate.index[-1].date()} but the backtest runs "
                f"{index[0].date()}..{index[-1].date()}; trim the prices or extend the rate series."
            )
        have = index.isin(rate.index)
        aligned = rate.reindex(rate.index.union(index)).ffill().reindex(index)
        return aligned.to_numpy(dtype=float), int((~have).sum())


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _check_bps(v: Any, name: str, upper: float) -> None:
    items = v.items() if isinstance(v, Mapping) else [("", v)]
    for key, x in items:
        where = f"{name}[{key!r}]" if key else name
        if not (_is_number(x) and math.isfinite(x) and 0.0 <= x < upper):
            raise ConfigError(f"{where} must be a number of basis points in [0, {upper:g}), got {x!r}.")


def _check_borrow_frame(df: pd.DataFrame) -> None:
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is not None:
        raise ConfigError("borrow_bps (a DataFrame) needs a tz-naive DatetimeIndex of dates.")
    values = df.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ConfigError(
            f"borrow_bps (a DataFrame) must hold finite annual bps >= 0; {df.index[r].date()} "
            f"column {df.columns[c]!r} = {values[r, c]}."
        )


def _check_cash_rate(s: pd.Series) -> None:
    if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex) or s.index.tz is not None:
        raise ConfigError("cash_rate must be a pandas Series on a tz-naive DatetimeIndex of sessions.")
    if s.index.has_duplicates:
        raise ConfigError(f"cash_rate has duplicate dates, e.g. {s.index[s.index.duplicated()][0].date()}.")
    v = s.dropna()
    if v.empty:
        raise ConfigError("cash_rate has no values.")
    big = v.abs() > MAX_DAILY_RATE
    if big.any() or not np.isfinite(v.to_numpy(dtype=float)).all():
        d = v.index[big.to_numpy()][0] if big.any() else v.index[0]
        raise ConfigError(
            f"cash_rate must be a finite daily decimal rate (e.g. Fama-French RF / 100); "
            f"{d.date()} has {v.loc[d]!r}. Did you pass percent?"
        )


def _per_asset(v: float | Mapping[str, float], tickers: list[str], name: str) -> np.ndarray:
    if not isinstance(v, Mapping):
        return np.full(len(tickers), float(v))
    missing = [t for t in tickers if t not in v and "*" not in v]
    if missing:
        raise ConfigError(f"{name} has no entry for {missing}; add them or a '*' default.")
    return np.array([float(v.get(t, v.get("*", 0.0))) for t in tickers])


def _bps_text(v: float | Mapping[str, float] | pd.DataFrame) -> str:
    if isinstance(v, pd.DataFrame):
        return f"time series of {v.shape[1]} assets (mean {np.nanmean(v.to_numpy(dtype=float)):g} bp)"
    if isinstance(v, Mapping):
        vals = list(v.values())
        return f"per asset {min(vals):g}-{max(vals):g} bp" if vals else "per asset (empty)"
    return f"{v:g} bp"


def _bps_json(v: float | Mapping[str, float] | pd.DataFrame) -> Any:
    if isinstance(v, pd.DataFrame):
        return {
            "kind": "time series",
            "start": str(v.index.min().date()) if len(v) else None,
            "end": str(v.index.max().date()) if len(v) else None,
            "mean_bps": {str(k): float(x) for k, x in v.mean().items()},
        }
    if isinstance(v, Mapping):
        return {str(k): float(x) for k, x in v.items()}
    return float(v)


def _rate_text(s: pd.Series | None) -> str:
    if s is None:
        return "none"
    v = s.dropna()
    return (
        f"daily series {v.index[0].date()}..{v.index[-1].date()} "
        f"(mean {v.mean() * SESSIONS_PER_YEAR:.2%}/yr; negative cash pays it)"
    )


def _rate_json(s: pd.Series | None) -> Any:
    if s is None:
        return None
    v = s.dropna()
    return {
        "kind": "daily decimal rate",
        "name": None if s.name is None else str(s.name),
        "start": str(v.index[0].date()),
        "end": str(v.index[-1].date()),
        "mean_annual": float(v.mean() * SESSIONS_PER_YEAR),
    }
