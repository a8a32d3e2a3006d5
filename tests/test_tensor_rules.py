"""The Tensor engine's rule table (course_lib.tensor.ops.RULES): one entry per op, each checked.

Every entry is gradient-checked against float64 finite differences on its own example, so an op
cannot join the table without its check; and every node the engine builds takes its rule from
the table, so the rule that runs is the one registered.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import course_lib.tensor  # noqa: F401  (the functions' ops join the table on import)
from course_lib.checks import tensor_gradient_check
from course_lib.tensor import Tensor
from course_lib.tensor import functions as F
from course_lib.tensor.ops import RULES, rule, rule_of, rule_table

NAMES = sorted(RULES)


def away_from_zero(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Entries at least 0.5 from 0 (no kink of relu, no tiny divisor), either sign."""
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# For every op of the table: a function of tensors that applies it, and inputs where it is
# smooth. test_every_op_has_an_example holds this to the table: a new op needs a line here.
EXAMPLES = {
    "+": lambda rng: (lambda a, b: a + b, (rng.standard_normal((3, 4)), rng.standard_normal(4))),
    "-": lambda rng: (
        lambda a, b: a - b,
        (rng.standard_normal((3, 4)), rng.standard_normal((3, 1))),
    ),
    "*": lambda rng: (lambda a, b: a * b, (rng.standard_normal((3, 4)), rng.standard_normal(4))),
    "/": lambda rng: (lambda a, b: a / b, (rng.standard_normal((3, 4)), away_from_zero(rng, 4))),
    "neg": lambda rng: (lambda a: -a, (rng.standard_normal((2, 3)),)),
    "**": lambda rng: (lambda a: a**2.5, (rng.uniform(0.5, 2.0, (2, 3)),)),
    "exp": lambda rng: (lambda a: a.exp(), (rng.standard_normal((2, 3)),)),
    "log": lambda rng: (lambda a: a.log(), (rng.uniform(0.5, 2.0, (2, 3)),)),
    "sigmoid": lambda rng: (lambda a: a.sigmoid(), (rng.standard_normal((2, 3)),)),
    "tanh": lambda rng: (lambda a: a.tanh(), (rng.standard_normal((2, 3)),)),
    "relu": lambda rng: (lambda a: a.relu(), (away_from_zero(rng, 2, 3),)),
    "sum": lambda rng: (lambda a: a.sum(axis=1), (rng.standard_normal((3, 4)),)),
    "mean": lambda rng: (lambda a: a.mean(axis=0), (rng.standard_normal((3, 4)),)),
    "max": lambda rng: (lambda a: a.max(axis=1), (rng.permutation(12).reshape(3, 4) * 0.5,)),
    "reshape": lambda rng: (lambda a: a.reshape(4, 3), (rng.standard_normal((3, 4)),)),
    "transpose": lambda rng: (lambda a: a.T, (rng.standard_normal((3, 4)),)),
    "index": lambda rng: (lambda a: a[np.array([0, 2, 0])], (rng.standard_normal((3, 4)),)),
    "@": lambda rng: (
        lambda a, b: a @ b,
        (rng.standard_normal((3, 4)), rng.standard_normal((4, 2))),
    ),
    "softmax": lambda rng: (lambda a: F.softmax(a), (rng.standard_normal((3, 4)),)),
    "log_softmax": lambda rng: (lambda a: F.log_softmax(a), (rng.standard_normal((3, 4)),)),
    "softmax_cross_entropy": lambda rng: (
        lambda z: F.softmax_cross_entropy(z, np.array([0, 2, 1])),
        (rng.standard_normal((3, 4)),),
    ),
    "linear": lambda rng: (
        F.linear,
        (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)),
    ),
    "layer_norm": lambda rng: (lambda a: F.layer_norm(a), (rng.standard_normal((3, 5)),)),
    "embedding": lambda rng: (
        lambda w: F.embedding(w, np.array([1, 0, 1])),
        (rng.standard_normal((3, 2)),),
    ),
}


def test_every_op_has_an_example():
    assert set(EXAMPLES) == set(RULES), set(RULES) ^ set(EXAMPLES)


def test_the_table_holds_every_op_of_the_engine():
    expected = {
        "+", "-", "*", "/", "@", "neg", "**", "exp", "log", "sigmoid", "tanh", "relu", "sum",
        "mean", "max", "reshape", "transpose", "index", "softmax", "log_softmax",
        "softmax_cross_entropy", "linear", "layer_norm", "embedding",
    }  # fmt: skip
    assert set(RULES) == expected


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_agrees_with_finite_differences(name):
    f, inputs = EXAMPLES[name](np.random.default_rng(0))
    report = tensor_gradient_check(f, *inputs)
    assert report.ok, f"{name}:\n{report}"


@pytest.mark.parametrize("name", NAMES)
def test_every_example_runs_its_own_rule(name):
    entry = RULES[name]
    f, inputs = EXAMPLES[name](np.random.default_rng(1))
    out = f(*(Tensor(np.asarray(x, dtype=float)) for x in inputs))
    ops = [node.op for node in out.graph_nodes() if node.op]
    assert any(rule_of(op) is entry for op in ops), (name, ops)
    assert all(node._rule is rule_of(node.op).backward for node in out.graph_nodes() if node.op)


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_says_each_inputs_contribution(name):
    entry = RULES[name]
    f, inputs = EXAMPLES[name](np.random.default_rng(2))
    assert len(entry.text) == len(inputs) or name in ("linear",)  # linear's bias is optional
    names = ["x", "y", "z"][: len(entry.text)]
    written = entry.write(*names)
    assert all(n in written for n in names)
    for i in range(len(entry.text)):
        assert entry.says(i, *names).strip()


def test_the_table_as_text_has_a_line_per_op():
    lines = rule_table().splitlines()
    assert len(lines) == len(RULES)
    assert "out = a @ b" in rule_table() and "aᵀ @ upstream" in rule_table()


def test_an_op_is_registered_once():
    with pytest.raises(ValueError, match="has a rule for '@' already"):
        rule("@", "{a} @ {b}", ("g", "g"))(lambda upstream, out, a, b: 0)
    with pytest.raises(KeyError, match="no op 'sin'"):
        rule_of("sin")
    assert rule_of("**3") is RULES["**"]


def test_breaking_a_rule_in_the_table_breaks_backward(monkeypatch):
    """The node runs the rule the table holds: change the entry and backward() changes."""
    real = RULES["exp"].backward
    doubled = dataclasses.replace(
        RULES["exp"], backward=lambda upstream, out, a: 2 * real(upstream, out, a)
    )
    monkeypatch.setitem(RULES, "exp", doubled)
    x = Tensor([0.5])
    x.exp().sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(0.5))


def test_rule_of_names_what_is_not_an_op_name():
    with pytest.raises(TypeError, match="rule_of needs an op's name, such as 'exp'"):
        rule_of(None)
