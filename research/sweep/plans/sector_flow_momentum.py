"""Plan of `sector_flow_momentum`: the shared z-score book (`_zbook`) on observed weekly net flow."""

from __future__ import annotations

from typing import Any

from research.data.market import MarketData
from research.observe import observed, sector_obs
from research.sweep.plans import Plan
from research.sweep.plans._zbook import prepare_zbook, rows_many_nb, rows_nb, sweep_nb, weights_nb

__all__ = ["prepare", "rows_many_nb", "rows_nb", "sweep_nb", "weights_nb"]


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    (flow,) = observed(sector_obs(data, "net_flow"))
    return prepare_zbook("sector_flow_momentum", __name__, data, flow, params)
