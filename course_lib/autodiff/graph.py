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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Contribution", "Step", "backpropagate", "backward_steps", "topological_order"]


def topological_order(root: Any) -> list[Any]:
    """Every node that ``root`` depends on, each listed after all of its parents.

    A depth-first search that visits each node twice. The first visit puts the node back on
    the stack *under* its parents, so it comes up again only after all of them are placed;
    the second visit places it. An explicit stack instead of recursion means a chain of a
    million nodes needs no deep Python call stack. Parents are visited in their stored order,
    so the same graph always gives the same order.
    """
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
        for parent in reversed(node.parents):  # reversed: the first parent is placed first
            if parent not in placed:
                stack.append(parent)
    return order


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
    once they are all done. The first step is the output's own: upstream = ``seed``.
    """
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
    order = [step.node for step in backward_steps(root, seed)]  # run every step
    if zero is not None:
        for node in order:
            if node.grad is None:
                node.grad = zero(node)
    order.reverse()
    return order
