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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default parameters updated with `overrides`, each coerced to the default's type."""
        out = dict(self.params)
        for key, raw in (overrides or {}).items():
            if key not in out:
                raise ConfigError(f"{self.name}: unknown parameter {key!r}; parameters: {', '.join(out)}")
            out[key] = coerce(raw, out[key], f"{self.name}.{key}")
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
