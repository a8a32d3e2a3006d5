"""What a learner's wrong gradients show: the slip, named from their own graph.

After a learner's ``backward()`` has run on a graph of their own engine's nodes (each holding
``data``, ``grad``, ``parents`` and ``partials``), every node's ``grad`` should be the sum of what
its consumers pass back: each consumer's finished gradient times its local partial for that
node. :func:`backward_slip` compares every node with that sum, on the learner's graph itself, so
the slip is found whatever order their backward took, and names it:

* no seed (every gradient still 0), a seed of the output's value, a backward that zeroes the
  gradients as it goes, or nothing flowing back at all;
* ``=`` where ``+=`` belongs: a node used several times keeps the one contribution written last
  (a node used twice by the same consumer, as a in b = a + a, too). A node with one consumer
  cannot lose a contribution to ``=``, and a node whose gradient is a true sum of several shows
  the engine adds;
* a node visited before all of its consumers: a consumer passed its gradient on before it was
  complete (the mark of a walk in the wrong direction, or breadth first);
* contributions not multiplied by the local partial, or multiplied by the parent's own value;
* contributions subtracted instead of added, the local partials added without the upstream,
  or added to it where they multiply it, or multiplied by the consumer's value where its
  gradient (the upstream) belongs;
* a contribution added twice (a node listed twice in the order).

Where one graph cannot tell two slips apart, the sentence says both. Used by
:mod:`course_lib.teaching.engine_check`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from course_lib.teaching.code_exercise import NamedMistake

__all__ = [
    "NOTHING_FLOWED",
    "NO_SEED",
    "SEED_IS_VALUE",
    "backward_slip",
    "is_finite_number",
    "learner_graph",
    "shown_briefly",
]

# Two gradients "agree" when they differ by float64 rounding of a different order of sums.
RTOL, ATOL = 1e-9, 1e-12


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


# ---- reading the learner's nodes ---------------------------------------------------------------


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a plain finite real number (not a bool, not a node)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def shown_briefly(value: Any) -> str:
    """``repr(value)`` cut short for a message; a broken ``__repr__`` gives the type's name."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001  (a broken __repr__ of the learner's must not stop us)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def learner_graph(root: Any) -> list[Any]:
    """Every node the learner's ``root`` depends on (through ``parents``), each once, in a
    topological order (inputs first); without recursion."""
    order: list[Any] = []
    placed: set[int] = set()
    waiting: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in placed:
            continue
        if id(node) in waiting:
            placed.add(id(node))
            order.append(node)
            continue
        waiting.add(id(node))
        stack.append(node)
        parents = getattr(node, "parents", ())
        if not isinstance(parents, Sequence):
            raise NamedMistake(
                f"a node holds parents = {shown_briefly(parents)}: parents is a tuple of nodes"
            )
        for parent in reversed(parents):
            if id(parent) not in placed:
                stack.append(parent)
    return order


# ---- the sentences -----------------------------------------------------------------------------

NO_SEED = (
    "every gradient is still 0 after backward(), the output's own too: nothing seeded the "
    "backward pass. Before anything flows back, the output needs its own gradient, dL/dL: "
    "look at how your backward starts, before the walk"
)
SEED_IS_VALUE = (
    "the output's own gradient after backward() is its value, not dL/dL: the seed of the "
    "backward pass is the derivative of the output with respect to itself. Look at the line "
    "of your backward that sets the output's gradient"
)
NOTHING_FLOWED = (
    "only the output's own gradient is set; every other gradient is still 0: nothing flowed "
    "back. Look at where your backward sets the seed (before the walk, or after it?), at what "
    "it walks over, and at whose gradient each contribution starts from: the node's own "
    "(upstream), not the parent's, which is still 0"
)


def _overwritten(name: str, uses: int) -> str:
    return (
        f"fan-out gradients lost: {name} is used {uses} times, and its gradient holds only the "
        "contribution of one use instead of the sum of all of them. That is `=` where `+=` "
        "belongs: look at the line of your backward that writes into a parent's gradient"
    )


def _overwritten_or_early(name: str) -> str:
    return (
        f"{name} is used several times, and its gradient is 0, the contribution of one use, "
        "instead of the sum of all of them. Either that is `=` where `+=` belongs (look at the "
        "line of your backward that writes into a parent's gradient), or your backward visits "
        "a node before all of its consumers (look at the order it walks the nodes)"
    )


def _overwritten_or_part_summed(name: str, uses: int) -> str:
    return (
        f"{name} is used {uses} times, and its gradient is the contribution of one use, which "
        "on this graph is also the sum of only some of them, instead of the sum of all. Either "
        "that is `=` where `+=` belongs (look at the line of your backward that writes into a "
        "parent's gradient), or your backward visits a node before all of its consumers have "
        "added into it (look at the order it walks the nodes)"
    )


def _deduplicated(name: str) -> str:
    return (
        f"{name} is both inputs of one node (as a is in b = a + a), and its gradient holds "
        "only one of the two contributions: look at how your backward goes through a node's "
        "parents and partials (a set, or a dict keyed by the parent, keeps a node once), and "
        "at the line that writes into a parent's gradient (`=` where `+=` belongs?)"
    )


def _early(name: str, consumer: str = "") -> str:
    who = (
        f"{consumer} passed its gradient on to {name} before it was complete"
        if consumer
        else f"one of {name}'s consumers passed its gradient on before it was complete"
    )
    return (
        f"{name}'s gradient is not what its consumers pass back with their finished gradients: "
        f"{who}. Your backward visits a node before all of its consumers have added into it: "
        "look at the order in which your backward walks the nodes (from which end?) and at "
        "your topological sort"
    )


def _unmultiplied(name: str) -> str:
    return (
        f"{name}'s gradient is the sum of its consumers' gradients, not multiplied by the "
        "local partials: each contribution is upstream × local partial. Look at what your "
        "backward adds into a parent's gradient"
    )


def _by_value(name: str) -> str:
    return (
        f"{name}'s gradient is its consumers' gradients times its own value, where the local "
        "partial belongs: the partials are stored on the consumer, one per parent. Look at "
        "what your backward multiplies by"
    )


def _subtracted(name: str) -> str:
    return (
        f"{name}'s gradient is minus the sum of what its consumers pass back: the "
        "contributions are subtracted where they add up (sum at joins, with +). Look at the "
        "line of your backward that adds into a parent's gradient"
    )


def _no_upstream(name: str) -> str:
    return (
        f"{name}'s gradient is the sum of its consumers' local partials alone: each "
        "contribution is upstream × local partial, and the upstream (the consumer's own "
        "gradient) is missing. Look at what your backward adds into a parent's gradient"
    )


def _plus_partial(name: str) -> str:
    return (
        f"{name}'s gradient is the sum of its consumers' gradients plus their local partials: "
        "each contribution is upstream × local partial, multiplied, not added. Look at what "
        "your backward adds into a parent's gradient"
    )


def _value_as_upstream(name: str) -> str:
    return (
        f"{name}'s gradient is the sum of its consumers' values (.data) times their local "
        "partials: each contribution is upstream × local partial, and the upstream is the "
        "consumer's gradient, not its value. Look at what your backward multiplies the local "
        "partial by"
    )


def _counted_twice(name: str, times: int) -> str:
    return (
        f"{name}'s gradient is {times} times the sum of what its consumers pass back: a "
        "contribution was added more than once. Does your topological order list a node "
        "twice, or does your backward go through a node's parents twice?"
    )


def backward_slip(root: Any, names: dict[int, str]) -> str:
    """The mistake the learner's gradients show on their graph of ``root`` after backward(),
    read off the graph itself (each node against what its consumers pass back), or ""."""
    graph = learner_graph(root)

    def name(node: Any) -> str:
        if id(node) in names:
            return names[id(node)]
        if not getattr(node, "parents", ()):
            return f"the constant {node.data:g}"
        return f"an intermediate node (value {node.data:.4g})"

    for node in graph:
        if not is_finite_number(node.grad):
            raise NamedMistake(
                f"after backward(), {name(node)} has grad = {shown_briefly(node.grad)}: a "
                "gradient is a plain, finite number"
                + (" (a node's .data, not the node)" if hasattr(node.grad, "data") else "")
            )
    if all(node.grad == 0 for node in graph):
        return NO_SEED
    if not _close(root.grad, 1.0):
        if _close(root.grad, root.data):
            return SEED_IS_VALUE
        if root.grad == 0:
            return (
                "after backward(), the output's own gradient is 0, though gradients reached "
                "other nodes: does your backward set a node's gradient back to 0 after passing "
                "it on? Every node keeps d output / d node when backward() is done"
            )
        return (
            f"after backward(), the output's own gradient is {root.grad:g}; what is dL/dL? "
            "Look at how your backward seeds the output"
        )
    terms: dict[int, list[tuple[Any, float]]] = {}
    local: dict[int, list[float]] = {}  # the local partials behind terms, in the same order
    for consumer in graph:
        for parent, partial in zip(consumer.parents, consumer.partials, strict=False):
            terms.setdefault(id(parent), []).append((consumer, consumer.grad * partial))
            local.setdefault(id(parent), []).append(partial)

    def _edges(node: Any) -> list[tuple[tuple[Any, float], float]]:
        """Each use of ``node``: (its consumer and contribution, the local partial)."""
        return list(zip(terms[id(node)], local[id(node)], strict=True))

    wrong = []  # consumers first: the slip nearest the output is reported
    for node in reversed(graph):
        passed = terms.get(id(node), [])
        if node is not root and not _close(node.grad, math.fsum(t for _, t in passed)):
            wrong.append((node, passed))
    if not wrong:
        return ""
    if all(node.grad == 0 for node in graph if node is not root):
        return NOTHING_FLOWED
    wrong.sort(key=lambda item: id(item[0]) not in names)  # a named node before a constant
    fits = {slip: all(test(n, p) for n, p in wrong) for slip, test in _tests(graph).items()}
    # These two slips change every node below the output, so every node must fit them (a
    # walk in the wrong order can fit them by chance at the nodes it gets wrong).
    used = [n for n in graph if n is not root and terms.get(id(n))]
    fits["subtracted"] = all(
        _close(n.grad, -math.fsum(t for _, t in terms[id(n)])) for n in used
    ) and any(n.grad != 0 for n in used)
    fits["no upstream"] = all(_close(n.grad, math.fsum(local[id(n)])) for n in used) and any(
        not _close(n.grad, math.fsum(t for _, t in terms[id(n)])) for n in used
    )
    fits["plus"] = all(
        _close(n.grad, math.fsum(c.grad + partial for (c, _), partial in _edges(n))) for n in used
    ) and any(not _close(n.grad, math.fsum(t for _, t in terms[id(n)])) for n in used)
    fits["value as upstream"] = all(
        _close(n.grad, math.fsum(c.data * partial for (c, _), partial in _edges(n))) for n in used
    ) and any(not _close(n.grad, math.fsum(t for _, t in terms[id(n)])) for n in used)
    fits["overwritten"] = fits["overwritten"] and not _adds_somewhere(graph, terms, root)
    for slip, factor in (
        ("unmultiplied", lambda n, c, t: c.grad),
        ("by value", lambda n, c, t: c.grad * n.data),
    ):
        # Refuted by a node whose gradient is right where that slip would have changed it.
        fits[slip] = fits[slip] and not any(
            node is not root
            and passed
            and _close(node.grad, math.fsum(t for _, t in passed))
            and not _close(node.grad, math.fsum(factor(node, c, t) for c, t in passed))
            for node in graph
            for passed in [terms.get(id(node), [])]
        )
    node, passed = wrong[0]
    slips = (
        "overwritten", "unmultiplied", "by value", "twice", "subtracted", "no upstream", "plus",
        "value as upstream",
    )  # fmt: skip
    named = [slip for slip in slips if fits[slip]]
    if len(named) > 1:  # this graph cannot tell them apart: say both
        texts = {
            "overwritten": "`=` where `+=` belongs (fan-out gradients lost)",
            "unmultiplied": "contributions not multiplied by the local partials",
            "by value": "contributions multiplied by the parent's own value",
            "twice": "a contribution added twice",
            "subtracted": "contributions subtracted instead of added",
            "no upstream": "the local partials added without the upstream gradient",
            "plus": "the upstream gradient and the local partial added, not multiplied",
            "value as upstream": "the consumer's value (.data) used where its gradient belongs",
        }
        return (
            f"{name(node)}'s gradient is not the sum of what its consumers pass back; on this "
            f"graph that fits {' and fits '.join(texts[s] for s in named)}. Look at the line of "
            "your backward that adds into a parent's gradient"
        )
    if named == ["overwritten"]:
        if fits["overwritten by zero"]:
            return _overwritten_or_early(name(node))
        same = all(c is passed[0][0] for c, _ in passed)
        if same:
            return _deduplicated(name(node))
        if _part_summed(node.grad, [t for _, t in passed]):  # an early visit fits it as well
            return _overwritten_or_part_summed(name(node), len(passed))
        return _overwritten(name(node), len(passed))
    if named == ["unmultiplied"]:
        return _unmultiplied(name(node))
    if named == ["by value"]:
        return _by_value(name(node))
    if named == ["twice"]:
        return _counted_twice(name(node), round(node.grad / math.fsum(t for _, t in passed)))
    if named == ["subtracted"]:
        return _subtracted(name(node))
    if named == ["no upstream"]:
        return _no_upstream(name(node))
    if named == ["plus"]:
        return _plus_partial(name(node))
    if named == ["value as upstream"]:
        return _value_as_upstream(name(node))
    single = [(n, p) for n, p in wrong if len(p) == 1]
    node, passed = (single or wrong)[0]
    return _early(name(node), name(passed[0][0]) if len(passed) == 1 else "")


def _part_summed(grad: float, contributions: list[float]) -> bool:
    """Whether ``grad`` is the sum of two or more, but not all, of ``contributions``: what a
    node visited before all of its consumers holds. (Contributions that cancel, as in c − c,
    can make one use's contribution such a sum too.) Only checked for up to 12 uses."""
    count = len(contributions)
    if not 3 <= count <= 12:
        return False
    return any(
        _close(grad, math.fsum(contributions[i] for i in range(count) if mask >> i & 1))
        for mask in range(1, 2**count - 1)
        if mask.bit_count() >= 2
    )


def _adds_somewhere(graph: list[Any], terms: dict[int, list[tuple[Any, float]]], root: Any) -> bool:
    """Whether some node's gradient is the sum of two or more contributions that differ from
    that sum: there the engine added, so it does not overwrite."""
    for node in graph:
        passed = [t for _, t in terms.get(id(node), [])]
        if node is root or len(passed) < 2:
            continue
        total = math.fsum(passed)
        if _close(node.grad, total) and not any(_close(total, t) for t in passed):
            return True
    return False


def _tests(graph: list[Any]) -> dict[str, Callable[[Any, list[tuple[Any, float]]], bool]]:
    """For each slip, a test whether it explains a node's wrong gradient, given what each of
    its consumers passes back with its finished gradient (``(consumer, contribution)``)."""
    small = len(graph) <= 500
    ancestors: dict[int, set[int]] = {}

    def above(node: Any) -> set[int]:
        """Every node ``node`` depends on (its parents, theirs, ...)."""
        if id(node) not in ancestors:
            seen: set[int] = set()
            stack = list(node.parents)
            while stack:
                parent = stack.pop()
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.extend(parent.parents)
            ancestors[id(node)] = seen
        return ancestors[id(node)]

    def last_written(node: Any, passed: list[tuple[Any, float]]) -> list[float]:
        # Walking backwards in a topological order, a consumer that depends on another consumer
        # of the same node comes before that one: it can never be the last to write.
        consumers = [c for c, _ in passed]
        return [
            t
            for c, t in passed
            if not small or not any(o is not c and id(o) in above(c) for o in consumers)
        ]

    def overwritten(node: Any, passed: list[tuple[Any, float]]) -> bool:
        return len(passed) >= 2 and any(_close(node.grad, t) for t in last_written(node, passed))

    def by_zero(node: Any, passed: list[tuple[Any, float]]) -> bool:
        return not any(_close(node.grad, t) for t in last_written(node, passed) if t != 0)

    def twice(node: Any, passed: list[tuple[Any, float]]) -> bool:
        want = math.fsum(t for _, t in passed)
        if want == 0 or node.grad == 0:
            return False
        ratio = node.grad / want
        return 1.5 < ratio < 10.5 and _close(ratio, round(ratio))

    return {
        "overwritten": overwritten,
        "overwritten by zero": lambda n, p: overwritten(n, p) and by_zero(n, p),
        "unmultiplied": lambda n, p: (
            n.grad != 0 and _close(n.grad, math.fsum(c.grad for c, _ in p))
        ),
        "by value": lambda n, p: (
            n.grad != 0 and _close(n.grad, math.fsum(c.grad * n.data for c, _ in p))
        ),
        "twice": twice,
    }
