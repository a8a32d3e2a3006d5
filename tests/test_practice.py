"""Tests for course_lib.teaching.practice: random practice graphs and their answer keys."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.teaching.practice import (
    FRIENDLY,
    MAX_NODES,
    MIN_NODES,
    SHEET_OPS,
    PracticeGraph,
    practice_graph,
    practice_sheet,
)

seeds = st.integers(min_value=0, max_value=2**63)
sizes = st.none() | st.integers(min_value=MIN_NODES, max_value=MAX_NODES)


def evaluate(graph: PracticeGraph, nudge: tuple[str, float] | None = None) -> dict[str, float]:
    """The forward pass in plain float math (no Value), independent of the library's engine."""
    values: dict[str, float] = {}
    for name, x in graph.inputs:
        values[name] = x + (nudge[1] if nudge and nudge[0] == name else 0.0)
    for operation in graph.operations:
        args = [values[o] for o in operation.operands]
        if operation.op == "+":
            v = args[0] + args[1]
        elif operation.op == "*":
            v = args[0] * args[1]
        elif operation.op == "sigmoid":
            v = 1.0 / (1.0 + math.exp(-args[0]))
        elif operation.op == "exp":
            v = math.exp(args[0])
        else:
            raise AssertionError(f"unexpected op {operation.op!r}")
        values[operation.name] = v + (nudge[1] if nudge and nudge[0] == operation.name else 0.0)
    return values


@settings(max_examples=200, deadline=None)
@given(seed=seeds, size=sizes, fan_out=st.booleans())
def test_node_count_ops_and_inputs(seed: int, size: int | None, fan_out: bool) -> None:
    graph = practice_graph(seed, size, fan_out)
    assert MIN_NODES <= graph.size <= MAX_NODES
    if size is not None:
        assert graph.size == size
    assert {s.op for s in graph.operations} <= set(SHEET_OPS)
    assert graph.operations[-1].name == "f"
    assert 2 <= len(graph.inputs) <= 4
    assert all(x in FRIENDLY for _, x in graph.inputs)
    assert all(abs(v) <= 20 for v in graph.values.values())
    # No dead branches: every node but the output feeds a later node.
    for name in graph.names[:-1]:
        assert graph.consumers(name), f"{name} is not used by any node (seed {seed})"
    # A binary op takes two different nodes (so x * x never appears on a sheet).
    assert all(len(set(s.operands)) == len(s.operands) for s in graph.operations)


@settings(max_examples=200, deadline=None)
@given(seed=seeds, size=sizes)
def test_fan_out_present_when_asked_and_absent_otherwise(seed: int, size: int | None) -> None:
    with_fan_out = practice_graph(seed, size, fan_out=True)
    assert with_fan_out.fan_out_nodes(), with_fan_out.answer_key()
    name = with_fan_out.fan_out_nodes()[0]
    assert len(with_fan_out.consumers(name)) >= 2
    tree = practice_graph(seed, size, fan_out=False)
    assert tree.fan_out_nodes() == ()
    assert all(len(tree.consumers(n)) == 1 for n in tree.names[:-1])


@settings(max_examples=200, deadline=None)
@given(seed=seeds, size=sizes, fan_out=st.booleans())
def test_answer_key_matches_finite_differences(seed: int, size: int | None, fan_out: bool) -> None:
    graph = practice_graph(seed, size, fan_out)
    plain = evaluate(graph)
    for name in graph.names:
        assert math.isclose(graph.values[name], plain[name], rel_tol=1e-12, abs_tol=1e-12)
    h = 1e-6
    for name in graph.names:
        up = evaluate(graph, (name, h))["f"]
        down = evaluate(graph, (name, -h))["f"]
        numerical = (up - down) / (2 * h)
        assert math.isclose(graph.grads[name], numerical, rel_tol=1e-6, abs_tol=1e-8), (
            f"seed {seed}: df/d{name} key {graph.grads[name]} vs finite difference {numerical}"
        )
    assert graph.grads["f"] == 1.0


@settings(max_examples=100, deadline=None)
@given(seed=seeds, fan_out=st.booleans())
def test_local_partials_follow_the_rules(seed: int, fan_out: bool) -> None:
    graph = practice_graph(seed, fan_out=fan_out)
    v = graph.values
    for operation in graph.operations:
        got = graph.partials[operation.name]
        if operation.op == "+":
            want = (1.0, 1.0)
        elif operation.op == "*":
            want = (v[operation.operands[1]], v[operation.operands[0]])
        elif operation.op == "sigmoid":
            want = (v[operation.name] * (1 - v[operation.name]),)
        else:
            want = (v[operation.name],)
        assert got == pytest.approx(want, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(seed=seeds, size=sizes, fan_out=st.booleans())
def test_same_seed_same_sheet(seed: int, size: int | None, fan_out: bool) -> None:
    assert practice_sheet(seed, size, fan_out) == practice_sheet(seed, size, fan_out)
    assert practice_sheet(seed, size, fan_out, answers=True) == practice_sheet(
        seed, size, fan_out, answers=True
    )


def test_different_students_get_different_sheets() -> None:
    sheets = {practice_sheet(seed) for seed in range(100)}
    assert len(sheets) >= 95
    ops_seen = {s.op for seed in range(100) for s in practice_graph(seed).operations}
    assert ops_seen == set(SHEET_OPS)


def test_build_gives_a_fresh_labelled_value_graph() -> None:
    graph = practice_graph(3, size=5)
    out = graph.build()
    assert out.label == "f" and out.grad is None
    labels = [node.label for node in out.graph_nodes()]
    assert sorted(labels) == sorted(graph.names)
    out.backward()
    got = {node.label: node.grad for node in out.graph_nodes()}
    assert got == pytest.approx(graph.grads)
    assert graph.build() is not out and graph.build().grad is None


def test_sheet_text_shows_inputs_steps_and_key_only_when_asked() -> None:
    graph = practice_graph(11)
    sheet = practice_sheet(11)
    assert sheet.startswith("Tiny Graphs First: practice sheet 11")
    for operation in graph.operations:
        assert f"{operation.name} = {operation.formula()}" in sheet
    assert "answer key" not in sheet
    keyed = practice_sheet(11, answers=True)
    assert keyed.startswith(sheet.rstrip("\n"))
    assert "answer key" in keyed
    for name in graph.names:
        assert f"{graph.grads[name]:.4f}" in keyed
    for name in graph.fan_out_nodes():
        assert f"{name} feeds" in keyed


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"seed": "7"}, TypeError, r"seed \(the sheet number\) must be an int, got '7'"),
        ({"seed": 1.5}, TypeError, r"seed \(the sheet number\) must be a whole number"),
        ({"seed": True}, TypeError, r"seed \(the sheet number\) must be an int, got True"),
        ({"seed": -1}, ValueError, r"seed \(the sheet number\) must be 0 or more, got -1"),
        ({"seed": 1, "size": 2}, ValueError, r"size \(the operation nodes, 3 to 6, or None\)"),
        ({"seed": 1, "size": 7}, ValueError, "must be at most 6, got 7"),
        ({"seed": 1, "size": 10**9}, ValueError, "must be at most 6, got 1000000000"),
        (
            {"seed": 1, "size": 4.0},
            TypeError,
            r"size .* must be a whole number \(an int\), got 4.0",
        ),
        ({"seed": 1, "fan_out": "yes"}, TypeError, "fan_out must be True or False"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict, error: type, words: str) -> None:
    """A negative sheet number used to be silently the same sheet as its absolute value."""
    with pytest.raises(error, match=words):
        practice_graph(**kwargs)


def test_numpy_integers_are_sheet_numbers_and_sizes() -> None:
    """np.int64(3) (from a loop over np.arange) used to be refused as "not an integer"."""
    graph = practice_graph(np.int64(3), size=np.int8(4))
    assert graph == practice_graph(3, size=4) and type(graph.seed) is int
    assert practice_sheet(np.uint16(12)) == practice_sheet(12)


def test_unknown_node_name_is_named() -> None:
    with pytest.raises(KeyError, match="no node named 'q'"):
        practice_graph(1).consumers("q")
    with pytest.raises(KeyError, match="no node named 'q'"):
        practice_graph(1).nudged_output("q", 1e-4)


@settings(max_examples=100, deadline=None)
@given(seed=seeds, size=sizes, fan_out=st.booleans(), delta=st.floats(-0.5, 0.5))
def test_nudged_output_moves_one_node_and_recomputes_downstream(
    seed: int, size: int | None, fan_out: bool, delta: float
) -> None:
    graph = practice_graph(seed, size, fan_out)
    for name in graph.names:
        assert graph.nudged_output(name, 0.0) == graph.values["f"]
        want = evaluate(graph, (name, delta))["f"]  # plain float math, not the engine
        assert math.isclose(graph.nudged_output(name, delta), want, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=seeds, fan_out=st.booleans())
def test_a_central_difference_of_nudged_outputs_is_the_upstream_gradient(
    seed: int, fan_out: bool
) -> None:
    """What notebook 12 lets a learner do by hand to check one of their answers."""
    graph = practice_graph(seed, fan_out=fan_out)
    h = 1e-4
    for name in graph.names:
        measured = (graph.nudged_output(name, h) - graph.nudged_output(name, -h)) / (2 * h)
        assert math.isclose(measured, graph.grads[name], rel_tol=1e-5, abs_tol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, fan_out=st.booleans())
def test_hand_trace_mode_accepts_the_answer_key(seed: int, fan_out: bool) -> None:
    """A practice graph goes straight into the hand-trace widget, which agrees with the key."""
    from course_lib.widgets.handtrace import hand_trace

    graph = practice_graph(seed, fan_out=fan_out)
    widget = hand_trace(graph.build())
    for name in graph.names[:-1]:
        assert widget.check(name, graph.grads[name]).correct, (seed, name)
        assert not widget.check(name, graph.grads[name] + 1.0).correct


def test_command_line_prints_one_sheet_per_seed(capsys: pytest.CaptureFixture[str]) -> None:
    from course_lib.teaching.practice import main

    assert main(["5", "6", "--answers"]) == 0
    out = capsys.readouterr().out
    pages = out.split("\f")
    assert pages == [practice_sheet(5, answers=True), practice_sheet(6, answers=True)]
    assert main(["7", "--tree", "--size", "4"]) == 0
    assert capsys.readouterr().out == practice_sheet(7, 4, fan_out=False)
    with pytest.raises(SystemExit):
        main(["7", "--size", "9"])
    assert (
        "size (the operation nodes, 3 to 6, or None) must be at most 6, got 9"
        in capsys.readouterr().err
    )


def test_the_sheet_ops_and_rules_come_from_the_engine_op_table() -> None:
    """One place per op: a sheet's formulas, local rules and numbers all come from OPS."""
    from course_lib.autodiff.scalar import OPS
    from course_lib.teaching.practice import LOCAL_RULES

    assert set(SHEET_OPS) <= set(OPS)
    assert LOCAL_RULES == (
        "d(u + v)/du = 1",
        "d(u * v)/du = v",
        "d sigmoid(u)/du = σ(1 - σ) = out·(1 - out)",
        "d exp(u)/du = exp(u) = out",
    )
    sheet = practice_sheet(7)
    assert "Local rules (out is the node's own value):\n    d(u + v)/du = 1\n" in sheet
    graph = practice_graph(7)
    for operation in graph.operations:
        assert operation.formula() == OPS[operation.op].write(*operation.operands)
    out = graph.build()
    ops = {node.label: node.op for node in out.graph_nodes()}
    assert all(ops[o.name] == o.op for o in graph.operations)


def test_the_answer_key_uses_four_decimals_and_never_minus_zero() -> None:
    key = practice_graph(7).answer_key()
    assert "-0.0000" not in key
    assert "x     input       1.0000" in key


def test_answers_is_a_switch():
    with pytest.raises(TypeError, match="practice_sheet: answers must be True or False"):
        practice_sheet(1, answers=5)


@pytest.mark.parametrize("bad", [math.inf, float("nan"), "abc", None])
def test_a_bad_nudge_is_named_as_the_nudge(bad):
    with pytest.raises((TypeError, ValueError), match=r"^nudged_output: delta \(the nudge"):
        practice_graph(1000).nudged_output("b", bad)
