"""Tests of the fused ``linear(x, W, b)`` op: the same values and gradients as ``x @ W + b``.

Gradients are checked against central differences in float64 and against the composed two-node
graph through the same engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.checks import tensor_gradient_check
from course_lib.tensor import Tensor, linear

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def problems(draw):
    """(x, W, b or None) with x of shape (D,), (N, D) or (B, N, D) and b of shape (M,) or
    (1, M) (or none), random float64 values."""
    d, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (3,), (2, 3)]))
    bias = draw(st.sampled_from(["none", "vector", "row"]))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*batch, d))
    w = rng.normal(size=(d, m))
    b = None if bias == "none" else rng.normal(size=(m,) if bias == "vector" else (1, m))
    if bias == "row" and not batch:
        b = rng.normal(size=(m,))  # a (1, M) bias would add an axis to a 1-D result
    return x, w, b


@SETTINGS
@given(problems())
def test_same_values_and_gradients_as_the_composed_graph(problem) -> None:
    x, w, b = problem
    xs = [Tensor(x.copy()) for _ in range(2)]
    ws = [Tensor(w.copy()) for _ in range(2)]
    bs = [None if b is None else Tensor(b.copy()) for _ in range(2)]
    fused = linear(xs[0], ws[0], bs[0])
    composed = xs[1] @ ws[1] if b is None else xs[1] @ ws[1] + bs[1]
    assert fused.op == "linear" and fused.shape == composed.shape
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    upstream = np.random.default_rng(1).normal(size=fused.shape)
    fused.backward(upstream)
    composed.backward(upstream)
    np.testing.assert_allclose(xs[0].grad, xs[1].grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ws[0].grad, ws[1].grad, rtol=1e-12, atol=1e-12)
    if b is not None:
        assert bs[0].grad.shape == b.shape
        np.testing.assert_allclose(bs[0].grad, bs[1].grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, xs[0].data)  # the bias was added in place into the
    if b is not None:  # product only, never into an input
        np.testing.assert_array_equal(b, bs[0].data)


@SETTINGS
@given(problems())
def test_gradients_match_finite_differences(problem) -> None:
    x, w, b = problem
    if b is None:
        report = tensor_gradient_check(lambda x, W: linear(x, W), x, w)  # noqa: N803
    else:
        report = tensor_gradient_check(lambda x, W, b: linear(x, W, b), x, w, b)  # noqa: N803
    assert report.ok, str(report)


def test_a_numpy_batch_is_a_constant() -> None:
    x = np.arange(6.0).reshape(2, 3)
    w = Tensor(np.ones((3, 2)))
    b = Tensor(np.zeros(2))
    out = linear(x, w, b)
    (out * out).sum().backward()
    assert out.parents[0].grad is None and not out.parents[0].requires_grad
    np.testing.assert_allclose(w.grad, x.T @ (2 * out.data))
    np.testing.assert_allclose(b.grad, (2 * out.data).sum(axis=0))


def test_float32_stays_float32() -> None:
    x = np.ones((4, 3), np.float32)
    w = Tensor(np.ones((3, 2), np.float32))
    b = Tensor(np.zeros(2, np.float32))
    out = linear(x, w, b)
    out.sum().backward()
    assert out.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((np.ones((2, 3)), np.ones((3, 2))), TypeError, "W must be a Tensor"),
        ((np.ones((2, 3)), Tensor(np.ones(3))), ValueError, r"W must be a matrix \(D, M\)"),
        (
            (np.ones((2, 4)), Tensor(np.ones((3, 2)))),
            ValueError,
            r"x of shape \(2, 4\) @ W of shape \(3, 2\): x's last axis must have 3",
        ),
        (
            (np.ones((2, 3)), Tensor(np.ones((3, 2))), Tensor(np.ones(5))),
            ValueError,
            r"linear: cannot broadcast \(2, 2\) with \(5,\)",
        ),
    ],
)
def test_bad_inputs_name_the_problem(args, error, message) -> None:
    with pytest.raises(error, match=message):
        linear(*args)
