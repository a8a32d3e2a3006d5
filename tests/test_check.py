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
