"""The embedded synthetic market: sector ETF prices and a weekly prime-book panel with planted, documented edges.

Deterministic by seed; NYSE sessions (default 2000-01-03 -> 2025-12-31). Everything a strategy can see is in
the returned `MarketData`; what was planted is in `MarketData.truth` (a `Truth`), for tests and tear sheets.

Returns. A daily calm/crisis Markov chain (mean spells 300 sessions calm, 50 in crisis) switches the intercept
of a GJR-GARCH(1,1) market factor with capped exponential downside jumps (6x more frequent in crises). Each
sector's daily log return is beta * factor + idiosyncratic noise whose volatility has its own slow stochastic
multiplier and rises less than the market's in crises (so correlations rise in crises). A martingale correction
makes every asset's expected simple return constant: E[exp(r) | past, regime, vols] = 1 + mu / 252 every
session, mu = 8% a year (log intercept log1p(mu / 252), minus half the GARCH and idiosyncratic variance, minus
the log jump MGF at the session's regime jump rate: exact, checked by quadrature in the tests). The expected
annualised arithmetic mean daily return is therefore 8.0% (return model over seeds 0-999: 8.04%, s.e. 0.12%)
and the expected CAGR about 6.4%; a 26-year mean has a seed-to-seed sd of 3.7%, so single seeds range widely
(seed 0: SPY 3.0% arithmetic, 1.5% CAGR at ic=0; seeds 0-11 average 4.8%). The low means once seen on seeds
0-11 were that sampling plus an intercept of log1p(mu) / 252 (7.7% arithmetic), since corrected. At ic=0
nothing predicts any return's mean. (Rank statistics are another matter: compensated downside jumps make crisis
returns' median higher than their mean, so a crisis-linked signal such as degrossing shows a rank IC of
about +0.01 at ic=0; its mean effect, and any Sharpe from it, is zero.) SPY is a constant-weight mix of the 11
sectors (the sectors exist before their ETFs; they are hidden, not absent). HF_VIP and MOST_SHORT are basket
indices (start 100; no volume: NaN) on the same factor. The open splits each daily log
return into an overnight part (0.35 of it plus noise) and an intraday part.

Panel. One row per (Friday as_of, entity, metric); available_at = the following Tuesday 08:00 (New York).
Per GICS sector, from its ETF's inception only: net_flow, long_buys, long_sells, short_sales, short_covers
(usd_mn; long_buys >= 0, long_sells <= 0, short_sales <= 0, short_covers >= 0, and
net_flow = ((long_buys + long_sells) + short_sales) + short_covers exactly in float64), net_exposure and
gross_exposure (pct_book; gross_exposure sums to 100 over the reported sectors), retail_flow (usd_mn).
For BOOK: gross_leverage and net_leverage (pct) and long_short_ratio = (G + N) / (G - N) exactly.
Flows follow a persistent per-sector theme (buying/selling streaks), chase the sector's trailing 4-week excess
return (not an edge: returns are martingales) and book-wide net-leverage changes; net exposure integrates flows
and price moves; retail flow is noise plus contrarian (against hedge-fund flow and last week's return).
Flow drivers and return drivers come from independent random streams; only the planted mechanisms connect
the panel to future returns.

Planted mechanisms (all percentiles: `x.rolling(156).rank(pct=True)` in pandas, i.e. the average rank of ties
over the 156 weekly values up to and including the current week, per sector over its reported weeks only;
drifts are log returns spread evenly over the 20 sessions starting two sessions after the decision session,
the first session whose close follows available_at: decide Tuesday close, fill Wednesday close, drift from
Thursday; nothing is earned by peeking at the panel earlier):
1. fresh_flow: net_flow > 0 in each of the last 3 weeks and < 0 in the 2 weeks before (so the week the streak
   reaches 3), with net_exposure percentile < 0.3 -> the sector's excess return over the live-sector equal
   weight gains `fresh_drift` (the others lose it pro rata, so the equal weight is unchanged).
2. crowding: net_exposure percentile >= 0.8 and BOOK gross_leverage percentile >= 0.8 -> each such
   sector-week adds `crowd_drift` < 0 to that sector's excess return (crowded sectors fall together).
3. degrossing: weekly change of BOOK gross_leverage <= -7 points -> every sector (hence SPY) drifts by
   `degross_drift` < 0, the baskets by beta times it.
4. squeeze: the same degrossing week -> MOST_SHORT beats HF_VIP by `squeeze_drift` (half on each).
Mean-neutral: every session of every asset also carries a constant compensation, minus the expected drift per
session (`_compensation`: the degrossing and squeeze drifts of an event times `DEGROSS_RATE`, 3.06 events a
year), so the unconditional expected return stays mu whatever the strengths. fresh_flow and crowding are
zero-sum across the live sectors in every session and need none. Being constant, the compensation predicts
nothing and leaves every conditional effect, and every rank IC, as defined. Without it the degrossing drift
cost SPY and the sectors about 1.9% a year at the default strength; with it, SPY over seeds 0-39 averages
7.34% at ic=0.03 and 7.36% at ic=0 (same seeds; paired difference over seeds 0-19: -0.01%, s.e. 0.06%).
A strength is the rank IC the mechanism adds to its signal (see `realised_ic`: pooled over the sector-weeks
where the signal is defined for 1-2, over weeks for 3-4, against the return over the drift window; magnitudes:
crowding and degrossing lower returns). Each drift = strength * a constant calibrated over 40 seeds so that
realised IC(seed, ic) - realised IC(seed, 0) averages the strength (0.0303, 0.0290, 0.0312, 0.0286 at 0.03,
s.e. 0.0006-0.0011). At the default 0.03 the fresh_flow realised IC is 0.028 on average (sd 0.009 over seeds,
every one of 40 seeds positive); a strategy that holds each fresh_flow sector against the equal weight over its
drift window has a mean Sharpe of about 0.4 before costs (sd 0.2 over seeds).

Calibration (seed 0 vs real Yahoo Adj Close 2000-01 -> 2025-09, weekly Friday returns):
    ticker  ann. vol real/syn  excess kurtosis real/syn  skew real/syn
    SPY       0.18 / 0.17           6.8 / 6.1            -0.62 / -0.86
    XLB       0.23 / 0.21           3.8 / 5.2            -0.17 / -0.97
    XLC       0.21 / 0.17           2.0 / 3.1            -0.39 / -0.26
    XLE       0.27 / 0.29           5.3 / 2.3            -0.60 /  0.03
    XLF       0.27 / 0.27          13.2 / 2.5             0.57 / -0.19
    XLI       0.21 / 0.19           5.2 / 5.3            -0.43 / -0.83
    XLK       0.24 / 0.21           2.8 / 4.0            -0.32 / -0.71
    XLP       0.14 / 0.15           5.2 / 4.6            -0.77 / -0.50
    XLRE      0.21 / 0.18          13.5 / 2.3            -0.13 / -0.56
    XLU       0.18 / 0.16           9.1 / 2.1            -0.48 / -0.25
    XLV       0.17 / 0.18           5.9 / 2.9            -0.70 / -0.40
    XLY       0.22 / 0.20           4.0 / 5.3             0.04 / -0.64
    mean pairwise weekly correlation of sectors: real 0.62, synthetic 0.60; 1-year rolling mean, 5th-95th
    percentile: real 0.34-0.82, synthetic 0.41-0.80. Volatility and correlation match well; the synthetic tails
    are thinner than the real XLF/XLRE/XLU ones (2008, 2020 are one-off events) and skew is more uniform.
    SPY mean return, daily, annualised arithmetic / CAGR: real 9.6% / 8.0% (one 26-year path); synthetic
    expected 8.0% / 6.4%, seed 0 at ic=0.03 3.3% / 1.8% (a -1.3 sd draw).
    Other seeds (1-19): sector vols 0.13-0.36, mean correlation 0.55-0.71.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from research.data.calendar import sessions
from research.data.market import MarketData, SourceInfo
from research.data.nb import (
    FlowParams,
    MarketParams,
    MechParams,
    factor_returns_nb,
    flows_nb,
    idio_vol_nb,
    log_ar1_scale_nb,
    market_factor_nb,
    prices_nb,
    regime_path_nb,
)
from research.data.panel import validate_panel
from research.data.portable_nb import log1p_nb
from research.data.prices import Prices
from research.data.universe import BASKET_MOST_SHORT, BASKET_VIP, BOOK, INCEPTION, MARKET, SECTOR_ETFS
from research.errors import ConfigError

SOURCE = "synthetic"
SECTOR_TICKERS: tuple[str, ...] = tuple(SECTOR_ETFS)
PRICE_COLUMNS: tuple[str, ...] = (MARKET, *SECTOR_TICKERS, BASKET_VIP, BASKET_MOST_SHORT)
MECHANISMS: tuple[str, ...] = ("fresh_flow", "crowding", "degrossing", "squeeze")
SECTOR_METRICS: tuple[tuple[str, str], ...] = (
    ("long_buys", "usd_mn"), ("long_sells", "usd_mn"), ("short_sales", "usd_mn"), ("short_covers", "usd_mn"),
    ("net_flow", "usd_mn"), ("net_exposure", "pct_book"), ("gross_exposure", "pct_book"), ("retail_flow", "usd_mn"),
)
BOOK_METRICS: tuple[tuple[str, str], ...] = (
    ("gross_leverage", "pct"), ("net_leverage", "pct"), ("long_short_ratio", "ratio"),
)
PUBLICATION_LAG = pd.Timedelta(days=4, hours=8)  # Friday as_of -> Tuesday 08:00
TRADING_DAYS = 252

#: Per sector ETF: market beta, idiosyncratic annual vol, first price, median daily volume, flow scale (usd_mn),
#: mean net exposure (pct_book), base share of gross exposure, weight in SPY.
SECTOR_SPEC: dict[str, tuple[float, float, float, float, float, float, float, float]] = {
    "XLB": (1.05, 0.105, 23.0, 5.4e6, 120.0, 1.0, 4.0, 0.03),
    "XLC": (1.10, 0.150, 50.0, 4.3e6, 250.0, 2.5, 10.0, 0.09),
    "XLE": (1.00, 0.195, 27.0, 1.8e7, 200.0, 1.5, 6.0, 0.05),
    "XLF": (1.25, 0.140, 28.0, 4.8e7, 300.0, 2.5, 12.0, 0.13),
    "XLI": (1.05, 0.070, 29.0, 1.0e7, 250.0, 2.0, 10.0, 0.09),
    "XLK": (1.12, 0.110, 56.0, 8.1e6, 400.0, 4.0, 20.0, 0.22),
    "XLP": (0.62, 0.110, 25.0, 1.1e7, 150.0, 0.5, 6.0, 0.07),
    "XLRE": (0.95, 0.150, 30.0, 4.1e6, 100.0, 0.5, 4.0, 0.03),
    "XLU": (0.55, 0.115, 31.0, 1.3e7, 100.0, 0.3, 4.0, 0.03),
    "XLV": (0.85, 0.095, 30.0, 8.6e6, 300.0, 3.0, 13.0, 0.13),
    "XLY": (1.05, 0.080, 32.0, 4.6e6, 250.0, 2.5, 11.0, 0.11),
}
SPY_START, SPY_VOLUME = 145.0, 7.6e7
BASKET_SPEC: dict[str, tuple[float, float]] = {BASKET_VIP: (1.05, 0.08), BASKET_MOST_SHORT: (1.30, 0.18)}
MU_ANNUAL = 0.08  # E[simple daily return] = MU_ANNUAL / 252 for every asset, every day (martingale in excess of it)
IDIO_POW = 0.25  # idiosyncratic vol scales as (market vol)^0.25: correlations rise in crises
IDIO_SV = (0.995, 0.45)  # daily AR(1) and stationary sd of each asset's log idiosyncratic-vol multiplier
OVERNIGHT_SHARE, OVERNIGHT_NOISE = 0.35, 0.45  # overnight = share * r + noise * sqrt(h) * z
G_TREND = (205.0, 250.0)  # gross leverage trend, first -> last week (pct)

MARKET_PARAMS = MarketParams(
    p_enter=1 / 300, p_exit=1 / 50,
    omega_calm=0.105**2 / TRADING_DAYS * 0.025, omega_crisis=0.28**2 / TRADING_DAYS * 0.025,
    alpha=0.01, gamma=0.15, beta=0.89,
    lam_calm=1 / 150, lam_crisis=1 / 25, jump_mean=0.035, jump_cap=4.0, jump_feed=0.5, h_max=0.08**2,
)
FLOW_PARAMS = FlowParams(
    theme_phi=0.85, theme_w=1.0, chase_w=0.5, chase_vol=0.035, noise_w=0.7, book_w=0.3,
    long_share=0.6, split_noise=0.3, turnover=1.5,
    ne_phi=0.95, ne_flow=0.12, ne_price=3.0, ne_noise=0.25, ge_phi=0.95, ge_noise=0.03,
    retail_hf=0.4, retail_price=0.3, retail_noise=1.0,
    g_phi=0.97, g_mkt=0.6, g_noise=0.012, shock_p=0.03, shock_mean=0.03,
    n_mean=57.0, n_phi=0.95, n_mkt=60.0, n_noise=1.5, n_shock=50.0,
)
#: Signal definitions, shared by the kernel and `planted_signals`.
DEFINITIONS: dict[str, Any] = {
    "k_pos": 3, "m_neg": 2, "pct_window": 156, "fresh_below": 0.3, "crowd_above": 0.8, "degross_drop": 7.0,
    "horizon_weeks": 4, "horizon_sessions": 20, "lag_sessions": 2,
}
#: Drift (total log return over the window) per unit of strength (target rank IC); calibrated over seeds.
DRIFT_PER_IC: dict[str, float] = {"fresh_flow": 0.35, "crowding": -0.04, "degrossing": -0.21, "squeeze": 0.26}
#: Expected degrossing (= squeeze) events per session, counting an event by the share of its 20-session window
#: inside the index: 3.06 a year (sd 0.43 over seeds 0-59 at the default strengths, so +-0.06 calibration error;
#: 3.05 at ic=0: the drifts barely feed back). `_compensation` spreads drift x rate evenly over every session.
DEGROSS_RATE = 3.06 / TRADING_DAYS
#: Default strength of each mechanism, in multiples of `ic`.
DEFAULT_MULTIPLE: dict[str, float] = {"fresh_flow": 1.0, "crowding": 1.0, "degrossing": 1.0, "squeeze": 1.0}

MECHANISM_TEXT: dict[str, str] = {
    "fresh_flow": (
        "Fresh net buying in an under-owned sector. Signal at week w (as_of Friday) for a sector: net_flow > 0 in "
        "weeks w, w-1, w-2 and net_flow < 0 in weeks w-3, w-4 (the week a buying streak reaches 3 after >= 2 "
        "selling weeks), and the percentile of net_exposure over its trailing 156 reported weeks (current week "
        "included, pandas rolling(156).rank(pct=True)) < 0.3. Effect: the sector's log return in excess of the "
        "equal-weight average of the live sector ETFs gains `drift` spread evenly over 20 sessions starting two "
        "sessions after the decision session (the first session on or after the Tuesday 08:00 release: decide "
        "Tuesday close, fill Wednesday close, earn from Thursday); the other live sectors give it up pro rata."
    ),
    "crowding": (
        "Crowded longs unwind together. Signal at week w for a sector: net_exposure percentile (156 weeks, as "
        "above) >= 0.8 and BOOK gross_leverage percentile (156 weeks) >= 0.8. Effect: every signalling "
        "sector-week adds `drift` (negative) to the sector's excess return over the same 20-session window; "
        "persistent crowding therefore accumulates, and crowded sectors fall together."
    ),
    "degrossing": (
        "De-grossing precedes market weakness. Signal at week w: BOOK gross_leverage(w) - gross_leverage(w-1) "
        "<= -7 percentage points. Effect: every sector (hence SPY) drifts by `drift` (negative, log) over the "
        "same 20-session window; HF_VIP and MOST_SHORT drift by their market beta times it. Every session of "
        "every sector also carries a constant `compensation` (log) = -drift x the expected number of degrossing "
        "events per session, so the mechanism moves the timing of returns, not their unconditional mean."
    ),
    "squeeze": (
        "Most-short squeeze after de-grossing. Signal: the degrossing signal above. Effect: MOST_SHORT gains "
        "half the drift and HF_VIP loses half over the same 20-session window: MOST_SHORT minus HF_VIP gains "
        "`drift`. The baskets' constant compensation offsets this drift's mean too (MOST_SHORT minus HF_VIP: "
        "zero on average)."
    ),
}


@dataclass(frozen=True)
class Truth:
    """What was planted: readable by tests and the tear sheet, never by a strategy.

    strengths: per mechanism, the rank IC it adds (0.0 when removed); mechanisms: one paragraph each (signal,
    horizon, lag, drift); params: the exact definitions and generator constants; signals: the signals the
    kernel acted on (as_of x sector, or as_of x BOOK), equal to `planted_signals` recomputed from the panel.
    """

    seed: int
    ic: float
    strengths: dict[str, float]
    mechanisms: dict[str, str]
    params: dict[str, Any]
    signals: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Weeks:
    """Friday-ending weeks of a session index: their sessions, as_of, available_at and decision session."""

    start: np.ndarray
    end: np.ndarray
    as_of: pd.DatetimeIndex
    available_at: pd.DatetimeIndex
    decision: np.ndarray


def _weeks(idx: pd.DatetimeIndex, last: pd.Timestamp) -> _Weeks:
    """Complete weeks (as_of Friday <= last) of `idx`, with positions of their first and last sessions."""
    period = idx.to_period("W-FRI")
    codes, uniques = pd.factorize(period)
    friday = pd.DatetimeIndex(uniques.end_time.normalize()).astype("datetime64[ns]")
    pos = np.arange(len(idx))
    start = pd.Series(pos).groupby(codes).min().to_numpy()
    end = pd.Series(pos).groupby(codes).max().to_numpy()
    keep = np.asarray(friday <= last)
    friday = friday[keep]
    available = friday + PUBLICATION_LAG
    decision = np.searchsorted(idx.to_numpy(), available.normalize().to_numpy(), side="left")
    return _Weeks(start[keep].astype(np.int64), end[keep].astype(np.int64),
                  pd.DatetimeIndex(friday.to_numpy(), name="as_of"), pd.DatetimeIndex(available.to_numpy()),
                  decision.astype(np.int64))


def _strengths(ic: float, overrides: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(overrides) - set(MECHANISMS))
    if unknown:
        raise ConfigError(f"make_market: unknown mechanism(s) {unknown}; known: {', '.join(MECHANISMS)}.")
    out = {k: float(DEFAULT_MULTIPLE[k] * ic) for k in MECHANISMS}
    out.update({k: float(v) for k, v in overrides.items()})
    return out


def _base_returns(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily log returns (11 sectors, 2 baskets) before drifts, market variance / its calm level, and the
    overnight and volume noise. Uses only the returns' random stream."""
    p = MARKET_PARAMS
    u_regime = rng.random(n)
    z_m = rng.standard_normal(n)
    u_jump = rng.random(n)
    x_jump = rng.standard_exponential(n)
    z_idio = rng.standard_normal((n, len(SECTOR_TICKERS) + 2))
    z_sv = rng.standard_normal((n, len(SECTOR_TICKERS) + 2))
    z_extra = rng.standard_normal((n, 2, len(PRICE_COLUMNS)))  # overnight noise, volume noise
    regime = regime_path_nb(u_regime, p.p_enter, p.p_exit)
    m, h, lam = market_factor_nb(z_m, u_jump, x_jump, regime, p)
    spec = [SECTOR_SPEC[t][:2] for t in SECTOR_TICKERS] + [BASKET_SPEC[b] for b in (BASKET_VIP, BASKET_MOST_SHORT)]
    beta = np.array([s[0] for s in spec])
    h_ref = p.omega_calm / (1.0 - p.alpha - 0.5 * p.gamma - p.beta)
    idio = idio_vol_nb(np.array([s[1] for s in spec]) / np.sqrt(TRADING_DAYS), h / h_ref, 0.5 * IDIO_POW,
                       log_ar1_scale_nb(z_sv, IDIO_SV[0], IDIO_SV[1]))
    mu = log1p_nb(MU_ANNUAL / TRADING_DAYS)  # E[exp(r)] = exp(mu) = 1 + MU_ANNUAL / 252
    base = factor_returns_nb(m, h, lam, p.jump_mean, p.jump_cap, z_idio, beta, idio, mu)
    return base, h / h_ref, z_extra


def _mech_params(strengths: dict[str, float]) -> MechParams:
    d = DEFINITIONS
    return MechParams(
        k_pos=d["k_pos"], m_neg=d["m_neg"], pct_window=d["pct_window"], fresh_below=d["fresh_below"],
        crowd_above=d["crowd_above"], degross_drop=d["degross_drop"], horizon=d["horizon_sessions"],
        lag=d["lag_sessions"],
        fresh_drift=DRIFT_PER_IC["fresh_flow"] * strengths["fresh_flow"],
        crowd_drift=DRIFT_PER_IC["crowding"] * strengths["crowding"],
        degross_drift=DRIFT_PER_IC["degrossing"] * strengths["degrossing"],
        squeeze_drift=DRIFT_PER_IC["squeeze"] * strengths["squeeze"],
    )


def _compensation(mech: MechParams) -> np.ndarray:
    """Constant log return per session of each asset (11 sectors, HF_VIP, MOST_SHORT) that offsets the expected
    planted drift: minus (drift per event) x (expected events per session).

    Degrossing moves every sector by `degross_drift` and the baskets by beta times it, squeeze moves the baskets
    by -/+ half of `squeeze_drift`: both are compensated at the calibrated event rate `DEGROSS_RATE`. fresh_flow
    and crowding are zero-sum across the live sectors in every session (the equal weight is untouched), so they
    need none (their SPY-weighted mean effect at the default strengths is about -0.01% a year). Added to every
    session, the compensation is not predictable from anything: it restores E[simple daily return] = mu / 252
    without moving any conditional effect (exp(d) ~ 1 + d: the convexity term is below 1e-8 a session).
    """
    beta = np.array([BASKET_SPEC[BASKET_VIP][0], BASKET_SPEC[BASKET_MOST_SHORT][0]])
    per_event = np.concatenate([np.full(len(SECTOR_TICKERS), mech.degross_drift),
                                beta * mech.degross_drift + np.array([-0.5, 0.5]) * mech.squeeze_drift])
    return -per_event * DEGROSS_RATE + 0.0  # + 0.0: no negative zeros when every strength is 0


def _prices(idx: pd.DatetimeIndex, ret: np.ndarray, vol_ratio: np.ndarray, z_extra: np.ndarray) -> Prices:
    """Close, open and volume frames from daily log returns [T, 13] (sectors, baskets); SPY mixes the sectors."""
    spy_w = np.array([SECTOR_SPEC[t][7] for t in SECTOR_TICKERS])
    first = np.array([SPY_START] + [SECTOR_SPEC[t][2] for t in SECTOR_TICKERS] + [100.0, 100.0])
    median_volume = np.array([SPY_VOLUME] + [SECTOR_SPEC[t][3] for t in SECTOR_TICKERS] + [np.nan, np.nan])
    inception = np.array([np.searchsorted(idx, INCEPTION.get(c, idx[0])) for c in PRICE_COLUMNS], dtype=np.int64)
    p = MARKET_PARAMS
    h_ref = p.omega_calm / (1.0 - p.alpha - 0.5 * p.gamma - p.beta)
    close, open_, volume = prices_nb(ret, spy_w / spy_w.sum(), first, median_volume, inception, vol_ratio, h_ref,
                                     z_extra, OVERNIGHT_SHARE, OVERNIGHT_NOISE)
    close_f, open_f, volume_f = (pd.DataFrame(a, index=idx, columns=list(PRICE_COLUMNS))
                                 for a in (close, open_, volume))
    notes = ("synthetic: HF_VIP and MOST_SHORT are basket indices without volume (NaN)",)
    return Prices(close_f, open_f, volume_f, SOURCE, notes)


def _panel(weeks: _Weeks, sector: np.ndarray, book: np.ndarray, live: np.ndarray) -> pd.DataFrame:
    """Long point-in-time panel from the kernel's weekly arrays (sectors only where live)."""
    parts = []
    names = list(SECTOR_ETFS.values())
    for j, (metric, units) in enumerate(SECTOR_METRICS):
        for i, ent in enumerate(names):
            keep = live[:, i]
            parts.append((weeks.as_of[keep], weeks.available_at[keep], ent, metric, sector[keep, i, j], units))
    for j, (metric, units) in enumerate(BOOK_METRICS):
        parts.append((weeks.as_of, weeks.available_at, BOOK, metric, book[:, j], units))
    size = [len(p[4]) for p in parts]
    df = pd.DataFrame({
        "as_of": np.concatenate([p[0].to_numpy() for p in parts]),
        "available_at": np.concatenate([p[1].to_numpy() for p in parts]),
        "entity": np.repeat([p[2] for p in parts], size),
        "metric": np.repeat([p[3] for p in parts], size),
        "value": np.concatenate([p[4] for p in parts]),
        "source": SOURCE,
        "units": np.repeat([p[5] for p in parts], size),
    })
    return validate_panel(df, name="synthetic panel")


def _signals(weeks: _Weeks, sig: np.ndarray) -> dict[str, pd.DataFrame]:
    """The kernel's signals as boolean frames on as_of: sectors for fresh_flow/crowding, BOOK for the others."""
    names = list(SECTOR_ETFS.values())
    out = {}
    for j, mech in enumerate(MECHANISMS):
        if j < 2:
            out[mech] = pd.DataFrame(sig[:, :, j], index=weeks.as_of, columns=names)
        else:
            out[mech] = pd.DataFrame({BOOK: sig[:, 0, j]}, index=weeks.as_of)
    return out


#: The modules whose code shapes a market: a change to any of them is a new on-disk cache key.
_MARKET_MODULES = ("research.data.synthetic", "research.data.nb", "research.data.portable_nb", "research.data.calendar",
                   "research.data.universe", "research.data.panel", "research.data.prices", "research.data.market")


@lru_cache(maxsize=32)
def make_market(seed: int = 0, ic: float = 0.03, *, start: str | pd.Timestamp = "2000-01-03",
                end: str | pd.Timestamp = "2025-12-31", **strengths: float) -> MarketData:
    """The synthetic market for `seed`: prices, the weekly prime-book panel and the planted `Truth`.

    `ic` scales every mechanism's default strength (ic=0 removes every edge); a keyword per mechanism
    (fresh_flow, crowding, degrossing, squeeze) overrides its strength. Cached in memory and on disk
    (`research.data.cache`, keyed by the arguments and the code of `_MARKET_MODULES`): treat the result as
    read-only. `make_market.__wrapped__` (= `build_market`) builds from scratch, bypassing both caches.
    """
    from research.data.cache import cached

    key = (seed, ic, start, end, tuple(sorted(strengths.items())))  # repr-exact: seed=0 and seed=0.0 differ
    return cached("market", key, _MARKET_MODULES,
                  lambda: build_market(seed, ic, start=start, end=end, **strengths), keep=6)


def build_market(seed: int = 0, ic: float = 0.03, *, start: str | pd.Timestamp = "2000-01-03",
                 end: str | pd.Timestamp = "2025-12-31", **strengths: float) -> MarketData:
    """`make_market` without its caches: the market built from the seed."""
    strength = _strengths(ic, strengths)
    idx = sessions(start, end)
    if len(idx) < 2:
        raise ConfigError(f"make_market: no NYSE sessions between {start} and {end}; give a wider range.")
    weeks = _weeks(idx, pd.Timestamp(end))
    if len(weeks.as_of) == 0:
        raise ConfigError(f"make_market: {start} -> {end} holds no complete Friday-ending week; give a wider range.")
    ret_seq, flow_seq = np.random.SeedSequence(int(seed)).spawn(2)
    ret_rng, flow_rng = np.random.default_rng(ret_seq), np.random.default_rng(flow_seq)
    base, vol_ratio, z_extra = _base_returns(ret_rng, len(idx))
    n_w, n_s = len(weeks.as_of), len(SECTOR_TICKERS)
    zs = flow_rng.standard_normal((n_w, n_s, 8))
    zb = np.column_stack([flow_rng.standard_normal((n_w, 2)), flow_rng.random(n_w), flow_rng.standard_exponential(n_w)])
    live = np.column_stack([weeks.as_of >= INCEPTION.get(t, weeks.as_of[0]) for t in SECTOR_TICKERS])
    spec = np.array([SECTOR_SPEC[t] for t in SECTOR_TICKERS])
    spy_w = spec[:, 7] / spec[:, 7].sum()
    basket_beta = np.array([BASKET_SPEC[BASKET_VIP][0], BASKET_SPEC[BASKET_MOST_SHORT][0]])
    g_trend = np.linspace(G_TREND[0], G_TREND[1], n_w)
    mech = _mech_params(strength)
    comp = _compensation(mech)
    sector, book, sig, _, ret = flows_nb(
        base, spy_w, basket_beta, weeks.start, weeks.end, weeks.decision, live,
        spec[:, 4].copy(), spec[:, 5].copy(), spec[:, 6].copy(), g_trend, zs, zb, FLOW_PARAMS, mech, comp,
    )
    prices = _prices(idx, ret, vol_ratio, z_extra)
    panel = _panel(weeks, sector, book, live)
    extra = "".join(f", {k}={v}" for k, v in strengths.items())
    if pd.Timestamp(start) != pd.Timestamp("2000-01-03") or pd.Timestamp(end) != pd.Timestamp("2025-12-31"):
        extra += f", {pd.Timestamp(start).date()}..{pd.Timestamp(end).date()}"
    params = {
        **{k: dict(v) for k, v in _definition_params(mech).items()},
        "market": MARKET_PARAMS._asdict(), "flows": FLOW_PARAMS._asdict(),
        "sector_spec": dict(SECTOR_SPEC), "basket_spec": dict(BASKET_SPEC), "mu_annual": MU_ANNUAL,
        "compensation_per_session": dict(zip(PRICE_COLUMNS[1:], comp.tolist(), strict=True)),
        "degross_rate_per_session": DEGROSS_RATE,
    }
    drifts = {"fresh_flow": mech.fresh_drift, "crowding": mech.crowd_drift, "degrossing": mech.degross_drift,
              "squeeze": mech.squeeze_drift}
    texts = {k: MECHANISM_TEXT[k].replace("`drift`", f"drift = {drifts[k]:+.5f}")
             .replace("`compensation`", f"compensation = {comp[0]:+.7f} a session") for k in MECHANISMS}
    truth = Truth(int(seed), float(ic), strength, texts, params, _signals(weeks, sig))
    sources = (
        SourceInfo("synthetic prices", "prices", idx[0], idx[-1], len(idx), int(prices.close.isna().sum().sum()),
                   "close known at the session close; NaN before an ETF's inception",
                   f"seed {seed}; {', '.join(PRICE_COLUMNS)}"),
        SourceInfo("synthetic prime book", "panel", weeks.as_of[0], weeks.as_of[-1], len(panel), 0,
                   "weekly, as_of Friday; available_at the following Tuesday 08:00 New York",
                   "sectors from their ETF's inception (XLRE 2015-10-08, XLC 2018-06-19); BOOK leverage"),
    )
    return MarketData(prices, panel, f"synthetic(seed={seed}, ic={ic}{extra})", synthetic=True, truth=truth,
                      sources=sources)


make_market.__wrapped__ = build_market  # type: ignore[attr-defined]


def _definition_params(mech: MechParams) -> dict[str, dict[str, Any]]:
    """Truth.params per mechanism: the exact signal definition, horizon, lag and drift."""
    d = DEFINITIONS
    timing = {"horizon_weeks": d["horizon_weeks"], "horizon_sessions": d["horizon_sessions"],
              "lag_sessions_after_decision": d["lag_sessions"],
              "available_at": "as_of Friday + 4 days 08:00 (Tuesday)",
              "decision_session": "first session on or after the available_at date",
              "percentile": f"pandas Series.rolling({d['pct_window']}).rank(pct=True) over reported weeks"}
    return {
        "fresh_flow": {"metric": "net_flow", "k_pos": d["k_pos"], "m_neg": d["m_neg"],
                       "exposure_metric": "net_exposure", "pct_window": d["pct_window"],
                       "pct_below": d["fresh_below"], "target": "excess log return vs live-sector equal weight",
                       "drift": mech.fresh_drift, "drift_per_ic": DRIFT_PER_IC["fresh_flow"], **timing},
        "crowding": {"exposure_metric": "net_exposure", "leverage_metric": "gross_leverage",
                     "pct_window": d["pct_window"], "pct_at_or_above": d["crowd_above"],
                     "target": "excess log return vs live-sector equal weight",
                     "drift": mech.crowd_drift, "drift_per_ic": DRIFT_PER_IC["crowding"], **timing},
        "degrossing": {"metric": "gross_leverage", "weekly_change_at_or_below": -d["degross_drop"],
                       "target": "log return of every sector and SPY; baskets beta times it",
                       "drift": mech.degross_drift, "drift_per_ic": DRIFT_PER_IC["degrossing"], **timing},
        "squeeze": {"metric": "gross_leverage", "weekly_change_at_or_below": -d["degross_drop"],
                    "target": "MOST_SHORT minus HF_VIP log return",
                    "drift": mech.squeeze_drift, "drift_per_ic": DRIFT_PER_IC["squeeze"], **timing},
    }


def planted_signals(data: MarketData) -> dict[str, pd.DataFrame]:
    """The four planted signals recomputed from the panel with pandas (as_of x sector, or as_of x BOOK).

    Uses only panel values, so it is what a strategy could compute; tests check it equals `Truth.signals`.
    """
    d = DEFINITIONS
    flow = _wide(data.panel, "net_flow")
    ne = _wide(data.panel, "net_exposure")
    gross = _wide(data.panel, "gross_leverage")[BOOK]
    idx = gross.index
    flow, ne = flow.reindex(idx), ne.reindex(idx)
    pct = ne.apply(lambda s: _rolling_pct(s, d["pct_window"]))
    g_pct = _rolling_pct(gross, d["pct_window"])
    fresh = pct < d["fresh_below"]
    for v in range(d["k_pos"] + d["m_neg"]):
        lagged = flow.shift(v)
        fresh &= (lagged > 0) if v < d["k_pos"] else (lagged < 0)
    crowd = (pct >= d["crowd_above"]) & (g_pct >= d["crowd_above"]).to_numpy()[:, None]
    degross = (gross.diff() <= -d["degross_drop"]).to_frame(BOOK)
    names = list(SECTOR_ETFS.values())
    return {"fresh_flow": fresh[names], "crowding": crowd[names], "degrossing": degross, "squeeze": degross.copy()}


def _wide(panel: pd.DataFrame, metric: str) -> pd.DataFrame:
    """as_of x entity frame of one metric (one vintage per as_of in the synthetic panel)."""
    return panel[panel["metric"] == metric].pivot(index="as_of", columns="entity", values="value")


def _rolling_pct(s: pd.Series, window: int) -> pd.Series:
    """Rolling percentile over the reported (non-NaN) values only, realigned to the full index."""
    obs = s.dropna()
    return obs.rolling(window).rank(pct=True).reindex(s.index)


def drift_window_returns(data: MarketData) -> pd.DataFrame:
    """Per as_of week, each asset's log return over its drift window (as_of x price columns; NaN past the end).

    The window is the one a planted drift of that week occupies: from the close of decision + lag - 1 (the
    fill) to the close `horizon_sessions` later; the decision session is the first session on or after the
    available_at date.
    """
    d = DEFINITIONS
    idx = data.index
    as_of = pd.DatetimeIndex(sorted(data.panel["as_of"].unique()))
    decision = np.searchsorted(idx.to_numpy(), (as_of + PUBLICATION_LAG).normalize().to_numpy(), side="left")
    t0 = decision + d["lag_sessions"] - 1
    t1 = t0 + d["horizon_sessions"]
    ok = t1 < len(idx)
    logp = np.log(data.prices.close.to_numpy())
    out = np.full((len(as_of), logp.shape[1]), np.nan)
    out[ok] = logp[t1[ok]] - logp[t0[ok]]
    return pd.DataFrame(out, index=pd.DatetimeIndex(as_of, name="as_of"), columns=data.prices.close.columns)


def realised_ic(data: MarketData) -> dict[str, float]:
    """Realised rank IC of each planted signal against the return its mechanism moves, over its drift window.

    fresh_flow and crowding: pooled over sector-weeks where the signal is defined (156 reported weeks), against
    the excess log return over the live-sector equal weight; degrossing: over weeks, against SPY; squeeze:
    against MOST_SHORT minus HF_VIP. The planted strengths are targets for these numbers (crowding's and
    degrossing's realised ICs are negative: the effect is a fall).
    """
    from scipy.stats import spearmanr

    sig = planted_signals(data)
    fwd = drift_window_returns(data)
    sectors = fwd[list(SECTOR_TICKERS)]
    excess = sectors.sub(sectors.mean(axis=1), axis=0)
    excess.columns = list(SECTOR_ETFS.values())
    reported = _wide(data.panel, "net_exposure")
    eligible = reported.reindex(fwd.index).notna().cumsum() >= DEFINITIONS["pct_window"]

    def ic(x: pd.DataFrame | pd.Series, y: pd.DataFrame | pd.Series, ok: pd.DataFrame | pd.Series) -> float:
        pair = pd.DataFrame({"x": np.ravel(x.to_numpy(dtype=float)), "y": np.ravel(y.to_numpy()),
                             "ok": np.ravel(ok.to_numpy())})
        pair = pair[pair["ok"]].dropna()
        return float(spearmanr(pair["x"], pair["y"])[0]) if pair["x"].nunique() > 1 else float("nan")

    names = list(SECTOR_ETFS.values())
    out = {m: ic(sig[m][names], excess[names], eligible[names]) for m in ("fresh_flow", "crowding")}
    weeks_ok = pd.Series(np.arange(len(fwd)) >= 1, index=fwd.index)
    out["degrossing"] = ic(sig["degrossing"][BOOK], fwd[MARKET], weeks_ok)
    out["squeeze"] = ic(sig["squeeze"][BOOK], fwd[BASKET_MOST_SHORT] - fwd[BASKET_VIP], weeks_ok)
    return out
