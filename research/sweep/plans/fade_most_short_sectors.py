"""Plan of `fade_most_short_sectors`: the shared z-score book (`_zbook`) on short sales plus covers."""

from __future__ import annotations

from typing import Any

from research.data.market import MarketData
from research.sweep.plans import Plan
from research.sweep.plans._zbook import prepare_zbook, rows_many_nb, rows_nb, sweep_nb, weights_nb
from strategies._common import observed, sector_obs

__all__ = ["prepare", "rows_many_nb", "rows_nb", "sweep_nb", "weights_nb"]


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    sales, covers = observed(sector_obs(data, "short_sales"), sector_obs(data, "short_covers"))
    return prepare_zbook("fade_most_short_sectors", __name__, data, sales + covers, params)
