"""MarketData: everything a strategy may read — prices, the point-in-time panel, and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from research.data.panel import align
from research.data.prices import Prices


@dataclass(frozen=True)
class SourceInfo:
    """One input of a run, for the provenance table of the tear sheet."""

    name: str
    kind: str  # "prices" or "panel"
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    rows: int
    missing: int
    lag_rule: str
    detail: str = ""


@dataclass(frozen=True)
class MarketData:
    """Prices plus the long point-in-time panel. Strategies read flows only through `flow`/`align`."""

    prices: Prices
    panel: pd.DataFrame
    name: str
    synthetic: bool = False
    truth: Any = None
    sources: tuple[SourceInfo, ...] = field(default=())

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.prices.index

    def flow(self, metric: str, entities: list[str] | None = None, field: str = "value") -> pd.DataFrame:
        """`metric` as known at each session's decision time (see `research.data.panel.align`)."""
        return align(self.panel, self.index, metric, entities=entities, field=field)

    def metrics(self) -> list[str]:
        return sorted(self.panel["metric"].unique())

    def __repr__(self) -> str:
        from research.display import market_text

        return market_text(self)

    def _repr_html_(self) -> str:
        from research.display import market_html

        return market_html(self)
