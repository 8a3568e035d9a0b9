"""Sweep and walk-forward figures: plain frames in, a matplotlib Figure out (one function per figure)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDE = (10, 3.6)
COLOR = "#1f4e79"
GREY = "#999999"
WARN = "#b03a2e"


def _finish(fig: Figure, ax: plt.Axes, title: str) -> Figure:
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, x: str, y: str, metric: str, label: str | None = None) -> Figure:
    """Best `metric` over the other parameters for each (x, y) pair, with values written in the cells."""
    pivot = table.pivot_table(index=y, columns=x, values=metric, aggfunc="max")
    pivot = pivot.sort_index().sort_index(axis=1)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * pivot.shape[1] + 2.5), max(3.0, 0.45 * pivot.shape[0] + 1.5)))
    values = pivot.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    lim = float(np.max(np.abs(finite))) if finite.size else 1.0
    im = ax.imshow(values, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(pivot.shape[1]), [str(v) for v in pivot.columns])
    ax.set_yticks(range(pivot.shape[0]), [str(v) for v in pivot.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if values.size <= 400:
        for (r, c), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(v) > 0.6 * lim else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(f"{label or metric}: best over the other parameters", loc="left", fontsize=10,
                 fontweight="bold")
    fig.tight_layout()
    return fig


def score_histogram(scores: pd.Series, expected_max: float, best: float, label: str) -> Figure:
    """Distribution of the configs' scores, the best, and the best expected from luck alone."""
    fig, ax = plt.subplots(figsize=WIDE)
    s = scores.replace([np.inf, -np.inf], np.nan).dropna()
    ax.hist(s, bins=min(60, max(10, len(s) // 20)), color=COLOR, alpha=0.8)
    ax.axvline(best, color=WARN, lw=1.5, label=f"best {best:.2f}")
    if np.isfinite(expected_max):
        ax.axvline(expected_max, color="black", lw=1.2, ls="--", label=f"expected best of luck {expected_max:.2f}")
    ax.set_xlabel(label)
    ax.set_ylabel("configs")
    ax.legend(frameon=False, fontsize=8)
    return _finish(fig, ax, f"{label} of every config")


def top_equity(returns: pd.DataFrame, best: int, bench: pd.Series | None, bench_name: str | None) -> Figure:
    """Growth of 1 of the kept top configs (grey), the best (blue) and the benchmark (dashed)."""
    fig, ax = plt.subplots(figsize=WIDE)
    wealth = (1.0 + returns.fillna(0.0)).cumprod()
    for c in wealth.columns:
        if c != best:
            ax.plot(wealth.index, wealth[c].to_numpy(), color=GREY, lw=0.6, alpha=0.6)
    ax.plot(wealth.index, wealth[best].to_numpy(), color=COLOR, lw=1.6, label=f"best (config {best})")
    if bench is not None:
        b = (1.0 + bench.reindex(wealth.index).fillna(0.0)).cumprod()
        ax.plot(b.index, b.to_numpy(), color="black", lw=1.0, ls="--", label=bench_name or "benchmark")
    ax.set_yscale("log")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _finish(fig, ax, "Growth of 1: the top configs and the best (log scale)")


def pbo_panel(logits: np.ndarray, is_metric: np.ndarray, oos_metric: np.ndarray, pbo: float) -> Figure:
    """CSCV: the logits of the in-sample winner's out-of-sample rank, and OOS against IS Sharpe."""
    fig, axes = plt.subplots(1, 2, figsize=WIDE)
    ax = axes[0]
    finite = logits[np.isfinite(logits)]
    ax.hist(finite, bins=40, color=COLOR, alpha=0.8)
    ax.axvline(0.0, color=WARN, lw=1.2)
    ax.set_xlabel("logit of OOS relative rank (<= 0: below median)")
    ax.set_title(f"PBO = {pbo:.2f}", loc="left", fontsize=10, fontweight="bold")
    ax.grid(alpha=0.3)
    ax = axes[1]
    ok = np.isfinite(is_metric) & np.isfinite(oos_metric)
    ax.scatter(is_metric[ok], oos_metric[ok], s=4, color=COLOR, alpha=0.3)
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xlabel("in-sample Sharpe of the selected config")
    ax.set_ylabel("its out-of-sample Sharpe")
    ax.set_title("Degradation", loc="left", fontsize=10, fontweight="bold")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def walkforward_equity(oos: pd.Series, bench: pd.Series | None, folds: pd.DataFrame, name: str) -> Figure:
    """The stitched out-of-sample equity curve with fold boundaries."""
    fig, ax = plt.subplots(figsize=WIDE)
    w = (1.0 + oos.fillna(0.0)).cumprod()
    ax.plot(w.index, w.to_numpy(), color=COLOR, lw=1.6, label=f"{name} out of sample ({w.iloc[-1]:.2f}x)")
    if bench is not None:
        b = (1.0 + bench.reindex(w.index).fillna(0.0)).cumprod()
        ax.plot(b.index, b.to_numpy(), color="black", lw=1.0, ls="--", label=str(bench.name))
    for start in pd.to_datetime(folds["oos_start"]):
        ax.axvline(start, color=GREY, lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _finish(fig, ax, "Walk-forward: stitched out-of-sample growth of 1 (fold starts dotted)")


def is_oos_bars(folds: pd.DataFrame) -> Figure:
    """In-sample Sharpe of each fold's chosen config against its out-of-sample Sharpe."""
    fig, ax = plt.subplots(figsize=WIDE)
    x = np.arange(len(folds))
    ax.bar(x - 0.2, folds["is_score"].to_numpy(dtype=float), width=0.4, color=GREY, label="in sample")
    ax.bar(x + 0.2, folds["oos_score"].to_numpy(dtype=float), width=0.4, color=COLOR, label="out of sample")
    ax.set_xticks(x, [str(pd.Timestamp(d).year) for d in folds["oos_start"]])
    ax.axhline(0.0, color="black", lw=0.6)
    ax.legend(frameon=False, fontsize=8)
    return _finish(fig, ax, "Score of the chosen config, in and out of sample, by fold")
