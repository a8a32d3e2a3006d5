"""Tests of course_lib.kernels: stable softmax family, softmax Jacobian and VJP, fused CE.

Every derivative is checked against central differences in float64 (the helpers below apply
the course's (f(x + h e_j) - f(x - h e_j)) / 2h to numpy functions, one input at a time).
Property tests run without hypothesis's per-example deadline: on a shared, loaded machine a
finite-difference example can take longer than 200 ms, which is not a failure of the code.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.exceptions import AxisError

from course_lib.kernels import (
    SoftmaxCrossEntropy,
    log_softmax,
    log_softmax_jacobian,
    log_softmax_vjp,
    logsumexp,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_grad,
    softmax_jacobian,
    softmax_vjp,
)

# ---------------------------------------------------------------------------------------------
# shared strategies and finite-difference helpers


def finite_floats(bound: float) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=64)


def logit_vectors(bound: float = 10.0, max_classes: int = 8) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, st.integers(1, max_classes), elements=finite_floats(bound))


def logit_batches(bound: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(1, 5), st.integers(1, 6))
    return hnp.arrays(np.float64, shapes, elements=finite_floats(bound))


# Large magnitudes: a common offset up to ±1e4 plus a spread, so that some probabilities are
# neither 0 nor 1 (otherwise J is all zeros and the comparison says little).
large_offsets = st.sampled_from([-1e4, -1e3, 0.0, 1e3, 1e4])


def central_difference_jacobian(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """J[i, j] ≈ (f(z + h e_j) - f(z - h e_j))_i / (the step actually taken), column by column.

    Dividing by (z_j + h) - (z_j - h) as computed, not by 2h, removes the rounding of the step
    itself when z_j is large (at 1e4 a float64 step of 1e-6 is only represented to ~1e-6).
    """
    z = np.asarray(z, dtype=np.float64)
    cols = []
    for j in range(z.size):
        up, down = z.copy(), z.copy()
        up[j] += h
        down[j] -= h
        cols.append((f(up) - f(down)) / (up[j] - down[j]))
    return np.stack(cols, axis=-1)


def central_difference_gradient(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∇f(z) for a scalar f of an array z, one entry at a time by central differences."""
    z = np.asarray(z, dtype=np.float64)
    grad = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (up[idx] - down[idx])
    return grad


# ---------------------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax


@settings(deadline=None)
@given(logit_vectors())
def test_softmax_matches_naive_formula_and_sums_to_one(z):
    naive = np.exp(z) / np.exp(z).sum()
    p = softmax(z)
    np.testing.assert_allclose(p, naive, rtol=1e-12, atol=1e-300)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (p >= 0).all()


@settings(deadline=None)
@given(logit_vectors(), finite_floats(1e3))
def test_softmax_ignores_a_constant_added_to_every_logit(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-9, atol=1e-12)


@settings(deadline=None)
@given(logit_vectors())
def test_logsumexp_and_log_softmax_match_naive_formulas(z):
    assert logsumexp(z) == pytest.approx(np.log(np.exp(z).sum()), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(log_softmax(z), z - logsumexp(z), rtol=1e-12, atol=1e-12)


@settings(deadline=None)
@given(logit_batches())
def test_axis_and_keepdims(z):
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T, axis=-1).T, rtol=1e-12)
    np.testing.assert_allclose(log_softmax(z, axis=0), log_softmax(z.T).T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(logsumexp(z, axis=0), logsumexp(z.T, axis=1), rtol=1e-12)
    kept = logsumexp(z, axis=1, keepdims=True)
    assert kept.shape == (z.shape[0], 1)
    np.testing.assert_allclose(kept[:, 0], logsumexp(z, axis=1), rtol=1e-12)
    np.testing.assert_allclose(softmax(z, axis=-2), softmax(z, axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_plus_minus_1e4(dtype):
    z = np.array([1e4, -1e4, 0.0], dtype=dtype)
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # no overflow or invalid operation (exp underflowing to 0 is expected and fine)
        p = softmax(z)
        lp = log_softmax(z)
        lse = logsumexp(z)
    assert p.dtype == lp.dtype == lse.dtype == dtype
    np.testing.assert_array_equal(p, np.array([1.0, 0.0, 0.0], dtype=dtype))
    np.testing.assert_allclose(lp, [0.0, -2e4, -1e4], rtol=1e-6)
    assert lse == pytest.approx(1e4, rel=1e-7)
    # Two equal huge logits: exactly 1e4 + log 2 and one half each.
    both = np.array([1e4, 1e4], dtype=dtype)
    assert logsumexp(both) == pytest.approx(
        1e4 + np.log(2.0), abs=2e-3 if dtype == np.float32 else 1e-9
    )
    np.testing.assert_array_equal(softmax(both), np.array([0.5, 0.5], dtype=dtype))
    # The naive formula really does fail here (so the test above is not vacuous).
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    assert not np.isfinite(naive).all()


def test_log_softmax_finite_where_log_of_softmax_is_not():
    z = np.array([0.0, 1e4])
    with np.errstate(divide="ignore"):
        assert np.log(softmax(z))[0] == -np.inf
    assert log_softmax(z)[0] == -1e4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [softmax, log_softmax, logsumexp])
def test_float_dtypes_are_kept(fn, dtype):
    z = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]], dtype=dtype)
    assert fn(z).dtype == dtype


@pytest.mark.parametrize("fn", [softmax, log_softmax, logsumexp])
def test_integer_input_is_computed_in_float64(fn):
    out = fn([1, 2, 3])
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, fn(np.array([1.0, 2.0, 3.0])))


def test_single_logit():
    assert softmax([3.0]).tolist() == [1.0]
    assert log_softmax([3.0]).tolist() == [0.0]
    assert logsumexp([3.0]) == 3.0


@pytest.mark.parametrize("fn", [softmax, log_softmax, logsumexp])
def test_bad_inputs_raise_clear_errors(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=f"{name}: axis 1 of z .* is empty"):
        fn(np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"must be finite, but z\[1\] = nan"):
        fn([1.0, np.nan])
    with pytest.raises(ValueError, match=r"must be finite, but z\[0, 2\] = inf"):
        fn([[1.0, 2.0, np.inf]])
    with pytest.raises(ValueError, match=r"z\[0\] = -inf"):
        fn([-np.inf, 0.0])
    with pytest.raises(AxisError, match=r"axis 2 is out of range for z of shape \(2, 3\)"):
        fn(np.zeros((2, 3)), axis=2)
    with pytest.raises(AxisError, match=r"axis -3 is out of range"):
        fn(np.zeros((2, 3)), axis=-3)
    with pytest.raises(AxisError, match="single number"):
        fn(1.0)
    with pytest.raises(TypeError, match="axis must be an integer"):
        fn([1.0, 2.0], axis=0.5)
    with pytest.raises(TypeError, match="must hold real numbers, got dtype <U"):
        fn(["a", "b"])
    with pytest.raises(TypeError, match="complex"):
        fn(np.array([1 + 2j, 0j]))
    with pytest.raises(TypeError, match="must hold real numbers, got dtype object"):
        fn(np.array([1.0, None], dtype=object))
    with pytest.raises(TypeError, match="must be an array of numbers"):
        fn([[1.0, 2.0], [3.0]])


def test_a_graph_node_is_refused_with_a_hint():
    from course_lib.autodiff.scalar import Value

    with pytest.raises(TypeError, match=r"graph node.*pass z\.data"):
        softmax(Value(1.0))


# ---------------------------------------------------------------------------------------------
# the softmax Jacobian


@settings(deadline=None)
@given(logit_vectors())
def test_jacobian_is_diag_p_minus_outer_p(z):
    p = softmax(z)
    np.testing.assert_allclose(softmax_jacobian(z), np.diag(p) - np.outer(p, p), atol=1e-15)


@settings(deadline=None)
@given(logit_vectors(bound=20.0))
def test_jacobian_equals_finite_differences(z):
    numerical = central_difference_jacobian(softmax, z)
    np.testing.assert_allclose(softmax_jacobian(z), numerical, atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(large_offsets, logit_vectors(bound=5.0))
def test_jacobian_equals_finite_differences_at_large_magnitudes(offset, spread):
    z = offset + spread  # e.g. logits near 1e4, whose differences still matter
    numerical = central_difference_jacobian(softmax, z, h=1e-5)
    np.testing.assert_allclose(softmax_jacobian(z), numerical, atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(logit_vectors(bound=1e4))
def test_jacobian_stays_finite_and_exact_for_huge_gaps(z):
    jac = softmax_jacobian(z)
    assert np.isfinite(jac).all()
    p = softmax(z)
    np.testing.assert_allclose(jac, np.diag(p) - np.outer(p, p), atol=1e-15)


@settings(deadline=None)
@given(logit_vectors())
def test_jacobian_rows_are_reverse_mode_rows(z):
    """softmax_vjp with a one-hot upstream e_i is one reverse-mode sweep: row i of J."""
    jac = softmax_jacobian(z)
    p = softmax(z)
    rows = np.stack([softmax_vjp(p, np.eye(z.size)[i]) for i in range(z.size)])
    np.testing.assert_allclose(rows, jac, atol=1e-15)


@settings(deadline=None)
@given(logit_vectors())
def test_jacobian_is_symmetric_with_zero_row_sums(z):
    jac = softmax_jacobian(z)
    np.testing.assert_allclose(jac, jac.T, atol=0)
    np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-15)


@settings(deadline=None)
@given(logit_batches())
def test_batch_jacobian_is_the_stack_of_row_jacobians(z):
    stack = softmax_jacobian(z)
    assert stack.shape == (z.shape[0], z.shape[1], z.shape[1])
    for n in range(z.shape[0]):
        np.testing.assert_array_equal(stack[n], softmax_jacobian(z[n]))


def test_jacobian_by_hand_for_1_2_3():
    # Row 0 by hand: p = (0.090, 0.245, 0.665); J_00 = p0(1 - p0), J_0j = -p0 pj.
    jac = softmax_jacobian([1.0, 2.0, 3.0])
    np.testing.assert_allclose(jac[0], [0.0819, -0.0220, -0.0599], atol=5e-5)
    assert jac.dtype == np.float64
    assert softmax_jacobian(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32


def test_jacobian_bad_inputs():
    with pytest.raises(
        ValueError, match=r"vector \(C,\) or a batch \(N, C\), got shape \(1, 2, 3\)"
    ):
        softmax_jacobian(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        softmax_jacobian(1.0)
    with pytest.raises(ValueError, match="empty"):
        softmax_jacobian(np.zeros(0))
    with pytest.raises(ValueError, match="finite"):
        softmax_jacobian([0.0, np.inf])


# ---------------------------------------------------------------------------------------------
# the VJP


@settings(deadline=None)
@given(logit_vectors(), st.data())
def test_vjp_equals_jacobian_transpose_times_g(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    p = softmax(z)
    np.testing.assert_allclose(softmax_vjp(p, g), softmax_jacobian(z).T @ g, atol=1e-12)


@settings(deadline=None)
@given(logit_batches(bound=1e4), st.data())
def test_batch_vjp_equals_jacobian_transpose_times_g_row_by_row(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    expected = np.einsum("nij,ni->nj", softmax_jacobian(z), g)
    np.testing.assert_allclose(softmax_vjp(softmax(z), g), expected, atol=1e-12)


@settings(deadline=None)
@given(logit_vectors(bound=20.0), st.data())
def test_vjp_equals_finite_differences_of_g_dot_softmax(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    numerical = central_difference_gradient(lambda x: g @ softmax(x), z)
    np.testing.assert_allclose(softmax_vjp(softmax(z), g), numerical, atol=1e-7)


def test_vjp_bad_inputs_name_both_shapes():
    p = softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"p has shape \(2, 3\) but upstream has shape \(3, 2\)"):
        softmax_vjp(p, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"p has shape \(2, 3\) but upstream has shape \(3,\)"):
        softmax_vjp(p, np.zeros(3))
    with pytest.raises(ValueError, match=r"row 1 sums to 3.*softmax output, not logits"):
        softmax_vjp(np.array([[0.5, 0.5], [1.0, 2.0]]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"non-negative.*p\[1\] = -0.5"):
        softmax_vjp([1.5, -0.5], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"p\[0\] = nan"):
        softmax_vjp([np.nan, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"axis 1 of p \(shape \(2, 0\)\) is empty"):
        softmax_vjp(np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(AxisError, match=r"axis 2 is out of range for p of shape \(2, 3\)"):
        softmax_vjp(p, np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"slice at \(0,\) along axis 0 sums to 0\.666667"):
        softmax_vjp(p, np.zeros((2, 3)), axis=0)
    with pytest.raises(TypeError, match="upstream must hold real numbers"):
        softmax_vjp([0.5, 0.5], ["a", "b"])


@settings(deadline=None)
@given(logit_batches(), st.data())
def test_vjp_along_axis_0_matches_the_transposed_problem(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    p0 = softmax(z, axis=0)
    np.testing.assert_allclose(
        softmax_vjp(p0, g, axis=0), softmax_vjp(p0.T, g.T).T, rtol=1e-12, atol=1e-15
    )
    lp0 = log_softmax(z, axis=0)
    np.testing.assert_allclose(
        log_softmax_vjp(lp0, g, axis=0), log_softmax_vjp(lp0.T, g.T).T, rtol=1e-12, atol=1e-15
    )


# ---------------------------------------------------------------------------------------------
# log-softmax: Jacobian and VJP (not symmetric, unlike softmax's)


@settings(deadline=None)
@given(logit_vectors(bound=20.0))
def test_log_softmax_jacobian_equals_finite_differences(z):
    p = softmax(z)
    jac = log_softmax_jacobian(z)
    np.testing.assert_allclose(jac, np.eye(z.size) - p[None, :], atol=1e-15)
    np.testing.assert_allclose(jac, central_difference_jacobian(log_softmax, z), atol=1e-8)


@settings(deadline=None)
@given(logit_batches(bound=1e4), st.data())
def test_log_softmax_vjp_equals_jacobian_transpose_times_g(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    expected = np.einsum("nij,ni->nj", log_softmax_jacobian(z), g)
    np.testing.assert_allclose(log_softmax_vjp(log_softmax(z), g), expected, atol=1e-11)


@settings(deadline=None)
@given(logit_vectors(bound=20.0), st.data())
def test_log_softmax_vjp_equals_finite_differences(z, data):
    g = data.draw(hnp.arrays(np.float64, z.shape, elements=finite_floats(10.0)))
    numerical = central_difference_gradient(lambda x: g @ log_softmax(x), z)
    # round-off of the central difference: about ε·|f|/h, and |f| reaches ~1e3 here (g up to
    # 10 times log-probabilities down to -40), which alone is ~2e-7 at h = 1e-6
    roundoff = 4 * np.finfo(np.float64).eps * abs(g @ log_softmax(z)) / 1e-6
    np.testing.assert_allclose(log_softmax_vjp(log_softmax(z), g), numerical, atol=1e-7 + roundoff)


def test_log_softmax_jacobian_is_not_symmetric_so_j_g_is_a_bug():
    z = np.array([1.0, 2.0, 3.0])
    jac = log_softmax_jacobian(z)
    g = np.array([1.0, 0.0, 0.0])
    right = log_softmax_vjp(log_softmax(z), g)
    np.testing.assert_allclose(right, jac.T @ g, atol=1e-15)
    assert not np.allclose(jac @ g, right)  # the mis-indexed product gives other numbers
    np.testing.assert_allclose(right, g - softmax(z), atol=1e-15)  # e_k - p


def test_log_softmax_vjp_bad_inputs():
    with pytest.raises(ValueError, match=r"log_p has shape \(3,\) but upstream has shape \(2,\)"):
        log_softmax_vjp(log_softmax([1.0, 2.0, 3.0]), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"exp\(log_p\) must sum to 1.*log_softmax output"):
        log_softmax_vjp([1.0, 2.0, 3.0], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 2\)"):
        log_softmax_jacobian(np.zeros((1, 1, 2)))


# ---------------------------------------------------------------------------------------------
# fused softmax cross-entropy


def naive_mean_cross_entropy(z: np.ndarray, y_rows: np.ndarray) -> float:
    """The unfused, unstable definition -mean_n Σ_c y_nc log softmax(z_n)_c, for comparison."""
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(-(y_rows * np.log(p)).sum(axis=1).mean())


@st.composite
def logits_and_indices(draw, bound: float = 10.0):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 6))
    z = draw(hnp.arrays(np.float64, (n, c), elements=finite_floats(bound)))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return z, labels


@st.composite
def logits_and_soft_labels(draw, bound: float = 10.0):
    z, _ = draw(logits_and_indices(bound))
    weights = draw(
        hnp.arrays(np.float64, z.shape, elements=st.floats(0.0, 1.0, allow_subnormal=False))
    )
    weights[:, 0] += 1e-3  # no all-zero row
    return z, weights / weights.sum(axis=1, keepdims=True)


@settings(deadline=None)
@given(logits_and_indices())
def test_cross_entropy_loss_matches_the_naive_definition(case):
    z, labels = case
    result = softmax_cross_entropy(z, labels)
    y = np.eye(z.shape[1])[labels]
    assert result.loss == pytest.approx(naive_mean_cross_entropy(z, y), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(result.probs, softmax(z), rtol=1e-12)
    onehot = softmax_cross_entropy(z, y)
    assert onehot.loss == pytest.approx(result.loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(onehot.grad(), result.grad(), atol=1e-15)


@settings(deadline=None)
@given(logits_and_indices())
def test_cross_entropy_gradient_is_p_minus_y_over_n_and_matches_finite_differences(case):
    z, labels = case
    n = z.shape[0]
    result = softmax_cross_entropy(z, labels)
    y = np.eye(z.shape[1])[labels]
    np.testing.assert_allclose(result.grad(), (softmax(z) - y) / n, atol=1e-15)
    numerical = central_difference_gradient(lambda x: softmax_cross_entropy(x, labels).loss, z)
    np.testing.assert_allclose(result.grad(), numerical, atol=1e-8)


@settings(deadline=None)
@given(logits_and_soft_labels())
def test_cross_entropy_with_probability_rows_matches_finite_differences(case):
    z, y = case
    result = softmax_cross_entropy(z, y)
    assert result.loss == pytest.approx(naive_mean_cross_entropy(z, y), rel=1e-9, abs=1e-9)
    numerical = central_difference_gradient(lambda x: softmax_cross_entropy(x, y).loss, z)
    np.testing.assert_allclose(result.grad(), numerical, atol=1e-8)


@settings(deadline=None)
@given(logits_and_indices())
def test_chaining_the_dense_jacobian_gives_the_same_gradient(case):
    """dL/dz = Jᵀ (dL/dp) with dL/dp_i = -y_i / (N p_i): the Jacobian cancels into P - Y."""
    z, labels = case
    y = np.eye(z.shape[1])[labels]
    p = softmax(z)
    if (p[y == 1] < 1e-200).any():
        return  # -y/p overflows in the unfused chain; the fused kernel has no such problem
    upstream = -y / (z.shape[0] * p)
    chained = np.einsum("nij,ni->nj", softmax_jacobian(z), upstream)
    np.testing.assert_allclose(softmax_cross_entropy(z, labels).grad(), chained, atol=1e-9)


@settings(deadline=None)
@given(logits_and_indices(bound=1e4))
def test_cross_entropy_finite_and_correct_at_plus_minus_1e4(case):
    z, labels = case
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        result = softmax_cross_entropy(z, labels)
        grad = result.grad()
    assert np.isfinite(result.loss) and np.isfinite(grad).all()
    # The exact loss from the definition L_n = logsumexp(z_n) - z_{n, y_n}.
    expected = np.mean(logsumexp(z, axis=1) - z[np.arange(z.shape[0]), labels])
    assert result.loss == pytest.approx(expected, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_1e4_in_both_dtypes(dtype):
    z = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        result = softmax_cross_entropy(z, [1, 1])
        grad = result.grad()
    # Row 0 puts all mass on class 0 but the label is 1: loss 2e4; row 1 is right: loss 0.
    assert result.loss.dtype == dtype and grad.dtype == dtype and result.probs.dtype == dtype
    assert result.loss == pytest.approx(1e4, rel=1e-6)
    np.testing.assert_allclose(grad, np.array([[1, -1, 0], [0, 0, 0]]) / 2, atol=1e-6)
    # The unfused naive path gives inf / nan here.
    with np.errstate(all="ignore"):
        assert not np.isfinite(naive_mean_cross_entropy(z.astype(np.float64), np.eye(3)[[1, 1]]))


def test_float32_matches_float64_closely():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(64, 10))
    labels = rng.integers(0, 10, size=64)
    r32 = softmax_cross_entropy(z.astype(np.float32), labels)
    r64 = softmax_cross_entropy(z, labels)
    assert r32.loss.dtype == np.float32
    assert r32.loss == pytest.approx(r64.loss, rel=1e-6)
    np.testing.assert_allclose(r32.grad(), r64.grad(), atol=1e-7)


def test_result_object_and_backward_function_agree():
    z = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]])
    result = softmax_cross_entropy(z, np.array([2, 0]))
    assert isinstance(result, SoftmaxCrossEntropy)
    loss, probs, labels = result  # unpacks like a tuple
    assert loss == result.loss and probs is result.probs
    assert labels.dtype == np.int64
    saved = probs.copy()
    np.testing.assert_array_equal(softmax_cross_entropy_backward(probs, labels), result.grad())
    np.testing.assert_allclose(result.grad(2.5), 2.5 * result.grad(), rtol=1e-15)
    np.testing.assert_allclose(result.grad(np.array(3.0)), 3.0 * result.grad(), rtol=1e-15)
    # grad returns a fresh array each time: the stored probs are not modified.
    np.testing.assert_array_equal(result.probs, saved)
    # They are softmax(z) up to rounding: the fused kernel sums each row in another order
    # (einsum), which may differ from softmax's sum in the last bit (numpy 1.26 does here).
    np.testing.assert_allclose(result.probs, softmax(z), rtol=1e-15, atol=0)
    # The numbers of the card: z = (1, 2, 3), true class 2.
    one = softmax_cross_entropy([[1.0, 2.0, 3.0]], [2])
    np.testing.assert_allclose(one.grad(), [[0.0900, 0.2447, -0.3348]], atol=5e-5)
    assert one.loss == pytest.approx(0.4076, abs=5e-5)


@settings(deadline=None)
@given(
    st.one_of(logits_and_indices(), logits_and_soft_labels()),
    st.sampled_from([np.float32, np.float64]),
    st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False),
)
def test_the_backward_rule_is_upstream_times_p_minus_y_over_n(case, dtype, upstream):
    """The rule notebook 06 prints, without building Y, is upstream · (P - Y) / N."""
    z, labels = case
    result = softmax_cross_entropy(z.astype(dtype), labels)
    n, c = result.probs.shape
    Y = np.eye(c)[result.labels] if result.labels.ndim == 1 else result.labels
    expected = upstream * (result.probs.astype(np.float64) - Y) / n
    grad = softmax_cross_entropy_grad(result.probs, result.labels, upstream)
    assert grad.shape == z.shape and grad.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(grad, expected, rtol=tol, atol=tol * max(1.0, abs(upstream)))
    np.testing.assert_array_equal(result.grad(upstream), grad)  # the kernel runs this rule
    np.testing.assert_array_equal(
        softmax_cross_entropy_backward(result.probs, labels, upstream), grad
    )


def test_the_plain_backward_rule_is_p_minus_y_over_n_by_hand():
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])  # N = 2 rows, C = 3 classes
    expected = [[0.1, 0.15, -0.25], [-0.2, 0.15, 0.05]]
    np.testing.assert_allclose(softmax_cross_entropy_grad(probs, np.array([2, 0])), expected)
    np.testing.assert_allclose(softmax_cross_entropy_grad(probs, np.eye(3)[[2, 0]]), expected)


def test_list_inputs_and_integer_logits():
    result = softmax_cross_entropy([[1, 2], [3, 4]], [0, 1])
    assert result.probs.dtype == np.float64
    # Row 0: logsumexp(1, 2) - 1 = log(1 + e); row 1: logsumexp(3, 4) - 4 = log(1 + 1/e).
    expected = (np.log(1 + np.e) + np.log(1 + 1 / np.e)) / 2
    assert result.loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        ([0, 3], ValueError, r"labels\[1\] = 3 is out of range for 3 classes"),
        ([0, -1], ValueError, r"labels\[1\] = -1 is negative.*silently"),
        ([0.0, 1.5], TypeError, r"class indices must be integers, but labels\[1\] = 1.5"),
        ([0.0, 1.0], TypeError, r"integer dtype, got float64.*astype\(int\)"),
        ([True, False], TypeError, "class indices must be integers in \\[0, 3\\), got dtype bool"),
        (["a", "b"], TypeError, "class indices must be integers"),
        ([0, 1, 2], ValueError, r"labels has 3 entries but logits has 2 rows"),
        ([0], ValueError, r"labels has 1 entries but logits has 2 rows"),
        (
            [[1.0, 0.0, 0.0], [0.5, 0.4, 0.0]],
            ValueError,
            r"each row of labels must sum to 1.*row 1 sums to 0\.9",
        ),
        ([[1.0, 0.0, 0.0], [1.5, -0.5, 0.0]], ValueError, r"non-negative.*labels\[1, 1\] = -0\.5"),
        (
            [[1.0, 0.0], [0.0, 1.0]],
            ValueError,
            r"label rows have shape \(2, 2\) but logits have shape \(2, 3\)",
        ),
        ([[1.0, 0.0, np.nan], [0.0, 1.0, 0.0]], ValueError, r"labels\[0, 2\] = nan"),
        (
            np.zeros((2, 3, 1)),
            ValueError,
            r"class indices \(N,\) or target rows \(N, C\), got shape \(2, 3, 1\)",
        ),
        (3, ValueError, r"got shape \(\)"),
    ],
)
def test_cross_entropy_bad_labels(labels, error, message):
    z = np.zeros((2, 3))
    with pytest.raises(error, match=message):
        softmax_cross_entropy(z, labels)


def test_cross_entropy_bad_logits():
    with pytest.raises(ValueError, match=r"batch is empty \(logits of shape \(0, 3\)\)"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match=r"logits must be 2-D.*got shape \(3,\); for one example"):
        softmax_cross_entropy(np.zeros(3), [0])
    with pytest.raises(ValueError, match=r"logits must be 2-D.*got shape \(1, 2, 3\)"):
        softmax_cross_entropy(np.zeros((1, 2, 3)), [0])
    with pytest.raises(ValueError, match=r"no classes"):
        softmax_cross_entropy(np.zeros((2, 0)), [0, 0])
    with pytest.raises(ValueError, match=r"logits\[1, 0\] = nan"):
        softmax_cross_entropy([[0.0, 1.0], [np.nan, 0.0]], [0, 1])
    with pytest.raises(ValueError, match=r"logits\[0, 1\] = inf"):
        softmax_cross_entropy([[0.0, np.inf]], [0])
    with pytest.raises(TypeError, match="logits must hold real numbers"):
        softmax_cross_entropy([["a", "b"]], [0])


def test_cross_entropy_backward_bad_inputs():
    with pytest.raises(
        ValueError, match=r"probs must be 2-D \(N rows, C classes\), got shape \(3,\)"
    ):
        softmax_cross_entropy_backward(np.full(3, 1 / 3), [0])
    with pytest.raises(ValueError, match="row 0 sums to 6.*not the logits"):
        softmax_cross_entropy_backward([[1.0, 2.0, 3.0]], [0])
    with pytest.raises(ValueError, match=r"labels\[0\] = 5 is out of range"):
        softmax_cross_entropy_backward([[0.5, 0.5]], [5])


# ---------------------------------------------------------------------------------------------
# faults an outside probe found (issue 14): aliased labels, blame, the float limit


@pytest.mark.parametrize("soft", [False, True], ids=["class indices", "target rows"])
def test_changing_the_labels_after_the_forward_pass_does_not_change_the_gradient(soft):
    z = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    labels = np.eye(3)[[2, 0]] if soft else np.array([2, 0])
    result = softmax_cross_entropy(z, labels)
    before = result.grad()
    labels[...] = np.eye(3)[[0, 1]] if soft else [0, 1]  # a reused buffer, refilled
    np.testing.assert_array_equal(result.grad(), before)
    assert result.labels is not labels


def test_the_tensor_op_keeps_its_own_labels_too():
    from course_lib.tensor import Tensor
    from course_lib.tensor import softmax_cross_entropy as cross_entropy_node

    z = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    labels = np.array([2, 0])
    expected = (softmax(z) - np.eye(3)[labels]) / 2
    x = Tensor(z)
    loss = cross_entropy_node(x, labels)
    labels[:] = [1, 1]  # between forward and backward
    loss.backward()
    np.testing.assert_allclose(x.grad, expected, atol=1e-15)


def test_a_nan_in_a_target_row_is_blamed_on_the_targets():
    with pytest.raises(ValueError) as caught:
        softmax_cross_entropy(np.zeros((1, 2)), np.array([[np.nan, 1.0]]))
    message = str(caught.value)
    assert "labels[0, 0] = nan" in message and "target rows" in message
    assert "logits" not in message.split(";", 1)[1]  # the reason names targets, not logits
    with pytest.raises(ValueError, match=r"probs\[0, 1\] = nan; probs must be numbers in \[0, 1\]"):
        softmax_cross_entropy_backward([[0.5, np.nan]], [0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_at_the_ends_of_the_float_range_give_a_finite_loss_or_a_clear_error(dtype):
    big = np.finfo(dtype).max * 0.95
    z = np.array([[big, -big], [0.0, 1.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # and no numpy warning
        right = softmax_cross_entropy(z, [0, 1])  # the true class on top: loss finite
        assert np.isfinite(right.loss) and np.isfinite(right.grad()).all()
        expected = np.log1p(np.exp(-1.0)) / 2  # row 0 loses 0, row 1 log(1 + e^-1)
        assert right.loss == pytest.approx(expected, rel=1e-6)
        np.testing.assert_array_equal(right.probs[0], [1.0, 0.0])
        # the true class at the bottom: no float can hold the loss
        with pytest.raises(OverflowError, match=r"loss of row 0 is larger than the largest"):
            softmax_cross_entropy(z, [1, 1])
        # soft targets with no mass on the far class are fine; mass on it is not
        soft = softmax_cross_entropy(z, np.array([[1.0, 0.0], [0.5, 0.5]], dtype=dtype))
        assert np.isfinite(soft.loss)
        with pytest.raises(OverflowError, match="lowest logit with target mass"):
            softmax_cross_entropy(z, np.array([[0.5, 0.5], [0.5, 0.5]], dtype=dtype))
        # the softmax family: logsumexp is exact; log p of the far class is not a float
        assert logsumexp(z[0]) == z[0, 0]
        with pytest.raises(OverflowError, match=r"log_softmax: log p at \[1\]"):
            log_softmax(z[0])
    # softmax (printed in notebook 05, so kept plain) gets the right numbers, numpy warning that
    # z - m overflowed on the way to e^(z - m) = 0
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(softmax(z[0]), [1.0, 0.0])


def test_row_losses_too_large_to_add_still_give_their_mean():
    z = np.array([[1e308, 0.0], [1e308, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        result = softmax_cross_entropy(z, [1, 1])
    assert result.loss == 1e308


# ---------------------------------------------------------------------------------------------
# issue 24: float16, upstream gradients that are not finite, empty batches

HALF = np.float16


def test_float16_over_70000_equal_logits_gives_the_right_probabilities():
    z = np.zeros((2, 70_000), HALF)  # a float16 sum of 70,000 ones would overflow at 65,504
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # and no numpy warning on the way
        p = softmax(z)
        lse = logsumexp(z)
        log_p = log_softmax(z)
        result = softmax_cross_entropy(z, np.array([0, 1]))
    assert p.dtype == HALF and lse.dtype == HALF and log_p.dtype == HALF
    np.testing.assert_allclose(p.astype(np.float64), 1 / 70_000, rtol=2e-3)  # was all 0
    np.testing.assert_allclose(lse.astype(np.float64), np.log(70_000), rtol=1e-3)  # was inf
    np.testing.assert_allclose(log_p.astype(np.float64), -np.log(70_000), rtol=1e-3)
    assert result.loss.dtype == HALF and result.probs.dtype == HALF
    assert float(result.loss) == pytest.approx(np.log(70_000), rel=1e-3)
    grad = result.grad()
    assert grad.dtype == HALF
    expected = (np.full((2, 70_000), 1 / 70_000) - np.eye(2, 70_000)) / 2
    np.testing.assert_allclose(grad.astype(np.float64), expected, rtol=2e-3, atol=6e-8)
    # what softmax returns, its VJP and the cross-entropy backward take
    np.testing.assert_allclose(softmax_vjp(p, np.ones_like(p)).astype(np.float64), 0, atol=1e-6)
    softmax_cross_entropy_backward(result.probs, [0, 1])


def test_float16_probabilities_it_cannot_hold_are_refused_with_a_sentence():
    z = np.zeros((1, 10**6), HALF)  # each p = 1e-6 rounds to 1.013e-6: a row sums to 1.013
    for call in (lambda: softmax(z), lambda: softmax_cross_entropy(z, [0])):
        with pytest.raises(FloatingPointError, match="float16 cannot hold .* compute in float32"):
            call()
    assert softmax(z.astype(np.float32)).sum() == pytest.approx(1.0, rel=1e-4)
    # logsumexp is fine there (log 10^6 = 13.8), but not where m + log C passes 65,504
    assert float(logsumexp(z)[0]) == pytest.approx(np.log(10**6), rel=1e-3)
    with pytest.raises(OverflowError, match=r"logsumexp: .* larger than the largest float16"):
        logsumexp(np.full(10**7, 65504, HALF))


def test_a_float16_batch_larger_than_65504_keeps_its_gradient():
    # 1/N is not a float16 for N = 70,000 (the float16 N itself is inf): computed in float32
    result = softmax_cross_entropy(np.zeros((70_000, 2), HALF), np.zeros(70_000, dtype=int))
    grad = result.grad()
    assert grad.dtype == HALF
    np.testing.assert_allclose(grad[:, 0].astype(np.float64), -0.5 / 70_000, rtol=1e-2)
    np.testing.assert_allclose(grad[:, 1].astype(np.float64), 0.5 / 70_000, rtol=1e-2)


def half_logits() -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))
    return hnp.arrays(HALF, shapes, elements=st.floats(-30, 30, width=16))


@settings(deadline=None, max_examples=60)
@given(half_logits(), st.integers(0, 2**32 - 1))
@example(np.array([[0.0, -15.0, -15.0]], dtype=HALF), 0)  # a result among float16's subnormals
@example(np.array([[0.0, -15.0, -15.0, -15.0, -15.0]], dtype=HALF), 0)  # logsumexp near 0
def test_float16_results_are_the_float64_results_rounded_once(z, seed):
    """Every kernel on float16 gives float16, within one rounding of the exact (float64) value
    computed from the same float16 inputs."""
    z64 = z.astype(np.float64)
    g = np.random.default_rng(seed).uniform(-2, 2, z.shape).astype(HALF)
    g64 = g.astype(np.float64)
    labels = np.arange(z.shape[0]) % z.shape[1]

    # Below float16's normal range (6.1e-5) its numbers are multiples of 2**-24 (6e-8): each of
    # up to 5 terms e^(z - max) rounded there is off by up to half a step, and the result by
    # another half, so a small result can be off by 3 steps however exact the kernel is (found:
    # logsumexp([0, -15, -15]) gives 12 steps for 10.3).
    subnormal_error = 3 * 2.0**-24

    def close(got, want, atol=subnormal_error):
        assert got.dtype == HALF
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-3, atol=atol)

    with np.errstate(over="raise", invalid="raise", divide="raise"):
        close(softmax(z), softmax(z64))
        close(logsumexp(z), logsumexp(z64))
        close(log_softmax(z), log_softmax(z64), atol=1e-2)  # |log p| up to 60: ulp 0.03
        result = softmax_cross_entropy(z, labels)
        exact = softmax_cross_entropy(z64, labels)
        close(np.asarray(result.loss), exact.loss, atol=1e-2)
        p, log_p = softmax(z), log_softmax(z)
        close(result.grad(), softmax_cross_entropy_grad(result.probs.astype(np.float64), labels))
        p64 = p.astype(np.float64)  # what float16 holds: no longer summing to 1 within 1e-6
        close(softmax_vjp(p, g), p64 * (g64 - (g64 * p64).sum(axis=-1, keepdims=True)), atol=1e-3)
        close(
            log_softmax_vjp(log_p, g),
            g64 - np.exp(log_p.astype(np.float64)) * g64.sum(axis=-1, keepdims=True),
            atol=1e-2,
        )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("vjp", [softmax_vjp, log_softmax_vjp])
def test_a_vjp_refuses_an_upstream_holding_inf_or_nan(vjp, bad):
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    out = softmax(z) if vjp is softmax_vjp else log_softmax(z)
    g = np.ones_like(z)
    g[1, 2] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning either
        with pytest.raises(
            ValueError,
            match=rf"^{vjp.__name__}: upstream holds inf or NaN \(1 of its 6 entries, first at "
            r"\[1, 2\]\); an upstream gradient must be finite$",
        ):
            vjp(out, g)


def test_the_vjp_messages_are_the_tensor_engines():
    from course_lib.tensor import Tensor

    with pytest.raises(ValueError) as engine:
        (Tensor([1.0, 2.0]) * 1).backward(np.array([1.0, np.nan]))
    with pytest.raises(ValueError) as kernel:
        softmax_vjp(np.array([0.5, 0.5]), np.array([1.0, np.nan]))
    assert str(engine.value).split(": ", 1)[1] == str(kernel.value).split(": ", 1)[1]


@pytest.mark.parametrize(
    "vjp, out, g",
    [
        # g - ⟨g, p⟩ is -3.06e308 at entry 1: beyond the floats on the way
        (softmax_vjp, np.array([0.9, 0.1]), np.array([1.7e308, -1.7e308])),
        (log_softmax_vjp, np.log(np.full(3, 1 / 3)), np.full(3, 1e308)),  # Σ g is 3e308
        # in float16 the result itself, -1.2e5, is beyond 65,504 (computed in float32 on the way)
        (log_softmax_vjp, np.array([0, -20, -20], HALF), np.array([-6e4, 6e4, 6e4], HALF)),
    ],
)
def test_a_vjp_whose_result_overflows_says_so(vjp, out, g):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(OverflowError, match=rf"^{vjp.__name__}: the gradient overflows at"):
            vjp(out, g)


@pytest.mark.parametrize(
    ("upstream", "error", "message"),
    [
        (np.nan, ValueError, "upstream must be a finite number, got nan"),
        (np.inf, ValueError, "upstream must be a finite number, got inf"),
        (np.array(np.nan), ValueError, "upstream must be a finite number, got nan"),
        (10**400, ValueError, "upstream is an int of 401 digits, too large for a float"),
        ("1", TypeError, "upstream must be a number, got the text '1'"),
        (None, TypeError, "upstream must be a number, got None"),
        (True, TypeError, "upstream must be a number, got True"),
        (np.ones(2), TypeError, "upstream must be a number, got array"),
    ],
)
def test_the_fused_backward_refuses_a_bad_upstream(upstream, error, message):
    result = softmax_cross_entropy(np.array([[1.0, 2.0]]), [0])
    calls = {
        "softmax_cross_entropy_backward": lambda: softmax_cross_entropy_backward(
            result.probs, [0], upstream=upstream
        ),
        "softmax_cross_entropy_grad": lambda: result.grad(upstream),
    }
    for name, call in calls.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(error, match=f"^{name}: {re.escape(message)}"):
                call()


def test_the_fused_backward_takes_numpy_numbers_and_refuses_an_upstream_beyond_float32():
    z = np.array([[1.0, 2.0]], dtype=np.float32)
    result = softmax_cross_entropy(z, [0])
    np.testing.assert_allclose(result.grad(np.int64(3)), 3 * result.grad(), rtol=1e-6)
    np.testing.assert_allclose(result.grad(np.float32(0.5)), 0.5 * result.grad(), rtol=1e-6)
    with pytest.raises(OverflowError, match=r"upstream = 1e\+300 is larger than the largest"):
        result.grad(1e300)


def test_empty_batches_behave_alike_across_the_family():
    empty = np.zeros((0, 3))
    assert softmax(empty).shape == (0, 3) and log_softmax(empty).shape == (0, 3)
    assert logsumexp(empty).shape == (0,) and logsumexp(empty, keepdims=True).shape == (0, 1)
    assert softmax_vjp(empty, empty).shape == (0, 3)
    assert log_softmax_vjp(empty, empty).shape == (0, 3)
    assert softmax_jacobian(empty).shape == (0, 3, 3)
    assert log_softmax_jacobian(empty).shape == (0, 3, 3)
    for fn in (softmax, log_softmax, logsumexp):  # along the empty axis there is no softmax
        with pytest.raises(ValueError, match=f"{fn.__name__}: axis 0 of z .* is empty"):
            fn(empty, axis=0)
    # the cross-entropy is a mean over the rows: forward and backward refuse with one sentence
    sentence = r"the batch is empty \((logits|probs) of shape \(0, 3\)\); the mean loss over no"
    labels = np.zeros(0, dtype=int)
    for call in (
        lambda: softmax_cross_entropy(empty, labels),
        lambda: softmax_cross_entropy(empty, []),  # not blamed on the labels' dtype
        lambda: softmax_cross_entropy_backward(empty, labels),
        lambda: softmax_cross_entropy_grad(empty, labels),
    ):
        with pytest.raises(ValueError, match=sentence):
            call()


def test_a_jacobian_too_large_to_hold_is_refused_before_allocating():
    for fn in (softmax_jacobian, log_softmax_jacobian):
        with pytest.raises(ValueError, match=f"{fn.__name__}: the Jacobians .* mistyped"):
            fn(np.zeros(70_000))  # 4.9e9 numbers, 39 GB


def test_float16_log_probabilities_are_held_to_float16s_tolerance():
    # log(1/3036) rounded to float16 is 0.27% off in p: a row of exp(log p) sums to 1.0027,
    # within float16's tolerance (1e-2) though not float32's (1e-3), where log_softmax_vjp
    # computes it
    log_p = log_softmax(np.zeros((1, 3036), HALF))
    assert abs(np.exp(log_p.astype(np.float64)).sum() - 1) > 2e-3
    grad = log_softmax_vjp(log_p, np.ones_like(log_p))
    assert grad.dtype == HALF
    np.testing.assert_allclose(grad.astype(np.float64), 0, atol=5e-3)  # 1 - 1.0027 each


def test_a_float16_loss_beyond_65504_is_an_overflow_error_naming_float16():
    z = np.array([[60000.0, -60000.0]], HALF)  # the true class at the bottom: loss 120,000
    with pytest.raises(OverflowError, match=r"loss of row 0 is larger than the largest float16"):
        softmax_cross_entropy(z, [1])
    assert float(softmax_cross_entropy(z, [0]).loss) == 0.0


@pytest.mark.parametrize("jacobian", [softmax_jacobian, log_softmax_jacobian])
def test_the_jacobians_at_the_ends_of_the_floats_are_silent(jacobian):
    z = np.array([1.7e308, -1.7e308, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(jacobian(z)).all()


def test_the_sigmoid_is_one_function_used_by_the_tensor_op_and_the_deep_stacks() -> None:
    import warnings

    from course_lib.kernels import sigmoid
    from course_lib.network import stack_forward

    x = np.array([-1000.0, -3.0, 0.0, 2.5, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow of e^{1000} is no warning
        s = sigmoid(x)
    np.testing.assert_allclose(s, 0.5 * (1 + np.tanh(0.5 * x)), rtol=1e-15, atol=1e-300)
    assert s[0] == 0.0 and s[-1] == 1.0
    from course_lib.tensor import Tensor

    np.testing.assert_array_equal(Tensor(x).sigmoid().data, s)
    [_, h] = stack_forward(x[None, :], [np.eye(5)], [np.zeros(5)], "sigmoid")
    np.testing.assert_array_equal(h[0], s)


def test_a_ragged_list_and_a_keepdims_that_is_not_a_switch_are_named():
    from course_lib.kernels import logsumexp

    with pytest.raises(TypeError, match="softmax: z must be an array of numbers: .* different"):
        softmax([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="logsumexp: keepdims must be True or False"):
        logsumexp(np.ones(3), keepdims="yes")  # was taken as True


@pytest.mark.parametrize("labels", [np.array([0, 7]), np.array([0, -1]), np.array([0.5, 1.0])])
def test_the_fused_backward_checks_its_labels(labels) -> None:
    """softmax_cross_entropy_grad read labels unchecked: 7 raised numpy's IndexError and -1
    silently took the last class (the re-probe of issue 24)."""
    from course_lib.kernels import softmax_cross_entropy_grad

    probs = softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]))
    with pytest.raises((TypeError, ValueError), match="softmax_cross_entropy_grad: "):
        softmax_cross_entropy_grad(probs, labels)
    np.testing.assert_allclose(
        softmax_cross_entropy_grad(probs, np.array([2, 0])).sum(axis=1), 0.0, atol=1e-15
    )


# ---------------------------------------------------------------------------------------------
# all_finite: the one finiteness test of every op's result and every gradient


@settings(deadline=None, max_examples=150)
@given(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
    data=st.data(),
    transpose=st.booleans(),
)
@example(dtype=np.float32, shape=(3,), data=None, transpose=False)  # huge but finite entries
def test_all_finite_agrees_with_isfinite(dtype, shape, data, transpose) -> None:
    """all_finite(x) is np.isfinite(x).all() for every dtype, shape and layout: inf, -inf and
    NaN anywhere (alone, or inf beside -inf, whose squares could not cancel anyway), and large
    finite entries whose squares overflow the dot product's fast test."""
    from course_lib.kernels.validation import all_finite

    if data is None:
        x = np.array([3e38, -3e38, 1.0], dtype=dtype)
    else:
        special = st.sampled_from([np.inf, -np.inf, np.nan, 3e38, -1e20, 1e300, 0.0, -0.0])
        values = st.one_of(st.floats(-10, 10), special)
        size = int(np.prod(shape))
        drawn = data.draw(st.lists(values, min_size=size, max_size=size))
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf: a case like any other
            x = np.array(drawn, dtype=np.float64).astype(dtype).reshape(shape)
    if transpose:
        x = x.T  # not contiguous in memory when it has two axes or more
    assert all_finite(x) is bool(np.isfinite(x).all())


@settings(deadline=None, max_examples=150)
@given(
    dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64]),
    values=st.lists(st.integers(-300, 300), max_size=8),
    classes=st.integers(1, 20),
)
def test_class_indices_in_range_is_every_index_in_0_to_classes(dtype, values, classes) -> None:
    """The one range check of class labels (the network's and the kernels'): its unsigned
    reading must agree with 0 <= y < classes for signed and unsigned dtypes of every width."""
    from course_lib.kernels.validation import class_indices_in_range

    info = np.iinfo(dtype)
    y = np.array([v for v in values if info.min <= v <= info.max], dtype=dtype)
    expected = all(0 <= int(v) < classes for v in y)
    assert class_indices_in_range(y, classes) is expected
