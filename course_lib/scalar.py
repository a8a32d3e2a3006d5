"""``Value``: scalar reverse-mode automatic differentiation.

Every operation computes its output *and* its local partials d(out)/d(input) in the same few
lines, and stores the partials on the output node. ``backward()`` then does the rest with the
four moves of :mod:`course_lib.graph`: take the upstream gradient dL/d(out), multiply it by
each local partial, and add the product into the input's gradient (sum at joins).

Local partials, one op per line (a, b inputs; out the result)::

    out = a + b     d out/d a = 1            d out/d b = 1
    out = a * b     d out/d a = b            d out/d b = a
    out = -a        d out/d a = -1
    out = a ** k    d out/d a = k a^(k-1)    (k a plain number)
    out = exp(a)    d out/d a = exp(a) = out
    out = log(a)    d out/d a = 1 / a
    out = tanh(a)   d out/d a = 1 - out^2
    out = σ(a)      d out/d a = out (1 - out)
    out = relu(a)   d out/d a = 1 if a > 0 else 0

Subtraction and division are built from these: a - b = a + (-b), a / b = a * b**-1.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from course_lib.graph import backpropagate, topological_order

__all__ = ["Value"]


def _zero(node: Value) -> float:
    return 0.0


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


class Value:
    """A scalar node of a computation graph.

    Attributes: ``data`` (the forward value, a float), ``grad`` (dL/d(this node) after
    ``backward()``, ``None`` before), ``label`` (a name for drawings, or ``None``), ``parents``
    (the input nodes, in order), ``op`` (the operation that made it, ``""`` for an input) and
    ``partials`` (d(this)/d(parent) for each parent, in the same order).
    """

    __slots__ = ("data", "grad", "label", "parents", "op", "partials")

    def __init__(self, data: float, label: str | None = None) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(...) got a Value; use it directly instead of wrapping it")
        if not isinstance(data, Real):
            raise TypeError(f"Value needs a real number, got {type(data).__name__} {data!r}")
        data = float(data)
        if not math.isfinite(data):
            raise ValueError(f"Value needs a finite number, got {data}")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        self.data = data
        self.grad: float | None = None
        self.label = label
        self.parents: tuple[Value, ...] = ()
        self.op = ""
        self.partials: tuple[float, ...] = ()

    @staticmethod
    def _result(data: float, parents: tuple[Value, ...], op: str, partials: tuple) -> Value:
        """The output node of an op: its value, inputs, and local partials."""
        out = Value.__new__(Value)
        out.data = data
        out.grad = None
        out.label = None
        out.parents = parents
        out.op = op
        out.partials = partials
        return out

    def named(self, label: str) -> Value:
        """Set ``label`` and return the node itself: ``q = (x + y).named("q")``."""
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        self.label = label
        return self

    def __repr__(self) -> str:
        grad = "not computed yet" if self.grad is None else f"{self.grad:.6g}"
        name = f"{self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={grad})"

    # ---- the operations: output value and local partials side by side -----------------

    def __add__(self, other: Value | float) -> Value:
        other = _lift(other, "+")
        return Value._result(self.data + other.data, (self, other), "+", (1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        other = _lift(other, "*")
        return Value._result(self.data * other.data, (self, other), "*", (other.data, self.data))

    def __neg__(self) -> Value:
        return Value._result(-self.data, (self,), "neg", (-1.0,))

    def __pow__(self, k: float) -> Value:
        if isinstance(k, Value):
            raise TypeError(
                "x ** y needs a plain number as the exponent, not a Value: the course's "
                "power rule d(x^k)/dx = k x^(k-1) holds for a constant k. For a variable "
                "exponent write (y * x.log()).exp()."
            )
        if not isinstance(k, Real):
            raise TypeError(f"x ** k needs a number k, got {type(k).__name__}")
        k = float(k)
        x = self.data
        if x == 0.0 and k < 0:
            raise ZeroDivisionError(f"{_name(self)} ** {_format_number(k)}: the base is 0")
        if x < 0.0 and not k.is_integer():
            raise ValueError(
                f"{_name(self)} ** {_format_number(k)}: a negative base ({x}) with a "
                "non-integer exponent has no real value"
            )
        return Value._result(x**k, (self,), f"**{_format_number(k)}", (k * x ** (k - 1),))

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data}) is too large for a float (the largest is about e^709)"
            ) from None
        return Value._result(e, (self,), "exp", (e,))

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(
                f"log needs a positive input, but {_name(self)} = {self.data}: "
                "the logarithm is only defined for numbers greater than 0"
            )
        return Value._result(math.log(self.data), (self,), "log", (1.0 / self.data,))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value._result(t, (self,), "tanh", (1.0 - t * t,))

    def sigmoid(self) -> Value:
        x = self.data
        # Two forms of 1 / (1 + e^-x), each used where its exponential cannot overflow.
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Value._result(s, (self,), "sigmoid", (s * (1.0 - s),))

    def relu(self) -> Value:
        x = self.data
        return Value._result(max(x, 0.0), (self,), "relu", (1.0 if x > 0.0 else 0.0,))

    # ---- composites, written with the primitives above -----------------------------

    def __sub__(self, other: Value | float) -> Value:
        return self + (-_lift(other, "-"))

    def __truediv__(self, other: Value | float) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: the divisor {_name(other)} is 0")
        return self * other**-1

    def __radd__(self, other: float) -> Value:
        return _lift(other, "+") + self

    def __rmul__(self, other: float) -> Value:
        return _lift(other, "*") * self

    def __rsub__(self, other: float) -> Value:
        return _lift(other, "-") - self

    def __rtruediv__(self, other: float) -> Value:
        return _lift(other, "/") / self

    def __rpow__(self, base: float) -> Value:
        raise TypeError(
            "b ** x with a Value exponent x is not a primitive here (the exponent must be a "
            "plain number); write (x * math.log(b)).exp() instead"
        )

    # ---- reverse mode -----------------------------------------------------------------

    def local_backward(self, upstream: float) -> list[float]:
        """Multiply: each parent's contribution is upstream × its local partial."""
        return [upstream * partial for partial in self.partials]

    def backward(self) -> None:
        """Set ``grad`` on every node this one depends on to d(self)/d(node).

        The seed d(self)/d(self) is 1. Gradients are reset first, so calling ``backward()``
        again gives the same numbers rather than adding to the old ones.
        """
        backpropagate(self, 1.0, _zero)

    def graph_nodes(self) -> list[Value]:
        """Every node of the graph that ends here, inputs first (a topological order)."""
        return topological_order(self)


def _lift(x: Any, op: str) -> Value:
    """Wrap a plain number as a constant node; reject anything else with a clear message."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(x)
    raise TypeError(f"{op}: cannot combine a Value with {type(x).__name__} {x!r}")


def _name(v: Value) -> str:
    return v.label if v.label else f"the {v.op or 'input'} node"
