"""The logistic sigmoid, σ(x) = 1 / (1 + e^{-x}), elementwise: the one numpy version.

The Tensor op (``Tensor.sigmoid``), the deep stacks of notebooks 09 and 11 and the Jacobian
explorer's sigmoid all compute it here. Its derivative is σ'(x) = σ(x)(1 − σ(x)), which a
backward pass reads from the output it already has (``tensor.ops.sigmoid_backward``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x}), elementwise. For very negative x, e^{-x} overflows to inf and
    the result is the correct limit 0, so that overflow is no error (numpy's warning is off)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))
