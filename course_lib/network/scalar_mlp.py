"""A multilayer perceptron made of scalar nodes: micrograd's ``nn.py``, on any scalar engine.

Every weight is one node of a scalar engine (``Value``, or a learner's own class with the same
``data``, ``grad``, ``+``, ``*``, ``**`` and ``tanh``), so a forward pass builds a graph of a few
thousand nodes and ``backward()`` differentiates it one scalar at a time: slow, and every step
visible. Notebook 10's learner writes these classes on their own engine; these are the course's,
the ones the notebook trains with while the learner's are not right yet, and the reference
:mod:`course_lib.teaching.engine_check` compares the learner's with.

* :class:`Neuron`: out = tanh(w · x + b) = tanh(b + Σᵢ wᵢ xᵢ), weights drawn uniformly from
  [−1, 1], bias 0; its parameters are its weights, then its bias;
* :class:`Layer`: ``n_out`` neurons on the same input; it returns their outputs as a list;
* :class:`MLP`: layers one after another, each taking the previous layer's outputs;
* :func:`mean_squared_error`: L = (1/N) Σₙ (outₙ − yₙ)², out the network's first output;
* :func:`training_step`: reset every gradient to 0, forward, ``backward()``, then
  p ← p − lr · dL/dp for every parameter p.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_lib.autodiff.scalar import Value
from course_lib.network.validation import check_learning_rate
from course_lib.numbers.checking import check_size, real_number, whole_number

__all__ = ["MAX_PARAMETERS", "MLP", "Layer", "Neuron", "mean_squared_error", "training_step"]

# A scalar engine makes a node per multiply: beyond this, one step takes minutes, not seconds.
MAX_PARAMETERS = 100_000

Engine = Callable[[float], Any]  # a scalar engine's class: Engine(number) is an input node


def _generator(rng: Any, where: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy random Generator, e.g. np.random.default_rng(0), "
            f"got {type(rng).__name__}"
        )
    return rng


class Neuron:
    """One tanh unit: out = tanh(b + Σᵢ wᵢ xᵢ), with weights wᵢ and bias b nodes of ``engine``.

    The weights start uniform in [−1, 1] (one draw from ``rng`` each, in order), the bias at 0.
    """

    def __init__(self, n_in: int, rng: np.random.Generator, engine: Engine = Value) -> None:
        n_in = whole_number(n_in, "n_in", "Neuron")
        rng = _generator(rng, "Neuron")
        check_size(n_in, "the neuron's weights", "Neuron")
        self.w = [engine(rng.uniform(-1.0, 1.0)) for _ in range(n_in)]
        self.b = engine(0.0)

    def __call__(self, x: Sequence[Any]) -> Any:
        """The output node for an input ``x`` of ``n_in`` numbers (or nodes)."""
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: this neuron takes {len(self.w)} inputs, got {len(x)}")
        total = self.b
        for wi, xi in zip(self.w, x, strict=True):
            total = total + wi * xi
        return total.tanh()

    def parameters(self) -> list[Any]:
        """The weights, then the bias."""
        return [*self.w, self.b]


class Layer:
    """``n_out`` neurons, each taking the same ``n_in`` inputs; a call returns their outputs."""

    def __init__(
        self, n_in: int, n_out: int, rng: np.random.Generator, engine: Engine = Value
    ) -> None:
        n_out = whole_number(n_out, "n_out", "Layer")
        check_size(
            n_out * (whole_number(n_in, "n_in", "Layer") + 1), "the layer's weights", "Layer"
        )
        self.neurons = [Neuron(n_in, rng, engine) for _ in range(n_out)]

    def __call__(self, x: Sequence[Any]) -> list[Any]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Any]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    """Layers of widths ``sizes`` one after another on ``n_in`` inputs: MLP(2, [8, 8, 1]) is
    2 → 8 → 8 → 1. A call returns the last layer's outputs, a list of ``sizes[-1]`` nodes."""

    def __init__(
        self, n_in: int, sizes: Sequence[int], rng: np.random.Generator, engine: Engine = Value
    ) -> None:
        if isinstance(sizes, int | np.integer) or not isinstance(sizes, Sequence) or not sizes:
            raise TypeError(
                f"MLP: sizes must be a list of layer widths, such as [8, 8, 1], got {sizes!r}"
            )
        widths = [whole_number(n_in, "n_in", "MLP")]
        widths += [whole_number(size, "each size", "MLP") for size in sizes]
        count = sum((a + 1) * b for a, b in zip(widths, widths[1:], strict=False))
        if count > MAX_PARAMETERS:
            raise ValueError(
                f"MLP: {widths} would have {count:,} parameters; a scalar engine trains at most "
                f"{MAX_PARAMETERS:,} in reasonable time (every weight is a Python object)"
            )
        rng = _generator(rng, "MLP")
        self.layers = [Layer(a, b, rng, engine) for a, b in zip(widths, widths[1:], strict=False)]

    def __call__(self, x: Sequence[Any]) -> list[Any]:
        for layer in self.layers:
            x = layer(x)
        return list(x)

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for p in layer.parameters()]


def mean_squared_error(model: Callable[[Any], Sequence[Any]], xs: Any, ys: Any) -> Any:
    """L = (1/N) Σₙ (outₙ − yₙ)², outₙ = ``model(xs[n])[0]``: the loss node of a whole batch.

    ``ys`` are the targets, +1 or −1 for two classes (the range of a tanh output).
    """
    _one_target_each(xs, ys)  # as many targets as inputs, at least one
    total = 0.0
    for x, y in zip(xs, ys, strict=True):
        total = (model(x)[0] - float(y)) ** 2 + total
    return total * (1.0 / len(xs))


def _one_target_each(xs: Any, ys: Any) -> None:
    """The check of :func:`mean_squared_error`: one target per input, and at least one input."""
    if len(xs) != len(ys) or len(xs) == 0:
        raise ValueError(
            f"mean_squared_error: needs as many targets as inputs (at least one), got "
            f"{len(xs)} inputs and {len(ys)} targets"
        )


def training_step(model: Any, xs: Any, ys: Any, lr: float) -> float:
    """One step of gradient descent on :func:`mean_squared_error`; returns the loss (before the
    step) as a number.

    First every parameter's ``grad`` goes back to 0: an engine that adds into ``grad`` (as
    micrograd and PyTorch do) would otherwise step with the sum of every gradient so far.
    Then the loss, ``backward()``, and p ← p − lr · dL/dp for every parameter.
    """
    lr = check_learning_rate(lr, "training_step")
    parameters = model.parameters()
    for p in parameters:
        p.grad = 0.0
    loss = mean_squared_error(model, xs, ys)
    loss.backward()
    for p in parameters:
        p.data -= lr * p.grad
    return real_number(loss.data, "the loss", "training_step")
