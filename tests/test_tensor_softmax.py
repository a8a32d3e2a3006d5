"""Tests of the softmax Tensor ops: softmax, log_softmax and the fused softmax_cross_entropy.

Gradients are checked against central differences in float64 (course_lib.checks) and against
the same function composed from primitive ops (exp / sum / divide; log_softmax → pick → mean)
through the same engine, to 1e-10.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes

from course_lib import kernels
from course_lib.checks import tensor_gradient_check
from course_lib.tensor import Tensor, log_softmax, softmax, softmax_cross_entropy

SETTINGS = settings(max_examples=30, deadline=None)


# ---- composed (unfused) references, built from primitive Tensor ops ---------------------------


def composed_softmax(t: Tensor, axis: int = -1) -> Tensor:
    e = t.exp()
    return e / e.sum(axis=axis, keepdims=True)


def composed_log_softmax(t: Tensor, axis: int = -1) -> Tensor:
    return t - t.exp().sum(axis=axis, keepdims=True).log()


def composed_cross_entropy(z: Tensor, labels: np.ndarray) -> Tensor:
    log_p = composed_log_softmax(z, axis=1)
    if labels.ndim == 1:
        return -log_p[np.arange(z.shape[0]), labels].mean()
    return -(log_p * labels).sum(axis=1).mean()


def gradients(f, *arrays_, upstream=None):
    """(output data, gradient of every input) of f at float64 copies of ``arrays_``."""
    tensors = [Tensor(np.array(a, dtype=np.float64)) for a in arrays_]
    out = f(*tensors)
    out.backward(upstream)
    return out.data, [t.grad for t in tensors]


@st.composite
def array_and_axis(draw, max_dims: int = 3):
    shape = draw(shapes(min_dims=1, max_dims=max_dims))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(arrays(shape, -4.0, 4.0)), axis


@st.composite
def logits_and_labels(draw, soft: bool = False):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 6))
    z = draw(arrays((n, c), -5.0, 5.0))
    if soft:
        weights = draw(arrays((n, c), 0.05, 1.0))
        return z, weights / weights.sum(axis=1, keepdims=True)
    return z, np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))


# ---- softmax and log_softmax --------------------------------------------------------------


@SETTINGS
@given(array_and_axis())
def test_softmax_gradient_matches_finite_differences(case):
    x, axis = case
    check = tensor_gradient_check(lambda t: softmax(t, axis=axis), x)
    assert check.ok, str(check)


@SETTINGS
@given(array_and_axis())
def test_log_softmax_gradient_matches_finite_differences(case):
    x, axis = case
    check = tensor_gradient_check(lambda t: log_softmax(t, axis=axis), x)
    assert check.ok, str(check)


@SETTINGS
@given(array_and_axis())
def test_softmax_equals_the_composed_graph(case):
    x, axis = case
    upstream = np.random.default_rng(1).uniform(-1, 1, x.shape)
    fused, (g_fused,) = gradients(lambda t: softmax(t, axis), x, upstream=upstream)
    composed, (g_composed,) = gradients(lambda t: composed_softmax(t, axis), x, upstream=upstream)
    np.testing.assert_allclose(fused, composed, rtol=0, atol=1e-12)
    np.testing.assert_allclose(g_fused, g_composed, rtol=0, atol=1e-10)


@SETTINGS
@given(array_and_axis())
def test_log_softmax_equals_the_composed_graph(case):
    x, axis = case
    upstream = np.random.default_rng(2).uniform(-1, 1, x.shape)
    fused, (g_fused,) = gradients(lambda t: log_softmax(t, axis), x, upstream=upstream)
    composed, (g_comp,) = gradients(lambda t: composed_log_softmax(t, axis), x, upstream=upstream)
    np.testing.assert_allclose(fused, composed, rtol=0, atol=1e-12)
    np.testing.assert_allclose(g_fused, g_comp, rtol=0, atol=1e-10)


def test_softmax_backward_never_builds_the_dense_jacobian(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a Tensor rule built the dense softmax Jacobian")

    monkeypatch.setattr(kernels, "softmax_jacobian", refuse)
    monkeypatch.setattr(kernels, "log_softmax_jacobian", refuse)
    x = Tensor(np.random.default_rng(3).normal(size=(4, 3000)))
    (softmax(x) * np.arange(3000.0)).sum().backward()
    assert x.grad.shape == (4, 3000)
    # Row sums of Jᵀg are 0 for softmax (J 1 = 0, and J is symmetric).
    np.testing.assert_allclose(x.grad.sum(axis=1), 0, atol=1e-9)
    log_softmax(x).sum().backward()
    assert x.grad.shape == (4, 3000)


def test_softmax_ops_keep_float32():
    x = Tensor(np.random.default_rng(4).normal(size=(3, 5)).astype(np.float32))
    for op in (softmax, log_softmax):
        out = op(x)
        assert out.dtype == np.float32
        out.backward(np.ones((3, 5), dtype=np.float32))
        assert x.grad.dtype == np.float32


def test_softmax_ops_are_stable_at_plus_minus_1e4():
    z = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 + 1.0]])
    shifted = z - z.max(axis=1, keepdims=True)  # the same softmax, with small numbers
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    upstream = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]])
    for dtype in (np.float64, np.float32):
        x = Tensor(z.astype(dtype))
        p = softmax(x)
        p.backward(upstream.astype(dtype))
        assert np.isfinite(p.data).all() and np.isfinite(x.grad).all()
        np.testing.assert_allclose(p.data, expected, atol=1e-6)
        vjp = expected * (upstream - (upstream * expected).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(x.grad, vjp, atol=1e-5)
        log_p = log_softmax(x)
        log_p.backward(upstream.astype(dtype))
        assert np.isfinite(log_p.data).all() and np.isfinite(x.grad).all()
        # log p of the -1e4 logit in row 0 is about -2e4: finite, where log(softmax) gives -inf
        assert log_p.data[0, 2] == pytest.approx(-2e4 - np.log1p(np.exp(-1.0)), rel=1e-6)


def test_softmax_errors_name_the_problem():
    with pytest.raises(TypeError, match="softmax: needs a Tensor.*kernels.softmax"):
        softmax(np.ones(3))
    with pytest.raises(ValueError, match="log_softmax: axis 2 is out of range"):
        log_softmax(Tensor(np.ones((2, 3))), axis=2)
    with pytest.raises(ValueError, match="single number"):
        softmax(Tensor(1.0))
    with pytest.raises(ValueError, match="empty"):
        softmax(Tensor(np.ones((2, 0))))
    with pytest.raises(TypeError, match="one axis"):
        softmax(Tensor(np.ones((2, 3))), axis=(0, 1))


# ---- the fused softmax cross-entropy --------------------------------------------------------


@SETTINGS
@given(logits_and_labels())
def test_cross_entropy_gradient_matches_finite_differences(case):
    z, labels = case
    check = tensor_gradient_check(lambda t: softmax_cross_entropy(t, labels), z)
    assert check.ok, str(check)


@SETTINGS
@given(st.one_of(logits_and_labels(), logits_and_labels(soft=True)))
def test_cross_entropy_equals_log_softmax_pick_mean(case):
    z, labels = case
    fused, (g_fused,) = gradients(lambda t: softmax_cross_entropy(t, labels), z)
    composed, (g_comp,) = gradients(lambda t: composed_cross_entropy(t, labels), z)
    assert fused.shape == () and composed.shape == ()
    assert abs(float(fused) - float(composed)) <= 1e-10
    np.testing.assert_allclose(g_fused, g_comp, rtol=0, atol=1e-10)


def test_cross_entropy_is_one_node_whose_gradient_is_p_minus_y_over_n():
    z = Tensor(np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]), label="z")
    labels = np.array([2, 0])
    loss = softmax_cross_entropy(z, labels)
    assert loss.op == "softmax_cross_entropy"
    assert loss.parents == (z,)
    assert loss.graph_nodes() == [z, loss]
    loss.backward()
    p = kernels.softmax(z.data)
    y = np.eye(3)[labels]
    np.testing.assert_allclose(z.grad, (p - y) / 2, atol=1e-15)
    # the backward reused the forward's P: exactly (P - Y) / N with the stored P
    np.testing.assert_array_equal(z.grad, (loss.ctx.probs - y) / 2)
    first = z.grad.copy()
    loss.backward()  # again: the same gradient, not doubled
    np.testing.assert_array_equal(z.grad, first)


def test_cross_entropy_inside_a_network_and_with_upstream_scaling():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])

    def net(W, b):
        return softmax_cross_entropy((X @ W + b).tanh() * 3.0, labels) * 2.0

    check = tensor_gradient_check(net, rng.normal(size=(3, 3)), rng.normal(size=3))
    assert check.ok, str(check)


def test_cross_entropy_keeps_float32():
    z = Tensor(np.random.default_rng(6).normal(size=(4, 10)).astype(np.float32))
    loss = softmax_cross_entropy(z, np.array([1, 2, 3, 9]))
    assert loss.dtype == np.float32 and loss.shape == ()
    loss.backward()
    assert z.grad.dtype == np.float32
    np.testing.assert_allclose(z.grad.sum(axis=1), 0, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_is_stable_at_plus_minus_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4]], dtype=dtype)
    labels = np.array([1, 0])
    t = Tensor(z)
    loss = softmax_cross_entropy(t, labels)
    loss.backward()
    # row 0: logsumexp = 1e4 (to float precision), minus z_1 = -1e4: loss 2e4
    # row 1: logsumexp(-1e4 + (0, 1, 0)) - (-1e4) = log(2 + e)
    expected = (2e4 + np.log(2 + np.e)) / 2
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(t.grad).all()
    p1 = np.exp([0.0, 1.0, 0.0]) / (2 + np.e)
    expected_grad = (np.array([[1.0, 0.0, 0.0], p1]) - np.eye(3)[labels]) / 2
    np.testing.assert_allclose(t.grad, expected_grad, atol=1e-6)
    # the composed graph without a max shift overflows on row 0 (e^1e4 = inf: refused, by name)
    # and underflows on row 1 (every e^z = 0, so log 0 is refused): what the fused node avoids
    with pytest.raises(OverflowError, match=r"^exp: the result overflows to inf"):
        composed_cross_entropy(Tensor(z[:1], requires_grad=False), labels[:1])
    with pytest.raises(ValueError, match="log: needs positive inputs"):
        composed_cross_entropy(Tensor(z[1:], requires_grad=False), labels[1:])


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (np.array([0, 3]), ValueError, r"labels\[1\] = 3 is out of range for 3 classes"),
        (np.array([0, -1]), ValueError, r"labels\[1\] = -1 is negative"),
        (np.array([0.0, 1.5]), TypeError, r"must be integers, but labels\[1\] = 1.5"),
        (np.array([0.0, 1.0]), TypeError, "integer dtype"),
        (np.array([0, 1, 2]), ValueError, "labels has 3 entries but logits has 2 rows"),
        (np.array([[0.5, 0.2, 0.2], [0, 0, 1]]), ValueError, "must sum to 1, but row 0"),
        (np.array([[1.5, -0.5, 0], [0, 0, 1]]), ValueError, "non-negative"),
        (np.ones((2, 4)) / 4, ValueError, r"shape \(2, 4\) but logits have shape \(2, 3\)"),
    ],
)
def test_cross_entropy_bad_labels_raise_the_kernels_errors(labels, error, match):
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(error, match=f"softmax_cross_entropy: .*{match}"):
        softmax_cross_entropy(z, labels)


def test_cross_entropy_other_bad_inputs():
    with pytest.raises(ValueError, match="the batch is empty"):
        softmax_cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        softmax_cross_entropy(Tensor(np.zeros(3)), np.array([1]))
    with pytest.raises(TypeError, match="softmax_cross_entropy: needs a Tensor"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(TypeError, match="labels get no gradient"):
        softmax_cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.eye(3)[[0, 1]]))
    constant = Tensor(np.eye(3)[[0, 1]], requires_grad=False)
    loss = softmax_cross_entropy(Tensor(np.zeros((2, 3))), constant)
    assert loss.item() == pytest.approx(np.log(3))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("shape", [(3, 4), (300, 1000), (1101, 1000)])
def test_fused_kernel_names_a_non_finite_logit_without_numpy_warnings(bad, shape):
    z = np.zeros(shape)
    z[-1, 2] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"logits must be finite, but logits\[.*, 2\]"):
            kernels.softmax_cross_entropy(z, np.zeros(shape[0], dtype=int))


@pytest.mark.parametrize("shape", [(5, 3), (700, 1000), (40000, 10), (1101, 1000), (150001, 7)])
def test_fused_kernel_blocks_give_the_plain_formula(shape):
    """The kernel works through large inputs in blocks of rows; every block is right."""
    rng = np.random.default_rng(7)
    z = rng.normal(size=shape) * 4
    labels = rng.integers(0, shape[1], shape[0])
    result = kernels.softmax_cross_entropy(z, labels)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(shape[0])
    np.testing.assert_allclose(result.probs, p, rtol=1e-12, atol=1e-15)
    assert result.loss == pytest.approx(-np.log(p[rows, labels]).mean(), rel=1e-12)
    y = np.zeros(shape)
    y[rows, labels] = 1
    np.testing.assert_allclose(result.grad(), (p - y) / shape[0], rtol=1e-12, atol=1e-15)
    soft = kernels.softmax_cross_entropy(z, y)
    assert soft.loss == pytest.approx(result.loss, rel=1e-12)
    z32 = kernels.softmax_cross_entropy(z.astype(np.float32), labels)
    assert z32.probs.dtype == np.float32
    np.testing.assert_allclose(z32.probs, p, atol=1e-6)


def test_fused_backward_accepts_probabilities_in_any_memory_order():
    z = np.random.default_rng(8).normal(size=(6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0])
    result = kernels.softmax_cross_entropy(z, labels)
    fortran = np.asfortranarray(result.probs)
    np.testing.assert_array_equal(
        kernels.softmax_cross_entropy_backward(fortran, labels), result.grad()
    )
    transposed_logits = np.ascontiguousarray(z.T).T  # the same numbers, column-major
    np.testing.assert_allclose(
        kernels.softmax_cross_entropy(transposed_logits, labels).grad(), result.grad(), atol=1e-16
    )


@SETTINGS
@given(logits_and_labels(), st.sampled_from([-1e4, -1e3, 1e3, 1e4]))
def test_cross_entropy_equals_the_stable_unfused_graph_at_large_offsets(case, offset):
    z, labels = case
    z = z + offset  # the same softmax, with numbers far outside exp's range

    def unfused(t, labels):
        return -log_softmax(t, axis=1)[np.arange(t.shape[0]), labels].mean()

    fused, (g_fused,) = gradients(lambda t: softmax_cross_entropy(t, labels), z)
    stable, (g_stable,) = gradients(lambda t: unfused(t, labels), z)
    assert np.isfinite(fused) and np.isfinite(g_fused).all()
    assert abs(float(fused) - float(stable)) <= 1e-9
    np.testing.assert_allclose(g_fused, g_stable, rtol=0, atol=1e-10)


@pytest.mark.parametrize("op", [softmax, log_softmax])
def test_an_empty_batch_goes_through_softmax_and_log_softmax_and_back(op):
    x = Tensor(np.zeros((0, 3)))  # log_softmax failed here with numpy's "zero-size array" text
    out = op(x)
    assert out.shape == (0, 3)
    out.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=f"{op.__name__}: axis 0 of shape \\(0, 3\\) is empty"):
        op(x, axis=0)
    with pytest.raises(ValueError, match=r"the batch is empty \(logits of shape \(0, 3\)\)"):
        softmax_cross_entropy(x, [])
