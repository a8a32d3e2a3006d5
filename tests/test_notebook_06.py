"""Notebook 06 (cross-entropy on softmax), executed once: what it shows is right.

The checks that used to be ``assert`` cells in the notebook live here. Each one reads the
notebook's namespace or a cell's output, so a wrong number in the notebook (or a wrong rule in
the library it calls) fails here, while the learner only sees the teaching cells.
"""

from __future__ import annotations

import ast
import inspect
import math
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib import kernels
from course_lib.teaching.answers import exercise

nb = notebook_fixture("06")
IGNORE = "nbval-ignore-output"


def cell_index(run, containing: str) -> int:
    found = [i for i, c in run.code_cells if containing in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {containing!r}"
    return found[0]


def markdown_before(run, marker: str) -> str:
    """The markdown of every cell above the code cell containing ``marker``."""
    index = cell_index(run, marker)
    return "\n".join(c.source for c in run.nb.cells[:index] if c.cell_type == "markdown")


# ---- the two derivations and the batch ---------------------------------------------------------


def test_derivation_1_chains_the_dense_jacobian_into_p_minus_y(nb):
    chained, p, y = nb.eval("chained"), nb.eval("p"), nb.eval("y")
    np.testing.assert_allclose(chained, p - y, atol=1e-15)
    assert np.round(chained, 3).tolist() == [0.090, 0.245, -0.335]  # the solution's numbers
    out = nb.output('print("J.T @ dL/dp:", chained)')
    assert out == "J.T @ dL/dp: [ 0.09    0.2447 -0.3348]\np - y:       [ 0.09    0.2447 -0.3348]\n"


def test_the_hand_exercises_are_keyed_and_expect_the_notebook_s_engine_values(nb):
    for marker, key in (("dL_dz0 = ...", "dL_dz0"), ("dL_dZ10 = ...", "dL_dZ10")):
        source = nb.cell(marker).source
        assert f'check("cross_entropy.{key}", {key})' in source
        assert "not answered yet" in nb.output(marker)
        # the cell holds the learner's answer and the key: no number, no engine read-out
        for call in ast.walk(ast.parse(source)):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "check":
                assert len(call.args) == 2 and not call.keywords, source
                assert isinstance(call.args[1], ast.Name), source
        assert ".grad" not in source and "chained" not in source and "mistakes" not in source
    assert exercise("cross_entropy.dL_dz0").expected == nb.eval("chained[0]")
    assert exercise("cross_entropy.dL_dZ10").expected == nb.eval("Z_batch.grad[1, 0]")
    # the precision each exercise asks for is stated in the text above it
    for marker, key in (("dL_dz0 = ...", "dL_dz0"), ("dL_dZ10 = ...", "dL_dZ10")):
        asked = exercise(f"cross_entropy.{key}").precision.describe()
        assert asked == "to 3 decimal places"
        last = markdown_before(nb, marker).split("**Exercise:**")[-1]
        assert re.sub(r"\s+", " ", last).strip().endswith("to 3 decimal places.")


def test_dL_dz0_accepts_the_hand_value_and_names_the_slips(nb):
    cell, old = "dL_dz0 = ...", "dL_dz0 = ..."
    for right in ("0.090", "0.09", "(-1.503) * (-0.665 * 0.090)", "0.0900306"):
        assert ": right." in answered(nb, cell, old, f"dL_dz0 = {right}"), right
    slips = {
        "-0.090": "The sign is wrong",
        "0": "Class 0 is not the true class",
        "-0.910": "subtracts 1 as for the true class",
        "-0.665 * 0.090": "J[2, 0] = ∂p2/∂z0 alone",
        "-1.503": "∂L/∂p2 passed back unchanged",
        "-1.503 * 0.090": "p0 alone",
        # notebook 05's row 0 carried over: its diagonal entry, its second entry
        "0.082": "J[0, 0] = ∂p0/∂z0 = p0(1 − p0), the diagonal entry",
        "0.0819": "J[0, 0] = ∂p0/∂z0 = p0(1 − p0), the diagonal entry",
        "-0.022": "J[0, 1] = −p0 p1, an entry of row 0",
        "0.060": "the size of J[2, 0] alone",
        "1.503": "the size of ∂L/∂p2 alone",
        "-1.503 * 0.082": "uses the diagonal entry J[0, 0]",
        "-0.335": "the gradient for z2",
        "0.180": "factor of 2",
        "0.408": "the loss L",
    }
    for typed, named in slips.items():
        shown = answered(nb, cell, old, f"dL_dz0 = {typed}")
        assert "is not right." in shown and named in shown, (typed, shown)
        assert "That is close" not in shown, (typed, shown)  # a slip, not a rounding
    assert "expected a number" in answered(nb, cell, old, "dL_dz0 = 'abc'")
    assert "too large" in answered(nb, cell, old, "dL_dz0 = '1e400'")


def test_dL_dZ10_asks_for_3_decimals_and_names_the_forgotten_mean(nb):
    cell, old = "dL_dZ10 = ...", "dL_dZ10 = ..."
    for right in ("-0.227", "-0.2267", "(0.547 - 1) / 2"):
        assert ": right." in answered(nb, cell, old, f"dL_dZ10 = {right}"), right
    # a rounder answer is told which precision is asked
    shown = answered(nb, cell, old, "dL_dZ10 = -0.23")
    assert "is not right." in shown and "to 3 decimal places" in shown
    slips = {
        "-0.453": "the 1/N of the mean is missing",
        "0.227": "The sign is wrong: that is (y − p)/N",
        "0.273": "leaves out the target",
        "-0.453 / 3": "divides by C",
        "0": "Zero would mean",
        "0.547": "a probability",
    }
    for typed, named in slips.items():
        shown = answered(nb, cell, old, f"dL_dZ10 = {typed}")
        assert "is not right." in shown and named in shown, (typed, shown)


def test_no_answer_is_on_the_page_before_its_exercise(nb):
    saved = nbformat.read(notebook_path("06"), as_version=4)
    cells = saved.cells
    first = next(i for i, c in enumerate(cells) if "dL_dz0 = ..." in c.source)
    second = next(i for i, c in enumerate(cells) if "dL_dZ10 = ..." in c.source)
    before_first = "\n".join(c.source for c in cells[:first] if c.cell_type == "markdown")
    # the formula the first exercise derives is not stated above it
    assert "p - y" not in before_first and "p_j - \\delta" not in before_first
    before_second = "\n".join(c.source for c in cells[:second] if c.cell_type == "markdown")
    assert "P - Y" not in before_second and "0.227" not in before_second
    # no saved output above an exercise shows its answer
    for end, answers in ((first, ("0.09", "0.0900")), (second, ("-0.227", "-0.2267"))):
        shown = "".join(output_text(c) for c in cells[:end] if c.cell_type == "code")
        for answer in answers:
            assert answer not in shown, answer
    # the confirmations, and the "predict before you run" cell, are saved without outputs
    for marker in (
        'print("J.T @ dL/dp:", chained)',
        'print("(P - Y) / N: "',
        "Z_big = Z + 999.0",
        "timeit.repeat",
    ):
        (cell,) = [c for c in cells if c.cell_type == "code" and marker in c.source]
        assert IGNORE in cell.metadata.get("tags", []), marker
        assert cell.outputs == [], marker
        assert "NBVAL" not in cell.source


def test_the_confirmations_show_the_answers_once_run(nb):
    assert "0.09" in nb.output('print("J.T @ dL/dp:", chained)')
    assert "-0.227" in nb.output('print("(P - Y) / N: "')


def test_derivation_2_differentiates_logsumexp_to_the_same_gradient(nb):
    loss, p, y, k = nb.eval("L.item()"), nb.eval("p"), nb.eval("y"), nb.eval("k")
    assert loss == pytest.approx(-math.log(p[k]), abs=1e-15)
    assert round(loss, 3) == 0.408  # the number in the text
    grad = nb.eval("zt.grad")
    assert grad.shape == (3,)  # one component per class: the shape of the logits
    np.testing.assert_allclose(grad, p - y, atol=1e-15)
    assert nb.output("L.backward()") == "L      = 0.4076\ndL/dz  = [ 0.09    0.2447 -0.3348]\n"


def test_the_batch_gradient_is_p_minus_y_over_n(nb):
    grad = nb.eval("Z_batch.grad")
    P, Y = nb.eval("P"), nb.eval("Y")  # noqa: N806
    np.testing.assert_allclose(grad, (P - Y) / 2, atol=1e-15)
    assert round(grad[1, 0], 3) == -0.227
    assert grad.round(3).tolist() == [[0.045, 0.122, -0.167], [-0.227, 0.061, 0.166]]
    assert np.round(P[1], 3).tolist() == [0.547, 0.122, 0.331]  # the text's probabilities


RULE = "show_rule_if_right(ce_report, kernels.softmax_cross_entropy_grad)"
CHECK = 'ce_report = check_exercise("cross_entropy_backward", cross_entropy_backward)'


def test_the_rule_shows_only_once_the_learners_backward_is_right(nb):
    """The engine's rule is the exercise's answer: its cell is saved empty, says where the rule
    will show while the learner's function is not right, and prints it once it is; the cell
    after it runs either way."""
    rule = nb.cell(RULE)
    assert rule.source.strip() == f"print({RULE})"
    assert IGNORE in rule.metadata.get("tags", [])
    saved = nbformat.read(notebook_path("06"), as_version=4)
    (saved_rule,) = [c for c in saved.cells if c.cell_type == "code" and RULE in c.source]
    assert saved_rule.outputs == []
    waiting = nb.output(RULE)  # the notebook ran with the placeholder
    assert "shows here once your cross_entropy_backward is right" in waiting
    assert "def " not in waiting and "scale" not in waiting
    assert "the rule, from the forward's P:" in nb.output("forward = kernels.softmax_cross_entropy")
    check = nb.cell(CHECK)
    try:
        nb.exec(nb.solution("cross_entropy_backward"))  # as the learner would, then the check
        nb.exec(check.source)
        out = output_text(nb.exec(rule.source))
        assert out.startswith("def softmax_cross_entropy_grad(")
        assert "grad = probs * scale  # upstream · P / N" in out
        assert "grad[np.arange(len(labels)), labels] -= scale" in out
        assert "raise" not in out  # the checks sit in one call above the formula, not in it
        for internal in ("ctx", "_fast", "requires_grad", "_softmax_cross_entropy_backward"):
            assert internal not in out
        for maintainer in ("tests/", "thread"):
            assert maintainer not in out
    finally:
        nb.exec(nb.cell("def cross_entropy_backward(").source)  # the placeholder again
        nb.exec(check.source)
    assert "def " not in output_text(nb.exec(rule.source))


def test_the_rule_applied_to_the_forwards_p_gives_backwards_numbers(nb):
    rule = nb.eval("kernels.softmax_cross_entropy_grad(forward.probs, labels)")
    np.testing.assert_allclose(rule, nb.eval("Z_batch.grad"), atol=1e-15)
    lines = nb.output("forward = kernels.softmax_cross_entropy").strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split(":", 1)[1].strip() == lines[1].split(":", 1)[1].strip()


def test_the_printed_rule_is_the_one_the_kernel_runs():
    rng = np.random.default_rng(6)
    for n in (1, 2, 3, 5, 7, 64):
        logits = rng.normal(size=(n, 10)) * 3
        labels = rng.integers(0, 10, n)
        forward = kernels.softmax_cross_entropy(logits, labels)
        rule = kernels.softmax_cross_entropy_grad(forward.probs, labels)
        np.testing.assert_array_equal(forward.grad(), rule)
        np.testing.assert_allclose(rule, (forward.probs - np.eye(10)[labels]) / n, atol=1e-15)


# ---- fused, unfused, naive ----------------------------------------------------------------------


def test_three_graphs_give_the_same_loss_and_gradient(nb):
    results = nb.eval("results")
    for name in ("unfused", "naive"):
        assert abs(results[name][0] - results["fused"][0]) < 1e-12
        np.testing.assert_allclose(results[name][1], results["fused"][1], rtol=0, atol=1e-12)
    # "agree to within 1e-15": float64 rounding, which differs from machine to machine in its
    # last bits, so the page prints only the bound
    out = nb.output("results[name] = ")
    for name in ("unfused", "naive"):
        loss_gap = abs(results[name][0] - results["fused"][0])
        grad_gap = np.abs(results[name][1] - results["fused"][1]).max()
        assert max(loss_gap, grad_gap) < 1e-15
        assert f"{name:8} vs fused: loss and gradient agree to within 1e-15: True\n" in out
    assert "agree with the fused node to within\n$10^{-15}$: float64 rounding" in nb.markdown
    assert "the three differ by about" not in nb.markdown
    assert "nodes: softmax_cross_entropy\n" in out
    assert "nodes: log_softmax, index, mean, neg\n" in out
    # "softmax typed from primitives (exp, sum, divide), then pick ..., log, mean, negate"
    assert "nodes: exp, sum, /, index, log, mean, neg\n" in out
    assert "then pick each row's true\n  class, log, mean, negate" in nb.markdown


def test_stable_graphs_survive_large_logits_and_the_naive_one_does_not(nb):
    results, big = nb.eval("results"), nb.eval("big")
    for name in ("fused", "unfused"):  # log_softmax subtracts the max too: both stable
        assert abs(big[name][0] - results["fused"][0]) < 1e-12
        np.testing.assert_allclose(big[name][1], results["fused"][1], rtol=0, atol=1e-12)
    assert isinstance(big["naive"], OverflowError)  # e^1000: stopped, not NaN
    assert str(big["naive"]).startswith("exp: the result overflows to inf")


def test_the_derivation_is_printed_the_same_way_on_every_python(nb):
    out = nb.output("inspect.getdoc(kernels.softmax_cross_entropy)")
    assert out == inspect.getdoc(kernels.softmax_cross_entropy) + "\n"
    assert not out.startswith(" ") and "\n    For one row" not in out  # cleaned indentation


# ---- the gallery of bugs ------------------------------------------------------------------------


def test_each_planted_bug_is_caught_and_the_right_versions_pass(nb):
    for bug in ("bug1", "bug2", "bug3"):
        assert nb.eval(bug).startswith("WRONG"), bug
    assert nb.eval("library").startswith("ok") and nb.eval("by_hand").startswith("ok")
    # "finite differences are accurate to about 1e-10 here"
    error = nb.eval("np.abs(numerical - (kernels.softmax(Zg) - np.eye(3)[yg]) / N).max()")
    assert error < 1e-9
    # bug 2 is N times too big; with N = 1 it would pass
    assert nb.eval("np.allclose(grad_without_mean(Zg, yg), N * grad_right(Zg, yg))")


def test_the_text_counts_the_bugs_it_shows(nb):
    text = "\n".join(c.source for c in nb.nb.cells if c.cell_type == "markdown")
    assert len(re.findall(r"\*\*Bug \d", text)) == 3
    assert "three wrong versions" in text and "four wrong versions" not in text


# ---- the explorer -------------------------------------------------------------------------------


def test_the_explorer_cell_sets_what_it_reads_even_after_a_learner_played(nb):
    index = cell_index(nb, "# The same from code")
    saved = nb.output("# The same from code")
    assert saved.splitlines() == [
        "z0 = 2: p - y = [-0.341  0.242  0.099], loss 0.4170",
        "z0 = 6: p - y = [-0.009  0.007  0.003], loss 0.0094",
    ]
    nb.exec(
        "ce.true_class.value = 2\nce.logit_sliders[1].value = -5.3\nce.logit_sliders[0].value = 4"
    )
    nb.run_cell(index)
    assert nb.output("# The same from code") == saved
    grad, p, y = nb.eval("ce.grad"), nb.eval("ce.p"), nb.eval("ce.y")
    np.testing.assert_allclose(grad, p - y)
    assert abs(grad.sum()) < 1e-12
    assert -0.01 < grad[0] < 0 and np.all(grad[1:] < 0.01) and nb.eval("ce.loss") < 0.417


def test_the_explorer_is_saved_as_short_text(nb):
    assert nb.output("ce = cross_entropy_explorer") == (
        "CrossEntropyExplorer(logits (2.0, 1.0, 0.1), true class 0, loss 0.4170)"
    )


# ---- the quiz, the appendix, and what the learner never sees -----------------------------------


def test_the_quiz_is_the_cards_cross_entropy_question(nb):
    options = nb.eval("q2.options")
    right = nb.eval("q2.correct")
    assert "p − y" in options[right] and "logits" in options[right]
    assert [nb.eval(f"q2.answer({i}).correct") for i in range(len(options))].count(True) == 1


def test_the_appendix_checks_agreement_and_measures_live(nb):
    assert nb.output("all four agree").splitlines() == [
        "logits (64, 10), float32: all four agree: True",
        "logits (1024, 10), float32: all four agree: True",
        "logits (128, 200), float32: all four agree: True",
    ]
    timing = nb.cell("timeit.repeat")
    assert IGNORE in timing.metadata.get("tags", []) and "assert" not in timing.source
    assert "times as long as the fused kernel" in nb.output("timeit.repeat")
    cells = nb.nb.cells
    appendix = next(i for i, c in enumerate(cells) if c.source.startswith("## Appendix"))
    quiz = next(i for i, c in enumerate(cells) if "card_question(2)" in c.source)
    assert quiz < appendix  # the timings come after the lesson, not in it
    before = "\n".join(c.source for c in cells[:appendix] if c.cell_type == "markdown")
    assert "µs" not in before and "issue" not in before


def test_learner_cells_hold_no_maintainer_text():
    saved = nbformat.read(notebook_path("06"), as_version=4)
    text = "\n".join(c.source for c in saved.cells)
    for maintainer in ("NBVAL", "nbval", "tests/", "test_", "course's tests", "2-core", "thread"):
        assert maintainer not in text, maintainer
    assert "the card" not in text.lower()  # not defined in this course before notebook 12


def test_learner_cells_hold_no_asserts_answer_keys_or_internals():
    saved = nbformat.read(notebook_path("06"), as_version=4)
    for cell in saved.cells:
        if cell.cell_type != "code":
            continue
        lines = [line.strip() for line in cell.source.splitlines()]
        assert not any(line.startswith("assert") for line in lines), cell.source
        assert ".answer(" not in cell.source and ".ctx" not in cell.source
        assert not re.search(r"import _|\._[a-z]", cell.source), cell.source


def test_the_code_exercise_waits_for_the_learner_and_its_solution_is_right(nb):
    exercise = nb.cell("def cross_entropy_backward(")
    assert exercise.metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output('check_exercise("cross_entropy_backward"')
    nb.exec(nb.solution("cross_entropy_backward").replace("def ", "def solution_", 1))
    report = nb.eval(
        'str(check_exercise("cross_entropy_backward", solution_cross_entropy_backward))'
    )
    assert report.startswith("cross_entropy_backward: RIGHT"), report
    # a forgotten 1/N is named for what it is
    nb.exec(
        "def without_mean(logits, labels):\n"
        "    P = kernels.softmax(logits)\n"
        "    P[np.arange(len(labels)), labels] -= 1\n"
        "    return P"
    )
    report = nb.eval('str(check_exercise("cross_entropy_backward", without_mean))')
    assert "WRONG" in report and "N = 4 times too big: the loss is the mean" in report


# ---- the code exercises: solutions pass, typical wrong versions get their diagnosis -------------


def with_body(run, function: str, old: str, new: str, name: str) -> str:
    """The Solution's code of ``function``, one line changed, defined as ``name``."""
    code = run.solution(function)
    assert old in code, (old, code)
    return code.replace(old, new).replace(f"def {function}(", f"def {name}(", 1)


def test_typical_wrong_fused_backwards_get_their_diagnosis(nb):
    wrong = {
        "forgot_y": (
            "P[np.arange(N), labels] -= 1",
            "pass",
            "the one-hot target's part is missing",
        ),
        "whole_rows": ("P[np.arange(N), labels] -= 1", "P[labels] -= 1", "picks whole rows"),
        "whole_columns": ("P[np.arange(N), labels] -= 1", "P[:, labels] -= 1", "whole columns"),
        "by_classes": ("return P / N", "return P / P.shape[1]", "divides by C = "),
        "flipped": ("return P / N", "return -P / N", "sign"),
    }
    for name, (old, new, diagnosis) in wrong.items():
        nb.exec(with_body(nb, "cross_entropy_backward", old, new, name))
        report = nb.eval(f'str(check_exercise("cross_entropy_backward", {name}))')
        assert report.startswith("cross_entropy_backward: WRONG"), report
        assert diagnosis in report, (name, report)


def test_the_find_the_bug_exercise_hides_an_unlabelled_bug_that_a_batch_reveals(nb):
    exercise = nb.cell("def fused_backward(")
    assert exercise.metadata.get("tags") == ["exercise"]
    assert "BUG" not in exercise.source and "bug" not in exercise.source.lower()
    # "for a single example its numbers are right; on the batch of four ... wrong"
    one = nb.eval(
        "fused_backward(Zg[:1], yg[:1]) - kernels.softmax_cross_entropy(Zg[:1], yg[:1]).grad()"
    )
    assert np.abs(one).max() < 1e-15
    shown = nb.output('check_exercise("cross_entropy_find_the_bug"')
    assert "cross_entropy_find_the_bug: WRONG" in shown
    assert "case: logits of shape (4, 3)" in shown  # wrong on a batch of several examples
    assert "bug is still there" in shown and "np.arange" not in shown  # a hint, not the fix
    # "with the labels (2, 0, 0, 1) of the batch above it sets columns 2, 0 and 1"
    assert nb.eval("yg.tolist()") == [2, 0, 0, 1]


def test_the_find_the_bug_solution_passes_and_wrong_fixes_are_named(nb):
    code = nb.solution("fused_backward")
    assert "Y[np.arange(N), labels] = 1" in code and "Y[:, labels]" not in code
    nb.exec(code.replace("def fused_backward(", "def fixed_backward(", 1))
    assert nb.eval("gradient_check(fixed_backward)").startswith("ok")
    report = nb.eval('str(check_exercise("cross_entropy_find_the_bug", fixed_backward))')
    assert report.startswith("cross_entropy_find_the_bug: RIGHT"), report
    fixes = {
        "rows_fix": ("Y[np.arange(N), labels] = 1", "Y[labels] = 1", "picks whole rows"),
        "no_mean": ("return (P - Y) / N", "return P - Y", "N = 4 times too big"),
        "by_c": ("return (P - Y) / N", "return (P - Y) / C", "divides by C = 3"),
        "flipped_fix": ("return (P - Y) / N", "return (Y - P) / N", "sign is flipped"),
    }
    for name, (old, new, diagnosis) in fixes.items():
        nb.exec(with_body(nb, "fused_backward", old, new, name))
        report = nb.eval(f'str(check_exercise("cross_entropy_find_the_bug", {name}))')
        assert report.startswith("cross_entropy_find_the_bug: WRONG"), report
        assert diagnosis in report, (name, report)
    # the untouched function again: the hint, and never the fix
    report = nb.eval('str(check_exercise("cross_entropy_find_the_bug", fused_backward))')
    assert "bug is still there" in report


def test_the_find_the_bug_check_runs_whatever_the_learner_left_in_the_cell(nb):
    """Unwritten, raising, returning None or a number: the check cell shows a sentence, and
    every cell below it still runs (issue 22: the notebook's own gradient_check once ran on
    the learner's fused_backward outside the checker, and None stopped the notebook with
    "unsupported operand type(s) for -: 'NoneType' and 'float'")."""
    index = cell_index(nb, 'check_exercise("cross_entropy_find_the_bug"')
    below = [i for i, _ in nb.code_cells if i > index]
    assert not any("fused_backward" in nb.nb.cells[i].source for i in below)
    header = "def fused_backward(logits, labels):\n"
    bodies = {
        "    ...\n": "NOT WRITTEN YET",
        "    raise ValueError('not sure yet')\n": "raised ValueError",
        "    N, C = logits.shape\n": "did you forget to `return` it?",
        "    return 0.0\n": "must have the shape of its input",
    }
    try:
        for body, said in bodies.items():
            nb.exec(header + body)
            shown = output_text(nb.run_cell(index))
            assert said in shown, (body, shown)
            for later in below:  # Run All Below: nothing stops
                nb.run_cell(later)
    finally:
        nb.run_cell(cell_index(nb, "def fused_backward("))  # the teammate's version again


def test_exercise_cells_shadow_no_name_a_later_cell_imports_or_reads(nb):
    cells = [(i, c.source) for i, c in nb.code_cells]
    exercises = [
        (i, src)
        for i, src in cells
        if "= ..." in src or "exercise" in nb.nb.cells[i].metadata.get("tags", [])
    ]
    for index, source in exercises:
        defined = set()  # the names the cell binds at its top level
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        assert defined, source
        for later, src in cells:
            if later <= index:
                continue
            tree = ast.parse(src)
            imported = {
                alias.asname or alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names
            }
            assert not defined & imported, (source, src)
            read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            # only the exercise's own check reads the learner's name
            if defined & read:
                assert re.search(r"\bcheck(_exercise)?\(", src), (source, src)
    # and the exercises run again after the whole notebook ran, unchanged
    for marker in ("dL_dz0 = ...", "dL_dZ10 = ..."):
        again = output_text(nb.run_cell(cell_index(nb, marker)))
        assert "not answered yet" in again


# ---- the review's findings -----------------------------------------------------------------


def test_next_links_to_notebook_07(nb):
    assert "Next: **[07 · MNIST fan-out](07_mnist_fan_out.ipynb)**" in nb.markdown
    assert notebook_path("07").name == "07_mnist_fan_out.ipynb"


def test_every_import_is_in_the_first_code_cell(nb):
    """After a restart, running the first code cell is enough for any later cell's imports: none
    hides in an exercise cell a learner may leave broken or skip."""
    (_, top), *rest = nb.code_cells
    assert "import numpy as np" in top.source
    for _, cell in rest:
        for line in cell.source.splitlines():
            assert not line.startswith(("import ", "from ")), line
