"""De-grossing squeeze: long the most-short basket against the hedge-fund VIP basket after de-grossing.

Hypothesis: when hedge funds cut gross leverage sharply they cover shorts and sell their favourite longs, so
the most-short basket beats the VIP basket over the following weeks.
Data: BOOK `gross_leverage` (weekly prime book, public Tuesday); HF_VIP and MOST_SHORT basket prices.
Signal: gross leverage falls by `drop` points or more in a week. Book: long MOST_SHORT, short HF_VIP
(`gross` split evenly) for `hold` weeks from that week; flat otherwise.
Mechanism: synthetic `squeeze` (after a weekly gross-leverage change <= -7 points, MOST_SHORT beats HF_VIP).
"""

from __future__ import annotations

import pandas as pd

from research.book import on_decisions, recent
from research.data.market import MarketData
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP, BOOK
from research.strategy import Float, Int, Strategy
from strategies.leverage_regime import degrossing


def weights(data: MarketData, *, drop: float = 7.0, hold: int = 4, gross: float = 1.0) -> pd.DataFrame:
    """+gross/2 MOST_SHORT and -gross/2 HF_VIP for `hold` weeks after each sharp de-grossing week."""
    on = recent(degrossing(data, drop), hold)[BOOK].astype(float) * (gross / 2.0)
    return on_decisions(pd.DataFrame({BASKET_VIP: -on, BASKET_MOST_SHORT: on}), data)


STRATEGY = Strategy(
    name="degrossing_squeeze",
    hypothesis="After hedge funds de-gross sharply the most-short basket beats the hedge-fund VIP basket "
               "for several weeks.",
    needs=("gross_leverage", f"price:{BASKET_VIP}", f"price:{BASKET_MOST_SHORT}"),
    params={"drop": Float(7.0, grid=[3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0], lo=0.0, hi=100.0),
            "hold": Int(4, grid=[1, 2, 3, 4, 5, 6, 8], lo=1, hi=520), "gross": Float(1.0, lo=0.0, hi=4.0)},
    weights=weights,
    mode="dollar_neutral",
    mechanism="squeeze",
    tags=("basket", "leverage", "squeeze"),
)
