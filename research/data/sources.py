"""Prices from any source by name: the synthetic market, "yfinance" (through its cache), or a directory of CSVs.

The one entry point over the sources, so none of them imports another: `prices` (the contract and the CSV
directory), `yahoo` and `synthetic` each build a `Prices`; this module picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from research.data.prices import Prices, load_price_dir
from research.errors import ConfigError


def load_prices(
    source: str | Path = "synthetic",
    tickers: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    offline: bool = False,
    cache_dir: Path | None = None,
    allow: str | None = None,
) -> Prices:
    """Adjusted prices from `source`: "synthetic", "yfinance" (cached; see `research.data.yahoo`) or a directory
    of `<TICKER>.csv` files (see `load_price_dir`). `offline` and `cache_dir` only matter for "yfinance";
    `allow` lists plausibility findings that are real (`research.data.plausible`; default $FLOWBT_ALLOW)."""
    if isinstance(source, str) and source == "synthetic":
        from research.data.synthetic import make_market  # imported on use: the synthetic market is heavy

        prices = make_market().prices
        prices = prices.select(list(tickers)) if tickers is not None else prices
        return prices.between(start, end) if (start is not None or end is not None) else prices
    if isinstance(source, str) and source == "yfinance":
        from research.data.yahoo import load_yahoo  # imported on use: yfinance is optional

        return load_yahoo(tickers, start, end, offline=offline, cache_dir=cache_dir, allow=allow)
    path = Path(source).expanduser()
    if path.is_dir():
        return load_price_dir(path, tickers, start, end, allow=allow)
    if path.exists():
        raise ConfigError(f"price source {str(path)!r} is a file; give the directory that holds the <TICKER>.csv files.")
    raise ConfigError(
        f"unknown price source {str(source)!r}: give 'synthetic', 'yfinance' or an existing directory of "
        "<TICKER>.csv files."
    )
