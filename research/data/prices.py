"""Prices: the contract, and one loader with three sources (synthetic, a directory of Yahoo CSVs, yfinance).

Contract: wide DataFrames on a tz-naive DatetimeIndex of NYSE sessions (named 'date'), one column per ticker,
float64, NaN before a ticker's first trade. `close` and `open` are adjusted for splits and dividends with the
same factor, so returns computed from either are total returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.errors import DataError


@dataclass(frozen=True)
class Prices:
    """Adjusted open and close (and optionally volume) for a set of tickers on one session index."""

    close: pd.DataFrame
    open: pd.DataFrame
    volume: pd.DataFrame | None = None
    source: str = "unknown"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_price_frame(self.close, f"{self.source}: close")
        check_price_frame(self.open, f"{self.source}: open")
        if not self.close.index.equals(self.open.index) or list(self.close.columns) != list(self.open.columns):
            raise DataError(f"{self.source}: open and close must share the same dates and tickers.")

    @property
    def tickers(self) -> list[str]:
        return list(self.close.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.close.index)

    def select(self, tickers: list[str] | tuple[str, ...]) -> Prices:
        """The same prices restricted to `tickers` (an unknown ticker is an error, not a silent NaN column)."""
        unknown = [t for t in tickers if t not in self.close.columns]
        if unknown:
            raise DataError(f"{self.source}: no prices for {unknown}; available: {self.tickers}")
        cols = list(tickers)
        vol = None if self.volume is None else self.volume[cols]
        return Prices(self.close[cols], self.open[cols], vol, self.source, self.notes)

    def between(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None) -> Prices:
        """The same prices restricted to sessions in [start, end]."""
        sl = slice(pd.Timestamp(start) if start else None, pd.Timestamp(end) if end else None)
        vol = None if self.volume is None else self.volume.loc[sl]
        return Prices(self.close.loc[sl], self.open.loc[sl], vol, self.source, self.notes)

    def first_valid(self) -> pd.Series:
        """First session with a close, per ticker."""
        return self.close.apply(lambda s: s.first_valid_index())


def check_price_frame(df: pd.DataFrame, name: str) -> None:
    """Raise DataError unless `df` is a sorted, unique, tz-naive session index of positive float prices."""
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f"{name}: the index must be dates (a DatetimeIndex), got {type(df.index).__name__}.")
    if df.index.tz is not None:
        raise DataError(f"{name}: dates must be tz-naive session dates, got time zone {df.index.tz}.")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        dups = df.index[df.index.duplicated()].unique()[:5]
        raise DataError(f"{name}: dates must be sorted and unique (duplicates: {list(map(str, dups))}).")
    values = df.to_numpy(dtype=float)
    bad = values <= 0
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: {int(bad.sum())} non-positive price(s), first at {df.index[r].date()} "
            f"column {df.columns[c]!r} = {values[r, c]}. Prices must be > 0; fix the source or drop the rows."
        )
