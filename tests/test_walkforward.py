"""Walk-forward: folds, in-sample choice by the stated rule, a stitched out-of-sample run that stays positive."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from research.cli import main
from research.errors import ConfigError
from research.sweep import kernel
from research.sweep.walkforward import make_folds, walk_forward, write_walkforward


def test_folds_anchored_and_rolling():
    years = list(range(2000, 2010))
    anchored = make_folds(years, "anchored", 3, 2)
    assert [(f.train, f.test) for f in anchored] == [
        ([0, 1, 2], [3, 4]), ([0, 1, 2, 3, 4], [5, 6]), ([0, 1, 2, 3, 4, 5, 6], [7, 8]),
        ([0, 1, 2, 3, 4, 5, 6, 7, 8], [9])]
    rolling = make_folds(years, "rolling", 3, 2)
    assert [f.train for f in rolling] == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]]
    with pytest.raises(ConfigError, match="nothing to test"):
        make_folds(years, "anchored", 10, 1)
    with pytest.raises(ConfigError, match="scheme"):
        make_folds(years, "expanding", 3, 1)


def test_segment_sharpe_merges_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(0.001, 0.01, 300)
    seg_of = np.repeat([0, 1, 2], 100)
    seg = np.zeros((1, 3, 3))
    for s in range(3):
        v = x[seg_of == s]
        seg[0, s] = (len(v), v.mean(), ((v - v.mean()) ** 2).sum())
    got = kernel.segment_sharpe(seg, np.array([True, False, True]))[0]
    v = x[seg_of != 1]
    assert got == pytest.approx(v.mean() / v.std(ddof=1) * np.sqrt(252), rel=1e-12)


def test_planted_edge_survives_out_of_sample(market, tmp_path):
    wf = walk_forward("fresh_flow_low_exposure", market, scheme="anchored", train_years=5, progress=False)
    folds = wf.folds
    assert len(folds) == 21 and folds["oos_start"].iloc[0] == pd.Timestamp("2005-01-03").date()
    # the rule: the highest in-sample score; the stitched run trades only out of sample
    assert (folds["is_score"] >= folds["oos_score"].min()).all()
    assert wf.oos_returns.index[0] == pd.Timestamp("2005-01-04")
    assert wf.oos_sharpe > 0 and wf.oos_active_sharpe > 0
    folder = write_walkforward(wf, market, tmp_path / "wf", pdf=False, run_tearsheet=False)
    for name in ("folds.csv", "summary.json", "tearsheet.html", "oos/returns.parquet", "oos/metrics.json"):
        assert (folder / name).exists(), name
    page = (folder / "tearsheet.html").read_text()
    assert "walk-forward (anchored)" in page
    # the run tear sheet's look: synthetic banner, KPI strip, one section per part, every figure on disk
    assert "SYNTHETIC DATA" in page and "<div class='kpis'>" in page
    assert re.findall(r"<section id='([a-z_]+)'", page) == ["header", "folds"]
    assert page.count("data:image/png;base64") == 2 and len(list((folder / "figures").glob("*.png"))) == 2
    assert ">nan<" not in page


def test_cli_walkforward_rolling(tmp_path, capsys):
    out = tmp_path / "wf"
    argv = ["walkforward", "fresh_flow_low_exposure", "--grid", "hold=2,4", "--grid", "top_n=1,3",
            "--scheme", "rolling", "--train-years", "4", "--test-years", "3", "--out", str(out), "--no-pdf",
            "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "out of sample: Sharpe" in text
    assert (out / "tearsheet.html").exists() and (out / "oos" / "tearsheet.html").exists()
    folds = pd.read_csv(out / "folds.csv")
    assert len(folds) == 8 and folds["config"].between(0, 3).all()
