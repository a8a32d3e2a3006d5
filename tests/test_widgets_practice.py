"""Headless tests of the practice trainer (sheet slider + hand-trace mode)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.teaching.practice import practice_graph
from course_lib.widgets import practice_trainer
from course_lib.widgets.practice import MAX_SHEETS


def test_moving_the_sheet_slider_brings_a_new_graph_to_trace():
    box = practice_trainer(3)
    first_sheet, trace = box.sheet_view.value, box.trace
    assert "Sheet 3" in first_sheet
    name = trace.asked[0]
    trace.enter(name, 12345.0)  # wrong, and counted
    trace.reveal()
    boxes = dict(trace.entries)
    box.number.value = 4
    assert "Sheet 4" in box.sheet_view.value and box.sheet_view.value != first_sheet
    assert box.trace.expected == practice_trainer(4).trace.expected  # same sheet, same graph
    # The same widget, and the same box for a node of the same name (the browser redraws only
    # what changed), started afresh.
    assert box.trace is trace
    again = set(trace.entries) & set(boxes)
    assert len(again) >= 4 and all(trace.entries[n] is boxes[n] for n in again)
    assert all(entry.value == "" for entry in trace.entries.values())
    assert all(note.value == "" for note in trace.feedback.values())
    assert set(trace.results.values()) == {None}  # (and no wrong answer counted: handtrace)
    assert "grad ?" in trace.view.value and "0 of" in trace.score.value  # hidden again


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
    with pytest.raises(ValueError, match=r"^practice_trainer: sheet \(0 to 999\) must be 0 or"):
        practice_trainer(-1)
    with pytest.raises(ValueError, match=r"sheet \(0 to 999\) must be at most 999, got 1000"):
        practice_trainer(1000)
    with pytest.raises(TypeError, match=r"sheet .* must be a whole number \(an int\), got 2.5"):
        practice_trainer(2.5)
    with pytest.raises(ValueError, match=r"sheets \(the largest sheet number\) must be 0 or"):
        practice_trainer(1, sheets=-5)
    with pytest.raises(ValueError, match=f"must be at most {MAX_SHEETS}, got {10**30}"):
        practice_trainer(1, sheets=10**30)


def test_numpy_integers_are_sheet_numbers():
    """np.int64(3), as a loop over np.arange gives, used to be refused as "not an integer"."""
    box = practice_trainer(np.int64(3), sheets=np.int32(10))
    assert box.number.value == 3 and box.number.max == 10
    assert box.trace.expected == practice_trainer(3).trace.expected


@pytest.mark.parametrize("name", ["fan_out", "partials"])
@pytest.mark.parametrize("bad", ["no", 0, None, "False"])
def test_a_switch_that_is_not_true_or_false_is_a_clear_error(name, bad):
    """`practice_trainer(fan_out='no')` used to end in a 12-frame TraitError."""
    with pytest.raises(TypeError, match=f"practice_trainer: {name} must be True or False \\(it is"):
        practice_trainer(3, **{name: bad})


def test_the_partials_switch_shows_them_and_keeps_what_was_typed():
    box = practice_trainer(7)
    assert box.partials.value is False and box.trace.partials is False
    graph = practice_graph(7)
    trace = box.trace
    trace.enter("d", graph.grads["d"])
    hidden = trace.view.value
    box.partials.value = True
    assert box.trace is trace and trace.partials is True
    assert trace.view.value != hidden  # the drawing now carries the local partials
    assert trace.results["d"].correct and trace.entries["d"].value == "1"
    box.partials.value = False
    assert trace.view.value == hidden


def test_the_sheet_shows_its_local_rules():
    box = practice_trainer(7)
    assert "Local rules (out is the node's own value): d(u + v)/du = 1; " in box.sheet_view.value
    assert "<code>f = x + d</code>" in box.sheet_view.value


def test_every_sheet_of_both_kinds_has_a_graph_and_a_sample_builds_a_trace():
    """The slider's whole range, with and without a fan-out: no observer can fail."""
    box = practice_trainer(0)
    for fan_out in (True, False):
        for sheet in range(box.number.max + 1):
            practice_graph(sheet, fan_out=fan_out)  # what the observer draws first
    for fan_out in (True, False):
        box.fan_out.value = fan_out
        for sheet in range(0, box.number.max + 1, 97):
            box.number.value = sheet
            assert box.trace is not None and f"Sheet {sheet}<" in box.sheet_view.value


def test_typing_garbage_into_the_trainer_boxes_gives_messages():
    box = practice_trainer(7)
    for text in ["", "abc", "1e400", "nan", "1/2", "0,5", "  -3 "]:
        for name, entry in box.trace.entries.items():
            entry.value = "999"  # a change each time, so the observer runs
            entry.value = text
            assert box.trace.feedback[name].value, (name, text)
    box.trace.reveal_button.click()
    assert "grad ?" not in box.trace.view.value
