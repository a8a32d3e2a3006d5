"""Notebook 03 (tensors and broadcasting), executed once: what it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here. Each one fails when
the number, shape or text the notebook shows is wrong: the engine's gradients, the missing-sum
demonstration, the printed library code, the exercises' expected answers and the feedback a
learner gets for the usual mistakes, the explorer, and the quiz.
"""

from __future__ import annotations

import numpy as np
import pytest
from notebook_harness import notebook_fixture, output_text

nb = notebook_fixture("03")


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


def test_bias_exercise_feedback(nb):
    assert "not answered yet" in nb.output("dL_db0 = ...")
    assert "right" in answer(nb, "dL_db0 = ...", {"dL_db0 = ...": "dL_db0 = 7"})
    assert "average" in answer(nb, "dL_db0 = ...", {"dL_db0 = ...": "dL_db0 = 3.5"})
    assert "axis 0" in answer(nb, "dL_db0 = ...", {"dL_db0 = ...": "dL_db0 = 4"})


def test_outer_product_gradients_keep_their_size_one_axes(nb):
    np.testing.assert_array_equal(nb.eval("x.grad"), [[10.0], [10.0], [10.0]])
    np.testing.assert_array_equal(nb.eval("y.grad"), [[6.0, 6.0, 6.0, 6.0]])
    assert "right" in answer(nb, "dL_dx0 = ...", {"dL_dx0 = ...": "dL_dx0 = 10"})
    assert "y's gradient" in answer(nb, "dL_dx0 = ...", {"dL_dx0 = ...": "dL_dx0 = 6"})


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
        "from course_lib.check import tensor_gradient_check as _tgc\n"
        "import course_lib.tensor as _t\n"
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


def test_the_printed_helpers_are_the_plain_ones_the_engine_runs(nb):
    shown = nb.output("getsource(sum_to_shape)")
    assert "def broadcast_axes(" in shown and "def sum_to_shape(" in shown
    assert "added, expanded = broadcast_axes(shape, grad.shape)" in shown
    for internal in ("requires_grad", "_ZERO", ".ctx", "_fit"):
        assert internal not in shown
    assert nb.output("undo broadcasting: the one place").startswith(
        "grad = sum_to_shape(grad, data.shape)"
    )
    np.testing.assert_array_equal(nb.eval("sum_to_shape(raw, (3, 1))"), nb.eval("x.grad"))


def test_incompatible_shapes_are_refused_with_both_shapes_named(nb):
    assert nb.output("Tensor(np.ones(5))").startswith("add: cannot broadcast (3, 4) with (5,)")


# ---- which axes: the card's broadcasting exercise --------------------------------------------

AXES = "axes_a = ..."


def typed(a: str = "...", b: str = "...", c: str = "...") -> dict[str, str]:
    return {"axes_a = ...": f"axes_a = {a}", "axes_b = ...": f"axes_b = {b}",
            "axes_c = ...": f"axes_c = {c}"}  # fmt: skip


def test_which_axes_expected_answers(nb):
    assert nb.eval("summed((2, 1, 3), (2, 4, 3))") == (1,)
    assert nb.eval("summed((4, 1), (2, 4, 3))") == (0, 2)
    assert nb.eval("summed((1, 3), (2, 1, 3))") == (0,)
    assert nb.output(AXES).count("not answered yet") == 3


def test_which_axes_accepts_the_solution_in_any_order_and_with_negative_axes(nb):
    shown = answer(nb, AXES, typed("(1,)", "(2, 0)", "0"))
    assert shown.count(": right.") == 3
    shown = answer(nb, AXES, typed("(-2,)", "(0, -1)", "(-3,)"))
    assert shown.count(": right.") == 3


@pytest.mark.parametrize(
    "answers, explanation",
    [
        (typed(a="()"), "each entry was copied 4 times along axis 1"),
        (typed(a="(0, 2)"), "Those are b's axes"),
        (typed(b="(0,)"), "was expanded too"),
        (typed(b="(2,)"), "that added leading axis is summed too"),
        (typed(b="(0, 1)"), "Axes are numbered in the result"),
        (typed(b="(0, 1, 2)"), "leaves one number"),
        (typed(c="(0, 1)"), "has size 1 as well: nothing was copied along it"),
        (typed(c="()"), "the leading axis 0 was added"),
    ],
)
def test_which_axes_explains_the_usual_mistakes(nb, answers, explanation):
    shown = answer(nb, AXES, answers)
    assert explanation in shown
    assert "is not right" in shown


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
    assert nb.eval("explorer.axes") == (((), (1,)), ((0,), (2,)))  # the exercise's answers
    nb.exec('explorer.shape_b.value = "1, 3"')
    assert nb.eval("explorer.axes[1]") == ((0,), ())


# ---- matmul ----------------------------------------------------------------------------------


def test_matmul_two_by_two(nb):
    X, W, G = nb.eval("Xm.data"), nb.eval("Wm.data"), nb.eval("Gm")
    np.testing.assert_array_equal(nb.eval("Wm.grad"), [[7.0, -1.0], [10.0, -2.0]])
    np.testing.assert_array_equal(nb.eval("Xm.grad"), [[-1.0, -1.0], [10.0, 14.0]])
    np.testing.assert_array_equal(nb.eval("Wm.grad"), X.T @ G)
    np.testing.assert_array_equal(nb.eval("Xm.grad"), G @ W.T)
    np.testing.assert_array_equal(nb.eval("dW"), nb.eval("Wm.grad"))
    np.testing.assert_array_equal(nb.eval("dX"), nb.eval("Xm.grad"))
    assert "right" in answer(nb, "dL_dW00 = ...", {"dL_dW00 = ...": "dL_dW00 = 7"})
    assert "transpose is missing" in answer(nb, "dL_dW00 = ...", {"dL_dW00 = ...": "dL_dW00 = 5"})
    # the text: X G has the right shape and the wrong numbers (the 5 distractor)
    assert (X @ G).shape == (2, 2) and (X @ G)[0, 0] == 5.0


def test_printed_matmul_rule_is_plain(nb):
    shown = nb.output("getsource(matmul_backward)")
    assert "def matmul_backward(" in shown
    for internal in ("requires_grad", ".ctx", "out.data", "_matmul"):
        assert internal not in shown


def test_layer_check_passes_exactly(nb):
    assert nb.eval("layer_report.ok")
    assert nb.eval("layer_report.shapes") == ((4, 3), (3, 2), (2,))
    assert max(nb.eval("layer_report.max_abs_error")) < 1e-12


# ---- quiz and the page as a whole ------------------------------------------------------------


def test_the_quiz_accepts_exactly_its_right_option(nb):
    count = nb.eval("len(q3.options)")
    verdicts = [nb.eval(f"q3.answer({i}).correct") for i in range(count)]
    assert verdicts.count(True) == 1
    assert "which axes were expanded" in nb.eval("q3.options[q3.correct]")


def test_no_cell_asserts_patches_or_uses_internals(nb):
    for _, cell in nb.code_cells:
        lines = [s for s in cell.source.splitlines() if s.strip() and not s.startswith("#")]
        assert not all(line.lstrip().startswith("assert") for line in lines), cell.source
        for banned in ("assert ", "mock", "requires_grad", "_matmul_backward", ".ctx",
                       "q3.answer("):  # fmt: skip
            assert banned not in cell.source, (banned, cell.source)


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
    "exercise, printed",
    [
        ("sum_to_shape", "getsource(sum_to_shape)"),
        ("matmul_backward", "getsource(matmul_backward)"),
    ],
)
def test_each_code_exercise_waits_for_the_learner_before_the_library_shows_its_version(
    nb, exercise, printed
):
    cell = nb.cell(f"def {exercise}(")
    assert cell.metadata.get("tags") == ["exercise"]
    assert cell.source.rstrip().endswith("...")
    at = index_of(nb, f"def {exercise}(")
    solution = nb.nb.cells[at + 1]
    check = nb.nb.cells[at + 2]
    assert solution.cell_type == "markdown" and f"def {exercise}(" in solution.source
    assert check.cell_type == "code" and f'check_exercise("{exercise}", {exercise})' in check.source
    assert "NOT WRITTEN YET" in output_text(check)  # Run All with the placeholder completes
    assert at < index_of(nb, printed)  # the printout comes after: it would give the answer


def test_the_sum_to_shape_solution_is_right(nb):
    code = nb.solution("sum_to_shape").replace("def sum_to_shape(", "def solution_sts(")
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
    code = nb.solution("matmul_backward").replace("def matmul_backward(", "def solution_mb(")
    shown = report(nb, "matmul_backward", code, "solution_mb")
    assert shown.startswith("matmul_backward: RIGHT. every output matches the engine in all 5")


@pytest.mark.parametrize(
    "body, diagnosis",
    [
        ("    return upstream @ B, A.T @ upstream", "B must be transposed, dA = upstream @ Bᵀ"),
        (
            "    return upstream @ B.T, (A.T @ upstream).T",
            "dB is transposed: that is (Aᵀ @ upstream)ᵀ",
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
