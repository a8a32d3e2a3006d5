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

    Iterative depth-first search with an explicit stack (no recursion), so a chain of a
    million nodes needs no deep Python call stack. A node with parents is seen twice: when
    first popped it is *opened* and pushed back under its parents; when popped again, all its
    parents are placed, so it is *placed* (appended) too. An input (no parents) is placed the
    first time it is popped. Parents are visited in their stored order, so the same graph
    always gives the same order.
    """
    order: list[Any] = []
    opened: set[Any] = set()
    placed: set[Any] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in placed:
            continue  # a second copy of a node already placed
        parents = node.parents
        if parents and node not in opened:
            opened.add(node)
            stack.append(node)
            for parent in reversed(parents):
                if parent not in placed:
                    stack.append(parent)
            continue
        placed.add(node)
        order.append(node)
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
        parents = node.parents
        if not parents:
            continue
        contributions = node.local_backward(node.grad)
        for parent, contribution in zip(parents, contributions, strict=True):
            if contribution is not None:
                parent.grad = parent.grad + contribution  # sum at joins: gradients add only here
    return order
