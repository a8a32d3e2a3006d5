"""docs/instructor-guide.md: its table counts what the notebooks check, and its
misconceptions section is what course_lib.classroom.guide writes from the checkers."""

from __future__ import annotations

import re

import nbformat

from course_lib.classroom.assignment import code_checks
from course_lib.classroom.guide import GUIDE, misconceptions
from course_lib.classroom.nbgrader_course import course_notebooks

HAND = re.compile(r"(?<![.\w])check\(\s*\"([\w.]+)\"")


def test_the_misconceptions_section_is_up_to_date() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert misconceptions() in text, "run: python -m course_lib.classroom.guide --write"


def test_the_table_lists_every_notebook_with_its_exercise_counts() -> None:
    rows = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"\d\d", cells[0]):
            rows[cells[0]] = (int(cells[3]), int(cells[4]))
    for path in course_notebooks():
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        counts = (len(set(HAND.findall(code))), len({name for _, name, _ in code_checks(code)}))
        assert rows.get(path.name[:2]) == counts, path.name


def test_the_misconceptions_come_from_the_catalogues() -> None:
    section = misconceptions()
    assert "### 03 · tensors and broadcasting" in section
    assert "**matmul_backward (code)**" in section
    assert section.count("\n  * ") > 50
