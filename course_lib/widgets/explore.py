"""``explore(f)``: sliders for the inputs of a scalar function, and the live graph with its
values and gradients (an SVG drawing from :mod:`course_lib.display.draw`, plus a table)."""

from __future__ import annotations

import html
import inspect
from collections.abc import Callable, Mapping

import ipywidgets as widgets

from course_lib.autodiff.scalar import Value
from course_lib.display.draw import draw, formula, node_names
from course_lib.numbers.checking import real_number, switch
from course_lib.numbers.formatting import format_number
from course_lib.widgets.controls import region_rule_view, row, with_number_box
from course_lib.widgets.panel import Panel

__all__ = ["explore", "node_names", "widgets_work"]


def _table_html(out: Value, title: str) -> str:
    names = node_names(out)
    rows = []
    for node, name in names.items():
        made_by = formula(node, names)
        grad = "not computed yet" if node.grad is None else format_number(node.grad)
        rows.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(made_by)}</td>"
            f"<td style='text-align:right'>{format_number(node.data)}</td>"
            f"<td style='text-align:right'>{grad}</td></tr>"
        )
    return (
        f"<div><b>{html.escape(title)}</b></div>"
        "<table><tr><th>node</th><th>made by</th><th>value</th>"
        f"<th>d {html.escape(names[out])} / d node</th></tr>" + "".join(rows) + "</table>"
    )


def _view_html(out: Value, graph: bool, table: bool, partials: bool) -> str:
    title = f"{out.label} = {format_number(out.data)}"
    parts = []
    if graph:
        # min-width 0: the drawing's region may be narrower than the drawing, and scroll
        drawing = draw(out, partials=partials, title=title)
        parts.append(f"<div style='min-width:0;max-width:100%'>{drawing.html()}</div>")
    if table:
        parts.append(f"<div>{_table_html(out, title)}</div>")
    return (
        "<div style='display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start'>"
        + "".join(parts)
        + "</div>"
    )


def explore(
    f: Callable[..., Value],
    values: Mapping[str, float] | None = None,
    low: float = -3.0,
    high: float = 3.0,
    step: float = 0.1,
    *,
    graph: bool = True,
    table: bool = True,
    partials: bool = True,
) -> widgets.VBox:
    """One slider per input of ``f``, the live graph and a table of every node's value and gradient.

    ``f`` is a Python function of scalar inputs written with ``Value`` operations, such as
    ``lambda x, y, z: (x + y) * z``; its parameter names label the sliders. On every slider
    move ``f`` is rebuilt on fresh ``Value`` inputs and ``backward()`` runs, so the view
    always shows d(output)/d(node) for the current inputs. ``values`` sets starting values.
    ``graph`` / ``table`` choose what the view shows (the drawing, the table, or both side by
    side); ``partials`` labels the drawing's edges with the local partials.

    The returned box has ``sliders`` (name to slider), ``view`` (the HTML widget redrawn on
    every move), ``result`` (the output ``Value`` of the latest evaluation, or ``None``
    when ``f`` cannot be evaluated at the current inputs), ``inputs`` (input name to the input
    ``Value`` of the latest evaluation, so ``box.inputs["x"].grad`` is d(output)/dx) and
    ``nodes`` (every node of the latest graph by the name the drawing gives it: a label such
    as ``q`` set with ``.named("q")``, or ``n1``, ``n2``, ... for unnamed ones).

    A slider move never raises: when ``f`` fails at the new inputs (a log of a negative
    number, an overflow in the forward pass or of a gradient in the backward pass, or any
    other error of ``f``), the view says why and ``result`` is
    ``None`` until the inputs are valid again. Errors at the starting values that are not
    arithmetic ones (a typo in ``f``, say) are raised, so the cell shows them.
    """
    graph = switch(graph, "graph", "explore")
    table = switch(table, "table", "explore")
    partials = switch(partials, "partials", "explore")
    if not (graph or table):
        raise ValueError("explore needs something to show: graph=True, table=True or both")
    if not callable(f):
        raise TypeError(f"explore needs a function, got {type(f).__name__}")
    low, high = real_number(low, "low", "explore"), real_number(high, "high", "explore")
    step = real_number(step, "step", "explore")
    if not low < high:
        raise ValueError(f"slider range must have low < high, got {low} and {high}")
    if step <= 0.0:
        raise ValueError(
            f"explore: step is how far one slider notch moves an input and must be above 0, "
            f"got {step!r}"
        )
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):
        raise TypeError(
            f"explore needs a Python function whose parameters name its inputs, like "
            f"lambda x, y: x * y; got {f!r}"
        ) from None
    params = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if not params:
        raise ValueError("explore needs a function with at least one input, like lambda x: x * x")
    names = [p.name for p in params]
    if values is not None and not isinstance(values, Mapping):
        raise TypeError(
            f"explore: values maps input names to starting numbers, like {{'x': 1.0}}; got "
            f"{type(values).__name__} {values!r}"
        )
    values = dict(values or {})
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(
            f"values names inputs that f does not have: {sorted(unknown, key=str)}; f has {names}"
        )
    start = {
        name: real_number(values.get(name, 1.0), f"values[{name!r}]", "explore") for name in names
    }
    # A starting value outside [low, high] widens the range rather than being clamped.
    low = min([low, *start.values()])
    high = max([high, *start.values()])
    sliders = {
        name: widgets.FloatSlider(
            value=start[name],
            min=low,
            max=high,
            step=step,
            description=name,
            continuous_update=True,
            readout_format=".2f",
        )
        for name in names
    }
    view = widgets.HTML()
    box = Panel(
        [
            row([with_number_box(s) for s in sliders.values()]),
            view,
            region_rule_view(),
        ],
        text=lambda: (
            f"explore: {box.result.label if box.result is not None else 'f'}({', '.join(names)}) "
            + ", ".join(f"{n} = {format_number(sliders[n].value, 6)}" for n in names)
        ),
    )
    box.sliders, box.view, box.result = sliders, view, None
    box.inputs, box.nodes = {}, {}

    def show_error(message: str) -> None:
        box.result, box.inputs, box.nodes = None, {}, {}
        view.value = (
            f"<div style='color:#b35900'>f cannot be evaluated here: {html.escape(message)}</div>"
        )

    def update(_: object = None, *, first: bool = False) -> None:
        try:  # a slider set from code to NaN or inf is refused by Value: said, not raised
            inputs = [Value(sliders[name].value, label=name) for name in names]
            out = f(*inputs)
        except (ArithmeticError, ValueError) as error:
            show_error(str(error))
            return
        except Exception as error:
            if first and isinstance(error, TypeError) and "Value" in str(error):
                raise TypeError(
                    f"{error}: f must be written with Value operations (x.exp(), x * y, ...), "
                    "not with functions of plain numbers such as math.exp"
                ) from error
            if first:
                raise
            show_error(f"{type(error).__name__}: {error}")
            return
        if not isinstance(out, Value):
            message = f"f must return a Value, got {type(out).__name__}"
            if first:
                raise TypeError(message)
            show_error(message)
            return
        if out.label is None:
            out.label = "f"
        try:
            out.backward()
        except (ArithmeticError, ValueError) as error:  # a gradient past the largest float
            show_error(str(error))
            return
        except Exception as error:  # a graph poked by hand; a slider move never raises
            if first:
                raise
            show_error(f"{type(error).__name__}: {error}")
            return
        box.result = out
        box.inputs = dict(zip(names, inputs, strict=True))
        box.nodes = {name: node for node, name in node_names(out).items()}
        view.value = _view_html(out, graph, table, partials)

    for slider in sliders.values():
        slider.observe(update, names="value")
    update(first=True)
    return box


def widgets_work() -> Panel:
    """A slider and a number the kernel computes from it: proof that widgets work here."""
    slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
    view = widgets.HTML()

    def update(_: object = None) -> None:
        view.value = f"The kernel computed n² = {slider.value}² = <b>{slider.value**2}</b>"

    slider.observe(update, names="value")
    update()
    box = Panel(
        [with_number_box(slider), view],
        text=lambda: f"widgets work: n = {slider.value}, n² = {slider.value**2}",
    )
    box.slider, box.view = slider, view
    return box
