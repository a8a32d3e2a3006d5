"""Notebook 04 (checking gradients), executed once: every number it quotes is what its code
computes, and its exercises answer a learner's right and wrong answers as the text says."""

from __future__ import annotations

import functools
import inspect
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib.checks import (
    central_difference,
    central_difference_sweep,
    gradient_check,
    relative_error,
    tensor_gradient_check,
)

nb = notebook_fixture("04")


def cube(x):
    return x * x * x


HS = np.logspace(-12, 0, 49)


def test_the_relative_error_exercise_expects_what_relative_error_computes(nb):
    source = nb.cell("rel_error_A = ...").source
    assert 'check("gradient_checking.rel_error_A", rel_error_A)' in source
    assert "0.5" not in source and "1e-6" not in source  # the answers are in the library
    assert relative_error(2e-8, 1e-8) == 0.5
    assert relative_error(1000.0, 1000.001) == pytest.approx(1e-6, rel=0.01)
    shown = nb.output("rel_error_A = ...")
    assert shown.count("not answered yet") == 2
    cell = "rel_error_A = ..."
    assert "relative error of A = 0.5: right" in answered(
        nb, cell, "rel_error_A = ...", "rel_error_A = 0.5"
    )
    assert "absolute error" in answered(nb, cell, "rel_error_A = ...", "rel_error_A = 1e-8")
    assert "smaller number" in answered(nb, cell, "rel_error_A = ...", "rel_error_A = 1")
    right_b = answered(nb, cell, "rel_error_B = ...", "rel_error_B = 0.001 / 1000.001")
    assert "relative error of B = 9.99999e-07: right" in right_b
    assert "right" in answered(nb, cell, "rel_error_B = ...", "rel_error_B = 1e-6")
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
    # "like the 1.4e-10 to 1.6e-10 in the table at the top": the first gradient_check's report
    rel = nb.eval("list(report.rel_error)")
    assert (f"{min(rel):.1e}", f"{max(rel):.1e}") == ("1.4e-10", "1.6e-10")
    assert r"$1.4\times10^{-10}$ to $1.6\times10^{-10}$" in nb.markdown
    # "A wrong rule gives a relative error of order 1 (a missing factor 2, say, or a wrong sign)"
    assert relative_error(2.0, 1.0) == 0.5 and relative_error(-3.0, 3.0) == 2.0


def test_nothing_below_an_exercise_answers_it_outside_its_solution(nb):
    """What a learner sees under an exercise before opening its Solution: no sentence and no
    saved output gives the answer (the confirmations run only when the learner runs them)."""
    saved = nbformat.read(notebook_path("04"), as_version=4)
    for marker in ("passes the test", "kink_report = gradient_check("):
        (cell,) = [c for c in saved.cells if c.cell_type == "code" and marker in c.source]
        assert "nbval-ignore-output" in cell.metadata.get("tags", []) and cell.outputs == []
    text = "\n".join(
        re.sub(r"<details>.*?</details>", "", c.source, flags=re.S)
        for c in saved.cells
        if c.cell_type == "markdown"
    )
    flat = " ".join(text.split())
    section_1 = flat.split("## 2 · Choose the step")[0]
    assert "0.5" not in section_1  # A's relative error, outside its Solution
    assert "twice the other" not in flat and "$0.01$ in the" not in flat
    assert "Notebook 01 showed this one" in flat and "Notebook 01 ended" not in flat
    first_check = saved.cells[1].source  # the report 01 shows, in its Confirmation 2
    assert "gradient_check(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)" in first_check
    assert "gradient_check(lambda x, y, z: (x + y) * z, -2.0, 5.0, -4.0)" in " ".join(
        c.source for c in nbformat.read(notebook_path("01"), as_version=4).cells
    )


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
    assert "divides by h;" in answered(nb, cell, old, "central_at_h01 = 6.02")
    assert "not yet divided" in answered(nb, cell, old, "central_at_h01 = 0.602")
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
    for eps in ("1.2e-7", "np.finfo(np.float32).eps"):  # ε itself, as rounded and exactly
        shown = answered(nb, cell, old, f"h_float32 = {eps}")
        assert "ε itself: h³ = ε, so take the cube root" in shown, shown


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


# ---- kinks in a whole layer: rare at h = 1e-6 in float64, common at h = 1e-3 ----------------

REAL_DATA = os.environ.get("COURSE_LIB_DATA")
needs_mnist = pytest.mark.skipif(
    not REAL_DATA or not (Path(REAL_DATA) / "mnist").is_dir(),
    reason="real MNIST not available: set COURSE_LIB_DATA to a folder holding mnist/",
)


@functools.cache
def batch() -> np.ndarray:
    """The first 256 MNIST training images, in float64."""
    from course_lib.data import load_mnist

    images, _ = load_mnist("train", download=False, progress=False)
    return images[:256].astype(np.float64)


def layer_inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of 256 MNIST images and the weights of a fresh 784 → 100 Glorot layer (its
    bias is zero): X @ W holds the 25 600 inputs of its ReLUs."""
    from course_lib.network import glorot_uniform

    return batch(), glorot_uniform(784, 100, np.random.default_rng(seed), dtype=np.float64)


@needs_mnist
def test_a_layers_kinks_are_rare_at_1e_minus_6_and_common_at_1e_minus_3(nb):
    text = " ".join(nb.markdown.split())
    assert "A network of many units usually has a few" not in text
    for claim in (
        "256 MNIST images entering a freshly initialised layer of 100 ReLUs makes 25 600 inputs",
        "the one closest to 0 is typically about $10^{-5}$ away",
        "only in about 4 random starts of the weights out of 100 does one come within $10^{-6}$",
        "about 50 of the 25 600 lie within $h$, in some 40 of the 100 units",
        "dozens to a couple of hundred of its 784 weights",
        "a block of failures in a few dozen columns",
    ):
        assert claim in text, claim
    closest, within, units = [], [], []
    for seed in range(200):
        X, W = layer_inputs(seed)
        z = np.abs(X @ W)
        assert z.size == 25_600
        closest.append(z.min())
        within.append(int((z < 1e-3).sum()))
        units.append(int((z < 1e-3).any(axis=0).sum()))
    closest = np.array(closest)
    assert 5e-6 < np.median(closest) < 2e-5  # "typically about 1e-5"
    assert 0.02 <= np.mean(closest < 1e-6) <= 0.07  # "about 4 starts out of 100"
    assert 40 <= np.mean(within) <= 60  # "about 50"
    assert 30 <= np.mean(units) <= 50  # "some 40 of the 100 units"


@needs_mnist
def test_what_a_kink_in_a_layer_looks_like_to_the_check(nb):
    """Seed 0: at h = 1e-6 every bias agrees; at h = 1e-3 exactly the units with an input
    within h of the kink disagree, each with dozens to a couple of hundred weights."""
    from course_lib.tensor import Tensor

    X, W = layer_inputs(0)
    Z = X @ W
    U = np.random.default_rng(1).standard_normal(Z.shape)
    near = (np.abs(Z) < 1e-3).any(axis=0)
    assert 25 <= near.sum() <= 50  # a few dozen columns
    bias = np.zeros(100)
    small = tensor_gradient_check(lambda b: (Tensor(Z) + b).relu(), bias, upstream=U)
    assert small.ok
    large = tensor_gradient_check(lambda b: (Tensor(Z) + b).relu(), bias, upstream=U, h=1e-3)
    disagree = ~np.isclose(large.backward[0], large.numerical[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(disagree, near)  # each such unit's bias, and only those
    assert "kink" in str(large)  # the note names one element
    crossing = np.flatnonzero(near)
    farthest = np.flatnonzero(~near)[0]
    for j in (*crossing[[0, len(crossing) // 2, -1]], farthest):
        column = tensor_gradient_check(
            lambda w: (Tensor(X) @ w).relu(), W[:, j : j + 1], upstream=U[:, j : j + 1], h=1e-3
        )
        wrong = int(
            np.sum(~np.isclose(column.backward[0], column.numerical[0], rtol=1e-5, atol=1e-7))
        )
        if near[j]:
            assert 24 <= wrong <= 250, (j, wrong)  # "dozens to a couple of hundred of 784"
        else:
            assert wrong == 0, (j, wrong)
