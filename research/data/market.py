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

    def notes_for(self, keys: list[str]) -> list[str]:
        """The data notes about `keys` (tickers or sources: lines starting 'KEY:'), for a run's log; a note
        "X: built from S" brings S's notes too."""
        want = {str(k) for k in keys}
        for n in self.notes:
            head, _, rest = n.partition(":")
            if head in want and rest.strip().startswith("built from "):
                want.add(rest.strip().removeprefix("built from ").split()[0])
        return [n for n in self.notes if n.split(":", 1)[0] in want and "built from " not in n]

    def metrics(self) -> list[str]:
        return sorted(self.panel["metric"].unique())

    def __repr__(self) -> str:
        from research.display import market_text

        return market_text(self)

    def _repr_html_(self) -> str:
        from research.display import market_html

        return market_html(self)
