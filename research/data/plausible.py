"""Plausibility checks on price histories: values a real ETF or index history cannot hold.

A file can parse perfectly and still be wrong: prices not adjusted for a split (a -50% day), a x100 close
(a tear sheet then shows 3,590% volatility), `Close` inconsistent with `Adj Close`, 1e300 or inf, a date after
the exchange calendar ends. Each is a DataError naming the file, line, ticker and date, with the switch for the
rare legitimate case. Bounds, from the real histories in ../shared/data (1990-2026) and why:

- one-day moves, by asset class. An ETF (anything not an index): |r| <= ETF_MAX_MOVE = 35% close to close,
  close to open and open to close; the largest any SPDR sector ETF or SPY has shown is 20.9% (XLF's open gap of
  2008) and 20.1% close to close (XLE, 2020-03-09). An index (a `^` ticker or one of INDEX_TICKERS: VIX, VVIX,
  ...): the price moves at most x4 or /4 in a session (|log r| <= log 4); VIX's record is +116% (2018-02-05),
  VVIX's +130% open to close. A volatility index is not an asset: its big days are real.
- splits (the `Ticker.history()` layout, whose prices are adjusted): a session whose `Stock Splits` is s and
  whose return is within 10% (in logs) of 1/s means the prices were not adjusted.
- `Close`/`Adj Close` (the download layout): their ratio is the cumulative dividend factor, which moves by a
  dividend (at most 3.0% in a session in the real data); a move above RATIO_MAX_JUMP = 10% is an error.
- absurd values: inf anywhere; a price outside [1e-4, 1e7] (the highest US share, BRK-A, is below 1e6); a
  volume above 1e12; a split ratio outside [0, 1000].
- the calendar: a row after today or outside the NYSE calendar flowbt uses (1990-01-02 to a year ahead).

The switch: `FLOWBT_ALLOW` (or the `allow=` argument of the loaders), a comma-separated list of
`check:TICKER[:YYYY-MM-DD]` with `*` for any ticker, e.g. `FLOWBT_ALLOW=move:XLE:2020-03-09,calendar:*`.
Checks: move, split, adj_ratio, absurd, calendar. An allowed finding is kept in the run's notes, never silent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from research.data.bars import LAYOUT_ADJ, adjust
from research.errors import ConfigError, DataError

ETF_MAX_MOVE = 0.35
INDEX_MAX_LOG_MOVE = math.log(4.0)
RATIO_MAX_JUMP = 0.10
PRICE_RANGE = (1e-4, 1e7)
VOLUME_MAX = 1e12
SPLIT_MAX = 1000.0
SPLIT_TOLERANCE = 0.10
INDEX_TICKERS = frozenset({"VIX", "VVIX", "VIX3M", "VIX9D", "VIX6M", "VXN", "VXD", "RVX", "SKEW", "MOVE", "OVX",
                           "GVZ", "GSPC", "SPX", "NDX", "DJI", "RUT", "TNX", "IRX", "FVX", "TYX"})
CHECKS = ("move", "split", "adj_ratio", "absurd", "calendar")
ENV_VAR = "FLOWBT_ALLOW"
_PRICES = ("Open", "High", "Low", "Close", "Adj Close")


@dataclass(frozen=True)
class Allow:
    """Findings the user declared legitimate: (check, ticker or '*', date or None)."""

    entries: frozenset[tuple[str, str, pd.Timestamp | None]] = frozenset()

    def covers(self, check: str, ticker: str, date: pd.Timestamp | None) -> bool:
        t = ticker.upper().lstrip("^")
        return any(c == check and tk in ("*", t) and (d is None or d == date) for c, tk, d in self.entries)


def allowances(spec: str | Iterable[str] | Allow | None = None) -> Allow:
    """`spec` (a string or entries), else $FLOWBT_ALLOW, parsed; a malformed entry is a ConfigError."""
    if isinstance(spec, Allow):
        return spec
    if spec is None:
        spec = os.environ.get(ENV_VAR, "")
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    out = set()
    for item in items:
        parts = item.split(":")
        if len(parts) not in (2, 3) or parts[0] not in CHECKS or not parts[1]:
            raise ConfigError(f"{ENV_VAR}: {item!r} is not check:TICKER[:YYYY-MM-DD] with a check among "
                              f"{', '.join(CHECKS)} (e.g. move:XLE:2020-03-09).")
        when = None
        if len(parts) == 3:
            try:
                when = pd.Timestamp(parts[2]).normalize()
            except (ValueError, TypeError):
                raise ConfigError(f"{ENV_VAR}: {item!r}: {parts[2]!r} is not a date (YYYY-MM-DD).") from None
        out.add((parts[0], parts[1].upper().lstrip("^"), when))
    return Allow(frozenset(out))


def asset_class(ticker: str) -> str:
    """'index' for a `^` ticker or one of INDEX_TICKERS, else 'etf'."""
    t = ticker.strip().upper()
    return "index" if t.startswith("^") or t.lstrip("^") in INDEX_TICKERS else "etf"


class _Checker:
    """Collects findings: an allowed one becomes a note, the first other one a DataError."""

    def __init__(self, where: str, ticker: str, allow: Allow, lines: np.ndarray | None, fix: str) -> None:
        self.where, self.ticker, self.allow, self.lines, self.fix = where, ticker, allow, lines, fix
        self.notes: list[str] = []

    def found(self, check: str, row: int, date: pd.Timestamp, what: str, why: str) -> None:
        line = f", line {self.lines[row]}" if self.lines is not None else ""
        if self.allow.covers(check, self.ticker, date):
            self.notes.append(f"allowed by {ENV_VAR} ({check}): {date.date()}{line}: {what}")
            return
        switch = (f"If it is real, allow it: {ENV_VAR}={check}:{self.ticker.lstrip('^')}:{date.date()}"
                  if check in CHECKS else "")
        raise DataError(f"{self.where}{line}: {self.ticker} on {date.date()}: {what}. {why} {self.fix}"
                        f"{' ' + switch if switch else ''}".rstrip() + ("." if switch else ""))


def check_history(raw: pd.DataFrame, layout: str, ticker: str, where: str, *, lines: np.ndarray | None = None,
                  allow: Allow | str | None = None, fix: str = "Fix the file or re-download it.") -> list[str]:
    """Check one ticker's raw Yahoo columns (dates ascending); return notes of allowed findings, raise DataError
    at the first other one. `layout` is bars.LAYOUT_ADJ or LAYOUT_HISTORY."""
    chk = _Checker(where, ticker, allowances(allow), lines, fix)
    idx = pd.DatetimeIndex(raw.index)
    _absurd(raw, idx, chk)
    _calendar(idx, chk)
    if "Stock Splits" in raw.columns:
        _splits(raw, idx, chk)
    if layout == LAYOUT_ADJ:
        _adj_ratio(raw, idx, chk)
    bars = adjust(raw, layout)
    _moves(bars["open"].to_numpy(float), bars["close"].to_numpy(float), idx, chk)
    return chk.notes


def _absurd(raw: pd.DataFrame, idx: pd.DatetimeIndex, chk: _Checker) -> None:
    lo, hi = PRICE_RANGE
    for col in raw.columns:
        v = raw[col].to_numpy(float)
        inf = np.isinf(v)
        if inf.any():
            i = int(np.flatnonzero(inf)[0])
            chk.found("inf", i, idx[i], f"column {col!r} is {v[i]}", "A price, volume or split is a finite number.")
        if col in _PRICES:
            bad = (v < lo) | (v > hi)
            what = f"column {col!r} is {{:g}}, outside [{lo:g}, {hi:g}]"
        elif col == "Volume":
            bad, what = v > VOLUME_MAX, f"column 'Volume' is {{:g}}, above {VOLUME_MAX:g}"
        elif col == "Stock Splits":
            bad, what = (v < 0) | (v > SPLIT_MAX), f"column 'Stock Splits' is {{:g}}, outside [0, {SPLIT_MAX:g}]"
        else:
            continue
        bad &= np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            chk.found("absurd", i, idx[i], what.format(v[i]), "No US-listed fund trades there: a unit or typing "
                      "error.")


def _calendar(idx: pd.DatetimeIndex, chk: _Checker) -> None:
    from research.data.calendar import nyse

    cal = nyse()
    first = pd.Timestamp(cal.first_session).tz_localize(None)
    last = pd.Timestamp(cal.last_session).tz_localize(None)
    today = pd.Timestamp.now(tz="America/New_York").tz_localize(None).normalize()
    future = np.asarray(idx > today)
    if future.any():
        i = int(np.flatnonzero(future)[0])
        chk.found("calendar", i, idx[i], f"the date is after today ({today.date()})",
                  "A price history ends in the past: a typing error in the year?")
    outside = np.asarray((idx < first) | (idx > last))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        chk.found("calendar", i, idx[i], f"the date is outside the NYSE calendar flowbt checks sessions against "
                  f"({first.date()} to {last.date()})", "Its sessions cannot be checked.")


def _splits(raw: pd.DataFrame, idx: pd.DatetimeIndex, chk: _Checker) -> None:
    split = raw["Stock Splits"].to_numpy(float)
    close = raw["Close"].to_numpy(float)
    prev = _previous(close)
    for i in np.flatnonzero(np.isfinite(split) & (split > 0) & (split != 1)):
        r = close[i] / prev[i]
        if np.isfinite(r) and abs(math.log(r) + math.log(split[i])) < SPLIT_TOLERANCE * abs(math.log(split[i])):
            chk.found("split", int(i), idx[i], f"the close moves {r - 1:+.1%} on a {split[i]:g}:1 split",
                      "The Ticker.history() layout holds split-adjusted prices; these were not adjusted.")


def _adj_ratio(raw: pd.DataFrame, idx: pd.DatetimeIndex, chk: _Checker) -> None:
    q = np.log(raw["Adj Close"].to_numpy(float) / raw["Close"].to_numpy(float))
    jump = np.abs(q - _previous(q))
    bad = np.isfinite(jump) & (jump > RATIO_MAX_JUMP)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        chk.found("adj_ratio", i, idx[i], f"Adj Close / Close moves by {math.expm1(jump[i]):.1%} in one session",
                  f"That ratio is the dividend factor and moves by a dividend (a few %, at most "
                  f"{RATIO_MAX_JUMP:.0%}); Close and Adj Close disagree.")


def _moves(opn: np.ndarray, close: np.ndarray, idx: pd.DatetimeIndex, chk: _Checker) -> None:
    index = asset_class(chk.ticker) == "index"
    prev = _previous(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        legs = {"close to close": close / prev, "close to open": opn / prev, "open to close": close / opn}
    for leg, ratio in legs.items():
        x = np.log(ratio) if index else ratio - 1.0
        bad = np.isfinite(x) & (np.abs(x) > (INDEX_MAX_LOG_MOVE if index else ETF_MAX_MOVE))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            r = ratio[i] - 1.0
            near = _split_like(ratio[i])
            hint = f" It matches a {near} split: are the prices split-adjusted?" if near else ""
            bound = ("an index: at most x4 or /4 in a session; VIX's record is +116%" if index else
                     f"an ETF: at most {ETF_MAX_MOVE:.0%}; no sector ETF or SPY has moved more than 21%")
            chk.found("move", i, idx[i], f"the {leg} return is {r:+.1%}", f"Beyond the bound for {bound}.{hint}")


def _split_like(ratio: float) -> str:
    for k in (2, 3, 4, 5, 8, 10, 20, 50, 100):
        for s, name in ((1 / k, f"{k}:1"), (k, f"1:{k} reverse")):
            if abs(math.log(ratio / s)) < 0.03:
                return name
    return ""


def _previous(x: np.ndarray) -> np.ndarray:
    """The previous finite value before each position (NaN where there is none): returns skip empty rows."""
    pos = np.where(np.isfinite(x), np.arange(len(x)), -1)
    last = np.maximum.accumulate(pos)
    prev_pos = np.concatenate([[-1], last[:-1]])
    out = np.full(len(x), np.nan)
    ok = prev_pos >= 0
    out[ok] = x[prev_pos[ok]]
    return out
