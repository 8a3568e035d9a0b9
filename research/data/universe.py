"""The tradable universe: SPY and the 11 SPDR sector ETFs, with their GICS sectors and inception dates.

An ETF exists from its first trading day (no backfill): before it, its weight is forced to zero.
"""

from __future__ import annotations

import pandas as pd

MARKET = "SPY"
#: The CBOE volatility index: a price column (its close), a CFTC futures entity, never traded.
VIX = "VIX"

#: SPDR sector ETF -> GICS sector name (the entity name used in flow panels).
SECTOR_ETFS: dict[str, str] = {
    "XLB": "Materials",
    "XLC": "Communication Services",
    "XLE": "Energy",
    "XLF": "Financials",
    "XLI": "Industrials",
    "XLK": "Information Technology",
    "XLP": "Consumer Staples",
    "XLRE": "Real Estate",
    "XLU": "Utilities",
    "XLV": "Health Care",
    "XLY": "Consumer Discretionary",
}
SECTORS: tuple[str, ...] = tuple(SECTOR_ETFS.values())
ETF_OF_SECTOR: dict[str, str] = {v: k for k, v in SECTOR_ETFS.items()}
TICKERS: tuple[str, ...] = (MARKET, *SECTOR_ETFS)

#: First trading day of ETFs that did not exist in 2000 (the others trade from 1998-12-22).
INCEPTION: dict[str, pd.Timestamp] = {
    "XLRE": pd.Timestamp("2015-10-08"),
    "XLC": pd.Timestamp("2018-06-19"),
}

#: Non-ETF entities of flow panels: the whole book and the published baskets.
BOOK = "BOOK"
BASKET_VIP = "HF_VIP"
BASKET_MOST_SHORT = "MOST_SHORT"
BASKETS: tuple[str, ...] = (BASKET_VIP, BASKET_MOST_SHORT)


def sector_of(ticker: str) -> str:
    """GICS sector name of a sector ETF ticker."""
    try:
        return SECTOR_ETFS[ticker]
    except KeyError:
        raise KeyError(f"{ticker!r} is not a sector ETF; known: {', '.join(SECTOR_ETFS)}") from None


def etf_of(sector: str) -> str:
    """Sector ETF ticker of a GICS sector name."""
    try:
        return ETF_OF_SECTOR[sector]
    except KeyError:
        raise KeyError(f"{sector!r} is not a GICS sector; known: {', '.join(SECTORS)}") from None
