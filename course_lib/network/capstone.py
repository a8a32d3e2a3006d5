"""The capstone network of notebook 11: inputs → linear → layer norm → tanh → linear → softmax
cross-entropy, its forward pass written out in numpy with every intermediate named, the same
forward pass as ``Tensor`` ops (so the engine's ``backward()`` gives the gradient of every
intermediate), and plain SGD driven by any function that returns the parameters' gradients.

For a batch X (N, D) with labels y (N,), hidden width H and C classes:

    a = X W1 + b1                              (N, H)
    mu = mean of each row of a                 (N, 1)
    c = a - mu                                 (N, H)   centred
    var = mean of each row of c²               (N, 1)   divided by H (not H - 1)
    inv_std = (var + ε)^(-1/2)                 (N, 1)
    a_hat = c · inv_std                        (N, H)   each row: mean 0, variance 1
    n = gain ⊙ a_hat + shift                   (N, H)   gain, shift: (H,), learned
    h = tanh(n)                                (N, H)
    z = h W2 + b2                              (N, C)   the logits
    z_max = max of each row of z               (N, 1)
    shifted = z - z_max                        (N, C)   the stable softmax's shift
    e = exp(shifted)                           (N, C)
    e_sum = sum of each row of e               (N, 1)
    log_p = shifted - log(e_sum)               (N, C)   log softmax
    loss = -(1/N) Σ_n log_p[n, y_n]            a number

:func:`forward` is that list as numpy code, the page the learner reads; :func:`forward_graph` is
the same list as ``Tensor`` ops, one node per line, so that after ``loss.backward()`` every
intermediate's ``grad`` is dL/d(intermediate). :func:`engine_gradients` runs it and hands back
both, as plain arrays: the forward values ``f`` and the gradients ``g`` (``g["dz"]`` is dL/dz).

Weights: W1 and W2 from Glorot's uniform initialisation, b1, shift and b2 at 0, gain at 1,
all float64 (drawn from ``numpy.random.default_rng(seed)``, W1 first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib.network.sigmoid_net import glorot_uniform
from course_lib.network.validation import check_labels, check_learning_rate
from course_lib.numbers.checking import real_number, shown, whole_number
from course_lib.tensor import Tensor

__all__ = [
    "EPS",
    "INTERMEDIATES",
    "MAX_STEPS",
    "PARAMETERS",
    "CapstoneRun",
    "accuracy",
    "engine_gradients",
    "engine_parameter_gradients",
    "forward",
    "forward_graph",
    "init_parameters",
    "train_capstone",
]

EPS = 1e-5  # layer norm's ε: keeps a constant row from dividing by 0
MAX_STEPS = 1_000_000  # notebook 11 trains for hundreds of steps; a typo's guard

PARAMETERS = ("W1", "b1", "gain", "shift", "W2", "b2")
# The forward pass's intermediates, in the order the forward pass computes them.
INTERMEDIATES = (
    "a",
    "mu",
    "c",
    "var",
    "inv_std",
    "a_hat",
    "n",
    "h",
    "z",
    "z_max",
    "shifted",
    "e",
    "e_sum",
    "log_p",
)


def forward(X: np.ndarray, labels: np.ndarray, params: dict, eps: float = EPS) -> dict:
    """Every intermediate of the forward pass, by name (and the inputs, the weights, the loss)."""
    X, labels, params, eps = _checked(X, labels, params, eps)  # shapes, finite numbers, labels
    W1, b1, gain, shift, W2, b2 = (params[k] for k in ("W1", "b1", "gain", "shift", "W2", "b2"))
    N = X.shape[0]
    # first linear layer
    a = X @ W1 + b1  # (N, H)
    # layer norm: each row of H numbers to mean 0 and variance 1, then a learned gain and shift
    mu = a.mean(axis=1, keepdims=True)  # (N, 1)
    c = a - mu  # (N, H)
    var = (c**2).mean(axis=1, keepdims=True)  # (N, 1)
    inv_std = (var + eps) ** -0.5  # (N, 1)
    a_hat = c * inv_std  # (N, H)
    n = gain * a_hat + shift  # (N, H); gain and shift: (H,)
    # activation
    h = np.tanh(n)  # (N, H)
    # second linear layer: the logits
    z = h @ W2 + b2  # (N, C)
    # softmax cross-entropy, written out (the stable way: each row's largest logit subtracted)
    z_max = z.max(axis=1, keepdims=True)  # (N, 1)
    shifted = z - z_max  # (N, C)
    e = np.exp(shifted)  # (N, C)
    e_sum = e.sum(axis=1, keepdims=True)  # (N, 1)
    log_p = shifted - np.log(e_sum)  # (N, C)
    loss = -log_p[np.arange(N), labels].mean()  # a number
    return dict(
        X=X, labels=labels, eps=eps, **params,
        a=a, mu=mu, c=c, var=var, inv_std=inv_std, a_hat=a_hat, n=n, h=h,
        z=z, z_max=z_max, shifted=shifted, e=e, e_sum=e_sum, log_p=log_p, loss=loss,
    )  # fmt: skip


def forward_graph(
    X: np.ndarray, labels: np.ndarray, params: Mapping[str, np.ndarray], eps: float = EPS
) -> dict[str, Tensor]:
    """:func:`forward` as ``Tensor`` ops, one node per line: the parameters (inputs of the
    graph), every intermediate and ``loss``, by name. ``X`` and ``labels`` are data (no
    gradient). Call ``nodes["loss"].backward()`` to fill every node's ``grad``."""
    X, labels, params, eps = _checked(X, labels, params, eps)
    t = {k: Tensor(np.array(params[k], dtype=np.float64), label=k) for k in PARAMETERS}
    N = X.shape[0]
    a = Tensor(X, requires_grad=False) @ t["W1"] + t["b1"]
    mu = a.mean(axis=1, keepdims=True)
    c = a - mu
    var = (c**2).mean(axis=1, keepdims=True)
    inv_std = (var + eps) ** -0.5
    a_hat = c * inv_std
    n = t["gain"] * a_hat + t["shift"]
    h = n.tanh()
    z = h @ t["W2"] + t["b2"]
    z_max = z.max(axis=1, keepdims=True)
    shifted = z - z_max
    e = shifted.exp()
    e_sum = e.sum(axis=1, keepdims=True)
    log_p = shifted - e_sum.log()
    loss = -log_p[np.arange(N), labels].mean()
    nodes = dict(t, a=a, mu=mu, c=c, var=var, inv_std=inv_std, a_hat=a_hat, n=n, h=h, z=z)
    nodes.update(z_max=z_max, shifted=shifted, e=e, e_sum=e_sum, log_p=log_p, loss=loss)
    for name, node in nodes.items():
        node.named(name)
    return nodes


def engine_gradients(
    X: np.ndarray, labels: np.ndarray, params: Mapping[str, np.ndarray], eps: float = EPS
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(f, g): the forward values of :func:`forward` and the engine's gradient of every
    intermediate and parameter, ``g["d" + name]`` (``g["dloss"]`` is 1, the seed)."""
    X, labels, params, eps = _checked(X, labels, params, eps)
    f = forward(X, labels, dict(params), eps)
    nodes = forward_graph(X, labels, params, eps)
    nodes["loss"].backward()
    g: dict[str, Any] = {"dloss": 1.0}
    for name, node in nodes.items():
        if name != "loss":
            g["d" + name] = node.grad
    return f, g


def engine_parameter_gradients(
    X: np.ndarray, labels: np.ndarray, params: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """dL/d(each parameter) by the engine, keyed ``dW1``, ``db1``, ... (what SGD needs)."""
    _, g = engine_gradients(X, labels, params)
    return {"d" + k: g["d" + k] for k in PARAMETERS}


def init_parameters(inputs: int, hidden: int, classes: int, seed: int = 0) -> dict[str, Any]:
    """Fresh float64 weights: W1 (inputs, hidden) and W2 (hidden, classes) Glorot-uniform, b1,
    shift and b2 zeros, gain ones."""
    inputs = whole_number(inputs, "inputs", "init_parameters")
    hidden = whole_number(hidden, "hidden", "init_parameters")
    classes = whole_number(classes, "classes", "init_parameters")
    if hidden < 2 or classes < 2:
        raise ValueError(
            f"init_parameters: layer norm needs at least 2 hidden units and a softmax at least "
            f"2 classes, got hidden={hidden}, classes={classes}"
        )
    seed = whole_number(seed, "seed (it picks the starting weights)", "init_parameters", minimum=0)
    rng = np.random.default_rng(seed)
    return {
        "W1": glorot_uniform(inputs, hidden, rng, np.float64),
        "b1": np.zeros(hidden),
        "gain": np.ones(hidden),
        "shift": np.zeros(hidden),
        "W2": glorot_uniform(hidden, classes, rng, np.float64),
        "b2": np.zeros(classes),
    }


def accuracy(params: Mapping[str, np.ndarray], X: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of rows of ``X`` whose largest logit is at their label."""
    z = forward(X, labels, params)["z"]
    return float((z.argmax(axis=1) == labels).mean())


@dataclass
class CapstoneRun:
    """What :func:`train_capstone` recorded: after every ``every`` steps, the step, the mean
    training loss of those steps and the accuracy on the test images; and the final weights."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def __repr__(self) -> str:
        if not self.steps:
            return "CapstoneRun(nothing recorded)"
        return (
            f"CapstoneRun({self.steps[-1]} steps: loss {self.loss[-1]:.4f}, "
            f"test accuracy {self.test_accuracy[-1]:.1%})"
        )


GradientFunction = Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], Mapping[str, Any]]


def train_capstone(
    params: Mapping[str, np.ndarray],
    images: np.ndarray,
    labels: np.ndarray,
    gradients: GradientFunction,
    *,
    steps: int,
    batch: int,
    lr: float,
    test: tuple[np.ndarray, np.ndarray],
    every: int = 25,
    seed: int = 0,
) -> CapstoneRun:
    """Minibatch SGD from a copy of ``params``: ``steps`` steps, each on ``batch`` rows drawn
    (without repeats, then reshuffled) from ``seed``, W ← W − lr · dW for every parameter, with
    dW from ``gradients(X, labels, params)`` (a dict ``dW1``, ``db1``, ... like
    :func:`engine_parameter_gradients`). The same ``seed`` gives the same batches, so two runs
    with different gradient functions start from the same weights and see the same images."""
    steps = whole_number(steps, "steps", "train_capstone", maximum=MAX_STEPS)
    batch = whole_number(batch, "batch", "train_capstone")
    every = whole_number(every, "every", "train_capstone")
    seed = whole_number(seed, "seed (it picks the batches)", "train_capstone", minimum=0)
    lr = check_learning_rate(lr, "train_capstone")
    if not callable(gradients):
        raise TypeError(
            "train_capstone: gradients must be a function (X, labels, params) -> dict of dW1, "
            f"db1, ... such as engine_parameter_gradients, got {type(gradients).__name__}"
        )
    images, labels, params, _ = _checked(images, labels, params)
    if not (isinstance(test, tuple | list) and len(test) == 2):
        raise TypeError(
            "train_capstone: test must be a pair (test images, test labels), got "
            f"{type(test).__name__} {shown(test)}"
        )
    _checked(*test, params)  # the test images and labels, before the first step
    if batch > len(images):
        raise ValueError(
            f"train_capstone: a batch of {batch} needs at least that many images, got {len(images)}"
        )
    current = {k: np.array(params[k], dtype=np.float64) for k in PARAMETERS}
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    run = CapstoneRun()
    used, total = 0, 0.0
    for step in range(1, steps + 1):
        if used + batch > len(order):
            order, used = rng.permutation(len(images)), 0
        rows = order[used : used + batch]
        used += batch
        X, y = images[rows], labels[rows]
        total += float(forward(X, y, current)["loss"])
        grads = gradients(X, y, current)
        missing = [k for k in PARAMETERS if not isinstance(grads, Mapping) or "d" + k not in grads]
        if missing:
            raise ValueError(
                f"train_capstone: the gradient function must return a dict with "
                f"{', '.join('d' + k for k in PARAMETERS)}; at step {step} it returned "
                f"{type(grads).__name__}, lacking {', '.join('d' + k for k in missing)}"
            )
        for k in PARAMETERS:
            step_k = np.asarray(grads["d" + k], dtype=np.float64)
            if step_k.shape != current[k].shape or not np.all(np.isfinite(step_k)):
                raise ValueError(
                    f"train_capstone: at step {step} the gradient d{k} has shape "
                    f"{step_k.shape} (the weight {k} has {current[k].shape}) or holds inf/NaN; "
                    "check the function that computes it"
                )
            current[k] -= lr * step_k
        if step % every == 0:
            run.steps.append(step)
            run.loss.append(total / every)
            run.test_accuracy.append(accuracy(current, *test))
            total = 0.0
    run.params = current
    return run


def _checked(
    X: Any, labels: Any, params: Mapping[str, Any], eps: Any = EPS
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], float]:
    """float64 images (N, D) with N ≥ 1, labels in [0, C), all six parameters as float64
    arrays of matching shapes, every number finite, and ε > 0; or an error naming the problem."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"the parameters must be a dict of {', '.join(PARAMETERS)} (init_parameters makes "
            f"one), got {type(params).__name__}"
        )
    missing = [k for k in PARAMETERS if k not in params]
    if missing:
        raise ValueError(
            f"the parameters lack {', '.join(missing)}; give all of {', '.join(PARAMETERS)} "
            "(init_parameters makes them)"
        )
    weights = {
        k: _finite(params[k], f"the parameter {k}", 2 if k[0] == "W" else 1) for k in PARAMETERS
    }
    inputs, hidden = weights["W1"].shape
    classes = weights["W2"].shape[1]
    expected = {"b1": (hidden,), "gain": (hidden,), "shift": (hidden,), "W2": (hidden, classes),
                "b2": (classes,)}  # fmt: skip
    for k, shape in expected.items():
        if weights[k].shape != shape:
            raise ValueError(
                f"the parameter {k} has shape {weights[k].shape}, but W1 of shape "
                f"{weights['W1'].shape} and W2 need {shape}: keep the shapes init_parameters gives"
            )
    X = _finite(X, "the images", 2)
    if X.shape[1] != inputs:
        raise ValueError(
            f"the images have {X.shape[1]} columns but W1 expects {inputs} inputs: give one row "
            f"of {inputs} numbers per image"
        )
    if len(X) == 0:
        raise ValueError("the batch is empty: give at least one image (a mean over no rows is NaN)")
    labels = check_labels(labels, len(X), classes)
    eps = real_number(eps, "eps (layer norm's ε)", "the capstone's forward pass")
    if eps <= 0:
        raise ValueError(
            f"eps (layer norm's ε) must be a small positive number such as 1e-5, got {eps}: "
            "it keeps a constant row from dividing by 0"
        )
    return X, labels, weights, eps


def _finite(x: Any, name: str, ndim: int) -> np.ndarray:
    """``x`` as a float64 array of ``ndim`` axes of finite numbers, or an error naming it."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {shown(x)}") from None
    if arr.ndim != ndim:
        what = "a batch of rows (N, D)" if name == "the images" else f"an array of {ndim} axes"
        raise ValueError(f"{name} must be {what}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds inf or NaN; every number must be finite")
    return arr
