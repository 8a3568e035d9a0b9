"""The strategy contract: a hypothesis, its data needs, defaults and grid, and a function data -> target weights.

A strategy module in `strategies/` defines one `Strategy` named `STRATEGY`. Its `weights` function returns a
wide DataFrame of target weights indexed by *decision sessions* (its rebalance dates, a subset of the price
index) with one column per ticker it trades. Each row is decided at that session's close from data public by
then (it reads flows only through `MarketData.flow`), and the engine trades it at the next fill. Rows hold no
NaN: a ticker the strategy does not want is 0.

Optionally, `signal(data, **params)` returns the strategy's cross-sectional *score* behind those weights: a wide
DataFrame on decision sessions (a DatetimeIndex) with one column per asset (ticker, or GICS sector name), higher
meaning more attractive, NaN where there is no score. It is saved as `signal.parquet` in the run folder and
drives the tear sheet's signal diagnostics (rank IC by horizon, spreads, decay). It receives the same resolved
parameters as `weights` (accept `**_` for those it does not use). Timing strategies leave it None.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.errors import ConfigError

Mode = Literal["long_only", "long_short", "dollar_neutral", "timing"]


@dataclass(frozen=True)
class Strategy:
    """A declarative strategy: what it claims, what it needs, how it is parameterised, and its weights."""

    name: str
    hypothesis: str
    needs: tuple[str, ...]
    params: Mapping[str, Any]
    grid: Mapping[str, Sequence[Any]]
    weights: Callable[..., pd.DataFrame]
    mode: Mode = "long_only"
    mechanism: str | None = None  # the synthetic mechanism it targets, if any (see synthetic.Truth)
    description: str = ""
    tags: tuple[str, ...] = field(default=())
    signal: Callable[..., pd.DataFrame] | None = None  # data, **params -> scores (decision sessions x assets)
    may_be_zero: tuple[str, ...] = ()  # whole-number parameters for which 0 means something ("at least 0 weeks")

    def resolve(self, overrides: Mapping[str, Any] | None = None, *, check: bool = True) -> dict[str, Any]:
        """Default parameters updated with `overrides`, each coerced to the default's type and checked
        (`check_param`; `check=False` for values already checked one by one, as a grid expansion does)."""
        out = dict(self.params)
        for key, raw in (overrides or {}).items():
            if key not in out:
                raise ConfigError(f"{self.name}: unknown parameter {key!r}; parameters: {', '.join(out)}")
            out[key] = coerce(raw, out[key], f"{self.name}.{key}")
            if check:
                check_param(self, key, out[key])
        return out

    def missing_data(self, data: MarketData) -> list[str]:
        """Metrics this strategy needs that `data` lacks."""
        have = set(data.metrics()) | {f"price:{t}" for t in data.prices.tickers}
        return [n for n in self.needs if n not in have]

    def target_weights(self, data: MarketData, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Target weights for `data`, after checking the data needs."""
        missing = self.missing_data(data)
        if missing:
            raise ConfigError(f"{self.name} needs {missing}, which {data.name} does not have.")
        return self.weights(data, **self.resolve(overrides))

    def target_signal(self, data: MarketData, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame | None:
        """The strategy's score frame (see the module docstring), or None when it defines no `signal`."""
        if self.signal is None:
            return None
        out = self.signal(data, **self.resolve(overrides))
        if not isinstance(out, pd.DataFrame) or not isinstance(out.index, pd.DatetimeIndex):
            raise ConfigError(
                f"{self.name}.signal must return a DataFrame on a DatetimeIndex (decision sessions x assets), "
                f"got {type(out).__name__}" + (f" indexed by {type(out.index).__name__}" if hasattr(out, "index")
                                                else "")
            )
        return out


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def check_param(strategy: Strategy, key: str, value: Any) -> None:
    """A ConfigError for a numeric parameter's value no declaration makes meaningful.

    Generic rules, from what the strategy declares (its default and grid values) until it declares bounds:
    a number is finite (NaN and inf are refused everywhere); a parameter whose declared values are all >= 0
    is >= 0 (`hold=-1`); a whole-number parameter whose declared values are all >= 1 is >= 1 (`top_n=0`,
    `window=0`), unless the strategy lists it in `may_be_zero`.
    """
    default = strategy.params[key]
    if not _is_number(default):
        return
    where = f"{strategy.name}.{key}"
    if not _is_number(value):
        raise ConfigError(f"{where}: {value!r} is not a number (the default is {default!r}).")
    if not math.isfinite(float(value)):
        raise ConfigError(f"{where}: {value} is not a finite number; give a number such as {default!r}.")
    declared = [default, *(v for v in strategy.grid.get(key, ()) if _is_number(v))]
    shown = f"its default is {default!r}" + (f" and its grid {list(strategy.grid[key])}" if key in strategy.grid
                                             else "")
    if value < 0 and all(d >= 0 for d in declared):
        raise ConfigError(f"{where}: {value} is negative, which makes it meaningless ({shown}); give a value "
                          ">= 0.")
    whole = isinstance(default, numbers.Integral)
    if whole and value < 1 and key not in strategy.may_be_zero and all(d >= 1 for d in declared):
        raise ConfigError(f"{where}: {value} leaves nothing to count, hold or select ({shown}); give a whole "
                          "number >= 1.")


def coerce(raw: Any, default: Any, where: str) -> Any:
    """Coerce a command-line string (or value) to the type of the parameter's default."""
    if not isinstance(raw, str):
        return raw
    try:
        if isinstance(default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ConfigError(f"{where}: {raw!r} is not a valid {type(default).__name__}") from None
    return raw
