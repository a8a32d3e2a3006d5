"""SVG drawings of small computation graphs, in pure Python (no graphviz, no system binary).

``draw(root)`` lays the graph out left to right by depth: a node's column is one more than
its deepest parent's, so every edge points rightwards, from an input of an op to the op's
output. Each node is a box showing its name, the op that made it, its forward value ``data``
and its gradient ``grad`` (dL/d(node)); before ``backward()`` the gradient reads
"not computed yet", never 0 (a tensor constant's, which is never computed, reads "none").
With ``partials=True`` each edge carries the local partial d(child)/d(parent) that reverse
mode multiplies the upstream gradient by.

It works on the shared node shape of :mod:`course_lib.autodiff.graph` (``data``, ``grad``, ordered
``parents``, ``op``, ``label``), so a ``Tensor`` graph draws too: a small array shows its
numbers, a larger one its shape. A node made by an op of the scalar engine's op table
(:data:`course_lib.autodiff.scalar.OPS`) is written with that op's formula (``x * y``, ``-x``,
``x**2``, ``tanh(z)``); any other op as ``op(inputs)``, or infix for a symbol such as ``@``.

The same graph always gives the same bytes: positions come from the topological order (which
follows the stored parent order), there are no random ids, and numbers are formatted by the
course's one formatter, :func:`course_lib.numbers.formatting.format_number`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from os import PathLike
from pathlib import Path
from typing import Any

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import op_named
from course_lib.display.accessible import (
    CONTROL_CHARACTERS,
    OKABE_ITO,
    html_figure,
    scroll_region,
    svg_open,
    text_scaled_width,
    xml_text,
)
from course_lib.numbers.checking import whole_number
from course_lib.numbers.formatting import format_number

__all__ = [
    "MAX_NODES",
    "STYLES",
    "GraphDrawing",
    "draw",
    "format_data",
    "formula",
    "node_names",
]

# ---- names and numbers -------------------------------------------------------------------

_text = xml_text  # every text of a drawing is escaped, and stripped of what XML cannot hold

MAX_NODES = 200
"""The most nodes :func:`draw` draws unless told otherwise (``max_nodes=``). The course's
drawings have 3 to 12 nodes; a box per node stops being readable long before 200, and a graph
of 1,500 nodes (a neuron on all 784 pixels) made 22 MB of SVG saved into the notebook."""


def _is_scalar(x: Any) -> bool:
    if isinstance(x, Real):
        return True
    shape = getattr(x, "shape", None)
    return shape is not None and (shape == () or math.prod(shape) == 1)


def _scalar(x: Any) -> float:
    return float(x.reshape(-1)[0]) if hasattr(x, "reshape") else float(x)


def format_data(x: Any, max_size: int = 6) -> str:
    """A node's ``data`` or ``grad`` as short text (numbers by :func:`format_number`).

    Plain numbers and one-element arrays show 4 significant digits; arrays of at most
    ``max_size`` elements (and at most 2 axes) show their entries; larger arrays show their
    shape, e.g. ``shape (64, 10)``. ``None`` (a gradient not computed yet) gives
    ``not computed yet``.
    """
    if type(max_size) is not int or max_size < 0:
        max_size = whole_number(max_size, "max_size", "format_data", minimum=0)
    if x is None:
        return "not computed yet"
    if isinstance(x, bool):
        return str(x)
    shape = getattr(x, "shape", None)
    if shape is None:
        if isinstance(x, Real):
            return format_number(x)
        return CONTROL_CHARACTERS.sub("", str(x))[:40]
    shape = tuple(shape)
    if shape == ():
        return format_number(_scalar(x))
    size = math.prod(shape)
    if size <= max_size and len(shape) <= 2:
        rows = x.tolist()

        def fmt(item: Any) -> str:
            if isinstance(item, list):
                return "[" + ", ".join(fmt(v) for v in item) + "]"
            return format_number(item) if isinstance(item, Real) else str(item)

        return fmt(rows)
    return "shape (" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def node_names(out: Any) -> dict[Any, str]:
    """A readable, unique name for every node of the graph ending at ``out``, in topological order.

    A node's own ``label`` if it has one; a constant (an unlabelled node with no parents) is
    named by its number (or ``const`` and its shape, for an array); any other node gets
    ``n1``, ``n2``, ... in the order the forward pass made it. When two nodes would get the
    same name, the later ones get ``#2``, ``#3``, ... appended, so a name picks out one node.
    """
    names: dict[Any, str] = {}
    used: dict[str, int] = {}
    counter = 0
    for node in topological_order(out):
        if node.label:
            name = str(node.label)
        elif not node.parents:
            data = node.data
            if _is_scalar(data):
                name = format_number(_scalar(data), 6)
            else:
                name = "const " + format_data(data, max_size=0).removeprefix("shape ")
        else:
            counter += 1
            name = f"n{counter}"
        if name in used:
            used[name] += 1
            name = f"{name}#{used[name]}"
            while name in used:  # a label that already looks like "x#2"
                name += "'"
        used.setdefault(name, 1)
        names[node] = name
    return names


def _short_name(node: Any, names: Mapping[Any, str]) -> str:
    """A constant shows as its number inside a formula (its unique name may carry ``#2``)."""
    if not node.parents and not node.label and _is_scalar(node.data):
        return format_number(_scalar(node.data), 6)
    return names[node]


_INFIX = re.compile(r"^[^\w\s]{1,3}$")


def formula(node: Any, names: Mapping[Any, str]) -> str:
    """How ``node`` was made, in the parents' names: ``x * y``, ``-x``, ``x**2``, ``tanh(z)``.

    An op of the scalar op table is written with its own formula; any other op (a tensor
    op such as ``@`` or ``sum``) as ``a @ b`` for a symbol between two inputs, else
    ``op(inputs)``.
    """
    if not hasattr(node, "parents") or not hasattr(node, "op"):
        raise TypeError(f"formula needs a node of a graph (a Value or a Tensor), got {node!r}")
    if not isinstance(names, Mapping):
        raise TypeError(
            f"formula: names must map nodes to their names (node_names(root) gives one), got "
            f"{type(names).__name__}"
        )
    args = [_short_name(p, names) for p in node.parents]
    op = str(node.op)
    if not args:
        return "input" if node.label else "constant"
    known = op_named(op)
    if known is not None and known.arity == len(args):
        return known.write(*args)
    if len(args) == 2 and _INFIX.match(op):
        return f"{args[0]} {op} {args[1]}"
    return f"{op}(" + ", ".join(args) + ")"


def _mapping(value: Any, name: str) -> Mapping[Any, Any]:
    """A draw argument that maps nodes (or edges) to text, or a TypeError saying so."""
    if not isinstance(value, Mapping):
        raise TypeError(
            f"draw: {name} must be a dict from nodes to text (such as {{x: 'x'}}), got "
            f"{type(value).__name__} {value!r}"
        )
    return value


# ---- the drawing -------------------------------------------------------------------------

# A node's state shows three ways, so that no one needs the colour: the Okabe–Ito colour of
# its border, the border's pattern (solid, dashed, dotted; thick for the current node) and a
# mark in its corner or words in its text ("so far", "not computed yet", "?").
STYLES: dict[str, tuple[str, str]] = {
    # name: (fill, border)
    "plain": ("#ffffff", "#495057"),
    "highlight": ("#fbe7d9", OKABE_ITO["vermillion"]),  # the current node
    "done": ("#d9f0e9", OKABE_ITO["bluish green"]),
    "partial": ("#fcf1d9", OKABE_ITO["orange"]),  # a running sum, waiting for more paths
    "right": ("#d9f0e9", OKABE_ITO["bluish green"]),
    "wrong": ("#fbe7d9", OKABE_ITO["vermillion"]),
    "hidden": ("#f1f3f5", "#6c757d"),  # waiting to be typed
}
DASHES: dict[str, str] = {"partial": "7,4", "wrong": "7,4", "hidden": "2,3"}  # else solid
MARKS: dict[str, str] = {"highlight": "▶", "done": "✓", "right": "✓", "wrong": "✗"}
EDGE = "#6c757d"  # an edge, its arrow and its label (4.7:1 on white)
HOT_EDGE = OKABE_ITO["vermillion"]  # an edge into or out of the current node: also thicker
DATA_INK = "#005a8c"  # the data line of a node (a darker Okabe–Ito blue: 7:1 on white)
GRAD_INK = "#a61e4d"  # the grad line

_CHAR_W = 7.2  # width of one character of 12 px monospace
_LABEL_W = 6.6  # the same at 11 px, for edge labels
_LINE_H = 16
_PAD = 8
_BOX_H = 3 * _LINE_H + 10
_ROW_GAP = 14  # between the boxes of a column (an edge may pass there, 7 px from each)
_CURVE_W = 36  # the width an edge's curve takes between two columns, besides its label
_MARGIN = 12


@dataclass(frozen=True)
class GraphDrawing:
    """An SVG drawing of a graph: shows inline in JupyterLab; ``save("f.svg")`` writes a file.

    ``label`` is its accessible name (the SVG's ``aria-label`` and ``<title>``); the SVG's
    ``<desc>`` says every node's op, value and gradient and every edge's local partial. A
    notebook shows it as inline SVG in HTML (see :func:`course_lib.display.accessible.html_figure`),
    where a screen reader gets both; JupyterLab would show ``image/svg+xml`` as an ``<img>``
    with no text alternative.

    It is shown at its own size, never shrunk to its column: in a region that scrolls sideways
    where the page is narrower (see :func:`course_lib.display.accessible.scroll_region`), and
    larger in JupyterLab's Presentation Mode, with the notebook's code font
    (:func:`course_lib.display.accessible.text_scaled_width`). Its smallest text, an edge's
    label, is 11 px: 16.5 screen px at a projector's 150% zoom.
    """

    svg: str
    width: int = 0
    height: int = 0
    label: str = ""

    def __repr__(self) -> str:
        return f"GraphDrawing({self.width}×{self.height} px SVG)"

    def _repr_html_(self) -> str:
        return html_figure(self.svg, self.label, self.width)

    def __str__(self) -> str:
        return self.svg

    def html(self) -> str:
        """The drawing as a widget shows it: in its region that scrolls sideways where the
        page is narrower than the drawing (a widget's HTML is never sanitized, so without the
        note :meth:`_repr_html_` adds for an untrusted notebook). The widget that shows it
        holds the rule that lets the region shrink
        (:func:`course_lib.widgets.controls.region_rule_view`)."""
        return scroll_region(self.svg, self.label)

    def save(self, path: str | Path) -> Path:
        """Write the drawing as a standalone ``.svg`` file (UTF-8) and return its path."""
        if not isinstance(path, str | PathLike):
            raise TypeError(
                f"save needs a file name ending in .svg (text or a Path), got {type(path).__name__}"
            )
        path = Path(path)
        if path.suffix.lower() != ".svg":
            raise ValueError(f"save writes SVG: the file name must end in .svg, got {str(path)!r}")
        try:
            path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + self.svg + "\n", "utf-8")
        except OSError as error:
            raise ValueError(
                f"save could not write {str(path)!r}: {error.strerror or error}; save into a "
                "folder that exists and that you can write to"
            ) from None
        return path


def _layout(order: list[Any]) -> tuple[dict[Any, int], list[list[Any]]]:
    """Column of every node and the nodes of each column, top to bottom."""
    position = {node: i for i, node in enumerate(order)}
    consumers: dict[Any, list[Any]] = {node: [] for node in order}
    for node in order:
        for parent in node.parents:
            if node not in consumers[parent]:
                consumers[parent].append(node)

    def is_constant(node: Any) -> bool:
        return not node.parents and not node.label and bool(consumers[node])

    column: dict[Any, int] = {}
    for node in order:
        if not node.parents:
            column[node] = 0
        else:
            placed = [column[p] for p in node.parents if not is_constant(p)]
            column[node] = 1 + max(placed) if placed else 1
    for node in order:  # a constant sits just left of its first consumer
        if is_constant(node):
            column[node] = max(0, min(column[c] for c in consumers[node]) - 1)

    columns: list[list[Any]] = [[] for _ in range(max(column.values()) + 1)]
    for node in order:
        columns[column[node]].append(node)

    # Order each column by the mean height of the nodes it connects to (fewer crossings); a
    # consumer counts at the height of the port the edge enters, so the first parent of an op
    # sits above its second. Heights are rows counted from the column's middle, as drawn.
    # Ties keep the topological order: the result is deterministic.
    rows: dict[Any, float] = {}

    def place(col: list[Any]) -> None:
        middle = (len(col) - 1) / 2
        for r, n in enumerate(col):
            rows[n] = r - middle

    for col in columns:
        place(col)

    def key_forward(node: Any) -> tuple[float, int]:
        near = [rows[p] for p in node.parents if column[p] != column[node]]
        return (sum(near) / len(near) if near else rows[node], position[node])

    def key_backward(node: Any) -> tuple[float, int]:
        near = [
            rows[m] + (i + 1) / (len(m.parents) + 1) - 0.5
            for m in consumers[node]
            for i, p in enumerate(m.parents)
            if p is node and column[m] != column[node]
        ]
        return (sum(near) / len(near) if near else rows[node], position[node])

    def sweep(cols: range, forward: bool) -> None:
        for c in cols:
            columns[c].sort(key=key_forward if forward else key_backward)
            place(columns[c])

    sweep(range(1, len(columns)), True)
    sweep(range(len(columns) - 2, -1, -1), False)
    sweep(range(1, len(columns)), True)
    return column, columns


def _free_height(want: float, col: list[Any], pos: Mapping[Any, tuple[float, float]]) -> float:
    """The height nearest ``want`` at which a line can cross column ``col`` between its boxes."""
    tops = [pos[n][1] for n in col]
    if all(not (top - 6 <= want <= top + _BOX_H + 6) for top in tops):
        return want
    free = [tops[0] - _ROW_GAP / 2, tops[-1] + _BOX_H + _ROW_GAP / 2]
    free += [top + _BOX_H + _ROW_GAP / 2 for top in tops[:-1]]
    return min(free, key=lambda y: (abs(y - want), y))


def draw(
    root: Any,
    *,
    partials: bool = False,
    highlight: Any = None,
    highlight_edges: str = "both",
    grads: Mapping[Any, str] | None = None,
    styles: Mapping[Any, str] | None = None,
    edge_labels: Mapping[tuple[Any, int], str] | None = None,
    title: str | None = None,
    names: Mapping[Any, str] | None = None,
    values: bool = True,
    max_nodes: int = MAX_NODES,
) -> GraphDrawing:
    """Draw the graph that ends at ``root`` as SVG, inputs on the left, ``root`` on the right.

    ``partials``: label each edge parent → child with the local partial d(child)/d(parent)
    (from the node's ``partials``; nodes without them get no label).
    ``highlight``: a node to emphasise, with its incoming edges (from its parents) and
    outgoing edges (to its consumers); ``highlight_edges`` is ``"both"``, ``"in"``, ``"out"``
    or ``"none"``.
    ``grads``: text to show instead of a node's gradient (widgets use it for "?" or a running
    sum). ``styles``: a style name from :data:`STYLES` per node. ``edge_labels``: text for the
    edge into ``child`` from its parent number ``i``, keyed by ``(child, i)``; it replaces the
    partial. ``names``: node names (default :func:`node_names`). ``values=False`` draws the
    structure only: the result of every operation reads ``data ?`` (the inputs keep their
    values), for a drawing that sits above an exercise asking for those values.
    ``max_nodes``: a graph of more nodes (default :data:`MAX_NODES`) is refused with a
    ValueError, before anything is drawn; pass a larger number to draw it anyway.
    """
    max_nodes = whole_number(max_nodes, "max_nodes", "draw")
    if highlight_edges not in ("both", "in", "out", "none"):
        raise ValueError(
            f"highlight_edges must be 'both', 'in', 'out' or 'none', got {highlight_edges!r}"
        )
    for attribute in ("data", "parents", "op"):
        if not hasattr(root, attribute):
            raise TypeError(
                f"draw needs a graph node (with data, grad, parents, op), got "
                f"{type(root).__name__} without {attribute!r}"
            )
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(
            f"draw: this graph has {len(order):,} nodes, more than the {max_nodes:,} a drawing "
            "shows (each node is a box of text, and the SVG is saved into the notebook). Draw "
            "a smaller graph, such as one part of the computation, or pass "
            f"max_nodes={len(order)} to draw it anyway"
        )
    names = node_names(root) if names is None else {**node_names(root), **_mapping(names, "names")}
    grads = _mapping(grads, "grads") if grads is not None else {}
    styles = _mapping(styles, "styles") if styles is not None else {}
    edge_labels = _mapping(edge_labels, "edge_labels") if edge_labels is not None else {}
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw: title must be text, got {type(title).__name__} {title!r}")
    for node, style in styles.items():
        if style not in STYLES:
            raise ValueError(
                f"unknown style {style!r} for node {names.get(node, '?')}; "
                f"use one of {sorted(STYLES)}"
            )
    column, columns = _layout(order)

    # Box contents and sizes.
    lines: dict[Any, tuple[str, str, str]] = {}
    for node in order:
        name = names[node]
        if node.parents:
            head = f"{name} = {formula(node, names)}"
        elif node.label:
            head = name
        else:
            head = "constant"
        if node in grads:
            grad = grads[node]
        elif getattr(node, "requires_grad", True) is False:  # a Tensor constant: never any
            grad = "none (a constant)"
        else:
            grad = format_data(getattr(node, "grad", None))
        data = format_data(node.data) if values or not node.parents else "?"
        lines[node] = (head, f"data {data}", f"grad {grad}")
    width = {n: max(96, round(max(len(t) for t in lines[n]) * _CHAR_W) + 2 * _PAD) for n in order}
    col_width = [max(width[n] for n in col) for col in columns]
    edge_text: dict[tuple[Any, int], str] = {}
    for child in order:
        node_partials = getattr(child, "partials", None) if partials else None
        for i in range(len(child.parents)):
            if (child, i) in edge_labels:
                edge_text[(child, i)] = str(edge_labels[(child, i)])
            elif node_partials:
                edge_text[(child, i)] = format_data(node_partials[i])
    longest_label = max((len(t) for t in edge_text.values()), default=0)
    gap = _CURVE_W + (round(longest_label * _LABEL_W) + 16 if longest_label else 0)

    col_x = []
    x = _MARGIN
    for w in col_width:
        col_x.append(x)
        x += w + gap
    total_w = x - gap + _MARGIN
    tallest = max(len(col) for col in columns)
    total_h = 2 * _MARGIN + tallest * _BOX_H + (tallest - 1) * _ROW_GAP + (22 if title else 0)
    top0 = _MARGIN + (22 if title else 0)
    pos: dict[Any, tuple[float, float]] = {}
    for c, col in enumerate(columns):
        height = len(col) * _BOX_H + (len(col) - 1) * _ROW_GAP
        y = top0 + (tallest * _BOX_H + (tallest - 1) * _ROW_GAP - height) / 2
        for node in col:
            pos[node] = (col_x[c] + (col_width[c] - width[node]) / 2, y)
            y += _BOX_H + _ROW_GAP

    accessible_name, description = _describe(
        order,
        names,
        lines,
        edge_text,
        styles,
        highlight,
        title,
        partials_said=values and (partials or bool(edge_labels)),
    )
    out: list[str] = [
        svg_open(
            total_w,
            total_h,
            accessible_name,
            description,
            f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="monospace" font-size="12" '
            f'style="display:block;{text_scaled_width(total_w)}"',
        ),
        f'<rect x="0" y="0" width="{total_w:.0f}" height="{total_h:.0f}" fill="#ffffff"/>',
    ]
    if title:
        out.append(
            f'<text x="{_MARGIN}" y="{_MARGIN + 12}" font-weight="bold" fill="#212529">'
            f"{_text(title)}</text>"
        )

    # Edges first, so boxes sit on top of them.
    hot_in = highlight is not None and highlight_edges in ("both", "in")
    hot_out = highlight is not None and highlight_edges in ("both", "out")
    labels: list[str] = []
    for child in order:
        k = len(child.parents)
        cx, cy = pos[child]
        for i, parent in enumerate(child.parents):
            px, py = pos[parent]
            x1, y1 = px + width[parent], py + _BOX_H / 2
            x2, y2 = cx, cy + _BOX_H * (i + 1) / (k + 1)
            hot = (hot_in and child is highlight) or (hot_out and parent is highlight)
            colour, stroke = (HOT_EDGE, 2.5) if hot else (EDGE, 1.2)
            label = edge_text.get((child, i), "")
            # A curve, then a straight run into the child's port; a label sits on that run.
            run = len(label) * _LABEL_W + 16 if label else 8
            xs = x2 - run
            # An edge that skips columns passes each one through the nearest free gap, on a
            # straight run across the column, so it never hides behind a box.
            points = [(x1, y1)]
            first, last = column[parent] + 1, column[child]
            for c in range(first, last):
                t = (c - first + 1) / (last - first + 1)
                want = (1 - t) * y1 + t * y2
                y_gap = _free_height(want, columns[c], pos)
                points += [(col_x[c] - 6, y_gap), (col_x[c] + col_width[c] + 6, y_gap)]
            points.append((xs, y2))
            d = [f"M{x1:.1f},{y1:.1f}"]
            for seg, ((ax, ay), (bx, by)) in enumerate(itertools.pairwise(points)):
                if seg % 2 == 1:  # across a column
                    d.append(f"L{bx:.1f},{by:.1f}")
                else:
                    bend = max(16.0, (bx - ax) / 2)
                    d.append(
                        f"C{ax + bend:.1f},{ay:.1f} {bx - bend:.1f},{by:.1f} {bx:.1f},{by:.1f}"
                    )
            d.append(f"L{x2 - 7:.1f},{y2:.1f}")
            out.append(
                f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="{stroke}"/>'
            )
            out.append(
                f'<polygon points="{x2:.1f},{y2:.1f} {x2 - 8:.1f},{y2 - 4:.1f} '
                f'{x2 - 8:.1f},{y2 + 4:.1f}" fill="{colour}"/>'
            )
            if label:
                lw = len(label) * _LABEL_W + 6
                lx = x2 - 10 - lw / 2
                labels.append(
                    f'<rect x="{lx - lw / 2:.1f}" y="{y2 - 7:.1f}" width="{lw:.1f}" height="14" '
                    f'rx="3" fill="#ffffff" stroke="{colour}" stroke-width="0.8"/>'
                    f'<text x="{lx:.1f}" y="{y2 + 4:.1f}" text-anchor="middle" font-size="11" '
                    f'fill="{colour}">{_text(label)}</text>'
                )
    out.extend(labels)

    for node in order:
        x, y = pos[node]
        w = width[node]
        style = "highlight" if node is highlight else styles.get(node, "plain")
        fill, stroke = STYLES[style]
        stroke_width = 3.0 if style == "highlight" else 1.2 if style == "plain" else 2.0
        dash = f' stroke-dasharray="{DASHES[style]}"' if style in DASHES else ""
        mark = (  # a badge on the box's top-right corner, clear of its text and its edges
            f'<circle cx="{x + w - 4:.1f}" cy="{y + 2:.1f}" r="9" fill="#ffffff" '
            f'stroke="{stroke}" stroke-width="1.5"/><text x="{x + w - 4:.1f}" y="{y + 6.5:.1f}" '
            f'text-anchor="middle" font-size="12" fill="#212529">{MARKS[style]}</text>'
            if style in MARKS
            else ""
        )
        head, data_line, grad_line = lines[node]
        out.append(
            f"<g><title>{_text(head)}; {_text(data_line)}; {_text(grad_line)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="{_BOX_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{stroke_width}"{dash}/>'
            f'<text x="{x + _PAD:.1f}" y="{y + 17:.1f}" font-weight="bold" fill="#212529">'
            f"{_text(head)}</text>"
            f'<text x="{x + _PAD:.1f}" y="{y + 17 + _LINE_H:.1f}" fill="{DATA_INK}">'
            f"{_text(data_line)}</text>"
            f'<text x="{x + _PAD:.1f}" y="{y + 17 + 2 * _LINE_H:.1f}" fill="{GRAD_INK}">'
            f"{_text(grad_line)}</text>"
            f"{mark}</g>"
        )
    out.append("</svg>")
    return GraphDrawing("".join(out), round(total_w), round(total_h), accessible_name)


# What each style means, in words: the text cue beside the colour (see STYLES).
STATE_WORDS: dict[str, str] = {
    "plain": "",
    "highlight": "the current node",
    "done": "gradient complete",
    "partial": "gradient partly summed",
    "right": "answered right",
    "wrong": "answered wrong",
    "hidden": "gradient to be typed",
}


def _describe(
    order: list[Any],
    names: Mapping[Any, str],
    lines: Mapping[Any, tuple[str, str, str]],
    edge_text: Mapping[tuple[Any, int], str],
    styles: Mapping[Any, str],
    highlight: Any,
    title: str | None,
    *,
    partials_said: bool = True,
) -> tuple[str, str]:
    """The drawing's accessible name and its description in words.

    The name: the title (if any) and the graph's output. The description: every node in
    topological order with its op, value and gradient as drawn (and its state, when a style
    marks one), then every edge parent → child, with its local partial when the drawing shows
    it (``partials_said``: a drawing that hides the partials, or the values, must not say them
    either, since a learner may be asked for them) and what its label shows.
    """
    root = order[-1]
    what = f"computation graph of {lines[root][0]}, {len(order)} nodes"
    label = f"{title}: {what}" if title else what[0].upper() + what[1:]
    parts = []
    for node in order:
        head, data_line, grad_line = lines[node]
        kind = ""
        if not node.parents:
            kind = " (input)" if node.label else " (constant)"
        state = (
            STATE_WORDS["highlight"]
            if node is highlight
            else STATE_WORDS[styles.get(node, "plain")]
        )
        parts.append(
            f"{head}{kind}: value {data_line.removeprefix('data ')}, "
            f"gradient {grad_line.removeprefix('grad ')}" + (f", {state}" if state else "")
        )
    for child in order:
        node_partials = getattr(child, "partials", None) if partials_said else None
        for i, parent in enumerate(child.parents):
            p, c = names[parent], names[child]
            edge = f"edge {p} to {c}"
            if node_partials:
                edge += f": local partial ∂{c}/∂{p} = {format_data(node_partials[i])}"
            shown = edge_text.get((child, i))
            if shown and (not node_partials or shown != format_data(node_partials[i])):
                edge += f", labelled {shown}"
            parts.append(edge)
    return label, ". ".join(parts) + "."
