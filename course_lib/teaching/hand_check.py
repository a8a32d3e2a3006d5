"""``check(key, answer)``: the one call a notebook's hand exercise makes.

The cell a learner edits holds their answer and the exercise's key; the expected value, the
precision, the rule and the catalogue of slips live in :mod:`course_lib.teaching.answers`. So
nothing in the cell, and nothing in its saved output ("not answered yet"), shows the answer.

Feedback comes in tiers (:mod:`course_lib.teaching.tiers`): the first wrong answer to an
exercise names the slip and where to look; each later different wrong answer to it also shows
the rule. The worked solution stays behind the notebook's **Solution** block. The count of
wrong answers lives in the kernel, so a restart begins afresh.
"""

from __future__ import annotations

from typing import Any

from course_lib.teaching.answers import exercise
from course_lib.teaching.hand_exercise import CheckResult
from course_lib.teaching.tiers import forget_tiers, judge_in_tiers

__all__ = ["check", "forget_attempts"]


def check(key: str, answer: Any) -> CheckResult:
    """Judge ``answer`` to the exercise ``key``; never raises for what a learner typed.

    An unknown key raises ``KeyError`` naming the keys there are: that is a typo in the
    notebook, not in an answer.
    """
    return judge_in_tiers(key, exercise(key), answer)


def forget_attempts(key: str | None = None) -> None:
    """Start the tiers again, for one exercise or (``None``) for all (every hand-checked
    answer's, the tensor practice sheets' included)."""
    forget_tiers(key)
