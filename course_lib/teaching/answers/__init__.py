"""The answer key: every hand exercise of every notebook, one module per notebook.

A notebook's exercise cell holds the learner's answer and the exercise's key, nothing else:
``check("five_node.df_dx", df_dx)``. The key's first part names the module here that holds the
notebook's exercises (``five_node`` for notebook 01), its second part the exercise. Each module
builds its exercises with the engine wherever it can (``exercises()`` builds the graph and reads
the gradients), so the expected numbers cannot drift from what the notebook's engine computes;
the few numbers that come from a trained network are stored, and a notebook test holds them to
the engine's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from course_lib.teaching.answers import (
    broadcasting,
    build_engine,
    cross_entropy,
    fan_out,
    five_node,
    gates,
    gradient_checking,
    layers,
    mnist,
    review,
    softmax,
    start_here,
)
from course_lib.teaching.hand_exercise import AxesExercise, HandExercise

__all__ = ["MODULES", "all_keys", "exercise"]

Exercise = HandExercise | AxesExercise

# The notebooks' exercise modules, by the first part of a key.
MODULES: dict[str, Callable[[], list[Exercise]]] = {
    "start_here": start_here.exercises,  # 00
    "five_node": five_node.exercises,  # 01
    "fan_out": fan_out.exercises,  # 02
    "broadcasting": broadcasting.exercises,  # 03
    "gradient_checking": gradient_checking.exercises,  # 04
    "softmax": softmax.exercises,  # 05
    "cross_entropy": cross_entropy.exercises,  # 06
    "mnist": mnist.exercises,  # 07
    "gates": gates.exercises,  # 08
    "layers": layers.exercises,  # 09
    "build_engine": build_engine.exercises,  # 10
    "review": review.exercises,  # 12
}


@cache
def _book(prefix: str) -> dict[str, Exercise]:
    found = {e.key: e for e in MODULES[prefix]()}
    for key in found:
        if not key.startswith(prefix + "."):
            raise ValueError(f"exercise {key!r} is listed under {prefix!r}")
    return found


def exercise(key: str) -> Exercise:
    """The exercise called ``key`` (``"five_node.df_dx"``); a clear error for an unknown key."""
    if not isinstance(key, str) or "." not in key:
        raise KeyError(
            f"an exercise key looks like 'five_node.df_dx' (notebook part, a dot, the "
            f"exercise), got {key!r}"
        )
    prefix = key.split(".", 1)[0]
    if prefix not in MODULES:
        raise KeyError(
            f"no notebook part {prefix!r} in the answer key; there are {sorted(MODULES)}"
        )
    book = _book(prefix)
    if key not in book:
        raise KeyError(f"no exercise {key!r}; {prefix} has {sorted(book)}")
    return book[key]


def all_keys() -> list[str]:
    """Every exercise key, notebook by notebook."""
    return [key for prefix in MODULES for key in _book(prefix)]
