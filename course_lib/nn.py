"""The two-layer sigmoid network of notebook 06, built from ``Tensor`` ops, and its training.

For a minibatch X of shape (B, 784) with class labels y (B,):

    a = X W1 + b1                          (B, H)    W1: (784, H), b1: (H,)
    h = σ(a)                               (B, H)    σ(u) = 1 / (1 + e^-u)
    z = h W2 + b2                          (B, 10)   W2: (H, 10),  b2: (10,)
    L = softmax_cross_entropy(z, y)        a number: mean over the batch of -log softmax(z_n)_{y_n}

**Layout.** Weights are stored input-by-output, so a layer is ``x @ W``: ``W2[j, k]`` is the
weight from hidden unit j to output k (Nielsen's book writes the same weight ``W2[k, j]``,
with W2 stored output-by-input).

Each layer is one fused ``linear`` node (x @ W + b; :func:`course_lib.tensor.linear`, whose
rule is the matmul and add rules composed), the loss one fused softmax cross-entropy node.

**Gradients** come from the engine (``loss.backward()``), nothing by hand. What the engine
computes, written out: dL/dz = (P - Y)/B from the fused cross-entropy node; then
dL/dh = dL/dz W2ᵀ, so for one example hidden unit j gets Σ_k W2[j, k] (p_k - y_k)/B, the sum of
its ten downstream paths (fan-out); dL/da = dL/dh ⊙ h(1 - h); and the weight gradients
dL/dW2 = hᵀ dL/dz, dL/dW1 = Xᵀ dL/da sum over the B examples of the batch.

**Initialisation** (Glorot / Xavier uniform): W ~ U(-r, r) with r = sqrt(6 / (fan_in +
fan_out)), which keeps the variance of activations and of gradients about the same from layer
to layer; biases start at 0. Drawn from ``numpy.random.default_rng(seed)``, W1 first.

**Training**: minibatch SGD, W ← W - lr · dL/dW, the training set shuffled every epoch
(:func:`sgd_step` is the step written to be read; training runs :func:`sgd_step_in_place`,
the same update with one array less per parameter, tested equal). In a
notebook :func:`train` shows a progress bar and a live plot of the loss and the test
accuracy (ipywidgets, updated by setting values); in a script it is quiet.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, NamedTuple

import numpy as np

from course_lib.frontend import in_notebook as _in_notebook
from course_lib.tensor import Tensor, linear, softmax_cross_entropy

__all__ = [
    "ForwardPass",
    "History",
    "SigmoidNet",
    "evaluate",
    "glorot_uniform",
    "sgd_step",
    "sgd_step_in_place",
    "train",
    "training_epochs",
]


def glorot_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """A (fan_in, fan_out) matrix drawn from U(-r, r), r = sqrt(6 / (fan_in + fan_out)).

    The variance of U(-r, r) is r²/3 = 2 / (fan_in + fan_out): the compromise between keeping
    forward activations (variance 1/fan_in) and backward gradients (1/fan_out) steady.
    """
    if fan_in < 1 or fan_out < 1:
        raise ValueError(
            f"glorot_uniform: fan_in and fan_out must be >= 1, got {fan_in} and {fan_out}"
        )
    r = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-r, r, size=(fan_in, fan_out)).astype(dtype)


class ForwardPass(NamedTuple):
    """The named nodes of one forward pass (see :meth:`SigmoidNet.trace`).

    ``a`` = X W1 + b1 (B, H), ``h`` = σ(a) (B, H), ``logits`` z = h W2 + b2 (B, C), ``loss``
    the mean softmax cross-entropy (a one-element Tensor). After ``loss.backward()`` each
    node's ``grad`` holds dL/d(node).
    """

    a: Tensor
    h: Tensor
    logits: Tensor
    loss: Tensor


class SigmoidNet:
    """A 784-H-10 network: sigmoid hidden layer, softmax cross-entropy on the outputs.

    ``W1`` (inputs, H), ``b1`` (H,), ``W2`` (H, classes), ``b2`` (classes,) are Tensors
    (inputs of the graph, so their ``grad`` is filled by ``backward()``). float32 by default
    (fast); float64 for gradient checks.
    """

    def __init__(
        self,
        hidden: int = 100,
        seed: int = 0,
        *,
        inputs: int = 784,
        classes: int = 10,
        dtype: Any = np.float32,
    ) -> None:
        for name, value in (("hidden", hidden), ("inputs", inputs), ("classes", classes)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"SigmoidNet: {name} must be a positive int, got {value!r}")
        if classes < 2:
            raise ValueError(f"SigmoidNet: classes must be at least 2, got {classes}")
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"SigmoidNet: dtype must be float32 or float64, got {dtype}")
        rng = np.random.default_rng(seed)
        w1 = glorot_uniform(inputs, hidden, rng, dtype)
        w2 = glorot_uniform(hidden, classes, rng, dtype)
        self.W1 = Tensor(w1, label="W1")
        self.b1 = Tensor(np.zeros(hidden, dtype), label="b1")
        self.W2 = Tensor(w2, label="W2")
        self.b2 = Tensor(np.zeros(classes, dtype), label="b2")

    # ---- shape -------------------------------------------------------------------------------

    @property
    def params(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(W1, b1, W2, b2), the tensors SGD updates."""
        return (self.W1, self.b1, self.W2, self.b2)

    @property
    def inputs(self) -> int:
        return self.W1.shape[0]

    @property
    def hidden(self) -> int:
        return self.W1.shape[1]

    @property
    def classes(self) -> int:
        return self.W2.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.W1.dtype

    def __repr__(self) -> str:
        return (
            f"SigmoidNet({self.inputs}-{self.hidden}-{self.classes}, sigmoid hidden layer, "
            f"softmax cross-entropy, {self.dtype})"
        )

    def copy(self, dtype: Any = None) -> SigmoidNet:
        """An independent copy of the weights, optionally in another dtype (float64 for checks)."""
        new = SigmoidNet.__new__(SigmoidNet)
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        for name, p in zip(("W1", "b1", "W2", "b2"), self.params, strict=True):
            setattr(new, name, Tensor(p.data.astype(dtype, copy=True), label=name))
        return new

    # ---- forward -----------------------------------------------------------------------------

    def as_batch(self, images: Any) -> np.ndarray:
        """``images`` as a numpy array of shape (N, inputs) in the weights' dtype, checked."""
        x = images.data if isinstance(images, Tensor) else images
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        if x.ndim == 1 and x.shape[0] == self.inputs:
            raise ValueError(
                f"SigmoidNet: images must be a batch of shape (N, {self.inputs}); for one image "
                f"of shape {x.shape} use images[None, :] (or x[i:i+1])"
            )
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise ValueError(
                f"SigmoidNet: images must have shape (N, {self.inputs}), got {x.shape}"
            )
        if x.dtype != self.W1.data.dtype:
            if x.dtype.kind not in "fiub":
                raise TypeError(f"SigmoidNet: images must hold numbers, got dtype {x.dtype}")
            x = x.astype(self.W1.data.dtype)
        return x

    def forward(self, images: Any) -> tuple[Tensor, Tensor, Tensor]:
        """(a, h, logits) for a batch of images (N, inputs), as graph nodes."""
        x = self.as_batch(images)  # numpy (N, 784): data, so no gradient is computed for it
        a = linear(x, self.W1, self.b1).named("a")  # x @ W1 + b1, one fused node
        h = a.sigmoid().named("h")
        z = linear(h, self.W2, self.b2).named("z")  # h @ W2 + b2
        return a, h, z

    def trace(self, images: Any, labels: Any) -> ForwardPass:
        """The forward pass with the loss, every node named, ready for ``loss.backward()``."""
        a, h, z = self.forward(images)
        y = self.as_labels(labels, z.shape[0])  # integer class indices, one per image
        loss = softmax_cross_entropy(z, y).named("L")
        return ForwardPass(a, h, z, loss)

    def as_labels(self, labels: Any, n: int) -> np.ndarray:
        """``labels`` as a numpy array of ``n`` integer class indices, checked."""
        return _labels(labels, n, self.classes)

    def loss(self, images: Any, labels: Any) -> Tensor:
        """The mean softmax cross-entropy of the batch: a one-element Tensor to call backward on."""
        return self.trace(images, labels).loss

    def logits(self, images: Any, batch: int = 10_000) -> np.ndarray:
        """The output logits z (N, classes) as a numpy array, in chunks of ``batch`` images."""
        x = self.as_batch(images)
        chunks = [self.forward(x[i : i + batch])[2].data for i in range(0, len(x), batch)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.classes), self.dtype)

    def predict(self, images: Any) -> np.ndarray:
        """The predicted class of each image: the index of its largest logit (int64, (N,))."""
        return self.logits(images).argmax(axis=1)


def _labels(labels: Any, n: int, classes: int) -> np.ndarray:
    y = labels if type(labels) is np.ndarray else np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},), one class index per image; got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {y.dtype}")
    return y


# ---- training --------------------------------------------------------------------------------


def sgd_step(net: SigmoidNet, images: np.ndarray, labels: np.ndarray, lr: float) -> float:
    """One step of minibatch SGD: forward, ``backward()``, then W ← W - lr · dL/dW for every
    parameter. Returns the batch's loss (before the update). Afterwards every parameter's
    ``grad`` is ``None`` again: the next step computes fresh gradients."""
    loss = net.loss(images, labels)
    loss.backward()
    for p in net.params:
        p.data -= lr * p.grad
        p.grad = None
    return float(loss.data)


def sgd_step_in_place(net: SigmoidNet, images: np.ndarray, labels: np.ndarray, lr: float) -> float:
    """:func:`sgd_step`, the same numbers, without the temporary array ``lr * p.grad``.

    After ``backward()`` each parameter owns its ``grad`` array (course_lib.tensor), so the
    gradient can be scaled in place into the step; the step uses it up, so ``grad`` goes back
    to ``None``. :func:`train` runs this version; tests check it equals :func:`sgd_step`.
    """
    loss = net.loss(images, labels)
    loss.backward()
    for p in net.params:
        step = p.grad
        step *= lr
        p.data -= step
        p.grad = None
    return float(loss.data)


def evaluate(net: SigmoidNet, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy: the fraction of images whose largest logit is at the true label."""
    y = _labels(labels, len(images), net.classes)
    if len(y) == 0:
        raise ValueError("evaluate: no images to evaluate")
    return float((net.predict(images) == y).mean())


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
        acc = ", ".join(f"{100 * a:.2f}%" for a in self.test_accuracy) or "not measured"
        last = f"{self.loss[-1]:.4f}" if self.loss else "none"
        return (
            f"History({len(self.epoch_seconds)} epochs, {self.steps} steps, last loss {last}, "
            f"test accuracy by epoch: {acc})"
        )


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
    progress: bool | None = None,
    records_per_epoch: int = 20,
) -> History:
    """Train ``net`` in place by minibatch SGD and return a :class:`History`.

    Args:
        images, labels: the training set, (N, inputs) and (N,) integer classes.
        epochs: passes over the training set, each in a new random order.
        batch: images per SGD step (the last step of an epoch takes what is left).
        lr: the learning rate, or one rate per epoch (a schedule).
        seed: seeds the shuffling (``numpy.random.default_rng(seed)``).
        test: (images, labels) to measure accuracy on after every epoch (not timed).
        progress: show a progress bar and a live plot (default: only inside a notebook).
        records_per_epoch: how many loss averages to record (and redraw) per epoch.
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
    progress: bool | None = False,
) -> Iterator[History]:
    """:func:`train` one epoch at a time: yields the (growing) History after each epoch.

    For callers that do something between epochs, such as a benchmark alternating between
    several implementations. Arguments as in :func:`train`; quiet unless ``progress`` is set.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"train: epochs must be a positive int, got {epochs!r}")
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise ValueError(f"train: batch must be a positive int, got {batch!r}")
    rates = [float(lr)] * epochs if isinstance(lr, Real) else [float(r) for r in lr]
    if len(rates) != epochs:
        raise ValueError(f"train: got {len(rates)} learning rates for {epochs} epochs")
    if not all(math.isfinite(r) and r > 0 for r in rates):
        raise ValueError(f"train: learning rates must be positive numbers, got {rates}")
    x = np.ascontiguousarray(net.as_batch(images))
    y = _labels(labels, len(x), net.classes)
    if len(x) == 0:
        raise ValueError("train: the training set is empty")
    if y.min() < 0 or y.max() >= net.classes:
        raise ValueError(
            f"train: labels must be in [0, {net.classes}), got values from {y.min()} to {y.max()}"
        )
    if test is not None:
        x_test = net.as_batch(test[0])
        y_test = _labels(test[1], len(x_test), net.classes)
    steps_per_epoch = -(-len(x) // batch)
    record_every = max(1, steps_per_epoch // max(1, records_per_epoch))
    history = History(
        settings={"epochs": epochs, "batch": batch, "lr": rates, "seed": seed, "n": len(x)}
    )
    show = _in_notebook() if progress is None else bool(progress)
    display = _TrainingDisplay(epochs * steps_per_epoch, epochs) if show else None
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        rate = rates[epoch - 1]
        total, count, seconds = 0.0, 0, 0.0
        start = time.perf_counter()
        for step, first in enumerate(range(0, len(x), batch), start=1):
            idx = order[first : first + batch]
            total += sgd_step_in_place(net, x[idx], y[idx], rate)
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
        history.epoch_seconds.append(seconds)
        if test is not None:
            history.test_accuracy.append(evaluate(net, x_test, y_test))
        if display is not None:
            display.update(history, epoch)
            if epoch == epochs:
                display.finish(history)
        yield history


# ---- the progress display (notebook only) ------------------------------------------------------


class _TrainingDisplay:
    """A progress bar, a status line and a live SVG plot; every update only sets values."""

    def __init__(self, total_steps: int, epochs: int) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.epochs = epochs
        self.bar = widgets.IntProgress(
            value=0, min=0, max=total_steps, description="training", bar_style="info"
        )
        self.status = widgets.HTML(value="starting")
        self.plot = widgets.HTML(value=history_svg(History(), epochs))
        self.box = widgets.VBox([widgets.HBox([self.bar, self.status]), self.plot])
        display(self.box)

    def update(self, history: History, epoch: int) -> None:
        self.bar.value = history.steps
        acc = history.test_accuracy
        self.status.value = (
            f"epoch {epoch}/{self.epochs} · step {history.steps}/{self.bar.max} · "
            f"loss {history.loss[-1]:.4f}"
            + (f" · test accuracy {100 * acc[-1]:.2f}%" if acc else "")
        )
        self.plot.value = history_svg(history, self.epochs)

    def finish(self, history: History) -> None:
        self.bar.bar_style = "success"
        self.status.value += f" · {history.train_seconds:.1f} s of training"


def history_svg(history: History, epochs: int, width: int = 560, height: int = 200) -> str:
    """Two small panels as one SVG string: training loss and test accuracy against epochs."""
    panel = width // 2
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='sans-serif' font-size='11'>"
    ]
    losses = history.loss
    top = max(losses) if losses else 2.5
    acc = [100 * a for a in history.test_accuracy]
    low_acc = min([90.0, *acc]) if acc else 90.0
    for i, (title, xs, ys, lo, hi, fmt, dots) in enumerate(
        (
            ("training loss", history.position, losses, 0.0, top, "{:.2f}", False),
            (
                "test accuracy (%)",
                list(range(1, len(acc) + 1)),
                acc,
                math.floor(low_acc),
                100.0,
                "{:.1f}",
                True,
            ),
        )
    ):
        x0, x1 = i * panel + 44, (i + 1) * panel - 10
        y0, y1 = 24, height - 26

        def sx(v: float, x0: float = x0, x1: float = x1) -> float:
            return x0 + (x1 - x0) * v / max(epochs, 1)

        def sy(v: float, lo: float = lo, hi: float = hi, y0: float = y0, y1: float = y1) -> float:
            return y1 - (y1 - y0) * (v - lo) / ((hi - lo) or 1.0)

        parts.append(
            f"<text x='{(x0 + x1) / 2:.0f}' y='14' text-anchor='middle' font-weight='bold'>"
            f"{title}</text>"
            f"<rect x='{x0}' y='{y0}' width='{x1 - x0}' height='{y1 - y0}' fill='none' "
            "stroke='#bbb'/>"
            f"<text x='{x0 - 4}' y='{y0 + 4}' text-anchor='end'>{fmt.format(hi)}</text>"
            f"<text x='{x0 - 4}' y='{y1}' text-anchor='end'>{fmt.format(lo)}</text>"
            f"<text x='{(x0 + x1) / 2:.0f}' y='{height - 6}' text-anchor='middle' fill='#555'>"
            f"epoch (of {epochs})</text>"
        )
        if len(xs) >= 2 and not dots:
            points = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(xs, ys, strict=True))
            parts.append(f"<polyline points='{points}' fill='none' stroke='#4c72b0'/>")
        if dots:
            for a, b in zip(xs, ys, strict=True):
                parts.append(
                    f"<circle cx='{sx(a):.1f}' cy='{sy(b):.1f}' r='3' fill='#dd8452'/>"
                    f"<text x='{sx(a):.1f}' y='{sy(b) - 6:.1f}' text-anchor='middle' "
                    f"font-size='9'>{b:.2f}</text>"
                )
    parts.append("</svg>")
    return "".join(parts)
