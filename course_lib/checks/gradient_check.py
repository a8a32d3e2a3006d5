"""Checking gradients against finite differences.

A gradient check compares what ``backward()`` computed with the central difference
(f(x + h e_i) - f(x - h e_i)) / (2h), input by input (:func:`gradient_check` for ``Value``
functions, :func:`tensor_gradient_check` for ``Tensor`` ones, every element), by the relative
error |a - b| / max(|a|, |b|) (:func:`relative_error`): an absolute error alone cannot tell a
gradient of 1e-8 that is off by a factor of 2 from one of 1e3 right to 6 digits. Near a kink
(ReLU at 0, a max with a tie) the check says the point may not be differentiable, and which
input. :func:`jacobian_reverse_mode` and :func:`jacobian_finite_differences` build a whole
Jacobian both ways.

Why the central difference has two errors, and how the step h trades them off, is in
:mod:`course_lib.checks.finite_differences` (with :func:`central_difference`,
:func:`central_difference_sweep` and :func:`relative_error`, importable from here too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.autodiff.scalar import Value
from course_lib.checks.finite_differences import (
    as_point,
    central_difference,
    central_difference_sweep,
    check_function,
    check_step,
    check_tolerance,
    evaluate,
    evaluate_nudged,
    finite_at_point,
    float64_array,
    input_names,
    relative_error,
)
from course_lib.numbers.checking import check_size, shown
from course_lib.tensor import Tensor

__all__ = [
    "GradientCheck",
    "TensorGradientCheck",
    "central_difference",
    "central_difference_sweep",
    "gradient_check",
    "jacobian_finite_differences",
    "jacobian_reverse_mode",
    "relative_error",
    "tensor_gradient_check",
]


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
    notes: tuple[str, ...] = ()  # per input: why a disagreement may not be a bug ("" if none)

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
        lines += [note for note in self.notes if note]
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
    ``lambda x, y, z: (x + y) * z``. Each input's row reports the gradient b from
    ``backward()``, the finite-difference estimate n = (f(x + h) - f(x - h)) / (2h), the
    absolute error |b - n| and the relative error |b - n| / max(|b|, |n|) (0 when both are 0).

    An input passes when |b - n| <= atol + rtol·|n|: a relative test, with a small absolute
    floor ``atol`` so that a gradient of exactly 0 (where n is round-off, about 1e-10) passes.
    Below about ``atol`` that floor also hides a wrong gradient (2e-8 against 1e-8 passes), so
    for tiny gradients read the relative error. An input that fails
    because the point is within h of a kink of f (ReLU at 0, a tie in max) gets a note saying
    so (``notes``).
    """
    where = "gradient_check"
    check_function(f, where)
    values = as_point(point, where)
    h = check_step(h, where)
    rtol, atol = check_tolerance(rtol, "rtol", where), check_tolerance(atol, "atol", where)
    names = input_names(f, len(values))
    inputs = [Value(x, label=name) for x, name in zip(values, names, strict=True)]
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(
            f"gradient_check needs f to return a Value, got {type(out).__name__}; write f "
            "with Value operations (x.exp(), not math.exp(x))"
        )
    finite_at_point(out.data, values, names)
    out.backward()
    analytic = tuple(0.0 if v.grad is None else v.grad for v in inputs)
    for name, grad in zip(names, analytic, strict=True):
        if not math.isfinite(grad):
            raise ValueError(
                f"backward() gave d f/d {name} = {grad} at this point: the gradient overflows "
                "here, so there is nothing finite to compare; pick a point where f changes "
                "less steeply"
            )
    numerical = tuple(central_difference(f, values, i, h) for i in range(len(values)))
    abs_error = tuple(abs(b - n) for b, n in zip(analytic, numerical, strict=True))
    rel_error = tuple(relative_error(b, n) for b, n in zip(analytic, numerical, strict=True))
    passed = tuple(e <= atol + rtol * abs(n) for e, n in zip(abs_error, numerical, strict=True))
    notes = tuple(
        "" if ok else _kink_note(f, values, i, names[i], h) for i, ok in enumerate(passed)
    )
    return GradientCheck(
        names, values, analytic, numerical, abs_error, rel_error, passed, rtol, atol, notes
    )


def _kink_note(
    f: Callable[..., Value | float], point: tuple[float, ...], index: int, name: str, h: float
) -> str:
    """A sentence when f has a kink in input ``index`` within h of ``point``, else "".

    At a smooth point the one-sided difference quotients (f(x + h) - f(x)) / h and
    (f(x) - f(x - h)) / h differ by about h·f''(x), which is tiny; when a kink (ReLU at 0, max
    with a tie, |x| at 0) lies in [x - h, x + h] they differ by a jump that does not shrink
    with h. The derivative does not exist at the kink: backward() reports one side's slope (or
    a convention), the central difference averages the two sides, so they need not agree.
    """
    base = evaluate(f, point)

    def f_at(offset: float) -> float:
        nudged = list(point)
        nudged[index] += offset
        return evaluate_nudged(f, nudged, name, point[index], nudged[index], h)

    right = (f_at(h) - base) / h
    left = (base - f_at(-h)) / h
    if abs(right - left) <= 1e-2 * max(1.0, abs(left), abs(right)):
        return ""
    return (
        f"note: f has a kink in {name} at or within h = {h:g} of {name} = {point[index]:g} "
        f"(slope {left:.6g} over [{name} - h, {name}], {right:.6g} over [{name}, {name} + h]). "
        "At a kink f is not differentiable (ReLU at 0, max with a tie, |x| at 0 ...): "
        "backward() gives one side's slope, the central difference averages both sides, so "
        f"they need not agree for {name}. Check at a point farther than h from the kink."
    )


# ---- tensors: gradient checks over every element, and Jacobians ----------------------------
#
# For a function of arrays the same central difference is taken once per element: nudge one
# entry x[j] by ±h, leave every other entry alone. A non-scalar output y is turned into the
# number L = Σ upstream * y, so backward(upstream) and the finite differences of L measure
# the same thing: the vector-Jacobian product upstreamᵀ J.


@dataclass(frozen=True)
class TensorGradientCheck:
    """The outcome of :func:`tensor_gradient_check`: one row per input array of ``f``."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    backward: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    max_abs_error: tuple[float, ...]
    max_rel_error: tuple[float, ...]
    passed: tuple[bool, ...]
    problems: tuple[str, ...]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        """True when every element of every gradient agrees within ``atol + rtol·|numerical|``
        and every gradient has its input's shape."""
        return all(self.passed)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{'input':<8}{'shape':>14}{'max abs error':>15}{'max rel error':>15}  ok"]
        for name, shape, ae, re_, ok, problem in zip(
            self.names,
            self.shapes,
            self.max_abs_error,
            self.max_rel_error,
            self.passed,
            self.problems,
            strict=True,
        ):
            lines.append(
                f"{name:<8}{str(shape):>14}{ae:>15.1e}{re_:>15.1e}  {'yes' if ok else 'NO'}"
                + (f"  ({problem})" if problem else "")
            )
        verdict = "all gradients agree" if self.ok else "SOME GRADIENTS DISAGREE"
        lines.append(
            f"{verdict}, element by element (tolerance: {self.atol:g} + {self.rtol:g} × "
            "|finite diff.|)"
        )
        return "\n".join(lines)

    __repr__ = __str__


def tensor_gradient_check(
    f: Callable[..., Tensor],
    *inputs: Any,
    upstream: Any = None,
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> TensorGradientCheck:
    """Compare ``backward()`` with central differences for every element of every input.

    ``f`` takes one ``Tensor`` per input array and returns a ``Tensor``, for example
    ``lambda X, b: (X + b).sigmoid()``. The inputs are copied to float64. For a one-element
    output the seed is 1; otherwise ``upstream`` (default: a fixed random array of the
    output's shape, seed 0) weights the outputs, and both sides compute upstreamᵀ J.
    A gradient of the wrong shape fails the check and says so. Errors are measured as in
    :func:`gradient_check`: an element passes when |b - n| <= atol + rtol·|n|, and the
    report gives each input's largest absolute and relative error (:func:`relative_error`).
    """
    where = "tensor_gradient_check"
    check_function(f, where)
    h = check_step(h, where)
    rtol, atol = check_tolerance(rtol, "rtol", where), check_tolerance(atol, "atol", where)
    arrays = [_float64_input(x, i) for i, x in enumerate(inputs)]
    if not arrays:
        raise ValueError("tensor_gradient_check needs at least one input array")
    names = input_names(f, len(arrays))
    tensors = [Tensor(a.copy(), label=name) for a, name in zip(arrays, names, strict=True)]
    out = _call_at_point(f, tensors)
    weights = _upstream(out, upstream)
    _backward(out, weights, tensors)

    backward, numerical, abs_errors, rel_errors, passed, problems = [], [], [], [], [], []
    for i, (x, t) in enumerate(zip(arrays, tensors, strict=True)):
        estimate = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            estimate[j] = _nudged_difference(f, arrays, i, j, weights, h)
        grad = np.zeros_like(x) if t.grad is None else np.asarray(t.grad, dtype=np.float64)
        numerical.append(estimate)
        backward.append(grad)
        if grad.shape != x.shape:
            problems.append(f"backward() gave a gradient of shape {grad.shape}, not {x.shape}")
            abs_errors.append(math.inf)
            rel_errors.append(math.inf)
            passed.append(False)
            continue
        error = np.abs(grad - estimate)
        rel = np.asarray(relative_error(grad, estimate))
        abs_errors.append(float(error.max(initial=0.0)))
        rel_errors.append(float(rel.max(initial=0.0)))
        within = error <= atol + rtol * np.abs(estimate)
        passed.append(bool(np.all(within)))
        problems.append("" if within.all() else _tensor_kink_note(f, arrays, i, within, weights, h))
    return TensorGradientCheck(
        names,
        tuple(a.shape for a in arrays),
        tuple(backward),
        tuple(numerical),
        tuple(abs_errors),
        tuple(rel_errors),
        tuple(passed),
        tuple(problems),
        rtol,
        atol,
    )


def _tensor_kink_note(
    f: Callable[..., Tensor],
    arrays: list[np.ndarray],
    i: int,
    within: np.ndarray,
    weights: np.ndarray,
    h: float,
) -> str:
    """Name the first disagreeing element of input i within h of a kink of f, if one is.

    The same test as for scalars: one-sided difference quotients that differ by a jump mean
    that [x - h, x + h] holds a point where f is not differentiable (ReLU at 0, max with a
    tie), so a disagreement is expected.
    """
    base = _nudged_loss(f, arrays, i, next(iter(np.ndindex(arrays[i].shape))), weights, 0.0, h)
    for j in zip(*np.nonzero(~within), strict=True):
        j = tuple(int(k) for k in j)
        right = (_nudged_loss(f, arrays, i, j, weights, h, h) - base) / h
        left = (base - _nudged_loss(f, arrays, i, j, weights, -h, h)) / h
        if abs(right - left) > 1e-2 * max(1.0, abs(left), abs(right)):
            return (
                f"element {list(j)} = {arrays[i][j]:g} is at or within h = {h:g} of a kink of "
                f"f (slope {left:.6g} over [x - h, x], {right:.6g} over [x, x + h]): f is not "
                "differentiable at a kink (ReLU at 0, max with a tie), so a disagreement there "
                "is expected; check at a point farther than h from the kink"
            )
    return ""


def jacobian_reverse_mode(
    f: Callable[[Tensor], Tensor], x: Any, rows: Sequence[int] | None = None
) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by reverse mode, one row per ``backward()`` call.

    Row i is d y_i / d x for the i-th element of the output y (both flattened, row-major).
    It is the vector-Jacobian product eᵢᵀ J: ``backward(upstream)`` with a one-hot upstream
    that is 1 at output element i and 0 elsewhere. The graph is built once and reused for
    every row. Returns an array of shape (number of rows, x.size); ``rows`` picks which
    output elements to differentiate (default: all).
    """
    check_function(f, "jacobian_reverse_mode")
    x = _float64_input(x, 0)
    tensor = Tensor(x.copy(), label="x")
    out = _call_at_point(f, [tensor])
    if rows is not None and (isinstance(rows, str) or not hasattr(rows, "__iter__")):
        raise TypeError(
            f"jacobian_reverse_mode: rows must be a list of output element indices, such as "
            f"[0, 2], got {shown(rows)}"
        )
    rows = range(out.data.size) if rows is None else list(rows)
    check_size(len(rows) * x.size, "the Jacobian (rows × inputs)", "jacobian_reverse_mode")
    jacobian = np.zeros((len(rows), x.size))
    one_hot = np.zeros(out.data.shape)
    for r, i in enumerate(rows):
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError(f"rows must hold whole numbers (output element indices), got {i!r}")
        if not -out.data.size <= i < out.data.size:
            raise IndexError(
                f"row {shown(i)} is outside the {out.data.size} output elements: rows run from 0 "
                f"to {out.data.size - 1}"
            )
        one_hot.flat[i] = 1.0
        _backward(out, one_hot, [tensor])
        one_hot.flat[i] = 0.0
        if tensor.grad is not None:
            jacobian[r] = tensor.grad.reshape(-1)
    return jacobian


def jacobian_finite_differences(
    f: Callable[[Tensor], Tensor], x: Any, h: float = 1e-6
) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by central differences, one column per input element:
    column j is (f(x + h e_j) - f(x - h e_j)) / (2h), flattened. Shape (y.size, x.size)."""
    check_function(f, "jacobian_finite_differences")
    h = check_step(h, "jacobian_finite_differences")
    x = _float64_input(x, 0)
    size = _call_at_point(f, [Tensor(x, requires_grad=False)]).data.size
    check_size(size * x.size, "the Jacobian (outputs × inputs)", "jacobian_finite_differences")
    jacobian = np.zeros((size, x.size))
    nudged = x.copy()
    flat = nudged.reshape(-1)  # a view: writing flat[j] nudges `nudged`
    for j in range(x.size):
        flat[j] = x.flat[j] + h
        # Copies: f may return its input or a view of it (identity, reshape), and the next
        # nudge would change a result we still need.
        up = _nudged_output(f, nudged, j, x.flat[j] + h, h)
        flat[j] = x.flat[j] - h
        down = _nudged_output(f, nudged, j, x.flat[j] - h, h)
        flat[j] = x.flat[j]
        jacobian[:, j] = (up - down) / (2.0 * h)
    return jacobian


def _nudged_output(f: Callable[..., Tensor], nudged: np.ndarray, j: int, at: float, h: float):
    """A flat copy of f's output at the nudged input; a failure there is named as the step
    crossing the edge of f's domain (f was fine at the point itself)."""
    where = f"element {j} of x to {at:g} (h = {h:g})"
    try:
        with np.errstate(all="ignore"):
            out = np.array(_call(f, [Tensor(nudged, requires_grad=False)]).data, copy=True)
    except (ArithmeticError, ValueError) as error:
        raise ValueError(
            f"finite differences nudge {where}, and f fails there: {error}. The step crosses "
            "the edge of f's domain (a log near 0, say): check at a point farther from that "
            "edge, or pass a smaller h"
        ) from None
    if not np.isfinite(out).all():
        raise ValueError(
            f"finite differences nudge {where}, and f's output is not finite there: the step "
            "crosses the edge of f's domain, or f overflows there; check at another point, or "
            "pass a smaller h"
        )
    return out.reshape(-1)


def _float64_input(x: Any, position: int | str) -> np.ndarray:
    """An input array (or ``upstream``, for ``position="upstream"``) as a float64 copy."""
    name = position if isinstance(position, str) else f"input {position}"
    array = float64_array(x, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds inf or nan; a gradient check needs finite numbers")
    return array


def _call(f: Callable[..., Any], tensors: list[Tensor]) -> Tensor:
    out = f(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"f must return a Tensor, got {type(out).__name__}; write f with Tensor operations "
            "(x.exp(), not np.exp(x))"
        )
    return out


def _call_at_point(f: Callable[..., Any], tensors: list[Tensor]) -> Tensor:
    """f at the point itself, whose output must be finite: a check needs numbers to compare.

    numpy's overflow warnings are silenced here and replaced by an error that says what
    happened (an error the engine raises itself still comes through, saying why)."""
    with np.errstate(all="ignore"):
        out = _call(f, tensors)
    if not np.isfinite(out.data).all():
        bad = np.argwhere(~np.isfinite(out.data))[0]
        value = out.data[tuple(bad)]
        raise ValueError(
            f"f's output is {value} at the point itself (output element {bad.tolist()}): f "
            "overflows or leaves its domain there, so it has no gradient to check; pick a "
            "point where f is finite"
        )
    return out


def _backward(out: Tensor, seed: np.ndarray, inputs: list[Tensor]) -> None:
    """``out.backward(seed)``, then every input's gradient must be finite."""
    with np.errstate(all="ignore"):
        out.backward(seed)
    for position, t in enumerate(inputs):
        if t.grad is not None and not np.isfinite(t.grad).all():
            raise ValueError(
                f"backward() gave a gradient holding inf or nan for input {position} at this "
                "point: it overflows here, so there is nothing finite to compare; pick a point "
                "where f changes less steeply"
            )


def _upstream(out: Tensor, upstream: Any) -> np.ndarray:
    if upstream is None:
        if out.data.size == 1:
            return np.ones(out.data.shape)
        return np.random.default_rng(0).uniform(-1.0, 1.0, out.data.shape)
    weights = _float64_input(upstream, "upstream")
    if weights.shape != out.data.shape:
        raise ValueError(
            f"upstream has shape {weights.shape} but f's output has shape {out.data.shape}: give "
            "an upstream of the output's shape (or none, for random weights)"
        )
    return weights


def _nudged_difference(
    f: Callable[..., Tensor],
    arrays: list[np.ndarray],
    i: int,
    j: tuple[int, ...],
    weights: np.ndarray,
    h: float,
) -> float:
    """(L(x + h e_j) - L(x - h e_j)) / 2h for input i, with L = Σ weights * f(...)."""
    up = _nudged_loss(f, arrays, i, j, weights, +h, h)
    down = _nudged_loss(f, arrays, i, j, weights, -h, h)
    return (up - down) / (2.0 * h)


def _nudged_loss(
    f: Callable[..., Tensor],
    arrays: list[np.ndarray],
    i: int,
    j: tuple[int, ...],
    weights: np.ndarray,
    offset: float,
    h: float,
) -> float:
    """L = Σ weights * f(...) with element j of input i moved by ``offset`` (then put back).

    A failure or a non-finite L there is named as the step crossing the edge of f's domain:
    f was fine at the point itself (backward() ran there before any nudge).
    """
    x = arrays[i]
    original = x[j]
    where = f"input {i}, element {list(j) if j else '()'} = {original:g}"
    try:
        x[j] = original + offset
        with np.errstate(all="ignore"):
            out = _call(f, [Tensor(a, requires_grad=False) for a in arrays])
            value = float(np.sum(weights * out.data))
    except (ArithmeticError, ValueError) as error:
        raise ValueError(
            f"finite differences nudge {where} by ±h (h = {h:g}), and f fails at "
            f"{original + offset:g}: {error}. The step crosses the edge of f's domain (a log "
            "near 0, say): check at a point farther from that edge, or pass a smaller h"
        ) from None
    finally:
        x[j] = original
    if not math.isfinite(value):
        raise ValueError(
            f"finite differences nudge {where} by ±h (h = {h:g}), and f's output is not finite "
            f"at {original + offset:g}: the step crosses the edge of f's domain, or f "
            "overflows there; check at another point, or pass a smaller h"
        )
    return value
