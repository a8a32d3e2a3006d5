"""Tests of course_lib.autodiff.scalar.Value: every op against central differences in float64."""

from __future__ import annotations

import copy
import math
import pickle
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import OPS, Value, define_op, op_named, power
from course_lib.checks import central_difference, gradient_check

finite = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.1, max_value=5.0)

UNARY = {
    "neg": (lambda x: -x, finite),
    "exp": (lambda x: x.exp(), finite),
    "log": (lambda x: x.log(), positive),
    "tanh": (lambda x: x.tanh(), finite),
    "sigmoid": (lambda x: x.sigmoid(), finite),
    "square": (lambda x: x**2, finite),
    "cube": (lambda x: x**3, finite),
    "inverse": (lambda x: x**-1, positive),
    "sqrt": (lambda x: x**0.5, positive),
    "relu": (lambda x: x.relu(), finite.filter(lambda v: abs(v) > 1e-3)),
}

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "radd": lambda x, y: 2.5 + x * y,
    "rsub": lambda x, y: 2.5 - x * y,
    "rmul": lambda x, y: 2.5 * x + y,
    "rdiv": lambda x, y: 2.5 / y + x,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unary_ops_match_finite_differences(name, data):
    f, strategy = UNARY[name]
    x = data.draw(strategy)
    report = gradient_check(f, x)
    assert report.ok, report


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=40, deadline=None)
@given(x=finite, y=finite.filter(lambda v: abs(v) > 0.1))
def test_binary_ops_match_finite_differences(name, x, y):
    report = gradient_check(BINARY[name], x, y)
    assert report.ok, report


def test_the_five_node_graph_of_notebook_01_by_hand():
    # f = (x + y) * z at x=-2, y=5, z=-4: q = 3, f = -12, df/dx = df/dy = z, df/dz = q.
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad, f.grad) == (-4.0, -4.0, 3.0, -4.0, 1.0)


def test_node_used_twice_gets_the_sum_of_its_paths():
    x, y, z = Value(3.0), Value(-2.0), Value(0.5)
    f = (x * y) * (x + z)
    f.backward()
    # Path through a = x*y: y * (x + z); path through b = x + z: x * y.
    assert x.grad == pytest.approx(-2.0 * 3.5 + 3.0 * -2.0)
    g = x * x
    g.backward()
    assert x.grad == 6.0


def test_backward_twice_gives_the_same_gradients():
    x, y = Value(1.5), Value(-0.5)
    f = (x * y + x).tanh() * x
    f.backward()
    first = (x.grad, y.grad)
    f.backward()
    assert (x.grad, y.grad) == first


def test_gradients_are_none_before_backward():
    x = Value(2.0)
    f = x * 3
    assert x.grad is None and f.grad is None
    assert "not computed yet" in repr(f)


def test_parents_are_ordered_and_ops_named():
    x, y = Value(1.0, "x"), Value(2.0, "y")
    out = y * x
    assert out.parents == (y, x)
    assert out.op == "*"
    assert out.partials == (1.0, 2.0)
    assert (x**2).op == "**2" and (x**-1).op == "**-1" and (x**0.5).op == "**0.5"
    assert [n.op for n in topological_order((x + y).exp())] == ["", "", "+", "exp"]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_random_expressions_with_shared_subexpressions(seed):
    """Random graphs in which earlier nodes are reused many times (fan-out everywhere)."""
    rng = random.Random(seed)
    n_inputs = rng.randint(1, 4)
    point = [rng.uniform(-1.5, 1.5) for _ in range(n_inputs)]

    def f(*inputs):
        nodes = list(inputs)
        rng_local = random.Random(seed)
        for _ in range(rng_local.randint(1, 12)):
            a, b = rng_local.choice(nodes), rng_local.choice(nodes)
            op = rng_local.randrange(6)
            if op == 0:
                nodes.append(a + b)
            elif op == 1:
                nodes.append(a * b)
            elif op == 2:
                nodes.append(a.tanh())
            elif op == 3:
                nodes.append(a.sigmoid() - b)
            elif op == 4:
                nodes.append((a * 0.5).exp())
            else:
                nodes.append(a / (b * b + 1.0))
        return nodes[-1] + sum(nodes[:-1], Value(0.0)) * 0.1

    report = gradient_check(f, *point)
    assert report.ok, report


def test_million_node_chain_backpropagates_without_recursion_error():
    x = Value(0.3)
    out = x
    for _ in range(1_000_000):
        out = -out
    out.backward()
    assert out.data == pytest.approx(0.3)
    assert x.grad == 1.0  # an even number of negations


def test_clear_errors():
    x = Value(-1.0, "x")
    with pytest.raises(ValueError, match=r"^log: log\(x\) at x = -1: log needs a positive input"):
        x.log()
    with pytest.raises(ValueError, match="log needs a positive input"):
        Value(0.0).log()
    with pytest.raises(TypeError, match="plain number as the exponent"):
        x ** Value(2.0)
    with pytest.raises(TypeError, match="Value exponent"):
        2.0**x
    with pytest.raises(ZeroDivisionError, match=r"^/: x / 0 divides by zero"):
        x / 0
    with pytest.raises(ValueError, match=r"^\*\*0.5: x\*\*0.5 at x = -1: a negative base"):
        x**0.5
    with pytest.raises(OverflowError, match=r"^exp: exp\(1000\) is too large for a float"):
        Value(1000.0).exp()
    with pytest.raises(TypeError, match="^Value: data must be a number, got the text '3'; write"):
        Value("3")
    with pytest.raises(ValueError, match="finite"):
        Value(math.nan)
    with pytest.raises(TypeError, match="cannot combine"):
        x + "1"


# ---- bad inputs: every one answered with the op, its inputs and the reason (issue 14) ------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Value(1e308) * 10, OverflowError, r"^\*: 1e\+308 \* 10 is too large for a float"),
        (
            lambda: Value(1e308, "x") + Value(1e308, "y"),
            OverflowError,
            r"^\+: x \+ y at x = 1e\+308, y = 1e\+308 is too large",
        ),
        (lambda: Value(1000.0).exp(), OverflowError, r"^exp: exp\(1000\) is too large"),
        (lambda: Value(10.0) ** 400, OverflowError, r"^\*\*400: 10\*\*400 is too large"),
        (
            lambda: Value(1e-300) ** -1,
            OverflowError,
            r"^\*\*-1: 1e-300\*\*-1: its local partial, -1·1e-300\^-2, is too large",
        ),
        (
            lambda: Value(1e-320).log(),
            OverflowError,
            r"^log: log\(1e-320\): its local partial, 1/1e-320, is too large",
        ),
        (
            lambda: Value(0.0, "x") ** 0.5,
            ZeroDivisionError,
            r"^\*\*0.5: x\*\*0.5 at x = 0: its value is 0, but its local partial "
            r"0.5·0\^-0.5 = 0.5/0\^0.5 divides by zero \(the power rule at 0",
        ),
        (lambda: Value(0.0) ** -2, ZeroDivisionError, r"^\*\*-2: 0\*\*-2: the base is 0"),
        (
            lambda: Value(3.0) + 10**400,
            ValueError,
            r"^\+: Value: data is an int of 401 digits, too large for a float",
        ),
        (lambda: Value(3.0) * math.inf, ValueError, r"^\*: Value: data must be a finite number"),
        (lambda: Value(3.0) ** 1e400, ValueError, r"the exponent k must be a finite number"),
        (lambda: Value(10**400), ValueError, r"^Value: data is an int of 401 digits, too large"),
    ],
    ids=[
        "mul",
        "add-named",
        "exp",
        "pow",
        "partial-pow",
        "partial-log",
        "pow-rule-at-0",
        "0-to-negative",
        "huge-int",
        "inf",
        "inf-exponent",
        "huge-int-value",
    ],
)
def test_results_that_would_not_be_finite_are_refused_naming_the_op(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_the_old_errno_message_is_gone():
    with pytest.raises(OverflowError) as caught:
        Value(10.0) ** 400
    assert "Numerical result out of range" not in str(caught.value)
    assert not str(caught.value).startswith("(")


def test_a_not_a_number_result_is_a_value_error():
    nan_op = define_op("nan", "nan({a})", lambda a: (math.nan, (1.0,)), ("1",), register=False)
    with pytest.raises(ValueError, match=r"^nan: nan\(2\) is not a number \(NaN\)"):
        nan_op(Value(2.0))
    nan_partial = define_op("odd", "odd({a})", lambda a: (a, (math.nan,)), ("?",), register=False)
    with pytest.raises(ValueError, match=r"^odd: odd\(x\) at x = 2: its local partial, \?, is not"):
        nan_partial(Value(2.0, "x"))


def test_an_op_must_give_one_partial_per_input():
    short = define_op(
        "short", "short({a}, {b})", lambda a, b: (a, (1.0,)), ("1", "1"), register=False
    )
    with pytest.raises(TypeError, match="gave 1 local partials for 2 input"):
        short(Value(1.0), Value(2.0))


def test_a_sum_of_partials_that_overflows_is_no_false_alarm():
    big = define_op(
        "big",
        "big({a}, {b})",
        lambda a, b: (1.0, (1e308, 1e308)),
        ("1e308", "1e308"),
        register=False,
    )
    out = big(Value(1.0), Value(2.0))
    assert out.partials == (1e308, 1e308)


def test_an_array_is_refused_from_either_side():
    """`ndarray + Value` used to build an object array silently; now both orders refuse it."""
    for combine in (
        lambda: Value(1.0) + np.ones(3),
        lambda: np.ones(3) + Value(1.0),
        lambda: np.ones(3) * Value(1.0),
        lambda: np.ones(3) - Value(1.0),
        lambda: np.ones(3) / Value(1.0),
    ):
        with pytest.raises(TypeError, match="a Value holds one number; for arrays use"):
            combine()
    assert (np.float64(2.0) * Value(3.0)).data == 6.0  # a numpy number is a number


@pytest.mark.parametrize("how", ["deepcopy", "pickle", "copy"])
def test_a_deep_chain_can_be_copied_and_pickled(how):
    x = Value(0.5, label="x")
    node = x
    for _ in range(5000):
        node = node * 1.0 + 0.0
    node.backward()
    if how == "deepcopy":
        clone = copy.deepcopy(node)
    elif how == "pickle":
        clone = pickle.loads(pickle.dumps(node))
    else:
        clone = copy.copy(node)
        assert clone.parents is node.parents  # shallow: the graph is shared
    assert clone is not node and clone.data == node.data and clone.op == node.op
    order, copied = topological_order(node), topological_order(clone)
    assert len(copied) == len(order)
    assert [(n.data, n.grad, n.label, n.op, n.partials) for n in copied] == [
        (n.data, n.grad, n.label, n.op, n.partials) for n in order
    ]
    clone.backward()
    assert copied[0].grad == 1.0


def test_deepcopy_keeps_shared_nodes_shared():
    x = Value(2.0, "x")
    f = x * x + x
    g, y = copy.deepcopy((f, x))
    assert y.label == "x" and y is not x
    assert {id(p) for p in topological_order(g) if p.label == "x"} == {id(y)}


# ---- max routes the gradient ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(x=finite, y=finite.filter(lambda v: abs(v) > 0.1))
def test_max_matches_finite_differences_away_from_a_tie(x, y):
    if abs(x - y) < 1e-3:
        x = y + 0.5
    report = gradient_check(lambda x, y: x.max(y) * 3.0, x, y)
    assert report.ok, report


def test_max_routes_all_of_the_upstream_to_the_winner():
    x, y = Value(2.0, "x"), Value(-1.0, "y")
    out = x.max(y) * 5.0
    out.backward()
    assert (x.grad, y.grad) == (5.0, 0.0)
    a, b = Value(1.0), Value(4.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.0, 1.0)
    tie_a, tie_b = Value(3.0), Value(3.0)
    tie_a.max(tie_b).backward()  # a tie: the first input gets it all, and the sum is 1
    assert (tie_a.grad, tie_b.grad) == (1.0, 0.0)
    same = Value(3.0)
    same.max(same).backward()  # max(x, x) = x: both uses sum to the right slope
    assert same.grad == 1.0
    assert Value(2.0).max(7).data == 7.0
    assert OPS["max"].rule(1, "a", "b", out="m") == "1 if b > a else 0"
    with pytest.raises(TypeError):
        Value(1.0).max("3")


def test_relu_at_its_kink_passes_nothing_back():
    for at, slope in ((0.0, 0.0), (1e-12, 1.0), (-1e-12, 0.0)):
        v = Value(at)
        v.relu().backward()
        assert v.grad == slope


# ---- the op table ------------------------------------------------------------------------


def test_every_value_op_comes_from_the_table():
    x, y = Value(0.7, "x"), Value(-1.3, "y")
    made = [x + y, x * y, -x, x.exp(), x.log(), x.tanh(), x.sigmoid(), x.relu(), x**3, x.max(y)]
    for node in made:
        op = op_named(node.op)
        assert op is not None, node.op
        out, partials = op.compute(*(p.data for p in node.parents))
        assert (out, partials) == (node.data, node.partials)
    assert set(OPS) == {"+", "*", "neg", "exp", "log", "tanh", "sigmoid", "relu", "max"}
    for op in OPS.values():
        assert len(op.rules) == op.arity and op.formula.count("{") == op.arity


def test_op_text_in_names():
    assert OPS["*"].write("x", "y") == "x * y"
    assert OPS["*"].rule(0, "x", "y", out="f") == "y"
    assert OPS["tanh"].rule(0, "z", out="t") == "1 - t²"
    assert power(3.0).write("x") == "x**3" and power(3.0).rule(0, "x", out="o") == "3·x^2"
    assert op_named("**0.5") is power(0.5)
    assert op_named("**abc") is None and op_named("sum") is None


def test_define_op_adds_an_op_checked_against_finite_differences():
    def softplus(a):
        return math.log1p(math.exp(a)), (1 / (1 + math.exp(-a)),)

    op = define_op("softplus", "softplus({a})", softplus, rules=("σ({a})",), register=False)
    assert "softplus" not in OPS
    report = gradient_check(lambda x, y: op(x * y) * x, 0.4, -1.2)
    assert report.ok, report
    out = op(0.0)  # a plain number becomes a constant input
    assert out.data == pytest.approx(math.log(2.0)) and out.partials == (0.5,)
    with pytest.raises(TypeError, match="softplus takes 1 input"):
        op(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match="rules must be a tuple of strings"):
        define_op("bad", "bad({a})", softplus, rules="σ")
    with pytest.raises(TypeError, match="compute must be a function"):
        define_op("bad", "bad({a})", 3, rules=("1",))


def test_define_op_registers_for_drawings_and_the_stepper(monkeypatch):
    from course_lib.display.draw import draw, node_names
    from course_lib.widgets.stepper import local_partial_rule

    monkeypatch.setitem(OPS, "cube", None)  # restored after the test
    cube = define_op("cube", "cube({a})", lambda a: (a**3, (3 * a * a,)), rules=("3·{a}²",))
    x = Value(2.0, "x")
    c = cube(x).named("c")
    assert OPS["cube"] is cube
    assert "c = cube(x)" in draw(c).svg
    assert local_partial_rule(c, 0, node_names(c)) == "3·x²"


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(800.0).sigmoid().data == 1.0
    assert Value(-800.0).sigmoid().data == 0.0


def test_central_difference_of_a_known_derivative():
    assert central_difference(lambda x: x.exp(), [0.0], 0) == pytest.approx(1.0, abs=1e-9)


# ---- define_op: the engine's own ops stay, and a learner's op says what to fix (issue 24) ----


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("tanh", "my_tanh"), ("+", "my_add"), ("*", "my_mul"), ("exp", "my_exp"), ("**2", "my_2")],
)
def test_an_op_of_the_engine_cannot_be_replaced(name, suggested):
    # define_op('tanh', ...) with a wrong partial changed every later .tanh() (issue 24)
    before = dict(OPS)
    with pytest.raises(ValueError, match=rf"^define_op: '{re.escape(name)}' is the name of") as e:
        define_op(name, "{a} ? {b}", lambda a, b: (a - b, (1.0, -1.0)), ("1", "-1"))
    assert f"such as '{suggested}'" in str(e.value) and "register=False" in str(e.value)
    assert OPS == before  # nothing changed
    x, y = Value(0.5), Value(2.0)
    assert (
        (x + y).data == 2.5
        and (x * y).data == 1.0
        and x.tanh().partials[0] == pytest.approx(1 - math.tanh(0.5) ** 2)
    )


def test_a_learners_own_op_can_be_registered_again(monkeypatch):
    # Gone again after the test (setitem records that it was absent; delitem of an absent key
    # records nothing, and the op stayed in the table for the tests that came after).
    monkeypatch.setitem(OPS, "my_cube", None)
    del OPS["my_cube"]
    for _ in range(2):  # re-running the cell that defines it
        cube = define_op("my_cube", "cube({a})", lambda a: (a**3, (3 * a * a,)), ("3·{a}²",))
    assert OPS["my_cube"] is cube and cube(Value(2.0)).data == 8.0
    # unregistered, a built-in name is fine: the table does not change (notebook 02's tanh)
    mine = define_op("tanh", "tanh({a})", lambda a: (math.tanh(a), (0.0,)), ("0",), register=False)
    assert mine(Value(1.0)).partials == (0.0,) and Value(1.0).tanh().partials[0] != 0.0


def test_the_learners_op_is_gone_from_the_table_after_that_test() -> None:
    assert "my_cube" not in OPS  # runs after the test above (same file, in order)


@pytest.mark.parametrize(
    ("compute", "error", "words"),
    [
        (lambda a: 2 * a, TypeError, r"returned 3.0; it must return two things, the output's"),
        (lambda a: None, TypeError, r"returned None; it must return two things"),
        (lambda a: (2 * a, 2.0), TypeError, r"returned 2.0 as its local partials; they must be a"),
        (lambda a: (2 * a, 2.0, 1.0), TypeError, r"it must return two things"),
        (lambda a: (2 * a, {2.0}), TypeError, "they must be a tuple"),
        (
            lambda a: (2 * a + 1j, (2.0,)),
            TypeError,
            "output the op's compute returned must be a real",
        ),
        (
            lambda a: (2 * a, (2.0j,)),
            TypeError,
            "d out/d a the op's compute returned must be a real",
        ),
        (lambda a: (2 * a, (None,)), TypeError, r"d out/d a the op's compute returned must be a"),
        (lambda a: ("2", (2.0,)), TypeError, "got the text '2'"),
        (lambda a: (2 * a, ()), TypeError, "gave 0 local partials for 1 input"),
    ],
    ids=[
        "bare-number",
        "None",
        "partial-not-a-tuple",
        "three-things",
        "partials-a-set",
        "complex-out",
        "complex-partial",
        "None-partial",
        "text-out",
        "no-partials",
    ],
)
def test_a_compute_that_returns_the_wrong_shape_says_what_to_write(compute, error, words):
    op = define_op("double", "double({a})", compute, ("2",), register=False)
    with pytest.raises(error, match=words) as caught:
        op(Value(1.5, "x"))
    message = str(caught.value)
    assert message.startswith("double: double(x) at x = 1.5: ")
    if "two things" in message or "tuple" in message or "one per input" in message:
        assert "return out, (d_out_d_a,)" in message


def test_a_compute_may_return_numpy_numbers_ints_and_a_list():
    op = define_op("two", "two({a})", lambda a: [np.float64(2 * a), [2]], ("2",), register=False)
    out = op(Value(1.5))
    assert out.data == 3.0 and type(out.data) is float
    assert out.partials == (2.0,) and type(out.partials) is tuple and type(out.partials[0]) is float


@pytest.mark.parametrize(
    ("formula", "rules", "words"),
    [
        (
            "tanh({x})",
            ("1 - {out}²",),
            r"the formula 'tanh\(\{x\}\)' names \{x\}, but the op has 1",
        ),
        (
            "{a} + {b}",
            ("1",),
            r"names \{b\}, but the op has 1 input\(s\) \(one per rule\), written",
        ),
        ("f({a})", ("{x}",), r"the rules\[0\] '\{x\}' names \{x\}.*and \{out\} for its output"),
        ("f({a})", ("{0}",), r"names \{0\}"),
        ("f({out})", ("1",), r"the formula 'f\(\{out\}\)' names \{out\}"),
        ("f({a", ("1",), r"cannot be read .*write a placeholder as \{a\}, and a brace itself as"),
    ],
    ids=["unknown-x", "b-of-one-input", "rule-x", "positional", "out-in-formula", "lone-brace"],
)
def test_a_formula_or_rule_naming_an_unknown_placeholder_is_refused(formula, rules, words):
    with pytest.raises(ValueError, match=words):
        define_op("f", formula, lambda a: (a, (1.0,)), rules, register=False)


def test_a_compute_taking_the_wrong_number_of_inputs_is_refused():
    with pytest.raises(
        TypeError,
        match=r"^define_op: compute must take one number per input, 1 here \(a: the op has as "
        r"many inputs as rules\), but its parameters are \(a, b\); write def compute\(a\)",
    ):
        define_op("f", "f({a})", lambda a, b: (a, (1.0,)), ("1",), register=False)
    with pytest.raises(TypeError, match=r"compute must take one number per input, 2 here"):
        define_op("g", "g({a}, {b})", lambda a: (a, (1.0, 1.0)), ("1", "1"), register=False)
    with pytest.raises(TypeError, match=r"domain must take one number per input"):
        define_op("h", "h({a})", lambda a: (a, (1.0,)), ("1",), lambda a, b: None, register=False)
    with pytest.raises(TypeError, match="domain must be a function or None"):
        define_op("h", "h({a})", lambda a: (a, (1.0,)), ("1",), 3, register=False)
    # *args, defaults and built-ins without a signature are fine
    define_op("s", "s({a}, {b})", lambda *xs: (sum(xs), (1.0, 1.0)), ("1", "1"), register=False)
    define_op("d", "d({a})", lambda a, k=2: (k * a, (k,)), ("2",), register=False)


# ---- a Value is a node, not a plain number: each habit works or says what to write ---------


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda v, w: float(v), r"^float\(x\): a Value cannot become a plain number.* x\.data"),
        (lambda v, w: int(v), r"^int\(x\): a Value cannot become a plain number"),
        (lambda v, w: math.exp(v), r"x\.exp\(\), x\.log\(\) or x\.tanh\(\), not math\.exp"),
        (lambda v, w: v < 2, r"^x < 2: a Value .* no order.*Compare the numbers: x\.data < 2\."),
        (lambda v, w: v >= w, r"^x >= y: .*x\.data >= y\.data"),
        (lambda v, w: 2 > v, r"^x < 2: .*x\.data < 2"),  # Python asks x < 2 instead
        (lambda v, w: max(v, w), r"^y > x: .*write y\.max\(w\)"),
        (lambda v, w: sorted([v, w]), r"key=lambda v: v\.data"),
        (
            lambda v, w: v == 2.0,
            r"^x == 2.0: .*equal only to itself; compare its number: x\.data ==",
        ),
        (lambda v, w: v != 2, r"^x != 2: .*x\.data != 2"),
        (lambda v, w: bool(v), r"^if x: a Value has no truth of its own.*if x\.data > 0"),
    ],
    ids=["float", "int", "math.exp", "lt", "ge", "reflected", "max", "sorted", "eq", "ne", "bool"],
)
def test_number_habits_that_would_cut_the_graph_say_what_to_write(make, words):
    # float(v), v < 2, max(v, w), math.exp(v) gave raw TypeErrors; v == 2.0 was silently False
    v, w = Value(2.0, "x"), Value(3.0, "y")
    with pytest.raises(TypeError, match=words):
        make(v, w)


def test_an_unlabelled_value_is_called_v_in_the_sentence():
    with pytest.raises(TypeError, match=r"^v < 2: .*v\.data < 2"):
        Value(1.0) < 2  # noqa: B015
    with pytest.raises(TypeError, match=r"^v > w: .*v\.data > w\.data"):
        Value(1.0) > Value(2.0)  # noqa: B015


def test_equality_is_identity_and_hashing_stays_by_identity():
    v, twin = Value(2.0), Value(2.0)
    assert v == v and v != twin and not (v == twin)
    assert len({v, twin, v}) == 2 and {v: 1, twin: 2}[twin] == 2
    assert hash(v) == object.__hash__(v)
    none = None  # not a number: just unequal
    assert (v == "2") is False and (v != none) is True
    assert v in [twin, v] and twin not in [v]


def test_abs_round_and_format_work():
    x = Value(-2.0, "x")
    y = abs(x)
    assert isinstance(y, Value) and y.data == 2.0
    y.backward()
    assert x.grad == -1.0
    x = Value(3.0)
    abs(x).backward()
    assert x.grad == 1.0
    zero = Value(0.0)
    abs(zero).backward()
    assert zero.grad == 1.0  # the kink: the tie of max(v, -v) goes to v
    report = gradient_check(lambda a, b: abs(a * b - 1.0) * a, 0.7, -1.3)
    assert report.ok, report
    assert round(Value(2.456), 2) == 2.46 and round(Value(2.5)) == 2
    assert f"{Value(2.0):.3f}" == "2.000" and f"{Value(2.0, 'x')}" == repr(Value(2.0, "x"))


def test_a_value_still_sums_and_works_with_the_graph_code():
    xs = [Value(float(i)) for i in range(4)]
    total = sum(xs)
    total.backward()
    assert total.data == 6.0 and all(x.grad == 1.0 for x in xs)
    assert len(topological_order(total)) == 9  # 4 inputs, the constant 0, 4 sums


def test_numpy_numbers_are_numbers_and_huge_ints_are_named():
    x = Value(np.int64(3))
    assert x.data == 3.0 and type(x.data) is float
    assert (x ** np.int64(2)).data == 9.0 and (x * np.float32(0.5)).data == 1.5
    with pytest.raises(ValueError, match=r"^x \*\* k: the exponent k is an int of 401 digits"):
        x**10**400
    with pytest.raises(
        TypeError, match=r"^x \*\* k: the exponent k must be a number, got the text"
    ):
        x ** "2"
    assert power(np.int64(2)) is power(2.0) is op_named("**2")  # one op per exponent
    with pytest.raises(ValueError, match=r"^power: the exponent k is an int of 401 digits"):
        power(10**400)
    with pytest.raises(TypeError, match=r"^power: the exponent k must be a number, got \[2\]"):
        power([2])


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("np.exp(v)", r"np.exp\(v\): numpy's functions work on plain numbers .* use v.exp\(\)"),
        ("np.sin(v)", "the engine has no sin op: build it from the ops it has"),
        ("v // 2", "the engine has no // op"),
        ("v % 2", "the engine has no % op"),
        ("divmod(v, 2)", "the engine has no divmod op"),
        ("np.array([1.0]) + v", "cannot combine a Value with ndarray"),
    ],
)
def test_numpy_and_python_operators_a_value_lacks_say_what_to_write(code, words):
    """np.exp(v) gave numpy's "operand 'Value' does not support ufuncs (__array_ufunc__=None)",
    v // 2 Python's "unsupported operand type(s)"."""
    v = Value(2.0, "v")
    with pytest.raises(TypeError, match=words):
        eval(code, {"np": np, "v": v})


def test_numpy_numbers_and_unary_plus_work_with_values():
    v = Value(3.0, "v")
    assert (+v) is v
    for out, want in ((np.float64(2) * v, 6.0), (np.float32(2) + v, 5.0), (np.int64(6) / v, 2.0)):
        assert isinstance(out, Value) and out.data == want
    out = np.float64(2) * v
    out.backward()
    assert v.grad == 2.0


def test_op_named_and_define_op_name_what_they_were_given():
    with pytest.raises(TypeError, match="op_named needs an op's name, such as 'tanh'"):
        op_named(None)
    with pytest.raises(TypeError, match="define_op: register must be True or False"):
        define_op("mine", "f({a})", lambda a: (a, (1.0,)), ("1",), register="yes")
    op = define_op("mine", "f({a})", lambda a: (1.0, (10**400,)), ("1",), register=False)
    with pytest.raises(ValueError, match="is an int of 401 digits, too large for a float"):
        op(Value(2.0))  # float() of it gave "int too large to convert to float"
