"""The A4 PDF of a document (`research.report.render.Document`), drawn with fpdf2.

Text is set in DejaVu Sans, the TrueType font matplotlib ships (so every machine with flowbt has it), embedded
and subset by fpdf2: any Unicode a hypothesis holds ("When Δ net flow ≥ 2σ → long SPY") prints as written.
Figures are the PNGs the HTML shows, embedded as they are. Tables are real tables in the same font at 7.5 pt
(never below 7): long text columns wrap, and a table wider than the page is split into column groups that
repeat its first column. A section starts on a new page only when less than half of the current one is left, so
no page is left half empty; a heading is never the last thing on a page.

Coordinates are points from the top left of the page (fpdf2's).
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from PIL import Image

from research.report.render import KV, Block, Document, Fig, Note, Raw, Table

PAGE_W, PAGE_H = 595.28, 841.89  # A4, points
MARGIN = 40.0
TOP = 56.0  # below the running header
BOTTOM = PAGE_H - 44.0  # above the footer
CONTENT_W = PAGE_W - 2 * MARGIN
BODY = 8.5  # pt
SMALL = 7.5
TABLE = 7.5
TABLE_MIN = 7.0
LINE = 1.3  # line pitch / font size
PAD = 4.0  # table cell padding, left and right
_EPS = 1e-6  # pt: a column sized to its widest word must not wrap it by a rounding error
INK, MUTED, ACCENT, RULE = (29, 36, 48), (91, 102, 117), (31, 78, 121), (199, 206, 214)
BOXES = {"banner": ((253, 232, 200), (217, 130, 43)), "warn": ((255, 244, 214), (224, 168, 0)),
         "ok": ((230, 244, 234), (46, 125, 79)), "empty": ((241, 243, 245), (184, 192, 200))}
FAMILY, MONO = "DejaVu", "DejaVuMono"


@cache
def font_dir() -> Path:
    """matplotlib's bundled TrueType fonts (mpl-data/fonts/ttf), found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: the PDF's font (DejaVu Sans) comes with it")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


FONT_FILES = {(FAMILY, ""): "DejaVuSans.ttf", (FAMILY, "B"): "DejaVuSans-Bold.ttf",
              (FAMILY, "I"): "DejaVuSans-Oblique.ttf", (MONO, ""): "DejaVuSansMono.ttf"}


def _hex(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class PdfWriter:
    """Lays the document's blocks out top to bottom on A4 pages as it draws them."""

    def __init__(self, doc: Document):
        self.doc = doc
        pdf = FPDF(unit="pt", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, TOP, MARGIN)
        for (family, style), fname in FONT_FILES.items():
            pdf.add_font(family, style, str(font_dir() / fname))
        pdf.set_title(doc.title)
        pdf.set_creator("flowbt")
        self.pdf = pdf
        self.y = BOTTOM  # no page yet

    # text -----------------------------------------------------------------------------------------------------

    def font(self, size: float, style: str = "", color: tuple[int, int, int] = INK, family: str = FAMILY) -> None:
        self.pdf.set_font(family, style, size)
        self.pdf.set_text_color(*color)

    def width(self, text: str) -> float:
        return self.pdf.get_string_width(text)

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of `text` (in the current font) no wider than `width`; words longer than a line are cut."""
        out: list[str] = []
        for para in str(text).split("\n"):
            line = ""
            for word in para.split(" "):
                cand = f"{line} {word}" if line else word
                if self.width(cand) <= width + _EPS:
                    line = cand
                    continue
                if line:
                    out.append(line)
                while self.width(word) > width + _EPS and len(word) > 1:  # a word wider than the line
                    k = len(word)
                    while k > 1 and self.width(word[:k]) > width + _EPS:
                        k -= 1
                    out.append(word[:k])
                    word = word[k:]
                line = word
            out.append(line)
        return out

    def lines(self, lines: Sequence[str], x: float, size: float, align: str = "L", width: float = 0.0) -> None:
        """Draw `lines` from self.y (the top of the first line), advancing self.y."""
        pitch = size * LINE
        for ln in lines:
            dx = 0.0 if align == "L" else (width - self.width(ln)) if align == "R" else (width - self.width(ln)) / 2
            self.pdf.text(x + dx, self.y + size * 0.93, ln)  # baseline: the ascent below the line's top
            self.y += pitch

    # pages ----------------------------------------------------------------------------------------------------

    def new_page(self) -> None:
        pdf = self.pdf
        pdf.add_page()
        with pdf.local_context():  # the running header leaves the font and colours of the text it interrupts
            self.font(7.5, color=MUTED)
            pdf.text(MARGIN, 30, self.doc.title)
            if self.doc.synthetic:
                self.font(7.5, "B", (179, 89, 0))
                pdf.text(PAGE_W - MARGIN - self.width("SYNTHETIC DATA"), 30, "SYNTHETIC DATA")
            pdf.set_draw_color(*RULE)
            pdf.set_line_width(0.6)
            pdf.line(MARGIN, 36, PAGE_W - MARGIN, 36)
        self.y = TOP

    def footers(self) -> None:
        """The footer of every page, once their number is known (fpdf2 lets a writer go back to a page)."""
        pdf = self.pdf
        n = pdf.page_no()
        for k in range(1, n + 1):
            pdf.page = k
            self.font(6.5, color=MUTED)
            pdf.text(MARGIN, PAGE_H - 24, self.doc.footer)
            label = f"page {k} of {n}"
            pdf.text(PAGE_W - MARGIN - self.width(label), PAGE_H - 24, label)

    def room(self, h: float) -> None:
        """A new page unless `h` fits below self.y (a block taller than a page starts at the top of one)."""
        if self.y + h > BOTTOM and self.y > TOP + 1:
            self.new_page()

    # document -------------------------------------------------------------------------------------------------

    def write(self, path: Path) -> Path:
        usable = BOTTOM - TOP
        for i, sec in enumerate(self.doc.sections):
            if i == 0 or (sec.pdf_new_page and self.y > TOP + usable / 2):
                self.new_page()
            else:
                self.y += 14
            if sec.key == "header":
                self.font(18, "B")
                for ln in self.wrap(self.doc.title, CONTENT_W):
                    self.room(24)
                    self.lines([ln], MARGIN, 18)
                self.font(BODY + 0.5, color=MUTED)
                self.lines(self.wrap(self.doc.subtitle, CONTENT_W), MARGIN, BODY + 0.5)
                self.y += 4
            else:
                self.font(BODY, "I")
                intro = len(self.wrap(sec.intro, CONTENT_W)) * BODY * LINE + 4 if sec.intro else 0.0
                first = self.start_height(sec.blocks[0]) if sec.blocks else 0.0
                self.room(28 + intro + min(first, 0.6 * (BOTTOM - TOP)))  # a heading keeps company with its start
                self.font(13, "B", ACCENT)
                self.lines(self.wrap(sec.title, CONTENT_W), MARGIN, 13)
                self.pdf.set_draw_color(*ACCENT)
                self.pdf.set_line_width(0.8)
                self.pdf.line(MARGIN, self.y, PAGE_W - MARGIN, self.y)
                self.y += 5
            if sec.intro:
                self.paragraph(sec.intro, MUTED, "I")
            for b in sec.blocks:
                self.block(b)
        self.footers()
        path = Path(path)
        self.pdf.output(str(path))
        return path

    def start_height(self, b: Block) -> float:
        """About how much room the start of block `b` needs on the page it begins (for keeping a heading with
        it): a figure's height, a short table's whole height or a long one's first rows, else a few lines."""
        if isinstance(b, Raw):
            return self.start_height(b.pdf[0]) if b.pdf else 0.0
        if isinstance(b, Fig):
            w_px, h_px = Image.open(io.BytesIO(b.png)).size
            return min(CONTENT_W * h_px / w_px, BOTTOM - TOP - 40) + 20
        if isinstance(b, Table) and not b.pdf_records:
            rows = len(b.df if b.pdf_df is None else b.pdf_df)
            pitch = TABLE * LINE
            whole = (22 if b.caption else 0) + (rows + 2) * (pitch + 1.0)
            return whole if whole < 0.4 * (BOTTOM - TOP) else (22 if b.caption else 0) + 5 * pitch
        return 4 * BODY * LINE

    def paragraph(self, text: str, color: tuple[int, int, int] = INK, style: str = "", size: float = BODY,
                  gap: float = 4.0) -> None:
        self.font(size, style, color)
        for ln in self.wrap(text, CONTENT_W):
            self.room(size * LINE)
            self.lines([ln], MARGIN, size)
        self.y += gap

    def block(self, b: Block) -> None:
        if isinstance(b, Raw):
            for x in b.pdf:
                self.block(x)
        elif isinstance(b, Note):
            self.note(b)
        elif isinstance(b, KV):
            self.kv(b)
        elif isinstance(b, Table):
            self.table(b)
        elif isinstance(b, Fig):
            self.figure(b)
        else:
            raise TypeError(f"unknown block {type(b).__name__}")

    def note(self, b: Note) -> None:
        if b.kind not in BOXES:
            size = BODY + 1.5 if b.kind == "lead" else BODY
            self.paragraph(b.text, MUTED if b.kind == "muted" else INK, size=size)
            return
        size = BODY + (0.5 if b.kind == "banner" else 0)
        style = "B" if b.kind == "banner" else ""
        self.font(size, style)
        lines = self.wrap(b.text, CONTENT_W - 20)
        h = len(lines) * size * LINE + 10
        self.room(h)
        face, edge = BOXES[b.kind]
        self.pdf.set_fill_color(*face)
        self.pdf.set_draw_color(*edge)
        self.pdf.set_line_width(1.0)
        self.pdf.rect(MARGIN, self.y, CONTENT_W, h, style="DF")
        self.y += 5
        self.font(size, style)
        self.lines(lines, MARGIN + 10, size)
        self.y += 5 + 6

    def kv(self, b: KV) -> None:
        size = BODY - 0.5
        if b.caption:
            self.room(40)
            self.font(BODY, "B")
            self.lines([b.caption], MARGIN, BODY)
            self.y += 2
        self.font(size, color=MUTED)
        key_w = min(max((self.width(k) for k, _ in b.rows), default=0.0) + 12, CONTENT_W * 0.3)
        for k, v in b.rows:
            self.font(size)
            vals = self.wrap(v, CONTENT_W - key_w)
            self.font(size, color=MUTED)
            keys = self.wrap(k, key_w - 8)
            h = max(len(vals), len(keys)) * size * LINE
            self.room(h)
            top = self.y
            self.lines(keys, MARGIN, size)
            self.y = top
            self.font(size)
            self.lines(vals, MARGIN + key_w, size)
            self.y = top + h + 1.5
        self.y += 5

    def table(self, t: Table) -> None:
        df = t.df if t.pdf_df is None else t.pdf_df
        if t.pdf_records:
            if t.caption:
                self.room(40)
                self.font(BODY, "B")
                self.lines([t.caption], MARGIN, BODY)
                self.y += 2
            for idx, row in df.iterrows():
                text = (f"{idx}: " if t.index else "") + "; ".join(f"{c}: {v}" for c, v in row.items()
                                                                  if str(v) != "")
                self.paragraph(text, size=BODY - 0.5, gap=2.5)
            self.y += 4
            return
        if t.cls == "kpis" and 0 < len(df) <= 8:
            self.kpis(df)
            return
        for k, (group, widths) in enumerate(column_layout(self, t, df)):
            cap = t.caption + (f" (continued, {k + 1})" if k else "") if t.caption else ""
            self.table_part(t, df, group, widths, cap)

    def kpis(self, df: pd.DataFrame) -> None:
        """Key figures as a row of tiles (label, value, context), as the HTML shows them."""
        n = len(df)
        gap = 6.0
        w = (CONTENT_W - gap * (n - 1)) / n
        self.font(6.5)
        details = [self.wrap(str(v), w - 8) for v in df.iloc[:, 1]]
        h = 30 + max(len(d) for d in details) * 6.5 * LINE
        self.room(h + 6)
        top = self.y
        for i, (label, row) in enumerate(df.iterrows()):
            x = MARGIN + i * (w + gap)
            self.pdf.set_fill_color(251, 252, 253)
            self.pdf.set_draw_color(226, 230, 235)
            self.pdf.set_line_width(0.6)
            self.pdf.rect(x, top, w, h, style="DF")
            self.y = top + 4
            self.font(6.5, color=MUTED)
            self.lines(self.wrap(str(label).upper(), w - 8)[:1], x + 4, 6.5)
            value = str(row.iloc[0])
            self.font(12, "B", (161, 45, 34) if value.startswith("-") else INK)
            self.lines([value], x + 4, 12)
            self.font(6.5, color=MUTED)
            self.lines(details[i], x + 4, 6.5)
        self.y = top + h + 8

    def table_part(self, t: Table, df: pd.DataFrame, cols: list[int], widths: list[float], caption: str) -> None:
        """The table's index (when shown) and columns `cols` at `widths`, rows wrapped where text is long."""
        size = TABLE
        pitch = size * LINE
        heads = ([str(df.index.name or "")] if t.index else []) + [str(df.columns[j]) for j in cols]
        body = [([str(df.index[i])] if t.index else []) + [str(df.iat[i, j]) for j in cols] for i in range(len(df))]
        text = [True] * (1 if t.index else 0) + [df.columns[j] in t.text for j in cols]
        self.font(size, "B", MUTED)
        head_lines = [self.wrap(h, w - 2 * PAD) for h, w in zip(heads, widths, strict=True)]
        head_h = max(len(x) for x in head_lines) * pitch + 3

        def header() -> None:
            self.font(size, "B", MUTED)
            top, x = self.y, MARGIN
            for lines, w, is_text in zip(head_lines, widths, text, strict=True):
                self.y = top
                self.lines(lines, x + PAD, size, "L" if is_text else "R", w - 2 * PAD)
                x += w
            self.y = top + head_h
            self.pdf.set_draw_color(154, 165, 177)
            self.pdf.set_line_width(0.6)
            self.pdf.line(MARGIN, self.y - 1.5, MARGIN + sum(widths), self.y - 1.5)
            self.y += 1

        self.font(size)
        total = sum(max(len(self.wrap(v, w - 2 * PAD)) if is_text else 1
                        for v, w, is_text in zip(row, widths, text, strict=True)) * pitch + 1.0 for row in body)
        whole = (22 if caption else 0) + head_h + total
        # a table of up to 40% of a page is kept on one page; a longer one starts with at least three rows
        self.room(whole if whole < 0.4 * (BOTTOM - TOP) else (22 if caption else 0) + head_h + 3 * pitch)
        if caption:
            self.font(BODY, "B")
            for ln in self.wrap(caption, CONTENT_W):
                self.lines([ln], MARGIN, BODY)
            self.y += 2
        header()
        for i, row in enumerate(body):
            self.font(size)
            cells = [self.wrap(v, w - 2 * PAD) if is_text else [v] for v, w, is_text in zip(row, widths, text,
                                                                                              strict=True)]
            h = max(len(c) for c in cells) * pitch + 1.0
            if self.y + h > BOTTOM:
                self.new_page()
                header()
            top, x = self.y, MARGIN
            if i % 2:
                self.pdf.set_fill_color(248, 249, 251)
                self.pdf.rect(MARGIN, top - 0.5, sum(widths), h, style="F")
            for j, (lines, w, is_text) in enumerate(zip(cells, widths, text, strict=True)):
                self.y = top
                self.font(size, "", INK if j or not t.index else (61, 71, 83))
                self.lines(lines, x + PAD, size, "L" if is_text else "R", w - 2 * PAD)
                x += w
            self.y = top + h
        self.y += 8

    def figure(self, b: Fig) -> None:
        w_px, h_px = Image.open(io.BytesIO(b.png)).size
        w = CONTENT_W
        h = w * h_px / w_px
        if h > BOTTOM - TOP - 40:  # taller than a page: shrink
            h = BOTTOM - TOP - 40
            w = h * w_px / h_px
        self.font(SMALL - 0.5, color=MUTED)
        cap = self.wrap(b.caption, CONTENT_W) if b.caption else []
        self.room(h + len(cap) * (SMALL - 0.5) * LINE + 4)
        self.font(SMALL - 0.5, color=MUTED)
        self.pdf.image(io.BytesIO(b.png), x=MARGIN + (CONTENT_W - w) / 2, y=self.y, w=w, h=h)
        self.y += h + 3
        self.lines(cap, MARGIN, SMALL - 0.5)
        self.y += 10


def natural_widths(w: PdfWriter, heads: list[str], body: list[list[str]], text: list[bool]) -> list[float]:
    """Column widths: each column's widest cell (a number column) or up to 45% of the page (a text column, which
    wraps beyond that); a header wraps at its words rather than widening a number column much."""
    w.font(TABLE)
    out = []
    for j, is_text in enumerate(text):
        cells = max((w.width(r[j]) for r in body), default=0.0)
        w.font(TABLE, "B")
        head_word = max((w.width(x) for x in heads[j].split()), default=0.0)
        head = w.width(heads[j])
        w.font(TABLE)
        if is_text:
            width = min(max(cells, head_word), CONTENT_W * 0.45)
        else:
            width = max(cells, min(head, max(head_word, cells * 1.6)))
        out.append(width + 2 * PAD)
    return out


def min_widths(w: PdfWriter, heads: list[str], body: list[list[str]], text: list[bool],
               natural: list[float]) -> list[float]:
    """The narrowest each column can be: a text column its longest word (at least 60 pt), a number column its
    natural width (numbers never wrap)."""
    out = []
    for j, is_text in enumerate(text):
        if not is_text:
            out.append(natural[j])
            continue
        w.font(TABLE)
        word = max((w.width(x) for r in body for x in r[j].split()), default=0.0)
        w.font(TABLE, "B")
        word = max([word, *(w.width(x) for x in heads[j].split())])
        out.append(min(natural[j], max(word + 2 * PAD, 60.0)))
    return out


def fit(natural: list[float], least: list[float]) -> list[float] | None:
    """Widths within CONTENT_W, text columns narrowed in proportion to their slack; None if even the narrowest
    widths do not fit."""
    if sum(natural) <= CONTENT_W:
        return natural
    if sum(least) > CONTENT_W:
        return None
    slack = [n - m for n, m in zip(natural, least, strict=True)]
    cut = (sum(natural) - CONTENT_W) / sum(slack)
    return [n - s * cut for n, s in zip(natural, slack, strict=True)]


def column_layout(w: PdfWriter, t: Table, df: pd.DataFrame) -> list[tuple[list[int], list[float]]]:
    """(data columns, widths with the index column first) per part of the table: one part when the columns fit
    the page (text columns narrowed, wrapping more, if need be), else groups that fit, each repeating the
    index column."""
    lead = [str(df.index.name or "")] if t.index else []
    heads = lead + [str(c) for c in df.columns]
    body = [([str(df.index[i])] if t.index else []) + [str(df.iat[i, j]) for j in range(df.shape[1])]
            for i in range(len(df))]
    text = [True] * len(lead) + [c in t.text for c in df.columns]
    natural = natural_widths(w, heads, body, text)
    least = min_widths(w, heads, body, text, natural)
    k = len(lead)
    widths = fit(natural, least)
    if widths is not None:
        return [(list(range(df.shape[1])), widths)]
    parts: list[tuple[list[int], list[float]]] = []
    group: list[int] = []
    for j in range(df.shape[1]):
        cand = [*group, j]
        idx = list(range(k)) + [k + c for c in cand]
        if group and fit([natural[i] for i in idx], [least[i] for i in idx]) is None:
            parts.append((group, []))
            group = [j]
        else:
            group = cand
    parts.append((group, []))
    out = []
    for group, _ in parts:
        idx = list(range(k)) + [k + c for c in group]
        nat, lst = [natural[i] for i in idx], [least[i] for i in idx]
        out.append((group, fit(nat, lst) or lst))
    return out


def render_pdf(doc: Document, path: Path) -> Path:
    """Write the document as an A4 PDF: the header on the first page, then every section, figures included."""
    return PdfWriter(doc).write(path)
