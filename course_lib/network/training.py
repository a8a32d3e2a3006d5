"""Training the sigmoid network: minibatch SGD, W ← W − lr · dL/dW, the set shuffled every epoch.

:func:`sgd_step` is one step (the function notebook 07 prints, and the one :func:`train` runs).
A step whose loss, or an epoch whose weights, stop being finite numbers ends training with an
error that says so (the learning rate was too large). Nothing here shows anything: :func:`train`
reports to an optional ``progress`` object (a :class:`TrainingObserver`), such as the progress
bar and live chart of :func:`course_lib.widgets.training.training_display`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from course_lib.network.sigmoid_net import SigmoidNet
from course_lib.network.validation import check_labels, check_learning_rate, overflow_named
from course_lib.numbers.checking import shown, whole_number
from course_lib.numbers.formatting import format_number

__all__ = [
    "MAX_EPOCHS",
    "History",
    "TrainingObserver",
    "evaluate",
    "sgd_step",
    "train",
    "training_epochs",
]


MAX_EPOCHS = 10_000  # more passes than any run of the course needs; a typo's guard


def sgd_step(net: SigmoidNet, images: np.ndarray, labels: np.ndarray, lr: float) -> float:
    """One step of minibatch SGD: forward, ``backward()``, then W ← W - lr · dL/dW for every
    parameter. Returns the batch's loss (before the update). Afterwards every parameter's
    ``grad`` is ``None`` again: the next step computes fresh gradients."""
    lr = check_learning_rate(lr)  # a positive, finite number, before any weight moves
    loss = net.loss(images, labels)
    loss.backward()
    with overflow_named(net.params, lr):  # a weight pushed past the largest float: an error
        for p in net.params:
            step = p.grad  # dL/dW: after backward() each parameter owns this array
            step *= lr  # lr · dL/dW, computed in that array (no new one as large as W)
            p.data -= step  # W ← W - lr · dL/dW
            p.grad = None  # used up: the next step computes fresh gradients
    return float(loss.data)


def evaluate(net: SigmoidNet, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy: the fraction of images whose largest logit is at the true label."""
    _network(net, "evaluate")
    x = net.as_batch(images)
    y = check_labels(labels, len(x), net.classes)
    if len(y) == 0:
        raise ValueError("evaluate: no images to evaluate")
    return float((net.predict(x) == y).mean())


@dataclass
class History:
    """What :func:`train` recorded.

    ``position`` (in epochs) and ``loss`` (mean training loss over the steps since the previous
    record) go together; ``test_accuracy[e]`` and ``epoch_seconds[e]`` belong to epoch e + 1
    (seconds of SGD steps only: evaluation and the progress display are not counted).
    """

    position: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    steps: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def train_seconds(self) -> float:
        """Seconds spent in SGD steps, all epochs together."""
        return float(sum(self.epoch_seconds))

    def __repr__(self) -> str:
        acc = (
            ", ".join(f"{format_number(100 * a, decimals=2)}%" for a in self.test_accuracy)
            or "not measured"
        )
        last = format_number(self.loss[-1], decimals=4) if self.loss else "none"
        return (
            f"History({len(self.epoch_seconds)} epochs, {self.steps} steps, last loss {last}, "
            f"test accuracy by epoch: {acc})"
        )


class TrainingObserver(Protocol):
    """What :func:`train` reports to while it runs (its ``progress`` argument).

    ``start`` once, before the first step; ``update`` after each recorded loss average and
    after each epoch's test accuracy; ``finish`` once, after the last epoch. The History is
    the same (growing) object each time. :func:`course_lib.widgets.training.training_display`
    is one: a progress bar and a live chart.
    """

    def start(self, total_steps: int, epochs: int) -> None: ...

    def update(self, history: History, epoch: int) -> None: ...

    def finish(self, history: History) -> None: ...


def train(
    net: SigmoidNet,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 1,
    batch: int = 64,
    lr: float | Sequence[float] = 2.0,
    seed: int = 0,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    progress: TrainingObserver | None = None,
    records_per_epoch: int = 20,
) -> History:
    """Train ``net`` in place by minibatch SGD and return a :class:`History`.

    Args:
        images, labels: the training set, (N, inputs) pixels in [0, 1] and (N,) integer classes.
        epochs: passes over the training set, each in a new random order.
        batch: images per SGD step (the last step of an epoch takes what is left).
        lr: the learning rate, or one rate per epoch (a schedule).
        seed: seeds the shuffling (``numpy.random.default_rng(seed)``), an int >= 0.
        test: (images, labels) to measure accuracy on after every epoch (not timed).
        progress: something to report to as training runs (a :class:`TrainingObserver`),
            such as ``course_lib.widgets.training.training_display()``; None or False: quiet.
        records_per_epoch: how many loss averages to record (and report) per epoch.

    Raises ValueError if training diverges (a loss or a weight stops being a finite number:
    the learning rate is too large); ``net`` then holds the ruined weights.
    """
    epochs_run = training_epochs(
        net,
        images,
        labels,
        epochs=epochs,
        batch=batch,
        lr=lr,
        seed=seed,
        test=test,
        records_per_epoch=records_per_epoch,
        progress=progress,
    )
    last = History()
    for history in epochs_run:  # the same History object, one more epoch each time
        last = history
    return last


def _network(net: Any, where: str) -> None:
    if not isinstance(net, SigmoidNet):
        raise TypeError(
            f"{where}: net must be a SigmoidNet (such as SigmoidNet(hidden=100)), got "
            f"{type(net).__name__} {shown(net)}"
        )


def _rates(lr: Any, epochs: int) -> list[float]:
    """One learning rate per epoch, each checked, from a number or a schedule."""
    if isinstance(lr, np.ndarray) and lr.ndim == 0:
        lr = lr.item()
    if isinstance(lr, str) or not isinstance(lr, Sequence | np.ndarray):
        return [check_learning_rate(lr, "train")] * epochs
    rates = [check_learning_rate(r, f"train: lr[{i}]") for i, r in enumerate(lr)]
    if len(rates) != epochs:
        raise ValueError(
            f"train: got {len(rates)} learning rates for {epochs} epochs; give one number for "
            "every epoch, or a list with one rate per epoch"
        )
    return rates


def _observer(progress: Any) -> TrainingObserver | None:
    if progress is None or progress is False:
        return None
    if progress is True or not all(
        callable(getattr(progress, name, None)) for name in ("start", "update", "finish")
    ):
        raise TypeError(
            f"train: progress must be None or a display with start, update and finish methods, "
            f"got {progress!r}; for a progress bar and a live chart pass "
            "progress=training_display() (from course_lib.widgets.training)"
        )
    return progress


def training_epochs(
    net: SigmoidNet,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 1,
    batch: int = 64,
    lr: float | Sequence[float] = 2.0,
    seed: int = 0,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    records_per_epoch: int = 20,
    progress: TrainingObserver | None = None,
) -> Iterator[History]:
    """:func:`train` one epoch at a time: yields the (growing) History after each epoch.

    For callers that do something between epochs, such as a benchmark alternating between
    several implementations. Arguments as in :func:`train`; every one is checked before the
    first step, so a bad one changes no weight.
    """
    _network(net, "train")
    epochs = whole_number(epochs, "epochs", "train")
    if epochs > MAX_EPOCHS:
        raise ValueError(
            f"train: epochs={epochs} is more than {MAX_EPOCHS:,} passes over the data; "
            "the course's runs need 1 to 10"
        )
    batch = whole_number(batch, "batch (images per step)", "train")
    seed = whole_number(seed, "seed (it picks the shuffling order)", "train", minimum=0)
    records_per_epoch = whole_number(records_per_epoch, "records_per_epoch", "train")
    rates = _rates(lr, epochs)
    display = _observer(progress)
    x = np.ascontiguousarray(net.as_batch(images))
    if len(x) == 0:
        raise ValueError("train: the training set is empty")
    try:
        y = check_labels(labels, len(x), net.classes)
    except ValueError as error:
        raise ValueError(f"train: {error}") from None
    if test is not None:
        x_test, y_test = _test_set(net, test)
    steps_per_epoch = -(-len(x) // batch)
    record_every = max(1, steps_per_epoch // records_per_epoch)
    history = History(
        settings={"epochs": epochs, "batch": batch, "lr": rates, "seed": seed, "n": len(x)}
    )
    if display is not None:
        display.start(epochs * steps_per_epoch, epochs)
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        rate = rates[epoch - 1]
        total, count, seconds = 0.0, 0, 0.0
        start = time.perf_counter()
        # A diverging run overflows on its way to NaN: numpy's warnings say little, so they are
        # silenced here and the run is stopped below with an error that names the cause.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for step, first in enumerate(range(0, len(x), batch), start=1):
                idx = order[first : first + batch]
                try:
                    loss = sgd_step(net, x[idx], y[idx], rate)
                except (ValueError, OverflowError) as error:  # non-finite or huge logits
                    _diverged(epoch, step, rate, f"the loss could not be computed ({error})")
                if not math.isfinite(loss):
                    _diverged(epoch, step, rate, f"the loss became {loss}")
                total += loss
                count += 1
                if count == record_every or step == steps_per_epoch:
                    seconds += time.perf_counter() - start  # the clock stops while recording
                    history.steps += count
                    history.position.append(epoch - 1 + step / steps_per_epoch)
                    history.loss.append(total / count)
                    total, count = 0.0, 0
                    if display is not None:
                        display.update(history, epoch)
                    start = time.perf_counter()
        seconds += time.perf_counter() - start
        if not all(np.isfinite(p.data).all() for p in net.params):
            _diverged(epoch, steps_per_epoch, rate, "a weight became inf or NaN")
        history.epoch_seconds.append(seconds)
        if test is not None:
            history.test_accuracy.append(evaluate(net, x_test, y_test))
        if display is not None:
            display.update(history, epoch)
            if epoch == epochs:
                display.finish(history)
        yield history


def _test_set(net: SigmoidNet, test: Any) -> tuple[np.ndarray, np.ndarray]:
    """``test`` as checked (images, labels), or an error that says which part is wrong."""
    if isinstance(test, str) or not isinstance(test, Sequence) or len(test) != 2:
        given = (
            f"a {type(test).__name__} of {len(test)} items"
            if isinstance(test, Sequence) and not isinstance(test, str)
            else f"{shown(test)} ({type(test).__name__})"
        )
        raise TypeError(
            "train: test must be a pair (images, labels), such as test=(x_test, y_test), got "
            + given
        )
    try:
        x_test = net.as_batch(test[0])
        y_test = check_labels(test[1], len(x_test), net.classes)
    except (TypeError, ValueError) as error:
        raise type(error)(f"train: in test=(images, labels): {error}") from None
    if len(x_test) == 0:
        raise ValueError("train: the test set is empty; leave out test= to train without one")
    return x_test, y_test


def _diverged(epoch: int, step: int, rate: float, what: str) -> None:
    raise ValueError(
        f"train: training diverged in epoch {epoch}, step {step}: {what}. The learning rate "
        f"{rate:g} is too large for this network (0.5 to 2 trains it well); the network's "
        "weights are no longer usable: build a fresh one and train again with a smaller rate"
    )
