"""The graph algorithm shared by every engine in the course.

A *node* is any object with these attributes (both :class:`course_lib.scalar.Value` and
:class:`course_lib.tensor.Tensor` have them):

``data``
    the value computed by the forward pass;
``grad``
    dL/d(node) after ``backward()``; ``None`` before (meaning "not computed yet");
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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


def backpropagate(root: Any, seed: Any, zero: Callable[[Any], Any]) -> list[Any]:
    """Fill ``grad`` on every node of the graph below ``root`` with dL/d(node), L = ``root``.

    ``seed`` is dL/d(root) (1 for a scalar loss); ``zero(node)`` gives the additive zero for
    that node's gradient (or ``None`` for a node that needs none). Gradients are reset
    first, so calling this twice gives the same result instead of silently doubling.
    Returns the topological order it used.
    """
    order = topological_order(root)
    for node in order:
        node.grad = zero(node)
    root.grad = seed
    for node in reversed(order):
        # Every consumer of `node` comes later in `order`, so node.grad is complete here:
        # it is the upstream gradient for this node's own local rule.
        if not node.parents:
            continue  # an input or a constant: no local rule, nothing to pass back
        contributions = node.local_backward(node.grad)
        for parent, contribution in zip(node.parents, contributions, strict=True):
            if contribution is not None:
                parent.grad = parent.grad + contribution  # sum at joins: gradients add only here
    return order
