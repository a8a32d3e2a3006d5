"""Layer norm and embedding lookup (course_lib.tensor.functions): gradients against central
differences in float64, layer norm's fused rule against reverse mode through the composed graph,
and embedding's scatter-add with repeated tokens."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes

from course_lib.checks import (
    jacobian_finite_differences,
    jacobian_reverse_mode,
    tensor_gradient_check,
)
from course_lib.tensor import Tensor, embedding, layer_norm

SETTINGS = settings(max_examples=40, deadline=None)


def layer_norm_composed(x, eps=1e-5):
    """Layer norm as the engine's small ops: mean, subtract, square, mean, add, root, divide."""
    mu = x.mean(axis=-1, keepdims=True)
    d = x - mu
    var = (d * d).mean(axis=-1, keepdims=True)
    return d / (var + eps) ** 0.5


def layer_norm_fused_rule(x, upstream, eps=1e-5):
    """The fused rule written out in numpy: (g - mean(g) - y mean(g y)) / s."""
    d = x - x.mean(axis=-1, keepdims=True)
    s = np.sqrt((d * d).mean(axis=-1, keepdims=True) + eps)
    y = d / s
    g = upstream
    return (g - g.mean(axis=-1, keepdims=True) - y * (g * y).mean(axis=-1, keepdims=True)) / s


# ---- layer norm ---------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_layer_norm_matches_finite_differences(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x = data.draw(arrays(shape))
    report = tensor_gradient_check(lambda x: layer_norm(x), x, rtol=1e-5, atol=1e-6)
    assert report.ok, report


@SETTINGS
@given(st.data())
def test_fused_rule_equals_reverse_mode_through_the_composed_graph(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x = data.draw(arrays(shape))
    g = data.draw(arrays(shape))
    fused, composed = Tensor(x.copy()), Tensor(x.copy())
    out_f = layer_norm(fused)
    out_c = layer_norm_composed(composed)
    np.testing.assert_allclose(out_f.data, out_c.data, rtol=1e-9, atol=1e-9)
    out_f.backward(g)
    out_c.backward(g)
    scale = 1.0 + np.abs(composed.grad).max()
    np.testing.assert_allclose(fused.grad, composed.grad, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(fused.grad, layer_norm_fused_rule(x, g), rtol=1e-9, atol=1e-9)


def test_a_row_of_three_by_hand():
    x = np.array([1.0, 2.0, 3.0])
    y = layer_norm(Tensor(x))
    s = np.sqrt(2 / 3 + 1e-5)
    np.testing.assert_allclose(y.data, np.array([-1.0, 0.0, 1.0]) / s, rtol=1e-12)
    # the Jacobian (δ_ij - 1/3 - y_i y_j / 3) / s: dense and symmetric, rows summing to 0
    J = jacobian_reverse_mode(layer_norm, x)
    by_hand = (np.eye(3) - 1 / 3 - np.outer(y.data, y.data) / 3) / s
    np.testing.assert_allclose(J, by_hand, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(J, jacobian_finite_differences(layer_norm, x), atol=1e-7)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(J != 0.0)  # dense: every output depends on every input
    # with the upstream (1, -1, 2): (5/6, -5/3, 5/6) / s
    t = Tensor(x)
    layer_norm(t).backward(np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(t.grad, np.array([5 / 6, -5 / 3, 5 / 6]) / s, rtol=1e-4)  # ε
    assert np.round(t.grad, 4).tolist() == [1.0206, -2.0412, 1.0206]


def test_layer_norm_keeps_float32_and_refuses_bad_input():
    y = layer_norm(Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data.mean(axis=-1), 0.0, atol=1e-6)
    const = layer_norm(Tensor(np.ones((2, 4))))  # a constant row: y = 0, finite thanks to eps
    assert np.all(const.data == 0.0)
    with pytest.raises(TypeError, match="layer_norm: needs a Tensor"):
        layer_norm(np.ones(3))
    with pytest.raises(ValueError, match="needs a row"):
        layer_norm(Tensor(2.0))
    for eps in (0.0, -1e-5, float("nan"), float("inf"), 10**400, 1e300, "1e-5"):
        with pytest.raises(ValueError, match="layer_norm: eps"):  # 1e300: not in float32
            layer_norm(Tensor(np.ones(3, np.float32)), eps=eps)


# ---- embedding ------------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_embedding_matches_finite_differences_with_repeated_tokens(data):
    vocab, dim = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    token_shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=5))
    size = int(np.prod(token_shape))
    ids = data.draw(st.lists(st.integers(0, vocab - 1), min_size=size, max_size=size))
    tokens = np.array(ids).reshape(token_shape)  # with vocab < size, tokens repeat
    W = data.draw(arrays((vocab, dim)))
    report = tensor_gradient_check(lambda W: (embedding(W, tokens) * 1.0).tanh(), W)
    assert report.ok, report


def test_a_repeated_token_gets_the_sum_of_its_rows():
    W = Tensor(np.arange(8.0).reshape(4, 2))
    tokens = np.array([2, 0, 2])
    out = embedding(W, tokens)
    assert out.data.tolist() == [[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]
    upstream = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0]])
    out.backward(upstream)
    assert W.grad.tolist() == [[3.0, 4.0], [0.0, 0.0], [11.0, 22.0], [0.0, 0.0]]
    # the bug the docstring warns about: fancy-index += keeps one of the repeated rows
    wrong = np.zeros((4, 2))
    wrong[tokens] += upstream
    assert wrong[2].tolist() == [10.0, 20.0]
    # the same as indexing the table
    W2 = Tensor(np.arange(8.0).reshape(4, 2))
    W2[tokens].backward(upstream)
    assert np.array_equal(W2.grad, W.grad)


def test_embedding_batches_and_refuses_bad_tokens():
    W = Tensor(np.ones((5, 3)))
    assert embedding(W, np.zeros((2, 4), dtype=int)).shape == (2, 4, 3)
    tokens = np.array([1, 1])
    out = embedding(W, tokens)
    tokens[0] = 4  # changing the caller's array afterwards does not change the gradient
    out.backward(np.ones((2, 3)))
    assert W.grad[1].tolist() == [2.0, 2.0, 2.0] and W.grad[4].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="integers"):
        embedding(W, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integers"):
        embedding(W, np.array([True]))
    with pytest.raises(IndexError, match="token 5 is not a row"):
        embedding(W, [0, 5])
    with pytest.raises(IndexError, match="token -1"):
        embedding(W, [-1])
    with pytest.raises(ValueError, match="matrix"):
        embedding(Tensor(np.ones(3)), [0])
    with pytest.raises(TypeError, match="must be a Tensor"):
        embedding(np.ones((2, 2)), [0])
