"""The Tensor engine's operations: each op's forward pass, and right beside it its local rule.

:class:`course_lib.tensor.Tensor` is a node (``data``, ``grad``, ``parents``, ``op``) plus the
operations defined here, in :class:`TensorOps`, which it inherits. The ops that are functions
(the softmax family and the fused ``linear``) are in :mod:`course_lib.tensor.functions`, built
the same way. Each op's forward pass and its rule sit side by side in one of these two files,
so adding an op, or changing one, is one edit in one file.

**One table.** Every op of the engine is one entry of :data:`RULES`, a :class:`Rule`: its name
(what ``node.op`` holds), how a formula writes it, its local rule, the rule in words for each
input, and an example of inputs where it is smooth. An op's method builds its output node with
:func:`result_node` (or :func:`new_node`), which takes the rule from the table by the op's name,
so the function a node runs backward is the one registered here and nowhere else. Each rule
sits right below its op, registered by the decorator :func:`rule`; ``python -m
course_lib.tensor`` prints the whole table, and ``tests/test_tensor_rules.py`` checks every
entry against finite differences, so an op cannot join the table without its check.

A rule takes ``upstream`` = dL/d(out), the op's output node ``out`` and its input nodes, and
returns one contribution per input (one array for a unary op), in whatever shape is natural,
usually the result's; the node then sums each one back to its input's shape
(:func:`course_lib.tensor.sum_to_shape`, in ``Tensor.local_backward``), so no rule deals with
broadcasting. A rule may return ``None`` for an input that needs no gradient (a constant) when
computing it would cost real work (see :func:`matmul_backward`).

**How to add an op** (for example ``softmax``), all in one file (this one for a method, or
:mod:`course_lib.tensor.functions` for a function):

1. Write the forward as a method of :class:`TensorOps` (or a function taking a ``Tensor``):
   check its inputs, raising errors that name the op and the shapes (helpers in
   :mod:`course_lib.tensor.validation`); compute the result's array with numpy (inside
   ``np.errstate(all="ignore")`` if it can overflow: ``result_node`` reports that by name); then
   ``return result_node(data, (a,), "softmax", ctx)``. ``ctx`` holds anything the rule needs
   besides the inputs and the output (an axis, an index). An op that cannot overflow (it only
   moves or squashes numbers) may return ``new_node(...)``, which skips the check.
2. Right below it write ``softmax_backward(upstream, out, a)`` and register it:
   ``@rule("softmax", "softmax({a})", ("out * (upstream - ⟨upstream, out⟩)",))``.
3. Give it an example in ``tests/test_tensor_rules.py`` (inputs where it is smooth): that
   test gradient-checks every entry of the table, and fails for an entry without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from course_lib.kernels.sigmoid import sigmoid
from course_lib.numbers.checking import real_number
from course_lib.tensor.validation import (
    all_finite,
    broadcast_error,
    check_index,
    constant_number,
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
    "RULES",
    "Rule",
    "TensorOps",
    "as_constant",
    "matmul_backward",
    "new_node",
    "result_node",
    "rule",
    "rule_of",
    "rule_table",
    "tensor_input",
]

ArrayLike = Any  # a Tensor, numpy array, nested list or plain number


# ---- the rule table ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Rule:
    """One op of the Tensor engine: everything the engine knows about its backward pass.

    ``name``
        what ``node.op`` holds for it (``"@"``, ``"exp"``, ``"softmax"``; every power ``**k``
        shares the entry ``"**"``);
    ``formula``
        how a formula writes the op on its inputs ``{a}``, ``{b}``, ``{c}``: ``"{a} @ {b}"``;
    ``backward``
        the local rule, ``backward(upstream, out, *inputs)``: one contribution per input;
    ``text``
        each input's contribution in words and symbols, in the inputs' names:
        ``("upstream @ {b}ᵀ", "{a}ᵀ @ upstream")``.
    """

    name: str
    formula: str
    backward: Callable[..., Any]
    text: tuple[str, ...]

    def write(self, *inputs: str) -> str:
        """The formula in the given input names: ``RULES["@"].write("X", "W")`` is ``X @ W``."""
        return self.formula.format(**dict(zip("abcdefgh", inputs, strict=False)))

    def says(self, index: int, *inputs: str) -> str:
        """Input number ``index``'s contribution in words, in the given input names."""
        return self.text[index].format(**dict(zip("abcdefgh", inputs, strict=False)))


RULES: dict[str, Rule] = {}
"""The rule table: every op of the Tensor engine by its name (the ops of
:mod:`course_lib.tensor.functions` join it when that module is imported, as ``course_lib.tensor``
does)."""


def rule(
    name: str, formula: str, text: tuple[str, ...]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the backward rule of the op ``name`` in :data:`RULES`
    (an op is registered once: a second rule for the same name is refused)."""

    def register(backward: Callable[..., Any]) -> Callable[..., Any]:
        if name in RULES:
            raise ValueError(f"the Tensor engine has a rule for {name!r} already")
        RULES[name] = Rule(name, formula, backward, tuple(text))
        return backward

    return register


# numpy's functions that are operators a Tensor has, by name: numpy hands them back to Tensor.
_NUMPY_OPERATORS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "true_divide": "truediv",
    "divide": "truediv",
    "power": "pow",
    "matmul": "matmul",
}


def _no_order(t: Any, symbol: str, other: Any) -> bool:
    """The error for ``t < 3`` (and <=, >, >=): a Tensor is a node; compare its numbers."""
    raise TypeError(
        f"t {symbol} {short_repr(other)} with a Tensor t: a Tensor is a node of the graph, so "
        f"it has no order (a comparison gives bools, which no gradient flows through); compare "
        f"its numbers: t.data {symbol} ..., an array of True and False"
    )


def rule_of(op: str) -> Rule:
    """The table's entry for the op a node holds in ``node.op`` (``"**2"`` is a power).

    Every new node asks this, so an op's own name is looked up first, before anything else.
    """
    found = RULES.get(op) if type(op) is str else None
    if found is not None:
        return found
    if not isinstance(op, str):
        raise TypeError(f"rule_of needs an op's name, such as 'exp' or '@', got {op!r}")
    found = RULES.get("**" if op.startswith("**") else op)
    if found is None:
        raise KeyError(f"the Tensor engine has no op {op!r}; its ops are {sorted(RULES)}")
    return found


def rule_table() -> str:
    """The table as text, one op a line: its formula, then each input's contribution."""
    lines = []
    for entry in RULES.values():
        names = "abc"[: len(entry.text)]
        parts = "    ".join(f"{n}: {entry.says(i, *names)}" for i, n in enumerate(names))
        lines.append(f"out = {entry.write(*names):<32} {parts}")
    return "\n".join(lines)


class TensorOps:
    """The operations of :class:`course_lib.tensor.Tensor`, each beside its local rule.

    A mixin: ``Tensor`` inherits these methods and adds the node itself (its attributes and
    ``backward``). Every method builds its result with :func:`result_node`, which refuses inf and
    NaN, or with :func:`new_node` when the op cannot overflow.
    """

    __slots__ = ()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy hands here every numpy function given a Tensor: ``array + tensor`` (and ``-``,
        ``*``, ``/``, ``**``, ``@``) goes to the Tensor's own operator, which keeps the graph,
        instead of numpy looping over the array's elements; a numpy function of a Tensor, such
        as ``np.exp(t)``, is refused with what to write instead."""
        operator = _NUMPY_OPERATORS.get(ufunc.__name__)
        if operator and method == "__call__" and len(inputs) == 2 and not kwargs:
            if inputs[1] is self:
                return getattr(self, f"__r{operator}__")(inputs[0])
            return getattr(self, f"__{operator}__")(inputs[1])
        function = ufunc.__name__
        own = (
            f"use t.{function}(), the engine's own op"
            if callable(getattr(TensorOps, function, None))
            else f"the Tensor engine has no {function} op: build it from the ops it has"
        )
        raise TypeError(
            f"np.{function}(t) with a Tensor t: numpy's functions work on arrays and cannot "
            f"follow the graph; {own}. t.data is its array of numbers, without a gradient"
        )

    def __float__(self) -> float:
        raise TypeError(
            "float(t): a Tensor is not a plain number; t.item() gives the number of a one-entry "
            "tensor, t.data its array (both cut out of the graph: no gradient flows through them)"
        )

    def __lt__(self, other: object) -> bool:
        return _no_order(self, "<", other)

    def __le__(self, other: object) -> bool:
        return _no_order(self, "<=", other)

    def __gt__(self, other: object) -> bool:
        return _no_order(self, ">", other)

    def __ge__(self, other: object) -> bool:
        return _no_order(self, ">=", other)

    # ---- elementwise arithmetic with broadcasting --------------------------------------------

    def __add__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "add"), np.add, "+")

    def __radd__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "add"), self, np.add, "+")

    def __sub__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "sub"), np.subtract, "-")

    def __rsub__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "sub"), self, np.subtract, "-")

    def __mul__(self, other: ArrayLike) -> TensorOps:
        return _binary(self, as_constant(other, self, "mul"), np.multiply, "*")

    def __rmul__(self, other: ArrayLike) -> TensorOps:
        return _binary(as_constant(other, self, "mul"), self, np.multiply, "*")

    def __truediv__(self, other: ArrayLike) -> TensorOps:
        return _divide(self, as_constant(other, self, "div"))

    def __rtruediv__(self, other: ArrayLike) -> TensorOps:
        return _divide(as_constant(other, self, "div"), self)

    def __neg__(self) -> TensorOps:
        return new_node(np.negative(self.data), (self,), "neg")

    def __pow__(self, k: float) -> TensorOps:
        if isinstance(k, TensorOps):
            raise TypeError(
                "pow: x ** y needs a plain number as the exponent, not a Tensor (the rule "
                "d(x^k)/dx = k x^(k-1) holds for a constant k); for a tensor exponent write "
                "(y * x.log()).exp()"
            )
        if isinstance(k, bool) or not isinstance(k, Real):
            raise TypeError(f"pow: x ** k needs a number k, got {type(k).__name__} {short_repr(k)}")
        k = real_number(k, "the exponent k", "pow: x ** k", finite=False)  # 10**400 refused
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
        return result_node(data, (self,), f"**{k:g}", k)

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
        return result_node(data, (self,), "exp")

    def log(self) -> TensorOps:
        """The natural logarithm, elementwise; every entry must be positive."""
        x = self.data
        if x.size and x.min() <= 0:
            bad = int((x <= 0).sum())
            raise ValueError(
                f"log: needs positive inputs, but {bad} of the {x.size} entries of "
                f"{describe(self)} are <= 0 (the smallest is {x.min():g})"
            )
        return new_node(np.log(x), (self,), "log")  # finite: x > 0

    def sigmoid(self) -> TensorOps:
        """σ(x) = 1 / (1 + e^{-x}), elementwise (:func:`course_lib.kernels.sigmoid`)."""
        return new_node(sigmoid(self.data), (self,), "sigmoid")

    def tanh(self) -> TensorOps:
        """tanh(x), elementwise."""
        return new_node(np.tanh(self.data), (self,), "tanh")

    def relu(self) -> TensorOps:
        """max(x, 0), elementwise."""
        return new_node(np.maximum(self.data, 0), (self,), "relu")

    # ---- reductions ------------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> TensorOps:
        """Sum over ``axis`` (an int, a tuple of ints, or None for all axes)."""
        axes = normalize_axes(axis, self.shape, "sum")
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming sum
            data = self.data.sum(axis=axes, keepdims=keepdims)
        return result_node(data, (self,), "sum", kept_shape(self.shape, axes))

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
        return result_node(data, (self,), "mean", (kept, count))

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
        return new_node(data, (self,), "max", (axis, keepdims))

    # ---- shape -----------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> TensorOps:
        """The same elements in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) for n in shape):
            raise TypeError(
                f"reshape: the new shape must be whole numbers (ints, -1 for 'the rest'), got "
                f"{short_repr(shape)}"
            )
        try:
            data = self.data.reshape(shape)
        except OverflowError:  # a size beyond any array (10**400)
            raise ValueError(
                f"reshape: cannot reshape shape {self.shape} ({self.size} elements) into "
                f"{short_repr(shape)}: a size that large is no array's"
            ) from None
        except (ValueError, TypeError):
            if sum(n == -1 for n in shape) > 1:
                why = "only one size may be -1 ('the rest')"
            elif any(n < -1 for n in shape):
                why = "sizes are 0 or more, or -1 for 'the rest'"
            else:
                why = "the new shape must hold the same number of elements (-1 for 'the rest')"
            raise ValueError(
                f"reshape: cannot reshape shape {self.shape} ({self.size} elements) into "
                f"{short_repr(shape)}: {why}"
            ) from None
        return new_node(data, (self,), "reshape")

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
                f"transpose: axes {short_repr(axes)} must be a permutation of 0..{ndim - 1} "
                f"for a tensor of shape {self.shape}"
            )
        inverse = [0] * ndim
        for position, ax in enumerate(order):
            inverse[ax] = position
        data = np.transpose(self.data, order)
        return new_node(data, (self,), "transpose", tuple(inverse))

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
        return new_node(data, (self,), "index", (index, basic))


# ---- the output node of an op, and constants ------------------------------------------------


def result_node(
    data: np.ndarray, parents: tuple[TensorOps, ...], op: str, ctx: Any = None
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
    return new_node(data, parents, op, ctx)


def new_node(
    data: np.ndarray, parents: tuple[TensorOps, ...], op: str, ctx: Any = None
) -> TensorOps:
    """The output node of an op: its array, its inputs, and the rule that differentiates it,
    taken from :data:`RULES` by the op's name.

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
    out._rule = rule_of(op).backward
    return out


def as_constant(x: ArrayLike, like: TensorOps, op: str) -> TensorOps:
    """Wrap a number or array as a constant node (numbers take ``like``'s dtype)."""
    if isinstance(x, TensorOps):
        return x
    if type(x) is np.ndarray:  # the common case (a batch of data), tested first: it is cheap
        array = float_array(x, like.data.dtype, op)
    elif isinstance(x, Real) and not isinstance(x, bool):
        array = constant_number(x, like.data.dtype, op)
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


def _binary(a: TensorOps, b: TensorOps, ufunc: np.ufunc, op: str) -> TensorOps:
    try:
        with np.errstate(all="ignore"):  # an overflow is reported by result_node, naming the op
            data = ufunc(a.data, b.data)
    except ValueError:
        raise broadcast_error(op_word(op), a.shape, b.shape) from None
    return result_node(data, (a, b), op)


@rule("+", "{a} + {b}", ("upstream", "upstream"))
def add_backward(upstream, out, a, b):
    return upstream, upstream


@rule("-", "{a} - {b}", ("upstream", "-upstream"))
def sub_backward(upstream, out, a, b):
    return upstream, (-upstream if b.requires_grad else None)


@rule("*", "{a} * {b}", ("upstream * {b}", "upstream * {a}"))
def mul_backward(upstream, out, a, b):
    da = upstream * b.data if a.requires_grad else None
    db = upstream * a.data if b.requires_grad else None
    return da, db


def _divide(a: TensorOps, b: TensorOps) -> TensorOps:
    if not b.requires_grad and not all_finite(b.data):  # x / inf = 0: finite, so said here
        raise result_error("div", (b,), b.data)
    if b.data.size and not b.data.all():
        zeros = int(b.data.size - np.count_nonzero(b.data))
        raise ZeroDivisionError(
            f"div: division by zero: {zeros} of the {b.data.size} entries of the divisor "
            f"{describe(b)} are 0"
        )
    return _binary(a, b, np.true_divide, "/")


@rule("/", "{a} / {b}", ("upstream / {b}", "-upstream * out / {b}"))
def div_backward(upstream, out, a, b):
    da = upstream / b.data if a.requires_grad else None
    db = -upstream * out.data / b.data if b.requires_grad else None  # -upstream * a / b²
    return da, db


@rule("neg", "-{a}", ("-upstream",))
def neg_backward(upstream, out, a):
    return -upstream


@rule("**", "{a}**k", ("upstream * k * {a}**(k - 1)",))
def pow_backward(upstream, out, a):
    k = out.ctx
    return upstream * (k * a.data ** (k - 1))


@rule("exp", "exp({a})", ("upstream * out",))
def exp_backward(upstream, out, a):
    return upstream * out.data


@rule("log", "log({a})", ("upstream / {a}",))
def log_backward(upstream, out, a):
    return upstream / a.data


@rule("sigmoid", "σ({a})", ("upstream * out * (1 - out)",))
def sigmoid_backward(upstream, out, a):
    """upstream × σ'(a), where σ'(a) = σ(a)(1 - σ(a)) = out (1 - out): the output the forward
    pass computed, so no exponential is needed again."""
    s = out.data
    return upstream * s * (1 - s)


@rule("tanh", "tanh({a})", ("upstream * (1 - out²)",))
def tanh_backward(upstream, out, a):
    t = out.data
    return upstream * (1 - t * t)


@rule("relu", "relu({a})", ("upstream * ({a} > 0)",))
def relu_backward(upstream, out, a):
    return upstream * (a.data > 0)


# ---- reductions, shapes and indexing: local rules --------------------------------------------


@rule("sum", "{a}.sum(axes)", ("upstream, copied back along the summed axes",))
def sum_backward(upstream, out, a):
    """Every summed element gets the upstream gradient of its sum: copy it back along the
    summed axes (``sum`` and ``broadcast`` are each other's backward)."""
    kept = out.ctx  # a's shape with the summed axes as size 1
    return np.broadcast_to(upstream.reshape(kept), a.data.shape)


@rule("mean", "{a}.mean(axes)", ("upstream / count, copied back along the averaged axes",))
def mean_backward(upstream, out, a):
    kept, count = out.ctx
    return np.broadcast_to(upstream.reshape(kept) / count, a.data.shape)


@rule("max", "{a}.max(axis)", ("upstream at each slice's arg-max, 0 elsewhere",))
def max_backward(upstream, out, a):
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


@rule("reshape", "{a}.reshape(shape)", ("upstream reshaped back to {a}'s shape",))
def reshape_backward(upstream, out, a):
    return upstream.reshape(a.data.shape)


@rule("transpose", "{a}ᵀ", ("upstream, its axes permuted back",))
def transpose_backward(upstream, out, a):
    return np.transpose(upstream, out.ctx)  # ctx is the inverse permutation


@rule("index", "{a}[index]", ("zeros, with upstream added at the picked places (repeats add up)",))
def index_backward(upstream, out, a):
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
    return result_node(data, (a, b), "@")


@rule("@", "{a} @ {b}", ("upstream @ {b}ᵀ", "{a}ᵀ @ upstream"))
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
