"""Flow breadth: SPY against cash by how many sectors hedge funds are net selling, and its trend.

Hypothesis: when hedge funds net sell most sectors and the selling is broadening, the market lags.
Data: per-sector `net_flow` (weekly prime book, public Tuesday).
Signal: the fraction of reported sectors net sold, smoothed by an EWMA of `span` weeks; risk-off while it is
at or above `threshold` and higher than `trend_weeks` weeks earlier. Book: SPY at `off_weight` when
risk-off, else 1.
Mechanism: none planted.
"""

from __future__ import annotations

import pandas as pd

import research.signals as sig
from research.book import on_decisions, timing_frame
from research.data.market import MarketData
from research.data.universe import MARKET
from research.observe import observed, sector_obs
from research.strategy import Float, Int, Strategy


def weights(
    data: MarketData,
    *,
    threshold: float = 0.7,
    span: int = 4,
    trend_weeks: int = 4,
    off_weight: float = 0.0,
) -> pd.DataFrame:
    """SPY exposure: `off_weight` while broad net selling is broadening, else 1."""
    (flow,) = observed(sector_obs(data, "net_flow"))
    sold = sig.breadth(flow, 0.0, fraction=True).to_frame("sold")
    smooth = sig.ewma(sold, span)["sold"]
    off = (smooth >= threshold) & (smooth.diff(trend_weeks) > 0)
    return on_decisions(timing_frame(off.astype(float) * (off_weight - 1.0) + 1.0, MARKET), data)


STRATEGY = Strategy(
    name="flow_breadth",
    hypothesis="When hedge funds net sell most of the 11 sectors and the selling is broadening, the market lags.",
    needs=("net_flow", f"price:{MARKET}"),
    params={"threshold": Float(0.7, grid=[0.5, 0.6, 0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "span": Int(4, grid=[1, 2, 4, 8], lo=1, hi=520), "trend_weeks": Int(4, grid=[1, 2, 4, 8], lo=1, hi=520),
            "off_weight": Float(0.0, grid=[0.0, 0.5], lo=-1.0, hi=2.0)},
    weights=weights,
    mode="timing",
    mechanism=None,
    tags=("market", "flow", "breadth", "timing"),
)
