"""Rich display: compact reprs, HTML cards and inline tear sheets whose styles stay inside their container."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import research
from research.report.render import CSS, scope_css

NAME = "fresh_flow_low_exposure"
#: Selectors that restyle a whole notebook when they reach it unscoped.
GLOBAL = ("*", "body", "html", ":root", "table", "h1", "h2", "section", "main", "th", "td")


def _styles(fragment: str) -> tuple[str, str]:
    """(the root container's id, its <style> text); asserts there is one root container."""
    m = re.match(r"<div id='(flowbt-[0-9a-f]{10})'[^>]*><style>(.*?)</style>", fragment, re.S)
    assert m, fragment[:200]
    return m.group(1), m.group(2)


def _selectors(css: str) -> list[str]:
    """Every selector of every rule (inside @media too)."""
    out = []
    for head in re.findall(r"([^{}]+)\{", css):
        head = head.strip()
        if head.startswith("@"):
            continue
        out += [s.strip() for s in head.split(",")]
    return out


def _scoped(fragment: str) -> None:
    sid, css = _styles(fragment)
    sels = _selectors(css)
    assert sels and all(s == f"#{sid}" or s.startswith(f"#{sid} ") for s in sels), \
        [s for s in sels if not s.startswith(f"#{sid}")][:5]
    assert "@page" not in css


@pytest.fixture(scope="module")
def run(market):
    return research.run(NAME, market)


def test_text_reprs_are_short(run, market):
    for obj in (run, market, run.result):
        text = repr(obj)
        assert len(text) < 400 and "\n" not in text, text[:500]
    assert "Sharpe 0.42" in repr(run) and NAME in repr(run)
    assert "tickers" in repr(market) and "synthetic" in repr(market)


def test_run_card_shows_metrics_equity_data_and_period(run):
    page = run._repr_html_()
    _scoped(page)
    from research.report.summary import run_summary

    m = run_summary(run.record())
    assert f"{m['sharpe']:.2f}" in page and "CAGR" in page and f"IR vs {m['benchmark']}" in page
    assert f"first fill {m['first_fill']}" in page
    assert "<svg" in page and "<polyline" in page  # the small equity figure
    start, end = run.period
    assert str(start.date()) in page and str(end.date()) in page and run.data.name in page
    assert "SYNTHETIC DATA" in page
    assert len(page) < 40_000


def test_market_card(market):
    page = market._repr_html_()
    _scoped(page)
    assert "net_flow" in page and "SPY" in page and "<svg" in page


def test_sweep_card_and_repr(market, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBT_TRIALS", str(tmp_path / "t.duckdb"))
    res = research.sweep(NAME, market, {"top_n": [2, 3]}, judge=False, log=False, progress=False)
    text = repr(res)
    assert len(text) < 300 and "2 configs" in text
    page = res._repr_html_()
    _scoped(page)
    assert "top_n" in page and "fixed:" in page and "Not judged yet" in page
    assert "buy_weeks</th>" not in page  # only the varied parameters get columns


def test_inline_tear_sheet_injects_no_global_css(run):
    sheet = run.tearsheet()
    frag = sheet._repr_html_()
    _scoped(frag)  # every selector starts with the container's id ...
    _, css = _styles(frag)
    assert not set(GLOBAL) & set(_selectors(css))
    assert {"*", "body", "table", "h1"} <= set(_selectors(CSS))  # ... though the page's own sheet is global
    assert "<html" not in frag and "<body" not in frag and "<head" not in frag
    assert "fig-equity" in frag  # the same content as the page
    sid, _ = _styles(frag)
    assert f"<section id='{sid}-metrics'" in frag and f"href='#{sid}-metrics'" in frag  # anchors of its own
    assert "<!doctype html>" in sheet.html


def test_scope_css_rewrites_page_selectors():
    css = ":root{--a:1}*{box-sizing:border-box}body{margin:0}h1,h2{x:1}@page{size:A4}@media print{body{y:1}}"
    out = scope_css(css, "#s")
    assert "#s{--a:1}" in out and "#s,#s *{box-sizing:border-box}" in out and "#s{margin:0}" in out
    assert "#s h1,#s h2{x:1}" in out and "@page" not in out and "@media print{#s{y:1}}" in out


def test_a_returns_tear_sheet_is_displayable(run):
    r = pd.Series(run.result.returns.to_numpy(), index=run.result.returns.index, name="x")
    frag = research.tearsheet(r)._repr_html_()
    _scoped(frag)
    assert "Not shown" in frag
