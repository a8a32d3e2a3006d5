"""Tests of course_lib.checks (scalar gradient checks)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.autodiff.scalar import Value
from course_lib.checks import (
    central_difference,
    central_difference_sweep,
    gradient_check,
    relative_error,
)


def test_report_rows_name_inputs_and_agree():
    report = gradient_check(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)
    assert report.ok
    assert report.names == ("x", "y", "z")
    assert report.backward == (-4.0, -4.0, 3.0)
    assert max(report.abs_error) < 1e-8
    text = str(report)
    assert "all gradients agree" in text and text.count("yes") == 3


def test_a_wrong_local_partial_is_caught():
    def g(x, y):
        out = x * y
        # Sabotage the local partial d(out)/dx (should be y) to see the check catch it.
        out.partials = (out.partials[0] * 2.0, out.partials[1])
        return out

    report = gradient_check(g, 1.5, -2.0)
    assert not report.ok
    assert report.passed == (False, True)
    assert "SOME GRADIENTS DISAGREE" in str(report)


def test_central_difference_errors():
    with pytest.raises(IndexError, match="outside"):
        central_difference(lambda x: x * x, [1.0], 1)
    with pytest.raises(ValueError, match="positive"):
        central_difference(lambda x: x * x, [1.0], 0, h=0.0)


def test_gradient_check_input_errors():
    with pytest.raises(TypeError, match="takes 2 inputs but the point has 1"):
        gradient_check(lambda x, y: x * y, 1.0)
    with pytest.raises(TypeError, match="return a Value"):
        gradient_check(lambda x: 3.0, 1.0)
    with pytest.raises(ValueError, match="at least one"):
        gradient_check(lambda: Value(1.0))
    with pytest.raises(ValueError, match="input 0 of the point must be a finite number, got nan"):
        gradient_check(lambda x: x, float("nan"))
    with pytest.raises(TypeError, match="input 0 of the point is a Value; pass plain numbers"):
        gradient_check(lambda x: x, Value(1.0))


def test_gradient_check_names_a_kink_and_its_input():
    report = gradient_check(lambda x, y: x.relu() * y, 0.0, 2.0)
    assert not report.ok
    text = str(report)
    assert "kink in x at or within h = 1e-06 of x = 0" in text and "not differentiable" in text
    assert report.notes[1] == ""  # y is fine
    smooth = gradient_check(lambda x, y: (x * y).sigmoid(), 0.3, -1.2)
    assert smooth.ok and not any(smooth.notes) and "kink" not in str(smooth)


def test_a_tie_in_a_max_is_a_kink_too():
    # max(x, y) = relu(x - y) + y, at a tie x == y
    report = gradient_check(lambda x, y: (x - y).relu() + y, 1.5, 1.5)
    assert not report.ok and "kink in x" in str(report) and "kink in y" in str(report)


def test_a_step_that_leaves_the_domain_is_named():
    with pytest.raises(ValueError, match=r"crosses the edge of f's domain") as caught:
        gradient_check(lambda x: x.log(), 1e-7)
    assert "x = 1e-07" in str(caught.value) and "log" in str(caught.value)
    with pytest.raises(ValueError, match="log"):  # f fails at the point itself: its own error
        central_difference(lambda x: x.log(), [-1.0], 0)


def test_a_kink_within_h_of_the_point_is_named_as_near_not_at():
    # At x = 1e-7 f = relu(x)·y *is* differentiable (slope y = 2), but the nudge x - h with
    # h = 1e-6 lands on the other side of the kink at 0: the note must say so, not claim
    # that f is not differentiable at x = 1e-7.
    report = gradient_check(lambda x, y: x.relu() * y, 1e-7, 2.0)
    assert not report.passed[0]
    note = report.notes[0]
    assert "kink in x at or within h = 1e-06 of x = 1e-07" in note
    assert "0.2 over [x - h, x], 2 over [x, x + h]" in note
    assert "farther than h" in note
    at = gradient_check(lambda x, y: x.relu() * y, 0.0, 2.0).notes[0]
    assert "kink in x at or within h = 1e-06 of x = 0" in at
    assert "0 over [x - h, x], 2 over [x, x + h]" in at


def test_an_output_that_overflows_at_the_point_is_not_blamed_on_the_step():
    # f's own output is inf at the point: that is not a step crossing a domain edge.
    with pytest.raises((ValueError, ArithmeticError)) as caught:
        gradient_check(lambda x: x * 10.0, 1e308)
    assert "nudge" not in str(caught.value) and str(caught.value)
    with pytest.raises((ValueError, ArithmeticError)) as caught:
        central_difference(lambda x: x * 10.0, [1e308], 0)
    assert "nudge" not in str(caught.value) and str(caught.value)


# ---- relative error --------------------------------------------------------------------------


def test_relative_error_sees_what_an_absolute_error_misses():
    # 2e-8 against 1e-8: a tiny absolute error, but one is twice the other.
    assert abs(2e-8 - 1e-8) < 1e-7
    assert relative_error(2e-8, 1e-8) == pytest.approx(0.5)
    # 1000 against 1000.001: a large absolute error, but six digits agree.
    assert relative_error(1000.0, 1000.001) == pytest.approx(1e-6, rel=1e-3)
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(3.0, -3.0) == 2.0
    assert isinstance(relative_error(1.0, 2.0), float)
    np.testing.assert_allclose(relative_error([1.0, 0.0, -4.0], [2.0, 0.0, -4.0]), [0.5, 0.0, 0.0])


FINITE = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(FINITE, FINITE, st.floats(1e-6, 1e6))
def test_relative_error_is_symmetric_bounded_and_scale_free(a, b, k):
    r = relative_error(a, b)
    assert r == relative_error(b, a)
    assert 0.0 <= r <= 2.0
    assert (r == 0.0) == (a == b)
    if abs(a) * k < 1e300 and abs(b) * k < 1e300 and min(abs(a), abs(b)) * k > 1e-290:
        assert relative_error(a * k, b * k) == pytest.approx(r, rel=1e-9, abs=1e-15)


def test_gradient_check_reports_the_relative_error_of_each_input():
    report = gradient_check(lambda x, y: x * x * y, 1.5, -2.0)
    for b, n, r in zip(report.backward, report.numerical, report.rel_error, strict=True):
        assert r == relative_error(b, n)


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [
        (float("nan"), 1.0, ValueError),
        (1.0, float("inf"), ValueError),
        ("a", 1.0, TypeError),
        ([1.0, 2.0], [1.0, 2.0, 3.0], TypeError),
        (10**400, 1.0, ValueError),
    ],
)
def test_relative_error_refuses_what_is_not_a_finite_number(a, b, error):
    with pytest.raises(error, match="relative_error"):
        relative_error(a, b)


# ---- the step size h: central_difference_sweep ------------------------------------------------


def cube(x):
    return x * x * x


HS = np.logspace(-12, 0, 49)  # 1e-12 to 1, four steps a decade


def test_sweep_in_float64_is_exactly_what_central_difference_computes():
    estimates = central_difference_sweep(cube, 1.0, HS)
    assert estimates.dtype == np.float64 and estimates.shape == HS.shape
    for h, estimate in zip(HS, estimates, strict=True):
        assert estimate == central_difference(lambda x: x * x * x, [1.0], 0, float(h))


def test_truncation_error_of_the_cube_is_h_squared():
    # ((1 + h)³ - (1 - h)³) / 2h = 3 + h² exactly: at large h the error is h², not round-off.
    for h in (0.1, 0.01, 1e-3):
        (estimate,) = central_difference_sweep(cube, 1.0, [h])
        assert estimate - 3.0 == pytest.approx(h * h, rel=1e-6)


def test_float64_error_is_smallest_between_1e_6_and_1e_5_and_grows_both_ways():
    errors = np.abs(central_difference_sweep(cube, 1.0, HS) - 3.0)
    best = HS[np.argmin(errors)]
    assert 1e-6 <= best <= 1e-5
    assert errors.min() < 1e-10
    assert errors[HS <= 1e-10].min() > 1e-8  # round-off: ~ε/h
    assert errors[HS >= 1e-2].min() > 1e-5  # truncation: h²
    assert np.all(errors[HS >= 1e-4] <= 1.01 * HS[HS >= 1e-4] ** 2 + 1e-12)


def test_float32_fails_at_1e_6_and_needs_a_step_near_its_cube_root_of_epsilon():
    estimates = central_difference_sweep(cube, 1.0, HS, dtype=np.float32)
    assert estimates.dtype == np.float32
    errors = np.abs(estimates.astype(np.float64) - 3.0)
    (at_1e_6,) = central_difference_sweep(cube, 1.0, [1e-6], dtype=np.float32)
    assert relative_error(float(at_1e_6), 3.0) > 1e-3  # a check with rtol 1e-5 fails
    eps = float(np.finfo(np.float32).eps)
    assert 1e-3 <= HS[np.argmin(errors)] <= 1e-2  # (ε/2)^(1/3) ≈ 4e-3
    assert errors.min() < 1e-4
    # Below h ≈ ε/2, x ± h rounds back to x = 1: the estimate is 0, the error is the whole 3.
    assert np.all(errors[HS < eps / 4] == 3.0)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3), st.floats(-2, 2), st.floats(1e-4, 1e-1)
)
def test_a_quadratic_has_no_truncation_error(a, b, c, x, h):
    # f''' = 0, so only round-off is left: of order ε·max|f|/h.
    def f(t):
        return a + b * t + c * t * t

    (estimate,) = central_difference_sweep(f, x, [h])
    scale = 1.0 + abs(a) + abs(b) * 3 + abs(c) * 9
    assert abs(estimate - (b + 2 * c * x)) <= 1e-14 * scale / h


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(f=math.sin, dtype=np.float32), TypeError, "np.sin(x), not math.sin(x)"),
        (dict(f=lambda x: x * np.float64(2), dtype=np.float32), TypeError, "float64 number"),
        (dict(f=lambda x: Value(1.0) * 2.0), TypeError, "plain function"),
        (dict(f=lambda x: np.ones(2) * x), TypeError, "one number"),
        (dict(hs=[1e-3, 0.0]), ValueError, "positive and finite, got 0.0"),
        (dict(hs=[-1e-6]), ValueError, "positive"),
        (dict(hs=[float("nan")]), ValueError, "positive and finite"),
        (dict(hs=[]), ValueError, "non-empty"),
        (dict(hs=[[1e-3]]), ValueError, "sequence"),
        (dict(hs="abc"), TypeError, "sequence of positive steps"),
        (dict(hs=[10**400]), ValueError, "too large"),
        (dict(hs=[1e-50], dtype=np.float32), ValueError, "rounds to 0 in float32"),
        (dict(x=1e39, dtype=np.float32), ValueError, "too large for float32"),
        (dict(x=float("nan")), ValueError, "finite"),
        (dict(x="1"), TypeError, "x must be a number, got the text '1'"),
        (dict(x=True), TypeError, "x must be a number, got True (a bool)"),
        (dict(dtype=int), TypeError, "float type"),
        (dict(dtype="abc"), TypeError, "float type"),
        (dict(f=np.log, x=1e-7, hs=[1e-6]), ValueError, "nudges x = 1e-07 by ±h"),
        (dict(f=math.log, x=1e-7, hs=[1e-6]), ValueError, "crosses the edge of f's domain"),
        (dict(f=np.log, x=0.0), ValueError, "f is -inf at 0"),
        (dict(f=np.exp, x=88.0, hs=[1.0], dtype=np.float32), ValueError, "f is inf at 89"),
    ],
)
def test_sweep_errors_name_the_problem(kwargs, error, words):
    arguments = dict(f=cube, x=1.0, hs=[1e-3]) | kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning instead of an answer
        with pytest.raises(error) as caught:
            central_difference_sweep(**arguments)
    assert words in str(caught.value)


def test_an_error_of_f_at_x_itself_is_f_s_own():
    with pytest.raises(ValueError, match="math domain error") as caught:
        central_difference_sweep(math.log, -1.0, [1e-3])
    assert "nudge" not in str(caught.value)


# ---- numbers from Python and NumPy (issue 24): the one check of a user's number ----------------

BIG = 10**400  # an int no float can hold: float() would raise a bare OverflowError


def double(x):
    return x * 2


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: gradient_check(lambda x: x * 2, BIG), ValueError, "gradient_check: input 0 of"),
        (lambda: gradient_check(lambda x: x * 2, 1.0, h=BIG), ValueError, "gradient_check: the "),
        (
            lambda: gradient_check(lambda x: x * 2, 1.0, rtol=BIG),
            ValueError,
            "gradient_check: rtol",
        ),
        (
            lambda: gradient_check(lambda x: x * 2, 1.0, atol=-BIG),
            ValueError,
            "gradient_check: atol",
        ),
        (lambda: central_difference(lambda x: x * 2, [BIG], 0), ValueError, "central_difference: "),
        (lambda: central_difference(lambda x: x, [1.0], 0, h=BIG), ValueError, "the step h is an"),
        (lambda: central_difference_sweep(lambda x: x, BIG, [1e-3]), ValueError, "sweep: x is an"),
        (lambda: central_difference_sweep(lambda x: x, 1.0, [BIG]), ValueError, "too large"),
    ],
)
def test_an_int_beyond_the_floats_is_refused_with_a_sentence(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert "too large for a float" in str(caught.value)


def test_bad_numbers_get_the_one_checks_sentence():
    with pytest.raises(TypeError, match=r"^gradient_check: the step h must be a number, got the"):
        gradient_check(lambda x: x * 2, 1.0, h="1e-6")
    with pytest.raises(ValueError, match=r"^gradient_check: the step h must be a finite number"):
        gradient_check(lambda x: x * 2, 1.0, h=float("nan"))
    with pytest.raises(TypeError, match=r"^central_difference: index must be a whole number"):
        central_difference(lambda x: x * 2, [1.0], 0.0)
    with pytest.raises(TypeError, match=r"^central_difference: the point must be a sequence"):
        central_difference(lambda x: x * 2, "1", 0)


def test_numpy_numbers_are_numbers():
    report = gradient_check(lambda x, y: x * y, np.int64(3), np.float32(0.5), h=np.float64(1e-6))
    assert report.ok and report.point == (3.0, 0.5)
    assert all(type(x) is float for x in report.point)
    assert central_difference(lambda x: x * x, [np.int64(2)], np.int64(0)) == pytest.approx(4.0)
    sweep = central_difference_sweep(lambda x: x * x, np.int64(2), [np.int64(1)])
    assert sweep.tolist() == [4.0]
    assert gradient_check(lambda x: x * 2, 1.0, rtol=np.float32(1e-3), atol=np.int64(0)).ok


def test_a_function_that_is_none_and_complex_numbers_are_refused_with_a_sentence():
    with pytest.raises(TypeError, match=r"^gradient_check: f must be a function .*got NoneType"):
        gradient_check(None, 1.0)
    with pytest.raises(TypeError, match=r"^central_difference: f must be a function"):
        central_difference(3, [1.0], 0)
    with pytest.raises(TypeError, match=r"^central_difference_sweep: f must be a function"):
        central_difference_sweep("x*x", 1.0, [1e-3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning dropped the imaginary part
        with pytest.raises(TypeError, match="relative_error: a must be an array of real numbers"):
            relative_error(np.array([1 + 1j]), 1.0)
    with pytest.raises(TypeError, match=r"same shape, got shapes \(2,\) and \(3,\)"):
        relative_error([1.0, 2.0], [1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match="hs must be a sequence of positive steps"):
            central_difference_sweep(lambda x: x * x, 1.0, np.array([1e-3 + 1j]))
        with pytest.raises(TypeError, match="dtype must be a float type"):
            central_difference_sweep(lambda x: x * x, 1.0, [1e-3], dtype="a")
    assert relative_error([10**30, 1], [10**30, 1]).tolist() == [0.0, 0.0]


def test_relative_error_of_numbers_at_the_ends_of_the_floats():
    """1e308 against -1e308: a - b overflowed and the relative error came back inf silently."""
    assert relative_error(1e308, -1e308) == 2.0
    np.testing.assert_array_equal(
        relative_error(np.array([1e308, 1.0, 0.0]), np.array([-1e308, 2.0, 0.0])), [2.0, 0.5, 0.0]
    )


def test_f_that_takes_no_input_or_returns_text_is_named():
    with pytest.raises(TypeError, match="f takes 0 inputs but the point has 1 value: give one"):
        gradient_check(lambda: 1.0, 1.0)  # Python's "takes 0 positional arguments" before
    with pytest.raises(TypeError, match="f must return a Value .* it returned str 'a'"):
        central_difference(lambda x: "a", [1.0], 0)  # "could not convert string to float"
    assert gradient_check(lambda x, y=2.0: x * y, 1.0).ok


def test_a_sweep_of_ten_million_steps_is_refused_before_the_first():
    from course_lib.checks import central_difference_sweep
    from course_lib.checks.finite_differences import MAX_STEPS

    calls = []
    with pytest.raises(ValueError, match="hs holds 10,000,000 steps"):
        central_difference_sweep(lambda x: calls.append(x) or x, 1.0, np.logspace(-10, -1, 10**7))
    assert not calls
    assert central_difference_sweep(np.sin, 1.0, np.logspace(-8, -1, MAX_STEPS)).shape == (
        MAX_STEPS,
    )
