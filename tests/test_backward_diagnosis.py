"""course_lib.teaching.backward_diagnosis: a learner's wrong gradients read off their own graph.
On random graphs every planted bug of a backward pass either changes nothing there or is named
as itself (or as another listed bug that gives exactly the same gradients on that graph); the
right engine is never flagged."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from learner_engines import SLIPS, learner, slipped

from course_lib.teaching.backward_diagnosis import (
    NO_SEED,
    backward_slip,
    is_finite_number,
    learner_graph,
    shown_briefly,
)
from course_lib.teaching.code_exercise import NamedMistake
from course_lib.teaching.expressions import Expression, random_expression, reference_gradients


def _grads_and_slip(namespace, expression):
    nodes = expression.build(namespace["MyValue"])
    nodes[-1].backward()
    names = {id(n): name for n, name in zip(nodes, expression.names, strict=True)}
    return np.array([n.grad for n in nodes]), backward_slip(nodes[-1], names)


# What the feedback may say for each bug: its own sentence, or its words in the sentence that
# names several slips a graph cannot tell apart ("... fits X and fits Y").
PLANTED_ON_RANDOM_GRAPHS = {
    "= where += belongs": ("`=` where `+=` belongs",),
    "the order not reversed": ("visits a node before all of its consumers",),
    # A node visited early, whose late contributions equal its early ones, holds twice what
    # it passed on: on such a graph that is the mark of a node walked twice as well.
    "a breadth-first walk": (
        "visits a node before all of its consumers",
        "added more than once",
        "a contribution added twice",
    ),
    "the partial left out": (
        "not multiplied by the local partials",
        "contributions not multiplied by the local partials",
    ),
    "no seed": ("nothing seeded",),
    "the contributions subtracted": (
        "subtracted where they add up",
        "contributions subtracted instead of added",
    ),
    "the upstream left out": (
        "the upstream (the consumer's own gradient) is missing",
        "the local partials added without the upstream gradient",
    ),
    "the partial added to the upstream": (
        "plus their local partials",
        "the upstream gradient and the local partial added, not multiplied",
    ),
    "the parent's gradient as the upstream": ("not the parent's, which is still 0",),
    "the consumer's value as the upstream": (
        "the upstream is the consumer's gradient, not its value",
        "the consumer's value (.data) used where its gradient belongs",
    ),
}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), inputs=st.integers(1, 3), steps=st.integers(2, 8))
# a breadth-first walk gives what the upstream left out gives; the sentence names both
@example(seed=156, inputs=3, steps=4)
# a breadth-first walk whose x holds the sum of three of its four uses, which (b and d cancel)
# is also one use's contribution: the sentence names both `=` and the early visit
@example(seed=4367, inputs=1, steps=8)
def test_on_random_graphs_each_bug_is_harmless_or_named_as_itself(seed, inputs, steps):
    """On a random graph a bug may change nothing (no node used twice, say); if it changes a
    gradient, the feedback names it, unless another listed bug gives exactly the same
    gradients there (then the graph cannot tell them apart, and naming that one is fair)."""
    expression = random_expression(np.random.default_rng(seed), inputs, steps)
    _, want = reference_gradients(expression)
    right, slip = _grads_and_slip(learner(), expression)
    assert slip == "" and np.allclose(right, want, rtol=1e-9, atol=1e-12)
    results = {}
    for name, old, new, _ in SLIPS["engine"]:
        if name in PLANTED_ON_RANDOM_GRAPHS:
            code = slipped("engine", old, new)
            results[name] = _grads_and_slip(learner(engine=code), expression)
    for name, (grads, slip) in results.items():
        if np.allclose(grads, want, rtol=1e-9, atol=1e-12):
            continue  # this graph cannot show the bug
        assert slip, (name, expression.text())
        allowed = list(PLANTED_ON_RANDOM_GRAPHS[name])
        for other, (same, _) in results.items():
            if other != name and np.allclose(same, grads, rtol=1e-9, atol=1e-12):
                allowed += PLANTED_ON_RANDOM_GRAPHS[other]
        assert any(words in slip for words in allowed), (name, expression.text(), slip)


def test_the_sentences_of_fixed_graphs():
    ns = learner()
    cases = {
        "= where += belongs": "fan-out gradients lost: x is used 2 times",
        "the order not reversed": "a passed its gradient on to y before it was complete",
        "no seed": NO_SEED,
        "seeded with the output's value": "is its value, not dL/dL",
        "the partial left out": "not multiplied by the local partials",
        "the consumer's value as the upstream": "consumers' values (.data) times their local",
        "parents kept in a set": None,
    }
    expression = Expression((2.0, -3.0), (("*", (0, 1)), ("+", (2, 0))))
    assert _grads_and_slip(ns, expression)[1] == ""
    for name, old, new, _ in SLIPS["engine"]:
        if name in cases and cases[name]:
            slip = _grads_and_slip(learner(engine=slipped("engine", old, new)), expression)[1]
            assert cases[name] in slip, (name, slip)
    # A node used twice by one consumer, kept once: named as such.
    a_plus_a = Expression((3.0,), (("+", (0, 0)),))
    set_engine = learner(engine=slipped("engine", *SLIPS["engine"][-1][1:3]))
    assert "both inputs of one node" in _grads_and_slip(set_engine, a_plus_a)[1]


def test_the_learners_graph_is_read_without_recursion_and_each_node_once():
    ns = learner()
    node = x = ns["MyValue"](0.5)
    for _ in range(20_000):
        node = node.tanh()
    graph = learner_graph(node)
    assert len(graph) == 20_001 and graph[0] is x and graph[-1] is node
    diamond = Expression((1.0,), (("*", (0, 0)), ("+", (1, 0)))).build(ns["MyValue"])
    assert len(learner_graph(diamond[-1])) == 3


def test_a_graph_with_parents_that_are_not_a_tuple_is_named():
    class Odd:
        parents = 5

    with pytest.raises(NamedMistake, match="parents is a tuple of nodes"):
        learner_graph(Odd())


@pytest.mark.parametrize(
    ("value", "finite"),
    [
        (1.0, True),
        (3, True),
        (np.float64(2.0), True),
        (True, False),
        (float("nan"), False),
        (float("inf"), False),
        ("1", False),
        (None, False),
        (1j, False),
    ],
)
def test_is_finite_number(value, finite):
    assert is_finite_number(value) is finite


def test_shown_briefly_survives_a_broken_repr_and_cuts_long_text():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert shown_briefly(Broken()) == "<Broken>"
    assert len(shown_briefly("x" * 500)) == 60
