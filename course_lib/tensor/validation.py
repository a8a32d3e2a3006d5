"""The input checks and error messages of the Tensor engine (:mod:`course_lib.tensor`).

Everything here exists to say what went wrong, with the values, in the words of the op: which
shapes do not broadcast, which axis is out of range, which entry of a result overflowed. The
engine's two other modules call these helpers; nothing here computes a forward value or a
gradient. A "node" below is a :class:`course_lib.tensor.Tensor` (read through its attributes
``data``, ``label``, ``requires_grad``, ``parents``, ``op``, ``grad``, so this module needs
no import of the class).

**inf and NaN.** No op returns inf or NaN, and ``backward()`` never leaves one in a gradient:

* an op whose result overflows past the largest float (1.8e308 in float64, 3.4e38 in float32)
  raises ``OverflowError``; one whose result is NaN raises ``ValueError``; the message starts
  with the op's name and names its inputs, the first bad entry and the inputs' values there;
* a constant (``requires_grad=False``) may be built holding inf or NaN, but an op that meets
  one raises ``ValueError`` naming that input;
* ``backward(upstream)`` refuses an upstream gradient holding inf or NaN, and a gradient that
  overflows on the way back raises ``OverflowError`` (``ZeroDivisionError`` where a slope is
  infinite, as for x ** 0.5 at 0) naming the op whose rule produced it.

numpy itself only warns (a ``RuntimeWarning``) and carries on with inf or NaN; the engine
computes with those warnings silenced and checks the results instead, so no warning escapes.
"""

from __future__ import annotations

import math
import reprlib
import sys
from numbers import Real
from typing import Any

import numpy as np

from course_lib.kernels.validation import all_finite, check_upstream, entry, first_bad
from course_lib.numbers.checking import not_an_array, real_number, shown
from course_lib.numbers.formatting import format_number

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlong = 40
_short.maxlist = 6


def short_repr(x: Any) -> str:
    """``repr(x)`` cut to a readable length (a message never prints a 400-digit number)."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return _short.repr(x)


# ---- arrays from whatever the user passed ---------------------------------------------------


def float_array(x: Any, dtype: np.dtype, where: str) -> np.ndarray:
    """``x`` as a float32 or float64 array; other numbers become ``dtype``; no copy if possible.

    Refuses text, ``None``, complex numbers, objects, and lists holding Tensors (numpy would
    turn those into plain numbers, silently cutting them out of the graph).
    """
    if type(x) is np.ndarray and x.dtype in FLOATS:
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{where}: needs numbers, got {type(x).__name__} {short_repr(x)}")
    if isinstance(x, (list, tuple)) and _holds_tensor(x):
        raise TypeError(
            f"{where}: got a {type(x).__name__} holding Tensors; numpy would keep only their "
            "numbers and cut them out of the graph. Combine Tensors with Tensor ops instead"
        )
    try:
        array = np.asarray(x)
    except (ValueError, TypeError, OverflowError) as error:
        array, problem = None, error
    if array is None:
        raise TypeError(
            f"{where}: cannot make an array of numbers: {not_an_array(x, problem)}"
        ) from None
    if array.dtype in FLOATS:
        return array
    if array.dtype == object and array.size and all(_is_real(item) for item in array.flat):
        return _big_ints(array, dtype, where)  # numpy keeps ints beyond 64 bits as objects
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: needs real numbers, got an array of dtype {array.dtype} from {short_repr(x)}"
        )
    return array.astype(dtype)


def _is_real(item: Any) -> bool:
    return isinstance(item, Real) and not isinstance(item, bool)


def _big_ints(array: np.ndarray, dtype: np.dtype, where: str) -> np.ndarray:
    """An array numpy left as objects because it holds ints beyond 64 bits (``2**70``): as
    floats, or the one check's error for an int beyond the floats (``10**400``)."""
    name = "the number" if array.ndim == 0 else "an entry"
    for item in array.flat:
        real_number(item, name, where)  # raises for an int beyond the floats
    with np.errstate(over="ignore"):
        floats = array.astype(dtype)
    if not all_finite(floats):
        raise OverflowError(
            f"{where}: {short_repr(array[first_bad(floats)])} is too large for {dtype} "
            f"({_largest(dtype)})"
        )
    return floats


_LARGEST = {dtype: float(np.finfo(dtype).max) for dtype in FLOATS}


def constant_number(x: Any, dtype: np.dtype, where: str) -> np.ndarray:
    """A plain number mixed into an op (``t * 2``), as a 0-d array of the tensor's ``dtype``.

    Any real number passes (NumPy's too) through the one check of a user's number, which
    refuses an int beyond the floats (``t * 10**400``) with a sentence; NaN and inf are let
    through as a constant may hold them (the op then names that input). A finite number too
    large for the tensor's dtype (``1e300`` for a float32 tensor) is an ``OverflowError``.
    """
    value = x if type(x) is float else real_number(x, "the number", where, finite=False)
    if not abs(value) <= _LARGEST[dtype] and math.isfinite(value):
        raise OverflowError(
            f"{where}: the number {format_number(value)} is too large for the tensor's {dtype} "
            f"({_largest(dtype)}); scale it down, or compute in float64"
        )
    return np.asarray(value, dtype=dtype)


def _holds_tensor(items: list | tuple) -> bool:
    """Whether a (nested) list or tuple holds a Tensor anywhere."""
    for item in items:
        if hasattr(item, "parents") and hasattr(item, "local_backward"):  # a graph node
            return True
        if isinstance(item, (list, tuple)) and _holds_tensor(item):
            return True
    return False


# ---- shapes, axes and indices -----------------------------------------------------------------


def broadcast_error(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> ValueError:
    """The error for two shapes that do not broadcast, naming the axis where they clash."""
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            return ValueError(
                f"{op}: cannot broadcast {a} with {b}: at axis -{i} the sizes {a[-i]} and "
                f"{b[-i]} differ and neither is 1 (shapes are compared from the right)"
            )
    return ValueError(f"{op}: cannot broadcast {a} with {b}")


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1 (what keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def normalize_axes(axis: Any, shape: tuple[int, ...], op: str) -> tuple[int, ...]:
    """``axis`` (None, an int, or a tuple of ints) as a tuple of non-negative axes."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            raise TypeError(
                f"{op}: axis must be an int, a tuple of ints or None, got {short_repr(axis)}"
            )
        if not -ndim <= ax < ndim:
            raise ValueError(
                f"{op}: axis {shown(ax)} is out of range for a tensor of shape {shape} "
                f"({ndim} axes: use 0..{ndim - 1} or -{ndim}..-1)"
            )
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis} names the same axis twice")
    return tuple(axes)


def check_index(index: Any, shape: tuple[int, ...]) -> tuple[Any, bool]:
    """Validate an index; lists become arrays. Returns (index, basic) where basic means
    only ints, slices, ``...`` and ``None`` (no element can be picked twice)."""
    items = index if isinstance(index, tuple) else (index,)
    cleaned = []
    basic = True
    for item in items:
        if hasattr(item, "parents") and hasattr(item, "requires_grad"):
            raise TypeError(
                "index: a Tensor cannot be an index; use an integer numpy array such as "
                "t.data.astype(int)"
            )
        if isinstance(item, bool):
            raise TypeError("index: True/False is not an index; use a boolean array as a mask")
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.size == 0 and item.dtype.kind == "f":
                item = item.astype(np.intp)
            if item.dtype == object and item.size and all(_is_real(i) for i in item.flat):
                raise IndexError(
                    f"index: {short_repr(item.tolist())} holds an int beyond any axis (the "
                    f"tensor has shape {shape})"
                )
            if item.dtype.kind not in "iub":
                raise IndexError(
                    f"index: an array used as an index must hold integers or booleans, got "
                    f"dtype {item.dtype} (the tensor has shape {shape})"
                )
            basic = False
        elif isinstance(item, int) and not -sys.maxsize <= item <= sys.maxsize:
            raise IndexError(
                f"index: {shown(item)} is beyond any axis (the tensor has shape {shape})"
            )
        elif not (isinstance(item, (int, np.integer, slice)) or item is Ellipsis or item is None):
            raise IndexError(
                f"index: {short_repr(item)} is not a valid index; use ints, slices, ..., None or "
                f"integer or boolean arrays (the tensor has shape {shape})"
            )
        cleaned.append(item)
    return (tuple(cleaned) if isinstance(index, tuple) else cleaned[0]), basic


# ---- how inputs are named in messages ---------------------------------------------------------


def describe(node: Any) -> str:
    """A node as a message names it: its label, or what it is and its shape."""
    if node.label:
        return repr(node.label)
    if node.requires_grad or node.parents:
        return f"the tensor of shape {node.data.shape}"
    if node.data.ndim == 0:
        return f"the number {format_number(node.data)}"
    return f"the constant of shape {node.data.shape}"


def number(k: float) -> str:
    """An exponent as written in a message: ``2``, not ``2.0``; ``0.5`` as is."""
    return str(int(k)) if float(k).is_integer() else repr(float(k))


# ---- results that are not finite ----------------------------------------------------------------


# all_finite, first_bad and entry are the kernels' (course_lib.kernels.validation): one test
# of finiteness, one way of naming an entry, for both.


def _largest(dtype: np.dtype) -> str:
    return f"the largest {dtype} is {format_number(np.finfo(dtype).max)}"


_HINTS = {
    "exp": "The exponential passes the largest float for x above about 709.8 in float64 (88.7 "
    "in float32): subtract the largest value first, as a stable softmax does, or stay in log "
    "space",
    "pow": "The power is too large to represent: scale the base down",
    "div": "A divisor close to 0 makes the quotient huge: keep divisors away from 0",
}


def result_error(
    op: str, inputs: tuple[Any, ...], data: np.ndarray
) -> ArithmeticError | ValueError:
    """The error for an op ``op`` whose result ``data`` holds inf or NaN.

    ``ValueError`` when an input already held inf or NaN (a constant may), or when the result
    is NaN; ``OverflowError`` when finite inputs gave ±inf. The message names the op, the
    inputs, how many entries are bad, the first one, and the inputs' values there.
    """
    for node in inputs:
        if not all_finite(node.data):
            bad = int(node.data.size - np.isfinite(node.data).sum())
            return ValueError(
                f"{op}: its input {describe(node)} holds inf or NaN ({bad} of its "
                f"{node.data.size} entries); a constant may be built that way, but an op would "
                "pass those values on silently: replace them by finite numbers first"
            )
    bad = int(data.size - np.isfinite(data).sum())
    where = first_bad(data)
    value = data[where]
    if op in _NOT_ELEMENTWISE:  # an entry of the result depends on many of each input
        there = f" (the largest |entry| of each input: {', '.join(_biggest(inputs))})"
    else:
        there = _values_there(inputs, data.shape, where)
    names = ", ".join(f"{describe(node)}" for node in inputs)
    what = "input" if len(inputs) == 1 else "inputs"
    if np.isnan(value):
        return ValueError(
            f"{op}: the result is NaN at {bad} of its {data.size} entries, first at "
            f"{entry(where)}{there}, although its {what} ({names}) are finite: somewhere "
            "inf - inf or 0 × inf came up (two huge terms of opposite sign); scale the inputs "
            "down"
        )
    hint = _HINTS.get(op, "Scale the inputs down, or compute in a way that stays in range")
    return OverflowError(
        f"{op}: the result overflows to {format_number(value)} at {bad} of its {data.size} "
        f"entries ({_largest(data.dtype)}), first at {entry(where)}{there}; {what}: {names}. "
        f"{hint}"
    )


_NOT_ELEMENTWISE = {"sum", "mean", "matmul", "linear", "softmax_cross_entropy"}


def _values_there(inputs: tuple[Any, ...], shape: tuple[int, ...], where: tuple[int, ...]) -> str:
    """', where the inputs are 1e+308 and 10': the inputs of an elementwise op at the entry."""
    values = [format_number(np.broadcast_to(node.data, shape)[where]) for node in inputs]
    if len(values) == 1:
        return f", where the input is {values[0]}"
    return f", where the inputs are {' and '.join(values)}"


def _biggest(inputs: tuple[Any, ...]) -> list[str]:
    return [
        format_number(np.abs(node.data).max()) if node.data.size else "empty" for node in inputs
    ]


# ---- backward: the seed, and gradients that are not finite ------------------------------------


def seed_array(upstream: Any, data: np.ndarray) -> np.ndarray:
    """The upstream gradient given to ``backward(upstream)``: a finite array of exactly the
    output's shape, in its dtype (a copy: the caller keeps theirs)."""
    if hasattr(upstream, "parents") and hasattr(upstream, "requires_grad"):
        upstream = upstream.data
    if isinstance(upstream, (str, bytes)) or upstream is None or isinstance(upstream, dict):
        raise TypeError(
            f"backward: upstream must be an array of numbers of shape {data.shape} (dL/d(output)),"
            f" got {type(upstream).__name__} {short_repr(upstream)}"
        )
    array = float_array(upstream, data.dtype, "backward: upstream")
    if array.shape != data.shape:
        raise ValueError(
            f"backward: upstream has shape {array.shape} but the output has shape "
            f"{data.shape}; they must be the same (upstream is not broadcast)"
        )
    check_upstream(array, "backward")  # the kernels' sentence: their VJPs refuse the same
    # float(): a float32 largest entry compared with float64's limit as numbers, not by casting
    # 1.8e308 to float32 (which numpy warns about)
    largest = float(np.abs(array).max()) if array.dtype != data.dtype and array.size else 0.0
    if not largest <= _LARGEST[data.dtype]:
        raise OverflowError(
            f"backward: upstream holds {format_number(largest)}, too large for the "
            f"output's {data.dtype} ({_largest(data.dtype)}); scale it down, or compute in float64"
        )
    return np.array(array, dtype=data.dtype)  # a copy: the caller keeps theirs


def backward_error(order: list[Any]) -> ArithmeticError | ValueError:
    """The error for a backward pass that left inf or NaN in a gradient, naming the op.

    ``order`` is the topological order backward used; every node's ``grad`` is filled. Going
    from the output back, the first node whose gradient is not finite got it either from an op
    whose rule gave a non-finite contribution (that op is named, with the input's value and the
    upstream gradient at the first bad entry), or from adding finite contributions at a join.
    """
    for node in reversed(order):
        grad = node.grad
        if grad is None or not isinstance(grad, np.ndarray) or all_finite(grad):
            continue
        consumers = [c for c in order if any(p is node for p in c.parents)]
        for consumer in consumers:
            with np.errstate(all="ignore"):
                contributions = consumer.local_backward(consumer.grad)
            for parent, contribution in zip(consumer.parents, contributions, strict=True):
                if parent is node and contribution is not None and not all_finite(contribution):
                    return _rule_error(consumer, node, contribution)
        return OverflowError(
            f"backward: the gradient of {describe(node)} overflows to inf where the "
            f"contributions of its {len(consumers)} uses are added (sum at joins), first at "
            f"{entry(first_bad(grad))} ({_largest(grad.dtype)}); scale the computation down"
        )
    return OverflowError("backward: a gradient is not finite")  # not reached: a caller checked


def op_word(op: str) -> str:
    """The name messages use for a node's ``op``: ``+`` is add, ``**2`` is pow, ..."""
    words = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}
    return words.get(op, "pow" if op.startswith("**") else op)


def _rule_error(out: Any, node: Any, contribution: np.ndarray) -> ArithmeticError | ValueError:
    op = op_word(out.op)
    where = first_bad(contribution)
    value = contribution[where]
    input_value = node.data[where] if node.data.shape == contribution.shape else None
    upstream = out.grad
    there = ""
    if input_value is not None:
        there = f", where the input is {format_number(input_value)}"
        if isinstance(upstream, np.ndarray) and upstream.shape == node.data.shape:
            there += f" and the upstream gradient {format_number(upstream[where])}"
    head = (
        f"{op} (backward): the gradient for its input {describe(node)} is "
        f"{format_number(value)} at {entry(where)}{there}"
    )
    if np.isnan(value):
        return ValueError(f"{head}: the op's rule met inf - inf or 0 × inf there")
    if input_value is not None and input_value == 0:
        return ZeroDivisionError(
            f"{head}: the local partial is infinite at 0 (a slope that divides by 0, like "
            "that of x ** 0.5 at x = 0); evaluate the gradient away from 0"
        )
    return OverflowError(
        f"{head}: the local partial times the upstream gradient passes the largest number "
        f"({_largest(contribution.dtype)}); keep the input away from where the slope blows up"
    )
