"""Leveraged funds' VIX futures positioning, with the VIX level as the regime, as a SPY timing signal.

Hypothesis: when leveraged funds are unusually net short VIX futures (a crowded short-volatility trade) while the
VIX is calm, a volatility spike — and an equity drawdown — is more likely than usual: hold less SPY. When the VIX
is already stressed the spike has happened; hold SPY.
Data: CFTC TFF futures only (`lev_money_net_pct_oi`, source cftc_tff; the `_combined` metrics are not read)
for entity VIX (code 1170E1; Tuesday positions public Friday 15:30 ET) and
the ^VIX close (a price column `VIX`, known at each session's close; never traded).
Signal: on each Friday-release decision session, crowded = percentile of the net position over `window` weeks at
or below `crowded_pct`; calm = VIX close below `vix_calm`. Exposure `risk_off_weight` when crowded and calm,
else 1.
Mechanism: none planted — a real-data strategy (CFTC files in ../shared/data), not run on the synthetic market.
"""

from __future__ import annotations

import pandas as pd

from research.data.market import MarketData
from research.data.universe import MARKET, VIX
from research.observe import cot_observations, require_history
from research.signals import standardise
from research.strategy import Float, Int, Strategy


def weights(
    data: MarketData,
    *,
    window: int = 156,
    min_weeks: int = 52,
    crowded_pct: float = 0.2,
    vix_calm: float = 18.0,
    risk_off_weight: float = 0.5,
) -> pd.DataFrame:
    """SPY exposure: `risk_off_weight` when short-vol positioning is crowded in a calm VIX, else fully invested."""
    net = cot_observations(data, "lev_money_net_pct_oi", [VIX])
    require_history("vix_positioning", net, min_weeks)
    pct = standardise(net, "percentile", window, min_weeks)[VIX].ffill()
    pct = pct[pct.first_valid_index():] if pct.notna().any() else pct.iloc[:0]
    vix = data.prices.close[VIX].reindex(pct.index)
    risk_off = (pct <= crowded_pct) & (vix < vix_calm)
    expo = pd.Series(1.0, index=pct.index).mask(risk_off, risk_off_weight)
    return expo.to_frame(MARKET).rename_axis("date")


STRATEGY = Strategy(
    name="vix_positioning",
    hypothesis="A crowded leveraged-fund short in VIX futures during a calm VIX precedes volatility spikes: "
               "hold less SPY then.",
    needs=("lev_money_net_pct_oi", f"price:{VIX}", f"price:{MARKET}"),
    params={"window": Int(156, grid=[52, 104, 156], lo=2, hi=1040), "min_weeks": Int(52, lo=2, hi=1040),
            "crowded_pct": Float(0.2, grid=[0.1, 0.2, 0.3], lo=0.0, hi=1.0),
            "vix_calm": Float(18.0, grid=[14.0, 16.0, 18.0, 20.0], lo=0.0, hi=200.0),
            "risk_off_weight": Float(0.5, grid=[0.0, 0.5], lo=-1.0, hi=2.0)},
    weights=weights,
    mode="timing",
    mechanism=None,
    tags=("market", "cftc", "vix", "real-data", "timing"),
)
