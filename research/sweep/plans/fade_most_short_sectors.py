"""Plan of `fade_most_short_sectors`: the shared z-score book (`_zbook`) on the strategy's net shorting series."""

from __future__ import annotations

from typing import Any

from research.data.market import MarketData
from research.errors import ConfigError
from research.positioning import net_shorting, periods, start
from research.sweep.plans import Plan, decision_map
from research.sweep.plans._zbook import prepare_zbook, rows_many_nb, rows_nb, sweep_nb, weights_nb

__all__ = ["prepare", "rows_many_nb", "rows_nb", "sweep_nb", "weights_nb"]


def prepare(data: MarketData, params: list[dict[str, Any]]) -> Plan:
    sources = {p.get("source", "auto") for p in params}
    if len(sources) > 1:
        raise ConfigError(f"fade_most_short_sectors: sweep one source at a time; got {sorted(sources)}.")
    source = sources.pop()
    # On FINRA data weeks and window count reports (`research.positioning.periods`, as the strategy); the kernel gets them converted.
    conv = [{**p, **dict(zip(("weeks", "window"), periods(data, source, int(p["weeks"]), int(p["window"])),
                             strict=True))} for p in params]
    series = net_shorting(data, source)
    plan = prepare_zbook("fade_most_short_sectors", __name__, data, series, conv)
    plan.params = params
    first = start(data, source)
    if first is not None:  # the strategy's weights start at the first FINRA report
        plan.dates = plan.dates[plan.dates >= first]
        plan.arrays = (plan.arrays[0], decision_map(series.index, plan.dates))
    return plan
