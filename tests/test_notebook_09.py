"""Notebook 09 (layers), executed once: every number its text quotes is what its code
computes, its exercises wait for the learner, answer right and wrong answers as the text says
and their solutions pass, nothing above an exercise shows its answer, its widget responds."""

from __future__ import annotations

import ast
import math
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib.display.accessible import xml_text
from course_lib.teaching.answers import exercise
from course_lib.teaching.answers import layers as key
from course_lib.tensor import Tensor
from course_lib.widgets.saturation import layer_norms_alt_text

nb = notebook_fixture("09")

IGNORE = "nbval-ignore-output"


def index_of(nb, marker: str) -> int:
    return next(
        i for i, c in enumerate(nb.nb.cells) if c.cell_type == "code" and marker in c.source
    )


def shown_before(nb, marker: str) -> str:
    """Everything a learner reads above the cell containing ``marker``: the markdown outside
    Solution blocks, code, and the saved outputs."""
    parts = []
    for cell in nb.nb.cells[: index_of(nb, marker)]:
        if cell.cell_type == "markdown":
            parts.append(re.sub(r"<details>.*?</details>", "", cell.source, flags=re.S))
        else:
            parts.append(cell.source)
            parts.append(output_text(cell, kinds=("stdout", "text/plain", "text/html")))
    return "\n".join(parts)


def saved_cell(marker: str):
    """The code cell containing ``marker`` as saved in the notebook file (what a learner opens)."""
    saved = nbformat.read(notebook_path("09"), as_version=4)
    return next(c for c in saved.cells if c.cell_type == "code" and marker in c.source)


RULE_CELLS = {
    "layer_norm_backward": ("layer_norm_report", "layer_norm_backward"),
    "embedding_backward": ("embedding_report", "embedding_backward"),
}


def the_rule_shown_once_right(nb, name: str) -> tuple[str, str]:
    """What the rule cell after code exercise ``name`` prints with the learner's function
    unwritten, then with the Solution's function checked: (before, after)."""
    report, rule = RULE_CELLS[name]
    cell = f"show_rule_if_right({report}, tensor_functions.{rule})"
    before = output_text(nb.exec(nb.cell(cell).source))
    nb.exec(nb.solution(name).replace("def ", "def solution_", 1))
    nb.exec(f'{report} = check_exercise("{name}", solution_{name})')
    try:
        after = output_text(nb.exec(nb.cell(cell).source))
    finally:  # the learner's unwritten function again, for the other tests
        nb.exec(f'{report} = check_exercise("{name}", {name})')
    return before, after


def test_sections_are_numbered_one_to_three_and_link_on(nb):
    assert re.findall(r"^## (\d) · ", nb.markdown, flags=re.M) == ["1", "2", "3"]
    assert not re.search(r"section [4-9]", nb.markdown)
    assert "(10_build_your_engine.ipynb)" in nb.nb.cells[-1].source
    assert "the card" not in nb.markdown.lower()


def test_no_exercise_cell_shadows_a_name_later_cells_take_from_the_library(nb):
    imported = set()
    for _, cell in nb.code_cells:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom | ast.Import):
                imported |= {a.asname or a.name for a in node.names}
    for _, cell in nb.code_cells:
        if "exercise" in cell.metadata.get("tags", []):
            defined = {
                n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)
            }
            assert defined and not defined & imported, defined & imported
    # Re-running an exercise cell after the engine's rule was printed changes nothing.
    for name in ("layer_norm_backward", "embedding_backward"):
        nb.run_cell(index_of(nb, f"def {name}("))
        nb.run_cell(index_of(nb, f'check_exercise("{name}"'))
        assert "NOT WRITTEN YET" in nb.output(f'check_exercise("{name}"')


# ---- 1. layer norm ------------------------------------------------------------------------


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
    # the slips the check names
    assert round(g[0] / s, 4) == 1.2247
    assert round((g[0] - g.mean()) / s, 4) == 0.4082
    assert round((g[0] - y[0] * (g * y).mean()) / s, 4) == 1.8371
    assert round(g[0] - g.mean() - y[0] * (g * y).mean(), 4) == 0.8333  # the 1/s forgotten


def test_the_layer_norm_hand_exercise(nb):
    assert exercise("layers.dL_dx0").expected == nb.eval("x_fused.grad[0]")
    cell, old = "dL_dx0 = ...", "dL_dx0 = ..."
    assert "not answered yet" in nb.output(cell) and "3 decimal places" in nb.output(cell)
    assert "dL/dx0 = 1.021: right" in answered(nb, cell, old, "dL_dx0 = 1.021")
    assert "right" in answered(nb, cell, old, "dL_dx0 = 1.0206")
    missing_1_over_s = answered(nb, cell, old, "dL_dx0 = 0.8333")
    assert "factor 1/s in front of it is missing" in missing_1_over_s
    assert "path through s" in answered(nb, cell, old, "dL_dx0 = 0.4082")
    assert "path through the mean" in answered(nb, cell, old, "dL_dx0 = 1.8371")
    assert "as if y0 depended on x0 alone" in answered(nb, cell, old, "dL_dx0 = 1.2247")
    assert "entry (0, 0) alone" in answered(nb, cell, old, "dL_dx0 = 0.2041")
    assert "sign of the path through s" in answered(nb, cell, old, "dL_dx0 = -0.2041")
    assert "multiplies the bracket by s" in answered(nb, cell, old, "dL_dx0 = 0.6804")
    assert "sign is wrong" in answered(nb, cell, old, "dL_dx0 = -1.021")
    assert "1.021" not in shown_before(nb, cell) and "1.0206" not in shown_before(nb, cell)


def test_the_two_ways_agree_and_confirm_after_the_exercise(nb):
    composed, fused = nb.eval("(x_composed.grad, x_fused.grad)")
    np.testing.assert_allclose(composed, fused, rtol=1e-12)
    out = nb.output("layer_norm_composed(x_composed)")
    assert out.startswith("composed graph: 9 nodes; fused: 2 nodes\n")
    assert "largest difference:" in out
    cell = nb.cell("layer_norm_composed(x_composed)")
    assert IGNORE in cell.metadata.get("tags", [])
    assert index_of(nb, "layer_norm_composed(x_composed)") > index_of(nb, "dL_dx0 = ...")


def test_the_layer_norm_code_exercise_waits_its_solution_is_right_and_the_rule_follows(nb):
    assert nb.cell("def layer_norm_backward(").metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output('check_exercise("layer_norm_backward"')
    nb.exec(nb.solution("layer_norm_backward").replace("def ", "def solution_", 1))
    report = nb.eval('str(check_exercise("layer_norm_backward", solution_layer_norm_backward))')
    assert report.startswith("layer_norm_backward: RIGHT"), report
    # the engine's rule is printed only once the learner's function is right
    printed = index_of(nb, "tensor_functions.layer_norm_backward")
    assert printed > index_of(nb, 'check_exercise("layer_norm_backward"')
    assert '@rule("layer_norm"' not in shown_before(nb, "def layer_norm_backward(")
    before, after = the_rule_shown_once_right(nb, "layer_norm_backward")
    assert "@rule" not in before and "return" not in before
    assert "once your layer_norm_backward is right" in before
    assert after.startswith('@rule(\n    "layer_norm",')
    assert "def layer_norm_backward(upstream, out, x):" in after
    # as saved: no output (Run All with `...` shows the sentence; nothing to give away)
    rule_cell = saved_cell("tensor_functions.layer_norm_backward")
    assert IGNORE in rule_cell.metadata.get("tags", []) and rule_cell.outputs == []
    assert "once it says RIGHT, the cell after the check shows the\nengine's own rule" in (
        nb.markdown
    )


# ---- 2. embedding -------------------------------------------------------------------------


def test_the_embedding_numbers(nb):
    assert nb.eval("W.grad.tolist()") == [[3.0, 4.0], [0.0, 0.0], [11.0, 22.0], [0.0, 0.0]]
    out = nb.output("looks_right[tokens] += upstream")
    assert "dW[tokens] += upstream gives row 2: [10. 20.]" in out
    assert "np.add.at gives row 2:              [11. 22.]" in out
    assert IGNORE in nb.cell("looks_right[tokens] += upstream").metadata.get("tags", [])


def test_the_embedding_hand_exercise(nb):
    assert exercise("layers.dW_row2").expected_values() == tuple(nb.eval("W.grad[2].tolist()"))
    cell, old = "dW_row2 = ...", "dW_row2 = ..."
    assert "not answered yet" in nb.output(cell)
    assert "right" in answered(nb, cell, old, "dW_row2 = [11, 22]")
    assert "last position holding token 2 only" in answered(nb, cell, old, "dW_row2 = [10, 20]")
    assert "first position holding token 2 only" in answered(nb, cell, old, "dW_row2 = [1, 2]")
    assert "averages the uses" in answered(nb, cell, old, "dW_row2 = [5.5, 11]")
    assert "every position" in answered(nb, cell, old, "dW_row2 = [14, 26]")
    assert "row 2 of W itself" in answered(nb, cell, old, "dW_row2 = [4, 5]")
    assert "Entry 1 (counting from 0) is off" in answered(nb, cell, old, "dW_row2 = [11, 21]")
    above = shown_before(nb, cell)
    assert not re.search(r"\b11\.?,?\s*22\b", above)  # row 2, as a list or as printed
    assert "embedding(W" not in above


def test_the_embedding_code_exercise_waits_its_solution_is_right_and_the_rule_follows(nb):
    assert nb.cell("def embedding_backward(").metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output('check_exercise("embedding_backward"')
    nb.exec(nb.solution("embedding_backward").replace("def ", "def solution_", 1))
    report = nb.eval('str(check_exercise("embedding_backward", solution_embedding_backward))')
    assert report.startswith("embedding_backward: RIGHT"), report
    printed = index_of(nb, "tensor_functions.embedding_backward")
    assert printed > index_of(nb, 'check_exercise("embedding_backward"')
    assert '@rule("embedding"' not in shown_before(nb, "def embedding_backward(")
    before, after = the_rule_shown_once_right(nb, "embedding_backward")
    assert "np.add.at" not in before and "once your embedding_backward is right" in before
    assert "np.add.at(grad, out.ctx, upstream)" in after
    rule_cell = saved_cell("tensor_functions.embedding_backward")
    assert IGNORE in rule_cell.metadata.get("tags", []) and rule_cell.outputs == []
    assert "once it\nsays RIGHT, the cell after the check shows the engine's own rule" in (
        nb.markdown
    )
    assert "engine's own rule follows it" not in nb.markdown


# ---- 3. saturation ---------------------------------------------------------------------------


def test_the_network_is_notebook_07s(nb):
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
    # "Of the five units whose slope the table shows, four have a slope below 0.011."
    shown = top != 50
    assert shown.sum() == 5 and int((slopes[shown] < 0.011).sum()) == 4
    assert "Of the five units whose slope the table shows, four" in prose
    assert f"{dh[50]:.3f}" == "1.987" and f"{h[50]:.4f}" == "0.7235"


def test_the_saturated_unit_exercise(nb):
    h50, dh50, da50 = nb.eval("(h8[50], dh8[50], da8[50])")
    # the stored numbers of the answer key are the notebook's engine values
    # (to 1e-5: float32 training moves them in the 6th or 7th digit with the BLAS library's
    # version and thread count (numpy 1.26's OpenBLAS gives dL/dh 1.986805x for the 1.986807x of
    # numpy 2.4's) and when the engine's arithmetic changes; the exercise asks for 3 decimals)
    assert key.H50 == pytest.approx(h50, abs=1e-5) and key.DH50 == pytest.approx(dh50, abs=1e-5)
    assert key.DA50 == pytest.approx(da50, abs=1e-5)
    assert exercise("layers.dL_da50").expected == key.DA50
    assert f"{h50 * (1 - h50):.3f}" == "0.200" and f"{1 - h50:.4f}" == "0.2765"
    assert f"{da50:.3f}" == "0.397" and "= 0.397" in nb.markdown  # in the Solution
    cell, old = "dL_da50 = ...", "dL_da50 = ..."
    assert "not answered yet" in nb.output(cell)
    assert "right" in answered(nb, cell, old, "dL_da50 = 0.397")
    assert "right" in answered(nb, cell, old, "dL_da50 = 1.987 * 0.7235 * 0.2765")
    assert "upstream gradient passed back unchanged" in answered(nb, cell, old, "dL_da50 = 1.987")
    assert "by h only" in answered(nb, cell, old, "dL_da50 = 1.987 * 0.7235")
    assert "1 − h only" in answered(nb, cell, old, "dL_da50 = 1.987 * 0.2765")
    assert "local partial alone" in answered(nb, cell, old, "dL_da50 = 0.2")
    assert "forward value" in answered(nb, cell, old, "dL_da50 = 0.7235")
    # nothing above shows it: not the table, not the prose (the old "passes 0.397 through")
    above = shown_before(nb, cell)
    assert "0.397" not in above and "3.97e-01" not in above and "2.00e-01" not in above
    assert "da8" not in above
    table = nb.output("saturated hidden units on test image").splitlines()
    assert [line for line in table if line.split()[:1] == ["50"]] == [
        "   50  0.7235             ?     +1.9868           ?"
    ]
    confirm = nb.cell("da8 = graph.a.grad[0]")
    assert IGNORE in confirm.metadata.get("tags", [])
    assert nb.output("da8 = graph.a.grad[0]").splitlines()[1].endswith("= +0.3975")


def test_sigmoid_slope_is_exactly_zero_in_float32_for_a_few_units(nb):
    # quiz question 3, option D: σ' is exactly 0 once σ(a) rounds to 1 in float32
    assert nb.output("h32 = h_first.data").splitlines() == [
        "100,000 hidden activations, float32",
        "h exactly 1.0: 4, h exactly 0.0: 0",
        "slope h(1 - h) exactly 0: 4",
    ]
    h32 = nb.eval("h32")
    assert h32.dtype == np.float32 and h32.shape == (1000, 100)
    assert int((h32 == 1).sum()) == 4 and int((h32 * (1 - h32) == 0).sum()) == 4
    prose = nb.markdown
    assert "4 of 100,000: rare in this network, but not never." in prose
    # "once e^{-a} <= 2^{-24} (a above about 16.6), 1 + e^{-a} rounds to exactly 1"
    threshold = math.log(2.0**24)
    assert f"{threshold:.1f}" == "16.6"
    below, above = np.float32(threshold - 0.01), np.float32(threshold + 0.01)
    assert sigmoid32(below) < 1
    assert sigmoid32(above) == 1
    assert np.spacing(np.float32(1)) == np.float32(2.0**-23)
    a32 = nb.eval("net.forward(x_test[:1000])[0].data")
    assert a32[h32 == 1].min() > threshold and a32[h32 < 1].max() < threshold + 0.01
    # "h is exactly 0 only for a below about −88.7; the lowest activation input here is about −23"
    assert sigmoid32(-88.7) > 0
    assert sigmoid32(-88.8) == 0
    assert round(float(a32.min())) == -23
    explanation = nb.eval("questions[2].explanations[3]")
    assert "never exactly 0" not in explanation
    assert "4 of the 100,000" in explanation and "16.6" in explanation
    # σ' = h(1 - h) is exactly 0 at both ends, and only there: h exactly 1 or exactly 0
    assert "exactly 1 or to exactly 0" in explanation and "below about −88.7 (none" in explanation
    assert int((h32 == 0).sum()) == 0  # "none here"
    a = np.linspace(-100, 100, 200_001).astype(np.float32)
    h = Tensor(a).sigmoid().data
    zero = h * (1 - h) == 0
    assert np.array_equal(zero, (h == 1) | (h == 0))
    assert zero[a < -88.8].all() and zero[a > 16.7].all()
    assert not zero[(a > -88.7) & (a < 16.5)].any()
    assert "once $h$ rounds to exactly 1 or 0, nothing at all" in prose


def test_the_depth_experiment_and_its_text(nb):
    norms = nb.eval("norms")
    assert set(norms) == {"sigmoid", "tanh", "relu"}
    sigmoid, relu = norms["sigmoid"], norms["relu"]
    assert sigmoid[0] / sigmoid[-1] < 1e-5 and 0.05 < relu[0] / relu[-1] < 20
    out = nb.output("layer_gradient_norms(depth, act, scale)")
    assert "<Figure size" in out
    # the text alternative comes from the library, with the numbers the cell prints
    cell = nb.cell("layer_gradient_norms(depth, act, scale)")
    assert "alt=layer_norms_alt_text(norms)" in cell.source and "alt=f" not in cell.source
    alt = layer_norms_alt_text(norms)
    assert f'alt="{xml_text(alt)}"' in output_text(cell, kinds=("text/html",))
    for act, values in norms.items():
        assert f"{act} from {values[0]:.1e} at layer 1 to {values[-1]:.1e} at layer 12" in alt
    assert "The sigmoid line climbs steeply" in alt and "the tanh and relu lines stay nearly" in alt
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
    nb.run_cell(index_of(nb, "# The same from code"))
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
    feedback = nb.eval("[str(q.answer(q.correct)) for q in questions]")
    assert not any("Right: Right:" in text for text in feedback)


def sigmoid32(a: float) -> float:
    """The engine's sigmoid of one float32 number (what the network's hidden layer runs)."""
    return float(Tensor(np.array([a], np.float32)).sigmoid().data[0])
