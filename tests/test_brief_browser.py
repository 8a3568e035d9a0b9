"""The weekly brief as a person sees it: headless Chromium opens the HTML, pdftotext reads the PDF.

Uses the tear-sheet browser tests' helpers (a missing browser or poppler skips locally, fails in CI).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_tearsheet_browser import (  # noqa: F401  (driver is a fixture)
    PDFTOTEXT,
    check_images_and_console,
    driver,
    need,
    open_page,
    pages_with_content,
    screenshot,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def brief_dir(tmp_path_factory, market) -> tuple[Path, object]:
    from research.weekly import brief

    out = tmp_path_factory.mktemp("brief")
    return out, brief(market, out=out, weeks=4)


def test_brief_html_opens_with_every_figure(brief_dir, driver):  # noqa: F811
    out, b = brief_dir
    open_page(driver, out / "brief.html")
    check_images_and_console(driver, 3)
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert sections[:3] == ["header", "book", "sectors"] and "models" in sections and "weeks" in sections
    body = driver.find_element("css selector", "body").text
    assert b.sentences["book"][0] in body and b.sentences["sectors"][0] in body
    img = screenshot(driver, out / "brief_screenshot.png")
    assert img.std() > 10, "the screenshot is blank"


def test_brief_pdf_has_the_sentences(brief_dir, tmp_path):
    out, b = brief_dir
    pages_with_content(out / "brief.pdf", tmp_path)
    text = subprocess.run([need(PDFTOTEXT, "pdftotext"), str(out / "brief.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    for title in ("Book", "Sectors", "Baskets", "What the models say", "Week by week"):
        assert title in flat, title
    assert " ".join(b.sentences["book"][1].split()[:6]) in flat


def test_real_brief_html_and_pdf_show_short_interest(shared_data, driver, tmp_path):  # noqa: F811
    """On ../shared/data: the FINRA short-interest section and the most-short basket changes, in both files."""
    from research.weekly import brief

    b = brief(shared_data, as_of="2025-07-30", out=tmp_path)
    open_page(driver, tmp_path / "brief.html")
    check_images_and_console(driver, 1)
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert sections.index("positioning") < sections.index("short_interest") < sections.index("baskets")
    body = driver.find_element("css selector", "body").text
    assert b.sentences["short_interest"][0] in body and b.sentences["baskets"][1] in body
    text = subprocess.run([need(PDFTOTEXT, "pdftotext"), str(tmp_path / "brief.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Short interest (FINRA)" in flat and "names (days to cover)" in flat
    assert " ".join(b.sentences["short_interest"][0].split()[:8]) in flat
