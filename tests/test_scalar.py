"""Tests of course_lib.scalar.Value: every op against central differences in float64."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.check import central_difference, gradient_check
from course_lib.graph import topological_order
from course_lib.scalar import Value

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.1, max_value=5.0)

UNARY = {
    "neg": (lambda x: -x, finite),
    "exp": (lambda x: x.exp(), finite),
    "log": (lambda x: x.log(), positive),
    "tanh": (lambda x: x.tanh(), finite),
    "sigmoid": (lambda x: x.sigmoid(), finite),
    "square": (lambda x: x**2, finite),
    "cube": (lambda x: x**3, finite),
    "inverse": (lambda x: x**-1, positive),
    "sqrt": (lambda x: x**0.5, positive),
    "relu": (lambda x: x.relu(), finite.filter(lambda v: abs(v) > 1e-3)),
}

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "radd": lambda x, y: 2.5 + x * y,
    "rsub": lambda x, y: 2.5 - x * y,
    "rmul": lambda x, y: 2.5 * x + y,
    "rdiv": lambda x, y: 2.5 / y + x,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unary_ops_match_finite_differences(name, data):
    f, strategy = UNARY[name]
    x = data.draw(strategy)
    report = gradient_check(f, x)
    assert report.ok, report


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=40, deadline=None)
@given(x=finite, y=finite.filter(lambda v: abs(v) > 0.1))
def test_binary_ops_match_finite_differences(name, x, y):
    report = gradient_check(BINARY[name], x, y)
    assert report.ok, report


def test_the_five_node_graph_of_notebook_01_by_hand():
    # f = (x + y) * z at x=-2, y=5, z=-4: q = 3, f = -12, df/dx = df/dy = z, df/dz = q.
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad, f.grad) == (-4.0, -4.0, 3.0, -4.0, 1.0)


def test_node_used_twice_gets_the_sum_of_its_paths():
    x, y, z = Value(3.0), Value(-2.0), Value(0.5)
    f = (x * y) * (x + z)
    f.backward()
    # Path through a = x*y: y * (x + z); path through b = x + z: x * y.
    assert x.grad == pytest.approx(-2.0 * 3.5 + 3.0 * -2.0)
    g = x * x
    g.backward()
    assert x.grad == 6.0


def test_backward_twice_gives_the_same_gradients():
    x, y = Value(1.5), Value(-0.5)
    f = (x * y + x).tanh() * x
    f.backward()
    first = (x.grad, y.grad)
    f.backward()
    assert (x.grad, y.grad) == first


def test_gradients_are_none_before_backward():
    x = Value(2.0)
    f = x * 3
    assert x.grad is None and f.grad is None
    assert "not computed yet" in repr(f)


def test_parents_are_ordered_and_ops_named():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    out = y * x
    assert out.parents == (y, x)
    assert out.op == "*"
    assert out.partials == (1.0, 2.0)
    assert (x**2).op == "**2" and (x**-1).op == "**-1" and (x**0.5).op == "**0.5"
    assert [n.op for n in topological_order((x + y).exp())] == ["", "", "+", "exp"]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_random_expressions_with_shared_subexpressions(seed):
    """Random graphs in which earlier nodes are reused many times (fan-out everywhere)."""
    rng = random.Random(seed)
    n_inputs = rng.randint(1, 4)
    point = [rng.uniform(-1.5, 1.5) for _ in range(n_inputs)]

    def f(*inputs):
        nodes = list(inputs)
        rng_local = random.Random(seed)
        for _ in range(rng_local.randint(1, 12)):
            a, b = rng_local.choice(nodes), rng_local.choice(nodes)
            op = rng_local.randrange(6)
            if op == 0:
                nodes.append(a + b)
            elif op == 1:
                nodes.append(a * b)
            elif op == 2:
                nodes.append(a.tanh())
            elif op == 3:
                nodes.append(a.sigmoid() - b)
            elif op == 4:
                nodes.append((a * 0.5).exp())
            else:
                nodes.append(a / (b * b + 1.0))
        return nodes[-1] + sum(nodes[:-1], Value(0.0)) * 0.1

    report = gradient_check(f, *point)
    assert report.ok, report


def test_million_node_chain_backpropagates_without_recursion_error():
    x = Value(0.3)
    out = x
    for _ in range(1_000_000):
        out = -out
    out.backward()
    assert out.data == pytest.approx(0.3)
    assert x.grad == 1.0  # an even number of negations


def test_clear_errors():
    x = Value(-1.0, "x")
    with pytest.raises(ValueError, match="log needs a positive input.*x = -1.0"):
        x.log()
    with pytest.raises(ValueError, match="log needs a positive input"):
        Value(0.0).log()
    with pytest.raises(TypeError, match="plain number as the exponent"):
        x ** Value(2.0)
    with pytest.raises(TypeError, match="Value exponent"):
        2.0**x
    with pytest.raises(ZeroDivisionError, match="divisor"):
        x / 0
    with pytest.raises(ValueError, match="negative base"):
        x**0.5
    with pytest.raises(OverflowError, match="too large"):
        Value(1000.0).exp()
    with pytest.raises(TypeError, match="real number"):
        Value("3")
    with pytest.raises(ValueError, match="finite"):
        Value(math.nan)
    with pytest.raises(TypeError, match="cannot combine"):
        x + "1"


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(800.0).sigmoid().data == 1.0
    assert Value(-800.0).sigmoid().data == 0.0


def test_central_difference_of_a_known_derivative():
    assert central_difference(lambda x: x.exp(), [0.0], 0) == pytest.approx(1.0, abs=1e-9)
