"""Tests of course_lib.widgets.training: the progress bar and live chart that train reports to.

The chart is a matplotlib figure, so the tests read what it draws: the line's data, and where
matplotlib puts each point on the screen (a chart drawn upside down, with lower losses higher
up, fails here), and the text of the bar.
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.network import History, SigmoidNet, train
from course_lib.network.capstone import CapstoneRun
from course_lib.widgets.training import (
    TrainingDisplay,
    plot_history,
    runs_alt_text,
    status_line,
    training_display,
)

matplotlib.use("Agg")


def falling_history() -> History:
    history = History(
        position=[0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0],
        loss=[2.1, 1.2, 0.7, 0.5, 0.4, 0.35, 0.3, 0.28],
        test_accuracy=[0.9123, 0.9456],
        epoch_seconds=[0.5, 0.5],
        steps=80,
        settings={"epochs": 3},
    )
    return history


def screen_y(axes, xs, ys) -> np.ndarray:
    """Where matplotlib draws the points (x, y) of ``axes``: pixel rows, larger = higher up."""
    axes.figure.canvas.draw()  # limits and transforms as drawn
    return axes.transData.transform(np.column_stack([xs, ys]))[:, 1]


def test_the_loss_line_is_the_history_and_a_larger_loss_is_drawn_higher() -> None:
    history = falling_history()
    figure = plot_history(history)
    loss_axes, accuracy_axes = figure.axes
    (line,) = loss_axes.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), history.position)
    np.testing.assert_array_equal(line.get_ydata(), history.loss)
    heights = screen_y(loss_axes, history.position, history.loss)
    assert (np.diff(heights) < 0).all()  # the loss falls, so the line goes down the screen
    bottom, top = loss_axes.get_ylim()
    assert bottom == 0 and top >= max(history.loss) and not loss_axes.yaxis_inverted()
    assert loss_axes.get_xlim() == (0, 3)  # the whole run's epochs, not only those so far
    assert loss_axes.get_title() == "training loss"


def test_the_accuracy_dots_rise_with_the_accuracy_and_carry_their_numbers() -> None:
    history = falling_history()
    figure = plot_history(history)
    accuracy_axes = figure.axes[1]
    (line,) = accuracy_axes.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [91.23, 94.56])
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    heights = screen_y(accuracy_axes, [1, 2], [91.23, 94.56])
    assert heights[1] > heights[0] and not accuracy_axes.yaxis_inverted()
    assert [t.get_text() for t in accuracy_axes.texts] == ["91.23", "94.56"]
    assert accuracy_axes.get_ylim()[1] >= 100


def test_an_empty_history_draws_empty_panels_and_bad_arguments_are_named() -> None:
    figure = plot_history(History(), epochs=2)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    figure.savefig(io.BytesIO(), format="png")
    with pytest.raises(TypeError, match="the History that train returns"):
        plot_history([1, 2, 3])
    with pytest.raises(TypeError, match="two matplotlib Axes"):
        plot_history(falling_history(), axes=[figure.axes[0]])


def test_plot_history_draws_onto_a_learners_own_axes() -> None:
    figure = Figure()
    axes = figure.subplots(1, 2)
    assert plot_history(falling_history(), axes=axes) is figure
    assert len(axes[0].get_lines()) == 1 and len(axes[1].get_lines()) == 1


def test_the_status_line_says_epoch_loss_and_accuracy() -> None:
    history = falling_history()
    assert status_line(history, 2, 3) == "epoch 2/3, loss 0.2800, test accuracy 94.56%"
    assert status_line(History(), 1, 3) == "epoch 1/3"


def small_set():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 96)
    x = np.clip(rng.normal(size=(96, 6)) * 0.12 + np.where(y[:, None] == 1, 0.75, 0.25), 0, 1)
    return x.astype(np.float32), y


def test_in_a_terminal_the_bar_is_text_and_there_is_no_chart() -> None:
    x, y = small_set()
    out = io.StringIO()
    display = TrainingDisplay(chart=False, file=out)
    history = train(
        SigmoidNet(4, inputs=6, classes=3), x, y, epochs=2, batch=16, test=(x, y), progress=display
    )
    text = out.getvalue()
    assert "training: 100%" in text and "12/12" in text
    assert status_line(history, 2, 2) in text and "s of training" in text
    assert display.view is None and display.redraws == 0
    assert repr(display).startswith("TrainingDisplay(epoch 2/2, loss ")


def test_in_a_notebook_the_chart_is_redrawn_by_setting_the_image(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs: shown.extend(objs))
    x, y = small_set()
    display = TrainingDisplay(chart=True, redraw_seconds=3600.0, file=io.StringIO())
    history = train(
        SigmoidNet(4, inputs=6, classes=3), x, y, epochs=2, batch=16, test=(x, y), progress=display
    )
    assert shown == [display.view]
    assert display.png.startswith(b"\x89PNG")
    assert display.image.value.startswith('<img alt="Training chart: training loss')
    assert "epoch 2/2, loss " in display.image.value  # the alt text says where the run is
    # drawn at the start and at the end of each of the 2 epochs; not for each of the 12 records
    # in between (an hour between redraws)
    assert display.redraws == 3
    assert repr(display.view) == f"training chart: {display.text}"
    lines = display.figure.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), history.loss)


def test_training_display_checks_its_argument() -> None:
    assert isinstance(training_display(chart=False), TrainingDisplay)
    with pytest.raises(ValueError, match="redraw_seconds must be a number >= 0"):
        training_display(redraw_seconds=-1)


def test_in_a_notebook_the_bar_wraps_instead_of_scrolling(monkeypatch) -> None:
    """tqdm's notebook bar is an HBox that scrolls when its text is long: a scrolling box the
    keyboard cannot reach (axe: scrollable-region-focusable). Its text wraps instead."""
    from tqdm.notebook import tqdm as notebook_tqdm

    monkeypatch.setattr("course_lib.widgets.training.tqdm", notebook_tqdm)
    monkeypatch.setattr("IPython.display.display", lambda *objs: None)
    monkeypatch.setattr("tqdm.notebook.display", lambda *objs: None)
    display = TrainingDisplay(chart=False)
    display.start(total_steps=10, epochs=1)
    try:
        assert display.bar.container.layout.flex_flow == "row wrap"
    finally:
        display.bar.close()


def test_the_runs_alt_text_gives_each_runs_first_and_last_numbers() -> None:
    engine = CapstoneRun(steps=[50, 100], loss=[1.2345, 0.4321], test_accuracy=[0.81, 0.9242])
    yours = CapstoneRun(steps=[50, 100], loss=[1.2345, 0.4321], test_accuracy=[0.81, 0.9242])
    text = runs_alt_text({"engine": engine, "yours": yours})
    assert "one line per run (engine, yours)" in text
    assert "engine: loss from 1.234 at step 50 to 0.432 at step 100" in text
    assert "test accuracy from 81.0% to 92.4%" in text and text.count("92.4%") == 2
    with pytest.raises(ValueError, match="at least one run"):
        runs_alt_text({})
    with pytest.raises(ValueError, match="at least one run"):
        runs_alt_text({"engine": CapstoneRun()})
