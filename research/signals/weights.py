"""Scores to target weights: equal, signal-proportional or inverse-volatility, under gross and net limits."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.signals import nb
from research.signals._frames import Batch, Param, batch, split_batch, to_frame

Method = Literal["equal", "proportional", "inverse_vol"]
METHODS: dict[str, int] = {"equal": nb.EQUAL, "proportional": nb.PROPORTIONAL, "inverse_vol": nb.INVERSE_VOL}


def weights_from_scores(
    scores: pd.DataFrame,
    mask: pd.DataFrame | None = None,
    method: Method = "equal",
    vol: pd.DataFrame | None = None,
    gross: Param = 1.0,
    net: Param | None = None,
    long_short: bool = False,
) -> pd.DataFrame:
    """Target weights (dates x entities, never NaN, 0 = not held) from scores and an optional selection mask.

    Held: entities where `mask` is True (all when None) and the score is valid; for inverse_vol also a finite
    vol > 0. Raw weight: equal 1, proportional the score, inverse_vol 1 / vol. Long-only: every held entity
    is long (proportional uses max(score, 0)). `long_short`: the sign of the score is the side (0 is not held).

    Limits, per row: a one-sided book is scaled to sum min(gross, net). A two-sided book keeps gross exactly:
    its net exposure after scaling to `gross`, clipped to [-net, net], is n; the long side is then scaled to
    (gross + n) / 2 and the short side to (gross - n) / 2 (net = 0 gives a dollar-neutral book; proportions
    within each side are kept). net None means no net limit. A row with nothing held is all zeros.

    Batches: `scores` and/or `mask` may be batch frames (same parameter sets), e.g. `top_n(x, [2, 3])`, or
    `gross`/`net` may be sequences (zipped); the result is a batch frame with the same outer levels.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    score_arr, sb, index, columns = split_batch(scores, "scores")
    if mask is None:
        mask_arr, mb = np.ones((1, *score_arr.shape[1:]), dtype=np.bool_), Batch({}, (), [None])
    else:
        raw, mb, _, _ = split_batch(mask, "mask", index, columns)
        mask_arr = (raw != 0) & ~np.isnan(raw)
    if sb.names and mb.names and (sb.names != mb.names or sb.keys != mb.keys):
        raise ConfigError(f"scores and mask are batches over different parameter sets: "
                          f"{sb.names}={sb.keys} vs {mb.names}={mb.keys}.")
    frames_batch = sb if sb.names else mb
    like = pd.DataFrame(index=index, columns=columns)
    if method == "inverse_vol":
        if vol is None:
            raise ConfigError("method 'inverse_vol' needs vol (a dates x entities frame of volatilities).")
        vols, vb, _, _ = split_batch(vol, "vol", index, columns)
        if vb.names:
            raise ConfigError("vol must be a plain frame (dates x entities), not a batch frame.")
        vol_arr = vols[0]
    elif vol is not None:
        raise ConfigError(f"vol is only used by method 'inverse_vol', not {method!r}; drop it or change method.")
    else:
        vol_arr = np.ones(score_arr.shape[1:], dtype=np.float64)
    limits = batch(gross=gross, net=np.inf if net is None else net)
    if limits.names and frames_batch.names:
        raise ConfigError("batch either the frames (scores / mask) or the limits (gross / net), not both.")
    grosses, nets = limits.floats("gross"), limits.floats("net")
    if np.any(grosses <= 0) or np.any(nets < 0):
        raise ConfigError(f"need gross > 0 and net >= 0; got gross {grosses.tolist()}, net {nets.tolist()}.")
    out = nb.weights_nb(score_arr, mask_arr, vol_arr, METHODS[method], grosses, nets, bool(long_short))
    return to_frame(out, like, limits if limits.names else frames_batch)
