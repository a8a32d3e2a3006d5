"""The input checks every kernel shares: float arrays, axes, finite logits, probabilities and
labels, each refused with a sentence that names the kernel, the argument and the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.exceptions import AxisError
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LOGITS_WHY",
    "as_float_array",
    "check_axis",
    "check_finite",
    "check_labels",
    "check_probabilities",
    "row_sum_tolerance",
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
        raise TypeError(f"{op}: {name} must be an array of numbers ({error})") from None
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
            f"{op}: axis {axis} is out of range for {name} of shape {arr.shape} "
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


def row_sum_tolerance(dtype: np.dtype, classes: int) -> float:
    """How far from 1 a row of probabilities may sum: above rounding error, below a logits row."""
    if dtype == np.float16:
        return 1e-2
    return 1e-3 if dtype == np.float32 else 1e-6 * max(1.0, classes / 100)


def check_probabilities(
    arr: np.ndarray, name: str, op: str, hint: str = "", axis: int = -1
) -> None:
    """Slices along ``axis`` of non-negative numbers summing to 1, else a ValueError naming one."""
    if arr.size == 0:
        return
    sums = arr.sum(axis=axis)
    off = np.abs(sums - 1.0)
    tol = row_sum_tolerance(arr.dtype, arr.shape[axis])
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
        # One maximum checks both ends: read as unsigned integers of the same width, negative
        # indices become huge (two's complement), so max < c means every index is in [0, c).
        if y.size and not int(y.view(_UNSIGNED[y.itemsize]).max()) < c:
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
