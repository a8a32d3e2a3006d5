"""Fused softmax cross-entropy: the loss by log-sum-exp, and its backward rule (P − Y) / N.

One kernel for what would be three nodes (log-softmax, pick the true class, mean): the forward
pass keeps P = softmax(logits) for the backward, and the backward rule is the compact p − y of
the derivation below, with no Jacobian anywhere. Plain numpy, no autodiff.

An empty batch (shape (0, C)) has no mean loss (0/0): the forward pass, the backward and the
rule refuse it with one sentence. float16 logits are computed in float32 and the loss, P and
the gradient handed back in float16; if float16 cannot hold P (a row of it no longer sums to
1) that is a ``FloatingPointError`` naming float32
(:func:`course_lib.kernels.validation.narrowed_probabilities`). The upstream gradient of the
backward is a finite real number, checked once per call.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_lib.kernels.validation import (
    HALF,
    as_float_array,
    check_batch,
    check_finite,
    check_labels,
    check_probabilities,
    narrowed_probabilities,
    upstream_number,
    widened,
)

__all__ = [
    "SoftmaxCrossEntropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_grad",
]

FloatArray = NDArray[np.floating[Any]]


class SoftmaxCrossEntropy(NamedTuple):
    """What :func:`softmax_cross_entropy` computed: the loss and everything backward needs.

    ``loss``
        the mean cross-entropy over the batch, a numpy scalar in the logits' dtype;
    ``probs``
        P = softmax(logits) row by row, shape (N, C), computed once in the forward pass;
    ``labels``
        the checked labels, copied: int64 class indices (N,) or probability rows (N, C) in the
        logits' dtype (refilling the array that was passed in does not change the gradient).

    A named tuple, so ``loss, probs, labels = softmax_cross_entropy(...)`` also works.
    ``grad(upstream)`` returns ∂(upstream · loss)/∂logits = upstream · (P - Y) / N, reusing
    ``probs`` (no second softmax): :func:`softmax_cross_entropy_grad`. A Tensor op stores this
    object on its node and calls ``grad`` in its backward.
    """

    loss: np.floating[Any]
    probs: FloatArray
    labels: NDArray[Any]

    def grad(self, upstream: float | np.floating[Any] = 1.0) -> FloatArray:
        """∂L/∂logits = upstream · (P - Y) / N, shape (N, C), a new array."""
        return softmax_cross_entropy_grad(self.probs, self.labels, upstream)


def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against ``labels``, by log-sum-exp; and its backward.

    For one row z ∈ ℝ^C with target distribution y (Σ_c y_c = 1, one-hot for a class index k):

        L(z) = -Σ_c y_c log p_c = -Σ_c y_c (z_c - logsumexp(z)) = logsumexp(z) - Σ_c y_c z_c,

    using log p_c = z_c - logsumexp(z) and Σ_c y_c = 1. For a class index k that is simply
    logsumexp(z) - z_k. The log of a softmax is never taken: a p_c that underflows to 0 would
    give log 0 = -inf (and 0 · -inf = NaN for the other classes), whereas z_c - logsumexp(z)
    is finite for finite logits (logits of ±1e4 included). Its one limit is the float format:
    a row's loss is at least max_c z_c - z_k, so logits more than the largest float apart
    (±1e308 in float64, ±2e38 in float32, with the true class at the bottom) have a loss no
    float can hold; that raises OverflowError naming the row rather than returning inf.

    Gradient: ∂logsumexp(z)/∂z_j = e^{z_j} / Σ_c e^{z_c} = p_j, so

        ∂L/∂z_j = p_j - y_j            (one component per class, the shape of the logits).

    Chaining the dense softmax Jacobian with ∂L/∂p_i = -y_i / p_i gives the same thing, since
    Σ_i (-y_i / p_i) p_i (δ_ij - p_j) = -y_j + p_j Σ_i y_i = p_j - y_j: the Jacobian cancels.
    The loss is the mean over the N rows, so the batch gradient is (P - Y) / N.

    ``logits``: shape (N, C) with at least one row (the mean of no losses is 0/0), finite;
    float32 and float64 stay in their precision (float16 is computed in float32, then rounded).
    ``labels``: class indices, integers in [0, C), shape (N,); or target rows, shape (N, C),
    non-negative and each summing to 1 (one-hot or soft labels).

    Returns a :class:`SoftmaxCrossEntropy` holding ``loss``, ``probs`` (P, for the backward) and
    the checked ``labels``; ``result.grad()`` is (P - Y) / N. The forward pass costs one max,
    one exp, one sum and one log per row; the backward one subtraction and one scaling.
    """
    op = "softmax_cross_entropy"
    z = as_float_array(logits, "logits", op)
    n, c = check_batch(z, "logits", op)
    y = check_labels(labels, z, op)
    dtype = z.dtype
    z = widened(z)  # float16 is computed in float32, then rounded back once at the end

    # Logits below a quarter of the largest float over N (|z| < 1e36 for float32 and N = 64,
    # the usual case) can overflow nowhere below. Others may: a z - m beyond the largest float
    # becomes -inf, whose e^(z - m) = 0 is right, and a row's loss may be too large for any
    # float (an OverflowError below); numpy's overflow warnings are silenced for those.
    # Σ z², one dot product without a temporary array, bounds every |z| (a product, not **:
    # in float64 the bound squared is beyond any float, and Python's ** raises for that)
    squares, limit = float(np.vdot(z, z)), _QUARTER_MAX.get(z.dtype, 0.0) / n
    near_limit = not (math.isfinite(squares) and squares <= limit * limit)
    with np.errstate(over="ignore", invalid="ignore") if near_limit else _NO_CHANGE:
        if near_limit:
            check_finite(z, "logits", op)
        # P, the row maxima m_n and the sums s_n = Σ_c e^{z_nc - m_n} ∈ [1, C]
        m = z.max(axis=1)
        p = np.exp(z - m[:, None])  # every exponent ≤ 0, the row's largest term exactly 1
        s = p.sum(axis=1)
        p /= s[:, None]
        log_s = np.log(s)  # logsumexp(z_n) - m_n, per row
        if y.ndim == 1:
            # L_n = logsumexp(z_n) - z_{n, y_n} = log_s_n + (m_n - z_{n, y_n}), both terms ≥ 0
            rows = log_s + (m - z[np.arange(n), y])
        else:
            # L_n = Σ_c y_nc (logsumexp(z_n) - z_nc) = Σ_c y_nc (log_s_n - (z_nc - m_n))
            terms = y * (log_s[:, None] - (z - m[:, None]))
            if near_limit and not np.isfinite(terms).all():  # 0 · inf: y = 0 adds nothing
                terms = np.where(y > 0, terms, 0)
            rows = terms.sum(axis=1)
        loss = rows.sum() / n
        if not math.isfinite(loss):  # rows too large to add up, or a row's loss itself
            loss = (rows / n).sum()  # the mean, each term first divided: at most the largest
    if dtype == HALF:  # back to float16, which may not hold the loss or P
        p = narrowed_probabilities(p, dtype, op, name="the probabilities P")
        if not loss <= np.finfo(dtype).max:
            loss = math.inf  # rounding it to float16 would overflow
    if not math.isfinite(loss):
        _loss_overflow(rows, z, m, y, op, dtype)
    return SoftmaxCrossEntropy(dtype.type(loss), p, y)


def _loss_overflow(
    rows: np.ndarray, z: np.ndarray, m: np.ndarray, y: np.ndarray, op: str, dtype: np.dtype
) -> None:
    """The OverflowError for a row whose loss exceeds the largest float of the logits' dtype
    (the row with the largest loss: the mean is too large only if that row's loss is)."""
    n = int(np.argmax(rows))  # an inf row if there is one
    target = (
        f"its true class's logit z[{n}, {y[n]}] = {z[n, y[n]]:.4g}"
        if y.ndim == 1
        else (f"its lowest logit with target mass is {z[n][y[n] > 0].min():.4g}")
    )
    raise OverflowError(
        f"{op}: the loss of row {n} is larger than the largest {dtype} "
        f"({np.finfo(dtype).max:.3g}): its largest logit is {m[n]:.4g} and {target}, and the "
        "loss is at least their difference. Logits that far apart have no finite cross-entropy; "
        "scale them down (they are usually the sign of a diverging network)"
    )


# A quarter of each float type's largest number: logits below it / N cannot overflow anywhere in
# the fused kernel (differences of two logits, a row's loss, the sum of N row losses).
_QUARTER_MAX = {np.dtype(t): float(np.finfo(t).max) / 4 for t in (np.float32, np.float64)}


_NO_CHANGE = contextlib.nullcontext()


def softmax_cross_entropy_backward(
    probs: ArrayLike, labels: ArrayLike, upstream: float = 1.0
) -> FloatArray:
    """upstream · (P - Y) / N: the gradient of the mean softmax cross-entropy w.r.t. the logits.

    ``probs`` is the P the forward pass computed (``softmax_cross_entropy(...).probs``), so no
    softmax is recomputed; ``labels`` as in :func:`softmax_cross_entropy`; ``upstream`` a finite
    real number (NaN, inf, text or an int beyond the floats is refused with a sentence). The
    derivation is in that function's docstring. Same result as
    ``softmax_cross_entropy(...).grad(upstream)``; this form checks its inputs again.
    """
    op = "softmax_cross_entropy_backward"
    p = as_float_array(probs, "probs", op)
    check_batch(p, "probs", op)
    check_probabilities(p, "probs", op, hint=" (pass the forward's probs, not the logits)")
    y = check_labels(labels, p, op)
    return softmax_cross_entropy_grad(p, y, upstream_number(upstream, op))


def softmax_cross_entropy_grad(
    probs: FloatArray, labels: NDArray[Any], upstream: float = 1.0
) -> FloatArray:
    """upstream · (P - Y) / N: the gradient of the mean cross-entropy with respect to the logits.

    The backward rule of the fused softmax cross-entropy. ``probs`` is the P = softmax(logits)
    that the forward pass already computed, so no second softmax is needed; ``labels`` are
    class indices (N,) or target rows (N, C); N is the batch size, the 1/N comes from the loss
    being the mean over the N rows. The derivation of p - y is in :func:`softmax_cross_entropy`.
    For class indices Y is one-hot, so instead of building Y the rule subtracts at each row's
    true class only.

    One call checks the inputs: ``upstream`` a finite real number, as upstream / N must
    be in P's dtype, and the labels class indices in range or rows of probabilities, one per row
    of P. float16 is computed in float32 and handed back in float16. Since |p - y| ≤ 1, no
    entry can overflow.
    """
    if probs.dtype == HALF:  # upstream / N may be beyond float16 (N > 65,504): in float32
        return softmax_cross_entropy_grad(widened(probs), labels, upstream).astype(HALF)
    labels, scale = _rule_inputs(probs, labels, upstream)  # checked; scale = upstream / N
    grad = probs * scale  # upstream · P / N
    if labels.ndim == 1:  # class indices: Y is 1 at [row, its label], 0 elsewhere
        grad[np.arange(len(labels)), labels] -= scale
    else:  # target rows (one-hot or soft) are Y itself
        grad -= labels * scale
    return grad


def _rule_inputs(
    probs: FloatArray, labels: NDArray[Any], upstream: Any
) -> tuple[NDArray[Any], np.floating[Any]]:
    """The checks of :func:`softmax_cross_entropy_grad`: its labels, checked against P's shape
    (a label of -1 would index from the end, silently), and upstream / N in P's dtype, from an
    ``upstream`` that is a finite real number small enough for that dtype; or the sentence
    that says which is wrong (an empty batch included)."""
    op = "softmax_cross_entropy_grad"
    upstream = upstream_number(upstream, op)
    dtype = probs.dtype
    n = probs.shape[0]
    if n == 0:
        check_batch(probs, "probs", op)  # the sentence for an empty batch
    labels = check_labels(labels, probs, op)
    if abs(upstream) > _LARGEST.get(dtype, math.inf):
        raise OverflowError(
            f"{op}: upstream = {upstream:.4g} is larger than the largest {dtype} "
            f"({_LARGEST[dtype]:.3g}), the dtype of the probabilities; scale it down"
        )
    return labels, dtype.type(upstream) / dtype.type(n)


_LARGEST = {np.dtype(t): float(np.finfo(t).max) for t in (np.float32, np.float64)}
