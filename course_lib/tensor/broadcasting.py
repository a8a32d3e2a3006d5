"""Broadcasting, undone in one place.

``a + b`` with a of shape (N, C) and b of shape (C,) uses every b_c N times. A value used N times
gets the sum of its N gradients (sum at joins), so b's contribution is ``upstream.sum(axis=0)``.
The local rules ignore this: they return contributions in the *result's* shape, and the node
(:func:`course_lib.tensor.node.fit_to_input`) sums each one back to its input's shape with
:func:`sum_to_shape`, for every op, so no rule can forget it. :func:`broadcast_axes` says which
axes a broadcast added and which it expanded: exactly the axes the sum runs over.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["broadcast_axes", "sum_to_shape"]


def broadcast_axes(
    shape: tuple[int, ...], result: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Which axes of ``result`` a broadcast of an input of ``shape`` made: (added, expanded).

    Shapes are lined up from the right. *added*: the leading axes of the result the input
    did not have; *expanded*: axes where the input had size 1 and the result is bigger. In
    (2, 3) + (3,) the second input added axis 0; in (3, 1) + (1, 4), whose result is (3, 4),
    the first expanded axis 1 and the second axis 0. Backward sums over exactly these axes.
    """
    shape, result = _broadcast_pair(shape, result)  # checked: shape broadcasts to result
    added = len(result) - len(shape)  # how many leading axes broadcasting put in front
    expanded = [added + i for i, n in enumerate(shape) if n == 1 and result[added + i] != 1]
    return tuple(range(added)), tuple(expanded)


def _broadcast_pair(shape: Any, result: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``shape`` and ``result`` as tuples, if they are shapes and the first broadcasts to the
    second (lined up from the right, each size of ``shape`` is 1 or ``result``'s); otherwise
    the error that says which is wrong."""
    try:
        shape, result = tuple(shape), tuple(result)
    except TypeError:
        raise TypeError(
            f"broadcast_axes needs two shapes, tuples of sizes such as (3, 1), got {shape!r} and "
            f"{result!r}"
        ) from None
    added = len(result) - len(shape)
    if added < 0 or any(n not in (1, m) for n, m in zip(shape, result[added:], strict=True)):
        raise ValueError(f"broadcast_axes: an input of shape {shape} cannot broadcast to {result}")
    return shape, result


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient in a broadcast result's shape back to an input's ``shape``.

    Broadcasting made the input bigger in two ways, and each is undone by a sum:

    * it *added leading axes* (shape (C,) used as (N, C)): sum over them, so they go away;
    * it *expanded axes of size 1* (shape (N, 1) used as (N, C)): sum over them, keeping
      them as size 1.

    Each element of the input was used once for every position it was copied to, and the
    gradient of a value used many times is the sum of the gradients of its uses.
    """
    shape = tuple(shape)
    if grad.shape == shape:  # nothing was broadcast
        return grad
    if shape and grad.shape[1:] == shape:  # the usual case: a bias (C,) used as (N, C)
        return grad.sum(axis=0)  # one axis added, none expanded
    added, expanded = broadcast_axes(shape, grad.shape)
    summed = grad.sum(axis=added + expanded, keepdims=True)  # summed axes stay, as size 1
    return summed.reshape(shape)  # the added axes (now of size 1) go away
