"""The tear sheet as a person sees it: headless Chromium for the HTML, pdftoppm for the PDF.

Locally, a missing browser skips with a clear reason; in CI (CI=true) it is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PDFTOPPM = shutil.which("pdftoppm")


def need(tool: str | None, what: str) -> str:
    if tool:
        return tool
    msg = f"{what} is not installed (Debian: apt-get install chromium chromium-driver poppler-utils)"
    if IN_CI:
        pytest.fail(msg + " — .ci/run must install it")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, market) -> Path:
    from research.run import run_strategy

    out = tmp_path_factory.mktemp("run") / "fresh"
    run_strategy("fresh_flow_low_exposure", market, out=out)
    return out


@pytest.fixture(scope="module")
def driver():
    need(CHROMIUM, "chromium")
    need(CHROMEDRIVER, "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--window-size=1280,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield d
    d.quit()


def test_html_renders_every_image_without_console_errors(run_dir, driver, tmp_path):
    page = run_dir / "tearsheet.html"
    text = page.read_text()
    assert "http://" not in text and "https://" not in text, "the tear sheet must not load anything from the network"
    driver.get(page.resolve().as_uri())
    n_images = driver.execute_script("return document.images.length")
    assert n_images >= 6
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)")
    assert broken == [], f"images that did not decode: {broken}"
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
    for key in ("header", "metrics", "performance", "rolling", "positioning", "provenance"):
        assert key in sections
    assert "SYNTHETIC DATA" in driver.find_element("css selector", ".banner").text
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(int(height), 16000))
    shot = tmp_path / "tearsheet.png"
    driver.save_screenshot(str(shot))
    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.std() > 10, "the screenshot is blank"
    keep = run_dir.parent / "tearsheet_screenshot.png"
    shutil.copy(shot, keep)


def test_pdf_pages_all_have_content(run_dir, tmp_path):
    tool = need(PDFTOPPM, "pdftoppm")
    pdf = run_dir / "tearsheet.pdf"
    assert pdf.stat().st_size > 10_000
    subprocess.run([tool, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 6
    for p in pages:
        gray = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert (gray < 200).mean() > 0.002, f"{p.name} is empty"
