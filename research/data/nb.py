"""Numba kernels of the synthetic market (see `research.data.synthetic` for the model and its calibration).

Plain NumPy in, plain NumPy out, no pandas. Random numbers are drawn outside (so the kernels are pure and the
return drivers and the flow drivers come from independent streams); parameters arrive as small NamedTuples.

Transcendental math goes through `research.data.portable_nb` (never NumPy's or libm's exp/log, whose last bits
depend on the CPU's SIMD and FMA support), so a seed gives the same market, bit for bit, on any machine.

Row conventions: `t` indexes sessions, `w` weeks (Friday-ending), `i` the 11 sectors in `universe.SECTOR_ETFS`
order; the return matrix has the 11 sectors then the two baskets (HF_VIP, MOST_SHORT).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from research.data.portable_nb import exp_nb, expm1_nb, log1p_nb, log_nb, pow_nb


class MarketParams(NamedTuple):
    """Regime chain, GJR-GARCH(1,1) of the market factor and its downside jumps (daily units)."""

    p_enter: float  # P(calm -> crisis) per session
    p_exit: float  # P(crisis -> calm) per session
    omega_calm: float  # GARCH intercept in calm
    omega_crisis: float  # GARCH intercept in crisis
    alpha: float  # ARCH term
    gamma: float  # extra ARCH term on down moves (GJR leverage effect)
    beta: float  # GARCH persistence
    lam_calm: float  # daily jump probability in calm
    lam_crisis: float  # daily jump probability in crisis
    jump_mean: float  # scale of a downside jump (log return): jump_mean * min(Exp(1), jump_cap)
    jump_cap: float  # jump size cap, in units of jump_mean
    jump_feed: float  # weight of a jump in the GARCH shock (1 = like any return)
    h_max: float  # cap on the daily variance


class FlowParams(NamedTuple):
    """Prime-book flow, exposure and leverage dynamics (weekly units; flows in multiples of a sector's scale)."""

    theme_phi: float  # AR(1) of each sector's flow theme (makes buying/selling streaks)
    theme_w: float  # weight of the theme in net flow
    chase_w: float  # weight of the trailing 4-week excess return z-score (flows chase returns)
    chase_vol: float  # nominal sd of a 4-week excess log return, to standardise the chase
    noise_w: float  # weight of white noise in net flow
    book_w: float  # weight of the book-wide flow (weekly change of net leverage, standardised)
    long_share: float  # share of net flow done on the long side
    split_noise: float  # noise of the long/short split
    turnover: float  # gross activity of each long leg (short legs: 0.6 of it)
    ne_phi: float  # AR(1) of net exposure around its sector mean
    ne_flow: float  # net exposure change (pct_book) per unit of standardised net flow
    ne_price: float  # net exposure change per unit of weekly excess log return (price drift of positions)
    ne_noise: float
    ge_phi: float  # AR(1) of log gross-exposure weights
    ge_noise: float
    retail_hf: float  # retail flow against hedge-fund flow (contrarian)
    retail_price: float  # retail flow against last week's excess return (buys dips)
    retail_noise: float
    g_phi: float  # AR(1) of log gross leverage around its trend
    g_mkt: float  # log gross leverage change per unit of weekly SPY log return
    g_noise: float
    shock_p: float  # weekly probability of a de-grossing shock
    shock_mean: float  # mean size of a shock (exponential, log gross leverage)
    n_mean: float  # mean net leverage (pct)
    n_phi: float
    n_mkt: float  # net leverage change (pct) per unit of weekly SPY log return
    n_noise: float
    n_shock: float  # net leverage change (pct) per unit of log gross shock


class MechParams(NamedTuple):
    """Definitions and sizes of the planted mechanisms (see `synthetic.Truth.params`)."""

    k_pos: int  # fresh_flow: last k weeks of net_flow > 0 ...
    m_neg: int  # ... right after m weeks of net_flow < 0
    pct_window: int  # trailing weeks of the percentiles (current week included)
    fresh_below: float  # fresh_flow: net_exposure percentile strictly below this
    crowd_above: float  # crowding: net_exposure and gross_leverage percentiles at or above this
    degross_drop: float  # degrossing/squeeze: weekly change of gross_leverage at or below -degross_drop
    horizon: int  # sessions over which a planted drift is spread
    lag: int  # first drifted session = decision session + lag
    fresh_drift: float  # total excess log return per fresh_flow event
    crowd_drift: float  # total excess log return per crowded sector-week (negative)
    degross_drift: float  # total log return of every sector per degrossing week (negative)
    squeeze_drift: float  # total MOST_SHORT minus HF_VIP log return per degrossing week


@njit(cache=True)
def regime_path_nb(u: np.ndarray, p_enter: float, p_exit: float) -> np.ndarray:
    """Calm (0) / crisis (1) Markov chain; the first state is drawn from the stationary distribution."""
    n = u.shape[0]
    out = np.empty(n, dtype=np.int8)
    if n == 0:
        return out
    s = 1 if u[0] < p_enter / (p_enter + p_exit) else 0
    out[0] = s
    for t in range(1, n):
        if s == 0:
            s = 1 if u[t] < p_enter else 0
        else:
            s = 0 if u[t] < p_exit else 1
        out[t] = s
    return out


@njit(cache=True)
def market_factor_nb(
    z: np.ndarray, u_jump: np.ndarray, x_jump: np.ndarray, regime: np.ndarray, p: MarketParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Market factor shocks m (log, no mean), their GJR-GARCH variance h and the jump probability lam per session.

    m = sqrt(h) z + J, J = -jump_mean * min(Exp(1), jump_cap) with probability lam (higher in crisis); h reacts
    to the demeaned shock (jumps weighted by jump_feed), more to falls than to rises, so volatility clusters and
    skew is negative.
    """
    n = z.shape[0]
    m = np.empty(n)
    h = np.empty(n)
    lam = np.empty(n)
    persist = p.alpha + 0.5 * p.gamma + p.beta
    eps = 0.0
    mean_size = p.jump_mean * (1.0 - exp_nb(-p.jump_cap))
    for t in range(n):
        crisis = regime[t] == 1
        omega = p.omega_crisis if crisis else p.omega_calm
        lam[t] = p.lam_crisis if crisis else p.lam_calm
        if t == 0:
            h[t] = omega / (1.0 - persist)
        else:
            a = p.alpha + (p.gamma if eps < 0.0 else 0.0)
            h[t] = min(omega + a * eps * eps + p.beta * h[t - 1], p.h_max)
        jump = -p.jump_mean * min(x_jump[t], p.jump_cap) if u_jump[t] < lam[t] else 0.0
        m[t] = np.sqrt(h[t]) * z[t] + jump
        eps = np.sqrt(h[t]) * z[t] + p.jump_feed * (jump + lam[t] * mean_size)
    return m, h, lam


@njit(cache=True)
def log_ar1_scale_nb(z: np.ndarray, phi: float, sd: float) -> np.ndarray:
    """exp(v - sd^2) of a stationary AR(1) v (stationary sd `sd`) per column: a slow volatility multiplier, E[.^2]=1."""
    n, k = z.shape
    out = np.empty((n, k))
    innov = sd * np.sqrt(1.0 - phi * phi)
    for j in range(k):
        v = sd * z[0, j]
        out[0, j] = exp_nb(v - sd * sd)
        for t in range(1, n):
            v = phi * v + innov * z[t, j]
            out[t, j] = exp_nb(v - sd * sd)
    return out


@njit(cache=True)
def factor_returns_nb(
    m: np.ndarray, h: np.ndarray, lam: np.ndarray, jump_mean: float, jump_cap: float,
    z: np.ndarray, beta: np.ndarray, idio: np.ndarray, mu: float,
) -> np.ndarray:
    """Daily log returns r[t, k] = mu + beta_k m_t + idio_tk z_tk - c_tk of assets on the market factor.

    idio[t, k] is the idiosyncratic daily vol. c_tk is the martingale correction: E[exp(r) | past, regime,
    vols] = exp(mu) exactly, so expected simple returns are constant and nothing observable predicts them.
    """
    n, k = z.shape
    out = np.empty((n, k))
    for t in range(n):
        for j in range(k):
            s = idio[t, j]
            b = beta[j]
            a = 1.0 + b * jump_mean  # E[exp(-b jump_mean min(X, cap))], X ~ Exp(1)
            tail = exp_nb(-a * jump_cap)
            jump_mgf = 1.0 - lam[t] + lam[t] * ((1.0 - tail) / a + tail)
            comp = 0.5 * (b * b * h[t] + s * s) + log_nb(jump_mgf)
            out[t, j] = mu + b * m[t] + s * z[t, j] - comp
    return out


@njit(cache=True)
def rolling_pct_rank_nb(x: np.ndarray, end: int, window: int) -> float:
    """Percentile of x[end] among x[end-window+1 .. end]: average rank of ties / window (pandas' rolling rank).

    Equals `pd.Series(x).rolling(window).rank(pct=True)` at `end`; NaN when the window starts before 0.
    """
    start = end - window + 1
    if start < 0:
        return np.nan
    v = x[end]
    less = 0
    equal = 0
    for j in range(start, end + 1):
        if x[j] < v:
            less += 1
        elif x[j] == v:
            equal += 1
    return (less + 0.5 * (equal + 1)) / window


@njit(cache=True)
def _add_relative(drift: np.ndarray, t0: int, t1: int, i: int, live: np.ndarray, per_session: float) -> None:
    """Add `per_session` to sector i and -per_session/(n_live - 1) to the other live sectors on sessions [t0, t1).

    The equal-weight average of live sectors is unchanged, so sector i's excess return gains exactly the drift.
    """
    n_live = 0
    for j in range(live.shape[0]):
        if live[j]:
            n_live += 1
    if n_live < 2:
        return
    other = -per_session / (n_live - 1)
    for t in range(t0, t1):
        for j in range(live.shape[0]):
            if j == i:
                drift[t, j] += per_session
            elif live[j]:
                drift[t, j] += other


@njit(cache=True)
def flows_nb(
    base: np.ndarray, spy_w: np.ndarray, basket_beta: np.ndarray,
    week_start: np.ndarray, week_end: np.ndarray, decision: np.ndarray, live: np.ndarray,
    scale: np.ndarray, ne_mean: np.ndarray, ge_base: np.ndarray, g_trend: np.ndarray,
    zs: np.ndarray, zb: np.ndarray, fp: FlowParams, mp: MechParams, comp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate the prime book week by week and plant the mechanisms' drifts in the returns.

    base[t, 13]: log returns before drifts (11 sectors, HF_VIP, MOST_SHORT). Week w spans sessions
    week_start[w]..week_end[w]; its data is public before the close of session decision[w] (may be >= T);
    live[w, i] says whether sector i is reported that week. zs[w, i, 8] and zb[w, 4] are the flow drivers.
    comp[13]: a constant log return added to every session of each asset, the unconditional compensation that
    keeps the mechanisms mean-neutral (zeros when every strength is 0).

    Each week: read the realised returns of the week (drifts included: they were planted by earlier weeks),
    update flows, exposures and leverage, evaluate the four signals on those (public) values, and add each
    signal's drift to sessions decision[w] + lag onward, i.e. strictly after the first possible fill.

    Returns (sector[W, 11, 8], book[W, 3], signals[W, 11, 4], drift[T, 13] (compensation included),
    returns[T, 13]); sector metrics are (long_buys, long_sells, short_sales, short_covers, net_flow,
    net_exposure, gross_exposure, retail_flow), book metrics (gross_leverage, net_leverage, long_short_ratio), signals (fresh_flow, crowding, degrossing,
    squeeze); the degrossing and squeeze flags are repeated across sectors.
    """
    n_t, n_a = base.shape
    n_w = week_end.shape[0]
    n_s = scale.shape[0]
    drift = np.empty((n_t, n_a))
    for t in range(n_t):
        for a in range(n_a):
            drift[t, a] = comp[a]  # constant compensation; conditional drifts are added on top
    ret = np.empty((n_t, n_a))
    sector = np.full((n_w, n_s, 8), np.nan)
    book = np.empty((n_w, 3))
    sig = np.zeros((n_w, n_s, 4), dtype=np.bool_)
    wk_ex = np.zeros((n_w, n_s))  # weekly excess log returns
    ne_hist = np.zeros((n_w, n_s))
    theme = np.zeros(n_s)
    ne_x = np.zeros(n_s)
    ge_x = np.zeros(n_s)
    g_y = 0.0
    n_x = 0.0
    prev_n = fp.n_mean
    per = 1.0 / mp.horizon
    for w in range(n_w):
        # realised returns of the week (drifts on these sessions come from earlier weeks only)
        spy_log = 0.0
        wk = np.zeros(n_s)
        for t in range(week_start[w], week_end[w] + 1):
            spy_simple = 0.0
            for a in range(n_a):
                ret[t, a] = base[t, a] + drift[t, a]
            for i in range(n_s):
                spy_simple += spy_w[i] * (exp_nb(ret[t, i]) - 1.0)
                wk[i] += ret[t, i]
            spy_log += log1p_nb(spy_simple)
        n_live = 0
        avg = 0.0
        for i in range(n_s):
            if live[w, i]:
                n_live += 1
                avg += wk[i]
        avg = avg / n_live if n_live > 0 else 0.0
        for i in range(n_s):
            wk_ex[w, i] = wk[i] - avg

        # book: gross leverage (log AR(1) around a trend, hit by markets and de-grossing shocks), net leverage
        shock = -fp.shock_mean * zb[w, 3] if zb[w, 2] < fp.shock_p else 0.0
        g_y = fp.g_phi * g_y + fp.g_mkt * spy_log + fp.g_noise * zb[w, 0] + shock
        n_x = fp.n_phi * n_x + fp.n_mkt * spy_log + fp.n_noise * zb[w, 1] + fp.n_shock * shock
        gross = g_trend[w] * exp_nb(g_y)
        net = fp.n_mean + n_x
        book[w, 0] = gross
        book[w, 1] = net
        book[w, 2] = (gross + net) / (gross - net)
        book_flow = (net - prev_n) / fp.n_noise
        prev_n = net

        # sector flows, legs, exposures, retail
        ge_sum = 0.0
        for i in range(n_s):
            ge_x[i] = fp.ge_phi * ge_x[i] + fp.ge_noise * zs[w, i, 6]
            if live[w, i]:
                ge_sum += ge_base[i] * exp_nb(ge_x[i])
        for i in range(n_s):
            theme[i] = fp.theme_phi * theme[i] + np.sqrt(1.0 - fp.theme_phi * fp.theme_phi) * zs[w, i, 0]
            ex4 = 0.0
            for v in range(max(0, w - 3), w + 1):
                ex4 += wk_ex[v, i]
            target = (fp.theme_w * theme[i] + fp.chase_w * ex4 / fp.chase_vol
                      + fp.noise_w * zs[w, i, 1] + fp.book_w * book_flow)
            long_net = fp.long_share * target + fp.split_noise * zs[w, i, 2]
            short_net = target - long_net
            t_long = fp.turnover * exp_nb(0.25 * zs[w, i, 3])
            t_short = 0.6 * fp.turnover * exp_nb(0.25 * zs[w, i, 4])
            lb = scale[i] * (t_long + max(long_net, 0.0))
            ls = -scale[i] * (t_long + max(-long_net, 0.0))
            ss = -scale[i] * (t_short + max(-short_net, 0.0))
            sc = scale[i] * (t_short + max(short_net, 0.0))
            flow = lb + ls + ss + sc
            ne_x[i] = (fp.ne_phi * ne_x[i] + fp.ne_flow * flow / scale[i] + fp.ne_price * wk_ex[w, i]
                       + fp.ne_noise * zs[w, i, 5])
            ne = ne_mean[i] + ne_x[i]
            ne_hist[w, i] = ne
            retail = scale[i] * (-fp.retail_hf * flow / scale[i] - fp.retail_price * wk_ex[w, i] / fp.chase_vol
                                 + fp.retail_noise * zs[w, i, 7])
            if live[w, i]:
                sector[w, i, 0] = lb
                sector[w, i, 1] = ls
                sector[w, i, 2] = ss
                sector[w, i, 3] = sc
                sector[w, i, 4] = flow
                sector[w, i, 5] = ne
                sector[w, i, 6] = 100.0 * ge_base[i] * exp_nb(ge_x[i]) / ge_sum
                sector[w, i, 7] = retail

        # signals, from this week's public values only
        g_pct = rolling_pct_rank_nb(book[:, 0], w, mp.pct_window)
        degross = w >= 1 and book[w, 0] - book[w - 1, 0] <= -mp.degross_drop
        n_hist = mp.k_pos + mp.m_neg
        for i in range(n_s):
            sig[w, i, 2] = degross
            sig[w, i, 3] = degross
            first = w - mp.pct_window + 1
            if first < 0 or not live[first, i]:
                continue  # percentiles need pct_window reported weeks (live is monotone)
            pct = rolling_pct_rank_nb(ne_hist[:, i], w, mp.pct_window)
            fresh = pct < mp.fresh_below and n_hist <= mp.pct_window
            for v in range(n_hist):
                f = sector[w - v, i, 4]
                fresh = fresh and (f > 0.0 if v < mp.k_pos else f < 0.0)
            sig[w, i, 0] = fresh
            sig[w, i, 1] = pct >= mp.crowd_above and g_pct >= mp.crowd_above

        # plant drifts on sessions [decision + lag, decision + lag + horizon)
        t0 = decision[w] + mp.lag
        if t0 >= n_t:
            continue
        t1 = min(t0 + mp.horizon, n_t)
        for i in range(n_s):
            if sig[w, i, 0] and mp.fresh_drift != 0.0:
                _add_relative(drift, t0, t1, i, live[w], mp.fresh_drift * per)
            if sig[w, i, 1] and mp.crowd_drift != 0.0:
                _add_relative(drift, t0, t1, i, live[w], mp.crowd_drift * per)
        if degross:
            for t in range(t0, t1):
                for i in range(n_s):
                    drift[t, i] += mp.degross_drift * per
                drift[t, n_s] += (basket_beta[0] * mp.degross_drift - 0.5 * mp.squeeze_drift) * per
                drift[t, n_s + 1] += (basket_beta[1] * mp.degross_drift + 0.5 * mp.squeeze_drift) * per

    # sessions after the last complete week
    last = week_end[n_w - 1] + 1 if n_w > 0 else 0
    for t in range(last, n_t):
        for a in range(n_a):
            ret[t, a] = base[t, a] + drift[t, a]
    # sessions before the first week's start (none when weeks cover the index)
    first_t = week_start[0] if n_w > 0 else n_t
    for t in range(0, first_t):
        for a in range(n_a):
            ret[t, a] = base[t, a] + drift[t, a]
    return sector, book, sig, drift, ret


@njit(cache=True)
def idio_vol_nb(daily_vol: np.ndarray, h_ratio: np.ndarray, power: float, sv: np.ndarray) -> np.ndarray:
    """Idiosyncratic daily vol [T, K]: daily_vol[k] * h_ratio[t]**power * sv[t, k] (crises raise it less)."""
    n, k = sv.shape
    out = np.empty((n, k))
    for t in range(n):
        scale = pow_nb(h_ratio[t], power)
        for j in range(k):
            out[t, j] = daily_vol[j] * scale * sv[t, j]
    return out


@njit(cache=True)
def prices_nb(
    ret: np.ndarray, spy_w: np.ndarray, first: np.ndarray, median_volume: np.ndarray, inception: np.ndarray,
    vol_ratio: np.ndarray, h_ref: float, z_extra: np.ndarray, overnight_share: float, overnight_noise: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Close, open and volume [T, 1 + K] from daily log returns ret[T, K] (11 sectors, then the baskets).

    Column 0 is SPY: log(1 + sum_i spy_w[i] (e^r_i - 1)) over the sectors, spy_w summing to 1. Each column's
    close is first[a] exactly at its inception row and NaN before; the open is the previous close moved by an
    overnight log return (overnight_share * r + overnight_noise * sqrt(vol_ratio[t] h_ref) z); volume scales the
    median volume by vol_ratio**0.25 (the market variance over its calm level) and by the size of the move. z_extra[t, 0, a] and z_extra[t, 1, a] are the overnight and
    volume noise.
    """
    n, k = ret.shape
    n_s = spy_w.shape[0]
    n_a = k + 1
    logret = np.empty((n, n_a))
    for t in range(n):
        spy = 0.0
        for i in range(n_s):
            spy += spy_w[i] * expm1_nb(ret[t, i])
        logret[t, 0] = log1p_nb(spy)
        for j in range(k):
            logret[t, j + 1] = ret[t, j]
    close = np.full((n, n_a), np.nan)
    open_ = np.full((n, n_a), np.nan)
    volume = np.full((n, n_a), np.nan)
    for a in range(n_a):
        start = inception[a]
        if start >= n:
            continue
        cum = 0.0  # sum of log returns after the inception row
        prev = first[a] * exp_nb(-logret[start, a])  # the close before inception, for the first open
        for t in range(start, n):
            if t > start:
                cum += logret[t, a]
            c = first[a] * exp_nb(cum)
            close[t, a] = c
            sd = np.sqrt(vol_ratio[t] * h_ref)
            overnight = overnight_share * logret[t, a] + overnight_noise * sd * z_extra[t, 0, a]
            open_[t, a] = prev * exp_nb(overnight)
            prev = c
            if median_volume[a] == median_volume[a]:
                volume[t, a] = np.rint(median_volume[a] * pow_nb(vol_ratio[t], 0.25)
                                       * exp_nb(8.0 * abs(logret[t, a]) - 0.1 + 0.3 * z_extra[t, 1, a]))
    return close, open_, volume
