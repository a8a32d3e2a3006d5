"""Notebook 09 (layers), executed once: every number its text quotes is what its code
computes, its exercises wait for the learner and their solutions pass, its widget responds."""

from __future__ import annotations

import ast
import math
import re

import numpy as np
from notebook_harness import notebook_fixture

nb = notebook_fixture("09")


def test_no_cell_is_a_test_or_shows_an_answer_key(nb):
    for _, cell in nb.code_cells:
        body = ast.parse(cell.source).body
        assert not all(isinstance(s, ast.Assert) for s in body), cell.source
        assert "assert" not in cell.source and ".answer(" not in cell.source, cell.source
        assert ".correct" not in cell.source, cell.source


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


# ---- 6. saturation ---------------------------------------------------------------------------


def test_the_network_is_notebook_06s(nb):
    assert nb.output("history = train(net") == "test accuracy 97.49%, as in notebook 07\n"


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
    assert len(correct) == 3 and len(set(correct)) >= 2
    verdicts = nb.eval("[[q.answer(i).correct for i in range(len(q.options))] for q in questions]")
    assert all(row.count(True) == 1 for row in verdicts)
    right = nb.eval("[q.options[q.correct] for q in questions]")
    assert "sum of the upstream rows" in right[1]


def test_the_saturated_unit_self_check(nb):
    prose = nb.markdown
    assert "not answered yet" in nb.output("dL_da50 = ...")
    h50, dh50, da50 = nb.eval("(h8[50], dh8[50], da8[50])")
    assert f"{h50 * (1 - h50):.3f}" == "0.200" and f"{1 - h50:.4f}" == "0.2765"
    assert f"{dh50:.3f}" == "1.987" and f"{da50:.3f}" == "0.397" and "= 0.397" in prose
    assert nb.eval("check(0.397, da8[50]).correct")
