"""Headless tests of course_lib.widgets.explore: sliders drive a live graph drawing and table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from course_lib.autodiff.scalar import Value
from course_lib.numbers.formatting import format_number
from course_lib.widgets import explore, widgets_work
from course_lib.widgets.explore import node_names


def svg_of(html: str) -> ET.Element:
    start = html.index("<svg")
    end = html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])


def test_explore_draws_the_graph_with_values_and_gradients() -> None:
    box = explore(lambda x, y, z: (x * y) * (x + z), values={"x": 3.0, "y": -2.0, "z": 1.0})
    assert set(box.sliders) == {"x", "y", "z"}
    assert box.result.data == pytest.approx(-24.0)
    svg = svg_of(box.view.value)
    found = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "f = -24" in found  # the title
    assert "grad -14" in found  # df/dx = y (x + z) + x y = -8 - 6
    assert "<table>" in box.view.value  # the table is still there by default


def test_slider_move_redraws_with_new_values() -> None:
    box = explore(lambda x, y, z: (x * y) * (x + z), values={"x": 3.0, "y": -2.0, "z": 1.0})
    before = box.view.value
    box.sliders["x"].value = 1.0
    assert box.view.value != before
    x = box.result.parents[0].parents[0]
    assert x.label == "x" and x.data == 1.0
    # df/dx = 2 x y + y z = -4 - 2 = -6
    assert x.grad == pytest.approx(-6.0)
    svg = svg_of(box.view.value)
    found = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "grad -6" in found and "f = -4" in found


def test_graph_only_and_table_only() -> None:
    graph_only = explore(lambda x: x * x, table=False)
    assert "<svg" in graph_only.view.value and "<table>" not in graph_only.view.value
    table_only = explore(lambda x: x * x, graph=False)
    assert "<svg" not in table_only.view.value and "<table>" in table_only.view.value
    with pytest.raises(ValueError, match="something to show"):
        explore(lambda x: x * x, graph=False, table=False)


def test_error_at_some_inputs_is_shown_not_raised() -> None:
    box = explore(lambda x: x.log(), values={"x": 1.0})
    assert box.result is not None
    box.sliders["x"].value = -1.0
    assert box.result is None
    assert "cannot be evaluated" in box.view.value and "positive" in box.view.value
    box.sliders["x"].value = 2.0
    assert box.result.data == pytest.approx(0.6931471805599453)


def test_bad_functions_are_named() -> None:
    with pytest.raises(TypeError, match="function"):
        explore(3)
    with pytest.raises(ValueError, match="at least one input"):
        explore(lambda: Value(1.0))
    with pytest.raises(ValueError, match="does not have"):
        explore(lambda x: x, values={"y": 1.0})
    with pytest.raises(TypeError, match="must return a Value"):
        explore(lambda x: 3.0)


def test_node_names_still_importable_from_explore() -> None:
    x = Value(2.0, "x")
    assert list(node_names(x * 3.0).values()) == ["x", "3", "n1"]


def test_widgets_work() -> None:
    box = widgets_work()
    box.slider.value = 7
    assert "49" in box.view.value


def test_inputs_and_nodes_name_the_latest_graph() -> None:
    box = explore(lambda x, y, z: (x + y).named("q") * z, values={"x": -2.0, "y": 5.0, "z": -4.0})
    assert set(box.inputs) == {"x", "y", "z"}
    assert box.inputs["x"].grad == -4.0 and box.inputs["z"].grad == 3.0
    assert box.nodes["q"].data == 3.0 and box.nodes["q"].grad == -4.0
    assert box.nodes["f"] is box.result
    box.sliders["z"].value = 2.0  # a move builds a fresh graph: the handles follow it
    assert box.inputs["x"].grad == 2.0 and box.nodes["q"].grad == 2.0
    assert box.inputs["z"].data == 2.0


def test_a_failing_move_clears_the_handles_and_never_raises() -> None:
    calls = []

    def picky(x):
        calls.append(x.data)
        if x.data > 1.5:
            raise KeyError("the learner's own bug")
        if x.data < -1.5:
            return 3.0  # not a Value
        return x * x

    box = explore(picky, values={"x": 1.0})
    assert box.result is not None
    box.sliders["x"].value = 2.0
    assert box.result is None and box.inputs == {} and box.nodes == {}
    assert "KeyError" in box.view.value and "learner" in box.view.value
    box.sliders["x"].value = -2.0
    assert box.result is None and "must return a Value" in box.view.value
    box.sliders["x"].value = 0.5
    assert box.result.data == 0.25 and box.inputs["x"].grad == 1.0


def test_a_slider_set_to_nan_from_code_is_shown_not_raised() -> None:
    box = explore(lambda x, y: x * y, values={"x": 1.0, "y": 2.0})
    box.sliders["x"].value = float("nan")  # dragging cannot do this; code can
    assert box.result is None and "cannot be evaluated here" in box.view.value
    assert "finite number, got nan" in box.view.value
    box.sliders["x"].value = float("inf")  # the slider clamps it to its end
    assert box.result.data == box.sliders["x"].max * 2.0
    box.sliders["x"].value = 0.5
    assert box.result.data == 1.0 and "cannot be evaluated" not in box.view.value


def test_an_error_at_the_start_that_is_a_bug_is_raised() -> None:
    def typo(x):
        return x.exq()

    with pytest.raises(AttributeError, match="exq"):
        explore(typo)


def table_rows(html: str) -> dict[str, list[str]]:
    """The explore table as {node name: [made by, value, gradient]}."""
    table = html[html.index("<table>") : html.index("</table>") + len("</table>")]
    root = ET.fromstring(table)
    rows = {}
    for row in root.findall("tr")[1:]:
        cells = ["".join(cell.itertext()) for cell in row]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_table_shows_every_gradient_with_its_sign() -> None:
    """Kills the mutant 'negated gradients in the explore table' (only '<table>' was checked)."""
    box = explore(
        lambda x, y, z: (x * y).named("a") * (x + z).named("b"),
        values={"x": 3.0, "y": -2.0, "z": 1.0},
    )
    rows = table_rows(box.view.value)
    assert rows == {
        "x": ["input", "3", "-14"],
        "y": ["input", "-2", "12"],
        "a": ["x * y", "-6", "4"],
        "z": ["input", "1", "-6"],
        "b": ["x + z", "4", "-6"],
        "f": ["a * b", "-24", "1"],
    }
    box.sliders["x"].value = 1.0
    rows = table_rows(box.view.value)
    assert rows["x"] == ["input", "1", "-6"]  # 2xy + yz at x = 1
    for name, node in box.nodes.items():
        assert rows[name][2] == format_number(node.grad)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (
            {"values": {"x": "abc"}},
            TypeError,
            r"values\['x'\] must be a number, got the text 'abc'",
        ),
        ({"values": {"x": float("nan")}}, ValueError, r"values\['x'\] must be a finite number"),
        ({"values": [1.0]}, TypeError, "values maps input names to starting numbers"),
        (
            {"step": 0},
            ValueError,
            "step is how far one slider notch moves an input and must be above 0",
        ),
        ({"step": -1}, ValueError, "must be above 0, got -1"),
        ({"step": "0.1"}, TypeError, "step must be a number"),
        ({"low": "a"}, TypeError, "low must be a number"),
        ({"high": float("inf")}, ValueError, "high must be a finite number"),
        ({"low": 2.0, "high": 1.0}, ValueError, "low < high"),
        ({"table": "yes"}, TypeError, "table must be True or False"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        explore(lambda x: x * x, **kwargs)


def test_a_function_without_a_signature_is_named() -> None:
    with pytest.raises(TypeError, match="needs a Python function whose parameters name"):
        explore(max)


def test_a_function_of_plain_numbers_gets_a_hint() -> None:
    import math

    with pytest.raises(TypeError, match="f must be written with Value operations"):
        explore(lambda x: math.exp(x))


def test_an_overflow_after_a_move_is_shown_with_the_op_and_its_inputs() -> None:
    box = explore(lambda x: (x * 400.0).exp(), values={"x": 1.0})
    assert box.result is not None
    box.sliders["x"].value = 3.0
    assert box.result is None
    assert "cannot be evaluated here: exp: exp(1200) is too large for a float" in box.view.value


def test_a_gradient_that_overflows_is_shown_as_the_sentence_not_inf() -> None:
    # explore showed grad = inf for x when d f/dx = 1e154**3 passed the largest float (issue 24)
    box = explore(lambda x: x * 1e154 * 1e154 * 1e154, values={"x": 1e-300})
    assert box.result is None and box.inputs == {}
    assert "cannot be evaluated here: backward: the gradient of x (= 1e-300) is inf" in (
        box.view.value
    )
    assert ">inf<" not in box.view.value
    box.sliders["x"].value = 0.0  # the gradient is the same at every x: still refused
    assert box.result is None and "passes the largest float" in box.view.value
    fan_out = explore(lambda x: x * 1e308 + x * 1e308, values={"x": 1e-300})
    assert fan_out.result is None and "(sum at joins)" in fan_out.view.value


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"low": -(10**400)}, r"^explore: low is an int of 401 digits, too large for a float"),
        ({"values": {"x": 10**400}}, r"^explore: values\['x'\] is an int of 401 digits"),
        ({"step": 10**400}, r"^explore: step is an int of 401 digits"),
    ],
    ids=["low", "values", "step"],
)
def test_an_int_beyond_the_floats_is_named(kwargs, words) -> None:
    with pytest.raises(ValueError, match=words):
        explore(lambda x: x * x, **kwargs)


def test_numpy_numbers_are_settings_too() -> None:
    import numpy as np

    box = explore(lambda x: x * x, values={"x": np.int64(2)}, low=np.float32(-4), step=np.int8(1))
    assert box.result.data == 4.0 and box.inputs["x"].grad == 4.0
    assert box.sliders["x"].min == -4.0
