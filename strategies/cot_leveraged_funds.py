"""Leveraged funds' E-mini S&P 500 positioning (CFTC Traders in Financial Futures) as a SPY timing signal.

Hypothesis: when leveraged funds (hedge funds, CTAs) hold an unusually large net short in E-mini S&P 500 futures
against their own history, the market tends to rise as they cover; when their net position is unusually long it
is crowded. Hold SPY fully when they are extremely short, less when they are extremely long.
Data: CFTC TFF futures only (`lev_money_net_pct_oi`, source cftc_tff; the `_combined` metrics are not read)
for entity SPY (E-mini S&P 500, code 13874A): Tuesday positions, public
Friday 15:30 ET. Decisions on the first session on or after Friday (the release), traded at the next fill.
Signal: the trailing percentile (or z-score) of the net position as a share of open interest over `window` weeks;
exposure `short_weight` below `low`, `long_weight` above `high`, else `base_weight`. No exposure is taken before the
signal exists (the run starts at the first week with `min_weeks` of history).
Mechanism: none planted — a real-data strategy (CFTC files in ../shared/data), not run on the synthetic market.
"""

from __future__ import annotations

import pandas as pd

from research.data.market import MarketData
from research.data.universe import MARKET
from research.errors import ConfigError
from research.observe import cot_observations, require_history
from research.signals import standardise
from research.strategy import Choice, Float, Int, Strategy


def weights(
    data: MarketData,
    *,
    how: str = "percentile",
    window: int = 156,
    min_weeks: int = 52,
    low: float = 0.2,
    high: float = 0.8,
    short_weight: float = 1.0,
    base_weight: float = 1.0,
    long_weight: float = 0.5,
) -> pd.DataFrame:
    """SPY exposure by how extreme leveraged funds' E-mini net position is against its own history."""
    if not 0.0 <= low < high <= 1.0:
        raise ConfigError(f"cot_leveraged_funds: need 0 <= low < high <= 1, got low={low}, high={high}")
    net = cot_observations(data, "lev_money_net_pct_oi", [MARKET])
    require_history("cot_leveraged_funds", net, min_weeks)
    score = standardise(net, how, window, min_weeks)[MARKET].ffill()
    score = score[score.first_valid_index():] if score.notna().any() else score.iloc[:0]
    expo = pd.Series(base_weight, index=score.index)
    expo[score <= low] = short_weight
    expo[score >= high] = long_weight
    return expo.to_frame(MARKET).rename_axis("date")


STRATEGY = Strategy(
    name="cot_leveraged_funds",
    hypothesis="Leveraged funds' extreme net short in E-mini S&P 500 futures precedes gains as they cover; "
               "an extreme net long is crowded: time SPY against cash on it.",
    needs=("lev_money_net_pct_oi", f"price:{MARKET}"),
    params={"how": Choice("percentile", ("percentile", "zscore"), grid=["percentile", "zscore"]),
            "window": Int(156, grid=[52, 104, 156], lo=2, hi=1040),
            "min_weeks": Int(52, lo=2, hi=1040),
            "low": Float(0.2, grid=[0.1, 0.2, 0.3], lo=0.0, hi=1.0),
            "high": Float(0.8, grid=[0.7, 0.8, 0.9], lo=0.0, hi=1.0),
            "short_weight": Float(1.0, lo=-1.0, hi=2.0), "base_weight": Float(1.0, lo=-1.0, hi=2.0),
            "long_weight": Float(0.5, grid=[0.0, 0.5], lo=-1.0, hi=2.0)},
    weights=weights,
    mode="timing",
    mechanism=None,
    tags=("market", "cftc", "real-data", "timing"),
)
