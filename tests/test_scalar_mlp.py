"""course_lib.network.scalar_mlp: micrograd's neuron, layer and MLP on a scalar engine, the mean
squared error and one step of gradient descent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.checks import gradient_check
from course_lib.network.scalar_mlp import (
    MLP,
    Layer,
    Neuron,
    mean_squared_error,
    training_step,
)


def test_a_neuron_is_tanh_of_b_plus_w_dot_x_and_lists_weights_then_bias():
    neuron = Neuron(3, np.random.default_rng(0))
    w = [p.data for p in neuron.w]
    assert all(-1 <= v <= 1 for v in w) and neuron.b.data == 0.0
    neuron.b.data = 0.3
    x = [0.5, -1.0, 2.0]
    assert neuron(x).data == pytest.approx(
        math.tanh(0.3 + sum(a * b for a, b in zip(w, x, strict=True)))
    )
    assert neuron.parameters() == [*neuron.w, neuron.b]


def test_a_layer_and_an_mlp_chain_their_parts():
    rng = np.random.default_rng(1)
    mlp = MLP(2, [3, 2, 1], rng)
    assert [len(layer.neurons) for layer in mlp.layers] == [3, 2, 1]
    assert [len(layer.neurons[0].w) for layer in mlp.layers] == [2, 3, 2]
    assert len(mlp.parameters()) == 3 * 3 + 2 * 4 + 1 * 3
    x = [0.2, -0.4]
    by_hand = x
    for layer in mlp.layers:
        by_hand = [n(by_hand) for n in layer.neurons]
    assert [o.data for o in mlp(x)] == [o.data for o in by_hand]
    layer = Layer(2, 4, rng)
    assert len(layer(x)) == 4 and len(layer.parameters()) == 12


def test_the_same_generator_state_gives_the_same_weights():
    a = MLP(2, [4, 1], np.random.default_rng(5))
    b = MLP(2, [4, 1], np.random.default_rng(5))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def _model_with(nodes):
    """An MLP 2 → 2 → 1 whose weights and biases are the given nodes, in parameters() order."""
    model = MLP(2, [2, 1], np.random.default_rng(0))
    given = iter(nodes)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w = [next(given) for _ in neuron.w]
            neuron.b = next(given)
    return model


@settings(max_examples=20, deadline=None)
@given(
    weights=st.lists(st.floats(-1, 1), min_size=9, max_size=9),
    x=st.lists(st.floats(-2, 2), min_size=2, max_size=2),
)
def test_the_loss_gradients_agree_with_finite_differences(weights, x):
    def loss(*nodes):
        return mean_squared_error(_model_with(nodes), [x, [x[1], x[0]]], [1.0, -1.0])

    report = gradient_check(loss, *weights)
    assert report.ok, report


def test_a_training_step_resets_steps_against_the_gradient_and_returns_the_loss():
    X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]
    y = [1.0, -1.0, 1.0]
    mlp = MLP(2, [3, 1], np.random.default_rng(2))
    params = mlp.parameters()
    for p in params:
        p.grad = 123.0  # stale: the step must not use it
    before = [p.data for p in params]
    loss = training_step(mlp, X, y, 0.1)
    assert isinstance(loss, float)
    fresh = MLP(2, [3, 1], np.random.default_rng(2))
    fresh_loss = mean_squared_error(fresh, X, y)
    fresh_loss.backward()
    assert loss == fresh_loss.data
    for p, b, q in zip(params, before, fresh.parameters(), strict=True):
        assert p.data == pytest.approx(b - 0.1 * q.grad)
    losses = [training_step(mlp, X, y, 0.1) for _ in range(30)]
    assert losses[-1] < losses[0]


class Accumulating:
    """A micrograd-sized engine whose backward() adds into grad (as the learner's does)."""

    def __init__(self, data, parents=(), partials=()):
        self.data, self.grad = float(data), 0.0
        self.parents, self.partials = parents, partials

    def _node(self, other):
        return other if isinstance(other, Accumulating) else Accumulating(other)

    def __add__(self, other):
        other = self._node(other)
        return Accumulating(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._node(other)
        return Accumulating(self.data * other.data, (self, other), (other.data, self.data))

    def __sub__(self, other):
        return self + self._node(other) * -1.0

    def __pow__(self, k):
        return Accumulating(self.data**k, (self,), (k * self.data ** (k - 1),))

    def tanh(self):
        out = math.tanh(self.data)
        return Accumulating(out, (self,), (1 - out * out,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            for parent, partial in zip(node.parents, node.partials, strict=True):
                parent.grad += node.grad * partial


def test_it_trains_the_same_on_an_engine_that_adds_into_grad():
    X = [[0.0, 1.0], [1.0, 0.0], [0.5, -0.5]]
    y = [1.0, -1.0, 1.0]
    ours = MLP(2, [3, 1], np.random.default_rng(4))
    theirs = MLP(2, [3, 1], np.random.default_rng(4), engine=Accumulating)
    for _ in range(5):  # without the reset inside training_step, theirs would drift away
        assert training_step(ours, X, y, 0.2) == pytest.approx(training_step(theirs, X, y, 0.2))
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert p.data == pytest.approx(q.data, rel=1e-12)


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Neuron(0, np.random.default_rng(0)), ValueError, "n_in must be a positive int"),
        (lambda: Neuron(2, 0), TypeError, "numpy random Generator"),
        (lambda: MLP(2, 8, np.random.default_rng(0)), TypeError, "list of layer widths"),
        (lambda: MLP(2, [], np.random.default_rng(0)), TypeError, "list of layer widths"),
        (lambda: MLP(2, [1000, 1000], np.random.default_rng(0)), ValueError, "parameters"),
        (lambda: MLP(2, [2.0], np.random.default_rng(0)), TypeError, "whole number"),
        (lambda: Neuron(2, np.random.default_rng(0))([1.0]), ValueError, "takes 2 inputs"),
        (lambda: mean_squared_error(lambda x: [x], [], []), ValueError, "at least one"),
        (
            lambda: training_step(MLP(1, [1], np.random.default_rng(0)), [[1.0]], [1.0], -1),
            ValueError,
            "learning rate",
        ),
    ],
)
def test_bad_arguments_are_named(make, error, words):
    with pytest.raises(error, match=words):
        make()
