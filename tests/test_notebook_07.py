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
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib.display.accessible import xml_text
from course_lib.teaching.answers import exercise, mnist
from course_lib.widgets.fan_out import weight_pictures_alt_text
from course_lib.widgets.training import history_alt_text

nb = notebook_fixture("07")
IGNORE_TAG = "nbval-ignore-output"


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


def test_the_untrained_network_guesses_and_its_loss_is_above_log_10(nb):
    assert nb.eval("untrained.W1.shape, untrained.W2.shape") == ((784, 100), (100, 10))
    loss = nb.eval("initial_loss")
    out = nb.output("untrained = SigmoidNet")
    # the two numbers of the text, each what the notebook computes
    assert f"{loss:.2f}" == "2.44" and f"{np.log(10):.3f}" == "2.303"
    assert "before training: 2.44\n" in out and "log 10 = 2.303\n" in out
    text = nb.markdown
    assert r"\log 10 \approx 2.303" in text and "The loss, about 2.44, is above" in text
    assert "so the loss is about" not in text  # the old claim: the first loss is log 10
    # "because the initial logits spread": a real spread, and the loss really is above log 10
    spread = nb.eval("float(spread)")
    assert spread > 0.3 and f"mean over the images): {spread:.2f}\n" in out
    assert loss > np.log(10) + 0.1
    # "for some images the true class gets more than 1/10, for others less", averaging 1/10,
    # so the rise of the mean loss above log 10 is the convexity of -log (Jensen)
    p_true = nb.eval(
        "(lambda z: (np.exp(z - z.max(axis=1, keepdims=True)) / "
        "np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))"
        "[np.arange(1000), y_train[:1000]])(initial_logits.astype(np.float64))"
    )
    assert (p_true > 0.1).any() and (p_true < 0.1).any()
    assert abs(p_true.mean() - 0.1) < 0.01
    assert abs(-np.log(p_true).mean() - loss) < 1e-4
    assert -np.log(p_true).mean() > -np.log(p_true.mean())


def test_the_printed_sgd_step_is_the_one_training_runs(nb):
    import inspect

    from course_lib.network import sgd_step

    out = nb.output("inspect.getsource(sgd_step)")
    assert out == inspect.getsource(sgd_step) + "\n"
    assert "step *= lr" in out and "p.data -= step" in out
    assert "in the gradient's own array" in nb.markdown  # the prose says what *= does


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
    assert IGNORE_TAG in training.metadata.get("tags", [])  # metadata, not a comment
    assert "net = SigmoidNet(" in training.source  # a fresh network every run
    assert "assert" not in training.source and "accuracy" not in training.source
    shown = nb.cell("evaluate(net, x_test, y_test)")
    assert "NBVAL_IGNORE_OUTPUT" not in shown.source and "seconds" not in shown.source
    text = nb.markdown
    assert "a few seconds" not in text and "TRAINING_TIME" not in text


# ---- one image, one unit ------------------------------------------------------------------------


def test_the_page_holds_no_maintainer_text(nb):
    text = nb.markdown
    for phrase in ("sgd_step_in_place", "NBVAL", "nbval", "course's tests", "2-core", "shared"):
        assert phrase not in text, phrase
    for _, cell in nb.code_cells:
        assert "NBVAL" not in cell.source and "sgd_step_in_place" not in cell.source


def test_image_8_is_a_5_taken_for_a_6(nb):
    p = nb.eval("p")
    assert nb.eval("int(y_test[i])") == 5 and int(np.argmax(p)) == 6
    assert round(p[5], 2) == 0.13 and round(p[6], 2) == 0.83  # the text's numbers
    assert round(nb.eval("float(graph.h.data[0, j])"), 4) == 0.4301


# The stored numbers of the answer key match the engine's to the 4 decimals the notebook prints.
STORED = 5e-5


def test_the_answer_key_holds_the_notebooks_engine_values(nb):
    np.testing.assert_allclose(mnist.PATHS, nb.eval("paths"), rtol=0, atol=STORED)
    assert abs(mnist.H_75 - nb.eval("float(graph.h.data[0, j])")) < STORED
    assert abs(mnist.W2_TRUE - nb.eval("float(one.W2.data[j, 5])")) < STORED
    assert (mnist.IMAGE, mnist.UNIT, mnist.LABEL) == (nb.eval("i"), nb.eval("j"), 5)
    assert int(np.argmax(nb.eval("p"))) == mnist.PREDICTED
    assert abs(exercise("mnist.dL_dh").expected - nb.eval("float(graph.h.grad[0, j])")) < STORED
    assert abs(exercise("mnist.dL_da").expected - nb.eval("float(graph.a.grad[0, j])")) < STORED
    # the slips are the numbers they describe, read off the notebook's engine
    slips = {s.says.split(":")[0]: s.gives for s in exercise("mnist.dL_dh").slips}
    assert abs(slips["That is the sum of W2[75, k]·p_k"] - nb.eval("float((w2 * p).sum())")) < 1e-4
    da = exercise("mnist.dL_da")
    assert abs(da.local - nb.eval("float(h75 * (1 - h75))")) < STORED  # σ' alone
    assert da.upstream == exercise("mnist.dL_dh").expected


def test_the_exercise_cells_hold_only_the_answer_and_the_key(nb):
    for name in ("dL_dh", "dL_da"):
        source = nb.cell(f"{name} = ...").source
        assert f'check("mnist.{name}", {name})' in source
        assert "grad" not in source and "graph" not in source and "mistakes" not in source
        assert "not answered yet" in nb.output(f"{name} = ...")
        assert "to 3 decimal places" in nb.output(f"{name} = ...")
    # the precision the checks want is stated above each exercise
    assert "add up the ten paths, to 3 decimal places" in nb.markdown
    assert r"compute $\partial L/\partial a_{75}$, to 3 decimal places" in nb.markdown
    # the engine's backward pass runs after the first answer, not in the cell above it
    forward = nb.cell(".forward(x_test[i : i + 1])").source
    assert "backward" not in forward and "trace" not in forward and "graph" not in forward
    assert "one =" not in forward  # re-running it leaves the engine's graph below intact
    confirmation = nb.cell('print(f"sum of the ten paths').source
    assert "graph = one.trace(" in confirmation and "graph.loss.backward()" in confirmation
    np.testing.assert_array_equal(nb.eval("hidden.data"), nb.eval("graph.h.data"))
    np.testing.assert_array_equal(nb.eval("logits.data"), nb.eval("graph.logits.data"))
    assert "h75 = graph.h.data[0, j]" in nb.cell("sigma_prime = ").source


def test_the_confirmations_are_shown_only_on_running(nb):
    for marker in ('print(f"sum of the ten paths', "sigma_prime = "):
        assert IGNORE_TAG in nb.cell(marker).metadata.get("tags", []), marker
    saved = nbformat.read(notebook_path("07"), as_version=4)
    for cell in saved.cells:
        if IGNORE_TAG in cell.metadata.get("tags", []):
            assert cell.outputs == [], cell.source
    # what they show when run: the sum, the engine's gradient, the step through the sigmoid
    assert nb.output('print(f"sum of the ten paths') == (
        "sum of the ten paths: 1.1589\nengine's h.grad[0, 75]: 1.1589\n"
    )


def test_the_ten_paths_add_up_to_the_engines_gradient(nb):
    paths, grad = nb.eval("paths"), nb.eval("float(graph.h.grad[0, j])")
    assert abs(paths.sum() - grad) < 1e-12
    assert round(grad, 3) == 1.159  # the solution
    assert round(paths[5], 4) == 1.6632 and round(paths[6], 4) == -0.5381
    assert abs(np.delete(paths, [5, 6]).sum() - 0.0339) < 5e-4  # "the other eight"
    # the table's rounded rows add up to an answer the stated precision accepts
    rows = [float(line.split()[-1]) for line in nb.output("paths = w2 * (p - y)").splitlines()[1:]]
    assert exercise("mnist.dL_dh").judge(sum(rows)).correct


def test_the_ten_path_sum_answers_right_and_wrong_answers(nb):
    cell = "dL_dh = ..."

    def shown(answer: str) -> str:
        return answered(nb, cell, "dL_dh = ...", f"dL_dh = {answer}")

    assert "dL/dh_75 = 1.159: right" in shown("1.159")
    assert "right" in shown("1.1591")  # the sum of the table's rounded rows
    assert "3 decimal places" in shown("1.16")
    assert "average of the paths" in shown("0.11589")  # a tenth of the sum
    assert "sign is flipped" in shown("-1.1589")
    assert "row k = 5 alone" in shown("1.6632")
    assert "row k = 6 alone" in shown("-0.5381")
    assert "−y_k is missing" in shown("-0.7499")
    assert "∂L/∂a_75, the next step" in shown("0.2841")
    assert "factor of 2" in shown("2 * 1.1589")
    assert "Zero would mean" in shown("0")
    assert "expected a number" in shown("'abc'")
    for answer in ("1.1589", "-1.1589", "0.5795", "0", "0.11589", "12"):
        after = shown(answer).split(" is not right.", 1)
        assert len(after) == 1 or after[1].strip(), answer


def test_the_step_through_the_sigmoid_answers_right_and_wrong_answers(nb):
    cell = "dL_da = ..."

    def shown(answer: str) -> str:
        return answered(nb, cell, "dL_da = ...", f"dL_da = {answer}")

    assert "dL/da_75 = 0.284: right" in shown("0.284")
    assert "right" in shown("1.159 * 0.4301 * (1 - 0.4301)")
    assert "σ'(a_75) = h_75(1 − h_75) alone" in shown("0.2451")  # σ' alone
    assert "∂L/∂h_75 itself" in shown("1.1589")
    assert "multiplies by h_75 = σ(a_75)" in shown("0.4985")
    assert "multiplies by 1 − h_75 only" in shown("0.6604")
    assert "sign is wrong" in shown("-0.2841")
    assert "factor of 2" in shown("0.142")


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
    assert "NOT WRITTEN YET" in nb.output("backward_report = check_exercise(")
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
    assert "import matplotlib.pyplot as plt" in nb.code_cells[0][1].source  # imports on top
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


def test_the_figures_alt_texts_come_from_the_library(nb):
    curves, pictures = nb.cell("left.plot(history.position"), nb.cell("units = [75, 31,")
    assert "describe_figure(fig, alt=history_alt_text(history))" in curves.source
    assert "describe_figure(fig, alt=weight_pictures_alt_text(units))" in pictures.source
    for cell in (curves, pictures):
        assert 'alt=f"' not in cell.source
    history = nb.eval("history")
    alt = history_alt_text(history)
    assert f"from {history.loss[0]:.2f} at the start to {history.loss[-1]:.2f} at the end" in alt
    assert ", ".join(f"{100 * a:.2f}%" for a in history.test_accuracy) in alt
    html = output_text(curves, kinds=("text/html",))
    assert f'alt="{xml_text(alt)}"' in html
    units = nb.eval("units")
    alt = weight_pictures_alt_text(units)
    assert alt.startswith("Eight 28 by 28 pictures, one per hidden unit (75, 31, 0,")
    assert f'alt="{xml_text(alt)}"' in output_text(pictures, kinds=("text/html",))


def test_the_training_cell_asks_for_the_live_display(nb):
    training = nb.cell("history = train(")
    assert "progress=training_display()" in training.source
    top = nb.code_cells[0][1].source
    assert "from course_lib.widgets.training import history_alt_text, training_display" in top


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


def exercise_prose(run) -> str:
    """The markdown of the code exercise: from its heading to its Solution block."""
    cells = run.nb.cells
    start = next(i for i, c in enumerate(cells) if "**Exercise (code)" in c.source)
    end = next(i for i, c in enumerate(cells) if "def network_backward(" in c.source)
    return "\n".join(c.source for c in cells[start:end] if c.cell_type == "markdown")


def test_the_exercise_gives_the_forward_pass_and_no_formula_of_the_backward(nb):
    """Issue 22: the list of the backward's lines is gone; the forward code is what the learner
    gets, and the prose asks for the backward from it."""
    prose = exercise_prose(nb)
    assert "from the forward pass alone" in prose and "Start at the last line" in prose
    for formula in (
        "(P - Y)",
        "P - Y",
        "W_2^\\top",
        "h^\\top",
        "X^\\top",
        "h(1 - h)",
        "1 - h",
        "sigma'",
        "sum over the batch",
        "summed over",
        ".sum(",
        "notebook 03",
        "Everything you need is above",
    ):
        assert formula not in prose, formula
    # the forward pass the learner gets is a code cell, between the heading and the exercise
    cells = nb.nb.cells
    forward = next(i for i, c in enumerate(cells) if "def network_forward(" in c.source)
    heading = next(i for i, c in enumerate(cells) if "**Exercise (code)" in c.source)
    exercise = next(i for i, c in enumerate(cells) if "def network_backward(" in c.source)
    assert heading < forward < exercise and cells[forward].cell_type == "code"
    source = cells[forward].source
    assert "backward" not in source.replace("network_backward", "") and ".grad" not in source
    for name in ("a = X @ W1 + b1", "h = 1 / (1 + np.exp(-a))", "logits = h @ W2 + b2"):
        assert name in source, name


def test_the_forward_pass_given_is_the_engines_and_the_one_training_runs(nb):
    mine = nb.eval("{k: np.asarray(v) for k, v in mine.items()}")
    np.testing.assert_allclose(mine["a"], nb.eval("g4.a.data"), atol=1e-12)
    np.testing.assert_allclose(mine["h"], nb.eval("h4"), atol=1e-12)
    np.testing.assert_allclose(mine["logits"], nb.eval("g4.logits.data"), atol=1e-12)
    np.testing.assert_allclose(mine["P"], nb.eval("p4"), atol=1e-12)
    loss = nb.eval("g4.loss.item()")
    assert abs(float(mine["loss"]) - loss) < 1e-12
    assert nb.output("def network_forward(") == (
        f"loss of the batch of four: {loss:.3f} by hand, {loss:.3f} by the engine\n"
    )
    training = nb.cell("network_forward(X_batch, y_batch, **yours)").source
    assert "def " not in training  # no second forward pass written for the training
    assert 'network_forward(x_eval, y_eval, **yours)["P"]' in training


def test_a_slip_in_the_notebook_is_named_without_the_fix_and_again_gets_its_rule_only(nb):
    """The tiers, as a learner in this notebook meets them: a first wrong attempt names the
    slip with no line of the Solution and no rule; the same slip again shows that output's
    rule, not the seven."""
    from exercise_slips import normal, solution_fragments

    from course_lib.teaching.classifier_cases import NETWORK_OUTPUT_RULES

    solution = solution_of(nb, "network_backward")
    fragments = solution_fragments(solution)
    assert "h.T@dlogits" in fragments and "dh*h*(1-h)" in fragments
    nb.exec("from course_lib.teaching.code_exercise import forget_attempts\nforget_attempts()")
    check = cell_index(nb, 'backward_report = check_exercise("network_backward"')
    exercise = cell_index(nb, "def network_backward(")
    try:
        for attempt, new in enumerate(("db2 = dlogits", "db2 = dlogits + 0")):
            nb.exec(solution.replace("db2 = dlogits.sum(axis=0)", new))
            shown = output_text(nb.run_cell(check))
            flat = " ".join(shown.split())
            assert "db2 has the shape of the broadcast result (5, 3)" in flat, shown
            assert "copied it along axis 0" in flat, shown
            for fragment in fragments:
                assert fragment not in normal(shown), (fragment, shown)
            if attempt == 0:
                assert "The rule:" not in shown
            else:
                assert "The rule: " + NETWORK_OUTPUT_RULES["db2"] in flat, shown
                others = [r for k, r in NETWORK_OUTPUT_RULES.items() if k != "db2"]
                assert not any(r in flat for r in others), shown
    finally:
        nb.exec("forget_attempts()")
        nb.run_cell(exercise)  # the placeholder again
        nb.run_cell(check)


def test_training_with_the_learners_backward_waits_for_it(nb):
    assert nb.output("network_forward(X_batch, y_batch, **yours)").startswith(
        "Write network_backward first: the checker's verdict is 'not written yet'"
    )
    assert nb.output("if curves:").startswith("No curves yet")


def test_with_the_solution_the_learners_training_equals_the_engines(nb):
    training = cell_index(nb, "network_forward(X_batch, y_batch, **yours)")
    plotting = cell_index(nb, "if curves:")
    exercise = cell_index(nb, "def network_backward(")
    nb.exec(solution_of(nb, "network_backward"))  # as if the learner had written it
    before = nb.eval("y.tolist(), accuracy, p.tolist()")
    try:
        nb.run_cell(training)
        assert nb.eval("y.tolist(), accuracy, p.tolist()") == before  # nothing shadowed
        curves = nb.eval("curves")
        engine, yours = curves["engine"], curves["yours"]
        assert engine[0] == yours[0] == list(range(25, 301, 25))
        np.testing.assert_allclose(yours[1], engine[1], rtol=1e-9)  # mean losses
        assert yours[2] == engine[2]  # test accuracies, image for image
        assert engine[2][-1] > 0.8 and engine[1][-1] < engine[1][0]  # it learned
        out = nb.output("network_forward(X_batch, y_batch, **yours)")
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
        assert nb.output("network_forward(X_batch, y_batch, **yours)").startswith(
            "Write network_backward first: the checker's verdict is 'wrong'"
        )
    finally:
        nb.run_cell(exercise)  # the placeholder again
        nb.run_cell(training)
        nb.run_cell(plotting)


def test_the_training_takes_whatever_dict_the_checker_accepts(nb):
    """A dict whose values are array-likes (lists here) either fails the check (the cell then
    asks for network_backward first) or, if the checker takes it, trains exactly as the arrays
    do: the cell turns each value into a float64 array before the step (finding 1)."""
    training = cell_index(nb, "network_forward(X_batch, y_batch, **yours)")
    exercise = cell_index(nb, "def network_backward(")
    solution = solution_of(nb, "network_backward")
    nb.exec(solution)
    try:
        nb.run_cell(training)
        arrays = nb.eval("curves")
        nb.exec(
            solution.replace("def network_backward(", "def _as_arrays(", 1)
            + "\n\ndef network_backward(*args):\n"
            "    return {k: v.tolist() for k, v in _as_arrays(*args).items()}\n"
        )
        accepted = nb.eval('check_exercise("network_backward", network_backward).ok')
        nb.run_cell(training)
        out = nb.output("network_forward(X_batch, y_batch, **yours)")
        if accepted:
            assert nb.eval("curves") == arrays, out
        else:
            assert out.startswith("Write network_backward first"), out
    finally:
        nb.run_cell(exercise)  # the placeholder again
        nb.run_cell(training)
    # the exercise says what to return: a dict of numpy arrays, keyed by name
    text = " ".join(nb.markdown.split())
    assert (
        'It returns a **dict** of seven gradients keyed by name, `"dlogits"`, `"dW2"`, `"db2"`, '
        '`"dh"`, `"da"`, `"dW1"` and `"db1"`, each a numpy array' in text
    )
    assert "a dict, not a tuple" in text


# ---- the review's findings -----------------------------------------------------------------


def test_the_four_moves_are_the_ones_of_notebooks_01_and_02(nb):
    """Notebook 01 has no join (its sum at joins comes in 02): the take-away names both."""
    text = " ".join(nb.markdown.split())
    assert "the same four moves as in notebooks 01 and 02." in text
    assert "the same four moves as in notebook 01." not in text
    first, second = (
        " ".join(
            " ".join(c.source for c in nbformat.read(notebook_path(n), as_version=4).cells).split()
        )
        for n in ("01", "02")
    )
    assert "The fourth move, **sum at joins**, did not appear yet" in first
    assert "The fourth move, **sum at joins**, says how to combine them: add." in second


def test_every_import_is_in_the_first_code_cell(nb):
    """After a restart, running the first code cell is enough for any later cell's imports: none
    hides in an exercise cell a learner may leave broken or skip. (The copyable figure cell
    imports matplotlib again, so that a copy of it runs on its own.)"""
    (_, top), *rest = nb.code_cells
    assert "import numpy as np" in top.source and "import matplotlib.pyplot as plt" in top.source
    for _, cell in rest:
        for line in cell.source.splitlines():
            if line.startswith(("import ", "from ")):
                assert line == "import matplotlib.pyplot as plt", line
                assert "left.plot(history.position" in cell.source
