"""Tests of course_lib.check (scalar gradient checks)."""

from __future__ import annotations

import pytest

from course_lib.check import central_difference, gradient_check
from course_lib.scalar import Value


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
    with pytest.raises(TypeError, match="finite plain number"):
        gradient_check(lambda x: x, float("nan"))


def test_gradient_check_names_a_kink_and_its_input():
    report = gradient_check(lambda x, y: x.relu() * y, 0.0, 2.0)
    assert not report.ok
    text = str(report)
    assert "kink in x at x = 0" in text and "not differentiable" in text
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
