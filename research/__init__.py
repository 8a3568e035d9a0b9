"""flowbt: backtesting research framework for hedge-fund flow and positioning signals on US sector ETFs."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def brief(*args: Any, **kwargs: Any) -> Any:
    """The weekly flow brief: `research.weekly.brief` (imported on first use, so `import research` stays light)."""
    from research.weekly import brief as _brief

    return _brief(*args, **kwargs)
