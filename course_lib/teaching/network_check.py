"""Checking what a learner builds on their own engine (notebook 10): a neuron, a layer and an MLP
(micrograd's ``nn``), and the training step with its reset of the gradients.

* :func:`check_network` builds the learner's classes with known weights (through the ``w``,
  ``b``, ``neurons`` and ``layers`` their ``__init__`` keep), calls them, runs ``backward()`` on
  the engine they use, and compares the outputs, every parameter's gradient and the
  ``parameters()`` list with :mod:`course_lib.network.scalar_mlp`;
* :func:`check_training_step` runs the learner's step three times on a small MLP whose engine
  adds into ``grad`` on every ``backward()``, as micrograd's and PyTorch's do, and compares the
  losses and the parameters with three steps taken with fresh gradients. A step that never
  resets the gradients is right once and wrong from the second step on: the gradients grow.

Both run through :func:`course_lib.teaching.code_exercise.run_exercise`, like the engine's own
checks (:mod:`course_lib.teaching.engine_check`): they never raise because of the learner's code,
name each mistake (first without the rule, then with it), and never show a solution's line.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_lib.autodiff.graph import backpropagate, topological_order
from course_lib.autodiff.scalar import OPS, Op, power
from course_lib.data.moons import two_moons
from course_lib.network import scalar_mlp
from course_lib.teaching.backward_diagnosis import is_finite_number, shown_briefly
from course_lib.teaching.code_exercise import (
    Case,
    Exercise,
    ExerciseReport,
    NamedMistake,
    NothingReturned,
    run_exercise,
    with_article,
)
from course_lib.teaching.engine_check import MATH_NOT_IMPORTED, unwritten_methods

__all__ = ["GROWS", "AccumulatingValue", "check_network", "check_training_step"]

# ---- the neuron, the layer and the MLP ------------------------------------------------------

NETWORK_RULE = (
    "a neuron's output is tanh(b + Σᵢ wᵢ·xᵢ), its parameters its weights and its bias; a layer "
    "calls each of its neurons on the same input and returns their outputs as a list; an MLP "
    "calls each layer on the previous layer's outputs (layer i takes as many inputs as layer "
    "i − 1 has neurons); parameters() returns one flat list holding every parameter once."
)

# What the learner writes in each class (the rest of each skeleton is given).
_TO_WRITE = (
    ("__call__", "parameters"),
    ("__call__", "parameters"),
    ("__init__", "__call__", "parameters"),
)

Weights = list[tuple[list[float], float]]  # a layer: each neuron's (weights, bias)


def _written(classes: tuple[type, ...], needed: int) -> None:
    """Not written yet: every method of the three classes, or one of class ``needed`` or of a
    class it builds on."""
    left = [unwritten_methods(cls, names) for cls, names in zip(classes, _TO_WRITE, strict=True)]
    if all(len(done) == len(names) for done, names in zip(left, _TO_WRITE, strict=True)):
        names = ", ".join(cls.__name__ for cls in classes)
        raise NotImplementedError(f"{names} are not written yet: replace each `...`")
    for i in range(needed + 1):
        if left[i]:
            raise NotImplementedError(
                f"{classes[i].__name__}.{left[i][0]} is not written yet: replace its `...`"
            )


def _neurons(module: Any) -> list[Any]:
    if hasattr(module, "w"):
        return [module]
    if hasattr(module, "neurons"):
        return list(module.neurons)
    return [n for layer in getattr(module, "layers", []) for n in _neurons(layer)]


def _check_parameters(module: Any, want: list[Any], what: str) -> None:
    """A NamedMistake unless ``module.parameters()`` is a flat list of exactly ``want``."""
    got = module.parameters()
    if got is None:
        raise NothingReturned(
            f"{what}.parameters() returned None: did you forget to `return` the list?"
        )
    if not isinstance(got, list | tuple):
        raise NamedMistake(
            f"{what}.parameters() returned {with_article(type(got).__name__)}: return a list of "
            "nodes"
        )
    if any(isinstance(item, list | tuple) for item in got):
        raise NamedMistake(
            f"{what}.parameters() holds a list inside its list: return one flat list of "
            "nodes (join the lists of its parts into one)"
        )
    ids = [id(p) for p in got]
    if len(set(ids)) != len(ids):
        raise NamedMistake(
            f"{what}.parameters() lists a parameter more than once: a training step would "
            "move it twice"
        )
    wanted = {id(p) for p in want}
    strangers = [p for p in got if id(p) not in wanted]
    if strangers:
        raise NamedMistake(
            f"{what}.parameters() holds {shown_briefly(strangers[0])}, which is not one of its "
            "weights or biases"
        )
    listed = set(ids)
    missing = [p for p in want if id(p) not in listed]
    if missing:
        biases = {id(getattr(n, "b", None)) for n in _neurons(module)}
        kind = "a bias" if any(id(p) in biases for p in missing) else "a weight"
        raise NamedMistake(
            f"{what}.parameters() lacks {len(missing)} of its {len(want)} parameters ({kind} "
            "among them): a parameter left out is never trained"
        )


def _set(neuron: Any, weights: Sequence[float], bias: float, what: str) -> list[Any]:
    """Give a neuron known weights and bias; its parameter nodes, the weights then the bias."""
    w, b = getattr(neuron, "w", None), getattr(neuron, "b", None)
    if not isinstance(w, list) or len(w) != len(weights) or not hasattr(b, "data"):
        raise NamedMistake(
            f"{what} should keep its {len(weights)} weights in self.w (a list of nodes) and its "
            "bias in self.b, as the __init__ given in the exercise makes them"
        )
    for node, value in zip(w, weights, strict=True):
        node.data = float(value)
    b.data = float(bias)
    return [*w, b]


def _output(out: Any, what: str) -> float:
    """The number a neuron's output node holds, or a NamedMistake saying what came back."""
    if out is None:
        raise NothingReturned(
            f"calling {what} returned None: did you forget to `return` the output node?"
        )
    if isinstance(out, list | tuple):
        raise NamedMistake(
            f"calling {what} returned {with_article(type(out).__name__)}: a neuron returns one node"
        )
    if not is_finite_number(getattr(out, "data", None)):
        raise NamedMistake(
            f"calling {what} returned {shown_briefly(out)}: it must return a node of the engine"
        )
    return float(out.data)


def _outputs(out: Any, n: int, what: str, unit: str) -> list[float]:
    """The numbers of a layer's (or an MLP's) list of output nodes."""
    if out is None:
        raise NothingReturned(
            f"calling {what} returned None: did you forget to `return` the list of outputs?"
        )
    if not isinstance(out, list | tuple):
        generator = " (a list, not a generator)" if inspect.isgenerator(out) else ""
        raise NamedMistake(
            f"calling {what} returned {with_article(type(out).__name__)}: return a list of the "
            f"output nodes{generator}"
        )
    if len(out) != n:
        raise NamedMistake(
            f"calling {what} returned {len(out)} nodes; it has {n} {unit}, one output each"
        )
    return [_output(o, "a neuron") for o in out]


def _grads(params: list[Any]) -> np.ndarray:
    """Every parameter's gradient (``None``, course_lib's "no path to the output", is 0)."""
    grads = []
    for p in params:
        g = 0.0 if p.grad is None else p.grad
        if not is_finite_number(g):
            raise NamedMistake(
                f"after backward(), a parameter's grad is {shown_briefly(g)}: a number belongs "
                "there"
            )
        grads.append(float(g))
    return np.array(grads)


def _reference(layers: list[Weights], x: list[float]) -> tuple[list[float], list[float]]:
    """course_lib's MLP with these weights on ``x``: its outputs, and the gradient of its first
    output with respect to every parameter (layer by layer, neuron by neuron, the weights then
    the bias)."""
    sizes = [len(layer) for layer in layers]
    mlp = scalar_mlp.MLP(len(layers[0][0][0]), sizes, np.random.default_rng(0))
    for layer, given in zip(mlp.layers, layers, strict=True):
        for neuron, (weights, bias) in zip(layer.neurons, given, strict=True):
            _set(neuron, weights, bias, "course_lib's neuron")
    out = mlp(x)
    out[0].backward()
    return [o.data for o in out], [0.0 if p.grad is None else p.grad for p in mlp.parameters()]


def _draw(rng: np.random.Generator, n_in: int, n_out: int) -> Weights:
    return [
        (
            [round(float(v), 2) for v in rng.uniform(-1, 1, n_in)],
            round(float(rng.uniform(-0.5, 0.5)), 2),
        )
        for _ in range(n_out)
    ]


def _neuron_case() -> Case:
    weights, bias = [0.5, -1.0, 0.25], 0.1
    x = [1.0, 2.0, -1.5]
    outs, grads = _reference([[(weights, bias)]], x)
    linear = bias + sum(w * v for w, v in zip(weights, x, strict=True))
    no_bias = math.tanh(linear - bias)

    def run(classes: tuple[type, ...]) -> dict[str, np.ndarray]:
        _written(classes, 0)
        name = classes[0].__name__
        neuron = classes[0](3, np.random.default_rng(0))
        params = _set(neuron, weights, bias, f"{name}(3, rng)")
        _check_parameters(neuron, params, name)
        out = neuron(x)
        value = _output(out, f"{name}(3, rng)")
        out.backward()
        return {"outputs": np.array([value]), "gradients": _grads(params)}

    return Case(
        f"one neuron of 3 inputs, w = {weights}, b = {bias}, on x = {x}",
        {},
        {"outputs": np.array(outs), "gradients": np.array(grads)},
        mistakes=[
            (np.array([linear]), "outputs", "the output is b + w·x itself: the tanh is missing"),
            (np.array([no_bias]), "outputs", "the bias is missing from the neuron's sum"),
            (
                np.array([no_bias + bias]),
                "outputs",
                "the bias is added after the tanh; it belongs inside, with the weighted inputs",
            ),
        ],
        run=run,
        errors=[MATH_NOT_IMPORTED],
    )


def _layer_case(rng: np.random.Generator) -> Case:
    given = _draw(rng, 2, 3)
    x = [0.5, -1.0]
    outs, grads = _reference([given], x)

    def run(classes: tuple[type, ...]) -> dict[str, np.ndarray]:
        _written(classes, 1)
        what = f"{classes[1].__name__}(2, 3, rng)"
        layer = classes[1](2, 3, np.random.default_rng(0))
        neurons = getattr(layer, "neurons", None)
        if not isinstance(neurons, list) or len(neurons) != 3:
            raise NamedMistake(
                f"{what} should keep its 3 neurons in self.neurons, as the __init__ given in "
                "the exercise makes them"
            )
        params = [p for (w, b), n in zip(given, neurons, strict=True) for p in _set(n, w, b, what)]
        _check_parameters(layer, params, classes[1].__name__)
        out = layer(x)
        values = _outputs(out, 3, what, "neurons")
        out[0].backward()
        return {"outputs": np.array(values), "gradients": _grads(params)}

    return Case(
        f"a layer of 3 neurons on x = {x} (the gradients of its first output)",
        {},
        {"outputs": np.array(outs), "gradients": np.array(grads)},
        run=run,
        errors=[MATH_NOT_IMPORTED],
    )


def _mlp_case(rng: np.random.Generator) -> Case:
    sizes = [3, 2, 1]
    widths = [2, *sizes]
    given = [_draw(rng, a, b) for a, b in zip(widths, sizes, strict=False)]
    x = [0.3, -0.7]
    outs, grads = _reference(given, x)
    fed_x: list[float] = []
    for layer in given:  # each layer given x itself (zip stops at the shorter list)
        fed_x = [math.tanh(b + sum(w * v for w, v in zip(ws, x, strict=False))) for ws, b in layer]

    def run(classes: tuple[type, ...]) -> dict[str, np.ndarray]:
        _written(classes, 2)
        what = f"{classes[2].__name__}(2, {sizes}, rng)"
        mlp = classes[2](2, list(sizes), np.random.default_rng(0))
        layers = getattr(mlp, "layers", None)
        if not isinstance(layers, list | tuple):
            raise NamedMistake(f"{what} has no list self.layers: keep its layers there")
        if len(layers) != len(sizes):
            raise NamedMistake(
                f"{what} has {len(layers)} layers; sizes asks for {len(sizes)}: one layer per "
                "entry of sizes"
            )
        params = []
        for i, (layer, weights) in enumerate(zip(layers, given, strict=True)):
            neurons = getattr(layer, "neurons", None)
            if not isinstance(neurons, list) or len(neurons) != sizes[i]:
                has = len(neurons) if isinstance(neurons, list) else "no list of"
                raise NamedMistake(
                    f"layer {i + 1} of {what} should have {sizes[i]} neurons (sizes[{i}]); it "
                    f"has {has} neurons"
                )
            for neuron in neurons:
                n_in = len(getattr(neuron, "w", []))
                if n_in != widths[i]:
                    before = "the MLP's 2 inputs" if i == 0 else f"layer {i}'s {widths[i]} neurons"
                    raise NamedMistake(
                        f"the neurons of layer {i + 1} take {n_in} inputs, but they follow "
                        f"{before}: a layer takes as many inputs as the one before it gives"
                    )
            params += [
                p for (w, b), n in zip(weights, neurons, strict=True) for p in _set(n, w, b, what)
            ]
        _check_parameters(mlp, params, classes[2].__name__)
        out = mlp(x)
        values = _outputs(out, 1, what, "neuron in its last layer")
        out[0].backward()
        return {"outputs": np.array(values), "gradients": _grads(params)}

    return Case(
        f"an MLP 2 → 3 → 2 → 1 on x = {x} (the gradients of its output)",
        {},
        {"outputs": np.array(outs), "gradients": np.array(grads)},
        mistakes=[
            (
                np.array(fed_x),
                "outputs",
                "every layer was given the MLP's input x: each layer takes the outputs of the "
                "layer before it",
            )
        ],
        run=run,
        errors=[MATH_NOT_IMPORTED],
    )


def _network_cases(rng: np.random.Generator) -> list[Case]:
    return [_neuron_case(), _layer_case(rng), _mlp_case(rng)]


def check_network(neuron: Any, layer: Any, mlp: Any, seed: int = 0) -> ExerciseReport:
    """Check the learner's neuron, layer and MLP classes: one neuron of 3 inputs, a layer of 3
    neurons, and an MLP 2 → 3 → 2 → 1, each with known weights, on the engine the classes use.
    ``seed`` draws the layer's and the MLP's weights (the notebook keeps the default). Never
    raises because of the classes."""
    classes = (neuron, layer, mlp)
    name = ", ".join(getattr(c, "__name__", "?") for c in classes)
    if not all(inspect.isclass(c) for c in classes):
        return ExerciseReport(
            name,
            "error",
            "check_network needs your three classes themselves: "
            "check_network(MyNeuron, MyLayer, MyMLP)",
        )
    exercise = Exercise(
        name,
        f"classes {name}",
        ("outputs", "gradients"),
        _network_cases,
        depends={"gradients": "outputs"},
        rule=NETWORK_RULE,
    )
    return run_exercise(exercise, classes, seed)


# ---- the training step --------------------------------------------------------------------------

STEP_RULE = (
    "first set every parameter's grad to 0 (this engine adds into grad); then the loss, "
    "backward(), and move every parameter against its gradient, data ← data − lr · grad; "
    "return the loss's number (its data)."
)
STEP_SIZES, STEP_LR, STEPS = [3, 1], 0.3, 3

GROWS = (
    "gradients not reset between steps (they grow): step 1 is right, but from step 2 on each "
    "parameter moved by its gradients of every step so far added up, because this engine adds "
    "into .grad on every backward(). Look at what .grad holds when your step calls backward()"
)


class AccumulatingValue:
    """The checker's engine with micrograd's and PyTorch's convention: ``grad`` starts at 0.0
    and ``backward()`` adds into it, until something resets it. Its ops are course_lib's op
    table (``OPS``); its backward pass is course_lib's (:func:`backpropagate`), whose fresh
    gradients are then added to what each node held."""

    __slots__ = ("data", "grad", "parents", "partials", "op")
    __array_ufunc__ = None

    def __init__(
        self, data: float, parents: tuple = (), partials: tuple = (), op: str = ""
    ) -> None:
        self.data, self.grad = float(data), 0.0
        self.parents, self.partials, self.op = parents, partials, op

    @staticmethod
    def _apply(op: Op, *inputs: Any) -> AccumulatingValue:
        nodes = tuple(
            x if isinstance(x, AccumulatingValue) else AccumulatingValue(x) for x in inputs
        )
        out, partials = op.compute(*(n.data for n in nodes))
        return AccumulatingValue(out, nodes, partials, op.name)

    def __add__(self, other: Any) -> AccumulatingValue:
        return self._apply(OPS["+"], self, other)

    def __radd__(self, other: Any) -> AccumulatingValue:
        return self._apply(OPS["+"], other, self)

    def __mul__(self, other: Any) -> AccumulatingValue:
        return self._apply(OPS["*"], self, other)

    def __rmul__(self, other: Any) -> AccumulatingValue:
        return self._apply(OPS["*"], other, self)

    def __neg__(self) -> AccumulatingValue:
        return self._apply(OPS["neg"], self)

    def __sub__(self, other: Any) -> AccumulatingValue:
        return self + (
            -(other if isinstance(other, AccumulatingValue) else AccumulatingValue(other))
        )

    def __pow__(self, k: float) -> AccumulatingValue:
        return self._apply(power(float(k)), self)

    def tanh(self) -> AccumulatingValue:
        return self._apply(OPS["tanh"], self)

    def exp(self) -> AccumulatingValue:
        return self._apply(OPS["exp"], self)

    def local_backward(self, upstream: float) -> list[float]:
        return [upstream * p for p in self.partials]

    def backward(self) -> None:
        order = topological_order(self)
        held = [node.grad for node in order]
        backpropagate(self, 1.0, zero=lambda node: 0.0)
        for node, before in zip(order, held, strict=True):
            node.grad = before + node.grad  # a grad reset to None cannot be added to


def _step_data() -> tuple[list[list[float]], list[float]]:
    X, y = two_moons(6, noise=0.1, seed=3)
    return [[float(a), float(b)] for a, b in X], [float(t) for t in y]


def _steps_taken(variant: str) -> tuple[list[float], list[float]]:
    """Three steps on course_lib's engine, taken right (``"right"``) or with one slip:
    ``"grows"`` (no reset), ``"twice"`` (backward() twice a step), ``"ascent"``, ``"no lr"``,
    ``"frozen"``: (losses, parameters)."""
    xs, ys = _step_data()
    model = scalar_mlp.MLP(2, STEP_SIZES, np.random.default_rng(7))
    params = model.parameters()
    held = [0.0] * len(params)
    losses = []
    for _ in range(STEPS):
        loss = scalar_mlp.mean_squared_error(model, xs, ys)
        loss.backward()  # course_lib's engine: fresh gradients every time
        losses.append(loss.data)
        grads = [p.grad for p in params]
        if variant == "grows":
            held = [h + g for h, g in zip(held, grads, strict=True)]
            grads = held
        if variant == "twice":
            grads = [2 * g for g in grads]
        if variant == "frozen":
            continue
        rate = {"no lr": 1.0, "ascent": -STEP_LR}.get(variant, STEP_LR)
        for p, g in zip(params, grads, strict=True):
            p.data = p.data - rate * g
    return losses, [p.data for p in params]


_STEP_SLIPS = (
    ("grows", GROWS),
    (
        "ascent",
        "the parameters moved up their gradients, so the loss grows: look at the sign of "
        "your update",
    ),
    (
        "no lr",
        "each parameter moved by its whole gradient: the learning rate lr is missing from "
        "your update",
    ),
    (
        "twice",
        "each step moved the parameters twice as far as lr × gradient: count the backward() "
        "calls in your step (this engine adds a second pass to the first) and look at the "
        "size of the update",
    ),
    (
        "frozen",
        "the parameters did not move: look at what their .grad holds at the moment you update "
        "them, and at what your update changes (each parameter's data, in place)",
    ),
)


def _step_cases(rng: np.random.Generator) -> list[Case]:
    xs, ys = _step_data()
    losses, params = _steps_taken("right")
    mistakes = []
    for variant, why in _STEP_SLIPS:
        wrong_losses, wrong_params = _steps_taken(variant)
        mistakes += [
            (np.array(wrong_losses), "losses", why),
            (np.array(wrong_params), "parameters", why),
        ]

    def run(fn: Callable) -> dict[str, np.ndarray]:
        model = scalar_mlp.MLP(2, STEP_SIZES, np.random.default_rng(7), engine=AccumulatingValue)
        returned = []
        for step in range(STEPS):
            value = fn(model, xs, ys, STEP_LR)
            if value is None:
                raise NothingReturned(
                    f"{fn.__name__} returned None: return the loss's number (the training "
                    "loop prints and plots it)"
                )
            if value is ...:
                raise NotImplementedError
            if hasattr(value, "data") and not isinstance(value, np.ndarray):
                raise NamedMistake(
                    f"{fn.__name__} returned the loss node: return its number, its .data"
                )
            if not is_finite_number(value):
                raise NamedMistake(
                    f"step {step + 1} returned {shown_briefly(value)}: return the loss's number"
                )
            returned.append(float(value))
        return {
            "losses": np.array(returned),
            "parameters": np.array([p.data for p in model.parameters()]),
        }

    return [
        Case(
            f"{STEPS} steps with lr = {STEP_LR} on an MLP 2 → 3 → 1 and 6 points of two moons, "
            "on an engine that adds into .grad",
            {},
            {"losses": np.array(losses), "parameters": np.array(params)},
            mistakes=mistakes,
            run=run,
            errors=[
                (
                    lambda e: isinstance(e, TypeError) and "NoneType" in str(e),
                    "a gradient was set to None: this engine adds into .grad, so a reset must "
                    "leave a number to add to",
                ),
                (
                    lambda e: isinstance(e, AttributeError) and "zero_grad" in str(e),
                    "the model has no zero_grad(): reset each of model.parameters() yourself",
                ),
                MATH_NOT_IMPORTED,
            ],
        )
    ]


def check_training_step(fn: Any, seed: int = 0) -> ExerciseReport:
    """Check the learner's ``fn(model, xs, ys, lr)`` (one step of gradient descent on
    ``mean_squared_error``): three calls on an MLP 2 → 3 → 1 built on an engine that adds into
    ``grad`` must give the losses and parameters of three steps taken with fresh gradients.
    Names a step that never resets the gradients (they grow), one that climbs, forgets the
    learning rate, or moves nothing. Never raises because of ``fn``."""
    exercise = Exercise(
        getattr(fn, "__name__", "my_training_step"),
        "my_training_step(model, xs, ys, lr)",
        ("losses", "parameters"),
        _step_cases,
        rule=STEP_RULE,
    )
    return run_exercise(exercise, fn, seed)
