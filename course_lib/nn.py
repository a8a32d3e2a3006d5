"""The two-layer sigmoid network of notebook 07, built from ``Tensor`` ops, and its training.

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

**Inputs**: images are rows of pixels scaled to [0, 1] (what ``load_mnist`` returns). Raw
0..255 pixels (uint8, or floats) are refused with the fix, ``images / 255``: fed unscaled, the
sigmoid units saturate and training stays at chance (9.8% on MNIST instead of 97%), silently.

**Training**: minibatch SGD, W ← W - lr · dL/dW, the training set shuffled every epoch
(:func:`sgd_step`, one step, the function notebook 07 prints and training runs). A step whose
loss, or an
epoch whose weights, stop being finite numbers ends training with an error that says so (the
learning rate was too large). This module shows nothing: :func:`train` reports to an optional
``progress`` object (a :class:`TrainingObserver`), such as the progress bar and live chart of
:func:`course_lib.widgets.training.training_display`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np

from course_lib.formatting import format_number
from course_lib.nn_checks import (
    _check_pixels,
    _count,
    _labels,
    check_learning_rate,
    pixels_in_unit_range,
)
from course_lib.tensor import Tensor, linear, softmax_cross_entropy

__all__ = [
    "ACTIVATIONS",
    "MAX_EPOCHS",
    "ForwardPass",
    "History",
    "SigmoidNet",
    "TrainingObserver",
    "check_learning_rate",
    "evaluate",
    "glorot_uniform",
    "layer_gradient_norms",
    "pixels_in_unit_range",
    "sgd_step",
    "train",
    "training_epochs",
]

MAX_EPOCHS = 10_000  # more passes than any run of the course needs; a typo's guard


def weight_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a numpy dtype, if it is float32 or float64; otherwise a ``TypeError`` that
    says why (weights in [-1, 1] would round to 0 in an integer dtype, to 1 in bool)."""
    try:
        found = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{where}: dtype must be float32 or float64, got {dtype!r}, which is not a numpy dtype"
        ) from None
    if found not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(
            f"{where}: dtype must be float32 or float64, got {found}; weights between -1 and 1 "
            "would round to whole numbers in it (0, or 1 for bool) and the network would not learn"
        )
    return found


def glorot_uniform(
    fan_in: int, fan_out: int, rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """A (fan_in, fan_out) matrix drawn from U(-r, r), r = sqrt(6 / (fan_in + fan_out)).

    The variance of U(-r, r) is r²/3 = 2 / (fan_in + fan_out): the compromise between keeping
    forward activations (variance 1/fan_in) and backward gradients (1/fan_out) steady.
    """
    fan_in = _count(fan_in, "fan_in", "glorot_uniform")
    fan_out = _count(fan_out, "fan_out", "glorot_uniform")
    dtype = weight_dtype(dtype, "glorot_uniform")
    r = math.sqrt(6.0 / (fan_in + fan_out))
    weights = np.empty((fan_in, fan_out), dtype=dtype)
    # Row by row, straight into the matrix: the generator draws float64, so only one row of
    # float64 exists at a time (not a second float64 matrix), and the numbers are the ones
    # rng.uniform(-r, r, size=(fan_in, fan_out)) would give, rounded to ``dtype``.
    for row in weights:
        row[:] = rng.uniform(-r, r, size=fan_out)
    return weights


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
        dtype = weight_dtype(dtype, "SigmoidNet")
        seed = _count(seed, "seed (it picks the starting weights)", "SigmoidNet", minimum=0)
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
        dtype = self.dtype if dtype is None else weight_dtype(dtype, "SigmoidNet.copy")
        for name, p in zip(("W1", "b1", "W2", "b2"), self.params, strict=True):
            setattr(new, name, Tensor(p.data.astype(dtype, copy=True), label=name))
        return new

    # ---- forward -----------------------------------------------------------------------------

    def as_batch(self, images: Any) -> np.ndarray:
        """``images`` as a numpy array of shape (N, inputs) in the weights' dtype, checked:
        a batch of rows whose pixels are finite numbers in [0, 1]."""
        x = images.data if isinstance(images, Tensor) else images
        if type(x) is not np.ndarray:
            try:
                x = np.asarray(x)
            except (TypeError, ValueError) as error:  # ragged lists and the like
                raise TypeError(
                    f"SigmoidNet: images must be an array of numbers ({error})"
                ) from None
        if x.ndim == 1 and x.shape[0] == self.inputs:
            raise ValueError(
                f"SigmoidNet: images must be a batch of shape (N, {self.inputs}); for one image "
                f"of shape {x.shape} use images[None, :] (or x[i:i+1])"
            )
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise ValueError(
                f"SigmoidNet: images must have shape (N, {self.inputs}), got {x.shape}"
            )
        if x.dtype.kind not in "fiub":
            raise TypeError(f"SigmoidNet: images must hold numbers, got dtype {x.dtype}")
        _check_pixels(x)
        if x.dtype != self.W1.data.dtype:
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
        batch = _count(batch, "batch (images per chunk)", "SigmoidNet.logits")
        x = self.as_batch(images)
        chunks = [self.forward(x[i : i + batch])[2].data for i in range(0, len(x), batch)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.classes), self.dtype)

    def predict(self, images: Any) -> np.ndarray:
        """The predicted class of each image: the index of its largest logit (int64, (N,))."""
        return self.logits(images).argmax(axis=1)


# ---- training --------------------------------------------------------------------------------


def sgd_step(net: SigmoidNet, images: np.ndarray, labels: np.ndarray, lr: float) -> float:
    """One step of minibatch SGD: forward, ``backward()``, then W ← W - lr · dL/dW for every
    parameter. Returns the batch's loss (before the update). Afterwards every parameter's
    ``grad`` is ``None`` again: the next step computes fresh gradients."""
    lr = check_learning_rate(lr)  # a positive, finite number, before any weight moves
    loss = net.loss(images, labels)
    loss.backward()
    for p in net.params:
        p.data -= lr * p.grad
        p.grad = None
    return float(loss.data)


def evaluate(net: SigmoidNet, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy: the fraction of images whose largest logit is at the true label."""
    x = net.as_batch(images)
    y = _labels(labels, len(x), net.classes)
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


def _rates(lr: Any, epochs: int) -> list[float]:
    """One learning rate per epoch, each checked, from a number or a schedule."""
    if isinstance(lr, np.ndarray) and lr.ndim == 0:
        lr = lr.item()
    if isinstance(lr, str) or not isinstance(lr, Sequence | np.ndarray):
        return [check_learning_rate(lr, "train")] * epochs
    rates = [check_learning_rate(r, f"train: lr[{i}]") for i, r in enumerate(lr)]
    if len(rates) != epochs:
        raise ValueError(f"train: got {len(rates)} learning rates for {epochs} epochs")
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
    epochs = _count(epochs, "epochs", "train")
    if epochs > MAX_EPOCHS:
        raise ValueError(
            f"train: epochs={epochs} is more than {MAX_EPOCHS:,} passes over the data; "
            "the course's runs need 1 to 10"
        )
    batch = _count(batch, "batch (images per step)", "train")
    seed = _count(seed, "seed (it picks the shuffling order)", "train", minimum=0)
    records_per_epoch = _count(records_per_epoch, "records_per_epoch", "train")
    rates = _rates(lr, epochs)
    display = _observer(progress)
    x = np.ascontiguousarray(net.as_batch(images))
    if len(x) == 0:
        raise ValueError("train: the training set is empty")
    try:
        y = _labels(labels, len(x), net.classes)
    except ValueError as error:
        raise ValueError(f"train: {error}") from None
    if test is not None:
        x_test = net.as_batch(test[0])
        y_test = _labels(test[1], len(x_test), net.classes)
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


def _diverged(epoch: int, step: int, rate: float, what: str) -> None:
    raise ValueError(
        f"train: training diverged in epoch {epoch}, step {step}: {what}. The learning rate "
        f"{rate:g} is too large for this network (0.5 to 2 trains it well); the network's "
        "weights are no longer usable: build a fresh one and train again with a smaller rate"
    )


# ---- a deep stack: how the gradient's size changes from layer to layer -------------------------

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def layer_gradient_norms(
    depth: int,
    activation: str = "sigmoid",
    init_scale: float = 1.0,
    *,
    width: int = 32,
    batch: int = 16,
    seed: int = 0,
) -> np.ndarray:
    """‖dL/dW_l‖ (Frobenius norm) for each layer l = 1 .. ``depth`` of a deep stack, by the engine.

    The stack: h_0 = X (``batch`` × ``width``, standard normal), a_l = h_{l-1} W_l,
    h_l = act(a_l), with every W_l drawn from N(0, (``init_scale``)² / ``width``) (no biases);
    the loss is L = Σ (h_depth ⊙ R) / ``batch`` for a fixed random R. Everything is drawn from
    ``seed``, so the same arguments give the same numbers.

    By the chain rule, dL/dh_{l-1} = (dL/dh_l ⊙ act'(a_l)) W_lᵀ: every layer multiplies the
    gradient by act' and by a weight matrix. σ' ≤ 1/4 (and much less for a saturated unit),
    so a sigmoid stack shrinks it layer after layer, the first layers most (vanishing
    gradients); relu' is 1 for every active unit, and with ``init_scale`` = √2 (He
    initialisation) the size is kept on average.
    """
    depth = _count(depth, "depth", "layer_gradient_norms")
    for name, value in (("width", width), ("batch", batch)):
        _count(value, name, "layer_gradient_norms")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"layer_gradient_norms: activation must be one of {ACTIVATIONS}, got {activation!r}"
        )
    if (
        isinstance(init_scale, bool)
        or not isinstance(init_scale, int | float | np.floating)
        or not 0 < init_scale < math.inf
    ):
        raise ValueError(
            f"layer_gradient_norms: init_scale must be a positive number, got {init_scale!r}"
        )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    weights = [
        Tensor(rng.standard_normal((width, width)) * (init_scale / math.sqrt(width)))
        for _ in range(depth)
    ]
    readout = rng.standard_normal((batch, width))
    h = Tensor(x, requires_grad=False)
    for W in weights:
        a = h @ W
        h = (
            a.sigmoid()
            if activation == "sigmoid"
            else a.tanh()
            if activation == "tanh"
            else a.relu()
        )
    loss = (h * readout).sum() / batch
    loss.backward()
    return np.array([float(np.sqrt((W.grad * W.grad).sum())) for W in weights])
