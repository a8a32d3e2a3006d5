"""Tests of course_lib.widgets.controls: every slider has a labelled number box linked to it."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from course_lib.autodiff.scalar import Value
from course_lib.display.accessible import WIDGET_REGION_RULE
from course_lib.widgets import (
    cross_entropy_explorer,
    explore,
    jacobian_explorer,
    practice_trainer,
    stepper,
    widgets_work,
)
from course_lib.widgets.controls import SliderRow, region_rule_view, row, with_number_box
from course_lib.widgets.handtrace import hand_trace


def test_the_box_takes_the_label_range_and_value_of_its_slider() -> None:
    slider = widgets.FloatSlider(value=1.5, min=-3.0, max=3.0, step=0.1, description="x")
    row = with_number_box(slider)
    assert isinstance(row.box, widgets.BoundedFloatText) and row.children == (row.box, slider)
    assert (row.box.description, row.box.min, row.box.max, row.box.step) == ("x", -3, 3, 0.1)
    assert row.box.value == 1.5
    assert slider.description == "" and slider.readout is False  # the box names and shows it
    counted = with_number_box(widgets.IntSlider(value=3, min=0, max=10, description="n"))
    assert isinstance(counted.box, widgets.BoundedIntText) and counted.box.value == 3


def test_slider_and_box_move_together() -> None:
    slider = widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description="x")
    row = with_number_box(slider)
    seen = []
    slider.observe(lambda change: seen.append(change["new"]), names="value")
    row.box.value = 2.5  # typed in the box
    assert slider.value == 2.5 and seen == [2.5]
    slider.value = -3.0 + 41 * 0.1  # 1.1000000000000005, as a browser's slider sends it
    assert row.box.value == 1.1
    assert slider.value == -3.0 + 41 * 0.1  # the box's rounding does not move the slider back
    row.box.value = 99.0  # out of range: clamped by the box, then the slider follows
    assert row.box.value == 3.0 and slider.value == 3.0


def test_the_box_follows_a_changed_range() -> None:
    slider = widgets.IntSlider(value=5, min=0, max=9, description="row i")
    row = with_number_box(slider)
    slider.max = 2  # a widget shrinking the range clamps the slider, and the box with it
    assert (row.box.max, row.box.value, slider.value) == (2, 2, 2)
    slider.max, slider.min = 20, 10
    assert (row.box.min, row.box.max, row.box.value) == (10, 20, 10)


def test_only_sliders_get_a_box() -> None:
    with pytest.raises(TypeError, match="IntSlider or FloatSlider, got Text"):
        with_number_box(widgets.Text())


def rows_in(widget: widgets.Widget) -> list[SliderRow]:
    found, todo = [], [widget]
    while todo:
        w = todo.pop()
        if isinstance(w, SliderRow):
            found.append(w)
        todo.extend(getattr(w, "children", ()))
    return found


@pytest.mark.parametrize(
    ("make", "count"),
    [
        (widgets_work, 1),
        (lambda: explore(lambda x, y: x * y), 2),
        (lambda: stepper(explore(lambda x, y: x * y).result), 1),
        (cross_entropy_explorer, 3),
        (jacobian_explorer, 13),
        (practice_trainer, 1),
    ],
)
def test_every_slider_of_every_explorer_has_its_box(make, count) -> None:
    widget = make()
    rows = rows_in(widget)
    assert len(rows) == count
    for pair in rows:
        assert pair.box.description and not pair.slider.description
        assert pair.box.value == round(pair.slider.value, 10)


def test_rows_wrap_instead_of_scrolling() -> None:
    shown = row([widgets.HTML("a"), widgets.HTML("b")])
    assert isinstance(shown, widgets.HBox) and shown.layout.flex_flow == "row wrap"
    assert jacobian_explorer().layout.flex_flow == "row wrap"


def _descendants(widget: widgets.Widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_a_widget_showing_drawings_holds_the_region_rule_once_in_a_view_that_never_changes() -> (
    None
):
    holder = region_rule_view()
    assert holder.value == WIDGET_REGION_RULE and holder.layout.display == "none"
    assert "tgf-region-rule" in holder._dom_classes  # the browser tests tell it from a view

    def f():
        x = Value(2.0, label="x")
        return (x * x).named("y")

    boxes = (stepper(f()), hand_trace(f()), explore(lambda x: x * x, values={"x": 2.0}))
    for box in boxes:
        views = [w for w in _descendants(box) if isinstance(w, widgets.HTML)]
        holders = [w for w in views if w.value == WIDGET_REGION_RULE]
        assert len(holders) == 1 and holders[0].layout.display == "none"
        drawings = [w for w in views if "tgf-scroll-region" in w.value and w not in holders]
        assert drawings and all("<style>" not in w.value for w in drawings)
    box = boxes[0]
    box.step()  # a step draws the graph again; the rule is not sent with it
    assert "<style>" not in box.view.value and "tgf-scroll-region" in box.view.value
