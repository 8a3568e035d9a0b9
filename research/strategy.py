"""The strategy contract: a hypothesis, its data needs, defaults and grid, and a function data -> target weights.

A strategy module in `strategies/` defines one `Strategy` named `STRATEGY`. Its `weights` function returns a
wide DataFrame of target weights indexed by *decision sessions* (its rebalance dates, a subset of the price
index) with one column per ticker it trades. Each row is decided at that session's close from data public by
then (it reads flows only through `MarketData.flow`), and the engine trades it at the next fill. Rows hold no
NaN: a ticker the strategy does not want is 0.

Parameters are declared once, each as a `Param`: its default, the values the strategy's default grid sweeps,
and what is valid (inclusive bounds `lo`/`hi`, or `choices`). From that one declaration the strategy derives its
defaults (`params`), its grid (`grid`), and the validation of every value a user or a grid gives it: wrong
type, NaN or infinity, out of bounds, or not a choice is a ConfigError naming the parameter, the value and
what is allowed. A plain value instead of a Param declares a parameter with no bounds (its type still checked).

Optionally, `signal(data, **params)` returns the strategy's cross-sectional *score* behind those weights: a wide
DataFrame on decision sessions (a DatetimeIndex) with one column per asset (ticker, or GICS sector name), higher
meaning more attractive, NaN where there is no score. It is saved as `signal.parquet` in the run folder and
drives the tear sheet's signal diagnostics (rank IC by horizon, spreads, decay). It receives the same resolved
parameters as `weights` (accept `**_` for those it does not use). Timing strategies leave it None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from research.data.market import MarketData
from research.errors import ConfigError

Mode = Literal["long_only", "long_short", "dollar_neutral", "timing"]


@dataclass(frozen=True)
class Param:
    """One parameter: its default, the values the default grid sweeps, and the values that are valid.

    `lo` and `hi` are inclusive bounds of a number; `choices` the allowed values of anything else. The type is
    the default's: an int parameter takes only whole numbers, a float one only finite numbers.
    """

    default: Any
    grid: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] = ()
    doc: str = ""

    def allowed(self) -> str:
        """What is valid, in words (for error messages and `flowbt list`)."""
        if self.choices:
            return "one of " + ", ".join(map(repr, self.choices))
        kind = {bool: "true or false", int: "a whole number", float: "a finite number"}.get(type(self.default),
                                                                                              "a value")
        if self.lo is not None and self.hi is not None:
            return f"{kind} in [{self.lo}, {self.hi}]"
        if self.lo is not None:
            return f"{kind} >= {self.lo}"
        if self.hi is not None:
            return f"{kind} <= {self.hi}"
        return kind

    def check(self, value: Any, where: str) -> Any:
        """`value` coerced to the default's type and validated, or a ConfigError saying what is allowed."""
        value = coerce(value, self.default, where)
        kind = type(self.default)
        bad = f"{where}: {value!r} is not valid; it must be {self.allowed()}."
        if kind is bool:
            if not isinstance(value, bool | np.bool_):
                raise ConfigError(bad)
            value = bool(value)
        elif kind is int:
            if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
                raise ConfigError(bad)
            if not math.isfinite(value) or value != int(value):
                raise ConfigError(bad)
            value = int(value)
        elif kind is float:
            if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
                raise ConfigError(bad)
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(bad)
        if self.choices and value not in self.choices:
            raise ConfigError(bad)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ConfigError(bad)
        return value


def Int(default: int, grid: Sequence[int] = (), lo: int | None = None, hi: int | None = None,  # noqa: N802
        doc: str = "") -> Param:
    """A whole-number parameter."""
    return Param(int(default), tuple(grid), lo, hi, doc=doc)


def Float(default: float, grid: Sequence[float] = (), lo: float | None = None, hi: float | None = None,  # noqa: N802
          doc: str = "") -> Param:
    """A finite real parameter."""
    return Param(float(default), tuple(grid), lo, hi, doc=doc)


def Choice(default: Any, choices: Sequence[Any], grid: Sequence[Any] = (), doc: str = "") -> Param:  # noqa: N802
    """A parameter that takes one of `choices`."""
    return Param(default, tuple(grid), choices=tuple(choices), doc=doc)


@dataclass(frozen=True)
class Strategy:
    """A declarative strategy: what it claims, what it needs, how it is parameterised, and its weights.

    `params` maps each parameter to a `Param` (or a plain default); after construction `params` holds the
    defaults, `grid` the default grid (each Param's `grid`, in declaration order; a legacy `grid` mapping is
    merged in) and `spec` the Params. Every default and grid value is validated when the strategy is built.
    """

    name: str
    hypothesis: str
    needs: tuple[str, ...]
    params: Mapping[str, Any]
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    weights: Callable[..., pd.DataFrame] | None = None
    mode: Mode = "long_only"
    mechanism: str | None = None  # the synthetic mechanism it targets, if any (see synthetic.Truth)
    description: str = ""
    tags: tuple[str, ...] = field(default=())
    signal: Callable[..., pd.DataFrame] | None = None  # data, **params -> scores (decision sessions x assets)
    spec: Mapping[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.weights is None:
            raise ConfigError(f"{self.name}: a strategy needs a weights function.")
        unknown = sorted(set(self.grid) - set(self.params))
        if unknown:
            raise ConfigError(f"{self.name}: grid parameter(s) {unknown} are not declared in params.")
        spec: dict[str, Param] = {}
        for key, value in self.params.items():
            p = value if isinstance(value, Param) else Param(value)
            if key in self.grid:
                p = replace(p, grid=tuple(self.grid[key]))
            where = f"{self.name}.{key}"
            p = replace(p, default=p.check(p.default, f"{where} (default)"),
                        grid=tuple(p.check(v, f"{where} (grid)") for v in p.grid))
            spec[key] = p
        legacy = [k for k in self.grid] + [k for k in spec if k not in self.grid]  # a legacy grid keeps its order
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "params", {k: p.default for k, p in spec.items()})
        object.__setattr__(self, "grid", {k: list(spec[k].grid) for k in legacy if spec[k].grid})

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated with `overrides`, each coerced to its type and validated (`Param.check`)."""
        out = dict(self.params)
        for key, raw in (overrides or {}).items():
            if key not in self.spec:
                raise ConfigError(f"{self.name}: unknown parameter {key!r}; parameters: {', '.join(out)}")
            out[key] = self.spec[key].check(raw, f"{self.name}.{key}")
        return out

    def missing_data(self, data: MarketData) -> list[str]:
        """Metrics this strategy needs that `data` lacks; a need "a|b" is met by either (alternative sources)."""
        have = set(data.metrics()) | {f"price:{t}" for t in data.prices.tickers}
        return [n for n in self.needs if not any(alt in have for alt in n.split("|"))]

    def sources_read(self, data: MarketData) -> list[str]:
        """The panel sources of the metrics this strategy reads on `data` (its first available alternative)."""
        have = set(data.metrics())
        metrics = {next((a for a in n.split("|") if a in have), None) for n in self.needs} - {None}
        return sorted(data.panel.loc[data.panel["metric"].isin(metrics), "source"].unique())

    def data_read(self, data: MarketData) -> list[str]:
        """Run-log lines: each panel metric this strategy reads and the source(s) it comes from; for a need with
        alternatives ("a|b"), the alternative `data` provides."""
        have = set(data.metrics()) | {f"price:{t}" for t in data.prices.tickers}
        out = []
        for n in self.needs:
            alt = next((a for a in n.split("|") if a in have), None)
            if alt is None or alt.startswith("price:"):
                continue
            src = sorted(data.panel.loc[data.panel["metric"] == alt, "source"].unique())
            what = f"needs {n}: reads {alt}" if "|" in n else f"reads {alt}"
            out.append(f"{self.name} {what} (source {', '.join(src)})")
        return out

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


def coerce(raw: Any, default: Any, where: str) -> Any:
    """Coerce a command-line string (or value) to the type of the parameter's default."""
    if not isinstance(raw, str):
        return raw
    if isinstance(default, str):
        return raw
    if isinstance(default, int | float) and not isinstance(default, bool) and raw.strip().lower() in (
            "nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"):
        raise ConfigError(f"{where}: {raw!r} is not a finite number.")
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
