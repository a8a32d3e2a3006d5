"""Headless tests of the backward stepper: order of steps, their texts, and the controls."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from example_graphs import five_nodes
from hypothesis import given, settings
from hypothesis import strategies as st
from test_draw import value_graphs

from course_lib.graph import topological_order
from course_lib.scalar import Value
from course_lib.widgets import stepper
from course_lib.widgets.stepper import backward_steps, local_partial_rule

SVG = "{http://www.w3.org/2000/svg}"


def test_steps_follow_reverse_topological_order() -> None:
    *_, f = five_nodes()
    steps = backward_steps(f)
    assert [s.node for s in steps] == list(reversed(topological_order(f)))
    assert [s.node.label for s in steps] == ["f", "b", "z", "a", "y", "x"]
    assert steps[0].is_seed and steps[0].upstream == 1.0


def test_step_texts_state_partial_times_upstream() -> None:
    *_, f = five_nodes()
    steps = {s.node.label: s for s in backward_steps(f)}
    assert steps["f"].lines == (
        "f = a * b: the output. Seed: df/df = 1.",
        "  to a: local partial ∂f/∂a = b = 4; contribution 4 × 1 = 4.",
        "  to b: local partial ∂f/∂b = a = -6; contribution -6 × 1 = -6.",
    )
    assert steps["a"].lines == (
        "a = x * y: upstream df/da = 4 (1 path, via f): complete.",
        "  to x: local partial ∂a/∂x = y = -2; contribution -2 × 4 = -8. Join at x (2 uses): "
        "running sum -6 + -8 = -14 (2 of 2, complete).",
        "  to y: local partial ∂a/∂y = x = 3; contribution 3 × 4 = 12.",
    )
    assert steps["b"].lines[1] == (
        "  to x: local partial ∂b/∂x = 1; contribution 1 × -6 = -6. Join at x (2 uses): "
        "running sum -6 (1 of 2, waiting for the rest)."
    )
    assert steps["x"].lines == (
        "x: upstream df/dx = -6 + -8 = -14, the sum of its 2 paths (via b, a): complete.",
        "  x is an input: no local rule, nothing to pass back.",
    )


def test_contribution_records_the_running_sum_at_the_join() -> None:
    x, y, z, a, b, f = five_nodes()
    steps = {s.node.label: s for s in backward_steps(f)}
    into_x = [c for s in steps.values() for c in s.contributions if c.parent is x]
    assert [(c.before, c.contribution, c.after) for c in into_x] == [
        (None, -6.0, -6.0),
        (-6.0, -8.0, -14.0),
    ]
    assert [(c.uses_done, c.uses_total) for c in into_x] == [(1, 2), (2, 2)]


def test_steps_do_not_touch_the_graph() -> None:
    x, y, z, a, b, f = five_nodes()
    backward_steps(f)
    stepper(f)
    assert all(n.grad is None for n in (x, y, z, a, b, f))


def test_buttons_and_index() -> None:
    *_, f = five_nodes()
    box = stepper(f)
    assert box.index.value == 0 and box.index.max == 6
    assert "Step 0 of 6" in box.view.value
    assert box.view.value.count("grad not computed yet</text>") == 6
    box.step_button.click()
    assert box.index.value == 1 and box.current.node is f
    assert "Seed: df/df = 1." in box.explanation.value
    box.step_button.click()
    assert box.current.node.label == "b"
    box.back_button.click()
    assert box.current.node is f
    box.back_button.click()
    box.back_button.click()  # no-op at the start
    assert box.index.value == 0 and box.current is None
    box.index.value = 6
    box.step_button.click()  # no-op at the end
    assert box.index.value == 6
    assert "every gradient is complete" in box.explanation.value
    box.reset_button.click()
    assert box.index.value == 0


def test_play_drives_the_index() -> None:
    *_, f = five_nodes()
    box = stepper(f, interval_ms=200)
    assert (box.play.min, box.play.max, box.play.interval) == (0, 6, 200)
    box.play.value = 4  # what the Play widget does in the browser, one tick at a time
    assert box.index.value == 4 and box.current.node.label == "a"
    assert "-2 × 4 = -8" in box.explanation.value
    box.index.value = 2
    assert box.play.value == 2
    box.play.playing = True
    box.reset()
    assert box.play.playing is False and box.play.value == 0


def test_drawing_shows_running_sums_and_highlight() -> None:
    x, y, z, a, b, f = five_nodes()
    box = stepper(f)
    box.index.value = 2  # f and b done: x holds -6 of 2 uses
    grads = box.state()
    assert grads[x] == "-6 so far (1 of 2)"
    assert grads[f] == "1 (seed)" and grads[b] == "-6" and grads[a] == "4"
    assert grads[y] == "not computed yet"
    svg = ET.fromstring(box.view.value)
    found = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "grad -6 so far (1 of 2)" in found
    assert "1 × -6 = -6" in found  # the edge b -> x carries this step's product
    hot = [r for r in svg.iter(f"{SVG}rect") if r.get("stroke-width") == "3.0"]
    assert len(hot) == 1
    box.index.value = 6
    assert box.state()[x] == "-14"


def test_local_partial_rules() -> None:
    x = Value(2.0, "x")
    cases = {
        "exp": x.exp(),
        "log": x.log(),
        "tanh": x.tanh(),
        "sigmoid": x.sigmoid(),
        "relu": x.relu(),
        "neg": -x,
        "pow": x**3,
    }
    names = {x: "x"}
    for node in cases.values():
        names[node] = "o"
    rules = {k: local_partial_rule(v, 0, names) for k, v in cases.items()}
    assert rules == {
        "exp": "exp(x) = o",
        "log": "1/x",
        "tanh": "1 - o²",
        "sigmoid": "σ(1 - σ) = o·(1 - o)",
        "relu": "1 if x > 0 else 0",
        "neg": "-1",
        "pow": "3·x^2",
    }


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="graph node"):
        stepper(3.0)
    with pytest.raises(ValueError, match="interval_ms"):
        stepper(Value(1.0), interval_ms=0)


@settings(max_examples=60, deadline=None)
@given(value_graphs())
def test_final_sums_equal_backward(g: Value) -> None:
    steps = backward_steps(g)
    final = {g: steps[0].upstream}
    for step in steps:
        for c in step.contributions:
            final[c.parent] = c.after
            assert c.contribution == pytest.approx(c.partial * c.upstream)
    g.backward()
    for node in topological_order(g):
        assert final[node] == pytest.approx(node.grad, rel=1e-12, abs=1e-12)


class ArrayNode:
    """The shared node shape with numpy data and no ``partials`` (like a Tensor)."""

    def __init__(self, data, label=None, parents=(), op="", rule=None) -> None:
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = None
        self.label = label
        self.parents = tuple(parents)
        self.op = op
        self.rule = rule

    def local_backward(self, upstream):
        return self.rule(upstream)


def test_array_nodes_step_with_shapes() -> None:
    X = ArrayNode(np.ones((4, 3)), "X")
    bias = ArrayNode(np.zeros(3), "bias")
    # out = X + bias (broadcast over rows): bias's contribution sums the upstream over axis 0
    out = ArrayNode(np.ones((4, 3)), "out", (X, bias), "+", lambda g: (g, g.sum(axis=0)))
    steps = backward_steps(out, seed=np.ones((4, 3)))
    assert (
        steps[0].lines[1]
        == "  to X: the local rule of + turns upstream shape (4, 3) into shape (4, 3)."
    )
    assert (
        steps[0].lines[2]
        == "  to bias: the local rule of + turns upstream shape (4, 3) into [4, 4, 4]."
    )
    box = stepper(out)
    box.index.value = 1
    assert "bias" in box.explanation.value and "[4, 4, 4]" in box.view.value


@settings(max_examples=60, deadline=None)
@given(clicks=st.lists(st.sampled_from(["step", "back", "reset", "play", "slider"]), max_size=25))
def test_any_sequence_of_clicks_keeps_the_view_in_step(clicks: list[str]) -> None:
    """What a restless learner does: Step, Back, Reset, Play ticks and slider drags in any
    order. Nothing raises, the index stays in range, and the view always shows that index."""
    *_, f = five_nodes()
    box = stepper(f)
    for k, click in enumerate(clicks):
        if click == "step":
            box.step_button.click()
        elif click == "back":
            box.back_button.click()
        elif click == "reset":
            box.reset_button.click()
        elif click == "play":
            box.play.value = min(box.play.value + 1, box.play.max)  # one tick of Play
        else:
            box.index.value = k % (box.index.max + 1)
        i = box.index.value
        assert 0 <= i <= 6 and box.play.value == i
        assert f"Step {i} of 6" in box.view.value
        assert (box.current is None) == (i == 0)
