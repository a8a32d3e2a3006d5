"""course_lib.classroom.assignment: each course notebook as an nbgrader source notebook.

Run through nbgrader's own preprocessors (in process, without a kernel): the metadata
validates, the students' version has no solution, no hidden test and no Solution block, and
its exercise cells ask exactly what the self-paced notebook asks.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from course_lib.classroom.assignment import (
    CODE_POINTS,
    HAND_POINTS,
    NBGRADER_SETTINGS,
    assignment_source,
    code_checks,
    exercise_of,
    grade_id,
    graded_cells,
)
from course_lib.classroom.nbgrader_course import course_notebooks
from course_lib.teaching.answers import exercise

pytest.importorskip("nbgrader")

NOTEBOOKS = course_notebooks()
HAND = re.compile(r"(?<![.\w])check\(\s*\"([\w.]+)\"")


def students_version(source):
    """What ``nbgrader generate_assignment`` makes of ``source`` (its clearing steps)."""
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
    from traitlets.config import Config

    MetadataValidator().validate_nb(source)
    config = Config()
    for section, values in NBGRADER_SETTINGS.items():
        for name, value in values.items():
            setattr(getattr(config, section), name, value)
    notebook, resources = source, {}
    for step in (ClearSolutions, ClearHiddenTests, ClearOutput):
        notebook, resources = step(config=config).preprocess(notebook, resources)
    return notebook


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda p: p.name[:2])
def pair(request):
    course = nbformat.read(request.param, as_version=4)
    source = assignment_source(course, request.param.name[:2])
    return course, source, students_version(nbformat.from_dict(source))


def test_every_check_gets_one_grade_cell(pair) -> None:
    course, source, _ = pair
    text = "\n".join(c.source for c in course.cells if c.cell_type == "code")
    hand = HAND.findall(text)
    code = list(dict.fromkeys(name for _, name, _ in code_checks(text)))
    cells = graded_cells(source)
    assert [c.grade_id for c in cells if c.kind == "hand"] == [grade_id(k) for k in hand]
    assert [c.grade_id for c in cells if c.kind == "code"] == [grade_id(n) for n in code]
    assert {c.points for c in cells if c.kind == "hand"} <= {HAND_POINTS}
    assert {c.points for c in cells if c.kind == "code"} <= {CODE_POINTS}
    assert [exercise_of(c.grade_id) for c in cells if c.kind == "hand"] == hand


def test_the_instructors_version_holds_each_answer_in_a_solution_region(pair) -> None:
    course, source, _ = pair
    solution_text = "".join(
        "".join(re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", c.source, re.S))
        for c in source.cells
    )
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and not meta["grade"]
    for key in HAND.findall("\n".join(c.source for c in course.cells)):
        expected = exercise(key).expected
        shown = repr(expected) if isinstance(expected, float | tuple) else None
        if shown is not None:
            assert shown in solution_text, key


def test_the_students_version_gives_nothing_away_and_asks_what_the_course_asks(pair) -> None:
    course, _, release = pair
    text = "\n".join(c.source for c in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "<summary>Solution"):
        assert marker not in text
    assert "grade(" not in text and "grade_check(" not in text
    assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")
    ungraded = [
        c.source.strip()
        for c in release.cells
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")
    ]
    for cell in course.cells:
        if cell.cell_type == "code" and (HAND.search(cell.source) or "..." in cell.source):
            # the exercise cell as the self-paced learner sees it, blank lines aside
            lines = [line for line in cell.source.split("\n") if line.strip()]
            assert any(
                [line for line in released.split("\n") if line.strip()] == lines
                for released in ungraded
            ), cell.source[:80]


def test_a_code_exercise_may_call_only_the_helpers_its_cell_and_solution_use() -> None:
    def calls(number: str) -> list[str]:
        path = next(p for p in NOTEBOOKS if p.name.startswith(number))
        source = assignment_source(nbformat.read(path, as_version=4), number)
        return [c.source for c in source.cells if "grade_check(" in c.source]

    matmul = next(c for c in calls("03") if 'name="matmul_backward"' in c)
    assert "'sum_to_shape'" in matmul  # imported by the exercise cell
    backward = next(c for c in calls("06") if 'name="cross_entropy_backward"' in c)
    assert "'softmax'" in backward  # the Solution calls kernels.softmax
    assert "softmax_cross_entropy" not in backward  # the library's own rule is not allowed
