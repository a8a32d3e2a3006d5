"""Notebook 07 (MNIST fan-out), executed once: what it shows is right.

The checks that used to be ``assert`` cells in the notebook live here. Each one reads the
notebook's namespace or a cell's output, so a wrong number in the notebook (or a wrong rule in
the library it calls) fails here, while the learner only sees the teaching cells. Running the
notebook trains the network once (tens of seconds on a busy 2-core machine).
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
from notebook_harness import notebook_fixture, notebook_path

nb = notebook_fixture("07")


def cell_index(run, containing: str) -> int:
    found = [i for i, c in run.code_cells if containing in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {containing!r}"
    return found[0]


# ---- data and network ---------------------------------------------------------------------------


def test_the_data_is_real_mnist(nb):
    assert nb.eval("x_train.shape") == (60_000, 784) and nb.eval("x_test.shape") == (10_000, 784)
    assert nb.eval("str(x_train.dtype), str(y_train.dtype)") == ("float32", "int64")
    assert nb.eval("float(x_train.min()), float(x_train.max())") == (0.0, 1.0)
    assert nb.eval("int(np.bincount(y_train).min())") > 5_000  # every digit well represented
    labels = nb.eval("y_test[:12].tolist()")
    assert nb.output("digit_row(") == "12 images, labels " + " ".join(map(str, labels))


def test_the_printed_network_code_uses_no_private_helpers(nb):
    out = nb.output("inspect.getsource(SigmoidNet.forward)")
    assert "linear(x, self.W1, self.b1)" in out and "softmax_cross_entropy(z, y)" in out
    assert not re.search(r"\b_[a-z]", out), out


def test_the_untrained_network_guesses(nb):
    assert nb.eval("untrained.W1.shape, untrained.W2.shape") == ((784, 100), (100, 10))
    loss = nb.eval("initial_loss")
    assert abs(loss - np.log(10)) < 0.2  # "about log 10 = 2.303"
    assert f"{loss:.2f}" in nb.output("untrained = SigmoidNet")


def test_the_printed_sgd_step_is_the_plain_update(nb):
    out = nb.output("inspect.getsource(sgd_step)")
    assert "p.data -= lr * p.grad" in out and "*=" not in out


# ---- training -----------------------------------------------------------------------------------


def test_training_reaches_97_percent_and_the_accuracy_cell_shows_it(nb):
    history = nb.eval("history.test_accuracy")
    assert len(history) == 3 and history[-1] >= 0.97
    assert nb.eval("accuracy") == history[-1]
    out = nb.output("evaluate(net, x_test, y_test)")
    assert ", ".join(f"{100 * a:.2f}%" for a in history) in out
    assert f"{history[-1]:.2%} of the 10,000 test images" in out


def test_timing_and_accuracy_are_separate_cells(nb):
    training = nb.cell("history = train(")
    assert training.source.startswith("# NBVAL_IGNORE_OUTPUT")
    assert "net = SigmoidNet(" in training.source  # a fresh network every run
    assert "assert" not in training.source and "accuracy" not in training.source
    shown = nb.cell("evaluate(net, x_test, y_test)")
    assert "NBVAL_IGNORE_OUTPUT" not in shown.source and "seconds" not in shown.source
    text = nb.markdown
    assert "a few seconds" not in text and "TRAINING_TIME" not in text


# ---- one image, one unit ------------------------------------------------------------------------


def test_image_8_is_a_5_taken_for_a_6(nb):
    p = nb.eval("p")
    assert nb.eval("int(y_test[i])") == 5 and int(np.argmax(p)) == 6
    assert round(p[5], 2) == 0.13 and round(p[6], 2) == 0.83  # the text's numbers
    assert round(nb.eval("float(graph.h.data[0, j])"), 4) == 0.4301


def test_the_ten_paths_add_up_to_the_engines_gradient(nb):
    paths, grad = nb.eval("paths"), nb.eval("float(graph.h.grad[0, j])")
    assert abs(paths.sum() - grad) < 1e-12
    assert round(grad, 3) == 1.159  # the solution
    assert round(paths[5], 4) == 1.6632 and round(paths[6], 4) == -0.5381
    assert abs(np.delete(paths, [5, 6]).sum() - 0.0339) < 5e-4  # "the other eight"
    # the exercise's typical mistakes are the numbers they describe
    assert round(nb.eval("float((w2 * p).sum())"), 4) == -0.7499  # the -y_k forgotten
    assert nb.eval("check(1.159, graph.h.grad[0, j]).correct")
    assert "not answered yet" in nb.output("dL_dh = ...")
    assert "not answered yet" in nb.output("dL_da = ...")


def test_the_step_through_the_sigmoid(nb):
    da = nb.eval("float(graph.a.grad[0, j])")
    assert round(da, 3) == 0.284  # the solution
    assert abs(nb.eval("float(graph.h.grad[0, j] * h75 * (1 - h75))") - da) < 1e-12
    # x_test is float32: in float64 first, or numpy 1.26 multiplies in float32 (numpy 2 in
    # float64), and the float32 rounding can exceed the default rtol of 1e-7
    np.testing.assert_allclose(
        nb.eval("one.W1.grad[:, j]"),
        nb.eval("x_test[i].astype(np.float64) * graph.a.grad[0, j]"),
        atol=1e-12,
    )
    assert nb.output("sigma_prime = ").endswith("pixels x dL/da_75: True\n")


# ---- the explorer -------------------------------------------------------------------------------


def test_the_explorer_agrees_with_the_engine_and_names_the_largest_units(nb):
    assert nb.output("explorer = fan_out_explorer").startswith(
        "FanOutExplorer(image 8 (label 5), hidden unit 75: sum of ten paths 1.1589"
    )
    for unit in (0, 31, 58, 99):
        nb.exec(f"explorer.image.value = 8\nexplorer.unit.value = {unit}")
        assert abs(nb.eval("explorer.total - explorer.engine_dh")) < 1e-12
        assert abs(nb.eval("explorer.unit_grad - explorer.engine_da")) < 1e-12
    # "image 8 with unit 31, the largest sum of all", whose sigma' is tiny
    assert nb.eval("int(explorer.ranking[0])") == 31
    nb.exec("explorer.unit.value = 31")
    assert nb.eval("explorer.sigma_prime") < 1e-6 and abs(nb.eval("explorer.total")) > 2
    largest = nb.eval("explorer.top_units.options[1][1]")
    nb.exec(f"explorer.top_units.value = {largest}")
    assert nb.eval("explorer.unit.value") == largest


def test_the_same_from_code_cell_sets_what_it_reads_after_a_learner_played(nb):
    index = cell_index(nb, "# The same from code")
    saved = nb.output("# The same from code")
    assert saved.splitlines()[0] == (
        "unit 75: sum of the ten paths +1.1589, engine's h.grad +1.1589"
    )
    nb.exec("explorer.image.value = 1234\nexplorer.unit.value = 3\nexplorer.top_units.index = 2")
    nb.run_cell(index)
    assert nb.output("# The same from code") == saved
    assert nb.eval("explorer.image.value, explorer.unit.value") == (8, 75)


# ---- all units at once, and a batch ------------------------------------------------------------


def test_all_units_at_once_is_delta_times_w2_transposed(nb):
    np.testing.assert_allclose(nb.eval("all_units"), nb.eval("graph.h.grad[0]"), atol=1e-12)
    assert abs(nb.eval("all_units[j] - paths.sum()")) < 1e-12
    source = nb.cell("all_units = ").source
    assert "delta @ one.W2.data.T" in source  # the layout of the text: (p - y) W2ᵀ
    assert "_matmul_backward" not in source and "getsource" not in source
    text = nb.markdown
    assert r"(p - y)\,W_2^\top" in text
    assert r"W_2^\top(p - y)" not in text and r"W_2\, \delta" not in text
    assert nb.output("all_units = ").endswith("largest |dL/dh|: [31 62 50]\n")


def test_the_batch_gradient_sums_per_example_contributions_with_the_mean(nb):
    dz = nb.eval("dZ4")
    p4, y4 = nb.eval("p4"), nb.eval("np.eye(10)[y_test[batch]]")
    np.testing.assert_allclose(dz, (p4 - y4) / 4, atol=1e-15)  # the mean's 1/N, N = 4
    np.testing.assert_allclose(nb.eval("g4.logits.grad"), dz, atol=1e-12)  # the engine agrees
    np.testing.assert_allclose(nb.eval("net4.W2.grad"), nb.eval("sum(per_example)"), atol=1e-12)
    np.testing.assert_allclose(nb.eval("net4.W2.grad"), nb.eval("h4.T @ dZ4"), atol=1e-12)
    np.testing.assert_allclose(nb.eval("net4.W1.grad"), nb.eval("x4.T @ g4.a.grad"), atol=1e-12)
    assert nb.output("x4 = ").count("True") == 3
    assert "their sum: 0.0739   engine: 0.0739" in nb.output("per_example = ")


# ---- quiz and what the learner never sees -------------------------------------------------------


def test_the_quiz_has_its_right_answer_first_and_not_the_longest(nb):
    options = nb.eval("q.options")
    assert nb.eval("q.correct") == 0
    assert options[0].startswith("the sum over all ten outputs")
    assert [nb.eval(f"q.answer({i}).correct") for i in range(len(options))] == [
        True,
        False,
        False,
        False,
    ]
    assert len(options[0]) < max(len(o) for o in options)


def test_learner_cells_hold_no_asserts_answer_keys_or_internals():
    saved = nbformat.read(notebook_path("07"), as_version=4)
    for cell in saved.cells:
        if cell.cell_type != "code":
            continue
        lines = [line.strip() for line in cell.source.splitlines()]
        assert not any(line.startswith("assert") for line in lines), cell.source
        assert "testing.assert" not in cell.source and ".answer(" not in cell.source
        assert not re.search(r"import _|\._[a-z]", cell.source), cell.source
        assert "course_lib.tensor" not in cell.source  # tensor.py's source is not printed


def test_running_the_training_cell_again_starts_from_a_fresh_network(nb):
    """It retrains (on a small slice, to be quick), then restores the trained network."""
    index = cell_index(nb, "history = train(")
    nb.exec(
        "_saved = (net, history, x_train, y_train)\nx_train, y_train = x_train[:640], y_train[:640]"
    )
    try:
        nb.run_cell(index)
        first = nb.eval("net.W1.data.copy()"), nb.eval("history.test_accuracy")
        nb.run_cell(index)
        again = nb.eval("net.W1.data.copy()"), nb.eval("history.test_accuracy")
    finally:
        nb.exec("net, history, x_train, y_train = _saved")
    np.testing.assert_array_equal(first[0], again[0])
    assert first[1] == again[1]


def test_the_code_exercise_waits_for_the_learner_and_its_solution_is_right(nb):
    exercise = nb.cell("def network_backward(")
    assert exercise.metadata.get("tags") == ["exercise"]
    assert "NOT WRITTEN YET" in nb.output(
        'import check_exercise\n\ncheck_exercise("network_backward"'
    )
    solution = next(
        re.search(r"```python\n(.*?)```", c.source, re.S).group(1)
        for c in nb.nb.cells
        if c.cell_type == "markdown" and "def network_backward(" in c.source
    )
    nb.exec(solution.replace("def network_backward(", "def solution_backward(", 1))
    report = nb.eval('str(check_exercise("network_backward", solution_backward))')
    assert report.startswith("network_backward: RIGHT"), report
    # the solution's dh, for the notebook's batch, is the engine's
    nb.exec(
        "_grads = solution_backward(x4, y_test[batch], net4.W1.data, net4.b1.data, "
        "net4.W2.data, net4.b2.data, h4, p4)"
    )
    np.testing.assert_allclose(nb.eval("_grads['dh']"), nb.eval("g4.h.grad"), atol=1e-12)
    np.testing.assert_allclose(nb.eval("_grads['dW1']"), nb.eval("net4.W1.grad"), atol=1e-12)


# ---- matplotlib figures a learner can copy -------------------------------------------------------


def test_the_curves_and_weight_pictures_are_plain_matplotlib(nb):
    curves = nb.cell("left.plot(history.position, history.loss)")
    assert "import matplotlib.pyplot as plt" in curves.source
    assert nb.output("left.plot(history.position, history.loss)").startswith(
        "<Figure size 900x300 with 2 Axes>"
    )
    pictures = nb.cell("units = [75, 31,")
    assert ".reshape(28, 28)" in pictures.source and "imshow" in pictures.source
    assert nb.output("units = [75, 31,").startswith("<Figure size 1200x190 with 8 Axes>")
    # what the pictures show is W1's columns, on a scale symmetric about 0
    images = nb.eval("[ax.get_images()[0].get_array().data for ax in axes]")
    for unit, image in zip([75, 31, 0, 58, 62, 50, 99, 3], images, strict=True):
        np.testing.assert_array_equal(image, nb.eval(f"net.W1.data[:, {unit}].reshape(28, 28)"))
    low, high = nb.eval("axes[0].get_images()[0].get_clim()")
    assert low == -high


def test_the_training_cell_asks_for_the_live_display(nb):
    training = nb.cell("history = train(")
    assert "progress=training_display()" in training.source
    assert "from course_lib.widgets.training import training_display" in training.source


# ---- the whole backward, typical wrong versions, and training with the learner's own ------------


def solution_of(run, function: str) -> str:
    return next(
        re.search(r"```python\n(.*?)```", c.source, re.S).group(1)
        for c in run.nb.cells
        if c.cell_type == "markdown" and f"def {function}(" in c.source
    )


NETWORK_MISTAKES = {
    "no_mean": ("dlogits = (P - Y) / N", "dlogits = P - Y", "the mean over the N examples"),
    "bias_not_summed": ("db2 = dlogits.sum(axis=0)", "db2 = dlogits", "shape of the broadcast"),
    "sigmoid_of_input": (
        "da = dh * h * (1 - h)",
        "da = dh * (X @ W1 + b1) * (1 - (X @ W1 + b1))",
        "uses a, the sigmoid's input",
    ),
    "skipped_sigmoid": ("dW1 = X.T @ da", "dW1 = X.T @ dh", "through the sigmoid first"),
    "transposed": ("dW2 = h.T @ dlogits", "dW2 = dlogits.T @ h", "transposed"),
}


def test_typical_wrong_network_backwards_get_their_diagnosis(nb):
    solution = solution_of(nb, "network_backward")
    for name, (old, new, diagnosis) in NETWORK_MISTAKES.items():
        assert old in solution, old
        code = solution.replace(old, new).replace("def network_backward(", f"def {name}(", 1)
        nb.exec(code)
        report = nb.eval(f'str(check_exercise("network_backward", {name}))')
        assert report.startswith("network_backward: WRONG"), report
        assert diagnosis in report, (name, report)


def test_training_with_the_learners_backward_waits_for_it(nb):
    assert nb.output("forward_by_hand(X, **yours)").startswith(
        "Write network_backward first: the checker's verdict is 'not written yet'"
    )
    assert nb.output("if curves:").startswith("No curves yet")


def test_with_the_solution_the_learners_training_equals_the_engines(nb):
    training = cell_index(nb, "forward_by_hand(X, **yours)")
    plotting = cell_index(nb, "if curves:")
    exercise = cell_index(nb, "def network_backward(")
    nb.exec(solution_of(nb, "network_backward"))  # as if the learner had written it
    try:
        nb.run_cell(training)
        curves = nb.eval("curves")
        engine, yours = curves["engine"], curves["yours"]
        assert engine[0] == yours[0] == list(range(25, 301, 25))
        np.testing.assert_allclose(yours[1], engine[1], rtol=1e-9)  # mean losses
        assert yours[2] == engine[2]  # test accuracies, image for image
        assert engine[2][-1] > 0.8 and engine[1][-1] < engine[1][0]  # it learned
        out = nb.output("forward_by_hand(X, **yours)")
        assert f"test accuracy {engine[2][-1]:.1%}" in out
        assert float(out.rsplit(":", 1)[1]) < 1e-12  # the two runs' W1 agree
        nb.run_cell(plotting)
        assert nb.output("if curves:").startswith("<Figure size 900x300 with 2 Axes>")
        lines = nb.eval("[line.get_ydata().tolist() for line in fig.axes[0].get_lines()]")
        np.testing.assert_allclose(lines[0], engine[1])  # the engine's curve, solid
        np.testing.assert_allclose(lines[1], yours[1])  # yours, dashed
        # a wrong backward does not train: it is sent back to the checker
        nb.exec(
            solution_of(nb, "network_backward").replace("dlogits = (P - Y) / N", "dlogits = P - Y")
        )
        nb.run_cell(training)
        assert nb.output("forward_by_hand(X, **yours)").startswith(
            "Write network_backward first: the checker's verdict is 'wrong'"
        )
    finally:
        nb.run_cell(exercise)  # the placeholder again
        nb.run_cell(training)
        nb.run_cell(plotting)
