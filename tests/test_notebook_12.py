"""Notebook 12 (review), executed once: its questions, practice trainer, nudge check and tensor
sheet checks are right, and nothing on the page answers a question before the learner does.

These are the checks that used to sit in the notebook as assert cells (one of them asserted
the quiz's answer key right under "answer them without scrolling back").
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from notebook_harness import NOTEBOOKS, answered, notebook_fixture, notebook_path, output_text

from course_lib.autodiff.graph import backward_steps
from course_lib.autodiff.scalar import Value
from course_lib.checks import central_difference
from course_lib.kernels import softmax as np_softmax
from course_lib.teaching import review_quiz as review
from course_lib.teaching.answers import review as answer_key
from course_lib.teaching.practice import practice_graph, practice_sheet
from course_lib.teaching.quiz import card_question
from course_lib.teaching.review_quiz import review_questions
from course_lib.teaching.tensor_practice import (
    PARTS,
    ROW_PRECISION,
    TAUGHT_IN,
    tensor_practice_sheet,
    tensor_sheet,
)
from course_lib.tensor import Tensor

nb = notebook_fixture("12")

SLOPE = re.compile(r"df/d(\w+) ≈ \(f_up - f_down\) / \(2h\) = (-?\d+\.\d+)")
NUDGE_SHEET, NUDGE_NODE = 1000, "b"
TENSOR_SHEET = 7


def right_option(question) -> str:
    return question.options[question.correct]


# ---- the questions ---------------------------------------------------------------------------


def test_the_questions_come_from_a_quiz_module_not_the_answer_key(nb):
    source = nb.cell("review_questions()").source
    assert "from course_lib.teaching.review_quiz import review_questions" in source
    for _, cell in nb.code_cells:
        assert "teaching.answers" not in cell.source, cell.source
    assert not hasattr(answer_key, "questions") and answer_key.SHEET == TENSOR_SHEET


def test_instructor_notes_are_not_on_the_learner_s_page(nb):
    assert "instructor" not in nb.markdown.lower()
    assert "answers=True" not in nb.markdown and "--answers" not in nb.markdown


def test_the_quiz_asks_the_review_questions_not_the_card_again(nb):
    questions = review_questions()
    assert nb.eval("[q.prompt for q in questions]") == [q.prompt for q in questions]
    assert len(questions) >= 4
    card = {card_question(n).prompt for n in (1, 2, 3, 4)}
    card_options = {o for n in (1, 2, 3, 4) for o in card_question(n).options}
    for q in questions:
        assert q.prompt not in card and not set(q.options) & card_options
        assert len(q.explanations) == len(q.options) and all(e.strip() for e in q.explanations)
        assert q.hints, q.prompt
        verdicts = [q.answer(i).correct for i in range(len(q.options))]
        assert verdicts.count(True) == 1
    letters = nb.eval("[q.letter(q.correct) for q in questions]")
    assert len(set(letters)) >= 3, "the right option should not sit at the same letter"


def test_the_questions_cover_the_card_s_four_topics():
    prompts = " ".join(q.prompt for q in review_questions())
    for topic in ("softmax", "−log p", "shape (N, 1)", "upstream"):
        assert topic in prompts, topic


def test_question_1_the_shared_denominator_as_the_engine_and_nudging_say():
    q = review_questions()[0]
    x = np.array(review.SHARES_X)

    def n0(x0, x1, x2):
        return x0 / (x0 + x1 + x2)

    by_nudging = central_difference(n0, tuple(x), 2)
    off, diag = review.shares_gradient()
    assert off == pytest.approx(by_nudging, abs=1e-8) == pytest.approx(-1 / 16)
    assert right_option(q) == "-0.0625"
    assert diag == pytest.approx(central_difference(n0, tuple(x), 0), abs=1e-8)
    assert "0.1875" in q.options and "0.25" in q.options


def test_question_2_the_sum_of_probabilities_has_no_gradient():
    q = review_questions()[1]
    grad = review.sum_of_p_gradient()
    assert np.abs(grad).max() < 1e-16  # "backward() may give numbers below 1e-16 there"
    assert right_option(q) == "(0, 0, 0)"
    # it asks for the gradient, which is 0; backward() gives 0 up to rounding
    assert q.prompt.endswith("What is dL/dz?") and "backward()" not in q.prompt
    assert "below 1e-16 there: float rounding" in q.explanations[q.correct]
    p = np_softmax(np.array(review.SUM_OF_P_Z))
    assert "p = (0.09, 0.245, 0.665)" in q.prompt
    np.testing.assert_allclose(p, [0.09, 0.245, 0.665], atol=5e-4)


def test_question_3_is_p_minus_y_for_the_true_class_the_model_ranks_last():
    q = review_questions()[2]
    y = np.eye(3)[review.CE_LABEL]
    np.testing.assert_allclose(review.ce_gradient(), np.array(review.CE_P) - y, atol=1e-12)
    assert right_option(q) == "(0.2, 0.7, -0.9)"
    assert "(0.2, -0.3, 0.1)" in q.options  # p - y with y at the model's guess, class 1


def test_question_4_the_broadcast_multiply_rule_is_what_backward_gives():
    q = review_questions()[3]
    rng = np.random.default_rng(3)
    X_data, s_data, G = rng.normal(size=(4, 5)), rng.normal(size=(4, 1)), rng.normal(size=(4, 5))
    X, s = Tensor(X_data), Tensor(s_data)
    (X * s).backward(G)
    options = {
        "G.sum(axis=1, keepdims=True)": G.sum(axis=1, keepdims=True),
        "(G * X).mean(axis=1, keepdims=True)": (G * X_data).mean(axis=1, keepdims=True),
        "(G * X).sum(axis=1, keepdims=True)": (G * X_data).sum(axis=1, keepdims=True),
        "(G * X).sum(axis=0, keepdims=True)": (G * X_data).sum(axis=0, keepdims=True),
    }
    assert set(options) == set(q.options)
    agree = [
        text
        for text, value in options.items()
        if value.shape == s.grad.shape and np.allclose(value, s.grad)
    ]
    assert agree == [right_option(q)]


def test_question_5_the_upstream_gradient_at_a_is_the_sum_of_both_paths():
    q = review_questions()[4]
    a, b, f = review.join_graph()
    assert (a.data, b.data, f.data) == (2.0, 4.0, 8.0)
    assert "so a = 2, b = 4, f = 8" in q.prompt

    def f_of(x, y):
        a = x * y
        return a * (a + y)

    # df/da by nudging a alone: f(a) = a·(a + y) with y fixed
    nudged = central_difference(lambda a: a * (a + review.JOIN_Y), (a.data,), 0)
    assert a.grad == pytest.approx(nudged, abs=1e-8) == 6.0
    assert right_option(q) == "6"
    assert set(q.options) == {"2", "6", "4", "3"}  # one path each, the sum, the average
    assert f_of(review.JOIN_X, review.JOIN_Y) == f.data


def test_question_6_backward_visits_a_node_after_every_node_that_uses_it():
    q = review_questions()[5]
    x = Value(1.5, label="x")
    c = (x * x).named("c")
    d, e = (c + 1.0).named("d"), (c * 2.0).named("e")
    f = (d * e).named("f")
    order = [step.node.label for step in backward_steps(f, 1.0)]
    assert order.index("c") > order.index("d") and order.index("c") > order.index("e")
    assert "both d and e" in right_option(q)


# ---- nothing on the page answers before the learner does ------------------------------------


def test_no_cell_asserts_or_shows_an_answer_key():
    notebook = nbformat.read(notebook_path("12"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code = [line for line in cell.source.splitlines() if line.strip()]
        code = [line for line in code if not line.lstrip().startswith("#")]
        assert not all(line.lstrip().startswith("assert") for line in code), cell.source
        for key in (
            "assert",
            ".correct",
            ".answer(",
            "answers=True",
            "answer_key",
            ".grads",
            ".expected",
            "tensor_sheet(",
            "tensor_sheet_exercises",
            "--answers",
        ):
            assert key not in cell.source, f"{key!r} in a learner's cell:\n{cell.source}"


def test_no_saved_output_or_sentence_above_a_check_shows_its_answer():
    notebook = nbformat.read(notebook_path("12"), as_version=4)
    s = tensor_sheet(TENSOR_SHEET)
    key = [*s.jacobian_row, *s.ce_grad, *s.ln_grad]
    forms = {f"{v:.4f}" for v in key} | {f"{v:.3f}" for v in key}
    first_check = next(i for i, c in enumerate(notebook.cells) if "tensor_sheet_check(" in c.source)
    last_check = max(i for i, c in enumerate(notebook.cells) if "tensor_sheet_check(" in c.source)
    for index, cell in enumerate(notebook.cells[: last_check + 1]):
        text = cell.source + output_text(cell)
        for form in forms:
            assert form not in text, (index, form)
        if index >= first_check and cell.cell_type == "code":
            assert "not answered yet" in output_text(cell)
    # The worked solution comes after the checks, folded away.
    solution = notebook.cells[last_check + 1].source
    assert solution.startswith("<details><summary>Solution (sheet 7)</summary>")


def test_the_nudge_demo_answers_nothing_the_page_asks(nb):
    source = nb.cell("nudged_output").source
    assert f'sheet, node = {NUDGE_SHEET}, "{NUDGE_NODE}"' in source
    trainer_max = nb.eval("trainer.number.max")
    assert NUDGE_SHEET > trainer_max  # the trainer's slider cannot reach it
    assert "practice_sheet(7)" in nb.cell("print(practice_sheet(").source
    assert f"sheet {NUDGE_SHEET}, a sheet beyond the trainer's slider" in nb.markdown


# ---- the practice trainer and the nudge --------------------------------------------------------


def test_the_page_states_the_trainer_s_precision(nb):
    assert "Type each gradient into its\nbox, to 3 significant figures, and press Enter" in (
        nb.markdown
    )
    asked = nb.eval("trainer.trace.asked")
    precisions = nb.eval(
        "{n: trainer.trace.exercise(n).precision.describe() for n in trainer.trace.asked}"
    )
    assert set(precisions) == set(asked)
    assert set(precisions.values()) == {"to 3 significant figures"}


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


def test_the_nudge_check_measures_the_upstream_gradient_of_b_a_join(nb):
    graph = practice_graph(NUDGE_SHEET)
    assert graph.consumers(NUDGE_NODE) == ("c", "e")  # as the text says: b feeds c and e
    ops = {s.name: s.formula() for s in graph.operations}
    assert ops["c"] == "exp(b)" and ops["e"] == "d * b"
    assert "`c = exp(b)`" in nb.markdown and "`e = d * b`" in nb.markdown
    shown = nb.output("nudged_output")
    assert f"sheet {NUDGE_SHEET}: f = {graph.values['f']:.6f}" in shown
    [(name, slope)] = SLOPE.findall(shown)
    assert name == NUDGE_NODE
    assert float(slope) == pytest.approx(graph.grads[NUDGE_NODE], abs=5e-5)


@pytest.mark.parametrize("node", ["x", "y", "a", "b", "c", "d", "e"])
def test_the_nudge_check_works_for_every_node_a_learner_puts_in(nb, node):
    graph = practice_graph(NUDGE_SHEET)
    old = f'node = {NUDGE_SHEET}, "{NUDGE_NODE}"'
    source = nb.cell("nudged_output").source.replace(old, f'node = {NUDGE_SHEET}, "{node}"')
    assert f'"{node}"' in source
    shown = "".join(o.get("text", "") for o in nb.exec(source).outputs)
    [(name, slope)] = SLOPE.findall(shown)
    assert name == node and float(slope) == pytest.approx(graph.grads[node], abs=5e-5)


def test_the_nudge_check_works_on_the_trainer_s_sheet_too(nb):
    graph = practice_graph(7)
    old = f'node = {NUDGE_SHEET}, "{NUDGE_NODE}"'
    source = nb.cell("nudged_output").source.replace(old, 'node = 7, "a"')
    shown = "".join(o.get("text", "") for o in nb.exec(source).outputs)
    [(name, slope)] = SLOPE.findall(shown)
    assert name == "a" and float(slope) == pytest.approx(graph.grads["a"], abs=5e-5)


def test_the_printed_sheet_is_sheet_7_without_its_key(nb):
    shown = nb.output("print(practice_sheet(7))")
    assert shown == practice_sheet(7) + "\n"
    assert "answer key" not in shown and "f = x + d" in shown


# ---- the tensor sheet and its checks -----------------------------------------------------------


def test_the_printed_tensor_sheet_is_sheet_7_without_its_key(nb):
    shown = nb.output("print(tensor_practice_sheet(7))")
    assert shown == tensor_practice_sheet(7) + "\n"
    assert "answer key" not in shown and "1. Broadcasting" in shown


def test_each_sheet_question_names_where_it_was_taught_and_that_notebook_teaches_it(nb):
    shown = nb.output("print(tensor_practice_sheet(7))")
    topics = {
        "broadcasting": ("1. Broadcasting", "broadcast_axes"),
        "softmax": ("2. A softmax Jacobian row", "p_i(\\delta_{ij} - p_j)"),
        "cross_entropy": ("3. A cross-entropy gradient row", "p - y"),
        "layer_norm": ("4. A layer-norm row", "Layer norm"),
    }
    for topic, (question, taught) in topics.items():
        number = TAUGHT_IN[topic]
        assert f"{question} (notebook {number})" in shown
        [path] = NOTEBOOKS.glob(f"{number}_*.ipynb")
        notebook = nbformat.read(path, as_version=4)
        assert taught in "\n".join(c.source for c in notebook.cells), (topic, path.name)
    assert "(taught in notebook 03)" in nb.markdown
    assert "(05)" in nb.markdown and "(06)" in nb.markdown and "(09)" in nb.markdown
    # The review comes after every notebook a sheet question was taught in.
    assert max(int(n) for n in TAUGHT_IN.values()) < 12


def test_every_check_states_its_precision_and_the_prose_agrees(nb):
    shown = nb.output("print(tensor_practice_sheet(7))")
    for part, precision in ROW_PRECISION.items():
        assert precision.describe() in shown
        assert precision.describe() in nb.output(f'"{part}"')
    assert "Question 2, the row of the softmax Jacobian the sheet asks for, to 4 decimal " in (
        nb.markdown
    )
    assert ROW_PRECISION["softmax_row"].describe() == "to 4 decimal places"
    assert "Question 3, dL/dz, to 4 decimal places" in nb.markdown
    assert ROW_PRECISION["ce_row"].describe() == "to 4 decimal places"
    assert "Question 4, dL/dx, to 3 decimal places" in nb.markdown
    assert ROW_PRECISION["layer_norm_row"].describe() == "to 3 decimal places"


def test_the_checks_cover_every_part_of_the_sheet(nb):
    sources = "\n".join(c.source for _, c in nb.code_cells)
    for part in PARTS:
        assert f'tensor_sheet_check(7, "{part}", ' in sources


ROW_CELLS = {
    "softmax_row": ("softmax_row = [..., ..., ...]", "jacobian_row"),
    "ce_row": ("ce_row = [..., ..., ...]", "ce_grad"),
    "layer_norm_row": ("layer_norm_row = [..., ..., ...]", "ln_grad"),
}


@pytest.mark.parametrize("part", list(ROW_CELLS))
def test_a_row_check_accepts_the_key_and_names_the_usual_slips(nb, part):
    placeholder, field = ROW_CELLS[part]
    want = np.array(getattr(tensor_sheet(TENSOR_SHEET), field))
    name = placeholder.split(" = ")[0]
    decimals = ROW_PRECISION[part].digits
    rounded = [round(float(v), decimals) for v in want]
    assert ": right." in answered(nb, placeholder, placeholder, f"{name} = {rounded!r}")
    flipped = answered(nb, placeholder, placeholder, f"{name} = {(-want).tolist()!r}")
    assert "Every sign is wrong" in flipped
    for wrong in ([0.0] * len(want), "'abc'", "[1e400, 0, 0]", "[1, 2]"):
        shown = answered(nb, placeholder, placeholder, f"{name} = {wrong}")
        assert ": right." not in shown and shown.strip()
        if " is not right." in shown:
            assert shown.split(" is not right.", 1)[1].strip()
        for v in want:  # never the answer itself
            assert f"{v:.4f}" not in shown and f"{v:.3f}" not in shown


def test_the_axes_check_accepts_the_key_and_explains_a_wrong_set(nb):
    s = tensor_sheet(TENSOR_SHEET)
    axes_a, axes_b = s.sum_axes
    cell = "sum_for_a = ..."
    right = answered(nb, cell, "sum_for_a = ...", f"sum_for_a = {axes_a!r}")
    assert "the axes to sum for dL/da = (0, 1): right." in right
    right_b = answered(nb, cell, "sum_for_b = ...", f"sum_for_b = {axes_b!r}")
    assert "the axes to sum for dL/db = (): right." in right_b
    none = answered(nb, cell, "sum_for_a = ...", "sum_for_a = ()")
    assert "Summing over no axis" in none
    every = answered(nb, cell, "sum_for_b = ...", "sum_for_b = (0, 1, 2)")
    assert "every axis" in every
    typo = answered(nb, cell, "sum_for_a = ...", "sum_for_a = 'abc'")
    assert "expected axes as integers" in typo


def test_a_second_wrong_answer_gets_the_rule(nb):
    placeholder = "ce_row = [..., ..., ...]"
    nb.exec("from course_lib.teaching.hand_check import forget_attempts; forget_attempts()")
    first = answered(nb, placeholder, placeholder, "ce_row = [0, 0, 0]")
    same = answered(nb, placeholder, placeholder, "ce_row = [0, 0, 0]")  # the same attempt
    second = answered(nb, placeholder, placeholder, "ce_row = [1, 0, 0]")
    assert "The rule:" not in first and "The rule:" not in same
    assert "The rule: dL/dz = p − y" in second


def test_the_worked_solution_is_the_engine_s_key():
    notebook = nbformat.read(notebook_path("12"), as_version=4)
    [solution] = [c.source for c in notebook.cells if "Solution (sheet 7)" in c.source]
    s = tensor_sheet(TENSOR_SHEET)
    assert s.sum_axes == ((0, 1), ())
    assert "sums over `(0, 1)`" in solution and "sums over no axis, `()`" in solution
    p = np_softmax(np.array(s.logits))
    for v in (*np.exp(s.logits), np.exp(s.logits).sum(), *p, *s.jacobian_row):
        assert f"{v:.4f}" in solution, v
    p = np_softmax(np.array(s.ce_logits))
    for v in (*np.exp(s.ce_logits), np.exp(s.ce_logits).sum(), *p, *s.ce_grad):
        assert f"{v:.4f}" in solution, v
    x, g = np.array(s.ln_x), np.array(s.ln_upstream)
    d = x - x.mean()
    var = (d * d).mean()
    sd = np.sqrt(var + 1e-5)
    y = d / sd
    inner = g - g.mean() - y * (g * y).mean()
    for v in (x.mean(), *d, var, sd, *y, g.mean(), (g * y).mean(), *inner):
        assert f"{v:.4f}" in solution, v
    np.testing.assert_allclose(inner / sd, s.ln_grad, atol=1e-12)
    for v in s.ln_grad:
        assert f"{v:.3f}" in solution, v
    assert sum(round(v, 4) for v in s.jacobian_row) == pytest.approx(0.0, abs=1e-12)
