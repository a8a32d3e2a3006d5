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
  :func:`~course_lib.teaching.grading.grade_exercise` (2 points per function);
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
# The checkers of code exercises, each with its grading function: check_exercise("name", fn)
# (notebooks 02-09), check_stage("stage", fn) and check_deep_backward(fn) (notebook 11).
_CHECKERS = (
    ("grade_exercise", re.compile(r"(?<![.\w])check_exercise\(\s*\"(\w+)\"\s*,\s*(\w+)\s*\)")),
    ("grade_stage", re.compile(r"(?<![.\w])check_stage\(\s*\"(\w+)\"\s*,\s*(\w+)\s*\)")),
    ("grade_deep_backward", re.compile(r"(?<![.\w])check_deep_backward\(()\s*(\w+)\s*\)")),
)


def code_checks(source: str) -> list[tuple[str, str, str]]:
    """The code exercises ``source`` checks, in order: (grading function, exercise name,
    the learner's function). check_deep_backward's exercise is named ``deep_backward``."""
    _text(source, "code_checks: source (a cell's code)")
    found = []
    for grader, pattern in _CHECKERS:
        for match in pattern.finditer(source):
            name, fn = match[1] or "deep_backward", match[2]
            found.append((match.start(), grader, name, fn))
    return [(grader, name, fn) for _, grader, name, fn in sorted(found)]


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
            name, fn, solution_index = definitions[index]
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
        for grader, name, fn in code_checks(cell.source):
            if name in graded_code:
                continue
            graded_code.add(name)
            allowed = _given_helpers(cells, fn)
            named = "" if grader == "grade_deep_backward" else f'"{name}", '
            call = f"{grader}({named}{fn}, allowed={allowed!r}, points={CODE_POINTS})"
            out.append(_grade_cell(grade_id(name), f"{grader}:{call}", CODE_POINTS))
    result = copy.deepcopy(notebook)
    result.cells = out
    for number, cell in enumerate(result.cells):
        cell["id"] = f"cell-{number}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return result


def _is_solution_block(cell: Any) -> bool:
    return cell.cell_type == "markdown" and _SOLUTION.search(cell.source) is not None


def _code_definitions(cells: list) -> dict[int, tuple[str, str, int]]:
    """For each cell defining a code exercise's function: (exercise, function, the index of
    its Solution block), keyed by the defining cell's index."""
    found: dict[int, tuple[str, str, int]] = {}
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        for _, name, fn in code_checks(cell.source):
            defining = [
                j
                for j in range(index)
                if cells[j].cell_type == "code"
                and re.search(rf"^def {fn}\(", cells[j].source, re.M)
            ]
            blocks = [
                j
                for j in range(index)
                if _is_solution_block(cells[j]) and f"def {fn}(" in cells[j].source
            ]
            if defining and blocks and defining[-1] not in found:
                found[defining[-1]] = (name, fn, blocks[-1])
    return found


def _given_helpers(cells: list, fn: str) -> tuple[str, ...]:
    """The library functions a learner may call in ``fn``: those the cell defining it imports
    (``sum_to_shape`` in notebook 03) and those its Solution block calls (``kernels.softmax``
    in notebook 06); any other call into the library is taken for the library's own rule."""
    names: list[str] = []
    for cell in cells:
        if cell.cell_type == "code" and re.search(rf"^def {fn}\(", cell.source, re.M):
            for group in _LIBRARY_IMPORT.findall(cell.source):
                names += [n.strip().split(" as ")[0] for n in group.split(",") if n.strip()]
        if _is_solution_block(cell) and f"def {fn}(" in cell.source:
            for node in ast.walk(ast.parse(_solution_code(cell.source))):
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
