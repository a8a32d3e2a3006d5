"""The input checks every kernel shares: float arrays, axes, finite logits, probabilities and
labels, each refused with a sentence that names the kernel, the argument and the fix; and the
two things every kernel does with float16 and with an upstream gradient.

**float16.** It holds numbers up to 65,504 and keeps about 3 significant digits, so a sum of
70,000 terms e^0 = 1 (a softmax over 70,000 equal logits) overflows to inf, and 1/70,000 is
already below its smallest normal number (6.1e-5). The kernels therefore compute float16 input
in float32 (:func:`widened`) and hand back float16: the result rounded once, at the end. Where
even that cannot be right (probabilities too small for float16 to hold, so that a row of them
no longer sums to 1) they raise ``FloatingPointError`` saying to compute in float32
(:func:`narrowed_probabilities`).

**Upstream gradients.** A vector-Jacobian product times an upstream gradient holding inf or NaN
would pass them on silently, as would one whose result overflows. The kernels check the
*result* once (:func:`finite_gradient`: one pass over the array, which catches both) and only
then look for the cause; a scalar upstream (the seed of a loss) is checked on its own, as a
number (:func:`upstream_number`), before anything is computed. The wording is the Tensor
engine's, whose ``backward(upstream)`` refuses the same things.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.exceptions import AxisError
from numpy.typing import ArrayLike, NDArray

from course_lib.numbers.checking import not_an_array, real_number, shown

__all__ = [
    "HALF",
    "LOGITS_WHY",
    "all_finite",
    "as_float_array",
    "check_axis",
    "check_batch",
    "check_finite",
    "check_labels",
    "check_probabilities",
    "check_upstream",
    "class_indices_in_range",
    "entry",
    "finite_gradient",
    "first_bad",
    "narrowed_probabilities",
    "row_sum_tolerance",
    "sum_dtype",
    "upstream_number",
    "widened",
]

FloatArray = NDArray[np.floating[Any]]


def as_float_array(x: ArrayLike, name: str, op: str) -> FloatArray:
    """``x`` as a float32/float64 numpy array, or a TypeError naming ``op`` and ``name``."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x  # the common case, checked first because the kernels sit on hot paths
    if hasattr(x, "parents") and hasattr(x, "data"):
        raise TypeError(
            f"{op}: {name} is a {type(x).__name__} (a graph node); the kernels take numpy "
            f"arrays: pass {name}.data, or use the Tensor op of the same name"
        )
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise TypeError(
            f"{op}: {name} must be an array of numbers: {not_an_array(x, error)}"
        ) from None
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    raise TypeError(
        f"{op}: {name} must hold real numbers, got dtype {arr.dtype}"
        + (" (complex numbers have no softmax)" if kind == "c" else "")
    )


def check_axis(arr: np.ndarray, axis: int, name: str, op: str) -> int:
    """The axis as a non-negative int; AxisError if ``arr`` has no such axis or it is empty."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}")
    if not -arr.ndim <= axis < arr.ndim:
        raise AxisError(
            f"{op}: axis {shown(axis)} is out of range for {name} of shape {arr.shape} "
            f"({arr.ndim} axes, so axis must be in [{-arr.ndim}, {arr.ndim - 1}])"
        )
    axis = int(axis) % arr.ndim
    if arr.shape[axis] == 0:
        raise ValueError(
            f"{op}: axis {axis} of {name} (shape {arr.shape}) is empty; "
            "a softmax needs at least one logit per row"
        )
    return axis


LOGITS_WHY = "inf or NaN logits have no meaningful softmax"


def check_finite(arr: np.ndarray, name: str, op: str, why: str = LOGITS_WHY) -> None:
    """A ValueError naming the first inf or NaN entry of ``arr`` and ``why`` it matters."""
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{op}: {name} must be finite, but {name}[{', '.join(map(str, where))}] = "
            f"{arr[where]}; {why}"
        )


def all_finite(array: np.ndarray) -> bool:
    """True when no entry of ``array`` is inf or NaN (True for an empty array).

    A float32 or float64 array is first tested with one dot product, Σ x² (``np.vdot``), in a
    single pass without a temporary array (this runs on every op's result and every
    gradient): an inf or NaN entry makes the sum inf or NaN (squares are never negative, so
    nothing cancels), so a finite sum proves every entry finite. A sum that is not finite may
    also come from large finite entries (|x| beyond the square root of the largest float);
    then ``np.isfinite`` decides, entry by entry. (``np.vdot``, unlike ``np.dot``, does not
    warn when the sum overflows, so that case needs no ``errstate``.)
    """
    if array.ndim == 0:
        return math.isfinite(array)  # a loss: 50 times faster than the array functions
    if array.dtype in _DOT_FLOATS and array.flags.c_contiguous:
        if math.isfinite(_vdot(array, array)):
            return True
    return bool(_all_true(np.isfinite(array), axis=None))


_all_true = np.logical_and.reduce  # what ndarray.all() calls, without its Python wrapper
_vdot = np.vdot
_DOT_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def first_bad(array: np.ndarray) -> tuple[int, ...]:
    """The index of the first inf or NaN entry of ``array`` (which must have one)."""
    return tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])


def entry(index: tuple[int, ...]) -> str:
    """An index as a message writes it: ``[0, 2]``, or ``[()]`` for a single number."""
    return f"[{', '.join(str(i) for i in index)}]" if index else "[()]"


def check_batch(arr: np.ndarray, name: str, op: str) -> tuple[int, int]:
    """(N, C) for a 2-D batch with at least one row and one class, else a ValueError.

    The softmax family works row by row, so an empty batch (0, C) gives an empty result there;
    the cross-entropy is the *mean* over the rows, which no row leaves undefined (0 / 0), so
    its forward and backward refuse it with the same sentence.
    """
    if arr.ndim != 2:
        raise ValueError(
            f"{op}: {name} must be 2-D (N rows, C classes), got shape {arr.shape}"
            + (f"; for one example use {name}[None, :]" if arr.ndim == 1 else "")
        )
    n, c = arr.shape
    if n == 0:
        raise ValueError(
            f"{op}: the batch is empty ({name} of shape {arr.shape}); the mean loss over no "
            "rows is 0/0, so there is no loss and no gradient: pass at least one row"
        )
    if c == 0:
        raise ValueError(f"{op}: {name} of shape {arr.shape} have no classes")
    return n, c


# ---- float16: computed in float32, handed back in float16 ---------------------------------------

HALF = np.dtype(np.float16)
_SINGLE = np.dtype(np.float32)


def widened(arr: np.ndarray) -> np.ndarray:
    """``arr`` as the kernels compute it: float16 as float32 (a copy), anything else unchanged."""
    return arr.astype(_SINGLE) if arr.dtype == HALF else arr


def sum_dtype(arr: np.ndarray) -> np.dtype | None:
    """The dtype to add ``arr``'s entries in: float32 for float16 (whose sums overflow at
    65,504), else None (the array's own)."""
    return _SINGLE if arr.dtype == HALF else None


def narrowed_probabilities(
    p: np.ndarray, dtype: np.dtype, op: str, axis: int = -1, name: str = "the probabilities"
) -> np.ndarray:
    """Probabilities ``p`` computed in a wider float, rounded to ``dtype`` (float16), or a
    ``FloatingPointError`` if ``dtype`` cannot hold them.

    Rounded to float16, probabilities below 6e-8 become 0 and those below 6.1e-5 keep only a
    few bits, so with very many classes a row of them no longer sums to 1 (over 10^6 equal
    logits each p = 1e-6 rounds to 1.013e-6; over 10^8 every p rounds to 0). A row off by more
    than :func:`row_sum_tolerance` (what :func:`check_probabilities`, and so ``softmax_vjp`` and
    the cross-entropy backward, accept) is refused rather than returned.
    """
    if p.dtype == dtype:
        return p
    out = p.astype(dtype)
    sums = out.sum(axis=axis, dtype=p.dtype)
    off = np.abs(sums - 1.0)
    if off.size and not off.max() <= row_sum_tolerance(dtype, p.shape[axis]):
        row = tuple(int(i) for i in np.unravel_index(int(np.argmax(off)), off.shape))
        smallest = float(np.finfo(dtype).smallest_subnormal)
        raise FloatingPointError(
            f"{op}: {dtype} cannot hold {name} of these {p.shape[axis]:,} classes: rounded to "
            f"{dtype}, those of row {list(row)} sum to {float(sums[row]):.4g} instead of 1 (the "
            f"smallest positive {dtype} is {smallest:.2g}, and numbers below "
            f"{float(np.finfo(dtype).smallest_normal):.2g} keep only a few digits); compute in "
            "float32 instead: pass z.astype(np.float32)"
        )
    return out


# ---- upstream gradients ------------------------------------------------------------------------


def check_upstream(upstream: np.ndarray, op: str) -> None:
    """A ValueError if the upstream gradient holds inf or NaN (the Tensor engine's sentence)."""
    if not all_finite(upstream):
        bad = int(upstream.size - np.isfinite(upstream).sum())
        raise ValueError(
            f"{op}: upstream holds inf or NaN ({bad} of its {upstream.size} entries, first at "
            f"{entry(first_bad(upstream))}); an upstream gradient must be finite"
        )


def finite_gradient(grad: np.ndarray, upstream: np.ndarray, op: str, out: np.ndarray) -> np.ndarray:
    """``grad`` (a vector-Jacobian product of the forward output ``out`` and ``upstream``) in
    their dtype (float16 again, if it was computed in float32) if it is finite, else the error
    that says why.

    One pass over the result finds both ways it can go wrong, since inf or NaN in the upstream
    gradient reaches the result: then the upstream is blamed (:func:`check_upstream`);
    otherwise finite numbers overflowed on the way (an ``OverflowError``).
    """
    dtype = np.result_type(out, upstream)
    if grad.dtype != dtype:
        with np.errstate(over="ignore"):  # beyond float16: found by the check below
            grad = grad.astype(dtype)
    if all_finite(grad):
        return grad
    check_upstream(upstream, op)
    where = first_bad(grad)
    raise OverflowError(
        f"{op}: the gradient overflows at {entry(where)} (the largest {grad.dtype} is "
        f"{float(np.finfo(grad.dtype).max):.3g}), although upstream is finite: its largest "
        f"|entry| is {float(np.abs(upstream).max()):.3g}; scale the upstream gradient down"
    )


def upstream_number(upstream: Any, op: str) -> float:
    """A scalar upstream gradient (the seed of a loss, usually 1.0) as a finite Python float.

    Floats and 0-d float arrays (what the Tensor engine passes) are checked with one
    ``math.isfinite``: this runs once per training step. Anything else goes through the one
    check of a user's number (:func:`course_lib.numbers.checking.real_number`), which takes
    NumPy numbers and ints and refuses text, a bool, NaN, inf and an int beyond the floats.
    """
    if type(upstream) is float or (
        type(upstream) is np.ndarray and upstream.ndim == 0 and upstream.dtype.kind == "f"
    ):
        value = float(upstream)
        if math.isfinite(value):
            return value
        upstream = value
    return real_number(upstream, "upstream", op)


def row_sum_tolerance(dtype: np.dtype, classes: int) -> float:
    """How far from 1 a row of probabilities may sum: above rounding error, below a logits row."""
    if dtype == np.float16:
        return 1e-2
    return 1e-3 if dtype == np.float32 else 1e-6 * max(1.0, classes / 100)


def check_probabilities(
    arr: np.ndarray,
    name: str,
    op: str,
    hint: str = "",
    axis: int = -1,
    dtype: np.dtype | None = None,
) -> None:
    """Slices along ``axis`` of non-negative numbers summing to 1, else a ValueError naming one.

    ``dtype`` is the precision the numbers came in, if ``arr`` was computed from them in a
    wider one (``exp`` of float16 log-probabilities, taken in float32): it sets the tolerance.
    """
    if arr.size == 0:
        return
    sums = arr.sum(axis=axis, dtype=sum_dtype(arr))
    off = np.abs(sums - 1.0)
    tol = row_sum_tolerance(arr.dtype if dtype is None else dtype, arr.shape[axis])
    if off.max() <= tol and arr.min() >= 0:  # False for NaN too, so NaN falls through
        return
    # The reason names what these numbers are (probabilities or targets), never "logits".
    check_finite(
        arr, name, op, why=f"{name} must be numbers in [0, 1], each row summing to 1{hint}"
    )
    if arr.min() < 0:
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(
            f"{op}: {name} must be non-negative probabilities, but {name}{list(where)} = "
            f"{arr[where]}{hint}"
        )
    row = tuple(int(i) for i in np.unravel_index(int(off.argmax()), off.shape))
    label = f"row {row[0]}" if len(row) == 1 else f"row {row}" if row else "the vector"
    if axis % arr.ndim != arr.ndim - 1:
        label = f"the slice at {row} along axis {axis}"
    raise ValueError(
        f"{op}: each row of {name} must sum to 1, but {label} sums to {sums[row]:.6g}{hint}"
    )


def class_indices_in_range(y: np.ndarray, classes: int) -> bool:
    """True when every entry of the integer array ``y`` lies in [0, classes) (True if empty).

    One maximum checks both ends: read as unsigned integers of the same width, negative
    indices become huge (two's complement), so max < classes means every index is in range.
    (``np.maximum.reduce`` is what ``ndarray.max`` calls, without its Python wrapper, which
    cost as much as the reduction of a batch of 64 labels: this runs on every training step.)
    """
    if y.size == 0:
        return True
    return int(np.maximum.reduce(y.view(_UNSIGNED[y.itemsize]), axis=None)) < classes


_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}  # by itemsize


def check_labels(labels: ArrayLike, z: np.ndarray, op: str) -> NDArray[Any]:
    """Class indices (N,) as int64, or target rows (N, C) in z's dtype; else a clear error."""
    n, c = z.shape
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1:
        y = labels  # the fast path: already an integer index array (copied below)
    else:
        try:
            y = np.asarray(labels)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{op}: labels must be an array of numbers ({error})") from None
    if y.ndim == 1:
        if y.shape[0] != n:
            raise ValueError(
                f"{op}: labels has {y.shape[0]} entries but logits has {n} rows "
                f"(logits shape {z.shape}, labels shape {y.shape}); one label per row"
            )
        if y.dtype.kind not in "iu":
            if y.dtype.kind == "f" and np.isfinite(y).all():
                frac = np.flatnonzero(y != np.round(y))
                if frac.size:
                    raise TypeError(
                        f"{op}: class indices must be integers, but labels[{frac[0]}] = "
                        f"{y[frac[0]]}"
                    )
                raise TypeError(
                    f"{op}: class indices must have an integer dtype, got {y.dtype} "
                    "(whole numbers stored as floats); use labels.astype(int)"
                )
            raise TypeError(
                f"{op}: class indices must be integers in [0, {c}), got dtype {y.dtype}"
            )
        if not class_indices_in_range(y, c):
            if y.min() < 0:
                i = int(np.argmax(y < 0))
                raise ValueError(
                    f"{op}: labels[{i}] = {y[i]} is negative; class indices run from 0 to {c - 1} "
                    "(numpy would silently read a negative index from the end)"
                )
            else:
                i = int(np.argmax(y >= c))
                raise ValueError(
                    f"{op}: labels[{i}] = {y[i]} is out of range for {c} classes "
                    f"(logits shape {z.shape}); class indices run from 0 to {c - 1}"
                )
        # A copy, always: the result keeps the labels for the backward pass, and the caller's
        # array may change in between (a reused batch buffer) without changing the gradient.
        return np.array(y, dtype=np.int64)
    if y.ndim == 2:
        if y.shape != z.shape:
            raise ValueError(
                f"{op}: label rows have shape {y.shape} but logits have shape {z.shape}; "
                "one-hot or probability labels must match the logits' shape"
            )
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{op}: label rows must hold numbers, got dtype {y.dtype}")
        y = np.array(y, dtype=z.dtype)  # a copy, for the same reason as class indices
        check_probabilities(y, "labels", op, hint=" (one-hot or probability target rows)")
        return y
    raise ValueError(
        f"{op}: labels must be class indices (N,) or target rows (N, C), got shape {y.shape} "
        f"for logits of shape {z.shape}"
    )
