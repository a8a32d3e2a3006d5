"""The graph algorithm shared by every engine in the course.

A *node* is any object with these attributes (both :class:`course_lib.autodiff.scalar.Value` and
:class:`course_lib.tensor.Tensor` have them):

``data``
    the value computed by the forward pass;
``grad``
    dL/d(node) after the backward pass; ``None`` before (meaning "not computed yet");
``parents``
    the nodes this one was computed from, as an ordered tuple (the order of the op's inputs);
``op``
    the name of the operation that made it (``""`` for an input or a constant);
``local_backward(upstream)``
    the op's local rule: given the upstream gradient dL/d(out), return one contribution
    per parent, dL/d(out) * d(out)/d(parent), in the order of ``parents``. An engine may
    return ``None`` for a parent whose gradient nobody needs (a constant input), to save work.

Reverse mode is then four moves, repeated at every node in reverse topological order:

1. local partials   d(out)/d(parent), known to the op that made ``out``;
2. upstream         dL/d(out), finished because every consumer of ``out`` came earlier;
3. multiply         contribution = upstream * local partial (``local_backward``);
4. sum at joins     a parent used by several consumers adds their contributions up.

:func:`backward_steps` is the backward pass itself, one :class:`Step` per node, so a widget can
show it step by step; :func:`backpropagate` runs it to the end. The running sums of move 4 live
in one line of :func:`backward_steps` and nowhere else.

**Errors.** A root that is not a node, or a graph whose parents loop back to a node (made by
changing ``parents`` by hand), is a ``TypeError`` or a ``ValueError`` naming the node. The seed
must be a finite number (or a finite array). A scalar gradient (a Python float, as ``Value``
has) that overflows on the way back raises ``OverflowError`` naming the node and the edge
where it happened (``ValueError`` for NaN), and leaves every ``grad`` at ``None``; an engine
with array gradients checks its arrays after the pass, where it can name the entry
(:mod:`course_lib.tensor` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import isfinite, isnan
from numbers import Real
from typing import Any

import numpy as np

from course_lib.numbers.checking import real_number, shown
from course_lib.numbers.formatting import format_number

__all__ = [
    "Contribution",
    "Step",
    "backpropagate",
    "backward_steps",
    "check_node",
    "check_seed",
    "topological_order",
]

_LARGEST = "about 1.8e+308"  # the largest float


def check_node(node: Any, where: str) -> None:
    """Raise a ``TypeError`` naming ``where`` unless ``node`` is a node of a graph."""
    if not hasattr(node, "parents"):
        raise TypeError(
            f"{where} needs a node of a computation graph (a Value or a Tensor, with data, grad "
            f"and parents), got {shown(node)} ({type(node).__name__})"
        )


def _describe(node: Any) -> str:
    """A node in a message: ``x (= 2)`` for a labelled one, ``the * node (= 6)`` for an op's
    output, ``the input 2`` for an unlabelled input or constant."""
    data = getattr(node, "data", None)
    if isinstance(data, Real):
        value = format_number(data)
    elif hasattr(data, "shape"):
        value = f"shape {tuple(data.shape)}"
    else:
        value = shown(data)
    label = getattr(node, "label", None)
    if isinstance(label, str) and label:
        return f"{label} (= {value})"
    op = getattr(node, "op", "")
    return f"the {op} node (= {value})" if op else f"the input {value}"


def topological_order(root: Any) -> list[Any]:
    """Every node that ``root`` depends on, each listed after all of its parents.

    A depth-first search that visits each node twice. The first visit puts the node back on
    the stack *under* its parents, so it comes up again only after all of them are placed;
    the second visit places it. An explicit stack instead of recursion means a chain of a
    million nodes needs no deep Python call stack. Parents are visited in their stored order,
    so the same graph always gives the same order. A parent met while it is still waiting
    depends on the node that names it as a parent: the graph has a cycle, and no order exists.
    """
    check_node(root, "topological_order")
    order: list[Any] = []  # the answer: each node after all of its parents
    placed: set[Any] = set()  # the nodes already in `order`
    waiting: set[Any] = set()  # nodes visited once: placed when they come up again
    stack = [root]
    while stack:
        node = stack.pop()
        if node in placed:
            continue  # reached again along another path: already placed
        if node in waiting:
            placed.add(node)  # second visit: every parent is placed by now
            order.append(node)
            continue
        waiting.add(node)  # first visit: come back to this node after its parents
        stack.append(node)
        for parent in reversed(_parents(node)):  # reversed: the first parent is placed first
            if parent not in placed:
                if parent in waiting:  # parent waits for node (an input of an input): a cycle
                    raise _cycle_error(parent)
                stack.append(parent)
    return order


def _parents(node: Any) -> tuple[Any, ...]:
    """``node.parents``, or a ``TypeError`` for something in a graph that is not a node."""
    try:
        return node.parents
    except AttributeError:
        raise TypeError(
            f"topological_order: the graph holds {shown(node)} ({type(node).__name__}) as a "
            "node's input, but it is not a node (no parents): were parents changed by hand?"
        ) from None


def _cycle_error(node: Any) -> ValueError:
    return ValueError(
        f"topological_order: the graph has a cycle through {_describe(node)}: it is among its "
        "own inputs (directly or through other nodes), so no order puts every node after its "
        "parents. A graph built by operations never loops back: were parents changed by hand?"
    )


def check_seed(seed: Any, root: Any = None, where: str = "backward") -> Any:
    """``seed``, dL/d(root), if it is a finite number or an array of finite numbers, else an
    error naming the problem (a plain number comes back as a float). Given ``root``, the seed
    must also have the output's shape: one number for a scalar graph, an array shaped like
    ``root.data`` for an array output (a seed is never broadcast)."""
    shape = None if root is None else np.shape(root.data)
    if isinstance(seed, np.ndarray):
        if seed.dtype.kind not in "iuf":
            raise TypeError(
                f"{where}: the seed dL/d(root) must hold real numbers, got an array of dtype "
                f"{seed.dtype}"
            )
        if seed.size == 0 and root is None:
            raise ValueError(
                f"{where}: the seed dL/d(root) is an empty array; it needs one number per entry "
                "of the output (1.0 for a loss)"
            )
        finite = isfinite(seed) if seed.ndim == 0 else np.isfinite(seed).all()  # a loss's: 0-d
        if not finite:
            raise ValueError(
                f"{where}: the seed dL/d(root) must hold finite numbers (it has inf or NaN)"
            )
        if shape is not None and seed.shape != shape:
            raise ValueError(
                f"{where}: the seed must have the output's shape {shape}, got shape "
                f"{seed.shape}: one number per entry of the output (a seed is not broadcast)"
            )
        return float(seed) if shape == () and not hasattr(root.data, "shape") else seed
    number = real_number(seed, "the seed dL/d(root) (1.0 for a loss)", where)
    if shape:  # an array output takes an array seed
        raise ValueError(
            f"{where}: the output has shape {shape}, so the seed must be an array of that shape "
            f"(np.ones({shape}) differentiates the sum of the outputs), got the number {number}"
        )
    return number


@dataclass(slots=True)
class Contribution:
    """What one node passes back to one of its parents, and the parent's running sum.

    ``contribution`` is upstream × the local partial d(node)/d(parent) (moves 1 to 3);
    ``before`` and ``after`` are the parent's gradient so far, before and after adding it
    (move 4; ``before`` is ``None`` for the first use to pass back). ``index`` is the
    parent's position among the node's inputs (``x * x`` passes back to index 0 and 1).
    """

    parent: Any
    index: int
    contribution: Any
    before: Any
    after: Any


@dataclass(slots=True)
class Step:
    """The backward pass at one node: its upstream gradient and what it passes back.

    ``upstream`` is dL/d(node), complete when the step runs (``None`` when no path leads from
    the node to the output that needs a gradient); ``contributions`` has one
    :class:`Contribution` per parent that receives one, in the order of ``parents``.
    """

    node: Any
    upstream: Any
    contributions: tuple[Contribution, ...]


def backward_steps(root: Any, seed: Any) -> Iterator[Step]:
    """The backward pass from ``root``, one :class:`Step` per node, in reverse topological order.

    ``seed`` is dL/d(root) (1 for a scalar loss). Every ``grad`` of the graph is set to
    ``None`` first; then each node, when its step comes, multiplies its upstream gradient by
    its local partials (``local_backward``) and adds each contribution into its parent's
    ``grad``. So ``grad`` holds each node's running sum while the steps run, and dL/d(node)
    once they are all done. The first step is the output's own: upstream = ``seed``. A
    gradient (a float) that passes the largest float stops the pass with an error naming the
    edge where it did, and every ``grad`` back at ``None``.
    """
    check_node(root, "backward")
    seed = check_seed(seed, root)  # finite, and shaped like the output
    order = topological_order(root)
    for node in order:
        node.grad = None  # not computed yet: a second backward pass starts from scratch
    root.grad = seed
    for node in reversed(order):
        # Every consumer of `node` comes earlier in this loop, so node.grad is complete here:
        # it is the upstream gradient for this node's own local rule.
        upstream = node.grad
        parents = node.parents
        if not parents or upstream is None:
            yield Step(node, upstream, ())  # an input or a constant: nothing to pass back
            continue
        contributions = node.local_backward(upstream)  # multiply: upstream × local partial
        if len(contributions) != len(parents):
            raise ValueError(
                f"the local rule of {node.op!r} gave {len(contributions)} contributions for "
                f"{len(parents)} parents; it must give one per parent"
            )
        passed = []
        for index, parent in enumerate(parents):
            contribution = contributions[index]
            if contribution is None:
                continue  # a constant: nobody needs its gradient
            before = parent.grad  # the running sum: None until the first use passes back
            after = contribution if before is None else before + contribution  # sum at joins
            if isinstance(after, float) and not isfinite(after):  # past the largest float
                raise gradient_error(order, node, index, upstream, contribution, before)
            parent.grad = after
            passed.append(Contribution(parent, index, contribution, before, after))
        yield Step(node, upstream, tuple(passed))


def backpropagate(root: Any, seed: Any, zero: Callable[[Any], Any] | None = None) -> list[Any]:
    """Fill ``grad`` on every node of the graph below ``root`` with dL/d(node), L = ``root``.

    Runs :func:`backward_steps` to the end. ``seed`` is dL/d(root); ``zero(node)``, if given,
    is the gradient of a node that no contribution reached (an engine's constant, say);
    without it such a node keeps ``None``. Gradients start from scratch each time, so
    calling this twice gives the same result instead of silently doubling. Returns the
    topological order it used.
    """
    if zero is not None and not callable(zero):
        raise TypeError(f"backpropagate: zero must be a function of a node, got {zero!r}")
    order = [step.node for step in backward_steps(root, seed)]  # run every step
    if zero is not None:
        for node in order:
            if node.grad is None:
                node.grad = zero(node)
    order.reverse()
    return order


def gradient_error(
    order: list[Any], node: Any, index: int, upstream: float, contribution: float, before: Any
) -> ArithmeticError | ValueError:
    """The error for a scalar gradient that stopped being finite at ``node``'s edge into its
    parent number ``index``; every ``grad`` of ``order`` is reset to ``None`` first, so no
    half-done backward pass is left behind."""
    for every in order:
        every.grad = None
    parent = node.parents[index]
    partials = getattr(node, "partials", None)
    partial = ""
    if isinstance(partials, tuple | list) and index < len(partials):
        partial = f", times the local partial, {format_number(partials[index])},"
    edge = f"on its edge into {_describe(node)}"
    if not isfinite(contribution):
        head = f"backward: the gradient of {_describe(parent)} is {contribution} {edge}"
        if isnan(contribution):
            return ValueError(
                f"{head}: the upstream gradient {format_number(upstream)}{partial} is not a "
                "number (NaN)"
            )
        return OverflowError(
            f"{head}: the upstream gradient there, {format_number(upstream)}{partial} passes "
            f"the largest float ({_LARGEST}); scale the computation down"
        )
    total = before + contribution
    head = f"backward: the gradient of {_describe(parent)} overflows to {total}"
    if isnan(total):
        return ValueError(f"{head} where its uses add up (sum at joins): not a number (NaN)")
    return OverflowError(
        f"{head} where its uses add up (sum at joins): {format_number(before)} so far plus "
        f"{format_number(contribution)} {edge} passes the largest float ({_LARGEST}); scale "
        "the computation down"
    )
