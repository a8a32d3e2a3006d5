"""Headless tests of hand-trace mode: right/wrong feedback and the hints for typical mistakes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from example_graphs import five_nodes
from hypothesis import given, settings
from test_draw import value_graphs

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import parse_number
from course_lib.teaching.practice import practice_graph
from course_lib.tensor import Tensor
from course_lib.widgets import hand_trace

SVG = "{http://www.w3.org/2000/svg}"


def grads_shown(trace) -> list[str]:
    svg = ET.fromstring(trace.view.value)
    return [
        "".join(t.itertext())
        for t in svg.iter(f"{SVG}text")
        if "".join(t.itertext()).startswith("grad ")
    ]


def test_asks_every_node_but_the_output_in_backward_order() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert trace.asked == ["b", "z", "a", "y", "x"]
    assert trace.expected == {"f": 1.0, "a": 4.0, "b": -6.0, "z": -6.0, "y": 12.0, "x": -14.0}
    assert set(trace.entries) == set(trace.asked)


def test_gradients_are_hidden_until_right() -> None:
    x, y, z, a, b, f = five_nodes()
    trace = hand_trace(f)
    assert sorted(grads_shown(trace)) == ["grad 1 (seed)"] + ["grad ?"] * 5
    # the answers are the engine's: its backward pass ran once, as backward() would
    assert [n.grad for n in (x, y, z, a, b, f)] == [-14.0, 12.0, -6.0, 4.0, -6.0, 1.0]
    assert trace.enter("x", -14.0).correct
    assert "grad -14" in grads_shown(trace)
    assert "1 of 5 right" in trace.score.value
    assert "✔" in trace.feedback["x"].value


def test_right_answers_in_many_spellings() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert trace.enter("x", "-14").correct
    assert trace.enter("a", " 4.0 ").correct
    assert trace.enter("b", "−6").correct  # a typographic minus
    assert trace.enter("y", "24/2").correct
    assert trace.enter("z", -6).correct
    assert trace.done
    assert "All right!" in trace.score.value


def test_forgot_to_sum_at_the_join() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    only_a = trace.enter("x", -8.0)  # the path through a: y · df/da = -2 · 4
    assert not only_a.correct
    assert "only the path through a" in only_a.message and "sum of both" in only_a.message
    only_b = trace.enter("x", -6.0)  # the path through b: 1 · df/db
    assert "only the path through b" in only_b.message
    assert "✘" in trace.feedback["x"].value
    assert "grad ?" in grads_shown(trace)


def test_forgot_the_local_partial() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    result = trace.enter("a", 1.0)  # df/df passed back without × ∂f/∂a = b = 4
    assert not result.correct
    assert "upstream gradient df/df passed back unchanged" in result.message
    assert "local partial ∂f/∂a first" in result.message
    assert "= 4" not in result.message.split("is not right.")[1]  # names the slip, not the fix
    result = trace.enter("y", 4.0)  # df/da passed back without × ∂a/∂y = x = 3
    assert "local partial ∂a/∂y first" in result.message


def test_used_the_downstream_value_instead_of_the_upstream_gradient() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    result = trace.enter("y", -18.0)  # ∂a/∂y · a = 3 · -6 instead of 3 · df/da
    assert "forward value of a" in result.message and "gradient df/da" in result.message
    assert "4" not in result.message.split("is not right.")[1]
    result = trace.enter("a", -24.0)  # f's value
    assert "forward value of f, not a gradient" in result.message
    result = trace.enter("x", 3.0)  # x's own value
    assert "x's own forward value" in result.message


def test_sign_slip_and_other_wrong_numbers() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert "wrong sign" in trace.enter("x", 14.0).message
    other = trace.enter("x", 100.0)
    assert not other.correct and "summed over every consumer of x" in other.message


def test_entries_that_are_not_numbers() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert "not answered yet" in trace.enter("x", "").message
    bad = trace.enter("x", "minus four")
    assert not bad.correct and "expected a number" in bad.message
    with pytest.raises(ValueError, match="not one of the entries"):
        trace.enter("f", 1.0)
    with pytest.raises(ValueError, match="no node named"):
        trace.check("q", 1.0)


def test_typing_in_the_text_box_checks_it() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    trace.entries["a"].value = "4"  # what pressing Enter in the box does
    assert trace.results["a"].correct
    assert "✔" in trace.feedback["a"].value
    trace.entries["a"].value = "1"
    assert not trace.results["a"].correct
    assert "local partial" in trace.feedback["a"].value
    trace.entries["a"].value = ""  # cleared: not an answer, so not wrong, but said so
    assert trace.results["a"] is None
    assert "df/da is empty" in trace.feedback["a"].value and "✘" not in trace.feedback["a"].value
    assert "grad ?" in grads_shown(trace)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("abc", "expected a number like"),
        ("1e400", "too large"),
        ("-1e400", "too large"),
        ("inf", "too large"),
        ("nan", "not a number"),
        ("0,5", "like 0.5"),
        ("3/0", "expected a number like"),
        ("1/2", "df/dx = 0.5 is not right"),  # a fraction is a number: checked like one
        ("12345678901234567890", "is not right"),
        ("1e-400", "df/dx = 0 is not right"),
    ],
)
def test_every_bad_entry_gets_a_message_in_the_widget(typed: str, says: str) -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    trace.entries["x"].value = "-14"  # something else first, so each entry is a change
    trace.entries["x"].value = typed  # the observer runs, as when a learner presses Enter
    shown = trace.feedback["x"].value
    assert says in shown, shown
    assert not trace.done and "0 of 5 right" in trace.score.value
    if "is not right" not in says:  # no number: no answer yet, so the node is not marked wrong
        assert trace.results["x"] is None
    else:
        assert trace.results["x"] is not None and not trace.results["x"].correct


@pytest.mark.parametrize(
    "value",
    [..., None, [1, 2], float("nan"), float("inf"), 10**400, 10**5000, True, object()],
    ids=["ellipsis", "None", "list", "nan", "inf", "1e400", "1e5000", "True", "object"],
)
def test_entering_anything_from_code_never_raises(value) -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    result = trace.enter("x", value)
    assert not result.correct and result.message
    assert trace.feedback["x"].value  # the widget says something
    assert isinstance(trace.entries["x"].value, str)


def test_reveal_shows_every_gradient() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    trace.reveal_button.click()
    assert sorted(grads_shown(trace)) == sorted(
        ["grad 1 (seed)", "grad 4", "grad -6", "grad -6", "grad 12", "grad -14"]
    )


def test_ask_a_subset_and_constants_are_not_asked() -> None:
    x = Value(2.0, "x")
    g = (x * 3.0 + x).named("g")
    trace = hand_trace(g)
    assert trace.asked == ["n1", "x"]  # the constant 3 is not asked
    assert trace.expected["x"] == 4.0
    only_x = hand_trace(g, ask=["x"])
    assert only_x.asked == ["x"]
    with pytest.raises(ValueError, match="does not have"):
        hand_trace(g, ask=["y"])


def test_needs_a_scalar_graph() -> None:
    """A real Tensor graph is refused with a sentence, not a crash in the middle."""
    X = Tensor(np.ones((2, 3)), label="X")
    loss = (X * 2.0).sum()
    with pytest.raises(
        TypeError, match=r"needs a scalar graph \(Value nodes\): node .* is a Tensor"
    ):
        hand_trace(loss)
    one = Tensor(np.array(2.0), label="one")  # even a 0-d tensor: a Tensor, not a Value
    with pytest.raises(TypeError, match="scalar graph"):
        hand_trace(one * 3.0)


def test_load_traces_another_graph_in_the_same_widget() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert trace.enter("x", 3.0).correct is False
    boxes = trace.entries
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    g = a * b
    trace.load(g)  # other nodes: new boxes, one per node asked
    assert trace.asked == ["b", "a"] and set(trace.entries) == {"a", "b"}
    assert trace.entries["a"] is not boxes["x"]
    assert [row.children[0] for row in trace.rows.children] == [
        trace.entries["b"],
        trace.entries["a"],
    ]
    assert trace.expected["a"] == -3.0 and trace.entries["a"].value == ""
    assert trace.enter("a", -3.0).correct and "1 of 2 right" in trace.score.value
    with pytest.raises(TypeError, match="scalar graph"):
        trace.load(Tensor(np.ones(2), label="X").sum())
    assert trace.root is g and trace.results["a"].correct  # a refused graph changes nothing
    boxes["x"].value = "-14"  # a box of the earlier graph, off the page now: ignored
    assert set(trace.results) == {"a", "b"} and "x" not in trace.feedback
    assert "1 of 2 right" in trace.score.value


def test_parse_number() -> None:
    assert parse_number("3/4") == 0.75
    assert parse_number("1e-3") == 0.001
    assert parse_number(" -2.5 ") == -2.5
    assert parse_number("") is None and parse_number(None) is None
    assert parse_number(np.float64(1.5)) == 1.5
    with pytest.raises(ValueError, match="expected a number"):
        parse_number("x")
    with pytest.raises(ValueError, match="expected a number"):
        parse_number(True)


@pytest.mark.parametrize("seed", range(12))
def test_practice_graphs_feed_in(seed: int) -> None:
    pg = practice_graph(seed)
    trace = hand_trace(pg.build())
    assert set(trace.asked) == set(pg.names) - {"f"}
    for name in trace.asked:
        assert trace.expected[name] == pytest.approx(pg.grads[name], rel=1e-12)
        assert trace.enter(name, pg.grads[name]).correct
    assert trace.done
    for name in pg.fan_out_nodes():
        result = trace.check(name, pg.grads[name] + 1.0)
        assert not result.correct


@settings(max_examples=40, deadline=None)
@given(value_graphs())
def test_expected_gradients_equal_backward(g: Value) -> None:
    trace = hand_trace(g)
    g.backward()
    names = trace.names
    for node in topological_order(g):
        assert trace.expected[names[node]] == pytest.approx(node.grad, rel=1e-12, abs=1e-12)
    for name in trace.asked:
        assert trace.check(name, trace.expected[name]).correct


def test_a_second_wrong_number_also_shows_the_rule() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert "The rule" not in trace.enter("a", 1.0).message
    trace.enter("a", "abc")  # a typo is not a wrong answer
    assert "The rule: df/da = the sum, over every node that uses a" in trace.enter("a", 1.5).message
    assert "The rule" not in trace.enter("y", 4.0).message  # per node


def test_the_local_partial_alone_and_the_average_of_a_join_are_named() -> None:
    x, y, z, a, b, f = five_nodes()  # x is used by a (x * y) and by b
    trace = hand_trace(f)
    uses = trace._uses[x]
    assert len(uses) == 2
    average = sum(u[3] for u in uses) / 2
    assert "average of the paths" in trace.check("x", average).message
    local = trace._uses[y][0][1]  # ∂a/∂y
    assert "local partial ∂a/∂y alone" in trace.check("y", local).message


@pytest.mark.parametrize("root", [5, None, "f", [Value(1.0)]])
def test_something_that_is_not_a_node_is_named(root) -> None:
    # hand_trace(5) gave AttributeError: 'int' object has no attribute 'parents' (issue 24)
    with pytest.raises(TypeError, match=r"^hand_trace needs a node of a computation graph"):
        hand_trace(root)


def test_bad_settings_are_named() -> None:
    g = five_nodes()[-1]
    with pytest.raises(TypeError, match="partials must be True or False"):
        hand_trace(g, partials="yes")
    with pytest.raises(TypeError, match=r"ask lists node names, like \['x', 'q'\], got 5"):
        hand_trace(g, ask=5)
    assert hand_trace(g, ask="x").asked == ["x"]  # one name, not the letters of it


def test_a_graph_whose_gradients_overflow_is_refused_with_the_sentence() -> None:
    x = Value(1e-300, "x")
    with pytest.raises(OverflowError, match=r"^backward: the gradient of x \(= 1e-300\) is inf"):
        hand_trace(x * 1e154 * 1e154 * 1e154)


def test_the_same_wrong_number_again_is_the_same_attempt_and_a_new_graph_starts_afresh() -> None:
    *_, f = five_nodes()
    trace = hand_trace(f)
    assert "The rule" not in trace.enter("a", 1.0).message
    assert "The rule" not in trace.enter("a", "1").message  # the same number, typed again
    assert "The rule" not in trace.check("a", 1.0).message  # a preview counts nothing
    assert "The rule" in trace.check("a", 2.0).message  # ... and says what a new one would get
    assert "The rule" in trace.enter("a", 2.0).message
    trace.load(f)  # a new sheet: every box empty, no wrong answer counted
    assert "The rule" not in trace.enter("a", 2.0).message


def _from_the_labels(graph) -> dict[str, float]:
    """Every node's gradient as a learner works it out from the drawing's labels: the values
    rounded to 4 significant figures, the four moves done exactly from there."""
    shown = {n: float(f"{v:.4g}") for n, v in graph.values.items()}
    slopes = {
        "+": lambda a, out: [1.0, 1.0],
        "*": lambda a, out: [a[1], a[0]],
        "sigmoid": lambda a, out: [out * (1 - out)],
        "exp": lambda a, out: [out],
    }
    grad = dict.fromkeys(shown, 0.0)
    grad[graph.operations[-1].name] = 1.0
    for operation in reversed(graph.operations):
        operands = [shown[o] for o in operation.operands]
        partials = slopes[operation.op](operands, shown[operation.name])
        for operand, partial in zip(operation.operands, partials, strict=True):
            grad[operand] += grad[operation.name] * partial
    return grad


def test_gradients_worked_from_the_drawings_rounded_labels_count() -> None:
    """The drawing shows 4 significant figures; an answer worked from those labels (and
    written with 4 figures) must count, and a missed join must still be refused."""
    checked = refused_slips = 0
    for sheet in range(60):
        graph = practice_graph(sheet, fan_out=True)
        trace = hand_trace(graph.build())
        learner = _from_the_labels(graph)
        for name in graph.names[:-1]:
            answer = float(f"{learner[name]:.4g}")
            assert trace.check(name, answer).correct, (sheet, name, graph.grads[name], answer)
            checked += 1
        for name in graph.fan_out_nodes():  # one path only: a missed join
            consumer = graph.consumers(name)[0]
            first = next(p for p in graph.operations if p.name == consumer)
            index = first.operands.index(name)
            one_path = graph.grads[consumer] * graph.partials[consumer][index]
            if abs(one_path - graph.grads[name]) > 0.01 * abs(graph.grads[name]) + 1e-3:
                assert not trace.check(name, float(f"{one_path:.4g}")).correct, (sheet, name)
                refused_slips += 1
    assert checked > 300 and refused_slips > 20


def test_where_every_label_is_exact_one_unit_off_is_not_right() -> None:
    """Notebook 02's graph has whole numbers everywhere: nothing rounded carries into an
    answer, so -13.9 for -14 is a slip, while the rounded and cut-off answers count."""
    trace = hand_trace(five_nodes()[-1])  # df/dx = b·y + a = -14
    for right in (-14, -14.04, -14.0):
        assert trace.check("x", right).correct, right
    for wrong in (-13.9, -14.1):
        assert not trace.check("x", wrong).correct, wrong
    practice = hand_trace(practice_graph(23, fan_out=True).build())  # labels like 0.6225
    assert practice.check("z", 2.656).correct and not practice.check("z", 2.66).correct
