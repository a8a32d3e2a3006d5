"""course_lib.teaching.tiers: the count of different wrong answers behind every hand check."""

from __future__ import annotations

import pytest

from course_lib.teaching.hand_exercise import CheckResult
from course_lib.teaching.tiers import forget_tiers, judge_in_tiers, misses_before


class Task:
    """An exercise whose answer is 1: it records the misses it was judged with."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def judge(self, answer: object, misses: int = 0) -> CheckResult:
        self.seen.append(misses)
        if answer == "typo":
            return CheckResult(False, "expected a number, got 'typo'.")
        if float(answer) == 1:
            return CheckResult(True, "right.")
        return CheckResult(False, f"{answer} is not right.")


@pytest.fixture(autouse=True)
def _fresh():
    forget_tiers()
    yield
    forget_tiers()


def test_a_different_wrong_answer_counts_the_same_one_and_a_typo_do_not():
    task = Task()
    for answer in (5, 5, 5.0, "typo", 7, 5, 1):
        judge_in_tiers(("sheet", 3, "row"), task, answer)
    # 5 first (0 before it), 5 again as then, "typo" no attempt, 7 after one, 5 after two
    assert task.seen == [0, 0, 0, 1, 1, 2, 3]


def test_keys_count_apart_and_can_be_forgotten_one_at_a_time():
    task = Task()
    judge_in_tiers("a", task, 5)
    judge_in_tiers("b", task, 5)
    forget_tiers("a")
    judge_in_tiers("a", task, 6)
    judge_in_tiers("b", task, 6)
    assert task.seen == [0, 0, 0, 1]


def test_misses_before_says_the_count_an_answer_would_get_and_counts_nothing() -> None:
    task = Task()
    assert misses_before("t.misses", 7) == 0
    judge_in_tiers("t.misses", task, 7)
    assert misses_before("t.misses", 7) == 0  # the same wrong answer: its own count
    assert misses_before("t.misses", 8) == 1 and misses_before("t.misses", 8) == 1
    judge_in_tiers("t.misses", task, 8)
    assert misses_before("t.misses", 9) == 2
