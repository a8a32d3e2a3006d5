"""Fast paths of the Tensor engine: the same numbers as a plain version, with less work.

Each function here has a twin written to be read, in :mod:`course_lib.tensor_ops`, and
``tests/test_tensor_fast.py`` checks that the two agree on random shapes and values:

==========================  ==================================  ============================
fast path (the engine's)    plain version (to read)             what it saves
==========================  ==================================  ============================
``matmul_backward_fast``    ``tensor_ops.matmul_backward``      the product for a constant
                                                                input (a batch of data)
``sigmoid_forward_fast``    ``tensor_ops._sigmoid_forward``     temporary arrays
``sigmoid_backward_fast``   ``tensor_ops._sigmoid_backward``    temporary arrays
==========================  ==================================  ============================

The fused ``linear`` op (:func:`course_lib.tensor_functions.linear`) is a fast path too, at
the level of the graph: one node for ``x @ W + b``, tested against the two-node version in
``tests/test_tensor_linear.py``. Nothing here builds a node; the rules read their inputs'
``data`` and ``requires_grad``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["matmul_backward_fast", "sigmoid_backward_fast", "sigmoid_forward_fast"]


def matmul_backward_fast(upstream: np.ndarray, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """The engine's rule for ``@``: ``matmul_backward``'s two products, except that the one
    for a constant input (a batch of data, say) is skipped (``None``): it would be a whole
    matrix product whose result nobody reads.
    """
    A, B = a.data, b.data
    if B.ndim == 1:  # B is a column: Y lost that column's axis, put it back
        B = B[:, None]
        upstream = upstream[..., None]
    if A.ndim == 1:  # A is a row: Y lost that row's axis, put it back
        A = A[None, :]
        upstream = upstream[..., None, :]
    da = db = None
    if a.requires_grad:
        da = np.matmul(upstream, B.swapaxes(-1, -2))
        if a.data.ndim == 1:
            da = da[..., 0, :]
    if b.requires_grad:
        db = np.matmul(A.swapaxes(-1, -2), upstream)
        if b.data.ndim == 1:
            db = db[..., 0]
    return da, db


def sigmoid_forward_fast(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x}) in one new array, every step in place (no temporaries)."""
    s = np.negative(x, out=np.empty_like(x))
    with np.errstate(over="ignore"):  # e^{-x} = inf for very negative x: σ is then 0
        np.exp(s, out=s)
    s += 1
    np.reciprocal(s, out=s)
    return s


def sigmoid_backward_fast(upstream: np.ndarray, out: Any, a: Any) -> np.ndarray:
    """upstream × (out (1 - out)), built in one new array."""
    s = out.data
    grad = 1 - s
    grad *= s
    grad *= upstream
    return grad
