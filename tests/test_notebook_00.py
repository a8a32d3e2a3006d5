"""Notebook 00 (start here), executed once: its widget demo, exercise and quiz are right."""

from __future__ import annotations

from notebook_harness import answered, notebook_fixture

from course_lib.teaching.answers import exercise

nb = notebook_fixture("00")


def test_the_widget_demo_computes_in_the_kernel(nb):
    nb.exec("demo.slider.value = 7")
    assert "<b>49</b>" in nb.eval("demo.view.value")
    nb.exec("demo.slider.value = 3")
    assert "<b>9</b>" in nb.eval("demo.view.value")


def test_moving_the_slider_from_code_shows_the_kernels_number(nb):
    assert nb.output("demo.slider.value = 4") == "The kernel computed n² = 4² = <b>16</b>\n"


def test_the_exercise_is_unanswered_and_checks_answers(nb):
    assert "not answered yet" in nb.output("check(")
    assert "right" in answered(nb, "check(", "answer = ...", "answer = 6")
    assert "That is f(3)" in answered(nb, "check(", "answer = ...", "answer = 9")
    assert "factor 2 of the derivative" in answered(nb, "check(", "answer = ...", "answer = 2")
    # a second wrong answer shows the rule as well
    assert "The rule: d(x²)/dx = 2x." in answered(nb, "check(", "answer = ...", "answer = 7")
    source = nb.cell("check(").source
    assert 'check("start_here.df_dx", answer)' in source and "6" not in source
    assert exercise("start_here.df_dx").expected == nb.eval("x.grad")
    shown = answered(nb, "check(", "answer = ...", "answer = 'abc'")
    assert "expected a number" in shown


def test_the_engine_agrees_with_the_solution(nb):
    assert nb.eval("x.grad") == 6.0  # the solution says f'(3) = 6
    assert nb.output("f.backward()") == "f = 9.0, df/dx = 6.0\n"


def test_the_quiz_has_its_right_option_third_and_not_the_longest(nb):
    options = nb.eval("q.options")
    assert nb.eval("q.correct") == 2  # C
    assert options[2] == "local partials, upstream sensitivity, multiply, sum at joins"
    verdicts = [nb.eval(f"q.answer({i}).correct") for i in range(len(options))]
    assert verdicts == [False, False, True, False]
    assert len(options[2]) < max(len(o) for o in options)


def test_the_card_is_explained_where_the_map_first_uses_it(nb):
    text = nb.markdown
    assert text.index("study card") < text.index("| # | notebook |")


def test_the_map_lists_every_notebook(nb):
    from notebook_harness import NOTEBOOKS

    text = nb.markdown
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if path.name != "00_start_here.ipynb":
            assert f"]({path.name})" in text, path.name


def test_the_map_counts_nodes_as_notebooks_01_and_02_do(nb):
    text = "".join(c.source for c in nb.nb.cells if c.cell_type == "markdown")
    assert "[a five-node graph by hand]" in text and "[six nodes: fan-out" in text
    assert "three-node" not in text and "[five nodes" not in text


def closes_with_a_quiz(path) -> bool:
    """Whether a notebook's last code cell asks a quiz question."""
    import nbformat

    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    last = cells[-1].source
    return any(f"{ask}(" in last for ask in ("closing_quiz", "card_question", "review_questions"))


def test_most_notebooks_but_not_all_close_with_a_quiz(nb):
    from notebook_harness import NOTEBOOKS

    text = " ".join(nb.markdown.split())
    assert "Most notebooks close with a quiz" in text and "Each notebook ends" not in text
    closing = [closes_with_a_quiz(path) for path in sorted(NOTEBOOKS.glob("*.ipynb"))]
    assert len(closing) / 2 < sum(closing) < len(closing)  # "most", not "each"


def test_the_introduction_does_not_end_the_course_at_mnist(nb):
    from notebook_harness import NOTEBOOKS

    intro = " ".join(nb.nb.cells[0].source.split())
    assert "Finally, a two-layer" not in intro
    after_mnist = intro.split("MNIST digits")[1]
    for topic in ("max, tanh", "layer norm", "engine of your own", "whole backward", "review"):
        assert topic in after_mnist, topic
    later = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert later[-6:] == [
        "07_mnist_fan_out.ipynb",
        "08_gates.ipynb",
        "09_layers.ipynb",
        "10_build_your_engine.ipynb",
        "11_capstone.ipynb",
        "12_review.ipynb",
    ]  # MNIST is not the last notebook: gates, layers, the engine, the capstone, the review
