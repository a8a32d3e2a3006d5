"""Notebook 10 (build your own engine): its hand exercises.

Both are read off the engine: b = a + a at a = 3, built with ``Value``. The first asks for
db/da (the engine's ``backward()``); the second for what an engine that writes each contribution
with ``=`` instead of adding it leaves in ``a.grad``: the contribution written last, through b's
second input slot (``local_backward`` of b for an upstream of 1).
"""

from __future__ import annotations

from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import HandExercise, Slip

A = 3.0  # the value of a in b = a + a


def a_plus_a() -> tuple[Value, Value]:
    """(a, b) for b = a + a after ``backward()``."""
    a = Value(A, label="a")
    b = (a + a).named("b")
    b.backward()
    return a, b


def exercises() -> list[HandExercise]:
    a, b = a_plus_a()
    through_each = b.local_backward(1.0)  # what b passes back through each input slot
    overwritten = through_each[-1]  # `=` keeps the contribution written last
    return [
        HandExercise(
            key="build_engine.a_grad",
            name="db/da",
            expected=a.grad,
            look="a is both inputs of the same add: walk back along each of its two edges into "
            "b, then combine the two contributions as at any join.",
            rule="db/da = (∂b/∂ first input) + (∂b/∂ second input), both inputs being a: the "
            "contributions of every use add up (sum at joins).",
            slips=(
                Slip(
                    overwritten,
                    "That counts one of a's two edges into b. a is used twice, and the "
                    "contributions of every use add up.",
                ),
            ),
            paths=tuple(through_each),
            values=((a.data, "a's value"), (b.data, "b's value")),
        ),
        HandExercise(
            key="build_engine.a_grad_overwritten",
            name="a.grad of the `=` engine",
            expected=overwritten,
            look="Follow that engine step by step: at b it passes a contribution back through "
            "each of b's two input slots, and both slots hold a. What is left in a.grad after "
            "the second write?",
            rule="with `=` a node keeps only the contribution written into it last: here the "
            "one through b's second input slot, upstream × ∂b/∂(second input).",
            slips=(
                Slip(
                    a.grad,
                    "This question is about the engine that writes each contribution with "
                    "`=`: it adds nothing up, each write replaces what a.grad held.",
                ),
                Slip(
                    0.0,
                    "Zero: but each of the two writes puts a contribution into a.grad, and "
                    "neither contribution is 0.",
                ),
            ),
            values=((a.data, "a's value"), (b.data, "b's value")),
            gradient=False,
        ),
    ]
