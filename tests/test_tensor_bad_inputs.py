"""The Tensor engine answers every bad input: no inf or NaN comes back silently, no numpy warning
escapes, and every error names the op, its inputs and the values (issue 14).

Each test here failed on the engine before the fix (numpy's RuntimeWarning and an inf result,
"could not convert string to float", a 0-d object array, an aliased labels array).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes

from course_lib.tensor import Tensor, linear, softmax, softmax_cross_entropy
from course_lib.tensor.validation import result_error

SETTINGS = settings(max_examples=40, deadline=None)


@pytest.fixture(autouse=True)
def numpy_warnings_are_errors():
    """A RuntimeWarning from numpy would fail the test: none may escape the engine."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- forward: an op whose result overflows, or is NaN ------------------------------------------


@pytest.mark.parametrize(
    "make, op, values",
    [
        (lambda: Tensor([1e308]) * 10, "mul", "1e+308 and 10"),
        (lambda: 10 * Tensor([1e308]), "mul", "10 and 1e+308"),
        (lambda: Tensor([1000.0]).exp(), "exp", "the input is 1000"),
        (lambda: Tensor([1e308, 1.0]) + Tensor([1e308, 1.0]), "add", "1e+308 and 1e+308"),
        (lambda: Tensor([-1e308]) - 1e308, "sub", "-1e+308 and 1e+308"),
        (lambda: Tensor([1e-320]) ** -1, "pow", "the input is 1e-320"),
        (lambda: Tensor([10.0]) ** 400, "pow", "the input is 10"),
        (lambda: Tensor([1.0]) / 1e-310, "div", "1 and 1e-310"),
        (lambda: Tensor([1e308, 1e308]).sum(), "sum", "largest |entry|"),
        (lambda: Tensor([1e308, 1e308]).mean(), "mean", "largest |entry|"),
        (lambda: Tensor([[1e200]]) @ Tensor([[1e200]]), "matmul", "largest |entry|"),
        (lambda: linear(np.ones((2, 1)), Tensor([[1e308]]), Tensor([1e308])), "linear", ""),
    ],
)
def test_an_overflow_raises_overflow_error_naming_the_op_and_the_values(make, op, values):
    with pytest.raises(OverflowError) as caught:
        make()
    message = str(caught.value)
    assert message.startswith(f"{op}: the result overflows to ")
    assert values in message
    assert "the largest float64 is 1.798e+308" in message


def test_a_float32_overflow_names_float32s_limit():
    with pytest.raises(OverflowError, match=r"the largest float32 is 3.403e\+38"):
        Tensor(np.array([1e30], dtype=np.float32)) * np.float32(1e10)


def test_the_message_counts_the_bad_entries_and_names_the_first():
    x = Tensor([1.0, 800.0, 2.0, 900.0], label="z")
    with pytest.raises(OverflowError) as caught:
        x.exp()
    message = str(caught.value)
    assert "at 2 of its 4 entries" in message and "first at [1], where the input is 800" in message
    assert "input: 'z'" in message and "709.8" in message  # the label, and the limit of exp


def test_nan_from_finite_inputs_raises_value_error():
    # numpy sums 16 numbers in 8 running sums: 1e308 + 1e308 = inf in one, -inf in another,
    # and inf + -inf = NaN when they meet (an overflow that ends as NaN: ValueError)
    x = Tensor([1e308, -1e308] + [0.0] * 6 + [1e308, -1e308] + [0.0] * 6)
    with pytest.raises((ValueError, OverflowError)) as caught:
        x.sum()
    assert str(caught.value).startswith("sum: the result")
    nan = result_error("sum", (x,), np.array(np.nan))
    assert isinstance(nan, ValueError)
    assert str(nan).startswith("sum: the result is NaN at 1 of its 1 entries, first at [()]")
    assert "although its input (the tensor of shape (16,)) are finite" in str(nan)


def test_a_constant_holding_inf_or_nan_is_named_when_an_op_meets_it():
    constant = Tensor([1.0, np.nan], requires_grad=False)  # may be built ...
    with pytest.raises(ValueError, match=r"^mul: its input the constant of shape \(2,\) holds"):
        Tensor([1.0, 2.0]) * constant  # ... but no op computes with it
    with pytest.raises(ValueError, match=r"^add: its input the constant of shape \(1,\) holds"):
        Tensor([1.0]) + np.array([np.inf])
    for divisor in (float("inf"), -float("inf"), np.array([np.inf, 1.0])):  # x / inf is 0
        with pytest.raises(ValueError, match=r"^div: its input .* holds inf or NaN"):
            Tensor([1.0, 2.0]) / divisor


def test_values_that_stay_in_range_are_untouched():
    x = Tensor([700.0, -1e308, 0.0])
    np.testing.assert_array_equal(x.exp().data, np.exp([700.0, -1e308, 0.0]))  # e^-1e308 = 0
    s = Tensor([-1000.0, 1000.0]).sigmoid()  # e^1000 overflows inside: σ is 0, no error
    np.testing.assert_array_equal(s.data, [0.0, 1.0])
    tiny = (Tensor([1e-320]) * 10).data[0]  # a subnormal number is finite
    assert 0 < tiny < 1e-318


@SETTINGS
@given(data=st.data(), shape=shapes(min_dims=1))
def test_any_array_times_a_huge_number_raises_or_is_finite(data, shape):
    x = data.draw(arrays(shape, -1e10, 1e10))
    factor = data.draw(st.sampled_from([1e300, -1e300, 1e298, 1.0]))
    try:
        out = Tensor(x) * factor
    except OverflowError as error:
        assert str(error).startswith("mul: the result overflows")
        with np.errstate(all="ignore"):
            assert not np.isfinite(x * factor).all()
    else:
        assert np.isfinite(out.data).all()


# ---- backward: the seed, and gradients that overflow ----------------------------------------


@pytest.mark.parametrize(
    "seed, error, match",
    [
        ("abc", TypeError, r"^backward: upstream must be an array of numbers of shape \(2,\)"),
        ([1.0, "a"], TypeError, r"^backward: upstream: needs real numbers"),
        ({"x": 1}, TypeError, r"^backward: upstream must be an array of numbers"),
        (1j, TypeError, r"needs real numbers, got an array of dtype complex128"),
        (10**400, ValueError, r"^backward: upstream: the number is an int of 401 digits"),
        (np.array([np.nan, 1.0]), ValueError, r"^backward: upstream holds inf or NaN \(1 of"),
        (
            np.array([1.0, np.inf]),
            ValueError,
            r"first at \[1\]\); an upstream gradient must be finite",
        ),
        (np.ones(5), ValueError, r"upstream has shape \(5,\) but the output has shape \(2,\)"),
    ],
)
def test_a_bad_seed_is_refused_with_a_clear_error(seed, error, match):
    y = Tensor([1.0, 2.0]) * 3
    with pytest.raises(error, match=match) as caught:
        y.backward(seed)
    assert "could not convert" not in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.parametrize(
    "x, make, seed, match",
    [
        (
            1e-320,
            lambda x: x.log(),
            1.0,
            r"^log \(backward\): the gradient for its input 'x' is inf",
        ),
        (1e-320, lambda x: x * 1e300, 1e10, r"^mul \(backward\): the gradient for its input 'x'"),
        (700.0, lambda x: x.exp(), 1e10, r"^exp \(backward\): the gradient for its input 'x'"),
        (1e-3, lambda x: x**-2, 1e300, r"^pow \(backward\): the gradient for its input 'x'"),
        (2.0, lambda x: x @ Tensor([[1e300]]), 1e10, r"^matmul \(backward\): the gradient"),
        (2.0, lambda x: x / 1e-300, 1e10, r"^div \(backward\): the gradient for its input 'x'"),
    ],
)
def test_a_gradient_that_overflows_names_the_op_whose_rule_gave_it(x, make, seed, match):
    x = Tensor([[x]], label="x")
    out = make(x)
    with pytest.raises(OverflowError, match=match) as caught:
        out.backward(np.full(out.shape, seed))
    assert "at [0, 0]" in str(caught.value)
    assert x.grad is None and out.grad is None  # no half-finished gradients left behind


def test_an_infinite_slope_at_zero_raises_zero_division_error():
    x = Tensor([0.0, 4.0], label="x")
    with pytest.raises(ZeroDivisionError) as caught:
        (x**0.5).sum().backward()
    message = str(caught.value)
    assert message.startswith("pow (backward): the gradient for its input 'x' is inf at [0]")
    assert "where the input is 0" in message and "infinite at 0" in message


def test_contributions_that_overflow_only_when_added_are_named_as_a_join():
    a = Tensor([1.0], label="a")
    out = a * 1.0 + a * 1.0  # two uses of a, each contributing the upstream gradient
    with pytest.raises(OverflowError) as caught:
        out.backward(np.array([1.5e308]))  # 1.5e308 is finite; 1.5e308 + 1.5e308 is not
    message = str(caught.value)
    assert message.startswith("backward: the gradient of 'a' overflows to inf where the")
    assert "contributions of its 2 uses are added (sum at joins)" in message


def test_the_error_leaves_no_gradients_and_a_later_backward_works():
    x = Tensor([1e-320, 1.0], label="x")
    y = x.log()
    with pytest.raises(OverflowError):
        y.backward(np.ones(2))
    assert x.grad is None and y.grad is None
    y.backward(np.array([0.0, 1.0]))  # 0 / 1e-320 is 0: finite
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


# ---- numpy sees a tensor as its numbers --------------------------------------------------------


def test_np_array_of_a_tensor_is_its_numbers():
    t = Tensor([1.0, 2.0])
    array = np.array(t)
    assert array.dtype == np.float64 and array.tolist() == [1.0, 2.0]
    assert array is not t.data  # np.array copies ...
    assert np.asarray(t) is t.data  # ... np.asarray does not
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # asarray has copy= from numpy 2 on
        with pytest.raises(ValueError, match="a copy is needed"):
            np.asarray(t, dtype=np.float32, copy=False)


def test_numpy_functions_on_a_tensor_still_refuse():
    with pytest.raises(TypeError):
        np.exp(Tensor([1.0]))  # a ufunc would silently leave the graph


def test_a_list_holding_tensors_is_not_turned_into_numbers():
    x = Tensor([1.0])
    with pytest.raises(TypeError, match=r"^Tensor: got a list holding Tensors"):
        Tensor([x, x])
    with pytest.raises(TypeError, match=r"^add: got a list holding Tensors"):
        x + [x, 1.0]
    with pytest.raises(TypeError, match=r"^Tensor: got a list holding Tensors"):
        Tensor([[1.0, 2.0], [3.0, x]])  # deep inside, and not first
    assert Tensor([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)  # plain numbers: as before


# ---- the fused cross-entropy keeps its own labels -----------------------------------------------


@pytest.mark.parametrize("kind", ["indices", "one-hot rows"])
def test_changing_the_labels_after_the_forward_pass_does_not_change_the_gradient(kind):
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    labels = np.array([2, 0]) if kind == "indices" else np.eye(3)[[2, 0]]
    expected = Tensor(z.copy())
    softmax_cross_entropy(expected, labels.copy()).backward()
    logits = Tensor(z.copy())
    loss = softmax_cross_entropy(logits, labels)
    labels[...] = labels[::-1].copy()  # the caller reuses its array
    loss.backward()
    np.testing.assert_array_equal(logits.grad, expected.grad)


# ---- the softmax ops stay finite where the naive formula would not -------------------------------


def test_softmax_of_huge_logits_is_finite_and_silent():
    z = Tensor([[1e300, -1e300, 0.0]])
    p = softmax(z)
    np.testing.assert_array_equal(p.data, [[1.0, 0.0, 0.0]])
    p.backward(np.array([[1.0, 2.0, 3.0]]))
    assert np.isfinite(z.grad).all()


# ---- numbers from Python and NumPy (issue 24) ---------------------------------------------------

F64 = Tensor([1.0, 2.0])
F32 = Tensor(np.array([1.0, 2.0], dtype=np.float32))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: F64 * 10**400, ValueError, r"^mul: the number is an int of 401 digits, too large"),
        (lambda: 10**400 + F64, ValueError, r"^add: the number is an int of 401 digits"),
        (lambda: F64 / -(10**400), ValueError, r"^div: the number is an int of 401 digits"),
        (lambda: F64**10**400, ValueError, r"^pow: x \*\* k: the exponent k is an int of 401"),
        (lambda: Tensor(10**400), ValueError, r"^Tensor: the number is an int of 401 digits"),
        (lambda: Tensor([1.0, 10**400]), ValueError, r"^Tensor: an entry is an int of 401"),
        (lambda: F32 * 1e300, OverflowError, r"^mul: the number 1e\+300 is too large for the "),
        (lambda: F32 * 2**200, OverflowError, r"^mul: the number 1.607e\+60 is too large for "),
        (lambda: F64 * "2", TypeError, r"^mul: cannot combine a Tensor with str"),
        (lambda: F64 * True, TypeError, r"^mul: cannot combine a Tensor with bool"),
    ],
)
def test_a_number_beyond_the_floats_is_refused_with_the_one_checks_sentence(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_numpy_numbers_and_ints_beyond_64_bits_are_numbers():
    assert (F64 * np.int64(3)).data.tolist() == [3.0, 6.0]
    assert (F64 ** np.int64(3)).data.tolist() == [1.0, 8.0]
    assert (F64 + np.float32(0.5)).data.tolist() == [1.5, 2.5]
    assert (F32 * np.int64(3)).data.dtype == np.float32
    assert Tensor(np.int64(3)).data.tolist() == 3.0
    assert Tensor(2**70).data.tolist() == 2.0**70  # numpy keeps it as an object: not refused
    assert Tensor([1, 2**70]).data.dtype == np.float64
    assert (F64 * 2**70).data.tolist() == [2.0**70, 2.0**71]
    assert F64.sum(axis=np.int64(0)).data.tolist() == 3.0
    assert F64[np.int64(1)].data.tolist() == 2.0


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda t: t.sum(axis=10**400), ValueError, r"^sum: axis an int of 401 digits is out of"),
        (lambda t: t.max(axis=10**400), ValueError, r"^max: axis an int of 401 digits"),
        (lambda t: softmax(t, axis=10**400), ValueError, r"^softmax: axis an int of 401 digits"),
        (lambda t: t[10**400], IndexError, r"^index: an int of 401 digits is beyond any axis"),
        (lambda t: t[2**70], IndexError, r"^index: 1180591620717411303424 is beyond any axis"),
        (lambda t: t[[10**400]], IndexError, r"^index: \[1000.*\] holds an int beyond any axis"),
        (lambda t: t.reshape(10**400), ValueError, r"^reshape: cannot reshape shape \(2, 3\)"),
        (lambda t: t.transpose(10**400, 0), ValueError, r"^transpose: axes \(1000"),
    ],
)
def test_a_huge_int_as_an_axis_or_index_is_named_by_its_length(make, error, match):
    with pytest.raises(error, match=match) as caught:
        make(Tensor(np.ones((2, 3))))
    assert "0" * 60 not in str(caught.value)  # never 400 digits in a message


@pytest.mark.parametrize("shape", [(None,), ("6",), (2.0, 3), (True, 6)])
def test_a_shape_that_is_not_ints_is_refused_with_a_sentence(shape):
    with pytest.raises(TypeError, match=r"^reshape: the new shape must be whole numbers"):
        Tensor(np.ones((2, 3))).reshape(*shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_logits_at_the_ends_of_the_floats_is_silent(dtype):
    big = np.finfo(dtype).max * 0.95  # z - m overflows to -inf on the way: e^-inf = 0 is right
    x = Tensor(np.array([[big, -big, 0.0]], dtype=dtype))
    out = softmax(x)
    assert out.data.tolist() == [[1.0, 0.0, 0.0]]
    out.backward(np.ones((1, 3), dtype))
    assert np.isfinite(x.grad).all()


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("np.exp(t)", TypeError, r"np.exp\(t\) with a Tensor t: .* use t.exp\(\)"),
        ("np.maximum(t, 0)", TypeError, "the Tensor engine has no maximum op"),
        ("float(t)", TypeError, r"float\(t\): a Tensor is not a plain number; t.item\(\)"),
        ("t < 3", TypeError, r"compare its numbers: t.data <"),
        ("t >= t", TypeError, "has no order"),
        ("Tensor(True)", TypeError, "Tensor needs numbers, got True \\(a bool\\)"),
        ("Tensor([1.0], requires_grad='no')", TypeError, "requires_grad must be True or False"),
        ("Tensor([[1.0, 2.0], [3.0]])", TypeError, "has rows of different lengths"),
        ("t.reshape((7,))", ValueError, "must hold the same number of elements"),
        ("t.reshape((-1, -1))", ValueError, "only one size may be -1"),
    ],
)
def test_python_and_numpy_habits_get_a_sentence(code, error, words):
    """np.exp(t) gave numpy's "does not support ufuncs (__array_ufunc__=None)", t < 3 and
    float(t) Python's own text, a ragged list numpy's "inhomogeneous shape after 1 dimensions",
    reshape numpy's "cannot reshape array of size 6 into shape (7,)", Tensor(True) was 1.0."""
    from course_lib.tensor import Tensor as T

    t = T(np.arange(6.0))
    with pytest.raises(error, match=words):
        eval(code, {"np": np, "t": t, "Tensor": T})


def test_numpy_arrays_and_numbers_on_the_left_still_build_the_graph():
    t = Tensor([1.0, 2.0])
    for out in (np.array([1.0, 2.0]) + t, np.float64(2) * t, np.ones((2, 2)) @ t):
        assert isinstance(out, Tensor) and t in out.parents
    out = np.array([3.0, 4.0]) * t
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 4.0])


def test_one_softmax_axis_and_an_upstream_that_fits_the_dtype():
    from course_lib.tensor import log_softmax

    with pytest.raises(TypeError, match=r"takes one axis \(an int, such as -1"):
        softmax(Tensor(np.ones((2, 3))), axis=None)  # numpy's "too many values to unpack"
    with pytest.raises(TypeError, match="takes one axis"):
        log_softmax(Tensor(np.ones((2, 3))), axis=[0])
    t = Tensor(np.array([1.0, 2.0], np.float32))
    with pytest.raises(OverflowError, match="upstream holds 1e\\+308, too large for the output's"):
        (t.sum() * 2).backward(1e308)  # numpy warned 'overflow encountered in cast'


def test_broadcast_axes_names_what_is_not_a_shape():
    from course_lib.tensor import broadcast_axes

    with pytest.raises(TypeError, match=r"broadcast_axes needs two shapes, tuples of sizes"):
        broadcast_axes(None, (3, 4))


@pytest.mark.parametrize(("seed", "dtype"), [(np.float32(0.5), np.float64), (0.5, np.float32)])
def test_a_seed_of_another_float_width_is_taken_without_a_warning(seed, dtype) -> None:
    """A float32 seed for a float64 output compared its entries with float64's limit cast to
    float32, which numpy warned about (CI, hypothesis: backward(np.float32(0.5)))."""
    t = Tensor(np.array([1.0, 2.0, 3.0], dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (t.sum() * 2).backward(seed)
    np.testing.assert_array_equal(t.grad, np.full(3, 1.0, dtype))
