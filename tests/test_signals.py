"""The signal library: kernels agree with plain references, batches equal single runs, nothing looks ahead.

Random inputs are small T x N arrays on a grid of quarters with NaNs: ties, zeros and sign runs are common,
and sums are exact, so kernel and reference must agree to rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import signal_reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from research.errors import ConfigError, DataError
from research.signals import (
    bottom_n,
    breadth,
    cs_rank,
    divergence,
    ewma,
    fresh,
    hysteresis,
    nb,
    pct_rank,
    streak,
    top_n,
    weights_from_scores,
    zscore,
)

PROPERTY = settings(derandomize=True, max_examples=40, deadline=None, database=None)
GRID = [np.nan, 0.0, *[i / 4 for i in range(-6, 7) if i]]


def grids(max_t: int = 24, max_n: int = 5):
    """Random (T, N) float arrays of quarters in [-1.5, 1.5] and NaN (T >= 2; one row is tested apart)."""
    shape = st.tuples(st.integers(2, max_t), st.integers(1, max_n))
    return arrays(np.float64, shape, elements=st.sampled_from(GRID))


def frame(x: np.ndarray) -> pd.DataFrame:
    cols = pd.Index([f"S{j}" for j in range(x.shape[1])], name="sector")
    return pd.DataFrame(x, index=pd.date_range("2020-01-07", periods=len(x), freq="7D"), columns=cols)


def windows_and_counts(data: st.DataObject) -> tuple[np.ndarray, np.ndarray]:
    windows = data.draw(st.lists(st.integers(1, 9), min_size=1, max_size=4))
    counts = [data.draw(st.integers(1, w)) for w in windows]
    return np.array(windows, dtype=np.int64), np.array(counts, dtype=np.int64)


def strided(x: np.ndarray) -> np.ndarray:
    """A copy of x whose columns are strided views, as the 2-D kernels pass them (no extra numba signatures)."""
    T, N = x.shape
    padded = np.zeros((T, N + 1), dtype=x.dtype)
    padded[:, :N] = x
    return padded[:, :N]


def per_column(inner, x: np.ndarray, *params, dtype=np.float64) -> np.ndarray:
    """Run a 1-D inner kernel column by column into a fresh buffer."""
    x, out = strided(x), strided(np.zeros(x.shape, dtype=dtype))
    for j in range(x.shape[1]):
        inner(x[:, j], *params, out[:, j])
    return np.ascontiguousarray(out)


def per_row(inner, x: np.ndarray, *params, dtype=np.float64) -> np.ndarray:
    out = np.zeros(x.shape, dtype=dtype)
    for t in range(x.shape[0]):
        inner(x[t], *params, out[t])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Kernels against references; batched against one parameter set at a time
# ---------------------------------------------------------------------------------------------------------------


@PROPERTY
@given(grids())
def test_streak_matches_reference(x):
    out = nb.streak_nb(x)
    assert_allclose(out, ref.streak(x), equal_nan=True)
    assert_array_equal(per_column(nb.streak_1d_nb, x), out)


@PROPERTY
@given(grids(), st.data())
def test_fresh_matches_reference_and_batch(x, data):
    sets = data.draw(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 4), st.integers(1, 3)), min_size=1,
                              max_size=4))
    ks, ms, holds = (np.array(v, dtype=np.int64) for v in zip(*sets, strict=True))
    out = nb.fresh_nb(x, ks, ms, holds)
    assert out.shape == (len(sets), *x.shape) and out.dtype == np.bool_
    for p, (k, m, hold) in enumerate(sets):
        assert_array_equal(out[p], ref.fresh(x, k, m, hold))
        assert_array_equal(out[p], per_column(nb.fresh_1d_nb, x, k, m, hold, dtype=np.bool_))


@PROPERTY
@given(grids(), st.data())
def test_divergence_matches_reference(x, data):
    y = data.draw(arrays(np.float64, x.shape, elements=st.sampled_from(GRID)))
    out = nb.divergence_nb(x, y)
    assert_allclose(out, ref.divergence(x, y), equal_nan=True)
    a, b, buf = strided(x), strided(y), strided(np.zeros(x.shape))
    for j in range(x.shape[1]):
        nb.divergence_1d_nb(a[:, j], b[:, j], buf[:, j])
    assert_array_equal(buf, out)


@pytest.mark.parametrize("kind", ["pct_rank", "zscore"])
@PROPERTY
@given(x=grids(), data=st.data())
def test_trailing_windows_match_reference_and_batch(kind, x, data):
    windows, counts = windows_and_counts(data)
    kernel, inner, reference = {
        "pct_rank": (nb.pct_rank_nb, nb.pct_rank_1d_nb, ref.pct_rank),
        "zscore": (nb.zscore_nb, nb.zscore_1d_nb, ref.zscore),
    }[kind]
    out = kernel(x, windows, counts)
    assert out.shape == (len(windows), *x.shape)
    for p, (w, c) in enumerate(zip(windows, counts, strict=True)):
        assert_allclose(out[p], reference(x, int(w), int(c)), rtol=1e-12, atol=1e-12, equal_nan=True)
        assert_array_equal(out[p], per_column(inner, x, w, c))


@PROPERTY
@given(grids(), st.lists(st.tuples(st.floats(0.01, 1.0), st.integers(1, 5)), min_size=1, max_size=4))
def test_ewma_matches_pandas_and_batch(x, sets):
    alphas = np.array([a for a, _ in sets])
    counts = np.array([c for _, c in sets], dtype=np.int64)
    out = nb.ewma_nb(x, alphas, counts)
    for p, (a, c) in enumerate(sets):
        assert_allclose(out[p], ref.ewma(x, a, c), rtol=1e-12, atol=1e-12, equal_nan=True)
        assert_array_equal(out[p], per_column(nb.ewma_1d_nb, x, a, c))


@PROPERTY
@given(grids(), st.booleans())
def test_cs_rank_matches_pandas_first(x, ascending):
    out = nb.cs_rank_nb(x, ascending)
    assert_allclose(out, ref.cs_rank(x, ascending), equal_nan=True)
    assert_array_equal(per_row(nb.cs_rank_row_nb, x, ascending), out)


@PROPERTY
@given(grids(), st.lists(st.integers(0, 6), min_size=1, max_size=4, unique=True), st.booleans())
def test_select_matches_reference_and_batch(x, ns, largest):
    out = nb.select_nb(x, np.array(ns, dtype=np.int64), largest)
    for p, n in enumerate(ns):
        assert_array_equal(out[p], ref.select(x, n, largest))
        assert_array_equal(out[p], per_row(nb.select_row_nb, x, n, largest, dtype=np.bool_))
        ranks = nb.cs_rank_nb(x, not largest)
        assert_array_equal(out[p], ranks <= n)  # consistent with the documented rank tie-break


@PROPERTY
@given(grids(), st.lists(st.sampled_from([-0.5, 0.0, 0.25, 1.0]), min_size=1, max_size=3))
def test_breadth_matches_reference_and_batch(x, thresholds):
    counts, valid = nb.breadth_nb(x, np.array(thresholds))
    for p, thr in enumerate(thresholds):
        want, want_valid = ref.breadth(x, thr)
        assert_allclose(counts[p], want, equal_nan=True)
        assert_allclose(valid, want_valid)
        for t in range(x.shape[0]):
            below, n = nb.breadth_row_nb(x[t], thr)
            assert n == want_valid[t] and (n == 0 or below == counts[p, t])


@PROPERTY
@given(grids(), st.lists(st.tuples(st.sampled_from(GRID[1:]), st.sampled_from(GRID[1:])), min_size=1, max_size=4))
def test_hysteresis_matches_reference_and_batch(x, pairs):
    uppers = np.array([max(a, b) for a, b in pairs])
    lowers = np.array([min(a, b) for a, b in pairs])
    out = nb.hysteresis_nb(x, uppers, lowers)
    for p, (u, lo) in enumerate(zip(uppers, lowers, strict=True)):
        assert_array_equal(out[p], ref.hysteresis(x, u, lo))
        assert_array_equal(out[p], per_column(nb.hysteresis_1d_nb, x, u, lo, dtype=np.bool_))


@PROPERTY
@given(
    x=grids(max_n=6),
    method=st.sampled_from(["equal", "proportional", "inverse_vol"]),
    long_short=st.booleans(),
    limits=st.lists(st.tuples(st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([None, 0.0, 0.3, 1.0])),
                    min_size=1, max_size=3),
    data=st.data(),
)
def test_weights_match_reference_and_respect_limits(x, method, long_short, limits, data):
    mask = data.draw(arrays(np.bool_, x.shape))
    vol = data.draw(arrays(np.float64, x.shape, elements=st.sampled_from([np.nan, 0.0, 0.1, 0.2, 0.5, np.inf])))
    gross = np.array([g for g, _ in limits])
    net = np.array([np.inf if n is None else n for _, n in limits])
    out = nb.weights_nb(x[None], mask[None], vol, nb.INVERSE_VOL if method == "inverse_vol" else
                        {"equal": nb.EQUAL, "proportional": nb.PROPORTIONAL}[method], gross, net, long_short)
    assert out.shape == (len(limits), *x.shape) and not np.isnan(out).any()
    for p, (g, n) in enumerate(limits):
        w = out[p]
        assert_allclose(w, ref.weights(x, mask, vol, method, g, n, long_short), rtol=1e-12, atol=1e-12)
        assert (w[~mask | np.isnan(x)] == 0).all()
        held = w != 0
        cap = np.inf if n is None else n
        gross_used = np.abs(w).sum(axis=1)
        assert (gross_used <= g + 1e-12).all() and (np.abs(w.sum(axis=1)) <= cap + 1e-12).all()
        two_sided = (w > 0).any(axis=1) & (w < 0).any(axis=1)
        assert_allclose(gross_used[two_sided], g)
        if long_short:
            assert (np.sign(w[held]) == np.sign(x[held])).all()
        else:
            assert (w >= 0).all()


def test_weights_batch_broadcasts_frames_and_limits():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 5))
    masks = nb.select_nb(x, np.array([1, 2, 3]), True)
    vol = np.ones_like(x)
    one = np.array([1.0])
    inf = np.array([np.inf])
    out = nb.weights_nb(x[None], masks, vol, nb.EQUAL, one, inf, False)
    for p in range(3):
        single = nb.weights_nb(x[None], masks[p][None], vol, nb.EQUAL, one, inf, False)[0]
        assert_array_equal(out[p], single)
        assert_array_equal(single, per_row_weights(x, masks[p], vol))


def per_row_weights(x, mask, vol):
    out = np.zeros_like(x)
    for t in range(x.shape[0]):
        nb.weights_row_nb(x[t], mask[t], vol[t], nb.EQUAL, 1.0, np.inf, False, out[t])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Worked examples of the documented definitions
# ---------------------------------------------------------------------------------------------------------------


def col(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)[:, None]


def test_streak_examples():
    x = col(1, 2, 0, -1, -3, np.nan, 2, 5, 1, 1, 7)
    assert_allclose(nb.streak_nb(x)[:, 0], [1, 2, 0, -1, -2, np.nan, 1, 2, 3, 4, 5], equal_nan=True)


def test_fresh_examples():
    x = col(-1, -1, -1, 1, 1, 1)
    ks, ms, holds = np.array([1, 2, 1, 1, 3]), np.array([3, 3, 3, 4, 0]), np.array([1, 1, 2, 1, 1])
    out = nb.fresh_nb(x, ks, ms, holds)[:, :, 0]
    assert np.flatnonzero(out[0]).tolist() == [3]  # first week of buying after 3 of selling
    assert np.flatnonzero(out[1]).tolist() == [4]  # second week
    assert np.flatnonzero(out[2]).tolist() == [3, 4]  # held for two weeks
    assert not out[3].any()  # needs 4 weeks of selling
    assert np.flatnonzero(out[4]).tolist() == [5]  # m = 0: any third week of buying
    for gap in (np.nan, 0.0):  # a gap or a flat week between selling and buying is not "after selling"
        assert not nb.fresh_nb(col(-1, -1, gap, 1), np.array([1]), np.array([1]), np.array([1])).any()


def test_pct_rank_and_zscore_examples():
    x = col(1, 2, 3, 2, np.nan, 2)
    assert_allclose(nb.pct_rank_nb(x, np.array([3]), np.array([1]))[0, :, 0], [1, 1, 1, 2 / 3, np.nan, 2 / 2],
                    equal_nan=True)
    assert_allclose(nb.pct_rank_nb(x, np.array([3]), np.array([3]))[0, :, 0],
                    [np.nan, np.nan, 1, 2 / 3, np.nan, np.nan], equal_nan=True)
    z = nb.zscore_nb(col(1, 1, 1, 4), np.array([4]), np.array([2]))[0, :, 0]
    assert_allclose(z, [np.nan, np.nan, np.nan, 1.5], equal_nan=True)  # mean 1.75, std 1.5


def test_cross_section_tie_break_is_column_order():
    x = np.array([[1.0, 1.0, 0.0, np.nan, 1.0]])
    assert_allclose(nb.cs_rank_nb(x, True), [[2, 3, 1, np.nan, 4]], equal_nan=True)
    assert_allclose(nb.cs_rank_nb(x, False), [[1, 2, 4, np.nan, 3]], equal_nan=True)
    sel = nb.select_nb(x, np.array([1, 2, 9]), True)[:, 0]
    assert sel.tolist() == [[True, False, False, False, False], [True, True, False, False, False],
                            [True, True, True, False, True]]
    assert nb.select_nb(x, np.array([1]), False)[0, 0].tolist() == [False, False, True, False, False]


def test_hysteresis_and_breadth_examples():
    x = col(0, 1.0, 0.5, np.nan, -0.5, 0.5, 1.2)
    out = nb.hysteresis_nb(x, np.array([1.0]), np.array([-0.5]))[0, :, 0]
    assert out.tolist() == [False, True, True, True, False, False, True]
    counts, valid = nb.breadth_nb(np.array([[-1.0, 2.0, np.nan, -0.5], [np.nan] * 4]), np.array([0.0]))
    assert_allclose(counts, [[2.0, np.nan]], equal_nan=True)
    assert_allclose(valid, [3.0, 0.0])


def test_weights_examples():
    s = np.array([[2.0, 1.0, 1.0, -1.0, np.nan]])
    m = np.ones_like(s, dtype=bool)
    v = np.ones_like(s)

    def w(method=nb.EQUAL, gross=1.0, net=np.inf, ls=True, score=s, vol=v):
        return nb.weights_nb(score[None], m[None], vol, method, np.array([gross]), np.array([net]), ls)[0, 0]

    assert_allclose(w(), [0.25, 0.25, 0.25, -0.25, 0])
    assert_allclose(w(net=0.0), [1 / 6, 1 / 6, 1 / 6, -0.5, 0])  # dollar neutral, gross kept
    assert_allclose(w(net=0.2, gross=2.0), [1.1 / 3, 1.1 / 3, 1.1 / 3, -0.9, 0])  # books (2 +- 0.2) / 2
    assert_allclose(w(method=nb.PROPORTIONAL), [0.4, 0.2, 0.2, -0.2, 0])
    assert_allclose(w(ls=False), [0.25, 0.25, 0.25, 0.25, 0])
    assert_allclose(w(ls=False, net=0.5), [0.125, 0.125, 0.125, 0.125, 0])  # one-sided: min(gross, net)
    assert_allclose(w(method=nb.PROPORTIONAL, ls=False), [0.5, 0.25, 0.25, 0, 0])
    assert_allclose(w(method=nb.INVERSE_VOL, vol=np.array([[0.1, 0.2, np.nan, 0.0, 0.1]]), ls=False),
                    [2 / 3, 1 / 3, 0, 0, 0])
    assert_allclose(w(score=np.full_like(s, np.nan)), 0)


# ---------------------------------------------------------------------------------------------------------------
# No look-ahead: rows after t may change freely, rows up to t may not
# ---------------------------------------------------------------------------------------------------------------

SIGNALS = {
    "streak": streak,
    "fresh": lambda x: fresh(x, k=[1, 2], m=[1, 2], hold=2),
    "divergence": lambda x: divergence(x, -x.iloc[:, ::-1].set_axis(x.columns, axis=1)),
    "pct_rank": lambda x: pct_rank(x, [3, 6], min_count=2),
    "zscore": lambda x: zscore(x, [3, 6], min_count=[2, 3]),
    "ewma": lambda x: ewma(x, span=[2, 5]),
    "cs_rank": lambda x: cs_rank(x, pct=True),
    "top_n": lambda x: top_n(x, [1, 2]),
    "bottom_n": lambda x: bottom_n(x, 2),
    "breadth": lambda x: breadth(x, [0.0, 0.5], fraction=True),
    "hysteresis": lambda x: hysteresis(x, [0.5, 1.0], [-0.5, 0.0]),
    "weights": lambda x: weights_from_scores(zscore(x, 4, 2), top_n(x, [1, 3]), "proportional", long_short=True),
}


@pytest.mark.parametrize("name", list(SIGNALS))
@settings(derandomize=True, max_examples=12, deadline=None, database=None)
@given(x=grids(max_t=20), data=st.data())
def test_no_look_ahead(name, x, data):
    t = data.draw(st.integers(0, len(x) - 1))
    future = data.draw(arrays(np.float64, (len(x) - t - 1, x.shape[1]), elements=st.sampled_from(GRID)))
    y = x.copy()
    y[t + 1:] = future
    a, b = SIGNALS[name](frame(x)), SIGNALS[name](frame(y))
    pd.testing.assert_frame_equal(pd.DataFrame(a).iloc[: t + 1], pd.DataFrame(b).iloc[: t + 1])


# ---------------------------------------------------------------------------------------------------------------
# Pandas wrappers: labels, batch frames, independent pandas cross-checks, errors
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SIGNALS))
def test_one_row_and_empty_history(name):
    x = frame(np.array([[0.5, np.nan, -0.25]]))
    out = pd.DataFrame(SIGNALS[name](x))
    assert out.index.equals(x.index)


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    return frame(x)


def test_wrappers_keep_labels_and_batches_select_back(flows):
    one = pct_rank(flows, 26, min_count=10)
    assert one.index.equals(flows.index) and one.columns.equals(flows.columns)
    many = pct_rank(flows, [13, 26], min_count=10)
    assert list(many.columns.names) == ["window", "sector"]
    pd.testing.assert_frame_equal(many[26], one, check_names=False)
    pairs = fresh(flows, k=[1, 2], m=[1, 3])
    assert list(pairs.columns.names) == ["k", "m", "sector"]
    pd.testing.assert_frame_equal(pairs[(2, 3)], fresh(flows, 2, 3), check_names=False)
    assert fresh(flows).dtypes.eq(bool).all()
    w = weights_from_scores(flows, top_n(flows, [1, 2]))
    assert list(w.columns.names) == ["n", "sector"]
    pd.testing.assert_frame_equal(w[2], weights_from_scores(flows, top_n(flows, 2)), check_names=False)
    g = weights_from_scores(flows, gross=[1.0, 2.0], net=[0.5, 0.5], long_short=True)
    assert list(g.columns.names) == ["gross", "net", "sector"]
    pd.testing.assert_frame_equal(g[(2.0, 0.5)], weights_from_scores(flows, gross=2.0, net=0.5, long_short=True),
                                  check_names=False)


def test_wrappers_match_pandas(flows):
    roll = flows.rolling(20, min_periods=8)
    want = (flows - roll.mean()) / roll.std()
    got = zscore(flows, 20, 8)
    assert_allclose(got.to_numpy(), want.where(flows.notna()).to_numpy(), rtol=1e-9, equal_nan=True)
    # pandas' rolling rank with method="max" and pct=True is exactly "fraction of valid values <= current"
    want = roll.rank(method="max", pct=True)
    assert_allclose(pct_rank(flows, 20, 8).to_numpy(), want.to_numpy(), rtol=1e-12, equal_nan=True)
    assert_allclose(ewma(flows, halflife=4.0).to_numpy(),
                    flows.ewm(halflife=4.0, adjust=False, ignore_na=True).mean().to_numpy(), rtol=1e-12)
    assert_allclose(cs_rank(flows, ascending=False, pct=True).to_numpy(),
                    flows.rank(axis=1, method="first", ascending=False, pct=True).to_numpy(), equal_nan=True)
    assert_allclose(breadth(flows, side="above").to_numpy(),
                    (flows > 0).sum(axis=1).where(flows.notna().any(axis=1)).to_numpy(), equal_nan=True)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x: pct_rank(x, [3, 4], min_count=[1, 2, 3]), ConfigError, "equal lengths"),
        (lambda x: pct_rank(x, [3, 3]), ConfigError, "duplicate"),
        (lambda x: zscore(x, 0), ConfigError, "window"),
        (lambda x: zscore(x, 2.5), ConfigError, "whole numbers"),
        (lambda x: pct_rank(x, 5, min_count=6), ConfigError, "exceed"),
        (lambda x: ewma(x, span=3, alpha=0.5), ConfigError, "exactly one"),
        (lambda x: ewma(x, alpha=1.5), ConfigError, "alpha"),
        (lambda x: hysteresis(x, 0.0, 1.0), ConfigError, "lower <= upper"),
        (lambda x: fresh(x, k=0), ConfigError, "k must"),
        (lambda x: breadth(x, side="sideways"), ConfigError, "side"),
        (lambda x: weights_from_scores(x, method="kelly"), ConfigError, "method"),
        (lambda x: weights_from_scores(x, method="inverse_vol"), ConfigError, "needs vol"),
        (lambda x: weights_from_scores(x, top_n(x, [1, 2]), gross=[1, 2]), ConfigError, "not both"),
        (lambda x: weights_from_scores(x, net=-1), ConfigError, "net >= 0"),
        (lambda x: streak(x.to_numpy()), DataError, "DataFrame"),
        (lambda x: streak(x.astype(str)), DataError, "not numeric"),
        (lambda x: streak(pct_rank(x, [2, 3])), DataError, "batch frame"),
        (lambda x: divergence(x, x.iloc[1:]), DataError, "different dates"),
        (lambda x: divergence(x, x.iloc[:, ::-1]), DataError, "different columns"),
        (lambda x: weights_from_scores(x, x.iloc[:, :2] > 0), DataError, "entities"),
    ],
)
def test_errors_say_what_is_wrong(flows, call, error, words):
    with pytest.raises(error, match=words):
        call(flows)
