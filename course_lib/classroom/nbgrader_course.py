"""Release and grade the course with nbgrader, in a course folder of nbgrader's layout.

``python3 run.py release DIR`` and ``python3 run.py grade SUBMISSIONS --out grades.csv`` call
:func:`release` and :func:`grade`. Both are thin: they write nbgrader's source notebooks (one
assignment per course notebook, made by
:func:`~course_lib.classroom.assignment.assignment_source`) into a course folder, then run
nbgrader's own steps there through its Python API (``generate_assignment``, ``autograde``,
``generate_feedback``) and read its gradebook. On a JupyterHub with nbgrader,
:func:`write_course` makes the course folder (with its ``nbgrader_config.py``) and nbgrader's
commands do the rest.

nbgrader is an optional dependency (the ``grade`` extra); ``run.py`` installs it on first use.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from course_lib.classroom.assignment import (
    NBGRADER_SETTINGS,
    assignment_source,
    exercise_of,
    graded_cells,
)

__all__ = [
    "ClassroomError",
    "GradeRow",
    "Problem",
    "course_notebooks",
    "grade",
    "release",
    "write_course",
]

NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"


class ClassroomError(Exception):
    """A problem with what an instructor asked for: a sentence, no traceback."""


@dataclass(frozen=True)
class Problem:
    """A cell of a submission that raised when the autograder ran it (not a grade cell)."""

    student: str
    notebook: str
    cell: int
    error: str

    def __str__(self) -> str:
        return f"{self.student}/{self.notebook}: cell {self.cell} raised {self.error}"


@dataclass(frozen=True)
class GradeRow:
    """One line of the grades CSV."""

    student: str
    notebook: str
    exercise: str
    points: float
    max_points: float


def _path(value: Any, name: str) -> Path:
    """A folder or file argument as a Path (text or a Path), or a TypeError naming it."""
    if isinstance(value, str) and value.strip() or isinstance(value, os.PathLike):
        return Path(value)
    raise TypeError(f"{name} must be a folder's or a file's path (text or a Path), got {value!r}")


def _make_folder(folder: Path, what: str) -> None:
    """Make ``folder`` (and its parents) now, before any long work, or say why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ClassroomError(
            f"cannot make {what} {folder}: {error.strerror or error}; give a folder that can be "
            "created and written to"
        ) from None


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks, in order."""
    folder = _path(folder, "folder")
    if not folder.is_dir():
        raise ClassroomError(f"{folder} is not a folder; give the course's notebooks folder")
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise ClassroomError(
            f"no course notebooks (NN_name.ipynb) in {folder}; give the course's notebooks folder"
        )
    return found


def _config_text(course: Path) -> str:
    lines = [
        "# nbgrader's settings for the Tiny Graphs First course folder (course_lib.classroom).",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(course)!r}",
    ]
    for section, values in NBGRADER_SETTINGS.items():
        lines += [f"c.{section}.{name} = {value!r}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def write_course(course: Path, notebooks: list[Path] | None = None) -> list[str]:
    """Write an nbgrader course folder: nbgrader_config.py and ``source/<name>/<name>.ipynb``
    for each notebook (one assignment each, named after it). Returns the assignment names."""
    course = _path(course, "course")
    notebooks = course_notebooks() if notebooks is None else notebooks
    _make_folder(course, "the course folder")
    (course / "nbgrader_config.py").write_text(_config_text(course), encoding="utf-8")
    names = []
    for path in notebooks:
        source = assignment_source(nbformat.read(path, as_version=4), path.name[:2])
        folder = course / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, folder / path.name)
        names.append(path.stem)
    return names


@contextlib.contextmanager
def _nbgrader_api(course: Path) -> Iterator[Any]:
    """nbgrader's API on ``course``. nbgrader runs its database tool (alembic) by name and the
    kernels it starts must import this course_lib: this Python's scripts go first on PATH and
    the project folder on PYTHONPATH while it runs."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    for section, values in NBGRADER_SETTINGS.items():
        for name, value in values.items():
            setattr(getattr(config, section), name, value)
    saved = {key: os.environ.get(key) for key in ("PATH", "PYTHONPATH")}
    scripts, project = str(Path(sys.executable).parent), str(NOTEBOOKS.parent)
    os.environ["PATH"] = os.pathsep.join(p for p in (scripts, saved["PATH"]) if p)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (project, saved["PYTHONPATH"]) if p)
    try:
        yield NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _succeeded(step: str, result: dict) -> None:
    if not result.get("success"):
        detail = (result.get("error") or result.get("log") or "no message").strip()
        raise ClassroomError(f"nbgrader {step} failed:\n{detail[-3000:]}")


def release(out: Path, notebooks: list[Path] | None = None) -> list[Path]:
    """Write the students' notebooks into ``out``: no solution, no hidden test, no output.

    The instructor's course folder (with the solutions) is made in a temporary folder and
    removed; only the release is copied out. Refuses to overwrite a notebook already in
    ``out``, since it may be a student's work.
    """
    out = _path(out, "out")
    notebooks = course_notebooks() if notebooks is None else notebooks
    clashes = [out / p.name for p in notebooks if (out / p.name).exists()]
    if clashes:
        raise ClassroomError(
            f"{clashes[0]} already exists: release into an empty folder (a notebook there may "
            "be someone's work, and this would overwrite it)"
        )
    _make_folder(out, "the release folder")  # now: nbgrader's work takes a while
    written = []
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder) / "course"
        names = write_course(course, notebooks)
        with _nbgrader_api(course) as api:
            for name in names:
                _succeeded(f"generate_assignment {name}", api.generate_assignment(name))
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            released = course / "release" / name / f"{name}.ipynb"
            shutil.copyfile(released, out / released.name)
            written.append(out / released.name)
    return written


def _submissions(submissions: Path, known: set[str]) -> dict[str, list[Path]]:
    """The submitted notebooks by notebook name: ``submissions/<student>/<notebook>.ipynb``."""
    if not submissions.is_dir():
        raise ClassroomError(
            f"{submissions} is not a folder; grade expects SUBMISSIONS/<student>/<notebook>.ipynb"
        )
    handed_in: dict[str, list[Path]] = {}
    for student in sorted(p for p in submissions.iterdir() if p.is_dir()):
        for path in sorted(student.glob("*.ipynb")):
            if path.name not in known:
                raise ClassroomError(
                    f"{path}: no course notebook is named {path.name}; submissions keep the "
                    "released notebooks' names"
                )
            handed_in.setdefault(path.name, []).append(path)
    if not handed_in:
        raise ClassroomError(
            f"no notebooks in {submissions}/<student>/: grade expects "
            "SUBMISSIONS/<student>/<notebook>.ipynb"
        )
    return handed_in


def grade(
    submissions: Path,
    out: Path,
    notebooks: list[Path] | None = None,
    feedback: Path | None = None,
    problems: list[Problem] | None = None,
) -> list[GradeRow]:
    """Grade ``submissions/<student>/<notebook>.ipynb`` with nbgrader's autograder into the
    CSV ``out`` (columns student, notebook, exercise, points, max_points; in the notebooks'
    order); nbgrader's feedback pages go to ``feedback/<student>/<notebook>.html`` when
    ``feedback`` is given. Each submission runs top to bottom in a fresh kernel, with the
    hidden tests put back in place of whatever a student left in a grade cell. The cells
    outside grade cells that raised while it ran are appended to ``problems`` (a student's
    notebook that stops early scores what it reached)."""
    submissions, out = _path(submissions, "submissions"), _path(out, "out")
    feedback = None if feedback is None else _path(feedback, "feedback")
    notebooks = course_notebooks() if notebooks is None else notebooks
    by_name = {p.name: p for p in notebooks}
    handed_in = _submissions(submissions, set(by_name))
    if out.is_dir():
        raise ClassroomError(f"{out} is a folder; give the CSV file to write, such as grades.csv")
    _make_folder(out.parent, "the CSV's folder")  # now: grading takes a while
    if feedback is not None:
        _make_folder(feedback, "the feedback folder")
    rows: list[GradeRow] = []
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder) / "course"
        names = write_course(course, [p for p in notebooks if p.name in handed_in])
        with _nbgrader_api(course) as api:
            for name in names:
                _succeeded(f"generate_assignment {name}", api.generate_assignment(name))
                for path in handed_in[f"{name}.ipynb"]:
                    target = course / "submitted" / path.parent.name / name
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target / path.name)
                    student = path.parent.name
                    _succeeded(f"autograde {name} for {student}", api.autograde(name, student))
                    if feedback is not None:
                        result = api.generate_feedback(name, student)
                        _succeeded(f"generate_feedback {name} for {student}", result)
        rows = _read_gradebook(course, names)
        if problems is not None:
            problems += _raised(course, names)
        if feedback is not None:
            for page in (course / "feedback").glob("*/*/*.html"):
                student, name = page.parent.parent.name, page.stem
                (feedback / student).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(page, feedback / student / f"{name}.html")
    try:
        with out.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["student", "notebook", "exercise", "points", "max_points"])
            for row in rows:
                writer.writerow(
                    [row.student, row.notebook, row.exercise, row.points, row.max_points]
                )
    except OSError as error:
        raise ClassroomError(f"cannot write {out}: {error.strerror or error}") from None
    return rows


def _raised(course: Path, names: list[str]) -> list[Problem]:
    found = []
    for name in names:
        for path in sorted((course / "autograded").glob(f"*/{name}/{name}.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            for number, cell in enumerate(notebook.cells):
                if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
                    continue
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        error = f"{output.get('ename')}: {output.get('evalue')}"
                        found.append(Problem(path.parent.parent.name, name, number, error))
    return found


def _read_gradebook(course: Path, names: list[str]) -> list[GradeRow]:
    from nbgrader.api import Gradebook

    with warnings.catch_warnings():  # SQLAlchemy's notes on nbgrader's session handling
        warnings.simplefilter("ignore")
        return _rows(Gradebook, course, names)


def _rows(Gradebook: Any, course: Path, names: list[str]) -> list[GradeRow]:  # noqa: N803
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name in names:
            source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
            order = [cell.grade_id for cell in graded_cells(source)]
            assignment = gradebook.find_assignment(name)
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in submission.notebooks:
                    grades = {g.name: g for g in notebook.grades}
                    for grade_id in order:
                        found = grades[grade_id]
                        rows.append(
                            GradeRow(
                                submission.student.id,
                                notebook.name,
                                exercise_of(grade_id),
                                float(found.score or 0.0),
                                float(found.max_score),
                            )
                        )
    return rows
