"""course_lib.numbers.checking: the one check of a number a user passes in."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.numbers.checking import MAX_ELEMENTS, check_size, real_number, whole_number


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**300), 10**300))
def test_every_finite_real_number_passes_as_its_float(x: float | int) -> None:
    assert real_number(x, "x", "f") == float(x)
    assert type(real_number(x, "x", "f")) is float


@pytest.mark.parametrize(
    "value", [np.int64(3), np.float32(0.5), np.float16(2), Fraction(1, 4), np.uint8(7)]
)
def test_numpy_numbers_and_fractions_pass(value: object) -> None:
    assert real_number(value, "x", "f") == float(value)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (10**400, ValueError, r"f: x is an int of 401 digits, too large for a float"),
        (-(10**309), ValueError, "too large for a float"),
        (float("nan"), ValueError, "f: x must be a finite number, got nan"),
        (-math.inf, ValueError, "must be a finite number, got -inf"),
        (2 + 1j, TypeError, r"x must be a real number, got \(2\+1j\), which has an imaginary"),
        (np.complex128(1), TypeError, "imaginary part"),
        ("0.1", TypeError, "got the text '0.1'; write the number without quotes"),
        (True, TypeError, "got True \\(a bool\\)"),
        (None, TypeError, "x must be a number, got None \\(NoneType\\)"),
        (np.array([2.0]), TypeError, r"for a one-number array write x=float\(x\)"),
        ([1.0], TypeError, r"got \[1.0\] \(list\)$"),
    ],
)
def test_bad_real_numbers_are_named_with_the_fix(value: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        real_number(value, "x", "f")


def test_infinity_passes_when_asked_for() -> None:
    assert real_number(math.inf, "x", "f", finite=False) == math.inf
    assert math.isnan(real_number(float("nan"), "x", "f", finite=False))
    with pytest.raises(ValueError, match="too large for a float"):
        real_number(10**400, "x", "f", finite=False)  # not silently inf


@given(st.integers(0, 10**30))
def test_whole_numbers_pass_as_ints(n: int) -> None:
    assert whole_number(n, "n", "f", minimum=0) == n
    assert type(whole_number(np.int64(min(n, 2**62)), "n", "f", minimum=0)) is int


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (3.0, {}, TypeError, r"n must be a whole number \(an int\), got 3.0; write 3$"),
        (2.5, {}, TypeError, r"got 2.5$"),
        (math.inf, {}, TypeError, r"got inf$"),
        ("3", {}, TypeError, "got '3' \\(str\\); write it without quotes"),
        (True, {}, TypeError, "n must be an int, got True"),
        (None, {}, TypeError, "n must be an int, got None"),
        (-1, {"minimum": 0}, ValueError, "f: n must be 0 or more, got -1"),
        (0, {}, ValueError, "n must be a positive int, got 0"),
        (1, {"minimum": 2}, ValueError, "n must be an int >= 2, got 1"),
        (1000, {"maximum": 999}, ValueError, "n must be at most 999, got 1000"),
        (10**400, {"maximum": 9}, ValueError, "got an int of 401 digits"),
    ],
)
def test_bad_whole_numbers_are_named(
    value: object, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        whole_number(value, "n", "f", **kwargs)


def test_sizes_are_refused_before_allocating_with_the_memory_they_would_take() -> None:
    check_size(MAX_ELEMENTS, "W", "f")  # the limit itself passes
    with pytest.raises(ValueError, match=r"f: W1 would hold 7.84e\+14 numbers \(6.27 PB"):
        check_size(10**12 * 784, "W1", "f")
    with pytest.raises(ValueError, match=r"about 10\^400 numbers \(more than 10\^400 bytes"):
        check_size(10**400, "W", "f")
    with pytest.raises(ValueError, match=r"\(2.15 GB of memory\)"):
        check_size(MAX_ELEMENTS + 1, "W", "f")


@pytest.mark.parametrize(
    ("count", "error", "message"),
    [
        (None, TypeError, r"f: the size of W must be an int, got None"),
        ("784", TypeError, r"the size of W must be an int, got '784' \(str\); write it without"),
        (True, TypeError, r"the size of W must be an int, got True"),
        (-1, ValueError, r"the size of W must be 0 or more, got -1"),
        (float("nan"), TypeError, r"the size of W must be a whole number \(an int\), got nan"),
        (float("inf"), TypeError, r"must be a whole number \(an int\), got inf"),
        (2.5, TypeError, r"must be a whole number \(an int\), got 2.5"),
    ],
)
def test_a_size_that_is_not_a_count_is_named_not_compared(
    count: object, error: type, message: str
) -> None:
    """check_size compared anything with ``<=`` (None: Python's own text; NaN: StopIteration;
    inf: 'about 10^2 numbers'); a count is now a whole number >= 0 or a sentence."""
    with pytest.raises(error, match=message):
        check_size(count, "W", "f")


def test_numpy_integer_sizes_are_sizes() -> None:
    check_size(np.int64(MAX_ELEMENTS), "W", "f")
    with pytest.raises(ValueError, match="is a size mistyped"):
        check_size(np.int64(MAX_ELEMENTS) + 1, "W", "f")


def test_a_switch_is_a_bool_and_nothing_else() -> None:
    from course_lib.numbers.checking import switch

    assert switch(True, "s", "f") is True and switch(np.False_, "s", "f") is False
    for bad in (1, 0, "yes", None, 1.0, [True]):
        with pytest.raises(TypeError, match=r"^f: s must be True or False \(it is a switch\)"):
            switch(bad, "s", "f")


def test_why_numpy_could_not_make_an_array_is_said_in_words() -> None:
    from course_lib.numbers.checking import not_an_array

    try:
        np.asarray([[1.0, 2.0], [3.0]])
    except ValueError as error:
        text = not_an_array([[1.0, 2.0], [3.0]], error)
    assert "has rows of different lengths (a ragged list)" in text and "inhomogeneous" not in text
