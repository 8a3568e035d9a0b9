"""Regime flags with hysteresis, so a flag does not flicker around one threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.signals import nb
from research.signals._frames import Param, as_array, batch, to_frame


def hysteresis(x: pd.DataFrame, upper: Param, lower: Param) -> pd.DataFrame:
    """Boolean regime flag: starts off, turns on when x >= upper, off when x <= lower, else keeps its state.

    NaN keeps the state (a missing week neither starts nor ends a regime). Needs lower <= upper. Sequences are
    zipped into (upper, lower) pairs and give a batch frame.
    """
    b = batch(upper=upper, lower=lower)
    uppers, lowers = b.floats("upper"), b.floats("lower")
    if np.any(lowers > uppers):
        raise ConfigError(f"hysteresis needs lower <= upper; got upper {uppers.tolist()}, lower {lowers.tolist()}.")
    return to_frame(nb.hysteresis_nb(as_array(x, "hysteresis: x"), uppers, lowers), x, b)
