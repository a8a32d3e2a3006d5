"""Notebook 08 (gates and layers), executed once: every number its text quotes is what its code
computes, its exercises wait for the learner and their solutions pass, its widget responds."""

from __future__ import annotations

import ast
import math
import re

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


# ---- 2. layer norm ------------------------------------------------------------------------


def test_layer_norm_by_hand_matches_the_engine(nb):
    s = math.sqrt(2 / 3)
    assert round(s, 4) == 0.8165 and round(1 / s, 4) == 1.2247
    assert round(math.sqrt(1.5), 4) == 1.2247  # y_2 = 1/s = sqrt(3/2)
    J = nb.eval("J_ln")
    assert np.round(J[0], 4).tolist() == [0.2041, -0.4082, 0.2041]
    np.testing.assert_allclose(J, J.T, atol=1e-15)
    assert np.all(J != 0) and np.abs(J.sum(axis=1)).max() < 1e-12
    grad = nb.eval("x_fused.grad")
    assert np.round(grad, 3).tolist() == [1.021, -2.041, 1.021]
    np.testing.assert_allclose(grad, np.array([5 / 6, -5 / 3, 5 / 6]) / s, rtol=1e-4)  # ε
    y = np.array([-1, 0, 1]) / s
    g = np.array([1.0, -1.0, 2.0])
    assert round(float((g * y).mean()), 4) == 0.4082
    # the mistakes the check names
    assert round(g[0] / s, 4) == 1.2247
    assert round((g[0] - g.mean()) / s, 4) == 0.4082
    assert round((g[0] - y[0] * (g * y).mean()) / s, 4) == 1.8371


def test_the_three_ways_agree(nb):
    composed, fused, formula = nb.eval("(x_composed.grad, x_fused.grad, by_formula)")
    np.testing.assert_allclose(composed, fused, rtol=1e-12)
    np.testing.assert_allclose(formula, fused, rtol=1e-12)
    out = nb.output("layer_norm_composed(x_composed)")
    assert re.match(r"composed graph: \d+ nodes; fused: 2 nodes", out)
    assert "largest difference:" in out


def test_the_layer_norm_exercise_waits_and_its_solution_is_right(nb):
    assert nb.cell("def layer_norm_backward(").metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output('check_exercise("layer_norm_backward"')
    assert "not answered yet" in nb.output("dL_dx0 = ...")
    nb.exec(nb.solution("layer_norm_backward").replace("def ", "def solution_", 1))
    report = nb.eval('str(check_exercise("layer_norm_backward", solution_layer_norm_backward))')
    assert report.startswith("layer_norm_backward: RIGHT"), report


# ---- 3. embedding -------------------------------------------------------------------------


def test_the_embedding_numbers(nb):
    assert nb.eval("W.grad.tolist()") == [[3.0, 4.0], [0.0, 0.0], [11.0, 22.0], [0.0, 0.0]]
    out = nb.output("looks_right[tokens] += upstream")
    assert "dW[tokens] += upstream gives row 2: [10. 20.]" in out
    assert "np.add.at gives row 2:              [11. 22.]" in out
    assert "not answered yet" in nb.output("dW_row2 = ...")
    assert nb.eval("check([11, 22], W.grad[2]).correct")


def test_the_embedding_exercise_waits_and_its_solution_is_right(nb):
    assert nb.cell("def embedding_backward(").metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output('check_exercise("embedding_backward"')
    nb.exec(nb.solution("embedding_backward").replace("def ", "def solution_", 1))
    report = nb.eval('str(check_exercise("embedding_backward", solution_embedding_backward))')
    assert report.startswith("embedding_backward: RIGHT"), report


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


# ---- 6. saturation ---------------------------------------------------------------------------


def test_the_network_is_notebook_06s(nb):
    assert nb.output("history = train(net") == "test accuracy 97.49%, as in notebook 06\n"


def test_the_saturation_numbers_the_text_quotes(nb):
    h = nb.eval("h8")
    saturated = (h < 0.01) | (h > 0.99)
    count = int(saturated.sum())
    prose = nb.markdown
    assert f"{count} of the 100 hidden units" in prose
    assert f"({saturated.mean():.0%})" in nb.output("saturated hidden units on test image")
    assert count == 53 and int((h < 0.01).sum()) == 51 and int((h > 0.99).sum()) == 2
    assert (
        "53 of the 100 hidden units are saturated on this image (51 near 0 and 2 near 1)" in prose
    )
    dh, da = nb.eval("dh8"), nb.eval("da8")
    top = np.argsort(-np.abs(dh))[:6]
    slopes = h[top] * (1 - h[top])
    np.testing.assert_allclose(da[top], dh[top] * slopes, rtol=1e-12)
    assert top[0] == 31 and f"{dh[31]:.3f}" == "-2.871" and "-2.871" in prose
    assert f"{h[31]:.4f}" == "0.0000" and f"{slopes[0]:.2e}" == "1.67e-08"
    assert f"{da[31]:.2e}" == "-4.78e-08" and "4.78 \\times 10^{-8}" in prose
    assert int((slopes < 0.011).sum()) == 4 and "Four of the six units" in prose
    assert f"{dh[50]:.3f}" == "1.987" and f"{h[50]:.4f}" == "0.7235" and f"{da[50]:.3f}" == "0.397"


def test_the_depth_experiment_and_its_text(nb):
    norms = nb.eval("norms")
    assert set(norms) == {"sigmoid", "tanh", "relu"}
    sigmoid, relu = norms["sigmoid"], norms["relu"]
    assert sigmoid[0] / sigmoid[-1] < 1e-5 and 0.05 < relu[0] / relu[-1] < 20
    out = nb.output("layer_gradient_norms(depth, act, scale)")
    assert "<Figure size" in out
    for values in norms.values():
        assert f"ratio {values[0] / values[-1]:.1e}" in out
    prose = nb.markdown
    assert f"{sigmoid[0] / sigmoid[-1]:.1e}" == "1.7e-07" and "1.7 \\times 10^{-7}" in prose
    assert f"{sigmoid[0]:.1e}" == "2.0e-07" and f"{sigmoid[-1]:.1f}" == "1.1"
    ratios = {act: f"{v[0] / v[-1]:.2f}" for act, v in norms.items()}
    assert ratios["tanh"] == "0.89" and ratios["relu"] == "0.56"
    assert "ratio at 0.89" in prose and "at 0.56" in prose


def test_the_things_to_try_say_what_the_explorer_shows(nb):
    ratio = nb.eval(
        "[f'{n[0] / n[-1]:.1e}' for n in (layer_gradient_norms(20, 'sigmoid', 1.0), "
        "layer_gradient_norms(10, 'sigmoid', 4.0), layer_gradient_norms(10, 'sigmoid', 1.0))]"
    )
    assert ratio == ["1.7e-12", "1.3e-02", "2.6e-06"]
    prose = nb.markdown
    assert "1.7 \\times 10^{-12}" in prose and "1.3 \\times 10^{-2}" in prose
    assert "2.6 \\times 10^{-6}" in prose
    lines = nb.output("# The same from code").splitlines()
    assert lines == [
        "sigmoid, scale 1.00, depth 10: first layer 2.9e-06, last layer 1.1e+00",
        "sigmoid, scale 4.00, depth 10: first layer 1.2e-02, last layer 9.0e-01",
        "   relu, scale 0.50, depth 10: first layer 4.6e-04, last layer 4.5e-04",
        "   relu, scale 1.41, depth 10: first layer 5.2e+00, last layer 5.1e+00",
        "   relu, scale 3.00, depth 10: first layer 4.6e+03, last layer 4.6e+03",
    ]
    assert "about $5 \\times 10^{-4}$ at scale 0.5, about 5 at 1.41" in prose


def test_the_explorer_is_saved_as_short_text_and_its_code_cell_sets_what_it_reads(nb):
    assert nb.output("explorer = depth_explorer(").startswith("DepthExplorer(sigmoid, depth 10")
    saved = nb.output("# The same from code")
    nb.exec(
        "explorer.depth.value = 3\nexplorer.scale.value = 3.3\nexplorer.activation.value = 'tanh'"
    )
    index = next(i for i, c in nb.code_cells if "# The same from code" in c.source)
    nb.run_cell(index)
    assert nb.output("# The same from code") == saved
    assert saved.startswith("sigmoid, scale 1.00, depth 10: first layer 2.9e-06")


# ---- the quiz --------------------------------------------------------------------------------


def test_the_quiz_has_one_right_option_per_question_in_varied_places(nb):
    correct = nb.eval("[q.correct for q in questions]")
    assert len(correct) == 6 and len(set(correct)) >= 3
    verdicts = nb.eval("[[q.answer(i).correct for i in range(len(q.options))] for q in questions]")
    assert all(row.count(True) == 1 for row in verdicts)
    right = nb.eval("[q.options[q.correct] for q in questions]")
    assert right[0] == "0 and 1" and "sum of the upstream rows" in right[2]
    assert "forward mode a million, reverse mode 1" == right[4]


def test_the_plus_equals_paragraph_and_the_two_new_self_checks(nb):
    prose = nb.markdown
    upstream = nb.eval("s.grad")
    assert f"{upstream * 2.0:.4f}" == "1.1932" and f"{upstream:.4f}" == "0.5966"
    assert "0.5966 \\cdot y = 1.1932" in prose
    assert f"{3 * nb.eval('df_dx_once'):.4f}" == "5.3693" and "= 5.3693" in prose
    assert "not answered yet" in nb.output("grad_after_three = ...")
    assert nb.eval("check(5.3693, 3 * df_dx_once).correct")
    assert "not answered yet" in nb.output("dL_da50 = ...")
    h50, dh50, da50 = nb.eval("(h8[50], dh8[50], da8[50])")
    assert f"{h50 * (1 - h50):.3f}" == "0.200" and f"{1 - h50:.4f}" == "0.2765"
    assert f"{dh50:.3f}" == "1.987" and f"{da50:.3f}" == "0.397" and "= 0.397" in prose
    assert nb.eval("check(0.397, da8[50]).correct")
