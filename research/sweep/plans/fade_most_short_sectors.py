"""Plan of `fade_most_short_sectors`: the shared z-score book (`_zbook`) on the strategy's net shorting series."""

from __future__ import annotations

from typing import Any

from research.data.market import MarketData
from research.errors import ConfigError
from research.sweep.plans import Plan
from research.sweep.plans._zbook import prepare_zbook, rows_many_nb, rows_nb, sweep_nb, weights_nb
from strategies.fade_most_short_sectors import net_shorting, periods

__all__ = ["prepare", "rows_many_nb", "rows_nb", "sweep_nb", "weights_nb"]


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    sources = {p.get("source", "auto") for p in params}
    if len(sources) > 1:
        raise ConfigError(f"fade_most_short_sectors: sweep one source at a time; got {sorted(sources)}.")
    source = sources.pop()
    # On FINRA data weeks and window count reports (the strategy's `periods`); the kernel gets them converted.
    conv = [{**p, **dict(zip(("weeks", "window"), periods(data, source, int(p["weeks"]), int(p["window"])),
                             strict=True))} for p in params]
    plan = prepare_zbook("fade_most_short_sectors", __name__, data, net_shorting(data, source), conv)
    plan.params = params
    return plan
