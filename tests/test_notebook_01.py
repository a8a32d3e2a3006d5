"""Notebook 01 (a five-node graph by hand), executed once: every number it shows is right.

The checks that used to sit in the notebook as ``assert`` cells live here, plus what a learner
does with it: answer the exercises (right and wrong), move the explorer's sliders and run the
"same from code" cell again.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib.teaching.answers import exercise

nb = notebook_fixture("01")


def imported_names(cell) -> set[str]:
    """The names a code cell binds by an import."""
    names = set()
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def assert_imports_come_from_setup_or_own_section(nb) -> None:
    """A name a cell uses but does not import is imported by the setup cell (the first code
    cell) or by an earlier cell of the same section (under the same ``## `` heading)."""
    section, where = 0, {}
    first = True
    for cell in nb.nb.cells:
        if cell.cell_type == "markdown":
            section += sum(line.startswith("## ") for line in cell.source.splitlines())
            continue
        used = {
            n.id
            for n in ast.walk(ast.parse(cell.source))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        for name in used - imported_names(cell):
            if name in where:
                assert where[name] in ("setup", section), (name, cell.source)
        for name in imported_names(cell):
            where.setdefault(name, "setup" if first else section)
        first = False


def svg_of(nb, marker: str) -> str:
    return output_text(nb.cell(marker), kinds=("text/html",))


def test_forward_values_and_the_exercise(nb):
    assert (nb.eval("q.data"), nb.eval("f.data")) == (3.0, -12.0)
    assert "not answered yet" in nb.output("q_answer = ...")
    shown = answered(nb, "q_answer = ...", "q_answer = ...", "q_answer = 3")
    assert "q = 3: right" in shown
    shown = answered(nb, "q_answer = ...", "f_answer = ...", "f_answer = 12")
    assert "sign is wrong" in shown
    shown = answered(nb, "q_answer = ...", "q_answer = ...", "q_answer = 7")
    assert "drops the sign of x" in shown


def test_the_engine_stores_the_local_partials_of_the_table(nb):
    assert nb.eval("q.partials") == (1.0, 1.0)
    assert nb.eval("f.partials") == (nb.eval("z.data"), nb.eval("q.data"))  # ∂f/∂q = z, ∂f/∂z = q
    assert nb.output("def make_graph") == "q: + of ['x', 'y']\nf: * of ['q', 'z']\n"
    shown = nb.output('print("before backward():", x)')
    assert shown.startswith("local partials: q (1.0, 1.0)   f (-4.0, 3.0)\n")


def test_the_local_partials_are_shown_as_numbers_only_after_the_exercise_uses_them(nb):
    """The table of step 2 is in symbols: ∂f/∂q = z and ∂f/∂z = q are df/dq and df/dz, the
    answers of step 4 (f is the output). The numbers come after the exercise."""
    step2 = next(c.source for c in nb.nb.cells if c.source.startswith("## Step 2 · local"))
    table = "\n".join(line for line in step2.splitlines() if line.startswith("| $"))
    assert "$\\partial f/\\partial q = z$" in table and "\\partial f/\\partial z = q$" in table
    assert not re.search(r"= -?\d+\$", table.replace("= 1$", ""))  # no number but add's 1
    exercise_at = nb.nb.cells.index(nb.cell("df_dx = ..."))
    saved = nbformat.read(notebook_path("01"), as_version=4)
    for cell in saved.cells[:exercise_at]:
        shown = cell.source + output_text(cell)
        assert "partials" not in output_text(cell), cell.source
        assert "(-4.0, 3.0)" not in shown and "= z = -4" not in shown and "= q = 3" not in shown
    assert nb.nb.cells.index(nb.cell('print("local partials: q"')) > exercise_at


def test_the_first_drawing_has_no_gradients_yet(nb):
    svg = svg_of(nb, "draw(f)")
    assert svg.count(">grad not computed yet</text>") == 5  # five nodes, none differentiated


def test_the_hand_exercise_expects_what_the_engine_computes(nb):
    grads = nb.eval("(x.grad, y.grad, z.grad, q.grad, f.grad)")
    assert grads == (-4.0, -4.0, 3.0, -4.0, 1.0)
    source = nb.cell("df_dx = ...").source
    for name, node in (("df_dx", "x"), ("df_dy", "y"), ("df_dz", "z")):
        assert f'check("five_node.{name}", {name})' in source  # the answer is in the library
        assert exercise(f"five_node.{name}").expected == nb.eval(f"{node}.grad")
    assert exercise("five_node.q").expected == nb.eval("q.data")
    assert exercise("five_node.f").expected == nb.eval("f.data")
    shown = answered(nb, "df_dx = ...", "df_dx = ...", "df_dx = 1")
    assert "local partial alone" in shown
    shown = answered(nb, "df_dx = ...", "df_dz = ...", "df_dz = -4")
    assert "local partial with respect to q" in shown


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
    assert 'check("five_node.f_moves_by", f_moves_by)' in source
    assert exercise("five_node.f_moves_by").expected == nb.eval("q.grad * 0.5")
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
        "local partials: q (1.0, 1.0)   f (-4.0, 3.0)\n"
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


def test_confirmations_are_shown_only_on_running(nb):
    """The cells that confirm an exercise's answer are saved without outputs."""
    for marker in (
        "def f_plain",
        "x0, y0, z0 = -2.0",
        'print("before backward():", x)',
        "draw(f, partials=True)",
        "report = gradient_check(",
        "for x_value, z_value in",
    ):
        cell = nb.cell(marker)
        assert "nbval-ignore-output" in cell.metadata.get("tags", []), marker
    saved = nbformat.read(notebook_path("01"), as_version=4)
    for cell in saved.cells:
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            assert cell.outputs == [], cell.source


def test_the_upstream_at_q_is_not_stated_before_the_exercise(nb):
    step3 = nb.markdown.split("## Step 3 · the upstream gradient")[1].split("**Exercise:**")[0]
    assert "-4" not in step3 and "\\times z" not in step3  # neither the number nor z for it
    assert "$1 \\times \\partial f/\\partial q$" in " ".join(step3.split())


def test_every_import_a_later_cell_needs_is_in_the_setup_cell(nb):
    """No cell depends on an import made by an exercise cell (or any other cell): a learner can
    restart, run the setup cell, and start at any section."""
    cells = [c for _, c in nb.code_cells]
    setup = cells[0]
    assert "check" in imported_names(setup) and "draw" in imported_names(setup)
    for cell in cells[1:]:
        assert not imported_names(cell) & {"check", "draw", "Value"}, cell.source
    assert_imports_come_from_setup_or_own_section(nb)


def test_the_quiz_says_what_the_card_calls_the_loss(nb):
    before_quiz = nb.markdown.split("## Quiz")[1]
    assert "*loss*: the final output of a graph" in " ".join(before_quiz.split())
    assert "Here that is $f$." in before_quiz
    assert "final loss" in nb.eval("q4.prompt + ' '.join(q4.options)")
