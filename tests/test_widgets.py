"""Headless tests of the widgets in course_lib.widgets.explore (no kernel, no browser)."""

from __future__ import annotations

import pytest

from course_lib.widgets import explore, widgets_work


def test_widgets_work_updates_the_kernel_computed_number():
    box = widgets_work()
    assert "<b>9</b>" in box.view.value
    box.slider.value = 7
    assert "<b>49</b>" in box.view.value


def test_explore_recomputes_gradients_when_a_slider_moves():
    box = explore(lambda x, y, z: (x + y) * z, values={"x": -2.0, "y": 5.0, "z": -4.0})
    assert box.result.data == -12.0
    x = box.result.parents[0].parents[0]
    assert x.label == "x" and x.grad == -4.0
    before = box.view.value
    box.sliders["z"].value = 2.0
    assert box.view.value != before
    x = box.result.parents[0].parents[0]
    assert box.result.data == 6.0 and x.grad == 2.0


def test_explore_widens_the_range_for_starting_values_outside_it():
    box = explore(lambda x: x * x, values={"x": 5.0})
    assert box.sliders["x"].value == 5.0 and box.sliders["x"].max >= 5.0


def test_explore_reports_a_domain_error_instead_of_crashing():
    box = explore(lambda x: x.log(), values={"x": 1.0})
    box.sliders["x"].value = -1.0
    assert box.result is None and "log needs a positive input" in box.view.value


def test_explore_input_errors():
    with pytest.raises(ValueError, match="does not have"):
        explore(lambda x: x * x, values={"y": 1.0})
    with pytest.raises(ValueError, match="at least one input"):
        explore(lambda: 1.0)
    with pytest.raises(TypeError, match="needs a function"):
        explore(3)


def test_every_course_widget_has_a_short_text_form_of_its_own():
    """What a notebook saves as a widget's text: a sentence of ours, not ipywidgets' trait
    listing, which changes between ipywidgets versions (and which nbval compares)."""
    import numpy as np

    from course_lib.autodiff.scalar import Value
    from course_lib.teaching.quiz import card_question
    from course_lib.widgets import (
        broadcast_explorer,
        cross_entropy_explorer,
        depth_explorer,
        explore,
        hand_trace,
        jacobian_explorer,
        practice_trainer,
        quiz_widget,
        stepper,
        widgets_work,
    )

    x = Value(2.0, label="x")
    f = (x * x).named("f")
    f.backward()
    shown = [
        widgets_work(),
        explore(lambda x, y: x * y, values={"x": 1.0, "y": 2.0}),
        stepper(f),
        hand_trace(f),
        broadcast_explorer((3, 1), (1, 4)),
        jacobian_explorer((1.0, 2.0, 3.0)),
        cross_entropy_explorer((2.0, 1.0, 0.1)),
        practice_trainer(sheet=3),
        depth_explorer(depth=4),
        quiz_widget(card_question(1)),
    ]
    for widget in shown:
        text = repr(widget)
        assert "children=" not in text and "Layout(" not in text, text
        assert 10 < len(text) < 200, text
    assert repr(shown[0]) == "widgets work: n = 3, n² = 9"
    assert repr(shown[-1]) == "Quiz (4 options): run this cell to answer it"  # no prompt
    shown[1].sliders["x"].value = 3.0
    assert "x = 3" in repr(shown[1])
    assert np.isfinite(shown[5].analytic).all()
