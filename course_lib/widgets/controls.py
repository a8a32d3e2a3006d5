"""Sliders a screen reader can name: every course slider comes with a labelled number box.

An ipywidgets slider is drawn by noUiSlider, whose handle (the ``role="slider"`` element the
keyboard moves) gets no accessible name: ipywidgets passes none to it, and no trait set from
Python reaches it (``description`` labels a ``<label>`` that is not tied to the handle,
``tooltip`` titles the label). So a screen reader says "slider, 1.1" without saying what it
sets. Short of replacing the control, the course gives every slider a twin: a number box
(``BoundedIntText`` / ``BoundedFloatText``) that carries the slider's label as its own
``<label>``, with the same range and step, linked to the slider in the kernel. Typing a number
or pressing the arrow keys in the box moves the slider and the other way round; the slider
stays for dragging.

Beside them, the layout every explorer shares: :func:`row`, and :func:`region_rule_view` for a
widget that shows drawings.
"""

from __future__ import annotations

import ipywidgets as widgets

from course_lib.display.accessible import WIDGET_REGION_RULE

__all__ = ["SliderRow", "region_rule_view", "row", "with_number_box"]


def row(children: list[widgets.Widget]) -> widgets.HBox:
    """Widgets side by side that wrap onto the next line when the page is too narrow for them.

    An ipywidgets ``HBox`` whose children do not fit scrolls instead: a scrolling box that the
    keyboard cannot reach (axe: scrollable-region-focusable), and content a zoomed-in page
    hides. Every row of an explorer is made here.
    """
    return widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap"))


def region_rule_view() -> widgets.HTML:
    """A view that shows nothing and holds :data:`course_lib.display.accessible.WIDGET_REGION_RULE`,
    the style rule that lets a drawing's scrolling region shrink inside an ``HTML`` view.

    A widget that shows drawings (``GraphDrawing.html()``) puts one among its children. Its
    content never changes, so the browser reads the rule once, not again with every drawing.
    """
    view = widgets.HTML(WIDGET_REGION_RULE, layout=widgets.Layout(display="none"))
    view.add_class("tgf-region-rule")
    return view


class SliderRow(widgets.HBox):
    """A labelled number box and its slider side by side (see :func:`with_number_box`).

    ``slider`` is the slider, ``box`` the number box; their values are linked.
    """

    def __init__(self, slider: widgets.IntSlider | widgets.FloatSlider) -> None:
        label = slider.description
        kind = (
            widgets.BoundedIntText
            if isinstance(slider, widgets.IntSlider)
            else (widgets.BoundedFloatText)
        )
        width = slider.style.description_width or ""
        self.slider = slider
        self.box = kind(
            value=slider.value,
            min=slider.min,
            max=slider.max,
            step=slider.step,
            description=label,
            style={"description_width": width or "initial"},
            layout=widgets.Layout(width=f"{0.6 * len(label) + 7:.1f}em", min_width="6em"),
        )
        self._syncing = False
        slider.description = ""  # the box's label names the pair; the slider shows no readout
        slider.readout = False
        slider.observe(self._copy_range, names=["min", "max", "step"])
        slider.observe(self._from_slider, names="value")
        self.box.observe(self._from_box, names="value")
        super().__init__([self.box, slider])
        self.add_class("tgf-slider-row")

    def __repr__(self) -> str:
        return f"{self.box.description} = {self.box.value} (slider with a number box)"

    def _copy_range(self, _change: object = None) -> None:
        low, high = self.slider.min, self.slider.max
        self._syncing = True
        try:  # in the order that never has the box's min above its max
            if low > self.box.max:
                self.box.max, self.box.min = high, low
            else:
                self.box.min, self.box.max = low, high
            self.box.step = self.slider.step
        finally:
            self._syncing = False

    def _from_slider(self, change: dict) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:  # rounded: a step of 0.1 from -3 lands on 1.1000000000000005, shown as 1.1
            self.box.value = round(change["new"], 10)
        finally:
            self._syncing = False

    def _from_box(self, change: dict) -> None:
        if self._syncing:
            return
        self.slider.value = change["new"]


def with_number_box(slider: widgets.IntSlider | widgets.FloatSlider) -> SliderRow:
    """``slider`` with a labelled number box before it, linked both ways.

    The slider's ``description`` becomes the box's label (the slider keeps none, and no
    readout: the box shows its value); the box has the slider's range and step, and follows
    changes of them. The slider object itself is unchanged otherwise: widgets keep observing
    it, and code may keep setting its ``value``.
    """
    if not isinstance(slider, widgets.IntSlider | widgets.FloatSlider):
        raise TypeError(
            f"with_number_box needs an IntSlider or FloatSlider, got {type(slider).__name__}"
        )
    return SliderRow(slider)
