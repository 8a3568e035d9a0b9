"""The PDF (fpdf2, DejaVu Sans embedded): Unicode survives, tables stay readable, no half-empty pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import research
from research.report.pdf import TABLE, TABLE_MIN, PdfWriter, render_pdf
from research.report.render import KV, Document, Note, Section, Table
from research.schedule import weekly
from research.strategy import Strategy

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HYPOTHESIS = "When Δ net flow ≥ 2σ → long SPY (“quoted”, é, —)"  # Δ ≥ σ → and friends, beyond cp1252


def tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is not installed: .ci/run must install poppler-utils")
    pytest.skip(f"{name} is not installed (Debian: apt-get install poppler-utils)")


def text_of(pdf: Path, *args: str) -> str:
    return subprocess.run([tool("pdftotext"), *args, str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def _spy_when_up(data, **_):
    """Long SPY in the weeks after SPY rose (a plain timing rule for the test)."""
    close = data.prices.close["SPY"]
    dates = weekly(data.index)
    return (close.pct_change(5).reindex(dates) > 0).astype(float).to_frame("SPY")


@pytest.fixture(scope="module")
def unicode_run(market, tmp_path_factory):
    strat = Strategy("unicode_test", HYPOTHESIS, (), {}, {}, _spy_when_up, mode="timing")
    out = tmp_path_factory.mktemp("pdf") / "run"
    research.run(strat, market).save(out)
    return out


def test_unicode_in_the_hypothesis_survives_into_the_pdf(unicode_run):
    text = text_of(unicode_run / "tearsheet.pdf")
    for chars in ("Δ net flow ≥ 2σ → long SPY", "“quoted”", "é", "—"):
        assert chars in " ".join(text.split()), chars


def test_fonts_are_embedded_dejavu(unicode_run):
    listing = subprocess.run([tool("pdffonts"), str(unicode_run / "tearsheet.pdf")], capture_output=True, text=True,
                             check=True).stdout
    rows = [ln.split() for ln in listing.splitlines()[2:] if ln.strip()]
    assert rows and all("DejaVu" in r[0] for r in rows), listing
    assert all(r[-5] == "yes" for r in rows), listing  # the "emb" column
    assert "Helvetica" not in listing and "Courier" not in listing


def test_pages_are_numbered_and_none_is_half_empty(unicode_run, tmp_path):
    pdf = unicode_run / "tearsheet.pdf"
    text = text_of(pdf)
    n = int(re.search(r"page 1 of (\d+)", text).group(1))
    assert n >= 5 and f"page {n} of {n}" in text
    subprocess.run([tool("pdftoppm"), "-r", "20", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True,
                   timeout=120)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) == n
    for page in pages[:-1]:  # the last page may end where the document ends
        ink = np.asarray(Image.open(page), dtype=float)[:-20] < 200  # without the footer
        lowest = np.nonzero(ink.any(axis=1))[0].max() / ink.shape[0]
        assert lowest > 0.5, f"{page.name}: content ends at {lowest:.0%} of the page"


def _doc(*blocks) -> Document:
    return Document("A test — Δσ", "subtitle", [Section("header", "t", list(blocks))], footer="footer")


def _font_sizes(path: Path) -> list[float]:
    raw = path.read_bytes()
    sizes = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.S):
        try:
            data = zlib.decompress(m.group(1))
        except zlib.error:
            data = m.group(1)
        sizes += [float(x) for x in re.findall(rb"/F\d+ ([\d.]+) Tf", data)]
    return sizes


def test_a_wide_table_is_split_into_column_groups_not_shrunk(tmp_path):
    df = pd.DataFrame(np.arange(3 * 24).reshape(3, 24) * 1234.5678, columns=[f"run number {i}" for i in range(24)],
                      index=pd.Index(["Sharpe", "CAGR", "Max drawdown"], name="metric")).map(lambda v: f"{v:,.2f}")
    path = render_pdf(_doc(Table(df, "Twenty-four runs")), tmp_path / "wide.pdf")
    sizes = _font_sizes(path)
    assert sizes and min(sizes) >= 6.5 and TABLE >= TABLE_MIN >= 7.0
    text = text_of(path)
    assert "continued" in text and re.search(r"run\s+number\s+23", text) and text.count("Max drawdown") >= 2


def test_long_text_cells_wrap_and_nothing_runs_off_the_page(tmp_path):
    long = "a long explanation that goes on " * 12
    df = pd.DataFrame({"what": [long, "short"], "value": ["1.00", "2.00"]}, index=pd.Index(["x", "y"], name="k"))
    w = PdfWriter(_doc(Note(long, "warn"), KV([("key", long)]), Table(df, "Wrapped", text=("what",))))
    path = w.write(tmp_path / "wrap.pdf")
    words = subprocess.run([tool("pdftotext"), "-bbox", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', words))
    assert right <= 595.28 - 40 + 1  # within the right margin
    assert "goes on" in text_of(path)
