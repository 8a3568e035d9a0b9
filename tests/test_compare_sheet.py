"""The comparison sheet: runs labelled by what differs, a settings table, no statistic across different data,
and no card wider than a 1,400 px window."""

from __future__ import annotations

import os
import shutil

import pytest

import research
from research.report.compare import data_groups, run_labels, settings
from research.report.render import Note

NAME = "fresh_flow_low_exposure"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _trials(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBT_TRIALS", str(tmp_path / "trials.duckdb"))


@pytest.fixture(scope="module")
def runs(market):
    """Eight runs: three top_n, an open fill with higher fees, another strategy, three holds."""
    out = [research.run(NAME, market, top_n=n) for n in (1, 2, 3)]
    out.append(research.run(NAME, market, fill="open", fees_bps=5))
    out.append(research.run("leverage_regime", market))
    out += [research.run(NAME, market, hold=h) for h in (1, 2, 6)]
    return out


def test_labels_say_what_differs(runs):
    recs = [r.record() for r in runs]
    assert run_labels(recs[:3]) == ["top_n=1", "top_n=2", "top_n=3"]  # one strategy: no name, the parameter
    labels = run_labels(recs[:5])
    assert labels == [f"{NAME} · top_n=1", f"{NAME} · top_n=2", NAME, f"{NAME} · fill=open · fees (bp)=5",
                      "leverage_regime"]
    assert run_labels([recs[0], recs[0]]) == [f"{NAME} #1", f"{NAME} #2"]  # nothing differs: numbered
    assert len(set(run_labels(recs))) == len(recs)


def test_settings_table_marks_what_differs(runs):
    recs = [r.record() for r in runs[:4]]
    s = settings(recs[3])
    assert s["fill"] == "open" and s["fees (bp)"] == "5" and s["top_n"] == "3"
    sheet = research.compare(runs[:4])
    header = sheet.doc.sections[0]
    table = next(b for b in header.blocks if getattr(b, "caption", "").startswith("Settings"))
    assert {"≠ top_n", "≠ fill", "≠ fees (bp)", "strategy", "data", "period", "input hash"} <= set(table.df.index)
    assert "window" not in table.df.index  # shared by all runs: in the note below, not the table
    shared = next(b for b in header.blocks if isinstance(b, Note) and b.text.startswith("Shared by all runs"))
    assert "window=156" in shared.text


def test_no_correlation_across_different_data(runs, market):
    other = research.run(NAME, "synthetic:seed=7,ic=0")
    recs = [runs[0].record(), runs[1].record(), other.record()]
    assert data_groups(recs) == [[0, 1], [2]]
    sheet = research.compare([runs[0], runs[1], other])
    corr = next(s for s in sheet.doc.sections if s.key == "correlation")
    assert "not correlated" in corr.blocks[0].text
    (fig,) = corr.figures  # one matrix: the two runs on the same data
    assert len(fig.figure().axes[0].get_xticklabels()) == 2
    alone = research.compare([runs[0], other])
    corr = next(s for s in alone.doc.sections if s.key == "correlation")
    assert not corr.figures and "no two runs share their data" in corr.blocks[0].text


@pytest.mark.browser
@pytest.mark.parametrize("n", [4, 8])
def test_no_card_overflows_at_1400_px(runs, tmp_path, n):
    chromium, driver_path = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        if IN_CI:
            pytest.fail("chromium and chromedriver must be installed in CI")
        pytest.skip("chromium / chromedriver not installed (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    sheet = research.compare(runs[:n], out=tmp_path / "cmp", pdf=False)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--hide-scrollbars"):
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        d.get(sheet.path.resolve().as_uri())
        over = d.execute_script("return Array.from(document.querySelectorAll('section'))"
                                ".map(s => [s.id, s.scrollWidth - s.clientWidth])")
        page = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    finally:
        d.quit()
    assert all(px <= 0 for _, px in over), over
    assert page <= 0
