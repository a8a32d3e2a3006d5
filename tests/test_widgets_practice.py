"""Headless tests of the practice trainer (sheet slider + hand-trace mode)."""

from __future__ import annotations

import pytest

from course_lib.practice import practice_graph
from course_lib.widgets import practice_trainer


def test_moving_the_sheet_slider_brings_a_new_graph_to_trace():
    box = practice_trainer(3)
    first_sheet, first_trace = box.sheet_view.value, box.trace
    assert "Sheet 3" in first_sheet
    box.number.value = 4
    assert "Sheet 4" in box.sheet_view.value and box.sheet_view.value != first_sheet
    assert box.trace is not first_trace
    assert box.trace.expected == practice_trainer(4).trace.expected  # same sheet, same graph


def test_the_trace_checks_against_the_practice_answer_key():
    box = practice_trainer(11)
    graph = practice_graph(11)
    for name in box.trace.asked:
        assert box.trace.enter(name, graph.grads[name]).correct
    assert box.trace.done


def test_fan_out_switch_changes_the_graph_kind():
    box = practice_trainer(5, fan_out=True)
    assert practice_graph(5, fan_out=True).fan_out_nodes()
    box.fan_out.value = False
    assert not practice_graph(5, fan_out=False).fan_out_nodes()
    assert box.trace.expected == practice_trainer(5, fan_out=False).trace.expected


def test_bad_sheet_number_is_a_clear_error():
    with pytest.raises(ValueError, match="sheet must be an integer from 0 to 999"):
        practice_trainer(-1)
    with pytest.raises(ValueError, match="sheet must be"):
        practice_trainer(2.5)
