"""Notebook 10 (build your own engine), executed as saved and with its Solutions written in: its
five code exercises wait for the learner (every check reads "not written yet" and the notebook
runs on course_lib's versions), its Solutions are the code the checks pass, right and wrong
answers get what the text promises, every number the text quotes is what the code computes, and
nothing above an exercise shows its answer."""

from __future__ import annotations

import re

import pytest
from learner_engines import SLIPS, SOLUTIONS, fill, slipped
from notebook_harness import NotebookRun, notebook_fixture, output_text

from course_lib.display.accessible import xml_text
from course_lib.teaching.answers import exercise

nb = notebook_fixture("10")

EXERCISES = {  # exercise -> (what its cell defines, the cell that checks it)
    "ops": ("class MyValue", "ops_report = check_ops("),
    "order": ("def my_topological_order(", "order_report = check_topological_order("),
    "engine": ("def my_backward(", "engine_report = check_engine("),
    "network": ("class MyNeuron", "network_report = check_network("),
    "step": ("def my_training_step(", "step_report = check_training_step("),
}


def solution_block(run, defines: str) -> str:
    """The code of the collapsed Solution right after the exercise cell that ``defines``."""
    cells = run.nb.cells
    index = next(
        i
        for i, c in enumerate(cells)
        if c.cell_type == "code"
        and defines in c.source
        and "exercise" in c.metadata.get("tags", [])
    )
    block = cells[index + 1]
    assert block.cell_type == "markdown" and block.source.startswith(
        "<details><summary>Solution</summary>"
    ), block.source[:80]
    return re.search(r"```python\n(.*?)```", block.source, re.S).group(1)


def written(run, name: str) -> str:
    """The exercise cell ``name`` as its Solution writes it."""
    defines, _ = EXERCISES[name]
    return fill(run.cell(defines).source, solution_block(run, defines))


def shown(run, check_cell: str) -> str:
    """What the check cell shows when run again now (its text, unwrapped)."""
    return " ".join(output_text(run.exec(run.cell(check_cell).source)).split())


def reached(run, name: str) -> list[int]:
    """The cells after exercise ``name``'s cell that its code can reach (the others run as
    they did: ``NotebookRun.cells_reached``)."""
    return run.cells_reached(index_of(run, EXERCISES[name][0]))


def index_of(run, marker: str) -> int:
    return next(
        i for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and marker in c.source
    )


# ---- the page -----------------------------------------------------------------------------------


def test_it_says_what_it_builds_on_numbers_its_sections_and_links_on(nb):
    intro = " ".join(nb.nb.cells[0].source.split())
    for earlier in ("Notebooks 01 and 02", "Notebook 08", "builds on"):
        assert earlier in intro
    assert re.findall(r"^## (\d) · ", nb.markdown, flags=re.M) == ["1", "2", "3", "4", "5", "6"]
    last = nb.nb.cells[-1].source
    assert last.startswith("Next: **[11 · capstone](11_capstone.ipynb)**: ")


def test_five_code_exercises_each_tagged_with_a_collapsed_solution_that_fills_it(nb):
    tagged = [c for _, c in nb.code_cells if "exercise" in c.metadata.get("tags", [])]
    assert len(tagged) == 5
    for name, (defines, _) in EXERCISES.items():
        assert written(nb, name).rstrip() == SOLUTIONS[name].rstrip(), name
        assert "..." in nb.cell(defines).source


def test_no_solution_line_is_on_the_page_above_its_exercise(nb):
    """Outside the collapsed Solutions, nothing before an exercise cell shows a line it asks
    for (the given parts of a cell are not asked for)."""
    for name, (defines, _) in EXERCISES.items():
        index = index_of(nb, defines)
        skeleton = nb.nb.cells[index].source
        above = []
        for cell in nb.nb.cells[:index]:
            if cell.cell_type == "markdown":
                above.append(re.sub(r"<details>.*?</details>", "", cell.source, flags=re.S))
            else:
                above.append(cell.source + output_text(cell))
        text = "\n".join(above)
        for line in SOLUTIONS[name].splitlines():
            code = line.split("#")[0].strip()
            if len(code) >= 12 and code not in skeleton and not code.startswith(('"""', "def ")):
                assert code not in text, (name, code)


# ---- as saved: every exercise waits, and the notebook runs on course_lib's versions -------------


def test_untouched_every_check_reads_not_written_yet(nb):
    for name, (_, check_cell) in EXERCISES.items():
        assert "NOT WRITTEN YET" in nb.output(check_cell), name
    assert "not answered yet" in output_text(nb.cell('check("build_engine.a_grad"'))


def test_untouched_the_notebook_runs_on_course_libs_versions_and_says_so(nb):
    assert nb.eval("Engine.__module__") == "course_lib.autodiff.scalar"
    assert nb.eval("make_mlp(2, [8, 1], np.random.default_rng(1)).__class__.__module__") == (
        "course_lib.network.scalar_mlp"
    )
    assert nb.eval("step.__module__") == "course_lib.network.scalar_mlp"
    assert "Engine = course_lib's Value" in nb.output("Engine = Value")
    assert "make_mlp = course_lib's MLP" in nb.output("make_mlp = MyMLP")
    assert "step = course_lib's training_step" in nb.output("step = my_training_step")


def test_the_quoted_numbers_are_what_the_code_computes(nb):
    text = " ".join(nb.markdown.split())
    losses = nb.eval("losses")
    assert len(losses) == nb.eval("steps") == 150 and nb.eval("lr") == 0.5
    last = f"{losses[-1]:.4f} at the last of 150 steps"
    assert f"from {losses[0]:.4f} at the first step to {last}" in text
    assert losses[-1] < losses[0] / 10
    train_right, accuracy = nb.eval("train_right"), nb.eval("test_accuracy")
    assert f"{train_right} of the 60 training points" in text
    assert "the crosses mark the two others" in text and train_right == 58
    assert f"right {accuracy:.1%} of the time" in text
    assert nb.eval("len(X_train), len(X_test)") == (60, 400)
    assert "60 points train the network; 400 more" in text
    parameters = nb.eval("len(make_mlp(2, [8, 1], np.random.default_rng(1)).parameters())")
    assert f"2 → 8 → 1 ({parameters} parameters)" in text
    nodes = nb.eval(
        "len(mean_squared_error(make_mlp(2, [8, 1], np.random.default_rng(1)), xs, ys)"
        ".graph_nodes())"
    )
    assert 4650 <= nodes < 4750 and "about 4,700 nodes" in text, nodes
    shown_training = nb.output("losses = [step(model, xs, ys, lr)")
    assert f"step   0: loss {losses[0]:.4f}" in shown_training
    assert f"training points classified right: {train_right} of 60" in shown_training


def test_the_neuron_explorer_shows_saturation_as_its_why_says(nb):
    shown = nb.exec(nb.cell("for bias in (0.1, 3.0):").source)
    text = output_text(shown)
    assert "b = 0.1: n = 1.50, tanh'(n) = 0.1807" in text
    assert "b = 3: n = 4.40, tanh'(n) = 0.0006" in text
    why = " ".join(nb.markdown.split())
    assert "0.0006 at $n = 4.4$ (b = 3), against 0.18 at $n = 1.5$ (b = 0.1)" in why
    assert nb.eval("neuron_explorer.sliders['b'].value") == 3.0
    assert "tgf-main" in nb.eval("list(neuron_explorer._dom_classes)")


def test_the_figure_has_its_text_alternative_and_more_than_colour(nb):
    cell = nb.cell("describe_figure(fig, alt=boundary_alt)")
    html = output_text(cell, kinds=("text/html",))
    alt = nb.eval("boundary_alt")
    assert f'alt="{xml_text(alt)}"' in html
    assert "blue circles" in alt and "vermillion triangles" in alt and "hatched" in alt
    assert f"{nb.eval('train_right')} of 60 training points" in alt
    assert "black crosses" in alt
    for mark in ('marker="o"', 'marker="^"', 'marker="x"', 'hatches=["///", ""]'):
        assert mark in cell.source


# ---- the hand exercises -------------------------------------------------------------------------


def test_the_hand_exercises_on_a_plus_a(nb):
    assert exercise("build_engine.a_grad").expected == 2.0
    assert exercise("build_engine.a_grad_overwritten").expected == 1.0
    source = nb.cell('check("build_engine.a_grad"').source
    right = output_text(
        nb.exec(
            source.replace("a_grad = ...", "a_grad = 2").replace(
                "a_grad_overwritten = ...", "a_grad_overwritten = 1"
            )
        )
    )
    assert right.count(": right.") == 2
    slip = output_text(
        nb.exec(
            source.replace("a_grad = ...", "a_grad = 1").replace(
                "a_grad_overwritten = ...", "a_grad_overwritten = 2"
            )
        )
    )
    assert "writes each contribution with `=`" in slip
    assert "it adds nothing up, each write replaces what a.grad held" in slip
    # the answers swapped: neither sentence may say what the number is the answer to
    assert "right gradient" not in slip and "all that an engine keeps" not in slip


# ---- with the Solutions written in, in a kernel of its own --------------------------------------


@pytest.fixture(scope="module")
def solved():
    """Notebook 10 run as saved, then each exercise cell replaced by its Solution and the
    notebook run again from the first exercise on (as a learner would after writing them)."""
    with NotebookRun("10") as run:
        run.run_all()
        first = index_of(run, "class MyValue")
        for name, (defines, _) in EXERCISES.items():
            run.nb.cells[index_of(run, defines)].source = written(run, name)
        for index, _ in run.code_cells:
            if index >= first:
                run.run_cell(index)
        yield run


def test_with_the_solutions_every_check_says_right(solved):
    for name, (_, check_cell) in EXERCISES.items():
        assert ": RIGHT." in solved.output(check_cell), name


def test_with_the_solutions_the_network_is_the_learners_and_gives_the_quoted_numbers(solved, nb):
    assert solved.eval("Engine is MyValue and make_mlp is MyMLP and step is my_training_step")
    assert solved.eval("type(model.parameters()[0]).__name__") == "MyValue"
    mine, theirs = solved.eval("losses"), nb.eval("losses")
    assert f"{mine[0]:.4f}" == f"{theirs[0]:.4f}" and f"{mine[-1]:.4f}" == f"{theirs[-1]:.4f}"
    assert solved.eval("train_right") == nb.eval("train_right")
    assert f"{solved.eval('test_accuracy'):.1%}" == f"{nb.eval('test_accuracy'):.1%}"
    assert solved.eval("boundary_alt") == nb.eval("boundary_alt")


def test_with_the_solutions_the_confirming_cells_show_the_engine(solved):
    compare = solved.output("if ops_report.ok:")
    assert "yours -6.000000, partials (-3.0, 2.0)" in compare
    assert "Value -6.000000, partials (-3.0, 2.0)" in compare
    assert "a.grad = 2.0" in solved.output("a.grad = {a.grad}")


def _statements(code: str) -> list[str]:
    """The statements of a solution a first feedback must not show (not the signatures)."""
    lines = (line.split("#")[0].strip() for line in code.splitlines())
    return [s for s in lines if len(s) >= 12 and not s.startswith(("def ", "class ", '"""'))]


def _again(code: str) -> str:
    """The same slip in code that is not the same (every line one further down, so each
    function's code object differs): a learner's second, different wrong attempt."""
    return "# the same slip, tried again\n" + code


def test_each_listed_slip_is_named_first_the_rule_comes_second_then_the_solution_runs_on(solved):
    """Each code exercise in turn as a learner meets it: every listed slip submitted as a first
    attempt (the feedback names it, shows no rule and no line of the Solution the learner did
    not write); the same slip again in other code (now with the rule); then the Solution
    (RIGHT). Then every cell below the first check runs on the Solutions. In the solved kernel,
    so it ends as it started."""
    forget = "from course_lib.teaching.code_exercise import forget_attempts; forget_attempts()"
    for name, (defines, check_cell) in EXERCISES.items():
        solution = solved.cell(defines).source  # the solved kernel's: its Solution filled in
        assert solution.rstrip() == SOLUTIONS[name].rstrip(), name
        check = solved.cell(check_cell).source
        for slip, old, new, words in SLIPS[name]:
            solved.exec(forget)
            submitted = slipped(name, old, new)
            solved.exec(submitted)
            said = " ".join(output_text(solved.exec(check)).split())
            assert words.lower() in said.lower(), (name, slip, said)
            assert "RIGHT" not in said and "The rule" not in said, (name, slip, said)
            for statement in _statements(solution):
                if statement not in submitted:  # the learner's own line may be quoted
                    assert statement not in said, (name, slip, statement)
        # The same slip again, in different code: the rule comes with it.
        solved.exec(forget)
        first = slipped(name, *SLIPS[name][0][1:3])
        solved.exec(first)
        solved.exec(check)
        solved.exec(_again(first))
        said = " ".join(output_text(solved.exec(check)).split())
        assert "The rule" in said and SLIPS[name][0][3].lower() in said.lower(), (name, said)
        # The Solution: right, and the rest of the notebook runs on it.
        solved.exec(solution)
        assert ": RIGHT." in output_text(solved.exec(check)), name
    # Every Solution back in place: the rest of the notebook runs on them, from the first check.
    after = min(index_of(solved, check_cell) for _, check_cell in EXERCISES.values())
    for index, _ in solved.code_cells:
        if index > after:
            solved.run_cell(index)
    assert solved.eval("Engine is MyValue and make_mlp is MyMLP and step is my_training_step")
    assert solved.eval("train_right") == 58


def test_meeting_the_bug_the_check_names_it_and_a_plus_a_shows_it(solved):
    broken = slipped("engine", *SLIPS["engine"][0][1:3])
    with solved.namespace_kept():
        solved.exec(broken)
        assert "fan-out gradients lost" in shown(solved, "engine_report = check_engine(")
        assert "a.grad = 1.0" in output_text(solved.exec(solved.cell("a.grad = {a.grad}").source))


def test_meeting_the_second_bug_the_gradients_grow(solved):
    with solved.namespace_kept():
        solved.exec(slipped("step", *SLIPS["step"][0][1:3]))
        assert "gradients not reset between steps (they grow)" in shown(
            solved, "step_report = check_training_step("
        )


# Each exercise made to raise, or to return None, where its code would give its result.
BROKEN = {
    "ops": (
        "return MyValue(self.data + other.data, (self, other), (1.0, 1.0))",
        "raise ValueError('not today')",
    ),
    "order": ("    return order", "    return None"),
    "engine": ("    order = my_topological_order(root)\n", "    raise RuntimeError('oops')\n"),
    "network": ("        return total.tanh()", "        return None"),
    "step": ("    return loss.data", "    return None"),
}


@pytest.mark.parametrize("name", EXERCISES)
def test_a_wrong_or_broken_answer_is_named_and_keeps_the_rest_of_the_notebook_running(solved, name):
    """Each exercise answered with its first listed slip, then with code that raises or returns
    None: the check names the slip by its words, and says ERROR or WRONG (never RIGHT) for the
    broken code; after each, the cells below the check that the exercise's code reaches still
    run (on course_lib's version where the learner's is not right). Then the solved kernel's
    names are put back (the Solution running on is the walk's test above)."""
    original = solved.cell(EXERCISES[name][0]).source
    _, old, new, words = SLIPS[name][0]
    broken = original.replace(*BROKEN[name])
    assert broken != original
    after = index_of(solved, EXERCISES[name][1])
    below = [index for index in reached(solved, name) if index > after]
    forget = "from course_lib.teaching.code_exercise import forget_attempts; forget_attempts()"
    names = "[id(x) for x in (MyValue, Engine, make_mlp, step, model)]"
    kept = solved.eval(names)
    with solved.namespace_kept():
        solved.exec(forget)
        solved.exec(slipped(name, old, new))
        assert words.lower() in shown(solved, EXERCISES[name][1]).lower()
        for index in below:
            solved.run_cell(index)  # raises NotebookError if any cell fails
        solved.exec(forget)
        solved.exec(broken)
        report = shown(solved, EXERCISES[name][1])
        assert "RIGHT" not in report and ("ERROR" in report or "WRONG" in report)
        for index in below:
            solved.run_cell(index)
    solved.exec(forget)
    assert solved.eval(names) == kept
    assert ": RIGHT." in shown(solved, EXERCISES[name][1]), name
