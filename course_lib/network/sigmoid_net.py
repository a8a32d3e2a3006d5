"""The two-layer sigmoid network of notebook 07, built from ``Tensor`` ops.

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

Training is :mod:`course_lib.network.training`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from course_lib.network.validation import (
    check_labels,
    check_pixels,
)
from course_lib.numbers.checking import check_size, shown, whole_number
from course_lib.tensor import Tensor, linear, softmax_cross_entropy

__all__ = ["ForwardPass", "SigmoidNet", "glorot_uniform", "weight_dtype"]


def weight_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a numpy dtype, if it is float32 or float64; otherwise a ``TypeError`` that
    says why (weights in [-1, 1] would round to 0 in an integer dtype, to 1 in bool)."""
    try:
        found = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: dtype must be float32 or float64, got {shown(dtype)}, which is not a numpy "
            "dtype; write dtype=np.float32 (or np.float64 for gradient checks)"
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
    fan_in = whole_number(fan_in, "fan_in", "glorot_uniform")
    fan_out = whole_number(fan_out, "fan_out", "glorot_uniform")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "glorot_uniform: rng must be a numpy random Generator, such as "
            f"np.random.default_rng(0), got {type(rng).__name__} {shown(rng)}"
        )
    dtype = weight_dtype(dtype, "glorot_uniform")
    check_size(
        fan_in * fan_out,
        f"a weight matrix of fan_in × fan_out = {shown(fan_in)} × {shown(fan_out)}",
        "glorot_uniform",
        itemsize=dtype.itemsize,
    )
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
        hidden = whole_number(hidden, "hidden", "SigmoidNet")
        inputs = whole_number(inputs, "inputs", "SigmoidNet")
        classes = whole_number(classes, "classes", "SigmoidNet", minimum=2)
        dtype = weight_dtype(dtype, "SigmoidNet")
        seed = whole_number(seed, "seed (it picks the starting weights)", "SigmoidNet", minimum=0)
        # Every weight and bias, counted before any is allocated: hidden=10**12 is a typo.
        check_size(
            (inputs + 1) * hidden + (hidden + 1) * classes,
            f"the weights of a network with inputs={shown(inputs)}, hidden={shown(hidden)} and "
            f"classes={shown(classes)}",
            "SigmoidNet",
            itemsize=dtype.itemsize,
        )
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
        check_pixels(x)
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
        return check_labels(labels, n, self.classes)

    def loss(self, images: Any, labels: Any) -> Tensor:
        """The mean softmax cross-entropy of the batch: a one-element Tensor to call backward on.

        An empty batch is refused by the loss node, naming it: the loss is a mean over the batch.
        """
        return self.trace(images, labels).loss  # the batch is checked once, by forward

    def logits(self, images: Any, batch: int = 10_000) -> np.ndarray:
        """The output logits z (N, classes) as a numpy array, in chunks of ``batch`` images."""
        batch = whole_number(batch, "batch (images per chunk)", "SigmoidNet.logits")
        x = self.as_batch(images)
        chunks = [self.forward(x[i : i + batch])[2].data for i in range(0, len(x), batch)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.classes), self.dtype)

    def predict(self, images: Any) -> np.ndarray:
        """The predicted class of each image: the index of its largest logit (int64, (N,))."""
        return self.logits(images).argmax(axis=1)


# ---- training --------------------------------------------------------------------------------


# ---- a deep stack: how the gradient's size changes from layer to layer -------------------------
