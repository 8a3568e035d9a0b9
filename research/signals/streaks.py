"""Streaks: consecutive weeks of net buying or selling, fresh buying after selling, and divergence of two flows."""

from __future__ import annotations

import pandas as pd

from research.signals import nb
from research.signals._frames import Param, as_array, batch, check_same_labels, to_frame


def streak(x: pd.DataFrame) -> pd.DataFrame:
    """Signed consecutive-sign streak per entity: +L on the L-th straight period > 0, -L on the L-th < 0, 0 at 0.

    NaN is missing: it outputs NaN and breaks the streak ("5th straight week" must not span a gap).
    """
    out = nb.streak_nb(as_array(x, "streak: x"))
    return pd.DataFrame(out, index=x.index, columns=x.columns)


def fresh(x: pd.DataFrame, k: Param = 1, m: Param = 1, hold: Param = 1) -> pd.DataFrame:
    """True where a positive streak is in its k-th .. (k + hold - 1)-th period after >= m periods of negatives.

    hold = 1 flags exactly the k-th week of buying; a larger hold keeps the signal on for `hold` weeks so a
    strategy can stay in. m = 0 drops the condition on prior selling. A zero or NaN just before the buying
    counts as no selling; NaN and zero periods are never fresh. Sequences are zipped into a batch
    (columns (k, m, hold, entity) for the levels given as sequences).
    """
    b = batch(k=k, m=m, hold=hold)
    out = nb.fresh_nb(as_array(x, "fresh: x"), b.ints("k", 1), b.ints("m", 0), b.ints("hold", 1))
    return to_frame(out, x, b)


def divergence(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Signed streak of opposite-sign flows: -L after L periods with a < 0 < b, +L after L with a > 0 > b.

    E.g. a = hedge-fund flow, b = retail flow: -3 is the third straight week of "HF sell, retail buy". Periods
    where the flows agree in sign (or one is zero) are 0; NaN in either outputs NaN and breaks the streak.
    The frames must share dates and entities.
    """
    check_same_labels(a, b, "divergence: a", "divergence: b")
    out = nb.divergence_nb(as_array(a, "divergence: a"), as_array(b, "divergence: b"))
    return pd.DataFrame(out, index=a.index, columns=a.columns)
