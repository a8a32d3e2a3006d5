"""Endless practice: a fresh hand-trace graph for every sheet number.

``practice_trainer()`` puts a sheet-number slider over hand-trace mode: each number is a
different random graph from :func:`course_lib.teaching.practice.practice_graph` (the same number
always gives the same graph, so a class can agree on "sheet 17"), with its gradients hidden for the
learner to type in.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from course_lib.numbers.checking import switch, whole_number
from course_lib.numbers.formatting import format_number
from course_lib.teaching.practice import LOCAL_RULES, practice_graph
from course_lib.widgets.controls import row, with_number_box
from course_lib.widgets.handtrace import HandTrace
from course_lib.widgets.panel import Panel

__all__ = ["MAX_SHEETS", "practice_trainer"]

MAX_SHEETS = 999_999  # the slider's largest sheet number: a class needs a few hundred


def practice_trainer(
    sheet: int = 1, fan_out: bool = True, partials: bool = False, sheets: int = 999
) -> widgets.VBox:
    """A sheet-number slider, two switches, and hand-trace mode on that sheet's graph.

    The switches: ``fan_out`` (a graph with a join to sum at, or a tree) and ``partials``
    (``False`` hides the local partials on the edges, so the learner does all four moves;
    ``True`` shows them, leaving multiply and sum at joins). A new sheet number or graph kind
    starts the hand-trace afresh, every box empty; showing or hiding the partials keeps what was
    typed. The current :class:`HandTrace` is ``box.trace``; the
    graph's description is in ``box.sheet_view``; the controls are ``box.number``,
    ``box.fan_out`` and ``box.partials``.
    """
    where = "practice_trainer"
    sheets = whole_number(
        sheets, "sheets (the largest sheet number)", where, minimum=0, maximum=MAX_SHEETS
    )
    sheet = whole_number(sheet, f"sheet (0 to {sheets})", where, minimum=0, maximum=sheets)
    fan_out = switch(fan_out, "fan_out", "practice_trainer")
    partials = switch(partials, "partials", "practice_trainer")
    number = widgets.IntSlider(value=sheet, min=0, max=sheets, description="sheet")
    join = widgets.Checkbox(value=fan_out, description="with a fan-out (sum at a join)")
    show_partials = widgets.Checkbox(value=partials, description="show the local partials")
    sheet_view = widgets.HTML()
    holder = widgets.VBox()
    box = Panel(
        [
            row([with_number_box(number), join, show_partials]),
            sheet_view,
            holder,
        ],
        text=lambda: (
            f"practice trainer: sheet {number.value}, "
            + ("with" if join.value else "without")
            + " a fan-out, local partials "
            + ("shown" if show_partials.value else "hidden")
        ),
    )
    box.number, box.fan_out, box.partials = number, join, show_partials
    box.sheet_view, box.trace = sheet_view, None

    def update(_: object = None) -> None:
        try:
            graph = practice_graph(number.value, fan_out=join.value)
        except (RuntimeError, ValueError, TypeError) as error:  # not reached for 0..999
            sheet_view.value = f"<div>No sheet {number.value}: {html.escape(str(error))}</div>"
            box.trace, holder.children = None, []
            return
        inputs = ", ".join(f"{name} = {format_number(value)}" for name, value in graph.inputs)
        lines = "".join(
            f"<li><code>{html.escape(s.name)} = {html.escape(s.formula())}</code></li>"
            for s in graph.operations
        )
        sheet_view.value = (
            f"<div><b>Sheet {number.value}</b>: inputs {html.escape(inputs)}</div><ol>{lines}</ol>"
            "<div><small>Local rules (out is the node's own value): "
            f"{html.escape('; '.join(LOCAL_RULES))}.</small></div>"
        )
        if box.trace is None:
            box.trace = HandTrace(graph.build(), partials=show_partials.value)
            holder.children = [box.trace]
        else:  # the same boxes, emptied: the browser redraws only what changed
            box.trace.partials = show_partials.value
            box.trace.load(graph.build())

    def redraw(_: object = None) -> None:
        if box.trace is not None:
            box.trace.partials = show_partials.value
            box.trace.render()

    number.observe(update, names="value")
    join.observe(update, names="value")
    show_partials.observe(redraw, names="value")
    update()
    return box
