"""Headless tests of the backward stepper: order of steps, their texts, and the controls.

The stepper shows the engine's own steps (course_lib.autodiff.graph.backward_steps); these tests
check what it says about them, on Value graphs and on real Tensor graphs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from example_graphs import five_nodes
from hypothesis import given, settings
from hypothesis import strategies as st
from test_draw import value_graphs

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import Value
from course_lib.display.accessible import WIDGET_REGION_RULE
from course_lib.display.draw import format_data
from course_lib.tensor import Tensor
from course_lib.widgets import stepper
from course_lib.widgets.stepper import local_partial_rule

SVG = "{http://www.w3.org/2000/svg}"


def test_steps_follow_reverse_topological_order() -> None:
    *_, f = five_nodes()
    box = stepper(f)
    assert [s.node for s in box.steps] == list(reversed(topological_order(f)))
    assert [s.node.label for s in box.steps] == ["f", "b", "z", "a", "y", "x"]
    assert box.steps[0].node is f and box.steps[0].upstream == 1.0


def test_step_texts_state_partial_times_upstream() -> None:
    *_, f = five_nodes()
    box = stepper(f)
    lines = {s.node.label: text for s, text in zip(box.steps, box.lines, strict=True)}
    assert lines["f"] == (
        "f = a * b: the output. Seed: df/df = 1.",
        "  to a: local partial ∂f/∂a = b = 4; contribution 4 × 1 = 4.",
        "  to b: local partial ∂f/∂b = a = -6; contribution -6 × 1 = -6.",
    )
    assert lines["a"] == (
        "a = x * y: upstream df/da = 4 (1 path, via f): complete.",
        "  to x: local partial ∂a/∂x = y = -2; contribution -2 × 4 = -8. Join at x (2 uses): "
        "running sum -6 + -8 = -14 (2 of 2, complete).",
        "  to y: local partial ∂a/∂y = x = 3; contribution 3 × 4 = 12.",
    )
    assert lines["b"][1] == (
        "  to x: local partial ∂b/∂x = 1; contribution 1 × -6 = -6. Join at x (2 uses): "
        "running sum -6 (1 of 2, waiting for the rest)."
    )
    assert lines["x"] == (
        "x: upstream df/dx = -6 + -8 = -14, the sum of its 2 paths (via b, a): complete.",
        "  x is an input: no local rule, nothing to pass back.",
    )
    box.index.value = 4
    assert box.text() == "\n".join(lines["a"])
    assert box.text(0).startswith("Step 0: before the backward pass")


def test_the_running_sums_shown_are_the_engines() -> None:
    """The numbers at the join are the ones the engine's generator recorded, not a copy."""
    x, y, z, a, b, f = five_nodes()
    box = stepper(f)
    into_x = [c for s in box.steps for c in s.contributions if c.parent is x]
    assert [(c.before, c.contribution, c.after) for c in into_x] == [
        (None, -6.0, -6.0),
        (-6.0, -8.0, -14.0),
    ]
    box.steps[3].contributions[0].after = 99.0  # the record the stepper reads
    assert box.state(4)[x] == "99"


def test_the_stepper_leaves_the_gradients_backward_gives() -> None:
    x, y, z, a, b, f = five_nodes()
    stepper(f)
    assert [n.grad for n in (x, y, z, a, b, f)] == [-14.0, 12.0, -6.0, 4.0, -6.0, 1.0]


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


def test_play_is_a_named_toggle_driving_the_hidden_play_widget() -> None:
    *_, f = five_nodes()
    box = stepper(f)
    # the Play widget's own buttons are unnamed icons: hidden, driven by a button with text
    assert box.play.layout.display == "none"
    assert (box.play_button.description, box.play_button.icon) == ("Play", "play")
    box.play_button.value = True
    assert box.play.playing is True
    assert (box.play_button.description, box.play_button.icon) == ("Pause", "pause")
    box.play.playing = False  # what the browser's Play widget does at the last step
    assert box.play_button.value is False and box.play_button.description == "Play"
    box.index.value = 6
    box.play_button.value = True  # Play at the end starts over
    assert box.index.value == 0 and box.play.playing is True
    box.reset()
    assert box.play_button.value is False and box.play_button.description == "Play"


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


def test_laid_out_for_a_projector() -> None:
    """One screen at 1280×720 and 150% zoom (tests/browser/test_projection.py measures it):
    buttons as wide as their words, on one row with the step's box and slider; the drawing in
    a region that scrolls rather than shrinks, the text beside it or under it; words sized by
    the notebook's code font, which Presentation Mode enlarges."""
    *_, f = five_nodes()
    box = stepper(f)
    assert "tgf-stepper" in box._dom_classes
    controls, body, rule = box.children
    assert rule.value == WIDGET_REGION_RULE  # lets the drawing's region shrink in the view
    buttons = (box.back_button, box.step_button, box.play_button, box.reset_button)
    assert all(b in controls.children for b in buttons)
    assert controls.layout.flex_flow == body.layout.flex_flow == "row wrap"
    for button in buttons:
        assert button.layout.width == "auto"
        assert button.style.font_size == "var(--jp-code-font-size, 13px)"
    assert body.children == (box.view, box.explanation)
    assert box.view.layout.min_width == "0"  # its region scrolls where the page is narrower
    assert box.explanation.layout.flex == "1 1 22em"  # beside the drawing when there is room
    for k in (0, 3):
        box.index.value = k
        region = ET.fromstring(box.view.value)
        assert region.get("role") == "group" and region.get("tabindex") == "0"
        svg = region.find(f"{SVG}svg")
        assert region.get("aria-label") == svg.get("aria-label") + " (scrolls sideways)"
        assert svg.get("aria-label").startswith(f"Step {k} of 6")
        assert "var(--jp-code-font-size, 13px)" in svg.get("style")
        assert "font-size:var(--jp-code-font-size, 13px)" in box.explanation.value


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
    with pytest.raises(ValueError, match="interval_ms must be an int >= 50, got 0"):
        stepper(Value(1.0), interval_ms=0)
    with pytest.raises(TypeError, match="interval_ms must be an int, got True"):
        stepper(Value(1.0), interval_ms=True)
    with pytest.raises(ValueError, match="interval_ms must be at most 60000"):
        stepper(Value(1.0), interval_ms=10**12)
    assert stepper(Value(1.0), interval_ms=np.int64(500)).play.interval == 500
    with pytest.raises(TypeError, match="partials must be True or False"):
        stepper(Value(1.0), partials="no")


@pytest.mark.parametrize(
    ("seed", "error", "words"),
    [
        (
            "a",
            TypeError,
            r"seed is dL/d\(output\), the gradient the backward pass starts from: "
            r"a number such as 1.0, got str 'a'",
        ),
        (None, None, ""),
        (True, TypeError, "a number such as 1.0, got bool"),
        (float("nan"), ValueError, "seed must be a finite number"),
        ([1.0], TypeError, "a number such as 1.0, got list"),
        (2, None, ""),
        (10**400, ValueError, "stepper: seed is an int of 401 digits, too large for a float"),
        (np.int64(2), None, ""),
        (np.float32(0.5), None, ""),
    ],
)
def test_a_bad_seed_gets_a_clear_error(seed, error, words) -> None:
    """`stepper(f, seed='a')` used to fail with "can't multiply sequence by non-int"."""
    *_, f = five_nodes()
    if error is None:
        box = stepper(f, seed=seed)
        assert box.steps[0].upstream == (1.0 if seed is None else float(seed))
        return
    with pytest.raises(error, match=words):
        stepper(f, seed=seed)


def test_a_bad_seed_for_a_tensor_graph() -> None:
    X = Tensor(np.ones((2, 3)), label="X")
    out = (X * 2.0).named("out")
    with pytest.raises(ValueError, match=r"seed must have the output's shape \(2, 3\), got "):
        stepper(out, seed=np.ones(3))
    with pytest.raises(TypeError, match="an array of numbers of shape"):
        stepper(out, seed="abc")
    with pytest.raises(ValueError, match="finite"):
        stepper(out, seed=np.full((2, 3), np.inf))
    stepper(out, seed=np.full((2, 3), 0.5))
    np.testing.assert_array_equal(X.grad, np.ones((2, 3)))


@settings(max_examples=60, deadline=None)
@given(value_graphs())
def test_the_last_state_shows_what_backward_computes(g: Value) -> None:
    box = stepper(g)
    shown = box.state(len(box.steps))
    g.backward()  # the engine again, on the same graph
    for node in topological_order(g):
        want = format_data(node.grad)
        assert shown[node] == (f"{want} (seed)" if node is g else want)
    for step in box.steps:
        for c in step.contributions:
            assert c.contribution == pytest.approx(step.node.partials[c.index] * step.upstream)


def test_a_real_tensor_graph_steps_with_shapes() -> None:
    X = Tensor(np.ones((4, 3)), label="X")
    bias = Tensor(np.zeros(3), label="bias")
    out = (X + bias).named("out")  # bias is broadcast over the 4 rows
    box = stepper(out)
    assert box.lines[0][1] == (
        "  to X: the local rule of + (X gets upstream) turns upstream shape (4, 3) into "
        "shape (4, 3)."
    )
    assert (
        box.lines[0][2]
        == "  to bias: the local rule of + (bias gets upstream) turns upstream shape (4, 3) "
        "into [4, 4, 4]."
    )
    box.index.value = 1
    assert "bias" in box.explanation.value and "[4, 4, 4]" in box.view.value
    np.testing.assert_array_equal(bias.grad, [4.0, 4.0, 4.0])


def test_a_tensor_constant_needs_no_gradient() -> None:
    x = Tensor(np.array([1.0, -2.0]), label="x")
    out = (x * np.array([3.0, 4.0])).named("out")
    box = stepper(out)
    assert "  to const (2,): no gradient needed (a constant)." in box.lines[0]
    constant = [s for s in box.steps if s.node is out.parents[1]][0]
    assert constant.upstream is None
    text = box.lines[box.steps.index(constant)]
    assert text == ("const (2,): no gradient needed (a constant, or made only from constants).",)
    box.index.value = len(box.steps)
    assert "every gradient is complete" in box.explanation.value


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


def test_a_tensor_step_says_the_rule_from_the_engines_table() -> None:
    import numpy as np

    from course_lib.autodiff.graph import backward_steps
    from course_lib.display.draw import node_names
    from course_lib.tensor import Tensor
    from course_lib.widgets.stepper import explain

    X, W = Tensor(np.ones((2, 3)), label="X"), Tensor(np.ones((3, 2)), label="W")
    loss = (X @ W).named("Y").sum().named("L")
    text = "\n".join(
        line
        for step in explain(list(backward_steps(loss, np.array(1.0))), node_names(loss))
        for line in step
    )
    assert "to X: the local rule of @ (X gets upstream @ Wᵀ) turns upstream" in text
    assert "to W: the local rule of @ (W gets Xᵀ @ upstream) turns upstream" in text
