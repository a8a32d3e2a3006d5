"""The one number formatter."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from course_lib.numbers.formatting import format_number


def test_significant_digits_and_whole_numbers():
    assert format_number(-14.0) == "-14"
    assert format_number(0.245123) == "0.2451"
    assert format_number(11589.2) == "1.159e+04"
    assert format_number(-0.0) == "0" and format_number(0) == "0"
    assert format_number(3, digits=6) == "3"


def test_fixed_decimals_never_show_minus_zero():
    assert format_number(-0.0001, decimals=3) == "0.000"
    assert format_number(-0.25, decimals=3) == "-0.250"
    assert format_number(1.0, decimals=2) == "1.00"


def test_non_finite_numbers_are_named():
    assert format_number(float("inf")) == "inf" and format_number(float("nan")) == "nan"


@given(st.floats(-1e300, 1e300))
def test_the_text_reads_back_as_the_number_rounded(x):
    text = format_number(x)
    assert not text.startswith("-0") or text.startswith("-0.")
    assert math.isclose(float(text), x, rel_tol=1e-3, abs_tol=0.0) or float(text) == 0.0
