"""Real sector short positioning from FINRA short interest: per GICS sector (point in time) and per sector ETF.

Sectors: the S&P 500 members of each settlement date (`research.data.membership`) with a FINRA row, in their
GICS sector of that date (`research.data.gics`, the yearly snapshot in force). Metrics (source ``finra_si``,
`as_of` = settlement date, `available_at` = FINRA's publication, `research.data.finra`):

- ``si_usd`` (usd): the sum of shares short x close at settlement. FINRA's shares are on the settlement date's
  share count, but ``stocks/`` holds only adjusted closes (splits and dividends folded in); no split history is
  in the data, so the close used is the **adjusted** close — an approximation that understates the dollars of a
  stock before each of its later splits (NVDA before 2021 by 40x) and, mildly, before later dividends. Use it for
  levels within a short span; the change below does not depend on it.
- ``si_change_pct`` (pct): the change of short interest since the previous report at constant prices,
  100 x sum((shares - previous shares) x close) / sum(previous shares x close), over members whose change is on
  one share count (rows FINRA flags with a split are left out) and that have a close. The adjusted close only
  weights names within a sector here, so a later split changes a name's weight, not the sign of its change.
- ``si_median_dtc`` (days): the median of shares short / average daily volume (split-invariant).
- ``si_names`` (count): members with a FINRA row; ``si_priced_share`` (ratio): the share of them with a close.

Sector ETFs and SPY (entity = ticker): ``si_shares`` (shares), ``si_days_to_cover`` (days), ``si_change_pct``
(pct, shares; split-flagged rows left out) and ``si_usd`` (usd: shares x the ETF's unadjusted close from
``prices/``, the traded price, exact).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.data.finra import SOURCE
from research.data.gics import GicsMap
from research.data.membership import Membership
from research.data.panel import validate_panel
from research.data.universe import SECTORS, TICKERS

UNITS = {"si_usd": "usd", "si_change_pct": "pct", "si_median_dtc": "days", "si_names": "count",
         "si_priced_share": "ratio", "si_shares": "shares", "si_days_to_cover": "days"}
ENTITIES: frozenset[str] = frozenset((*SECTORS, *TICKERS))


def _close_at(closes: pd.DataFrame, symbols: pd.Series, days: pd.Series) -> np.ndarray:
    """The close of each (symbol, day): that day's close (settlement dates are sessions), NaN when absent."""
    stacked = closes.stack()
    stacked.index.names = ["date", "symbol"]
    keys = pd.MultiIndex.from_arrays([pd.DatetimeIndex(days), np.asarray(symbols, dtype=object)])
    return stacked.reindex(keys).to_numpy(dtype=float)


def sector_positioning(si: pd.DataFrame, gics: GicsMap, membership: Membership, closes: pd.DataFrame,
                       etf_closes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The panel rows of the module docstring (validated), from `research.data.finra` rows and closes."""
    df = si[membership.is_member(si["symbol"], si["settlement_date"])].copy()
    df["sector"] = gics.map(df["symbol"], df["settlement_date"]).to_numpy()
    df = df[df["sector"].notna()]
    df["price"] = _close_at(closes, df["symbol"], df["settlement_date"])
    df["dtc"] = np.where(df["avg_daily_volume"] > 0, df["short_interest"] / df["avg_daily_volume"].where(
        df["avg_daily_volume"] > 0), np.nan)
    priced = df["price"].notna()
    ok = priced & df["change_ok"]
    df["usd"] = np.where(priced, df["short_interest"] * df["price"], 0.0)
    df["d_usd"] = np.where(ok, (df["short_interest"] - df["previous_short_interest"]) * df["price"], 0.0)
    df["prev_usd"] = np.where(ok, df["previous_short_interest"] * df["price"], 0.0)
    df["priced"] = priced.astype(float)
    g = df.groupby(["settlement_date", "available_at", "sector"], sort=True)
    agg = g.agg(si_usd=("usd", "sum"), d_usd=("d_usd", "sum"), prev_usd=("prev_usd", "sum"),
                si_median_dtc=("dtc", "median"), si_names=("symbol", "size"), si_priced_share=("priced", "mean"))
    agg["si_change_pct"] = np.where(agg["prev_usd"] > 0, 100.0 * agg["d_usd"] / agg["prev_usd"].where(
        agg["prev_usd"] > 0), np.nan)
    agg.loc[agg["si_priced_share"] == 0, "si_usd"] = np.nan
    agg = agg.drop(columns=["d_usd", "prev_usd"]).reset_index().rename(columns={"sector": "entity"})
    parts = [agg.melt(id_vars=["settlement_date", "available_at", "entity"], var_name="metric")]
    etf = si[si["symbol"].isin(TICKERS)].copy()
    if len(etf):
        etf["si_shares"] = etf["short_interest"]
        etf["si_days_to_cover"] = etf["short_interest"] / etf["avg_daily_volume"].where(etf["avg_daily_volume"] > 0)
        etf["si_change_pct"] = (100.0 * (etf["short_interest"] / etf["previous_short_interest"].where(
            etf["previous_short_interest"] > 0) - 1.0)).where(etf["change_ok"])
        keep = ["si_shares", "si_days_to_cover", "si_change_pct"]
        if etf_closes is not None:
            etf["si_usd"] = etf["short_interest"] * _close_at(etf_closes, etf["symbol"], etf["settlement_date"])
            keep.append("si_usd")
        etf = etf.rename(columns={"symbol": "entity"})
        parts.append(etf[["settlement_date", "available_at", "entity", *keep]].melt(
            id_vars=["settlement_date", "available_at", "entity"], var_name="metric"))
    out = pd.concat(parts, ignore_index=True).rename(columns={"settlement_date": "as_of"})
    out = out[np.isfinite(out["value"].to_numpy(dtype=float))]
    out["source"] = SOURCE
    out["units"] = out["metric"].map(UNITS)
    return validate_panel(out, name="finra sector short positioning", entities=ENTITIES)
