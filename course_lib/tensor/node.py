"""``Tensor``: reverse-mode automatic differentiation over numpy arrays.

A ``Tensor`` is a node of the same shape as :class:`course_lib.autodiff.scalar.Value` (``data``,
``grad``, ordered ``parents``, ``op``, ``label``, ``local_backward(upstream)``), so the one
engine in :mod:`course_lib.autodiff.graph` orders the graph and runs the backward pass, and the same
drawing code shows either kind of graph. The differences: ``data`` is a numpy array, and
``grad`` is an array of exactly the same shape as ``data``, because dL/dx has one entry per
entry of x.

The engine is a few modules, each small enough to read in one sitting:

* this one: the node (``Tensor``), its backward glue, and broadcasting undone;
* :mod:`course_lib.tensor.ops`: every op's forward pass beside its local rule (``+``, ``@``,
  ``exp``, ``sum``, indexing ...), with the table of rules and how to add an op; ``Tensor``
  inherits these methods from its class ``TensorOps``;
* :mod:`course_lib.tensor.functions`: the ops that are functions: ``softmax``,
  ``log_softmax``, the fused ``softmax_cross_entropy``, the fused layer ``linear``,
  ``layer_norm`` and ``embedding``;
* :mod:`course_lib.tensor.validation`: the input checks and the error messages.

**Broadcasting.** ``a + b`` with a of shape (N, C) and b of shape (C,) uses every b_c N times.
A value used N times gets the sum of its N gradients (sum at joins), so b's contribution is
``upstream.sum(axis=0)``. The rules ignore this: they return contributions in the *result's*
shape. :func:`sum_to_shape` then sums each one back to its input's shape, in one place
(:meth:`Tensor.local_backward`) for every op, so no rule can forget it; the axes it sums over
come from :func:`broadcast_axes`.

**Constants.** ``Tensor(x)`` is an input we want dL/dx for. Plain numbers and numpy arrays
mixed into an op (``h * 2``, ``X @ W`` with X a numpy batch) become constant nodes, as does
``Tensor(x, requires_grad=False)``; their ``grad`` stays ``None`` and rules skip any work
done only for them.

**dtype.** float64 by default (for teaching and gradient checks); float32 arrays stay float32
(for speed). Plain numbers adopt the tensor's dtype. ``Tensor(array)`` does not copy: it
shares memory with ``array``; ``np.asarray(tensor)`` gives that array back.

**Never inf or NaN.** No op returns inf or NaN and ``backward()`` leaves none in a gradient:
an overflow raises ``OverflowError``, a NaN ``ValueError``, each naming the op, its inputs and
the values where it happened (details in :mod:`course_lib.tensor.validation`).

**Copies.** ``copy.copy(t)`` is a new node sharing ``t``'s parents and arrays;
``copy.deepcopy(t)`` copies the whole graph ending at ``t`` and ``pickle`` stores it, both as a
flat list of nodes, inputs first, so a graph of any depth can be copied (a chain of 10,000 ops
included: a recursive copy stops at a few hundred).

**Gradients share memory.** The engine never writes into a gradient array, so a rule may hand
on ``upstream`` itself (``add`` does). After ``backward()`` each input tensor (a node with no
parents) owns its ``grad`` array; interior nodes' gradients may be views of one another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.autodiff.graph import backpropagate, topological_order
from course_lib.numbers.checking import switch
from course_lib.tensor.broadcasting import sum_to_shape
from course_lib.tensor.ops import TensorOps, rule_of
from course_lib.tensor.validation import (
    all_finite,
    backward_error,
    float_array,
    seed_array,
)

__all__ = ["Tensor", "fit_to_input"]

ArrayLike = Any  # a Tensor, numpy array, nested list or plain number


# ---- the node ----------------------------------------------------------------------------


class Tensor(TensorOps):
    """A node of a computation graph holding a numpy array.

    Attributes: ``data`` (the forward value, an ``np.ndarray`` of float32 or float64),
    ``grad`` (dL/d(this node) after ``backward()``, an array of the same shape; ``None``
    before, and always ``None`` for a constant), ``parents`` (the input nodes, in order),
    ``op`` (the operation that made it, ``""`` for an input), ``label`` (a name for drawings,
    or ``None``), ``requires_grad`` (False for a constant and for anything computed only from
    constants), ``ctx`` (what the op's rule needs besides inputs and output).

    The operations (``+``, ``*``, ``@``, ``exp``, ``sum``, indexing ...) and their local rules
    are in :class:`course_lib.tensor.ops.TensorOps`, which this class inherits.
    """

    __slots__ = ("data", "grad", "parents", "op", "label", "requires_grad", "ctx", "_rule")

    def __init__(
        self, data: ArrayLike, label: str | None = None, requires_grad: bool = True
    ) -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) got a Tensor; use it directly instead of wrapping it")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        if isinstance(data, bool | np.bool_):
            raise TypeError(
                f"Tensor needs numbers, got {data} (a bool); write 1.0 or 0.0 if you mean a number"
            )
        if requires_grad is not True and requires_grad is not False:
            requires_grad = switch(requires_grad, "requires_grad", "Tensor")
        array = float_array(data, np.dtype(np.float64), "Tensor")
        if requires_grad and not all_finite(array):
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

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.array(t)`` and ``np.asarray(t)``: the tensor's numbers (its ``data``).

        The result is plain numbers, outside the graph: no gradient flows through it.
        """
        array = self.data
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:
                raise ValueError(
                    f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): the tensor holds "
                    f"{array.dtype}, so a copy is needed"
                )
            return array.astype(dtype)
        return array.copy() if copy else array

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
            return (fit_to_input(self._rule(upstream, self, a), a),)
        if len(parents) == 2:  # a binary rule returns a pair
            a, b = parents
            da, db = self._rule(upstream, self, a, b)
            return (fit_to_input(da, a), fit_to_input(db, b))
        contributions = self._rule(upstream, self, *parents)  # linear: x, W and b
        return tuple([fit_to_input(g, p) for g, p in zip(contributions, parents, strict=True)])

    def backward(self, upstream: ArrayLike | None = None) -> None:
        """Fill ``grad`` on every node this one depends on with d(self)/d(node).

        For a one-element tensor (a loss) the seed is 1. Any other tensor needs ``upstream``,
        an array of exactly its shape holding dL/d(self); the result is then the
        vector-Jacobian product. Gradients are reset first, so calling ``backward()`` again
        gives the same arrays rather than adding to the old ones. A gradient that would hold
        inf or NaN raises an error naming the op whose rule produced it (and leaves every
        ``grad`` of the graph at ``None``).
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
            seed = seed_array(upstream, data)
        with np.errstate(all="ignore"):  # inf or NaN in a gradient is reported below, by op
            order = backpropagate(self, seed)
        _give_inputs_their_own_gradients(order)

    def graph_nodes(self) -> list[Tensor]:
        """Every node of the graph that ends here, inputs first (a topological order)."""
        return topological_order(self)

    # ---- copies: without recursion, so a graph of any depth can be copied or pickled -----

    def __copy__(self) -> Tensor:
        """A new node with the same arrays and the same parents (the graph is shared)."""
        return _node(
            self.data, self.grad, self.parents, self.op, self.label, self.requires_grad, self.ctx
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """A copy of the whole graph ending here, made inputs first (no recursion); arrays
        and each op's context are copied too, and a node reached twice is copied once."""
        for node in topological_order(self):
            if id(node) not in memo:
                memo[id(node)] = _node(
                    copy.deepcopy(node.data, memo),
                    copy.deepcopy(node.grad, memo),
                    tuple(memo[id(parent)] for parent in node.parents),
                    node.op,
                    node.label,
                    node.requires_grad,
                    copy.deepcopy(node.ctx, memo),
                )
        return memo[id(self)]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the graph ending here as a flat list of nodes (inputs first), so its depth
        does not matter. The inputs (nodes without parents) are pickled as themselves, so
        tensors pickled together (a network's weights and a loss computed from them) still
        share them when loaded; each pickled output brings its own copy of the interior nodes.
        """
        if not self.parents:
            return (_input, (self.data, self.grad, self.label, self.requires_grad))
        order = topological_order(self)
        index = {id(node): i for i, node in enumerate(order)}
        records = [
            node
            if not node.parents
            else (
                node.data,
                node.grad,
                tuple(index[id(p)] for p in node.parents),
                node.op,
                node.label,
                node.requires_grad,
                node.ctx,
            )
            for node in order
        ]
        return (_graph, (records,))


def _node(
    data: np.ndarray,
    grad: np.ndarray | None,
    parents: tuple[Tensor, ...],
    op: str,
    label: str | None,
    requires_grad: bool,
    ctx: Any,
) -> Tensor:
    """A node made from its parts, without the checks ``Tensor(...)`` makes of an input; its
    rule is looked up in the table by ``op`` (so a pickle holds no function)."""
    node = object.__new__(Tensor)
    node.data, node.grad, node.parents, node.op = data, grad, parents, op
    node.label, node.requires_grad, node.ctx = label, requires_grad, ctx
    node._rule = rule_of(op).backward if parents else None
    return node


def _input(data: np.ndarray, grad: np.ndarray | None, label: str | None, requires_grad: bool):
    """An input node loaded by pickle (see :meth:`Tensor.__reduce__`)."""
    return _node(data, grad, (), "", label, requires_grad, None)


def _graph(records: list[Any]) -> Tensor:
    """The last node of a graph loaded by pickle: ``records`` holds, inputs first, each input
    node itself and each other node as (data, grad, parent positions, op, label,
    requires_grad, ctx)."""
    nodes: list[Tensor] = []
    for record in records:
        if isinstance(record, Tensor):
            nodes.append(record)
            continue
        data, grad, parents, op, label, requires_grad, ctx = record
        nodes.append(
            _node(data, grad, tuple(nodes[i] for i in parents), op, label, requires_grad, ctx)
        )
    return nodes[-1]


def fit_to_input(grad: Any, parent: Tensor) -> np.ndarray | None:
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
    broadcasts and arrays shared with another node are copied), and check that every input's
    gradient is finite.

    Checking the inputs is enough: an inf or NaN anywhere in the backward pass reaches every
    input below it (any rule times inf or NaN gives inf or NaN, even times 0), and the inputs'
    gradients are the ones an update step reads.
    """
    taken: set[int] = set()
    inputs = []
    for node in order:
        if not node.parents:
            inputs.append(node)
        elif node.grad is not None:
            taken.add(id(node.grad))
    for node in inputs:
        grad = node.grad
        if grad is None:
            continue
        if not all_finite(grad):
            error = backward_error(order)
            for every in order:
                every.grad = None
            raise error
        # A view (of another array, or a read-only broadcast) has a base; copy it too.
        if id(grad) in taken or grad.base is not None or not grad.flags.writeable:
            grad = node.grad = grad.copy()
        taken.add(id(grad))
