"""From observed weeks to a book on every decision session: scores, row stages and the standard books.

Weights computed on observed weeks (`research.observe`) are carried to every decision session by
`on_decisions` (a repeated week keeps last week's book), and a strategy's scores (its `signal`) by
`scores_on_decisions`. The row stages (`recent`, `carry`) and the books (dollar-neutral, timing, equal weight
when idle) are the pieces the strategies compose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.data.universe import MARKET
from research.errors import ConfigError
from research.observe import decisions, priced
from research.signals import weights_from_scores


def on_decisions(weights: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """Weights on observed weeks carried to every decision session (0 before the first observed week)."""
    out = weights.astype(float).reindex(decisions(data)).ffill().fillna(0.0)
    out.index.name = "date"
    out.columns.name = None
    return out


def ranked(score: pd.DataFrame) -> pd.DataFrame:
    """The score with every row that ranks nothing set to NaN: fewer than two valid values, or all of them equal.

    On such a session the strategy holds its idle book; a row of ties would only let the diagnostics' spread
    break the ties by column order, so it is no score at all. Other NaN stay NaN (nothing is filled).
    """
    s = score.astype(float)
    spread = s.max(axis=1) - s.min(axis=1)
    return s.where(spread.gt(0.0), axis=0)


def scores_on_decisions(score: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """A strategy's scores on observed weeks (see `ranked`) on every decision session, like `on_decisions`.

    A repeated (holiday) week keeps last week's whole row, the score its carried book stands on; no single NaN
    is filled, and sessions before the first observed week are NaN.
    """
    out = ranked(score).reindex(decisions(data), method="ffill")
    out.index.name = "date"
    out.columns.name = None
    return out


def recent(event: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """True where the event fired in any of the last `weeks` rows, the current one included."""
    hits = event.fillna(False).astype(float)
    return hits.rolling(weeks, min_periods=1).max().astype(bool)


def carry(score: pd.DataFrame, event: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """The score at the latest event within the last `weeks` rows, NaN where there was none."""
    hit = score.where(event.fillna(False).astype(bool))
    return hit.ffill(limit=weeks - 1) if weeks > 1 else hit


def neutral_book(scores: pd.DataFrame, live: pd.DataFrame, gross: float = 1.0) -> pd.DataFrame:
    """Dollar-neutral weights: scores minus their mean over live entities, scaled to `gross` (0 when flat)."""
    s = scores.fillna(0.0).where(live)
    demeaned = s.sub(s.mean(axis=1), axis=0)
    demeaned = demeaned.mask(demeaned.abs() < 1e-12, 0.0)
    return weights_from_scores(demeaned, mask=live, method="proportional", gross=gross, net=0.0, long_short=True)


def timing_frame(exposure: pd.Series, ticker: str = MARKET) -> pd.DataFrame:
    """A one-column weights frame for a timing strategy (the ticker against cash)."""
    return exposure.astype(float).to_frame(ticker)


def choice(value: str, options: tuple[str, ...], name: str) -> str:
    """`value` if it is one of `options`, else a ConfigError naming them."""
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {value!r}.")
    return value


def equal_when_idle(book: pd.DataFrame, data: MarketData) -> pd.DataFrame:
    """Rows of a sector book that hold nothing become the equal weight of the priced sector ETFs."""
    live = priced(data, book.index, list(book.columns)).astype(float)
    ew = live.div(live.sum(axis=1).clip(lower=1.0), axis=0)
    idle = (book.abs().sum(axis=1) == 0.0).to_numpy()[:, None]
    return pd.DataFrame(np.where(idle, ew.to_numpy(), book.to_numpy()), index=book.index, columns=book.columns)
