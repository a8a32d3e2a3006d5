"""The Tensor engine's operations: each op's forward pass, and right beside it its local rule.

:class:`course_lib.tensor.Tensor` is a node (``data``, ``grad``, ``parents``, ``op``) plus the
operations defined here, in :class:`TensorOps`, which it inherits. The ops that are functions
(the softmax family and the fused ``linear``) are in :mod:`course_lib.tensor.functions`, built
the same way. Each op's forward pass and its rule sit side by side in one of these two files,
so adding an op, or changing one, is one edit in one file.

Local rules, one per op (``upstream`` = dL/d(out), ``out`` the op's result, ``a``, ``b`` its
inputs; products are elementwise unless written ``@``; ``ᵀ`` swaps the last two axes)::

    out = a + b         a: upstream                 b: upstream
    out = a - b         a: upstream                 b: -upstream
    out = a * b         a: upstream * b             b: upstream * a
    out = a / b         a: upstream / b             b: -upstream * out / b
    out = a @ b         a: upstream @ bᵀ            b: aᵀ @ upstream
    out = -a            a: -upstream
    out = a ** k        a: upstream * k * a ** (k - 1)       (k a plain number)
    out = exp(a)        a: upstream * out
    out = log(a)        a: upstream / a
    out = σ(a)          a: upstream * out * (1 - out)
    out = tanh(a)       a: upstream * (1 - out ** 2)
    out = relu(a)       a: upstream * (a > 0)
    out = a.sum(axes)   a: upstream copied (broadcast) back along the summed axes
    out = a.mean(axes)  a: the same, divided by the number of elements averaged
    out = a.max(axis)   a: upstream at the arg-max of each slice, 0 elsewhere
    out = a.reshape(s)  a: upstream reshaped back to a's shape
    out = a.T           a: upstream transposed back
    out = a[index]      a: zeros with upstream added at the picked places (repeats add up)

Softmax ops and the fused layer (functions, in :mod:`course_lib.tensor.functions`; ``⟨·,·⟩``
and Σ run along the softmax axis; see :mod:`course_lib.kernels` for the derivations; no rule
ever builds the dense C × C Jacobian)::

    out = softmax(a)        a: out * (upstream - ⟨upstream, out⟩)      (Jᵀg, O(C) per row)
    out = log_softmax(a)    a: upstream - exp(out) * Σ upstream
    out = softmax_cross_entropy(a, labels)   (one fused node, scalar mean loss over N rows)
                            a: upstream * (P - Y) / N     (P kept from the forward pass)
    out = linear(x, W, b)   x: upstream @ Wᵀ      W: xᵀ @ upstream      b: upstream
                            (x @ W + b as one node instead of two, for speed)
    out = layer_norm(a)     a: (upstream - mean(upstream) - out * mean(upstream * out)) / s
                            (means over the row; s = √(var + ε) kept from the forward pass)
    out = embedding(W, t)   W: zeros with each upstream row added at its token's row
                            (np.add.at: a token used twice gets the sum of both rows)

A rule returns its contributions in whatever shape is natural, usually the result's; the node
then sums each one back to its input's shape (:func:`course_lib.tensor.sum_to_shape`, in
``Tensor.local_backward``), so no rule here deals with broadcasting.

**How to add an op** (for example ``softmax``), all in one file (this one for a method, or
:mod:`course_lib.tensor.functions` for a function):

1. Write the forward as a method of :class:`TensorOps` (or a function taking a ``Tensor``):
   check its inputs, raising errors that name the op and the shapes (helpers in
   :mod:`course_lib.tensor.validation`); compute the result's array with numpy (inside
   ``np.errstate(all="ignore")`` if it can overflow: ``result_node`` reports that by name); then
   ``return result_node(data, (a,), "softmax", _softmax_backward, ctx)``. ``ctx`` holds anything the
   rule needs besides the inputs and the output (an axis, an index). An op that cannot
   overflow (it only moves or squashes numbers) may return ``new_node(...)``, which skips the check.
2. Right beside it write ``_softmax_backward(upstream, out, a)``: return the contribution for
   each input (one array for a unary op, a tuple for several), in any shape the input
   broadcasts to. Return ``None`` for an input with ``requires_grad`` False when computing its
   contribution would cost real work (see ``matmul_backward``).
3. Add a row to the table above, and a gradient check to ``tests/test_tensor.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from course_lib.tensor.validation import (
    all_finite,
    broadcast_error,
    check_index,
    describe,
    float_array,
    kept_shape,
    normalize_axes,
    number,
    op_word,
    result_error,
    short_repr,
)

__all__ = [
    "TensorOps",
    "as_constant",
    "matmul_backward",
    "new_node",
    "result_node",
    "tensor_input",
]

ArrayLike = Any  # a Tensor, numpy array, nested list or plain number


class TensorOps:
    """The operations of :class:`course_lib.tensor.Tensor`, each beside its local rule.

    A mixin: ``Tensor`` inherits these methods and adds the node itself (its attributes and
    ``backward``). Every method builds its result with :func:`result_node`, which refuses inf and
    NaN, or with :func:`new_node` when the op cannot overflow.
    """

    __slots__ = ()

    # Tells numpy to hand `array + tensor` to Tensor.__radd__ instead of looping over the
    # array's elements.
    __array_ufunc__ = None

    # ---- elementwise arithmetic with broadcasting --------------------------------------------

    def __add__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "add"), np.add, "+", _add_backward)

    def __radd__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "add"), self, np.add, "+", _add_backward)

    def __sub__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "sub"), np.subtract, "-", _sub_backward)

    def __rsub__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "sub"), self, np.subtract, "-", _sub_backward)

    def __mul__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "mul"), np.multiply, "*", _mul_backward)

    def __rmul__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "mul"), self, np.multiply, "*", _mul_backward)

    def __truediv__(self, other: ArrayLike) -> TensorOps:
        return _divide(self, as_constant(other, self, "div"))

    def __rtruediv__(self, other: ArrayLike) -> TensorOps:
        return _divide(as_constant(other, self, "div"), self)

    def __neg__(self) -> TensorOps:
        return new_node(np.negative(self.data), (self,), "neg", _neg_backward)

    def __pow__(self, k: float) -> TensorOps:
        if isinstance(k, TensorOps):
            raise TypeError(
                "pow: x ** y needs a plain number as the exponent, not a Tensor (the rule "
                "d(x^k)/dx = k x^(k-1) holds for a constant k); for a tensor exponent write "
                "(y * x.log()).exp()"
            )
        if isinstance(k, bool) or not isinstance(k, Real):
            raise TypeError(f"pow: x ** k needs a number k, got {type(k).__name__} {short_repr(k)}")
        k = float(k)
        x = self.data
        if not np.isfinite(k):
            raise ValueError(f"pow: x ** k needs a finite exponent k, got {k}")
        if not k.is_integer() and x.size and x.min() < 0:
            raise ValueError(
                f"pow: {describe(self)} ** {number(k)} has a negative base "
                f"({x.min():g}) with a non-integer exponent, which has no real value"
            )
        if k < 0 and x.size and not x.all():
            raise ZeroDivisionError(
                f"pow: {describe(self)} ** {number(k)} has a base of 0 with a negative exponent"
            )
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming pow
            data = np.power(x, k)
        return result_node(data, (self,), f"**{k:g}", _pow_backward, k)

    def __rpow__(self, base: float) -> TensorOps:
        raise TypeError(
            "pow: b ** x with a Tensor exponent x is not a primitive here (the exponent must "
            "be a plain number); write (x * math.log(b)).exp() instead"
        )

    # ---- matrix product ------------------------------------------------------------------------

    def __matmul__(self, other: ArrayLike) -> TensorOps:
        return _matmul(self, as_constant(other, self, "matmul"))

    def __rmatmul__(self, other: ArrayLike) -> TensorOps:
        return _matmul(as_constant(other, self, "matmul"), self)

    # ---- elementwise functions -------------------------------------------------------------------

    def exp(self) -> TensorOps:
        """e^x, elementwise."""
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming exp
            data = np.exp(self.data)
        return result_node(data, (self,), "exp", _exp_backward)

    def log(self) -> TensorOps:
        """The natural logarithm, elementwise; every entry must be positive."""
        x = self.data
        if x.size and x.min() <= 0:
            bad = int((x <= 0).sum())
            raise ValueError(
                f"log: needs positive inputs, but {bad} of the {x.size} entries of "
                f"{describe(self)} are <= 0 (the smallest is {x.min():g})"
            )
        return new_node(np.log(x), (self,), "log", _log_backward)  # finite: x > 0

    def sigmoid(self) -> TensorOps:
        """σ(x) = 1 / (1 + e^{-x}), elementwise (see :func:`_sigmoid_forward`)."""
        return new_node(_sigmoid_forward(self.data), (self,), "sigmoid", _sigmoid_backward)

    def tanh(self) -> TensorOps:
        """tanh(x), elementwise."""
        return new_node(np.tanh(self.data), (self,), "tanh", _tanh_backward)

    def relu(self) -> TensorOps:
        """max(x, 0), elementwise."""
        return new_node(np.maximum(self.data, 0), (self,), "relu", _relu_backward)

    # ---- reductions ------------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> TensorOps:
        """Sum over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        axes = normalize_axes(axis, self.shape, "sum")
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming sum
            data = self.data.sum(axis=axes, keepdims=keepdims)
        return result_node(data, (self,), "sum", _sum_backward, kept_shape(self.shape, axes))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> TensorOps:
        """Average over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        axes = normalize_axes(axis, self.shape, "mean")
        count = 1
        for ax in axes:
            count *= self.shape[ax]
        if count == 0:
            raise ValueError(f"mean: cannot average over an empty axis of shape {self.shape}")
        # count in the data's dtype: numpy 1.x makes float32 scalar / int a float64
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming mean
            data = self.data.sum(axis=axes, keepdims=keepdims) / self.data.dtype.type(count)
        kept = kept_shape(self.shape, axes)
        return result_node(data, (self,), "mean", _mean_backward, (kept, count))

    def max(self, axis: int | None = None, keepdims: bool = False) -> TensorOps:
        """Largest element over one ``axis`` (or over all, for None); the gradient goes to
        the arg-max (the first one if several tie)."""
        if axis is not None:
            if isinstance(axis, tuple):
                raise TypeError(f"max: takes one axis (an int) or None, got the tuple {axis}")
            (axis,) = normalize_axes(axis, self.shape, "max")
        if self.data.size == 0:
            raise ValueError(f"max: the tensor of shape {self.shape} is empty")
        if axis is not None and self.shape[axis] == 0:
            raise ValueError(f"max: axis {axis} of shape {self.shape} is empty")
        data = self.data.max(axis=axis, keepdims=keepdims)
        return new_node(data, (self,), "max", _max_backward, (axis, keepdims))

    # ---- shape -----------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> TensorOps:
        """The same elements in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            data = self.data.reshape(shape)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"reshape: cannot reshape shape {self.shape} ({self.size} elements) into "
                f"{shape}: {error}"
            ) from None
        return new_node(data, (self,), "reshape", _reshape_backward)

    def transpose(self, *axes: int | tuple[int, ...]) -> TensorOps:
        """Permute the axes (reverse them when none are given), as ``np.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        ndim = self.ndim
        order = tuple(reversed(range(ndim))) if not axes else axes
        if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in order) or (
            sorted(order) != list(range(ndim))
        ):
            raise ValueError(
                f"transpose: axes {axes} must be a permutation of 0..{ndim - 1} "
                f"for a tensor of shape {self.shape}"
            )
        inverse = [0] * ndim
        for position, ax in enumerate(order):
            inverse[ax] = position
        data = np.transpose(self.data, order)
        return new_node(data, (self,), "transpose", _transpose_backward, tuple(inverse))

    @property
    def T(self) -> TensorOps:  # noqa: N802  (numpy's name)
        """All axes reversed; for a matrix, the transpose."""
        return self.transpose()

    # ---- indexing --------------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> TensorOps:
        """``t[i]``, ``t[1:3, ::2]``, ``t[np.arange(N), labels]``, ``t[mask]``, as in numpy."""
        index, basic = check_index(index, self.shape)
        try:
            data = self.data[index]
        except IndexError as error:
            raise IndexError(f"index: {error} (the tensor has shape {self.shape})") from None
        return new_node(data, (self,), "index", _index_backward, (index, basic))


# ---- the output node of an op, and constants ------------------------------------------------


def result_node(
    data: np.ndarray,
    parents: tuple[TensorOps, ...],
    op: str,
    rule: Callable[..., Any],
    ctx: Any = None,
) -> TensorOps:
    """The output node of an op that computes new numbers (a sum, a product, a power, an
    exponential ...), whose result can overflow: the one place that refuses inf and NaN.

    An overflow raises ``OverflowError``, a NaN ``ValueError``, naming the op and its inputs,
    the first bad entry and the inputs' values there (``tensor_checks.result_error``).
    """
    if type(data) is not np.ndarray:
        data = np.asarray(data)  # numpy returns scalars for 0-d results
    if not all_finite(data):
        raise result_error(op_word(op), parents, data)
    return new_node(data, parents, op, rule, ctx)


def new_node(
    data: np.ndarray,
    parents: tuple[TensorOps, ...],
    op: str,
    rule: Callable[..., Any],
    ctx: Any = None,
) -> TensorOps:
    """The output node of an op: its array, its inputs, and the rule that differentiates it.

    Ops whose result cannot overflow call this directly: they move, pick or squash their
    input's numbers (reshape, index, max, neg, tanh, sigmoid, relu, log of positive numbers,
    softmax), so finite numbers stay finite. The others go through :func:`result_node`.
    """
    if type(data) is not np.ndarray:
        data = np.asarray(data)  # numpy returns scalars for 0-d results
    out = object.__new__(type(parents[0]))  # a Tensor, without __init__'s checks of an input
    out.data = data
    out.grad = None
    out.parents = parents
    out.op = op
    out.label = None
    requires_grad = False
    for parent in parents:
        if parent.requires_grad:
            requires_grad = True
            break
    out.requires_grad = requires_grad
    out.ctx = ctx
    out._rule = rule
    return out


def as_constant(x: ArrayLike, like: TensorOps, op: str) -> TensorOps:
    """Wrap a number or array as a constant node (numbers take ``like``'s dtype)."""
    if isinstance(x, TensorOps):
        return x
    if type(x) is np.ndarray:  # the common case (a batch of data), tested first: it is cheap
        array = float_array(x, like.data.dtype, op)
    elif isinstance(x, Real) and not isinstance(x, bool):
        array = np.asarray(x, dtype=like.data.dtype)
    elif isinstance(x, (np.ndarray, list, tuple)):
        array = float_array(x, like.data.dtype, op)
    else:
        raise TypeError(f"{op}: cannot combine a Tensor with {type(x).__name__} {short_repr(x)}")
    const = object.__new__(type(like))
    const.data = array
    const.grad = None
    const.parents = ()
    const.op = ""
    const.label = None
    const.requires_grad = False
    const.ctx = None
    const._rule = None
    return const


def tensor_input(t: Any, op: str) -> TensorOps:
    if isinstance(t, TensorOps):
        return t
    raise TypeError(
        f"{op}: needs a Tensor, got {type(t).__name__}; wrap the array as Tensor(x), or call "
        f"course_lib.kernels.{op} for plain numpy arrays"
    )


# ---- elementwise ops: forward helpers and local rules, side by side ---------------------------


def _binary(
    a: TensorOps, b: TensorOps, ufunc: np.ufunc, op: str, rule: Callable[..., Any]
) -> TensorOps:
    try:
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming the op
            data = ufunc(a.data, b.data)
    except ValueError:
        raise broadcast_error(op_word(op), a.shape, b.shape) from None
    return result_node(data, (a, b), op, rule)


def _add_backward(upstream, out, a, b):
    return upstream, upstream


def _sub_backward(upstream, out, a, b):
    return upstream, (-upstream if b.requires_grad else None)


def _mul_backward(upstream, out, a, b):
    da = upstream * b.data if a.requires_grad else None
    db = upstream * a.data if b.requires_grad else None
    return da, db


def _divide(a: TensorOps, b: TensorOps) -> TensorOps:
    if b.data.size and not b.data.all():
        zeros = int(b.data.size - np.count_nonzero(b.data))
        raise ZeroDivisionError(
            f"div: division by zero: {zeros} of the {b.data.size} entries of the divisor "
            f"{describe(b)} are 0"
        )
    return _binary(a, b, np.true_divide, "/", _div_backward)


def _div_backward(upstream, out, a, b):
    da = upstream / b.data if a.requires_grad else None
    db = -upstream * out.data / b.data if b.requires_grad else None  # -upstream * a / b²
    return da, db


def _neg_backward(upstream, out, a):
    return -upstream


def _pow_backward(upstream, out, a):
    k = out.ctx
    return upstream * (k * a.data ** (k - 1))


def _exp_backward(upstream, out, a):
    return upstream * out.data


def _log_backward(upstream, out, a):
    return upstream / a.data


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{-x}). For very negative x, e^{-x} overflows to inf and the result is
    the correct limit 0, so that overflow is no error."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _sigmoid_backward(upstream, out, a):
    """upstream × σ'(a), where σ'(a) = σ(a)(1 - σ(a)) = out (1 - out): the output the forward
    pass computed, so no exponential is needed again."""
    s = out.data
    return upstream * s * (1 - s)


def _tanh_backward(upstream, out, a):
    t = out.data
    return upstream * (1 - t * t)


def _relu_backward(upstream, out, a):
    return upstream * (a.data > 0)


# ---- reductions, shapes and indexing: local rules --------------------------------------------


def _sum_backward(upstream, out, a):
    """Every summed element gets the upstream gradient of its sum: copy it back along the
    summed axes (``sum`` and ``broadcast`` are each other's backward)."""
    kept = out.ctx  # a's shape with the summed axes as size 1
    return np.broadcast_to(upstream.reshape(kept), a.data.shape)


def _mean_backward(upstream, out, a):
    kept, count = out.ctx
    return np.broadcast_to(upstream.reshape(kept) / count, a.data.shape)


def _max_backward(upstream, out, a):
    """Only the winner moved the max: it gets the upstream gradient, the others get 0."""
    axis, keepdims = out.ctx
    x = a.data
    grad = np.zeros(x.shape, dtype=upstream.dtype)
    if axis is None:
        grad.flat[np.argmax(x)] = upstream.reshape(())
    else:
        winners = np.expand_dims(np.argmax(x, axis=axis), axis)
        if not keepdims:
            upstream = np.expand_dims(upstream, axis)
        np.put_along_axis(grad, winners, upstream, axis)
    return grad


def _reshape_backward(upstream, out, a):
    return upstream.reshape(a.data.shape)


def _transpose_backward(upstream, out, a):
    return np.transpose(upstream, out.ctx)  # ctx is the inverse permutation


def _index_backward(upstream, out, a):
    """Put each picked element's gradient back where it came from; zeros elsewhere.

    NOTE: with integer arrays one element can be picked twice (``x[[0, 0]]``). Then its
    gradient is the sum of both uses, so ``np.add.at`` adds; ``grad[index] = upstream``
    would keep only the last one, a silently wrong gradient.
    """
    index, basic = out.ctx
    grad = np.zeros(a.data.shape, dtype=upstream.dtype)
    if basic:  # ints and slices never pick an element twice
        grad[index] = upstream
    else:
        np.add.at(grad, index, upstream)
    return grad


# ---- matrix product ---------------------------------------------------------------------------


def _matmul(a: TensorOps, b: TensorOps) -> TensorOps:
    A, B = a.data, b.data
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(
            f"matmul: needs inputs with at least one axis, got shapes {A.shape} @ {B.shape} "
            "(use * to multiply by a single number)"
        )
    inner_a = A.shape[-1]
    inner_b = B.shape[-2] if B.ndim >= 2 else B.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: inner dimensions differ in {A.shape} @ {B.shape}: the left input's last "
            f"axis has {inner_a} entries but the right input's "
            f"{'second-to-last' if B.ndim >= 2 else 'only'} axis has {inner_b}"
        )
    try:
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming matmul
            data = np.matmul(A, B)
    except ValueError:
        raise ValueError(
            f"matmul: the batch axes of {A.shape} @ {B.shape} cannot broadcast: "
            f"{A.shape[:-2]} with {B.shape[:-2]}"
        ) from None
    return result_node(data, (a, b), "@", matmul_backward)


def matmul_backward(upstream, out, a, b):
    """The rule of Y = A @ B: with G = ``upstream`` = dL/dY,

        dL/dA = G @ Bᵀ        dL/dB = Aᵀ @ G        (ᵀ swaps the last two axes)

    From Y_ij = Σ_k A_ik B_kj: A_ik is used in every Y_ij of row i, times B_kj, so
    dL/dA_ik = Σ_j G_ij B_kj = (G Bᵀ)_ik; likewise dL/dB_kj = Σ_i A_ik G_ij = (Aᵀ G)_kj.

    ``a`` and ``b`` are the input nodes (their arrays are ``a.data`` and ``b.data``). An input
    that needs no gradient (a batch of data, ``requires_grad`` False) gets ``None``: its
    product would be a whole matrix product that nobody reads. A vector is a one-row matrix on
    the left and a one-column matrix on the right: the product dropped that axis, so the rule
    puts it back, multiplies, and drops it again. Batch axes that broadcast (stacks of
    matrices) are summed back to each input's shape afterwards, as for every op.
    """
    G, A, B = upstream, a.data, b.data
    if B.ndim == 1:  # B is a column: Y lost that column's axis, put it back
        B, G = B[:, None], G[..., None]
    if A.ndim == 1:  # A is a row: Y lost that row's axis, put it back
        A, G = A[None, :], G[..., None, :]
    dA = G @ B.swapaxes(-1, -2) if a.requires_grad else None
    dB = A.swapaxes(-1, -2) @ G if b.requires_grad else None
    if dA is not None and a.data.ndim == 1:
        dA = dA[..., 0, :]  # drop the row axis again
    if dB is not None and b.data.ndim == 1:
        dB = dB[..., 0]  # drop the column axis again
    return dA, dB
