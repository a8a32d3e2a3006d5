"""Tests of course_lib.quiz: questions (plain Python and widget) and the answer check."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.quiz import Question, card_question, check, check_axes, parse_number


def make_question() -> Question:
    return Question(
        "2 + 2 = ?",
        ["3", "4", "5"],
        correct=1,
        explanations=["one short", "right: 2 + 2 = 4", "one too many"],
        hints=["count on your fingers", "it is even"],
    )


def test_right_answer_accepted_in_every_form():
    q = make_question()
    for choice in ("B", "b", 1, "4"):
        feedback = q.answer(choice)
        assert feedback.correct and "2 + 2 = 4" in feedback.message


def test_wrong_answers_rejected_with_their_explanation():
    q = make_question()
    assert not q.answer("A") and q.answer("A").message == "one short"
    assert not q.answer(2) and "too many" in str(q.answer(2))


def test_invalid_choice_is_a_clear_error():
    q = make_question()
    with pytest.raises(ValueError, match="not one of this question's options"):
        q.answer("D")
    with pytest.raises(ValueError, match="not one of"):
        q.answer(7)
    with pytest.raises(TypeError, match="not a bool"):
        q.answer(True)


def test_question_construction_errors():
    with pytest.raises(ValueError, match="one explanation per option"):
        Question("?", ["a", "b"], 0, ["only one"])
    with pytest.raises(ValueError, match="correct must be"):
        Question("?", ["a", "b"], 2, ["x", "y"])
    with pytest.raises(ValueError, match="2 to"):
        Question("?", ["a"], 0, ["x"])


def test_widget_checks_and_reveals_hints():
    q = make_question()
    box = q.widget()
    box.check_button.click()
    assert "Pick an option" in box.feedback.value
    box.choices.value = 0
    box.check_button.click()
    assert "Not quite" in box.feedback.value and "one short" in box.feedback.value
    box.choices.value = 1
    box.check_button.click()
    assert "Right" in box.feedback.value
    assert box.hints_shown.value == ""
    box.hint_button.click()
    assert "count on your fingers" in box.hints_shown.value
    assert "it is even" not in box.hints_shown.value
    box.hint_button.click()
    assert "it is even" in box.hints_shown.value and box.hint_button.disabled


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_card_questions_have_one_right_answer(number):
    q = card_question(number)
    results = [q.answer(i).correct for i in range(len(q.options))]
    assert results.count(True) == 1
    assert len(q.hints) >= 1


def test_card_question_answers_match_the_card():
    assert "dense" in card_question(1).options[card_question(1).correct]
    assert "p − y" in card_question(2).options[card_question(2).correct]
    assert "expanded" in card_question(3).options[card_question(3).correct]
    assert "sensitivity" in card_question(4).options[card_question(4).correct]
    with pytest.raises(ValueError, match="questions 1 to 4"):
        card_question(5)


def test_check_right_wrong_and_known_mistakes():
    assert check(-4.0, -4.0, name="df/dx")
    assert check(-4.0004, -4.0)  # hand answers rounded to three decimals pass
    assert check(np.float64(3.0), 3.0)
    wrong = check(3.0, -4.0, name="df/dx", hint="Multiply by z.")
    assert not wrong and "Multiply by z." in wrong.message
    known = check(1.0, -4.0, mistakes=[(1.0, "That is the local partial dq/dx alone.")])
    assert not known and "local partial dq/dx alone" in known.message


def test_check_never_raises_on_bad_answers():
    assert "not answered yet" in check(..., 1.0).message
    assert "not answered yet" in check(None, 1.0).message
    assert "expected a number" in check("four", 4.0).message
    assert "finite" in check(float("inf"), 4.0).message
    assert "expected a number" in check([1, 2], 4.0).message
    assert check(True, 1.0).correct is False


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


def test_check_never_raises_on_overflowing_answers():
    assert "too large" in check(10**400, 1).message
    assert "too large" in check("1e400", 1).message
    assert check("0.25", 0.25).correct  # text a learner typed counts like a number


def test_check_a_row_entry_by_entry():
    row = [0.082, -0.022, -0.060]
    assert check([0.082, -0.022, -0.06], row, name="row 0").correct
    assert check(np.array(row), row).correct
    off = check([0.082, 0.022, -0.060], row, name="row 0")
    assert not off and "entry 1 is off" in off.message
    known = check(
        [0.082, 0.022, 0.060], row, mistakes=[([0.082, 0.022, 0.060], "Signs: -p_i p_j < 0.")]
    )
    assert not known and "Signs" in known.message
    assert "not answered yet" in check([..., ..., ...], row).message
    assert "expected 3 numbers, got 2" in check([1, 2], row).message
    assert "expected 3 numbers" in check(0.5, row).message
    assert "entry 2" in check([1, 2, "abc"], row).message


def test_check_axes_in_any_order_and_with_negative_axes():
    assert check_axes((0, 2), (0, 2), ndim=3).correct
    assert check_axes([2, 0], (0, 2), ndim=3).correct
    assert check_axes((0, -1), (0, 2), ndim=3).correct
    assert check_axes(1, (1,), ndim=2).correct
    assert check_axes((), (), ndim=2).correct
    wrong = check_axes((0,), (0, 2), ndim=3, mistakes=[((0,), "Axis 2 was expanded too.")])
    assert not wrong and "Axis 2 was expanded too." in wrong.message
    assert "numbered 0..2" in check_axes((3,), (0,), ndim=3).message
    assert "not answered yet" in check_axes(..., (0,), ndim=3).message
    assert "integers" in check_axes("0, 2", (0, 2), ndim=3).message
    assert "whole number" in check_axes((0.5,), (0,), ndim=3).message
    assert "integers" in check_axes(True, (0,), ndim=3).message


def test_quiz_checks_import_without_ipywidgets():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "from course_lib.quiz import check, check_axes, parse_number, card_question\n"
        "assert check(6, 6.0).correct and card_question(1).answer(card_question(1).correct)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
