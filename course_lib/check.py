"""Checking gradients against finite differences.

The central difference

    df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2h)

has error O(h²) from the Taylor expansion (the h² f'''/6 term) plus O(ε/h) from rounding in
float64 (ε ≈ 1e-16), so h = 1e-6 gives about 1e-10 absolute accuracy for well-scaled f.
A gradient check compares that estimate with what ``backward()`` computed, input by input.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

from course_lib.scalar import Value

__all__ = ["GradientCheck", "central_difference", "gradient_check"]


def _evaluate(f: Callable[..., Value | float], point: Sequence[float]) -> float:
    out = f(*(Value(x) for x in point))
    return out.data if isinstance(out, Value) else float(out)


def central_difference(
    f: Callable[..., Value | float], point: Sequence[float], index: int, h: float = 1e-6
) -> float:
    """Estimate df/dx_index at ``point`` by (f(x + h e_i) - f(x - h e_i)) / (2h).

    ``f`` takes one argument per coordinate of ``point`` and is written with ``Value``
    operations (it is called with ``Value`` inputs and may return a ``Value`` or a number).
    """
    point = _as_point(point)
    if not 0 <= index < len(point):
        raise IndexError(f"index {index} is outside the {len(point)} inputs of the point")
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h}")
    up = list(point)
    down = list(point)
    up[index] += h
    down[index] -= h
    return (_evaluate(f, up) - _evaluate(f, down)) / (2.0 * h)


@dataclass(frozen=True)
class GradientCheck:
    """The outcome of :func:`gradient_check`: one row per input of ``f``."""

    names: tuple[str, ...]
    point: tuple[float, ...]
    backward: tuple[float, ...]
    numerical: tuple[float, ...]
    abs_error: tuple[float, ...]
    rel_error: tuple[float, ...]
    passed: tuple[bool, ...]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        """True when every input's gradient agrees within ``atol + rtol * |numerical|``."""
        return all(self.passed)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [
            f"{'input':<8}{'value':>10}{'backward()':>14}{'finite diff.':>14}"
            f"{'abs error':>11}{'rel error':>11}  ok",
        ]
        for row in zip(
            self.names,
            self.point,
            self.backward,
            self.numerical,
            self.abs_error,
            self.rel_error,
            self.passed,
            strict=True,
        ):
            name, x, b, n, ae, re_, ok = row
            lines.append(
                f"{name:<8}{x:>10.4g}{b:>14.6g}{n:>14.6g}{ae:>11.1e}{re_:>11.1e}  "
                f"{'yes' if ok else 'NO'}"
            )
        verdict = "all gradients agree" if self.ok else "SOME GRADIENTS DISAGREE"
        lines.append(f"{verdict} (tolerance: {self.atol:g} + {self.rtol:g} × |finite diff.|)")
        return "\n".join(lines)

    __repr__ = __str__


def gradient_check(
    f: Callable[..., Value],
    *point: float,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> GradientCheck:
    """Compare ``backward()`` with central differences for every input of ``f`` at ``point``.

    ``f`` is a function of scalar inputs written with ``Value`` operations, for example
    ``lambda x, y, z: (x + y) * z``. Each input's row reports the gradient from
    ``backward()``, the finite-difference estimate, the absolute error |b - n| and the
    relative error |b - n| / max(|b|, |n|) (0 when both are 0).
    """
    values = _as_point(point)
    names = _input_names(f, len(values))
    inputs = [Value(x, label=name) for x, name in zip(values, names, strict=True)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(
            f"gradient_check needs f to return a Value, got {type(out).__name__}; write f "
            "with Value operations (x.exp(), not math.exp(x))"
        )
    out.backward()
    analytic = tuple(0.0 if v.grad is None else v.grad for v in inputs)
    numerical = tuple(central_difference(f, values, i, h) for i in range(len(values)))
    abs_error = tuple(abs(b - n) for b, n in zip(analytic, numerical, strict=True))
    rel_error = tuple(
        0.0 if e == 0.0 else e / max(abs(b), abs(n))
        for e, b, n in zip(abs_error, analytic, numerical, strict=True)
    )
    passed = tuple(e <= atol + rtol * abs(n) for e, n in zip(abs_error, numerical, strict=True))
    return GradientCheck(
        names, values, analytic, numerical, abs_error, rel_error, passed, rtol, atol
    )


def _as_point(point: Sequence[float]) -> tuple[float, ...]:
    if len(point) == 0:
        raise ValueError("the point needs at least one input value")
    for x in point:
        if isinstance(x, Value) or not isinstance(x, Real) or not math.isfinite(x):
            raise TypeError(f"each input must be a finite plain number, got {x!r}")
    return tuple(float(x) for x in point)


def _input_names(f: Callable[..., object], count: int) -> tuple[str, ...]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    has_varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    if params and not has_varargs and len(positional) != count:
        raise TypeError(f"f takes {len(positional)} inputs but the point has {count} values")
    if len(positional) >= count:
        return tuple(positional[:count])
    return tuple(f"x{i}" for i in range(count))
