"""Tests of course_lib.teaching.hand_exercise: judging a hand answer, slips, precision, tiers."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.teaching.hand_exercise import (
    EXACT,
    AxesExercise,
    HandExercise,
    Precision,
    Slip,
    decimals,
    parse_number,
    significant,
)


def gradient_exercise(**changes) -> HandExercise:
    fields = dict(
        key="t.dx",
        name="df/dx",
        expected=-14.0,
        look="Follow both paths from x to f.",
        rule="df/dx = sum over the consumers c of (df/dc)(∂c/∂x).",
        local=2.0,
        upstream=4.0,
        paths=(-8.0, -6.0),
        values=((3.0, "the value of x"),),
    )
    fields.update(changes)
    return HandExercise(**fields)


def test_right_answers_in_every_form():
    e = gradient_exercise()
    for answer in (-14, -14.0, "-14", " -14 ", "\u221214", "-28/2", np.float32(-14), np.array(-14)):
        result = e.judge(answer)
        assert result.correct and "right" in result.message, answer


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        (14, "sign"),
        (-28, "factor of 2"),
        (-7, "average of the paths"),  # the average of two paths is half their sum
        (-8, "one path only"),
        (-6, "one path only"),
        (0, "Zero would mean"),
        (2, "local partial alone"),
        (4, "upstream gradient passed back"),
        (3, "the value of x"),
        (-13, "Follow both paths"),  # no slip matches: where to look
    ],
)
def test_each_generic_slip_is_named_and_never_gives_the_answer(answer, names):
    result = gradient_exercise().judge(answer)
    assert not result.correct
    assert names in result.message
    assert "-14" not in result.message.split(" is not right.")[1]


def test_the_exercises_own_slip_comes_before_the_generic_ones():
    e = gradient_exercise(slips=(Slip(14.0, "You added where the rule subtracts."),))
    assert "added where the rule subtracts" in e.judge(14).message


def test_a_slip_that_equals_the_answer_is_never_shown():
    e = gradient_exercise(expected=2.0, local=2.0, paths=())
    assert e.judge(2.0).correct


def test_the_rule_comes_with_the_second_wrong_answer():
    e = gradient_exercise()
    assert "The rule" not in e.judge(14, misses=0).message
    assert "The rule: df/dx = sum" in e.judge(14, misses=1).message


@pytest.mark.parametrize("answer", ["abc", "1e400", "nan", "0,5", True, 1 + 2j, [1, 2], object()])
def test_garbage_gets_a_sentence_not_an_exception(answer):
    result = gradient_exercise().judge(answer)
    assert not result.correct and result.message.startswith("df/dx")
    assert "is not right" not in result.message  # a typo is not a wrong answer


def test_unanswered_states_the_precision():
    assert "exactly" in gradient_exercise().judge(...).message
    e = gradient_exercise(expected=-0.23456, precision=significant(3))
    assert "to 3 significant figures" in e.judge(None).message
    assert "to 2 decimal places" in gradient_exercise(precision=decimals(2)).judge("").message


def test_significant_figures_accept_rounded_and_cut_off_answers():
    e = gradient_exercise(expected=-0.23456, precision=significant(3), paths=())
    for answer in (-0.235, -0.234, -0.2346, -0.23456):
        assert e.judge(answer).correct, answer
    near = e.judge(-0.23)
    assert not near.correct and "to 3 significant figures" in near.message
    assert not e.judge(-0.2).correct


def test_decimals():
    e = gradient_exercise(expected=1.23456, precision=decimals(2), paths=())
    for answer in (1.23, 1.235, 1.2346):  # rounded (= cut off), or more precise
        assert e.judge(answer).correct, answer
    for answer in (1.24, 1.22, 1.25):  # one unit off in the last place asked for
        assert not e.judge(answer).correct, answer


@pytest.mark.parametrize(
    ("precision", "expected", "right", "wrong"),
    [
        (decimals(3), 0.0900, (0.090, 0.09, 0.0900), (0.091, 0.089)),
        (decimals(2), 2.678, (2.68, 2.67, 2.678), (2.69, 2.66)),  # rounded 2.68, cut off 2.67
        (decimals(2), -2.678, (-2.68, -2.67), (-2.69, -2.66)),
        (significant(2), 4.93e-3, (4.9e-3, 4.93e-3), (5.0e-3, 5e-3, 4.8e-3)),
        (significant(2), 4.97e-3, (5.0e-3, 4.9e-3), (5.1e-3, 4.8e-3)),  # rounded up, cut off
        (decimals(2), 0.0, (0.0, 0.004, -0.004), (0.01, -0.01)),
    ],
)
def test_an_answer_counts_rounded_or_cut_off_and_not_one_unit_off(
    precision, expected, right, wrong
):
    for answer in right:
        assert precision.accepts(answer, expected), (answer, expected)
    for answer in wrong:
        assert not precision.accepts(answer, expected), (answer, expected)


@given(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), st.integers(1, 6))
def test_the_rounded_and_the_cut_off_answer_count_one_unit_more_does_not(value, digits):
    precision, unit = decimals(digits), 10.0**-digits
    # cut off as a person does, in the number's decimal digits
    cut = float(Decimal(repr(value)).quantize(Decimal(10) ** -digits, rounding=ROUND_DOWN))
    rounded = round(value, digits)
    assert precision.accepts(rounded, value) and precision.accepts(cut, value)
    away = cut + 2 * unit if value >= 0 else cut - 2 * unit  # past both, away from zero
    nearer = cut - unit if value >= 0 else cut + unit  # one unit below the cut, toward zero
    assert not precision.accepts(away, value) and not precision.accepts(nearer, value)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-6))
def test_generic_slips_are_recognised_for_any_expected_value(value):
    e = HandExercise(key="t.v", name="v", expected=value, look="Look again.", rule="v = v.")
    for wrong, says in ((-value, "sign"), (2 * value, "factor of 2"), (value / 2, "factor of 2")):
        message = e.judge(wrong).message
        assert says in message, (value, wrong, message)
    assert e.judge(value).correct


def test_not_a_gradient_has_no_zero_or_path_slips():
    e = gradient_exercise(gradient=False, expected=0.5, paths=(0.1, 0.2))
    assert "Zero would mean" not in e.judge(0).message
    assert "one path" not in e.judge(0.1).message


def test_an_exercise_needs_look_and_rule_and_a_finite_answer():
    with pytest.raises(ValueError, match="look"):
        gradient_exercise(look=" ")
    with pytest.raises(ValueError, match="not finite"):
        gradient_exercise(expected=math.inf)


def test_precision_rejects_nonsense():
    with pytest.raises(ValueError, match="kind"):
        Precision("roughly", 2)
    with pytest.raises(ValueError, match="digits"):
        Precision("significant", 0)
    assert EXACT.accepts(3.0100000000000016, 3.01)


# ---- rows ------------------------------------------------------------------------------------


def row_exercise(**changes) -> HandExercise:
    fields = dict(
        key="t.row",
        name="row 0",
        expected=(0.0819, -0.0220, -0.0599),
        precision=significant(3),
        look="Row 0 holds ∂p_0/∂z_j for each j.",
        rule="∂p_i/∂z_j = p_i(δ_ij − p_j).",
    )
    fields.update(changes)
    return HandExercise(**fields)


def test_a_row_right_and_with_each_generic_slip():
    e = row_exercise()
    assert e.judge([0.0819, -0.022, -0.0599]).correct
    assert e.judge(np.array([0.08190, -0.02200, -0.05990])).correct
    assert "Every sign" in e.judge([-0.0819, 0.022, 0.0599]).message
    assert "factor of 2" in e.judge([0.1638, -0.044, -0.1198]).message
    assert "All zeros" in e.judge([0, 0, 0]).message
    off = e.judge([0.0819, 0.022, -0.0599]).message
    assert "Entry 1 (counting from 0) is off" in off and "Row 0 holds" in off


@pytest.mark.parametrize("answer", ["abc", 3.0, [1, 2], [1, "x", 2], [..., ..., ...]])
def test_a_row_never_raises(answer):
    assert not row_exercise().judge(answer).correct


# ---- axes --------------------------------------------------------------------------------------


def axes_exercise() -> AxesExercise:
    return AxesExercise(
        key="t.axes",
        name="axes",
        expected=(0,),
        ndim=2,
        look="Which axes did the broadcast add or stretch?",
        rule="Sum over every axis the broadcast added or expanded.",
    )


def test_axes_right_in_any_form():
    e = axes_exercise()
    for answer in (0, (0,), [0], {0}, (-2,), np.int64(0)):
        assert e.judge(answer).correct, answer


def test_axes_generic_slips():
    e = axes_exercise()
    assert "every axis" in e.judge((0, 1)).message
    assert "kept" in e.judge((1,)).message
    assert "no axis" in e.judge(()).message
    assert "The rule" in e.judge((), misses=1).message
    for garbage in ("0", 1.5, True, (5,), ...):
        assert not e.judge(garbage).correct


def test_an_axis_listed_twice_is_refused_as_numpy_refuses_it():
    e = axes_exercise()
    for answer in ((0, 0), [0, -2], (0, 0, 1)):
        result = e.judge(answer)
        assert not result.correct and "axis 0 is listed twice" in result.message, answer
        with pytest.raises(ValueError, match="duplicate value in 'axis'"):
            np.zeros((2, 3)).sum(axis=tuple(answer))
    assert e.judge({0}).correct  # a set cannot repeat


def test_near_misses_of_zero_and_of_a_trailing_zero_are_not_misnamed():
    zero = gradient_exercise(expected=0.0, precision=decimals(3), paths=())
    assert "close" not in zero.judge(0.001).message  # a loser's 0: not an arithmetic slip
    h = gradient_exercise(expected=4.93e-3, precision=significant(2), paths=(), gradient=False)
    message = h.judge(5.0e-3).message  # typed with 2 figures; the float shows one
    assert "off in its last digits" in message and "keep more digits" not in message
    assert "keep more digits" in h.judge(4e-3).message  # one figure, far off: too few


def test_leeway_widens_the_rounded_band_and_is_checked():
    wide = Precision("significant", 3, leeway=1.0)
    assert wide.accepts(2.655, 2.6475) and wide.accepts(2.64, 2.6475)
    assert not wide.accepts(2.66, 2.6475) and not significant(3).accepts(2.655, 2.6475)
    for bad in (0.2, 11, math.nan, "1"):
        with pytest.raises(ValueError, match="leeway"):
            Precision("significant", 3, leeway=bad)


def test_a_value_the_page_rounded_earlier_counts_at_the_same_precision():
    e = gradient_exercise(expected=5.36928, precision=decimals(3), paths=())
    assert not e.judge(5.370).correct  # one unit off the exact answer
    chained = gradient_exercise(expected=5.36928, precision=decimals(3), paths=(), also=(5.370,))
    for answer in (5.369, 5.37, 5.370, 3 * 1.790):
        assert chained.judge(answer).correct, answer
    assert not chained.judge(5.371).correct and not chained.judge(5.368).correct
    with pytest.raises(ValueError, match="also"):
        gradient_exercise(expected=1.0, paths=(), also=(math.nan,))


def test_parse_number_keeps_its_contract():
    assert parse_number("3/4") == 0.75 and parse_number("") is None and parse_number(...) is None
    with pytest.raises(ValueError, match="comma"):
        parse_number("0,5")
    with pytest.raises(ValueError, match="complex"):
        parse_number(np.complex128(1 + 1j))


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("1e400", "too large"),
        ("-1e400", "too large"),
        ("nan", "not a number"),
        ("inf", "too large"),
        ("0,5", "like 0.5"),
        ("1,000,000", "comma"),
        ("abc", "expected a number like"),
        ("1/0", "expected a number like"),
        (10**400, "too large"),
        (float("nan"), "finite"),
    ],
)
def test_parse_number_names_every_bad_entry(typed, says):
    with pytest.raises(ValueError, match=says):
        parse_number(typed)


def test_parse_number_accepts_what_learners_type():
    assert parse_number("  -3 ") == -3.0
    assert parse_number("\u22124") == -4.0  # a typographic minus, pasted from the page
    assert parse_number("1/2") == 0.5 and parse_number("-3/4") == -0.75
    assert parse_number("1e-400") == 0.0  # underflows to 0: a number, just a tiny one
    assert parse_number(7) == 7.0 and parse_number(np.int64(-2)) == -2.0


@pytest.mark.parametrize(
    "answer", [[[0.082, -0.022], [-0.06]], [0.082, [-0.022, -0.06]], np.zeros((3, 1)), {1, 2}]
)
def test_a_nested_or_shaped_row_is_told_to_be_flat(answer):
    result = row_exercise().judge(answer)
    assert not result.correct and "flat list" in result.message or "expected" in result.message


def test_a_close_answer_with_enough_digits_is_an_arithmetic_slip_not_a_rounding_one():
    e = gradient_exercise(expected=0.09, precision=decimals(3), paths=(), local=None)
    assert "keep more digits" in e.judge(0.1).message  # fewer decimals than asked
    slip = e.judge(0.0915).message  # more decimals than asked, off in the last ones
    assert "off in its last digits" in slip and "keep more digits" not in slip


def test_significant_figures_close_is_on_the_answers_own_scale():
    e = gradient_exercise(expected=0.003667, precision=significant(4), paths=(), local=None)
    assert "keep more digits" in e.judge(0.0037).message


def test_a_row_off_only_by_rounding_says_so():
    message = row_exercise().judge([0.082, -0.022, -0.06]).message
    assert row_exercise().judge([0.0819, -0.022, -0.0599]).correct
    e = row_exercise(precision=decimals(4), expected=(0.2384, -0.2264, -0.0120))
    message = e.judge([0.238, -0.226, -0.012]).message
    assert "keep more digits" in message and "Entries 0, 1" in message


def test_a_list_typed_with_commas_gets_no_made_up_decimal():
    with pytest.raises(ValueError) as error:
        parse_number("[1, 2]")
    assert "like" not in str(error.value)


def test_precision_digits_are_whole_numbers_numpy_ones_included():
    from course_lib.teaching.hand_exercise import decimals, significant

    assert decimals(np.int64(3)).digits == 3 and type(significant(np.int8(2)).digits) is int
    with pytest.raises(TypeError, match="decimals precision: digits must be an int, got True"):
        decimals(True)
    with pytest.raises(ValueError, match="significant precision: digits must be at most 15"):
        significant(16)


@pytest.mark.parametrize("typed", [-14.0000001, -13.9999999])
def test_a_near_miss_is_echoed_with_its_own_digits_not_as_the_answer(typed):
    # "df/dx = -14 is not right" would show the right answer next to the verdict
    message = gradient_exercise(precision=EXACT).judge(typed).message
    assert "= -14 is not right" not in message and float(message.split()[2]) == typed


def test_a_row_near_miss_is_echoed_with_its_own_digits():
    row = gradient_exercise(expected=[1.0, 2.0], key="t.row", name="row", precision=EXACT)
    message = row.judge([1.0, 2.0000001]).message
    assert "[1, 2.0000001] is not right" in message


def test_none_in_place_of_the_dots_is_named_not_called_unanswered():
    e = gradient_exercise()
    for untouched in (..., "", "  "):  # as handed out, or a widget's empty box
        assert e.judge(untouched).message.startswith("df/dx: not answered yet. Replace the ...")
    message = e.judge(None).message
    assert message.startswith("df/dx is None, not a number: type your number")
    assert "Replace the ..." not in message and "not right" not in message
    row = gradient_exercise(expected=[1.0, 2.0], key="t.row", name="row")
    assert row.judge([..., ...]).message.startswith("row: not answered yet")
    assert row.judge([1.0, None]).message == "row, entry 1 is None, not a number."
    assert row.judge([1.0, ...]).message == "row, entry 1: not answered yet."


def test_a_row_with_its_numbers_in_the_wrong_places_is_named():
    row = gradient_exercise(expected=[3.0, 1.0, 0.5], key="t.row", name="row")
    message = row.judge([1.0, 3.0, 0.5]).message
    assert message == (
        "row = [1, 3, 0.5] is not right. Those numbers are the right ones, but some sit in "
        "another entry's place."
    )
    assert "another entry's place" not in row.judge([3.0, 3.0, 0.5]).message  # 1 is missing


def test_ten_places_off_a_small_answer_is_not_called_close():
    # 0.090 for 0.082 at 3 decimals is 10% off: a missing term, not a rounding slip
    small = gradient_exercise(expected=0.0819, precision=decimals(3), key="t.s", name="s")
    assert "close" not in small.judge(0.090).message
    assert "That is close" in small.judge(0.0835).message  # 2 places off
    assert "That is close" in gradient_exercise(precision=decimals(3)).judge(-14.008).message
