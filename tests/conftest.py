"""Shared fixtures: the real data folder, the default synthetic market, and CI-awareness."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: The on-disk data cache (research.data.cache) of test runs: a folder of its own, so that the markets the tests
#: build neither evict nor fill the user's cache; kept between runs (results/ is not committed).
os.environ["FLOWBT_CACHE"] = str(ROOT / "results" / "test-cache")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; absent locally means skip with a reason, absent in CI is a failure."""
    if not SHARED.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED} is missing: CI must have ../shared/data beside the project")
        pytest.skip(f"{SHARED} is not here (it sits beside the project in CI)")
    return SHARED


@pytest.fixture(scope="session")
def market():
    """The default synthetic market (seed 0, ic 0.03), built once per test session."""
    from research.data.synthetic import make_market

    return make_market()
