"""Tests of course_lib.autodiff.graph: the topological order and the backward pass, on any node
shape.

Notebook 02 prints ``topological_order`` and the "sum at joins" line of ``backward_steps`` for
learners to read, so these tests pin down what the printed code promises: the order is the
post-order of a depth-first search over the parents in their stored order (written here the
recursive way, as its definition), every node comes after its parents, each node once, and the
gradient of a value used several times is the sum over its uses. ``backward_steps`` is the one
backward pass: ``backpropagate`` drains it, and its steps record every running sum.
"""

from __future__ import annotations

import inspect
import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.autodiff.graph import (
    Contribution,
    Step,
    backpropagate,
    backward_steps,
    topological_order,
)
from course_lib.autodiff.scalar import Value


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


SUM_LINE = "after = contribution if before is None else before + contribution  # sum at joins"


def test_the_sum_at_joins_is_one_line_of_backward_steps():
    """Notebook 02 prints this line as 'the only place gradients are ever added'."""
    lines = [line.strip() for line in inspect.getsource(backward_steps).splitlines()]
    assert [line for line in lines if "sum at joins" in line] == [SUM_LINE]
    adding = [line for line in lines if " + " in line and "#" not in line.split("+")[0]]
    assert adding == [SUM_LINE]
    # backpropagate adds nothing itself: it drains the generator
    assert " + " not in inspect.getsource(backpropagate).split('"""')[-1]


def test_no_running_sum_outside_graph_py():
    """The widgets show the engine's steps: no other module of course_lib adds gradients."""
    import pathlib

    import course_lib

    root = pathlib.Path(course_lib.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "graph.py":
            continue
        text = path.read_text("utf-8")
        assert "before + contribution" not in text, path
        assert "running[" not in text, path


def test_steps_record_the_running_sums_of_notebook_02():
    x, y, z = Value(3.0, "x"), Value(-2.0, "y"), Value(1.0, "z")
    a = (x * y).named("a")
    b = (x + z).named("b")
    f = (a * b).named("f")
    steps = list(backward_steps(f, 1.0))
    assert [s.node for s in steps] == list(reversed(topological_order(f)))
    assert steps[0] == Step(
        f, 1.0, (Contribution(a, 0, 4.0, None, 4.0), Contribution(b, 1, -6.0, None, -6.0))
    )
    into_x = [c for s in steps for c in s.contributions if c.parent is x]
    assert [(c.contribution, c.before, c.after) for c in into_x] == [
        (-6.0, None, -6.0),
        (-8.0, -6.0, -14.0),
    ]
    assert [s.upstream for s in steps] == [1.0, -6.0, -6.0, 4.0, 12.0, -14.0]
    assert all(s.contributions == () for s in steps if not s.node.parents)
    assert x.grad == -14.0 and f.grad == 1.0


def test_grads_are_running_sums_while_the_steps_run():
    x = Value(2.0, "x")
    f = (x * 3.0 + x * 4.0).named("f")
    steps = backward_steps(f, 1.0)
    assert next(steps).node is f
    assert x.grad is None  # reset: not computed yet
    seen = [x.grad for _ in steps]  # x's gradient after each further step
    assert x.grad == 7.0
    # f's own step passes nothing to x; x * 4 passes 4 (x's sum so far: one of its two
    # paths), the constant 4 nothing, then x * 3 brings the sum to 7
    assert seen == [4.0, 4.0, 7.0, 7.0, 7.0]


def test_a_node_used_twice_by_one_op_gets_both_contributions():
    x = Value(3.0, "x")
    square = x * x
    (step_square, step_x) = list(backward_steps(square, 1.0))
    assert [(c.index, c.before, c.after) for c in step_square.contributions] == [
        (0, None, 3.0),
        (1, 3.0, 6.0),
    ]
    assert step_x.upstream == 6.0 == x.grad


def test_backpropagate_equals_draining_the_steps():
    *_, f1 = _five()
    *_, f2 = _five()
    order = backpropagate(f1, 1.0)
    drained = [s.node for s in backward_steps(f2, 1.0)]
    assert [n.label for n in order] == [n.label for n in reversed(drained)]
    assert [n.grad for n in order] == [n.grad for n in reversed(drained)]


def test_zero_fills_nodes_no_contribution_reached():
    x = Node("x")
    c = Node("c")
    f = Node("f", (x, c), (1.0, 1.0))
    f.local_backward = lambda upstream: [upstream, None]  # c is a constant
    backpropagate(f, 1.0)
    assert x.grad == 1.0 and c.grad is None
    backpropagate(f, 1.0, zero=lambda node: 0.0)
    assert c.grad == 0.0


def test_the_steps_run_on_tensor_graphs_too():
    from course_lib.tensor import Tensor

    X = Tensor(np.arange(6.0).reshape(2, 3), label="X")
    w = Tensor(np.array([1.0, -1.0, 2.0]), label="w")
    out = (X * w).sum()
    steps = list(backward_steps(out, np.array(1.0)))
    into_w = [c for s in steps for c in s.contributions if c.parent is w]
    assert len(into_w) == 1 and into_w[0].before is None
    np.testing.assert_array_equal(into_w[0].after, X.data.sum(axis=0))  # summed over rows
    out2 = (X * w).sum()
    out2.backward()
    np.testing.assert_array_equal(w.grad, into_w[0].after)


def _five():
    x, y, z = Value(3.0, "x"), Value(-2.0, "y"), Value(1.0, "z")
    a = (x * y).named("a")
    b = (x + z).named("b")
    return x, y, z, a, b, (a * b).named("f")


def test_a_local_rule_with_the_wrong_number_of_contributions_is_named():
    x = Node("x")
    f = Node("f", (x, x), (1.0,), op="twice")  # one weight for two parents: a broken rule
    with pytest.raises(ValueError, match="local rule of 'twice' gave 1 contributions for 2"):
        backpropagate(f, 1.0)


# ---- bad graphs and bad seeds: a sentence each, never inf or NaN (issue 24) ----------------


def test_a_gradient_that_overflows_on_an_edge_is_refused_naming_the_node_and_edge():
    # x = Value(1e-300); y = x*1e154*1e154*1e154; y.backward() left x.grad = inf (issue 24)
    x = Value(1e-300, "x")
    y = x * 1e154 * 1e154 * 1e154
    with pytest.raises(OverflowError) as caught:
        y.backward()
    message = str(caught.value)
    assert message.startswith("backward: the gradient of x (= 1e-300) is inf on its edge into ")
    assert "the * node (= 1e-146)" in message  # the edge: x into x * 1e154
    assert "1e+308, times the local partial, 1e+154," in message
    assert all(node.grad is None for node in topological_order(y))  # nothing half done


def test_a_gradient_that_overflows_where_uses_add_up_is_refused():
    # the fan-out sum: each use passes back 1e308, finite; their sum at x is not
    x = Value(1e-300)
    y = x * 1e308 + x * 1e308
    with pytest.raises(OverflowError) as caught:
        y.backward()
    message = str(caught.value)
    assert message.startswith("backward: the gradient of the input 1e-300 overflows to inf")
    assert "where its uses add up (sum at joins): 1e+308 so far plus 1e+308" in message
    assert x.grad is None


def test_a_nan_contribution_is_a_value_error():
    x = Node("x", data=2.0)
    f = Node("f", (x,), (float("nan"),), op="odd")  # a rule poked to give NaN
    with pytest.raises(ValueError, match=r"^backward: the gradient of the input 2 is nan on its"):
        backpropagate(f, 1.0)


def test_gradients_just_inside_the_floats_still_flow():
    x = Value(1e-300)
    y = x * 1e154 * 1e154  # x's gradient is 1e308: large, but a float
    y.backward()
    assert x.grad == pytest.approx(1e308)


@pytest.mark.parametrize(
    ("seed", "error", "words"),
    [
        (None, TypeError, r"^backward: the seed dL/d\(root\) \(1.0 for a loss\) must be a number"),
        (float("nan"), ValueError, "must be a finite number, got nan"),
        (float("inf"), ValueError, "must be a finite number, got inf"),
        ("1", TypeError, "got the text '1'"),
        (10**400, ValueError, "too large for a float"),
        (np.array([1.0, np.nan]), ValueError, "must hold finite numbers"),
        (np.array(["a"]), TypeError, "must hold real numbers"),
    ],
    ids=["None", "nan", "inf", "text", "huge-int", "nan-array", "text-array"],
)
def test_a_seed_must_be_a_finite_number(seed, error, words):
    x = Value(2.0)
    with pytest.raises(error, match=words):
        backpropagate(x * 3.0, seed)
    assert x.grad is None  # nothing was computed


def test_numpy_numbers_are_seeds_too():
    x = Value(2.0)
    backpropagate(x * 3.0, np.int64(2))
    assert x.grad == 6.0 and type(x.grad) is float


@pytest.mark.parametrize("root", [5, None, "x", [Value(1.0)]])
def test_something_that_is_not_a_node_is_named(root):
    with pytest.raises(TypeError, match=r"^topological_order needs a node of a computation graph"):
        topological_order(root)
    with pytest.raises(TypeError, match=r"^backward needs a node of a computation graph"):
        list(backward_steps(root, 1.0))
    with pytest.raises(TypeError, match=r"^backward needs a node"):
        backpropagate(root, 1.0)


def test_a_parent_that_is_not_a_node_is_named():
    x = Value(1.0)
    y = x * 2.0
    y.parents = (x, 5)  # poked by hand
    with pytest.raises(TypeError, match=r"graph holds 5 \(int\) as a node's input"):
        topological_order(y)


def test_a_cycle_is_found_and_a_node_on_it_named():
    x = Value(1.0, "x")
    y = (x * 2.0).named("y")
    z = (y + 1.0).named("z")
    y.parents = (z, y.parents[1])  # y now depends on z, which depends on y
    with pytest.raises(ValueError, match=r"^topological_order: the graph has a cycle through z "):
        topological_order(z)
    with pytest.raises(ValueError, match="has a cycle"):
        z.backward()
    loop = Node("loop")
    loop.parents = (loop,)  # a node that is its own input
    with pytest.raises(ValueError, match="cycle through the input 0"):
        topological_order(loop)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(2, 30), data=st.data())
def test_any_edge_back_to_an_ancestor_is_a_cycle(seed: int, size: int, data):
    nodes = random_dag(seed, size)
    root = nodes[-1]
    reachable = [n for n in nodes if id(n) in ancestors(root)]
    low = data.draw(st.sampled_from(reachable))  # reachable from the root
    high = data.draw(st.sampled_from([n for n in reachable if id(low) in ancestors(n)]))
    topological_order(root)  # no cycle yet
    low.parents = (*low.parents, high)  # high reaches low; now low reaches high too
    with pytest.raises(ValueError, match="has a cycle"):
        topological_order(root)


def test_a_seed_has_the_outputs_shape():
    """backpropagate(x * 3.0, np.array([])) left x.grad = array([]) without a word; an array
    seed for a scalar graph, or a number for an array output, is named now."""
    from course_lib.tensor import Tensor

    x = Value(2.0)
    with pytest.raises(ValueError, match=r"the seed must have the output's shape \(\), got"):
        backpropagate(x * 3.0, np.array([]))
    backpropagate(x * 3.0, np.array(2.0))  # a 0-d array is the number it holds
    assert x.grad == 6.0 and type(x.grad) is float
    t = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"the output has shape \(2,\), so the seed must be"):
        backpropagate(t * 3.0, 1.0)
    with pytest.raises(ValueError, match=r"shape \(2,\), got shape \(3,\)"):
        backpropagate(t * 3.0, np.ones(3))


def test_zero_must_be_a_function():
    with pytest.raises(TypeError, match="zero must be a function of a node, got 5"):
        backpropagate(Value(2.0) * 3.0, 1.0, zero=5)


def test_an_empty_seed_without_an_output_to_match_is_refused() -> None:
    """check_seed(np.array([])) came back as the empty array (the re-probe of issue 24)."""
    from course_lib.autodiff.graph import check_seed

    with pytest.raises(ValueError, match="the seed dL/d\\(root\\) is an empty array"):
        check_seed(np.array([]))
    assert check_seed(np.array([1.0, 2.0])).shape == (2,)
