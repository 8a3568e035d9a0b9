"""The portable exp/log family agrees with the C library to within a few ulp, and handles the edges alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.data.portable_nb import exp_nb, expm1_nb, log1p_nb, log_nb, pow_nb


def ulps(got: float, ref: float) -> float:
    """|got - ref| in units of ref's last place."""
    if got == ref:
        return 0.0
    return abs(got - ref) / math.ulp(ref)


FINITE = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=-745.0, max_value=709.0, **FINITE))
def test_exp_within_one_ulp(x):
    ref = math.exp(x)
    assert ulps(exp_nb(x), ref) <= 1.0 or (ref < 1e-300 and abs(exp_nb(x) - ref) <= 5e-324 * 2)


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=5e-324, max_value=1.7e308, **FINITE))
def test_log_within_one_ulp(x):
    assert ulps(log_nb(x), math.log(x)) <= 1.0


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=-0.999999, max_value=1e6, **FINITE))
def test_log1p_within_a_few_ulp(x):
    assert ulps(log1p_nb(x), math.log1p(x)) <= 3.0


@settings(max_examples=2000, deadline=None)
@given(st.floats(min_value=-700.0, max_value=700.0, **FINITE))
def test_expm1_within_a_few_ulp(x):
    assert ulps(expm1_nb(x), math.expm1(x)) <= 3.0


@settings(max_examples=1000, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e6, **FINITE), st.sampled_from([0.125, 0.25, 0.5, -0.5, 2.0]))
def test_pow_for_the_generator_exponents(x, y):
    assert ulps(pow_nb(x, y), x**y) <= 16.0


def test_edges_match_ieee_conventions():
    assert exp_nb(0.0) == 1.0 and exp_nb(-math.inf) == 0.0 and exp_nb(math.inf) == math.inf
    assert exp_nb(710.0) == math.inf and exp_nb(-746.0) == 0.0 and math.isnan(exp_nb(math.nan))
    assert log_nb(1.0) == 0.0 and log_nb(0.0) == -math.inf and math.isnan(log_nb(-1.0))
    assert log_nb(math.inf) == math.inf and math.isnan(log_nb(math.nan))
    assert log1p_nb(0.0) == 0.0 and log1p_nb(-1.0) == -math.inf and log1p_nb(1e-300) == 1e-300
    assert expm1_nb(0.0) == 0.0 and expm1_nb(-800.0) == -1.0 and expm1_nb(1e-300) == 1e-300
    assert pow_nb(0.0, 0.5) == 0.0 and pow_nb(4.0, 0.5) == pytest.approx(2.0, rel=1e-15)


def test_small_and_subnormal_arguments():
    for x in (1e-10, -1e-10, 2.0**-30, -(2.0**-30), 1e-17):
        assert ulps(exp_nb(x), math.exp(x)) <= 1.0
        assert ulps(expm1_nb(x), math.expm1(x)) <= 3.0
        assert ulps(log1p_nb(x), math.log1p(x)) <= 3.0
    for x in (5e-324, 1e-310, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0), 2.0, 0.5):
        assert ulps(log_nb(float(x)), math.log(float(x))) <= 1.0
