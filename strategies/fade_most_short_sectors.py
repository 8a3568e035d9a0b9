"""Fade the most-shorted sectors: short the sectors hedge funds short hardest, long those they short least.

Hypothesis: hedge funds' short selling is informed, so the sectors where their net short selling over the
last weeks is heaviest against its own history lag the sectors they short least.
Data: by `source`, ``prime_book`` — per-sector `short_sales` (<= 0) and `short_covers` (>= 0) from the weekly prime
book (public Tuesday); ``finra`` — FINRA short interest per GICS sector (`research.data.short_positioning`):
net shorting = minus `si_change_pct`, the sector's change of short interest since the previous report at
constant prices (twice a month, public on FINRA's 8th business day); ``auto`` (default) reads the prime book when
the panel has it, else FINRA (the run log names the metrics read).
Signal: net shorting summed over `weeks` weeks, z-scored over `window` weeks per sector. On FINRA data a week
is a report (two a month), so `weeks` and `window` are halved, rounded up (4 weeks -> 2 reports, 156 -> 78), and
the weights start at the first report (2018-01 in ../shared/data), not with decades of an empty book.
Book: short the `n` lowest z (most shorted), long the `n` highest, dollar-neutral, gross 1.
Score (`signal`): that z-score (higher = less shorted = long; NaN where unpriced or without history).
Mechanism: none planted.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import on_decisions, scores_on_decisions
from research.data.market import MarketData
from research.observe import SECTOR_TICKERS, priced
from research.positioning import SHORT_SOURCES as SOURCES
from research.positioning import net_shorting, periods, start
from research.strategy import Choice, Int, Strategy


def shorting_z(data: MarketData, weeks: int, window: int, source: str = "auto") -> pd.DataFrame:
    """Net shorting summed over `weeks` weeks, z-scored over `window` weeks, on observed weeks (NaN unpriced)."""
    flows = net_shorting(data, source)
    weeks, window = periods(data, source, weeks, window)
    shorting = flows.rolling(weeks, min_periods=weeks).sum()
    return sig.zscore(shorting, window).where(priced(data, flows.index, SECTOR_TICKERS))


def weights(data: MarketData, *, weeks: int = 4, window: int = 156, n: int = 3, source: str = "auto") -> pd.DataFrame:
    """Long the n least-shorted sectors, short the n most-shorted, by the z-score of recent net shorting."""
    z = shorting_z(data, weeks, window, source)
    side = sig.top_n(z, n).astype(float) - sig.bottom_n(z, n).astype(float)
    book = sig.weights_from_scores(side, mask=side != 0, method="equal", net=0.0, long_short=True)
    return on_decisions(book, data).loc[start(data, source):]


def signal(data: MarketData, *, weeks: int = 4, window: int = 156, source: str = "auto", **_: object) -> pd.DataFrame:
    """The z-score of recent net shorting the book ranks sectors by (higher = less shorted = long)."""
    return scores_on_decisions(shorting_z(data, weeks, window, source), data).loc[start(data, source):]


STRATEGY = Strategy(
    name="fade_most_short_sectors",
    hypothesis="Sectors hedge funds have been net shorting hardest against their own history lag the sectors "
               "they short least.",
    needs=("short_sales|si_change_pct", "short_covers|si_change_pct", *(f"price:{t}" for t in SECTOR_TICKERS)),
    params={"weeks": Int(4, grid=[1, 2, 4, 8, 13], lo=1, hi=520),
            "window": Int(156, grid=[52, 104, 156, 260], lo=2, hi=1040),
            "n": Int(3, grid=[1, 2, 3, 4], lo=1, hi=5), "source": Choice("auto", SOURCES)},
    weights=weights,
    signal=signal,
    mode="dollar_neutral",
    mechanism=None,
    tags=("sector", "short interest", "history"),
)
