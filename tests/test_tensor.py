"""Tests of course_lib.tensor: gradients against finite differences, shapes, dtypes, errors."""

from __future__ import annotations

import copy
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    arrays,
    away_from_zero_arrays,
    broadcast_shape_pairs,
    distinct_arrays,
    matmul_shape_pairs,
    positive_arrays,
    shapes,
)

from course_lib.autodiff.graph import topological_order
from course_lib.tensor import (
    Tensor,
    broadcast_axes,
    matmul_backward,
    softmax_cross_entropy,
    sum_to_shape,
)

SETTINGS = settings(max_examples=40, deadline=None)


# ---- an independent finite-difference check (not course_lib.checks, which is tested apart) ----


def numerical_gradients(f, inputs, upstream, h=1e-6):
    """d/d(input) of L = sum(upstream * f(*inputs)) by central differences, every element."""

    def loss(arrays_):
        out = f(*(Tensor(a, requires_grad=False) for a in arrays_))
        return float(np.sum(upstream * out.data))

    grads = []
    for i, x in enumerate(inputs):
        grad = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            up = [a.copy() for a in inputs]
            down = [a.copy() for a in inputs]
            up[i][j] += h
            down[i][j] -= h
            grad[j] = (loss(up) - loss(down)) / (2 * h)
        grads.append(grad)
    return grads


def assert_gradients_match(f, *inputs, seed=0):
    """backward() with a random upstream agrees with finite differences, in every input's
    shape and dtype."""
    tensors = [Tensor(x.copy(), label=f"x{i}") for i, x in enumerate(inputs)]
    out = f(*tensors)
    upstream = np.random.default_rng(seed).uniform(-1, 1, out.shape)
    out.backward(upstream)
    expected = numerical_gradients(f, inputs, upstream)
    for t, x, e in zip(tensors, inputs, expected, strict=True):
        assert t.grad.shape == x.shape, (t.grad.shape, x.shape)
        assert t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, e, rtol=1e-5, atol=1e-6)
    return tensors


@st.composite
def broadcast_array_pairs(draw, right=arrays):
    shape_a, shape_b = draw(broadcast_shape_pairs())
    return draw(arrays(shape_a)), draw(right(shape_b))


# ---- binary ops with broadcasting ------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(pair=broadcast_array_pairs())
def test_binary_op_gradients_with_broadcasting(name, pair):
    assert_gradients_match(BINARY[name], *pair)


@SETTINGS
@given(pair=broadcast_array_pairs(right=away_from_zero_arrays))
def test_division_gradients_with_broadcasting(pair):
    assert_gradients_match(lambda a, b: a / b, *pair)


@SETTINGS
@given(data=st.data(), shape=shapes())
def test_numbers_and_arrays_mix_in_as_constants(data, shape):
    x = data.draw(away_from_zero_arrays(shape))
    c = data.draw(away_from_zero_arrays(shape[1:]))  # an array that broadcasts against x
    mixed = {
        "2 + x": lambda t: 2 + t,
        "x - c": lambda t: t - c,
        "c - x": lambda t: c - t,
        "c * x * 3": lambda t: c * t * 3,
        "x / c": lambda t: t / c,
        "c / x": lambda t: c / t,
    }
    for f in mixed.values():
        out = f(Tensor(x))
        assert isinstance(out, Tensor)
        assert [p.requires_grad for p in out.parents].count(False) == 1
        assert_gradients_match(f, x)


def test_constants_get_no_gradient_and_no_work():
    X = np.ones((4, 3))  # an input batch: a constant
    W = Tensor(np.arange(6.0).reshape(3, 2), label="W")
    Y = X @ W
    const = Y.parents[0]
    assert not const.requires_grad and Y.requires_grad
    contributions = Y.local_backward(np.ones((4, 2)))
    assert contributions[0] is None and contributions[1].shape == (3, 2)
    Y.sum().backward()
    assert const.grad is None
    np.testing.assert_allclose(W.grad, X.T @ np.ones((4, 2)))
    frozen = Tensor(np.ones(3), requires_grad=False)
    assert not (frozen * 2).requires_grad


# ---- elementwise functions -------------------------------------------------------------------

UNARY = {
    "neg": (lambda a: -a, arrays),
    "square": (lambda a: a**2, arrays),
    "cube": (lambda a: a**3, arrays),
    "sqrt": (lambda a: a**0.5, positive_arrays),
    "reciprocal": (lambda a: a**-1, away_from_zero_arrays),
    "exp": (lambda a: a.exp(), arrays),
    "log": (lambda a: a.log(), positive_arrays),
    "sigmoid": (lambda a: a.sigmoid(), arrays),
    "tanh": (lambda a: a.tanh(), arrays),
    "relu": (lambda a: a.relu(), away_from_zero_arrays),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), shape=shapes())
def test_unary_op_gradients(name, data, shape):
    f, elements = UNARY[name]
    assert_gradients_match(f, data.draw(elements(shape)))


def test_sigmoid_is_finite_and_silent_far_out():
    x = Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        s = x.sigmoid()
    np.testing.assert_array_equal(s.data, [0.0, 0.5, 1.0])
    s.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.25, 0.0])


# ---- reductions ------------------------------------------------------------------------------


@st.composite
def axis_choices(draw, shape):
    """None, one axis (maybe negative), or a tuple of distinct axes."""
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or ndim == 0:
        return None if kind != "tuple" else ()
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.permutations(range(ndim)))[: draw(st.integers(0, ndim))])


@pytest.mark.parametrize("name", ["sum", "mean"])
@SETTINGS
@given(data=st.data(), shape=shapes(), keepdims=st.booleans())
def test_sum_and_mean_gradients(name, data, shape, keepdims):
    axis = data.draw(axis_choices(shape))
    x = data.draw(arrays(shape))
    out = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(x, name)(axis=axis, keepdims=keepdims))
    assert_gradients_match(lambda a: getattr(a, name)(axis=axis, keepdims=keepdims), x)


@SETTINGS
@given(data=st.data(), shape=shapes(), keepdims=st.booleans())
def test_max_gradient_goes_to_the_argmax(data, shape, keepdims):
    x = data.draw(distinct_arrays(shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    out = Tensor(x).max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, x.max(axis=axis, keepdims=keepdims))
    tensors = assert_gradients_match(lambda a: a.max(axis=axis, keepdims=keepdims), x)
    # exactly one element per reduced slice receives gradient
    assert np.count_nonzero(tensors[0].grad) <= out.data.size


def test_max_tie_sends_the_gradient_to_the_first_winner_only():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 0, 0]])


# ---- shape ops and indexing ------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), shape=shapes())
def test_reshape_and_transpose_gradients(data, shape):
    x = data.draw(arrays(shape))
    new_shape = tuple(data.draw(st.permutations(shape)))
    assert_gradients_match(lambda a: a.reshape(new_shape) * 1.5, x)
    assert_gradients_match(lambda a: a.reshape(-1), x)
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    out = Tensor(x).transpose(order)
    np.testing.assert_array_equal(out.data, np.transpose(x, order))
    assert_gradients_match(lambda a: a.transpose(order), x)
    assert_gradients_match(lambda a: a.T, x)


@SETTINGS
@given(data=st.data(), shape=shapes(min_dims=1))
def test_indexing_gradients_scatter_back(data, shape):
    x = data.draw(arrays(shape))
    n = shape[0]
    picks = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    start = data.draw(st.integers(0, n - 1))
    for index in [0, -1, slice(start, None), (slice(None, None, 2), ...), picks, (picks, ...)]:
        out = Tensor(x)[index]
        np.testing.assert_array_equal(out.data, x[index])
        assert_gradients_match(lambda a, index=index: a[index], x)


def test_repeated_indices_accumulate():
    x = Tensor([10.0, 20.0, 30.0])
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    logits = Tensor(np.zeros((3, 4)))
    labels = np.array([1, 1, 3])
    rows = np.array([0, 0, 2])  # row 0 picked twice at the same column
    logits[rows, labels].sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = 2.0
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(logits.grad, expected)


def test_boolean_mask_and_scalar_indexing():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    (x[x.data > 2] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [2, 2, 2]])
    y = x[1, 2]
    assert y.shape == () and isinstance(y.data, np.ndarray)
    y.backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [0, 0, 1]])
    assert [row.item() for row in x[:, 0]] == [0.0, 3.0]  # iteration stops at the end


# ---- matrix product --------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), pair=matmul_shape_pairs())
def test_matmul_gradients(data, pair):
    a = data.draw(arrays(pair[0]))
    b = data.draw(arrays(pair[1]))
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b)
    assert_gradients_match(lambda x, y: x @ y, a, b)


def test_matmul_backward_is_the_textbook_formula():
    rng = np.random.default_rng(1)
    X, W, dY = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=(5, 2))
    x, w = Tensor(X), Tensor(W)
    (x @ w).backward(dY)
    np.testing.assert_allclose(x.grad, dY @ W.T)
    np.testing.assert_allclose(w.grad, X.T @ dY)
    assert_gradients_match(lambda v, m: m @ v, X[:, 0], rng.normal(size=(4, 5)))


def test_the_matmul_rule_is_the_two_by_two_of_notebook_03():
    X = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    W = Tensor(np.array([[5.0, 6.0], [7.0, 8.0]]))
    G = np.array([[1.0, -1.0], [2.0, 0.0]])
    dX, dW = matmul_backward(G, X @ W, X, W)
    np.testing.assert_array_equal(dW, [[7.0, -1.0], [10.0, -2.0]])  # Xᵀ G
    np.testing.assert_array_equal(dX, [[-1.0, -1.0], [10.0, 14.0]])  # G Wᵀ


def test_the_matmul_rule_skips_the_product_of_a_constant_input():
    rng = np.random.default_rng(3)
    X, W = rng.normal(size=(4, 3)), Tensor(rng.normal(size=(3, 2)))  # X: a batch of data
    out = X @ W
    dX, dW = matmul_backward(np.ones((4, 2)), out, out.parents[0], W)
    assert dX is None and dW.shape == (3, 2)
    vector = Tensor(rng.normal(size=3))
    dv, dW2 = matmul_backward(np.ones(2), vector @ W, vector, W)  # a row on the left
    np.testing.assert_allclose(dv, W.data @ np.ones(2))
    np.testing.assert_allclose(dW2, np.outer(vector.data, np.ones(2)))


# ---- composite graphs ------------------------------------------------------------------------


def test_two_layer_network_and_fan_out():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(4, 3))

    def net(W1, b1, W2):
        h = (Tensor(X, requires_grad=False) @ W1 + b1).sigmoid()
        return ((h @ W2).tanh() ** 2).mean()

    assert_gradients_match(
        net, rng.normal(size=(3, 5)), rng.normal(size=(5,)), rng.normal(size=(5, 2))
    )
    # fan-out: x feeds three uses; its gradient sums them (sum at joins)
    tensors = assert_gradients_match(lambda x: x * x + x.exp() - x, np.array([0.5, -1.0]))
    np.testing.assert_allclose(tensors[0].grad.shape, (2,))


# ---- sum_to_shape ----------------------------------------------------------------------------


def test_sum_to_shape_examples():
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(sum_to_shape(g, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(sum_to_shape(g, (1, 3)), [[3.0, 5.0, 7.0]])
    np.testing.assert_array_equal(sum_to_shape(g, (2, 1)), [[3.0], [12.0]])
    np.testing.assert_array_equal(sum_to_shape(np.ones((4, 2, 3)), (2, 1)), [[12.0], [12.0]])
    for grad in (g, np.arange(6.0)):  # two axes added; one (the bias-like case)
        scalar = sum_to_shape(grad, ())
        assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 15.0
    assert sum_to_shape(g, (2, 3)) is g  # nothing to undo: no copy


@SETTINGS
@given(pair=broadcast_shape_pairs())
def test_sum_to_shape_inverts_broadcast_to(pair):
    shape, other = pair
    result = np.broadcast_shapes(shape, other)
    summed = sum_to_shape(np.ones(result), shape)
    assert summed.shape == shape
    # each element was copied size(result) / size(shape) times
    np.testing.assert_array_equal(summed, np.full(shape, np.prod(result) / np.prod(shape)))


@pytest.mark.parametrize("grad_shape, shape", [((3, 4), (5,)), ((3,), (2, 3)), ((2, 1), (2, 3))])
def test_sum_to_shape_rejects_impossible_shapes(grad_shape, shape):
    message = re.escape(f"an input of shape {shape} cannot broadcast to {grad_shape}")
    with pytest.raises(ValueError, match=message):
        sum_to_shape(np.ones(grad_shape), shape)


def reference_sum_to_shape(grad, shape):
    """The definition, one element at a time: every position of the result adds its upstream
    value to the input element it was copied from (no axes reasoning at all)."""
    source = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), grad.shape)
    total = np.zeros(int(np.prod(shape)))
    for position in np.ndindex(grad.shape):
        total[source[position]] += grad[position]
    return total.reshape(shape)


@SETTINGS
@given(data=st.data(), pair=broadcast_shape_pairs())
def test_sum_to_shape_adds_every_copy_back_to_its_source(data, pair):
    shape, other = pair
    result = np.broadcast_shapes(shape, other)
    grad = data.draw(arrays(result))
    summed = sum_to_shape(grad, shape)
    assert isinstance(summed, np.ndarray) and summed.shape == shape
    np.testing.assert_allclose(summed, reference_sum_to_shape(grad, shape), rtol=1e-12, atol=1e-12)
    # the adjoint of broadcasting: <sum_to_shape(g), x> = <g, broadcast_to(x)>
    x = data.draw(arrays(shape))
    np.testing.assert_allclose(
        np.sum(summed * x), np.sum(grad * np.broadcast_to(x, result)), rtol=1e-9, atol=1e-9
    )


@SETTINGS
@given(pair=broadcast_shape_pairs())
def test_broadcast_axes_are_the_added_and_the_expanded_ones(pair):
    shape, other = pair
    result = np.broadcast_shapes(shape, other)
    added, expanded = broadcast_axes(shape, result)
    assert added == tuple(range(len(result) - len(shape)))
    for axis in range(len(result)):
        own = axis - len(added)  # the input's own numbering of this axis
        grew = own >= 0 and shape[own] == 1 and result[axis] > 1
        assert (axis in expanded) == grew


def test_broadcast_axes_of_the_notebook_03_exercise():
    assert broadcast_axes((2, 1, 3), (2, 4, 3)) == ((), (1,))
    assert broadcast_axes((4, 1), (2, 4, 3)) == ((0,), (2,))
    assert broadcast_axes((2, 1, 3), (2, 1, 3)) == ((), ())  # a size-1 axis that stayed 1
    assert broadcast_axes((3,), (2, 1, 3)) == ((0, 1), ())
    with pytest.raises(ValueError, match="cannot broadcast"):
        broadcast_axes((2, 3), (3,))


# ---- node shape, engine, dtype ---------------------------------------------------------------


def test_tensor_is_a_graph_node():
    x = Tensor([1.0, 2.0], label="x")
    y = Tensor([3.0, 4.0], label="y")
    q = (x + y).named("q")
    f = (q * x).sum().named("f")
    assert x.grad is None and x.parents == () and x.op == ""
    assert q.parents == (x, y) and q.op == "+"
    assert topological_order(f) == [x, y, q, f.parents[0], f]
    f.backward()
    first = x.grad.copy()
    f.backward()  # gradients reset, not doubled
    np.testing.assert_array_equal(x.grad, first)
    np.testing.assert_array_equal(x.grad, [2 * 1 + 3, 2 * 2 + 4])
    assert "Tensor 'x' (shape (2,), float64)" in repr(x)


def test_inputs_own_their_gradients():
    x, y = Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2)))
    upstream = np.full((2, 2), 3.0)
    (x + y).backward(upstream)
    assert x.grad is not y.grad and x.grad is not upstream
    x.grad[0, 0] = 100.0  # writeable, and writing affects nothing else
    assert y.grad[0, 0] == 3.0 and upstream[0, 0] == 3.0
    z = Tensor(np.ones(3))
    z.sum().backward()  # the rule returns a read-only broadcast; the input gets a real array
    assert z.grad.flags.writeable and z.grad.flags.owndata


def test_one_element_outputs_seed_with_one():
    x = Tensor(np.array([[2.0]]))
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad, [[3.0]])
    assert (x * 3).item() == 6.0


def test_dtypes():
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(np.arange(3)).dtype == np.float64
    w = Tensor(np.ones((3, 2), dtype=np.float32))
    b = Tensor(np.zeros(2, dtype=np.float32))
    X = np.ones((4, 3), dtype=np.float32)
    loss = (((X @ w + b).sigmoid() * 2.0 - 1).relu() ** 2 / 4).mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    # a float32 input mixed with float64 still gets a float32 gradient
    v = Tensor(np.ones(2, dtype=np.float32))
    (v * Tensor(np.ones(2))).sum().backward()
    assert v.grad.dtype == np.float32


def test_numpy_on_the_left_defers_to_tensor():
    x = Tensor([1.0, 2.0])
    for out in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x):
        assert isinstance(out, Tensor)
    out = np.ones((3, 2)) @ x
    assert isinstance(out, Tensor) and out.shape == (3,)


def test_tensor_shares_memory_with_a_float_array():
    a = np.ones(3)
    assert Tensor(a).data is a


# ---- errors that name the problem ------------------------------------------------------------


@pytest.mark.parametrize(
    "f, word",
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
    ],
)
def test_broadcast_errors_name_the_op_and_both_shapes(f, word):
    with pytest.raises(ValueError, match=rf"^{word}: cannot broadcast \(3, 4\) with \(5,\)"):
        f(Tensor(np.ones((3, 4))), Tensor(np.ones(5)))
    with pytest.raises(ValueError, match=rf"^{word}: cannot broadcast \(3, 4\) with \(5,\)"):
        f(Tensor(np.ones((3, 4))), np.ones(5))


def test_matmul_errors_name_the_inner_dimensions():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ in \(3, 4\) @ \(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"last axis has 4 entries .* only axis has 3"):
        Tensor(np.ones((3, 4))) @ np.ones(3)
    with pytest.raises(ValueError, match=r"matmul: needs inputs with at least one axis"):
        Tensor(2.0) @ Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"matmul: the batch axes .* \(2,\) with \(3,\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_backward_errors():
    y = Tensor(np.ones((2, 3))) * 2
    with pytest.raises(
        ValueError,
        match=r"output has shape \(2, 3\), not a single number.*"
        r"upstream gradient",
    ):
        y.backward()
    with pytest.raises(
        ValueError,
        match=r"upstream has shape \(3,\) but the output has shape "
        r"\(2, 3\)",
    ):
        y.backward(np.ones(3))
    with pytest.raises(ValueError, match="constant"):
        Tensor(np.ones(1), requires_grad=False).backward()


def test_value_errors_of_elementwise_ops():
    with pytest.raises(ValueError, match=r"log: needs positive inputs, but 2 of the 3 entries"):
        Tensor([1.0, 0.0, -1.0], label="p").log()
    with pytest.raises(ZeroDivisionError, match=r"div: division by zero: 1 of the 2 entries"):
        Tensor([1.0, 2.0]) / np.array([1.0, 0.0])
    with pytest.raises(ValueError, match=r"pow: .* negative base .* non-integer"):
        Tensor([-1.0, 2.0]) ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"pow: .* base of 0 with a negative exponent"):
        Tensor([0.0, 2.0]) ** -1
    with pytest.raises(TypeError, match=r"pow: .* not a Tensor"):
        Tensor([1.0]) ** Tensor([2.0])
    with pytest.raises(TypeError, match=r"pow: b \*\* x"):
        2 ** Tensor([1.0])


def test_axis_and_shape_errors():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range for a tensor of shape"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match=r"mean: axis \(0, -2\) names the same axis twice"):
        x.mean(axis=(0, -2))
    with pytest.raises(TypeError, match=r"sum: axis must be an int"):
        x.sum(axis=1.0)
    with pytest.raises(TypeError, match=r"max: takes one axis"):
        x.max(axis=(0, 1))
    with pytest.raises(ValueError, match=r"max: the tensor of shape \(0,\) is empty"):
        Tensor(np.ones(0)).max()
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(3, 4\) \(12 elements\)"):
        x.reshape(5, 2)
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) must be a permutation"):
        x.transpose(0, 0)


def test_index_errors():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(IndexError, match=r"index: .*out of bounds.*shape \(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match=r"index: 1.5 is not a valid index"):
        x[1.5]
    with pytest.raises(IndexError, match=r"must hold integers or booleans, got dtype float64"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(TypeError, match=r"a Tensor cannot be an index"):
        x[Tensor([0.0])]


def test_construction_errors():
    with pytest.raises(TypeError, match="got a Tensor"):
        Tensor(Tensor([1.0]))
    with pytest.raises(TypeError, match="needs numbers, got str"):
        Tensor("abc")
    with pytest.raises(TypeError, match="needs real numbers, got an array of dtype complex"):
        Tensor([1j])
    with pytest.raises(ValueError, match="1 of its 2 entries are inf or nan"):
        Tensor([1.0, np.nan])
    Tensor([1.0, np.nan], requires_grad=False)  # a constant may hold anything numpy allows
    with pytest.raises(TypeError, match=r"add: cannot combine a Tensor with str 'a'"):
        Tensor([1.0]) + "a"
    with pytest.raises(TypeError, match="label must be a string"):
        Tensor([1.0], label=3)


# ---- copies of deep graphs (issue 24) ---------------------------------------------------------


def _deep_graph(nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """A chain of ``nodes`` ops from x, with a second input W joining at every tenth step, and
    ending in a fused cross-entropy (whose ctx holds arrays): every kind of node and context."""
    x = Tensor(np.array([[0.5, -0.25, 1.0]]), label="x")
    W = Tensor(np.eye(3) * 0.5, label="W")
    node = x
    for i in range(nodes):
        node = node @ W if i % 10 == 0 else (node * 1.0 if i % 2 else node.tanh())
    loss = softmax_cross_entropy(node, np.array([2]))
    return x, W, loss


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_graph_of_10000_nodes_can_be_deep_copied_and_pickled(how):
    x, W, loss = _deep_graph(10_000)  # recursion failed at about 150 (deepcopy) and 300 (pickle)
    loss.backward()
    clone = copy.deepcopy(loss) if how == "deepcopy" else pickle.loads(pickle.dumps(loss))
    originals, copies = loss.graph_nodes(), clone.graph_nodes()
    assert len(copies) == len(originals) > 10_000
    for a, b in zip(originals, copies, strict=True):
        assert a is not b and a.op == b.op and a.label == b.label
        assert a.requires_grad == b.requires_grad and len(a.parents) == len(b.parents)
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.grad, b.grad)
        assert b.data is not a.data  # the copy owns its arrays
    # the copy is a working graph: its backward gives the original's gradients again
    x2, W2 = (node for node in copies if node.label in ("x", "W"))
    clone.backward()
    np.testing.assert_allclose(x2.grad, x.grad)
    np.testing.assert_allclose(W2.grad, W.grad)
    assert W2.data is not W.data and x2.parents == ()


def test_a_deep_copy_keeps_shared_inputs_shared_and_a_shallow_copy_shares_the_graph():
    x, W, loss = _deep_graph(30)
    both = copy.deepcopy([W, loss])  # one memo: the copied loss uses the copied W
    assert any(node is both[0] for node in both[1].graph_nodes())
    loaded = pickle.loads(pickle.dumps([W, loss]))  # inputs are pickled as themselves
    assert any(node is loaded[0] for node in loaded[1].graph_nodes())
    twin = copy.copy(loss)
    assert twin is not loss and twin.parents is loss.parents and twin.data is loss.data
    single = pickle.loads(pickle.dumps(Tensor([1.0, 2.0], label="w", requires_grad=False)))
    assert single.label == "w" and not single.requires_grad and single.data.tolist() == [1, 2]
