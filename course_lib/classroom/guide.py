"""The misconceptions section of the instructor's guide, generated from the checkers' catalogues.

Each notebook's misconceptions are the slips its checkers name: a hand exercise's own slips
(:mod:`course_lib.teaching.answers`) and the mistakes a code exercise's cases plant
(:mod:`course_lib.teaching.exercise_bank`, and notebook 11's
:mod:`~course_lib.teaching.capstone_cases` and :mod:`~course_lib.teaching.depth_exercise`),
found through the notebook's ``check(...)``, ``check_exercise(...)``, ``check_stage(...)`` and
``check_deep_backward(...)`` calls. So the guide lists what the course really recognises, and a
slip added to a catalogue shows up in the guide the next time it is written; a test keeps
``docs/instructor-guide.md`` equal to what this module writes.

    python -m course_lib.classroom.guide            print the section
    python -m course_lib.classroom.guide --write    rewrite it in docs/instructor-guide.md
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from course_lib.classroom.assignment import code_checks
from course_lib.classroom.nbgrader_course import course_notebooks
from course_lib.teaching.answers import exercise
from course_lib.teaching.capstone_cases import stage_exercise
from course_lib.teaching.depth_exercise import DEPTHS, depth_exercise
from course_lib.teaching.exercise_bank import EXERCISES
from course_lib.teaching.grading import CHECKERS

__all__ = ["GUIDE", "misconceptions", "notebook_slips", "write"]

GUIDE = Path(__file__).resolve().parent.parent.parent / "docs" / "instructor-guide.md"
BEGIN = "<!-- misconceptions: begin (written by python -m course_lib.classroom.guide --write) -->"
END = "<!-- misconceptions: end -->"
_HAND = re.compile(r"(?<![.\w])check\(\s*\"([\w.]+)\"")


def _sentence(text: str) -> str:
    return " ".join(text.split())  # as the learner reads it (its case too: "a multiplies")


def _readable(path: Any, where: str) -> Path:
    """``path`` as a Path to a file that exists, or an error saying what it is instead."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{where}: give a file's path (text or a Path), got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{where}: {path} is not a file; give the path of one that exists")
    return path


def notebook_slips(path: Path) -> list[tuple[str, list[str]]]:
    """(exercise, the slips its checker names) for each exercise of the notebook at ``path``,
    in the notebook's order."""
    notebook = nbformat.read(_readable(path, "notebook_slips"), as_version=4)
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    found: list[tuple[str, list[str]]] = []
    for key in dict.fromkeys(_HAND.findall(source)):
        task = exercise(key)
        slips = [_sentence(slip.says) for slip in getattr(task, "slips", ())]
        found.append((f"{task.name} ({key})", list(dict.fromkeys(slips))))
    for checker, name, _ in dict.fromkeys(code_checks(source)):
        if checker == "check_stage":
            task = stage_exercise(name)
        elif checker == "check_deep_backward":
            task = depth_exercise(max(DEPTHS))
        elif checker == "check_exercise":
            task = EXERCISES[name]
        else:  # notebook 10's engine checks name their mistakes in code, not in a catalogue
            module = CHECKERS[checker].__module__
            found.append((f"{name} (code)", [f"the mistakes {checker} names in {module}"]))
            continue
        cases = task.make_cases(np.random.default_rng(0))
        slips = [_sentence(says) for case in cases for _, _, says in case.mistakes]
        found.append((f"{name} (code)", list(dict.fromkeys(slips))))
    return found


def misconceptions() -> str:
    """The generated section, as markdown."""
    lines = [
        BEGIN,
        "",
        "Each exercise with the slips its checker recognises and names (the feedback a learner",
        "gets; every exercise also recognises a wrong sign and a factor of 2, and a gradient",
        "one path of a join, the local partial or the upstream alone, where they apply).",
        "",
    ]
    for path in course_notebooks():
        slips = notebook_slips(path)
        if not slips:
            continue
        lines.append(f"### {path.stem[:2]} · {path.stem[3:].replace('_', ' ')}")
        lines.append("")
        for name, says in slips:
            lines.append(f"* **{name}**" + (":" if says else ": the generic slips only."))
            lines += [f"  * {text}" for text in says]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write(guide: Path = GUIDE) -> bool:
    """Rewrite the section in ``guide``; True when it changed."""
    text = _readable(guide, "write").read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{guide} has no misconceptions markers ({BEGIN} ... {END})")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    new = before + misconceptions() + after
    guide.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        print("changed" if write() else "unchanged", GUIDE)
    elif sys.argv[1:]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    else:
        print(misconceptions())
