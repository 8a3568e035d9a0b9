"""A small PDF writer for the A4 pages of `research.report.render`: text in the standard 14 fonts, lines, boxes
and PNG images, nothing else.

Why not matplotlib (a Figure per page saved through PdfPages, as the PDF was made before): that path decoded
every figure's PNG, resampled it into an axes and compressed it again, and laid every string out through the
artist machinery, about 0.9 s per tear sheet plus 0.25 s to import matplotlib's PDF backend (fontTools). Here
each PNG's compressed data goes into the PDF as it is (the zlib stream of an 8-bit RGB PNG, with its per-row
filters, is a Flate stream with PNG predictors), and text is placed with the fonts' AFM metrics exactly as
matplotlib places it (`matplotlib.text.Text._get_layout` with AFM fonts: the box of a line of text is its
glyphs' extent; with a fixed `linespacing` every line is centred in linespacing x (ascender + descender), with
'normal' spacing its ascent and descent are at least the font's), so the pages look as they did.

Coordinates are PDF points from the bottom left of the page.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

#: cp1252 byte -> the glyph name matplotlib's AFM metrics use for that character (its `uni2type1` table; names
#: the fonts lack fall back to 'question', as in matplotlib). Bytes 32 to 255; '-' where cp1252 has no character.
_GLYPHS = (
    "space exclam quotedbl numbersign dollar percent ampersand quotesingle parenleft parenright asterisk plus "
    "comma hyphen period slash zero one two three four five six seven eight nine colon semicolon less equal "
    "greater question at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright "
    "asciicircum underscore grave a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright "
    "asciitilde uni007F uni20AC - uni201A uni0192 uni201E ellipsis dagger daggerdbl uni02C6 perthousand Scaron "
    "guilsinglleft OE - Zcaron - - quoteleft quoteright quotedblleft quotedblright bullet endash emdash "
    "smalltilde trademark scaron guilsinglright oe - zcaron Ydieresis uni00A0 exclamdown cent sterling uni00A4 "
    "yen brokenbar section dieresis copyright ordfeminine guillemotleft logicalnot uni00AD registered macron "
    "degree plusminus uni00B2 uni00B3 acute mu paragraph periodcentered cedilla uni00B9 ordmasculine "
    "guillemotright uni00BC onehalf uni00BE questiondown Agrave Aacute Acircumflex Atilde Adieresis Aring AE "
    "Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis Eth Ntilde Ograve Oacute "
    "Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls "
    "agrave aacute acircumflex atilde adieresis aring ae ccedilla egrave eacute ecircumflex edieresis igrave "
    "iacute icircumflex idieresis eth ntilde ograve oacute ocircumflex otilde odieresis divide oslash ugrave "
    "uacute ucircumflex udieresis yacute thorn ydieresis"
).split()
GLYPH_OF_BYTE: dict[int, str] = {b: name for b, name in enumerate(_GLYPHS, start=32) if name != "-"}

FONTS = ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Courier", "Courier-Bold")


@dataclass
class Afm:
    """Metrics of one standard font from its AFM file: per glyph name the advance and the box, kerning pairs."""

    name: str
    ascender: float
    descender: float
    glyphs: dict[str, tuple[float, float, float]]  # name -> (advance, bottom, top)
    kern: dict[tuple[str, str], float] = field(default_factory=dict)

    def extent(self, text: str) -> tuple[float, float, float]:
        """(width, height, descent) of one line in thousandths of the font size, as matplotlib's
        `AFM.get_str_bbox_and_descent` measures it: the advances with kerning, descent = -(lowest glyph bottom),
        height = descent + the highest (bottom + top) of a glyph box (matplotlib reads an AFM box, llx lly urx ury,
        as left, bottom, width, height, so its "top" is lly + ury; reproduced so that lines sit where they did)."""
        if not text:
            return 0.0, 0.0, 0.0
        width, last, bottom, top = 0.0, "", 1_000_000_000.0, 0.0
        for byte in text.encode("cp1252", "replace"):
            name = GLYPH_OF_BYTE.get(byte, "question")
            if name not in self.glyphs:
                name = "question"
            advance, lo, hi = self.glyphs[name]
            width += advance + self.kern.get((last, name), 0.0)
            bottom, top, last = min(bottom, lo), max(top, lo + hi), name
        return width, top - bottom, -bottom


@cache
def afm(font: str) -> Afm:
    """The AFM metrics matplotlib ships for one of `FONTS` (mpl-data/fonts/pdfcorefonts)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "pdfcorefonts" / f"{font}.afm"
    header: dict[str, str] = {}
    glyphs: dict[str, tuple[float, float, float]] = {}
    kern: dict[tuple[str, str], float] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("C "):
            fields = dict(part.strip().split(" ", 1) for part in line.split(";") if part.strip())
            box = fields["B"].split()
            glyphs[fields["N"]] = (float(fields["WX"]), float(box[1]), float(box[3]))
        elif line.startswith("KPX "):
            _, a, b, dx = line.split()
            kern[(a, b)] = float(dx)
        elif " " in line:
            key, value = line.split(" ", 1)
            header.setdefault(key, value)
    return Afm(font, float(header["Ascender"]), float(header["Descender"]), glyphs, kern)


def _num(x: float) -> str:
    """A number as matplotlib's PDF backend writes it (up to 10 decimals, no trailing zeros)."""
    s = f"{x:.10f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _rgb(color: str) -> str:
    """'#rrggbb' as three PDF colour components."""
    c = color.lstrip("#")
    return " ".join(_num(int(c[i:i + 2], 16) / 255.0) for i in (0, 2, 4))


def _pdf_string(text: str) -> bytes:
    """A PDF literal string of `text` in WinAnsi (cp1252; other characters become '?')."""
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _info_string(text: str) -> str:
    """A document-information string: literal if ASCII, else UTF-16BE with its byte-order mark, in hex (as
    matplotlib writes them; WinAnsi bytes would be read as PDFDocEncoding there)."""
    if text.isascii():
        return _pdf_string(text).decode("ascii")
    return "<" + ("\ufeff" + text).encode("utf-16-be").hex().upper() + ">"


@dataclass
class PngImage:
    """The parts of an 8-bit RGB, non-interlaced PNG a PDF image needs: size and the zlib stream of its rows."""

    width: int
    height: int
    data: bytes

    @classmethod
    def parse(cls, png: bytes) -> PngImage:
        """From PNG bytes; any other PNG (alpha, palette, 16-bit, interlaced) is converted to RGB first."""
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError("not a PNG")
        pos, idat, head = 8, [], b""
        while pos < len(png):
            length, kind = struct.unpack(">I4s", png[pos:pos + 8])
            chunk = png[pos + 8:pos + 8 + length]
            if kind == b"IHDR":
                head = chunk
            elif kind == b"IDAT":
                idat.append(chunk)
            elif kind == b"IEND":
                break
            pos += 12 + length
        width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", head)
        if (depth, color, interlace) != (8, 2, 0):
            return cls.parse(_to_rgb_png(png))
        return cls(width, height, b"".join(idat))


def _to_rgb_png(png: bytes) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    with Image.open(io.BytesIO(png)) as im:
        im.convert("RGB").save(buf, format="png", compress_level=2)
    return buf.getvalue()


class Page:
    """One page's content stream; `text`, `line`, `rect` and `image` append to it."""

    def __init__(self, doc: PdfDocument) -> None:
        self.doc = doc
        self.ops: list[bytes] = []

    def _op(self, text: str) -> None:
        self.ops.append(text.encode("ascii"))

    def text(self, x: float, y: float, text: str, *, font: str = "Helvetica", size: float = 10.0,
             color: str = "#000000", ha: str = "left", va: str = "baseline",
             linespacing: float | None = None) -> None:
        """Text at (x, y) aligned as matplotlib's `Figure.text(x, y, s, ha=, va=, linespacing=)` aligns it;
        lines are split on newlines and aligned like the whole (matplotlib's default multialignment)."""
        m = afm(font)
        scale = size / 1000.0
        asc_min, desc_min = m.ascender * scale, -m.descender * scale
        lines = text.split("\n")
        gap = 0.0 if len(lines) == 1 or linespacing is not None else (asc_min + desc_min) * 0.2
        this_y, rows = 0.0, []
        d = 0.0
        for line in lines:  # matplotlib's Text._get_layout, operation for operation
            w, h, d = (v * scale for v in m.extent(line))
            a = h - d
            if linespacing is None:
                a, d = max(a, asc_min) + gap / 2, max(d, desc_min) + gap / 2
            else:
                leading = linespacing * (asc_min + desc_min) - (a + d)
                a, d = a + leading / 2, d + leading / 2
            this_y -= a
            rows.append((line, w, this_y))
            this_y -= d
        width = max(w for _, w, _ in rows)
        bottom = rows[-1][2] - d
        off_x = {"left": 0.0, "right": width, "center": width / 2}[ha]
        off_y = {"top": 0.0, "bottom": bottom, "center": bottom / 2, "baseline": bottom + d}[va]
        name = self.doc.font(font)
        self._op(f"{_rgb(color)} rg")
        for line, w, y_line in rows:
            if not line:
                continue
            dx = {"left": 0.0, "right": width - w, "center": width / 2 - w / 2}[ha]
            self._op(f"BT /{name} {_num(size)} Tf {_num((dx - off_x) + x)} {_num((y_line - off_y) + y)} Td")
            self.ops.append(_pdf_string(line) + b" Tj ET")

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str, lw: float) -> None:
        """A straight line as matplotlib strokes a Line2D (projecting caps, round joins)."""
        self._op(f"{_rgb(color)} RG {_num(lw)} w 2 J 1 j {_num(x0)} {_num(y0)} m {_num(x1)} {_num(y1)} l S")

    def rect(self, x: float, y: float, w: float, h: float, face: str, edge: str, lw: float) -> None:
        """A filled, outlined rectangle (lower-left corner, width, height), as matplotlib draws a Rectangle."""
        self._op(f"{_rgb(face)} rg {_rgb(edge)} RG {_num(lw)} w 0 J 0 j {_num(x)} {_num(y)} {_num(w)} {_num(h)} "
                 "re B")

    def image(self, png: bytes, x: float, y: float, w: float, h: float) -> None:
        """A PNG stretched over the box with lower-left corner (x, y), width w and height h."""
        name = self.doc.image(png)
        self._op(f"q {_num(w)} 0 0 {_num(h)} {_num(x)} {_num(y)} cm /{name} Do Q")


class PdfDocument:
    """Pages of one size, the fonts and images they use, written as one PDF 1.4 file."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.pages: list[Page] = []
        self.fonts: dict[str, str] = {}
        self.images: list[PngImage] = []

    def new_page(self) -> Page:
        page = Page(self)
        self.pages.append(page)
        return page

    def font(self, font: str) -> str:
        if font not in FONTS:
            raise ValueError(f"unknown font {font!r}; one of {FONTS}")
        return self.fonts.setdefault(font, f"F{len(self.fonts) + 1}")

    def image(self, png: bytes) -> str:
        self.images.append(PngImage.parse(png))
        return f"I{len(self.images)}"

    def write(self, path: Path, info: dict[str, str]) -> None:
        """Write the file: catalog, pages, fonts (not embedded, WinAnsi), images, info; no dates, so the same
        document gives the same bytes."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        def stream(extra: str, data: bytes) -> bytes:
            return (f"<< {extra} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream")

        n_pages = len(self.pages)
        catalog, pages_id = 1, 2
        first_page = 3
        first_content = first_page + n_pages
        first_font = first_content + n_pages
        first_image = first_font + len(self.fonts)
        info_id = first_image + len(self.images)
        add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())
        kids = " ".join(f"{first_page + k} 0 R" for k in range(n_pages))
        add(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
        fonts = " ".join(f"/{name} {first_font + k} 0 R" for k, name in enumerate(self.fonts.values()))
        images = " ".join(f"/I{k + 1} {first_image + k} 0 R" for k in range(len(self.images)))
        resources = f"<< /Font << {fonts} >> /XObject << {images} >> /ProcSet [/PDF /Text /ImageC] >>"
        for k in range(n_pages):
            add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {_num(self.width)} {_num(self.height)}] "
                f"/Resources {resources} /Contents {first_content + k} 0 R >>".encode())
        for page in self.pages:
            add(stream("/Filter /FlateDecode", zlib.compress(b"\n".join(page.ops), 6)))
        for font in self.fonts:
            add(f"<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding >>".encode())
        for im in self.images:
            add(stream(f"/Type /XObject /Subtype /Image /Width {im.width} /Height {im.height} "
                       "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
                       f"/DecodeParms << /Predictor 15 /Colors 3 /BitsPerComponent 8 /Columns {im.width} >>",
                       im.data))
        add(("<< " + " ".join(f"/{k} {_info_string(v)}" for k, v in info.items()) + " >>").encode("ascii"))
        assert len(objects) == info_id and catalog == 1
        out = bytearray(b"%PDF-1.4\n%\xac\xdc \xab\xba\n")
        offsets = []
        for i, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
        out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info_id} 0 R >>\n"
                f"startxref\n{xref}\n%%EOF\n").encode()
        Path(path).write_bytes(bytes(out))
