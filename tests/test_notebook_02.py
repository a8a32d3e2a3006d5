"""Notebook 02 (six nodes: fan-out and sum at joins), executed once: every number is right.

The checks that used to sit in the notebook as ``assert`` cells live here, plus what a learner
does with it: answer exercises right and wrong, click the stepper, type garbage into the
hand-trace, move the explorer's sliders and run the "same from code" cells again.
"""

from __future__ import annotations

import ast
import inspect
import re

import nbformat
import numpy as np
import pytest
from notebook_harness import answered, notebook_fixture, notebook_path, output_text

from course_lib.autodiff import graph
from course_lib.autodiff.scalar import Value
from course_lib.teaching.answers import exercise

nb = notebook_fixture("02")

# Each hand exercise of the notebook: its key, and the engine's number it must expect (an
# expression in the notebook's namespace after Run All).
EXERCISES = {
    "fan_out.a": "a.data",
    "fan_out.b": "b.data",
    "fan_out.f": "f.data",
    "fan_out.df_da": "a.grad",
    "fan_out.df_db": "b.grad",
    "fan_out.path_via_a": "via_a",
    "fan_out.path_via_b": "via_b",
    "fan_out.df_dx": "x.grad",
    "fan_out.ds_dw2": "w2.grad",
}


def saved():
    """The notebook as saved: what a learner sees on opening it, before running anything."""
    return nbformat.read(notebook_path("02"), as_version=4)


def saved_index(cells, containing: str) -> int:
    found = [i for i, c in enumerate(cells) if c.cell_type == "code" and containing in c.source]
    assert len(found) == 1, (containing, found)
    return found[0]


def imported_names(cell) -> set[str]:
    """The names a code cell binds by an import."""
    names = set()
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def svg_of(nb, marker: str) -> str:
    return output_text(nb.cell(marker), kinds=("text/html",))


# ---- the page as a whole ---------------------------------------------------------------------


def test_the_title_counts_nodes(nb):
    text = nb.markdown
    assert text.startswith("# 02 · Six nodes: fan-out and sum at joins")
    assert "six nodes" in text and "Five nodes" not in text


def trace_ascii(picture: str) -> tuple[dict[str, set[str]], set[tuple[int, int]]]:
    """Follow the lines of an ASCII graph from every name: which nodes does it feed (an
    operator ``(*)`` is followed by the name of its result, ``(*)── a``)? Also returns the
    line characters no trace passed through (a stray branch, drawn from the wrong place)."""
    grid = picture.splitlines()
    visited: set[tuple[int, int]] = set()

    def at(r: int, c: int) -> str:
        return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else " "

    def result_of(r: int, c: int) -> str:
        row = grid[r]
        close = row.index(")", c)
        match = re.match(r"[─ ]*(\w+)", row[close + 1 :])
        assert match, f"no result name after the operator in row {r}: {row!r}"
        visited.update((r, k) for k in range(close + 1, close + 1 + match.start(1)))
        return match.group(1)

    def follow(r: int, c: int, dr: int, dc: int, found: set[str]) -> None:
        for _ in range(200):
            r, c = r + dr, c + dc
            ch = at(r, c)
            if ch in "(*+)":
                found.add(result_of(r, c))
                return
            visited.add((r, c))
            if ch == "─" and dr == 0:
                continue
            if ch == "│" and dc == 0:
                continue
            if ch == "┬" and dc == 1:  # a split: on to the right, and down
                follow(r, c, 1, 0, found)
                continue
            if ch == "┐" and dc == 1:
                dr, dc = 1, 0
            elif ch == "┘" and dc == 1:
                dr, dc = -1, 0
            elif ch == "└" and dr == 1:
                dr, dc = 0, 1
            elif ch == "┌" and dr == -1:
                dr, dc = 0, 1
            else:
                visited.discard((r, c))
                return  # the end of a line (or a turn this tracer does not know)

    feeds: dict[str, set[str]] = {}
    for r, row in enumerate(grid):
        for match in re.finditer(r"(\w+) ─", row):
            feeds.setdefault(match.group(1), set())
            follow(r, match.end() - 2, 0, 1, feeds[match.group(1)])
    lines = {(r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch in "─│┬┐┘└┌"}
    return feeds, lines - visited


def test_the_ascii_picture_shows_a_from_x_y_and_b_from_x_z(nb):
    intro = nb.nb.cells[0].source
    picture = intro.split("```")[1].strip("\n")
    feeds, stray = trace_ascii(picture)
    assert feeds == {"x": {"a", "b"}, "y": {"a"}, "z": {"b"}, "a": {"f"}, "b": {"f"}}
    assert stray == set()
    assert "(*)── a" in picture and "(+)── b" in picture and "(*)── f" in picture


def test_the_tracer_rejects_the_old_picture():
    old = "\n".join(
        [
            "x ──┬──(*)── a ──┐",
            "y ──┘  │         (*)── f",
            "       └─(+)── b ┘",
            "z ──────┘",
        ]
    )
    feeds, stray = trace_ascii(old)
    assert feeds["x"] == {"a"}  # it does not show x feeding b ...
    assert stray  # ... and its branch into (+) starts under a's operator, not on x's line


# ---- steps 1-4 ---------------------------------------------------------------------------


def test_the_first_drawing_shows_the_structure_without_the_answers(nb):
    svg = svg_of(nb, "draw(make_graph()[-1], values=False)")
    assert svg.count(">grad not computed yet</text>") == 6
    assert svg.count(">data ?</text>") == 3  # a, b and f: the forward exercise
    assert ">data 3</text>" in svg and ">data -2</text>" in svg and ">data 1</text>" in svg
    for answer in ("-6", "4", "-24"):
        assert f">data {answer}</text>" not in svg
    # No name a learner could print holds the graph before the exercise: a, b, f come later.
    first = nb.nb.cells.index(nb.cell("values=False"))
    exercise_cell = nb.nb.cells.index(nb.cell('check("fan_out.a", a_answer)'))
    for cell in nb.nb.cells[first:exercise_cell]:
        if cell.cell_type == "code":
            assert not re.search(r"(?m)^(x, y, z, a, b, f|a|b|f)\s*=", cell.source)


def test_the_first_drawing_says_no_answer_to_a_screen_reader_either(nb):
    svg = svg_of(nb, "draw(make_graph()[-1], values=False)")
    description = re.search(r"<desc>(.*?)</desc>", svg, re.S).group(1)
    for answer in ("-6", "4", "-24"):
        pattern = rf"(?<![\w.]){re.escape(answer)}(?![\w]|\.\d)"
        assert not re.search(pattern, description), description


def test_forward_values_and_the_exercise(nb):
    assert nb.eval("(a.data, b.data, f.data)") == (-6.0, 4.0, -24.0)
    assert "a = -6: right" in answered(nb, "a_answer = ...", "a_answer = ...", "a_answer = -6")
    assert "sign of y" in answered(nb, "a_answer = ...", "a_answer = ...", "a_answer = 6")
    assert "does not multiply" in answered(nb, "a_answer = ...", "b_answer = ...", "b_answer = 3")
    shown = answered(nb, "a_answer = ...", "f_answer = ...", "f_answer = 24")
    assert "a is negative and b positive" in shown


def test_the_local_partials_of_the_table(nb):
    assert nb.eval("(a.partials, b.partials, f.partials)") == (
        (-2.0, 3.0),
        (1.0, 1.0),
        (4.0, -6.0),
    )
    # The table says ∂a/∂x = y, ∂a/∂y = x, ∂f/∂a = b, ∂f/∂b = a, in symbols only: ∂f/∂a and
    # ∂f/∂b are the upstream answers of step 3 (f is the output).
    assert nb.eval("a.partials == (y.data, x.data) and f.partials == (b.data, a.data)")
    step2 = next(c.source for c in nb.nb.cells if c.source.startswith("## Step 2 · local"))
    table = [line for line in step2.splitlines() if line.startswith("| $")]
    assert "\\partial f/\\partial a = b$" in table[2] and "\\partial f/\\partial b = a$" in table[2]
    assert "\\partial a/\\partial x = y$" in table[0]
    for line in table:
        assert not re.search(r"= -?\d+\$", line.replace("= 1$", "")), line


def test_no_local_partial_is_shown_as_a_number_before_the_upstream_exercise():
    """The drawing with partials=True labels the edges into f with ∂f/∂a and ∂f/∂b, the
    answers of step 3: it comes after that exercise, and is saved empty."""
    cells = saved().cells
    exercise_at = saved_index(cells, 'check("fan_out.df_da", df_da)')
    drawing_at = saved_index(cells, "draw(f, partials=True)")
    assert drawing_at > exercise_at
    assert "nbval-ignore-output" in cells[drawing_at].metadata.get("tags", [])
    for cell in cells[:exercise_at]:
        if cell.cell_type == "code":
            assert "partials=True" not in cell.source and ".partials" not in cell.source
            assert "∂f/∂a" not in output_text(cell, kinds=("stdout", "text/plain", "text/html"))


def test_every_import_a_later_cell_needs_is_in_the_setup_cell(nb):
    """check, draw, Value and explore come from the first code cell: no cell depends on an
    import made by an exercise cell or by a cell of another section."""
    cells = [c for _, c in nb.code_cells]
    assert {"check", "draw", "Value", "explore"} <= imported_names(cells[0])
    for cell in cells[1:]:
        assert not imported_names(cell) & {"check", "draw", "Value", "explore"}, cell.source
    section, where = 0, {}
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
            where.setdefault(name, "setup" if cell is cells[0] else section)


def test_every_check_names_its_exercise_and_holds_no_answer(nb):
    """A check call holds a key and the learner's variable: no literal, no engine read-out."""
    keys = []
    for _, cell in nb.code_cells:
        for node in ast.walk(ast.parse(cell.source)):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "check"):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check"):
                    continue
            assert len(node.args) == 2 and not node.keywords, ast.unparse(node)
            key, answer = node.args
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), ast.unparse(node)
            assert isinstance(answer, ast.Name), ast.unparse(node)  # the learner's own variable
            if isinstance(node.func, ast.Name):
                keys.append(key.value)
    assert sorted(keys) == sorted(EXERCISES)


def test_the_hand_exercises_expect_what_the_engine_computes(nb):
    grads = nb.eval("(x.grad, y.grad, z.grad, a.grad, b.grad, f.grad)")
    assert grads == (-14.0, 12.0, -6.0, 4.0, -6.0, 1.0)
    for key, engine in EXERCISES.items():
        assert exercise(key).expected == nb.eval(engine), key
    assert "df/da = 4: right" in answered(nb, "df_da = ...", "df_da = ...", "df_da = 4")
    assert "df/db = -6: right" in answered(nb, "df_da = ...", "df_db = ...", "df_db = -6")
    assert "df/dx = -14: right" in answered(nb, "df_dx = ...", "df_dx = ...", "df_dx = -14")
    assert "one path only" in answered(nb, "df_dx = ...", "df_dx = ...", "df_dx = -8")
    assert "do not multiply" in answered(nb, "df_dx = ...", "df_dx = ...", "df_dx = 48")
    shown = answered(nb, "path_via_a = ...", "path_via_a = ...", "path_via_a = -8")
    assert "path through a = -8: right" in shown
    shown = answered(nb, "df_da = ...", "df_db = ...", "df_db = 4")
    assert "b's own value" in shown and "multiply swaps" not in shown  # the slip, not the fix


def test_the_slips_at_the_join_are_named(nb):
    # Averaging the two paths, and adding the upstream gradients without their local partials.
    paths = nb.eval("(via_a, via_b)")
    average = sum(paths) / 2
    upstreams = nb.eval("a.grad + b.grad")
    assert (average, upstreams) == (-7.0, -2.0)
    shown = answered(nb, "df_dx = ...", "df_dx = ...", f"df_dx = {average}")
    assert "the average of the paths" in shown
    shown = answered(nb, "df_dx = ...", "df_dx = ...", f"df_dx = {upstreams}")
    assert "adds the upstream gradients df/da and df/db without multiplying" in shown
    shown = answered(nb, "df_dx = ...", "path_via_a = ...", "path_via_a = -2")
    assert "local partial alone" in shown
    shown = answered(nb, "df_dx = ...", "path_via_b = ...", "path_via_b = -8")
    assert "That is the path through a" in shown


def test_the_engines_two_contributions_are_the_two_paths(nb):
    assert nb.output("via_a = a.local_backward") == (
        "path through a: -8.0   path through b: -6.0   x.grad: -14.0\n"
    )
    assert nb.eval("via_a + via_b == x.grad")


def test_finite_differences_agree(nb):
    assert nb.eval("report.ok")
    assert nb.eval("list(report.numerical)") == pytest.approx([-14.0, 12.0, -6.0], abs=1e-6)


def test_the_drawing_after_backward_has_every_gradient(nb):
    svg = svg_of(nb, "highlight=x")
    assert "not computed yet" not in svg and ">grad -14</text>" in svg


# ---- the stepper and the hand-trace ----------------------------------------------------------


def test_the_stepper_walks_in_reverse_topological_order(nb):
    names = nb.eval("[walk.names[s.node] for s in walk.steps]")
    assert names == ["f", "b", "z", "a", "y", "x"]


def test_the_stepper_text_matches_the_notebooks_words(nb):
    # "after the step at b it holds -6 so far (1 of 2); after the step at a ... -14"
    assert nb.eval("walk.state(2)[x]") == "-6 so far (1 of 2)"
    assert nb.eval("walk.state(4)[x]") == "-14"
    shown = nb.output("walk.index.value = 4")
    assert shown.startswith("a = x * y: upstream df/da = 4 (1 path, via f): complete.")
    assert "running sum -6 + -8 = -14 (2 of 2, complete)" in shown


def test_the_stepper_cell_shows_step_4_after_the_learner_clicked_around(nb):
    expected = nb.output("walk.index.value = 4")
    nb.exec("walk.step(); walk.step(); walk.back(); walk.reset(); walk.index.value = 6")
    assert nb.eval("walk.current.node is x")
    nb.exec("walk.play.value = 2")  # the Play widget drives the same index
    assert nb.eval("walk.index.value") == 2
    again = output_text(nb.exec(nb.cell("walk.index.value = 4").source), kinds=("stdout",))
    assert again == expected


def test_the_hand_trace_comes_before_anything_shows_a_gradient():
    """The hand-trace asks for every gradient (y and z for the first time): on the saved page,
    nothing above it shows one: no drawing with gradients, no report, no stepper."""
    cells = saved().cells
    trace_at = saved_index(cells, "trace = hand_trace(f)")
    for later in ("gradient_check(", "stepper(f)", "highlight=x", "via_a = a.local_backward"):
        assert saved_index(cells, later) > trace_at, later
    for cell in cells[:trace_at]:
        if cell.cell_type != "code":
            continue
        svg = output_text(cell, kinds=("text/html",))
        grads = re.findall(r">grad ([^<]*)</text>", svg)
        assert all(g == "not computed yet" for g in grads), (cell.source, grads)
        assert ".grad" not in cell.source, cell.source


def test_the_hand_trace_names_the_classic_slips(nb):
    source = nb.cell('trace.check("x", df_dx)').source
    assert re.findall(r"trace\.check\(\"x\", (\w+)\)", source) == ["df_dx", "path_via_a", "df_da"]
    assert nb.output('trace.check("x", df_dx)').splitlines() == 3 * [
        "df/dx: not answered yet. Replace the ... with your number, to 3 significant figures."
    ]
    nb.exec("df_dx, path_via_a, df_da = -14, -8, 4")  # a learner who answered steps 3 and 4
    try:
        lines = output_text(nb.exec(source)).splitlines()
    finally:
        nb.exec("df_dx = path_via_a = df_da = ...")
    assert lines[0] == "df/dx = -14: right."
    assert "only the path through a" in lines[1]
    assert "passed back unchanged" in lines[2]


def test_the_hand_trace_survives_what_learners_type(nb):
    for typed in ["", "abc", "1e400", "nan", "1/2", "0,5", "-14"]:
        nb.exec(f"trace.entries['x'].value = {typed!r}")
    assert nb.eval("trace.results['x'].correct")
    nb.exec("trace.entries['x'].value = '1e400'")
    assert "too large" in nb.eval("trace.feedback['x'].value")


# ---- gates and the sigmoid neuron -----------------------------------------------------------


def test_the_three_gate_patterns(nb):
    assert nb.eval("(p1.grad, q1.grad)") == (5.0, 5.0)  # add distributes
    assert nb.eval("(p2.grad, q2.grad)") == (-15.0, 10.0)  # multiply swaps: 5·q, 5·p
    assert nb.eval("p.grad") == 5.0 * 3.0 + 5.0 * 4.0  # a copy sums


def test_the_neuron_drawing_above_its_exercise_shows_no_gradient(nb):
    svg = svg_of(nb, "draw(one_node, partials=True)")
    grads = re.findall(r">grad ([^<]*)</text>", svg)
    assert len(grads) == 10 and set(grads) == {"not computed yet"}
    assert "backward()" not in nb.cell("draw(one_node, partials=True)").source.split("#")[0]


def test_the_neuron_exercise_and_the_staged_graph(nb):
    assert nb.eval("w2.grad") == 0.25 * -1.0
    assert "-0.25: right" in answered(nb, "ds_dw2 = ...", "ds_dw2 = ...", "ds_dw2 = -0.25")
    assert "σ, the neuron's value" in answered(nb, "ds_dw2 = ...", "ds_dw2 = ...", "ds_dw2 = -0.5")
    assert "other factor, x2" in answered(nb, "ds_dw2 = ...", "ds_dw2 = ...", "ds_dw2 = 0.75")
    assert nb.eval("staged.data == one_node.data == 0.5")
    single = nb.eval("[v.grad for v in (x1, w1, x2, w2, b0)]")
    staged = nb.eval("[v.grad for v in (x1s, w1s, x2s, w2s, b0s)]")
    assert staged == pytest.approx(single, rel=1e-12, abs=1e-15)
    lines = nb.output("staged.backward()").splitlines()
    assert lines[:2] == [
        "one sigmoid node  10 nodes, 5 operations",
        "staged sigmoid    16 nodes, 9 operations",
    ]


def test_the_confirmations_after_exercises_are_saved_empty():
    cells = saved().cells
    for marker in (
        "via_a = a.local_backward",
        "report = gradient_check(",  # y's and z's gradients, asked by the hand-trace
        "highlight=x",
        "walk.index.value = 4",  # "to y: ... contribution 3 × 4 = 12"
        "draw(f, partials=True)",
        "staged.backward()",
        'explorer.sliders["x"]',
        "show_rule_if_right(",
    ):
        cell = cells[saved_index(cells, marker)]
        assert "nbval-ignore-output" in cell.metadata.get("tags", []), marker
        assert cell.outputs == [], marker
        assert "NBVAL" not in cell.source


def test_the_fused_kernel_is_in_the_notebook_named(nb):
    text = " ".join(nb.markdown.split())
    assert "softmax with cross-entropy in notebook 06" in text
    assert notebook_path("06").name.startswith("06_cross_entropy")


def test_the_staged_sigmoid_overflows_at_minus_710_and_the_one_node_does_not(nb):
    shown = nb.output("def staged_sigmoid")
    assert "n = -710: one node σ = 4.476e-309" in shown
    assert "staged: OverflowError" in shown
    assert shown.count("staged σ = 1.217e-308") == 1  # at -709 both still work
    # The same facts from the engine itself, not from the page.
    assert Value(-710.0).sigmoid().data == pytest.approx(4.4762862256751e-309, rel=1e-6)
    with pytest.raises(OverflowError):
        1.0 / (1.0 + (-Value(-710.0)).exp())
    text = nb.markdown
    assert "always *correct*" not in text and "$n = -710$" in text


# ---- the engine's printed code ----------------------------------------------------------------


def test_the_printed_code_is_the_code_that_runs(nb):
    assert nb.output("print(inspect.getsource(topological_order))") == (
        inspect.getsource(graph.topological_order) + "\n"
    )
    assert nb.output("print(inspect.getsource(backward_steps))") == (
        inspect.getsource(graph.backward_steps) + "\n"
    )
    assert nb.output("print(inspect.getsource(Value.local_backward))") == (
        inspect.getsource(Value.local_backward) + "\n"
    )
    assert nb.output("sum_line = next(") == (
        "after = contribution if before is None else before + contribution  # sum at joins\n"
    )
    # backward() drains exactly this generator: no other, faster copy runs instead.
    assert "backpropagate" in inspect.getsource(Value.backward)
    assert "backward_steps(root, seed)" in inspect.getsource(graph.backpropagate)
    assert "topological_order(root)" in inspect.getsource(graph.backward_steps)


def test_the_stepper_text_says_its_steps_are_the_engines(nb):
    text = nb.markdown
    assert "just ran" not in text  # the old claim of a replay
    assert "generator that `backward()` itself runs" in " ".join(text.split())
    assert nb.eval(
        "walk.steps[0].__class__ is __import__('course_lib.autodiff.graph').autodiff.graph.Step"
    )


# ---- the op table and the code exercise -------------------------------------------------------


def test_the_op_table_is_printed_from_the_engine(nb):
    from course_lib.autodiff.scalar import OPS

    lines = nb.output("from course_lib.autodiff.scalar import OPS").splitlines()
    assert [line.split()[0] for line in lines] == [name for name in OPS if name != "tanh"]
    assert "*        out = a * b        d out/d a = b;  d out/d b = a" in lines


def test_nothing_above_the_tanh_exercise_gives_its_rule(nb):
    """The op table leaves tanh's row out, the prose gives the forward formula only, and the
    engine's tanh shows only after the check says RIGHT."""
    cells = saved().cells
    at = saved_index(cells, "def tanh_backward(")
    for cell in cells[:at]:
        shown = cell.source + output_text(cell)
        if "<summary>Hint" in cell.source:
            continue
        for rule in ("1 - out²", "1 - out**2", "out * out", "1 - tanh", "1 − out²", "\\tanh(x)^2"):
            assert rule not in shown, (rule, cell.source[:80])
    text = " ".join(nb.markdown.split())
    assert "A typical mistake gets its name." in text and "gets the name of its mistake" not in text
    assert "\\tanh(x) = \\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}" in text


def test_the_engines_tanh_shows_only_once_the_learners_rule_is_right(nb):
    from course_lib.autodiff.scalar import _tanh

    cell = nb.cell("show_rule_if_right(")
    assert "nbval-ignore-output" in cell.metadata.get("tags", [])
    assert "once your tanh_backward is right" in nb.output("show_rule_if_right(")
    nb.exec(nb.solution("tanh_backward"))
    try:
        nb.exec(nb.cell('check_exercise("tanh_backward", tanh_backward)').source)
        shown = output_text(nb.exec(cell.source))
        assert shown == inspect.getsource(_tanh) + "\n"
        assert "1.0 - out * out" in shown
    finally:
        nb.exec(nb.cell("def tanh_backward(").source)  # the placeholder again
        nb.exec(nb.cell('check_exercise("tanh_backward", tanh_backward)').source)
    assert "once your tanh_backward is right" in output_text(nb.exec(cell.source))


def test_the_copy_gates_constants_are_described_as_the_drawing_shows_them(nb):
    svg = svg_of(nb, "draw(copy_gate, partials=True, highlight=p)")
    description = re.search(r"<desc>(.*?)</desc>", svg, re.S).group(1)
    assert "constant (constant): value 3, gradient 10" in description
    assert "local partial ∂n1/∂3 = 2" in description
    text = " ".join(nb.markdown.split())
    assert "the edge from it reads $\\partial n_1/\\partial 3$" in text
    assert "which is $p$'s value, $2$" in text
    assert "every node, constants included, gets a gradient" in text
    # Value's rules never give None, the contribution the loop skips.
    c = Value(2.0) * 3.0
    assert None not in c.local_backward(1.0)


def test_the_next_line_is_a_link(nb):
    last = nb.nb.cells[-1].source
    link = "**[03 · tensors and broadcasting](03_tensors_and_broadcasting.ipynb)**"
    assert last.startswith(f"Next: {link}")


def test_the_code_exercise_waits_for_the_learner(nb):
    exercise = nb.cell("def tanh_backward(")
    assert exercise.metadata.get("tags") == ["exercise"]
    body = [line.strip() for line in exercise.source.splitlines()[1:]]
    assert body[-1] == "..."  # the placeholder, untouched by Run All
    shown = nb.output('check_exercise("tanh_backward", tanh_backward)')
    assert shown.startswith("tanh_backward: NOT WRITTEN YET.")
    cells = [c.cell_type for c in nb.nb.cells]
    i = nb.nb.cells.index(exercise)
    assert cells[i + 1] == "markdown" and "def tanh_backward(" in nb.nb.cells[i + 1].source
    assert "check_exercise" in nb.nb.cells[i + 2].source


def test_the_solution_is_right(nb):
    nb.exec(nb.solution("tanh_backward").replace("def ", "def solution_", 1))
    report = nb.eval('str(check_exercise("tanh_backward", solution_tanh_backward))')
    assert report.startswith("tanh_backward: RIGHT"), report


@pytest.mark.parametrize(
    ("body", "diagnosis"),
    [
        ("upstream * (1 - x**2)", "written with tanh's input x: tanh's local partial uses its"),
        ("1 - out**2", "the local partial alone: the upstream gradient is missing"),
        ("-upstream * (1 - out**2)", "wrong sign"),
        ("upstream * out", "out is tanh's value, not its slope"),
    ],
    ids=["input-for-output", "no-upstream", "sign", "times-out"],
)
def test_typical_wrong_rules_get_their_diagnosis(nb, body, diagnosis):
    nb.exec(f"def wrong_tanh_backward(upstream, x, out):\n    return {body}\n")
    report = nb.eval('str(check_exercise("tanh_backward", wrong_tanh_backward))')
    assert report.startswith("tanh_backward: WRONG"), report
    assert diagnosis in report.replace("\n    ", " "), report


def test_a_rule_that_raises_is_named_by_its_line(nb):
    nb.exec("def raising_tanh_backward(upstream, x, out):\n    return upstream / (x - x)\n")
    report = nb.eval('str(check_exercise("tanh_backward", raising_tanh_backward))')
    assert "ZeroDivisionError" in report and "line 2 of your function" in report


def test_the_solution_plugged_into_a_graph_with_fan_out_gives_the_engines_gradients(nb):
    """What the exercise promises: the learner's rule, as an op, in f = tanh(xy)·x + tanh(x)."""
    from course_lib.teaching.exercise_bank import tanh_op

    namespace: dict = {}
    exec(nb.solution("tanh_backward"), namespace)
    rule = namespace["tanh_backward"]
    x, y = Value(0.7), Value(-1.1)
    f = tanh_op(x * y, rule) * x + tanh_op(x, rule)
    f.backward()
    x2, y2 = Value(0.7), Value(-1.1)
    g = (x2 * y2).tanh() * x2 + x2.tanh()
    g.backward()
    assert (x.grad, y.grad) == pytest.approx((x2.grad, y2.grad), rel=1e-15)


def test_what_the_fan_out_case_of_the_checker_tests(nb):
    """The notebook's claim: the fan-out graph cannot test a rule for summing (the engine adds);
    it tests the rule inside the engine, which asks it for a local partial (upstream 1),
    multiplies by each node's upstream and adds at x; the single nodes use other upstreams."""
    from course_lib.teaching.code_check import check_exercise
    from course_lib.teaching.exercise_bank import EXERCISES as BANK

    text = " ".join(nb.markdown.split())
    assert "That graph cannot test your rule for summing" in text
    assert "its contributions must add" not in text
    cases = BANK["tanh_backward"].make_cases(np.random.default_rng(0))
    singles, fan_out = cases[:-1], cases[-1]
    assert singles and all(case.inputs["upstream"] != 1.0 for case in singles)
    seen: list[float] = []

    def recording(upstream, x, out):
        seen.append(upstream)
        return upstream * (1 - out**2)

    np.testing.assert_allclose(fan_out.run(recording), fan_out.expected["contribution"])
    assert seen == [1.0, 1.0]  # one call per tanh node, each for its local partial

    def ignores_upstream(upstream, x, out):
        return 1 - out**2

    # A rule that never multiplies by its upstream passes the graph: the engine multiplies
    # and adds there. The single nodes are what catch it.
    np.testing.assert_allclose(fan_out.run(ignores_upstream), fan_out.expected["contribution"])
    assert str(check_exercise("tanh_backward", ignores_upstream)).startswith("tanh_backward: WRONG")
    x, y = Value(0.7), Value(-1.1)
    f = (x * y).tanh() * x + x.tanh()
    assert sum(1 for node in f.graph_nodes() for p in node.parents if p is x) == 3


# ---- the sigmoid plot -----------------------------------------------------------------------


def test_the_sigmoid_plot_is_drawn_with_matplotlib_from_the_engine(nb):
    cell = nb.cell("plt.subplots(")
    assert "import matplotlib.pyplot as plt" in cell.source
    assert "s.partials[0]" in cell.source  # the local partial the engine stores
    assert output_text(cell) == "<Figure size 600x300 with 1 Axes>"
    shown = output_text(cell, kinds=("text/html",))  # the PNG in an <img> with alt text
    assert shown.startswith('<img alt="σ(n) (solid line) rises') and "image/png;base64" in shown
    partials = nb.eval("[s.partials[0] for s in sigmoids]")
    assert max(partials) == pytest.approx(0.25) and partials[120] == 0.25  # at n = 0
    assert partials[0] < 0.0025 and partials[-1] < 0.0025  # flat arms pass little back


# ---- the explorers ---------------------------------------------------------------------------

EXPLORER_LINES = [
    "x = 3: path through a -8, path through b -6, df/dx = -14",
    "x = 1: path through a -4, path through b -2, df/dx = -6",
]


def test_the_explorer_names_a_and_b_and_reads_both_paths(nb):
    assert sorted(nb.eval("list(explorer.nodes)")) == ["a", "b", "f", "x", "y", "z"]
    assert nb.output("explorer.sliders").splitlines() == EXPLORER_LINES


def test_the_predict_cell_asks_first_and_explains_after(nb):
    cell = nb.cell('explorer.sliders["x"]')
    assert not re.search(r"-6|-4|-2(?![.\d])", cell.source.split("for x_value")[0])
    text = " ".join(nb.markdown.split())
    assert "**Predict before you run the next cell:** it sets $x = 1$" in text
    i = nb.nb.cells.index(cell)
    why = nb.nb.cells[i + 1]
    assert why.cell_type == "markdown" and why.source.startswith("<details><summary>Why")
    # The Why's numbers are the explorer's at x = 1.
    assert "= 2 \\cdot (-2) = -4" in why.source and "a \\cdot 1 = -2" in why.source
    assert "\\partial f/\\partial x = -6" in why.source
    assert EXPLORER_LINES[1] == "x = 1: path through a -4, path through b -2, df/dx = -6"


def test_the_explorer_cell_is_right_after_a_learner_moved_every_slider(nb):
    nb.exec(
        'explorer.sliders["x"].value = -2.5\n'
        'explorer.sliders["y"].value = 0.7\n'
        'explorer.sliders["z"].value = -3.0\n'
    )
    again = output_text(nb.exec(nb.cell("explorer.sliders").source), kinds=("stdout",))
    assert again.splitlines() == EXPLORER_LINES


def test_the_own_function_explorer_has_a_join_at_x(nb):
    # d/dx [sigmoid(x y) + x] = sigmoid'(x y) y + 1: two paths into x.
    nb.exec('my_explorer.sliders["x"].value = 1.0; my_explorer.sliders["y"].value = 2.0')
    s = 1.0 / (1.0 + 2.718281828459045**-2.0)
    assert nb.eval("my_explorer.inputs['x'].grad") == pytest.approx(s * (1 - s) * 2.0 + 1.0)


# ---- the quiz ----------------------------------------------------------------------------------


def test_the_quiz_has_its_right_option_fourth_and_not_the_longest(nb):
    options = nb.eval("q.options")
    assert nb.eval("q.correct") == 3  # D
    assert options[3].startswith("-14:")
    verdicts = [nb.eval(f"q.answer({i}).correct") for i in range(len(options))]
    assert verdicts == [False, False, False, True]
    assert len(options[3]) < max(len(o) for o in options)
    # Each distractor is a slip the notebook's exercises name: one path only, upstream
    # gradients without their local partials, paths multiplied.
    assert [o.split(":")[0] for o in options] == ["-8", "-2", "48", "-14"]
