"""Tests of course_lib.graph: the topological order and the backward pass, on any node shape.

Notebook 02 prints ``topological_order`` and the "sum at joins" line of ``backpropagate`` for
learners to read, so these tests pin down what the printed code promises: the order is the
post-order of a depth-first search over the parents in their stored order (written here the
recursive way, as its definition), every node comes after its parents, each node once, and the
gradient of a value used several times is the sum over its uses.
"""

from __future__ import annotations

import inspect
import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.graph import backpropagate, topological_order
from course_lib.scalar import Value


@dataclass(eq=False)
class Node:
    """The smallest node shape the graph algorithm needs: parents, a local rule, grad."""

    name: str
    parents: tuple[Node, ...] = ()
    weights: tuple[float, ...] = ()
    grad: float | None = None
    data: float = 0.0
    op: str = ""
    log: list[str] = field(default_factory=list)

    def local_backward(self, upstream: float) -> list[float]:
        return [upstream * w for w in self.weights]


def random_dag(seed: int, size: int) -> list[Node]:
    """``size`` nodes; node i has 0 to 3 parents among nodes 0..i-1 (repeats allowed)."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    for i in range(size):
        k = rng.randint(0, min(3, i)) if i else 0
        parents = tuple(rng.choice(nodes) for _ in range(k))
        weights = tuple(float(rng.randint(-3, 3)) for _ in parents)
        nodes.append(Node(f"n{i}", parents, weights))
    return nodes


def postorder_by_recursion(root: Node) -> list[Node]:
    """The definition: visit the parents in order, then the node; skip what is placed."""
    order: list[Node] = []
    placed: set[int] = set()

    def visit(node: Node) -> None:
        if id(node) in placed:
            return
        for parent in node.parents:
            visit(parent)
        placed.add(id(node))
        order.append(node)

    visit(root)
    return order


def ancestors(root: Node) -> set[int]:
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node.parents)
    return seen


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(1, 40))
def test_order_is_the_depth_first_post_order_and_a_topological_order(seed: int, size: int):
    nodes = random_dag(seed, size)
    root = nodes[-1]
    order = topological_order(root)
    assert order == postorder_by_recursion(root)
    assert order[-1] is root
    assert len({id(n) for n in order}) == len(order)  # each node once
    assert {id(n) for n in order} == ancestors(root)  # exactly the nodes root depends on
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(1, 30))
def test_each_gradient_is_the_sum_over_all_paths(seed: int, size: int):
    """dL/d(node) = sum over every path node -> root of the product of its edge weights."""
    nodes = random_dag(seed, size)
    root = nodes[-1]
    backpropagate(root, 1.0, lambda node: 0.0)
    consumers: dict[int, list[tuple[Node, float]]] = {id(n): [] for n in nodes}
    for node in nodes:
        for parent, weight in zip(node.parents, node.weights, strict=True):
            consumers[id(parent)].append((node, weight))

    def paths(node: Node) -> float:
        if node is root:
            return 1.0
        return sum(weight * paths(consumer) for consumer, weight in consumers[id(node)])

    reached = ancestors(root)
    for node in nodes:
        if id(node) in reached:
            assert node.grad == pytest.approx(paths(node))
        else:
            assert node.grad is None  # not part of this graph: untouched


def test_the_order_of_notebook_02():
    x, y, z = Value(3.0, "x"), Value(-2.0, "y"), Value(1.0, "z")
    a = (x * y).named("a")
    b = (x + z).named("b")
    f = (a * b).named("f")
    assert [n.label for n in topological_order(f)] == ["x", "y", "a", "z", "b", "f"]


def test_a_long_chain_needs_no_recursion():
    node = Node("n0")
    for i in range(1, 200_000):
        node = Node(f"n{i}", (node,), (1.0,))
    order = topological_order(node)
    assert len(order) == 200_000 and order[0].name == "n0" and order[-1] is node


def test_backward_twice_resets_instead_of_doubling():
    x = Node("x")
    f = Node("f", (x, x), (2.0, 3.0))
    backpropagate(f, 1.0, lambda node: 0.0)
    backpropagate(f, 1.0, lambda node: 0.0)
    assert x.grad == 5.0


def test_the_sum_at_joins_is_one_line_of_backpropagate():
    """Notebook 02 prints this line as 'the only place gradients are ever added'."""
    lines = [line.strip() for line in inspect.getsource(backpropagate).splitlines()]
    adding = [line for line in lines if "+" in line and "grad" in line and "=" in line]
    assert adding == [
        "parent.grad = parent.grad + contribution  # sum at joins: gradients add only here"
    ]
