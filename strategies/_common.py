"""Compatibility names for the plumbing the strategies share, which lives in the framework.

Sampling the panel at decision sessions is `research.observe`; scores, row stages and books are
`research.book`. This module only re-exports them for code written against `strategies._common` (notebooks,
users' strategies); new code imports from `research.observe` and `research.book`. The framework never imports it.
"""

from research.book import (
    carry,
    choice,
    equal_when_idle,
    neutral_book,
    on_decisions,
    ranked,
    recent,
    scores_on_decisions,
    timing_frame,
)
from research.observe import SECTOR_TICKERS, book_obs, decisions, observed, priced, sector_obs, weekly_obs

__all__ = ["SECTOR_TICKERS", "book_obs", "carry", "choice", "decisions", "equal_when_idle", "neutral_book",
           "observed", "on_decisions", "priced", "ranked", "recent", "scores_on_decisions", "sector_obs",
           "timing_frame", "weekly_obs"]
