"""The tiers of a hand-checked answer: this kernel's count of different wrong answers.

Feedback comes in tiers: the first wrong answer to an exercise names the slip and where to
look; each later *different* wrong answer to it also shows the rule. The same wrong answer
checked again (its cell run again, say for another answer in it) is the same attempt and reads
as it did; a typo (text, an empty entry) is no attempt at all. Every hand-checked answer counts
here, under its exercise's key: :func:`course_lib.teaching.hand_check.check`'s exercises, the
tensor practice sheets' questions and the boxes of a hand-trace widget (keyed per graph it
loads, so a new sheet starts afresh). The count lives in the kernel, so a restart begins
afresh.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from course_lib.teaching.hand_exercise import CheckResult

__all__ = ["forget_tiers", "judge_in_tiers", "misses_before"]

# exercise key -> the count of different wrong answers to it
_misses: dict[Hashable, int] = {}
# exercise key -> (its last wrong answer, as compared; the count of misses before it)
_last_wrong: dict[Hashable, tuple[Any, int]] = {}


def judge_in_tiers(key: Hashable, task: Any, answer: Any) -> CheckResult:
    """``task.judge(answer, misses=...)`` with the count of different wrong answers to the
    exercise ``key`` so far; a new wrong number adds one."""
    compared = _compared(answer)
    misses, again = _count(key, compared)
    result = task.judge(answer, misses=misses)
    if not again and not result.correct and _counts(result):
        _misses[key] = misses + 1
        _last_wrong[key] = (compared, misses)
    return result


def misses_before(key: Hashable, answer: Any) -> int:
    """The count of different wrong answers to ``key`` that :func:`judge_in_tiers` would judge
    ``answer`` with now, counting nothing (the same wrong answer again: the count it had)."""
    return _count(key, _compared(answer))[0]


def _count(key: Hashable, compared: Any) -> tuple[int, bool]:
    """(the misses to judge an answer with, whether it is the last wrong answer again: the
    same attempt, judged with the count it had)."""
    last = _last_wrong.get(key)
    if last is not None and last[0] == compared:
        return last[1], True
    return _misses.get(key, 0), False


def forget_tiers(key: Hashable | None = None) -> None:
    """Start the tiers again, for one exercise or (``None``) for all."""
    if key is None:
        _misses.clear()
        _last_wrong.clear()
    else:
        _misses.pop(key, None)
        _last_wrong.pop(key, None)


def _compared(answer: Any) -> Any:
    """An answer as two checks compare it: its numbers (so 2, 2.0 and "2" are one answer),
    or its repr when it holds something else."""
    try:
        return np.asarray(answer, dtype=float).tolist()
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        return repr(answer)
    except ValueError:  # an int of more than 4,300 digits has no repr: it is no number anyway
        return ("no repr", type(answer).__name__)


def _counts(result: CheckResult) -> bool:
    # A wrong number counts towards the tiers; a typo (text, an empty entry) does not.
    return " is not right." in result.message
