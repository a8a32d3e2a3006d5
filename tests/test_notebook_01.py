"""Notebook 01 (a five-node graph by hand), executed once: every number it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here, plus what a learner
does with it: answer the exercises (right and wrong), move the explorer's sliders and run the
"same from code" cell again.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
from notebook_harness import notebook_fixture, output_text

from course_lib.check import (
    central_difference,
    central_difference_sweep,
    gradient_check,
    relative_error,
    tensor_gradient_check,
)

nb = notebook_fixture("01")


def answered(nb, marker: str, old: str, new: str) -> str:
    """Run the exercise cell containing ``marker`` with ``old`` replaced by ``new`` (a
    learner's answer) and return the text it showed."""
    source = nb.cell(marker).source
    assert old in source, f"the exercise cell no longer contains {old!r}"
    return output_text(nb.exec(source.replace(old, new)))


def svg_of(nb, marker: str) -> str:
    return output_text(nb.cell(marker), kinds=("text/html",))


def test_no_cell_is_a_test_or_shows_an_answer_key(nb):
    for _, cell in nb.code_cells:
        body = ast.parse(cell.source).body
        assert not all(isinstance(s, ast.Assert) for s in body), cell.source
        assert "assert" not in cell.source and ".answer(" not in cell.source, cell.source


def test_forward_values_and_the_exercise(nb):
    assert (nb.eval("q.data"), nb.eval("f.data")) == (3.0, -12.0)
    assert "not answered yet" in nb.output("q_answer = ...")
    shown = answered(nb, "q_answer = ...", "q_answer = ...", "q_answer = 3")
    assert "q = 3: right" in shown
    shown = answered(nb, "q_answer = ...", "f_answer = ...", "f_answer = 12")
    assert "sign of z" in shown


def test_the_engine_stores_the_local_partials_of_the_table(nb):
    assert nb.eval("q.partials") == (1.0, 1.0)
    assert nb.eval("f.partials") == (-4.0, 3.0)
    assert nb.output("def make_graph") == (
        "q: + of ['x', 'y'] local partials (1.0, 1.0)\n"
        "f: * of ['q', 'z'] local partials (-4.0, 3.0)\n"
    )


def test_the_first_drawing_has_no_gradients_yet(nb):
    svg = svg_of(nb, "from course_lib.draw import draw")
    assert svg.count(">grad not computed yet</text>") == 5  # five nodes, none differentiated


def test_the_hand_exercise_expects_what_the_engine_computes(nb):
    grads = nb.eval("(x.grad, y.grad, z.grad, q.grad, f.grad)")
    assert grads == (-4.0, -4.0, 3.0, -4.0, 1.0)
    source = nb.cell("df_dx = ...").source
    for name, value in (("df_dx", -4.0), ("df_dy", -4.0), ("df_dz", 3.0)):
        assert f"{name},\n        {value}," in source  # the expected number given to check
    shown = answered(nb, "df_dx = ...", "df_dx = ...", "df_dx = 1")
    assert "only the local partial" in shown


def test_finite_differences_agree(nb):
    lines = nb.output("def f_plain").splitlines()
    assert lines == [
        "nudge x by 0.001: f moves by -0.004000, so df/dx ≈ -4.000",
        "nudge y by 0.001: f moves by -0.004000, so df/dy ≈ -4.000",
        "nudge z by 0.001: f moves by +0.003000, so df/dz ≈ +3.000",
    ]
    assert nb.eval("round((f_plain(-2.0 + h, 5.0, -4.0) - base) / h, 6)") == nb.eval("x.grad")
    assert nb.eval("round((f_plain(-2.0, 5.0, -4.0 + h) - base) / h, 6)") == nb.eval("z.grad")


def test_nudging_q_itself_measures_its_upstream_gradient(nb):
    # The exercise: q's output moves by 0.5, so f moves by q.grad * 0.5.
    assert nb.eval("q.grad * 0.5") == -2.0
    source = nb.cell("f_moves_by = ...").source
    assert "f_moves_by,\n    -2.0," in source
    assert "right" in answered(nb, "f_moves_by = ...", "f_moves_by = ...", "f_moves_by = -2")
    assert "per unit" in answered(nb, "f_moves_by = ...", "f_moves_by = ...", "f_moves_by = -4")
    assert "nudge of q itself" in answered(
        nb, "f_moves_by = ...", "f_moves_by = ...", "f_moves_by = 0.5"
    )
    # The guided nudge: only q's output moves, and every ratio is q.grad.
    lines = nb.output("f_nudged = (q0 + nudge) * z0").splitlines()
    assert len(lines) == 3
    for line in lines:
        assert line.endswith(f"change / nudge = {nb.eval('q.grad'):+.4f}")
    assert lines[0].startswith("q: 3 -> 3.5   f: -12 -> -14 ")


def test_backward_fills_every_gradient_and_the_cell_can_run_again(nb):
    expected = (
        "before backward(): Value('x', data=-2, grad=not computed yet)\n"
        "after backward():\n"
        "    Value('x', data=-2, grad=-4)\n"
        "    Value('y', data=5, grad=-4)\n"
        "    Value('z', data=-4, grad=3)\n"
        "    Value('q', data=3, grad=-4)\n"
        "    Value('f', data=-12, grad=1)\n"
    )
    assert nb.output("f.backward()") == expected
    again = output_text(nb.exec(nb.cell("f.backward()").source))
    assert again == expected


def test_the_second_drawing_shows_gradients_and_partials(nb):
    svg = svg_of(nb, "draw(f, partials=True)")
    assert "grad -4" in svg and "grad 3" in svg and "not computed yet" not in svg


def test_gradient_check_agrees(nb):
    assert nb.eval("report.ok")
    assert nb.eval("list(report.numerical)") == pytest.approx([-4.0, -4.0, 3.0], abs=1e-6)


EXPLORER_LINES = [
    "x = -2, z = -4:   df/dx = -4   df/dq = -4   df/dz = +3",
    "x = +1, z = -4:   df/dx = -4   df/dq = -4   df/dz = +6",
    "x = +1, z = +2:   df/dx = +2   df/dq = +2   df/dz = +6",
]


def test_the_explorer_names_the_middle_node_q(nb):
    assert sorted(nb.eval("list(explorer.nodes)")) == ["f", "q", "x", "y", "z"]
    assert "q = x + y" in nb.eval("explorer.view.value")
    assert "n1" not in nb.eval("list(explorer.nodes)")


def test_the_explorer_from_code_shows_the_predicted_gradients(nb):
    assert nb.output("explorer.sliders").splitlines() == EXPLORER_LINES


def test_the_explorer_cell_is_right_after_a_learner_moved_every_slider(nb):
    nb.exec(
        'explorer.sliders["x"].value = 3.3\n'
        'explorer.sliders["y"].value = -1.7\n'
        'explorer.sliders["z"].value = 0.4\n'
    )
    again = output_text(nb.exec(nb.cell("explorer.sliders").source), kinds=("stdout",))
    assert again.splitlines() == EXPLORER_LINES


def test_the_quiz_is_card_question_4_with_one_right_option(nb):
    options = nb.eval("q4.options")
    right = nb.eval("q4.correct")
    assert "sensitivity of the final loss" in options[right]
    verdicts = [nb.eval(f"q4.answer({i}).correct") for i in range(len(options))]
    assert verdicts.count(True) == 1 and verdicts[right]


def test_titles_count_nodes(nb):
    text = "".join(c.source for c in nb.nb.cells if c.cell_type == "markdown")
    assert text.startswith("# 01 · A five-node graph, by hand")
    assert "three-node" not in text
    assert "[02 · six nodes: fan-out and sum at joins]" in text


# ---- gradient checking done well ---------------------------------------------------------------


def cube(x):
    return x * x * x


HS = np.logspace(-12, 0, 49)


def test_the_relative_error_exercise_expects_what_relative_error_computes(nb):
    source = nb.cell("rel_error_A = ...").source
    assert "rel_error_A,\n        0.5," in source and "rel_error_B,\n        1e-6," in source
    assert relative_error(2e-8, 1e-8) == 0.5
    assert relative_error(1000.0, 1000.001) == pytest.approx(1e-6, rel=0.01)
    shown = nb.output("rel_error_A = ...")
    assert shown.count("not answered yet") == 2
    cell = "rel_error_A = ..."
    assert "A = 0.5: right" in answered(nb, cell, "rel_error_A = ...", "rel_error_A = 0.5")
    assert "absolute error" in answered(nb, cell, "rel_error_A = ...", "rel_error_A = 1e-8")
    assert "smaller number" in answered(nb, cell, "rel_error_A = ...", "rel_error_A = 1")
    right_b = answered(nb, cell, "rel_error_B = ...", "rel_error_B = 0.001 / 1000.001")
    assert "B = 9.99999e-07: right" in right_b
    assert "absolute error" in answered(nb, cell, "rel_error_B = ...", "rel_error_B = 1e-3")
    assert "expected a number" in answered(nb, cell, "rel_error_B = ...", "rel_error_B = 'abc'")


def test_the_pass_test_is_gradient_check_s_and_lets_check_a_through(nb):
    defaults = inspect.signature(gradient_check).parameters
    assert (defaults["atol"].default, defaults["rtol"].default) == (1e-7, 1e-5)
    assert "atol, rtol = 1e-7, 1e-5" in nb.cell("passes the test").source
    assert nb.output("passes the test").splitlines() == [
        "check A: abs error 1e-08, rel error 5e-01, passes the test: True",
        "check B: abs error 1e-03, rel error 1e-06, passes the test: True",
    ]
    # "like the 1.4e-10 to 1.6e-10 in the table above": the first gradient_check's report
    rel = nb.eval("list(report.rel_error)")
    assert (f"{min(rel):.1e}", f"{max(rel):.1e}") == ("1.4e-10", "1.6e-10")
    assert r"$1.4\times10^{-10}$ to $1.6\times10^{-10}$" in nb.markdown
    # "0.5 for a missing factor 2, 2 for a wrong sign"
    assert relative_error(2.0, 1.0) == 0.5 and relative_error(-3.0, 3.0) == 2.0


def test_the_step_exercise_expects_the_central_difference_at_h_0_1(nb):
    (estimate,) = central_difference_sweep(cube, 1.0, [0.1])
    assert estimate == pytest.approx(3.01, abs=1e-12)  # 3 + h²
    assert (1.1**3, 0.9**3) == (pytest.approx(1.331), pytest.approx(0.729))
    # the slips the mistakes name compute what they say
    assert (1.331 - 0.729) / 0.1 == pytest.approx(6.02)
    assert (1.331 - 1.0) / 0.1 == pytest.approx(3.31)
    cell, old = "central_at_h01 = ...", "central_at_h01 = ..."
    assert "not answered yet" in nb.output(cell)
    assert "right" in answered(nb, cell, old, "central_at_h01 = (1.331 - 0.729) / 0.2")
    assert "true derivative" in answered(nb, cell, old, "central_at_h01 = 3")
    assert "divides by h = 0.1" in answered(nb, cell, old, "central_at_h01 = 6.02")
    assert "0.602 is g(1.1) - g(0.9)" in answered(nb, cell, old, "central_at_h01 = 0.602")
    assert "one-sided" in answered(nb, cell, old, "central_at_h01 = 3.31")


def run_figure_cell(nb, marker: str):
    """Run the figure cell again (a later cell reuses the names fig and ax) and return it."""
    cell = nb.exec(nb.cell(marker).source)
    shown = [o for o in cell["outputs"] if "data" in o]
    assert len(shown) == 1, "the cell shows exactly one figure"
    assert shown[0]["data"]["text/plain"] == "<Figure size 600x400 with 1 Axes>"
    # a PNG in an <img> with alt text (JupyterLab shows image/png with none)
    assert shown[0]["data"]["text/html"].startswith('<img alt="Log-log plot of ')
    assert "data:image/png;base64," in shown[0]["data"]["text/html"]
    return cell


def lines_of(nb) -> dict[str, tuple[list[float], list[float]]]:
    return nb.eval(
        "{line.get_label(): (list(map(float, line.get_xdata())), "
        "list(map(float, line.get_ydata()))) for line in ax.get_lines()}"
    )


def test_the_error_plot_shows_truncation_and_round_off(nb):
    saved = [o for o in nb.cell('label="measured error (float64)"').outputs if "data" in o]
    assert "data:image/png;base64," in saved[0]["data"]["text/html"]  # the saved figure
    run_figure_cell(nb, 'label="measured error (float64)"')
    assert nb.eval("(ax.get_xscale(), ax.get_yscale())") == ("log", "log")
    lines = lines_of(nb)
    assert list(lines) == [
        "measured error (float64)",
        "truncation $h^2$",
        r"round-off $\varepsilon / h$",
    ]
    hs, errors = (np.array(v) for v in lines["measured error (float64)"])
    np.testing.assert_array_equal(hs, HS)
    np.testing.assert_array_equal(errors, np.abs(central_difference_sweep(cube, 1.0, HS) - 3.0))
    np.testing.assert_allclose(lines["truncation $h^2$"][1], HS**2)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(lines[r"round-off $\varepsilon / h$"][1], eps / HS)
    # What the text says about it:
    # "No measured point lies noticeably above the sum of the two lines, and many lie well
    # under the ε/h line"
    assert np.all(errors <= 1.01 * (HS**2 + eps / HS))
    assert np.sum(errors[HS < 1e-6] < 0.3 * eps / HS[HS < 1e-6]) >= 10
    large = HS >= 5e-6  # "on the h² line ... down to a few times 1e-6"
    np.testing.assert_allclose(errors[large], HS[large] ** 2, rtol=0.1)
    best = int(np.argmin(errors))
    assert 1e-6 <= HS[best] <= 1e-5  # the best h for float64
    assert f"{HS[best]:.0e}" == "3e-06" and f"{errors[best]:.0e}" == "5e-12"
    assert f"{eps ** (1 / 3):.0e}" == "6e-06"
    assert f"{errors[0]:.0e}" == "1e-04" and HS[0] == 1e-12
    text = nb.markdown
    assert r"$h = \varepsilon^{1/3} \approx" in text and "6\\times10^{-6}" in text
    assert r"an error of about $5\times10^{-12}$, is at $h \approx" in text


def test_the_kink_exercise_and_the_check_s_note(nb):
    expected = central_difference(lambda x: x.relu() * 2.0, [0.0], 0, 0.001)
    assert expected == pytest.approx(1.0)
    assert "kink_estimate,\n    1.0," in nb.cell("kink_estimate = ...").source
    cell, old = "kink_estimate = ...", "kink_estimate = ..."
    assert "right" in answered(nb, cell, old, "kink_estimate = (0.002 - 0) / 0.002")
    assert "what backward() reports" in answered(nb, cell, old, "kink_estimate = 0")
    assert "slope on the right only" in answered(nb, cell, old, "kink_estimate = 2")
    report = nb.eval("kink_report")
    assert report.backward == (0.0, 0.0)  # "backward() gives dk/dx = 0 · 2 = 0"
    assert report.passed == (False, True)
    assert report.numerical[0] == pytest.approx(1.0)
    note = report.notes[0]
    assert "kink in x at or within h = 1e-06 of x = 0" in note
    assert "slope 0 over [x - h, x], 2 over [x, x + h]" in note
    shown = nb.output("kink_report = gradient_check")
    assert "SOME GRADIENTS DISAGREE" in shown and note in shown
    away = nb.output("gradient_check(lambda x, y: x.relu() * y, 0.5, 2.0)")
    assert "all gradients agree" in away and "kink" not in away


def test_float32_fails_at_1e_minus_6(nb):
    assert nb.output("step = 1e-6").splitlines() == [
        "float64: h = 1e-06, estimate 3.00000000, relative error 8.3e-12",
        "float32: h = 1e-06, estimate 2.95042992, relative error 1.7e-02",
    ]
    (estimate,) = central_difference_sweep(cube, 1.0, [1e-6], dtype=np.float32)
    eps32, eps64 = float(np.finfo(np.float32).eps), float(np.finfo(np.float64).eps)
    assert f"{abs(float(estimate) - 3.0):.0e}" == "5e-02"  # "the measured error is 0.05"
    assert f"{eps32 / 1e-6:.0e}" == "1e-01"  # "about ε/h ≈ 0.1"
    assert 4.5e8 < eps32 / eps64 < 5.5e8  # "about 500 million times coarser"
    # The learner changes the step: 5e-3 makes float32 pass a looser check.
    cell = nb.exec(nb.cell("step = 1e-6").source.replace("step = 1e-6", "step = 5e-3"))
    lines = output_text(cell).splitlines()
    assert lines[1].startswith("float32: h = 0.005") and float(lines[1].split()[-1]) < 1e-4


def test_the_float32_step_exercise(nb):
    assert (1.2e-7) ** (1 / 3) == pytest.approx(4.93e-3, rel=0.001)
    assert (2.22e-16) ** (1 / 3) == pytest.approx(6.06e-6, rel=0.01)
    assert (1.2e-7) ** 0.5 == pytest.approx(3.46e-4, rel=0.01)
    assert 750 < (1.2e-7) ** (1 / 3) / np.finfo(np.float64).eps ** (1 / 3) < 850  # "about 800"
    cell, old = "h_float32 = ...", "h_float32 = ..."
    assert "right" in answered(nb, cell, old, "h_float32 = 1.2e-7 ** (1 / 3)")
    assert "right" in answered(nb, cell, old, "h_float32 = np.finfo(np.float32).eps ** (1 / 3)")
    assert "float64's step" in answered(nb, cell, old, "h_float32 = 2.2e-16 ** (1 / 3)")
    assert "square root" in answered(nb, cell, old, "h_float32 = 1.2e-7 ** 0.5")


def test_the_two_type_plot(nb):
    run_figure_cell(nb, "errors32 = ")
    lines = lines_of(nb)
    assert list(lines)[:2] == ["float64", "float32"]
    assert nb.eval("(ax.get_xscale(), ax.get_yscale())") == ("log", "log")
    errors64 = np.array(lines["float64"][1])
    errors32 = np.array(lines["float32"][1])
    np.testing.assert_array_equal(
        errors32, np.abs(central_difference_sweep(cube, 1.0, HS, dtype=np.float32) - 3.0)
    )
    eps32 = float(np.finfo(np.float32).eps)
    assert np.all(errors32 <= 1.01 * (HS**2 + eps32 / HS))
    best = int(np.argmin(errors32))
    assert f"{HS[best]:.0e}" == "3e-03"  # "bottoms out near h = 3e-3"
    assert 3e-7 < errors32[best] / 3 < 3e-6  # "a relative error of about 1e-6 at best"
    assert 3e-13 < errors64.min() / 3 < 3e-12  # "against about 1e-12 for float64"
    # "Below h ≈ 3e-8 the estimate is 0 and the error the whole 3"
    assert np.all(errors32[HS < 3e-8] == 3.0) and errors32[HS >= 3e-8][0] < 3.0
    right = HS >= 2e-2  # "where truncation rules, the two curves coincide"
    np.testing.assert_allclose(errors32[right], errors64[right], rtol=0.02)
    # "use h between 1e-3 and 1e-2 (here the relative error then stays below 1e-4)"
    steps = np.logspace(-3, -2, 101)
    estimates = central_difference_sweep(cube, 1.0, steps, dtype=np.float32)
    assert np.all(relative_error(estimates.astype(np.float64), 3.0) < 1e-4)


def test_float32_code_is_checked_in_float64_as_the_text_says():
    # "Value always computes in float64, and tensor_gradient_check copies its inputs to float64"
    assert isinstance(gradient_check(lambda x: x * x, 0.1).backward[0], float)
    x32 = np.array([0.1, 0.2], dtype=np.float32)
    checked = tensor_gradient_check(lambda x: (x * x).sum(), x32)
    assert checked.ok and checked.backward[0].dtype == np.float64
