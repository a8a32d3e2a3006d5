"""Deep stacks of layers: the forward pass of a stack of any depth (numpy), and the size of
dL/dW in every layer of one, by the engine."""

from __future__ import annotations

import math

import numpy as np

from course_lib.kernels.sigmoid import sigmoid
from course_lib.numbers.checking import check_size, real_number, shown, whole_number
from course_lib.tensor import Tensor

__all__ = ["ACTIVATIONS", "MAX_DEPTH", "layer_gradient_norms", "stack_forward"]


ACTIVATIONS = ("sigmoid", "tanh", "relu")
MAX_DEPTH = 1_000  # layers: notebook 09's stacks have up to 20; each layer is two graph nodes


def stack_forward(X: np.ndarray, Ws: list, bs: list, activation: str) -> list:
    """[h_0, h_1, ..., h_L]: h_0 = X, then h_l = act(h_(l-1) W_l + b_l) for l = 1 .. L."""
    X, Ws, bs = _check_stack(X, Ws, bs, activation)
    hs = [X]
    for W, b in zip(Ws, bs, strict=True):
        a = hs[-1] @ W + b
        if activation == "sigmoid":
            hs.append(sigmoid(a))
        elif activation == "tanh":
            hs.append(np.tanh(a))
        else:  # relu
            hs.append(np.maximum(a, 0))
    return hs


def _check_stack(
    X: object, Ws: object, bs: object, activation: object
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """A known activation, one bias per weight matrix (at least one layer), and arrays of
    finite numbers whose shapes chain: X (N, D0), W_l (D_(l-1), D_l), b_l (D_l,)."""
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"stack_forward: activation must be one of {ACTIVATIONS}, got {activation!r}"
        )
    if not isinstance(Ws, list | tuple) or not isinstance(bs, list | tuple):
        raise TypeError(
            "stack_forward: Ws and bs must be lists (a weight matrix and a bias per layer), got "
            f"{type(Ws).__name__} and {type(bs).__name__}"
        )
    if len(Ws) != len(bs) or not Ws:
        raise ValueError(
            f"stack_forward: needs one bias per weight matrix, at least one layer; got "
            f"{len(Ws)} weight matrices and {len(bs)} biases"
        )
    X = _finite_array(X, "X", 2)
    Ws = [_finite_array(W, f"Ws[{i}]", 2) for i, W in enumerate(Ws)]
    bs = [_finite_array(b, f"bs[{i}]", 1) for i, b in enumerate(bs)]
    width = X.shape[1]
    for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        if W.shape[0] != width or b.shape != (W.shape[1],):
            raise ValueError(
                f"stack_forward: layer {i + 1} gets {width} numbers a row, so Ws[{i}] must have "
                f"{width} rows and bs[{i}] one entry per column of Ws[{i}]; got Ws[{i}] of shape "
                f"{W.shape} and bs[{i}] of shape {b.shape}"
            )
        width = W.shape[1]
    return X, Ws, bs


def _finite_array(x: object, name: str, ndim: int) -> np.ndarray:
    """``x`` as an array of ``ndim`` axes of finite real numbers, or an error naming it."""
    try:
        arr = np.asarray(x)
        ok = arr.dtype.kind in "biuf" and arr.ndim == ndim
        if ok and arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        axes = "(rows, columns)" if ndim == 2 else "(one entry per column)"
        raise TypeError(
            f"stack_forward: {name} must be an array of real numbers with {ndim} axes {axes}, "
            f"got {shown(x)}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(
            f"stack_forward: {name} holds inf or NaN; every input, weight and bias must be a "
            "finite number"
        )
    return arr


def layer_gradient_norms(
    depth: int,
    activation: str = "sigmoid",
    init_scale: float = 1.0,
    *,
    width: int = 32,
    batch: int = 16,
    seed: int = 0,
) -> np.ndarray:
    """‖dL/dW_l‖ (Frobenius norm) for each layer l = 1 .. ``depth`` of a deep stack, by the engine.

    The stack: h_0 = X (``batch`` × ``width``, standard normal), a_l = h_{l-1} W_l,
    h_l = act(a_l), with every W_l drawn from N(0, (``init_scale``)² / ``width``) (no biases);
    the loss is L = Σ (h_depth ⊙ R) / ``batch`` for a fixed random R. Everything is drawn from
    ``seed``, so the same arguments give the same numbers.

    By the chain rule, dL/dh_{l-1} = (dL/dh_l ⊙ act'(a_l)) W_lᵀ: every layer multiplies the
    gradient by act' and by a weight matrix. σ' ≤ 1/4 (and much less for a saturated unit),
    so a sigmoid stack shrinks it layer after layer, the first layers most (vanishing
    gradients); relu' is 1 for every active unit, and with ``init_scale`` = √2 (He
    initialisation) the size is kept on average.
    """
    where = "layer_gradient_norms"
    depth = whole_number(depth, "depth", where, maximum=MAX_DEPTH)
    width = whole_number(width, "width", where)
    batch = whole_number(batch, "batch", where)
    seed = whole_number(seed, "seed", where, minimum=0)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    init_scale = real_number(init_scale, "init_scale", where)
    if init_scale <= 0:
        raise ValueError(f"{where}: init_scale must be a positive number, got {init_scale!r}")
    # Every layer keeps W and dL/dW (width² each) and a, h with their gradients (batch × width
    # each); counted before anything is drawn, so width=10**6 is refused, not tried.
    check_size(
        depth * (2 * width * width + 4 * batch * width) + 2 * batch * width,
        f"a stack of depth {depth}, width {shown(width)} and batch {shown(batch)} (weights, "
        "activations and their gradients)",
        where,
    )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    weights = [
        Tensor(rng.standard_normal((width, width)) * (init_scale / math.sqrt(width)))
        for _ in range(depth)
    ]
    readout = rng.standard_normal((batch, width))
    h = Tensor(x, requires_grad=False)
    for W in weights:
        a = h @ W
        h = getattr(a, activation)()  # a.sigmoid(), a.tanh() or a.relu(): the engine's op
    loss = (h * readout).sum() / batch
    loss.backward()
    return np.array([float(np.sqrt((W.grad * W.grad).sum())) for W in weights])
