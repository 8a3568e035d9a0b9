"""Tear-sheet figures: one function per figure, each taking plain Series/DataFrames and returning a Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDE = (10, 3.6)
TALL = (10, 4.6)
STRATEGY_COLOR = "#1f4e79"
BENCH_COLORS = ("#999999", "#d08c2b", "#6a9f58")


def _finish(fig: Figure, ax: plt.Axes, title: str) -> Figure:
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def equity_curve(returns: pd.Series, benchmarks: pd.DataFrame, name: str = "strategy") -> Figure:
    """Growth of 1 on a log scale, strategy against each benchmark."""
    fig, ax = plt.subplots(figsize=WIDE)
    ax.plot((1 + returns.fillna(0)).cumprod(), color=STRATEGY_COLOR, lw=1.6, label=name)
    for col, color in zip(benchmarks.columns, BENCH_COLORS, strict=False):
        ax.plot((1 + benchmarks[col].fillna(0)).cumprod(), color=color, lw=1.0, label=col)
    ax.set_yscale("log")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return _finish(fig, ax, "Growth of 1 (log scale)")


def underwater(returns: pd.Series) -> Figure:
    """Drawdown from the running peak of equity."""
    eq = (1 + returns.fillna(0)).cumprod()
    dd = eq / eq.cummax() - 1
    fig, ax = plt.subplots(figsize=(10, 2.6))
    ax.fill_between(dd.index, dd.to_numpy(), 0, color="#b03a2e", alpha=0.5, lw=0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    return _finish(fig, ax, "Underwater (drawdown)")


def rolling_panel(sharpe: pd.Series, vol: pd.Series, beta: pd.Series | None) -> Figure:
    """Rolling Sharpe, volatility and beta stacked on one time axis."""
    n = 3 if beta is not None else 2
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.1 * n), sharex=True)
    series = [(sharpe, "Rolling 52-week Sharpe"), (vol, "Rolling 52-week volatility")]
    if beta is not None:
        series.append((beta, "Rolling 52-week beta to SPY"))
    for ax, (s, title) in zip(axes, series, strict=True):
        ax.plot(s, color=STRATEGY_COLOR, lw=1.0)
        ax.axhline(s.mean(), color="#999", lw=0.8, ls="--")
        ax.set_title(title, loc="left", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def monthly_heatmap(table: pd.DataFrame) -> Figure:
    """Year x month compounded returns, red to green, values printed in each cell."""
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.26 * len(table) + 1)))
    vals = table.to_numpy(dtype=float)
    lim = np.nanmax(np.abs(vals)) if np.isfinite(vals).any() else 1.0
    ax.imshow(vals, cmap="RdYlGn", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], fontsize=8)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index], fontsize=7)
    for (i, j), v in np.ndenumerate(vals):
        if np.isfinite(v):
            ax.text(j, i, f"{v * 100:.1f}", ha="center", va="center", fontsize=6)
    ax.set_title("Monthly returns (%)", loc="left", fontsize=11, fontweight="bold")
    fig.tight_layout()
    return fig


def annual_bars(strategy: pd.Series, benchmark: pd.Series | None) -> Figure:
    """Calendar-year returns, strategy beside the benchmark."""
    fig, ax = plt.subplots(figsize=WIDE)
    x = np.arange(len(strategy))
    w = 0.4 if benchmark is not None else 0.8
    ax.bar(x - (w / 2 if benchmark is not None else 0), strategy.to_numpy(), width=w, color=STRATEGY_COLOR,
           label="strategy")
    if benchmark is not None:
        ax.bar(x + w / 2, benchmark.reindex(strategy.index).to_numpy(), width=w, color=BENCH_COLORS[0],
               label=benchmark.name)
    ax.set_xticks(x, [str(i) for i in strategy.index], rotation=90, fontsize=7)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.legend(fontsize=8, frameon=False)
    return _finish(fig, ax, "Annual returns")


def weights_area(weights: pd.DataFrame) -> Figure:
    """Held weights over time: longs stacked above zero, shorts below (weekly samples)."""
    w = weights.resample("W-FRI").last().fillna(0.0)
    w = w.loc[:, (w.abs() > 1e-12).any()]
    fig, ax = plt.subplots(figsize=TALL)
    if w.shape[1]:
        colors = plt.get_cmap("tab20")(np.linspace(0, 1, max(w.shape[1], 2)))
        ax.stackplot(w.index, w.clip(lower=0).T.to_numpy(), colors=colors, labels=list(w.columns), lw=0)
        ax.stackplot(w.index, w.clip(upper=0).T.to_numpy(), colors=colors, lw=0)
        ax.legend(loc="upper left", fontsize=7, ncol=min(7, w.shape[1]), frameon=False)
    ax.axhline(0, color="black", lw=0.6)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    return _finish(fig, ax, "Weights held (after drift), by asset")


def exposure_turnover(gross: pd.Series, net: pd.Series, turnover: pd.Series) -> Figure:
    """Gross and net exposure, and turnover summed per quarter."""
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 4.4), sharex=True)
    a1.plot(gross, color=STRATEGY_COLOR, lw=1.0, label="gross")
    a1.plot(net, color="#d08c2b", lw=1.0, label="net")
    a1.legend(fontsize=8, frameon=False)
    a1.set_title("Gross and net exposure", loc="left", fontsize=10)
    q = turnover.resample("QE").sum()
    a2.bar(q.index, q.to_numpy(), width=60, color="#777")
    a2.set_title("Turnover per quarter (traded notional / equity)", loc="left", fontsize=10)
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def equity_comparison(returns: pd.DataFrame) -> Figure:
    """Several strategies' growth of 1 on one log-scale chart."""
    fig, ax = plt.subplots(figsize=WIDE)
    for col in returns.columns:
        ax.plot((1 + returns[col].fillna(0)).cumprod(), lw=1.2, label=col)
    ax.set_yscale("log")
    ax.legend(fontsize=8, frameon=False)
    return _finish(fig, ax, "Growth of 1 (log scale)")


def correlation_matrix(corr: pd.DataFrame, title: str = "Correlation of daily returns") -> Figure:
    """A labelled correlation heatmap."""
    n = len(corr)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * n, 0.8 + 0.6 * n))
    ax.imshow(corr.to_numpy(), cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_xticks(range(n), corr.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), corr.index, fontsize=8)
    for (i, j), v in np.ndenumerate(corr.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    fig.tight_layout()
    return fig
