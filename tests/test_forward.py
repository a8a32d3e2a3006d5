"""Forward mode (course_lib.autodiff.forward): dual numbers give the same Jacobian as reverse mode,
one column per pass instead of one row, and the operation counter counts what each costs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.autodiff.forward import (
    Dual,
    OpCount,
    jacobian_by_forward_mode,
    jacobian_by_reverse_mode,
    jvp,
)
from course_lib.autodiff.scalar import Value
from course_lib.checks import central_difference

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)

# The ops a random graph draws from: (arity, how to apply it to Value or Dual nodes).
UNARY = [
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: -a,
    lambda a: (a * 0.5).exp(),
    lambda a: (a * a + 1.0).log(),
    lambda a: a**2,
    lambda a: a.relu() + a * 0.1,
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: a - b,
    lambda a, b: a / (b * b + 1.0),
    lambda a, b: a.max(b),
]


@st.composite
def random_graphs(draw):
    """(f, n_inputs, point): f builds a random graph of 3-12 ops over n inputs (with fan-out:
    any earlier node may be reused) and returns 1-3 of its nodes as outputs."""
    n = draw(st.integers(1, 4))
    plan = []
    for step in range(draw(st.integers(3, 12))):
        available = n + step
        if draw(st.booleans()):
            plan.append(
                (0, draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, available - 1)), 0)
            )
        else:
            plan.append(
                (
                    1,
                    draw(st.integers(0, len(BINARY) - 1)),
                    draw(st.integers(0, available - 1)),
                    draw(st.integers(0, available - 1)),
                )
            )
    m = draw(st.integers(1, 3))
    picks = [draw(st.integers(0, n + len(plan) - 1)) for _ in range(m)]
    point = [draw(finite) for _ in range(n)]

    def f(*xs):
        nodes = list(xs)
        for kind, which, i, j in plan:
            nodes.append(UNARY[which](nodes[i]) if kind == 0 else BINARY[which](nodes[i], nodes[j]))
        return [nodes[p] for p in picks]

    return f, n, point


@settings(max_examples=150, deadline=None)
@given(random_graphs())
def test_forward_and_reverse_mode_give_the_same_jacobian(problem):
    f, n, point = problem
    try:
        outputs = f(*[Value(x) for x in point])
    except (OverflowError, ValueError):  # a chain of exp or squares that leaves the floats
        assume(False)
    reverse, r_count = jacobian_by_reverse_mode(f, point)
    assume(np.all(np.abs(reverse) < 1e100))  # far from overflow in either mode
    forward, f_count = jacobian_by_forward_mode(f, point)
    assert forward.shape == reverse.shape == (len(outputs), n)
    scale = 1.0 + np.abs(reverse).max()
    np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12 * scale)
    assert f_count.passes == n and r_count.passes == forward.shape[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=3, max_size=3))
def test_jacobian_matches_finite_differences(point):
    def f(x, y, z):
        return [
            (x * y).tanh() + z.sigmoid() * x,
            (x + z) * (y - 1.0).exp(),
            (x * x + y * y + 0.5).log(),
        ]

    forward, _ = jacobian_by_forward_mode(f, point)
    for i in range(3):
        for j in range(3):
            numerical = central_difference(lambda *v, i=i: f(*v)[i], point, j)
            assert forward[i, j] == pytest.approx(numerical, rel=1e-6, abs=1e-7)


def test_one_forward_pass_is_a_column_and_one_backward_pass_a_row():
    def f(x, y):
        return [x * y, x + y]

    values, column = jvp(f, [3.0, -2.0], [1.0, 0.0])
    assert values.tolist() == [-6.0, 1.0]
    assert column.tolist() == [-2.0, 1.0]  # d(xy)/dx = y, d(x + y)/dx = 1
    x, y = Value(3.0), Value(-2.0)
    (x * y).backward()
    assert [x.grad, y.grad] == [-2.0, 3.0]  # the row of x·y
    jacobian, _ = jacobian_by_reverse_mode(f, [3.0, -2.0])
    assert jacobian.tolist() == [[-2.0, 3.0], [1.0, 1.0]]


def test_a_direction_gives_the_jacobian_vector_product():
    def f(x, y):
        return [(x * y).tanh(), x.exp() * y]

    J, _ = jacobian_by_forward_mode(f, [0.3, -0.7])
    v = np.array([2.0, -1.5])
    _, tangent = jvp(f, [0.3, -0.7], v)
    np.testing.assert_allclose(tangent, J @ v, rtol=1e-14, atol=1e-15)


def test_the_count_many_inputs_one_loss():
    n = 20

    def loss(*xs):
        total = 0.0
        for x in xs:
            total = total + x.tanh() * x
        return total

    point = np.linspace(-1, 1, n)
    forward, f_count = jacobian_by_forward_mode(loss, point)
    reverse, r_count = jacobian_by_reverse_mode(loss, point)
    np.testing.assert_allclose(forward, reverse, rtol=1e-13)
    assert (f_count.passes, r_count.passes) == (n, 1)
    # the graph: per input a tanh (1 edge), a * (2 edges) and a + (2 edges): 5n edges
    assert r_count.multiplies == 5 * n
    assert f_count.multiplies == n * 5 * n
    assert repr(f_count) == f"OpCount(passes={n}, multiplies={5 * n * n})"


def test_the_count_few_inputs_many_outputs():
    def f(x, y):
        h = x * y
        for _ in range(30):  # a long shared trunk
            h = (h * 0.9).tanh() + x
        return [h * float(k) for k in range(1, 41)]  # 40 outputs off the trunk

    forward, f_count = jacobian_by_forward_mode(f, [0.5, -0.3])
    reverse, r_count = jacobian_by_reverse_mode(f, [0.5, -0.3])
    np.testing.assert_allclose(forward, reverse, rtol=1e-12)
    assert (f_count.passes, r_count.passes) == (2, 40)
    assert f_count.multiplies < r_count.multiplies / 5


def test_tangents_of_constants_and_errors():
    d = Dual(2.0, 1.0)
    assert (3.0 * d).tangent == 3.0 and (d - 1).tangent == 1.0 and (1 - d).tangent == -1.0
    assert (1 / d).tangent == pytest.approx(-0.25) and (d / 4).tangent == 0.25
    assert (d**3).tangent == 12.0 and (d + d).tangent == 2.0
    assert d.max(5.0).tangent == 0.0 and d.max(1.0).tangent == 1.0
    assert d.max(2.0).tangent == 1.0  # a tie: the first input, as Value's max
    assert repr(Dual(1.5, -2.0)) == "Dual(value=1.5, tangent=-2)"
    with pytest.raises(ValueError, match="log"):
        Dual(-1.0, 1.0).log()
    with pytest.raises(ZeroDivisionError):
        d / 0.0
    with pytest.raises(OverflowError):
        Dual(1000.0, 1.0).exp()
    with pytest.raises(TypeError):
        d + "a"
    with pytest.raises(ValueError):
        Dual(math.inf)
    with pytest.raises(TypeError, match="return a Dual"):
        jvp(lambda x: 3.0, [1.0], [1.0])
    with pytest.raises(ValueError, match="direction"):
        jvp(lambda x: x, [1.0], [1.0, 0.0])


def test_a_count_is_shared_by_everything_made_from_a_counted_input():
    count = OpCount()
    x = Dual(0.5, 1.0, count)
    y = (x * 2.0).tanh() + x  # * (2 inputs), tanh (1), + (2)
    assert y.count is count and count.multiplies == 5


# ---- numbers a user types: one check (course_lib.numbers.checking) for each (issue 24) -------


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Dual(10**400), ValueError, r"^Dual: value is an int of 401 digits, too large"),
        (lambda: Dual(1.0, 10**400), ValueError, r"^Dual: tangent is an int of 401 digits"),
        (lambda: Dual("2"), TypeError, r"^Dual: value must be a number, got the text '2'"),
        (lambda: Dual(1.0, math.nan), ValueError, r"^Dual: tangent must be a finite number"),
        (lambda: Dual(1.0, count=3), TypeError, r"^Dual: count must be an OpCount or None"),
        (lambda: Dual(2.0) ** 10**400, ValueError, r"^x \*\* k: the exponent k is an int of 401"),
        (lambda: Dual(2.0) + 10**400, ValueError, r"^\+: the number is an int of 401 digits"),
        (lambda: jvp(lambda x: x, [10**400], [1.0]), ValueError, r"^jvp: point\[0\] is an int"),
        (lambda: jvp(lambda x: x, ["3"], [1.0]), TypeError, r"^jvp: point\[0\] must be a number"),
        (lambda: jvp(lambda x: x, [1.0], [None]), TypeError, r"^jvp: direction\[0\] must be a"),
        (lambda: jvp(lambda x: x, 3.0, [1.0]), TypeError, r"^jvp: point must be a list of numbers"),
        (lambda: jvp(lambda x: x, "3", [1.0]), TypeError, r"^jvp: point must be a list"),
        (lambda: jvp(lambda x: x, [], []), ValueError, r"^jvp: the point needs at least one"),
        (
            lambda: jacobian_by_reverse_mode(lambda x: x, [math.inf]),
            ValueError,
            r"^jacobian_by_reverse_mode: point\[0\] must be a finite number",
        ),
    ],
    ids=[
        "huge-value",
        "huge-tangent",
        "text",
        "nan-tangent",
        "count",
        "huge-exponent",
        "huge-constant",
        "jvp-huge",
        "jvp-text",
        "jvp-None",
        "jvp-not-a-list",
        "jvp-text-point",
        "jvp-empty",
        "reverse-inf",
    ],
)
def test_a_bad_number_is_named_with_the_fix(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_numpy_numbers_are_numbers_in_forward_mode():
    d = Dual(np.int64(3), np.float32(0.5))
    assert (d.value, d.tangent) == (3.0, 0.5) and type(d.value) is float
    assert (d ** np.int64(2)).tangent == 3.0 and (d * np.int64(2)).value == 6.0
    values, tangents = jvp(lambda x, y: x * y, np.array([2, 3]), [np.int64(1), 0])
    assert values.tolist() == [6.0] and tangents.tolist() == [3.0]


def test_f_must_take_one_input_per_number_of_the_point():
    """jvp(None, ...) gave "'NoneType' object is not callable"; f(x, y) at a point of one
    number gave Python's "missing 1 required positional argument"."""
    with pytest.raises(TypeError, match="jvp: f must be a function of the inputs"):
        jvp(None, [1.0], [1.0])
    for jacobian in (jacobian_by_forward_mode, jacobian_by_reverse_mode):
        with pytest.raises(TypeError, match=r"the point has 1 number\(s\), but f\(x, y\)"):
            jacobian(lambda x, y: x * y, [1.0])
    with pytest.raises(ValueError, match="give the direction one entry per input"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])


def test_forward_mode_refuses_a_million_passes_before_making_one():
    from course_lib.autodiff.forward import MAX_FORWARD_INPUTS

    calls = []
    with pytest.raises(ValueError, match="use jacobian_by_reverse_mode"):
        jacobian_by_forward_mode(lambda *xs: calls.append(1) or xs[0], [0.0] * 10**6)
    assert not calls
    J, count = jacobian_by_forward_mode(lambda *xs: xs[0], [0.0] * MAX_FORWARD_INPUTS)
    assert J.shape == (1, MAX_FORWARD_INPUTS) and count.passes == MAX_FORWARD_INPUTS


def test_an_overflow_names_the_operation_and_the_fix():
    with pytest.raises(OverflowError, match=r"\*: 2 \* 1e\+308 = inf passes the largest float"):
        Dual(2.0) * 1e308
    with pytest.raises(OverflowError, match="its tangent, inf, passes the largest float"):
        Dual(1.0, 1e308) * 10.0
