"""FINRA short interest, baskets and sector positioning on the real files in ../shared/data (fast subsets)."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research import registry
from research.data import baskets, cftc, finra
from research.data.membership import load_membership
from research.data.panel import align
from research.data.real import load_real
from research.errors import ConfigError

CUT = pd.Timestamp("2022-06-30 23:59")


@pytest.fixture(scope="module")
def si_2025(shared_data: Path) -> pd.DataFrame:
    files = sorted((shared_data / "finra").glob("shrt2025*.csv"))
    return finra.load_short_interest_files(files)


@pytest.fixture(scope="module")
def real(shared_data: Path):
    return load_real(shared_data)


def test_spot_values_of_the_real_files(si_2025: pd.DataFrame) -> None:
    row = si_2025.set_index(["symbol", "settlement_date"])
    spy = row.loc[("SPY", pd.Timestamp("2025-07-15"))]
    assert spy["short_interest"] == 113_295_755 and spy["days_to_cover"] == 1.78
    assert row.loc[("XLK", pd.Timestamp("2025-07-15")), "short_interest"] == 6_689_022
    assert spy["available_at"] == pd.Timestamp("2025-07-25 18:00")  # the 8th business day after settlement


def test_all_182_files_parse_with_split_and_revision_flags(shared_data: Path) -> None:
    files = sorted((shared_data / "finra").glob("shrt*.csv"))
    assert len(files) == 182
    aapl = finra.read_short_interest(shared_data / "finra" / "shrt20200831.csv").set_index("symbol").loc["AAPL"]
    assert aapl["split"] and not aapl["change_ok"]  # 4:1 split: previous quantity is on the old share count


def test_publication_rule_skips_bank_holidays_and_is_never_before_settlement() -> None:
    t = finra.publication_times(["2024-10-15", "2024-11-15", "2018-12-14"])
    assert list(t) == [pd.Timestamp("2024-10-25 18:00"), pd.Timestamp("2024-11-27 18:00"),
                       pd.Timestamp("2018-12-28 18:00")]


def test_membership_is_point_in_time(shared_data: Path) -> None:
    m = load_membership(shared_data)
    assert "TSLA" not in m.members_at("2020-12-18") and "TSLA" in m.members_at("2020-12-21")
    assert 495 <= len(m.members_at("2019-06-28")) <= 510


def test_basket_members_are_members_of_the_settlement_date(shared_data: Path, si_2025: pd.DataFrame) -> None:
    m = load_membership(shared_data)
    top = baskets.most_short_members(si_2025, m, n=50)
    assert top.groupby("settlement_date").size().eq(50).all()
    for d, g in top.groupby("settlement_date"):
        assert set(g["symbol"]) <= m.members_at(d)
    first = top[top["rank"] == 1].iloc[0]
    row = si_2025[(si_2025["symbol"] == first["symbol"]) & (si_2025["settlement_date"] == first["settlement_date"])]
    assert first["score"] == pytest.approx(float(row["short_interest"].iloc[0] / row["avg_daily_volume"].iloc[0]))


def test_real_baskets_trade_and_report_coverage(real) -> None:
    close = real.prices.close
    assert {"HF_VIP", "MOST_SHORT", "MOST_SHORT_CHG"} <= set(close.columns)
    assert close["MOST_SHORT"].first_valid_index() == pd.Timestamp("2018-01-12")  # 2017-12-29 report, public 01-11
    cov = real.tables["basket_coverage"]
    assert (cov["chosen"] == 50).all() and cov["share"].between(0.5, 1.0).all()
    assert any(n.startswith("MOST_SHORT: names without prices") for n in real.notes)
    names = {s.name for s in real.sources}
    assert {"finra_si", "basket MOST_SHORT", "basket HF_VIP"} <= names


def test_sector_positioning_rows(real) -> None:
    p = real.panel[(real.panel["source"] == "finra_si") & (real.panel["as_of"] == "2025-07-15")]
    assert p.loc[(p["entity"] == "SPY") & (p["metric"] == "si_shares"), "value"].item() == 113_295_755
    secs = p[p["metric"] == "si_median_dtc"]
    assert len(secs) == 11 and (secs["available_at"] == pd.Timestamp("2025-07-25 18:00")).all()


def test_no_look_ahead_in_finra_rows(real) -> None:
    """Every FINRA row published after the cut perturbed (and basket prices after it): earlier weights unchanged."""
    panel = real.panel.copy()
    late = (panel["available_at"] > CUT).to_numpy() & (panel["source"] == "finra_si").to_numpy()
    panel.loc[late, "value"] *= np.random.default_rng(0).normal(1, 2, late.sum())
    close = real.prices.close.copy()
    close.loc[close.index > CUT, ["MOST_SHORT", "MOST_SHORT_CHG"]] *= 1.5
    pert = dataclasses.replace(real, panel=panel, prices=dataclasses.replace(real.prices, close=close))
    for name in ("fade_most_short", "fade_most_short_sectors", "etf_short_crowding"):
        s = registry.get(name)
        a, b = s.target_weights(real), s.target_weights(pert)
        pd.testing.assert_frame_equal(a.loc[:CUT.normalize()], b.loc[:CUT.normalize()])
        if name != "fade_most_short":  # these read the FINRA rows: the perturbation does reach later weights
            assert not a.loc[CUT:].equals(b.loc[CUT:]), name
        if s.signal is not None:
            pd.testing.assert_frame_equal(s.target_signal(real).loc[:CUT.normalize()],
                                          s.target_signal(pert).loc[:CUT.normalize()])


def test_basket_before_publication_ignores_the_report(shared_data: Path, si_2025: pd.DataFrame) -> None:
    """A report changes the basket only from the session after its publication."""
    m = load_membership(shared_data)
    top = baskets.most_short_members(si_2025, m)
    idx = pd.bdate_range("2025-01-02", "2025-08-29")
    idx = idx[idx.isin(pd.DatetimeIndex(pd.read_csv(shared_data / "stocks" / "AAPL.csv")["Date"]))]
    closes = baskets.load_closes(shared_data / "stocks")[sorted(set(top["symbol"]) & set(
        p.stem for p in (shared_data / "stocks").glob("*.csv")))]
    b = baskets.basket_index(top, closes, idx, name="MOST_SHORT")
    later = closes.copy()
    later.loc[later.index > pd.Timestamp("2025-07-25")] *= 3.0
    b2 = baskets.basket_index(top, later, idx, name="MOST_SHORT")
    pd.testing.assert_series_equal(b.level.loc[:"2025-07-25"], b2.level.loc[:"2025-07-25"])
    assert b.coverage["session"].iloc[-1] == pd.Timestamp("2025-07-28")


def test_cftc_variants_never_mix_and_published_names(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "cftc_tff" / "FinFut2024.txt"
    text = src.read_text()
    (tmp_path / "FinFut24.txt").write_text(text)
    combined = text.replace("FutOnly", "Combined") if "FutOnly" in text else text
    (tmp_path / "FinCom24.txt").write_text(combined)
    with zipfile.ZipFile(tmp_path / "fut_fin_txt_2023.zip", "w") as z:
        z.write(shared_data / "cftc_tff" / "FinFut2023.txt", "FinFutYY.txt")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "FinFutLegacy.txt").write_text('"Market_and_Exchange_Names","NonComm_Positions_Long_All"\n')
    with zipfile.ZipFile(tmp_path / "fut_fin_xls_2023.zip", "w") as z:
        z.writestr("FinFutYY.xls", b"not read")
    panel, read, skipped = cftc.load_cftc_folder(tmp_path)
    assert set(read) == {"cftc_tff", "cftc_tff_combined"}
    assert sorted(p.name for p, _ in skipped) == ["FinFutLegacy.txt", "fut_fin_xls_2023.zip", "notes.txt"]
    fo = panel[panel["metric"] == "lev_money_net_pct_oi"]
    assert set(fo["source"]) == {"cftc_tff"} and fo["as_of"].min().year == 2023
    assert set(panel.loc[panel["metric"] == "lev_money_net_pct_oi_combined", "source"]) == {"cftc_tff_combined"}
    # align() reads the futures-only weeks exactly as a folder without the combined file gives them
    only = tmp_path / "only"
    only.mkdir()
    (only / "FinFut24.txt").write_text(text)
    alone, _, _ = cftc.load_cftc_folder(only)
    idx = pd.bdate_range("2024-02-01", "2024-12-31")
    both = align(panel, idx, "lev_money_net_pct_oi", entities=["SPY"])
    pd.testing.assert_frame_equal(both, align(alone, idx, "lev_money_net_pct_oi", entities=["SPY"]))


@pytest.mark.parametrize("name", ["cot_leveraged_funds", "vix_positioning", "cot_sector_positioning"])
def test_short_history_says_so(real, name: str) -> None:
    cftc_rows = real.panel["source"] == "cftc_tff"
    weeks = sorted(real.panel.loc[cftc_rows, "as_of"].unique())
    min_weeks = registry.get(name).params["min_weeks"]
    short = dataclasses.replace(real, panel=real.panel[~cftc_rows | (real.panel["as_of"] <= weeks[min_weeks - 1])])
    with pytest.raises(ConfigError, match=rf"\d+ weeks of history .*; min_weeks is {min_weeks}, so no week"):
        registry.get(name).target_weights(short)


def test_no_look_ahead_in_the_basket_from_raw_finra_rows(shared_data: Path, real) -> None:
    """Every raw FINRA row published after the cut perturbed, the basket rebuilt: its members and level before the
    cut are unchanged, and so are fade_most_short's weights; after the cut the basket does change."""
    from research.data.real import _short_interest, _stock_closes

    si, _ = _short_interest(shared_data.resolve())
    closes = _stock_closes(shared_data.resolve())
    m = load_membership(shared_data)
    late = (si["available_at"] > CUT).to_numpy()
    pert = si.copy()
    pert.loc[late, "short_interest"] = pert.loc[late, "short_interest"] * np.random.default_rng(1).uniform(
        0.1, 10.0, late.sum())
    a, b = (baskets.most_short_members(x, m) for x in (si, pert))
    early = a["available_at"] <= CUT
    pd.testing.assert_frame_equal(a[early], b[b["available_at"] <= CUT])
    assert not a[~early].reset_index(drop=True).equals(b[b["available_at"] > CUT].reset_index(drop=True))
    la = baskets.basket_index(a, closes, real.index, name="MOST_SHORT").level
    lb = baskets.basket_index(b, closes, real.index, name="MOST_SHORT").level
    pd.testing.assert_series_equal(la.loc[:CUT.normalize()], lb.loc[:CUT.normalize()])
    assert not la.loc[CUT:].equals(lb.loc[CUT:])
    close = real.prices.close.copy()
    close["MOST_SHORT"] = lb
    moved = dataclasses.replace(real, prices=dataclasses.replace(real.prices, close=close))
    s = registry.get("fade_most_short")
    for params in ({}, {"variant": "squeeze"}):
        pd.testing.assert_frame_equal(s.target_weights(real, params).loc[:CUT.normalize()],
                                      s.target_weights(moved, params).loc[:CUT.normalize()])
