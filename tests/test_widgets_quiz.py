"""Tests of the quiz widget (course_lib.widgets.quiz): the question's own feedback and hints."""

from __future__ import annotations

import pytest

from course_lib.teaching.quiz import Question
from course_lib.widgets import quiz_widget


def make_question() -> Question:
    return Question(
        "2 + 2 = ?",
        ["3", "4", "5"],
        correct=1,
        explanations=["one short", "2 + 2 = 4", "one too many"],
        hints=["count on your fingers", "it is even"],
    )


def test_widget_checks_and_reveals_hints():
    q = make_question()
    box = quiz_widget(q)
    assert box.choices.description == "Your answer"  # the option group has a name
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


def test_widget_survives_a_restless_learner():
    """Check with nothing picked, hints past the last one, a new pick after a verdict."""
    q = make_question()
    box = quiz_widget(q)
    for _ in range(2):
        box.check_button.click()
        assert "Pick an option" in box.feedback.value
    for _ in range(5):  # the simulation calls the handler even past the last hint
        for callback in list(box.hint_button._click_handlers.callbacks):
            callback(box.hint_button)
    assert box.hints_shown.value.count("Hint ") == 2 and box.hint_button.description == (
        "Hint (2 of 2)"
    )
    box.choices.index = 2
    box.check_button.click()
    assert "one too many" in box.feedback.value
    box.choices.index = 1  # the old verdict belonged to option C: it goes
    assert box.feedback.value == ""
    box.check_button.click()
    assert "Right" in box.feedback.value


def test_a_question_without_hints_has_a_disabled_hint_button():
    q = Question("?", ["a", "b"], 1, ["no", "yes"])
    box = quiz_widget(q)
    assert box.hint_button.disabled and q.hint() == "This question has no hints."
    for callback in list(box.hint_button._click_handlers.callbacks):
        callback(box.hint_button)
    assert box.hints_shown.value == ""


def test_only_a_question_makes_a_quiz_widget():
    with pytest.raises(TypeError, match="needs a Question"):
        quiz_widget("2 + 2 = ?")
