"""course_lib.teaching.grading: the score of an exercise, and the shortcuts it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.kernels import softmax_vjp
from course_lib.kernels.softmax import softmax
from course_lib.teaching.answers import all_keys, exercise
from course_lib.teaching.grading import (
    Score,
    engine_read_out,
    grade,
    grade_check,
    library_calls,
)


def test_a_score_reads_as_its_points_for_nbgrader_and_shows_its_feedback() -> None:
    score = Score("five_node.df_dx", 1.0, 1.0, "df/dx = -4: right.")
    assert repr(score) == "1"
    assert float(repr(Score("x", 0.5, 2.0, ""))) == 0.5
    assert str(score) == "five_node.df_dx: 1 of 1 points. df/dx = -4: right."
    assert "✔" in score._repr_html_() and "✘" in Score("x", 0.0, 1.0, "no")._repr_html_()


@pytest.mark.parametrize("key", all_keys())
def test_every_hand_exercise_scores_its_expected_answer_full_and_a_doubled_one_zero(
    key: str,
) -> None:
    expected = exercise(key).expected
    assert grade(key, expected, points=3).points == 3
    if isinstance(expected, float) and expected != 0:
        wrong = grade(key, 2 * expected + 1)
        assert wrong.points == 0 and wrong.feedback and "The rule" not in wrong.feedback
    assert grade(key, ...).points == 0


@pytest.mark.parametrize(
    ("source", "shortcut"),
    [
        ("df_dx = -4", ""),
        ("df_dx = (-4) * 1  # q's upstream times 1", ""),
        ("df_dx = z", ""),  # a name the notebook gave a number to
        ("df_dx = math.exp(2) - abs(-3) + np.pi", ""),
        ("df_dx = p[0] * (1 - p[1])", ""),
        ("df_dx = x.grad", "x.grad"),
        ("Lz.backward()\ndf_dx = x.grad[0, 0]", "x.grad"),
        ("df_dx = central_difference(f, 1.0)", "central_difference(f, 1.0)"),
        ("df_dx = grads['x']", "grads['x']"),
        ("a, df_dx = 1.0, q.grad", "q.grad"),
        ("df_dx = [v for v in (1, 2)][0]", "[v for v in (1, 2)]"),
    ],
)
def test_an_answer_read_out_of_the_engine_is_named(source: str, shortcut: str) -> None:
    assert engine_read_out("df_dx", ["", "x = 1", source, "print(df_dx)"]) == shortcut


def test_the_latest_cell_that_assigns_the_answer_counts() -> None:
    history = ["df_dx = x.grad", "df_dx = -4"]
    assert engine_read_out("df_dx", history) == ""
    assert engine_read_out("df_dx", history[::-1]) == "x.grad"
    assert engine_read_out("df_dx", ["this is not python ("]) == ""
    assert engine_read_out("other", history) == ""


def test_a_right_answer_read_out_of_the_engine_scores_zero(monkeypatch) -> None:
    from course_lib.teaching import grading

    monkeypatch.setattr(grading, "_history", lambda: ["df_dx = x.grad"])
    expected = exercise("five_node.df_dx").expected
    score = grade("five_node.df_dx", expected, name="df_dx")
    assert score.points == 0
    assert "computed as x.grad, not worked out by hand" in score.feedback
    monkeypatch.setattr(grading, "_history", lambda: ["df_dx = -4.0"])
    assert grade("five_node.df_dx", expected, name="df_dx").points == 1


# ---- code exercises ----------------------------------------------------------------------------


def score(fn, **options):
    """The grade of ``fn`` for notebook 05's softmax_vjp exercise."""
    return grade_check("check_exercise", fn, name="softmax_vjp", **options)


def my_softmax_vjp(p, upstream):
    return p * (upstream - (p * upstream).sum(axis=-1, keepdims=True))


def test_a_function_written_with_numpy_scores_full_marks() -> None:
    result = score(my_softmax_vjp)
    assert (result.points, result.max_points) == (2.0, 2.0)
    assert result.feedback.startswith("RIGHT.")


def test_the_library_rule_itself_scores_zero() -> None:
    result = score(softmax_vjp)
    assert result.points == 0
    assert "is the library's own softmax_vjp, not something you wrote" in result.feedback


def test_a_function_that_calls_the_library_rule_scores_zero_even_when_right() -> None:
    def wrapped(p, upstream):
        return softmax_vjp(p, upstream)

    assert score(wrapped).points == 0
    assert "calls the library's softmax_vjp" in score(wrapped).feedback


def test_a_helper_the_exercise_hands_over_may_be_called() -> None:
    def through_softmax(p, upstream):
        softmax(np.zeros(3))  # a call into the library, allowed by name below
        return my_softmax_vjp(p, upstream)

    assert score(through_softmax, allowed=("softmax",)).points == 2
    assert score(through_softmax).points == 0


def test_a_wrong_or_unwritten_function_scores_zero_with_the_checkers_feedback() -> None:
    def halved(p, upstream):
        return my_softmax_vjp(p, upstream) / 2

    def unwritten(p, upstream): ...

    assert score(halved).points == 0
    assert score(unwritten).feedback.startswith("NOT WRITTEN YET.")


def test_only_calls_from_outside_the_library_are_noted() -> None:
    with library_calls() as calls:
        softmax_vjp(softmax(np.zeros((2, 3))), np.ones((2, 3)))  # from here: noted
    assert calls == ["softmax", "softmax_vjp"]
    with library_calls() as calls:
        score(my_softmax_vjp)  # the checker's own calls: not noted
    assert calls == ["grade_check"]


def test_notebook_11s_stages_and_deep_backward_are_scored_like_code_exercises() -> None:
    from capstone_slips import SOLUTIONS

    namespace: dict = {"np": np}
    exec(SOLUTIONS["my_second_layer_backward"], namespace)
    exec(SOLUTIONS["my_deep_backward"], namespace)
    second = namespace["my_second_layer_backward"]
    assert grade_check("check_stage", second, name="second_layer").points == 2
    assert grade_check("check_deep_backward", namespace["my_deep_backward"]).points == 2

    def unwritten(f, g): ...

    assert grade_check("check_stage", unwritten, name="second_layer").points == 0


def test_notebook_10s_engine_is_graded_as_a_class_and_the_librarys_value_is_refused() -> None:
    from learner_engines import ORDER

    from course_lib.autodiff.scalar import Value

    score = grade_check("check_engine", Value)
    assert score.points == 0 and "is the library's own Value" in score.feedback
    namespace: dict = {}
    exec(ORDER, namespace)  # the Solution of notebook 10's sort
    order = namespace["my_topological_order"]
    assert grade_check("check_topological_order", order).points == 2
    with pytest.raises(ValueError, match="no checker 'check_everything'"):
        grade_check("check_everything", Value)


@pytest.mark.parametrize(
    ("points", "error"),
    [(-1, ValueError), (0, ValueError), (float("nan"), ValueError), ("2", TypeError),
     (None, TypeError), (True, TypeError), (10**400, ValueError)],
)  # fmt: skip
def test_points_are_a_positive_number(points, error):
    """points=-1, NaN or '2' made a Score that nbgrader would read as nonsense."""
    with pytest.raises(error, match="points"):
        grade("five_node.df_dx", -3.0, points=points)
    with pytest.raises(error, match="points"):
        grade_check(
            "check_exercise", lambda upstream, x, out: upstream, name="tanh_backward", points=points
        )
    assert grade("five_node.df_dx", 1.0, points=np.float32(2)).max_points == 2.0


def test_allowed_and_history_must_be_lists():
    with pytest.raises(TypeError, match="allowed must be a list of the library functions"):
        grade_check(
            "check_exercise", lambda upstream, x, out: upstream, name="tanh_backward", allowed=5
        )
    with pytest.raises(TypeError, match="history must be a list of cell sources"):
        engine_read_out("x", history=5)
