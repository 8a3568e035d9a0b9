"""The parquet store of parsed real data: warm loads read it back; a changed file or parser is a new key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from research.data import real, store


@pytest.fixture()
def folder(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small copy of ../shared/data: 2 ETFs, 3 FINRA reports, 60 stocks, the references and GVIP."""
    monkeypatch.setenv("FLOWBT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWBT_NO_CACHE", raising=False)
    base = tmp_path / "data"
    for sub, names in (("prices", ["SPY.csv", "XLK.csv"]), ("baskets", ["GVIP.csv"]),
                       ("reference", ["sp500_ticker_start_end.csv", "sp500_gics_snapshots_yearly.csv"]),
                       ("finra", ["shrt20250613.csv", "shrt20250630.csv", "shrt20250715.csv"])):
        (base / sub).mkdir(parents=True)
        for n in names:
            shutil.copy(shared_data / sub / n, base / sub / n)
    (base / "stocks").mkdir()
    for f in sorted((shared_data / "stocks").glob("*.csv"))[:60]:
        shutil.copy(f, base / "stocks" / f.name)
    real._load_real_cached.cache_clear()
    yield base
    real._load_real_cached.cache_clear()


def test_warm_load_reads_the_store_and_a_changed_file_rebuilds(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    build = real._build
    monkeypatch.setattr(real, "_build", lambda base: built.append(base) or build(base))
    first = real.load_real(folder)
    assert len(built) == 1 and "MOST_SHORT" in first.prices.close.columns
    real._load_real_cached.cache_clear()
    again = real.load_real(folder)
    assert len(built) == 1  # read back from parquet
    pd.testing.assert_frame_equal(first.panel, again.panel)
    pd.testing.assert_frame_equal(first.prices.close, again.prices.close)
    assert again.sources == first.sources and again.notes == first.notes
    f = folder / "finra" / "shrt20250715.csv"
    f.write_text(f.read_text().replace("|113295755|", "|113295756|"))
    real._load_real_cached.cache_clear()
    changed = real.load_real(folder)
    assert len(built) == 2
    p = changed.panel
    spy = p[(p["entity"] == "SPY") & (p["metric"] == "si_shares") & (p["as_of"] == "2025-07-15")]
    assert spy["value"].item() == 113_295_756
    assert not list(store.store_dir().rglob("*.pkl")) and list(store.store_dir().rglob("manifest.json"))


def test_the_key_covers_the_parser_code() -> None:
    a = store.key_of("finra", {"finra/x.csv": "00"}, store.code_hash("research.data.finra"))
    b = store.key_of("finra", {"finra/x.csv": "00"}, store.code_hash("research.data.finra", "research.data.gics"))
    c = store.key_of("finra", {"finra/x.csv": "01"}, store.code_hash("research.data.finra"))
    assert len({a, b, c}) == 3
