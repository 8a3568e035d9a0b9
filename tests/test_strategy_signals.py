"""Strategy signals (`Strategy.signal`): the scores behind the weights, on their sessions, with no look-ahead.

Every strategy whose weights rank assets defines a signal; timing strategies and two-asset basket trades do
not. A signal must sit on its weights' decision sessions, name only assets the weights trade, move the weights
in its own direction (a higher score never gets a lower weight), and see nothing published after a cut. The
fresh_flow_low_exposure score must find the planted edge and no edge where none is planted.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import numpy as np
import pandas as pd
import pytest
from test_strategies import CUT, perturbed_panel, perturbed_prices

from research import registry
from research.analytics.diagnostics import ic_summary
from research.data.market import MarketData
from research.data.universe import SECTOR_ETFS
from research.observe import FRIDAY
from research.schedule import weekly

REGISTRY = registry.registry()
SECTOR_BOOKS = ("fresh_flow_low_exposure", "flow_composite", "crowding_overlay", "fade_most_short_sectors",
                "hf_retail_divergence", "sector_flow_momentum", "cot_sector_positioning")
# Real-data strategies other than the CFTC ones (which run here on a synthetic CFTC panel) are checked in
# tests/test_real_strategies.py on ../shared/data.
WITH_SIGNAL = sorted(n for n, s in REGISTRY.items()
                     if s.signal is not None and ("real-data" not in s.tags or "cftc" in s.tags))
SYNTHETIC = [n for n in WITH_SIGNAL if "real-data" not in REGISTRY[n].tags]
COT_CUT = pd.Timestamp("2012-06-30 23:59")


def cftc_market(data: MarketData, seed: int = 3) -> MarketData:
    """The market plus a sparse synthetic CFTC `lev_money_net_pct_oi` for the sector futures (Tuesday
    positions public Friday 15:30), so cot_sector_positioning runs without ../shared/data."""
    rng = np.random.default_rng(seed)
    tuesdays = pd.date_range("2006-01-03", data.index[-1] - pd.Timedelta(days=4), freq="W-TUE")
    rows = []
    for ticker in SECTOR_ETFS:
        reported = rng.random(len(tuesdays)) < 0.8  # weeks without enough reportable traders are absent
        value = np.cumsum(rng.normal(0.0, 2.0, len(tuesdays)))
        rows.append(pd.DataFrame({
            "as_of": tuesdays[reported], "available_at": tuesdays[reported] + pd.Timedelta(days=3, hours=15, minutes=30),
            "entity": ticker, "metric": "lev_money_net_pct_oi", "value": value[reported], "source": "cftc_tff",
            "units": "pct_oi",
        }))
    panel = pd.concat([data.panel, *rows], ignore_index=True)
    return dataclasses.replace(data, panel=panel)


@pytest.fixture(scope="module")
def cot(market: MarketData) -> MarketData:
    return cftc_market(market)


def data_for(name: str, market: MarketData, cot: MarketData) -> MarketData:
    return cot if name == "cot_sector_positioning" else market


# ----- which strategies have a signal -----

def test_every_ranked_book_has_a_signal_and_the_rest_do_not() -> None:
    assert set(SECTOR_BOOKS) <= set(WITH_SIGNAL)
    for name, s in REGISTRY.items():
        if s.mode == "timing" or (s.mode == "dollar_neutral" and "basket" in s.tags):
            assert s.signal is None, f"{name} is a {s.mode} trade of one or two assets: no cross-section to rank"


@pytest.mark.parametrize("name", WITH_SIGNAL)
def test_signal_takes_the_weights_parameters(name: str) -> None:
    """Same module as the weights, the same defaults for the parameters it reads, `**_` for the rest."""
    s = REGISTRY[name]
    assert s.signal.__module__ == s.weights.__module__
    params = inspect.signature(s.signal).parameters
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = {k: p.default for k, p in params.items() if k != "data" and p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert named and all(k in s.params and s.params[k] == v for k, v in named.items()), named
    assert "Score (`signal`):" in importlib.import_module(s.weights.__module__).__doc__


# ----- shape, sessions and direction -----

@pytest.mark.parametrize("name", WITH_SIGNAL)
def test_signal_sits_on_the_weights_sessions(name: str, market: MarketData, cot: MarketData) -> None:
    s, data = REGISTRY[name], data_for(name, market, cot)
    w, x = s.target_weights(data), s.target_signal(data)
    assert x.index.equals(w.index)
    if name != "cot_sector_positioning":
        assert x.index.equals(weekly(data.index))
    else:
        assert x.index.isin(weekly(data.index, weekday=FRIDAY)).all()
    assert set(x.columns) <= set(w.columns) and len(x.columns) >= 3
    assert x.dtypes.eq(float).all() and not np.isinf(x.to_numpy()).any()
    scored = x.notna().sum(axis=1)
    assert (scored >= 3).sum() > 50, f"{name}: too few sessions rank three or more assets"
    assert ((scored == 0) | (x.max(axis=1) > x.min(axis=1))).all(), "a row of ties must be NaN (no ranking)"
    close = data.prices.close.loc[x.index, list(x.columns)]
    assert x.where(close.isna()).isna().all().all(), "an unpriced asset has no score"


@pytest.mark.parametrize("name", WITH_SIGNAL)
def test_a_higher_score_never_gets_a_lower_weight(name: str, market: MarketData, cot: MarketData) -> None:
    """Signal and weights come from one helper: on every ranked session the weights are monotone in the score."""
    s, data = REGISTRY[name], data_for(name, market, cot)
    grid_last = {k: v[-1] for k, v in s.grid.items()}
    for overrides in ({}, grid_last):
        weights = s.target_weights(data, overrides)
        w = weights.to_numpy()
        x = s.target_signal(data, overrides).reindex(columns=weights.columns).to_numpy()
        higher = x[:, :, None] > x[:, None, :]  # NaN compares False: unscored assets are left out
        lower_weight = w[:, :, None] < w[:, None, :] - 1e-12
        bad = (higher & lower_weight).any(axis=(1, 2))
        assert not bad.any(), f"{name} {overrides}: {bad.sum()} sessions weight a higher score lower"


# ----- no look-ahead -----

@pytest.mark.parametrize("name", WITH_SIGNAL)
def test_no_look_ahead_in_the_signal(name: str, market: MarketData, cot: MarketData) -> None:
    s, data = REGISTRY[name], data_for(name, market, cot)
    cut = COT_CUT if name == "cot_sector_positioning" else CUT
    x = s.target_signal(data)
    before = x.index <= cut
    for late in (perturbed_panel(data, cut), perturbed_prices(data, cut)):
        x2 = s.target_signal(late)
        pd.testing.assert_frame_equal(x2.loc[before], x.loc[before])
    x2 = s.target_signal(perturbed_panel(data, cut))
    assert not x2.loc[~before].equals(x.loc[~before]), f"{name}: the panel after the cut changed nothing"


# ----- the fresh_flow score is informative, and honest at ic = 0 -----

def test_fresh_flow_signal_finds_the_planted_edge(market: MarketData) -> None:
    x = REGISTRY["fresh_flow_low_exposure"].target_signal(market)
    summary = ic_summary(x, market.prices.close)
    assert summary.loc[4, "mean_ic"] > 0 and summary.loc[4, "t_nw"] > 2.0, summary
    assert summary.loc[4, "n_dates"] > 100


def test_fresh_flow_signal_is_noise_without_an_edge() -> None:
    from research.data.synthetic import make_market

    flat = make_market(seed=0, ic=0.0)
    summary = ic_summary(REGISTRY["fresh_flow_low_exposure"].target_signal(flat), flat.prices.close)
    assert summary.loc[4, "n_dates"] > 100
    assert abs(summary.loc[4, "t_nw"]) < 2.6, summary


def test_fresh_flow_signal_is_the_books_ranking_key(market: MarketData) -> None:
    """The live scores are 1 - the percentile at the event (above 1 - pct_below); the book holds the top_n."""
    s = REGISTRY["fresh_flow_low_exposure"]
    x = s.target_signal(market, {"top_n": 1})
    w = s.target_weights(market, {"top_n": 1, "idle": "cash"})
    live = x.to_numpy()[x.to_numpy() > 0]
    assert live.size > 100 and ((live > 0.7) & (live <= 1.0)).all()
    ranked = x.notna().any(axis=1)
    assert ranked.sum() > 100
    held = w.loc[ranked].idxmax(axis=1)
    top = x.loc[ranked].idxmax(axis=1)
    assert (held == top).all()
    assert (w.loc[~ranked].sum(axis=1) == 0).all()
