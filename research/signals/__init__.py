"""Signal library: numba kernels (`nb`) and their pandas wrappers, on weekly frames (dates x entities).

Every wrapper keeps the input's index and columns. Parameters given as sequences are zipped into a batch
computed in one kernel call; the result is then a *batch frame* whose outer column levels are the batched
parameters (`frame[52]` selects one set). NaN is a missing value; each function's docstring says what it does
with one.
"""

from research.signals.cross import bottom_n, breadth, cs_rank, top_n
from research.signals.regime import hysteresis
from research.signals.rolling import WEEKS_PER_YEAR, ewma, pct_rank, standardise, zscore
from research.signals.streaks import divergence, fresh, streak
from research.signals.weights import METHODS, weights_from_scores

__all__ = [
    "METHODS",
    "WEEKS_PER_YEAR",
    "bottom_n",
    "breadth",
    "cs_rank",
    "divergence",
    "ewma",
    "fresh",
    "hysteresis",
    "pct_rank",
    "standardise",
    "streak",
    "top_n",
    "weights_from_scores",
    "zscore",
]
