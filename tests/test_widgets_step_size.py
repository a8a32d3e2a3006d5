"""Tests of the step explorer (course_lib.widgets.step_size)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib.checks import central_difference_sweep
from course_lib.widgets import step_size_explorer


def test_it_shows_the_engines_estimate_and_its_two_errors():
    w = step_size_explorer()
    (expected,) = central_difference_sweep(lambda x: x * x * x, 1.0, [1e-6])
    assert w.h == pytest.approx(1e-6) and w.estimate == float(expected)
    assert w.truncation == pytest.approx(1e-12) and w.round_off == pytest.approx(2.22e-10, 0.01)
    assert "would <b>pass</b>" in w.summary.value and "round-off is the larger" in w.summary.value


def test_float32_at_the_same_step_fails_the_check():
    w = step_size_explorer()
    w.dtype.value = "float32"
    (expected,) = central_difference_sweep(lambda x: x * x * x, 1.0, [1e-6], dtype=np.float32)
    assert w.estimate == float(expected) and "would <b>fail</b>" in w.summary.value


def test_a_large_step_is_ruled_by_truncation():
    w = step_size_explorer(exponent=-1.0)
    assert w.error == pytest.approx(0.01, rel=1e-6)  # 3 + h², h = 0.1
    assert "truncation is the larger" in w.summary.value


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"exponent": 3.0}, ValueError),
        ({"exponent": "x"}, TypeError),
        ({"exponent": 10**400}, ValueError),
        ({"exponent": float("nan")}, ValueError),
        ({"dtype": "f16"}, ValueError),
        ({"dtype": ["float64"]}, ValueError),
    ],
)
def test_bad_arguments_are_named(kwargs, error):
    with pytest.raises(error, match="^step_size_explorer: "):
        step_size_explorer(**kwargs)


def test_numpy_numbers_set_the_exponent():
    """np.float32(-4) (a value read off an array) used to be refused as "not a number"."""
    assert (
        step_size_explorer(np.float32(-4)).exponent.value == step_size_explorer(-4).exponent.value
    )


def test_every_slider_position_works():
    w = step_size_explorer()
    for dtype in ("float64", "float32"):
        w.dtype.value = dtype
        for exponent in np.arange(-12.0, 0.25, 0.25):
            w.exponent.value = float(exponent)
            assert np.isfinite(w.error) and "<svg" in w.bars.value


def test_the_plots_text_alternatives_say_the_computed_minima():
    from course_lib.widgets.step_size import error_curve_alt_text, two_types_alt_text

    hs = np.logspace(-12, 0, 49)
    e64 = np.abs(central_difference_sweep(lambda x: x * x * x, 1.0, hs) - 3.0)
    e32 = np.abs(central_difference_sweep(lambda x: x * x * x, 1.0, hs, dtype=np.float32) - 3.0)
    text = error_curve_alt_text(hs, e64)
    assert f"smallest, {e64.min():.0e}, at h = {hs[np.argmin(e64)]:.0e}" in text
    assert "from 1e-12 to 1." in text
    both = two_types_alt_text(hs, e64, e32)
    assert f"float32's error is smallest, {e32.min():.0e}" in both
    assert f"At h = 1e-6 float32's error is {e32[np.argmin(np.abs(hs - 1e-6))]:.0e}." in both


@pytest.mark.parametrize("exponent", [-9.0, -12.0])
def test_each_bar_is_labelled_with_its_own_log_even_off_the_scale(exponent):
    w = step_size_explorer(exponent=exponent)
    desc = re.search(r"<desc>(.*?)</desc>", w.bars.value).group(1)
    h_squared = f"{2 * exponent:.1f}"  # log₁₀ h² = 2 log₁₀ h, below the bars' scale (-17)
    assert f"h²: {h_squared} (off the scale, drawn to its edge)" in desc
    assert f">{h_squared}</text>" in w.bars.value and "-17.0" not in w.bars.value
    assert "error: -" in desc and "ε/h: -" in desc and desc.count("off the scale") == 1
