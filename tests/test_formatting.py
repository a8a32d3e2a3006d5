"""The one number formatter."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest
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


def test_an_int_beyond_the_floats_is_written_from_its_own_digits():
    # float(10**400) raises OverflowError; the formatter writes it in the same style instead
    assert format_number(10**400) == "1e+400"
    assert format_number(-(10**400)) == "-1e+400"
    assert format_number(12345 * 10**400, digits=3) == "1.23e+404"
    assert format_number(99996 * 10**396) == "1e+401"  # rounded up to the next power of ten
    assert format_number(10**400 + 10**397) == "1.001e+400"
    assert format_number(2 * 10**308, decimals=2) == "2" + "0" * 308 + ".00"
    assert format_number(2 * 10**308, decimals=0) == "2" + "0" * 308
    assert format_number(10**300) == format_number(1e300) == "1e+300"  # a float: as before


@given(st.integers(min_value=2**1024, max_value=10**500), st.integers(1, 8))
def test_a_huge_int_reads_back_as_itself_rounded(n, digits):
    text = format_number(n, digits)
    mantissa, exponent = text.split("e+")
    assert len(mantissa.replace(".", "")) <= digits and not mantissa.endswith(("0", "."))
    last_digit = Decimal(10) ** (int(exponent) - digits + 1)  # one unit of the last kept digit
    assert abs(Decimal(text) - n) <= last_digit / 2


def test_numpy_numbers_and_bad_arguments():
    import numpy as np

    assert format_number(np.int64(3)) == "3" and format_number(np.float32(0.5)) == "0.5"
    assert format_number(np.array(2.5)) == "2.5" and format_number(2.5, digits=np.int64(2)) == "2.5"
    for bad, error, words in [
        ("0.5", TypeError, "format_number: x must be a number, got the text '0.5'"),
        (None, TypeError, "format_number: x must be a number, got None"),
        (1j, TypeError, "format_number: x must be a real number, got 1j"),
    ]:
        with pytest.raises(error, match=re.escape(words)):
            format_number(bad)
    with pytest.raises(ValueError, match="format_number: digits must be a positive int, got 0"):
        format_number(1.5, digits=0)
    with pytest.raises(TypeError, match="format_number: digits must be an int, got 'a'"):
        format_number(1.5, digits="a")
    with pytest.raises(ValueError, match="format_number: decimals must be 0 or more, got -1"):
        format_number(1.5, decimals=-1)


def test_more_digits_than_a_number_can_show_are_named():
    """digits=10**400 reached Python's format ('Too many decimal digits in format string')."""
    from course_lib.numbers.formatting import MAX_DIGITS

    assert len(format_number(1 / 3, decimals=MAX_DIGITS)) == MAX_DIGITS + 2
    for name in ("digits", "decimals"):
        with pytest.raises(ValueError, match=f"format_number: {name} must be at most 1000, got an"):
            format_number(1.5, **{name: 10**400})
        with pytest.raises(ValueError, match=f"{name} must be at most 1000, got 1001"):
            format_number(1.5, **{name: MAX_DIGITS + 1})
