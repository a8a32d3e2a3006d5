"""Tests of course_lib.display.draw: valid, deterministic SVG of Value graphs and of real Tensor
graphs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from example_graphs import five_nodes
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import Value
from course_lib.display.accessible import html_figure
from course_lib.display.draw import (
    HOT_EDGE,
    MAX_NODES,
    _layout,
    draw,
    format_data,
    formula,
    node_names,
)
from course_lib.tensor import Tensor

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_valid_xml_and_one_box_per_node() -> None:
    *_, f = five_nodes()
    root = ET.fromstring(draw(f).svg)
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}g")) == 6
    # one path and one arrow head per edge: a(x, y), b(x, z), f(a, b)
    assert len(root.findall(f"{SVG}path")) == 6
    assert len(root.findall(f"{SVG}polygon")) == 6


def test_before_backward_says_not_computed_yet_not_zero() -> None:
    *_, f = five_nodes()
    before = texts(draw(f).svg)
    assert before.count("grad not computed yet") == 6
    assert not any(t == "grad 0" for t in before)
    f.backward()
    after = texts(draw(f).svg)
    assert "grad not computed yet" not in after
    # df/dx = y * b + a * 1 = -2 * 4 + (-6) = -14: the sum of the two paths
    assert "grad -14" in after
    assert "a = x * y" in after and "b = x + z" in after and "f = a * b" in after


def test_same_graph_gives_byte_identical_svg() -> None:
    *_, f1 = five_nodes()
    *_, f2 = five_nodes()
    f1.backward()
    f2.backward()
    assert draw(f1, partials=True).svg == draw(f1, partials=True).svg
    assert draw(f1, partials=True).svg == draw(f2, partials=True).svg


def test_partials_label_edges_with_local_partials() -> None:
    x, y, z, a, b, f = five_nodes()
    plain = texts(draw(f).svg)
    labelled = texts(draw(f, partials=True).svg)
    # edges into a = x * y carry y = -2 and x = 3; into f = a * b carry b = 4 and a = -6
    extra = sorted(set(labelled) - set(plain))
    assert extra == ["-2", "-6", "1", "3", "4"]
    custom = texts(draw(f, edge_labels={(f, 0): "4 × 1 = 4"}).svg)
    assert "4 × 1 = 4" in custom


def test_highlight_marks_the_node_and_its_edges() -> None:
    x, y, z, a, b, f = five_nodes()
    root = ET.fromstring(draw(f, highlight=a).svg)
    hot_paths = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == HOT_EDGE]
    assert len(hot_paths) == 3  # in from x and y, out to f
    hot_boxes = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == HOT_EDGE]
    assert len(hot_boxes) == 1
    only_in = ET.fromstring(draw(f, highlight=a, highlight_edges="in").svg)
    assert len([p for p in only_in.iter(f"{SVG}path") if p.get("stroke") == HOT_EDGE]) == 2


def test_labels_are_escaped() -> None:
    evil = Value(1.0, "x<script>&\"'")
    g = (evil * 2.0).named("g</text>")
    found = texts(draw(g).svg)
    assert "x<script>&\"'" in found
    assert "g</text> = x<script>&\"' * 2" in found


def test_control_characters_are_dropped() -> None:
    g = Value(1.0, "a\x00b\x1bc") * 2.0
    assert "abc" in texts(draw(g).svg)


def test_save_writes_an_svg_file(tmp_path) -> None:
    *_, f = five_nodes()
    drawing = draw(f)
    path = drawing.save(tmp_path / "five.svg")
    tree = ET.parse(path)
    assert tree.getroot().tag == f"{SVG}svg"
    assert path.read_text("utf-8").startswith("<?xml")
    # inline, so its name and description reach a screen reader (see test_accessible)
    assert drawing._repr_html_() == html_figure(drawing.svg, drawing.label, drawing.width)
    assert drawing._repr_html_().startswith('<div class="tgf-scroll-region" role="group" ')
    root = ET.fromstring(drawing.svg)
    assert repr(drawing) == f"GraphDrawing({root.get('width')}×{root.get('height')} px SVG)"
    with pytest.raises(ValueError, match=r"\.svg"):
        drawing.save(tmp_path / "five.png")


def test_bad_inputs_are_named() -> None:
    *_, f = five_nodes()
    with pytest.raises(TypeError, match="graph node"):
        draw(3.0)
    with pytest.raises(ValueError, match="highlight_edges"):
        draw(f, highlight_edges="sideways")
    with pytest.raises(ValueError, match="unknown style 'glow'"):
        draw(f, styles={f: "glow"})


def test_node_names_are_unique() -> None:
    x1, x2 = Value(1.0, "x"), Value(2.0, "x")
    g = x1 * 2.0 + x2 * 2.0
    names = node_names(g)
    assert len(set(names.values())) == len(names) == 7
    assert sorted(names.values()) == ["2", "2#2", "n1", "n2", "n3", "x", "x#2"]
    # a constant inside a formula shows its number, not its unique name
    assert "n2 = x#2 * 2" in texts(draw(g).svg)


def test_layout_puts_every_parent_left_of_its_child() -> None:
    *_, f = five_nodes()
    column, columns = _layout(topological_order(f))
    for node in column:
        for parent in node.parents:
            assert column[parent] < column[node]
    assert [len(c) for c in columns] == [3, 2, 1]


def test_constant_sits_next_to_its_consumer() -> None:
    x = Value(0.5, "x")
    deep = ((x * 2.0).tanh().tanh() + 1.0).named("out")
    column, _ = _layout(topological_order(deep))
    one = deep.parents[1]
    assert column[one] == column[deep] - 1


def test_tensor_graphs_show_shapes_and_small_values() -> None:
    """The real Tensor engine's graphs: big arrays show their shape, small ones their numbers."""
    X = Tensor(np.ones((64, 784)), label="X")
    W = Tensor(np.zeros((784, 2)), label="W")
    b = Tensor(np.array([0.5, -1.0]), label="b")
    Z = (X @ W).named("Z")
    out = (Z + b).named("out")
    shifted = (out + np.array([2.0, 3.0])).named("shifted")  # a numpy array: a constant node
    found = texts(draw(shifted, partials=True).svg)
    assert "data shape (64, 784)" in found
    assert "data shape (784, 2)" in found
    assert "data [0.5, -1]" in found
    assert "Z = X @ W" in found
    assert "out = Z + b" in found
    assert "shifted = out + const (2,)" in found
    assert found.count("grad not computed yet") == 6
    assert found.count("grad none (a constant)") == 1  # the numpy array's node
    shifted.backward(np.ones((64, 2)))
    found = texts(draw(shifted).svg)
    assert "grad shape (64, 2)" in found  # Z's and out's gradients
    assert "grad [64, 64]" in found  # b's: the upstream summed over the 64 rows
    assert "grad shape (784, 2)" in found
    assert "grad not computed yet" not in found and "grad none (a constant)" in found


def test_tensor_ops_outside_the_scalar_table_are_written_generically() -> None:
    x = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]), label="x")
    names = {x: "x"}
    total = x.sum()
    names[total] = "s"
    assert formula(total, names) == "sum(x)"
    assert formula(x.T, {**names, x.T: "t"}) == "transpose(x)"
    e = (x * x).exp()
    assert formula(e, node_names(e)) == "exp(n1)"
    assert formula(x**2, {x: "x"}) == "x**2"  # the scalar table's power, for a tensor too


def test_format_data() -> None:
    assert format_data(None) == "not computed yet"
    assert format_data(-0.0) == "0"
    assert format_data(1 / 3) == "0.3333"
    assert format_data(np.float64(2.5)) == "2.5"
    assert format_data(np.array(7.0)) == "7"
    assert format_data(np.zeros(7)) == "shape (7,)"
    assert format_data(np.zeros((2, 2, 1))) == "shape (2, 2, 1)"


OPS = ("+", "*", "tanh", "sigmoid", "neg")


@st.composite
def value_graphs(draw_: st.DrawFn) -> Value:
    """A random Value graph: 1-4 labelled inputs, then 1-25 ops on earlier nodes."""
    n_inputs = draw_(st.integers(1, 4))
    nodes = [Value(draw_(st.floats(-2, 2, allow_nan=False)), f"x{i}") for i in range(n_inputs)]
    for _ in range(draw_(st.integers(1, 25))):
        op = draw_(st.sampled_from(OPS))
        a = nodes[draw_(st.integers(0, len(nodes) - 1))]
        b = nodes[draw_(st.integers(0, len(nodes) - 1))]
        if op == "+":
            nodes.append(a + b)
        elif op == "*":
            nodes.append(a * b)
        elif op == "tanh":
            nodes.append(a.tanh())
        elif op == "sigmoid":
            nodes.append(a.sigmoid())
        else:
            nodes.append(-a)
    return nodes[-1]


@settings(max_examples=60, deadline=None)
@given(value_graphs(), st.booleans())
def test_random_graphs_draw_valid_deterministic_svg(g: Value, backward: bool) -> None:
    if backward:
        g.backward()
    first = draw(g, partials=True).svg
    assert first == draw(g, partials=True).svg
    root = ET.fromstring(first)
    order = topological_order(g)
    assert len(root.findall(f"{SVG}g")) == len(order)
    assert len(root.findall(f"{SVG}path")) == sum(len(n.parents) for n in order)
    column, _ = _layout(order)
    for node in order:
        for parent in node.parents:
            assert column[parent] < column[node]


def test_a_drawing_is_an_image_named_and_described_in_words() -> None:
    x, y, z, a, b, f = five_nodes()
    f.backward()
    drawing = draw(f, partials=True, highlight=x, styles={a: "done"})
    root = ET.fromstring(drawing.svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == drawing.label == "Computation graph of f = a * b, 6 nodes"
    assert root.find(f"{SVG}title").text == drawing.label
    desc = root.find(f"{SVG}desc").text
    # every node: its op, value and gradient; the state a colour shows, in words
    assert "x (input): value 3, gradient -14, the current node." in desc
    assert "a = x * y: value -6, gradient 4, gradient complete." in desc
    assert "f = a * b: value -24, gradient 1." in desc
    # every edge with its local partial
    assert "edge x to a: local partial ∂a/∂x = -2." in desc
    assert "edge b to f: local partial ∂f/∂b = -6." in desc
    titled = draw(f, title="Step 1 of 6", edge_labels={(f, 0): "4 × 1 = 4"})
    assert titled.label == "Step 1 of 6: computation graph of f = a * b, 6 nodes"
    assert (
        "edge a to f: local partial ∂f/∂a = 4, labelled 4 × 1 = 4."
        in ET.fromstring(titled.svg).find(f"{SVG}desc").text
    )


def test_a_wide_drawing_scrolls_in_a_region_the_keyboard_reaches() -> None:
    g = Value(1.0, "x")
    for k in range(8):
        g = (g * 2.0).named(f"step_number_{k}")
    drawing = draw(g, partials=True)
    assert drawing.width > 760
    shown = drawing._repr_html_()
    assert shown.startswith(
        '<div class="tgf-scroll-region" role="group" tabindex="0" aria-label="Computation graph of '
    )
    assert "overflow-x:auto" in shown and drawing.svg[-2000:] in shown


def test_a_drawing_keeps_its_size_and_grows_with_the_notebooks_text() -> None:
    """Projection: never shrunk to its column (its region scrolls instead), its text at least
    11 px (16.5 screen px at 150% zoom), and scaled by the notebook's code font, which
    Presentation Mode enlarges (tests/browser/test_projection.py measures it in a browser)."""
    *_, f = five_nodes()
    drawing = draw(f, partials=True, title="t")
    root = ET.fromstring(drawing.svg)
    style = root.get("style")
    assert "max-width" not in style
    assert f"width:calc({drawing.width} * var(--jp-code-font-size, 13px) / 13)" in style
    assert root.get("viewBox") == f"0 0 {drawing.width} {drawing.height}"
    sizes = {float(t.get("font-size", root.get("font-size"))) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 11
    # a widget shows it in its region too, with the rule that lets a widget's view shrink
    in_widget = ET.fromstring(drawing.html())
    assert in_widget.get("role") == "group" and in_widget.get("tabindex") == "0"
    assert in_widget.get("aria-label") == f"{drawing.label} (scrolls sideways)"
    assert in_widget.find(f"{SVG}svg").get("aria-label") == drawing.label


def test_a_node_state_never_shows_by_colour_alone() -> None:
    x, y, z, a, b, f = five_nodes()
    f.backward()
    styles = {x: "done", y: "partial", z: "right", a: "wrong", b: "hidden"}
    root = ET.fromstring(draw(f, highlight=f, styles=styles).svg)
    boxes = {
        "".join(g.find(f"{SVG}text").itertext()).split(" ")[0]: g for g in root.iter(f"{SVG}g")
    }

    def look(name: str) -> tuple[str | None, str | None, list[str]]:
        rect = boxes[name].find(f"{SVG}rect")
        marks = ["".join(t.itertext()) for t in boxes[name].findall(f"{SVG}text")[3:]]
        return rect.get("stroke-width"), rect.get("stroke-dasharray"), marks

    assert look("f") == ("3.0", None, ["▶"])  # the current node: thick, marked
    assert look("x") == ("2.0", None, ["✓"])  # done: solid, ticked
    assert look("y") == ("2.0", "7,4", [])  # partly summed: dashed ("so far" in its text)
    assert look("z") == ("2.0", None, ["✓"])  # right
    assert look("a") == ("2.0", "7,4", ["✗"])  # wrong: dashed and crossed
    assert look("b") == ("2.0", "2,3", [])  # to be typed: dotted ("?" in its text)


def test_a_structure_only_drawing_hides_every_computed_value():
    from course_lib.autodiff.scalar import Value

    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    a = (x * y).named("a")
    f = (a + x).named("f")
    svg = draw(f, values=False).svg
    assert "data 2" in svg and "data -3" in svg  # the inputs, given by the exercise
    assert "data -6" not in svg and "data -4" not in svg and "data ?" in svg
    assert "edge x to a" in svg and "= -3" not in svg  # the edge is named, its partial (y) not


def test_a_drawing_that_hides_the_partials_does_not_say_them() -> None:
    # A hand-trace asks for the local partials: its screen-reader text must not hold them.
    *_, f = five_nodes()
    desc = ET.fromstring(draw(f).svg).find(f"{SVG}desc").text
    assert "edge x to a." in desc and "local partial" not in desc
    shown = ET.fromstring(draw(f, partials=True).svg).find(f"{SVG}desc").text
    assert "edge x to a: local partial ∂a/∂x = -2." in shown


def _chain(nodes: int) -> Value:
    """A graph of exactly ``nodes`` nodes: x, then nodes - 1 tanh nodes."""
    out = Value(0.5, label="x")
    for _ in range(nodes - 1):
        out = out.tanh()
    return out


def test_a_graph_too_large_to_read_is_refused_with_the_way_out() -> None:
    """A neuron on all 784 pixels (3,135 nodes) used to write 22 MB of SVG into the notebook
    without a word."""
    assert len(topological_order(_chain(MAX_NODES + 1))) == MAX_NODES + 1
    assert len(topological_order(_chain(MAX_NODES))) == MAX_NODES
    draw(_chain(MAX_NODES))  # at the limit: drawn
    with pytest.raises(ValueError) as caught:
        draw(_chain(MAX_NODES + 1))
    message = str(caught.value)
    assert message.startswith(f"draw: this graph has {MAX_NODES + 1} nodes, more than the 200")
    assert "Draw a smaller graph" in message and f"max_nodes={MAX_NODES + 1}" in message
    big = draw(_chain(MAX_NODES + 1), max_nodes=MAX_NODES + 1)  # asked for: drawn
    assert f"{MAX_NODES + 1} nodes" in big.label
    assert draw(_chain(7), max_nodes=7).svg == draw(_chain(7)).svg


@pytest.mark.parametrize(
    ("max_nodes", "error"), [(0, ValueError), (2.5, TypeError), ("200", TypeError)]
)
def test_max_nodes_is_a_positive_int(max_nodes, error) -> None:
    with pytest.raises(error, match="^draw: max_nodes must be"):
        draw(_chain(3), max_nodes=max_nodes)
    assert draw(_chain(3), max_nodes=np.int64(3)).svg == draw(_chain(3)).svg
