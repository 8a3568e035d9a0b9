"""Fade the most-shorted sectors: short the sectors hedge funds short hardest, long those they short least.

Hypothesis: hedge funds' short selling is informed, so the sectors where their net short selling over the
last weeks is heaviest against its own history lag the sectors they short least.
Data: per-sector `short_sales` (<= 0) and `short_covers` (>= 0) from the weekly prime book (public Tuesday).
Signal: net shorting = short_sales + short_covers summed over `weeks` weeks, z-scored over `window` weeks per
sector. Book: short the `n` lowest z (most shorted), long the `n` highest, dollar-neutral, gross 1.
Score (`signal`): that z-score (higher = less shorted = long; NaN where unpriced or without history).
Mechanism: none planted.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.data.market import MarketData
from research.strategy import Int, Strategy
from strategies._common import SECTOR_TICKERS, observed, on_decisions, priced, scores_on_decisions, sector_obs


def shorting_z(data: MarketData, weeks: int, window: int) -> pd.DataFrame:
    """Net shorting summed over `weeks` weeks, z-scored over `window` weeks, on observed weeks (NaN unpriced)."""
    sales, covers = observed(sector_obs(data, "short_sales"), sector_obs(data, "short_covers"))
    shorting = (sales + covers).rolling(weeks, min_periods=weeks).sum()
    return sig.zscore(shorting, window).where(priced(data, sales.index, SECTOR_TICKERS))


def weights(data: MarketData, *, weeks: int = 4, window: int = 156, n: int = 3) -> pd.DataFrame:
    """Long the n least-shorted sectors, short the n most-shorted, by the z-score of recent net shorting."""
    z = shorting_z(data, weeks, window)
    side = sig.top_n(z, n).astype(float) - sig.bottom_n(z, n).astype(float)
    book = sig.weights_from_scores(side, mask=side != 0, method="equal", net=0.0, long_short=True)
    return on_decisions(book, data)


def signal(data: MarketData, *, weeks: int = 4, window: int = 156, **_: object) -> pd.DataFrame:
    """The z-score of recent net shorting the book ranks sectors by (higher = less shorted = long)."""
    return scores_on_decisions(shorting_z(data, weeks, window), data)


STRATEGY = Strategy(
    name="fade_most_short_sectors",
    hypothesis="Sectors hedge funds have been net shorting hardest against their own history lag the sectors "
               "they short least.",
    needs=("short_sales", "short_covers", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"weeks": Int(4, grid=[1, 2, 4, 8, 13], lo=1, hi=520),
            "window": Int(156, grid=[52, 104, 156, 260], lo=2, hi=1040),
            "n": Int(3, grid=[1, 2, 3, 4], lo=1, hi=5)},
    weights=weights,
    signal=signal,
    mode="dollar_neutral",
    mechanism=None,
    tags=("sector", "short interest"),
)
