"""Finite differences: the numbers a gradient check compares with ``backward()``.

The central difference

    df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2h)

has two errors. Truncation: by Taylor's theorem the estimate is f'(x) + h² f'''(x)/6 + O(h⁴),
an error that falls as h². Round-off: f(x ± h) are each rounded to a floating-point number,
an error of about ε·|f| (ε = 2.2e-16 in float64, 1.2e-7 in float32), and dividing their
difference by 2h magnifies it to about ε·|f|/h, an error that rises as h shrinks. In float64
their sum is smallest for h near ε^(1/3), between about 1e-6 and 1e-5; the default h = 1e-6
gives about 1e-10 absolute accuracy for well-scaled f. :func:`central_difference_sweep`
measures the estimate over a range of h, in float64 or float32.

:func:`relative_error` is |a - b| / max(|a|, |b|), the measure :mod:`course_lib.checks`
compares by. Everything public here is importable from :mod:`course_lib.checks` too.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np

from course_lib.autodiff.scalar import Value
from course_lib.numbers.checking import real_number, shown, whole_number
from course_lib.tensor import Tensor

__all__ = ["MAX_STEPS", "central_difference", "central_difference_sweep", "relative_error"]

MAX_STEPS = 10_000  # steps h in one sweep: a curve needs a hundred
# check_function, float64_array, check_step, check_tolerance, as_point and the evaluation
# helpers are public for gradient_check, which shares them.


def evaluate(f: Callable[..., Value | float], point: Sequence[float]) -> float:
    out = f(*(Value(x) for x in point))
    if isinstance(out, Value):
        return out.data
    if isinstance(out, Real) and not isinstance(out, bool):
        return real_number(out, "f's result", "finite differences", finite=False)
    raise TypeError(
        f"f must return a Value (or a number), built from its inputs with Value operations; it "
        f"returned {type(out).__name__} {shown(out)}"
    )


def _evaluate_at_point(
    f: Callable[..., Value | float], point: Sequence[float], names: Sequence[str]
) -> float:
    """f at the point itself, which must be finite: a check needs a number to start from."""
    return finite_at_point(evaluate(f, point), point, names)  # an error of f is its own


def finite_at_point(value: float, point: Sequence[float], names: Sequence[str]) -> float:
    if not math.isfinite(value):
        at = ", ".join(f"{n} = {x:g}" for n, x in zip(names, point, strict=True))
        raise ValueError(
            f"f is {value} at the point itself ({at}): it overflows or leaves its domain "
            "there, so it has no gradient to check; pick a point where f is finite"
        )
    return value


def check_step(h: Any, where: str) -> float:
    """The finite-difference step h as a float: a positive, finite real number (any real
    number type; text, NaN, inf or an int beyond the floats get the one check's sentence)."""
    h = real_number(h, "the step h", where)
    if not h > 0:
        raise ValueError(f"{where}: the step h must be positive and finite, such as 1e-6, got {h}")
    return h


def central_difference(
    f: Callable[..., Value | float], point: Sequence[float], index: int, h: float = 1e-6
) -> float:
    """Estimate df/dx_index at ``point`` by (f(x + h e_i) - f(x - h e_i)) / (2h).

    ``f`` takes one argument per coordinate of ``point`` and is written with ``Value``
    operations (it is called with ``Value`` inputs and may return a ``Value`` or a number).
    """
    check_function(f, "central_difference")
    point = as_point(point, "central_difference")
    if type(index) is not int:  # NumPy ints pass; 1.0, text and bools are refused
        index = whole_number(index, "index", "central_difference", minimum=0)
    if not 0 <= index < len(point):
        raise IndexError(
            f"central_difference: index {shown(index)} is outside the {len(point)} inputs of the "
            f"point (0 to {len(point) - 1})"
        )
    h = check_step(h, "central_difference")
    names = input_names(f, len(point))
    name = names[index]
    _evaluate_at_point(f, point, names)

    def f_at(offset: float) -> float:
        nudged = list(point)
        nudged[index] += offset
        return evaluate_nudged(f, nudged, name, point[index], nudged[index], h)

    return (f_at(h) - f_at(-h)) / (2.0 * h)


def evaluate_nudged(
    f: Callable[..., Value | float],
    nudged: Sequence[float],
    name: str,
    at: float,
    moved_to: float,
    h: float,
) -> float:
    """f at a nudged point. A failure there is named as the step leaving f's domain, since
    f itself was fine at the point (or the caller would have failed before nudging)."""
    try:
        value = evaluate(f, nudged)
    except (ArithmeticError, ValueError) as error:
        raise ValueError(
            f"finite differences nudge {name} = {at:g} by ±h (h = {h:g}), and f fails at "
            f"{name} = {moved_to:g}: {error}. The step crosses the edge of f's domain (a log "
            "or a power near 0, say): check at a point farther from that edge, or pass a "
            "smaller h"
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"finite differences nudge {name} = {at:g} by ±h (h = {h:g}), and f is {value} at "
            f"{name} = {moved_to:g}: the step crosses the edge of f's domain, or f overflows "
            "there; check at another point, or pass a smaller h"
        )
    return value


def relative_error(a: Any, b: Any) -> Any:
    """The relative error |a - b| / max(|a|, |b|), and 0 where a = b = 0.

    It measures disagreement on the numbers' own scale, which an absolute error cannot:
    2e-8 against 1e-8 is an absolute error of only 1e-8 but a relative error of 0.5 (one is
    twice the other), while 1000 against 1000.001 is an absolute error of 1e-3 but a relative
    error of about 1e-6 (they agree to six digits). It is symmetric in a and b, unchanged when
    both are scaled by the same factor, and at most 2 (reached when a = -b).

    ``a`` and ``b`` are finite real numbers, or arrays of them that broadcast together: then
    the result is an array, element by element. A number comes back as a float.
    """
    x = float64_array(a, "a", "relative_error")  # real numbers, or a sentence
    y = float64_array(b, "b", "relative_error")
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise TypeError(
            f"relative_error compares real numbers or arrays of the same shape, got shapes "
            f"{x.shape} and {y.shape}"
        ) from None
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(
            f"relative_error needs finite numbers, got {a!r} and {b!r}: an inf or nan gradient "
            "is a bug to find before comparing"
        )
    with np.errstate(over="ignore"):
        error = np.abs(x - y)
    scale = np.maximum(np.abs(x), np.abs(y))
    if np.isfinite(error).all():
        # Where both are 0 the error is 0 too: they agree exactly. (No division by 0 is done.)
        ratio = np.divide(error, scale, out=np.zeros_like(error), where=scale > 0)
    else:  # a - b passed the largest float (1e308 against -1e308): divide each one first
        safe = np.where(scale > 0, scale, 1.0)
        ratio = np.abs(x / safe - y / safe)
    return float(ratio) if ratio.ndim == 0 else ratio


def check_function(f: Any, where: str) -> None:
    """A TypeError unless ``f`` can be called (a function of the inputs)."""
    if not callable(f):
        raise TypeError(
            f"{where}: f must be a function (def f(x): ... or lambda x: ...), got "
            f"{type(f).__name__} {shown(f)}"
        )


def float64_array(x: Any, name: str, where: str = "") -> np.ndarray:
    """``x`` (a number, a list or an array of real numbers, or a Tensor's) as a new float64
    array; text, complex numbers and anything else are a TypeError, a number beyond the floats
    a ValueError. numpy would read "1.5" as a number and drop an imaginary part with a warning.
    """
    head = f"{where}: " if where else ""
    if isinstance(x, Tensor | Value):
        x = x.data
    try:
        array = np.array(x)
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or array.dtype.kind not in "biuf" and not _big_ints(array):
        raise TypeError(
            f"{head}{name} must be an array of real numbers, got {type(x).__name__} {shown(x)}"
        )
    try:
        return np.array(array, dtype=np.float64)
    except OverflowError:
        raise ValueError(
            f"{head}{name} holds a number too large for a float (beyond about 1.8e308)"
        ) from None


def _big_ints(array: np.ndarray) -> bool:
    """Whether ``array`` is what numpy makes of ints beyond 64 bits (with other numbers):
    objects, every one a real number."""
    return array.dtype == object and all(
        isinstance(item, Real) and not isinstance(item, bool) for item in array.flat
    )


def check_tolerance(value: Any, name: str, where: str) -> float:
    """A tolerance (rtol, atol) as a float: a finite real number, 0 or more."""
    value = real_number(value, name, where)
    if not value >= 0:
        raise ValueError(f"{where}: {name} must be 0 or a positive finite number, got {value}")
    return value


def as_point(point: Sequence[float], where: str) -> tuple[float, ...]:
    """The point's coordinates as floats: each a finite real number (NumPy's and ints too)."""
    if isinstance(point, (str, bytes)) or not hasattr(point, "__len__"):
        raise TypeError(f"{where}: the point must be a sequence of numbers, got {point!r}")
    if len(point) == 0:
        raise ValueError(f"{where}: the point needs at least one input value")
    values = []
    for i, x in enumerate(point):
        if isinstance(x, Value):
            raise TypeError(
                f"{where}: input {i} of the point is a Value; pass plain numbers (x.data): the "
                "check makes the Values itself"
            )
        values.append(real_number(x, f"input {i} of the point", where))
    return tuple(values)


def input_names(f: Callable[..., object], count: int) -> tuple[str, ...]:
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
    required = [
        p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD and p.default is p.empty
    ]
    takes = len(positional) if params or not callable(f) else 0
    if (
        (params or _has_signature(f))
        and not has_varargs
        and (len(positional) < count or len(required) > count)
    ):
        raise TypeError(
            f"f takes {takes} input{'s' if takes != 1 else ''} but the point has {count} "
            f"value{'s' if count != 1 else ''}: give one value per input of f"
        )
    if len(positional) >= count:
        return tuple(positional[:count])
    return tuple(f"x{i}" for i in range(count))


def _has_signature(f: Callable[..., object]) -> bool:
    try:
        inspect.signature(f)
    except (TypeError, ValueError):
        return False
    return True


# ---- the step size h: one estimate per h, in float64 or float32 ---------------------------
#
# gradient_check uses one h. Which h is good depends on two errors that pull opposite ways
# (see the module docstring); central_difference_sweep measures the estimate for many h at
# once, in the arithmetic of one floating-point type, so the two can be seen on a log-log plot.


def central_difference_sweep(
    f: Callable[[Any], Any], x: float, hs: Any, *, dtype: Any = np.float64
) -> np.ndarray:
    """The central difference of a plain function ``f`` at ``x``, once for every step in ``hs``:

        estimate(h) = (f(x + h) - f(x - h)) / (2h),

    computed in ``dtype`` arithmetic: x and each h are first rounded to ``dtype``, and so is
    every operation of f. Returns an array of ``dtype``, one estimate per h, in hs's order.

    Against the true derivative f'(x) each estimate has two errors. Truncation: by Taylor's
    theorem the estimate is f'(x) + h² f'''(x)/6 + O(h⁴), so it falls as h shrinks. Round-off:
    f(x ± h) (and x ± h itself) are rounded to ``dtype``, and dividing by 2h magnifies that by
    1/h, to about ε·|f(x)|/h, so it rises as h shrinks; ε = ``np.finfo(dtype).eps``, 2.2e-16
    for float64 and 1.2e-7 for float32. Example: for f(x) = x³ at x = 1 the estimate is
    exactly 3 + h² in real arithmetic, the error is h² plus round-off of about ε/h, and the
    sum is smallest near h = (ε/2)^(1/3): about 5e-6 in float64 and 4e-3 in float32.

    ``f`` takes one number and returns one, written with arithmetic and numpy functions,
    which keep float32 (``x * x * x``, ``np.sin(x)``). A result of another type is refused
    (``math.sin`` returns a Python float computed in float64), since the sweep would then not
    measure ``dtype``. In float64, with f written as ``x * x * x``, the estimates are exactly
    those of :func:`central_difference` on the same f written with ``Value``.
    """
    check_function(f, "central_difference_sweep")
    kind = _float_type(dtype)
    x_ = _in_float_type(x, "x", kind)
    steps = _steps(hs, kind)
    _plain_value(f, x_, kind)  # f must work at x itself; an error there is f's own
    estimates = np.empty(len(steps), dtype=kind)
    for k, h in enumerate(steps):
        where = f"nudges x = {x_:g} by ±h (h = {h:g})"
        with np.errstate(all="ignore"):  # an overflow shows up as inf, named below
            up = _plain_value(f, x_ + h, kind, nudge=where)
            down = _plain_value(f, x_ - h, kind, nudge=where)
            estimates[k] = (up - down) / (2 * h)
        if not np.isfinite(estimates[k]):
            raise ValueError(
                f"the central difference that {where} overflows {np.dtype(kind).name}: "
                "f changes too steeply there for this type; pick a larger h or another point"
            )
    return estimates


def _float_type(dtype: Any) -> type:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # np.dtype("a") and the like
            kind = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a float type such as np.float32, got {dtype!r}") from None
    if kind.kind != "f":
        raise TypeError(f"dtype must be a float type such as np.float32, got {kind.name}")
    return kind.type


def _in_float_type(value: Any, name: str, kind: type) -> Any:
    value = real_number(value, name, "central_difference_sweep")
    with np.errstate(all="ignore"):
        rounded = kind(value)
    if not np.isfinite(rounded):
        raise ValueError(f"{name} = {value:g} is too large for {np.dtype(kind).name}")
    return rounded


def _steps(hs: Any, kind: type) -> list[Any]:
    name = np.dtype(kind).name
    try:
        steps = np.atleast_1d(float64_array(hs, "hs", "central_difference_sweep"))
    except TypeError:
        raise TypeError(
            "central_difference_sweep: hs must be a sequence of positive steps such as "
            f"[1e-3, 1e-6], got {shown(hs)}"
        ) from None
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"hs must be a non-empty sequence of steps, got shape {steps.shape}")
    if steps.size > MAX_STEPS:
        raise ValueError(
            f"central_difference_sweep: hs holds {steps.size:,} steps, two evaluations of f "
            f"each; a sweep of more than {MAX_STEPS:,} shows nothing more and takes long: "
            "np.logspace(-12, 0, 100) draws the whole curve"
        )
    bad = [h for h in steps if not (math.isfinite(h) and h > 0)]
    if bad:
        raise ValueError(f"every step h must be positive and finite, got {bad[0]}")
    rounded = [_in_float_type(float(h), "h", kind) for h in steps]
    for h, r in zip(steps, rounded, strict=True):
        if r == 0:
            raise ValueError(
                f"h = {h:g} rounds to 0 in {name} (its smallest positive number is about "
                f"{np.finfo(kind).smallest_subnormal:.2g}); use a larger h"
            )
    return rounded


def _plain_value(f: Callable[[Any], Any], at: Any, kind: type, nudge: str = "") -> Any:
    """f(at) as a number of type ``kind``, or an error that says what went wrong.

    ``nudge`` describes the step when ``at`` is a nudged point ("" at x itself): a failure
    there is named as the step crossing the edge of f's domain, since f was fine at x."""
    name = np.dtype(kind).name
    place = f"at {at:g}" + (f", where the central difference {nudge}" if nudge else "")
    try:
        with np.errstate(all="ignore"):
            value = f(at)
    except (ArithmeticError, ValueError) as error:
        if not nudge:
            raise
        raise ValueError(
            f"f fails {place}: {error}. The step crosses the edge of f's domain (a log near "
            "0, say): use a smaller h or another point"
        ) from None
    if isinstance(value, Value | Tensor):
        raise TypeError(
            f"f returned a {type(value).__name__}: central_difference_sweep takes a plain "
            "function of a number, written with arithmetic and numpy (x * x * x, np.exp(x))"
        )
    result = np.asarray(value)
    if result.shape != ():
        raise TypeError(f"f must return one number, got an array of shape {result.shape}")
    if result.dtype != np.dtype(kind):
        raise TypeError(
            f"f returned a {result.dtype.name} number for a {name} input, so its arithmetic "
            f"was not all {name}: write f with arithmetic and numpy functions (np.sin(x), not "
            "math.sin(x)) and no float64 constants such as np.float64(2)"
        )
    result = result[()]
    if not np.isfinite(result):
        raise ValueError(
            f"f is {result} {place}: it overflows or leaves its domain there; pick another "
            "point" + (" or a smaller h" if nudge else "")
        )
    return result
