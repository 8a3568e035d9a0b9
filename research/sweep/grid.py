"""Parameter grids: `--grid key=v1,v2,...` or `key=start:stop[:step]` (inclusive), expanded to full configs.

A config is the strategy's default parameters updated with one grid point, each value coerced to the type of
its default and checked (`Strategy.resolve`). The product is taken in the grid's key order; duplicates are
dropped. A grid of more than `max_configs` configs (MAX_CONFIGS, 1,000,000, by default: about three minutes of
the fused kernel at its measured rate, and the trial log's rows) is refused before any work, with its count;
`--max-configs` raises the cap.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from research.errors import ConfigError
from research.strategy import Strategy

MAX_CONFIGS = 1_000_000


def _too_many(count: float, max_configs: int, what: str) -> ConfigError:
    return ConfigError(f"{what} has {count:,.0f} configs, above the cap of {max_configs:,}: narrow it, or raise "
                       f"the cap with --max-configs {count:.0f} (max_configs= in Python).")


def _range(text: str, default: Any, where: str, max_configs: int = MAX_CONFIGS) -> list[Any]:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ConfigError(f"{where}: a range is start:stop or start:stop:step, got {text!r}.")
    is_int = isinstance(default, int) and not isinstance(default, bool)
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a numeric range.") from None
    if not all(np.isfinite(nums)):
        raise ConfigError(f"{where}: range {text!r} holds a value that is not a finite number.")
    start, stop = nums[0], nums[1]
    step = nums[2] if len(parts) == 3 else 1.0
    if step <= 0 or stop < start:
        raise ConfigError(f"{where}: range {text!r} needs start <= stop and step > 0.")
    count = np.floor((stop - start) / step + 1e-9) + 1
    if count > max_configs:
        raise _too_many(count, max_configs, f"{where}={text}")
    count = int(count)
    values = [start + i * step for i in range(count)]
    return [int(round(v)) for v in values] if is_int else [round(v, 10) for v in values]


def parse_grid(items: Sequence[str] | None, strategy: Strategy,
               max_configs: int = MAX_CONFIGS) -> dict[str, list[Any]]:
    """Parse repeated `key=v1,v2` / `key=a:b[:s]` options against the strategy's parameters."""
    out: dict[str, list[Any]] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            raise ConfigError(f"--grid expects key=v1,v2,... or key=start:stop[:step], got {item!r}.")
        if key not in strategy.params:
            raise ConfigError(f"{strategy.name}: unknown parameter {key!r} in --grid; parameters: "
                              f"{', '.join(strategy.params)}.")
        where = f"--grid {key}"
        values: list[Any] = []
        for part in text.split(","):
            part = part.strip()
            if ":" in part:
                values += _range(part, strategy.params[key], where, max_configs)
            elif part:
                values.append(part)
        out[key] = values
    return out


def expand(strategy: Strategy, grid: Mapping[str, Sequence[Any]] | None = None,
           base: Mapping[str, Any] | None = None, *, max_configs: int = MAX_CONFIGS) -> list[dict[str, Any]]:
    """Every config of the grid (the strategy's own grid by default) over `base` overrides of the defaults;
    a ConfigError, before any work, for a bad value (each checked once) or more than `max_configs` configs."""
    grid = dict(strategy.grid if grid is None else grid)
    for key, values in grid.items():
        if key not in strategy.params:
            raise ConfigError(f"{strategy.name}: unknown grid parameter {key!r}; parameters: "
                              f"{', '.join(strategy.params)}.")
        if isinstance(values, str) or not len(values):
            raise ConfigError(f"{strategy.name}: grid values of {key!r} must be a non-empty list.")
    total = math.prod(len(v) for v in grid.values())
    if total > max_configs:
        raise _too_many(total, max_configs, f"the grid of {strategy.name}")
    defaults = strategy.resolve(base)
    checked = {k: [strategy.spec[k].check(v, f"{strategy.name}.{k}") for v in values] for k, values in grid.items()}
    keys = list(grid)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for combo in itertools.product(*(checked[k] for k in keys)):
        params = {**defaults, **dict(zip(keys, combo, strict=True))}  # every value checked above, once
        key = params_key(params)
        if key not in seen:
            seen.add(key)
            out.append(params)
    return out


def params_key(params: Mapping[str, Any]) -> str:
    """Canonical JSON of a config (sorted keys): its identity in the trial log."""
    return json.dumps({k: _plain(v) for k, v in params.items()}, sort_keys=True)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def varied(grid_params: list[dict[str, Any]]) -> list[str]:
    """The parameters that take more than one value across the configs, in their order."""
    if not grid_params:
        return []
    return [k for k in grid_params[0] if len({json.dumps(_plain(p[k])) for p in grid_params}) > 1]
