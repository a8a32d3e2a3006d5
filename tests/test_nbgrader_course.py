"""course_lib.classroom.nbgrader_course: the course released to a class and graded, end to end.

One class of three students goes through nbgrader (its generate_assignment, autograde and
generate_feedback, through its API): ``empty`` hands in the release untouched, ``correct``
hands in the instructor's solutions, ``mixed`` answers notebook 03 with typical mistakes and
the two shortcuts (an answer read out of the engine, the library's own rule).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib.classroom.nbgrader_course import (
    ClassroomError,
    course_notebooks,
    grade,
    release,
    write_course,
)

pytest.importorskip("nbgrader")
# nbgrader's gradebook session makes SQLAlchemy note objects it adds late; nothing is lost.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type .* not in session")

NOTEBOOKS = course_notebooks()
MIXED = "03_tensors_and_broadcasting.ipynb"
# The solutions handed in for these (hand and code exercises, a helper the exercise hands over,
# a library function the solution calls, a dict of seven gradients, the capstone's stages and
# its any-depth loop); every notebook's
# solution regions are checked without a kernel in tests/test_assignment.py.
SOLVED = ("00", "03", "06", "07", "11")
# Notebooks without a check: released and run, nothing to score.
UNGRADED = ("12",)


def _mixed(released: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        cell.source = (
            cell.source.replace("dL_db0 = ...", "dL_db0 = 2 + 5")  # right, by hand
            .replace("dL_dx0 = ...", "Lz.backward()\ndL_dx0 = x.grad[0, 0]")  # read out
            .replace("axes_a = ...", "axes_a = (0, 1)")  # a slip
        )
        if "def my_matmul_backward" in cell.source:  # the library's own rule
            cell.source += "\nfrom course_lib.tensor import matmul_backward as my_matmul_backward"
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("class")
    released = release(root / "release")
    course = root / "instructor"
    write_course(course)
    submissions = root / "submissions"
    for student in ("empty", "correct", "mixed"):
        (submissions / student).mkdir(parents=True)
    for path in released:
        shutil.copyfile(path, submissions / "empty" / path.name)
        if path.name[:2] in SOLVED:
            source = course / "source" / path.stem / path.name
            shutil.copyfile(source, submissions / "correct" / path.name)
    nbformat.write(_mixed(root / "release" / MIXED), submissions / "mixed" / MIXED)
    problems: list = []
    rows = grade(submissions, root / "grades.csv", feedback=root / "feedback", problems=problems)
    return root, released, rows, problems


def test_the_release_has_every_notebook_and_is_not_written_over(graded) -> None:
    root, released, _, _ = graded
    assert [p.name for p in released] == [p.name for p in NOTEBOOKS]
    with pytest.raises(ClassroomError, match="already exists: release into an empty folder"):
        release(root / "release", NOTEBOOKS[:1])


def test_the_release_runs_top_to_bottom_and_scores_nothing(graded) -> None:
    _, _, rows, problems = graded
    empty = [r for r in rows if r.student == "empty"]
    graded_notebooks = {p.stem for p in NOTEBOOKS if p.name[:2] not in UNGRADED}
    assert {r.notebook for r in empty} == graded_notebooks
    assert all(r.points == 0 for r in empty)
    assert [p for p in problems if p.student in ("empty", "correct")] == []


def test_the_solutions_score_full_marks(graded) -> None:
    _, _, rows, _ = graded
    correct = [r for r in rows if r.student == "correct"]
    assert {r.notebook[:2] for r in correct} == set(SOLVED)
    assert len(correct) > 15
    assert [r for r in correct if r.points != r.max_points] == []


def test_mistakes_and_shortcuts_earn_partial_marks_with_the_checkers_feedback(graded) -> None:
    root, _, rows, _ = graded
    mixed = {r.exercise: r.points for r in rows if r.student == "mixed"}
    assert mixed["broadcasting.dL_db0"] == 1
    assert mixed["broadcasting.dL_dx0"] == 0  # read out of the engine
    assert mixed["broadcasting.axes_a"] == 0
    assert mixed["matmul_backward"] == 0  # the library's own rule
    assert 0 < sum(mixed.values()) < sum(r.max_points for r in rows if r.student == "mixed")
    page = (root / "feedback" / "mixed" / f"{Path(MIXED).stem}.html").read_text()
    assert "dL_dx0 is computed as x.grad, not worked out by hand" in page
    assert "is the library&#x27;s own matmul_backward" in page or "library's own" in page


def test_the_csv_has_one_row_per_exercise_and_student(graded) -> None:
    root, _, rows, _ = graded
    with (root / "grades.csv").open() as file:
        table = list(csv.reader(file))
    assert table[0] == ["student", "notebook", "exercise", "points", "max_points"]
    assert len(table) == len(rows) + 1
    assert ["mixed", Path(MIXED).stem, "broadcasting.dL_db0", "1.0", "1.0"] in table


def test_bad_submission_folders_are_named(tmp_path: Path) -> None:
    with pytest.raises(ClassroomError, match="is not a folder; grade expects"):
        grade(tmp_path / "missing", tmp_path / "g.csv")
    (tmp_path / "ann").mkdir()
    with pytest.raises(ClassroomError, match="no notebooks in"):
        grade(tmp_path, tmp_path / "g.csv")
    (tmp_path / "ann" / "homework.ipynb").write_text("{}")
    with pytest.raises(ClassroomError, match="no course notebook is named homework.ipynb"):
        grade(tmp_path, tmp_path / "g.csv")
