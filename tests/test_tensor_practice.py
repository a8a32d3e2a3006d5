"""Tensor practice sheets: the same sheet for the same seed, a key that is right, and a checker
that judges a learner's answers with that key without ever showing it."""

from __future__ import annotations

import numpy as np
import pytest
from test_answers import states

from course_lib.kernels import softmax
from course_lib.teaching.hand_check import forget_attempts
from course_lib.teaching.hand_exercise import AxesExercise
from course_lib.teaching.tensor_practice import (
    PARTS,
    ROW_PRECISION,
    main,
    tensor_practice_sheet,
    tensor_sheet,
    tensor_sheet_check,
    tensor_sheet_exercises,
)
from course_lib.tensor import broadcast_axes


@pytest.mark.parametrize("seed", range(40))
def test_every_answer_is_right(seed):
    s = tensor_sheet(seed)
    shape_a, shape_b = s.shapes
    result = np.broadcast_shapes(shape_a, shape_b)
    g = np.arange(np.prod(result), dtype=float).reshape(result)
    for shape, axes in zip(s.shapes, s.sum_axes, strict=True):
        summed = g.sum(axis=axes, keepdims=True) if axes else g
        summed = summed.reshape(summed.shape[len(result) - len(shape) :])
        assert summed.shape == shape
    p = softmax(np.array(s.logits))
    row = p[s.row] * ((np.arange(3) == s.row) - p)
    np.testing.assert_allclose(s.jacobian_row, row, atol=1e-12)
    p = softmax(np.array(s.ce_logits))
    np.testing.assert_allclose(s.ce_grad, p - np.eye(len(p))[s.label], atol=1e-12)
    x, gl = np.array(s.ln_x), np.array(s.ln_upstream)
    d = x - x.mean()
    sd = np.sqrt((d * d).mean() + 1e-5)
    y = d / sd
    np.testing.assert_allclose(s.ln_grad, (gl - gl.mean() - y * (gl * y).mean()) / sd, rtol=1e-9)


def test_the_same_seed_gives_the_same_sheet_and_seeds_differ():
    assert tensor_practice_sheet(7) == tensor_practice_sheet(7)
    assert len({tensor_practice_sheet(s) for s in range(20)}) == 20
    sheet = tensor_practice_sheet(7)
    assert "answer key" not in sheet and sheet.startswith(
        "Tiny Graphs First: tensor practice sheet 7"
    )
    keyed = tensor_practice_sheet(7, answers=True)
    assert keyed.startswith(sheet.rstrip("\n")) and "answer key" in keyed
    assert keyed.count("\n") == sheet.count("\n") + 6


def test_the_command_line_prints_sheets(capsys):
    assert main(["3", "4", "--answers"]) == 0
    out = capsys.readouterr().out
    assert out.count("tensor practice sheet") == 2 and "\f" in out and "answer key" in out


def test_a_seed_must_be_a_whole_number_from_0():
    with pytest.raises(TypeError, match=r"^tensor_sheet: seed \(the sheet number\) must be an int"):
        tensor_sheet("7")
    with pytest.raises(TypeError, match=r"must be a whole number \(an int\), got 7.0; write 7"):
        tensor_sheet(7.0)
    with pytest.raises(ValueError, match="must be 0 or more, got -1"):
        tensor_sheet(-1)  # random.Random(-1) is random.Random(1): silently sheet 1 before
    assert tensor_sheet(np.int64(7)) == tensor_sheet(7)
    assert tensor_practice_sheet(np.uint8(7)) == tensor_practice_sheet(7)


@pytest.mark.parametrize("seed", ["7", 7.5, -1, None, -(10**400)])
def test_the_checker_answers_a_bad_sheet_number_without_raising(seed):
    result = tensor_sheet_check(seed, "ce_row", [0.0])
    assert not result.correct and result.message.startswith(
        "The sheet number is a whole number, 0 or more"
    )
    assert len(result.message) < 120


def test_the_checker_takes_a_numpy_sheet_number():
    s = tensor_sheet(5)
    assert tensor_sheet_check(np.int64(5), "axes_a", s.sum_axes[0]).correct


def test_the_command_line_refuses_a_negative_sheet_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["-5"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "seed (the sheet number) must be 0 or more, got -5" in err and "Traceback" not in err


# ---- the checker -------------------------------------------------------------------------------

SEEDS = range(60)


def test_the_sheet_states_each_row_s_precision_and_where_it_was_taught():
    sheet = tensor_practice_sheet(7)
    for part, precision in ROW_PRECISION.items():
        assert precision.describe() in sheet, part
    for question, notebook in (
        ("1. Broadcasting", "03"),
        ("2. A softmax Jacobian row", "05"),
        ("3. A cross-entropy gradient row", "06"),
        ("4. A layer-norm row", "09"),
    ):
        assert f"{question} (notebook {notebook})" in sheet
    assert max(len(line) for s in SEEDS for line in tensor_practice_sheet(s).splitlines()) <= 92


@pytest.mark.parametrize("seed", SEEDS)
def test_the_exercises_expect_the_sheet_s_key(seed):
    s = tensor_sheet(seed)
    ex = tensor_sheet_exercises(seed)
    assert tuple(ex) == PARTS
    assert ex["axes_a"].expected == s.sum_axes[0] and ex["axes_b"].expected == s.sum_axes[1]
    assert ex["softmax_row"].expected_values() == s.jacobian_row
    assert ex["ce_row"].expected_values() == s.ce_grad
    assert ex["layer_norm_row"].expected_values() == s.ln_grad
    for part in ("softmax_row", "ce_row", "layer_norm_row"):
        assert ex[part].precision == ROW_PRECISION[part]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_key_is_right_and_the_generic_slips_are_never_bare(seed):
    for part, task in tensor_sheet_exercises(seed).items():
        if isinstance(task, AxesExercise):
            assert task.judge(task.expected).correct
            wrong = [(), tuple(range(task.ndim))]
        else:
            e = np.asarray(task.expected, dtype=float)
            digits = task.precision.digits
            assert task.judge(np.round(e, digits).tolist()).correct, part
            wrong = [x.tolist() for x in (-e, 2 * e, e / 2, np.zeros_like(e), e + 12.345)]
        for answer in wrong:
            result = task.judge(answer)
            if result.correct:
                continue  # zero negated is zero
            after = result.message.split(" is not right.", 1)
            assert len(after) == 2 and after[1].strip(), (seed, part, answer, result.message)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_slip_is_named_and_no_sentence_states_the_answer(seed):
    for part, task in tensor_sheet_exercises(seed).items():
        for slip in task.slips:
            result = task.judge(np.asarray(slip.gives).tolist())
            if result.correct:
                continue  # on this sheet the slip happens to give the right answer
            # the slip's own sentence, or an earlier one that gives the same numbers
            assert " is not right. " in result.message and not result.message.endswith(
                "is not right. "
            ), (seed, part, result.message)
        if isinstance(task, AxesExercise):
            continue
        sentences = [task.look, task.rule, *(s.says for s in task.slips)]
        for value in task.expected_values():
            for sentence in sentences:
                assert not states(sentence, value), (seed, part, value, sentence)


def test_each_row_slip_is_recognised_as_itself_on_sheet_7():
    for part, task in tensor_sheet_exercises(7).items():
        for slip in task.slips:
            result = task.judge(np.asarray(slip.gives).tolist())
            assert not result.correct and slip.says in result.message, (part, slip.says)


def test_a_broadcast_that_adds_and_expands_names_each_half():
    seed = next(
        s
        for s in SEEDS
        if all(broadcast_axes(tensor_sheet(s).shapes[0], result_node(s)))  # added and expanded
    )
    added, expanded = broadcast_axes(tensor_sheet(seed).shapes[0], result_node(seed))
    assert "added axes only" in tensor_sheet_check(seed, "axes_a", added).message
    assert "expanded axes only" in tensor_sheet_check(seed, "axes_a", expanded).message


def result_node(seed):
    return tuple(np.broadcast_shapes(*tensor_sheet(seed).shapes))


def test_the_checker_gives_the_rule_on_a_second_miss_but_not_for_a_typo():
    seed = 11
    first = tensor_sheet_check(seed, "ce_row", [0, 0, 0, 0][: len(tensor_sheet(seed).ce_grad)])
    assert "The rule:" not in first.message
    typo = tensor_sheet_check(seed, "ce_row", "abc")
    assert not typo.correct and "The rule:" not in typo.message
    second = tensor_sheet_check(seed, "ce_row", [9, 9, 9, 9][: len(tensor_sheet(seed).ce_grad)])
    assert "The rule: dL/dz = p − y" in second.message


def test_the_checker_counts_the_same_wrong_answer_once_in_the_one_tier_count():
    """A sheet's answers share hand_check's tiers: the same wrong answer checked again reads
    as it did, a different one brings the rule, and forget_attempts starts them afresh."""
    seed, size = 12, len(tensor_sheet(12).ce_grad)
    forget_attempts()
    first = tensor_sheet_check(seed, "ce_row", [0] * size)
    again = tensor_sheet_check(seed, "ce_row", [0.0] * size)
    assert again.message == first.message and "The rule:" not in again.message
    assert "The rule:" in tensor_sheet_check(seed, "ce_row", [9] * size).message
    forget_attempts()
    assert "The rule:" not in tensor_sheet_check(seed, "ce_row", [9] * size).message
    forget_attempts()


def test_the_checker_never_raises_for_an_answer_and_names_a_wrong_part():
    for answer in (..., None, "", "abc", 1e400, [1, 2], ["x", 1, 2], [[1], [2], [3]], True):
        for part in PARTS:
            result = tensor_sheet_check(3, part, answer)
            assert not result.correct and result.message
    assert "whole number" in tensor_sheet_check("7", "ce_row", [0, 0, 0]).message
    assert "whole number" in tensor_sheet_check(True, "ce_row", [0, 0, 0]).message
    with pytest.raises(KeyError, match="axes_a"):
        tensor_sheet_check(7, "axes", (0,))


def test_answers_is_a_switch_and_the_key_prefix_text():
    from course_lib.teaching.tensor_practice import tensor_practice_sheet, tensor_sheet_exercises

    with pytest.raises(TypeError, match="tensor_practice_sheet: answers must be True or False"):
        tensor_practice_sheet(1, answers="yes")
    with pytest.raises(TypeError, match="key_prefix must be text"):
        tensor_sheet_exercises(1, key_prefix=5)
