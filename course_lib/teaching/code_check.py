"""``check_exercise(name, fn)``: the one call a notebook's code exercise makes, and the engine's
rule shown after it (``show_rule_if_right``).

The learner's cell defines their function; the cell after it checks it by the exercise's name.
The exercises (their cases, their catalogues of mistakes, their rules) are in
:mod:`course_lib.teaching.exercise_bank`; how a function is judged against the engine, output by
output, is :mod:`course_lib.teaching.code_exercise`.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from course_lib.numbers.checking import whole_number
from course_lib.teaching.code_exercise import Exercise, ExerciseReport, run_exercise
from course_lib.teaching.exercise_bank import EXERCISES

__all__ = ["check_exercise", "show_rule_if_right"]


def check_exercise(
    exercise: Exercise | str, fn: Callable[..., Any], seed: int = 0
) -> ExerciseReport:
    """Check the learner's ``fn`` against the engine on every case of ``exercise`` (its name,
    such as ``"tanh_backward"``, or an :class:`Exercise`); never raises for ``fn``."""
    if isinstance(exercise, str):
        if exercise not in EXERCISES:
            raise ValueError(f"no exercise named {exercise!r}; there are {sorted(EXERCISES)}")
        exercise = EXERCISES[exercise]
    if not isinstance(exercise, Exercise):
        raise TypeError(
            f"check_exercise needs an exercise name such as 'tanh_backward' (or an Exercise), "
            f"got {exercise!r}"
        )
    seed = whole_number(seed, "seed (it picks the cases)", "check_exercise", minimum=0)
    return run_exercise(exercise, fn, seed)


def show_rule_if_right(report: ExerciseReport, rule: Callable[..., Any]) -> str:
    """The engine's own ``rule`` as source code, once the learner's function is right.

    A notebook prints the library's rule after a code exercise, to compare with the learner's
    version; printed before the learner has it right, it would be the answer. So: ``rule``'s
    source when ``report`` (what :func:`check_exercise` returned) says right, else a sentence
    saying where the rule will show.
    """
    if not isinstance(report, ExerciseReport):
        raise TypeError(
            f"show_rule_if_right needs the report check_exercise returned, got {report!r}"
        )
    if not callable(rule):
        raise TypeError(
            f"show_rule_if_right needs the library's rule (a function) to show, got {rule!r}"
        )
    if report.ok:
        return textwrap.dedent(inspect.getsource(rule))
    return (
        f"The engine's rule shows here once your {report.function or report.exercise} is right: "
        "run this cell again after the check above says RIGHT."
    )
