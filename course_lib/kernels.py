"""Stable softmax kernels, the softmax Jacobian and its VJP, and fused softmax-cross-entropy.

Plain numpy, no autodiff: these are the formulas the ``Tensor`` ops call, written once, with
their derivations in the docstrings. Notation: logits z ∈ ℝ^C (a row of a batch), probabilities
p = softmax(z), one-hot or probability targets y, batch size N.

Why "stable": e^z overflows float64 for z > 709 (float32 already for z > 88), and underflows to
0 for z < -745. Every formula here first subtracts the largest logit m = max_j z_j, which
changes nothing mathematically (shown below) but keeps every exponent ≤ 0, so e^(z - m) ∈ (0, 1]
and the largest term is exactly 1: no overflow, and the sum is at least 1, so its log is finite.

Each function keeps float32 and float64 inputs in their own precision; integer or boolean input
is computed in float64. Bad input (empty axis, inf or NaN logits, an axis the array does not
have, non-numeric data, labels that do not fit the logits) raises an error that says which.
One limit is not bad input but the size of a float: logits so far apart that a result itself
exceeds the largest float (a log-probability or a loss beyond ±1.8e308 in float64, ±3.4e38 in
float32) raise OverflowError naming the row, instead of returning inf.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.exceptions import AxisError
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SoftmaxCrossEntropy",
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_vjp",
    "logsumexp",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_grad",
    "softmax_jacobian",
    "softmax_vjp",
]

FloatArray = NDArray[np.floating[Any]]


# ----------------------------------------------------------------------------------------------
# input checks (shared by every kernel)


def _as_float_array(x: ArrayLike, name: str, op: str) -> FloatArray:
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


def _check_axis(arr: np.ndarray, axis: int, name: str, op: str) -> int:
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


def _check_finite(arr: np.ndarray, name: str, op: str, why: str = LOGITS_WHY) -> None:
    """A ValueError naming the first inf or NaN entry of ``arr`` and ``why`` it matters."""
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{op}: {name} must be finite, but {name}[{', '.join(map(str, where))}] = "
            f"{arr[where]}; {why}"
        )


def _minus_max(arr: np.ndarray, m: np.ndarray) -> np.ndarray:
    """z - m, where an entry more than the largest float below m becomes -inf without a warning:
    its e^(z - m) is then exactly 0, the value it rounds to anyway (it underflows long before)."""
    with np.errstate(over="ignore"):
        return arr - m


def _logits(z: ArrayLike, axis: int, op: str) -> tuple[FloatArray, int]:
    arr = _as_float_array(z, "z", op)
    if arr.ndim == 0:
        raise AxisError(f"{op}: z is a single number (shape ()); it needs an axis of logits")
    axis = _check_axis(arr, axis, "z", op)
    _check_finite(arr, "z", op)
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
    m = arr.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(_minus_max(arr, m)).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


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
    shifted = _minus_max(arr, arr.max(axis=axis, keepdims=True))
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    if not np.isfinite(out.min()):  # a z_i - m beyond the largest float: log p_i is too
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
    arr = _as_float_array(z, "z", "softmax_jacobian")
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"softmax_jacobian: z must be a vector (C,) or a batch (N, C), got shape {arr.shape}"
        )
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
    op = "softmax_vjp"
    p_arr, g_arr, axis = _vjp_inputs(p, upstream, axis, "p", op)
    _check_probabilities(
        p_arr, "p", op, hint=" (softmax_vjp takes the softmax output, not logits)", axis=axis
    )
    return p_arr * (g_arr - (g_arr * p_arr).sum(axis=axis, keepdims=True))


def log_softmax_jacobian(z: ArrayLike) -> FloatArray:
    """The Jacobian of log-softmax: J_ij = ∂ log p_i / ∂z_j = δ_ij - p_j, i.e. J = I - 1 pᵀ.

    From log p_i = z_i - logsumexp(z) and ∂ logsumexp(z)/∂z_j = p_j. Unlike the softmax
    Jacobian it is *not* symmetric: row i is e_i - p (every row subtracts the same p), column j
    is e_j - p_j 1. So Jᵀg and Jg differ, a classic mis-indexing bug: see
    :func:`log_softmax_vjp`. Shape (C, C) for a vector of logits, (N, C, C) for a batch (N, C).
    """
    arr = _as_float_array(z, "z", "log_softmax_jacobian")
    if arr.ndim not in (1, 2):
        raise ValueError(
            "log_softmax_jacobian: z must be a vector (C,) or a batch (N, C), "
            f"got shape {arr.shape}"
        )
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
    p_arr = np.exp(lp_arr)
    _check_probabilities(
        p_arr, "exp(log_p)", op, hint=" (log_softmax_vjp takes the log_softmax output)", axis=axis
    )
    return g_arr - p_arr * g_arr.sum(axis=axis, keepdims=True)


def _vjp_inputs(
    out: ArrayLike, upstream: ArrayLike, axis: int, name: str, op: str
) -> tuple[FloatArray, FloatArray, int]:
    out_arr = _as_float_array(out, name, op)
    g_arr = _as_float_array(upstream, "upstream", op)
    if out_arr.shape != g_arr.shape:
        raise ValueError(
            f"{op}: {name} has shape {out_arr.shape} but upstream has shape {g_arr.shape}; "
            f"the upstream gradient must have the shape of {name}"
        )
    if out_arr.ndim == 0:
        raise AxisError(f"{op}: {name} is a single number (shape ()); it needs an axis")
    return out_arr, g_arr, _check_axis(out_arr, axis, name, op)


def _row_sum_tolerance(dtype: np.dtype, classes: int) -> float:
    """How far from 1 a row of probabilities may sum: above rounding error, below a logits row."""
    if dtype == np.float16:
        return 1e-2
    return 1e-3 if dtype == np.float32 else 1e-6 * max(1.0, classes / 100)


def _check_probabilities(
    arr: np.ndarray, name: str, op: str, hint: str = "", axis: int = -1
) -> None:
    """Slices along ``axis`` of non-negative numbers summing to 1, else a ValueError naming one."""
    if arr.size == 0:
        return
    sums = arr.sum(axis=axis)
    off = np.abs(sums - 1.0)
    tol = _row_sum_tolerance(arr.dtype, arr.shape[axis])
    if off.max() <= tol and arr.min() >= 0:  # False for NaN too, so NaN falls through
        return
    # The reason names what these numbers are (probabilities or targets), never "logits".
    _check_finite(
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


# ----------------------------------------------------------------------------------------------
# fused softmax cross-entropy


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

    ``logits``: shape (N, C), finite; float32 and float64 stay in their precision.
    ``labels``: class indices, integers in [0, C), shape (N,); or target rows, shape (N, C),
    non-negative and each summing to 1 (one-hot or soft labels).

    Returns a :class:`SoftmaxCrossEntropy` holding ``loss``, ``probs`` (P, for the backward) and
    the checked ``labels``; ``result.grad()`` is (P - Y) / N. The forward pass costs one max,
    one exp, one sum and one log per row; the backward one subtraction and one scaling.
    """
    op = "softmax_cross_entropy"
    z = _as_float_array(logits, "logits", op)
    if z.ndim != 2:
        raise ValueError(
            f"{op}: logits must be 2-D (N rows, C classes), got shape {z.shape}"
            + ("; for one example use logits[None, :]" if z.ndim == 1 else "")
        )
    n, c = z.shape
    if n == 0:
        raise ValueError(f"{op}: the batch is empty (logits of shape {z.shape}); no mean loss")
    if c == 0:
        raise ValueError(f"{op}: logits of shape {z.shape} have no classes")
    y = _check_labels(labels, z, op)

    # Logits below a quarter of the largest float over N (|z| < 1e36 for float32 and N = 64,
    # the usual case) can overflow nowhere below. Others may: a z - m beyond the largest float
    # becomes -inf, whose e^(z - m) = 0 is right, and a row's loss may be too large for any
    # float (an OverflowError below); numpy's overflow warnings are silenced for those.
    near_limit = not np.abs(z).max() <= _QUARTER_MAX.get(z.dtype, 0.0) / n
    with np.errstate(over="ignore", invalid="ignore") if near_limit else _NO_CHANGE:
        if near_limit:
            _check_finite(z, "logits", op)
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
    if not math.isfinite(loss):
        _loss_overflow(rows, z, m, y, op)
    return SoftmaxCrossEntropy(z.dtype.type(loss), p, y)


def _loss_overflow(rows: np.ndarray, z: np.ndarray, m: np.ndarray, y: np.ndarray, op: str) -> None:
    """The OverflowError for a row whose loss exceeds the largest float of z's dtype."""
    n = int(np.argmax(~np.isfinite(rows)))
    target = (
        f"its true class's logit z[{n}, {y[n]}] = {z[n, y[n]]:.4g}"
        if y.ndim == 1
        else (f"its lowest logit with target mass is {z[n][y[n] > 0].min():.4g}")
    )
    raise OverflowError(
        f"{op}: the loss of row {n} is larger than the largest {z.dtype} "
        f"({np.finfo(z.dtype).max:.3g}): its largest logit is {m[n]:.4g} and {target}, and the "
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
    softmax is recomputed; ``labels`` as in :func:`softmax_cross_entropy`. The derivation is in
    that function's docstring. Same result as ``softmax_cross_entropy(...).grad(upstream)``;
    this form checks its inputs again.
    """
    op = "softmax_cross_entropy_backward"
    p = _as_float_array(probs, "probs", op)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{op}: probs must be a non-empty 2-D array (N, C), got shape {p.shape}")
    _check_probabilities(p, "probs", op, hint=" (pass the forward's probs, not the logits)")
    y = _check_labels(labels, p, op)
    return softmax_cross_entropy_grad(p, y, upstream)


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
    """
    n = probs.shape[0]
    scale = probs.dtype.type(upstream) / probs.dtype.type(n)  # upstream / N, in P's dtype
    grad = probs * scale  # upstream · P / N
    if labels.ndim == 1:  # class indices: Y is 1 at [row, its label], 0 elsewhere
        grad[np.arange(n), labels] -= scale
    else:  # target rows (one-hot or soft) are Y itself
        grad -= labels * scale
    return grad


_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}  # by itemsize


def _check_labels(labels: ArrayLike, z: np.ndarray, op: str) -> NDArray[Any]:
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
        _check_probabilities(y, "labels", op, hint=" (one-hot or probability target rows)")
        return y
    raise ValueError(
        f"{op}: labels must be class indices (N,) or target rows (N, C), got shape {y.shape} "
        f"for logits of shape {z.shape}"
    )
