"""Notebook 05 (softmax couples everything), executed once: what it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here, and each fails when
the number or text the notebook shows is wrong: the hand row of the Jacobian (its answer in the
library's key, held to the notebook's engine) and the feedback for the usual slips, nothing on
the page that shows the row before it is asked, the matrix and its four properties, the VJP
against the engine and the dense product, stability, the bug gallery's verdicts and where its
bugs hide, the explorer, the quiz, re-running cells, and the timing appendix (which measures
live and holds no assert).
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from notebook_harness import notebook_fixture, notebook_path, output_text

from course_lib import kernels
from course_lib.teaching.answers import exercise

nb = notebook_fixture("05")

ROW = "row_0 = [..., ..., ...]"
IGNORE = "nbval-ignore-output"


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


def test_the_row_exercise_is_keyed_and_its_answer_is_the_engine_s(nb):
    source = nb.cell(ROW).source
    assert 'check("softmax.row_0", row_0)' in source
    for shown_elsewhere in ("J", "softmax_jacobian", "0.08", "0.02", "0.06", "mistakes"):
        assert shown_elsewhere not in source.replace("row_0", ""), shown_elsewhere
    assert "not answered yet" in nb.output(ROW)
    assert "to 3 decimal places" in nb.output(ROW)
    task = exercise("softmax.row_0")
    np.testing.assert_allclose(task.expected_values(), nb.eval("J[0]"), atol=1e-15)
    np.testing.assert_array_equal(np.round(nb.eval("J[0]"), 3), [0.082, -0.022, -0.060])
    # the precision the prose states is the one the key holds
    assert task.precision.describe() == "to 3 decimal places"
    above = nb.markdown.split("**Exercise:** compute the whole row 0")[1].split("<details>")[0]
    assert "each entry to 3 decimal places" in above


@pytest.mark.parametrize(
    "typed",
    [
        "[0.082, -0.022, -0.060]",
        "[0.0819, -0.022, -0.0599]",
        "[0.082, -0.022, -0.059]",  # cut off, not rounded
        "[0.090 * 0.910, -0.090 * 0.245, -0.090 * 0.665]",  # from the rounded p
        "np.array([0.082, -0.022, -0.060])",
        "(0.082, -0.022, -0.06)",
    ],
)
def test_the_row_exercise_accepts_the_row_at_the_stated_precision(nb, typed):
    assert "row 0 = [" in answer(nb, typed) and ": right." in answer(nb, typed)


@pytest.mark.parametrize(
    "typed, explanation",
    [
        # the exercise's own slips
        ("[0.082, 0.022, 0.060]", "the other two have the wrong sign"),
        ("[0.082, 0, 0]", "the diagonal entry alone"),
        ("[0.090, 0, 0]", "differentiates the numerator only"),
        ("[-0.008, -0.022, -0.060]", "The diagonal entry has two parts"),
        ("[0.910, -0.245, -0.665]", "The factor p0 in front of every entry is missing"),
        ("[0.082, 0.068, 0.030]", "Kronecker delta were always 1"),
        ("[0.082, 0.185, 0.223]", "the diagonal of J"),
        ("[-0.022, 0.185, -0.163]", "That is row 1"),
        ("[0.08, -0.02, -0.06]", "rounded to 2 decimal places"),
        ("[0.090, 0.245, 0.665]", "That is p itself"),
        # the generic ones
        ("[-0.082, 0.022, 0.060]", "Every sign is wrong"),
        ("[0.164, -0.044, -0.120]", "off by the same factor of 2"),
        ("[0.041, -0.011, -0.030]", "off by the same factor of 2"),
        ("[0, 0, 0]", "All zeros would mean"),
        ("[0.082, -0.022, 0.5]", "Entry 2 (counting from 0) is off. Row 0 holds"),
        ("[0.3, -0.022, -0.060]", "Entry 0 (counting from 0) is off. Row 0 holds"),
        # what is not a row of numbers
        ("0.082", "expected 3 numbers"),
        ("[0.082, -0.022]", "expected 3 numbers, got 2"),
        ("'abc'", "expected 3 numbers"),
        ("['abc', 0, 0]", "expected a number like"),
        ("[1e400, 0, 0]", "expected a finite number"),
        ("[0.082, ..., ...]", "entry 1: not answered yet"),
        ("[]", "not answered yet"),
    ],
)
def test_the_row_exercise_names_every_slip(nb, typed, explanation):
    shown = answer(nb, typed)
    assert explanation in shown
    assert ": right." not in shown
    after = shown.split(" is not right.", 1)
    if len(after) == 2:
        assert after[1].strip()  # never a bare "not right"
        for entry in ("0.082", "0.022", "0.06", "0.0819", "0.0599"):  # nor the answer quoted
            assert entry not in after[1], entry


def test_every_slip_is_the_mistake_it_names(nb):
    """Each slip's row is what its mistake gives with the notebook's p and J; none is right."""
    J, pv = nb.eval("J"), nb.eval("p.data")
    e0 = np.eye(3)[0]
    produced_by = {
        "the other two have the wrong sign": np.abs(J[0]),
        "the diagonal entry alone": J[0] * e0,
        "differentiates the numerator only": pv[0] * e0,
        "The diagonal entry has two parts": -pv[0] * pv,
        "The diagonal entry is missing a part": np.where(e0 == 1, pv[0], J[0]),
        "The factor p0 in front of every entry is missing": e0 - pv,
        "Kronecker delta were always 1": pv[0] * (1 - pv),
        "the diagonal of J": np.diag(J),
        "That is row 1": J[1],
        "rounded to 2 decimal places": np.round(J[0], 2),
        "That is p itself": pv,
    }
    slips = exercise("softmax.row_0").slips
    assert len(slips) == len(produced_by)
    for key, wrong in produced_by.items():
        (slip,) = [s for s in slips if key in s.says]
        np.testing.assert_allclose(slip.gives, wrong, atol=1e-12)
        assert np.abs(np.asarray(slip.gives) - J[0]).max() > 1e-3  # really wrong at 3 decimals


def test_a_second_wrong_row_shows_the_rule(nb):
    nb.exec("from course_lib.teaching.hand_check import forget_attempts\nforget_attempts()")
    first = answer(nb, "[0.3, 0, 0]")
    same = answer(nb, "[0.3, 0, 0]")  # the same row checked again: the same attempt
    second = answer(nb, "[0.3, 0.1, 0]")
    assert "The rule:" not in first and "The rule:" not in same
    assert "The rule: ∂p0/∂z_j = p0 (δ_0j − p_j)" in second
    nb.exec("forget_attempts()")


def test_nothing_above_the_row_exercise_shows_the_row(nb):
    cells = nb.nb.cells
    at = next(i for i, c in enumerate(cells) if ROW in c.source)
    saved = nbformat.read(notebook_path("05"), as_version=4).cells
    above = "\n".join(
        c.source + output_text(saved[i], kinds=("stdout", "text/plain", "text/html"))
        for i, c in enumerate(cells[:at])
    )
    for entry in ("0.082", "0.0819", "0.022", "0.0220", "0.060", "0.0599", "0.05989"):
        assert entry not in above, entry
    # J is built after the exercise, where the notebook confirms it
    assert "softmax_jacobian" not in above
    built = next(
        i for i, c in enumerate(cells) if "J = kernels.softmax_jacobian(z.data)" in c.source
    )
    assert built > at


def test_confirmations_below_the_exercises_are_saved_without_outputs(nb):
    for marker in ("J_formula = np.diag(pv)", "show_rule_if_right(vjp_report"):
        assert IGNORE in nb.cell(marker).metadata.get("tags", []), marker
    (bare_j,) = [c for _, c in nb.code_cells if c.source.strip() == "J"]
    assert IGNORE in bare_j.metadata.get("tags", [])
    saved = nbformat.read(notebook_path("05"), as_version=4)
    for cell in saved.cells:
        if IGNORE in cell.metadata.get("tags", []):
            assert cell.outputs == [], cell.source


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


RULE = "show_rule_if_right(vjp_report, softmax_vjp)"


def test_the_library_vjp_shows_only_once_the_learners_is_right(nb):
    """The rule cell prints softmax_vjp's source only after the check said RIGHT; before, a
    sentence, and the cells below it work all the same (they use the library's function)."""
    assert nb.eval("softmax_vjp.__module__") == "course_lib.kernels.softmax"
    check = nb.cell('vjp_report = check_exercise("softmax_vjp", my_softmax_vjp)')
    rule = nb.cell(RULE)
    assert IGNORE in rule.metadata.get("tags", [])
    waiting = nb.output(RULE)  # the notebook ran with the placeholder
    assert "shows here once your my_softmax_vjp is right" in waiting and "def " not in waiting
    assert nb.output("softmax(zt).backward(g)").count("[") == 3  # the cells below still run
    solution = nb.solution("my_softmax_vjp")
    try:
        nb.exec(solution)  # the learner writes it, then runs the check and the rule cell
        nb.exec(check.source)
        shown = output_text(nb.exec(rule.source))
        assert shown.startswith("def softmax_vjp(")
        assert "grad = p * (g - (g * p).sum(axis=axis, keepdims=True))" in shown
        assert "raise" not in shown and "check_probabilities" not in shown  # one checked call
        # a wrong function: the check says so and the rule hides again
        nb.exec("def my_softmax_vjp(p, upstream):\n    return upstream * p * (1 - p)")
        nb.exec(check.source)
        assert "def " not in output_text(nb.exec(rule.source))
    finally:
        nb.exec(nb.cell("def my_softmax_vjp(").source)  # the placeholder again
        nb.exec(check.source)


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
    timed = [i for i, c in code if "timeit." in c.source]
    assert timed == [code[-1][0]]  # the last code cell, after the quiz
    last = code[-1][1]
    assert IGNORE in last.metadata.get("tags", [])  # a tag, not a comment a learner reads
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
    (at,) = [i for i, c in code if "def my_softmax_vjp(" in c.source]
    (printed,) = [i for i, c in code if RULE in c.source]
    cells = nb.nb.cells
    assert cells[at].metadata.get("tags") == ["exercise"]
    assert cells[at].source.rstrip().endswith("...")
    assert cells[at + 1].cell_type == "markdown" and "def my_softmax_vjp(" in cells[at + 1].source
    assert 'vjp_report = check_exercise("softmax_vjp", my_softmax_vjp)' in cells[at + 2].source
    shown = output_text(cells[at + 2])
    assert "NOT WRITTEN YET" in shown
    assert "replace the `...` in my_softmax_vjp(p, upstream)" in shown
    assert at < printed  # the library's version, printed after: it would give the answer away
    assert cells[printed].source.strip() == f"print({RULE})"


def test_the_vjp_solution_is_right_and_cheap(nb):
    code = nb.solution("my_softmax_vjp").replace("def my_softmax_vjp(", "def solution_vjp(")
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


# ---- re-running cells ------------------------------------------------------------------------


def test_the_exercise_cells_shadow_no_library_name_and_later_cells_run_again(nb):
    """Re-running the VJP exercise (its placeholder) after the cells below it, then those cells
    again, changes nothing: the learner's function has its own name, and the later cells use the
    library's softmax_vjp (a re-run used to leave the placeholder there: None, then TypeError)."""
    later = [
        "softmax(zt).backward(g)",
        "vjp_by_differences(softmax, Z, G)",
        "def softmax_vjp_wrong_axis",
        "engine.items()",
    ]
    before = {marker: nb.output(marker) for marker in later}
    for exercise_cell in (ROW, "def my_softmax_vjp(", 'check_exercise("softmax_vjp"'):
        nb.exec(nb.cell(exercise_cell).source)
    assert nb.eval("softmax_vjp.__module__") == "course_lib.kernels.softmax"
    for marker in later:
        assert output_text(nb.exec(nb.cell(marker).source)) == before[marker], marker
    timing = nb.exec(nb.cell("t_dense = min(timeit").source)
    assert "the same vector both ways: True" in output_text(timing)
    # the cells that build J, run again after everything, show the same
    built = "J = kernels.softmax_jacobian(z.data)"
    assert output_text(nb.exec(nb.cell(built).source)) == nb.output(built)


# ---- what the page says --------------------------------------------------------------------


def test_where_two_of_the_bugs_hide(nb):
    """ "mixing up J and Jᵀ does no harm wherever J is symmetric, as softmax's is, and summing
    over axis 0 is right when p is a single vector of shape (C,)"."""
    J, g = nb.eval("J"), nb.eval("g")
    np.testing.assert_allclose(J @ g, J.T @ g, atol=1e-15)
    for row in range(2):
        one = nb.eval(f"softmax_vjp_wrong_axis(P[{row}], G[{row}])")
        np.testing.assert_allclose(one, nb.eval(f"softmax_reference[{row}]"), atol=1e-8)
        # a batch of one row is not safe: axis 0 is then the batch axis
        batch_of_one = nb.eval(f"softmax_vjp_wrong_axis(P[{row}:{row} + 1], G[{row}:{row} + 1])")
        assert np.abs(batch_of_one - nb.eval(f"softmax_reference[{row}:{row} + 1]")).max() > 0.1
    text = nb.markdown
    assert "does no harm\nwherever $J$ is symmetric" in text
    assert "a single vector of shape $(C,)$" in text


def test_the_card_is_the_study_card_of_notebook_00(nb):
    text = nb.markdown
    assert "The study card the course grew from (notebook 00)" in text
    assert "Card question 1 of the study card (notebook 00)" in text
    assert "The card puts it" not in text
    assert "dense" in nb.eval("q1.prompt + q1.options[q1.correct]")


def test_learner_cells_hold_no_maintainer_text(nb):
    for cell in nb.nb.cells:
        assert "NBVAL" not in cell.source.upper(), cell.source[:60]
        for maintainer in ("course's tests", "test_notebook", "pytest", "2-core", "are tested"):
            assert maintainer not in cell.source, (maintainer, cell.source[:60])


# ---- the review's findings -----------------------------------------------------------------


def test_the_printed_softmax_docstring_says_where_p_underflows(nb):
    """ "a 0 only where a p_i underflows, below about 5e-324 (z_i - m < -745) in float64": the
    subnormals reach below 1e-308, so a p_i of 4e-322 is still positive."""
    shown = nb.output("print(inspect.getsource(kernels.softmax))")
    text = " ".join(shown.split())
    assert "below about 5e-324 (z_i - m < -745) in float64" in text
    assert "1e-308" not in shown
    softmax = kernels.softmax
    tiny = softmax(np.array([0.0, -740.0]))[1]
    assert 0 < tiny < 1e-308  # far below ~1e-308, and not 0
    assert softmax(np.array([0.0, -745.0]))[1] > 0  # the smallest subnormal, about 5e-324
    assert f"{softmax(np.array([0.0, -745.0]))[1]:.0e}" == "5e-324"
    assert softmax(np.array([0.0, -746.0]))[1] == 0.0  # z_i - m < -745: 0
    assert softmax(np.array([0.0, -746.0])).sum() == 1.0


def test_next_links_to_notebook_06(nb):
    assert "Next: **[06 · cross-entropy on softmax](06_cross_entropy_softmax.ipynb)**" in (
        nb.markdown
    )
    assert notebook_path("06").name == "06_cross_entropy_softmax.ipynb"


def test_every_import_is_in_the_first_code_cell(nb):
    """After a restart, running the first code cell is enough for any later cell's imports: none
    hides in an exercise cell a learner may leave broken or skip."""
    (_, top), *rest = nb.code_cells
    assert "import numpy as np" in top.source
    for _, cell in rest:
        for line in cell.source.splitlines():
            assert not line.startswith(("import ", "from ")), line
