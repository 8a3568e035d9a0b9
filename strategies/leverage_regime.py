"""Leverage regime: SPY against cash by the hedge-fund book's leverage.

Hypothesis: sharp de-grossing by hedge funds precedes market weakness, and a book levered beyond its usual
range is crowded; hold less SPY in both regimes.
Data: BOOK `gross_leverage` and `net_leverage` (weekly prime book, public Tuesday).
Signal: risk-off (exposure 0) for `hold` weeks after gross leverage falls by `drop` points or more in a week;
crowded (exposure `crowded_weight`) while gross or net leverage sits at or above its `crowded_pct`
percentile over `window` weeks; otherwise fully invested.
Mechanism: synthetic `degrossing` (weekly gross-leverage change <= -7 points drifts every sector down).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import research.signals as sig
from research.book import on_decisions, recent, timing_frame
from research.data.market import MarketData
from research.data.universe import BOOK, MARKET
from research.observe import book_obs, observed
from research.strategy import Float, Int, Strategy


def degrossing(data: MarketData, drop: float) -> pd.DataFrame:
    """Weeks (observed) in which BOOK gross leverage fell by at least `drop` percentage points."""
    (gross,) = observed(book_obs(data, "gross_leverage"))
    return gross.diff() <= -drop


def weights(
    data: MarketData,
    *,
    drop: float = 7.0,
    hold: int = 4,
    window: int = 156,
    crowded_pct: float = 0.95,
    crowded_weight: float = 0.5,
) -> pd.DataFrame:
    """SPY exposure: 0 after sharp de-grossing, `crowded_weight` when leverage is extreme, else 1."""
    gross, net = observed(book_obs(data, "gross_leverage"), book_obs(data, "net_leverage"))
    off = recent(gross.diff() <= -drop, hold)[BOOK].to_numpy()
    crowd = ((sig.pct_rank(gross, window) >= crowded_pct) | (sig.pct_rank(net, window) >= crowded_pct))[BOOK]
    exposure = pd.Series(np.where(off, 0.0, np.where(crowd.to_numpy(), crowded_weight, 1.0)), index=gross.index)
    return on_decisions(timing_frame(exposure, MARKET), data)


STRATEGY = Strategy(
    name="leverage_regime",
    hypothesis="Sharp hedge-fund de-grossing precedes market weakness and extreme book leverage is crowded: "
               "hold less SPY after the first and during the second.",
    needs=("gross_leverage", "net_leverage", f"price:{MARKET}"),
    params={"drop": Float(7.0, grid=[4.0, 5.0, 6.0, 7.0, 8.0, 10.0], lo=0.0, hi=100.0),
            "hold": Int(4, grid=[1, 2, 4, 6], lo=1, hi=520), "window": Int(156, lo=2, hi=1040),
            "crowded_pct": Float(0.95, grid=[0.9, 0.95, 0.99], lo=0.0, hi=1.0),
            "crowded_weight": Float(0.5, grid=[0.5, 1.0], lo=-1.0, hi=2.0)},
    weights=weights,
    mode="timing",
    mechanism="degrossing",
    tags=("market", "leverage", "timing"),
)
