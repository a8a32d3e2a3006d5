"""Notebook 08 (gates, accumulation, direction), executed once: every number its text quotes
is what its code computes, and its exercises wait for the learner."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from notebook_harness import notebook_fixture

nb = notebook_fixture("08")


def test_no_cell_is_a_test_or_shows_an_answer_key(nb):
    for _, cell in nb.code_cells:
        body = ast.parse(cell.source).body
        assert not all(isinstance(s, ast.Assert) for s in body), cell.source
        assert "assert" not in cell.source and ".answer(" not in cell.source, cell.source
        assert ".correct" not in cell.source, cell.source


# ---- 1. gates -------------------------------------------------------------------------------


def test_the_gates_graph_has_the_numbers_of_the_text(nb):
    values = nb.eval("[a.data, m.data, s.data, f.data]")
    assert values[:3] == [0.5, 0.5, 0.75]
    assert round(values[3], 4) == 0.6351 == round(math.tanh(0.75), 4)
    grads = nb.eval("{n.label: n.grad for n in (s, m, a, x, y, z)}")
    upstream = 1 - math.tanh(0.75) ** 2
    assert round(upstream, 4) == 0.5966
    assert grads["s"] == pytest.approx(upstream) and grads["m"] == pytest.approx(upstream)
    assert grads["a"] == pytest.approx(upstream) and grads["z"] == 0.0  # max routes
    assert grads["y"] == pytest.approx(upstream * 0.25)  # multiply swaps
    assert round(grads["y"], 3) == 0.149
    assert grads["x"] == pytest.approx(upstream * 2 + upstream)  # two paths, summed
    assert round(grads["x"], 3) == 1.790
    assert nb.output("for node in (s, m, a, x, y, z)").splitlines() == [
        "f = 0.6351",
        "df/ds = 0.5966",
        "df/dm = 0.5966",
        "df/da = 0.5966",
        "df/dx = 1.7898",
        "df/dy = 0.1491",
        "df/dz = 0.0000",
    ]


def test_the_gate_exercises_wait_and_check(nb):
    shown = nb.output("df_dy = ...")
    assert shown.count("not answered yet") == 2
    assert nb.eval("check(0.149, y.grad).correct") and nb.eval("check(0, z.grad).correct")
    assert "swaps" in nb.eval("str(check(1.193, y.grad, mistakes=[(0.5966 * 2, 'swaps')]))")


def test_ties_and_the_kink_are_shown_as_the_text_says(nb):
    out = nb.output("tie_a.max(tie_b)").splitlines()
    assert out[0] == "max(3, 3): d/da = 1.0  d/db = 0.0"
    assert out[1:4] == [
        "relu at -0.5: passes back 0.0",
        "relu at  0.0: passes back 0.0",
        "relu at  0.5: passes back 1.0",
    ]
    assert "kink" in out[4]


def test_the_slopes_plot_and_its_numbers(nb):
    out = nb.output("the slopes of tanh and sigmoid")
    assert "<Figure size" in out
    assert "largest slope: tanh' 1.00, sigmoid' 0.25" in out
    assert "at a = 5: tanh' 0.00018, sigmoid' 0.00665" in out
    assert round(1 - math.tanh(5) ** 2, 5) == 0.00018


# ---- 4. accumulate or reset -------------------------------------------------------------------


def test_reset_and_accumulate(nb):
    out = nb.output("torch_like = Accumulating").splitlines()
    assert out == [
        "this engine, backward() twice:  df/dx = 1.7898, then 1.7898",
        "accumulating, backward() twice: df/dx = 1.7898, then 3.5795",
    ]
    full, micro = nb.eval("(w_full.grad, accumulated)")
    np.testing.assert_allclose(micro, full, rtol=1e-12, atol=1e-15)


def test_the_forgotten_reset_and_the_numbers_the_text_quotes(nb):
    with_reset, without = nb.eval("(with_reset, without_reset)")
    prose = nb.markdown
    quoted = {
        "3.1359": with_reset[0],
        "1.2999": with_reset[29],
        "2.6613": without[29],
        "2.4124": without[5],
    }
    for shown, value in quoted.items():
        assert f"{value:.4f}" == shown and shown in prose
    assert without[0] == with_reset[0]
    assert without[29] > without[5]  # "higher than after 5 steps"
    assert abs(with_reset[29] - with_reset[20]) < 0.01  # it settles
    assert max(without[20:]) - min(without[20:]) > 0.3  # it does not


# ---- 5. forward against reverse mode ----------------------------------------------------------


def test_a_column_per_forward_pass_and_a_row_per_reverse_pass(nb):
    assert nb.eval("column_1.tolist()") == [3.0, 1.0]
    assert "not answered yet" in nb.output("tangents = ...")
    assert nb.eval("jvp(two_outputs, [3.0, -2.0], [1.0, 0.0])[1].tolist()") == [-2.0, 1.0]
    assert nb.eval("jacobian_by_reverse_mode(two_outputs, [3.0, -2.0])[0][0].tolist()") == [
        -2.0,
        3.0,
    ]
    out = nb.output("xd, yd = Dual(3.0, 1.0)")
    assert "f(x, y) with x seeded: [Dual(value=-6, tangent=-2), Dual(value=1, tangent=1)]" in out


def test_the_operation_counts_the_text_quotes(nb):
    costs = nb.eval(
        "{k: ((f.passes, f.multiplies), (r.passes, r.multiplies)) for k, (f, r) in costs.items()}"
    )
    assert costs["100 inputs, 1 output"] == ((100, 50_000), (1, 500))
    assert costs["2 inputs, 40 outputs"] == ((2, 464), (40, 6_160))
    prose = nb.markdown
    for number in ("50,000", "500", "464", "6,160"):
        assert number in prose, number
    out = nb.output("costs[name] = (fwd, rev)")
    assert out.count("the two modes agree: True") == 2
    assert "forward mode 100 passes, 50,000 multiplies" in out


# ---- the quiz --------------------------------------------------------------------------------


def test_the_quiz_has_one_right_option_per_question_in_varied_places(nb):
    correct = nb.eval("[q.correct for q in questions]")
    assert len(correct) == 3 and len(set(correct)) >= 2
    verdicts = nb.eval("[[q.answer(i).correct for i in range(len(q.options))] for q in questions]")
    assert all(row.count(True) == 1 for row in verdicts)
    right = nb.eval("[q.options[q.correct] for q in questions]")
    assert right[0] == "0 and 1"
    assert "forward mode a million, reverse mode 1" == right[2]


def test_the_plus_equals_paragraph_and_the_two_new_self_checks(nb):
    prose = nb.markdown
    upstream = nb.eval("s.grad")
    assert f"{upstream * 2.0:.4f}" == "1.1932" and f"{upstream:.4f}" == "0.5966"
    assert "0.5966 \\cdot y = 1.1932" in prose
    assert f"{3 * nb.eval('df_dx_once'):.4f}" == "5.3693" and "= 5.3693" in prose
    assert "not answered yet" in nb.output("grad_after_three = ...")
    assert nb.eval("check(5.3693, 3 * df_dx_once).correct")
