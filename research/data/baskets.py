"""Real baskets: the point-in-time MOST_SHORT basket from FINRA short interest, and HF_VIP from the GVIP ETF.

MOST_SHORT (`most_short_members`, `basket_index`): at each FINRA settlement date, among the S&P 500 members of
that date (`research.data.membership`) that have a FINRA row, the `n` (default 50) with the highest days to cover
(short interest / average daily volume, computed from the two quantities: exact, not FINRA's rounded and capped
column; split-invariant, since both are on the same share count) — or, in the ``change`` variant, the largest
rise of short interest since the previous report (rows FINRA flags with a split are left out: their previous
quantity is on the pre-split share count). Ties break by symbol. The basket is bought at the close of the first
session whose decision time (the close) is at or after the report's publication (`research.data.finra`), in equal
weight, and held (weights drift with prices) until the next publication's session.

Prices come from ``stocks/<TICKER>.csv`` (adjusted closes). Coverage is part of the result: a basket name without
a close at its rebalance session (no file — survivorship: acquired or renamed names — or not yet trading) is left
out of that period's basket, and `coverage` lists, per rebalance, the names chosen, priced and the ones without a
price; the run log and the tear sheet's sources say it. Nothing is filled, except that a held name whose closes
stop within a period keeps its last close to the period's end (counted in `coverage.stale`).

Costs: the index is net of its own rebalancing, `rebalance_bps` (default 10) per unit of weight traded (buys plus
sells, i.e. two sides of one-way turnover) at each rebalance; trading the basket in the engine then pays the
engine's fees, slippage and borrow on top, like an ETF. The most-shorted names are often hard to borrow: the
engine's default borrow (50 bps a year) understates a short of this basket.

HF_VIP: the Goldman Sachs Hedge Industry VIP ETF (GVIP, ``baskets/GVIP.csv``, adjusted close), an investable
basket of the 50 stocks most often among hedge funds' top-10 13F holdings, traded like any ETF.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research.data.calendar import decision_times
from research.data.finra import rank_most_short
from research.data.membership import Membership
from research.errors import ConfigError, DataError

DEFAULT_N = 50
REBALANCE_BPS = 10.0


def read_close_csv(path: Path) -> pd.Series:
    """One ``Date,Close`` file (adjusted closes) as a Series; located errors for a bad header, date or price."""
    try:
        df = pd.read_csv(path, dtype={"Date": str}, engine="c")
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}).") from None
    if list(df.columns[:2]) != ["Date", "Close"]:
        raise DataError(f"{path}: line 1: expected the header Date,Close; got {list(df.columns)}.")
    d = pd.to_datetime(df["Date"], format="%Y-%m-%d", errors="coerce")
    close = pd.to_numeric(df["Close"], errors="coerce")
    bad = d.isna() | ~(close > 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}: line {i + 2}: {df['Date'].iloc[i]!r},{df['Close'].iloc[i]!r}: a date (YYYY-MM-DD) "
                        f"and a positive close are needed ({int(bad.sum())} such row(s)). Fix or remove the rows.")
    idx = pd.DatetimeIndex(d, name="date")
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        i = int(np.flatnonzero(~(idx[1:] > idx[:-1]))[0]) + 1
        raise DataError(f"{path}: line {i + 2}: {idx[i].date()} is not after the previous date; dates must be "
                        "ascending and unique.")
    return pd.Series(close.to_numpy(dtype=float), index=idx, name=path.stem)


def load_closes(directory: str | Path) -> pd.DataFrame:
    """Every ``<TICKER>.csv`` (Date,Close) of a directory as a wide frame, columns = normalised tickers."""
    from research.data.gics import normalize_symbol

    base = Path(directory)
    files = sorted(base.glob("*.csv"))
    if not files:
        raise DataError(f"{base}: no <TICKER>.csv files (Date,Close).")
    cols = {normalize_symbol(f.stem): read_close_csv(f) for f in files}
    out = pd.DataFrame(cols).sort_index()
    out.index.name = "date"
    return out


def most_short_members(si: pd.DataFrame, membership: Membership, *, n: int = DEFAULT_N,
                       by: str = "days_to_cover") -> pd.DataFrame:
    """The basket at each settlement date: columns settlement_date, available_at, rank, symbol, score.

    `si` is `research.data.finra.load_short_interest_files` output. Only members of the S&P 500 on the settlement
    date count (`membership`); the ranking is `research.data.finra.rank_most_short` (``days_to_cover`` or
    ``change``).
    """
    df = si[membership.is_member(si["symbol"], si["settlement_date"])]
    top = rank_most_short(df, n=n, by=by)
    return top[["settlement_date", "available_at", "rank", "symbol", "score"]]


def rebalance_sessions(available_at: pd.Series | pd.DatetimeIndex, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The first session of `index` whose decision time (its close) is at or after each publication time (NaT when
    the publication is after the last session)."""
    when = decision_times(index).to_numpy()
    pos = np.searchsorted(when, pd.DatetimeIndex(available_at).to_numpy(), side="left")
    out = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = pos < len(index)
    out[ok] = index.to_numpy()[pos[ok]]
    return pd.DatetimeIndex(out)


@dataclass(frozen=True)
class Basket:
    """A basket's index level (a price column for the engine) and its coverage at each rebalance."""

    name: str
    level: pd.Series  # on the session index; NaN before the first rebalance
    coverage: pd.DataFrame  # settlement_date, available_at, session, chosen, priced, share, missing, stale, turnover

    def notes(self) -> list[str]:
        """Run-log lines: the coverage summary and every name left out for want of a price."""
        c = self.coverage
        if c.empty:
            return [f"{self.name}: no rebalance within the price history."]
        worst = c.loc[c["share"].idxmin()]
        out = [f"{self.name}: {len(c)} rebalances {c['session'].iloc[0].date()} -> {c['session'].iloc[-1].date()}; "
               f"names with prices {c['priced'].sum()}/{c['chosen'].sum()} ({c['priced'].sum() / c['chosen'].sum():.1%});"
               f" lowest {worst['share']:.0%} ({int(worst['priced'])}/{int(worst['chosen'])}) at "
               f"{worst['session'].date()}; the unpriced names are left out of that period's basket, never filled"]
        miss = pd.Series([s for m in c["missing"] for s in m.split()]).value_counts()
        if len(miss):
            out.append(f"{self.name}: names without prices (rebalances): "
                       + ", ".join(f"{s} ({k})" for s, k in miss.items()))
        stale = int(c["stale"].sum())
        if stale:
            out.append(f"{self.name}: {stale} held name-period(s) whose closes stop within the period keep their "
                       "last close")
        return out


def basket_index(members: pd.DataFrame, closes: pd.DataFrame, index: pd.DatetimeIndex, *, name: str,
                 rebalance_bps: float = REBALANCE_BPS, base: float = 100.0) -> Basket:
    """Equal-weight, buy-and-hold between publications, index level on `index` (see the module docstring)."""
    if rebalance_bps < 0:
        raise ConfigError(f"{name}: rebalance_bps must be >= 0; got {rebalance_bps}.")
    idx = pd.DatetimeIndex(index)
    px = closes.reindex(idx)
    reports = members.groupby("settlement_date", sort=True).agg(
        available_at=("available_at", "first"), symbols=("symbol", list))
    reports["session"] = rebalance_sessions(reports["available_at"], idx)
    reports = reports[reports["session"].notna()]
    # Two reports public by the same session: the later one is the basket (the earlier is never held).
    reports = reports[~reports["session"].duplicated(keep="last")]
    level = np.full(len(idx), np.nan)
    values = px.to_numpy(dtype=float)
    col = {c: i for i, c in enumerate(px.columns)}
    recs = []
    prev_w: dict[str, float] = {}
    cur = base
    rows = reports.reset_index()
    for k, r in rows.iterrows():
        s0 = idx.get_loc(r["session"])
        s1 = idx.get_loc(rows["session"].iloc[k + 1]) if k + 1 < len(rows) else len(idx) - 1
        chosen = list(r["symbols"])
        priced = [s for s in chosen if s in col and np.isfinite(values[s0, col[s]])]
        missing = [s for s in chosen if s not in priced]
        if not priced:
            recs.append((r["settlement_date"], r["available_at"], r["session"], len(chosen), 0, 0.0,
                         " ".join(missing), 0, sum(prev_w.values())))
            level[s0:s1 + 1] = cur  # nothing priced: the period is held in cash (reported by its share of 0)
            prev_w = {}
            continue
        new_w = {s: 1.0 / len(priced) for s in priced}
        turnover = sum(abs(new_w.get(s, 0.0) - prev_w.get(s, 0.0)) for s in set(new_w) | set(prev_w))
        cur = cur * (1.0 - turnover * rebalance_bps * 1e-4)
        block = values[s0:s1 + 1, [col[s] for s in priced]]
        stale = int((~np.isfinite(block[-1])).sum())
        block = pd.DataFrame(block).ffill().to_numpy()
        rel = block / block[0]
        path = rel.mean(axis=1)
        level[s0] = cur if k == 0 else level[s0]
        level[s0 + 1:s1 + 1] = cur * path[1:]
        end = rel[-1] / rel[-1].sum()
        prev_w = dict(zip(priced, end, strict=True))
        cur = cur * path[-1]
        recs.append((r["settlement_date"], r["available_at"], r["session"], len(chosen), len(priced),
                     len(priced) / len(chosen), " ".join(missing), stale, turnover))
    cov = pd.DataFrame(recs, columns=["settlement_date", "available_at", "session", "chosen", "priced", "share",
                                      "missing", "stale", "turnover"])
    return Basket(name, pd.Series(level, index=idx, name=name), cov)
