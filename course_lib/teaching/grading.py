"""Scoring a class's answers: the points one exercise earns, for nbgrader's autograder.

A self-paced learner gets feedback (:func:`~course_lib.teaching.hand_check.check`,
:func:`~course_lib.teaching.code_check.check_exercise`); a class assignment also needs a score.
The graded release of a notebook (:mod:`course_lib.classroom`) puts, after each exercise, a
locked cell whose hidden test calls :func:`grade` (a hand exercise), :func:`grade_exercise`
(a code exercise), :func:`grade_stage` or :func:`grade_deep_backward` (notebook 11's). Each
returns a :class:`Score`. nbgrader reads a grade cell's result as its points when the result's
plain text is a number, which a Score's is; the notebook shows the feedback beside it, so
nbgrader's feedback report carries the checker's sentence.

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
from course_lib.teaching.intermediates import check_stage

__all__ = [
    "Score",
    "engine_read_out",
    "grade",
    "grade_deep_backward",
    "grade_exercise",
    "grade_stage",
    "library_calls",
]

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
        if (
            not _in_library(origin)
            and not origin.startswith(("<frozen", sys.prefix, sys.base_prefix))
            and code.co_name != "<module>"  # an import the learner's code makes
        ):
            seen.append(code.co_qualname)

    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


def _score_function(
    name: str,
    fn: Callable[..., Any],
    check: Callable[[Callable[..., Any]], Any],
    allowed: Iterable[str],
    points: float,
) -> Score:
    """The score of ``fn`` as ``check`` (a checker returning a report with ``ok``,
    ``verdict`` and ``message``) judges it, with the library's own functions refused."""
    points = _points(points, f"grading {name}")
    code = getattr(fn, "__code__", None)
    if code is not None and _in_library(code.co_filename):
        return Score(
            name,
            0.0,
            points,
            f"{getattr(fn, '__name__', 'this function')} is the library's own "
            f"{code.co_qualname}, not a function you wrote: write the rule yourself.",
        )
    with library_calls(allowed) as calls:
        report = check(fn)
    if report.ok and calls:
        used = ", ".join(sorted(set(calls)))
        written = getattr(report, "function", "") or getattr(fn, "__name__", name)
        return Score(
            name,
            0.0,
            points,
            f"{written} calls the library's {used}: this exercise asks you to write that rule "
            "yourself, with numpy.",
        )
    feedback = f"{report.verdict.upper()}. {report.message}"
    return Score(name, points if report.ok else 0.0, points, feedback)


def grade_exercise(
    name: str,
    fn: Callable[..., Any],
    *,
    allowed: Iterable[str] = (),
    points: float = 2.0,
) -> Score:
    """The score of the learner's ``fn`` for the code exercise ``name``: ``points`` when the
    checker says right, else 0; 0 too when ``fn`` is, or calls, a ``course_lib`` function
    other than the helpers in ``allowed`` (the library's own rule is not an answer)."""
    return _score_function(name, fn, lambda f: check_exercise(name, f), allowed, points)


def grade_stage(
    stage: str,
    fn: Callable[..., Any],
    *,
    allowed: Iterable[str] = (),
    points: float = 2.0,
) -> Score:
    """The score of a stage of notebook 11's capstone (every intermediate right: ``points``),
    as :func:`grade_exercise` scores a code exercise."""
    return _score_function(stage, fn, lambda f: check_stage(stage, f), allowed, points)


def grade_deep_backward(
    fn: Callable[..., Any],
    *,
    allowed: Iterable[str] = (),
    points: float = 2.0,
) -> Score:
    """The score of notebook 11's backward for a stack of any depth (right at depths 1, 2 and
    5 with each activation: ``points``), as :func:`grade_exercise` scores a code exercise."""
    return _score_function("deep_backward", fn, check_deep_backward, allowed, points)
