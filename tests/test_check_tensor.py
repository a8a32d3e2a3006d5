"""Tests of the tensor part of course_lib.checks: element-wise gradient checks and Jacobians."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, broadcast_shape_pairs, shapes

import course_lib.tensor.node as tensor_module
from course_lib.checks import (
    jacobian_finite_differences,
    jacobian_reverse_mode,
    tensor_gradient_check,
)
from course_lib.tensor import Tensor
from course_lib.tensor.ops import RULES, Rule, result_node

SETTINGS = settings(max_examples=25, deadline=None)


def test_report_for_a_broadcasting_layer():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(2,))
    report = tensor_gradient_check(lambda X, W, b: (X @ W + b).tanh(), X, W, b)
    assert report.ok
    assert report.names == ("X", "W", "b")
    assert report.shapes == ((4, 3), (3, 2), (2,))
    assert all(g.shape == s for g, s in zip(report.backward, report.shapes, strict=True))
    assert max(report.max_abs_error) < 1e-8
    text = str(report)
    assert "all gradients agree" in text and text.count("yes") == 3


def test_scalar_output_uses_seed_one_and_float32_inputs_are_checked_in_float64():
    x = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    report = tensor_gradient_check(lambda x: (x * x).sum(), x)
    assert report.ok
    assert report.backward[0].dtype == np.float64
    np.testing.assert_allclose(report.backward[0], 2 * x.astype(np.float64))


def test_upstream_is_used_when_given():
    report = tensor_gradient_check(lambda x: x * 3, np.ones((2, 2)), upstream=[[1, 0], [0, 2]])
    np.testing.assert_allclose(report.backward[0], [[3, 0], [0, 6]])
    assert report.ok


def _sine(a: Tensor) -> Tensor:
    return result_node(np.sin(a.data), (a,), "sin")


def test_a_wrong_local_rule_is_caught(monkeypatch):
    # d sin(a)/da is cos(a); this rule uses sin(a): the check must notice.
    def wrong(upstream, out, a):
        return upstream * out.data

    monkeypatch.setitem(RULES, "sin", Rule("sin", "sin({a})", wrong, ("upstream * out",)))
    report = tensor_gradient_check(lambda x, y: _sine(x) * y, [0.3, 1.2], [2.0])
    assert not report.ok
    assert report.passed == (False, True)
    assert "SOME GRADIENTS DISAGREE" in str(report)


def test_a_forgotten_broadcast_sum_is_caught(monkeypatch):
    # Without sum_to_shape the bias would receive a gradient in the result's shape.
    monkeypatch.setattr(tensor_module, "sum_to_shape", lambda grad, shape: grad)
    report = tensor_gradient_check(lambda X, b: X + b, np.ones((3, 2)), np.ones(2))
    assert not report.ok
    assert report.passed == (True, False)
    assert "gradient of shape (3, 2), not (2,)" in str(report)


@SETTINGS
@given(data=st.data(), pair=broadcast_shape_pairs())
def test_check_agrees_on_random_broadcast_graphs(data, pair):
    a, b = data.draw(arrays(pair[0])), data.draw(arrays(pair[1]))
    assert tensor_gradient_check(lambda a, b: (a * b + a).sigmoid() - b, a, b).ok


# ---- Jacobians -------------------------------------------------------------------------------


def softmax(z: Tensor) -> Tensor:
    e = (z - z.max()).exp()
    return e / e.sum()


def test_softmax_jacobian_is_dense_both_ways():
    z = np.array([1.0, 2.0, 0.5])
    p = np.exp(z) / np.exp(z).sum()
    expected = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(jacobian_reverse_mode(softmax, z), expected, atol=1e-12)
    np.testing.assert_allclose(jacobian_finite_differences(softmax, z), expected, atol=1e-8)


def test_linear_map_and_elementwise_jacobians():
    A = np.arange(6.0).reshape(2, 3)
    x = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(jacobian_reverse_mode(lambda v: A @ v, x), A)
    np.testing.assert_allclose(jacobian_finite_differences(lambda v: A @ v, x), A, atol=1e-8)
    np.testing.assert_allclose(jacobian_reverse_mode(lambda v: v.exp(), x), np.diag(np.exp(x)))


def test_rows_picks_output_elements():
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(jacobian_reverse_mode(lambda v: A @ v, np.ones(3), rows=[1]), A[1:])


@SETTINGS
@given(data=st.data(), shape=shapes(max_dims=2, max_side=3))
def test_reverse_and_numerical_jacobians_agree(data, shape):
    x = data.draw(arrays(shape))
    c = data.draw(arrays(shape[-1:]))

    def f(t):
        return (t * c).tanh().sum(axis=0) if t.ndim else (t * t).exp()

    reverse = jacobian_reverse_mode(f, x)
    numerical = jacobian_finite_differences(f, x)
    size = f(Tensor(x)).size
    assert reverse.shape == numerical.shape == (size, x.size)
    np.testing.assert_allclose(reverse, numerical, rtol=1e-5, atol=1e-7)


# ---- errors ----------------------------------------------------------------------------------


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="f must return a Tensor, got float"):
        tensor_gradient_check(lambda x: 1.0, [1.0])
    with pytest.raises(ValueError, match="input 0 holds inf or nan"):
        tensor_gradient_check(lambda x: x.sum(), [np.inf])
    with pytest.raises(TypeError, match="input 1 must be an array of real numbers"):
        tensor_gradient_check(lambda x, y: x + y, [1.0], "abc")
    with pytest.raises(ValueError, match=r"upstream has shape \(3,\) but f's output has shape"):
        tensor_gradient_check(lambda x: x * 2, np.ones((2, 2)), upstream=np.ones(3))
    with pytest.raises(TypeError, match="f takes 2 inputs but the point has 1"):
        tensor_gradient_check(lambda x, y: x + y, [1.0])
    with pytest.raises(ValueError, match="step h must be positive"):
        jacobian_finite_differences(lambda x: x, [1.0], h=0)
    with pytest.raises(IndexError, match="row 5 is outside the 2 output elements"):
        jacobian_reverse_mode(lambda x: x * 1, [1.0, 2.0], rows=[5])


@pytest.mark.parametrize(
    "f",
    [
        lambda t: t,  # f returns its input
        lambda t: t.reshape(2, 3),  # a view of it
        lambda t: t.reshape(6) * 1.0,
    ],
    ids=["identity", "reshape", "scaled"],
)
def test_finite_difference_jacobian_of_a_function_that_returns_its_input_or_a_view(f):
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(jacobian_finite_differences(f, x), np.eye(6), atol=1e-9)


def test_tensor_check_names_a_kink():
    report = tensor_gradient_check(lambda x: x.relu(), np.array([0.0, 1.0, -2.0]))
    assert not report.ok
    assert "element [0] = 0 is at or within h = 1e-06 of a kink" in report.problems[0]
    smooth = tensor_gradient_check(lambda x: x.sigmoid(), np.array([0.0, 1.0, -2.0]))
    assert smooth.ok and smooth.problems == ("",)


def test_tensor_check_names_a_step_that_leaves_the_domain():
    with pytest.raises(ValueError, match="crosses the edge of f's domain") as caught:
        tensor_gradient_check(lambda x: x.log(), np.array([1e-7, 1.0]))
    assert "element [0] = 1e-07" in str(caught.value)


def test_tensor_check_names_a_kink_near_the_point_as_near():
    report = tensor_gradient_check(lambda x: x.relu(), np.array([1e-7, 1.0]))
    assert not report.ok
    assert "element [0] = 1e-07 is at or within h = 1e-06 of a kink" in report.problems[0]


def _blows_up(a: Tensor) -> Tensor:
    # An op whose output is inf, made without numpy warning about it.
    return result_node(np.full(a.data.shape, np.inf), (a,), "blowup")


@pytest.mark.parametrize(
    "run",
    [
        lambda f, x: tensor_gradient_check(f, x),
        lambda f, x: jacobian_reverse_mode(f, x),
        lambda f, x: jacobian_finite_differences(f, x),
    ],
    ids=["tensor_gradient_check", "jacobian_reverse_mode", "jacobian_finite_differences"],
)
@pytest.mark.parametrize("f", [_blows_up, lambda x: x.exp()], ids=["inf-op", "exp-overflow"])
def test_an_output_that_is_not_finite_at_the_point_is_an_error_not_a_warning(run, f):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning is not an answer
        with pytest.raises((ValueError, ArithmeticError)) as caught:
            run(f, np.array([1e308, 1.0]))
    assert "nudge" not in str(caught.value) and str(caught.value)


def test_a_number_too_large_for_a_float_is_named():
    with pytest.raises(ValueError, match="too large for a float"):
        tensor_gradient_check(lambda x: x * 2, 10**400)
    with pytest.raises(ValueError, match="too large for a float"):
        jacobian_finite_differences(lambda x: x * 2, [1.0, 10**400])


@pytest.mark.parametrize(
    "upstream, error, message",
    [
        ([10**400, 1.0], ValueError, "upstream holds a number too large for a float"),
        (["a", "b"], TypeError, "upstream must be an array of real numbers"),
        ("1", TypeError, "upstream must be an array of real numbers, got str"),
        ([np.nan, 1.0], ValueError, "upstream holds inf or nan"),
        ([1.0, 2.0, 3.0], ValueError, r"upstream has shape \(3,\) but f's output has shape"),
    ],
)
def test_a_bad_upstream_is_refused_with_a_sentence(upstream, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error, match=message):
            tensor_gradient_check(lambda x: x * 2, np.ones(2), upstream=upstream)


def test_steps_and_tolerances_take_numpy_numbers_and_refuse_huge_ints():
    assert tensor_gradient_check(lambda x: x * 2, np.ones(2), h=np.float32(1e-4), rtol=np.int64(1))
    with pytest.raises(ValueError, match="tensor_gradient_check: the step h is an int of 401"):
        tensor_gradient_check(lambda x: x * 2, np.ones(2), h=10**400)
    with pytest.raises(ValueError, match="jacobian_finite_differences: the step h is an int of"):
        jacobian_finite_differences(lambda x: x * 2, np.ones(2), h=10**400)
    jacobian = jacobian_reverse_mode(lambda x: x * 2, np.ones(2), rows=[np.int64(1)])
    assert jacobian.tolist() == [[0.0, 2.0]]


def test_a_jacobian_too_large_to_hold_is_refused_before_allocating():
    x = np.zeros(20_000)  # an elementwise f: a 20,000 × 20,000 Jacobian, 3.2 GB
    with pytest.raises(ValueError, match=r"^jacobian_finite_differences: the Jacobian .*mistyped"):
        jacobian_finite_differences(lambda t: t * 2, x)
    with pytest.raises(ValueError, match=r"^jacobian_reverse_mode: the Jacobian .*mistyped"):
        jacobian_reverse_mode(lambda t: t * 2, x)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tensor_gradient_check(None, np.ones(2)), TypeError, "f must be a function"),
        (lambda: jacobian_reverse_mode(3, np.ones(2)), TypeError, "f must be a function"),
        (lambda: jacobian_finite_differences("f", np.ones(2)), TypeError, "f must be a function"),
        (lambda: tensor_gradient_check(lambda x: x, np.array([1 + 1j])), TypeError, "real"),
        (lambda: jacobian_finite_differences(lambda x: x, [1j]), TypeError, "real numbers"),
        (lambda: tensor_gradient_check(lambda x: x, ["1.5"]), TypeError, "real numbers"),
        (
            lambda: tensor_gradient_check(lambda x: x * 2, np.ones(2), upstream=[1j, 1]),
            TypeError,
            "upstream must be an array of real numbers",
        ),
    ],
)
def test_a_function_that_is_none_and_complex_arrays_are_refused_with_a_sentence(call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning dropped the imaginary part
        with pytest.raises(error, match=match):
            call()


def test_rows_and_upstream_errors_say_what_to_give():
    from course_lib.checks import jacobian_reverse_mode

    with pytest.raises(TypeError, match="rows must be a list of output element indices"):
        jacobian_reverse_mode(lambda x: x.exp(), np.ones(3), rows=5)
    with pytest.raises(IndexError, match="rows run from 0 to 2"):
        jacobian_reverse_mode(lambda x: x.exp(), np.ones(3), rows=[5])
    with pytest.raises(ValueError, match="give an upstream of the output's shape"):
        tensor_gradient_check(lambda x: x.exp(), np.ones(3), upstream=np.ones(2))
