"""Forward mode: dual numbers that carry a tangent through a scalar function, and a counter.

Reverse mode (:mod:`course_lib.autodiff.graph`) starts at the output and pushes dL/d(node) *back*:
one backward pass gives the derivative of **one output** with respect to **every input**, a row of
the Jacobian. Forward mode starts at the inputs and pushes a tangent *forward*: pick a
direction ``v`` in input space, give every input x_i the tangent ẋ_i = v_i, and let each op
compute its output's tangent from its inputs' tangents with the same local partials,

    ẏ = Σ_i (∂y/∂x_i) · ẋ_i          (one multiply per input edge of the op).

At the outputs the tangents are J v, a Jacobian-vector product (JVP). With ``v`` the unit
vector e_j, one forward pass gives ∂(every output)/∂x_j, a **column** of the Jacobian.

:class:`Dual` is that engine for scalar functions: a number ``value`` with its ``tangent``.
Its ops are the scalar engine's op table (:data:`course_lib.autodiff.scalar.OPS`): each op's
``compute`` returns the output and its local partials, exactly as for ``Value``, so there is one
place per op and forward mode cannot disagree with reverse mode about a derivative. A function
written with ``Value`` operations (``x * y``, ``x.tanh()``, ``x.max(y)``, ``x ** 2`` ...) runs on
``Dual`` inputs unchanged.

**Counting.** Every ``Dual`` op records its multiplies (partial × tangent, one per input) in a
:class:`OpCount`; :func:`jacobian_by_reverse_mode` counts the backward passes' multiplies
(upstream × partial, one per input edge) the same way. For a graph with E edges, n inputs and
m outputs, the whole Jacobian costs forward mode n passes (about n·E multiplies) and reverse
mode m passes (about m·E, fewer when an output's graph is smaller): reverse mode wins for one
loss and many parameters, forward mode for few inputs and many outputs.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from course_lib.autodiff.graph import backward_steps
from course_lib.autodiff.scalar import OPS, Op, Value, power
from course_lib.numbers.checking import real_number, shown
from course_lib.numbers.formatting import format_number

__all__ = [
    "Dual",
    "OpCount",
    "forward_step",
    "jacobian_by_forward_mode",
    "jacobian_by_reverse_mode",
    "jvp",
]

# jacobian_by_forward_mode makes one pass per input, each carrying every input: n² Dual
# operations at least. The course's functions have a handful of inputs; a typo has a million.
MAX_FORWARD_INPUTS = 1_000


@dataclass
class OpCount:
    """What a derivative computation cost: ``passes`` (forward or backward sweeps) and
    ``multiplies`` (local partial × tangent, or upstream × local partial: one per input
    edge of each op per pass)."""

    passes: int = 0
    multiplies: int = 0

    def __repr__(self) -> str:
        return f"OpCount(passes={self.passes}, multiplies={self.multiplies})"


class Dual:
    """A number and its tangent: ``value`` = x, ``tangent`` = ẋ = dx/dt along a direction.

    Every operation runs :func:`forward_step`: the op table's ``compute`` on the values (the
    output and the local partials), and the output's tangent Σ partial_i · tangent_i. Plain
    numbers mixed in are constants (tangent 0). ``count`` (an :class:`OpCount`, shared by
    every ``Dual`` made from this one) adds one multiply per input of every op.
    """

    __slots__ = ("value", "tangent", "count")

    def __init__(self, value: float, tangent: float = 0.0, count: OpCount | None = None) -> None:
        self.value = real_number(value, "value", "Dual")
        self.tangent = real_number(tangent, "tangent", "Dual")
        if count is not None and not isinstance(count, OpCount):
            raise TypeError(f"Dual: count must be an OpCount or None, got {shown(count)}")
        self.count = count

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"

    # ---- applying an op of the table --------------------------------------------------------

    def _apply(self, op: Op, *others: Any) -> Dual:
        inputs = (self, *(_lift(o, op.name, self.count) for o in others))
        if op.domain is not None:
            op.domain(*(d.value for d in inputs))
        try:
            out, tangent = forward_step(op, inputs)
        except OverflowError:
            raise OverflowError(
                f"{op.name}: the result is too large for a float (about 1.8e308); scale the "
                "inputs down"
            ) from None
        count = next((d.count for d in inputs if d.count is not None), None)
        if count is not None:
            count.multiplies += len(inputs)
        if not (math.isfinite(out) and math.isfinite(tangent)):
            what = (
                f"{op.write(*(format_number(d.value) for d in inputs))} = {out}"
                if not (math.isfinite(out))
                else f"its tangent, {tangent},"
            )
            raise OverflowError(
                f"{op.name}: {what} passes the largest float (about 1.8e308); scale the inputs "
                "(or the direction) down"
            )
        return Dual(out, tangent, count)

    # ---- the operations, with Value's names ---------------------------------------------------

    def __add__(self, other: Dual | float) -> Dual:
        return self._apply(OPS["+"], other)

    def __mul__(self, other: Dual | float) -> Dual:
        return self._apply(OPS["*"], other)

    def __neg__(self) -> Dual:
        return self._apply(OPS["neg"])

    def __pow__(self, k: float) -> Dual:
        if isinstance(k, Dual | Value):
            raise TypeError("x ** k needs a plain number k, as for Value")
        return self._apply(power(real_number(k, "the exponent k", "x ** k")))

    def exp(self) -> Dual:
        return self._apply(OPS["exp"])

    def log(self) -> Dual:
        return self._apply(OPS["log"])

    def tanh(self) -> Dual:
        return self._apply(OPS["tanh"])

    def sigmoid(self) -> Dual:
        return self._apply(OPS["sigmoid"])

    def relu(self) -> Dual:
        return self._apply(OPS["relu"])

    def max(self, other: Dual | float) -> Dual:
        return self._apply(OPS["max"], other)

    # composites, as in Value: a - b = a + (-b), a / b = a * b**-1

    def __sub__(self, other: Dual | float) -> Dual:
        return self + (-_lift(other, "-", self.count))

    def __truediv__(self, other: Dual | float) -> Dual:
        other = _lift(other, "/", self.count)
        if other.value == 0.0:
            raise ZeroDivisionError("/: the divisor is 0")
        return self * other**-1

    def __radd__(self, other: float) -> Dual:
        return _lift(other, "+", self.count) + self

    def __rmul__(self, other: float) -> Dual:
        return _lift(other, "*", self.count) * self

    def __rsub__(self, other: float) -> Dual:
        return _lift(other, "-", self.count) - self

    def __rtruediv__(self, other: float) -> Dual:
        return _lift(other, "/", self.count) / self


def forward_step(op: Op, inputs: Sequence[Dual]) -> tuple[float, float]:
    """One op in forward mode: the output value and its tangent, Σ partial_i · tangent_i."""
    out, partials = op.compute(*(d.value for d in inputs))  # the op table: value and partials
    tangent = 0.0
    for partial, d in zip(partials, inputs, strict=True):
        tangent += partial * d.tangent  # forward mode's multiply: local partial × tangent
    return out, tangent


def _lift(x: Any, op: str, count: OpCount | None) -> Dual:
    """A plain number as a constant (tangent 0)."""
    if isinstance(x, Dual):
        return x
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{op}: cannot combine a Dual with {type(x).__name__} {shown(x)}")
    return Dual(real_number(x, "the number", op), 0.0, count)


# ---- Jacobian-vector products and whole Jacobians --------------------------------------------


def _outputs(result: Any, kind: type, where: str) -> tuple[Any, ...]:
    """``f``'s result as a tuple of outputs (one output, or a list/tuple of them)."""
    outs = tuple(result) if isinstance(result, list | tuple) else (result,)
    if not outs or not all(isinstance(o, kind) for o in outs):
        raise TypeError(
            f"{where}: f must return a {kind.__name__} or a list of them (built with Value "
            f"operations from its inputs), got {result!r}"
        )
    return outs


def _numbers(numbers: Sequence[float], name: str, where: str) -> tuple[float, ...]:
    """A point (or a direction) as a tuple of finite floats, one per input, or why not."""
    if isinstance(numbers, str) or not isinstance(numbers, Sequence | np.ndarray):
        raise TypeError(
            f"{where}: {name} must be a list of numbers, one per input of f (like [1.0, 2.0]), "
            f"got {shown(numbers)} ({type(numbers).__name__})"
        )
    values = tuple(real_number(x, f"{name}[{i}]", where) for i, x in enumerate(numbers))
    if not values:
        raise ValueError(f"{where}: the {name} needs at least one number, one per input of f")
    return values


def _point(point: Sequence[float], where: str) -> tuple[float, ...]:
    return _numbers(point, "point", where)


def _function(f: Any, inputs: int, where: str) -> None:
    """``f`` is a function that takes ``inputs`` numbers, one per entry of the point."""
    if not callable(f):
        raise TypeError(
            f"{where}: f must be a function of the inputs (like lambda x, y: x * y), got {shown(f)}"
        )
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # a builtin without a signature: the call will tell
        return
    try:
        signature.bind(*range(inputs))
    except TypeError:
        raise TypeError(
            f"{where}: the point has {inputs} number(s), but f{signature} cannot be called "
            f"with {inputs} input(s): give one number per input of f"
        ) from None


def jvp(
    f: Callable[..., Any],
    point: Sequence[float],
    direction: Sequence[float],
    count: OpCount | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One forward-mode pass: (outputs, J·direction) for ``f`` at ``point``.

    ``f`` takes one scalar per input and returns one output or a list of them, written with
    ``Value`` operations. Each input x_i starts with the tangent ``direction[i]``; the tangents
    that arrive at the outputs are J·direction. With direction e_j (1 at input j, 0 elsewhere)
    that is column j of the Jacobian.
    """
    values = _point(point, "jvp")
    tangents = _numbers(direction, "direction", "jvp")
    if count is not None and not isinstance(count, OpCount):
        raise TypeError(f"jvp: count must be an OpCount or None, got {shown(count)}")
    if len(tangents) != len(values):
        raise ValueError(
            f"jvp: the direction has {len(tangents)} entries, the point {len(values)}; give the "
            "direction one entry per input, as the point has"
        )
    _function(f, len(values), "jvp")
    if count is not None:
        count.passes += 1
    inputs = [Dual(v, t, count) for v, t in zip(values, tangents, strict=True)]
    outs = _outputs(f(*inputs), Dual, "jvp")
    return np.array([o.value for o in outs]), np.array([o.tangent for o in outs])


def jacobian_by_forward_mode(
    f: Callable[..., Any], point: Sequence[float]
) -> tuple[np.ndarray, OpCount]:
    """The Jacobian J[i, j] = ∂output_i/∂input_j, one **column** per forward pass (n passes for
    n inputs), and what it cost."""
    values = _point(point, "jacobian_by_forward_mode")
    if len(values) > MAX_FORWARD_INPUTS:
        raise ValueError(
            f"jacobian_by_forward_mode: {len(values):,} inputs would take {len(values):,} forward "
            f"passes of f, each carrying {len(values):,} inputs; forward mode here is for small "
            f"functions (at most {MAX_FORWARD_INPUTS:,} inputs). For many inputs and few outputs "
            "use jacobian_by_reverse_mode: one backward pass per output"
        )
    _function(f, len(values), "jacobian_by_forward_mode")
    count = OpCount()
    columns = []
    for j in range(len(values)):
        unit = [1.0 if i == j else 0.0 for i in range(len(values))]
        columns.append(jvp(f, values, unit, count)[1])
    return np.column_stack(columns), count


def jacobian_by_reverse_mode(
    f: Callable[..., Any], point: Sequence[float]
) -> tuple[np.ndarray, OpCount]:
    """The same Jacobian, one **row** per backward pass (m passes for m outputs), and what the
    backward passes cost (one multiply, upstream × local partial, per input edge of every node
    the pass visits).

    The graph is built once with ``Value`` inputs; each output then gets its own backward pass
    (:func:`course_lib.autodiff.graph.backward_steps`, seed 1), which resets the gradients first.
    """
    values = _point(point, "jacobian_by_reverse_mode")
    _function(f, len(values), "jacobian_by_reverse_mode")
    inputs = [Value(v) for v in values]
    outs = _outputs(f(*inputs), Value, "jacobian_by_reverse_mode")
    count = OpCount()
    rows = []
    for out in outs:
        count.passes += 1
        for x in inputs:
            x.grad = None  # an input this output does not use keeps no old gradient
        for step in backward_steps(out, 1.0):
            count.multiplies += len(step.contributions)
        rows.append([0.0 if x.grad is None else x.grad for x in inputs])
    return np.array(rows, dtype=np.float64).reshape(len(outs), len(values)), count
