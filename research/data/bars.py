"""Yahoo's raw price columns to adjusted bars: the two layouts a Yahoo file comes in, and how each is adjusted.

Shared by the CSV reader (`prices`), the yfinance cache (`yahoo`) and the plausibility checks (`plausible`).
"""

from __future__ import annotations

import pandas as pd

#: Layouts of a Yahoo CSV. "adj_close": `yfinance.download(auto_adjust=False)` — Close is split-adjusted only and
#: Adj Close also folds in dividends. "history": `Ticker.history()` — every price already adjusted.
LAYOUT_ADJ = "adj_close"
LAYOUT_HISTORY = "history"


def adjust(raw: pd.DataFrame, layout: str) -> pd.DataFrame:
    """Adjusted `open`, `close` (and `volume` if present) from raw Yahoo columns.

    adj_close layout: close = Adj Close, open = Open * Adj Close / Close (the day's dividend-and-split factor, so
    open-to-close and close-to-close returns use one adjustment). history layout: prices are already adjusted.
    """
    if layout == LAYOUT_ADJ:
        out = pd.DataFrame({"open": raw["Open"] * (raw["Adj Close"] / raw["Close"]), "close": raw["Adj Close"]})
    elif layout == LAYOUT_HISTORY:
        out = pd.DataFrame({"open": raw["Open"], "close": raw["Close"]})
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if "Volume" in raw.columns:
        out["volume"] = raw["Volume"]
    return out.astype(float)
