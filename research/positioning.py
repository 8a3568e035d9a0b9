"""Positioning series a strategy and its sweep plan both read: one definition, so the two cannot drift.

- `sector_positioning`: leveraged funds' net position in each Select Sector future (CFTC TFF) as a percentile
  of its own history, on the Friday release sessions, carried `stale_weeks` after a report.
- `net_shorting`: hedge funds' net short selling per sector from the prime book (short sales + covers) or
  from FINRA short interest (minus the change of short interest), with the periods and start that go with it.
"""

from __future__ import annotations

import pandas as pd

from research.book import choice
from research.data.market import MarketData
from research.errors import ConfigError
from research.observe import SECTOR_TICKERS, cot_observations, observed, require_history, sector_obs
from research.signals import standardise

#: Where sector net shorting comes from: the prime book, FINRA short interest, or whichever the panel has.
SHORT_SOURCES = ("auto", "prime_book", "finra")


def sector_positioning(data: MarketData, window: int, min_weeks: int, stale_weeks: int) -> pd.DataFrame:
    """Each sector future's net-position percentile on the Friday release sessions from the first one with a
    score (carried `stale_weeks` weeks after a report, NaN after that)."""
    entities = set(data.panel["entity"].unique())
    have = [t for t in SECTOR_TICKERS if t in entities]
    if not have:
        raise ConfigError("cot_sector_positioning: no sector futures in the CFTC panel")
    net = cot_observations(data, "lev_money_net_pct_oi", have)
    if stale_weeks < 1:
        raise ConfigError(f"cot_sector_positioning: stale_weeks must be >= 1, got {stale_weeks}")
    require_history("cot_sector_positioning", net, min_weeks)
    score = standardise(net, "percentile", window, min_weeks)
    if stale_weeks > 1:  # a report is used for its own week and stale_weeks - 1 more; 1 = its own week only
        score = score.ffill(limit=stale_weeks - 1)
    score = score.reindex(columns=SECTOR_TICKERS)
    start = score.first_valid_index()
    if start is None:
        raise ConfigError("cot_sector_positioning: no sector has enough CFTC history for a percentile")
    return score.loc[start:]


def resolve_source(data: MarketData, source: str) -> str:
    """`source`, or for ``auto`` the prime book when the panel has short sales, else FINRA."""
    choice(source, SHORT_SOURCES, "fade_most_short_sectors: source")
    if source != "auto":
        return source
    return "prime_book" if "short_sales" in set(data.metrics()) else "finra"


def net_shorting(data: MarketData, source: str) -> pd.DataFrame:
    """Per sector ETF, on observed weeks (or reports): net shorting, more negative = more shorted."""
    if resolve_source(data, source) == "prime_book":
        sales, covers = observed(sector_obs(data, "short_sales"), sector_obs(data, "short_covers"))
        return sales + covers
    (change,) = observed(sector_obs(data, "si_change_pct"))
    return -change


def periods(data: MarketData, source: str, weeks: int, window: int) -> tuple[int, int]:
    """(weeks, window) in observations of the source: weeks, or FINRA reports (two a month, halved up)."""
    if resolve_source(data, source) == "finra":
        return (weeks + 1) // 2, (window + 1) // 2
    return weeks, window


def start(data: MarketData, source: str) -> pd.Timestamp | None:
    """Where the weights start: the first FINRA report's decision session, or None (every decision session)."""
    if resolve_source(data, source) == "prime_book":
        return None
    flows = net_shorting(data, source)
    if flows.empty:
        raise ConfigError(f"fade_most_short_sectors: no FINRA sector report is public within {data.name}.")
    return flows.index[0]
