"""Every registered strategy: a well-formed declaration, valid weights, no look-ahead, and a working run.

Look-ahead: the panel values published after a cut (and the prices after it) are perturbed; the weights
decided on or before the cut must not move, and those after it must (so the check can fail).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import re

import numpy as np
import pandas as pd
import pytest

from research import registry
from research.backtest import ExecutionConfig
from research.backtest.engine import check_weights
from research.book import carry, neutral_book, recent
from research.cli import main
from research.data.market import MarketData
from research.data.prices import Prices
from research.data.synthetic import MECHANISMS, planted_signals
from research.data.universe import BASKETS, ETF_OF_SECTOR, INCEPTION, MARKET, SECTOR_ETFS
from research.errors import ConfigError
from research.observe import observed, sector_obs
from research.run import run_strategy
from research.schedule import weekly
from research.strategy import Strategy
from strategies.fresh_flow_low_exposure import fresh_low_exposure

REGISTRY = registry.registry()
NAMES = sorted(n for n in REGISTRY if "real-data" not in REGISTRY[n].tags)  # real-data ones: test_real_strategies
REQUIRED = ("fresh_flow_low_exposure", "fade_most_short", "fade_most_short_sectors", "hf_retail_divergence",
            "leverage_regime", "long_short_ratio_extreme", "flow_breadth", "sector_flow_momentum",
            "crowding_overlay", "flow_composite")
TRADABLE = {MARKET, *SECTOR_ETFS, *BASKETS}
CUT = pd.Timestamp("2012-06-15 23:59")  # a Friday night: the next release is public on Tuesday
MAX_GROSS = 1.0 + 1e-9
MAX_TIMING = 2.0


@pytest.fixture(scope="module")
def targets(market: MarketData) -> dict[str, pd.DataFrame]:
    """Default weights of every strategy on the default market."""
    return {name: REGISTRY[name].target_weights(market) for name in NAMES}


def perturbed_panel(data: MarketData, cut: pd.Timestamp, seed: int = 1) -> MarketData:
    """The market with every panel value published after `cut` scrambled (sign flips included)."""
    panel = data.panel.copy()
    late = (panel["available_at"] > cut).to_numpy()
    noise = np.random.default_rng(seed).normal(1.0, 1.5, late.sum())
    panel.loc[late, "value"] = panel.loc[late, "value"].to_numpy() * noise
    return dataclasses.replace(data, panel=panel)


def perturbed_prices(data: MarketData, cut: pd.Timestamp, seed: int = 2) -> MarketData:
    """The market with every close and open after `cut` multiplied by a random walk."""
    p = data.prices
    late = p.index > cut
    walk = np.exp(np.cumsum(np.random.default_rng(seed).normal(0.0, 0.05, (late.sum(), len(p.tickers))), axis=0))
    close, open_ = p.close.copy(), p.open.copy()
    close.loc[late] = close.loc[late].to_numpy() * walk
    open_.loc[late] = open_.loc[late].to_numpy() * walk
    return dataclasses.replace(data, prices=Prices(close, open_, p.volume, p.source, p.notes))


# ----- declarations -----

def test_the_required_strategies_are_registered() -> None:
    assert set(REQUIRED) <= set(NAMES)
    assert any(REGISTRY[n].mechanism == "squeeze" for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_declaration(name: str, market: MarketData) -> None:
    s = REGISTRY[name]
    assert s.name == name
    text = s.hypothesis
    assert text.endswith(".") and "\n" not in text and text.count(". ") == 0 and 40 < len(text) < 200
    assert s.mechanism is None or s.mechanism in MECHANISMS
    assert s.missing_data(market) == []
    signature = inspect.signature(s.weights).parameters
    assert list(s.params) == [p for p in signature if p != "data"]
    assert all(signature[p].default == v for p, v in s.params.items())
    assert set(s.grid) <= set(s.params)
    size = int(np.prod([len(v) for v in s.grid.values()]))
    assert 50 <= size <= 500, f"{name}: grid of {size} configurations"
    assert all(type(v) is type(s.params[k]) for k, vals in s.grid.items() for v in vals)
    doc = inspect.getmodule(s.weights).__doc__
    assert doc and "Hypothesis:" in doc and "Data:" in doc and "Mechanism:" in doc


# ----- weights -----

@pytest.mark.parametrize("name", NAMES)
def test_weights_are_valid(name: str, market: MarketData, targets: dict[str, pd.DataFrame]) -> None:
    s, w = REGISTRY[name], targets[name]
    assert w.index.equals(weekly(market.index))
    assert set(w.columns) <= TRADABLE and {f"price:{t}" for t in w.columns} <= set(s.needs)
    assert np.isfinite(w.to_numpy()).all()
    check_weights(w, market.prices, ExecutionConfig(mode=s.mode))
    gross = w.abs().sum(axis=1)
    if s.mode == "timing":
        assert list(w.columns) == [MARKET] and gross.max() <= MAX_TIMING
    else:
        assert gross.max() <= MAX_GROSS
    if s.mode == "long_only":
        assert (w >= 0).all().all()
    if s.mode == "dollar_neutral":
        assert w.sum(axis=1).abs().max() < 1e-9
    for ticker, first in INCEPTION.items():
        if ticker in w.columns:
            assert (w.loc[w.index < first, ticker] == 0).all()
            assert (w.loc[w.index >= first, ticker] != 0).any(), f"{name} never trades {ticker}"
    assert (gross > 0).mean() > 0.05, f"{name} is almost never invested"


@pytest.mark.parametrize("name", NAMES)
def test_grid_corners_run(name: str, market: MarketData) -> None:
    """The first and last configuration of the grid give valid weights for the strategy's mode."""
    s = REGISTRY[name]
    combos = list(itertools.product(*s.grid.values()))
    for combo in (combos[0], combos[-1]):
        w = s.target_weights(market, dict(zip(s.grid, combo, strict=True)))
        check_weights(w, market.prices, ExecutionConfig(mode=s.mode))


@pytest.mark.parametrize("name", NAMES)
def test_no_look_ahead_in_the_panel(name: str, market: MarketData, targets: dict[str, pd.DataFrame]) -> None:
    s = REGISTRY[name]
    w = targets[name]
    w2 = s.target_weights(perturbed_panel(market, CUT))
    before = w.index <= CUT
    pd.testing.assert_frame_equal(w2.loc[before], w.loc[before])
    if any(not n.startswith("price:") for n in s.needs):
        assert not w2.loc[~before].equals(w.loc[~before]), f"{name}: the panel after the cut changed nothing"


@pytest.mark.parametrize("name", NAMES)
def test_no_look_ahead_in_prices(name: str, market: MarketData, targets: dict[str, pd.DataFrame]) -> None:
    s = REGISTRY[name]
    w = targets[name]
    w2 = s.target_weights(perturbed_prices(market, CUT))
    before = w.index <= CUT
    pd.testing.assert_frame_equal(w2.loc[before], w.loc[before])


def test_price_look_ahead_check_can_fail(market: MarketData) -> None:
    """The squeeze variant reads prices: perturbing them after the cut moves later weights, not earlier."""
    s = REGISTRY["fade_most_short"]
    w = s.target_weights(market, {"variant": "squeeze"})
    w2 = s.target_weights(perturbed_prices(market, CUT), {"variant": "squeeze"})
    before = w.index <= CUT
    pd.testing.assert_frame_equal(w2.loc[before], w.loc[before])
    assert not w2.loc[~before].equals(w.loc[~before])


def test_a_leaky_strategy_is_caught(market: MarketData) -> None:
    """A strategy that reads next week's close fails the price look-ahead comparison."""
    def leaky(data: MarketData) -> pd.DataFrame:
        dates = weekly(data.index)
        ahead = data.prices.close[MARKET].pct_change(5).shift(-5).loc[dates]
        return (ahead.fillna(0.0) * 10.0).clip(-1.0, 1.0).to_frame(MARKET)

    s = Strategy("leaky", "Tomorrow's prices predict returns.", (f"price:{MARKET}",), {}, {}, leaky, "timing")
    w, w2 = s.target_weights(market), s.target_weights(perturbed_prices(market, CUT))
    before = w.index <= CUT
    assert not w2.loc[before].equals(w.loc[before])


# ----- the signals target the planted definitions -----

def test_fresh_flow_signal_matches_the_planted_one(market: MarketData) -> None:
    """The strategy's event equals the synthetic fresh_flow signal (the weekly schedule skips one 2001 week)."""
    event, _ = fresh_low_exposure(market, 3, 2, 156, 0.3)
    as_of = market.flow("net_flow", ["Industrials"], field="as_of").loc[event.index, "Industrials"]
    truth = planted_signals(market)["fresh_flow"].rename(columns=ETF_OF_SECTOR)[event.columns]
    planted = truth.reindex(as_of.to_numpy()).fillna(False).astype(bool).set_axis(event.index)
    assert planted.to_numpy().sum() > 40
    assert (event != planted).to_numpy().sum() <= 2


def test_crowding_and_degrossing_match_the_planted_signals(market: MarketData) -> None:
    from strategies.crowding_overlay import crowded
    from strategies.leverage_regime import degrossing

    flags = crowded(market, 156, 0.8, 0.8)
    drops = degrossing(market, 7.0)
    as_of = market.flow("net_exposure", ["Industrials"], field="as_of").loc[flags.index, "Industrials"]
    sig = planted_signals(market)
    crowd = sig["crowding"].rename(columns=ETF_OF_SECTOR)[flags.columns].reindex(as_of.to_numpy())
    degross = sig["degrossing"].reindex(as_of.to_numpy())
    assert crowd.to_numpy().sum() > 100 and degross.to_numpy().sum() > 20
    assert (flags.to_numpy() != crowd.fillna(False).to_numpy(dtype=bool)).mean() < 0.01
    assert (drops.to_numpy() != degross.fillna(False).to_numpy(dtype=bool)).sum() <= 2


def test_a_repeated_week_is_not_a_new_observation(market: MarketData) -> None:
    """2001-09-10 decides on the week already seen on 2001-09-04: it is dropped and the book is carried."""
    flow = sector_obs(market, "net_flow")
    (obs,) = observed(flow)
    assert pd.Timestamp("2001-09-10") in flow.index and flow.loc["2001-09-10"].isna().all()
    assert pd.Timestamp("2001-09-10") not in obs.index
    w = REGISTRY["sector_flow_momentum"].target_weights(market)
    pd.testing.assert_series_equal(w.loc["2001-09-10"], w.loc["2001-09-04"], check_names=False)


def test_holding_helpers() -> None:
    idx = pd.date_range("2020-01-07", periods=7, freq="7D")
    event = pd.DataFrame({"A": [False, False, True, False, False, False, True]}, index=idx)
    assert recent(event, 3)["A"].tolist() == [False, False, True, True, True, False, True]
    score = pd.DataFrame({"A": np.arange(7.0)}, index=idx)
    np.testing.assert_array_equal(carry(score, event, 2)["A"], [np.nan, np.nan, 2, 2, np.nan, np.nan, 6])
    live = pd.DataFrame({"A": [True] * 7, "B": [True] * 7, "C": [False] * 3 + [True] * 4}, index=idx)
    side = pd.DataFrame({"A": [0, 1, 1, 1, 0, 0, 0], "B": [0.0] * 7, "C": [1.0] * 7}, index=idx)
    book = neutral_book(side, live)
    assert (book.loc[~live["C"], "C"] == 0).all()
    np.testing.assert_allclose(book.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(book.abs().sum(axis=1), [0, 1, 1, 1, 1, 1, 1])
    assert book.loc[idx[1], "A"] == 0.5 and book.loc[idx[3], "B"] == -0.5


def test_bad_choice_parameters_say_what_is_allowed(market: MarketData) -> None:
    with pytest.raises(ConfigError, match="weighting: 'cap' is not valid; it must be one of 'equal', 'signal'"):
        REGISTRY["fresh_flow_low_exposure"].target_weights(market, {"weighting": "cap"})
    with pytest.raises(ConfigError, match="variant: 'sometimes' is not valid; it must be one of 'always', 'squeeze'"):
        REGISTRY["fade_most_short"].target_weights(market, {"variant": "sometimes"})


def test_fresh_flow_top_n_and_signal_weighting(market: MarketData) -> None:
    s = REGISTRY["fresh_flow_low_exposure"]
    one = s.target_weights(market, {"top_n": 1, "idle": "cash"})
    assert ((one > 0).sum(axis=1) <= 1).all() and set(one.sum(axis=1).round(12)) == {0.0, 1.0}
    sig = s.target_weights(market, {"weighting": "signal", "idle": "cash"})
    held = (sig > 0).sum(axis=1) > 1
    assert held.any() and (sig[held].max(axis=1) > sig[held].where(sig[held] > 0).min(axis=1) + 1e-6).any()


# ----- the command line and runs -----

def test_flowbt_list_shows_every_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, s in REGISTRY.items():
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert s.hypothesis in line and f"[{s.mode}]" in line


@pytest.mark.parametrize("name", NAMES)
def test_run_strategy(name: str, market: MarketData, tmp_path) -> None:
    out = run_strategy(name, market, out=tmp_path / name, tearsheet=False)
    assert (tmp_path / name / "metrics.json").exists()
    assert np.isfinite(out.metrics["sharpe"]) and out.result.returns.notna().all()
    assert out.result.turnover.sum() > 0


BAD_VALUES = [
    ("fresh_flow_low_exposure", "top_n", "0", "a whole number in [1, 11]"),
    ("fresh_flow_low_exposure", "hold", "-1", "a whole number in [1, 520]"),
    ("fresh_flow_low_exposure", "pct_below", "nan", "not a finite number"),
    ("fresh_flow_low_exposure", "pct_below", "inf", "not a finite number"),
    ("fresh_flow_low_exposure", "pct_below", "1.5", "a finite number in [0.0, 1.0]"),
    ("fresh_flow_low_exposure", "top_n", "2.5", "not a valid int"),
    ("fresh_flow_low_exposure", "weighting", "loud", "one of 'equal', 'signal'"),
    ("leverage_regime", "drop", "-inf", "not a finite number"),
    ("cot_leveraged_funds", "how", "median", "one of 'percentile', 'zscore'"),
    ("sector_flow_momentum", "n", "6", "a whole number in [1, 5]"),
]


@pytest.mark.parametrize(("name", "key", "raw", "says"), BAD_VALUES)
def test_declared_parameters_refuse_bad_values(name, key, raw, says):
    with pytest.raises(ConfigError, match=re.escape(says)) as err:
        registry.get(name).resolve({key: raw})
    assert f"{name}.{key}" in str(err.value)


def test_every_declared_default_and_grid_value_is_valid():
    for strat in registry.registry().values():
        assert set(strat.grid) <= set(strat.spec)
        for key, p in strat.spec.items():
            assert p.check(p.default, key) == strat.params[key]
            assert [p.check(v, key) for v in p.grid] == list(strat.grid.get(key, []))


def test_grid_values_are_checked_before_any_work():
    from research.sweep.grid import expand, parse_grid

    strat = registry.get("fresh_flow_low_exposure")
    with pytest.raises(ConfigError, match=r"top_n: 0 is not valid"):
        expand(strat, parse_grid(["top_n=0:3"], strat))


def test_a_declaration_with_an_invalid_default_fails_at_once():
    from research.strategy import Float, Int, Strategy

    with pytest.raises(ConfigError, match=r"x.n \(default\)"):
        Strategy("x", "h", (), {"n": Int(0, lo=1)}, weights=lambda data, n: None)
    with pytest.raises(ConfigError, match=r"x.p \(grid\)"):
        Strategy("x", "h", (), {"p": Float(0.5, grid=[0.5, float("nan")])}, weights=lambda data, p: None)
    with pytest.raises(ConfigError, match="not declared"):
        Strategy("x", "h", (), {"p": 0.5}, {"q": [1]}, lambda data, p: None)
