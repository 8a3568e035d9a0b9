"""The tear sheet as a person sees it: headless Chromium for the HTML (on screen and printed), pdftoppm for the PDF.

Locally, a missing browser or poppler skips with a clear reason; in CI (CI=true) it is a failure, never a skip.
Screenshots and rendered pages are kept beside the run folder (the path is printed) so a person can look at them.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from research.report.compare import COMPARISON_KEYS
from research.report.tearsheet import SECTION_KEYS

pytestmark = pytest.mark.browser

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
PDFIMAGES = shutil.which("pdfimages")


def need(tool: str | None, what: str) -> str:
    if tool:
        return tool
    msg = f"{what} is not installed (Debian: apt-get install chromium chromium-driver poppler-utils)"
    if IN_CI:
        pytest.fail(msg + " — .ci/run must install it")
    pytest.skip(msg)


def test_a_missing_tool_fails_in_ci_and_skips_locally(monkeypatch):
    monkeypatch.setattr(f"{__name__}.IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="must install"):
        need(None, "chromium")
    monkeypatch.setattr(f"{__name__}.IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        need(None, "chromium")
    assert need("/usr/bin/x", "x") == "/usr/bin/x"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, market) -> Path:
    from research.run import run_strategy

    out = tmp_path_factory.mktemp("run") / "fresh"
    run_strategy("fresh_flow_low_exposure", market, out=out)
    return out


@pytest.fixture(scope="module")
def timing_dir(tmp_path_factory, market) -> Path:
    from research import registry
    from research.data.universe import BOOK
    from research.schedule import weekly
    from research.strategy import Strategy

    def weights(data, k=4):
        gross = data.flow("gross_leverage", [BOOK]).loc[weekly(data.index)].iloc[:, 0]
        return (gross.diff(k) > 0).astype(float).to_frame("SPY")

    strat = registry.register(Strategy("browser_test_timing", "Rising leverage is good for SPY.",
                                         ("gross_leverage",), {"k": 4}, {}, weights, mode="timing"), replace=True)
    from research.run import run_strategy

    out = tmp_path_factory.mktemp("run") / "timing"
    try:
        run_strategy(strat, market, out=out, pdf=False)
    finally:
        registry.unregister(strat.name)
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
                 "--no-first-run", "--disable-quic", "--window-size=1280,1000", "--hide-scrollbars"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield d
    d.quit()


def open_page(driver, page: Path) -> None:
    text = page.read_text()
    assert "http://" not in text and "https://" not in text, "the page must not load anything from the network"
    driver.get(page.resolve().as_uri())
    driver.get_log("browser")  # start the console log from this page


def check_images_and_console(driver, min_images: int) -> None:
    n_images = driver.execute_script("return document.images.length")
    assert n_images >= min_images
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)")
    assert broken == [], f"images that did not decode: {broken}"
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR", "WARNING")]
    assert errors == [], errors
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def screenshot(driver, dest: Path) -> np.ndarray:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 16000))
    driver.save_screenshot(str(dest))
    driver.set_window_size(1280, 1000)
    print(f"screenshot: {dest}")
    return np.asarray(Image.open(dest).convert("L"), dtype=float)


def pages_with_content(pdf: Path, out: Path, dpi: int = 30) -> list[Path]:
    """Render every page of `pdf` with pdftoppm and check that each has ink on it."""
    tool = need(PDFTOPPM, "pdftoppm")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool, "-r", str(dpi), "-png", str(pdf), str(out / "page")], check=True, timeout=180)
    pages = sorted(out.glob("page*.png"))
    for p in pages:
        gray = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert (gray < 200).mean() > 0.004, f"{p.name} of {pdf.name} is empty"
    return pages


def test_html_renders_every_image_without_console_errors(run_dir, driver):
    page = run_dir / "tearsheet.html"
    open_page(driver, page)
    check_images_and_console(driver, len(list((run_dir / "figures").glob("*.png"))))
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert sections == list(SECTION_KEYS)
    assert "SYNTHETIC DATA" in driver.find_element("css selector", ".banner").text
    kpis = driver.find_elements("css selector", ".kpi")
    assert len(kpis) == 6 and all(k.is_displayed() and k.text.strip() for k in kpis)
    # numbers are right-aligned in tables
    align = driver.execute_script("return getComputedStyle(document.querySelector('td.num')).textAlign")
    assert align == "right"
    img = screenshot(driver, run_dir.parent / "tearsheet_screenshot.png")
    assert img.std() > 10, "the screenshot is blank"


def test_html_prints_cleanly(run_dir, driver, tmp_path):
    """Chromium's own print to PDF: one section per page at least, no blank page."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    open_page(driver, run_dir / "tearsheet.html")
    opts = PrintOptions()
    opts.page_width, opts.page_height = 21.0, 29.7
    opts.background = True
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(base64.b64decode(driver.print_page(opts)))
    pages = pages_with_content(pdf, tmp_path / "printed", dpi=25)
    assert len(pages) >= len(SECTION_KEYS) - 1  # header and metrics share the first page


def test_pdf_pages_all_have_content(run_dir, tmp_path):
    pdf = run_dir / "tearsheet.pdf"
    assert pdf.stat().st_size > 50_000
    pages = pages_with_content(pdf, tmp_path)
    assert len(pages) >= 7
    keep = run_dir.parent / "tearsheet_pdf_page1.png"
    subprocess.run([need(PDFTOPPM, "pdftoppm"), "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(keep.with_suffix(""))], check=True, timeout=60)
    print(f"first PDF page: {keep}")


def test_pdf_first_page_and_every_figure(run_dir):
    text = subprocess.run([need(PDFTOTEXT, "pdftotext"), "-f", "1", "-l", "1", "-layout",
                           str(run_dir / "tearsheet.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("fresh_flow_low_exposure", "tear sheet", "SYNTHETIC DATA", "Hypothesis", "CAGR", "Sharpe",
                     "Max drawdown", "Headline metrics against the benchmarks", "Total return", "page 1 of"):
        assert expected in text, expected
    listing = subprocess.run([need(PDFIMAGES, "pdfimages"), "-list", str(run_dir / "tearsheet.pdf")],
                             capture_output=True, text=True, check=True).stdout
    n_images = sum(1 for line in listing.splitlines() if re.match(r"\s*\d+\s+\d+\s+image", line))
    assert n_images == len(list((run_dir / "figures").glob("*.png")))
    every = subprocess.run([need(PDFTOTEXT, "pdftotext"), str(run_dir / "tearsheet.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    for title in ("Performance and drawdowns", "Rolling risk", "Positioning", "Signal diagnostics",
                  "Statistical honesty", "Data provenance", "Five worst drawdowns", "Deflated Sharpe"):
        assert title in every, title


def test_timing_strategy_page(timing_dir, driver):
    open_page(driver, timing_dir / "tearsheet.html")
    check_images_and_console(driver, 8)
    signal = driver.find_element("css selector", "section#signal").text
    assert "no cross-sectional signal" in signal


def test_comparison_sheet_in_the_browser(run_dir, timing_dir, driver, tmp_path):
    from research.report.compare import write_comparison

    path = write_comparison([run_dir, timing_dir], tmp_path / "cmp")
    open_page(driver, path)
    check_images_and_console(driver, 5)
    sections = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert sections == list(COMPARISON_KEYS)
    img = screenshot(driver, run_dir.parent / "comparison_screenshot.png")
    assert img.std() > 10
    pages_with_content(tmp_path / "cmp" / "comparison.pdf", tmp_path / "cmp_pages")


def test_real_data_pm_tables_fit_the_page_and_the_pdf(shared_data, driver, tmp_path_factory):
    """The PM tables at their widest (real data: stress periods, the factor regression), on screen and in the PDF."""
    from research.run import load_data, run_strategy

    out = tmp_path_factory.mktemp("real") / "cot"
    run_strategy("cot_leveraged_funds", load_data(shared_data.resolve()), out=out)
    open_page(driver, out / "tearsheet.html")
    check_images_and_console(driver, 8)
    pm = driver.find_element("css selector", "section#pm").text
    for expected in ("Trailing returns as of", "CVaR 95%", "2020 Covid crash", "Cost sensitivity", "5x",
                     "Fama-French 3-factor regression", "beta Mkt-RF", "one-month T-bill"):
        assert expected in pm, expected
    wide = driver.execute_script("return Array.from(document.querySelectorAll('section#pm table'))"
                                 ".filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length")
    assert wide == 0, "a PM table is wider than its section"
    text = subprocess.run([need(PDFTOTEXT, "pdftotext"), "-layout", str(out / "tearsheet.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for expected in ("Stress periods", "2022 bear market", "Cost sensitivity", "beta HML"):
        assert expected in text, expected
