"""A course notebook as an nbgrader assignment: solutions in regions, graded checks hidden.

The self-paced notebooks stay as they are (an exercise cell with ``...``, its worked solution
behind a collapsed **Solution** block, a cell confirming the answer with the engine). For a
class, :func:`assignment_source` turns one into nbgrader's *source* notebook, the instructor's
version, which ``nbgrader generate_assignment`` turns into the students' release:

* each exercise cell becomes an nbgrader solution cell, with the answer in a
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` region (a hand exercise's numbers from the
  answer key, a code exercise's function from its Solution block); the release keeps the
  learner's ``...`` and drops the region;
* after each hand check, and after the first check of each code exercise, comes a locked
  grade cell whose test is hidden from students (``### BEGIN HIDDEN TESTS``): it calls
  :func:`~course_lib.teaching.grading.grade` (1 point per number) or
  :func:`~course_lib.teaching.grading.grade_check` (2 points per function or class);
* the Solution blocks go (nbgrader cannot clear a markdown cell that is not itself graded);
  every output goes too (nbgrader clears them). The cells after an exercise that confirm its
  answer with the engine stay: later cells build on what they compute, and a student who runs
  one sees what a self-paced learner sees after answering. The grade refuses an answer read
  out of the engine in the answer cell itself; a number copied by eye it cannot tell.

nbgrader's own stubs would put ``raise NotImplementedError()`` in place of a solution; the
course folder's configuration (:data:`NBGRADER_SETTINGS`) makes them empty instead, so the
release runs top to bottom while its exercises are still ``...``.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from typing import Any

import nbformat

from course_lib.teaching.answers import exercise
from course_lib.teaching.grading import CHECKERS

__all__ = [
    "HAND_POINTS",
    "CODE_POINTS",
    "NBGRADER_SETTINGS",
    "assignment_source",
    "code_checks",
    "exercise_of",
    "grade_id",
    "GradedCell",
    "graded_cells",
]

HAND_POINTS = 1
CODE_POINTS = 2
# The nbgrader settings the release needs to run (see the module's docstring): empty stubs,
# and time for notebook 07's training cells when the autograder runs a notebook.
NBGRADER_SETTINGS: dict[str, dict[str, Any]] = {
    "ClearSolutions": {"code_stub": {"python": ""}, "text_stub": ""},
    "Execute": {"timeout": 600},
}

_HAND = re.compile(r"(?<![.\w])check\(\s*\"([\w.]+)\"\s*,\s*([A-Za-z_]\w*)\s*\)")
_CALL = re.compile(r"(?<![.\w])(check_\w+)\(([^()]*)\)")


def code_checks(source: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The code exercises ``source`` checks, in order: (checker, exercise name, the learner's
    functions or classes), for each call of a checker in
    :data:`~course_lib.teaching.grading.CHECKERS` on names (``check_exercise("tanh_backward",
    tanh_backward)``, ``check_network(MyNeuron, MyLayer, MyMLP)``). An exercise without a name
    argument is named after its checker (``check_ops`` → ``ops``)."""
    _text(source, "code_checks: source (a cell's code)")
    found = []
    for match in _CALL.finditer(source):
        checker, arguments = match[1], match[2]
        if checker not in CHECKERS:
            continue
        try:
            call = ast.parse(f"f({arguments})", mode="eval").body
        except SyntaxError:
            continue
        if call.keywords or not isinstance(call, ast.Call):
            continue
        args = list(call.args)
        name = checker.removeprefix("check_")
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            name = args.pop(0).value
        if args and all(isinstance(a, ast.Name) for a in args):
            found.append((checker, name, tuple(a.id for a in args)))
    return found


_SOLUTION = re.compile(r"<details>\s*<summary>\s*Solution.*?</details>\s*", re.S)
_FENCE = re.compile(r"```python\n(.*?)```", re.S)
_LIBRARY_IMPORT = re.compile(r"^from course_lib[\w.]* import ([^\n#]+)", re.M)


@dataclass(frozen=True)
class GradedCell:
    """One grade cell of an assignment: its nbgrader id, its points, and ``kind``: "hand" (a
    number worked out by hand) or "code" (a function written)."""

    grade_id: str
    points: int
    kind: str


def _text(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be text, got {type(value).__name__} {value!r}")


def _cells(notebook: Any, where: str) -> list[Any]:
    """A notebook's cells, read with nbformat (nbformat.read(path, as_version=4))."""
    cells = getattr(notebook, "cells", None)
    if not isinstance(cells, list):
        raise TypeError(
            f"{where} needs a notebook read with nbformat (nbformat.read(path, as_version=4)), "
            f"got {type(notebook).__name__}"
        )
    return cells


def grade_id(exercise_name: str) -> str:
    """The nbgrader id of an exercise's grade cell: nbgrader allows letters, digits, _ and -,
    so a hand exercise ``five_node.df_dx`` becomes ``five_node-df_dx``, and a code exercise
    ``matmul_backward`` becomes ``code-matmul_backward``."""
    _text(exercise_name, "grade_id: exercise_name")
    if "." in exercise_name:
        return exercise_name.replace(".", "-")
    return f"code-{exercise_name}"


def exercise_of(grade_cell_id: str) -> str:
    """The exercise a grade cell id names (the inverse of :func:`grade_id`)."""
    _text(grade_cell_id, "exercise_of: grade_cell_id")
    if grade_cell_id.startswith("code-"):
        return grade_cell_id[len("code-") :]
    return grade_cell_id.replace("-", ".", 1)


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int = 0) -> dict:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _code_cell(source: str, nbgrader: dict) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader
    return cell


def _hand_solution(key: str, variable: str) -> str:
    expected = exercise(key).expected
    if isinstance(expected, float):
        value = repr(expected)
    elif isinstance(expected, tuple) and all(isinstance(v, int) for v in expected):
        value = repr(expected)  # axes
    else:
        value = repr([float(v) for v in expected])
    return f"{variable} = {value}"


def _with_region(source: str, solution: str, before: str | None = None) -> str:
    """``source`` with ``solution`` in a BEGIN/END SOLUTION region: before the first line that
    contains ``before``, or at the end."""
    region = f"### BEGIN SOLUTION\n{solution.rstrip()}\n### END SOLUTION"
    lines = source.split("\n")
    if before is not None:
        for number, line in enumerate(lines):
            if before in line:
                return "\n".join([*lines[:number], region, *lines[number:]])
    return source.rstrip() + "\n\n" + region


def _grade_cell(grade_id: str, call: str, points: int) -> Any:
    module, function = call.split(":")
    source = (
        f"# Graded: {grade_id} ({points} point{'s' if points != 1 else ''}).\n"
        "### BEGIN HIDDEN TESTS\n"
        f"from course_lib.teaching.grading import {module}\n\n"
        f"{function}\n"
        "### END HIDDEN TESTS"
    )
    return _code_cell(
        source, _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    )


def _code_in(markdown: str) -> str:
    """The first ```python block of a markdown cell, or ''."""
    match = _FENCE.search(markdown)
    return match[1] if match else ""


def _solution_code(markdown: str) -> str:
    match = _FENCE.search(markdown)
    if match is None:
        raise ValueError("a code exercise's Solution block has no ```python block")
    return match[1]


def assignment_source(notebook: Any, prefix: str) -> Any:
    """nbgrader's source notebook for the course ``notebook`` (see the module docstring).

    ``prefix`` makes the grade ids unique across notebooks (the notebook's number, ``"03"``).
    """
    cells = _cells(notebook, "assignment_source")
    _text(prefix, "assignment_source: prefix")
    out = []
    graded_code: set[str] = set()
    solutions = {i: c for i, c in enumerate(cells) if _is_solution_block(c)}
    definitions = _code_definitions(cells)
    answer_number = 0
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            if index in solutions:
                rest = _SOLUTION.sub("", cell.source).strip()
                if rest:
                    out.append(nbformat.v4.new_markdown_cell(rest))
                continue
            out.append(copy.deepcopy(cell))
            continue
        cell = copy.deepcopy(cell)
        hand = _HAND.findall(cell.source)
        if index in definitions:
            name, solution_index = definitions[index]
            answer_number += 1
            cell.source = _with_region(cell.source, _solution_code(cells[solution_index].source))
            cell.metadata["nbgrader"] = _meta(
                f"{prefix}-answer-{answer_number}", grade=False, solution=True, locked=False
            )
            out.append(cell)
            continue
        if hand:
            answer_number += 1
            solution = "\n".join(_hand_solution(key, variable) for key, variable in hand)
            first_check = hand[0][0]
            marker = next(line for line in cell.source.split("\n") if f'"{first_check}"' in line)
            cell.source = _with_region(cell.source, solution, before=marker)
            cell.metadata["nbgrader"] = _meta(
                f"{prefix}-answer-{answer_number}", grade=False, solution=True, locked=False
            )
            out.append(cell)
            for key, variable in hand:
                call = f'grade("{key}", {variable}, name="{variable}", points={HAND_POINTS})'
                out.append(_grade_cell(grade_id(key), f"grade:{call}", HAND_POINTS))
            continue
        out.append(cell)
        for checker, name, subjects in code_checks(cell.source):
            if name in graded_code:
                continue
            graded_code.add(name)
            allowed = tuple(sorted({h for fn in subjects for h in _given_helpers(cells, fn)}))
            named = f', name="{name}"' if checker in ("check_exercise", "check_stage") else ""
            call = (
                f'grade_check("{checker}", {", ".join(subjects)}{named}, allowed={allowed!r}, '
                f"points={CODE_POINTS})"
            )
            out.append(_grade_cell(grade_id(name), f"grade_check:{call}", CODE_POINTS))
    result = copy.deepcopy(notebook)
    result.cells = out
    for number, cell in enumerate(result.cells):
        cell["id"] = f"cell-{number}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return result


def _is_solution_block(cell: Any) -> bool:
    return cell.cell_type == "markdown" and _SOLUTION.search(cell.source) is not None


def _defines(source: str, name: str) -> bool:
    return re.search(rf"^(def|class) {name}\b", source, re.M) is not None


def _code_definitions(cells: list) -> dict[int, tuple[str, int]]:
    """For each code exercise cell (tagged ``exercise``, or defining what a checker checks)
    whose Solution block follows it with the whole code: (what it defines, the index of that
    Solution block), keyed by the exercise cell's index. A Solution that shows only the
    methods to add to a class (``class MyValue:  # ...``) cannot replace the cell's code, so
    that exercise keeps the learner's ``...`` in the instructor's version too."""
    subjects = {
        subject
        for cell in cells
        if cell.cell_type == "code"
        for _, _, names in code_checks(cell.source)
        for subject in names
    }
    found: dict[int, tuple[str, int]] = {}
    for index, cell in enumerate(cells[:-1]):
        if cell.cell_type != "code":
            continue
        defined = [name for name in subjects if _defines(cell.source, name)]
        if "exercise" not in cell.metadata.get("tags", []) and not defined:
            continue
        following = cells[index + 1]
        code = _code_in(following.source) if _is_solution_block(following) else ""
        if code and not re.search(r"^class \w+.*#\s*\.\.\.", code, re.M):
            found[index] = (", ".join(defined), index + 1)
    return found


def _given_helpers(cells: list, fn: str) -> tuple[str, ...]:
    """The library functions a learner may call in ``fn``: those the cell defining it imports
    (``sum_to_shape`` in notebook 03) and those its Solution block calls (``kernels.softmax``
    in notebook 06); any other call into the library is taken for the library's own rule."""
    names: list[str] = []
    for cell in cells:
        if cell.cell_type == "code" and _defines(cell.source, fn):
            for group in _LIBRARY_IMPORT.findall(cell.source):
                names += [n.strip().split(" as ")[0] for n in group.split(",") if n.strip()]
        if _is_solution_block(cell) and _defines(_code_in(cell.source), fn):
            for node in ast.walk(ast.parse(_code_in(cell.source))):
                if isinstance(node, ast.Call):
                    func = node.func
                    if isinstance(func, ast.Attribute):
                        names.append(func.attr)
                    elif isinstance(func, ast.Name):
                        names.append(func.id)
    return tuple(sorted(set(names)))


def graded_cells(source: Any) -> list[GradedCell]:
    """The grade cells of an assignment source notebook, in order."""
    found = []
    for cell in _cells(source, "graded_cells"):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            kind = "hand" if re.search(r"(?<![\w.])grade\(", cell.source) else "code"
            found.append(GradedCell(meta["grade_id"], meta["points"], kind))
    return found
