"""research.data.cache: what the on-disk cache returns is what would have been built, and a change of key,
code or file is never served stale."""

from __future__ import annotations

import pandas as pd
import pytest

from research.data import cache


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBT_CACHE", str(tmp_path))
    monkeypatch.delenv("FLOWBT_NO_CACHE", raising=False)
    return tmp_path / "data"


def _counting(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_built_once_then_read(store):
    build, calls = _counting({"a": [1.5, 2.5]})
    mods = ("research.data.cache",)
    assert cache.cached("thing", (1, "x"), mods, build) == {"a": [1.5, 2.5]}
    assert cache.cached("thing", (1, "x"), mods, build) == {"a": [1.5, 2.5]}
    assert len(calls) == 1 and len(list(store.glob("thing-*.pkl"))) == 1
    cache.cached("thing", (2, "x"), mods, build)  # another key: built
    assert len(calls) == 2


def test_code_change_is_a_new_key(store, tmp_path, monkeypatch):
    pkg = tmp_path / "src" / "fakepkg"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text("X = 1\n")
    monkeypatch.setattr(cache, "_ROOT", tmp_path / "src")
    cache.fingerprint.cache_clear()
    try:
        build, calls = _counting(7)
        cache.cached("thing", (), ("fakepkg.mod",), build)
        (pkg / "mod.py").write_text("X = 2\n")
        cache.fingerprint.cache_clear()
        cache.cached("thing", (), ("fakepkg.mod",), build)
        assert len(calls) == 2
    finally:
        cache.fingerprint.cache_clear()


def test_unreadable_entry_is_rebuilt_and_off_switch(store, monkeypatch):
    build, calls = _counting([1, 2, 3])
    cache.cached("thing", (), (), build)
    (entry,) = store.glob("thing-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert cache.cached("thing", (), (), build) == [1, 2, 3] and len(calls) == 2
    monkeypatch.setenv("FLOWBT_NO_CACHE", "1")
    assert cache.cached("other", (), (), build) == [1, 2, 3]
    assert not list(store.glob("other-*.pkl"))


def test_read_only_cache_is_still_read(store, monkeypatch):
    build, calls = _counting([4, 5])
    cache.cached("thing", (), (), build)

    def denied(*args, **kw):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(cache.os, "utime", denied)
    monkeypatch.setattr(cache.os, "replace", denied)
    assert cache.cached("thing", (), (), build) == [4, 5] and len(calls) == 1  # a hit despite utime failing
    assert cache.cached("new", (), (), build) == [4, 5]  # a miss that cannot be stored: built, nothing left
    assert not list(store.glob("new-*.pkl")) and not list(store.glob(".new-*"))


def test_unpicklable_value_is_returned_and_not_stored(store):
    value = lambda: None  # noqa: E731  # a lambda does not pickle
    assert cache.cached("fn", (), (), lambda: value) is value
    assert not list(store.glob("*fn-*"))  # neither an entry nor a half-written temporary file


@pytest.mark.parametrize("value, on", [("", True), ("0", True), ("false", True), ("1", False), ("YES", False)])
def test_off_switch_values(monkeypatch, value, on):
    monkeypatch.setenv("FLOWBT_NO_CACHE", value)
    assert cache.enabled() is on


def test_bad_off_switch_is_a_clear_error(monkeypatch):
    from research.errors import ConfigError

    monkeypatch.setenv("FLOWBT_NO_CACHE", "maybe")
    with pytest.raises(ConfigError, match="FLOWBT_NO_CACHE must be 1"):
        cache.enabled()


def test_keeps_only_the_most_recent_entries(store):
    for k in range(5):
        cache.cached("thing", (k,), (), lambda k=k: k, keep=3)
    assert len(list(store.glob("thing-*.pkl"))) == 3


def test_cached_market_is_the_built_market(store):
    from research.data.synthetic import build_market, make_market
    from research.provenance import data_hash

    start, end = "2015-01-02", "2018-12-31"
    built = build_market(3, 0.02, start=start, end=end)
    make_market.cache_clear()
    first = make_market(3, 0.02, start=start, end=end)  # built and stored
    make_market.cache_clear()
    read = make_market(3, 0.02, start=start, end=end)  # read back from disk
    assert len(list(store.glob("market-*.pkl"))) == 1
    for md in (first, read):
        for f in ("close", "open", "volume"):
            pd.testing.assert_frame_equal(getattr(md.prices, f), getattr(built.prices, f), check_exact=True)
            assert getattr(md.prices, f).index.freq == getattr(built.prices, f).index.freq
        pd.testing.assert_frame_equal(md.panel, built.panel, check_exact=True)
        assert (md.name, md.sources, md.truth.params) == (built.name, built.sources, built.truth.params)
        assert data_hash(md) == data_hash(built)
    make_market.cache_clear()
    assert make_market(3.0, 0.02, start=start, end=end).name != read.name  # seed 3.0 is its own entry


def test_session_table_is_the_calendars(store):
    from research.data import calendar

    calendar.session_table.cache_clear()
    try:
        cal = calendar.nyse()
        want = pd.DatetimeIndex(cal.sessions_in_range(pd.Timestamp("2000-01-03"), pd.Timestamp("2025-12-31")),
                                name="date")
        got = calendar.sessions("2000-01-03", "2025-12-31")
        pd.testing.assert_index_equal(got, want, exact=True)
        assert got.freq == want.freq
        calendar.session_table.cache_clear()  # read back from disk this time
        pd.testing.assert_index_equal(calendar.sessions("2000-01-03", "2025-12-31"), want, exact=True)
        closes = cal.closes.dt.tz_convert(calendar.TZ).dt.tz_localize(None)
        idx = pd.DatetimeIndex(["2019-11-29", "2019-12-02", "2019-12-07"])  # early close, normal, Saturday
        expect = [closes.loc["2019-11-29"], closes.loc["2019-12-02"], pd.Timestamp("2019-12-07 16:00")]
        assert list(calendar.decision_times(idx)) == expect
        with pytest.raises(ValueError, match="1900"):  # outside the calendar: the calendar's own error
            calendar.sessions("1900-01-02", "1900-02-01")
    finally:
        calendar.session_table.cache_clear()


def test_sharpe_interval_is_kept_by_the_returns_bytes(store):
    import numpy as np

    from research.analytics import stats as S
    from research.report.tearsheet import BOOT_N, BOOT_SEED, LEVEL, sharpe_ci

    idx = pd.bdate_range("2020-01-01", periods=400)
    r = pd.Series(np.random.default_rng(1).normal(3e-4, 0.01, 400), index=idx)
    want = S.bootstrap_ci(r, "sharpe", n=BOOT_N, level=LEVEL, seed=BOOT_SEED)
    assert sharpe_ci(r) == want and sharpe_ci(r) == want  # computed, then read back
    assert len(list(store.glob("sharpe_ci-*.pkl"))) == 1
    other = r.copy()
    other.iloc[5] += 1e-12  # one last bit changed: another entry, its own interval
    assert sharpe_ci(other) == S.bootstrap_ci(other, "sharpe", n=BOOT_N, level=LEVEL, seed=BOOT_SEED)
    assert len(list(store.glob("sharpe_ci-*.pkl"))) == 2
