"""course_lib.network.deep_stack.stack_forward: the forward pass of a stack of any depth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.network.deep_stack import ACTIVATIONS, stack_forward
from course_lib.tensor import Tensor


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.sampled_from(ACTIVATIONS), st.integers(0, 2**16))
def test_each_layer_is_the_activation_of_a_linear_map_as_the_engine_computes_it(
    depth, activation, seed
):
    rng = np.random.default_rng(seed)
    widths = rng.integers(1, 5, size=depth + 1)
    X = rng.normal(size=(4, widths[0]))
    Ws = [rng.normal(size=(widths[i], widths[i + 1])) for i in range(depth)]
    bs = [rng.normal(size=widths[i + 1]) for i in range(depth)]
    hs = stack_forward(X, Ws, bs, activation)
    assert len(hs) == depth + 1 and hs[0] is X
    h = Tensor(X, requires_grad=False)
    for layer, (W, b) in enumerate(zip(Ws, bs, strict=True), start=1):
        a = h @ Tensor(W) + Tensor(b)
        h = {"sigmoid": a.sigmoid, "tanh": a.tanh, "relu": a.relu}[activation]()
        np.testing.assert_allclose(hs[layer], h.data, rtol=1e-12, atol=1e-15)


def test_bad_stacks_are_refused_with_the_reason():
    X, W, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)
    with pytest.raises(ValueError, match="activation must be one of"):
        stack_forward(X, [W], [b], "softplus")
    with pytest.raises(ValueError, match="one bias per weight matrix"):
        stack_forward(X, [W, W], [b], "tanh")
    with pytest.raises(ValueError, match="at least one layer"):
        stack_forward(X, [], [], "tanh")
    with pytest.raises(TypeError, match="must be lists"):
        stack_forward(X, W, b, "tanh")


@pytest.mark.parametrize(
    ("X", "Ws", "bs", "error", "words"),
    [
        (
            np.ones((2, 3)),
            [np.ones((4, 2))],
            [np.zeros(2)],
            ValueError,
            "Ws\\[0\\] must have 3 rows",
        ),
        (np.ones((2, 3)), [np.ones((3, 2))], [np.zeros(3)], ValueError, "bs\\[0\\] one entry per"),
        (np.ones((2, 3)), [np.full((3, 2), np.nan)], [np.zeros(2)], ValueError, "Ws\\[0\\] holds"),
        (np.full((2, 3), np.inf), [np.ones((3, 2))], [np.zeros(2)], ValueError, "X holds inf"),
        (None, [np.ones((3, 2))], [np.zeros(2)], TypeError, "X must be an array of real numbers"),
        (np.ones(3), [np.ones((3, 2))], [np.zeros(2)], TypeError, "X must be an array .* 2 axes"),
        (np.ones((2, 3)), ["a"], [np.zeros(2)], TypeError, "Ws\\[0\\] must be an array"),
    ],
)
def test_inputs_that_do_not_chain_or_are_not_finite_are_named(X, Ws, bs, error, words):
    """Mismatched shapes reached numpy's matmul text ('mismatch in its core dimension'); NaN
    weights came back as NaN activations without a word."""
    with pytest.raises(error, match=words):
        stack_forward(X, Ws, bs, "tanh")


def test_integer_and_float32_inputs_still_run():
    hs = stack_forward(np.ones((2, 3), dtype=int), [np.ones((3, 2), np.float32)], [[0, 0]], "relu")
    np.testing.assert_array_equal(hs[-1], np.full((2, 2), 3.0))
