"""``Tensor``: reverse-mode automatic differentiation over numpy arrays.

A ``Tensor`` is a node of the same shape as :class:`course_lib.scalar.Value` (``data``,
``grad``, ordered ``parents``, ``op``, ``label``, ``local_backward(upstream)``), so the one
engine in :mod:`course_lib.graph` orders the graph and runs the backward pass, and the same
drawing code shows either kind of graph. The differences: ``data`` is a numpy array, and
``grad`` is an array of exactly the same shape as ``data``, because dL/dx has one entry per
entry of x.

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

Softmax ops (module functions; ``⟨·,·⟩`` and Σ run along the softmax axis; see
:mod:`course_lib.kernels` for the derivations; no rule ever builds the dense C × C Jacobian)::

    out = softmax(a)        a: out * (upstream - ⟨upstream, out⟩)      (Jᵀg, O(C) per row)
    out = log_softmax(a)    a: upstream - exp(out) * Σ upstream
    out = softmax_cross_entropy(a, labels)   (one fused node, scalar mean loss over N rows)
                            a: upstream * (P - Y) / N     (P kept from the forward pass)

A fused layer (a module function): ``x @ W + b`` as one node instead of two, for speed::

    out = linear(x, W, b)   x: upstream @ Wᵀ      W: xᵀ @ upstream      b: upstream

**Broadcasting.** ``a + b`` with a of shape (N, C) and b of shape (C,) uses every b_c N times.
A value used N times gets the sum of its N gradients (sum at joins), so b's contribution is
``upstream.sum(axis=0)``. The rules above ignore this: they return contributions in the
*result's* shape. :func:`sum_to_shape` then sums each one back to its input's shape, in one
place (:meth:`Tensor.local_backward`) for every op, so no rule can forget it; the axes it sums
over come from :func:`broadcast_axes`.

**Rules written to be read.** :func:`matmul_backward` is the rule of ``@`` for plain arrays,
the version notebook 03 prints; the engine's ``_matmul_backward`` computes the same two
products and skips the one whose input is a constant (tests check that both agree).

**Constants.** ``Tensor(x)`` is an input we want dL/dx for. Plain numbers and numpy arrays
mixed into an op (``h * 2``, ``X @ W`` with X a numpy batch) become constant nodes, as does
``Tensor(x, requires_grad=False)``; their ``grad`` stays ``None`` and rules skip any work
done only for them.

**dtype.** float64 by default (for teaching and gradient checks); float32 arrays stay float32
(for speed). Plain numbers adopt the tensor's dtype. ``Tensor(array)`` does not copy: it
shares memory with ``array``.

**Gradients share memory.** The engine never writes into a gradient array, so a rule may hand
on ``upstream`` itself (``add`` does). After ``backward()`` each input tensor (a node with no
parents) owns its ``grad`` array; interior nodes' gradients may be views of one another.

**How to add an op** (for example ``softmax``):

1. Write the forward as a method (or a function taking a ``Tensor``): compute the result's
   array with numpy, check its inputs and raise errors that name the op and the shapes, then
   ``return _result(data, (a,), "softmax", _softmax_backward, ctx)``. ``ctx`` holds anything
   the rule needs besides the inputs and the output (an axis, an index).
2. Right beside it write ``_softmax_backward(upstream, out, a)``: return the contribution
   for each input (one array for a unary op, a tuple for several), in any shape the input
   broadcasts to. Return ``None`` for an input with ``requires_grad`` False when computing its
   contribution would cost real work (see ``_matmul_backward``).
3. Add a row to the table above, and a gradient check to ``tests/test_tensor.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from course_lib import kernels
from course_lib.graph import backpropagate, topological_order

__all__ = [
    "Tensor",
    "broadcast_axes",
    "linear",
    "log_softmax",
    "matmul_backward",
    "softmax",
    "softmax_cross_entropy",
    "sum_to_shape",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

ArrayLike = Any  # a Tensor, numpy array, nested list or plain number


# ---- broadcasting, undone in one place ---------------------------------------------------


def broadcast_axes(
    shape: tuple[int, ...], result: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Which axes of ``result`` a broadcast of an input of ``shape`` made: (added, expanded).

    Shapes are lined up from the right. *added*: the leading axes of the result the input
    did not have; *expanded*: axes where the input had size 1 and the result is bigger. In
    (2, 3) + (3,) the second input added axis 0; in (3, 1) + (1, 4), whose result is (3, 4),
    the first expanded axis 1 and the second axis 0. Backward sums over exactly these axes.
    """
    shape, result = tuple(shape), tuple(result)
    added = len(result) - len(shape)  # how many leading axes broadcasting put in front
    if added < 0 or any(n not in (1, m) for n, m in zip(shape, result[added:], strict=True)):
        raise ValueError(f"broadcast_axes: an input of shape {shape} cannot broadcast to {result}")
    expanded = [added + i for i, n in enumerate(shape) if n == 1 and result[added + i] != 1]
    return tuple(range(added)), tuple(expanded)


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
    added, expanded = broadcast_axes(shape, grad.shape)
    summed = grad.sum(axis=added + expanded, keepdims=True)  # summed axes stay, as size 1
    return summed.reshape(shape)  # the added axes (now of size 1) go away


# ---- the node ----------------------------------------------------------------------------


class _NoGradientYet:
    """The zero a gradient starts from before any contribution arrives.

    ``zero + g`` is ``g`` itself, so the first contribution is stored without allocating an
    array of zeros and adding to it.
    """

    __slots__ = ()

    def __add__(self, other: np.ndarray) -> np.ndarray:
        return other

    __radd__ = __add__

    def __repr__(self) -> str:
        return "0"


_ZERO = _NoGradientYet()


def _zero(node: Tensor) -> _NoGradientYet | None:
    return _ZERO if node.requires_grad else None


class Tensor:
    """A node of a computation graph holding a numpy array.

    Attributes: ``data`` (the forward value, an ``np.ndarray`` of float32 or float64),
    ``grad`` (dL/d(this node) after ``backward()``, an array of the same shape; ``None``
    before, and always ``None`` for a constant), ``parents`` (the input nodes, in order),
    ``op`` (the operation that made it, ``""`` for an input), ``label`` (a name for drawings,
    or ``None``), ``requires_grad`` (False for a constant and for anything computed only from
    constants), ``ctx`` (what the op's rule needs besides inputs and output).
    """

    __slots__ = ("data", "grad", "parents", "op", "label", "requires_grad", "ctx", "_rule")

    # Tells numpy to hand `array + tensor` to Tensor.__radd__ instead of looping over the
    # array's elements.
    __array_ufunc__ = None

    def __init__(
        self, data: ArrayLike, label: str | None = None, requires_grad: bool = True
    ) -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) got a Tensor; use it directly instead of wrapping it")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        array = _float_array(data, np.dtype(np.float64), "Tensor")
        if requires_grad and not np.isfinite(array).all():
            bad = int(array.size - np.isfinite(array).sum())
            raise ValueError(
                f"Tensor needs finite numbers to differentiate, but {bad} of its "
                f"{array.size} entries are inf or nan"
            )
        self.data = array
        self.grad: np.ndarray | None = None
        self.parents: tuple[Tensor, ...] = ()
        self.op = ""
        self.label = label
        self.requires_grad = bool(requires_grad)
        self.ctx: Any = None
        self._rule: Callable[..., Any] | None = None

    # ---- small conveniences ----------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def item(self) -> float:
        """The single number of a one-element tensor, as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: the tensor has shape {self.shape}, not a single number")
        return float(self.data.reshape(()))

    def named(self, label: str) -> Tensor:
        """Set ``label`` and return the node itself: ``h = (x @ W).named("h")``."""
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        self.label = label
        return self

    def __repr__(self) -> str:
        name = f" {self.label!r}" if self.label else ""
        kind = "" if self.requires_grad else ", constant"
        head = f"Tensor{name} (shape {self.shape}, {self.data.dtype}{kind})"
        data = np.array2string(self.data, prefix="  data ", threshold=60)
        if self.grad is None:
            grad = "not computed yet" if self.requires_grad else "none (a constant)"
        else:
            grad = np.array2string(np.asarray(self.grad), prefix="  grad ", threshold=60)
        return f"{head}\n  data {data}\n  grad {grad}"

    # ---- elementwise arithmetic with broadcasting --------------------------------------

    def __add__(self, other: ArrayLike) -> Tensor:
        return _binary(self, _lift(other, self, "add"), np.add, "+", "add", _add_backward)

    def __radd__(self, other: ArrayLike) -> Tensor:
        return _binary(_lift(other, self, "add"), self, np.add, "+", "add", _add_backward)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return _binary(self, _lift(other, self, "sub"), np.subtract, "-", "sub", _sub_backward)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _binary(_lift(other, self, "sub"), self, np.subtract, "-", "sub", _sub_backward)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return _binary(self, _lift(other, self, "mul"), np.multiply, "*", "mul", _mul_backward)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return _binary(_lift(other, self, "mul"), self, np.multiply, "*", "mul", _mul_backward)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return _divide(self, _lift(other, self, "div"))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return _divide(_lift(other, self, "div"), self)

    def __neg__(self) -> Tensor:
        return _result(np.negative(self.data), (self,), "neg", _neg_backward)

    def __pow__(self, k: float) -> Tensor:
        if isinstance(k, Tensor):
            raise TypeError(
                "pow: x ** y needs a plain number as the exponent, not a Tensor (the rule "
                "d(x^k)/dx = k x^(k-1) holds for a constant k); for a tensor exponent write "
                "(y * x.log()).exp()"
            )
        if isinstance(k, bool) or not isinstance(k, Real):
            raise TypeError(f"pow: x ** k needs a number k, got {type(k).__name__} {k!r}")
        k = float(k)
        x = self.data
        if not k.is_integer() and x.size and x.min() < 0:
            raise ValueError(
                f"pow: {_describe(self)} ** {_number(k)} has a negative base "
                f"({x.min():g}) with a non-integer exponent, which has no real value"
            )
        if k < 0 and x.size and not x.all():
            raise ZeroDivisionError(
                f"pow: {_describe(self)} ** {_number(k)} has a base of 0 with a negative exponent"
            )
        return _result(np.power(x, k), (self,), f"**{k:g}", _pow_backward, k)

    def __rpow__(self, base: float) -> Tensor:
        raise TypeError(
            "pow: b ** x with a Tensor exponent x is not a primitive here (the exponent must "
            "be a plain number); write (x * math.log(b)).exp() instead"
        )

    # ---- matrix product ------------------------------------------------------------------

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _matmul(self, _lift(other, self, "matmul"))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _matmul(_lift(other, self, "matmul"), self)

    # ---- elementwise functions -------------------------------------------------------------

    def exp(self) -> Tensor:
        return _result(np.exp(self.data), (self,), "exp", _exp_backward)

    def log(self) -> Tensor:
        x = self.data
        if x.size and x.min() <= 0:
            bad = int((x <= 0).sum())
            raise ValueError(
                f"log: needs positive inputs, but {bad} of the {x.size} entries of "
                f"{_describe(self)} are <= 0 (the smallest is {x.min():g})"
            )
        return _result(np.log(x), (self,), "log", _log_backward)

    def sigmoid(self) -> Tensor:
        # 1 / (1 + e^-x) is accurate for every x; for very negative x, e^-x overflows to inf
        # and the result is the correct limit 0, so that overflow is not worth a warning.
        s = np.negative(self.data, out=np.empty_like(self.data))  # one new array, then
        with np.errstate(over="ignore"):  # every step in place (no temporaries)
            np.exp(s, out=s)
        s += 1
        np.reciprocal(s, out=s)
        return _result(s, (self,), "sigmoid", _sigmoid_backward)

    def tanh(self) -> Tensor:
        return _result(np.tanh(self.data), (self,), "tanh", _tanh_backward)

    def relu(self) -> Tensor:
        return _result(np.maximum(self.data, 0), (self,), "relu", _relu_backward)

    # ---- reductions --------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        axes = _axes(axis, self.shape, "sum")
        data = self.data.sum(axis=axes, keepdims=keepdims)
        return _result(data, (self,), "sum", _sum_backward, _kept_shape(self.shape, axes))

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Average over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        axes = _axes(axis, self.shape, "mean")
        count = 1
        for ax in axes:
            count *= self.shape[ax]
        if count == 0:
            raise ValueError(f"mean: cannot average over an empty axis of shape {self.shape}")
        # count in the data's dtype: numpy 1.x makes float32 scalar / int a float64
        data = self.data.sum(axis=axes, keepdims=keepdims) / self.data.dtype.type(count)
        kept = _kept_shape(self.shape, axes)
        return _result(data, (self,), "mean", _mean_backward, (kept, count))

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Largest element over one ``axis`` (or over all, for None); the gradient goes to
        the arg-max (the first one if several tie)."""
        if axis is not None:
            if isinstance(axis, tuple):
                raise TypeError(f"max: takes one axis (an int) or None, got the tuple {axis}")
            (axis,) = _axes(axis, self.shape, "max")
        if self.data.size == 0:
            raise ValueError(f"max: the tensor of shape {self.shape} is empty")
        if axis is not None and self.shape[axis] == 0:
            raise ValueError(f"max: axis {axis} of shape {self.shape} is empty")
        data = self.data.max(axis=axis, keepdims=keepdims)
        return _result(data, (self,), "max", _max_backward, (axis, keepdims))

    # ---- shape ---------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
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
        return _result(data, (self,), "reshape", _reshape_backward)

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
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
        return _result(data, (self,), "transpose", _transpose_backward, tuple(inverse))

    @property
    def T(self) -> Tensor:  # noqa: N802  (numpy's name)
        """All axes reversed; for a matrix, the transpose."""
        return self.transpose()

    # ---- indexing ----------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Tensor:
        """``t[i]``, ``t[1:3, ::2]``, ``t[np.arange(N), labels]``, ``t[mask]``, as in numpy."""
        index, basic = _check_index(index, self.shape)
        try:
            data = self.data[index]
        except IndexError as error:
            raise IndexError(f"index: {error} (the tensor has shape {self.shape})") from None
        return _result(data, (self,), "index", _index_backward, (index, basic))

    # ---- reverse mode ------------------------------------------------------------------------

    def local_backward(self, upstream: np.ndarray | None) -> tuple[np.ndarray | None, ...]:
        """The op's rule, then broadcasting undone: one contribution per parent.

        A parent that needs no gradient (a constant) gets ``None``. Every other contribution
        is summed back to its parent's shape by :func:`sum_to_shape`, here, for every op.
        """
        parents = self.parents
        if upstream is None:  # nothing above needs this node's gradient
            return (None,) * len(parents)
        if len(parents) == 1:  # a unary rule returns its one contribution
            (a,) = parents
            return (_fit(self._rule(upstream, self, a), a),)
        if len(parents) == 2:  # a binary rule returns a pair
            a, b = parents
            da, db = self._rule(upstream, self, a, b)
            return (_fit(da, a), _fit(db, b))
        contributions = self._rule(upstream, self, *parents)
        return tuple(_fit(g, p) for g, p in zip(contributions, parents, strict=True))

    def backward(self, upstream: ArrayLike | None = None) -> None:
        """Fill ``grad`` on every node this one depends on with d(self)/d(node).

        For a one-element tensor (a loss) the seed is 1. Any other tensor needs ``upstream``,
        an array of exactly its shape holding dL/d(self); the result is then the
        vector-Jacobian product. Gradients are reset first, so calling ``backward()`` again
        gives the same arrays rather than adding to the old ones.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward: this tensor is a constant (requires_grad=False) and depends on no "
                "tensor that needs a gradient"
            )
        data = self.data
        if upstream is None:
            if data.size != 1:
                raise ValueError(
                    f"backward: the output has shape {data.shape}, not a single number, so "
                    f"backward() needs an upstream gradient dL/d(output) of shape "
                    f"{data.shape}: call backward(upstream) with such an array (np.ones of "
                    "that shape differentiates the sum of the outputs)"
                )
            seed = np.array(1, data.dtype) if data.ndim == 0 else np.ones(data.shape, data.dtype)
        else:
            if isinstance(upstream, Tensor):
                upstream = upstream.data
            seed = np.array(upstream, dtype=data.dtype)  # a copy: the caller keeps theirs
            if seed.shape != data.shape:
                raise ValueError(
                    f"backward: upstream has shape {seed.shape} but the output has shape "
                    f"{data.shape}; they must be the same (upstream is not broadcast)"
                )
        order = backpropagate(self, seed, _zero)
        _give_inputs_their_own_gradients(order)

    def graph_nodes(self) -> list[Tensor]:
        """Every node of the graph that ends here, inputs first (a topological order)."""
        return topological_order(self)


def _fit(grad: Any, parent: Tensor) -> np.ndarray | None:
    """A rule's contribution made into ``parent``'s gradient: ``None`` for a constant, else
    summed back to the parent's shape (broadcasting undone) in the parent's dtype."""
    if grad is None or not parent.requires_grad:
        return None
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)  # numpy returns scalars for 0-d results
    data = parent.data
    if grad.shape != data.shape:
        grad = sum_to_shape(grad, data.shape)  # undo broadcasting: the one place
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def _give_inputs_their_own_gradients(order: list[Tensor]) -> None:
    """Make every input's ``grad`` an array that it alone owns (cheap: only views, read-only
    broadcasts and arrays shared with another node are copied)."""
    taken: set[int] = set()
    inputs = []
    for node in order:
        if node.grad is _ZERO:  # no contribution arrived (cannot happen with these rules)
            node.grad = np.zeros_like(node.data)
        if not node.parents:
            inputs.append(node)
        elif node.grad is not None:
            taken.add(id(node.grad))
    for node in inputs:
        grad = node.grad
        if grad is None:
            continue
        # A view (of another array, or a read-only broadcast) has a base; copy it too.
        if id(grad) in taken or grad.base is not None or not grad.flags.writeable:
            grad = node.grad = grad.copy()
        taken.add(id(grad))


def _result(
    data: np.ndarray,
    parents: tuple[Tensor, ...],
    op: str,
    rule: Callable[..., Any],
    ctx: Any = None,
) -> Tensor:
    """The output node of an op: its array, its inputs, and the rule that differentiates it."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
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


# ---- the ops' forward helpers and local rules, side by side ---------------------------------


def _binary(
    a: Tensor, b: Tensor, ufunc: np.ufunc, op: str, word: str, rule: Callable[..., Any]
) -> Tensor:
    try:
        data = ufunc(a.data, b.data)
    except ValueError:
        raise _broadcast_error(word, a.shape, b.shape) from None
    return _result(data, (a, b), op, rule)


def _add_backward(upstream, out, a, b):
    return upstream, upstream


def _sub_backward(upstream, out, a, b):
    return upstream, (-upstream if b.requires_grad else None)


def _mul_backward(upstream, out, a, b):
    da = upstream * b.data if a.requires_grad else None
    db = upstream * a.data if b.requires_grad else None
    return da, db


def _divide(a: Tensor, b: Tensor) -> Tensor:
    if b.data.size and not b.data.all():
        zeros = int(b.data.size - np.count_nonzero(b.data))
        raise ZeroDivisionError(
            f"div: division by zero: {zeros} of the {b.data.size} entries of the divisor "
            f"{_describe(b)} are 0"
        )
    return _binary(a, b, np.true_divide, "/", "div", _div_backward)


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


def _sigmoid_backward(upstream, out, a):
    s = out.data
    grad = 1 - s  # upstream * s * (1 - s), built in one new array
    grad *= s
    grad *= upstream
    return grad


def _tanh_backward(upstream, out, a):
    t = out.data
    return upstream * (1 - t * t)


def _relu_backward(upstream, out, a):
    return upstream * (a.data > 0)


def _matmul(a: Tensor, b: Tensor) -> Tensor:
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
        data = np.matmul(A, B)
    except ValueError:
        raise ValueError(
            f"matmul: the batch axes of {A.shape} @ {B.shape} cannot broadcast: "
            f"{A.shape[:-2]} with {B.shape[:-2]}"
        ) from None
    return _result(data, (a, b), "@", _matmul_backward)


def _matmul_backward(upstream, out, a, b):
    """Y = A @ B gives dA = dY @ Bᵀ and dB = Aᵀ @ dY (ᵀ swaps the last two axes).

    A vector is treated as a one-row (left) or one-column (right) matrix, and the extra
    axis is dropped again afterwards. Batch axes that broadcast are summed by sum_to_shape.
    """
    A, B = a.data, b.data
    if B.ndim == 1:  # B is a column: Y lost that column's axis, put it back
        B = B[:, None]
        upstream = upstream[..., None]
    if A.ndim == 1:  # A is a row: Y lost that row's axis, put it back
        A = A[None, :]
        upstream = upstream[..., None, :]
    da = db = None
    if a.requires_grad:  # skipped for a constant (like an input batch): it is a whole matmul
        da = np.matmul(upstream, B.swapaxes(-1, -2))
        if a.data.ndim == 1:
            da = da[..., 0, :]
    if b.requires_grad:
        db = np.matmul(A.swapaxes(-1, -2), upstream)
        if b.data.ndim == 1:
            db = db[..., 0]
    return da, db


def matmul_backward(
    upstream: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rule of Y = A @ B, written to be read: with G = ``upstream`` = dL/dY,

        dL/dA = G @ Bᵀ        dL/dB = Aᵀ @ G        (ᵀ swaps the last two axes)

    From Y_ij = Σ_k A_ik B_kj: A_ik is used in every Y_ij of row i, times B_kj, so
    dL/dA_ik = Σ_j G_ij B_kj = (G Bᵀ)_ik; likewise dL/dB_kj = Σ_i A_ik G_ij = (Aᵀ G)_kj.

    ``a`` and ``b`` are the input arrays. A vector is a one-row matrix on the left and a
    one-column matrix on the right: the product dropped that axis, so the rule puts it back,
    multiplies, and drops it again. Batch axes that broadcast (stacks of matrices) are summed
    back to each input's shape by sum_to_shape afterwards, as for every op. The engine's rule
    for ``@`` computes the same two products, and skips the one whose input is a constant.
    """
    G, A, B = upstream, a, b
    if B.ndim == 1:  # B is a column: Y lost that column's axis, put it back
        B, G = B[:, None], G[..., None]
    if A.ndim == 1:  # A is a row: Y lost that row's axis, put it back
        A, G = A[None, :], G[..., None, :]
    dA = G @ B.swapaxes(-1, -2)
    dB = A.swapaxes(-1, -2) @ G
    if a.ndim == 1:
        dA = dA[..., 0, :]  # drop the row axis again
    if b.ndim == 1:
        dB = dB[..., 0]  # drop the column axis again
    return dA, dB


def linear(x: ArrayLike, W: Tensor, b: Tensor | None = None) -> Tensor:  # noqa: N803
    """out = x @ W + b, the affine layer, as ONE node (a fused op, for speed).

    ``W`` is a Tensor of shape (D, M); ``x`` has shape (..., D) (a Tensor, or a numpy batch,
    which becomes a constant); ``b`` (optional) broadcasts to the result, usually shape (M,).
    Same values and gradients as the two nodes ``x @ W + b``, but one node saves the engine's
    per-node work and one array (the bias is added in place to the fresh product). Its rule is
    the two rules composed: the add hands ``upstream`` to both of its inputs, so

        x: upstream @ Wᵀ        W: xᵀ @ upstream        b: upstream

    where b's contribution is summed back to b's shape (over the batch) by sum_to_shape, as
    for every op, and for x with several batch axes xᵀ @ upstream sums over all of them.
    """
    if not isinstance(W, Tensor):
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
    data = np.matmul(X, Wd)
    if b is None:
        return _result(data, (x, W), "linear", _linear_backward)
    b = _lift(b, W, "linear")
    B = b.data
    if B.dtype == data.dtype and (B.shape == data.shape[-1:] or B.shape == data.shape):
        data += B  # the usual bias (M,): add it in place to the fresh product
    else:
        try:
            data = data + B
        except ValueError:
            raise _broadcast_error("linear", data.shape, B.shape) from None
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
    return dx, dW, upstream  # b: summed to b's shape by sum_to_shape, as for a + b


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


# ---- softmax, log-softmax and the fused softmax cross-entropy --------------------------------
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
    return _result(kernels.softmax(a.data, axis), (a,), "softmax", _softmax_backward, axis)


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
    return _result(data, (a,), "log_softmax", _log_softmax_backward, axis)


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
    logits of any size.
    """
    z = _tensor_input(logits, "softmax_cross_entropy")
    if isinstance(labels, Tensor):
        if labels.requires_grad:
            raise TypeError(
                "softmax_cross_entropy: labels get no gradient here; pass a numpy array (or a "
                "Tensor with requires_grad=False)"
            )
        labels = labels.data
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


def _tensor_input(t: Any, op: str) -> Tensor:
    if isinstance(t, Tensor):
        return t
    raise TypeError(
        f"{op}: needs a Tensor, got {type(t).__name__}; wrap the array as Tensor(x), or call "
        f"course_lib.kernels.{op} for plain numpy arrays"
    )


def _softmax_axis(t: Tensor, axis: Any, op: str) -> int:
    if t.ndim == 0:
        raise ValueError(
            f"{op}: the tensor is a single number (shape ()); it needs an axis of logits"
        )
    if isinstance(axis, tuple):
        raise TypeError(f"{op}: takes one axis (an int), got the tuple {axis}")
    (axis,) = _axes(axis, t.shape, op)
    if t.shape[axis] == 0:
        raise ValueError(f"{op}: axis {axis} of shape {t.shape} is empty; a softmax needs a logit")
    return axis


# ---- input checks and error messages ----------------------------------------------------


def _float_array(x: ArrayLike, dtype: np.dtype, where: str) -> np.ndarray:
    """``x`` as a float32 or float64 array; other numbers become ``dtype``; no copy if possible."""
    if type(x) is np.ndarray and x.dtype in _FLOATS:
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{where}: needs numbers, got {type(x).__name__} {x!r}")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{where}: cannot make an array of numbers from {x!r}: {error}") from None
    if array.dtype in _FLOATS:
        return array
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: needs real numbers, got an array of dtype {array.dtype} from {x!r}"
        )
    return array.astype(dtype)


def _lift(x: ArrayLike, like: Tensor, word: str) -> Tensor:
    """Wrap a number or array as a constant node (numbers take ``like``'s dtype)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray:  # the common case (a batch of data), tested first: it is cheap
        array = _float_array(x, like.data.dtype, word)
    elif isinstance(x, Real):
        array = np.asarray(x, dtype=like.data.dtype)
    elif isinstance(x, (np.ndarray, list, tuple)):
        array = _float_array(x, like.data.dtype, word)
    else:
        raise TypeError(f"{word}: cannot combine a Tensor with {type(x).__name__} {x!r}")
    const = Tensor.__new__(Tensor)
    const.data = array
    const.grad = None
    const.parents = ()
    const.op = ""
    const.label = None
    const.requires_grad = False
    const.ctx = None
    const._rule = None
    return const


def _broadcast_error(word: str, a: tuple[int, ...], b: tuple[int, ...]) -> ValueError:
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            return ValueError(
                f"{word}: cannot broadcast {a} with {b}: at axis -{i} the sizes {a[-i]} and "
                f"{b[-i]} differ and neither is 1 (shapes are compared from the right)"
            )
    return ValueError(f"{word}: cannot broadcast {a} with {b}")


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1 (what keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _axes(axis: Any, shape: tuple[int, ...], word: str) -> tuple[int, ...]:
    """``axis`` (None, an int, or a tuple of ints) as a tuple of non-negative axes."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            raise TypeError(f"{word}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(
                f"{word}: axis {ax} is out of range for a tensor of shape {shape} "
                f"({ndim} axes: use 0..{ndim - 1} or -{ndim}..-1)"
            )
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{word}: axis {axis} names the same axis twice")
    return tuple(axes)


def _check_index(index: Any, shape: tuple[int, ...]) -> tuple[Any, bool]:
    """Validate an index; lists become arrays. Returns (index, basic) where basic means
    only ints, slices, ``...`` and ``None`` (no element can be picked twice)."""
    items = index if isinstance(index, tuple) else (index,)
    cleaned = []
    basic = True
    for item in items:
        if isinstance(item, Tensor):
            raise TypeError(
                "index: a Tensor cannot be an index; use an integer numpy array such as "
                "t.data.astype(int)"
            )
        if isinstance(item, bool):
            raise TypeError("index: True/False is not an index; use a boolean array as a mask")
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.size == 0 and item.dtype.kind == "f":
                item = item.astype(np.intp)
            if item.dtype.kind not in "iub":
                raise IndexError(
                    f"index: an array used as an index must hold integers or booleans, got "
                    f"dtype {item.dtype} (the tensor has shape {shape})"
                )
            basic = False
        elif not (isinstance(item, (int, np.integer, slice)) or item is Ellipsis or item is None):
            raise IndexError(
                f"index: {item!r} is not a valid index; use ints, slices, ..., None or integer "
                f"or boolean arrays (the tensor has shape {shape})"
            )
        cleaned.append(item)
    return (tuple(cleaned) if isinstance(index, tuple) else cleaned[0]), basic


def _describe(t: Tensor) -> str:
    return repr(t.label) if t.label else f"the tensor of shape {t.shape}"


def _number(k: float) -> str:
    return str(int(k)) if float(k).is_integer() else repr(float(k))
