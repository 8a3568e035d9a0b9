"""Render a document (a list of `Section`s made of blocks) as one self-contained HTML page and as an A4 PDF.

Blocks are plain data: `Table` (formatted strings), `KV` (label/value pairs), `Note` (a paragraph), `Fig` (a
matplotlib figure, drawn once to PNG) and `Raw` (HTML with a PDF equivalent). The HTML embeds every PNG as a
data URI and loads nothing; the PDF (`research.report.pdf`) places the same PNGs on A4 pages with the tables
and notes as text, a running header and page numbers. Both come from the same blocks, so they cannot disagree.
"""

from __future__ import annotations

import base64
import html
import io
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DPI = 100  # PNG resolution: figures are 10 in wide, so 1000 px, about 135 dpi on the PDF page


# --------------------------------------------------------------------------------------------------------------
# blocks


@dataclass
class Table:
    """A table of already-formatted strings. Columns in `text` are left-aligned; the rest are numbers."""

    df: pd.DataFrame
    caption: str = ""
    index: bool = True
    text: tuple[str, ...] = ()
    pdf_records: bool = False  # in the PDF, one wrapped paragraph per row (for wide text tables)
    cls: str = ""
    pdf_df: pd.DataFrame | None = None  # a shorter frame for the PDF, when the HTML's is too wordy


@dataclass
class KV:
    """Label / value pairs (a definition table)."""

    rows: list[tuple[str, str]]
    caption: str = ""


@dataclass
class Note:
    """A paragraph; kind is note, warn, ok, banner, muted or empty (an absent analysis, said plainly)."""

    text: str
    kind: str = "note"


@dataclass
class Fig:
    """A figure, with a caption that says how to read it. `fig` is the Figure, or a function that builds it
    (called once, when the figures are drawn: so that building them is shared like drawing is)."""

    name: str
    fig: Figure | Callable[[], Figure]
    caption: str = ""
    png: bytes = b""
    cost: float = 1.0  # relative drawing time, a scheduling hint: the costliest figures are drawn first

    def figure(self) -> Figure:
        """The Figure (built now if `fig` is a function)."""
        if not isinstance(self.fig, Figure):
            self.fig = self.fig()
        return self.fig

    def render(self, dpi: int = DPI) -> bytes:
        """Build and draw the figure, close it, and return its PNG (does not set `png`: it may run in another
        process)."""
        fig = self.figure()
        try:
            return png_bytes(fig, dpi)
        finally:
            plt.close(fig)


@dataclass
class Raw:
    """HTML for the page, and the blocks that stand for it in the PDF."""

    html: str
    pdf: list[Any] = field(default_factory=list)


Block = Table | KV | Note | Fig | Raw


@dataclass
class Section:
    """One section of a tear sheet: an id (the HTML anchor), a title, and its blocks in order."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    intro: str = ""  # one line under the title: the question this section answers
    pdf_new_page: bool = True

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self

    @property
    def figures(self) -> list[Fig]:
        return [b for b in self.blocks if isinstance(b, Fig)]


@dataclass
class Document:
    """Everything the renderers need: title, subtitle, the synthetic flag and the sections."""

    title: str
    subtitle: str
    sections: list[Section]
    synthetic: bool = False
    footer: str = ""  # left of the PDF's footer, e.g. the input hash


# --------------------------------------------------------------------------------------------------------------
# formatting


def fmt(value: Any, kind: str = "num", digits: int = 2) -> str:
    """A number for humans: 'pct' (12.34%), 'num' (1.23), 'int' (1,234), 'bp'; n/a for missing or non-finite."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "n/a"
    if kind == "pct":
        return f"{v * 100:.{digits}f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "bp":
        return f"{v * 1e4:.{max(digits - 1, 0)}f} bp"
    return f"{v:.{digits}f}"


def fmt_date(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if pd.isna(ts) else ts.date().isoformat()


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as an 8-bit RGB PNG (no metadata, so the same figure always gives the same bytes).

    RGB, not matplotlib's RGBA: the figures are opaque, the file is a quarter smaller, and an RGB PNG's
    PDF embeds it as it is (`research.report.pdf`).
    """
    from PIL import Image

    from research.report.figures import STYLE

    buf = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="rgba", dpi=dpi)
    # the Agg canvas matplotlib drew: inches x dpi pixels, truncated unless within a hair of an integer
    size = tuple(round(v) if abs(v - round(v)) < 1e-6 else int(v) for v in fig.get_size_inches() * dpi)
    raw = buf.getvalue()
    if size[0] * size[1] * 4 != len(raw):
        raise RuntimeError(f"figure drawn as {len(raw)} bytes, expected {size[0]} x {size[1]} RGBA pixels")
    out = io.BytesIO()
    Image.frombuffer("RGBA", size, raw, "raw", "RGBA", 0, 1).convert("RGB").save(
        out, format="png", compress_level=2, dpi=(dpi, dpi))
    return out.getvalue()


def draw_figures(sections: Iterable[Section], figdir: Path | None = None, dpi: int = DPI) -> None:
    """Draw every figure not drawn yet to PNG (kept on the block), write figures/NN_name.png for all of them,
    and close the figures.

    The figures are shared with a forked process (`research.forkmap.fork_map`), each process taking the next
    one until none is left: drawing is most of a tear sheet's time, one figure at a time.
    """
    from research.forkmap import fork_map

    if figdir is not None:
        figdir.mkdir(parents=True, exist_ok=True)
        for old in figdir.glob("*.png"):
            old.unlink()
    blocks = [b for sec in sections for b in sec.figures]
    todo = sorted((b for b in blocks if not b.png), key=lambda b: -b.cost)
    for b, png in zip(todo, fork_map(lambda b: b.render(dpi), todo), strict=True):
        b.png = png
        if isinstance(b.fig, Figure):  # drawn (and closed) in the forked child: close this process's copy too
            plt.close(b.fig)
    if figdir is not None:
        for i, b in enumerate(blocks):
            (figdir / f"{i:02d}_{b.name}.png").write_bytes(b.png)


# --------------------------------------------------------------------------------------------------------------
# HTML

CSS = """
:root{--ink:#1d2430;--muted:#5b6675;--line:#e2e6eb;--accent:#1f4e79;--bg:#f5f7fa;--warn:#fff4d6;--warnb:#e0a800}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);
 background:var(--bg);margin:0}
main{max-width:1080px;margin:0 auto;padding:20px 24px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 20px 16px;margin:14px 0}
h1{font-size:26px;margin:0 0 2px} h2{font-size:19px;margin:0 0 2px;color:var(--accent)}
h3{font-size:14px;margin:14px 0 4px;color:var(--ink)}
.sub{color:var(--muted);margin:0 0 10px}
.intro{color:var(--muted);margin:0 0 10px;font-style:italic}
.banner{background:#fde8c8;border:2px solid #d9822b;color:#7a3e00;border-radius:6px;padding:8px 12px;
 font-weight:600;margin:10px 0}
.hypothesis{font-size:15px;margin:8px 0 12px;padding-left:10px;border-left:3px solid var(--accent)}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:8px;margin:12px 0}
.kpi{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:#fbfcfd}
.kpi .label{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kpi .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.kpi .detail{font-size:11px;color:var(--muted);font-variant-numeric:tabular-nums}
.neg{color:#a12d22} .pos{color:#1f6b43}
.meta{display:grid;grid-template-columns:1fr 1fr;gap:0 24px}
nav.toc{font-size:13px;margin:10px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px}
nav.toc a{color:var(--accent);text-decoration:none} nav.toc a:hover{text-decoration:underline}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 10px;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:2px 0 4px;color:var(--ink)}
th,td{border-bottom:1px solid var(--line);padding:3px 10px;vertical-align:top}
thead th{border-bottom:2px solid #c7ced6;font-weight:600;color:var(--muted);white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap} td.txt,th.txt{text-align:left}
tbody th{text-align:left;font-weight:500;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
table.kv th{color:var(--muted);font-weight:500;width:1%;white-space:nowrap;padding-right:16px}
table.kv td{text-align:left}
table.wide{width:100%}
table.cmp{max-width:100%;font-size:11.5px} table.cmp th,table.cmp td{padding:3px 6px;white-space:normal}
table.cmp thead th{overflow-wrap:break-word;min-width:4.5em} table.cmp td.txt{overflow-wrap:break-word}
.note{margin:6px 0;color:var(--ink)} .lead{font-size:15px;margin:8px 0} .muted{color:var(--muted);font-size:12.5px}
.warn{background:var(--warn);border-left:4px solid var(--warnb);padding:6px 10px;margin:8px 0}
.ok{background:#e6f4ea;border-left:4px solid #2e7d4f;padding:6px 10px;margin:8px 0}
.empty{background:#f1f3f5;border:1px dashed #b8c0c8;color:#4a5561;padding:10px 12px;margin:8px 0;border-radius:4px}
figure{margin:10px 0 12px} figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:12px;color:var(--muted);margin-top:2px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:16px}
code{font-size:12px;background:#f1f3f5;padding:0 3px;border-radius:3px;word-break:break-all}
@page{size:A4;margin:12mm}
@media print{
 body{background:#fff;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 main{max-width:none;padding:0}
 section{border:none;border-radius:0;padding:0;margin:0;break-before:page;page-break-before:always}
 section#header,section.cont{break-before:auto;page-break-before:auto}
 h2{break-after:avoid;page-break-after:avoid}
 figure,table,.kpis,.banner{break-inside:avoid;page-break-inside:avoid}
 nav.toc{display:none}
 .kpis{grid-template-columns:repeat(6,1fr)}
}
@media (max-width:800px){.kpis{grid-template-columns:repeat(3,1fr)}.meta{grid-template-columns:1fr}}
"""


def table_html(t: Table) -> str:
    """A Table as escaped HTML with numbers right-aligned."""
    df = t.df
    cls = " ".join(filter(None, ("tbl", t.cls)))
    # comparison tables may wrap long names: a break opportunity after each underscore
    esc = (lambda v: html.escape(v).replace("_", "_<wbr>")) if "cmp" in t.cls else html.escape
    out = [f"<table class='{cls}'>"]
    if t.caption:
        out.append(f"<caption>{html.escape(t.caption)}</caption>")
    out.append("<thead><tr>")
    if t.index:
        out.append(f"<th class='txt'>{html.escape(str(df.index.name or ''))}</th>")
    for c in df.columns:
        kind = "txt" if c in t.text else "num"
        out.append(f"<th class='{kind}'>{esc(str(c))}</th>")
    out.append("</tr></thead><tbody>")
    for idx, row in zip(df.index, df.itertuples(index=False), strict=True):
        out.append("<tr>")
        if t.index:
            out.append(f"<th>{esc(str(idx))}</th>")
        for c, v in zip(df.columns, row, strict=True):
            kind = "txt" if c in t.text else "num"
            out.append(f"<td class='{kind}'>{esc(str(v))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def kv_html(kv: KV) -> str:
    cap = f"<caption>{html.escape(kv.caption)}</caption>" if kv.caption else ""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in kv.rows)
    return f"<table class='kv'>{cap}<tbody>{rows}</tbody></table>"


def block_html(b: Block) -> str:
    if isinstance(b, Table):
        return table_html(b)
    if isinstance(b, KV):
        return kv_html(b)
    if isinstance(b, Note):
        return f"<p class='{b.kind}'>{html.escape(b.text)}</p>"
    if isinstance(b, Fig):
        data = base64.b64encode(b.png).decode()
        cap = f"<figcaption>{html.escape(b.caption)}</figcaption>" if b.caption else ""
        return (f"<figure id='fig-{html.escape(b.name)}'><img alt='{html.escape(b.name)}' "
                f"src='data:image/png;base64,{data}'>{cap}</figure>")
    if isinstance(b, Raw):
        return b.html
    raise TypeError(f"unknown block {type(b).__name__}")


def built_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


#: The build time in the HTML sits in this element, so two builds compare equal once it is removed.
STAMP_RE = re.compile(r"<time class='built'>[^<]*</time>")


def render_html(doc: Document) -> str:
    """The whole page: every image inline as a data URI, no script, no external resource."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<link rel='icon' href='data:,'>",
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body><main>",
        *_body(doc),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def render_fragment(doc: Document) -> str:
    """The document for a notebook cell: the page's body in a container of its own, with the page's styles
    rewritten to apply inside that container only (`scope_css`), so showing it restyles nothing else."""
    scope = f"flowbt-{uuid.uuid4().hex[:10]}"
    return (f"<div id='{scope}' class='flowbt-sheet'><style>{scope_css(CSS, '#' + scope)}</style><main>"
            + "\n".join(_body(doc, f"{scope}-")) + "</main></div>")


def _body(doc: Document, prefix: str = "") -> list[str]:
    """The sections and footer; `prefix` goes before every id (and link to one), so that several documents
    shown in one notebook keep their anchors apart."""
    toc = "".join(f"<a href='#{prefix}{s.key}'>{html.escape(s.title)}</a>" for s in doc.sections
                  if s.key != "header")
    parts = []
    for i, sec in enumerate(doc.sections):
        cls = "" if sec.pdf_new_page or i == 0 else " class='cont'"
        parts.append(f"<section id='{prefix}{html.escape(sec.key)}'{cls}>")
        if sec.key == "header":
            parts.append(f"<h1>{html.escape(doc.title)}</h1><p class='sub'>{html.escape(doc.subtitle)}</p>")
        else:
            parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        if sec.intro:
            parts.append(f"<p class='intro'>{html.escape(sec.intro)}</p>")
        blocks = [block_html(b) for b in sec.blocks]
        parts += [x.replace("<figure id='", f"<figure id='{prefix}", 1) for x in blocks] if prefix else blocks
        if sec.key == "header" and toc:
            parts.append(f"<nav class='toc'>{toc}</nav>")
        parts.append("</section>")
    parts.append(f"<footer>Built by flowbt on <time class='built'>{built_stamp()}</time>. "
                 f"{html.escape(doc.footer)}</footer>")
    return parts


#: Selectors that mean "the page" and become the container itself.
_PAGE = {":root", "html", "body"}


def scope_css(css: str, scope: str) -> str:
    """`css` with every rule limited to the element `scope` (a CSS selector) and its descendants.

    `:root`, `html` and `body` become `scope` itself, `*` covers `scope` and everything in it, any other selector
    is prefixed with `scope`; `@media` blocks are scoped inside; `@page` (print page size) is dropped, being
    global by nature. Written for this module's own style sheet (no strings or comments holding braces)."""
    out: list[str] = []
    i, n = 0, len(css)
    while i < n:
        j = css.find("{", i)
        if j < 0:
            break
        head = css[i:j].strip()
        depth, k = 1, j + 1
        while k < n and depth:
            depth += {"{": 1, "}": -1}.get(css[k], 0)
            k += 1
        inner = css[j + 1:k - 1]
        if head.startswith("@media"):
            out.append(f"{head}{{{scope_css(inner, scope)}}}")
        elif not head.startswith("@"):
            sels = []
            for sel in (x.strip() for x in head.split(",")):
                first, _, rest = sel.partition(" ")
                if sel == "*":
                    sels += [scope, f"{scope} *"]
                elif first in _PAGE:
                    sels.append(f"{scope} {rest}".strip())
                else:
                    sels.append(f"{scope} {sel}")
            out.append(f"{','.join(sels)}{{{inner.strip()}}}")
        i = k
    return "\n".join(out)
