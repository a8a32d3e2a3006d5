"""The Tensor ops that are functions rather than methods: the softmax family and the fused
linear layer. Each forward pass sits beside its local rule, as in :mod:`course_lib.tensor_ops`
(whose table lists these rules too, and whose helpers build the nodes).

* ``softmax``, ``log_softmax`` and ``softmax_cross_entropy`` run the stable numpy kernels of
  :mod:`course_lib.kernels` forward, and their vector-Jacobian products backward: no rule
  ever builds the dense C × C Jacobian;
* ``linear(x, W, b)`` is ``x @ W + b`` as one node: a fused op, for speed, tested against the
  two-node graph in ``tests/test_tensor_linear.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib import kernels
from course_lib.tensor_checks import broadcast_error, normalize_axes
from course_lib.tensor_ops import TensorOps, _lift, _node, _result, _tensor_input

if TYPE_CHECKING:
    from course_lib.tensor import Tensor

__all__ = ["linear", "log_softmax", "softmax", "softmax_cross_entropy"]

ArrayLike = Any  # a Tensor, numpy array, nested list or plain number


# ---- softmax, log-softmax and the fused softmax cross-entropy ---------------------------------
#
# The forward passes are the stable kernels of course_lib.kernels (max subtracted first); the
# backward rules are their vector-Jacobian products. softmax_cross_entropy is a deliberate
# exception to "one small op per node": one node for log_softmax → pick → mean, whose rule is
# the compact (P - Y) / N instead of three rules chained.


def softmax(t: Tensor, axis: int = -1) -> Tensor:
    """p = softmax(t) along ``axis``: p_i = e^{t_i} / Σ_j e^{t_j}, each slice summing to 1.

    Backward: with g = ``upstream`` = dL/dp, dL/dt = Jᵀg = p ⊙ (g - ⟨g, p⟩) slice by slice
    (:func:`course_lib.kernels.softmax_vjp`), never the dense Jacobian diag(p) - p pᵀ.
    """
    a = _tensor_input(t, "softmax")
    axis = _softmax_axis(a, axis, "softmax")
    return _node(kernels.softmax(a.data, axis), (a,), "softmax", _softmax_backward, axis)


def _softmax_backward(upstream, out, a):
    return kernels.softmax_vjp(out.data, upstream, out.ctx)


def log_softmax(t: Tensor, axis: int = -1) -> Tensor:
    """log p = t - logsumexp(t) along ``axis``, finite for any finite logits.

    Backward: the Jacobian J_ij = δ_ij - p_j is not symmetric, and the rule needs Jᵀg:
    dL/dt_j = g_j - p_j Σ_i g_i with p = e^{out} (:func:`course_lib.kernels.log_softmax_vjp`).
    """
    a = _tensor_input(t, "log_softmax")
    axis = _softmax_axis(a, axis, "log_softmax")
    data = kernels.log_softmax(a.data, axis)
    return _node(data, (a,), "log_softmax", _log_softmax_backward, axis)


def _log_softmax_backward(upstream, out, a):
    return kernels.log_softmax_vjp(out.data, upstream, out.ctx)


def softmax_cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """The mean cross-entropy of softmax(logits) against ``labels``, as ONE node (a scalar).

    ``logits``: a Tensor of shape (N, C); ``labels``: class indices (N,) in [0, C) or target
    rows (N, C) summing to 1 (numpy arrays or lists; labels get no gradient). Forward by
    log-sum-exp, L = mean_n (logsumexp(z_n) - z_{n, y_n}), through
    :func:`course_lib.kernels.softmax_cross_entropy`, which also keeps P = softmax(z); the rule
    is then dL/dz = upstream · (P - Y) / N, with no second softmax. Equal to the unfused
    ``-log_softmax(z)[arange(N), y].mean()``, but one node instead of three, and finite for
    logits of any size. The node keeps its own copy of the labels: changing the caller's array
    between forward and backward does not change the gradient.
    """
    z = _tensor_input(logits, "softmax_cross_entropy")
    if isinstance(labels, TensorOps):
        if labels.requires_grad:
            raise TypeError(
                "softmax_cross_entropy: labels get no gradient here; pass a numpy array (or a "
                "Tensor with requires_grad=False)"
            )
        labels = labels.data
    if isinstance(labels, np.ndarray):
        labels = labels.copy()  # the backward rule reads them: keep our own
    result = kernels.softmax_cross_entropy(z.data, labels)
    return _result(
        np.asarray(result.loss),
        (z,),
        "softmax_cross_entropy",
        _softmax_cross_entropy_backward,
        result,
    )


def _softmax_cross_entropy_backward(upstream, out, logits):
    return out.ctx.grad(upstream)  # upstream · (P - Y) / N, P from the forward pass


def _softmax_axis(t: Tensor, axis: Any, op: str) -> int:
    if t.ndim == 0:
        raise ValueError(
            f"{op}: the tensor is a single number (shape ()); it needs an axis of logits"
        )
    if isinstance(axis, tuple):
        raise TypeError(f"{op}: takes one axis (an int), got the tuple {axis}")
    (axis,) = normalize_axes(axis, t.shape, op)
    if t.shape[axis] == 0:
        raise ValueError(f"{op}: axis {axis} of shape {t.shape} is empty; a softmax needs a logit")
    return axis


# ---- the fused layer ----------------------------------------------------------------------------


def linear(x: ArrayLike, W: Tensor, b: Tensor | None = None) -> Tensor:  # noqa: N803
    """out = x @ W + b, the affine layer, as ONE node (a fused op, for speed).

    ``W`` is a Tensor of shape (D, M); ``x`` has shape (..., D) (a Tensor, or a numpy batch,
    which becomes a constant); ``b`` (optional) broadcasts to the result, usually shape (M,).
    Same values and gradients as the two nodes ``x @ W + b``, but one node saves the engine's
    per-node work and one array (the bias is added in place to the fresh product). Its rule is
    the two rules composed: the add hands ``upstream`` to both of its inputs, so

        x: upstream @ Wᵀ        W: xᵀ @ upstream        b: upstream

    where b's contribution is summed back to b's shape (over the batch): here for the usual
    bias of shape (M,) after a batch (N, M), by sum_to_shape for any other shape, as for every
    op; and for x with several batch axes xᵀ @ upstream sums over all of them.
    """
    if not isinstance(W, TensorOps):
        raise TypeError(f"linear: W must be a Tensor (the weights), got {type(W).__name__}")
    x = _lift(x, W, "linear")
    X, Wd = x.data, W.data
    if Wd.ndim != 2:
        raise ValueError(f"linear: W must be a matrix (D, M), got shape {Wd.shape}")
    if X.ndim == 0 or X.shape[-1] != Wd.shape[0]:
        raise ValueError(
            f"linear: x of shape {X.shape} @ W of shape {Wd.shape}: x's last axis must have "
            f"{Wd.shape[0]} entries, W's first axis"
        )
    if b is None:
        with np.errstate(all="ignore"):  # an overflow is reported by _result, naming linear
            data = np.matmul(X, Wd)
        return _result(data, (x, W), "linear", _linear_backward)
    b = _lift(b, W, "linear")
    B = b.data
    with np.errstate(all="ignore"):  # an overflow is reported by _result, naming linear
        data = np.matmul(X, Wd)
        if B.dtype == data.dtype and (B.shape == data.shape[-1:] or B.shape == data.shape):
            data += B  # the usual bias (M,): add it in place to the fresh product
        else:
            try:
                data = data + B
            except ValueError:
                raise broadcast_error("linear", data.shape, B.shape) from None
    return _result(data, (x, W, b), "linear", _linear_backward)


def _linear_backward(upstream, out, x, W, b=None):  # noqa: N803
    X, Wd = x.data, W.data
    dx = np.matmul(upstream, Wd.T) if x.requires_grad else None
    dW = None
    if W.requires_grad:
        if X.ndim == 1:
            dW = np.outer(X, upstream)
        elif X.ndim == 2:
            dW = np.matmul(X.T, upstream)
        else:  # batch axes: every row of every batch used W, so all of them are summed
            dW = np.matmul(X.reshape(-1, X.shape[-1]).T, upstream.reshape(-1, Wd.shape[1]))
    if b is None:
        return dx, dW
    if upstream.ndim == 2 and b.data.shape == upstream.shape[1:]:
        return dx, dW, upstream.sum(axis=0)  # the usual bias (M,): summed over the batch here
    return dx, dW, upstream  # b: summed to b's shape by sum_to_shape, as for a + b
