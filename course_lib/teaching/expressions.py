"""Random scalar expressions that any scalar engine can build: the graphs a learner's engine is
checked on (:mod:`course_lib.teaching.engine_check`).

An :class:`Expression` is a list of steps, each an op on earlier nodes or constants, so the same
expression can be built with course_lib's ``Value`` and with a learner's own class, node for
node, and their gradients compared. :func:`random_expression` draws one from a seeded generator:
every op of a micrograd-sized engine can appear (``+``, ``*``, ``-``, ``**2``, ``**3``,
``**-1``, ``tanh``, ``exp``), some node always feeds two or more later nodes (a fan-out, where
gradients must add), every node reaches the output, and every number stays moderate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.autodiff.scalar import Value

__all__ = ["OPS_USED", "Expression", "random_expression", "reference_gradients"]

_APPLY: dict[str, Callable[..., Any]] = {
    "+": lambda a, b: a + b,
    "*": lambda a, b: a * b,
    "-": lambda a, b: a - b,
    "**2": lambda a: a**2,
    "**3": lambda a: a**3,
    "**-1": lambda a: a**-1,
    "tanh": lambda a: a.tanh(),
    "exp": lambda a: a.exp(),
}
OPS_USED = tuple(_APPLY)  # the ops an expression may hold
_WRITE = {
    "+": "{} + {}",
    "*": "{}·{}",
    "-": "{} − {}",
    "**2": "{}**2",
    "**3": "{}**3",
    "**-1": "{}**-1",
    "tanh": "tanh({})",
    "exp": "exp({})",
}
_INPUT_NAMES = "xyzw"
_STEP_NAMES = "abcdefghijklmnopqrstuv"
_BINARY = ("+", "*", "-")


@dataclass(frozen=True)
class Expression:
    """A scalar expression as a list of steps that any engine class can build.

    ``inputs`` are the numbers of the input nodes (named x, y, z, w); each step is ``(op,
    operands)`` with ``op`` one of :data:`OPS_USED` and each operand the index of an earlier
    node (an ``int``: inputs first, then one node per step, named a, b, c, ...) or a constant
    (a ``float``, only as the second operand of ``+``, ``*`` or ``-``). The last step's node is
    the output.
    """

    inputs: tuple[float, ...]
    steps: tuple[tuple[str, tuple[int | float, ...]], ...]

    def __post_init__(self) -> None:
        if not self.inputs or len(self.inputs) > len(_INPUT_NAMES):
            raise ValueError(f"an expression has 1 to {len(_INPUT_NAMES)} inputs")
        if not self.steps or len(self.steps) > len(_STEP_NAMES):
            raise ValueError(f"an expression has 1 to {len(_STEP_NAMES)} steps")
        count = len(self.inputs)
        for op, operands in self.steps:
            if op not in _APPLY:
                raise ValueError(f"unknown op {op!r}; the ops are {list(OPS_USED)}")
            arity = 2 if op in _BINARY else 1
            if len(operands) != arity:
                raise ValueError(f"{op} takes {arity} operand(s), got {operands!r}")
            for position, operand in enumerate(operands):
                if isinstance(operand, bool) or not isinstance(operand, int | float):
                    raise TypeError(f"an operand is a node index or a float, got {operand!r}")
                if isinstance(operand, int) and not 0 <= operand < count:
                    raise ValueError(f"operand {operand} names no earlier node (of {count})")
                if isinstance(operand, float) and position == 0:
                    raise ValueError("a constant may only be the second operand")
            count += 1

    @property
    def names(self) -> list[str]:
        """The nodes' names: the inputs' (x, y, ...), then each step's (a, b, ...)."""
        return list(_INPUT_NAMES[: len(self.inputs)] + _STEP_NAMES[: len(self.steps)])

    def build(self, engine: Callable[[float], Any], inputs: Sequence[Any] | None = None) -> list:
        """The nodes of the expression built with ``engine`` (a class: ``engine(number)`` is an
        input node), inputs first, the output last. ``inputs`` may give the input nodes."""
        nodes = list(inputs) if inputs is not None else [engine(x) for x in self.inputs]
        for op, operands in self.steps:
            args = [nodes[a] if isinstance(a, int) else a for a in operands]
            nodes.append(_APPLY[op](*args))
        return nodes

    def operands(self, index: int, nodes: Sequence[Any]) -> list[Any]:
        """What step ``index`` was applied to: the nodes it used (from ``nodes``, as
        :meth:`build` returned them) and its constants."""
        return [nodes[a] if isinstance(a, int) else a for a in self.steps[index][1]]

    def text(self) -> str:
        """The expression written out: ``x = 0.5, y = -1.2; a = x·y; b = tanh(a); ...``."""
        names = self.names
        inputs = ", ".join(f"{n} = {v:g}" for n, v in zip(names, self.inputs, strict=False))
        steps = []
        for i, (op, operands) in enumerate(self.steps):
            shown = [names[a] if isinstance(a, int) else f"{a:g}" for a in operands]
            steps.append(f"{names[len(self.inputs) + i]} = {_WRITE[op].format(*shown)}")
        return f"{inputs}; " + "; ".join(steps)

    def uses(self) -> list[int]:
        """How many times each node is an operand of a later step."""
        counts = [0] * (len(self.inputs) + len(self.steps))
        for _, operands in self.steps:
            for a in operands:
                if isinstance(a, int):
                    counts[a] += 1
        return counts


def reference_gradients(expression: Expression) -> tuple[list[Value], np.ndarray]:
    """course_lib's nodes of ``expression`` after ``backward()`` on its output, and the
    gradient of every node (inputs, then steps) as an array."""
    nodes = expression.build(Value)
    nodes[-1].backward()
    return nodes, np.array([0.0 if n.grad is None else n.grad for n in nodes])


def _tame(expression: Expression) -> bool:
    """Whether course_lib's engine builds it with moderate numbers, a fan-out, and every node
    on a path to the output."""
    try:
        nodes = expression.build(Value)
    except (ValueError, ZeroDivisionError, OverflowError):
        return False
    if any(abs(n.data) > 50 or any(abs(p) > 1e3 for p in n.partials) for n in nodes):
        return False
    uses = expression.uses()
    return max(uses) >= 2 and all(u > 0 for u in uses[:-1])


def random_expression(rng: np.random.Generator, inputs: int = 2, steps: int = 6) -> Expression:
    """A random expression of ``inputs`` inputs and about ``steps`` steps (more when nodes
    nothing used are added into the output, so that each one reaches it): a fan-out, moderate
    numbers, every op possible. The same generator state gives the same expression."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy random Generator, got {type(rng).__name__}")
    if not 1 <= inputs <= len(_INPUT_NAMES) or not 2 <= steps <= 10:
        raise ValueError(f"1 to {len(_INPUT_NAMES)} inputs and 2 to 10 steps, please")
    for _ in range(500):
        values = tuple(float(round(v, 2)) for v in rng.uniform(-1.5, 1.5, size=inputs))
        drawn: list[tuple[str, tuple[int | float, ...]]] = []
        for i in range(steps):
            count = inputs + i
            op = OPS_USED[int(rng.integers(len(OPS_USED)))]
            first = int(rng.integers(count))
            if op in _BINARY:
                if rng.random() < 0.2:
                    second: int | float = float(round(rng.uniform(-2.0, 2.0), 1)) or 0.5
                else:
                    second = int(rng.integers(count))
                drawn.append((op, (first, second)))
            else:
                drawn.append((op, (first,)))
        uses = Expression(values, tuple(drawn)).uses()
        for index in range(len(uses) - 1):
            if uses[index] == 0:  # nothing uses it: add it into the output
                drawn.append(("+", (len(values) + len(drawn) - 1, index)))
        if len(drawn) > len(_STEP_NAMES):
            continue
        expression = Expression(values, tuple(drawn))
        if _tame(expression):
            return expression
    raise RuntimeError("no tame expression in 500 draws")  # pragma: no cover (never seen)
