"""Fade the most-short basket: long the hedge-fund VIP basket against the most-short basket.

Hypothesis: hedge funds' favourite longs beat the stocks they short most, so long HF_VIP / short MOST_SHORT
earns a spread; in the `squeeze` variant the trade is put on only after the most-short basket has beaten the
VIP basket by more than `squeeze_pct`% over `squeeze_weeks` weeks (a short squeeze that should fade).
Data: HF_VIP and MOST_SHORT basket prices (closes at the decision session).
Book: +gross/2 HF_VIP, -gross/2 MOST_SHORT, always (`always`) or for `hold` weeks after a squeeze (`squeeze`).
On real data (--data ../shared/data) HF_VIP is the GVIP ETF and MOST_SHORT the FINRA days-to-cover basket of
`research.data.baskets` (from 2018-01); the weights start at the first decision with both baskets priced, so the
run is not padded with years of an empty book.
Mechanism: none planted (the synthetic `squeeze` mechanism runs the other way: after de-grossing the
most-short basket wins; see degrossing_squeeze).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.book import choice, recent
from research.data.market import MarketData
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP
from research.observe import decisions, first_priced
from research.strategy import Choice, Float, Int, Strategy


def squeezes(data: MarketData, squeeze_pct: float, squeeze_weeks: int) -> pd.Series:
    """Decision sessions where MOST_SHORT beat HF_VIP by more than squeeze_pct% over squeeze_weeks weeks."""
    close = data.prices.close.loc[decisions(data), [BASKET_VIP, BASKET_MOST_SHORT]]
    spread = np.log(close[BASKET_MOST_SHORT] / close[BASKET_VIP])
    return spread.diff(squeeze_weeks) > np.log1p(squeeze_pct / 100.0)


def weights(
    data: MarketData,
    *,
    variant: str = "always",
    squeeze_pct: float = 10.0,
    squeeze_weeks: int = 4,
    hold: int = 4,
    gross: float = 1.0,
) -> pd.DataFrame:
    """Long HF_VIP / short MOST_SHORT, always or for `hold` weeks after a most-short squeeze."""
    choice(variant, ("always", "squeeze"), "variant")
    squeeze = squeezes(data, squeeze_pct, squeeze_weeks)
    squeeze = squeeze.loc[first_priced(data, [BASKET_VIP, BASKET_MOST_SHORT], "fade_most_short"):]
    on = pd.Series(1.0, index=squeeze.index) if variant == "always" else \
        recent(squeeze.to_frame(), hold).iloc[:, 0].astype(float)
    priced = data.prices.close.loc[on.index, [BASKET_VIP, BASKET_MOST_SHORT]].notna().all(axis=1)
    on = on.where(priced, 0.0) * (gross / 2.0)
    out = pd.DataFrame({BASKET_VIP: on, BASKET_MOST_SHORT: -on})
    out.index.name = "date"
    return out


STRATEGY = Strategy(
    name="fade_most_short",
    hypothesis="Hedge funds' favourite longs (the VIP basket) beat their most-shorted stocks, above all after "
               "a short squeeze has lifted the most-short basket.",
    needs=(f"price:{BASKET_VIP}", f"price:{BASKET_MOST_SHORT}"),
    params={"variant": Choice("always", ("always", "squeeze"), grid=["squeeze"]),
            "squeeze_pct": Float(10.0, grid=[5.0, 7.5, 10.0, 15.0, 20.0], lo=0.0, hi=1000.0),
            "squeeze_weeks": Int(4, grid=[2, 4, 8, 13], lo=1, hi=520),
            "hold": Int(4, grid=[1, 2, 4, 8], lo=1, hi=520), "gross": Float(1.0, lo=0.0, hi=4.0)},
    weights=weights,
    mode="dollar_neutral",
    mechanism=None,
    tags=("basket", "short interest", "history"),
)
