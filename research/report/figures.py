"""Tear-sheet figures: one function per figure, each taking plain Series/DataFrames and returning a Figure.

Figures use fixed margins (in inches) rather than `tight_layout`, which would lay every label out twice: a
tear sheet draws about fifteen of them and must stay fast. Widths are 10 inches; the HTML shows them at their
natural size and the PDF scales them to the page.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import ParamSpec

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

P = ParamSpec("P")
WIDTH = 10.0
STRATEGY_COLOR = "#1f4e79"
BENCH_COLORS = ("#8c8c8c", "#d08c2b", "#6a9f58", "#9b59b6")
LOSS_COLOR = "#b03a2e"
GAIN_COLOR = "#2e7d4f"
#: One fixed colour per asset, so a sector looks the same in every figure of every tear sheet.
ASSET_COLORS: dict[str, str] = {
    "XLB": "#8c564b", "XLC": "#e377c2", "XLE": "#2f2f2f", "XLF": "#1f77b4", "XLI": "#7f7f7f", "XLK": "#17becf",
    "XLP": "#bcbd22", "XLRE": "#9467bd", "XLU": "#ff7f0e", "XLV": "#2ca02c", "XLY": "#d62728", "SPY": "#1f4e79",
}
_EXTRA_COLORS = [matplotlib.colors.to_hex(c) for c in plt.get_cmap("tab20b")(np.linspace(0, 1, 20))]
SERIES_COLORS = ("#1f4e79", "#d08c2b", "#2e7d4f", "#b03a2e", "#7b5ea7", "#17becf", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22")

#: The tear sheets' matplotlib style, applied only while a figure is built and drawn (`styled`, `draw`), so
#: importing this module leaves a notebook's own plots alone.
STYLE: dict[str, object] = {
    "font.size": 8.5, "axes.titlesize": 10, "axes.labelsize": 8.5, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "figure.dpi": 100,
    "savefig.facecolor": "white", "figure.facecolor": "white", "path.simplify": True,
}


def styled(func: Callable[P, Figure]) -> Callable[P, Figure]:
    """Build the figure under the tear-sheet style."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with plt.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def asset_color(name: str, i: int = 0) -> str:
    return ASSET_COLORS.get(str(name), _EXTRA_COLORS[i % len(_EXTRA_COLORS)])


# --------------------------------------------------------------------------------------------------------------
# layout helpers


def _figure(height: float, nrows: int = 1, ncols: int = 1, *, left: float = 0.75, right: float = 0.2,
            top: float = 0.4, bottom: float = 0.4, hspace: float = 0.45, wspace: float = 0.25,
            sharex: bool = False, width: float = WIDTH) -> tuple[Figure, np.ndarray]:
    """A figure with fixed margins in inches (no tight_layout pass)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharex=sharex, squeeze=False)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, hspace=hspace, wspace=wspace)
    return fig, axes


def _title(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color="#222222")


def _pct(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    fmt = ticker.PercentFormatter(1.0, decimals=decimals)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _dates(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))


def _legend(ax: Axes, **kw: object) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc=kw.pop("loc", "upper left"), frameon=False, **kw)  # type: ignore[arg-type]


def _log_ticks(ax: Axes, lo: float, hi: float) -> None:
    """Readable ticks on a log axis (0.5, 1, 2, 5 ... rather than 10^-1 in mathtext)."""
    lo, hi = max(lo, 1e-6), max(hi, lo * 1.0001)
    ticks: list[float] = []
    for subs in ((1.0,), (1.0, 3.0), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
                 (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)):
        ticks = [s * 10.0**k for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                 for s in subs]
        ticks = [t for t in ticks if lo <= t <= hi]
        if len(ticks) >= 4:
            break
    ax.yaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.yaxis.set_minor_locator(ticker.NullLocator())
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))


def _wealth(returns: pd.Series) -> pd.Series:
    r = returns.dropna()
    return (1.0 + r).cumprod()


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------------------------------------------
# performance


@styled
def equity_curve(returns: pd.Series, benchmarks: pd.DataFrame, name: str = "strategy") -> Figure:
    """Growth of 1 on a log scale, strategy against each benchmark, over the strategy's dates."""
    fig, axes = _figure(3.8)
    ax = axes[0, 0]
    curves = [(name, _wealth(returns), STRATEGY_COLOR, 1.7)]
    for col, color in zip(benchmarks.columns, BENCH_COLORS, strict=False):
        b = benchmarks[col].reindex(returns.index)
        curves.append((str(col), _wealth(b), color, 1.0))
    lo, hi = np.inf, 0.0
    for label, w, color, lw in curves:
        if len(w):
            ax.plot(w.index, w.to_numpy(), color=color, lw=lw, label=f"{label}  ({w.iloc[-1]:.2f}x)")
            lo, hi = min(lo, float(w.min())), max(hi, float(w.max()))
    ax.set_yscale("log")
    if np.isfinite(lo) and hi > 0:
        _log_ticks(ax, lo * 0.95, hi * 1.05)
    ax.axhline(1.0, color="#444444", lw=0.6)
    _dates(ax)
    _legend(ax)
    _title(ax, "Growth of 1 (log scale), after costs")
    return fig


@styled
def underwater(returns: pd.Series, benchmark: pd.Series | None = None) -> Figure:
    """Drawdown from the running peak of wealth; the benchmark's as a thin line for scale."""
    from research.analytics.metrics import drawdown_series

    fig, axes = _figure(2.7)
    ax = axes[0, 0]
    dd = drawdown_series(returns)
    ax.fill_between(dd.index, dd.to_numpy(), 0, color=LOSS_COLOR, alpha=0.45, lw=0, label="strategy")
    if benchmark is not None:
        bdd = drawdown_series(benchmark.reindex(returns.index).dropna())
        ax.plot(bdd.index, bdd.to_numpy(), color=BENCH_COLORS[0], lw=0.8, label=str(benchmark.name))
    ax.set_ylim(top=0.0)
    _pct(ax)
    _dates(ax)
    _legend(ax, loc="lower left")
    _title(ax, "Underwater: drawdown from the running peak")
    return fig


@styled
def rolling_panel(sharpe: pd.Series, vol: pd.Series, beta: pd.Series | None,
                  bench_sharpe: pd.Series | None = None, bench_vol: pd.Series | None = None,
                  bench_name: str = "SPY") -> Figure:
    """Rolling 52-week Sharpe, volatility and beta stacked on one time axis (benchmark in grey)."""
    n = 3 if beta is not None else 2
    fig, axes = _figure(1.9 * n + 0.5, n, 1, sharex=True, hspace=0.38, top=0.3)
    rows: list[tuple[pd.Series, pd.Series | None, str, bool]] = [
        (sharpe, bench_sharpe, "Rolling 52-week Sharpe ratio", False),
        (vol, bench_vol, "Rolling 52-week volatility (annualised)", True),
    ]
    if beta is not None:
        rows.append((beta, None, f"Rolling 52-week beta to {bench_name}", False))
    for ax, (s, b, title, pct) in zip(axes[:, 0], rows, strict=True):
        if b is not None:
            ax.plot(b.index, b.to_numpy(), color=BENCH_COLORS[0], lw=0.8, label=bench_name)
        ax.plot(s.index, s.to_numpy(), color=STRATEGY_COLOR, lw=1.1, label="strategy")
        if s.notna().any():
            ax.axhline(float(s.mean()), color=STRATEGY_COLOR, lw=0.7, ls="--", alpha=0.7)
        if not pct:
            ax.axhline(0.0, color="#444444", lw=0.6)
        else:
            _pct(ax)
        ax.set_title(title, loc="left", fontsize=9.5, fontweight="bold")
        _legend(ax, ncol=2)
    _dates(axes[-1, 0])
    return fig


@styled
def monthly_heatmap(table: pd.DataFrame, annual: pd.Series | None = None) -> Figure:
    """Year x month compounded returns (%), red to green, with the year's total in the last column."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    vals = table.to_numpy(dtype=float)
    yearly = (annual.reindex(table.index).to_numpy(dtype=float)[:, None] if annual is not None
              else np.full((len(table), 1), np.nan))
    height = max(2.2, 0.19 * len(table) + 0.8)
    fig, axes = _figure(height, 1, 2, left=0.6, top=0.5, bottom=0.15, wspace=0.03)
    ax, ay = axes[0, 0], axes[0, 1]
    pos = ax.get_position()
    ax.set_position([pos.x0, pos.y0, 0.80 - pos.x0, pos.height])
    ay.set_position([0.815, pos.y0, 1 - 0.2 / WIDTH - 0.815, pos.height])
    # colour scale a little wider than the data, so that the darkest cell still reads with black text
    lim = 1.4 * float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
    ylim = 1.4 * float(np.nanmax(np.abs(yearly))) if np.isfinite(yearly).any() else 1.0
    ax.imshow(vals, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ay.imshow(yearly, cmap="RdYlGn", vmin=-ylim, vmax=ylim, aspect="auto", interpolation="nearest")
    for a in (ax, ay):
        a.grid(False)
        a.tick_params(length=0)
        for sp in a.spines.values():
            sp.set_visible(False)
    ax.set_xticks(range(12), months)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(table)), [str(i) for i in table.index], fontsize=7.5)
    ay.set_xticks([0], ["Year"])
    ay.xaxis.tick_top()
    ay.set_yticks([])
    fs = 6.8 if len(table) > 20 else 7.5
    row_pt = pos.height * height * 72.0 / max(len(table), 1)
    for j in range(vals.shape[1]):
        _column_text(ax, j, vals[:, j], fs, row_pt)
    _column_text(ay, 0, yearly[:, 0], fs, row_pt, bold=True)
    fig.text(0.6 / WIDTH, 1 - 0.06 / height, "Monthly returns (%)", fontsize=10, fontweight="bold", va="top")
    return fig


def _column_text(ax: Axes, x: float, values: np.ndarray, fontsize: float, row_pt: float,
                 bold: bool = False) -> None:
    """The values of one heatmap column as a single multi-line text whose line pitch equals the row height.

    One text per column instead of one per cell: a 26-year monthly table draws 13 texts, not 338 (text
    layout dominates the cost of a figure). With a fixed `linespacing`, matplotlib gives every line a box of
    linespacing x (font ascent + descent) = linespacing x fontsize for DejaVu Sans (its typo metrics sum to one
    em), with the glyphs centred in it, so the lines sit in the cells.
    """
    lines = [f"{round(v * 100, 1) + 0.0:.1f}" if np.isfinite(v) else " " for v in values]
    n = len(lines)
    ax.text(x, (n - 1) / 2.0, "\n".join(lines), ha="center", va="center", fontsize=fontsize,
            linespacing=row_pt / fontsize, fontweight="bold" if bold else "normal", family="DejaVu Sans")


@styled
def annual_bars(strategy: pd.Series, benchmark: pd.Series | None) -> Figure:
    """Calendar-year returns, strategy beside the benchmark."""
    fig, axes = _figure(3.2, bottom=0.5)
    ax = axes[0, 0]
    x = np.arange(len(strategy))
    w = 0.4 if benchmark is not None else 0.8
    ax.bar(x - (w / 2 if benchmark is not None else 0), strategy.to_numpy(), width=w, color=STRATEGY_COLOR,
           label="strategy")
    if benchmark is not None:
        ax.bar(x + w / 2, benchmark.reindex(strategy.index).to_numpy(), width=w, color=BENCH_COLORS[0],
               label=str(benchmark.name))
    ax.axhline(0.0, color="#444444", lw=0.6)
    ax.set_xticks(x, [str(i) for i in strategy.index], rotation=90 if len(x) > 14 else 0)
    ax.set_xlim(-0.7, len(x) - 0.3)
    ax.grid(axis="x", visible=False)
    _pct(ax)
    _legend(ax, ncol=2)
    _title(ax, "Calendar-year returns")
    return fig


# --------------------------------------------------------------------------------------------------------------
# positioning


def _ordered(columns: Sequence[str]) -> list[str]:
    known = [c for c in ASSET_COLORS if c in set(columns)]
    return known + sorted(c for c in columns if c not in ASSET_COLORS)


def weights_freq(index: pd.DatetimeIndex) -> tuple[str, str]:
    """(pandas frequency, word) for averaging weights: weekly up to 4 years, monthly up to 12, else quarterly."""
    years = (index[-1] - index[0]).days / 365.25 if len(index) > 1 else 0.0
    if years <= 4:
        return "W-FRI", "weekly"
    return ("ME", "monthly") if years <= 12 else ("QE", "quarterly")


@styled
def weights_area(weights: pd.DataFrame, freq: str | None = None) -> Figure:
    """Held weights averaged per period (`weights_freq`): longs stacked above zero, shorts below, one colour per
    asset."""
    freq, word = (freq, "period") if freq is not None else weights_freq(pd.DatetimeIndex(weights.index))
    w = weights.astype(float).fillna(0.0).resample(freq).mean()
    w = w.loc[:, (w.abs() > 1e-9).any()]
    w = w[_ordered(list(w.columns))]
    fig, axes = _figure(4.0, right=1.05)
    ax = axes[0, 0]
    if w.shape[1]:
        colors = [asset_color(c, i) for i, c in enumerate(w.columns)]
        x = w.index
        ax.stackplot(x, w.clip(lower=0).T.to_numpy(), colors=colors, labels=list(w.columns), lw=0, alpha=0.9,
                     step=None)
        if (w < 0).any().any():
            ax.stackplot(x, w.clip(upper=0).T.to_numpy(), colors=colors, lw=0, alpha=0.9)
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=7.5)
    else:
        _empty(ax, "no position held")
    ax.axhline(0, color="black", lw=0.6)
    _pct(ax)
    _dates(ax)
    _title(ax, f"Weights held, {word} average (longs above zero, shorts below)")
    return fig


@styled
def exposure_turnover(gross: pd.Series, net: pd.Series, turnover: pd.Series) -> Figure:
    """Gross and net exposure (averaged as the weights are, see `weights_freq`), and turnover per month with
    its trailing-year rate."""
    fig, axes = _figure(4.6, 2, 1, sharex=True, hspace=0.35, top=0.3)
    a1, a2 = axes[:, 0]
    freq, word = weights_freq(pd.DatetimeIndex(gross.index))
    g = gross.resample(freq).mean()
    n = net.resample(freq).mean()
    a1.fill_between(g.index, 0.0, g.to_numpy(), color="#c9d3dd", lw=0, label="gross")
    a1.plot(n.index, n.to_numpy(), color=STRATEGY_COLOR, lw=1.1, label="net")
    a1.axhline(0.0, color="#444444", lw=0.6)
    _pct(a1)
    _legend(a1, ncol=2)
    a1.set_title(f"Gross and net exposure ({word} average, % of equity)", loc="left", fontsize=9.5,
                 fontweight="bold")
    m = turnover.resample("ME").sum()
    a2.vlines(m.index, 0.0, m.to_numpy(), color="#9aa7b4", lw=2.0 if len(m) > 150 else 4.0, label="per month")
    yearly = turnover.rolling(252, min_periods=126).sum()
    a2.plot(yearly.index, yearly.to_numpy() / 12.0, color=STRATEGY_COLOR, lw=1.0,
            label="trailing-year turnover / 12")
    _pct(a2)
    _legend(a2, ncol=2)
    a2.set_title("Turnover (traded notional / equity)", loc="left", fontsize=9.5, fontweight="bold")
    _dates(a2)
    return fig


@styled
def contribution_bars(contrib: pd.Series, costs: float | None = None) -> Figure:
    """Return contributed by each asset (sum of daily held weight x asset return), with costs, sorted."""
    s = contrib.dropna().sort_values()
    if costs is not None and np.isfinite(costs):
        s = pd.concat([pd.Series({"costs": -abs(costs)}), s])
    fig, axes = _figure(max(2.4, 0.24 * len(s) + 0.9), left=0.9, bottom=0.45)
    ax = axes[0, 0]
    colors = [("#777777" if k == "costs" else GAIN_COLOR if v >= 0 else LOSS_COLOR) for k, v in s.items()]
    ax.barh(range(len(s)), s.to_numpy(), color=colors, height=0.7)
    ax.set_yticks(range(len(s)), [str(k) for k in s.index])
    ax.axvline(0.0, color="#444444", lw=0.6)
    ax.grid(axis="y", visible=False)
    _pct(ax, "x")
    _title(ax, "Where the return came from: contribution by asset (sum of daily weight x return)")
    return fig


# --------------------------------------------------------------------------------------------------------------
# signal diagnostics


@styled
def ic_over_time(ic: pd.DataFrame, rolling: pd.DataFrame | dict[int, pd.Series]) -> Figure:
    """Per-date rank IC at the shortest horizon (thin bars) and a trailing mean of it at each horizon (lines)."""
    fig, axes = _figure(3.4)
    ax = axes[0, 0]
    first = ic.columns[0]
    raw = ic[first].dropna()
    ax.vlines(raw.index, 0.0, raw.to_numpy(), color="#c9d3dd", lw=1.0, label=f"IC per date, {first} week(s)")
    items = rolling.items() if isinstance(rolling, dict) else ((h, rolling[h]) for h in rolling.columns)
    for i, (h, s) in enumerate(items):
        s = s.dropna()
        ax.plot(s.index, s.to_numpy(), color=SERIES_COLORS[i % len(SERIES_COLORS)], lw=1.2,
                label=f"trailing mean, {h} week(s)")
    ax.axhline(0.0, color="#444444", lw=0.6)
    lim = float(np.nanpercentile(np.abs(raw.to_numpy()), 98)) if len(raw) else 1.0
    ax.set_ylim(-lim, 1.3 * lim)  # headroom for the legend
    _dates(ax)
    _legend(ax, ncol=4)
    _title(ax, "Rank IC over time (Spearman, across assets)")
    return fig


@styled
def spread_panel(spread: pd.DataFrame, n: int) -> Figure:
    """Cumulative top-minus-bottom spread at the shortest horizon, and the mean spread per horizon."""
    fig, axes = _figure(3.2, 1, 2, wspace=0.22)
    a1, a2 = axes[0]
    first = spread.columns[0]
    s = spread[first].dropna()
    a1.plot(s.index, s.cumsum().to_numpy(), color=STRATEGY_COLOR, lw=1.2)
    a1.axhline(0.0, color="#444444", lw=0.6)
    _pct(a1)
    _dates(a1)
    a1.set_title(f"Top {n} minus bottom {n}: cumulative {first}-week spread", loc="left", fontsize=9.5,
                 fontweight="bold")
    means = spread.mean()
    weekly = means / np.asarray(spread.columns, dtype=float)
    x = np.arange(len(means))
    a2.bar(x, weekly.to_numpy(), color=[GAIN_COLOR if v >= 0 else LOSS_COLOR for v in weekly], width=0.6)
    a2.set_xticks(x, [f"{h}w" for h in spread.columns])
    a2.axhline(0.0, color="#444444", lw=0.6)
    a2.grid(axis="x", visible=False)
    _pct(a2, decimals=2)
    a2.set_title("Mean spread per week held, by horizon", loc="left", fontsize=9.5, fontweight="bold")
    return fig


@styled
def decay_bars(decay: pd.Series, horizon: int = 1) -> Figure:
    """Mean rank IC of the signal lagged 0..k decision dates: how fast its information fades."""
    fig, axes = _figure(2.6)
    ax = axes[0, 0]
    v = decay.to_numpy(dtype=float)
    ax.bar(decay.index, v, color=[GAIN_COLOR if x >= 0 else LOSS_COLOR for x in np.nan_to_num(v)], width=0.6)
    ax.axhline(0.0, color="#444444", lw=0.6)
    ax.set_xticks(list(decay.index))
    ax.set_xlabel("signal lag (decision dates)")
    ax.grid(axis="x", visible=False)
    _title(ax, f"Signal decay: mean {horizon}-week rank IC of the signal lagged k dates")
    return fig


# --------------------------------------------------------------------------------------------------------------
# statistical honesty


@styled
def sharpe_intervals(rows: Sequence[tuple[str, float, float, float]], hurdle: float | None = None,
                     level: float = 0.95) -> Figure:
    """Annualised Sharpe ratios with bootstrap intervals; the deflation hurdle as a dashed line."""
    fig, axes = _figure(0.45 * len(rows) + 1.1, left=1.4, bottom=0.45, top=0.35)
    ax = axes[0, 0]
    y = np.arange(len(rows))[::-1]
    for yi, (_label, est, lo, hi) in zip(y, rows, strict=True):
        color = STRATEGY_COLOR if yi == y[0] else BENCH_COLORS[0]
        ax.plot([lo, hi], [yi, yi], color=color, lw=2.2, solid_capstyle="butt")
        ax.plot([est], [yi], "o", color=color, ms=6)
        ax.text(hi, yi + 0.18, f"  {est:.2f} [{lo:.2f}, {hi:.2f}]", fontsize=7.5, va="bottom", color=color)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    lo_all = min(min(r[2] for r in rows), 0.0, hurdle if hurdle is not None and np.isfinite(hurdle) else 0.0)
    hi_all = max(max(r[3] for r in rows), 0.0, hurdle if hurdle is not None and np.isfinite(hurdle) else 0.0)
    span = hi_all - lo_all or 1.0
    ax.set_xlim(lo_all - 0.05 * span, hi_all + 0.45 * span)  # room for the labels right of each bar
    ax.axvline(0.0, color="#444444", lw=0.8)
    if hurdle is not None and np.isfinite(hurdle) and hurdle > 0:
        ax.axvline(hurdle, color=LOSS_COLOR, lw=1.0, ls="--", label="expected best of N unskilled trials")
        _legend(ax, loc="lower right")
    ax.grid(axis="y", visible=False)
    _title(ax, f"Sharpe ratio with {level:.0%} stationary-bootstrap interval")
    return fig


@styled
def sweep_heatmap(sweep: pd.DataFrame, x: str, y: str, selected: dict[str, object] | None = None,
                  metric: str = "sharpe") -> Figure:
    """Median `metric` over a sweep by two parameters (others pooled), the run's configuration outlined;
    beside it, the distribution of the metric over every configuration."""
    pivot = sweep.pivot_table(index=y, columns=x, values=metric, aggfunc="median")
    fig, axes = _figure(max(3.0, 0.35 * len(pivot) + 1.2), 1, 2, left=0.9, wspace=0.3)
    ax, ah = axes[0]
    pos, posh = ax.get_position(), ah.get_position()
    ax.set_position([pos.x0, pos.y0, 0.58 - pos.x0, pos.height])
    ah.set_position([0.66, posh.y0, posh.x1 - 0.66, posh.height])
    vals = pivot.to_numpy(dtype=float)
    lim = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
    ax.imshow(vals, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set_xticks(range(pivot.shape[1]), [str(c) for c in pivot.columns])
    ax.set_yticks(range(pivot.shape[0]), [str(i) for i in pivot.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if pivot.size <= 150:
        for (i, j), v in np.ndenumerate(vals):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    if selected is not None and x in selected and y in selected:
        try:
            j = list(pivot.columns).index(selected[x])
            i = list(pivot.index).index(selected[y])
            ax.add_patch(matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.0,
                                                      ec="black"))
        except ValueError:
            pass
    _title(ax, f"Sweep: median {metric} by {y} x {x}")
    vals_all = sweep[metric].to_numpy(dtype=float)
    vals_all = vals_all[np.isfinite(vals_all)]
    ah.hist(vals_all, bins=min(30, max(5, len(vals_all) // 3)), color="#9aa7b4")
    if selected is not None and "_metric" in selected:
        ah.axvline(float(selected["_metric"]), color=STRATEGY_COLOR, lw=1.5, label="this run")  # type: ignore[arg-type]
        _legend(ah)
    ah.set_xlabel(metric)
    _title(ah, f"{len(vals_all)} configurations")
    return fig


# --------------------------------------------------------------------------------------------------------------
# comparison of runs


@styled
def equity_comparison(returns: pd.DataFrame) -> Figure:
    """Several strategies' growth of 1 on one log-scale chart."""
    fig, axes = _figure(3.8)
    ax = axes[0, 0]
    lo, hi = np.inf, 0.0
    for i, col in enumerate(returns.columns):
        w = _wealth(returns[col])
        if len(w):
            ax.plot(w.index, w.to_numpy(), lw=1.2, color=SERIES_COLORS[i % len(SERIES_COLORS)],
                    label=f"{col}  ({w.iloc[-1]:.2f}x)")
            lo, hi = min(lo, float(w.min())), max(hi, float(w.max()))
    ax.set_yscale("log")
    if np.isfinite(lo) and hi > 0:
        _log_ticks(ax, lo * 0.95, hi * 1.05)
    ax.axhline(1.0, color="#444444", lw=0.6)
    _dates(ax)
    _legend(ax)
    _title(ax, "Growth of 1 (log scale), after costs")
    return fig


@styled
def drawdown_comparison(returns: pd.DataFrame) -> Figure:
    """Several strategies' drawdowns from their running peaks."""
    from research.analytics.metrics import drawdown_series

    fig, axes = _figure(3.0)
    ax = axes[0, 0]
    for i, col in enumerate(returns.columns):
        dd = drawdown_series(returns[col].dropna())
        ax.plot(dd.index, dd.to_numpy(), lw=1.0, color=SERIES_COLORS[i % len(SERIES_COLORS)], label=str(col))
    _pct(ax)
    _dates(ax)
    _legend(ax, loc="lower left")
    _title(ax, "Drawdown from the running peak")
    return fig


@styled
def rolling_comparison(rolling: pd.DataFrame, title: str, pct: bool = False) -> Figure:
    """Several strategies' rolling statistic on one axis (as percentages when `pct`)."""
    fig, axes = _figure(3.0)
    ax = axes[0, 0]
    for i, col in enumerate(rolling.columns):
        ax.plot(rolling.index, rolling[col].to_numpy(), lw=1.0, color=SERIES_COLORS[i % len(SERIES_COLORS)],
                label=str(col))
    if pct:
        _pct(ax)
    else:
        ax.axhline(0.0, color="#444444", lw=0.6)
    _dates(ax)
    _legend(ax, ncol=3)
    _title(ax, title)
    return fig


@styled
def correlation_matrix(corr: pd.DataFrame, title: str = "Correlation of daily returns") -> Figure:
    """A labelled correlation heatmap."""
    n = len(corr)
    label = 0.3 + 0.075 * max((len(str(c)) for c in corr.columns), default=4)
    size = 1.0 + 0.65 * n
    fig, axes = _figure(size + 0.55 * label + 0.2, width=size + label + 0.2, left=label, right=0.2, top=0.4,
                        bottom=0.55 * label + 0.15)
    ax = axes[0, 0]
    ax.imshow(corr.to_numpy(), cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(n), [str(c) for c in corr.columns], rotation=35, ha="right")
    ax.set_yticks(range(n), [str(c) for c in corr.index])
    for (i, j), v in np.ndenumerate(corr.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    _title(ax, title)
    return fig
