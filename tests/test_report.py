"""Tear sheets and the comparison sheet, from the run folder: sections, signal hook, rebuilds, statistics inputs.

Two small strategies are registered here so the tests do not depend on the strategies being written in
`strategies/`: a cross-sectional one with a `signal` (last week's sector net flow) and a timing one. The slow
test at the end builds the tear sheet of every registered strategy, as the demo does.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from research import registry
from research.data.universe import ETF_OF_SECTOR
from research.errors import ConfigError
from research.report.compare import COMPARISON_KEYS, write_comparison
from research.report.render import STAMP_RE
from research.report.tearsheet import NO_SIGNAL, SECTION_KEYS, write_tearsheet
from research.report.trials import trial_stats
from research.schedule import weekly
from research.strategy import Strategy

SIG = "report_test_signal"
TIMING = "report_test_timing"


def _flow_scores(data, top=3):
    return data.flow("net_flow").loc[weekly(data.index)].rename(columns=ETF_OF_SECTOR)


def _flow_weights(data, top=3):
    rank = _flow_scores(data).rank(axis=1, ascending=False, method="first")
    return ((rank <= top).astype(float) / top).fillna(0.0)


def _leverage_timing(data, k=4):
    gross = data.flow("gross_leverage", ["BOOK"]).loc[weekly(data.index)].iloc[:, 0]
    return (gross.diff(k) > 0).astype(float).to_frame("SPY")


@pytest.fixture(scope="module", autouse=True)
def module_strategies():
    """Two small strategies for this module only (unregistered afterwards, so other modules never see them)."""
    registry.register(Strategy(SIG, "Sectors hedge funds net bought most last week outperform.", ("net_flow",),
                                 {"top": 3}, {"top": [2, 3, 4]}, _flow_weights, signal=_flow_scores), replace=True)
    registry.register(Strategy(TIMING, "Rising hedge-fund gross leverage is good for SPY.", ("gross_leverage",),
                                 {"k": 4}, {"k": [2, 4]}, _leverage_timing, mode="timing"), replace=True)
    yield
    registry.unregister(SIG)
    registry.unregister(TIMING)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, market) -> dict[str, Path]:
    from research.run import run_strategy

    base = tmp_path_factory.mktemp("report")
    return {name: run_strategy(name, market, out=base / name).folder for name in (SIG, TIMING)}


def html_of(folder: Path, name: str = "tearsheet.html") -> str:
    return (folder / name).read_text()


def section_ids(page: str) -> list[str]:
    return re.findall(r"<section id='([a-z_]+)'", page)


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --------------------------------------------------------------------------------------------------------------
# sections and files


@pytest.mark.parametrize("name", [SIG, TIMING])
def test_every_section_is_present_with_its_files(runs, name):
    folder = runs[name]
    page = html_of(folder)
    assert section_ids(page) == list(SECTION_KEYS)
    assert (folder / "tearsheet.pdf").read_bytes()[:5] == b"%PDF-"
    pngs = sorted((folder / "figures").glob("*.png"))
    assert len(pngs) == page.count("<img ") >= 9
    for p in pngs:  # every figure decodes and is not blank
        gray = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert gray.std() > 5, p.name
    # self-contained: no external resource, no script
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "@media print" in page and "break-before:page" in page


def test_header_states_idea_data_execution_and_provenance(runs):
    page = html_of(runs[SIG])
    cfg = json.loads((runs[SIG] / "config.json").read_text())
    prov = json.loads((runs[SIG] / "provenance.json").read_text())
    header = page.split("<section id='metrics'")[0]
    for text in ("Sectors hedge funds net bought most last week outperform.", "top=3", "fill next close",
                 "fees 2 bp", prov["data_hash"], cfg["data"], "publication lag rule applied",
                 "available_at the following Tuesday", "Code version", "CAGR", "Sharpe", "Max drawdown",
                 "Volatility", "Deflated Sharpe"):
        assert text in header, text
    commit = prov["code"]["commit"]
    assert (commit or "not a git checkout") in header


def test_headline_metrics_match_metrics_json(runs):
    page = html_of(runs[SIG])
    m = json.loads((runs[SIG] / "metrics.json").read_text())
    metrics = page.split("<section id='metrics'")[1].split("</section>")[0]
    for key, kind in (("cagr", "pct"), ("sharpe", "num"), ("max_drawdown", "pct"), ("beta", "num"),
                      ("costs_paid", "pct"), ("information_ratio", "num")):
        text = f"{m[key] * 100:.2f}%" if kind == "pct" else f"{m[key]:.2f}"
        assert f">{text}<" in metrics, (key, text)
    for label in ("Total return", "CAGR", "Volatility", "Sharpe", "Sortino", "Max drawdown", "Calmar", "Hit rate",
                  "Turnover", "Average gross", "Average net", "Beta", "Alpha", "Information ratio", "Costs paid"):
        assert label in metrics, label


def test_drawdown_table_and_rolling_figures(runs):
    page = html_of(runs[SIG])
    perf = page.split("<section id='performance'")[1].split("</section>")[0]
    assert "Five worst drawdowns" in perf
    for col in ("start (peak)", "trough", "recovery", "depth", "under water"):
        assert col in perf
    for fig in ("equity", "underwater"):
        assert f"id='fig-{fig}'" in perf
    rolling = page.split("<section id='rolling'")[1].split("</section>")[0]
    for fig in ("rolling", "monthly", "annual"):
        assert f"id='fig-{fig}'" in rolling
    positioning = page.split("<section id='positioning'")[1].split("</section>")[0]
    for fig in ("weights", "exposure", "contribution"):
        assert f"id='fig-{fig}'" in positioning


# --------------------------------------------------------------------------------------------------------------
# signal diagnostics and the Strategy.signal hook


def test_signal_is_saved_and_diagnosed(runs, market):
    folder = runs[SIG]
    saved = pd.read_parquet(folder / "signal.parquet")
    expected = _flow_scores(market)
    np.testing.assert_allclose(saved.to_numpy(), expected.to_numpy(), equal_nan=True)
    close = pd.read_parquet(folder / "close.parquet")
    assert set(saved.columns) <= set(close.columns)
    page = html_of(folder)
    sig = page.split("<section id='signal'")[1].split("</section>")[0]
    assert "the strategy&#x27;s signal (signal.parquet)" in sig
    for text in ("1 week", "4 weeks", "13 weeks", "t (Newey-West)", "top 3 - bottom 3"):
        assert text in sig, text
    for fig in ("ic", "spread", "decay"):
        assert f"id='fig-{fig}'" in sig
    assert NO_SIGNAL not in sig


def test_the_ic_table_agrees_with_the_diagnostics_module(runs):
    from research.analytics.diagnostics import ic_summary

    folder = runs[SIG]
    summary = ic_summary(pd.read_parquet(folder / "signal.parquet"), pd.read_parquet(folder / "close.parquet"))
    sig = html_of(folder).split("<section id='signal'")[1].split("</section>")[0]
    for h, row in summary.iterrows():
        label = f"{h} week{'s' if h > 1 else ''}"
        cells = re.search(rf"<th>{label}</th>(.*?)</tr>", sig).group(1)
        assert f">{row['mean_ic']:.3f}<" in cells and f">{row['t_nw']:.2f}<" in cells


def test_timing_strategy_says_it_has_no_cross_sectional_signal(runs):
    folder = runs[TIMING]
    assert not (folder / "signal.parquet").exists()
    sig = html_of(folder).split("<section id='signal'")[1].split("</section>")[0]
    assert NO_SIGNAL in sig
    assert "<img" not in sig


def test_strategy_signal_hook_contract(market):
    s = registry.get(SIG)
    assert registry.get(TIMING).target_signal(market) is None
    out = s.target_signal(market, {"top": 2})
    assert isinstance(out, pd.DataFrame) and isinstance(out.index, pd.DatetimeIndex)
    bad = Strategy("bad_signal", "h", (), {}, {}, _flow_weights, signal=lambda data: np.zeros(3))
    with pytest.raises(ConfigError, match="bad_signal.signal must return a DataFrame"):
        bad.target_signal(market)


def test_contributions_add_up_to_the_returns(runs):
    from research.report.load import load_run
    from research.report.tearsheet import contributions

    rec = load_run(runs[SIG])
    contrib = contributions(rec)
    total = contrib.sum() - rec.metrics["costs_paid"]
    assert total == pytest.approx(rec.returns.dropna().sum(), abs=0.02)


# --------------------------------------------------------------------------------------------------------------
# rebuilding, banner, comparison


def test_flowbt_report_rebuilds_an_identical_tearsheet(runs):
    from research.cli import main

    folder = runs[SIG]  # rebuilt in place: the tear sheet shows the folder's name
    before = STAMP_RE.sub("", html_of(folder))
    figures = {p.name: p.read_bytes() for p in (folder / "figures").glob("*.png")}
    (folder / "tearsheet.html").unlink()
    (folder / "tearsheet.pdf").unlink()
    shutil.rmtree(folder / "figures")
    assert main(["report", str(folder)]) == 0
    assert STAMP_RE.sub("", html_of(folder)) == before
    assert {p.name: p.read_bytes() for p in (folder / "figures").glob("*.png")} == figures
    assert (folder / "tearsheet.pdf").stat().st_size > 10_000


def test_banner_only_on_synthetic_data_and_weights_stand_in_for_a_missing_signal(runs, tmp_path):
    page = html_of(runs[SIG])
    assert page.count("class='banner'") == 1 and "SYNTHETIC DATA" in page
    folder = copy_run(runs[SIG], tmp_path / "real")
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(synthetic=False, data="prices directory ../shared/data")
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "truth.json").unlink()
    (folder / "signal.parquet").unlink()
    write_tearsheet(folder, pdf=False)
    page = html_of(folder)
    assert "class='banner'" not in page and "SYNTHETIC DATA" not in page and "Planted" not in page
    sig = page.split("<section id='signal'")[1].split("</section>")[0]
    assert "target weights stand in" in sig and "id='fig-ic'" in sig


def test_comparison_sheet(runs, tmp_path):
    from research.cli import main

    out = tmp_path / "cmp"
    assert main(["report", str(runs[SIG]), str(runs[TIMING]), "--out", str(out)]) == 0
    page = (out / "comparison.html").read_text()
    assert section_ids(page) == list(COMPARISON_KEYS)
    assert (out / "comparison.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(list((out / "figures").glob("*.png"))) == page.count("<img ") == 5
    for name in (SIG, TIMING):
        assert name in page
    m = json.loads((runs[SIG] / "metrics.json").read_text())
    metrics = page.split("<section id='metrics'")[1].split("</section>")[0]
    # every run is shown against its own benchmark: the sector book against EW_SECTORS, the timing book against
    # SPY x its average exposure
    text = re.sub(r"<wbr>", "", metrics)  # the renderer lets long names break after an underscore
    for needle in ("Own benchmark", "EW_SECTORS", "SPY x ", "Information ratio (own benchmark)",
                   "Period (from the first fill)", ">synthetic<"):
        assert needle in text, needle
    assert f">{m['sharpe']:.2f}<" in metrics and "bootstrap interval" in metrics
    a = pd.read_parquet(runs[SIG] / "returns.parquet").iloc[:, 0]
    b = pd.read_parquet(runs[TIMING] / "returns.parquet").iloc[:, 0]
    both = pd.concat([a, b], axis=1).dropna()
    monthly = both.groupby([both.index.year, both.index.month]).apply(lambda g: (1 + g).prod() - 1).corr()
    corr = page.split("<section id='correlation'")[1].split("</section>")[0]
    assert f">{monthly.iloc[0, 1]:.2f}<" in corr
    for fig in ("equity", "drawdowns", "correlation", "rolling_sharpe", "rolling_vol"):
        assert f"id='fig-{fig}'" in page


def test_comparison_of_the_same_strategy_twice_labels_the_runs(runs, tmp_path):
    twin = copy_run(runs[SIG], tmp_path / "twin")
    path = write_comparison([runs[SIG], twin], tmp_path / "cmp2", pdf=False)
    page = path.read_text()
    assert f"{SIG} ({runs[SIG].name})" in page and f"{SIG} (twin)" in page
    with pytest.raises(ConfigError, match="at least two"):
        write_comparison([runs[SIG]], tmp_path / "cmp3")


# --------------------------------------------------------------------------------------------------------------
# statistical honesty: trials and sweeps


def make_trials(path: Path, rows: list[tuple[str, str, float]]) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE trials(strategy VARCHAR, params VARCHAR, sharpe DOUBLE, created TIMESTAMP)")
    con.executemany("INSERT INTO trials VALUES (?, ?, ?, now())", rows)
    con.close()
    return path


def test_trial_stats_reads_the_log_defensively(tmp_path):
    pytest.importorskip("duckdb")
    assert trial_stats(SIG, tmp_path / "absent.duckdb") is None
    (tmp_path / "junk.duckdb").write_bytes(b"not a database")
    assert trial_stats(SIG, tmp_path / "junk.duckdb") is None
    sharpes = [0.1, 0.5, -0.2, 0.3]
    rows = [(SIG, json.dumps({"top": i}), s) for i, s in enumerate(sharpes)]
    rows += [(SIG, json.dumps({"top": 0}), 0.1), ("other", "{}", 9.0), (SIG, "{}", float("nan"))]
    db = make_trials(tmp_path / "trials.duckdb", rows)
    n, var = trial_stats(SIG, db)
    assert n == 4  # a configuration logged twice counts once; NaN and other strategies are ignored
    assert var == pytest.approx(np.var(sharpes, ddof=1) / 252, rel=1e-12)
    assert trial_stats("nobody", db) is None

    import duckdb

    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE trials(name VARCHAR, score DOUBLE)")
    con.close()
    assert trial_stats(SIG, tmp_path / "other.duckdb") is None


def test_trial_stats_agrees_with_the_sweep_trial_log(tmp_path):
    pytest.importorskip("duckdb")
    triallog = pytest.importorskip("research.sweep.triallog")
    db = tmp_path / "sweeps.duckdb"
    sr = np.array([0.2, -0.1, 0.6, 0.35, 0.05])
    metrics = pd.DataFrame({"sharpe": sr, "sharpe_per_period": sr / np.sqrt(252)})
    triallog.append(SIG, [{"top": i} for i in range(5)], metrics, data_hash="h1", db=db)
    triallog.append(SIG, [{"top": 9}], metrics.iloc[:1], data_hash="h2", db=db)  # other inputs
    n, var = trial_stats(SIG, db, data_hash="h1")
    assert (n, var) == triallog.trial_stats(SIG, db, data_hash="h1")
    assert n == 5 and var == pytest.approx(np.var(sr, ddof=1) / 252, rel=1e-9)
    assert trial_stats(SIG, db)[0] == 6


def test_dsr_uses_the_trial_count(runs, tmp_path):
    pytest.importorskip("duckdb")
    from research.analytics import stats as S
    from research.report.load import load_run
    from research.report.tearsheet import honesty, own_active

    folder = runs[SIG]
    rng = np.random.default_rng(1)
    sharpes = rng.normal(0.0, 0.4, 30)
    db = make_trials(tmp_path / "t.duckdb", [(SIG, f"p{i}", float(s)) for i, s in enumerate(sharpes)])
    h = honesty(load_run(folder), db)
    basis, active = own_active(load_run(folder))
    assert basis == "EW_SECTORS" and h.basis == "active return against EW_SECTORS"  # a long-only sector book
    sr, n, skew, kurt = S.sharpe_moments(active.dropna())
    var = np.var(sharpes, ddof=1) / 252
    assert h.n_trials == 30
    assert h.dsr == pytest.approx(S.deflated_sharpe_ratio(sr, n, skew, kurt, 30, var), rel=1e-12)
    assert h.psr == pytest.approx(S.probabilistic_sharpe_ratio(sr, n, skew, kurt), rel=1e-12)
    assert h.hurdle == pytest.approx(S.expected_max_sharpe(30, var) * np.sqrt(252), rel=1e-12)
    from research.report.active import warm_up

    start, _ = warm_up(load_run(folder))  # the interval is the headline's: from the first fill
    ci = S.bootstrap_ci(pd.read_parquet(folder / "returns.parquet").iloc[:, 0].loc[start:], "sharpe", n=1000, seed=0)
    assert (h.lower, h.upper) == (ci.lower, ci.upper)

    one = html_of(folder).split("<section id='statistics'")[1].split("</section>")[0]
    assert "counted as the 3 configurations of the strategy&#x27;s declared grid" in one and "No sweep heatmap" in one

    # a sweep in the run folder: drawn, and its size is the trial count when there is no trial log
    copy = copy_run(folder, tmp_path / "swept")
    grid = [(top, hold) for top in (1, 2, 3, 4) for hold in (2, 4, 6)]
    pd.DataFrame({"top": [g[0] for g in grid], "hold": [g[1] for g in grid],
                  "sharpe": rng.normal(0, 0.3, len(grid))}).to_parquet(copy / "sweep.parquet")
    assert honesty(load_run(copy), tmp_path / "absent.duckdb").n_trials == 12
    write_tearsheet(copy, pdf=False, trials_db=db)
    stats = html_of(copy).split("<section id='statistics'")[1].split("</section>")[0]
    assert "30: trial log" in stats and "Expected best of the trials" in stats  # the log wins over the sweep
    assert "id='fig-sweep'" in stats and "No sweep heatmap" not in stats


# --------------------------------------------------------------------------------------------------------------
# every registered strategy, as the demo runs them


def _registered() -> list[str]:
    reg = registry.registry()
    return [n for n in reg if n not in (SIG, TIMING) and not n.startswith(("smoke", "bad_"))
            and "real-data" not in reg[n].tags]


@pytest.mark.slow
@pytest.mark.parametrize("name", _registered())
def test_every_strategy_gets_a_full_tearsheet(name, market, tmp_path):
    from research.run import run_strategy

    strat = registry.get(name)
    folder = run_strategy(strat, market, out=tmp_path / name).folder
    page = html_of(folder)
    assert section_ids(page) == list(SECTION_KEYS)
    sig = page.split("<section id='signal'")[1].split("</section>")[0]
    assert "id='fig-ic'" in sig or NO_SIGNAL in sig
    pdf = (folder / "tearsheet.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    for p in (folder / "figures").glob("*.png"):
        Image.open(io.BytesIO(p.read_bytes())).verify()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_run_error_after_the_tearsheet_child_started_leaves_a_whole_tearsheet(market, tmp_path, monkeypatch, jobs):
    """returns.csv is written while the forked child draws the tear sheet: if writing it fails, the error reaches
    the caller (naming the path), the child is waited for, not killed half-way, and the run folder, written
    atomically, is left absent rather than partial (with FLOWBT_JOBS=1 nothing is forked)."""
    from research.backtest.engine import BacktestResult
    from research.run import run_strategy

    def disk_full(self, folder):
        raise OSError(28, "No space left on device")

    monkeypatch.setenv("FLOWBT_JOBS", jobs)
    monkeypatch.setattr(BacktestResult, "save_csv", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_strategy(SIG, market, out=tmp_path / "run", pdf=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither the run folder nor a temporary one


def test_a_run_is_judged_on_its_active_return_with_at_least_its_grid_as_trials(tmp_path):
    """A timing book: judged against SPY x its average exposure, deflated by its declared grid when no trial log
    exists (never 1 trial when a grid exists)."""
    from research import registry
    from research.data.synthetic import make_market
    from research.report.active import warm_up
    from research.report.load import load_run
    from research.report.tearsheet import grid_size, honesty, own_active
    from research.run import run_strategy

    strat = registry.get("leverage_regime")
    out = run_strategy(strat, make_market(), out=tmp_path / "lr", tearsheet=False)
    rec = load_run(out.folder)
    basis, active = own_active(rec)
    expo = float(rec.net.reindex(active.index).mean())
    assert basis.startswith("SPY x ") and 0.3 < expo < 1.0
    r = rec.returns.dropna()
    r = r.loc[warm_up(rec)[0]:]
    np.testing.assert_allclose(active, r - expo * rec.benchmarks["SPY"].reindex(r.index), rtol=0, atol=1e-15)
    h = honesty(rec, tmp_path / "no-log.duckdb")
    declared = int(np.prod([len(v) for v in strat.grid.values()]))
    assert grid_size(rec) == declared == h.n_trials > 1 and "declared grid" in h.trials_source
    assert h.dsr < h.psr  # deflated by the grid
