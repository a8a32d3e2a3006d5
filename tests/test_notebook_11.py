"""Notebook 11 (capstone), executed once: it says what it builds on and where it leads, every
number its text quotes is what its code computes, its six code exercises wait for the learner,
their Solutions are right (and are the texts the library's tests submit), a learner's own
capstone gradients train the network to the engine's accuracy, wrong, raising and None answers
get a sentence while the notebook keeps running, and nothing above an exercise shows its
answer."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from capstone_slips import SOLUTIONS
from notebook_harness import notebook_fixture, notebook_path, output_text

from course_lib.network import layer_gradient_norms
from course_lib.network.capstone import engine_gradients, init_parameters
from course_lib.teaching.capstone_cases import SIZES, STAGES
from course_lib.teaching.depth_exercise import DEPTHS
from course_lib.teaching.notebook_quizzes import closing_quiz

nb = notebook_fixture("11")

STAGE_FUNCTIONS = [stage.function for stage in STAGES]


def markdown_outside_solutions(run) -> str:
    return re.sub(r"<details>.*?</details>", "", run.markdown, flags=re.S)


def as_learner(run, *functions: str) -> None:
    """Put the Solution of each of ``functions`` in the kernel, as if the learner wrote it."""
    for function in functions:
        run.exec(run.solution(function))


def unwritten(run) -> None:
    """The exercise cells as saved: every function back to its placeholder."""
    for _, cell in run.code_cells:
        if "exercise" in cell.metadata.get("tags", []):
            run.exec(cell.source)


def shown(run, marker: str) -> str:
    """What the notebook's cell containing ``marker`` (or being exactly ``marker``) shows when
    run again now."""
    exact = [c for _, c in run.code_cells if c.source.strip() == marker.strip()]
    cell = exact[0] if len(exact) == 1 else run.cell(marker)
    return output_text(run.exec(cell.source))


# ---- what it builds on, where it leads ----------------------------------------------------


def test_it_opens_with_what_it_builds_on_and_ends_with_the_review(nb):
    opening = " ".join(nb.nb.cells[0].source.split())
    for earlier in ("Notebook 07", "Notebook 09", "notebook 10"):
        assert earlier in opening, earlier
    assert "become a backprop ninja" in opening and "Nielsen" in opening
    last = nb.nb.cells[-1].source
    assert last.startswith("Next: **[12 · review](12_review.ipynb)**:")


def test_the_solutions_are_the_texts_the_library_tests_submit(nb):
    for function, text in SOLUTIONS.items():
        assert nb.solution(function) == text, function


def test_there_are_six_code_exercises_each_with_a_solution_and_a_check(nb):
    exercises = [c for _, c in nb.code_cells if "exercise" in c.metadata.get("tags", [])]
    assert len(exercises) == 6
    for function in [*STAGE_FUNCTIONS, "my_deep_backward"]:
        assert nb.solution(function)
    checks = [c.source for _, c in nb.code_cells if "check_stage(" in c.source]
    assert len(checks) >= len(STAGES)


# ---- numbers the text quotes -------------------------------------------------------------


def test_the_data_and_the_network_are_what_the_text_says(nb):
    text = " ".join(markdown_outside_solutions(nb).split())
    assert nb.eval("x_small.shape") == (10_000, 784) and "10,000 MNIST training images" in text
    assert nb.eval("x_test.shape") == (10_000, 784) and "the 10,000 test images" in text
    assert nb.eval("params['W1'].shape") == (784, 64) and "H = 64 hidden units" in text
    assert nb.eval("str(x_small.dtype)") == "float64"
    assert nb.eval("X.shape") == (32, 784) and "a batch of 32 images" in text
    out = nb.output("f = forward(X, labels, params)")
    assert "   e_sum  (32, 1)" in out and '`f["e_sum"]` is (32, 1)' in text
    loss = nb.eval("float(f['loss'])")
    assert f"loss {loss:.4f} (log 10 = 2.3026" in out
    assert "twenty of them" in text and sum(len(s.outputs) for s in STAGES) == 20
    assert "three random networks" in text and len(SIZES) == 3
    assert "then one with MNIST's 784 inputs and 10 classes" in " ".join(text.split())
    assert SIZES[-1][1] == 784 and SIZES[-1][3] == 10
    assert "depth 1, 2 and 5" in text and DEPTHS == (1, 2, 5)


def test_the_training_settings_are_what_the_text_says(nb):
    text = " ".join(markdown_outside_solutions(nb).split())
    settings = nb.eval("{k: v for k, v in settings.items() if k != 'test'}")
    assert settings == {"steps": 600, "batch": 32, "lr": 0.2, "every": 50, "seed": 1}
    assert "600 steps at learning rate 0.2; every 50 steps" in text
    assert "same batches of 32 of the 10,000 images" in text


def test_the_quizs_numbers_are_the_engines(nb):
    dz, dz_max = nb.eval(
        "(float(np.abs(engine_gradients(X, labels, params)[1]['dz']).max()), "
        "float(np.abs(engine_gradients(X, labels, params)[1]['dz_max']).max()))"
    )
    assert 'closing_quiz("capstone")' in nb.cell("questions = ").source
    quiz = " ".join(q.prompt for q in closing_quiz("capstone"))
    assert "came out below 1e-16" in quiz and dz_max < 1e-16
    assert "reached about 3e-2" in quiz and f"{dz:.0e}" == "3e-02"


def test_notebook_09s_numbers_are_the_ones_quoted_for_its_stacks(nb):
    text = " ".join(markdown_outside_solutions(nb).split())
    assert "width 32, a batch of 16" in text
    defaults = layer_gradient_norms.__kwdefaults__
    assert defaults["width"] == 32 and defaults["batch"] == 16 and defaults["seed"] == 0


# ---- the exercises wait, and every cell runs without them ----------------------------------


def test_the_saved_page_waits_for_the_learner(nb):
    saved = nbformat.read(notebook_path("11"), as_version=4)
    outputs = "\n".join(output_text(c) for c in saved.cells if c.cell_type == "code")
    assert outputs.count("NOT WRITTEN YET") == len(STAGES) + 2  # the stages, the chain, depth
    assert "yours: waiting" in outputs and "This comparison runs once my_deep_backward" in outputs
    assert ": RIGHT." not in outputs and "✔ exact" not in outputs


def test_with_the_solutions_every_check_says_right(nb):
    try:
        as_learner(nb, *STAGE_FUNCTIONS, "my_deep_backward")
        for stage in STAGES:
            out = shown(nb, f'check_stage("{stage.name}", {stage.function})')
            assert f"{stage.function} (stage" in out and ": RIGHT." in out, out
        assert "your backward pass, all stages: RIGHT." in shown(nb, "chain = compare_all(")
        assert "deep_backward: RIGHT." in shown(nb, "import check_deep_backward")
        predicted = shown(nb, "largest |dz_max|")
        assert "largest |dz_max|: " in predicted and "e-1" in predicted
    finally:
        unwritten(nb)
        nb.exec(nb.cell("chain = compare_all(").source)


def test_a_learners_own_gradients_train_the_network_to_the_engines_accuracy(nb):
    try:
        as_learner(nb, *STAGE_FUNCTIONS)
        nb.exec(nb.cell("chain = compare_all(").source)
        out = shown(nb, "settings = dict(")
        engine = re.search(r"engine: after 600 steps, loss (\S+), test accuracy (\S+)%", out)
        yours = re.search(r"yours: after 600 steps, loss (\S+), test accuracy (\S+)%", out)
        assert engine and yours, out
        assert yours.groups() == engine.groups()
        assert float(engine.group(2)) > 90  # the network learned
        accuracies = nb.eval("(runs['engine'].test_accuracy, runs['yours'].test_accuracy)")
        assert accuracies[0] == accuracies[1]
        gap = nb.eval(
            "max(np.abs(runs['yours'].params[k] - runs['engine'].params[k]).max() for k in params)"
        )
        assert gap < 1e-12 and f"final weights: {gap:.1e}" in out
        figure = nb.exec(nb.cell("describe_figure(fig").source)
        html = "".join(o["data"]["text/html"] for o in figure["outputs"] if "data" in o)
        assert 'alt="Two panels against the SGD step.' in html
        assert "one line per run (engine, yours)" in html
    finally:
        unwritten(nb)
        nb.exec(nb.cell("chain = compare_all(").source)
        nb.exec(nb.cell("settings = dict(").source)


def test_wrong_raising_and_none_answers_get_a_sentence_and_training_waits(nb):
    broken = {
        "my_loss_backward": (
            SOLUTIONS["my_loss_backward"].replace("= -1 / N", "= -1"),
            "N = 5 times too big",
        ),
        "my_tanh_backward": (
            SOLUTIONS["my_tanh_backward"].replace('f["h"] ** 2', 'f["hh"] ** 2'),
            "KeyError",
        ),
        "my_layer_norm_backward": (
            SOLUTIONS["my_layer_norm_backward"].replace("    return {", "    {"),
            "forget the `return`",
        ),
    }
    try:
        as_learner(nb, *STAGE_FUNCTIONS)
        for function, (code, says) in broken.items():
            nb.exec(code)
            stage = next(s.name for s in STAGES if s.function == function)
            out = shown(nb, f'check_stage("{stage}", {function})')
            assert says in out and "Traceback" not in out, out
        chain = shown(nb, "chain = compare_all(")
        assert "your backward pass, all stages: WRONG." in chain
        trained = shown(nb, "settings = dict(")
        assert "yours: waiting." in trained and "engine: after 600 steps" in trained
        assert "one line per run (engine)" in "".join(
            o["data"]["text/html"]
            for o in nb.exec(nb.cell("describe_figure(fig").source)["outputs"]
            if "data" in o
        )
        for source in (
            SOLUTIONS["my_deep_backward"].replace("return grads", "grads"),
            SOLUTIONS["my_deep_backward"].replace("hs[L])", "hs[L + 1])"),
        ):
            nb.exec(source)
            out = shown(nb, "import check_deep_backward")
            assert "deep_backward: ERROR." in out and "Traceback" not in out, out
            assert "runs once my_deep_backward passes" in shown(nb, "same_stack_as_09")
    finally:
        unwritten(nb)
        nb.exec(nb.cell("chain = compare_all(").source)
        nb.exec(nb.cell("settings = dict(").source)


def _formula_fragments(solution: str) -> list[str]:
    """The right-hand sides of a solution's assignments, without spaces or comments: the lines
    a first wrong attempt's feedback must never show."""
    fragments = []
    for line in solution.splitlines()[2:]:
        code = re.sub(r"\s+", "", line.split("#")[0])
        if re.match(r"^[\w\[\]\"{}(), -]+=[^=]", code) and not code.startswith(
            ("N=", "H=", "rows=", "L=", "grads={}")
        ):
            fragments.append(code.split("=", 1)[1])
    return fragments


def _feedback(run, check: str) -> str:
    """What the notebook's check cell (its source exactly ``check``) shows when run now."""
    [cell] = [c for _, c in run.code_cells if c.source.strip() == check]
    text = output_text(run.exec(cell.source), kinds=("stdout", "text/plain"))
    return re.sub(r"of your function: `[^`]*`", "", text)  # the learner's own line may show


def test_each_solution_is_right_and_each_listed_slip_is_named_on_a_first_attempt(nb):
    """Each code exercise gets its Solution (the check says RIGHT), then each listed slip of it
    as a first attempt (the tiers forgotten before each): the feedback names the slip, shows no
    rule and no line of the solution. The exercises are unwritten again afterwards."""
    from capstone_slips import DEEP_SLIPS, SLIPS

    submissions = [
        (stage.function, f'check_stage("{stage.name}", {stage.function})', slips)
        for stage in STAGES
        for slips in [[(old, new, says) for s, _, old, new, says in SLIPS if s == stage.name]]
    ]
    submissions.append(
        (
            "my_deep_backward",
            "from course_lib.teaching.depth_exercise import check_deep_backward\n\n"
            "check_deep_backward(my_deep_backward)",
            DEEP_SLIPS,
        )
    )
    nb.exec(
        "from course_lib.teaching.intermediates import forget_capstone_attempts\n"
        "from course_lib.teaching.code_exercise import forget_attempts"
    )
    submitted = 0
    try:
        for function, check, slips in submissions:
            solution = SOLUTIONS[function]
            assert nb.solution(function) == solution, function
            nb.exec(solution)
            right = _feedback(nb, check)
            assert ": RIGHT." in right, right
            for old, new, says in slips:
                nb.exec("forget_capstone_attempts(); forget_attempts()")
                nb.exec(solution.replace(old, new, 1))
                shown = _feedback(nb, check)
                assert says in shown, (function, new, shown)
                assert ": RIGHT." not in shown and "The rule:" not in shown, shown
                flat = re.sub(r"\s+", "", shown)
                for fragment in _formula_fragments(solution):
                    assert fragment not in flat, (function, new, fragment, shown)
                submitted += 1
        assert submitted == len(SLIPS) + len(DEEP_SLIPS)
    finally:
        nb.exec("forget_capstone_attempts(); forget_attempts()")
        unwritten(nb)
        nb.exec(nb.cell("chain = compare_all(").source)


def test_your_loop_gives_notebook_09s_numbers(nb):
    try:
        as_learner(nb, "my_deep_backward")
        out = shown(nb, "same_stack_as_09")
        for activation, ratio in (("sigmoid", "1.7e-07"), ("tanh", "8.9e-01"), ("relu", "5.6e-01")):
            line = next(line for line in out.splitlines() if line.strip().startswith(activation))
            assert f"ratio {ratio}" in line, line
            difference = float(line.rsplit(" ", 1)[1])
            assert difference < 1e-12, line
            engine = layer_gradient_norms(
                12, activation, np.sqrt(2) if activation == "relu" else 1.0
            )
            assert f"ratio {engine[0] / engine[-1]:.1e}" in line
    finally:
        unwritten(nb)


# ---- nothing above an exercise shows its answer ----------------------------------------------


def _formula_lines(function: str) -> list[str]:
    lines = []
    for line in SOLUTIONS[function].splitlines()[2:]:
        code = re.sub(r"\s+", "", line.split("#")[0])
        if re.match(r"^[\w\[\]\"{}(), -]+=[^=]", code) and not code.startswith(
            ("N=", "H=", "rows=", "L=", "grads={}")
        ):
            lines.append(code.split("=", 1)[1])
    return lines


@pytest.mark.parametrize("function", [*STAGE_FUNCTIONS, "my_deep_backward"])
def test_no_solution_line_is_on_the_page_above_its_exercise(function):
    saved = nbformat.read(notebook_path("11"), as_version=4)
    above = []
    for cell in saved.cells:
        if cell.cell_type == "code" and f"def {function}(" in cell.source:
            break
        if cell.cell_type == "markdown":
            above.append(re.sub(r"<details>.*?</details>", "", cell.source, flags=re.S))
        else:
            above.append(cell.source)
            above.append(output_text(cell, kinds=("stdout", "text/plain", "text/html")))
    page = re.sub(r"\s+", "", "\n".join(above))
    for line in _formula_lines(function):
        assert line not in page, (function, line)


def test_the_exercise_cells_hold_only_placeholders(nb):
    for _, cell in nb.code_cells:
        if "exercise" in cell.metadata.get("tags", []):
            body = cell.source.split("return")[0].splitlines()[2:]
            body = [line.strip() for line in body if line.strip()]
            assert all(line.endswith("...") for line in body), cell.source


def test_the_forward_printed_is_the_one_the_engine_is_compared_on(nb):
    printed = nb.output("print(inspect.getsource(forward))")
    assert printed.startswith("def forward(X: np.ndarray, labels: np.ndarray, params: dict")
    assert "inv_std = (var + eps) ** -0.5" in printed and "dW" not in printed
    # the engine's gradients the checks read are of this very forward pass
    f, g = engine_gradients(np.eye(3, 4), np.array([0, 1, 1]), init_parameters(4, 3, 2))
    assert set(g) >= {"d" + name for name in f if name not in ("X", "labels", "eps", "loss")}
