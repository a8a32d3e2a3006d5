"""Each fast path of the Tensor engine gives the same numbers as its plain version.

The engine runs the functions of :mod:`course_lib.tensor_fast`; the plain versions in
:mod:`course_lib.tensor_ops` are the ones written to be read (notebook 03 prints
``matmul_backward``). Equal means equal to the last bit here, not merely close: each fast
path does the same arithmetic in the same order, only without temporary arrays or without a
product nobody reads. Also here: the engine's modules stay small enough to read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import arrays, matmul_shape_pairs, shapes

import course_lib
from course_lib.tensor import Tensor, linear, matmul_backward, sum_to_shape
from course_lib.tensor_fast import (
    matmul_backward_fast,
    sigmoid_backward_fast,
    sigmoid_forward_fast,
)
from course_lib.tensor_ops import _sigmoid_backward, _sigmoid_forward

SETTINGS = settings(max_examples=40, deadline=None)
DTYPES = st.sampled_from([np.float64, np.float32])
NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


@SETTINGS
@given(data=st.data(), pair=matmul_shape_pairs(), constant=st.sampled_from(["", "a", "b"]))
def test_the_engines_matmul_rule_is_the_plain_one_minus_the_unread_product(data, pair, constant):
    """matmul_backward (the version notebook 03 prints) and the engine's rule for @ (which
    skips the product for a constant input) give the same arrays, and after sum_to_shape the
    gradients backward() stores."""
    a_data, b_data = data.draw(arrays(pair[0])), data.draw(arrays(pair[1]))
    a = Tensor(a_data, requires_grad=constant != "a")
    b = Tensor(b_data, requires_grad=constant != "b")
    out = a @ b
    upstream = data.draw(arrays(out.shape))
    plain_a, plain_b = matmul_backward(upstream, a_data, b_data)
    engine_a, engine_b = matmul_backward_fast(upstream, out, a, b)
    for plain, engine, node in ((plain_a, engine_a, a), (plain_b, engine_b, b)):
        if node.requires_grad:
            np.testing.assert_array_equal(plain, engine)
        else:
            assert engine is None  # the engine skipped a whole product
    out.backward(upstream)
    for plain, node in ((plain_a, a), (plain_b, b)):
        if node.requires_grad:
            np.testing.assert_array_equal(sum_to_shape(plain, node.shape), node.grad)


@SETTINGS
@given(data=st.data(), shape=shapes(), dtype=DTYPES)
def test_sigmoid_in_place_is_the_formula_to_the_last_bit(data, shape, dtype):
    # numpy 1.x computes 1 + e^{-x} for a 0-d float32 x in float64 (a numpy scalar meets a
    # Python float: value-based casting, which numpy 2 dropped, NEP 50), so there the plain
    # formula is not float32 to compare with; the engine's fast path stays float32 either way.
    assume(not (shape == () and dtype == np.float32 and NUMPY_1))
    x = data.draw(arrays(shape, -800.0, 800.0)).astype(dtype)
    fast = sigmoid_forward_fast(x)
    plain = _sigmoid_forward(x)
    assert fast.dtype == plain.dtype == dtype and fast.shape == x.shape
    np.testing.assert_array_equal(fast, plain)
    upstream = data.draw(arrays(shape)).astype(dtype)
    out = Tensor(x).sigmoid()
    np.testing.assert_array_equal(out.data, plain)  # the op runs the fast path
    node = Tensor(x)
    fast_grad = sigmoid_backward_fast(upstream, out, node)
    plain_grad = _sigmoid_backward(upstream, out, node)
    assert fast_grad.dtype == np.asarray(plain_grad).dtype
    np.testing.assert_array_equal(fast_grad, plain_grad)


def test_the_fast_sigmoid_leaves_its_input_alone_and_makes_one_array():
    x = np.array([-1.0, 0.0, 2.0])
    before = x.copy()
    s = sigmoid_forward_fast(x)
    np.testing.assert_array_equal(x, before)
    assert s.base is None and s is not x


@SETTINGS
@given(n=st.integers(1, 5), d=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 99))
def test_linear_sums_the_bias_gradient_exactly_as_sum_to_shape_would(n, d, m, seed):
    """linear's rule sums the usual (M,) bias over the batch itself; the numbers are those of
    the generic sum_to_shape, bit for bit."""
    rng = np.random.default_rng(seed)
    W, b = Tensor(rng.normal(size=(d, m))), Tensor(rng.normal(size=m))
    out = linear(rng.normal(size=(n, d)), W, b)
    upstream = rng.normal(size=(n, m))
    out.backward(upstream)
    np.testing.assert_array_equal(b.grad, sum_to_shape(upstream, (m,)))


@pytest.mark.parametrize(
    "module", ["tensor", "tensor_ops", "tensor_functions", "tensor_fast", "tensor_checks"]
)
def test_every_module_of_the_engine_can_be_held_in_the_head(module):
    path = Path(course_lib.__file__).parent / f"{module}.py"
    assert len(path.read_text().splitlines()) <= 600
