"""Notebook 06 (cross-entropy on softmax), executed once: what it shows is right.

The checks that used to be ``assert`` cells in the notebook live here. Each one reads the
notebook's namespace or a cell's output, so a wrong number in the notebook (or a wrong rule in
the library it calls) fails here, while the learner only sees the teaching cells.
"""

from __future__ import annotations

import inspect
import math
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import notebook_fixture, notebook_path

from course_lib import kernels

nb = notebook_fixture("06")


def cell_index(run, containing: str) -> int:
    found = [i for i, c in run.code_cells if containing in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {containing!r}"
    return found[0]


# ---- the two derivations and the batch ---------------------------------------------------------


def test_derivation_1_chains_the_dense_jacobian_into_p_minus_y(nb):
    chained, p, y = nb.eval("chained"), nb.eval("p"), nb.eval("y")
    np.testing.assert_allclose(chained, p - y, atol=1e-15)
    assert np.round(chained, 3).tolist() == [0.090, 0.245, -0.335]  # the solution's numbers
    out = nb.output('print("J.T @ dL/dp:", chained)')
    assert out == "J.T @ dL/dp: [ 0.09    0.2447 -0.3348]\np - y:       [ 0.09    0.2447 -0.3348]\n"


def test_exercises_are_unanswered_and_check_the_solutions(nb):
    assert "not answered yet" in nb.output("dL_dz0 = ...")
    assert "not answered yet" in nb.output("dL_dZ10 = ...")
    assert nb.eval("check(0.090, chained[0]).correct")
    assert "wrong sign" in nb.eval(
        "str(check(-0.090, chained[0], mistakes=[(-0.090, 'wrong sign')]))"
    )
    assert nb.eval("check(-0.227, Z_batch.grad[1, 0]).correct")
    assert not nb.eval("check(-0.453, Z_batch.grad[1, 0]).correct")  # forgot the 1/N


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


def test_the_printed_rule_is_plain_public_code_and_gives_backwards_numbers(nb):
    out = nb.output("inspect.getsource(kernels.softmax_cross_entropy_grad)")
    assert "return upstream * (probs - Y) / n" in out
    for internal in ("ctx", "_fast", "requires_grad", "_softmax_cross_entropy_backward"):
        assert internal not in out
    rule = nb.eval("kernels.softmax_cross_entropy_grad(forward.probs, labels)")
    np.testing.assert_allclose(rule, nb.eval("Z_batch.grad"), atol=1e-15)
    lines = out.strip().splitlines()[-2:]
    assert lines[0].split(":", 1)[1].strip() == lines[1].split(":", 1)[1].strip()


# ---- fused, unfused, naive ----------------------------------------------------------------------


def test_three_graphs_give_the_same_loss_and_gradient(nb):
    results = nb.eval("results")
    for name in ("unfused", "naive"):
        assert abs(results[name][0] - results["fused"][0]) < 1e-12
        np.testing.assert_allclose(results[name][1], results["fused"][1], rtol=0, atol=1e-12)
    out = nb.output("results[name] = ")
    assert "nodes: softmax_cross_entropy\n" in out
    assert "nodes: log_softmax, index, mean, neg\n" in out


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
    assert timing.source.startswith("# NBVAL_IGNORE_OUTPUT") and "assert" not in timing.source
    assert "times as long as the fused kernel" in nb.output("timeit.repeat")
    cells = nb.nb.cells
    appendix = next(i for i, c in enumerate(cells) if c.source.startswith("## Appendix"))
    quiz = next(i for i, c in enumerate(cells) if "card_question(2)" in c.source)
    assert quiz < appendix  # the timings come after the lesson, not in it
    before = "\n".join(c.source for c in cells[:appendix] if c.cell_type == "markdown")
    assert "µs" not in before and "issue" not in before


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
    assert "WRONG" in report and "1/N" in report


# ---- the code exercises: solutions pass, typical wrong versions get their diagnosis -------------


def with_body(run, function: str, old: str, new: str, name: str) -> str:
    """The Solution's code of ``function``, one line changed, defined as ``name``."""
    code = run.solution(function)
    assert old in code, (old, code)
    return code.replace(old, new).replace(f"def {function}(", f"def {name}(", 1)


def test_typical_wrong_fused_backwards_get_their_diagnosis(nb):
    wrong = {
        "forgot_y": ("P[np.arange(N), labels] -= 1", "pass", "subtract the one-hot target"),
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
    assert "gradient check on the batch of four: WRONG" in shown
    assert "cross_entropy_find_the_bug: WRONG" in shown
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
