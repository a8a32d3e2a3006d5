"""Tests of course_lib.teaching.hand_check: the keyed check and its tiers."""

from __future__ import annotations

import pytest

from course_lib.teaching.answers import exercise
from course_lib.teaching.hand_check import check, forget_attempts


@pytest.fixture(autouse=True)
def fresh_tiers():
    forget_attempts()
    yield
    forget_attempts()


def test_first_miss_names_the_slip_and_the_second_shows_the_rule():
    first = check("five_node.df_dx", 4)
    assert "sign" in first.message and "The rule" not in first.message
    second = check("five_node.df_dx", 8)
    assert "The rule" in second.message


def test_the_same_wrong_answer_checked_again_is_the_same_attempt():
    """A cell with two answers runs again when one of them changes: the other, unchanged,
    reads as it did (no rule) until it changes too."""
    first = check("five_node.df_dx", 4)
    for same in (4, 4.0, "4"):
        again = check("five_node.df_dx", same)
        assert again.message == first.message and "The rule" not in again.message, same
    assert "The rule" in check("five_node.df_dx", 8).message
    assert "The rule" in check("five_node.df_dx", 4).message  # a miss after another now


def test_typos_and_blanks_do_not_count_as_misses():
    for typo in ("abc", ..., "", "1e400"):
        check("five_node.df_dx", typo)
    assert "The rule" not in check("five_node.df_dx", 4).message


def test_tiers_are_per_exercise():
    check("five_node.df_dx", 4)
    assert "The rule" not in check("five_node.df_dy", 4).message


def test_a_right_answer_is_confirmed():
    assert check("five_node.df_dx", "-4").correct


def test_unknown_keys_are_named():
    with pytest.raises(KeyError, match="no exercise 'five_node.nope'"):
        check("five_node.nope", 1)
    with pytest.raises(KeyError, match="no notebook part"):
        check("nowhere.df_dx", 1)
    with pytest.raises(KeyError, match="looks like"):
        check("df_dx", 1)


def test_forget_one_exercise():
    check("five_node.df_dx", 4)
    forget_attempts("five_node.df_dx")
    assert "The rule" not in check("five_node.df_dx", 8).message
    assert exercise("five_node.df_dx").expected == -4.0


def test_an_int_too_long_to_print_is_named_too_large_not_a_crash():
    # Python refuses repr() of an int of more than 4,300 digits; the tiers compare answers by it
    result = check("five_node.q", 10**5000)
    assert not result.correct and "too large to fit in a float" in result.message
