"""Notebook 00 (start here), executed once: its widget demo, exercise and quiz are right."""

from __future__ import annotations

from notebook_harness import notebook_fixture

nb = notebook_fixture("00")


def test_the_widget_demo_computes_in_the_kernel(nb):
    nb.exec("demo.slider.value = 4")
    assert "<b>16</b>" in nb.eval("demo.view.value")
    nb.exec("demo.slider.value = 3")
    assert "<b>9</b>" in nb.eval("demo.view.value")


def test_the_exercise_is_unanswered_and_the_engine_agrees_with_the_solution(nb):
    assert "not answered yet" in nb.output("check(answer, 6.0")
    assert nb.eval("x.grad") == 6.0  # the solution says f'(3) = 6
    assert nb.output("f.backward()") == "f = 9.0, df/dx = 6.0\n"


def test_the_quiz_accepts_exactly_its_right_option(nb):
    options = nb.eval("len(q.options)")
    verdicts = [nb.eval(f"q.answer({i}).correct") for i in range(options)]
    assert verdicts.count(True) == 1
    assert "re-running the forward pass" in nb.eval("q.options[q.correct]")
