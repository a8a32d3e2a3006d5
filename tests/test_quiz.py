"""Tests of course_lib.quiz: questions (plain Python and widget) and the answer check."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.quiz import Question, card_question, check


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
