"""Notebook 03 (tensors and broadcasting), executed once: what it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here. Each one fails when
the number, shape or text the notebook shows is wrong: the engine's gradients, the missing-sum
demonstration, the printed library code, the exercises' expected answers (keyed in
``course_lib.teaching.answers.broadcasting``) and the feedback a learner gets for the usual
mistakes, the explorer, and the quiz; and the page shows no answer before it is asked, and
survives a learner re-running the exercise cells.
"""

from __future__ import annotations

import ast
import inspect
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import notebook_fixture, notebook_path, output_text

import course_lib.tensor
from course_lib.teaching.answers import exercise
from course_lib.tensor import Tensor, broadcast_axes
from course_lib.tensor import functions as tensor_functions
from course_lib.tensor import ops as tensor_ops

nb = notebook_fixture("03")
IGNORE = "nbval-ignore-output"


def answer(nb, containing: str, replacements: dict[str, str]) -> str:
    """Run the exercise cell containing ``containing`` with the learner's ``...`` replaced,
    and return the feedback it showed."""
    source = nb.cell(containing).source
    for placeholder, typed in replacements.items():
        assert placeholder in source, placeholder
        source = source.replace(placeholder, typed)
    return output_text(nb.exec(source), kinds=("text/plain",))


# ---- a gradient has the shape of its input ---------------------------------------------------


def test_sum_of_squares_gradient_is_two_x(nb):
    grad, data = nb.eval("X.grad"), nb.eval("X.data")
    assert grad.shape == data.shape == (2, 3)
    np.testing.assert_array_equal(grad, 2 * data)
    assert "grad [[ 2.  4.  6.]" in nb.output("L = (X * X).sum()")


def test_backward_without_upstream_says_what_it_needs(nb):
    shown = nb.output("Y.backward()")
    assert shown.startswith("backward: the output has shape (2, 3), not a single number")


# ---- the two hand traces ---------------------------------------------------------------------


def test_bias_add_sums_the_upstream_over_the_rows(nb):
    G = nb.eval("G")
    np.testing.assert_array_equal(nb.eval("b.grad"), [7.0, -1.0, 4.0])  # the solution's numbers
    np.testing.assert_array_equal(nb.eval("b.grad"), G.sum(axis=0))
    np.testing.assert_array_equal(nb.eval("Xb.grad"), G)
    assert exercise("broadcasting.dL_db0").expected == nb.eval("b.grad[0]")
    # the drawing after the exercise shows b's gradient in b's shape
    svg = output_text(nb.cell("draw(Yb)"), kinds=("text/html",))
    assert ">grad [7, -1, 4]</text>" in svg


def said(nb, cell: str, typed: str) -> str:
    """The feedback of the one-number exercise cell ``cell`` (its variable) to ``typed``."""
    return answer(nb, f"{cell} = ...", {f"{cell} = ...": f"{cell} = {typed}"})


@pytest.mark.parametrize(
    "typed, named",
    [
        ("7", "dL/db0 = 7: right."),
        ("14 / 2", "dL/db0 = 7: right."),
        ("3.5", "average of the paths"),
        ("2", "one path only, one of the 2"),
        ("5", "one path only, one of the 2"),
        ("4", "b0 lives in column 0"),
        ("10", "every entry of G"),
        ("1", "local partial alone"),
        ("20", "b0's own value"),
        ("45", "the outputs b0 feeds"),
        ("-7", "The sign is wrong"),
        ("14", "factor of 2"),
        ("0", "Zero would mean"),
        ("8", "every row of column 0 of Y"),  # no named slip: where to look
        ("'abc'", "expected a number"),
        ("1e400", "finite number"),
        ("'1e400'", "too large"),
        ("''", "not answered yet"),
        ("None", "is None, not a number: type your number"),
    ],
)
def test_bias_exercise_feedback(nb, typed, named):
    assert "not answered yet" in nb.output("dL_db0 = ...")
    shown = said(nb, "dL_db0", typed)
    assert named in shown
    assert "7" not in shown.split("is not right.")[-1].replace("dL/db0 = 7: right.", "")


def test_outer_product_gradients_keep_their_size_one_axes(nb):
    np.testing.assert_array_equal(nb.eval("x.grad"), [[10.0], [10.0], [10.0]])
    np.testing.assert_array_equal(nb.eval("y.grad"), [[6.0, 6.0, 6.0, 6.0]])
    assert exercise("broadcasting.dL_dx0").expected == nb.eval("x.grad[0, 0]")
    assert nb.eval("y.data.sum()") == 10.0 and nb.eval("x.data.sum()") == 6.0  # the solution
    assert "1 + 2 + 3 + 4 = 10" in nb.markdown and "-2 + 3 + 5 = 6" in nb.markdown


def test_the_forward_sum_of_row_0_is_not_the_gradient(nb):
    """x0 = -2: summing row 0 of Z (a forward value) does not give dL/dx0 by luck."""
    row_sum = nb.eval("Z.data[0].sum()")
    assert row_sum == -20.0 == nb.eval("x.data[0, 0]") * 10  # the solution: -2 · 10 = -20
    assert "$-2 \\cdot 10 = -20$" in nb.markdown
    assert row_sum != nb.eval("x.grad[0, 0]")
    assert nb.eval("x.data[0, 0]") != 1.0


@pytest.mark.parametrize(
    "typed, named",
    [
        ("10", "dL/dx0 = 10: right."),
        ("6", "y's gradient"),
        ("-20", "the sum of row 0 of Z, a forward value"),
        ("60", "L itself, a forward value"),
        ("-2", "x0's own value"),
        ("2.5", "average of the paths"),
        ("1", "one path only, one of the 4"),
        ("4", "one path only, one of the 4"),
        ("-10", "The sign is wrong"),
        ("20", "factor of 2"),
        ("5", "factor of 2"),
        ("0", "Zero would mean"),
        ("11", "x0 is used in the four entries of row 0"),
    ],
)
def test_outer_product_exercise_feedback(nb, typed, named):
    shown = said(nb, "dL_dx0", typed)
    assert named in shown
    assert "10" not in shown.split("is not right.")[-1].replace("dL/dx0 = 10: right.", "")


# ---- what goes wrong without the reduction ---------------------------------------------------


def test_the_unreduced_contribution_silently_reshapes_a_step(nb):
    assert nb.eval("raw.shape") == (3, 4)
    assert nb.eval("stepped.shape") == (3, 4) != nb.eval("x.data.shape")


def test_the_rule_without_the_sum_disagrees_with_finite_differences(nb):
    by_differences = nb.eval("by_differences")
    assert by_differences.shape == (3, 1)
    np.testing.assert_array_equal(by_differences.ravel(), [7.25, 5.5, 1.5])  # U @ y, exact
    np.testing.assert_array_equal(nb.eval("right"), by_differences)
    assert nb.eval("wrong.shape") == (3, 4)
    shown = nb.output("mul_rule_without_sum(U")
    assert "finite differences: (3, 1) [7.25 5.5  1.5 ]" in shown
    assert "rule with the sum:  (3, 1) [7.25 5.5  1.5 ]" in shown
    assert "wrong - by_differences has shape (3, 4)" in shown


def test_the_engine_passes_the_same_check_exactly(nb):
    assert nb.eval("mul_report.ok")
    assert nb.eval("mul_report.max_abs_error") == (0.0, 0.0)  # the text says: exactly 0
    assert nb.eval("tuple(g.shape for g in mul_report.backward)") == ((3, 1), (1, 4))
    assert "all gradients agree" in nb.output("print(mul_report)")


def test_the_gradient_check_refuses_the_unreduced_gradient(nb):
    """The text says the check refuses a gradient of the wrong shape: it does."""
    cell = nb.exec(
        "from course_lib.checks import tensor_gradient_check as _tgc\n"
        "import course_lib.tensor.node as _t\n"
        "_real = _t.sum_to_shape\n"
        "_t.sum_to_shape = lambda grad, shape: grad\n"
        "try:\n"
        "    print(_tgc(lambda x, y: x * y, x.data, y.data, upstream=U))\n"
        "finally:\n"
        "    _t.sum_to_shape = _real\n"
    )
    shown = output_text(cell)
    assert "backward() gave a gradient of shape (3, 4), not (3, 1)" in shown
    assert "SOME GRADIENTS DISAGREE" in shown


# ---- the reduction, in one place -------------------------------------------------------------


def shown_once_right(nb, exercise_: str, function: str, printed: str) -> tuple[str, str]:
    """What the cell printing the engine's rule shows while the learner's ``function`` is still
    the placeholder, and once it is the solution (the check cell run again in between)."""
    check = nb.cell(f'check_exercise("{exercise_}", {function})').source
    placeholder = nb.cell(f"def {function}(").source
    before = output_text(nb.exec(nb.cell(printed).source))
    nb.exec(nb.solution(function))
    try:
        nb.exec(check)
        after = output_text(nb.exec(nb.cell(printed).source))
    finally:
        nb.exec(placeholder)
        nb.exec(check)
    return before, after


def test_the_printed_helpers_are_the_plain_ones_the_engine_runs(nb):
    assert IGNORE in nb.cell("show_rule_if_right(sum_report").metadata.get("tags", [])
    before, shown = shown_once_right(
        nb, "sum_to_shape", "my_sum_to_shape", "show_rule_if_right(sum_report"
    )
    assert before == nb.output("show_rule_if_right(sum_report")
    assert "once your my_sum_to_shape is right" in before and "def " not in before
    assert shown == (
        inspect.getsource(broadcast_axes)
        + "\n"
        + inspect.getsource(course_lib.tensor.sum_to_shape)
        + "\n"
    )
    assert "def broadcast_axes(" in shown and "def sum_to_shape(" in shown
    assert "added, expanded = broadcast_axes(shape, grad.shape)" in shown
    assert "raise" not in shown  # broadcast_axes's checks sit in one call, not in the rule
    for internal in ("requires_grad", "_ZERO", ".ctx", "fit_to_input"):
        assert internal not in shown
    np.testing.assert_array_equal(nb.eval("sum_to_shape(raw, (3, 1))"), nb.eval("x.grad"))


def test_the_one_place_is_printed_as_a_whole_function(nb):
    """The text says: no rule calls sum_to_shape; the node hands every contribution of every op
    to fit_to_input, whose one marked line sums it back. The cell prints that function."""
    source = nb.cell("getsource(fit_to_input)").source
    assert "splitlines" not in source and "getsource(course_lib.tensor)" not in source
    shown = nb.output("getsource(fit_to_input)")
    assert shown == inspect.getsource(course_lib.tensor.node.fit_to_input) + "\n"
    assert "grad = sum_to_shape(grad, data.shape)  # undo broadcasting: the one place" in shown
    glue = inspect.getsource(Tensor.local_backward)
    assert glue.count("return ") == 4 and glue.count("fit_to_input(") == 4  # every branch, parent
    for module in (tensor_ops, tensor_functions):
        assert "sum_to_shape(" not in inspect.getsource(module), module.__name__


def test_incompatible_shapes_are_refused_with_both_shapes_named(nb):
    assert nb.output("Tensor(np.ones(5))").startswith("add: cannot broadcast (3, 4) with (5,)")


# ---- which axes: the card's broadcasting exercise --------------------------------------------

AXES = "axes_a = ..."


def typed(a: str = "...", b: str = "...", c: str = "...") -> dict[str, str]:
    return {"axes_a = ...": f"axes_a = {a}", "axes_b = ...": f"axes_b = {b}",
            "axes_c = ...": f"axes_c = {c}"}  # fmt: skip


SHAPES = {  # the exercise's shapes, as the text gives them: (input, result)
    "a": ((2, 4, 1), (2, 4, 3)),
    "b": ((1, 3), (2, 4, 3)),
    "c": ((4, 1), (2, 4, 1)),
}


def test_which_axes_expected_answers(nb):
    for name, (shape, result) in SHAPES.items():
        added, expanded = broadcast_axes(shape, result)
        assert exercise(f"broadcasting.axes_{name}").expected == added + expanded
        assert f"# {name} {shape}" in nb.cell(AXES).source  # the shapes the cell names
    assert np.broadcast_shapes((2, 4, 1), (1, 3)) == (2, 4, 3)  # a + b, as the text draws it
    assert np.broadcast_shapes((2, 4, 1), (4, 1)) == (2, 4, 1)  # a + c
    assert [exercise(f"broadcasting.axes_{n}").expected for n in "abc"] == [(2,), (0, 1), (0,)]
    assert nb.output(AXES).count("not answered yet") == 3
    source = nb.cell(AXES).source
    for name in "abc":
        assert f'check("broadcasting.axes_{name}", axes_{name})' in source
    assert "broadcast_axes" not in source and "summed" not in source


def test_which_axes_examples_in_the_feedback_are_no_answer(nb):
    """The 'not answered yet' text gives no example tuple, which could be one of the answers."""
    shown = nb.output(AXES)
    assert "not answered yet" in shown and not re.search(r"\([0-9, ]+\)", shown)


def test_which_axes_accepts_the_solution_in_any_order_and_with_negative_axes(nb):
    shown = answer(nb, AXES, typed("(2,)", "(1, 0)", "0"))
    assert shown.count(": right.") == 3
    shown = answer(nb, AXES, typed("(-1,)", "(0, -2)", "(-3,)"))
    assert shown.count(": right.") == 3
    shown = answer(nb, AXES, typed("[2]", "{0, 1}", "[0]"))
    assert shown.count(": right.") == 3


@pytest.mark.parametrize(
    "answers, explanation",
    [
        # a: the generic slips (every axis, the kept axes, none) and its own
        (typed(a="(0, 1, 2)"), "That sums over every axis"),
        (typed(a="(0, 1)"), "where a already has the result's size"),
        (typed(a="()"), "none was added; but compare its sizes"),
        (typed(a="(0,)"), "Axis 0 has size 2 in a and in the result"),
        (typed(a="(1,)"), "Axis 1 has size 4 in a and in the result"),
        (typed(a="(0, 2)"), "Axis 0 has size 2 in a and in the result"),
        (typed(a="(1, 2)"), "Axis 1 has size 4 in a and in the result"),
        # b
        (typed(b="(0, 1, 2)"), "leaves one number"),
        (typed(b="(2,)"), "Those are the axes the input kept"),
        (typed(b="()"), "Summing over no axis"),
        (typed(b="(0,)"), "b's size-1 axis was copied too"),
        (typed(b="(1,)"), "the axis the broadcast added in front is summed too"),
        (typed(b="(0, 2)"), "Axes are numbered in the result"),
        (typed(b="(1, 2)"), "look at the one it lacks"),
        # c
        (typed(c="(0, 1, 2)"), "That sums over every axis"),
        (typed(c="(1, 2)"), "Those are the axes the input kept"),
        (typed(c="()"), "a leading axis was added"),
        (typed(c="(0, 2)"), "has size 1 as well: nothing was copied along it"),
        (typed(c="(2,)"), "an axis of the result that c does not have at all"),
        (typed(c="(1,)"), "Axis 1 has size 4 in c and in the result"),
        (typed(c="(0, 1)"), "Axis 1 has size 4 in c and in the result"),
    ],
)
def test_which_axes_explains_the_usual_mistakes(nb, answers, explanation):
    shown = answer(nb, AXES, answers)
    assert explanation in shown
    assert "is not right" in shown
    for line in shown.splitlines():
        if "is not right" in line:
            assert line.split(" is not right.")[1].strip()  # never a bare "not right"


def test_which_axes_shows_the_rule_on_a_second_miss(nb):
    nb.exec("from course_lib.teaching.hand_check import forget_attempts; forget_attempts()")
    first = answer(nb, AXES, typed(b="(0,)"))
    same = answer(nb, AXES, typed(a="(2,)", b="(0,)"))  # the cell runs again for a; b unchanged
    again = answer(nb, AXES, typed(b="(1,)"))
    assert "The rule:" not in first.split("axes for b")[1]
    assert "The rule:" not in same.split("axes for b")[1]
    assert "The rule:" in again.split("axes for b")[1]
    nb.exec("forget_attempts()")


def test_which_axes_takes_garbage_without_raising(nb):
    shown = answer(nb, AXES, typed("'abc'", "(0, 7)", "1e400"))
    assert "expected axes as integers" in shown
    assert "so 7 is not one of them" in shown
    assert "expected axes as integers" in shown.split("axes for c")[1]


# ---- the explorer ------------------------------------------------------------------------------


def test_explorer_bias_and_scalar_examples(nb):
    nb.exec('explorer.upstream_kind.value = "counting"')
    nb.exec('explorer.preset.value = "bias add (N, C) + (C,): (2, 3) + (3,)"')
    assert nb.eval("explorer.axes[1]") == ((0,), ())  # b: axis 0 added, nothing expanded
    np.testing.assert_array_equal(nb.eval("explorer.grads[1]"), [5.0, 7.0, 9.0])  # 1..6
    nb.exec('explorer.shape_b.value = "()"')
    assert nb.eval("float(explorer.grads[1])") == nb.eval("explorer.upstream.sum()") == 21.0
    nb.exec('explorer.preset.value = "3-D (2, 1, 3) + (4, 1)"')
    assert nb.eval("explorer.axes") == (((), (1,)), ((0,), (2,)))


def test_explorer_on_the_exercise_shapes_as_the_text_says_to_type_them(nb):
    assert "type `2, 4, 1` and\n`1, 3`, then `4, 1` as the second shape" in nb.markdown
    nb.exec('explorer.shape_a.value = "2, 4, 1"\nexplorer.shape_b.value = "1, 3"')
    (a_added, a_expanded), (b_added, b_expanded) = nb.eval("explorer.axes")
    assert a_added + a_expanded == exercise("broadcasting.axes_a").expected
    assert b_added + b_expanded == exercise("broadcasting.axes_b").expected
    nb.exec('explorer.shape_b.value = "4, 1"')
    c_added, c_expanded = nb.eval("explorer.axes[1]")
    assert c_added + c_expanded == exercise("broadcasting.axes_c").expected


# ---- matmul ----------------------------------------------------------------------------------


def test_matmul_two_by_two(nb):
    X, W, G = nb.eval("Xm.data"), nb.eval("Wm.data"), nb.eval("Gm")
    np.testing.assert_array_equal(nb.eval("Wm.grad"), [[7.0, -1.0], [10.0, -2.0]])
    np.testing.assert_array_equal(nb.eval("Xm.grad"), [[-1.0, -1.0], [10.0, 14.0]])
    np.testing.assert_array_equal(nb.eval("Wm.grad"), X.T @ G)
    np.testing.assert_array_equal(nb.eval("Xm.grad"), G @ W.T)
    np.testing.assert_array_equal(nb.eval("dW"), nb.eval("Wm.grad"))
    np.testing.assert_array_equal(nb.eval("dX"), nb.eval("Xm.grad"))
    assert exercise("broadcasting.dL_dW00").expected == nb.eval("Wm.grad[0, 0]")
    # the text: X G has the right shape and the wrong numbers
    assert (X @ G).shape == (2, 2) and (X @ G)[0, 0] != nb.eval("Wm.grad[0, 0]")
    assert "$X G$ has the right shape and the wrong numbers" in nb.markdown


@pytest.mark.parametrize(
    "typed, named",
    [
        ("7", "dL/dW00 = 7: right."),
        ("5", "transpose is missing"),
        ("1", "the one in Y00"),
        ("6", "the one in Y10"),
        ("3.5", "average of the paths"),
        ("-1", "the gradient of X00, not of W00"),
        ("19", "Y00, a forward value"),
        ("-7", "The sign is wrong"),
        ("14", "factor of 2"),
        ("0", "Zero would mean"),
        ("8", "W00 appears in Y00"),
    ],
)
def test_matmul_exercise_feedback(nb, typed, named):
    shown = said(nb, "dL_dW00", typed)
    assert named in shown
    assert "7" not in shown.split("is not right.")[-1].replace("dL/dW00 = 7: right.", "")


def test_printed_matmul_rule_is_the_engines_and_the_prose_explains_its_parts(nb):
    from course_lib.tensor.ops import matmul_backward

    _, shown = shown_once_right(
        nb, "matmul_backward", "my_matmul_backward", "show_rule_if_right(matmul_report"
    )
    assert shown == inspect.getsource(matmul_backward) + "\n"
    for internal in ("tensor_ops", "tensor_functions", "course_lib.", "fit_to_input"):
        assert internal not in shown  # no internal module in its docstring
    for internal in (".ctx", "out.data", "_matmul"):
        assert internal not in shown
    # what the rule reads that a learner has not met is said above it
    assert "requires_grad" in shown and "a.data" in shown
    prose = nb.markdown.split("the very function `backward()` runs")[1][:600]
    assert "`a.data` and `b.data`" in prose and "`None`" in prose
    assert nb.eval("Ym._rule") is matmul_backward  # the one the engine runs


def test_layer_check_passes_exactly(nb):
    assert nb.eval("layer_report.ok")
    assert nb.eval("layer_report.shapes") == ((4, 3), (3, 2), (2,))
    assert max(nb.eval("layer_report.max_abs_error")) < 1e-12


# ---- quiz and the page as a whole ------------------------------------------------------------


def test_the_quiz_accepts_exactly_its_right_option(nb):
    count = nb.eval("len(q3.options)")
    verdicts = [nb.eval(f"q3.answer({i}).correct") for i in range(count)]
    assert verdicts.count(True) == 1
    assert "which axes were added or expanded" in nb.eval("q3.options[q3.correct]")


def test_the_text_says_added_or_expanded_as_the_quiz_does(nb):
    assert "which axes\n   a broadcast added or expanded and sum over exactly those" in nb.markdown
    assert "which axes a broadcast expanded" not in nb.markdown.replace("\n", " ")


def test_the_next_notebook_is_04(nb):
    assert "Next: **[04 · checking gradients](04_checking_gradients.ipynb)**" in nb.markdown
    assert "05 · softmax" not in nb.markdown


def test_no_cell_asserts_patches_or_uses_internals(nb):
    for _, cell in nb.code_cells:
        lines = [s for s in cell.source.splitlines() if s.strip() and not s.startswith("#")]
        assert not all(line.lstrip().startswith("assert") for line in lines), cell.source
        banned_words = ("assert ", "mock", "requires_grad", "_matmul_backward", ".ctx")
        banned_calls = ("q3.answer(", "NBVAL", "check_axes", "quiz import check\n", "summed(")
        for banned in banned_words + banned_calls:
            assert banned not in cell.source.replace("my_matmul", ""), (banned, cell.source)


KEYS = ["dL_db0", "dL_dx0", "axes_a", "axes_b", "axes_c", "dL_dW00"]


def test_every_hand_check_is_keyed_with_nothing_but_the_learners_answer(nb):
    calls = []
    for _, cell in nb.code_cells:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
                key, answer_ = node.args
                assert not node.keywords
                assert isinstance(key, ast.Constant) and isinstance(answer_, ast.Name)
                assert key.value == f"broadcasting.{answer_.id}"
                calls.append(answer_.id)
    assert calls == KEYS


def test_no_graph_with_an_answer_is_differentiated_above_its_exercise(nb):
    order = [c.source for _, c in nb.code_cells]

    def at(marker: str) -> int:
        (index,) = [i for i, s in enumerate(order) if marker in s]
        return index

    assert at("Yb.backward(G)") > at("dL_db0 = ...")
    assert at("Lz.backward()") > at("dL_dx0 = ...")
    assert at("Wm = Tensor(") > at("dL_dW00 = ...")
    assert all("backward" not in s for s in order[at("Xb = Tensor(") : at("dL_db0 = ...")])
    assert all("backward" not in s for s in order[at("x = Tensor(") : at("dL_dx0 = ...")])


def test_confirmations_are_shown_only_on_running(nb):
    """The cells that confirm an exercise's answer are saved without outputs."""
    for marker in (
        "Yb.backward(G)",
        "Lz.backward()",
        "Ym.backward(Gm)",
        "dX, dW = matmul_backward",
    ):
        assert IGNORE in nb.cell(marker).metadata.get("tags", []), marker
    saved = nbformat.read(notebook_path("03"), as_version=4)
    for cell in saved.cells:
        if IGNORE in cell.metadata.get("tags", []):
            assert cell.outputs == [], cell.source


def spelled(array: np.ndarray) -> list[str]:
    """The ways a cell could show ``array``: numpy's print, a list, the drawing's numbers."""
    drawn = str(array.astype(int).tolist()) if np.all(array == array.astype(int)) else "-"
    return [str(array), str(array.tolist()), drawn, np.array2string(array, prefix="  grad ")]


def test_nothing_saved_above_an_exercise_shows_its_answer(nb):
    """Read the saved page top to bottom: no output above a check shows the gradient the
    exercise asks for (nor the rest of that gradient)."""
    answers = {
        "dL_db0": nb.eval("b.grad"),
        "dL_dx0": nb.eval("x.grad"),
        "dL_dW00": nb.eval("Wm.grad"),
    }
    saved = nbformat.read(notebook_path("03"), as_version=4)
    seen = ""
    for cell in saved.cells:
        if cell.cell_type != "code":
            continue
        for key, grad in answers.items():
            if f'check("broadcasting.{key}"' in cell.source:
                for form in spelled(grad):
                    assert form not in seen, (key, form)
        seen += output_text(cell, kinds=("stdout", "text/plain", "text/html"))


def test_the_text_says_nothing_false_about_square_matrices(nb):
    text = "\n".join(c.source for c in nb.nb.cells if c.cell_type == "markdown")
    assert "leave no other choice" not in text
    assert "When two of them are equal the shapes do not decide" in text


# ---- the code exercises: sum_to_shape and the matmul backward --------------------------------


def report(nb, exercise: str, code: str, name: str) -> str:
    """The checker's report (its text) for ``code``, which defines the function ``name``."""
    nb.exec(code)
    return nb.eval(f'str(check_exercise("{exercise}", {name}))')


def index_of(nb, containing: str) -> int:
    """The index of the one code cell whose source contains ``containing``."""
    (index,) = [
        i for i, c in enumerate(nb.nb.cells) if c.cell_type == "code" and containing in c.source
    ]
    return index


@pytest.mark.parametrize(
    "exercise_, function, printed",
    [
        ("sum_to_shape", "my_sum_to_shape", "show_rule_if_right(sum_report"),
        ("matmul_backward", "my_matmul_backward", "show_rule_if_right(matmul_report"),
    ],
)
def test_each_code_exercise_waits_for_the_learner_before_the_library_shows_its_version(
    nb, exercise_, function, printed
):
    cell = nb.cell(f"def {function}(")
    assert cell.metadata.get("tags") == ["exercise"]
    assert cell.source.rstrip().endswith("...")
    assert f"def {exercise_}(" not in cell.source  # never the library's name
    at = index_of(nb, f"def {function}(")
    solution = nb.nb.cells[at + 1]
    check = nb.nb.cells[at + 2]
    assert solution.cell_type == "markdown" and f"def {function}(" in solution.source
    assert (
        check.cell_type == "code" and f'check_exercise("{exercise_}", {function})' in check.source
    )
    assert "NOT WRITTEN YET" in output_text(check)  # Run All with the placeholder completes
    assert at < index_of(nb, printed)  # the printout comes after: it would give the answer
    # ... and shows the rule only once the check says right; saved empty
    assert IGNORE in nb.cell(printed).metadata.get("tags", [])
    assert "shows here once your" in nb.output(printed)
    saved = nbformat.read(notebook_path("03"), as_version=4)
    assert saved.cells[index_of(nb, printed)].outputs == []


def test_rerunning_the_exercise_cells_breaks_no_later_cell(nb):
    """A learner runs the placeholders again after the library's versions were imported: the
    library's names still hold the library's functions, the matmul solution (which calls
    sum_to_shape) is still right, and the confirmation cell shows the same."""
    for marker in ("def my_sum_to_shape(", "def my_matmul_backward("):
        nb.exec(nb.cell(marker).source)
    assert nb.eval("sum_to_shape is __import__('course_lib.tensor').tensor.sum_to_shape")
    assert nb.eval("matmul_backward is __import__('course_lib.tensor').tensor.matmul_backward")
    code = nb.solution("my_matmul_backward").replace("def my_matmul_backward(", "def again_mb(")
    shown = report(nb, "matmul_backward", code, "again_mb")
    assert shown.startswith("matmul_backward: RIGHT.")
    confirmation = nb.cell("dX, dW = matmul_backward(").source
    assert output_text(nb.exec(confirmation)) == nb.output("dX, dW = matmul_backward(")
    assert "[[7.0, -1.0], [10.0, -2.0]]" in nb.output("dX, dW = matmul_backward(")
    for marker in ("Yb.backward(G)", "Lz.backward()", "Ym.backward(Gm)"):
        again = nb.exec(nb.cell(marker).source)
        assert output_text(again, kinds=("stdout", "text/plain")) == nb.output(marker), marker


def test_the_sum_to_shape_solution_is_right(nb):
    code = nb.solution("my_sum_to_shape").replace("def my_sum_to_shape(", "def solution_sts(")
    shown = report(nb, "sum_to_shape", code, "solution_sts")
    assert shown.startswith("sum_to_shape: RIGHT. every output matches the engine in all 7 cases")


@pytest.mark.parametrize(
    "body, diagnosis",
    [
        ("    return grad", "has the shape of the broadcast result (4, 3), not its input's (3,)"),
        ("    return grad.sum()", "that sums over every axis"),
        (
            "    added = grad.ndim - len(shape)\n"
            "    grad = grad.sum(axis=tuple(range(added)))\n"
            "    ex = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] > 1)\n"
            "    return grad.sum(axis=ex)",
            "the expanded axes were dropped: keep them as size 1 (keepdims=True)",
        ),
        (
            "    return grad.sum(axis=0)",
            "that sums over axis 0 of grad; for an input of shape (4, 1)",
        ),
        (
            "    added = grad.ndim - len(shape)\n"
            "    grad = grad.mean(axis=tuple(range(added)))\n"
            "    ex = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] > 1)\n"
            "    return grad.mean(axis=ex, keepdims=True)",
            "that averages the copies",
        ),
        ("    return grad.reshape(shape)", "your function raised ValueError"),
    ],
)
def test_typical_wrong_sum_to_shape_versions_get_their_diagnosis(nb, body, diagnosis):
    shown = report(nb, "sum_to_shape", f"def wrong_sts(grad, shape):\n{body}", "wrong_sts")
    assert "sum_to_shape: RIGHT" not in shown
    assert diagnosis in shown.replace("\n    ", " ")


def test_the_matmul_solution_is_right(nb):
    code = nb.solution("my_matmul_backward").replace("def my_matmul_backward(", "def solution_mb(")
    shown = report(nb, "matmul_backward", code, "solution_mb")
    assert shown.startswith("matmul_backward: RIGHT. every output matches the engine in all 5")


@pytest.mark.parametrize(
    "body, diagnosis",
    [
        ("    return upstream @ B, A.T @ upstream", "with B as it is"),
        (
            "    return upstream @ B.T, (A.T @ upstream).T",
            "dB is transposed: that is upstreamᵀ @ A",
        ),
        (
            "    return upstream @ B.swapaxes(-1, -2), A.swapaxes(-1, -2) @ upstream",
            "dB has the shape of the broadcast result (5, 4, 2), not its input's (4, 2)",
        ),
        (
            "    return upstream @ B.T, A.T @ upstream",
            "raised ValueError",  # .T reverses every axis of the stack (5, 3, 4)
        ),
        (
            "    return -(upstream @ B.T), -(A.T @ upstream)",
            "the wrong sign everywhere",
        ),
    ],
)
def test_typical_wrong_matmul_versions_get_their_diagnosis(nb, body, diagnosis):
    shown = report(nb, "matmul_backward", f"def wrong_mb(upstream, A, B):\n{body}", "wrong_mb")
    assert "matmul_backward: RIGHT" not in shown
    assert diagnosis in shown.replace("\n    ", " ")


def test_the_answer_key_builds_the_notebooks_own_graphs(nb):
    """The key's slips (a row sum of G, the forward values) are computed on its own copy of the
    numbers: they must be the notebook's."""
    from course_lib.teaching.answers import broadcasting as key

    pairs = [
        (key.BIAS_X, "Xb.data"),
        (key.BIAS_B, "b.data"),
        (key.BIAS_G, "G"),
        (key.OUTER_X, "x.data"),
        (key.OUTER_Y, "y.data"),
        (key.MATMUL_X, "Xm.data"),
        (key.MATMUL_W, "Wm.data"),
        (key.MATMUL_G, "Gm"),
    ]
    for numbers, name in pairs:
        np.testing.assert_array_equal(np.asarray(numbers), nb.eval(name), err_msg=name)
