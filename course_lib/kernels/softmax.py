"""Stable softmax kernels: log-sum-exp, softmax and log-softmax, their Jacobians and VJPs.

Plain numpy, no autodiff: these are formulas the ``Tensor`` ops call, written once, with
their derivations in the docstrings. Notation: logits z ∈ ℝ^C (a row of a batch), probabilities
p = softmax(z), one-hot or probability targets y, batch size N.

Why "stable": e^z overflows float64 for z > 709 (float32 already for z > 88), and underflows to
0 for z < -745. Every formula here first subtracts the largest logit m = max_j z_j, which
changes nothing mathematically (shown below) but keeps every exponent ≤ 0, so e^(z - m) ∈ (0, 1]
and the largest term is exactly 1: no overflow, and the sum is at least 1, so its log is finite.

Each function keeps float32 and float64 inputs in their own precision; integer or boolean input
is computed in float64. float16 input is computed in float32 and the result handed back in
float16 (a float16 sum of 70,000 terms of 1 would overflow at 65,504); probabilities too small
for float16 to hold (a row of them no longer summing to 1, as over 10^6 equal logits) raise
FloatingPointError instead (see :mod:`~course_lib.kernels.validation`).

Bad input (empty axis, inf or NaN logits, an axis the array does not have, non-numeric data,
labels that do not fit the logits, an upstream gradient holding inf or NaN) raises an error
that says which. An empty batch (no rows, shape (0, C)) is no error: the functions work slice
by slice, so it gives an empty result (the fused cross-entropy, a mean over the rows, refuses
it: :mod:`~course_lib.kernels.cross_entropy`); an empty axis of logits (shape (N, 0)) has no
softmax and is refused.
One limit is not bad input but the size of a float: logits so far apart that a result itself
exceeds the largest float (a log-probability or a loss beyond ±1.8e308 in float64, ±3.4e38 in
float32) raise OverflowError naming the row, instead of returning inf.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.exceptions import AxisError
from numpy.typing import ArrayLike, NDArray

from course_lib.kernels.validation import (
    HALF,
    all_finite,
    as_float_array,
    check_axis,
    check_finite,
    check_probabilities,
    finite_gradient,
    first_bad,
    narrowed_probabilities,
    widened,
)
from course_lib.numbers.checking import check_size, switch

__all__ = [
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_vjp",
    "logsumexp",
    "softmax",
    "softmax_jacobian",
    "softmax_vjp",
]

FloatArray = NDArray[np.floating[Any]]


# ----------------------------------------------------------------------------------------------
# input checks (shared by every kernel)


def _minus_max(arr: np.ndarray, m: np.ndarray) -> np.ndarray:
    """z - m, where an entry more than the largest float below m becomes -inf without a warning:
    its e^(z - m) is then exactly 0, the value it rounds to anyway (it underflows long before)."""
    with np.errstate(over="ignore"):
        return arr - m


def _logits(z: ArrayLike, axis: int, op: str) -> tuple[FloatArray, int]:
    arr = as_float_array(z, "z", op)
    if arr.ndim == 0:
        raise AxisError(f"{op}: z is a single number (shape ()); it needs an axis of logits")
    axis = check_axis(arr, axis, "z", op)
    check_finite(arr, "z", op)
    return arr, axis


# ----------------------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax


def logsumexp(z: ArrayLike, axis: int = -1, keepdims: bool = False) -> FloatArray:
    """log Σ_j e^{z_j} along ``axis``, computed without overflow.

    With m = max_j z_j:

        log Σ_j e^{z_j} = log (e^m Σ_j e^{z_j - m}) = m + log Σ_j e^{z_j - m}.

    Every exponent z_j - m is ≤ 0 and the largest is 0, so the sum lies in [1, C]: no term
    overflows, and the log of the sum is finite (between 0 and log C). Logits of ±1e4 give
    exactly what the formula says, e.g. logsumexp([1e4, 1e4]) = 1e4 + log 2.
    """
    arr, axis = _logits(z, axis, "logsumexp")
    if keepdims is not True and keepdims is not False:
        keepdims = switch(keepdims, "keepdims", "logsumexp")
    if arr.dtype == HALF:  # computed in float64, then rounded once: near 0 (a row of one large
        # logit and far smaller ones) float32's log of a sum near 1 was off by several of
        # float16's subnormal steps
        return _back_to_half(logsumexp(arr.astype(np.float64), axis, keepdims), "logsumexp")
    m = arr.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(_minus_max(arr, m)).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _back_to_half(out: FloatArray, op: str) -> FloatArray:
    """A result computed in float32 for float16 input, rounded to float16: an OverflowError
    if it is beyond float16's largest number, 65,504 (logsumexp of 10^7 logits of 65,504)."""
    with np.errstate(over="ignore"):
        half = out.astype(HALF)
    if not all_finite(half):
        where = first_bad(half)
        raise OverflowError(
            f"{op}: the result at {list(where)} is {float(out[where]):.6g}, larger than the "
            f"largest float16 ({float(np.finfo(HALF).max):.6g}); compute in float32 instead: "
            "pass z.astype(np.float32)"
        )
    return half


def softmax(z: ArrayLike, axis: int = -1) -> FloatArray:
    """p_i = e^{z_i} / Σ_j e^{z_j} along ``axis``, computed without overflow.

    Multiplying top and bottom by e^{-m}, m = max_j z_j, changes nothing:

        p_i = e^{z_i - m} / Σ_j e^{z_j - m},

    and now every exponent is ≤ 0 (no overflow) and the denominator is ≥ 1 (no division by 0).
    The same identity says softmax(z + c) = softmax(z) for any constant c: only differences of
    logits matter. The result is positive (a 0 only where a p_i underflows, below about 5e-324
    (z_i - m < -745) in float64) and each slice along ``axis`` sums to 1.
    """
    arr, axis = _logits(z, axis, "softmax")
    if arr.dtype == HALF:  # computed in float32, where a sum of 70,000 ones fits
        return narrowed_probabilities(softmax(widened(arr), axis), HALF, "softmax", axis)
    e = np.exp(arr - arr.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(z: ArrayLike, axis: int = -1) -> FloatArray:
    """log p_i = z_i - log Σ_j e^{z_j} = (z_i - m) - log Σ_j e^{z_j - m} along ``axis``.

    Computing ``log(softmax(z))`` instead would be wrong at large logit gaps: a p_i that
    underflows to 0 gives log 0 = -inf, whereas the formula above stays finite (for
    z = (0, 1e4) it gives log p_0 = -1e4 exactly, the true value).
    """
    arr, axis = _logits(z, axis, "log_softmax")
    work = widened(arr)  # float16 is computed in float32, then rounded back once
    shifted = _minus_max(work, work.max(axis=axis, keepdims=True))
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    if out.dtype != arr.dtype:
        with np.errstate(over="ignore"):  # below -65,504 is -inf in float16: named below
            out = out.astype(arr.dtype)
    if out.size and not np.isfinite(out.min()):  # a z_i - m beyond the largest float: so is log p_i
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise OverflowError(
            f"log_softmax: log p at {list(where)} is below -{np.finfo(arr.dtype).max:.3g}, the "
            f"most negative {arr.dtype} (z{list(where)} = {arr[where]:.4g} lies that far below "
            "the largest logit of its slice); such logits have no finite log-probability: "
            "scale them down"
        )
    return out


# ----------------------------------------------------------------------------------------------
# the softmax Jacobian and its vector-Jacobian product


def softmax_jacobian(z: ArrayLike) -> FloatArray:
    """The dense Jacobian J_ij = ∂p_i/∂z_j = p_i (δ_ij - p_j), i.e. J = diag(p) - p pᵀ.

    Derivation, one row i: p_i = e^{z_i} / S with S = Σ_k e^{z_k}, and ∂S/∂z_j = e^{z_j}. The
    quotient rule gives

        ∂p_i/∂z_j = (δ_ij e^{z_i} S - e^{z_i} e^{z_j}) / S² = p_i δ_ij - p_i p_j = p_i (δ_ij - p_j).

    Every entry is non-zero in general (each p_i depends on every logit): the matrix is dense,
    unlike the diagonal Jacobian of an elementwise function. It is symmetric (p_i p_j = p_j p_i),
    each row sums to 0 (Σ_j p_i(δ_ij - p_j) = p_i - p_i Σ_j p_j = 0, because Σ p = 1), so it is
    singular: J·(1, ..., 1) = 0, which is the statement that adding a constant to every logit
    does not change p.

    ``z`` is a vector of C logits, giving J of shape (C, C), or a batch (N, C) of independent
    rows, giving the stack of N Jacobians, shape (N, C, C). It costs O(C²) memory per row; a
    backward pass never needs it (see :func:`softmax_vjp`).
    """
    arr = as_float_array(z, "z", "softmax_jacobian")
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"softmax_jacobian: z must be a vector (C,) or a batch (N, C), got shape {arr.shape}"
        )
    check_size(arr.size * arr.shape[-1], "the Jacobians (C × C numbers a row)", "softmax_jacobian")
    with np.errstate(over="ignore"):  # z - m below the floats is -inf, whose e^-inf = 0 is right
        p = softmax(arr, axis=-1)
    jac = -p[..., :, None] * p[..., None, :]  # -p_i p_j
    diag = np.einsum("...ii->...i", jac)  # a writable view of the diagonals
    diag += p  # + p_i on the diagonal
    return jac


def softmax_vjp(p: ArrayLike, upstream: ArrayLike, axis: int = -1) -> FloatArray:
    """Jᵀg for the softmax Jacobian J at probabilities ``p``, without forming J.

    With g = ``upstream`` = ∂L/∂p, the chain rule gives ∂L/∂z_j = Σ_i g_i ∂p_i/∂z_j = (Jᵀg)_j:

        (Jᵀg)_j = Σ_i g_i p_i (δ_ij - p_j) = p_j g_j - p_j Σ_i g_i p_i = p_j (g_j - ⟨g, p⟩).

    So: one dot product ⟨g, p⟩, one subtraction, one elementwise product. O(C) time and memory
    per row, against O(C²) for building J and multiplying by it. Slice by slice along ``axis``
    (the axis the softmax ran along): ``p`` and ``upstream`` have the same shape. Takes the
    softmax *output* p (what a forward pass stores), not the logits; with g = e_i (one-hot) it
    returns e_iᵀJ, row i of J: one reverse-mode sweep gives one row.
    """
    p_arr, g_arr, axis = _softmax_vjp_inputs(p, upstream, axis)  # checked: p holds probabilities
    p, g = widened(p_arr), widened(g_arr)  # float16 is computed in float32
    with np.errstate(all="ignore"):  # inf or NaN is named by the check of the result below
        grad = p * (g - (g * p).sum(axis=axis, keepdims=True))
    return finite_gradient(grad, g_arr, "softmax_vjp", p_arr)


def _softmax_vjp_inputs(
    p: ArrayLike, upstream: ArrayLike, axis: int
) -> tuple[FloatArray, FloatArray, int]:
    """The checks of :func:`softmax_vjp`: ``p`` and ``upstream`` as float arrays of one shape,
    ``axis`` as a non-negative axis of theirs, and every slice of ``p`` along it a probability
    vector (the softmax output, not the logits); or the error that says which is wrong."""
    op = "softmax_vjp"
    p_arr, g_arr, axis = _vjp_inputs(p, upstream, axis, "p", op)
    check_probabilities(
        p_arr, "p", op, hint=" (softmax_vjp takes the softmax output, not logits)", axis=axis
    )
    return p_arr, g_arr, axis


def log_softmax_jacobian(z: ArrayLike) -> FloatArray:
    """The Jacobian of log-softmax: J_ij = ∂ log p_i / ∂z_j = δ_ij - p_j, i.e. J = I - 1 pᵀ.

    From log p_i = z_i - logsumexp(z) and ∂ logsumexp(z)/∂z_j = p_j. Unlike the softmax
    Jacobian it is *not* symmetric: row i is e_i - p (every row subtracts the same p), column j
    is e_j - p_j 1. So Jᵀg and Jg differ, a classic mis-indexing bug: see
    :func:`log_softmax_vjp`. Shape (C, C) for a vector of logits, (N, C, C) for a batch (N, C).
    """
    arr = as_float_array(z, "z", "log_softmax_jacobian")
    if arr.ndim not in (1, 2):
        raise ValueError(
            "log_softmax_jacobian: z must be a vector (C,) or a batch (N, C), "
            f"got shape {arr.shape}"
        )
    check_size(
        arr.size * arr.shape[-1], "the Jacobians (C × C numbers a row)", "log_softmax_jacobian"
    )
    with np.errstate(over="ignore"):  # z - m below the floats is -inf, whose e^-inf = 0 is right
        p = softmax(arr, axis=-1)
    c = arr.shape[-1]
    return np.eye(c, dtype=p.dtype) - p[..., None, :]  # row i: e_i - p


def log_softmax_vjp(log_p: ArrayLike, upstream: ArrayLike, axis: int = -1) -> FloatArray:
    """Jᵀg for the log-softmax Jacobian J_ij = δ_ij - p_j, without forming J.

        (Jᵀg)_j = Σ_i g_i (δ_ij - p_j) = g_j - p_j Σ_i g_i.

    The other product, (Jg)_i = g_i - ⟨p, g⟩, is a different vector (for g = e_k: Jᵀg = e_k - p
    but Jg = e_k - p_k 1); using it is what forgetting that this J is not symmetric does. Takes the
    log-softmax *output* log p (what a forward pass stores) and recovers p = e^{log p}.
    """
    op = "log_softmax_vjp"
    lp_arr, g_arr, axis = _vjp_inputs(log_p, upstream, axis, "log_p", op)
    g = widened(g_arr)  # float16 is computed in float32
    with np.errstate(over="ignore"):  # a log_p > 709 is no log-probability: refused below
        p = np.exp(widened(lp_arr))
    check_probabilities(
        p,
        "exp(log_p)",
        op,
        hint=" (log_softmax_vjp takes the log_softmax output)",
        axis=axis,
        dtype=lp_arr.dtype,
    )
    with np.errstate(all="ignore"):  # inf or NaN is named by the check of the result below
        grad = g - p * g.sum(axis=axis, keepdims=True)
    return finite_gradient(grad, g_arr, op, lp_arr)


def _vjp_inputs(
    out: ArrayLike, upstream: ArrayLike, axis: int, name: str, op: str
) -> tuple[FloatArray, FloatArray, int]:
    out_arr = as_float_array(out, name, op)
    g_arr = as_float_array(upstream, "upstream", op)
    if out_arr.shape != g_arr.shape:
        raise ValueError(
            f"{op}: {name} has shape {out_arr.shape} but upstream has shape {g_arr.shape}; "
            f"the upstream gradient must have the shape of {name}"
        )
    if out_arr.ndim == 0:
        raise AxisError(f"{op}: {name} is a single number (shape ()); it needs an axis")
    return out_arr, g_arr, check_axis(out_arr, axis, name, op)


# ----------------------------------------------------------------------------------------------
# fused softmax cross-entropy
