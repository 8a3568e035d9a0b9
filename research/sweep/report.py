"""The sweep folder and its tear sheet (HTML and PDF): ranked table, heatmap, luck statistics in words.

results/sweeps/<strategy>/<stamp>/ holds sweep.parquet (params + metrics, ranked), returns.parquet (daily
returns of the kept configs, and the benchmark), stats.json, sweep.json (grid, data, timing) and
tearsheet.html / tearsheet.pdf with figures/*.png. Rendering reuses the run tear sheet's HTML/PDF helpers.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from research.run import RESULTS, write_json
from research.sweep import figures as F
from research.sweep.runner import SweepResult, analyse, config_label

TABLE_ROWS = 25
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1080px;color:#222}
h1{margin-bottom:4px} h2{border-bottom:2px solid #1f4e79;padding-bottom:3px;margin-top:28px}
.banner{background:#fff3cd;border:2px solid #e0b000;padding:8px 12px;font-weight:bold;margin:10px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:right}
table.kv th{text-align:left;color:#555;white-space:nowrap} table.kv td{text-align:left}
img{max-width:100%;display:block;margin:8px 0}
.fig,table,section h2{break-inside:avoid;page-break-inside:avoid}
"""
SHOWN = ("sharpe", "active_sharpe", "sortino", "cagr", "volatility", "max_drawdown", "turnover")
PCT = {"cagr", "volatility", "max_drawdown", "active_return", "total_return"}


@dataclass
class Section:
    """One section of a sheet: a title, HTML fragments, named figures, and plain lines for the PDF."""

    key: str
    title: str
    html: list[str] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def table_html(df: pd.DataFrame) -> str:
    return df.to_html(classes="tbl", border=0, escape=True, na_rep="n/a")


def kv_html(rows: list[tuple[str, str]]) -> str:
    return "<table class='kv'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows) + "</table>"


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def render_html(title: str, sections: list[Section], images: dict[str, bytes]) -> str:
    """One self-contained page (images inline as data URIs)."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for sec in sections:
        parts.append(f"<section id='{sec.key}'>")
        if sec.key != "header":
            parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        parts += sec.html
        for name, _ in sec.figures:
            b64 = base64.b64encode(images[name]).decode()
            parts.append(f"<div class='fig'><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    per_page = 70
    for start in range(0, max(len(lines), 1), per_page):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.05, 0.97, title, fontsize=13, fontweight="bold", va="top")
        fig.text(0.05, 0.94, "\n".join(lines[start:start + per_page]), fontsize=6.5, family="monospace", va="top")
        pdf.savefig(fig)
        plt.close(fig)


def write_sheet(folder: Path, title: str, sections: list[Section], pdf: bool = True) -> Path:
    """tearsheet.html (+ tearsheet.pdf) and figures/*.png in `folder`; figures are closed afterwards."""
    figdir = folder / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    for i, (name, fig) in enumerate(f for s in sections for f in s.figures):
        images[name] = png_bytes(fig)
        (figdir / f"{i:02d}_{name}.png").write_bytes(images[name])
    out = folder / "tearsheet.html"
    out.write_text(render_html(title, sections, images))
    if pdf:
        with PdfPages(folder / "tearsheet.pdf") as doc:
            for sec in sections:
                if sec.text:
                    _text_page(doc, title if sec.key == "header" else sec.title, sec.text)
                for _, fig in sec.figures:
                    doc.savefig(fig)
            doc.infodict()["Title"] = title
            doc.infodict()["Creator"] = "flowbt"
    for s in sections:
        for _, fig in s.figures:
            plt.close(fig)
    return out


def sweep_folder(strategy: str, out: Path | None = None) -> Path:
    if out is not None:
        return Path(out)
    return RESULTS / "sweeps" / strategy / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def heatmap_axes(result: SweepResult, choice: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """The two heatmap parameters: `choice`, else the two varied parameters with the most values."""
    if choice:
        for c in choice:
            if c not in result.table.columns:
                from research.errors import ConfigError

                raise ConfigError(f"--heatmap: {c!r} is not a parameter of {result.strategy}.")
        return choice
    counts = {k: result.table[k].nunique() for k in result.varied}
    ranked = sorted(counts, key=lambda k: -counts[k])
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None


def ranked_table(result: SweepResult, rows: int = TABLE_ROWS) -> pd.DataFrame:
    t = result.table.head(rows)
    cols = [c for c in SHOWN if c in t.columns and t[c].notna().any()]
    out = pd.DataFrame(index=t.index)
    out["params"] = [config_label(result, int(c)) for c in t.index]
    for c in cols:
        out[c] = [f"{v:.2%}" if c in PCT else f"{v:.2f}" for v in t[c].to_numpy(dtype=float)]
    out.index.name = "config"
    return out


def build_sections(result: SweepResult, heatmap: tuple[str, str] | None = None) -> list[Section]:
    st = result.stats or analyse(result)
    t = result.table
    best = result.best
    head = Section("header", "Sweep")
    facts = [
        ("Strategy", result.strategy), ("Data", result.data_name), ("Configs", f"{len(t):,}"),
        ("Grid", "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in result.grid.items())),
        ("Ranked by", f"{result.score}" + (f" (against {result.benchmark})" if result.benchmark else "")),
        ("Kernel", f"{result.kind} on executor '{result.executor}', {result.seconds:.1f} s "
                   f"({len(t) / max(result.seconds, 1e-9):,.0f} configs/s including preparation)"),
        ("Best config", f"{best}: {config_label(result, best)}"),
    ]
    head.html.append(kv_html(facts))
    head.html.append(f"<div class='banner'>{html.escape(st.statement)}</div>")
    head.text = [f"{k}: {v}" for k, v in facts] + ["", st.statement]

    luck = Section("luck", "Is it luck? Deflated Sharpe, PBO, bootstrap, SPA")
    rows = [
        ("Trials counted", f"{st.n_trials:,} ({st.trials_source}, same data)"),
        ("Sharpe variance across trials (annual)", f"{st.sr_variance * 252:.4f}"),
        ("Best Sharpe expected from luck (annual)", f"{st.expected_max_sharpe:.2f}"),
        (f"Best {result.score}", f"{st.score:.2f}"),
        ("Probabilistic Sharpe (vs 0)", f"{st.psr:.3f}"),
        ("Deflated Sharpe p", f"{st.dsr:.3f} (survives at >= 0.95)"),
    ]
    if st.pbo is not None:
        rows.append(("PBO (CSCV) among the top candidates", f"{st.pbo.pbo:.2f} over the top {st.pbo.n_configs}, "
                                                          f"{st.pbo.n_splits} blocks, {st.pbo.n_combinations:,} splits"))
        rows.append(("P(out-of-sample loss) of the in-sample winner", f"{st.pbo.prob_oos_loss:.2f}"))
    if st.pbo_search is not None:
        rows.append(("PBO over the whole search", f"{st.pbo_search.pbo:.2f} over {st.pbo_search.n_configs} configs "
                                                  "spread evenly over the ranking"))
    if st.bootstrap is not None:
        b = st.bootstrap
        rows.append((f"Bootstrap {b.level:.0%} CI of the best's Sharpe",
                     f"[{b.lower:.2f}, {b.upper:.2f}] (stationary, block {b.block}, {b.n} resamples)"))
    if st.spa is not None:
        rows.append((f"SPA p ({st.spa.n_strategies} configs over the ranking vs 0)", f"{st.spa.consistent:.3f}"))
    luck.html.append(kv_html(rows))
    luck.text = [f"{k}: {v}" for k, v in rows]
    score_label = result.score.replace("_", " ")
    luck.figures.append(("score_histogram", F.score_histogram(t[result.score], st.expected_max_sharpe,
                                                               st.score, score_label)))
    if st.pbo is not None:
        luck.figures.append(("pbo", F.pbo_panel(st.pbo.logits, st.pbo.is_metric, st.pbo.oos_metric, st.pbo.pbo)))

    ranked = Section("ranked", f"Top {min(TABLE_ROWS, len(t))} configs")
    table = ranked_table(result)
    ranked.html.append(table_html(table))
    ranked.text = table.to_string().splitlines()
    keep = [c for c in t.index[:10] if c in result.returns.columns]
    ranked.figures.append(("top_equity", F.top_equity(result.returns[keep], best, result.bench, result.benchmark)))

    sections = [head, luck, ranked]
    axes = heatmap_axes(result, heatmap)
    if axes:
        hm = Section("heatmap", f"Heatmap: {axes[0]} x {axes[1]}")
        hm.figures.append(("heatmap", F.heatmap(t, axes[0], axes[1], result.score, score_label)))
        sections.append(hm)
    return sections


def write_sweep(result: SweepResult, out: Path | None = None, *, heatmap: tuple[str, str] | None = None,
                pdf: bool = True) -> Path:
    """Write the sweep folder and its tear sheet; returns the folder."""
    folder = sweep_folder(result.strategy, out)
    folder.mkdir(parents=True, exist_ok=True)
    st = result.stats or analyse(result)
    table = result.table.copy()
    for k in table.attrs.get("params", []):
        if table[k].dtype == object:
            table[k] = table[k].astype(str)
    table.attrs = {}
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.to_parquet(folder / "sweep.parquet")
    rets = result.returns.copy()
    rets.columns = [f"config_{c}" for c in rets.columns]
    if result.bench is not None:
        rets[f"benchmark_{result.benchmark}"] = result.bench.reindex(rets.index)
    rets.to_parquet(folder / "returns.parquet")
    write_json(folder / "stats.json", st.to_dict())
    write_json(folder / "sweep.json", _meta(result))
    title = f"{result.strategy} — sweep of {result.n_configs:,} configs"
    write_sheet(folder, title, build_sections(result, heatmap), pdf)
    return folder


def _meta(result: SweepResult) -> dict[str, Any]:
    return {
        "strategy": result.strategy, "sweep_id": result.sweep_id, "grid": result.grid, "varied": result.varied,
        "n_configs": result.n_configs, "score": result.score, "benchmark": result.benchmark, "kind": result.kind,
        "executor": result.executor, "seconds": round(result.seconds, 3), "data_name": result.data_name,
        "data_hash": result.data_hash, "best": result.best, "best_params": result.params(result.best),
        "kept_returns": [int(c) for c in result.returns.columns], "pbo_configs": result.pbo_ids,
        "search_configs": result.search_ids,
    }
