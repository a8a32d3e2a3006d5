"""What a learner sees while :func:`course_lib.network.train` runs: a progress bar and a live chart.

:func:`training_display` makes the object ``train`` reports to (its ``progress`` argument)::

    from course_lib.widgets.training import training_display

    history = train(net, x_train, y_train, epochs=3, progress=training_display())

* The bar comes from ``tqdm.auto``: a widget bar in a notebook, a text bar on stderr in a
  terminal. After the bar: the epoch, the latest loss average and the test accuracy.
* In a notebook there is also the chart of :func:`plot_history` (training loss and test
  accuracy against epochs), drawn with matplotlib into an ``HTML`` widget as an ``<img>``
  whose alt text is the status line (see :mod:`course_lib.display.accessible`): redrawn at most
  once a second while training runs, and at the end of every epoch. Drawing takes tens of
  milliseconds, and the training clock (``History.epoch_seconds``) is stopped meanwhile.

:func:`plot_history` is the chart itself: a matplotlib figure a learner can draw again after
training, restyle, or draw onto axes of their own. ``course_lib.network`` imports none of this.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from course_lib.display.accessible import OKABE_ITO, DescribedFigure
from course_lib.display.frontend import in_notebook
from course_lib.network import History
from course_lib.network.capstone import CapstoneRun
from course_lib.numbers.checking import real_number, switch, whole_number
from course_lib.numbers.formatting import format_number
from course_lib.widgets.panel import Panel

__all__ = [
    "TrainingDisplay",
    "history_alt_text",
    "plot_history",
    "runs_alt_text",
    "status_line",
    "training_display",
]

LOSS_COLOR = OKABE_ITO["blue"]
ACCURACY_COLOR = OKABE_ITO["vermillion"]
FIGSIZE = (8.0, 2.8)  # inches: two panels side by side under a notebook cell


def plot_history(
    history: History, epochs: int | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Two panels: the training loss (a line over epochs) and the test accuracy (a dot per epoch).

    ``history`` is what :func:`course_lib.network.train` returned (or is filling in); ``epochs`` the
    width of the epoch axis (default: the epochs the run was asked for). With ``axes`` (two
    matplotlib Axes, e.g. from ``plt.subplots(1, 2)``) the panels are drawn there; otherwise on a
    new figure of their own. Returns the figure. The loss axis starts at 0 and the accuracy axis
    ends at 100%, so runs drawn one after another compare by eye.
    """
    if not isinstance(history, History):
        raise TypeError(
            f"plot_history: history must be the History that train returns, got "
            f"{type(history).__name__}"
        )
    if axes is None:
        figure = Figure(figsize=FIGSIZE, layout="constrained")
        loss_axes, accuracy_axes = figure.subplots(1, 2)
    else:
        if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
            raise TypeError(
                "plot_history: axes must be two matplotlib Axes (loss, accuracy), e.g. "
                "fig, axes = plt.subplots(1, 2)"
            )
        loss_axes, accuracy_axes = axes
        figure = loss_axes.figure
    if epochs is None:
        epochs = history.settings.get("epochs") or max(1, math.ceil(max(history.position or [1])))
    loss_axes.plot(
        history.position,
        history.loss,
        color=LOSS_COLOR,
        marker="." if len(history.loss) == 1 else None,
    )
    loss_axes.set(title="training loss", xlabel="epoch", xlim=(0, epochs))
    loss_axes.set_ylim(0, 1.05 * max(history.loss, default=2.5))
    accuracy = [100 * a for a in history.test_accuracy]
    numbers = range(1, len(accuracy) + 1)
    accuracy_axes.plot(numbers, accuracy, "o-", color=ACCURACY_COLOR)
    for epoch, value in zip(numbers, accuracy, strict=True):
        accuracy_axes.annotate(
            format_number(value, decimals=2),
            (epoch, value),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    accuracy_axes.set(title="test accuracy (%)", xlabel="epoch", xlim=(0.5, epochs + 0.5))
    accuracy_axes.set_ylim(max(0, math.floor(min([90.0, *accuracy]) - 2)), 100.5)
    if epochs <= 20:
        accuracy_axes.set_xticks(range(1, epochs + 1))
    return figure


def history_alt_text(history: History) -> str:
    """The text alternative of a two-panel chart of ``history`` (loss, test accuracy), for
    ``describe_figure(fig, alt=history_alt_text(history))``: the loss at the start and at the
    end, and the test accuracy after each epoch."""
    if not isinstance(history, History):
        raise TypeError(
            f"history_alt_text: history must be the History that train returns, got "
            f"{type(history).__name__}"
        )
    if history.loss:
        loss = f"from {history.loss[0]:.2f} at the start to {history.loss[-1]:.2f} at the end"
    else:
        loss = "no loss recorded yet"
    accuracy = ", ".join(f"{100 * a:.2f}%" for a in history.test_accuracy) or "none yet"
    return (
        f"Two panels. Left: the training loss against epoch, {loss}. Right: the test accuracy "
        f"after each epoch: {accuracy}."
    )


def runs_alt_text(runs: Mapping[str, CapstoneRun]) -> str:
    """The text alternative of a two-panel chart of training runs (``runs`` maps a name, such
    as "engine", to what :func:`course_lib.network.capstone.train_capstone` returned): for each
    run, its loss at the first and at the last point, and its test accuracy there."""
    if not runs or not all(isinstance(r, CapstoneRun) and r.steps for r in runs.values()):
        raise ValueError("runs_alt_text needs at least one run with recorded steps")
    described = "; ".join(
        f"{name}: loss from {run.loss[0]:.3f} at step {run.steps[0]} to {run.loss[-1]:.3f} at "
        f"step {run.steps[-1]}, test accuracy from {run.test_accuracy[0]:.1%} to "
        f"{run.test_accuracy[-1]:.1%}"
        for name, run in runs.items()
    )
    return (
        f"Two panels against the SGD step. Left: the mean training loss; right: the test "
        f"accuracy; one line per run ({', '.join(runs)}). {described}."
    )


def status_line(history: History, epoch: int, epochs: int) -> str:
    """ "epoch 2/3, loss 0.1234, test accuracy 96.60%": where a run is, in words."""
    if not isinstance(history, History):
        raise TypeError(
            f"status_line: history must be the History that train returns, got "
            f"{type(history).__name__}"
        )
    epoch = whole_number(epoch, "epoch", "status_line", minimum=0)
    epochs = whole_number(epochs, "epochs", "status_line", minimum=0)
    parts = [f"epoch {epoch}/{epochs}"]
    if history.loss:
        parts.append(f"loss {format_number(history.loss[-1], decimals=4)}")
    if history.test_accuracy:
        parts.append(f"test accuracy {format_number(100 * history.test_accuracy[-1], decimals=2)}%")
    return ", ".join(parts)


class TrainingDisplay:
    """A progress bar (tqdm.auto) and, in a notebook, a live :func:`plot_history` chart.

    Made by :func:`training_display`; :func:`course_lib.network.train` calls ``start``, ``update``
    and ``finish``. Afterwards ``bar`` is the tqdm bar, ``view`` the widget holding the chart
    (None without a chart), ``image`` the ``HTML`` widget showing it (an ``<img>`` with alt
    text), ``png`` its latest bytes, ``figure`` the matplotlib figure it shows, ``text`` the
    last status.
    """

    def __init__(
        self, chart: bool | None = None, redraw_seconds: float = 1.0, file: TextIO | None = None
    ) -> None:
        self.chart = in_notebook() if chart is None else bool(chart)
        self.redraw_seconds = float(redraw_seconds)
        self.file = file
        self.bar: Any = None
        self.view: Panel | None = None
        self.image: widgets.HTML | None = None
        self.png = b""
        self.figure: Figure | None = None
        self.epochs = 0
        self.text = "training not started"
        self.redraws = 0
        self._drawn_at = -math.inf

    def __repr__(self) -> str:
        return f"TrainingDisplay({self.text})"

    def start(self, total_steps: int, epochs: int) -> None:
        self.epochs = epochs
        self.text = f"epoch 1/{epochs}"
        options = {} if self.file is None else {"file": self.file}
        self.bar = tqdm(total=total_steps, desc="training", unit="step", **options)
        container = getattr(self.bar, "container", None)  # the notebook bar's ipywidgets HBox
        if container is not None:  # its text wraps instead of making a box that scrolls
            container.layout.flex_flow = "row wrap"  # (which the keyboard could not reach)
        if self.chart:
            from IPython.display import display

            self.figure = Figure(figsize=FIGSIZE, layout="constrained")
            self.image = widgets.HTML(self._draw(History()))
            self._drawn_at = time.perf_counter()
            self.view = Panel([self.image], text=lambda: f"training chart: {self.text}")
            display(self.view)

    def update(self, history: History, epoch: int) -> None:
        self.bar.update(history.steps - self.bar.n)
        self.text = status_line(history, epoch, self.epochs)
        self.bar.set_postfix_str(self.text, refresh=True)
        epoch_done = len(history.epoch_seconds) >= epoch
        now = time.perf_counter()
        if self.image is not None and (epoch_done or now - self._drawn_at >= self.redraw_seconds):
            self.image.value = self._draw(history)
            self._drawn_at = time.perf_counter()

    def finish(self, history: History) -> None:
        self.text += f", {history.train_seconds:.1f} s of training"
        self.bar.set_postfix_str(self.text, refresh=False)
        self.bar.close()  # the chart already shows the last epoch

    def _draw(self, history: History) -> str:
        """The chart as an ``<img>`` with alt text, drawn again on the display's one figure."""
        assert self.figure is not None
        self.figure.clear()
        plot_history(history, self.epochs, axes=self.figure.subplots(1, 2))
        alt = (
            "Training chart: training loss against epochs (left) and test accuracy per epoch "
            f"(right); {self.text}."
        )
        described = DescribedFigure(self.figure, alt, dpi=80)
        self.png = described.png
        self.redraws += 1
        return described.html()


def training_display(chart: bool | None = None, redraw_seconds: float = 1.0) -> TrainingDisplay:
    """A progress bar and a live chart for ``train(..., progress=training_display())``.

    ``chart``: draw the live chart (default: only inside a notebook, where it can show);
    ``redraw_seconds``: the least time between two redraws while an epoch runs.
    """
    if chart is not None:
        chart = switch(chart, "chart", "training_display")
    redraw_seconds = real_number(redraw_seconds, "redraw_seconds", "training_display")
    if redraw_seconds < 0:
        raise ValueError(
            f"training_display: redraw_seconds must be a number >= 0, got {redraw_seconds!r}"
        )
    return TrainingDisplay(chart=chart, redraw_seconds=redraw_seconds)
