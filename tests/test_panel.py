"""The point-in-time panel: validation names the offending rows; alignment never looks ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.data.calendar import decision_times, sessions
from research.data.panel import PANEL_COLUMNS, align, coverage, validate_panel
from research.errors import DataError


def make_panel(n_weeks: int = 30, entities=("Energy", "Utilities"), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    fridays = pd.date_range("2020-01-03", periods=n_weeks, freq="W-FRI")
    rows = []
    for f in fridays:
        for e in entities:
            rows.append({"as_of": f, "available_at": f + pd.Timedelta(days=4, hours=8), "entity": e,
                         "metric": "net_flow", "value": float(rng.normal()), "source": "test", "units": "usd_mn"})
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS))


def test_valid_panel_round_trips_sorted_and_typed():
    raw = make_panel().sample(frac=1.0, random_state=1)
    out = validate_panel(raw)
    assert len(out) == len(raw)
    assert out["as_of"].dtype == "datetime64[ns]"
    assert out.groupby("entity")["available_at"].apply(lambda s: s.is_monotonic_increasing).all()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns="units"), "missing column"),
        (lambda d: d.assign(entity=d["entity"].where(d.index != 3, "Enrgy")), "unknown entit"),
        (lambda d: d.assign(value=d["value"].where(d.index != 5, np.nan)), "missing 'value'"),
        (lambda d: d.assign(value=d["value"].astype(object).where(d.index != 5, "abc")), "non-numeric"),
        (lambda d: pd.concat([d, d.iloc[[4]]]), "duplicate rows"),
        (lambda d: d.assign(available_at=d["available_at"].where(d.index != 2, d["as_of"] - pd.Timedelta(days=1))),
         "available_at before as_of"),
        (lambda d: d.assign(as_of=d["as_of"].astype(str).where(d.index != 7, "2020-13-45")), "not dates"),
    ],
)
def test_validation_names_the_problem_and_the_row(mutate, message):
    bad = mutate(make_panel())
    with pytest.raises(DataError, match=message) as info:
        validate_panel(bad, name="flows.csv")
    text = str(info.value)
    assert "flows.csv" in text
    if message != "missing column":
        assert "row " in text


def test_mixed_time_zones_are_refused():
    d = make_panel(n_weeks=2)
    stamps = [pd.Timestamp("2020-01-07 08:00", tz="America/New_York"), pd.Timestamp("2020-01-07 13:00", tz="UTC")]
    d["available_at"] = pd.Series(stamps * 2, dtype=object)
    with pytest.raises(DataError, match="mixes time zones"):
        validate_panel(d)


def test_aware_times_convert_to_new_york_wall_clock():
    d = make_panel(n_weeks=2)
    d["available_at"] = pd.to_datetime(d["available_at"]).dt.tz_localize("America/New_York").dt.tz_convert("UTC")
    out = validate_panel(d)
    assert out["available_at"].iloc[0] == pd.Timestamp("2020-01-07 08:00")


def test_align_uses_only_what_was_public_at_the_close():
    p = validate_panel(make_panel())
    idx = sessions("2020-01-02", "2020-03-31")
    wide = align(p, idx, "net_flow")
    as_of = align(p, idx, "net_flow", field="as_of")
    avail = align(p, idx, "net_flow", field="available_at")
    close = pd.Series(decision_times(idx), index=idx)
    for col in wide:
        ok = avail[col].notna()
        assert (avail.loc[ok, col] <= close[ok]).all()
        assert (as_of.loc[ok, col] < pd.Series(idx, index=idx)[ok]).all()
    # The first Friday's value is public on Tuesday 2020-01-07 at 08:00: NaN before, known from that session.
    assert wide.loc["2020-01-06"].isna().all()
    assert wide.loc["2020-01-07"].notna().all()


def test_revision_replaces_a_value_only_from_its_publication():
    d = make_panel(n_weeks=3, entities=("Energy",))
    rev = d.iloc[[0]].assign(value=99.0, available_at=pd.Timestamp("2020-01-09 09:00"))
    p = validate_panel(pd.concat([d, rev]))
    idx = sessions("2020-01-06", "2020-01-31")
    wide = align(p, idx, "net_flow")["Energy"]
    assert wide.loc["2020-01-07"] == d["value"].iloc[0]
    assert wide.loc["2020-01-09"] == 99.0  # the revised vintage, public before the close
    assert wide.loc["2020-01-14"] == d["value"].iloc[1]  # a newer as_of wins over the revision


def test_stale_late_release_does_not_override_newer_data():
    d = make_panel(n_weeks=3, entities=("Energy",))
    late = d.iloc[[0]].assign(source="late", value=-5.0, available_at=pd.Timestamp("2020-01-22 09:00"))
    p = validate_panel(pd.concat([d, late]))
    wide = align(p, sessions("2020-01-06", "2020-01-31"), "net_flow")["Energy"]
    assert (wide != -5.0).all()


@settings(max_examples=25, deadline=None, derandomize=True)
@given(cut=st.integers(min_value=5, max_value=25), seed=st.integers(0, 1000))
def test_perturbing_the_future_leaves_the_past_unchanged(cut, seed):
    base = make_panel(seed=1)
    idx = sessions("2020-01-02", "2020-08-31")
    cut_date = idx[cut * 4]
    pert = base.copy()
    future = pert["available_at"] > decision_times(pd.DatetimeIndex([cut_date]))[0]
    pert.loc[future, "value"] = np.random.default_rng(seed).normal(size=int(future.sum())) * 100
    a = align(validate_panel(base), idx, "net_flow")
    b = align(validate_panel(pert), idx, "net_flow")
    pd.testing.assert_frame_equal(a.loc[:cut_date], b.loc[:cut_date])


def _align_reference(panel: pd.DataFrame, index: pd.DatetimeIndex, metric: str, field: str) -> pd.DataFrame:
    """The alignment written with pandas (the implementation `align` replaced with a NumPy binary search)."""
    idx = pd.DatetimeIndex(index)
    sub = panel[panel["metric"] == metric]
    ents = sorted(sub["entity"].unique())
    out = pd.DataFrame(index=idx, columns=ents, dtype="float64" if field == "value" else "datetime64[ns]")
    query = pd.DataFrame({"t": decision_times(idx).to_numpy(), "pos": np.arange(len(idx))}).sort_values("t")
    for ent, rows in sub.groupby("entity", sort=False):
        rows = rows.sort_values(["available_at", "as_of"], kind="stable")
        best = rows["as_of"].to_numpy() >= rows["as_of"].cummax().to_numpy()
        rows = rows.assign(_v=rows[field].where(best)).assign(_v=lambda r: r["_v"].ffill())
        rows = rows.drop_duplicates("available_at", keep="last")
        hit = pd.merge_asof(query, rows[["available_at", "_v"]], left_on="t", right_on="available_at",
                            direction="backward", allow_exact_matches=True)
        col = np.empty(len(idx), dtype=rows["_v"].to_numpy().dtype)
        col[hit["pos"].to_numpy()] = hit["_v"].to_numpy()
        out[ent] = col
    out.columns.name = metric
    return out


@pytest.mark.parametrize("seed", range(40))
def test_align_equals_the_pandas_reference(seed):
    """Revisions, late stale releases, simultaneous releases, duplicates and NaN values, in random order."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    as_of = pd.Timestamp("2020-01-03") + pd.to_timedelta(rng.integers(0, 30, n) * 7, unit="D")
    avail = (as_of + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
             + pd.to_timedelta(rng.choice([0, 8, 16], n), unit="h"))
    vals = rng.normal(size=n)
    vals[rng.random(n) < 0.1] = np.nan
    panel = pd.DataFrame({"as_of": as_of.astype("datetime64[ns]"), "available_at": avail.astype("datetime64[ns]"),
                          "entity": rng.choice(["Energy", "Financials", "BOOK"], n), "metric": "net_flow",
                          "value": vals, "source": "test", "units": "usd_mn"})
    idx = sessions("2020-01-02", "2020-09-30")
    for field in ("value", "as_of", "available_at"):
        pd.testing.assert_frame_equal(align(panel, idx, "net_flow", field=field),
                                      _align_reference(panel, idx, "net_flow", field), check_exact=True)


def test_align_unknown_metric_names_what_exists():
    with pytest.raises(DataError, match="net_flow"):
        align(validate_panel(make_panel()), sessions("2020-01-02", "2020-02-01"), "gross_leverage")


def test_coverage_reports_rows_range_and_gaps():
    d = make_panel(n_weeks=10, entities=("Energy",))
    d = d.drop(index=[4, 5])  # two missing weeks: reported as a 21-day gap, never filled
    cov = coverage(validate_panel(d))
    row = cov.iloc[0]
    assert row["rows"] == 8 and row["max_gap_days"] == 21
    assert row["median_lag"] == pd.Timedelta(days=4, hours=8)
