"""Tensor practice sheets: the same sheet for the same seed, and a key that is right."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.kernels import softmax
from course_lib.tensor_practice import main, tensor_practice_sheet, tensor_sheet


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


def test_a_seed_must_be_an_integer():
    with pytest.raises(TypeError):
        tensor_sheet("7")
