"""The Tensor ops that are functions rather than methods: the softmax family and the fused
linear layer. Each forward pass sits beside its local rule, as in :mod:`course_lib.tensor.ops`
(whose table lists these rules too, and whose helpers build the nodes).

* ``softmax``, ``log_softmax`` and ``softmax_cross_entropy`` run the stable numpy kernels of
  :mod:`course_lib.kernels` forward, and their vector-Jacobian products backward: no rule
  ever builds the dense C × C Jacobian;
* ``linear(x, W, b)`` is ``x @ W + b`` as one node: a fused op, for speed, tested against the
  two-node graph in ``tests/test_tensor_linear.py``;
* ``layer_norm(x)`` normalises each row to mean 0 and variance 1, as one node whose rule is
  the fused formula (tested against the composed graph of mean, subtract, square, mean,
  square root, divide in ``tests/test_tensor_layers.py``);
* ``embedding(W, tokens)`` looks up one row of W per token; its rule is a scatter-add.
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib import kernels
from course_lib.numbers.checking import real_number
from course_lib.tensor.ops import (
    TensorOps,
    as_constant,
    new_node,
    result_node,
    rule,
    tensor_input,
)
from course_lib.tensor.validation import broadcast_error, normalize_axes, short_repr

if TYPE_CHECKING:
    from course_lib.tensor.node import Tensor

__all__ = [
    "embedding",
    "embedding_backward",
    "fused_cross_entropy_backward",
    "layer_norm",
    "layer_norm_backward",
    "linear",
    "linear_backward",
    "log_softmax",
    "log_softmax_backward",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
]

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
    a = tensor_input(t, "softmax")
    axis = _softmax_axis(a, axis, "softmax")
    with np.errstate(over="ignore"):  # a z - m below the floats is -inf: e^-inf = 0 is right
        p = kernels.softmax(a.data, axis)
    return new_node(p, (a,), "softmax", axis)


@rule("softmax", "softmax({a})", ("out * (upstream - ⟨upstream, out⟩)",))
def softmax_backward(upstream, out, a):
    return kernels.softmax_vjp(out.data, upstream, out.ctx)


def log_softmax(t: Tensor, axis: int = -1) -> Tensor:
    """log p = t - logsumexp(t) along ``axis``, finite for any finite logits.

    Backward: the Jacobian J_ij = δ_ij - p_j is not symmetric, and the rule needs Jᵀg:
    dL/dt_j = g_j - p_j Σ_i g_i with p = e^{out} (:func:`course_lib.kernels.log_softmax_vjp`).
    """
    a = tensor_input(t, "log_softmax")
    axis = _softmax_axis(a, axis, "log_softmax")
    data = kernels.log_softmax(a.data, axis)
    return new_node(data, (a,), "log_softmax", axis)


@rule("log_softmax", "log_softmax({a})", ("upstream - exp(out) * Σ upstream",))
def log_softmax_backward(upstream, out, a):
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
    z = tensor_input(logits, "softmax_cross_entropy")
    if isinstance(labels, TensorOps):
        if labels.requires_grad:
            raise TypeError(
                "softmax_cross_entropy: labels get no gradient here; pass a numpy array (or a "
                "Tensor with requires_grad=False)"
            )
        labels = labels.data
    result = kernels.softmax_cross_entropy(z.data, labels)  # checks and copies the labels
    return result_node(np.asarray(result.loss), (z,), "softmax_cross_entropy", result)


@rule("softmax_cross_entropy", "softmax_cross_entropy({a}, labels)", ("upstream * (P - Y) / N",))
def fused_cross_entropy_backward(upstream, out, logits):
    return out.ctx.grad(upstream)  # upstream · (P - Y) / N, P from the forward pass


def _softmax_axis(t: Tensor, axis: Any, op: str) -> int:
    if t.ndim == 0:
        raise ValueError(
            f"{op}: the tensor is a single number (shape ()); it needs an axis of logits"
        )
    if isinstance(axis, tuple | list) or axis is None:
        raise TypeError(
            f"{op}: takes one axis (an int, such as -1 for the last), got {short_repr(axis)}"
        )
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

    where b's contribution is summed back to b's shape (over the batch) by sum_to_shape, as for
    every op; and for x with several batch axes xᵀ @ upstream sums over all of them.
    """
    if not isinstance(W, TensorOps):
        raise TypeError(f"linear: W must be a Tensor (the weights), got {type(W).__name__}")
    x = as_constant(x, W, "linear")
    X, Wd = x.data, W.data
    if Wd.ndim != 2:
        raise ValueError(f"linear: W must be a matrix (D, M), got shape {Wd.shape}")
    if X.ndim == 0 or X.shape[-1] != Wd.shape[0]:
        raise ValueError(
            f"linear: x of shape {X.shape} @ W of shape {Wd.shape}: x's last axis must have "
            f"{Wd.shape[0]} entries, W's first axis"
        )
    if b is None:
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming linear
            data = np.matmul(X, Wd)
        return result_node(data, (x, W), "linear")
    b = as_constant(b, W, "linear")
    B = b.data
    with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming linear
        data = np.matmul(X, Wd)
        if B.dtype == data.dtype and (B.shape == data.shape[-1:] or B.shape == data.shape):
            data += B  # the usual bias (M,): add it in place to the fresh product
        else:
            try:
                data = data + B
            except ValueError:
                raise broadcast_error("linear", data.shape, B.shape) from None
    return result_node(data, (x, W, b), "linear")


@rule(
    "linear",
    "linear({a}, {b}, {c})",
    ("upstream @ {b}ᵀ", "{a}ᵀ @ upstream", "upstream, summed back to {c}'s shape"),
)
def linear_backward(upstream, out, x, W, b=None):  # noqa: N803
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
    return dx, dW, upstream  # b: summed back to b's shape (over the batch), as for a + b


# ---- layer norm: a dense Jacobian, like softmax's -------------------------------------------


def layer_norm(t: Tensor, eps: float = 1e-5) -> Tensor:
    """Each row (the last axis, D entries) normalised: y = (x - μ) / s, as ONE node.

    μ = mean(x) and s = √(var(x) + ε), with var(x) = mean((x - μ)²) (divided by D), per row.
    (The learned gain and shift of a layer-norm layer, γ ⊙ y + β, are a ``*`` and a ``+``
    after this node.) μ and s depend on every entry of the row, so the row's Jacobian is
    dense, like softmax's:

        ∂y_i/∂x_j = (δ_ij - 1/D - y_i y_j / D) / s.

    The rule applies its transpose (it is symmetric) to g = ``upstream`` without building it:

        dL/dx = (g - mean(g) - y ⊙ mean(g ⊙ y)) / s          (means over the row)

    the three terms being the direct path, the path through μ and the path through s.
    """
    x = tensor_input(t, "layer_norm")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"layer_norm: needs a row to normalise (a last axis with entries), got shape {x.shape}"
        )
    data = x.data
    if isinstance(eps, bool) or not isinstance(eps, Real):
        raise ValueError(f"layer_norm: eps must be a positive number, got {short_repr(eps)}")
    eps = real_number(eps, "eps", "layer_norm", finite=False)  # 10**400: its own sentence
    if not 0 < eps <= float(np.finfo(data.dtype).max):  # as Python floats: no cast to float32
        raise ValueError(
            f"layer_norm: eps must be a positive number the tensor's {data.dtype} can hold "
            f"(such as 1e-5), got {short_repr(eps)}"
        )
    with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming layer_norm
        centred = data - data.mean(axis=-1, keepdims=True)
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        inv = 1 / np.sqrt(variance + data.dtype.type(eps))  # 1/s, one per row
        out = centred * inv
    return result_node(out, (x,), "layer_norm", inv)


@rule(
    "layer_norm",
    "layer_norm({a})",
    ("(upstream - mean(upstream) - out * mean(upstream * out)) / s",),
)
def layer_norm_backward(upstream, out, x):
    y, inv = out.data, out.ctx  # y = (x - μ)/s from the forward pass, and 1/s per row
    mean_g = upstream.mean(axis=-1, keepdims=True)  # the path through μ
    mean_gy = (upstream * y).mean(axis=-1, keepdims=True)  # the path through s
    return (upstream - mean_g - y * mean_gy) * inv


# ---- embedding lookup: backward is a scatter-add --------------------------------------------


def embedding(weights: Tensor, tokens: Any) -> Tensor:
    """One row of ``weights`` (V, D) per token: out[..., :] = weights[tokens[...], :].

    ``tokens`` are integers in [0, V), of any shape (a batch (N,), or (B, T)); the result has
    shape tokens.shape + (D,). Every use of a token copies its row, so in the backward pass
    each row of dL/dW is the **sum** of the upstream rows of all the positions holding that
    token (a token used twice gets both), and 0 for tokens not used:

        dW = zeros (V, D);  np.add.at(dW, tokens, upstream)          (a scatter-add)

    ``dW[tokens] += upstream`` would be wrong: numpy's fancy-index assignment writes each
    repeated row once, so a repeated token would keep only one of its gradients. (The same
    as indexing, ``weights[tokens]``, whose rule adds the same way.)
    """
    if not isinstance(weights, TensorOps):
        raise TypeError(
            f"embedding: weights must be a Tensor (the table, V × D), got {type(weights).__name__}"
        )
    table = weights.data
    if table.ndim != 2:
        raise ValueError(f"embedding: weights must be a matrix (V, D), got shape {table.shape}")
    if isinstance(tokens, TensorOps):
        tokens = tokens.data
    ids = np.array(tokens, copy=True)  # our own copy: the rule reads them later
    if ids.dtype == bool or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(
            f"embedding: tokens must be integers (row numbers of the table), got dtype {ids.dtype}"
        )
    vocab = table.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        bad = ids[(ids < 0) | (ids >= vocab)].ravel()[0]
        raise IndexError(
            f"embedding: token {bad} is not a row of the table: tokens must be in [0, {vocab})"
        )
    return new_node(table[ids], (weights,), "embedding", ids)


@rule(
    "embedding",
    "embedding({a}, tokens)",
    ("zeros, with each upstream row added at its token's row",),
)
def embedding_backward(upstream, out, weights):
    grad = np.zeros(weights.data.shape, dtype=upstream.dtype)
    np.add.at(grad, out.ctx, upstream)  # sum at joins: a repeated token gets every use's row
    return grad
