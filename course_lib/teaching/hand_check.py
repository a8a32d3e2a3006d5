"""``check(key, answer)``: the one call a notebook's hand exercise makes.

The cell a learner edits holds their answer and the exercise's key; the expected value, the
precision, the rule and the catalogue of slips live in :mod:`course_lib.teaching.answers`. So
nothing in the cell, and nothing in its saved output ("not answered yet"), shows the answer.

Feedback comes in tiers: the first wrong answer to an exercise names the slip and where to look;
each later different wrong answer to it also shows the rule (the same wrong answer checked
again, say when its cell runs again for another answer in it, is the same attempt and reads as
it did). The worked solution stays behind the notebook's **Solution** block. The count of
wrong answers lives in the kernel, so a restart begins afresh.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.teaching.answers import exercise
from course_lib.teaching.hand_exercise import CheckResult

__all__ = ["check", "forget_attempts"]

_misses: dict[str, int] = {}
# exercise key -> (its last wrong answer, as compared; the count of misses before it)
_last_wrong: dict[str, tuple[Any, int]] = {}


def check(key: str, answer: Any) -> CheckResult:
    """Judge ``answer`` to the exercise ``key``; never raises for what a learner typed.

    An unknown key raises ``KeyError`` naming the keys there are: that is a typo in the
    notebook, not in an answer.
    """
    task = exercise(key)
    compared = _compared(answer)
    last = _last_wrong.get(key)
    if last is not None and last[0] == compared:  # the same wrong answer again: same attempt
        return task.judge(answer, misses=last[1])
    misses = _misses.get(key, 0)
    result = task.judge(answer, misses=misses)
    if not result.correct and _counts(result):
        _misses[key] = misses + 1
        _last_wrong[key] = (compared, misses)
    return result


def _compared(answer: Any) -> Any:
    """An answer as two checks compare it: its numbers (so 2, 2.0 and "2" are one answer),
    or its repr when it holds something else."""
    try:
        return np.asarray(answer, dtype=float).tolist()
    except (TypeError, ValueError, OverflowError):
        return repr(answer)


def _counts(result: CheckResult) -> bool:
    # A wrong number counts towards the tiers; a typo (text, an empty entry) does not.
    return " is not right." in result.message


def forget_attempts(key: str | None = None) -> None:
    """Start the tiers again, for one exercise or (``None``) for all."""
    if key is None:
        _misses.clear()
        _last_wrong.clear()
    else:
        _misses.pop(key, None)
        _last_wrong.pop(key, None)
