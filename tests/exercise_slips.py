"""Every listed mistake of a code exercise, as a function a learner could have written.

The exercise bank lists, for each case of an exercise, the answers the usual mistakes give
(``Case.mistakes``: what it gives, for which output, the sentence to show). To check the
feedback a learner sees, each is turned into a *submission*: a function that answers like the
solution on every case but one, and there gives the mistake's answer for that output. Checked
once, it must be named by its sentence, with no rule and no line of the solution; checked again
written another way (the same slip again), it must bring the rule.

Used by ``tests/test_exercises.py`` (every exercise of the bank, with the solutions written
there) and by ``tests/test_learner_simulation.py`` (inside a notebook's kernel, with the
notebook's own Solution block and check cell).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.teaching.code_exercise import CLOSE_ATOL, CLOSE_RTOL, MATCH_ATOL, MATCH_RTOL, Case
from course_lib.teaching.exercise_bank import EXERCISES

__all__ = ["Submission", "normal", "solution_fragments", "submissions"]


@dataclass(frozen=True)
class Submission:
    """One listed mistake, planted in a function: ``fn`` (a first attempt) and ``again`` (the
    same slip written another way, a second attempt), and the sentence the checker must show."""

    exercise: str
    case: str
    output: str
    says: str
    fn: Callable[..., Any]
    again: Callable[..., Any]


def _same_inputs(args: tuple[Any, ...], inputs: list[Any]) -> bool:
    if len(args) != len(inputs):
        return False
    for got, want in zip(args, inputs, strict=True):
        if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
            if not (np.shape(got) == np.shape(want) and np.array_equal(got, want)):
                return False
        elif got != want:
            return False
    return True


def _planted(
    solution: Callable[..., Any], name: str, case: Case, output: str, wrong: Any, tag: str
) -> Callable[..., Any]:
    """``solution``, except on ``case``'s inputs, where ``output`` is ``wrong``."""
    exercise = EXERCISES[name]
    inputs = list(case.inputs.values())

    def submitted(*args: Any) -> Any:
        result = solution(*args)
        if not tag or not _same_inputs(args, inputs):  # (tag: each attempt its own closure)
            return result
        if len(exercise.outputs) == 1:
            return float(wrong) if np.ndim(wrong) == 0 else np.array(wrong)
        if exercise.returns == "dict":
            return {**result, output: np.array(wrong)}
        values = list(result)
        values[exercise.outputs.index(output)] = np.array(wrong)
        return tuple(values)

    submitted.__name__ = f"{name}_{tag}"
    submitted.__qualname__ = submitted.__name__
    return submitted


def _matches(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def submissions(
    name: str, solution: Callable[..., Any], seed: int = 0, limit: int | None = None
) -> Iterator[Submission]:
    """Every listed mistake of exercise ``name`` on the cases of ``seed`` (the ones that differ
    from the right answer there), planted in ``solution``; at most ``limit`` of them, taken
    evenly through the list, each sentence once."""
    cases = EXERCISES[name].make_cases(np.random.default_rng(seed))
    found = []
    said = set()
    for c, case in enumerate(cases):
        for m, (wrong, output, _) in enumerate(case.mistakes):
            wrong = np.asarray(wrong, dtype=np.float64)
            want = np.asarray(case.expected[output], dtype=np.float64)
            if _matches(wrong, want, CLOSE_RTOL, CLOSE_ATOL):
                continue  # not a mistake on this case
            # the sentence shown is that of the first listed mistake giving these numbers
            says = next(
                w
                for v, o, w in case.mistakes
                if o == output
                and _matches(np.asarray(v, dtype=np.float64), wrong, MATCH_RTOL, MATCH_ATOL)
            )
            if limit is not None and says in said:
                continue
            said.add(says)
            found.append((c, m, case, output, wrong, says))
    if limit is not None and len(found) > limit:
        found = [found[round(i * (len(found) - 1) / (limit - 1))] for i in range(limit)]
    for c, m, case, output, wrong, says in found:
        yield Submission(
            name,
            case.description,
            output,
            says,
            _planted(solution, name, case, output, wrong, f"case{c}_mistake{m}"),
            _planted(solution, name, case, output, wrong, f"case{c}_mistake{m}_again"),
        )


def normal(text: str) -> str:
    """Code or formula text in one form: no spaces, ᵀ as .T, − as -, · × ⊙ as *, ² as **2."""
    for symbol, code in {"ᵀ": ".T", "−": "-", "·": "*", "×": "*", "⊙": "*", "²": "**2"}.items():
        text = text.replace(symbol, code)
    return re.sub(r"\s+", "", text)


def _plain(node: ast.AST | None) -> bool:
    """A bare name or number, or a tuple, list or dict of them: no computation."""
    if isinstance(node, ast.Name | ast.Constant):
        return True
    if isinstance(node, ast.Tuple | ast.List):
        return all(_plain(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_plain(e) for e in [*node.keys, *node.values])
    return False


def solution_fragments(solution: str, given: str = "", shortest: int = 6) -> list[str]:
    """The lines of a Solution block a first wrong attempt must never show, in :func:`normal`
    form: each statement of the function's body, the expression it computes and an indexed
    target it writes (``Y[np.arange(N), labels]``), leaving out what the exercise cell
    ``given`` already holds (a find-the-bug cell's untouched lines) and fragments shorter than
    ``shortest`` characters."""
    held = normal(given)
    fragments: list[str] = []
    for node in ast.walk(ast.parse(solution)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for statement in ast.walk(node):
            if not isinstance(statement, ast.stmt) or isinstance(statement, ast.FunctionDef):
                continue
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue  # the docstring
            value = getattr(statement, "value", None)
            if isinstance(statement, ast.For | ast.While | ast.If | ast.With):
                parts = []  # their bodies are walked on their own
            elif isinstance(statement, ast.Return) and _plain(value):
                parts = []  # `return dA, dB`: the signature's order, not a computation
            else:
                parts = [statement]
            if isinstance(value, ast.expr) and not _plain(value):
                parts.append(value)
            for target in getattr(statement, "targets", [getattr(statement, "target", None)]):
                if isinstance(target, ast.Subscript):
                    parts.append(target)
            for part in parts:
                text = normal(ast.unparse(part))
                if len(text) >= shortest and text not in held and text not in fragments:
                    fragments.append(text)
    return fragments
