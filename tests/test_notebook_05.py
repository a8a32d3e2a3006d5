"""Notebook 05 (softmax couples everything), executed once: what it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here, and each fails when
the number or text the notebook shows is wrong: the hand row of the Jacobian and the feedback
for the usual mistakes, the matrix and its four properties, the VJP against the engine and the
dense product, stability, the bug gallery's verdicts, the explorer, the quiz, and the timing
appendix (which measures live and holds no assert).
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
from notebook_harness import notebook_fixture, output_text

nb = notebook_fixture("05")

ROW = "row_0 = [..., ..., ...]"


def answer(nb, typed: str) -> str:
    """Run the row exercise with ``typed`` in place of the learner's ``[..., ..., ...]``."""
    source = nb.cell(ROW).source
    assert ROW in source
    return output_text(nb.exec(source.replace(ROW, f"row_0 = {typed}")), kinds=("text/plain",))


def markdown(nb) -> list[str]:
    return [c.source for c in nb.nb.cells if c.cell_type == "markdown"]


# ---- one row by hand -------------------------------------------------------------------------


def test_forward_pass_matches_the_hand_numbers(nb):
    p = nb.eval("p.data")
    np.testing.assert_allclose(p, [0.090, 0.245, 0.665], atol=5e-4)
    assert np.isclose(p.sum(), 1.0)


def test_the_row_exercise_is_unanswered_and_accepts_the_solution(nb):
    assert "not answered yet" in nb.output(ROW)
    np.testing.assert_array_equal(np.round(nb.eval("J[0]"), 3), [0.082, -0.022, -0.060])
    assert ": right." in answer(nb, "[0.082, -0.022, -0.060]")
    assert ": right." in answer(nb, "[0.0819, -0.022, -0.0599]")


@pytest.mark.parametrize(
    "typed, explanation",
    [
        ("[0.082, 0.022, 0.060]", "Check the signs"),
        ("[0.082, 0, 0]", "the diagonal alone"),
        ("[-0.008, -0.022, -0.060]", "The diagonal entry has two parts"),
        ("[0.910, -0.245, -0.665]", "The factor p0 is missing"),
        ("[0.082, 0.068, 0.030]", "Kronecker delta as always 1"),
        ("[-0.022, 0.185, -0.163]", "That is row 1"),
        ("[0.082, -0.022, 0.5]", "entry 2 is off"),
        ("0.082", "expected 3 numbers"),
        ("['abc', 0, 0]", "expected a number like"),
        ("[1e400, 0, 0]", "expected a finite number"),
        ("[0.082, ..., ...]", "entry 1: not answered yet"),
    ],
)
def test_the_row_exercise_explains_the_usual_mistakes(nb, typed, explanation):
    shown = answer(nb, typed)
    assert explanation in shown
    assert ": right." not in shown


def mistakes(nb) -> list[tuple[list[float], str]]:
    """The ``mistakes=`` list of the row exercise's ``check`` call, read from its source."""
    tree = ast.parse(nb.cell(ROW).source)
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check"
    )
    (keyword,) = [k for k in call.keywords if k.arg == "mistakes"]
    return ast.literal_eval(keyword.value)


def test_every_mistake_in_the_list_is_really_wrong_and_is_the_mistake_it_names(nb):
    """A distractor equal to the answer would tell a right learner they are wrong; each one
    must be what the mistake it explains really gives."""
    J0, J1, pv = nb.eval("J[0]"), nb.eval("J[1]"), nb.eval("p.data")
    found = mistakes(nb)
    for pattern, _ in found:
        assert np.abs(np.array(pattern) - J0).max() > 0.01
    produced_by = {
        "Check the signs": np.abs(J0),
        "the diagonal alone": J0 * np.eye(3)[0],
        "The diagonal entry has two parts": -pv[0] * pv,
        "The factor p0 is missing": np.eye(3)[0] - pv,
        "Kronecker delta as always 1": pv[0] * (1 - pv),
        "That is row 1": J1,
    }
    assert len(found) == len(produced_by)
    for key, wrong in produced_by.items():
        (pattern,) = [pattern for pattern, why in found if key in why]
        np.testing.assert_allclose(pattern, wrong, atol=1e-4)


# ---- the whole matrix ------------------------------------------------------------------------


def test_the_matrix_is_the_formula(nb):
    J, pv = nb.eval("J"), nb.eval("p.data")
    np.testing.assert_allclose(J, np.diag(pv) - np.outer(pv, pv), atol=1e-15)
    np.testing.assert_allclose(nb.eval("J_formula"), J, atol=1e-15)
    assert nb.output("J_formula = ").endswith("the same as softmax_jacobian(z): True\n")


def test_the_four_facts(nb):
    J = nb.eval("J")
    assert (J != 0).all() and np.allclose(J, J.T)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-15)
    assert np.linalg.matrix_rank(J) == 2
    shown = nb.output('print("rank:')
    assert "zeros in J:          0" in shown and "symmetric:           True" in shown
    assert "row sums:            [0. 0. 0.]" in shown and "rank:                2 of 3" in shown
    np.testing.assert_allclose(nb.eval("softmax(Tensor(z.data + 100.0)).data"), nb.eval("p.data"))


# ---- reverse mode ----------------------------------------------------------------------------


def test_backward_the_vjp_and_the_dense_product_agree(nb):
    dense = nb.eval("J.T @ g")
    np.testing.assert_allclose(nb.eval("zt.grad"), dense, atol=1e-15)
    np.testing.assert_allclose(nb.eval("softmax_vjp(p.data, g)"), dense, atol=1e-15)
    lines = nb.output("softmax(zt).backward(g)").splitlines()
    assert len({line.split(":")[1] for line in lines}) == 1  # three identical rows shown


def test_the_printed_vjp_is_the_formula(nb):
    shown = nb.output("getsource(softmax_vjp)")
    assert "return p_arr * (g_arr - (g_arr * p_arr).sum(axis=axis, keepdims=True))" in shown


def test_jacobian_by_rows_and_by_differences(nb):
    J = nb.eval("J")
    assert np.abs(nb.eval("by_rows") - J).max() < 1e-15
    assert np.abs(nb.eval("by_differences") - J).max() < 1e-9
    assert nb.output("jacobian_reverse_mode(softmax").count("True") == 2


# ---- stability --------------------------------------------------------------------------------


def test_naive_softmax_overflows_and_the_library_does_not(nb):
    assert np.isnan(nb.eval("naive")).all()
    np.testing.assert_allclose(nb.eval("stable"), nb.eval("p.data"), atol=1e-15)
    assert np.isneginf(nb.eval("via_log_of_softmax")[0])
    np.testing.assert_allclose(nb.eval("log_softmax(Tensor(far)).data"), [-1000.0, 0.0])


# ---- the bug gallery -------------------------------------------------------------------------


def test_the_references_are_right(nb):
    Z, G = nb.eval("Z"), nb.eval("G")
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dense = np.stack([(np.diag(p) - np.outer(p, p)).T @ g for p, g in zip(P, G, strict=True)])
    np.testing.assert_allclose(nb.eval("softmax_reference"), dense, atol=1e-8)
    log_dense = np.stack([(np.eye(3) - p[None, :]).T @ g for p, g in zip(P, G, strict=True)])
    np.testing.assert_allclose(nb.eval("log_softmax_reference"), log_dense, atol=1e-8)
    assert nb.output("vjp_by_differences(softmax, Z, G)").count("agrees") == 2


@pytest.mark.parametrize(
    "bug, rule, inputs, reference",
    [
        (1, "log_softmax_vjp_J_not_JT", "log_P, G", "log_softmax_reference"),
        (2, "softmax_vjp_wrong_axis", "P, G", "softmax_reference"),
        (3, "softmax_vjp_diagonal_only", "P, G", "softmax_reference"),
    ],
)
def test_each_bug_keeps_the_shape_and_gets_the_numbers_wrong(nb, bug, rule, inputs, reference):
    wrong = nb.eval(f"{rule}({inputs})")
    assert wrong.shape == (2, 3)
    error = np.abs(wrong - nb.eval(reference)).max()
    assert error > 0.1
    assert nb.output(f'print("bug {bug}:') == f"bug {bug}: WRONG: largest error {error:.2f}\n"


def test_the_engine_passes_the_same_comparison(nb):
    assert nb.eval("[report.ok for report in engine.values()]") == [True, True]
    assert nb.eval("max(max(r.max_abs_error) for r in engine.values())") < 1e-8
    assert nb.output("engine.items()").count(": True") == 2


# ---- the explorer ------------------------------------------------------------------------------


def test_the_explorer_computes_j_three_ways_and_contrasts_the_sigmoid(nb):
    # Set every state this test reads (a learner may have moved anything).
    nb.exec(
        "explorer.classes.value = 3\n"
        "explorer.temperature.value = 1.0\n"
        "for s, v in zip(explorer.logit_sliders, (1.0, 2.0, 3.0)):\n"
        "    s.value = v\n"
        "explorer.mode.value = 'analytic'\n"
        "explorer.contrast.value = False\n"
    )
    np.testing.assert_allclose(nb.eval("explorer.analytic"), nb.eval("J"), atol=1e-15)
    nb.exec("explorer.mode.value = 'reverse mode'")
    assert nb.eval("explorer.differences['reverse mode']") < 1e-12
    nb.exec("explorer.mode.value = 'finite differences'")
    assert nb.eval("explorer.differences['finite differences']") < 1e-8
    nb.exec("explorer.contrast.value = True")
    sig = nb.eval("explorer.sigmoid_jacobian")
    assert np.all(sig - np.diag(np.diag(sig)) == 0) and np.all(np.diag(sig) > 0)
    nb.exec("explorer.classes.value = 10")  # what broke the old 'same from code' cell
    assert nb.eval("explorer.jacobian.shape") == (10, 10)


# ---- quiz, text, and the page as a whole -----------------------------------------------------


def test_the_quiz_accepts_exactly_its_right_option(nb):
    count = nb.eval("len(q1.options)")
    verdicts = [nb.eval(f"q1.answer({i}).correct") for i in range(count)]
    assert verdicts.count(True) == 1
    assert "dense" in nb.eval("q1.options[q1.correct]")


def test_no_cell_asserts_patches_or_uses_internals(nb):
    for _, cell in nb.code_cells:
        for banned in ("assert", "mock", "_softmax_backward", ".ctx", "requires_grad",
                       "q1.answer("):  # fmt: skip
            assert banned not in cell.source, (banned, cell.source)


def test_timing_lives_only_in_the_appendix(nb):
    code = nb.code_cells
    timed = [i for i, c in code if "timeit" in c.source]
    assert timed == [code[-1][0]]  # the last code cell, after the quiz
    last = code[-1][1]
    assert last.source.startswith("# NBVAL_IGNORE_OUTPUT")
    shown = output_text(last)
    assert "the same vector both ways: True" in shown and "times faster" in shown
    text = "\n".join(markdown(nb))
    assert "Appendix (optional)" in text
    for saved_number in (" ms", "x faster", "times faster"):
        assert saved_number not in text


def test_terms_are_defined_before_use(nb):
    cells = nb.nb.cells
    first = cells[0].source
    assert "The **Jacobian**" in first and "looks* elementwise" in first
    assert "Until now every op had a small, local Jacobian" not in first
    explorer_at = next(i for i, c in enumerate(cells) if "jacobian_explorer(" in c.source)
    defined_at = next(i for i, c in enumerate(cells) if "The **temperature** $T$" in c.source)
    assert defined_at < explorer_at
    assert "vector-Jacobian product** (VJP)" in "\n".join(markdown(nb))


# ---- the code exercise: the softmax VJP ------------------------------------------------------


def report(nb, code: str, name: str) -> str:
    nb.exec(code)
    return nb.eval(f'str(check_exercise("softmax_vjp", {name}))')


def test_the_vjp_exercise_waits_for_the_learner_before_the_library_shows_its_version(nb):
    code = [(i, c) for i, c in enumerate(nb.nb.cells) if c.cell_type == "code"]
    (at,) = [i for i, c in code if "def softmax_vjp(" in c.source]
    (printed,) = [i for i, c in code if "getsource(softmax_vjp)" in c.source]
    cells = nb.nb.cells
    assert cells[at].metadata.get("tags") == ["exercise"]
    assert cells[at].source.rstrip().endswith("...")
    assert cells[at + 1].cell_type == "markdown" and "def softmax_vjp(" in cells[at + 1].source
    assert 'check_exercise("softmax_vjp", softmax_vjp)' in cells[at + 2].source
    assert "NOT WRITTEN YET" in output_text(cells[at + 2])
    assert at < printed  # the library's version, printed after: it would give the answer away
    assert "from course_lib.kernels import softmax_vjp" in cells[printed].source


def test_the_vjp_solution_is_right_and_cheap(nb):
    code = nb.solution("softmax_vjp").replace("def softmax_vjp(", "def solution_vjp(")
    shown = report(nb, code, "solution_vjp")
    assert shown.startswith("softmax_vjp: RIGHT. every output matches the engine in all 4 cases")


@pytest.mark.parametrize(
    "body, diagnosis",
    [
        ("    return upstream * p * (1 - p)", "keeps only the diagonal p_i(1 − p_i)"),
        (
            "    return p * (upstream - (upstream * p).sum(axis=0, keepdims=True))",
            "summed over axis 0, across the examples of the batch",
        ),
        (
            "    return p * (upstream - upstream.sum(axis=-1, keepdims=True))",
            "the p-weighted sum Σ_i g_i p_i, not the plain sum",
        ),
        ("    return upstream - (upstream * p).sum(axis=-1, keepdims=True)", "factor p is missing"),
        (
            "    rows = []\n"
            "    for r, g in zip(np.atleast_2d(p), np.atleast_2d(upstream)):\n"
            "        J = np.diag(r) - np.outer(r, r)  # the dense C x C Jacobian of one row\n"
            "        rows.append(J.T @ g)\n"
            "    return np.array(rows).reshape(p.shape)",
            "as much as building the 2000 × 2000 Jacobian",
        ),
        (
            "    return p * (upstream - (upstream * p).sum(axis=-1))",
            "your function raised ValueError",  # no keepdims: a batch (4, 5) meets a vector (4,)
        ),
    ],
)
def test_typical_wrong_vjps_get_their_diagnosis(nb, body, diagnosis):
    shown = report(nb, f"def wrong_vjp(p, upstream):\n{body}", "wrong_vjp")
    assert "softmax_vjp: RIGHT" not in shown
    assert diagnosis in shown.replace("\n    ", " ")
