"""Notebook 10 (review), executed once: its quiz, practice trainer and nudge check are right.

These are the checks that used to sit in the notebook as assert cells (one of them asserted
the quiz's answer key right under "answer them without scrolling back").
"""

from __future__ import annotations

import re

import nbformat
import pytest
from notebook_harness import notebook_fixture, notebook_path

from course_lib.practice import practice_graph, practice_sheet
from course_lib.quiz import card_question

nb = notebook_fixture("10")

SLOPE = re.compile(r"df/d(\w+) ≈ \(f_up - f_down\) / \(2h\) = (-?\d+\.\d+)")


def test_the_quiz_is_the_card_with_one_right_option_each(nb):
    assert nb.eval("[q.prompt for q in questions]") == [
        card_question(n).prompt for n in (1, 2, 3, 4)
    ]
    assert nb.eval("[q.letter(q.correct) for q in questions]") == ["D", "B", "C", "A"]
    verdicts = nb.eval("[[q.answer(i).correct for i in range(len(q.options))] for q in questions]")
    assert all(row.count(True) == 1 for row in verdicts)
    right = nb.eval("[q.options[q.correct] for q in questions]")
    assert "dense" in right[0] and "p − y" in right[1]
    assert "sum the upstream gradient over exactly those" in right[2]
    assert "sensitivity of the final loss" in right[3]


def test_no_cell_asserts_or_shows_an_answer_key():
    notebook = nbformat.read(notebook_path("10"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code = [line for line in cell.source.splitlines() if line.strip()]
        code = [line for line in code if not line.lstrip().startswith("#")]
        assert not all(line.lstrip().startswith("assert") for line in code), cell.source
        for key in ("assert", ".correct", ".answer(", "answers=True", "answer_key", ".grads"):
            assert key not in cell.source, f"{key!r} in a learner's cell:\n{cell.source}"


def test_the_trainer_starts_on_sheet_7_with_hidden_partials_and_a_join(nb):
    assert nb.eval("(trainer.number.value, trainer.fan_out.value, trainer.partials.value)") == (
        7,
        True,
        False,
    )
    graph = practice_graph(7)
    assert graph.fan_out_nodes(), "sheet 7 should have a join to sum at"
    assert "<b>Sheet 7</b>: inputs x = 1, y = -2" in nb.eval("trainer.sheet_view.value")
    asked = nb.eval("trainer.trace.asked")
    assert set(asked) == set(graph.names) - {"f"}
    expected = nb.eval("trainer.trace.expected")
    for name in asked:  # the boxes check against the sheet's verified answer key
        assert expected[name] == pytest.approx(graph.grads[name], rel=1e-12, abs=1e-12)


def test_the_trainer_accepts_the_key_and_explains_a_missed_join(nb):
    graph = practice_graph(7)
    nb.exec("trainer.number.value = 7; trainer.fan_out.value = True")
    # a = y * x feeds b = y * a and c = a + b: the path through c alone is df/dc · 1.
    assert graph.consumers("a") == ("b", "c")
    feedback = nb.eval(f"trainer.trace.enter('a', {graph.grads['c']!r}).message")
    assert "only the path through c" in feedback and "sum of both" in feedback
    for name in nb.eval("trainer.trace.asked"):
        nb.exec(f"trainer.trace.enter({name!r}, {graph.grads[name]!r})")
    assert nb.eval("trainer.trace.done")
    assert "All right!" in nb.eval("trainer.trace.score.value")


def test_the_nudge_check_measures_the_upstream_gradient_of_d(nb):
    graph = practice_graph(7)
    shown = nb.output("nudged_output")
    assert f"sheet 7: f = {graph.values['f']:.6f}" in shown
    [(name, slope)] = SLOPE.findall(shown)
    assert name == "d" and float(slope) == pytest.approx(graph.grads["d"], abs=5e-5)


@pytest.mark.parametrize("node", ["x", "y", "a", "b", "c", "d"])
def test_the_nudge_check_works_for_every_node_a_learner_puts_in(nb, node):
    graph = practice_graph(7)
    source = nb.cell("nudged_output").source.replace('node = 7, "d"', f'node = 7, "{node}"')
    assert f'"{node}"' in source
    shown = "".join(o.get("text", "") for o in nb.exec(source).outputs)
    [(name, slope)] = SLOPE.findall(shown)
    assert name == node and float(slope) == pytest.approx(graph.grads[node], abs=5e-5)


def test_the_printed_sheet_is_sheet_7_without_its_key(nb):
    shown = nb.output("print(practice_sheet(7))")
    assert shown == practice_sheet(7) + "\n"
    assert "answer key" not in shown and "f = x + d" in shown


def test_the_printed_tensor_sheet_is_sheet_7_without_its_key(nb):
    from course_lib.tensor_practice import tensor_practice_sheet

    shown = nb.output("print(tensor_practice_sheet(7))")
    assert shown == tensor_practice_sheet(7) + "\n"
    assert "answer key" not in shown and "1. Broadcasting" in shown
