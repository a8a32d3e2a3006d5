"""Tests of the answer key (course_lib.teaching.answers): every exercise of every notebook.

For each exercise: the generic slips a learner makes (the answer negated, doubled, halved, zero)
get feedback that is more than a bare "not right"; no slip's sentence, no "where to look" and no
rule states the answer; every listed slip is recognised as that slip.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib.numbers.formatting import format_number
from course_lib.teaching.answers import MODULES, all_keys, exercise
from course_lib.teaching.hand_exercise import AxesExercise

KEYS = all_keys()


def spellings(value: float) -> set[str]:
    """The ways a message could write ``value``."""
    forms = {f"{value:g}", format_number(value), f"{value:.3g}", f"{value:.4g}", f"{value:.2f}"}
    return {f for f in forms if f not in ("0", "-0", "0.00")}


def states(text: str, value: float) -> bool:
    if abs(value) in (0.0, 0.5, 1.0, 2.0):  # small numbers that prose uses for other things
        return False
    return any(
        re.search(rf"(?<![\w.]){re.escape(form)}(?![\w])", text) for form in spellings(value)
    )


def test_every_module_holds_only_its_own_keys():
    assert len(KEYS) == len(set(KEYS))
    for key in KEYS:
        assert key.split(".")[0] in MODULES


@pytest.mark.parametrize("key", KEYS)
def test_no_sentence_states_the_answer(key):
    task = exercise(key)
    if isinstance(task, AxesExercise):
        return
    sentences = [task.look, task.rule, *(s.says for s in task.slips)]
    for value in task.expected_values():
        for sentence in sentences:
            assert not states(sentence, value), (key, value, sentence)


@pytest.mark.parametrize("key", KEYS)
def test_generic_slips_never_get_a_bare_not_right(key):
    task = exercise(key)
    if isinstance(task, AxesExercise):
        answers = [(), tuple(range(task.ndim))]
    else:
        e = np.asarray(task.expected, dtype=float)
        answers = [x.tolist() for x in (-e, 2 * e, e / 2, np.zeros_like(e), e + 12.345)]
    for answer in answers:
        result = task.judge(answer)
        if result.correct:
            continue  # e.g. zero negated is zero
        after = result.message.split(" is not right.", 1)
        assert len(after) == 2 and after[1].strip(), (key, answer, result.message)


@pytest.mark.parametrize("key", KEYS)
def test_each_listed_slip_is_recognised(key):
    task = exercise(key)
    for slip in task.slips:
        result = task.judge(np.asarray(slip.gives).tolist())
        assert not result.correct and slip.says in result.message, (key, slip, result.message)


@pytest.mark.parametrize("key", KEYS)
def test_the_answer_itself_is_right(key):
    task = exercise(key)
    answer = task.expected if isinstance(task, AxesExercise) else np.asarray(task.expected).tolist()
    assert task.judge(answer).correct


def test_a_relative_error_given_as_a_percentage_is_named():
    for key, percent in (("rel_error_A", 50), ("rel_error_B", 1e-4)):
        message = exercise(f"gradient_checking.{key}").judge(percent).message
        assert "is not right. That is the relative error as a percentage" in message


@pytest.mark.parametrize(
    ("b_typed", "f_typed", "look_at"),
    [
        (2, -12, "b"),
        (3, -18, "b"),
        (1, -6, "b"),
        (None, 4, "a"),
    ],  # b = x - z, x·z, x + y; a = x + y
)
def test_a_product_built_on_a_wrong_factor_points_at_the_factor(b_typed, f_typed, look_at):
    message = exercise("fan_out.f").judge(f_typed).message
    assert f"That is built on a wrong {look_at}: look at {look_at} first." in message
    if b_typed is not None:  # and b itself is named as a slip of its own
        assert "is not right" in exercise("fan_out.b").judge(b_typed).message


def test_another_entry_of_the_batch_table_is_named_as_that_entry():
    for typed, where in ((0.122, "row 0, column 1"), (0.166, "row 1, column 2")):
        message = exercise("cross_entropy.dL_dZ10").judge(typed).message
        assert f"That is the entry at {where}" in message
