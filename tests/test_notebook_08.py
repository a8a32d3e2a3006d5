"""Notebook 08 (gates, accumulation, direction), executed once: every number its text quotes
is what its code computes, its exercises wait for the learner and answer right and wrong
answers as the text says, and nothing above an exercise shows its answer."""

from __future__ import annotations

import inspect
import itertools
import math
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

import course_lib.autodiff.forward as forward
from course_lib.autodiff.forward import Dual, forward_step, jacobian_by_reverse_mode, jvp
from course_lib.display.accessible import xml_text
from course_lib.teaching.answers import exercise
from course_lib.teaching.answers.gates import accumulated_grad, gates_graph, two_outputs
from course_lib.teaching.hand_exercise import decimals
from course_lib.widgets.saturation import slopes_alt_text

nb = notebook_fixture("08")

IGNORE = "nbval-ignore-output"


def cells_before(nb, marker: str) -> list:
    """Every cell above the code cell containing ``marker``."""
    cells = nb.nb.cells
    index = next(i for i, c in enumerate(cells) if c.cell_type == "code" and marker in c.source)
    return cells[:index]


def shown_before(nb, marker: str) -> str:
    """Everything a learner reads above the cell containing ``marker``: the markdown outside
    Solution blocks, code, and the saved outputs."""
    parts = []
    for cell in cells_before(nb, marker):
        if cell.cell_type == "markdown":
            parts.append(re.sub(r"<details>.*?</details>", "", cell.source, flags=re.S))
        else:
            parts.append(cell.source)
            parts.append(output_text(cell, kinds=("stdout", "text/plain", "text/html")))
    return "\n".join(parts)


def index_of(nb, marker: str) -> int:
    return next(
        i for i, c in enumerate(nb.nb.cells) if c.cell_type == "code" and marker in c.source
    )


def saved_cell(marker: str):
    """The code cell containing ``marker`` as saved in the notebook file (what a learner opens)."""
    saved = nbformat.read(notebook_path("08"), as_version=4)
    return next(c for c in saved.cells if c.cell_type == "code" and marker in c.source)


def test_micrograd_is_introduced_where_it_first_appears(nb):
    cells = nb.nb.cells
    first = next(c for c in cells if "micrograd" in c.source)
    assert first is cells[0]
    assert "micrograd (Andrej Karpathy's tiny scalar autograd library)" in first.source


def test_sections_are_numbered_one_to_three_and_link_on(nb):
    headings = re.findall(r"^## (\d) · ", nb.markdown, flags=re.M)
    assert headings == ["1", "2", "3"]
    assert not re.search(r"section [4-9]", nb.markdown)
    assert "(09_layers.ipynb)" in nb.nb.cells[-1].source
    assert "the card" not in nb.markdown.lower()


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
    # the library's graph is the notebook's
    lib = {n.label: n.grad for n in gates_graph()}
    assert lib == pytest.approx(grads | {"f": 1.0})


def test_the_gate_exercises_wait_and_check(nb):
    assert nb.output("df_dy = ...").count("not answered yet") == 2
    assert exercise("gates.df_dy").expected == nb.eval("y.grad")
    assert exercise("gates.df_dz").expected == nb.eval("z.grad") == 0.0
    cell = "df_dy = ..."
    assert "df/dy = 0.149: right" in answered(nb, cell, "df_dy = ...", "df_dy = 0.149")
    assert "df/dy = 0.1491: right" in answered(nb, cell, "df_dy = ...", "df_dy = 0.1491")
    assert "multiplies the upstream by y itself" in answered(
        nb, cell, "df_dy = ...", "df_dy = 1.193"
    )
    assert "local partial alone" in answered(nb, cell, "df_dy = ...", "df_dy = 0.25")
    assert "upstream gradient passed back unchanged" in answered(
        nb, cell, "df_dy = ...", "df_dy = 0.5966"
    )
    assert "loser of the max" in answered(nb, cell, "df_dy = ...", "df_dy = 0")
    assert "df/dz = 0: right" in answered(nb, cell, "df_dz = ...", "df_dz = 0")
    assert "as if z had won" in answered(nb, cell, "df_dz = ...", "df_dz = 0.597")
    assert "winner's local partial" in answered(nb, cell, "df_dz = ...", "df_dz = 1")
    assert "expected a number" in answered(nb, cell, "df_dz = ...", "df_dz = 'abc'")


def test_nothing_above_the_gate_exercise_shows_its_answer(nb):
    above = shown_before(nb, "df_dy = ...")
    assert "0.149" not in above and "0.1491" not in above
    assert not re.search(r"\\partial f/\\partial z = 0", above)  # the old prose stated it
    assert "Value(0.25" not in above  # the graph is built after the exercise
    assert IGNORE in nb.cell("for node in (s, m, a, x, y, z)").metadata.get("tags", [])


def test_ties_and_the_kink_are_shown_as_the_text_says(nb):
    out = nb.output("tie_a.max(tie_b)").splitlines()
    assert out[0] == "max(3, 3): d/da = 1.0  d/db = 0.0"
    assert out[1:4] == [
        "relu at -0.5: passes back 0.0",
        "relu at  0.0: passes back 0.0",
        "relu at  0.5: passes back 1.0",
    ]
    assert "kink" in out[4]


def test_only_splits_between_0_and_the_upstream_are_subgradients_of_a_tie():
    # "a split ... is one when the parts add up to g and each lies between 0 and g";
    # a subgradient s of max at the tie (3, 3): max(3 + d1, 3 + d2) - 3 >= s · d for every d.
    steps = [np.array(d) * 1e-3 for d in itertools.product((-2, -1, 0, 1, 2), repeat=2)]

    def is_subgradient(split):
        return all(max(3 + d[0], 3 + d[1]) - 3 >= split @ d - 1e-15 for d in steps)

    for share in (0.0, 0.25, 0.5, 1.0):
        assert is_subgradient(np.array([share, 1 - share]))
    for share in (2.0, -1.0, 1.25):
        assert not is_subgradient(np.array([share, 1 - share]))
    # "raising the first input by ε raises the max by 2ε [predicted], and the max rises by ε"
    eps = 1e-3
    assert max(3 + eps, 3) - 3 == pytest.approx(eps) and np.array([2, -1]) @ [eps, 0] == 2 * eps


def test_the_slopes_plot_and_its_numbers(nb):
    out = nb.output("the slopes of tanh and sigmoid")
    assert "<Figure size" in out
    assert "largest slope: tanh' 1.00, sigmoid' 0.25" in out
    assert "at a = 5: tanh' 0.00018, sigmoid' 0.00665" in out
    assert round(1 - math.tanh(5) ** 2, 5) == 0.00018
    # the text alternative comes from the library and says what the cell prints
    cell = nb.cell("the slopes of tanh and sigmoid")
    assert "alt=slopes_alt_text(-6, 6, at=5.0)" in cell.source and "alt=f" not in cell.source
    html = output_text(cell, kinds=("text/html",))
    alt = slopes_alt_text(-6, 6, at=5.0)
    assert f'alt="{xml_text(alt)}"' in html
    assert "from -6 to 6" in alt and "at a = 5: tanh' 0.00018, σ' 0.00665" in alt
    assert "saturation in\nnotebook 09" in nb.markdown


# ---- 2. accumulate or reset -------------------------------------------------------------------


def test_reset_and_accumulate(nb):
    out = nb.output("torch_like = Accumulating").splitlines()
    assert out == [
        "this engine, backward() three times:  x.grad = 1.7898 1.7898 1.7898",
        "accumulating, backward() three times: x.grad = 1.7898 3.5795 5.3693",
    ]
    # the demo confirms the exercise: it comes after it, and is saved without its output
    assert index_of(nb, "torch_like = Accumulating") > index_of(nb, "grad_after_three = ...")
    assert IGNORE in nb.cell("torch_like = Accumulating").metadata.get("tags", [])
    assert saved_cell("torch_like = Accumulating").outputs == []
    full, micro = nb.eval("(w_full.grad, accumulated)")
    np.testing.assert_allclose(micro, full, rtol=1e-12, atol=1e-15)


def test_the_zero_grad_and_retain_graph_sentences(nb):
    prose = nb.markdown
    # PyTorch >= 2.0: zero_grad(set_to_none=True) by default; micrograd sets 0
    assert "sets\nit to `None` by default since PyTorch 2.0 (`set_to_none=True`)" in prose
    assert "`Module.zero_grad()` sets every `.grad` back to 0" in prose
    assert "sets it back to 0 (PyTorch" not in prose
    # a second backward() through one graph raises unless retain_graph=True (or a new graph)
    assert "raises a `RuntimeError`, unless the earlier calls passed\n`retain_graph=True`" in prose
    assert "`f.backward(retain_graph=True)` is called three times" in prose
    explanation = nb.eval("questions[1].explanations[3]")
    assert "fresh graph" in explanation and "accumulation is deliberate" not in explanation


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


def test_the_plus_equals_paragraph_and_the_accumulation_exercise(nb):
    prose = nb.markdown
    upstream = nb.eval("s.grad")
    assert f"{upstream * 2.0:.4f}" == "1.1932" and f"{upstream:.4f}" == "0.5966"
    assert "0.5966 \\cdot y = 1.1932" in prose
    # micrograd's += is the counterpart of this engine's one line, not "also where" it is
    assert "That one line is also where micrograd" not in prose
    assert "micrograd's counterpart of this engine's one sum-at-joins line is the `+=`" in prose
    once = nb.eval("fresh[0]")
    assert nb.eval("fresh") == [once] * 3  # this engine resets
    assert nb.eval("held") == pytest.approx([once, 2 * once, 3 * once], rel=1e-15)
    task = exercise("gates.grad_after_three")
    assert task.expected == pytest.approx(3 * once, rel=1e-15) == accumulated_grad()
    # asked to 3 decimals: three times the engine's printed 1.7898 (5.3694) and three times
    # the Solution's 1.790 (5.370) are both right
    assert task.precision == decimals(3) and "(to 3 decimal places)" in prose
    assert "to 3 decimal places" in nb.output("grad_after_three = ...")
    assert f"{3 * once:.3f}" == "5.369" and "= 5.369$" in prose
    assert f"{once:.5f}" == "1.78976" and "3 \\times 1.78976" in prose
    cell, old = "grad_after_three = ...", "grad_after_three = ..."
    assert "not answered yet" in nb.output(cell)
    for right in ("5.369", "5.3693", "3 * 1.7898", "3 * 1.790", "5.37"):
        shown = answered(nb, cell, old, f"grad_after_three = {right}")
        assert ": right" in shown, (right, shown)
    assert "one call's gradient" in answered(nb, cell, old, "grad_after_three = 1.7898")
    assert "after two calls" in answered(nb, cell, old, "grad_after_three = 3.5795")
    assert "no zero_grad() is called" in answered(nb, cell, old, "grad_after_three = 0")
    assert "close" in answered(nb, cell, old, "grad_after_three = 5.36")
    above = shown_before(nb, "grad_after_three = ...")
    assert "5.369" not in above and "3.5795" not in above  # the demo no longer comes first
    assert "Accumulating" not in above and "the accumulating cell above" not in task.look


# ---- 3. forward against reverse mode ----------------------------------------------------------


def test_a_column_per_forward_pass_and_a_row_per_reverse_pass(nb):
    column_1 = jvp(two_outputs, [3.0, -2.0], [0.0, 1.0])[1]
    assert exercise("gates.column_1").expected_values() == tuple(column_1) == (3.0, 1.0)
    assert nb.eval("jvp(two_outputs, [3.0, -2.0], [0.0, 1.0])[1].tolist()") == [3.0, 1.0]
    assert nb.eval("jvp(two_outputs, [3.0, -2.0], [1.0, 0.0])[1].tolist()") == [-2.0, 1.0]
    assert jacobian_by_reverse_mode(two_outputs, [3.0, -2.0])[0][0].tolist() == [-2.0, 3.0]
    out = nb.output("xd, yd = Dual(3.0, 1.0)")
    assert "f(x, y) with x seeded: [Dual(value=-6, tangent=-2), Dual(value=1, tangent=1)]" in out
    assert nb.output("for seed in ([1.0, 0.0], [0.0, 1.0])").splitlines() == [
        "seed (ẋ, ẏ) = (1, 0): outputs [-6.  1.], tangents [-2.  1.]",
        "seed (ẋ, ẏ) = (0, 1): outputs [-6.  1.], tangents [3. 1.]",
    ]


def test_the_column_exercise_waits_checks_and_is_not_given_away(nb):
    cell, old = "tangents = ...", "tangents = ..."
    assert "not answered yet" in nb.output(cell)
    assert "right" in answered(nb, cell, old, "tangents = [3, 1]")
    assert "column 0" in answered(nb, cell, old, "tangents = [-2, 1]")
    assert "a row of the Jacobian" in answered(nb, cell, old, "tangents = [-2, 3]")
    assert "sum's tangent adds" in answered(nb, cell, old, "tangents = [3, 0]")
    assert "expected 2 numbers" in answered(nb, cell, old, "tangents = 3")
    above = shown_before(nb, cell)
    assert "(-2, 3)" not in above and "(3, 1)" not in above  # row 0 holds column 1's entry 0
    assert "jvp(" not in above and "column_1" not in above
    assert IGNORE in nb.cell("for seed in ([1.0, 0.0], [0.0, 1.0])").metadata.get("tags", [])


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


def test_the_printed_forward_step_is_short_and_is_what_every_dual_op_runs(nb, monkeypatch):
    out = nb.output("print(inspect.getsource(forward_step))")
    source = inspect.getsource(forward_step)
    assert out.startswith(source)
    assert len(source.splitlines()) <= 8
    for bookkeeping in ("count", "domain", "_lift", "OverflowError"):
        assert bookkeeping not in source, bookkeeping
    calls = []

    def counting(op, inputs):
        calls.append(op.name)
        return forward_step(op, inputs)

    monkeypatch.setattr(forward, "forward_step", counting)
    x, y = Dual(3.0, 1.0), Dual(-2.0, 0.0)
    product, total = two_outputs(x, y)
    assert calls == ["*", "+"]
    assert (product.tangent, total.tangent) == (-2.0, 1.0)
    prose = nb.markdown
    assert "every one of them runs `forward_step`" in prose
    assert "_apply" not in "\n".join(c.source for _, c in nb.code_cells)


# ---- the quiz --------------------------------------------------------------------------------


def test_the_quiz_has_one_right_option_per_question_in_varied_places(nb):
    correct = nb.eval("[q.correct for q in questions]")
    assert len(correct) == 3 and len(set(correct)) >= 2
    verdicts = nb.eval("[[q.answer(i).correct for i in range(len(q.options))] for q in questions]")
    assert all(row.count(True) == 1 for row in verdicts)
    right = nb.eval("[q.options[q.correct] for q in questions]")
    assert right[0] == "0 and 1"
    assert "forward mode a million, reverse mode 1" == right[2]
    feedback = nb.eval("[str(q.answer(q.correct)) for q in questions]")
    assert not any("Right: Right:" in text for text in feedback)
