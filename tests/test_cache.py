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


def _entries(store, kind):
    """The stored entries of `kind` (folders; temporary ones start with a dot)."""
    return [p for p in store.glob(f"{kind}-*") if p.is_dir()]


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
    assert len(calls) == 1 and len(list(_entries(store, "thing"))) == 1
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
    (entry,) = _entries(store, "thing")
    (entry / "manifest.json").write_bytes(b"not a manifest")
    assert cache.cached("thing", (), (), build) == [1, 2, 3] and len(calls) == 2
    monkeypatch.setenv("FLOWBT_NO_CACHE", "1")
    assert cache.cached("other", (), (), build) == [1, 2, 3]
    assert not list(_entries(store, "other"))


def test_read_only_cache_is_still_read(store, monkeypatch):
    build, calls = _counting([4, 5])
    cache.cached("thing", (), (), build)

    def denied(*args, **kw):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(cache.os, "utime", denied)
    monkeypatch.setattr(cache.os, "rename", denied)
    assert cache.cached("thing", (), (), build) == [4, 5] and len(calls) == 1  # a hit despite utime failing
    assert cache.cached("new", (), (), build) == [4, 5]  # a miss that cannot be stored: built, nothing left
    assert not list(_entries(store, "new")) and not list(store.glob(".new-*"))


def test_unpicklable_value_is_returned_and_not_stored(store):
    value = lambda: None  # noqa: E731  # a function is code, not data
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
    assert len(list(_entries(store, "thing"))) == 3


def test_cached_market_is_the_built_market(store):
    from research.data.synthetic import build_market, make_market
    from research.provenance import data_hash

    start, end = "2015-01-02", "2018-12-31"
    built = build_market(3, 0.02, start=start, end=end)
    make_market.cache_clear()
    first = make_market(3, 0.02, start=start, end=end)  # built and stored
    make_market.cache_clear()
    read = make_market(3, 0.02, start=start, end=end)  # read back from disk
    assert len(list(_entries(store, "market"))) == 1
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
    assert len(list(_entries(store, "sharpe_ci"))) == 1
    other = r.copy()
    other.iloc[5] += 1e-12  # one last bit changed: another entry, its own interval
    assert sharpe_ci(other) == S.bootstrap_ci(other, "sharpe", n=BOOT_N, level=LEVEL, seed=BOOT_SEED)
    assert len(list(_entries(store, "sharpe_ci"))) == 2


# --- the cache stores data, not code -------------------------------------------------------------------------

def _digest(kind, key, modules=()):
    import hashlib

    return hashlib.sha256(repr((kind, tuple(key), cache.fingerprint(modules))).encode()).hexdigest()[:40]


class _Exploit:
    """A pickle that creates a folder when unpickled: proof of execution if it is ever loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


def test_planted_pickle_is_never_executed(store, tmp_path, caplog):
    import pickle

    marker = tmp_path / "pwned"
    store.mkdir(parents=True)
    old = store / f"thing-{_digest('thing', (1,))}.pkl"  # where the pickle cache of old looked first
    for path in (old, store / f"market-{'0' * 40}.pkl", store / "notes.pkl"):
        path.write_bytes(pickle.dumps(_Exploit(marker)))
    build, calls = _counting({"safe": 1})
    with caplog.at_level("WARNING", logger="research.data.cache"):
        assert cache.cached("thing", (1,), (), build) == {"safe": 1}
    assert calls == [1] and not marker.exists()
    assert [p.name for p in store.glob("*.pkl")] == ["notes.pkl"]  # flowbt's names deleted unread, others left
    assert "pickle file(s)" in caplog.text and "unread" in caplog.text


def test_stored_entry_is_only_data_files(store):
    build, _ = _counting({"a": (1, 2.5, float("nan")), 3: pd.Series([1.0, 2.0], name="x")})
    cache.cached("thing", (), (), build)
    (entry,) = _entries(store, "thing")
    names = sorted(p.name for p in entry.iterdir())
    assert names == ["arrays.npz", "f0.parquet", "manifest.json"] or names == ["f0.parquet", "manifest.json"]
    import json

    manifest = json.loads((entry / "manifest.json").read_text())  # plain JSON, with every file's digest
    assert set(manifest["files"]) == set(names) - {"manifest.json"}


def test_tampered_file_is_rebuilt_with_a_message(store, caplog):
    build, calls = _counting(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    cache.cached("thing", (), (), build)
    (entry,) = _entries(store, "thing")
    f = entry / "f0.parquet"
    f.write_bytes(pd.DataFrame({"x": [1.0, 2.0, 99.0]}).to_parquet())  # a valid parquet, other numbers
    with caplog.at_level("WARNING", logger="research.data.cache"):
        got = cache.cached("thing", (), (), build)
    assert got["x"].tolist() == [1.0, 2.0, 3.0] and len(calls) == 2
    assert "f0.parquet does not match its SHA-256" in caplog.text and "rebuilding it" in caplog.text
    assert cache.cached("thing", (), (), build)["x"].tolist() == [1.0, 2.0, 3.0] and len(calls) == 2  # stored again


@pytest.mark.parametrize("cls", ["os:system", "subprocess:Popen", "builtins:eval", "research.data.cache:Path",
                                 "research.data.market:MarketData.__init__"])
def test_manifest_naming_a_foreign_class_is_refused(store, caplog, cls):
    import json

    from research.analytics.stats import BootstrapCI

    value = BootstrapCI(0.5, 0.1, 0.9, 0.9, 5, 100)
    build, calls = _counting(value)
    cache.cached("thing", (), (), build)
    (entry,) = _entries(store, "thing")
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["value"]["cls"] == "research.analytics.stats:BootstrapCI"
    manifest["value"]["cls"] = cls
    (entry / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level("WARNING", logger="research.data.cache"):
        assert cache.cached("thing", (), (), build) == value
    assert len(calls) == 2 and "rebuilding it" in caplog.text


def test_manifest_naming_a_file_outside_the_entry_is_refused(store, tmp_path, caplog):
    import hashlib
    import json

    secret = tmp_path / "secret.parquet"
    secret.write_bytes(pd.DataFrame({"x": [7.0]}).to_parquet())
    build, calls = _counting(pd.DataFrame({"x": [1.0]}))
    cache.cached("thing", (), (), build)
    (entry,) = _entries(store, "thing")
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["files"] = {"../../secret.parquet": hashlib.sha256(secret.read_bytes()).hexdigest()}
    manifest["value"]["file"] = "../../secret.parquet"
    (entry / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level("WARNING", logger="research.data.cache"):
        assert cache.cached("thing", (), (), build)["x"].tolist() == [1.0]
    assert len(calls) == 2 and "outside the entry" in caplog.text


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**70, 1.5, float("nan"), float("-inf"), "text", "",
    (1, "a"), [1, (2, 3)], {"a": 1, 2: "b", (3, 4): [5]}, {},
    pd.Timestamp("2020-01-02 15:30"), pd.Timestamp("2020-01-02 15:30", tz="America/New_York"), pd.NaT,
    pd.Timedelta(hours=3), pd.Timestamp("2020-01-02").as_unit("s"),
], ids=repr)
def test_plain_values_round_trip(store, value):
    cache.cached("thing", (repr(value),), (), lambda: value)
    got = cache.cached("thing", (repr(value),), (), lambda: pytest.fail("rebuilt"))
    if isinstance(value, float) and value != value:
        assert isinstance(got, float) and got != got
    elif value is pd.NaT:
        assert got is pd.NaT
    else:
        assert got == value and type(got) is type(value)
        if isinstance(value, pd.Timestamp):
            assert (got.unit, str(got.tz)) == (value.unit, str(value.tz))


def test_arrays_and_frames_round_trip(store):
    import numpy as np

    idx = pd.bdate_range("2020-01-01", periods=6, name="date")
    value = {
        "scalar": np.float32(1.25), "int": np.int64(3), "day": np.datetime64("2020-01-02"),
        "array": np.arange(6.0).reshape(2, 3), "strings": np.array(["a", "bc"]),
        "index": idx, "plain_index": pd.Index(["x", "y"], name="k"),
        "series": pd.Series(np.arange(6.0), index=idx, name="s"),
        "frame": pd.DataFrame({"a": np.arange(6.0), "b": list("abcdef")}, index=idx),
    }
    cache.cached("thing", (), (), lambda: value)
    got = cache.cached("thing", (), (), lambda: pytest.fail("rebuilt"))
    for k in ("scalar", "int", "day"):
        assert got[k] == value[k] and type(got[k]) is type(value[k])
    np.testing.assert_array_equal(got["array"], value["array"])
    np.testing.assert_array_equal(got["strings"], value["strings"])
    pd.testing.assert_index_equal(got["index"], idx, exact=True)
    assert got["index"].freq == idx.freq and got["series"].index.freq == idx.freq
    pd.testing.assert_index_equal(got["plain_index"], value["plain_index"], exact=True)
    pd.testing.assert_series_equal(got["series"], value["series"], check_exact=True)
    pd.testing.assert_frame_equal(got["frame"], value["frame"], check_exact=True)
    assert got["frame"].index.freq == idx.freq


@pytest.mark.parametrize("value", [object(), {"f": len}, [1, object()], __import__("numpy").array([object()])],
                         ids=["object", "function", "nested", "object-array"])
def test_values_that_are_not_data_are_returned_and_not_stored(store, value):
    assert cache.cached("thing", (), (), lambda: value) is value
    assert not _entries(store, "thing") and not list(store.glob(".thing-*"))


@pytest.mark.parametrize("manifest", [
    '{"format": 1, "entry": "x"',  # truncated JSON
    "[" * 100000 + "]" * 100000,  # nesting deep enough to exhaust the decoder
    '{"format": 1, "entry": "%s", "files": {}, "value": {"$": "frame", "file": "f0.parquet", "freq": null}}',
    '{"format": 1, "entry": "%s", "files": {}, "value": {"$": "nosuchtag"}}',
    '{"format": 2, "entry": "%s", "files": {}, "value": 1}',
], ids=["truncated", "deep", "missing-file", "unknown-tag", "other-format"])
def test_any_broken_manifest_is_rebuilt(store, caplog, manifest):
    build, calls = _counting([1, 2])
    cache.cached("thing", (), (), build)
    (entry,) = _entries(store, "thing")
    text = manifest % entry.name.split("-", 1)[1] if "%s" in manifest else manifest
    (entry / "manifest.json").write_text(text)
    with caplog.at_level("WARNING", logger="research.data.cache"):
        assert cache.cached("thing", (), (), build) == [1, 2]
    assert len(calls) == 2 and "rebuilding it" in caplog.text
