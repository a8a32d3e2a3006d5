"""The checker for code exercises: run a learner's backward code against the engine, say which
mistake it made.

A code exercise asks for a function: a local backward rule, a vector-Jacobian product, or a
whole network's backward pass. :func:`check_exercise` runs it on several random cases in
float64 (broadcast shapes, a batch of 1 and a batch of N), runs the engine (``Tensor`` or
``Value`` and ``backward()``) on the same inputs, and compares output by output, the way Andrej
Karpathy's "backprop ninja" compares each line with autograd:

* **exact**: the same numbers, bit for bit;
* **close**: within float64 rounding (the largest difference is reported);
* **wrong**: anything else, and then the checker looks for the usual mistake: a transposed
  matrix, a missing sum over a broadcast axis, a missing (or extra) 1/N, a wrong sign, a
  forgotten multiply by the upstream gradient, overwriting instead of summing at a join, the
  op's input used where its output belongs, an answer off by float32 rounding only (a step
  computed in float32, even if it comes back in float64), and the mistakes particular to each
  exercise.

A case that cannot tell some mistakes apart (a batch of one row, where ``P − Y`` and
``(P − Y) / N`` agree) is marked not *decisive*: a failure there is reported only when no
decisive case fails, so a mistake is named where it shows as itself.

The checker never raises because of the learner's code. An exception comes back as a sentence
naming the line that raised (and, for a broadcast error whose shapes differ by one dropped axis,
a word about ``keepdims``); a wrong shape or type, NaN or ``None`` gets a sentence saying what
came back and what was expected; a function still holding its placeholder (a body of ``...``,
``return ...`` or ``raise NotImplementedError``) reads "not written yet", so Run All completes.
A call that runs longer than a few seconds is stopped (where the platform allows a timer).

What is checked is usually a function; it may also be a class, or a tuple of classes and
functions (the learner's engine with the functions its backward calls; a neuron, a layer and an
MLP), which a case's ``run`` builds and drives.
Such a ``run`` judges the code as it goes and may raise :class:`NamedMistake` with the sentence
that names what it found; the report then says "wrong" with that sentence.

Feedback comes in tiers, as for the hand exercises (:mod:`course_lib.teaching.hand_check`): a
first wrong attempt at an exercise names the mistake and where to look, never the correct line;
each later wrong attempt at it (in the same kernel) also shows the rule, in symbols. An exercise
with several outputs and a rule for each (the network's backward) shows only the rules of the
outputs that were wrong in an earlier, different attempt too. The count lives in this
module (:func:`wrong_attempts`, :func:`forget_attempts`); the same function checked again (the
same code) is not a new attempt, and neither is one that gave nothing back (no ``return``) or
stopped at a name Python cannot find (a NameError: a typo, a missing import; or an attribute
spelt close to one the object has), or returned text where the numbers belong: there is no maths
in it to answer yet, so it cannot bring the rule closer.

The exercises themselves (their cases and their catalogues of mistakes) are in
:mod:`course_lib.teaching.exercise_bank`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import difflib
import html
import inspect
import linecache
import math
import os
import re
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib.numbers.checking import whole_number

__all__ = [
    "Case",
    "Comparison",
    "Exercise",
    "ExerciseReport",
    "NamedMistake",
    "NothingReturned",
    "with_article",
    "is_placeholder",
    "placeholder_words",
    "run_exercise",
    "built_from",
    "forget_attempts",
    "sources_of",
    "wrong_attempts",
]

TIME_LIMIT_S = 5.0
# "close": the differences float64 rounding makes between two correct orders of summation.
CLOSE_RTOL, CLOSE_ATOL = 1e-7, 1e-10
# A learner's wrong answer "matches" a known mistake when it is this close to it.
MATCH_RTOL, MATCH_ATOL = 1e-5, 1e-8


@dataclass(frozen=True)
class Case:
    """One run: the inputs (passed positionally, in order) and the engine's outputs.

    ``mistakes`` holds, for known mistakes, what they produce: (what it gives, output name,
    the sentence to show). ``broadcast`` maps an output to the shape its contribution has
    before broadcasting is undone (to diagnose a missing sum); ``batch`` is N for a mean over
    N rows (to diagnose a missing 1/N).
    """

    description: str
    inputs: dict[str, Any]
    expected: dict[str, np.ndarray]
    mistakes: Sequence[tuple[np.ndarray, str, str]] = ()
    broadcast: dict[str, tuple[int, ...]] = field(default_factory=dict)
    batch: int | None = None
    upstream: str | None = None  # the input holding the upstream gradient, if any
    # How to run the learner's function, when not simply fn(*inputs): e.g. plugged into a
    # graph as an op's rule, returning the graph's gradients.
    run: Callable[[Callable[..., Any]], Any] | None = None
    # False for a case where several mistakes give the same numbers (a batch of one row): a
    # failure there is reported only if no decisive case fails.
    decisive: bool = True
    # Known mistakes that raise: (does this exception show it?, the sentence to add).
    errors: Sequence[tuple[Callable[[BaseException], bool], str]] = ()
    # The sentence for NaN or infinite entries in this case (e.g. an exp that overflows).
    overflow: str = ""


@dataclass(frozen=True)
class Exercise:
    """A function to write: its name and signature, its outputs, and how to make cases.

    ``rule`` is the rule in symbols (never the code), shown from the second wrong attempt on;
    ``output_rules`` (for several outputs) gives each output its own, shown instead when that
    output is wrong in a second attempt too, so a second attempt never prints every output's
    formula at once.
    ``returns`` says how several outputs come back: "tuple" (in the order of ``outputs``) or
    "dict" (keyed by their names); ``arrays`` requires each output to be a numpy array (a
    notebook computes with them after the check).
    """

    name: str
    signature: str
    outputs: tuple[str, ...]
    make_cases: Callable[[np.random.Generator], list[Case]]
    # output -> the output it builds on (or a tuple of those it builds on)
    depends: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    check_memory: Callable[[Callable[..., Any]], str] | None = None
    rule: str = ""
    returns: str = "tuple"
    arrays: bool = False
    # For an exercise with several outputs: each output's own rule, shown (instead of ``rule``)
    # when the same output is wrong again in a later attempt.
    output_rules: dict[str, str] = field(default_factory=dict)
    # The diagnosis that recognises the code as the notebook hands it out (a find-the-bug
    # exercise's planted bug): the first check of it is not an attempt of the learner's.
    handed_out: str = ""


@dataclass(frozen=True)
class Comparison:
    """One output of the learner's function against the engine's, in one case."""

    output: str
    status: str  # "exact", "close", "wrong" or "missing"
    max_difference: float
    diagnosis: str = ""
    numbers: bool = True  # False when what came back is not an array to compare (None, a list)
    # True when the diagnosis names no slip (the numbers differ, or differ as float32 rounding
    # would): for an output built from a wrong one, that one is then the thing to fix
    vague: bool = False


@dataclass(frozen=True)
class ExerciseReport:
    """What :func:`check_exercise` found: a verdict, a message, and one row per output."""

    exercise: str
    verdict: str  # "right", "not written yet", "error" or "wrong"
    message: str
    rows: tuple[Comparison, ...] = ()
    case: str = ""
    rule: str = ""  # shown from the second wrong attempt on
    function: str = ""  # the name of the learner's function that was checked
    # False when the function gave nothing back (None, and no in-place call that explains it)
    # or stopped at a misspelt name (a NameError, or an attribute close to a real one), or
    # gave text where numbers belong: no maths to judge yet, so it does not count toward the rule
    answered: bool = True

    @property
    def ok(self) -> bool:
        return self.verdict == "right"

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{self.exercise}: {self.verdict.upper()}. {self.message}"]
        if self.case:
            lines.append(f"case: {self.case}")
        if self.rows:
            width = max(8, *(len(r.output) for r in self.rows)) + 2
            lines.append(f"{'output':<{width}}{'status':<9}{'max |difference|':>18}")
            for row in self.rows:
                diff = "" if math.isnan(row.max_difference) else f"{row.max_difference:.1e}"
                lines.append(f"{row.output:<{width}}{row.status:<9}{diff:>18}")
                if row.diagnosis:
                    lines.append(textwrap.indent(textwrap.fill(row.diagnosis, 88), "    "))
        if self.rule:
            lines.append(textwrap.fill(f"The rule: {self.rule}", 92))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        mark = {"right": "✔", "not written yet": "…"}.get(self.verdict, "✘")
        colour = {"right": "#1a7f37", "not written yet": "#444444"}.get(self.verdict, "#a04000")
        parts = [
            f'<div><span style="color:{colour}"><b>{mark} {html.escape(self.exercise)}: '
            f"{html.escape(self.verdict)}</b></span> {html.escape(self.message)}</div>"
        ]
        if self.case:
            parts.append(f"<div>case: {html.escape(self.case)}</div>")
        if self.rows:
            cells = "".join(
                f"<tr><td><code>{html.escape(r.output)}</code></td><td>{html.escape(r.status)}"
                f"</td><td>{'' if math.isnan(r.max_difference) else f'{r.max_difference:.1e}'}"
                f"</td><td>{html.escape(r.diagnosis)}</td></tr>"
                for r in self.rows
            )
            parts.append(
                "<table><thead><tr><th>output</th><th>status</th><th>max |difference|</th>"
                f"<th>what to look at</th></tr></thead><tbody>{cells}</tbody></table>"
            )
        if self.rule:
            parts.append(f"<div><b>The rule:</b> {html.escape(self.rule)}</div>")
        return "".join(parts)


# ---- running the learner's code -------------------------------------------------------------


class NamedMistake(Exception):
    """Raised by a case's ``run`` when it recognises a mistake in what the learner's code did;
    its text is the sentence the learner reads (the mistake and where to look, never the
    correct line). The checker reports it as "wrong", like a mismatch it named itself."""


class NothingReturned(NamedMistake):
    """A :class:`NamedMistake` for code that gave nothing back where a result was due (None:
    a forgotten ``return``). Reported as "wrong" with its sentence, but not counted as an
    attempt: there is no maths in it to judge yet, so it cannot bring the rule closer."""


def _who(fn: Any) -> str:
    """How a message names the learner's code: "your function", "your class", "your code"
    (several classes or functions)."""
    if isinstance(fn, tuple):
        return "your code"
    return "your class" if inspect.isclass(fn) else "your function"


def _codes(fn: Any) -> list[Any]:
    """The code objects of the learner's function, or of every method of their class(es)."""
    owners = fn if isinstance(fn, tuple) else (fn,)
    codes = []
    for owner in owners:
        if inspect.isclass(owner):
            for member in vars(owner).values():
                member = getattr(member, "__func__", member)  # a staticmethod or classmethod
                code = getattr(member, "__code__", None)
                if code is not None:
                    codes.append(code)
        elif getattr(owner, "__code__", None) is not None:
            codes.append(owner.__code__)
    return codes


class _TooSlow(BaseException):
    """Raised into a learner's function that runs too long. A BaseException, so that a learner's
    ``except Exception: pass`` inside a loop cannot swallow it."""


# Code that is not the learner's: the library itself, the standard library, installed packages.
_NOT_LEARNERS = tuple(
    {os.path.dirname(os.path.dirname(os.path.abspath(__file__))), sys.prefix, sys.base_prefix}
)


def _learners(frame: Any) -> bool:
    return not frame.f_code.co_filename.startswith(_NOT_LEARNERS)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _TooSlow in the running code after ``seconds``, and again every 0.2 s after that
    until it leaves; POSIX, main thread only.

    A loop around ``try: ... except: pass`` (a bare except catches even _TooSlow) would
    swallow every alarm, so each alarm also traces the learner's code: the next line it runs,
    the one in its except clause included, raises _TooSlow again, and an exception raised in
    an except clause leaves that try. (Python switches a trace function off once it raises, so
    a loop in a loop, each with its own bare except, can still swallow them all.)"""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_line(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            raise _TooSlow
        return on_line

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        return on_line if _learners(frame) else None

    def stop(signum: int, frame: Any) -> None:
        sys.settrace(on_call)  # new calls; and the learner's frames running now:
        while frame is not None and frame.f_code is not _call.__code__:
            if _learners(frame):
                frame.f_trace = on_line
            frame = frame.f_back
        raise _TooSlow

    tracing = sys.gettrace()
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.settrace(tracing)


def is_placeholder(fn: Callable[..., Any]) -> bool:
    """True when ``fn``'s body is only a docstring and ``...``, ``pass`` or
    ``raise NotImplementedError`` (the untouched exercise cell)."""
    return bool(placeholder_words(fn))


def placeholder_words(fn: Callable[..., Any]) -> str:
    """The placeholder ``fn``'s body holds, as a message names it ("`...`", "`pass`",
    "`raise NotImplementedError`", or "its docstring" when that is all there is), when it
    holds nothing else besides a docstring; else ""."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return ""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.Lambda)]
    if not functions or isinstance(functions[0], ast.Lambda):
        return ""
    body = list(functions[0].body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
    found = []
    for statement in body:
        if isinstance(statement, ast.Pass):
            found.append("`pass`")
        elif isinstance(statement, ast.Expr | ast.Return) and _is_ellipsis(statement.value):
            found.append("`...`")
        elif isinstance(statement, ast.Raise) and statement.exc is not None:
            exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if not (isinstance(exc, ast.Name) and exc.id == "NotImplementedError"):
                return ""
            found.append("`raise NotImplementedError`")
        else:
            return ""
    return " and ".join(dict.fromkeys(found)) if found else "its docstring"


def _is_ellipsis(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is ...


def _where_it_raised(fn: Callable[..., Any], error: BaseException) -> str:
    """ "line 3 of your function: `return upstream / x`" for the deepest frame in fn's file (for
    a class: "in MyValue.__mul__: `...`", the deepest frame in the file of its methods)."""
    if not inspect.isfunction(fn):
        return _where_in_class(fn, error)
    code = getattr(fn, "__code__", None)
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if code is not None and f.filename == code.co_filename]
    if not mine:
        return ""
    frame = mine[-1]
    text = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    line = frame.lineno - code.co_firstlineno + 1
    return f" at line {line} of your function: `{text}`" if text else f" at line {line}"


def _where_in_class(fn: Any, error: BaseException) -> str:
    """ "in MyValue.__mul__: `return ...`": the deepest frame in the file of a class's methods."""
    files = {code.co_filename for code in _codes(fn)}
    found = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in files:
            found = tb
        tb = tb.tb_next
    if found is None:
        return ""
    code = found.tb_frame.f_code
    text = linecache.getline(code.co_filename, found.tb_lineno).strip()
    where = f" in {getattr(code, 'co_qualname', code.co_name)}"
    return f"{where}: `{text}`" if text else where


def _call(fn: Callable[..., Any], case: Case) -> tuple[Any, str, str]:
    """(result, "", "") or (None, a sentence saying what went wrong, its kind): the kind is
    "unwritten", "slow", "raised", "misspelt" (a NameError, or an attribute close to one the
    object has: :func:`_misspelt`), "mistake" or "nothing" (a :class:`NothingReturned`)."""
    arguments = [
        np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in case.inputs.values()
    ]
    try:
        with _time_limit(TIME_LIMIT_S), np.errstate(all="ignore"):
            if case.run is not None:
                return case.run(fn), "", ""
            return fn(*arguments), "", ""
    except _TooSlow:
        return (
            None,
            f"{_who(fn)} was still running after "
            f"{TIME_LIMIT_S:g} s (on {case.description}); look for a loop that never ends",
            "slow",
        )
    except NotImplementedError as error:  # the checker's own may say what is not written
        return None, str(error) or "not written yet", "unwritten"
    except NothingReturned as mistake:  # None where a result was due: named, not counted
        return None, str(mistake), "nothing"
    except NamedMistake as mistake:  # a case's run recognised a mistake: its sentence
        return None, str(mistake), "mistake"
    except SystemExit as error:  # sys.exit() or exit() in the learner's code: never leave
        where = _where_it_raised(fn, error)
        return (
            None,
            f"{_who(fn)} called exit (SystemExit{f': {error}' if str(error) else ''}){where}; "
            "a function gives its result with `return`, and the checker needs it to return",
            "raised",
        )
    except Exception as error:  # the learner's code: report it, never raise it
        where = _where_it_raised(fn, error)
        advice = _error_advice(error, case)
        # A name Python cannot find (a typo, a missing import), or an attribute spelt close to
        # one the object has (p.gard), stops the code before any maths is judged: reported,
        # but not counted as an attempt.
        kind = "misspelt" if _misspelt(error) else "raised"
        return (
            None,
            f"{_who(fn)} raised {type(error).__name__}: {error}{where}{advice}",
            kind,
        )


def _misspelt(error: BaseException) -> bool:
    """A NameError, or an AttributeError for a name close to one the object has (``.gard``
    for ``.grad``): a typo, not maths."""
    if isinstance(error, NameError):
        return True
    if not isinstance(error, AttributeError) or not isinstance(error.name, str):
        return False
    if error.obj is None:  # raised by hand, not by an attribute lookup
        return False
    try:
        names = dir(error.obj)
    except Exception:  # noqa: BLE001  (a learner's object may fail even at dir())
        return False
    return bool(difflib.get_close_matches(error.name, names, n=1, cutoff=0.75))


def shapes_named(error: BaseException) -> list[tuple[int, ...]]:
    """The shapes a numpy error message names, e.g. [(4, 5), (4,)] for "operands could not be
    broadcast together with shapes (4,5) (4,)"."""
    found = []
    for text in re.findall(r"\(([0-9][0-9, ]*)\)", str(error)):
        parts = [t for t in text.replace(" ", "").split(",") if t]
        if "," in text or len(parts) > 1:  # (4,) or (4,5): a shape, not a number in brackets
            found.append(tuple(int(t) for t in parts))
    return found


def _axis_dropped(
    shapes: list[tuple[int, ...]],
) -> tuple[tuple[int, ...], tuple[int, ...], int] | None:
    """(full, short, axis) when ``short`` is ``full`` with its ``axis`` removed, else None."""
    for full in shapes:
        for short in shapes:
            if len(short) == len(full) - 1:
                for axis in range(len(full)):
                    if full[:axis] + full[axis + 1 :] == short:
                        return full, short, axis
    return None


def _error_advice(error: BaseException, case: Case) -> str:
    """What to add to a learner's exception: a known mistake's sentence, else a word on shapes."""
    for shows, why in case.errors:
        try:
            if shows(error):
                return f". {why[:1].upper()}{why[1:]}"
        except Exception:  # noqa: BLE001, S112  (a recogniser must never hide the report)
            continue
    text = str(error)
    if not (isinstance(error, ValueError) and ("mismatch" in text or "broadcast" in text)):
        return ""
    shapes = shapes_named(error)
    dropped = _axis_dropped(shapes)
    if dropped:
        full, short, axis = dropped
        return (
            f". The shape {short} is {full} with axis {axis} dropped: a sum (or mean) over that "
            "axis removed it, and now it cannot line up with the array it came from; sum with "
            "keepdims=True, so that each row meets its own value"
        )
    if len(shapes) >= 2:
        listed = " and ".join(str(shape) for shape in shapes)
        return f". The shapes {listed} do not fit: write each factor's shape beside it"
    inputs = ", ".join(
        f"{k} {np.shape(v)}" for k, v in case.inputs.items() if isinstance(v, np.ndarray)
    )
    return f". The shapes do not fit: here {inputs}; write each factor's shape beside it"


# Calls that change an array (or list) in place and return None.
_IN_PLACE = {"copyto", "put", "place", "fill_diagonal", "put_along_axis", "shuffle"}
_IN_PLACE_METHODS = {"sort", "fill", "append", "extend"}


def _in_place_call(fn: Callable[..., Any]) -> str:
    """A sentence when ``fn`` returns (or assigns) what an in-place call gives back, None:
    ``return np.add.at(dW, tokens, upstream)``; else ""."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return ""
    for node in ast.walk(tree):
        value = node.value if isinstance(node, ast.Return | ast.Assign) else None
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
            continue
        name = ast.unparse(value.func)
        attribute = value.func.attr
        if attribute == "at" and isinstance(value.func.value, ast.Attribute):
            into = "you added into" if value.func.value.attr == "add" else "it changed"
        elif attribute in _IN_PLACE or attribute in _IN_PLACE_METHODS:
            into = "it changed"
        else:
            continue
        if isinstance(node, ast.Return):
            return f"{name} works in place and returns None: return the array {into}"
        target = ast.unparse(node.targets[0])
        return (
            f"{name} works in place and returns None, so `{target} = {name}(...)` makes {target} "
            f"None: call it on its own line and return the array {into}"
        )
    return ""


# ---- comparing one output -------------------------------------------------------------------


def _as_array(value: Any, one_number: bool = False) -> tuple[np.ndarray | None, str]:
    """``value`` as a float64 array, or (None, what is wrong with it); ``one_number`` words
    it for an output that is one number (a scalar op's rule), where arrays are not taught."""
    if value is None:
        return None, "is None: did you forget to `return` it?"
    if value is ...:
        return None, "is still `...`: not written yet"
    if isinstance(value, str | bytes):
        return None, f"is the text {value!r}, not {'a number' if one_number else 'an array'}"
    kind = type(value).__name__
    if kind == "Tensor" and hasattr(value, "detach"):  # a PyTorch tensor, maybe needing grad
        return None, (
            "is a PyTorch tensor: return a numpy array (`.detach().numpy()`), computed with numpy"
        )
    try:
        raw = np.asarray(value)
        if np.iscomplexobj(raw):
            return None, (
                "holds complex numbers: a gradient of a real function is real; look for a "
                "square root or a power of a negative number"
            )
        array = np.asarray(raw, dtype=np.float64)
    except Exception:  # noqa: BLE001  (anything a learner returns must give a sentence)
        return None, f"is a {kind}, not {'a number' if one_number else 'an array of numbers'}"
    return array, ""


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _sum_back(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``array`` summed over the axes a broadcast of ``shape`` would have added or expanded."""
    try:
        added = array.ndim - len(shape)
        if added < 0:
            return None
        total = array.sum(axis=tuple(range(added))) if added else array
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and total.shape[i] != 1)
        return total.sum(axis=axes, keepdims=True) if axes else total
    except (ValueError, IndexError):
        return None


def _summed_axes(big: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    added = len(big) - len(shape)
    return tuple(range(added)) + tuple(
        added + i for i, n in enumerate(shape) if n == 1 and big[added + i] != 1
    )


def _named_slip(
    name: str, got: np.ndarray, want: np.ndarray, case: Case, exercise: Exercise | None = None
) -> str:
    """The sentence naming the mistake ``got`` shows, or "" when it matches none it knows."""
    match = lambda a, b: _close(a, b, MATCH_RTOL, MATCH_ATOL)  # noqa: E731
    for wrong, output, why in case.mistakes:
        if output == name and match(got, np.asarray(wrong, dtype=np.float64)):
            return why
    if got.shape != want.shape and want.ndim == 0:  # one number wanted (a scalar op's rule)
        if got.size == 1:
            return f"{name} is one number inside a list or array: return the number itself"
        return f"{name} holds {got.size} numbers: the rule returns one number"
    if got.shape != want.shape:
        big = case.broadcast.get(name)
        if big is not None and got.shape == tuple(big):
            summed = _sum_back(got, want.shape)
            if summed is not None and match(summed.reshape(want.shape), want):
                axes = _summed_axes(tuple(big), want.shape)
                where = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
                return (
                    f"{name} has the shape of the broadcast result {got.shape}, not its input's "
                    f"{want.shape}: the forward pass copied it along {where}, and each copy is a "
                    "use; the gradients of one value's uses add up (sum at joins)"
                )
        swapped = _swapped(name, got, case, exercise)
        if swapped:
            return swapped
        if got.ndim == 2 and got.shape == want.shape[::-1] and match(got.T, want):
            return f"{name} is transposed: its shape is {got.shape}, expected {want.shape}"
        if got.size == want.size and match(got.reshape(want.shape), want):
            return (
                f"the numbers of {name} are right, but its shape is {got.shape}, expected "
                f"{want.shape} (keep or drop size-1 axes to match the input)"
            )
        return f"{name} has shape {got.shape}; it must have the shape of its input, {want.shape}"
    swapped = _swapped(name, got, case, exercise)
    if swapped:
        return swapped
    if match(got, -want):
        return f"{name} has the wrong sign everywhere: check the sign of each local partial"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and match(got.T, want):
        return (
            f"{name} is transposed (square, so the shape could not tell): check which factor gets ᵀ"
        )
    if case.batch and case.batch > 1:
        if match(got, case.batch * want):
            return (
                f"every entry of {name} is N = {case.batch} times too big: the loss is the mean "
                "over the batch, not its sum"
            )
        if match(got * case.batch, want):
            return f"every entry of {name} is divided by N = {case.batch} once too often"
    if match(got, 2 * want):
        return f"every entry of {name} is twice the engine's: a factor of 2 too many"
    if match(2 * got, want):
        return f"every entry of {name} is half the engine's: a factor of 2 is missing"
    if case.upstream is not None:
        upstream = np.asarray(case.inputs.get(case.upstream, np.nan), dtype=np.float64)
        if upstream.shape == got.shape and match(got, upstream):
            return (
                f"{name} is the upstream gradient `{case.upstream}` itself: multiply it by the "
                "op's local partials (a rule's contribution is upstream × local partial)"
            )
    return ""


def _vague_text(name: str, got: np.ndarray, want: np.ndarray, case: Case) -> str:
    """What can be said of ``got`` when it matches no known slip: how far off it is."""
    if _to_float32_precision(got, want):
        return (
            f"{name} agrees with the engine's to about float32 precision only (6 or 7 "
            "significant digits), far from float64's 16: a step that computed in float32 (an "
            ".astype(np.float32), a dtype=np.float32, float32 data) rounds like this, even when "
            "the result comes back in float64; so does a tiny term too many or too few"
        )
    if case.upstream is not None:
        # the slips _named_slip tests, as far as this case can tell them
        ruled_out = ["a sign", "a factor of 2"]
        if got.ndim == 2 and got.shape[0] == got.shape[1]:
            ruled_out.append("a transpose")
        if case.batch and case.batch > 1:
            ruled_out.append("a factor of N")
        listed = ", ".join(ruled_out[:-1]) + " or " * (len(ruled_out) > 1) + ruled_out[-1]
        return (
            f"{name} and the engine's gradient differ, and not by {listed}: check each term "
            f"against the maths, factor by factor (the upstream gradient `{case.upstream}` "
            "times the local partials)"
        )
    return f"{name}: your numbers and the engine's differ"


def _to_float32_precision(got: np.ndarray, want: np.ndarray) -> bool:
    """Is ``got`` off from ``want`` by no more than float32 rounding makes (relative to the
    size of the numbers: float32 keeps about 7 significant digits)?"""
    scale = float(np.max(np.abs(want), initial=0.0))
    return (
        got.shape == want.shape
        and scale > 0
        and bool(np.allclose(got, want, rtol=1e-5, atol=1e-5 * scale))
    )


def _swapped(name: str, got: np.ndarray, case: Case, exercise: Exercise | None) -> str:
    """A sentence when ``got`` is another output's answer: outputs returned in another order
    (or stored under each other's keys)."""
    if exercise is None:
        return ""
    for other, value in case.expected.items():
        if other != name and _close(got, np.asarray(value), MATCH_RTOL, MATCH_ATOL):
            if exercise.returns == "dict":
                return (
                    f"that is what {other} should be, stored under the key {name!r}: check the "
                    "key each gradient goes under"
                )
            return (
                f"that is what {other} should be: your function returns its outputs in another "
                f"order; return them in the order ({', '.join(exercise.outputs)})"
            )
    return ""


def _compare(
    name: str, value: Any, want: np.ndarray, case: Case, exercise: Exercise | None = None
) -> Comparison:
    got, problem = _as_array(value, one_number=want.ndim == 0)
    if got is None:
        return Comparison(name, "missing", math.nan, f"{name} {problem}", numbers=False)
    if exercise is not None and exercise.arrays and not isinstance(value, np.ndarray):
        container = isinstance(value, list | tuple)
        kind = f"a Python {type(value).__name__}" if container else f"a {type(value).__name__}"
        same = _close(got, want, CLOSE_RTOL, CLOSE_ATOL)
        return Comparison(
            name,
            "wrong",
            math.nan,
            f"{name} is {kind}: return a numpy array"
            + (" (its numbers are right)" if same else f" of shape {want.shape}"),
            numbers=False,
        )
    if not np.all(np.isfinite(got)):
        bad = int(np.size(got) - np.isfinite(got).sum())
        return Comparison(
            name,
            "wrong",
            math.nan,
            f"{name} holds {bad} NaN or infinite entries"
            + (
                f"; {case.overflow}"
                if case.overflow
                else ": look for a division by zero or an overflow (exp of a large number)"
            ),
        )
    if got.shape == want.shape:
        diff = float(np.max(np.abs(got - want), initial=0.0))
        if np.array_equal(got, want):
            return Comparison(name, "exact", diff)
        if np.allclose(got, want, rtol=CLOSE_RTOL, atol=CLOSE_ATOL):
            return Comparison(name, "close", diff)
        low = np.dtype(getattr(value, "dtype", np.float64))
        if low in (np.float32, np.float16) and np.allclose(got, want, rtol=1e-3, atol=1e-6):
            return Comparison(
                name,
                "wrong",
                diff,
                f"{name} is right to {low.name} precision only: it was computed in {low.name}, "
                "whose rounding is far above the checker's float64 tolerance; compute in "
                "float64 (the inputs are float64: look for an .astype or a dtype= that "
                "lowers it)",
            )
        kind = np.dtype(getattr(value, "dtype", np.float64)).kind
        if kind in "iub" and not np.array_equal(want, np.round(want)):
            return Comparison(
                name,
                "wrong",
                diff,
                f"{name} holds whole numbers only (dtype {np.dtype(value.dtype).name}), and the "
                "gradient has fractions: an integer array cuts every number put or added into "
                "it to a whole one. Look at the dtype of the array you fill",
            )
    else:
        diff = math.nan
    named = _named_slip(name, got, want, case, exercise)
    if named:
        return Comparison(name, "wrong", diff, named)
    return Comparison(name, "wrong", diff, _vague_text(name, got, want, case), vague=True)


def with_article(word: str) -> str:
    """``word`` after "a" or "an" as it is read out: "an int", "an ndarray", "a float"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _split_outputs(
    exercise: Exercise, result: Any, fn: Callable[..., Any]
) -> tuple[dict[str, Any], str]:
    names = exercise.outputs
    if len(names) == 1:
        return {names[0]: result}, ""
    listed = ", ".join(names)
    if result is None:
        in_place = _in_place_call(fn)
        if in_place:
            return {}, in_place
        if exercise.returns == "dict":
            return {}, (
                f"your function returned None: did you forget the `return`? It must return a "
                f"dict with keys {listed}"
            )
        return {}, (
            f"return {len(names)} things, ({listed}); your function returned None: did you "
            "forget the `return`?"
        )
    if isinstance(result, dict):
        missing = [n for n in names if n not in result]
        if missing:
            return (
                {},
                f"the dict you returned lacks {', '.join(missing)} (it needs {listed})",
            )
        return {n: result[n] for n in names}, ""
    kind = type(result).__name__
    if exercise.returns == "dict":
        got = with_article(kind) + (
            f" of {len(result)} things" if isinstance(result, tuple | list) else ""
        )
        return {}, f"return a dict with keys {listed} (your function returned {got})"
    if isinstance(result, tuple | list) and len(result) == len(names):
        return dict(zip(names, result, strict=True)), ""
    got = f"{len(result)} things" if isinstance(result, tuple | list) else with_article(kind)
    return {}, f"return {len(names)} things, ({listed}); your function returned {got}"


# ---- the check ----------------------------------------------------------------------------


def run_exercise(exercise: Exercise, fn: Callable[..., Any], seed: int = 0) -> ExerciseReport:
    """Run ``fn`` against the engine on every case of ``exercise``; never raises for ``fn``.

    The report's verdict is "right" when every output of every case is exact or close. (A
    notebook calls :func:`course_lib.teaching.code_check.check_exercise`, which finds the
    exercise by its name.)
    """
    seed = whole_number(seed, "seed (it picks the cases)", "run_exercise", minimum=0)
    report = _run(exercise, fn, seed)
    if isinstance(fn, tuple):
        names = [getattr(c, "__name__", "") for c in fn]
        return dataclasses.replace(report, function=", ".join(n for n in names if n))
    name = getattr(fn, "__name__", "")
    return dataclasses.replace(report, function=name if name.isidentifier() else "")


def _run(exercise: Exercise, fn: Callable[..., Any], seed: int) -> ExerciseReport:
    if not isinstance(exercise, Exercise):
        raise TypeError(f"run_exercise needs an Exercise, got {exercise!r}")
    name = exercise.name
    if not (callable(fn) or (isinstance(fn, tuple) and fn and all(map(callable, fn)))):
        return ExerciseReport(
            name, "error", f"expected a function {exercise.signature}, got {fn!r}"
        )
    placeholder = placeholder_words(fn)
    if placeholder:
        todo = (
            f"replace the {placeholder} in {exercise.signature}"
            if placeholder.startswith("`")
            else f"write the body of {exercise.signature}: so far it holds only {placeholder}"
        )
        return ExerciseReport(name, "not written yet", todo)
    report = _judge(exercise, fn, seed)
    if (
        report.verdict in ("wrong", "error")
        and report.answered
        and not _first_sight_of_handed_out(exercise, report, fn)
    ):
        slips = _slipped_outputs(exercise, report)
        rule = _rule_for(exercise, slips, _count_attempt(name, fn, slips))
        if rule:
            report = dataclasses.replace(report, rule=rule)
    return report


def _first_sight_of_handed_out(
    exercise: Exercise, report: ExerciseReport, fn: Callable[..., Any]
) -> bool:
    """Whether this is the code as the notebook hands it out, checked for the first time (say
    by Run All): every wrong output has the exercise's ``handed_out`` diagnosis, and no other
    code giving it has been seen. That check is no attempt of the learner's; later code that
    still gives the planted numbers is one."""
    wrong = [r for r in report.rows if r.status in ("wrong", "missing")]
    hint = exercise.handed_out
    if not (hint and wrong) or any(r.diagnosis != hint for r in wrong):
        return False
    key = _attempt_key(fn)
    return _handed_out_seen.setdefault(exercise.name, key) == key


def _slipped_outputs(exercise: Exercise, report: ExerciseReport) -> frozenset[str]:
    """The wrong outputs to fix first: those not built from another wrong output (an error
    that stopped the function has no rows, so none)."""
    wrong = {r.output for r in report.rows if r.status in ("wrong", "missing")}
    return frozenset(o for o in wrong if not set(sources_of(exercise.depends, o)) & wrong)


def sources_of(depends: dict[str, str | tuple[str, ...]], output: str) -> tuple[str, ...]:
    """The outputs ``output`` is built from, by a ``depends`` map (``Exercise.depends``): the
    one it names, or each of those it names, as a tuple (empty for none)."""
    source = depends.get(output, ())
    return (source,) if isinstance(source, str) else tuple(source)


def _rule_for(exercise: Exercise, slips: frozenset[str], before: list[frozenset[str]]) -> str:
    """The rule a wrong attempt earns, given the outputs it slipped on and those each earlier
    different wrong attempt slipped on: nothing on a first attempt; with rules per output, the
    rule of each output that was wrong in an earlier, different attempt too; else
    the exercise's rule."""
    if not before:
        return ""
    if exercise.output_rules and slips:
        again = [o for o in exercise.outputs if o in slips and any(o in b for b in before)]
        return " ".join(dict.fromkeys(exercise.output_rules.get(o, exercise.rule) for o in again))
    return exercise.rule


def _judge(exercise: Exercise, fn: Callable[..., Any], seed: int) -> ExerciseReport:
    """The report on every case; a failure in a case that is not decisive waits for the
    decisive cases, and is reported only if none of them fails."""
    name = exercise.name
    cases = exercise.make_cases(np.random.default_rng(seed))
    first_close: ExerciseReport | None = None
    waiting: ExerciseReport | None = None
    for case in cases:
        report = _judge_case(exercise, fn, case)
        if report.verdict == "not written yet" or " still running after " in report.message:
            return report  # no later case can say more, and a slow one would cost seconds
        if report.verdict in ("wrong", "error"):
            if case.decisive:
                return report
            waiting = waiting or report
            continue
        if first_close is None:
            first_close = report
    if waiting is not None:
        return waiting
    note = exercise.check_memory(fn) if exercise.check_memory is not None else ""
    if note:
        return ExerciseReport(name, "wrong", note)
    rows = first_close.rows if first_close else ()
    exact = all(r.status == "exact" for r in rows)
    return ExerciseReport(
        name,
        "right",
        (
            "every output matches the engine in the one case"
            if len(cases) == 1
            else f"every output matches the engine in all {len(cases)} cases"
        )
        + ("" if exact else " (to rounding, as a different order of sums gives)"),
        rows,
    )


def _judge_case(exercise: Exercise, fn: Callable[..., Any], case: Case) -> ExerciseReport:
    """One case: "right" (with its rows), "wrong", "error" or "not written yet"."""
    name = exercise.name
    result, problem, kind = _call(fn, case)
    if kind == "unwritten":
        said = problem != "not written yet"  # the checker's own sentence: what is unwritten
        return ExerciseReport(
            name,
            "not written yet",
            problem if said else f"replace the placeholder in {exercise.signature}",
        )
    if kind in ("mistake", "nothing"):
        answered = kind == "mistake"
        return ExerciseReport(name, "wrong", problem, case=case.description, answered=answered)
    if problem:
        answered = kind != "misspelt"  # a typo is no maths to judge: not an attempt
        return ExerciseReport(name, "error", problem, case=case.description, answered=answered)
    if result is ... or (isinstance(result, tuple | list) and all(r is ... for r in result)):
        return ExerciseReport(name, "not written yet", f"replace the `...` in {exercise.signature}")
    in_place = _in_place_call(fn) if result is None else ""
    answered = result is not None or bool(in_place)  # None from a forgotten `return`: nothing
    outputs, problem = _split_outputs(exercise, result, fn)
    if problem:
        return ExerciseReport(name, "error", problem, case=case.description, answered=answered)
    rows = [_compare(o, outputs[o], case.expected[o], case, exercise) for o in exercise.outputs]
    if len(exercise.outputs) == 1 and in_place:
        rows = [dataclasses.replace(rows[0], diagnosis=in_place)]
    rows = _note_dependencies(exercise, rows)
    if any(r.status in ("wrong", "missing") for r in rows):
        wrong = [r.output for r in rows if r.status in ("wrong", "missing")]
        # text or None where numbers belong is no maths to judge: not an attempt
        answered = answered and any(r.numbers for r in rows if r.status in ("wrong", "missing"))
        return ExerciseReport(
            name,
            "wrong",
            f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right",
            tuple(rows),
            case.description,
            answered=answered,
        )
    return ExerciseReport(name, "right", "", tuple(rows), case.description)


# ---- tiers: the count of wrong attempts ------------------------------------------------------

# exercise name -> (the code, the outputs it slipped on) of each wrong attempt at it, in order
# (the same code checked again is the same attempt). It lives in the kernel: a restart begins
# afresh.
_wrong_attempts: dict[str, list[tuple[Any, frozenset[str]]]] = {}
# exercise name -> the code first checked as the notebook hands it out (not counted as an attempt)
_handed_out_seen: dict[str, Any] = {}


def _attempt_key(fn: Callable[..., Any]) -> Any:
    """What tells two attempts apart: the function's code (and what its closure holds); a
    class's, the code of each of its methods (the same class run again is the same attempt)."""
    if isinstance(fn, tuple):
        return tuple(_attempt_key(owner) for owner in fn)
    if inspect.isclass(fn):
        return ("class", fn.__qualname__, tuple(_code_key(code) for code in _codes(fn)))
    code = getattr(fn, "__code__", None)
    if code is None:
        return ("object", id(fn))
    cells = tuple(_cell_key(c) for c in (getattr(fn, "__closure__", None) or ()))
    return (_code_key(code), cells)


def _cell_key(cell: Any) -> Any:
    """A closure cell by what it holds: a function by its code (never by its address, which
    the memory of a freed function may take again), anything else by its repr."""
    try:
        contents = cell.cell_contents
    except ValueError:  # an empty cell
        return None
    return _value_key(contents)


def _value_key(value: Any) -> Any:
    if inspect.isclass(value):
        return _attempt_key(value)
    if callable(value) and hasattr(value, "__code__"):
        return _attempt_key(value)
    if isinstance(value, dict):
        return tuple((repr(k), _value_key(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_value_key(v) for v in value)
    return repr(value)


def _code_key(code: Any) -> tuple[Any, ...]:
    """A code object's instructions, names, constants and first line (nested code by its own
    key, not by its address): the same source run twice gives the same key."""
    consts = tuple(_code_key(c) if inspect.iscode(c) else repr(c) for c in code.co_consts)
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_firstlineno)


def _count_attempt(
    name: str, fn: Callable[..., Any], slips: frozenset[str]
) -> list[frozenset[str]]:
    """Record a wrong attempt at ``name`` (slipping on the outputs ``slips``); return what each
    different wrong attempt before it slipped on."""
    seen = _wrong_attempts.setdefault(name, [])
    key = _attempt_key(fn)
    keys = [k for k, _ in seen]
    if key in keys:
        return [s for _, s in seen[: keys.index(key)]]
    seen.append((key, slips))
    return [s for _, s in seen[:-1]]


def wrong_attempts(name: str) -> int:
    """How many different wrong attempts at the exercise ``name`` this kernel has checked."""
    return len(_wrong_attempts.get(name, ()))


def forget_attempts(name: str | None = None) -> None:
    """Start the tiers again, for one exercise or (``None``) for all."""
    if name is None:
        _wrong_attempts.clear()
        _handed_out_seen.clear()
    else:
        _wrong_attempts.pop(name, None)
        _handed_out_seen.pop(name, None)


def built_from(wrong: Sequence[str]) -> str:
    """The sentence for an output built from the wrong outputs ``wrong``: fix those first."""
    source = " and ".join(wrong)
    are = "is" if len(wrong) == 1 else "are"
    return f"it is built from {source}, which {are} not right yet: fix {source} first"


def _note_dependencies(exercise: Exercise, rows: list[Comparison]) -> list[Comparison]:
    """A wrong output computed from another wrong one says to fix that one first."""
    bad = {r.output for r in rows if r.status in ("wrong", "missing") and r.numbers}
    noted = []
    for row in rows:
        wrong = [s for s in sources_of(exercise.depends, row.output) if s in bad]
        if row.output in bad and wrong:
            if row.vague:  # nothing named of its own: the wrong input is the thing to fix
                text = f"{row.output} is not right, and {built_from(wrong)}"
            else:
                text = f"{row.diagnosis} ({built_from(wrong)})"
            row = dataclasses.replace(row, diagnosis=text)
        noted.append(row)
    return noted
