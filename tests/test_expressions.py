"""course_lib.teaching.expressions: random scalar expressions that any engine builds, whose
course_lib gradients agree with finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.autodiff.scalar import Value
from course_lib.checks import gradient_check
from course_lib.teaching.expressions import (
    OPS_USED,
    Expression,
    random_expression,
    reference_gradients,
)

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, inputs=st.integers(1, 4), steps=st.integers(2, 10))
def test_a_random_expression_has_a_fan_out_and_every_node_reaches_the_output(seed, inputs, steps):
    expression = random_expression(np.random.default_rng(seed), inputs, steps)
    uses = expression.uses()
    assert len(expression.inputs) == inputs and len(expression.steps) >= steps
    assert max(uses) >= 2  # some node feeds two or more later nodes
    assert all(u >= 1 for u in uses[:-1]) and uses[-1] == 0
    nodes = expression.build(Value)
    assert all(abs(n.data) <= 50 for n in nodes)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, inputs=st.integers(1, 3))
def test_reference_gradients_agree_with_finite_differences(seed, inputs):
    expression = random_expression(np.random.default_rng(seed), inputs, 6)
    _, grads = reference_gradients(expression)

    def f(*xs):
        return expression.build(Value, list(xs))[-1]

    report = gradient_check(f, *expression.inputs)
    assert report.ok, (expression.text(), report)
    assert np.allclose(report.backward, grads[:inputs])


def test_the_same_generator_state_gives_the_same_expression():
    a = random_expression(np.random.default_rng(11))
    b = random_expression(np.random.default_rng(11))
    assert a == b and a.text() == b.text()
    assert random_expression(np.random.default_rng(12)) != a


def test_an_expression_builds_with_any_engine_and_writes_itself_out():
    expression = Expression((2.0, -3.0), (("*", (0, 1)), ("+", (2, 0)), ("tanh", (3,))))
    assert expression.names == ["x", "y", "a", "b", "c"]
    assert expression.text() == "x = 2, y = -3; a = x·y; b = a + x; c = tanh(b)"
    assert expression.uses() == [2, 1, 1, 1, 0]
    nodes = expression.build(Value)
    assert [n.data for n in nodes[:4]] == [2.0, -3.0, -6.0, -4.0]
    assert expression.operands(1, nodes) == [nodes[2], nodes[0]]
    with_constant = Expression((1.5,), (("*", (0, 2.0)),))
    assert with_constant.build(float)[-1] == 3.0  # plain floats are an engine too
    assert set(OPS_USED) == {"+", "*", "-", "**2", "**3", "**-1", "tanh", "exp"}


@pytest.mark.parametrize(
    ("inputs", "steps", "error"),
    [
        ((), (("tanh", (0,)),), ValueError),
        ((1.0,), (), ValueError),
        ((1.0,), (("sin", (0,)),), ValueError),
        ((1.0,), (("+", (0,)),), ValueError),
        ((1.0,), (("tanh", (1,)),), ValueError),
        ((1.0,), (("+", (2.0, 0)),), ValueError),
        ((1.0,), (("+", (0, True)),), TypeError),
        ((1.0,), (("+", (0, "x")),), TypeError),
    ],
)
def test_a_malformed_expression_is_refused(inputs, steps, error):
    with pytest.raises(error):
        Expression(inputs, steps)


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 2, 6), TypeError), ((None, 0, 6), ValueError), ((None, 2, 1), ValueError)],
)
def test_random_expression_checks_its_arguments(args, error):
    rng, inputs, steps = args
    with pytest.raises(error):
        random_expression(rng if rng is not None else np.random.default_rng(0), inputs, steps)
