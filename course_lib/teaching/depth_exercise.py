"""The backward pass of a stack of any depth (notebook 11): Nielsen's δ recursion as a loop,
checked at depths 1, 2 and 5 with sigmoid, tanh and relu.

The stack is :func:`course_lib.network.deep_stack.stack_forward`: h_0 = X and
h_l = act(h_(l-1) W_l + b_l) for l = 1 .. L. The learner writes
``my_deep_backward(Ws, hs, activation, dh_last)``, which gets the weights [W_1 .. W_L], the
forward pass's [h_0 .. h_L], the activation's name and dL/dh_L, and returns a dict of
``dW1`` .. ``dWL`` and ``db1`` .. ``dbL``. The number of gradients depends on the depth, so
there is one :class:`~course_lib.teaching.code_exercise.Exercise` per depth (all called
``deep_backward``, so attempts and their tiers are counted together), run in turn by
:func:`check_deep_backward` through the same checker as every code exercise
(:func:`~course_lib.teaching.code_exercise.run_exercise`).

The expected gradients come from the engine: the same stack built from ``Tensor`` ops, and
``backward(dh_last)``. The mistakes named: δ not multiplied by the activation's slope (at the
top, in the loop, or anywhere), the slope of the wrong layer, the slope applied to h again
(σ(h)(1 − σ(h)) where h(1 − h) belongs), another activation's slope, a weight matrix not
transposed or taken from the layer below, dW from the layer's output instead of its input, a
bias averaged over the batch, and, through the exceptions they raise, the loop's other
off-by-ones between the lists.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.network.deep_stack import ACTIVATIONS, stack_forward
from course_lib.numbers.checking import whole_number
from course_lib.teaching.code_exercise import Case, Exercise, ExerciseReport, run_exercise
from course_lib.tensor import Tensor

__all__ = ["DEEP_BACKWARD_RULE", "DEPTHS", "check_deep_backward", "depth_exercise"]

DEPTHS = (1, 2, 5)

DEEP_BACKWARD_RULE = (
    "δ_L = dh_last ⊙ act'(h_L); for l = L − 1 down to 1, δ_l = (δ_(l+1) W_(l+1)ᵀ) ⊙ act'(h_l); "
    "for every l, dW_l = h_(l−1)ᵀ δ_l and db_l = δ_l summed over the batch; act' written with "
    "the output h: sigmoid h(1 − h), tanh 1 − h², relu 1 where h > 0 and 0 elsewhere"
)

# Layer widths [n_0 (inputs), n_1, ..., n_L] per depth and activation. Mostly all different, so
# a transpose or a wrong layer changes a shape; tanh's are all equal, so those mistakes still
# run there and are named by their numbers.
WIDTHS = {
    1: {"sigmoid": (5, 3), "tanh": (4, 4), "relu": (6, 4)},
    2: {"sigmoid": (5, 4, 3), "tanh": (4, 4, 4), "relu": (6, 5, 3)},
    5: {"sigmoid": (6, 5, 4, 5, 4, 3), "tanh": (4, 4, 4, 4, 4, 4), "relu": (7, 5, 6, 4, 5, 3)},
}
BATCH = {1: 6, 2: 7, 5: 8}  # N, never equal to a width


def slope(activation: str, h: np.ndarray) -> np.ndarray:
    """act'(a) written with the output h = act(a)."""
    if activation == "sigmoid":
        return h * (1 - h)
    if activation == "tanh":
        return 1 - h * h
    return (h > 0).astype(np.float64)


def _slope_applied_again(activation: str, h: np.ndarray) -> np.ndarray:
    """The activation applied to its own output, then its slope: σ(h)(1 − σ(h)) style."""
    if activation == "sigmoid":
        s = 1 / (1 + np.exp(-h))
        return s * (1 - s)
    if activation == "tanh":
        return 1 - np.tanh(h) ** 2
    return (np.maximum(h, 0) > 0).astype(np.float64)  # the same for relu


def _backward(
    Ws: list[np.ndarray],
    hs: list[np.ndarray],
    activation: str,
    G: np.ndarray,
    slip: str = "",
    other: str = "",
) -> dict[str, np.ndarray]:
    """The δ recursion, or the recursion with one ``slip``: what a mistake gives."""
    depth = len(Ws)

    def act(layer: int) -> np.ndarray:
        h = hs[layer]
        if slip == "no slope":
            return np.ones_like(h)
        if slip == "again":
            return _slope_applied_again(activation, h)
        if slip == "other":
            return slope(other, h)
        if slip == "h itself":
            return h
        return slope(activation, h)

    top = np.ones_like(G) if slip == "no slope at the top" else act(depth)
    delta = G * top
    grads: dict[str, np.ndarray] = {}
    for layer in range(depth, 0, -1):
        source = hs[layer] if slip == "output as input" else hs[layer - 1]
        grads[f"dW{layer}"] = source.T @ delta
        grads[f"db{layer}"] = delta.mean(axis=0) if slip == "mean" else delta.sum(axis=0)
        if layer > 1:
            W = Ws[layer - 2] if slip == "W below" else Ws[layer - 1]
            back = delta @ (W if slip == "not transposed" else W.T)
            if slip == "no slope in the loop":
                delta = back
            elif slip == "slope above":
                delta = back * act(layer)
            else:
                delta = back * act(layer - 1)
    return grads


RELU_AT_ZERO = (
    " (for relu, a slope written as h >= 0 is 1 everywhere, as relu's output is never "
    "negative: the slope is 1 only where h > 0)"
)

SLIPS = [
    (
        "no slope at the top",
        "the first δ, at layer L, lacks the activation's slope: h_L = act(a_L), so dh_last "
        "passes through layer L's activation before it reaches a_L",
    ),
    (
        "no slope",
        "δ is never multiplied by the activation's slope: each layer's δ must pass through its "
        "activation on the way down, at the top and at every layer below",
    ),
    (
        "no slope in the loop",
        "inside the loop δ is not multiplied by the activation's slope: carried back through "
        "W to h_(l−1), it must still pass through layer l − 1's activation",
    ),
    (
        "slope above",
        "the loop uses the slope of the wrong layer: carried back to h_(l−1), δ passes through "
        "the activation of layer l − 1, the layer whose output h_(l−1) is, not layer l's",
    ),
    (
        "again",
        "that applies the activation to h again, but h is already act(a), the output: the slope "
        "written with the output needs no further activation (σ(h)(1 − σ(h)) where h(1 − h) "
        "belongs)",
    ),
    (
        "h itself",
        "that multiplies δ by h itself; the activation's slope is not its output (for relu: 1 "
        "where the unit is active, 0 elsewhere)",
    ),
    (
        "not transposed",
        "δ is carried back through W as it is: going back from layer l to layer l − 1 the "
        "matrix must be transposed (compare the shapes)",
    ),
    (
        "W below",
        "your loop carries δ of layer l back through the weights of the layer below it, "
        "W_(l−1), where layer l's own weights belong: an off-by-one between Ws, which counts "
        "from 0, and the layers, which count from 1",
    ),
    (
        "output as input",
        "dW_l uses h_l, the layer's output; the weights of layer l multiply its input",
    ),
    (
        "mean",
        "db averages over the batch: a bias is used by every row, and the uses add up (sum "
        "at joins), they are not averaged",
    ),
]


def _errors(depth: int, widths: tuple[int, ...]) -> list:
    listed = ", ".join(
        f"W{layer} {widths[layer - 1]}×{widths[layer]}" for layer in range(1, depth + 1)
    )
    return [
        (
            lambda e: isinstance(e, IndexError),
            f"Ws holds W1 .. W{depth} at positions 0 .. {depth - 1}, and hs holds h_0 .. "
            f"h_{depth} at positions 0 .. {depth}: hs is one longer, so one layer's index "
            "differs between the two lists (an off-by-one)",
        ),
        (
            lambda e: isinstance(e, ValueError) and ("matmul" in str(e) or "broadcast" in str(e)),
            f"the shapes do not meet; here {listed}, each h_l has N rows and n_l columns: write "
            "each factor's shape beside it (a missing transpose, or a layer's h taken one layer "
            "off, shows this way)",
        ),
        (
            lambda e: isinstance(e, KeyError),
            f"look the activation up by its name, one of {', '.join(ACTIVATIONS)}",
        ),
    ]


# tanh's stacks first: square, so a transpose or a layer taken one off is named by its numbers
# before a rectangular stack turns it into a shape error.
CASE_ORDER = ("tanh", "sigmoid", "relu")


def _cases(depth: int, rng: np.random.Generator) -> list[Case]:
    cases = []
    for activation in CASE_ORDER:
        widths = WIDTHS[depth][activation]
        n = BATCH[depth]
        X = rng.normal(size=(n, widths[0]))
        Ws = [
            rng.normal(size=(widths[i], widths[i + 1])) / np.sqrt(widths[i]) for i in range(depth)
        ]
        bs = [rng.normal(size=widths[i + 1]) * 0.3 for i in range(depth)]
        hs = stack_forward(X, Ws, bs, activation)
        G = rng.normal(size=hs[-1].shape)
        expected = _engine(X, Ws, bs, activation, G)
        mistakes = []
        others = [a for a in ACTIVATIONS if a != activation]
        for slip, why in [
            *SLIPS,
            *[
                (
                    f"other:{other}",
                    f"that is {other}'s slope; this stack's activation is {activation}: use the "
                    "one the argument `activation` names",
                )
                for other in others
            ],
        ]:
            try:
                wrong = _backward(Ws, hs, activation, G, slip.split(":")[0], slip.partition(":")[2])
            except (ValueError, IndexError):
                continue
            if activation == "relu" and slip.startswith("no slope"):
                why += RELU_AT_ZERO  # (h >= 0) is all ones: the same numbers as no slope
            spoiled = None  # the layer of the first gradient the slip spoils (backward order)
            for name, value in wrong.items():
                if value.shape != expected[name].shape or np.allclose(value, expected[name]):
                    continue
                if spoiled is not None and name[2:] != spoiled:
                    break  # named at that layer's dW and db; the layers below are built on it
                spoiled = name[2:]
                mistakes.append((value, name, why))
        cases.append(
            Case(
                f"depth {depth}, {activation}, widths {' → '.join(map(str, widths))}, "
                f"a batch of N = {n}",
                {"Ws": Ws, "hs": hs, "activation": activation, "dh_last": G},
                expected,
                mistakes=mistakes,
                run=lambda fn, Ws=Ws, hs=hs, activation=activation, G=G: fn(
                    [W.copy() for W in Ws], [h.copy() for h in hs], activation, G.copy()
                ),
                errors=_errors(depth, widths),
            )
        )
    return cases


def _engine(
    X: np.ndarray, Ws: list[np.ndarray], bs: list[np.ndarray], activation: str, G: np.ndarray
) -> dict[str, np.ndarray]:
    """The stack as ``Tensor`` ops, ``backward(G)`` at h_L: every dW and db, backward order."""
    tW = [Tensor(W.copy()) for W in Ws]
    tb = [Tensor(b.copy()) for b in bs]
    h: Any = Tensor(X, requires_grad=False)
    for W, b in zip(tW, tb, strict=True):
        a = h @ W + b
        h = getattr(a, activation)()  # a.sigmoid(), a.tanh() or a.relu(): the engine's op
    h.backward(G)
    grads = {}
    for layer in range(len(Ws), 0, -1):
        grads[f"dW{layer}"] = tW[layer - 1].grad
        grads[f"db{layer}"] = tb[layer - 1].grad
    return grads


def depth_exercise(depth: int) -> Exercise:
    """``deep_backward`` for stacks of ``depth`` layers (one of :data:`DEPTHS`), one case per
    activation."""
    depth = whole_number(depth, "depth", "depth_exercise")
    if depth not in DEPTHS:
        raise ValueError(f"depth_exercise: depth must be one of {DEPTHS}, got {depth!r}")
    outputs = tuple(f"d{kind}{layer}" for layer in range(depth, 0, -1) for kind in ("W", "b"))
    depends = {f"dW{layer}": f"dW{layer + 1}" for layer in range(1, depth)}
    depends.update({f"db{layer}": f"db{layer + 1}" for layer in range(1, depth)})
    return Exercise(
        "deep_backward",
        "my_deep_backward(Ws, hs, activation, dh_last) -> dict of dW1, db1, ..., dWL, dbL",
        outputs,
        lambda rng: _cases(depth, rng),
        depends=depends,
        rule=DEEP_BACKWARD_RULE,
        returns="dict",
        arrays=True,
    )


def _numbers_layers_from_0(fn: Callable[..., Any], depth: int, seed: int) -> bool:
    """Whether ``fn``, on a case it has already run, hands back keys dW0 / db0."""
    case = _cases(depth, np.random.default_rng(seed))[0]
    inputs = [copy.deepcopy(value) for value in case.inputs.values()]
    try:
        with np.errstate(all="ignore"):
            result = fn(*inputs)
    except Exception:  # noqa: BLE001  (the learner's code: the check already reported it)
        return False
    return isinstance(result, dict) and ("dW0" in result or "db0" in result)


def check_deep_backward(fn: Callable[..., Any], seed: int = 0) -> ExerciseReport:
    """Check ``fn(Ws, hs, activation, dh_last)`` at depths 1, 2 and 5, with sigmoid, tanh and
    relu at each, against the engine; the first depth that fails is reported. Never raises
    for ``fn``."""
    seed = whole_number(seed, "seed (it picks the cases)", "check_deep_backward", minimum=0)
    report = None
    for depth in DEPTHS:
        report = run_exercise(depth_exercise(depth), fn, seed)
        if report.verdict == "error" and "lacks dW1, db1 (" in report.message:
            why = (
                "its keys number the layers from 0 (dW0, db0, ...), but here layer 1 is the "
                "first: dW1 is its weights' gradient"
                if _numbers_layers_from_0(fn, depth, seed)
                else "the loop never reaches layer 1 (a range stops before its end value: an "
                "off-by-one)"
            )
            return dataclasses.replace(report, message=f"{report.message}: {why}")
        if not report.ok:
            return report
    assert report is not None
    networks = len(DEPTHS) * len(ACTIVATIONS)
    return dataclasses.replace(
        report,
        message=f"every gradient matches the engine at depths {', '.join(map(str, DEPTHS[:-1]))} "
        f"and {DEPTHS[-1]}, with {', '.join(ACTIVATIONS[:-1])} and {ACTIVATIONS[-1]} "
        f"({networks} networks)",
    )
