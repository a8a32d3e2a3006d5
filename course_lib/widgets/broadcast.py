"""The broadcast explorer: which axes a broadcast added or expanded, and the sums that undo it.

Pick two shapes a and b (from the presets or typed, such as ``3, 1`` and ``1, 4``). The widget
shows:

* the shapes aligned from the right, with each input's *added* leading axes and *expanded*
  size-1 axes marked;
* the upstream gradient dL/d(a + b), a grid in the result's shape (counting 1, 2, 3, ... so
  that sums can be told apart, or all ones);
* for each input, the same grid coloured by the input element each cell was copied from, and
  that input's gradient: the cells of one colour added up. The gradients are computed by
  :class:`course_lib.tensor.Tensor` (``(a + b).backward(upstream)``), so the widget shows what
  the library does; the axes come from :func:`course_lib.tensor.broadcast_axes`, which
  :func:`course_lib.tensor.sum_to_shape` sums over.

Incompatible shapes show the library's own error message.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import numpy as np

from course_lib.numbers.checking import shown
from course_lib.numbers.formatting import format_number
from course_lib.tensor import Tensor, broadcast_axes
from course_lib.widgets.controls import row

__all__ = ["PRESETS", "BroadcastExplorer", "broadcast_explorer", "broadcast_axes", "parse_shape"]

MAX_AXES = 3
MAX_SIDE = 6

PRESETS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "column (3, 1) + row (1, 4)": ((3, 1), (1, 4)),
    "bias add (N, C) + (C,): (2, 3) + (3,)": ((2, 3), (3,)),
    "per-row (2, 3) + (2, 1)": ((2, 3), (2, 1)),
    "scalar (2, 3) + ()": ((2, 3), ()),
    "3-D (2, 1, 3) + (4, 1)": ((2, 1, 3), (4, 1)),
    "incompatible (3, 4) + (5,)": ((3, 4), (5,)),
}

# Light colours, one per input element (cycled); cells of one colour sum to one gradient entry.
_PALETTE = (
    "#fde2e4", "#dbeafe", "#dcfce7", "#fef3c7", "#ede9fe", "#cffafe",
    "#fee2e2", "#e0e7ff", "#d1fae5", "#fae8ff", "#ffedd5", "#e2e8f0",
)  # fmt: skip
_ADDED = "#e0e7ff"
_EXPANDED = "#fed7aa"


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3, 1"``, ``"(3, 1)"``, ``"[3, 1]"``, ``"3 1"`` or ``"(3,)"`` as a shape; ``""``,
    ``"()"`` or ``"[]"`` is 0-d."""
    if not isinstance(text, str):
        raise TypeError(f"a shape is typed as text like '3, 1', got {type(text).__name__}")
    inner = text.strip()
    if inner[:1] + inner[-1:] in ("()", "[]"):
        inner = inner[1:-1]
    parts = [p for p in re.split(r"[,\s]+", inner) if p]
    # isdecimal, not isdigit: a superscript ² is a digit to isdigit, but int() refuses it.
    if not all(p.isdecimal() for p in parts):
        odd = sorted({c for p in parts for c in p if c.isdigit() and not c.isdecimal()})
        hint = (
            f" ({', '.join(odd)}: a superscript or other special digit; type plain 0-9)"
            if odd
            else ""
        )
        raise ValueError(
            f"shape {shown(text)}: write whole numbers separated by commas, like 3, 1{hint}"
        )
    if any(len(p.lstrip("0")) > 2 for p in parts):  # int() of 4,300 digits raises its own text
        raise ValueError(f"shape {shown(text)}: each size must be 1 to {MAX_SIDE}")
    shape = tuple(int(p) for p in parts)
    if len(shape) > MAX_AXES:
        raise ValueError(f"shape {shown(text)}: this explorer shows at most {MAX_AXES} axes")
    if any(not 1 <= n <= MAX_SIDE for n in shape):
        raise ValueError(f"shape {shown(text)}: each size must be 1 to {MAX_SIDE}")
    return shape


class BroadcastExplorer(widgets.VBox):
    """The widget :func:`broadcast_explorer` returns.

    Controls: ``preset`` (Dropdown), ``shape_a`` and ``shape_b`` (Text), ``upstream_kind``
    (ToggleButtons: ``"counting"`` or ``"ones"``). Views (HTML): ``alignment``, ``grids``.
    State after each update: ``shapes`` (a's and b's), ``result_shape``, ``upstream``,
    ``grads`` (a's and b's gradients from ``Tensor.backward``), ``axes`` ((added, expanded)
    for a and b) and ``error`` (the message, when the shapes do not broadcast, else ``None``).
    """

    def __init__(self, shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> None:
        self.preset = widgets.Dropdown(
            options=["(your own)", *PRESETS],
            value="(your own)",
            description="example",
            layout=widgets.Layout(width="420px"),
        )
        self.shape_a = widgets.Text(
            value=_shape_text(shape_a), description="shape of a", continuous_update=False
        )
        self.shape_b = widgets.Text(
            value=_shape_text(shape_b), description="shape of b", continuous_update=False
        )
        self.upstream_kind = widgets.ToggleButtons(
            options=["counting", "ones"], value="counting", description="upstream"
        )
        self.alignment = widgets.HTML()
        self.grids = widgets.HTML()
        self._busy = False
        self._syncing = False
        for preset_name, pair in PRESETS.items():
            if pair == (tuple(shape_a), tuple(shape_b)):
                self.preset.value = preset_name
        super().__init__(
            [
                self.preset,
                row([self.shape_a, self.shape_b]),
                self.upstream_kind,
                self.alignment,
                self.grids,
            ]
        )
        self.preset.observe(self._on_preset, names="value")
        for control in (self.shape_a, self.shape_b, self.upstream_kind):
            control.observe(self._update, names="value")
        self._update()

    def __repr__(self) -> str:
        return f"broadcast explorer: shapes {self.shape_a.value} and {self.shape_b.value}"

    def _on_preset(self, change: dict) -> None:
        if change["new"] not in PRESETS or self._syncing:
            return
        a, b = PRESETS[change["new"]]
        self._busy = True  # two text changes, one redraw
        try:
            self.shape_a.value = _shape_text(a)
            self.shape_b.value = _shape_text(b)
        finally:
            self._busy = False
        self._update()

    def _show_preset(self, shapes: tuple[tuple[int, ...], tuple[int, ...]] | None) -> None:
        """The example's name when the shapes are one's, "(your own)" otherwise."""
        self._syncing = True
        try:
            self.preset.value = next(
                (name for name, pair in PRESETS.items() if pair == shapes), "(your own)"
            )
        finally:
            self._syncing = False

    def _update(self, _change: object = None) -> None:
        if self._busy:
            return
        self.error = None
        self.result_shape = None
        self.upstream = None
        self.grads = None
        self.axes = None
        try:
            self.shapes = (parse_shape(self.shape_a.value), parse_shape(self.shape_b.value))
        except ValueError as error:  # a typo, or a shape too big to draw
            self._show_preset(None)  # no longer the example's shapes
            self._show_error(str(error), "Not a shape this explorer can show.")
            return
        self._show_preset(self.shapes)
        a = Tensor(np.zeros(self.shapes[0]), label="a")
        b = Tensor(np.zeros(self.shapes[1]), label="b")
        try:
            out = a + b
        except ValueError as error:  # the library's own message, e.g. "add: cannot broadcast"
            self._show_error(str(error), "These shapes do not broadcast.")
            return
        shape = out.shape
        size = int(np.prod(shape, dtype=int))
        if self.upstream_kind.value == "counting":
            upstream = np.arange(1.0, size + 1.0).reshape(shape)
        else:
            upstream = np.ones(shape)
        out.backward(upstream)
        self.result_shape = shape
        self.upstream = upstream
        self.grads = (a.grad, b.grad)
        self.axes = (broadcast_axes(a.shape, shape), broadcast_axes(b.shape, shape))
        self.alignment.value = self._alignment_html()
        self.grids.value = self._grids_html()

    def _show_error(self, message: str, heading: str) -> None:
        self.error = message
        self.alignment.value = (
            f"<div style='color:#b35900'><b>{html.escape(heading)}</b> {html.escape(message)}</div>"
        )
        self.grids.value = ""

    # ---- drawing ---------------------------------------------------------------------------

    def _alignment_html(self) -> str:
        result = self.result_shape
        ndim = len(result)
        header = "".join(f"<th style='{_CELL}'>axis {i} ({i - ndim})</th>" for i in range(ndim))
        rows = []
        for name, shape, (added, expanded) in zip("ab", self.shapes, self.axes, strict=True):
            cells = []
            lead = ndim - len(shape)
            for i in range(ndim):
                if i in added:
                    cells.append(f"<td style='{_CELL}background:{_ADDED}'>added</td>")
                elif i in expanded:
                    cells.append(
                        f"<td style='{_CELL}background:{_EXPANDED}'>1 → {result[i]} expanded</td>"
                    )
                else:
                    cells.append(f"<td style='{_CELL}'>{shape[i - lead]}</td>")
            label = f"{name} {_shape_text(shape, True)}"
            rows.append(f"<tr><th style='{_CELL}'>{label}</th>{''.join(cells)}</tr>")
        out_cells = "".join(f"<td style='{_CELL}'><b>{n}</b></td>" for n in result)
        rows.append(
            f"<tr><th style='{_CELL}'>a + b {_shape_text(result, True)}</th>{out_cells}</tr>"
        )
        sentences = [
            f"<li>{_sentence(name, shape, added, expanded, result)}</li>"
            for name, shape, (added, expanded) in zip("ab", self.shapes, self.axes, strict=True)
        ]
        table = (
            "<table style='border-collapse:collapse;margin:4px 0'>"
            f"<tr><th style='{_CELL}'>shapes, aligned from the right</th>{header}</tr>"
            + "".join(rows)
            + "</table>"
        )
        return table + "<ul style='margin:4px 0'>" + "".join(sentences) + "</ul>"

    def _grids_html(self) -> str:
        result = self.result_shape
        parts = [
            "<div style='margin:6px 0'><b>upstream = dL/d(a + b)</b>, shape "
            f"{_shape_text(result, True)}</div>",
            _grid(self.upstream),
        ]
        for name, shape, grad in zip("ab", self.shapes, self.grads, strict=True):
            # which element of the input each cell of the result was copied from
            source = np.broadcast_to(
                np.arange(int(np.prod(shape, dtype=int))).reshape(shape), result
            )
            colours = np.array(_PALETTE)[source % len(_PALETTE)]
            own = np.array(_PALETTE)[np.arange(grad.size).reshape(shape) % len(_PALETTE)]
            # Colour is not the only cue: each cell also names the element it came from.
            element = [_element(name, shape, k) for k in range(max(grad.size, 1))]
            tags = np.array(element, dtype=object)[source]
            own_tags = np.array(element, dtype=object)[: grad.size].reshape(shape)
            parts.append(
                "<div style='margin:10px 0 4px 0'>"
                f"<b>{name}.grad</b>: add up the upstream cells of each colour (each colour is "
                f"one element of {name}, copied to those cells; each cell names it too)</div>"
                "<div style='display:flex;gap:18px;align-items:center;flex-wrap:wrap'>"
                + _grid(self.upstream, colours, tags)
                + "<div style='font-size:1.4em'>→</div>"
                + _grid(grad, own, own_tags)
                + f"<div>shape {_shape_text(grad.shape, True)}</div></div>"
            )
        return "".join(parts)


_CELL = "border:1px solid #bbb;padding:2px 8px;text-align:center;font-weight:normal;"


def _shape_text(shape: tuple[int, ...], parens: bool = False) -> str:
    inner = ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 and parens else "")
    return f"({inner})" if parens else inner


def _axes_text(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(axes)


def _sentence(
    name: str,
    shape: tuple[int, ...],
    added: tuple[int, ...],
    expanded: tuple[int, ...],
    result: tuple[int, ...],
) -> str:
    what = []
    if added:
        what.append(f"added axis {_axes_text(added)}" if len(added) == 1 else f"added axes {added}")
    if expanded:
        what.append(", ".join(f"expanded axis {i} from 1 to {result[i]}" for i in expanded))
    shape_t = _shape_text(shape, True)
    if not what:
        return (
            f"<b>{name}</b> {shape_t} already has the result's shape: its gradient is the "
            "upstream gradient itself."
        )
    summed = added + expanded
    code = f"upstream.sum(axis={_axes_text(summed)}"
    code += ", keepdims=True)" if expanded else ")"
    if added and expanded:
        code += f".reshape({shape_t})"
    return (
        f"<b>{name}</b> {shape_t}: broadcasting {' and '.join(what)}. Backward sums over "
        f"exactly {'that axis' if len(summed) == 1 else 'those axes'}: "
        f"<code>{name}.grad = {html.escape(code)}</code>, shape {shape_t}"
        + (
            " (the added axes go away, the expanded ones stay as size 1)."
            if added and expanded
            else "."
        )
    )


def _element(name: str, shape: tuple[int, ...], flat: int) -> str:
    """``a[1, 0]``: the element number ``flat`` of an array ``name`` of ``shape``."""
    if not shape:
        return name
    return f"{name}[{', '.join(str(int(i)) for i in np.unravel_index(flat, shape))}]"


def _grid(
    values: np.ndarray, colours: np.ndarray | None = None, tags: np.ndarray | None = None
) -> str:
    """A 0-, 1- or 2-D array as an HTML table; a 3-D array as a row of 2-D slices.

    ``colours`` tints each cell; ``tags`` (text per cell, such as ``a[0, 1]``) are written
    small above each number, so that what the colour says can also be read.
    """
    if values.ndim == 3:
        slices = [
            f"<div><div style='font-size:0.85em;color:#555'>[{k}, :, :]</div>"
            + _grid(
                values[k],
                None if colours is None else colours[k],
                None if tags is None else tags[k],
            )
            + "</div>"
            for k in range(values.shape[0])
        ]
        return "<div style='display:flex;gap:10px'>" + "".join(slices) + "</div>"
    table = np.atleast_2d(values)
    tint = None if colours is None else np.atleast_2d(colours)
    tag = None if tags is None else np.atleast_2d(tags)
    rows = []
    for i in range(table.shape[0]):
        cells = []
        for j in range(table.shape[1]):
            background = "" if tint is None else f"background:{tint[i, j]};"
            small = (
                ""
                if tag is None
                else f"<span style='font-size:0.75em;color:#333'>{tag[i, j]}</span><br>"
            )
            cells.append(
                f"<td style='{_CELL}{background}font-family:monospace'>{small}"
                f"{format_number(table[i, j], digits=6)}</td>"  # whole sums up to 6 digits
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table style='border-collapse:collapse'>" + "".join(rows) + "</table>"


def broadcast_explorer(
    shape_a: tuple[int, ...] | str = (3, 1), shape_b: tuple[int, ...] | str = (1, 4)
) -> BroadcastExplorer:
    """The broadcast explorer for a + b, starting at shapes ``shape_a`` and ``shape_b``.

    Each shape is a tuple of sizes, ``(3, 1)``, or text as typed in the widget, ``"3, 1"``;
    at most 3 axes of sizes 1 to 6 (so that every cell can be drawn).
    """
    shapes = []
    for name, shape in (("shape_a", shape_a), ("shape_b", shape_b)):
        if isinstance(shape, str):
            shapes.append(parse_shape(shape))
            continue
        if not isinstance(shape, tuple | list) or not all(
            isinstance(n, int | np.integer) and not isinstance(n, bool) for n in shape
        ):
            raise TypeError(
                f"broadcast_explorer: {name} must be a shape, a tuple of sizes like (3, 1) or "
                f"text like '3, 1'; got {type(shape).__name__} {shape!r}"
            )
        shapes.append(parse_shape(_shape_text(tuple(int(n) for n in shape))))  # same limits
    return BroadcastExplorer(shapes[0], shapes[1])
