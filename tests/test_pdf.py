"""research.report.pdf: text measured and placed as matplotlib's PDF backend placed it, PNGs embedded as they are."""

from __future__ import annotations

import io
import re
import zlib

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_pdf import PdfFile, RendererPdf
from matplotlib.figure import Figure
from PIL import Image

from research.report import pdf as P
from research.report.render import png_bytes

CORE = {"pdf.use14corefonts": True, "font.family": "sans-serif", "font.sans-serif": ["Helvetica"],
        "font.monospace": ["Courier"]}
PROPS = {"Helvetica": {}, "Helvetica-Bold": {"fontweight": "bold"}, "Helvetica-Oblique": {"style": "italic"},
         "Courier": {"family": "monospace"}, "Courier-Bold": {"family": "monospace", "fontweight": "bold"}}
SAMPLES = ["", "Grid", "the strategy's signal (signal.parquet)", "SYNTHETIC DATA", "page 3 of 9",
           "Sharpe 0.42 [0.02, 0.81] · p≥5% — €10 “quoted”", "AVAWAY Tj 'q' `g` ~|~ éàü"]


@pytest.mark.parametrize("font", P.FONTS)
def test_metrics_are_matplotlibs(font):
    from matplotlib._afm import AFM

    with open(f"{matplotlib.get_data_path()}/fonts/pdfcorefonts/{font}.afm", "rb") as fh:
        ref = AFM(fh)
    ours = P.afm(font)
    assert (ours.ascender, ours.descender) == (ref.get_ascender(), ref.get_descender())
    every = bytes(range(32, 256)).decode("cp1252", "replace")
    for text in [*SAMPLES, every]:
        text = text.encode("cp1252", "replace").decode("cp1252")
        _, _, w, h, d = ref.get_str_bbox_and_descent(text)
        assert ours.extent(text) == (w, h, d), text


def _matplotlib_lines(text: str, font: str, size: float, **kw) -> list[tuple[str, float, float]]:
    """(line, x, y) where matplotlib's PDF backend draws each line of fig.text(0.1, 0.5, text, **kw)."""
    with matplotlib.rc_context(CORE):
        fig = Figure(figsize=(8.27, 11.69), dpi=72)  # as saving a PDF sets it
        renderer = RendererPdf(PdfFile(io.BytesIO()), 72, 8.27 * 72, 11.69 * 72)
        t = fig.text(0.1, 0.5, text, fontsize=size, **PROPS[font], **kw)
        _, info, _ = t._get_layout(renderer)
        x0, y0 = t.get_transform().transform((0.1, 0.5))
        return [(line, x + x0, y + y0) for line, _, (x, y) in info if line]


@pytest.mark.parametrize("font", P.FONTS)
@pytest.mark.parametrize("align", [dict(va="top"), dict(va="baseline", ha="right"), dict(va="center", ha="center"),
                                   dict(va="bottom"), dict(va="top", linespacing=1.38)])
def test_text_sits_where_matplotlib_put_it(font, align):
    for text in [*SAMPLES[1:], "line one\nthe strategy's signal\n\nlast, after a blank line"]:
        text = text.encode("cp1252", "replace").decode("cp1252")
        doc = P.PdfDocument(8.27 * 72, 11.69 * 72)
        page = doc.new_page()
        page.text(0.1 * 8.27 * 72, 0.5 * 11.69 * 72, text, font=font, size=7.5, **align)
        ours = [(m.group(1), m.group(2)) for m in re.finditer(rb"Tf (\S+) (\S+) Td", b"\n".join(page.ops))]
        want = _matplotlib_lines(text, font, 7.5, **align)
        assert len(ours) == len(want), text
        for (x, y), (_, wx, wy) in zip(ours, want, strict=True):
            assert float(x) == pytest.approx(wx, abs=1e-9) and float(y) == pytest.approx(wy, abs=1e-9), text


def test_png_is_matplotlibs_pixels_in_rgb_and_goes_into_the_pdf_as_is(tmp_path):
    fig = Figure(figsize=(3.0, 1.99))  # 1.99 in x 100 dpi: matplotlib's rounding of the canvas size
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title("a title")
    rgb = png_bytes(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    ref = np.asarray(Image.open(buf))
    im = Image.open(io.BytesIO(rgb))
    assert im.mode == "RGB" and (np.asarray(im) == ref[..., :3]).all() and (ref[..., 3] == 255).all()
    doc = P.PdfDocument(200.0, 200.0)
    doc.new_page().image(rgb, 10, 10, 100, 66)
    path = tmp_path / "one.pdf"
    doc.write(path, {"Title": "t"})
    data = path.read_bytes()
    doc.write(tmp_path / "two.pdf", {"Title": "run — tear sheet", "Creator": "flowbt (x)"})
    info = (tmp_path / "two.pdf").read_bytes()
    assert b"/Title <FEFF" in info and b"/Creator (flowbt \\(x\\))" in info
    png = P.PngImage.parse(rgb)
    assert png.data in data and f"/Width {png.width} /Height {png.height}".encode() in data
    raw = zlib.decompress(png.data)  # one filter byte, then the RGB bytes, per row
    assert len(raw) == png.height * (1 + 3 * png.width)


def test_cross_reference_table_points_at_every_object(tmp_path):
    doc = P.PdfDocument(100.0, 100.0)
    for k in range(3):
        page = doc.new_page()
        page.text(10, 50, f"page {k} (of 3) \\ done", font="Courier-Bold", size=9, ha="right")
        page.line(0, 0, 100, 100, "#123456", 0.5)
        page.rect(5, 5, 20, 10, "#ffffff", "#000000", 1.0)
    path = tmp_path / "x.pdf"
    doc.write(path, {"Title": "x"})
    data = path.read_bytes()
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    rows = data[start:].split(b"\n")
    assert rows[0] == b"xref"
    count = int(rows[1].split()[1])
    for i, row in enumerate(rows[3:3 + count - 1], start=1):
        offset = int(row.split()[0])
        assert data[offset:].startswith(f"{i} 0 obj".encode()), i
    first = zlib.decompress(data.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0])
    assert b"(page 0 \\(of 3\\) \\\\ done) Tj" in first  # parentheses and backslash escaped
