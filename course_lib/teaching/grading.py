"""Scoring a class's answers: the points one exercise earns, for nbgrader's autograder.

A self-paced learner gets feedback (:func:`~course_lib.teaching.hand_check.check`,
:func:`~course_lib.teaching.code_check.check_exercise`); a class assignment also needs a score.
The graded release of a notebook (:mod:`course_lib.classroom`) puts, after each exercise, a
locked cell whose hidden test calls :func:`grade` (a hand exercise) or :func:`grade_check` (a
code exercise, by the name of its checker). Each returns a :class:`Score`. nbgrader reads a
grade cell's result as its points when the result's plain text is a number, which a Score's
is; the notebook shows the feedback beside it, so nbgrader's feedback report carries the
checker's sentence.

The judging is the checkers' own (the same expected values, precision and catalogue of
slips); grading adds two refusals, for the two shortcuts a class finds first:

* a hand answer read out of the engine (``df_dx = x.grad``, ``dW = Wm.grad[0, 0]``) or
  computed by a function (``central_difference(...)``) earns nothing: the exercise asks for a
  number worked out by hand, so the answer must be numbers, names and arithmetic. The grader
  reads how the answer was written from the kernel's input history (IPython's ``In``);
* a code exercise answered with the library's own rule, imported (``my_rule = matmul_backward``)
  or called from the learner's function, earns nothing. While the checker runs the learner's
  function, a profile hook (``sys.setprofile``) notes every call it makes straight into
  ``course_lib``; only the helpers the exercise cell itself hands over (``allowed``, such as
  ``sum_to_shape``) may be called.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from course_lib.display.accessible import verdict_html
from course_lib.numbers.checking import real_number
from course_lib.teaching.answers import exercise
from course_lib.teaching.code_check import check_exercise
from course_lib.teaching.depth_exercise import check_deep_backward
from course_lib.teaching.engine_check import check_engine, check_ops, check_topological_order
from course_lib.teaching.intermediates import check_stage
from course_lib.teaching.network_check import check_network, check_training_step

__all__ = ["CHECKERS", "Score", "engine_read_out", "grade", "grade_check", "library_calls"]

LIBRARY = str(Path(__file__).resolve().parent.parent)  # the course_lib folder
# Calls a hand answer may make: arithmetic a calculator does.
CALCULATOR = {"abs", "round", "float", "int", "min", "max", "sum", "pow"}
CALCULATOR_MODULES = {"math", "np", "numpy"}


@dataclass(frozen=True)
class Score:
    """The points one exercise earned, of ``max_points``, and why.

    Its plain text (``repr``) is the points alone, a number, which nbgrader's autograder takes
    as the grade cell's score; ``str`` and the HTML view give the feedback.
    """

    exercise: str
    points: float
    max_points: float
    feedback: str

    def __repr__(self) -> str:
        return format(self.points, "g")

    def __str__(self) -> str:
        return f"{self.exercise}: {self.points:g} of {self.max_points:g} points. {self.feedback}"

    def _repr_html_(self) -> str:
        return verdict_html(self.points == self.max_points, str(self))


# ---- hand exercises ---------------------------------------------------------------------------


def _history() -> list[str]:
    """The kernel's input history (the sources of the cells run so far), or [] outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return []
    shell = get_ipython()
    if shell is None:
        return []
    history = shell.user_ns.get("In", [])
    return [text for text in history if isinstance(text, str)]


def _assigned_value(source: str, name: str) -> ast.expr | None:
    """The expression last assigned to ``name`` in ``source`` (``name = ...`` or ``name, b =
    ..., ...``), or None when the source does not assign it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = None
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name:
                found = value
            elif isinstance(target, ast.Tuple | ast.List):
                for position, item in enumerate(target.elts):
                    if isinstance(item, ast.Name) and item.id == name:
                        same_length = isinstance(value, ast.Tuple | ast.List) and len(
                            value.elts
                        ) == len(target.elts)
                        found = value.elts[position] if same_length else value
    return found


def _not_by_hand(value: ast.expr) -> str:
    """The part of ``value`` a calculator could not have typed, as source text, or ''."""
    for node in ast.walk(value):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in CALCULATOR:
                continue
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in CALCULATOR_MODULES
            ):
                continue
            return ast.unparse(node)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in CALCULATOR_MODULES:
                continue  # math.pi, np.e, and the function of an allowed call
            return ast.unparse(node)
        if isinstance(node, ast.Subscript):
            index = node.slice
            numbers = index.elts if isinstance(index, ast.Tuple) else [index]
            if not all(isinstance(i, ast.Constant) and isinstance(i.value, int) for i in numbers):
                return ast.unparse(node)
        if isinstance(node, ast.Lambda | ast.ListComp | ast.GeneratorExp | ast.NamedExpr):
            return ast.unparse(node)
    return ""


def engine_read_out(name: str, history: Iterable[str] | None = None) -> str:
    """How the latest cell that assigns ``name`` computed it, when that is not by hand.

    '' when the answer is numbers, names of numbers, numeric indices and arithmetic (with
    ``abs``, ``round``, ``math.*`` and ``np.*`` allowed), or when no cell in ``history`` (by
    default the kernel's input history) assigns ``name``. Otherwise the offending part, such as
    ``x.grad`` or ``central_difference(f, 1.0)``.
    """
    if history is not None and (isinstance(history, str) or not isinstance(history, Iterable)):
        raise TypeError(
            "engine_read_out: history must be a list of cell sources (text), got "
            f"{type(history).__name__}"
        )
    sources = list(_history() if history is None else history)
    for source in reversed(sources):
        value = _assigned_value(source, name)
        if value is not None:
            return _not_by_hand(value)
    return ""


def _points(points: Any, where: str) -> float:
    """The points an exercise is worth: a positive, finite number."""
    value = real_number(points, "points", where)
    if value <= 0:
        raise ValueError(
            f"{where}: points must be a positive number such as 1 or 2, got {points!r}"
        )
    return value


def grade(key: str, answer: Any, *, name: str | None = None, points: float = 1.0) -> Score:
    """The score of ``answer`` to the hand exercise ``key``: ``points`` when right, else 0.

    ``name`` is the variable the learner assigned their answer to; when given, an answer read
    out of the engine or computed by a function earns 0 (see :func:`engine_read_out`). The
    feedback is the checker's, without the rule (a grade is not a second attempt).
    """
    points = _points(points, "grade")
    result = exercise(key).judge(answer)
    if result.correct and name is not None:
        shortcut = engine_read_out(name)
        if shortcut:
            return Score(
                key,
                0.0,
                points,
                f"{name} is computed as {shortcut}, not worked out by hand: this exercise asks "
                "for a number you trace yourself, so type it (or the arithmetic that gives it).",
            )
    return Score(key, points if result.correct else 0.0, points, result.message)


# ---- code exercises ---------------------------------------------------------------------------


def _in_library(filename: str) -> bool:
    return filename.startswith(LIBRARY)


@contextmanager
def library_calls(allowed: Iterable[str] = ()) -> Iterator[list[str]]:
    """Note every call made from code outside ``course_lib`` straight into a ``course_lib``
    function whose name is not in ``allowed``; yields the list of their names.

    Calls the library makes itself (the checker, the engine computing what to expect, a helper
    calling its own helpers) are not noted: only a call whose caller lives outside the library,
    which while a checker runs is the learner's function.
    """
    if isinstance(allowed, str) or not isinstance(allowed, Iterable):
        raise TypeError(
            "allowed must be a list of the library functions a solution may call, such as "
            f"['softmax'], got {type(allowed).__name__} {allowed!r}"
        )
    allowed = set(allowed)
    seen: list[str] = []
    previous = sys.getprofile()

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        caller = frame.f_back
        if caller is None or not _in_library(code.co_filename) or code.co_name in allowed:
            return
        origin = caller.f_code.co_filename
        generated = origin.startswith("<") and not origin.startswith("<ipython-input")
        if (
            not _in_library(origin)
            and not generated  # code Python writes: a dataclass's __init__, frozen importlib
            and not origin.startswith((sys.prefix, sys.base_prefix))
            and code.co_name != "<module>"  # an import the learner's code makes
        ):
            seen.append(code.co_qualname)

    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


CHECKERS: dict[str, Callable[..., Any]] = {
    "check_exercise": check_exercise,
    "check_stage": check_stage,
    "check_deep_backward": check_deep_backward,
    "check_ops": check_ops,
    "check_topological_order": check_topological_order,
    "check_engine": check_engine,
    "check_network": check_network,
    "check_training_step": check_training_step,
}
"""The checkers of the code exercises, by name: ``check_exercise("name", fn)`` (notebooks
02-09), ``check_stage("stage", fn)`` and ``check_deep_backward(fn)`` (notebook 11), and notebook
10's checks of the learner's engine (its class, its sort, its network classes, its step)."""


def _library_own(subject: Any) -> str:
    """The library's own name for ``subject`` when it is a course_lib function or class (a
    learner who hands the library's rule in as theirs), else ''."""
    code = getattr(subject, "__code__", None)
    if code is not None and _in_library(code.co_filename):
        return code.co_qualname
    if isinstance(subject, type) and subject.__module__.startswith("course_lib."):
        return subject.__qualname__
    return ""


def grade_check(
    checker: str,
    *subjects: Any,
    name: str | None = None,
    allowed: Iterable[str] = (),
    points: float = 2.0,
) -> Score:
    """The score of the learner's ``subjects`` (functions or classes) as the code exercise's
    ``checker`` (a name in :data:`CHECKERS`) judges them: ``points`` when it says right, else 0;
    0 too when a subject is the library's own function or class, or calls into the library
    other than the helpers in ``allowed`` (the library's rule is not an answer). ``name`` is
    the exercise's name for the checkers that take one (``check_exercise``, ``check_stage``)."""
    if checker not in CHECKERS:
        raise ValueError(f"grade_check: no checker {checker!r}; there are {sorted(CHECKERS)}")
    points = _points(points, f"grade_check {checker}")
    exercise_name = name or checker.removeprefix("check_")
    for subject in subjects:
        own = _library_own(subject)
        if own:
            return Score(
                exercise_name,
                0.0,
                points,
                f"{getattr(subject, '__name__', 'this')} is the library's own {own}, not "
                "something you wrote: write it yourself.",
            )
    arguments = ((name,) if name is not None else ()) + subjects
    with library_calls(allowed) as calls:
        report = CHECKERS[checker](*arguments)
    if report.ok and calls:
        used = ", ".join(sorted(set(calls)))
        written = getattr(report, "function", "") or getattr(subjects[0], "__name__", "it")
        return Score(
            exercise_name,
            0.0,
            points,
            f"{written} calls the library's {used}: this exercise asks you to write that yourself.",
        )
    feedback = f"{report.verdict.upper()}. {report.message}"
    return Score(exercise_name, points if report.ok else 0.0, points, feedback)
