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
    notes: tuple[str, ...] = field(default=())  # data notes a run copies to its log ("TICKER: ..." lines)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. basket_coverage (research.data.real)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.prices.index

    def flow(self, metric: str, entities: list[str] | None = None, field: str = "value") -> pd.DataFrame:
        """`metric` as known at each session's decision time (see `research.data.panel.align`)."""
        return align(self.panel, self.index, metric, entities=entities, field=field)

    def notes_for(self, tickers: list[str]) -> list[str]:
        """The data notes about `tickers` (lines starting 'TICKER:'), for a run's log."""
        want = {str(t) for t in tickers}
        return [n for n in self.notes if n.split(":", 1)[0] in want]

    def metrics(self) -> list[str]:
        return sorted(self.panel["metric"].unique())
