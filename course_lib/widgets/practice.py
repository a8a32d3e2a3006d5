"""Endless practice: a fresh hand-trace graph for every sheet number.

``practice_trainer()`` puts a sheet-number slider over hand-trace mode: each number is a
different random graph from :func:`course_lib.practice.practice_graph` (the same number always
gives the same graph, so a class can agree on "sheet 17"), with its gradients hidden for the
learner to type in.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from course_lib.practice import practice_graph
from course_lib.widgets.handtrace import HandTrace

__all__ = ["practice_trainer"]


def practice_trainer(
    sheet: int = 1, fan_out: bool = True, partials: bool = False, sheets: int = 999
) -> widgets.VBox:
    """A sheet-number slider, a fan-out switch, and hand-trace mode on that sheet's graph.

    ``partials=False`` hides the local partials on the edges too, so the learner does all
    four moves; ``True`` shows them, leaving multiply and sum at joins. The current
    :class:`HandTrace` is ``box.trace``; the graph's description is in ``box.sheet_view``.
    """
    if isinstance(sheet, bool) or not isinstance(sheet, int) or not 0 <= sheet <= sheets:
        raise ValueError(f"sheet must be an integer from 0 to {sheets}, got {sheet!r}")
    number = widgets.IntSlider(value=sheet, min=0, max=sheets, description="sheet")
    join = widgets.Checkbox(value=fan_out, description="with a fan-out (sum at a join)")
    sheet_view = widgets.HTML()
    holder = widgets.VBox()
    box = widgets.VBox([widgets.HBox([number, join]), sheet_view, holder])
    box.number, box.fan_out, box.sheet_view, box.trace = number, join, sheet_view, None

    def update(_: object = None) -> None:
        graph = practice_graph(number.value, fan_out=join.value)
        inputs = ", ".join(f"{name} = {value:g}" for name, value in graph.inputs)
        lines = "".join(
            f"<li><code>{html.escape(s.name)} = {html.escape(s.formula())}</code></li>"
            for s in graph.steps
        )
        sheet_view.value = (
            f"<div><b>Sheet {number.value}</b>: inputs {html.escape(inputs)}</div><ol>{lines}</ol>"
        )
        box.trace = HandTrace(graph.build(), partials=partials)
        holder.children = [box.trace]

    number.observe(update, names="value")
    join.observe(update, names="value")
    update()
    return box
