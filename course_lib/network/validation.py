"""The checks :mod:`course_lib.network` runs on what it is given: the learning rate (through
:func:`course_lib.numbers.checking.real_number`; counts go through ``whole_number``), the
pixels and the labels. Each either passes the value on or raises an error that names the value,
says what is wrong and how to fix it. ``check_learning_rate`` and ``pixels_in_unit_range`` are
importable from :mod:`course_lib.network` too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from course_lib.kernels.validation import class_indices_in_range
from course_lib.numbers.checking import real_number, shown

__all__ = [
    "check_labels",
    "check_learning_rate",
    "check_pixels",
    "overflow_named",
    "pixels_in_unit_range",
]


def check_learning_rate(lr: Any, where: str = "sgd_step") -> float:
    """``lr`` as a float if it is a finite number > 0; otherwise an error saying what is wrong.

    Checked before any weight moves: a NaN or infinite rate would turn every weight into NaN,
    a negative one climbs the loss instead of descending it, and text such as ``'0.1'`` is not
    a number yet.
    """
    if type(lr) is float and 0 < lr < math.inf:  # the usual case, decided at once
        return lr
    rate = real_number(lr, "the learning rate", where, finite=False)
    if not math.isfinite(rate):
        raise ValueError(
            f"{where}: the learning rate must be a finite number, got {rate}; a NaN or infinite "
            "rate turns every weight into NaN"
        )
    if rate <= 0:
        raise ValueError(
            f"{where}: the learning rate must be positive, got {lr!r}; SGD steps against the "
            "gradient, W ← W - lr · dL/dW, so lr > 0 (0.5 to 2 trains this network well)"
        )
    return rate


def overflow_named(
    params: Sequence[Any], lr: float, where: str = "sgd_step"
) -> AbstractContextManager[None]:
    """Run the steps W ← W - lr · dL/dW of the weights ``params`` with numpy's overflow raised,
    not warned: from finite weights and finite gradients (backward() refuses others) a step is
    finite unless lr · dL/dW or the difference passes the largest float, and numpy's
    floating-point flags see that as it happens, so no weight need be scanned afterwards.
    It becomes an OverflowError naming the learning rate and the weight: the first of
    ``params`` whose ``grad`` is still set, since each step sets its weight's ``grad`` to
    ``None`` once done. One ``errstate`` for all the weights: this runs once per training step
    (a small class rather than a generator, which would double the cost of entering it).
    """
    return _OverflowNamed(params, lr, where)


class _OverflowNamed:
    """The context of :func:`overflow_named`."""

    __slots__ = ("params", "lr", "where", "state")

    def __init__(self, params: Sequence[Any], lr: float, where: str) -> None:
        self.params, self.lr, self.where = params, lr, where
        self.state = np.errstate(over="raise", invalid="raise")

    def __enter__(self) -> None:
        self.state.__enter__()

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self.state.__exit__(kind, error, trace)
        if kind is None or not issubclass(kind, FloatingPointError):
            return
        stopped = next((p for p in self.params if getattr(p, "grad", None) is not None), None)
        label = getattr(stopped, "label", None)
        name = f" {label}" if isinstance(label, str) and label else ""
        raise OverflowError(
            f"{self.where}: the step with learning rate {self.lr:g} passed the largest float at "
            f"the weight{name} (lr · dL/dW, or W - lr · dL/dW, became inf), so this network is "
            "ruined (the weights before it took the step, the rest did not): make a new one (or "
            "keep a net.copy() from before) and take a smaller learning rate"
        ) from None


def pixels_in_unit_range(x: np.ndarray) -> bool:
    """True when every entry of ``x`` is a number in [0, 1] (NaN is not): the plain test."""
    if not isinstance(x, np.ndarray):
        try:
            array = np.asarray(x)
        except (TypeError, ValueError):
            array = np.asarray(None)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"pixels_in_unit_range needs an array of pixel values, got {type(x).__name__}"
                f" {shown(x)}"
            )
        x = array
    if x.size == 0:
        return True
    one = _ONE_AS_BITS.get(x.dtype)
    if one is not None and x.flags.c_contiguous:
        # One maximum instead of a minimum and a maximum (this runs on every training batch):
        # read as unsigned integers of the same width, floats >= 0 keep their order, while
        # every negative number (sign bit set), inf and NaN reads as more than 1.0 does. So a
        # largest pattern <= 1.0's proves every pixel in [0, 1]; otherwise the test below
        # decides (-0.0, a pixel of 0, reads as large too).
        unsigned, bits = one
        if int(np.maximum.reduce(x.view(unsigned), axis=None)) <= bits:
            return True
    # NaN makes min and max NaN (and so False); the ufuncs' reduce skips ndarray.min's wrapper
    return bool(0 <= np.minimum.reduce(x, axis=None) and np.maximum.reduce(x, axis=None) <= 1)


# float32 and float64 (in the machine's byte order): the unsigned integer of the same width, and
# the bit pattern of 1.0 read as that integer
_ONE_AS_BITS = {
    np.dtype(np.float32): (np.dtype(np.uint32), int(np.array(1.0, np.float32).view(np.uint32))),
    np.dtype(np.float64): (np.dtype(np.uint64), int(np.array(1.0, np.float64).view(np.uint64))),
}


def check_pixels(x: np.ndarray) -> None:
    """Every pixel a finite number in [0, 1], or a ValueError saying which is not and the fix."""
    if pixels_in_unit_range(x):
        return
    low, high = x.min(), x.max()
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise ValueError(
            f"SigmoidNet: images[{where[0]}, {where[1]}] = {x[where]}; pixels must be finite "
            "numbers in [0, 1]"
        )
    if high > 1:
        raw = " (raw 0..255 pixel values)" if high <= 255 and low >= 0 else ""
        raise ValueError(
            f"SigmoidNet: images hold values up to {high:g}{raw}, but the network takes pixels "
            "in [0, 1]: scale to [0, 1]: images / 255 for 0..255 pixels. Unscaled, the sigmoid "
            "units saturate and training stays at chance"
        )
    raise ValueError(
        f"SigmoidNet: images hold values down to {low:g}, but pixels must lie in [0, 1] "
        "(load_mnist returns them so)"
    )


def check_labels(labels: Any, n: int, classes: int) -> np.ndarray:
    """``labels`` as an integer array of ``n`` class indices in [0, classes), checked."""
    try:
        y = labels if type(labels) is np.ndarray else np.asarray(labels)
    except (TypeError, ValueError) as error:
        raise TypeError(f"labels must be an array of class indices ({error})") from None
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), one class index per image; got {y.shape}")
    if n == 0:  # an empty list has no dtype to judge: numpy calls it float64
        return y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {y.dtype}")
    if not class_indices_in_range(y, classes):
        bad = int(np.flatnonzero((y < 0) | (y >= classes))[0])
        raise ValueError(
            f"labels[{bad}] = {y[bad]} is not a class of this network: class indices run from "
            f"0 to {classes - 1}"
        )
    return y
