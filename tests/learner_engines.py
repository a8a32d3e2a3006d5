"""A learner's engine for notebook 10, right and with every listed slip: the code the tests of
``course_lib.teaching.engine_check`` and ``network_check`` submit, and the learner simulation of
notebook 10 too.

``SOLUTIONS`` holds the code of each exercise's Solution block in the notebook, line for line
(``tests/test_notebook_10.py`` holds the notebook to it); ``SLIPS`` lists, for each exercise, the
mistakes learners make as edits of that code: ``(name, old, new, words)``, where ``old`` is
replaced by ``new`` (``old`` is ``None`` for code appended after the solution, which then
redefines a function) and ``words`` is what the feedback must say. :func:`define` runs code as a
notebook cell does (its source registered, so the checker can read it).
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable
from typing import Any

ENGINE = '''import math  # at the top of the cell


class MyValue:
    """A scalar node: its number, its gradient, and how it was made."""

    def __init__(self, data, parents=(), partials=()):
        self.data = float(data)  # the forward value
        self.grad = 0.0  # dL/d(this node): nothing has flowed back yet
        self.parents = parents  # the nodes it was computed from, in order
        self.partials = partials  # d(this)/d(parent) for each parent, in the same order

    def __repr__(self):
        return f"MyValue(data={self.data:.4g}, grad={self.grad:.4g})"

    # ---- the five ops ----------------------------------------------------------------
    def __add__(self, other):
        """self + other (a plain number other becomes a node first: MyValue(other))."""
        other = other if isinstance(other, MyValue) else MyValue(other)
        return MyValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        """self * other (a plain number other becomes a node first)."""
        other = other if isinstance(other, MyValue) else MyValue(other)
        return MyValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        """self ** k, for a plain number k."""
        return MyValue(self.data**k, (self,), (k * self.data ** (k - 1),))

    def tanh(self):
        """tanh(self)."""
        out = math.tanh(self.data)
        return MyValue(out, (self,), (1 - out**2,))

    def exp(self):
        """e ** self."""
        out = math.exp(self.data)
        return MyValue(out, (self,), (out,))

    # ---- built from the five ops (given) ---------------------------------------------
    def __neg__(self):  # -self
        return self * -1.0

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __radd__(self, other):  # other + self, for a plain number other
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __rsub__(self, other):  # other - self
        return (-self) + other

    def backward(self):
        """d self / d node into every node's .grad: my_backward (section 3) does the work."""
        my_backward(self)
'''

ORDER = '''def my_topological_order(root):
    """Every node root depends on, each once, each after all of its parents (root last)."""
    order, placed = [], set()
    stack = [(root, False)]  # (node, are its parents placed?): nodes still to visit
    while stack:
        node, parents_placed = stack.pop()
        if node in placed:
            continue  # reached again along another path: already in the order
        if parents_placed:
            placed.add(node)
            order.append(node)
            continue
        stack.append((node, True))  # back to this node once its parents are placed ...
        for parent in node.parents:
            if parent not in placed:
                stack.append((parent, False))  # ... which are visited first
    return order
'''

BACKWARD = '''def my_backward(root):
    """Add d root / d node into every node's .grad, from the output back to the inputs."""
    order = my_topological_order(root)
    root.grad = 1.0  # the seed: dL/dL
    for node in reversed(order):  # every consumer of a node comes before it
        for parent, partial in zip(node.parents, node.partials):
            parent.grad += node.grad * partial  # upstream × local partial, summed at joins
'''

NETWORK = '''class MyNeuron:
    """One tanh unit: out = tanh(b + w · x)."""

    def __init__(self, n_in, rng):
        self.w = [Engine(rng.uniform(-1, 1)) for _ in range(n_in)]  # a weight per input
        self.b = Engine(0.0)  # the bias

    def __call__(self, x):
        """x: a list of n_in numbers or nodes. Returns the output node."""
        total = self.b
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        return total.tanh()

    def parameters(self):
        """Every node a training step moves: the weights and the bias, in one list."""
        return self.w + [self.b]


class MyLayer:
    """n_out neurons, each on the same input."""

    def __init__(self, n_in, n_out, rng):
        self.neurons = [MyNeuron(n_in, rng) for _ in range(n_out)]

    def __call__(self, x):
        """Returns the list of the neurons' outputs."""
        return [neuron(x) for neuron in self.neurons]

    def parameters(self):
        """Every weight and bias of its neurons, in one flat list."""
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MyMLP:
    """Layers of widths sizes, one after another: MyMLP(2, [8, 1], rng) is 2 → 8 → 1."""

    def __init__(self, n_in, sizes, rng):
        """Keep the layers, in order, in the list self.layers."""
        widths = [n_in] + list(sizes)
        self.layers = [MyLayer(widths[i], widths[i + 1], rng) for i in range(len(sizes))]

    def __call__(self, x):
        """Returns the last layer's list of outputs."""
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        """Every weight and bias of its layers, in one flat list."""
        return [p for layer in self.layers for p in layer.parameters()]
'''

STEP = '''def my_training_step(model, xs, ys, lr):
    """One step of gradient descent on mean_squared_error(model, xs, ys); the loss's number."""
    for p in model.parameters():
        p.grad = 0.0  # this engine adds into .grad: start every step from 0
    loss = mean_squared_error(model, xs, ys)
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad  # a step against the gradient
    return loss.data
'''

SOLUTIONS = {"ops": ENGINE, "order": ORDER, "engine": BACKWARD, "network": NETWORK, "step": STEP}

RECURSIVE_ORDER = """
def my_topological_order(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order
"""

PREORDER = """
def my_topological_order(root):
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            order.append(node)
            stack.extend(node.parents)
    return order[::-1]
"""

BREADTH_FIRST_BACKWARD = """
def my_backward(root):
    root.grad = 1.0
    queue, seen = [root], {root}
    while queue:
        node = queue.pop(0)
        for parent, partial in zip(node.parents, node.partials):
            parent.grad += node.grad * partial
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
"""

UNVISITED_ORDER = """
def my_topological_order(root):
    order, stack = [], [(root, False)]
    while stack:
        node, ready = stack.pop()
        if ready:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.parents)
    return order
"""

# exercise -> (name, old, new, words the first feedback must contain)
SLIPS: dict[str, list[tuple[str, str | None, str, str]]] = {
    "ops": [
        (
            "multiply's partials not swapped",
            "(other.data, self.data))",
            "(self.data, other.data))",
            "∂(x·y)/∂x is not x",
        ),
        ("tanh's partial from its input", "(1 - out**2,)", "(1 - self.data**2,)", "1 − x²"),
        (
            "the power rule without k",
            "(k * self.data ** (k - 1),)",
            "(self.data ** (k - 1),)",
            "factor in front",
        ),
        (
            "exp's partial is its input",
            "MyValue(out, (self,), (out,))",
            "MyValue(out, (self,), (self.data,))",
            "that is x, the input",
        ),
        (
            "a plain number not wrapped",
            "        other = other if isinstance(other, MyValue) else MyValue(other)\n"
            "        return MyValue(self.data + other.data",
            "        return MyValue(self.data + other.data",
            "a plain number has no .data",
        ),
        (
            "a node stored as a partial",
            "(other.data, self.data))",
            "(other, self))",
            "store the number",
        ),
        (
            "no return",
            "return MyValue(self.data + other.data, (self, other), (1.0, 1.0))",
            "MyValue(self.data + other.data, (self, other), (1.0, 1.0))",
            "returned None",
        ),
    ],
    "order": [
        ("a recursive sort", None, RECURSIVE_ORDER, "RecursionError"),
        ("appended before its parents", None, PREORDER, "comes before its parent"),
        ("no set of placed nodes", None, UNVISITED_ORDER, "listed 2 times"),
        ("no return", "    return order\n", "", "returned None"),
        ("output first", "    return order\n", "    return order[::-1]\n", "starts at the output"),
        ("a one-pass iterator", "    return order\n", "    return iter(order)\n", "Return a list"),
    ],
    "engine": [
        (
            "= where += belongs",
            "parent.grad += node.grad * partial",
            "parent.grad = node.grad * partial",
            "fan-out gradients lost",
        ),
        (
            "the order not reversed",
            "for node in reversed(order):",
            "for node in order:",
            "visits a node before all of its consumers",
        ),
        (
            "a breadth-first walk",
            None,
            BREADTH_FIRST_BACKWARD,
            "visits a node before all of its consumers",
        ),
        ("no seed", "    root.grad = 1.0  # the seed: dL/dL\n", "", "nothing seeded"),
        (
            "seeded with the output's value",
            "root.grad = 1.0",
            "root.grad = root.data",
            "its value, not dL/dL",
        ),
        (
            "the partial left out",
            "parent.grad += node.grad * partial",
            "parent.grad += node.grad",
            "not multiplied by the local partials",
        ),
        (
            "the contributions subtracted",
            "parent.grad += node.grad * partial",
            "parent.grad -= node.grad * partial",
            "subtracted where they add up",
        ),
        (
            "the upstream left out",
            "parent.grad += node.grad * partial",
            "parent.grad += partial",
            "the upstream (the consumer's own gradient) is missing",
        ),
        (
            "the partial added to the upstream",
            "parent.grad += node.grad * partial",
            "parent.grad += node.grad + partial",
            "plus their local partials",
        ),
        (
            "the consumer's value as the upstream",
            "parent.grad += node.grad * partial",
            "parent.grad += node.data * partial",
            "the upstream is the consumer's gradient, not its value",
        ),
        (
            "the parent's gradient as the upstream",
            "parent.grad += node.grad * partial",
            "parent.grad += parent.grad * partial",
            "not the parent's, which is still 0",
        ),
        (
            "the gradients reset by backward",
            "    root.grad = 1.0  # the seed: dL/dL\n",
            "    for node in order:\n        node.grad = 0.0\n    root.grad = 1.0\n",
            "your backward resets the gradients",
        ),
        (
            "parents kept in a set",
            "for parent, partial in zip(node.parents, node.partials):",
            "for parent, partial in set(zip(node.parents, node.partials)):",
            "both inputs of one node",
        ),
    ],
    "network": [
        ("no tanh", "        return total.tanh()", "        return total", "tanh is missing"),
        (
            "no bias",
            "        total = self.b\n",
            "        total = 0.0\n",
            "bias is missing from the neuron's sum",
        ),
        (
            "the bias left out of parameters()",
            "return self.w + [self.b]",
            "return self.w",
            "a bias among them",
        ),
        (
            "nested parameters",
            "return [p for neuron in self.neurons for p in neuron.parameters()]",
            "return [neuron.parameters() for neuron in self.neurons]",
            "a list inside its list",
        ),
        (
            "every layer given x",
            "            x = layer(x)\n        return x",
            "            out = layer(x)\n        return out",
            "every layer was given the MLP's input",
        ),
        (
            "widths not chained",
            "MyLayer(widths[i], widths[i + 1], rng)",
            "MyLayer(n_in, widths[i + 1], rng)",
            "a layer takes as many inputs",
        ),
    ],
    "step": [
        (
            "no reset of the gradients",
            "    for p in model.parameters():\n"
            "        p.grad = 0.0  # this engine adds into .grad: start every step from 0\n",
            "",
            "gradients not reset between steps (they grow)",
        ),
        ("the gradients reset to None", "p.grad = 0.0", "p.grad = None", "set to None"),
        (
            "up the gradient",
            "p.data -= lr * p.grad",
            "p.data += lr * p.grad",
            "look at the sign of your update",
        ),
        (
            "no learning rate",
            "p.data -= lr * p.grad",
            "p.data -= p.grad",
            "learning rate lr is missing",
        ),
        (
            "the loss node returned",
            "    return loss.data",
            "    return loss",
            "returned the loss node",
        ),
    ],
}


def _blocks(source: str) -> dict[tuple[str, str], str]:
    """Each method (or top-level function) of ``source`` by (class, name): its whole text, up
    to the blank line after it."""
    found = {}
    owner = ""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("class "):
            owner = line.split()[1].split("(")[0].rstrip(":")
        for prefix, cls in (("    def ", owner), ("def ", "")):
            if line.startswith(prefix):
                name = line[len(prefix) :].split("(")[0]
                end = i + 1
                while end < len(lines) and (
                    lines[end].startswith(" " * (len(prefix) - 3)) and lines[end].strip()
                ):
                    end += 1
                found[(cls, name)] = "\n".join(lines[i:end])
    return found


def fill(skeleton: str, solution: str) -> str:
    """The exercise cell ``skeleton`` with each function or method the Solution block
    ``solution`` writes put in place of its placeholder, and the lines the Solution puts before
    its first class or function (an import) at the top: the cell as the Solution means it."""
    written = _blocks(solution)
    filled = skeleton
    for (cls, name), text in _blocks(skeleton).items():
        if (cls, name) in written:
            filled = filled.replace(text, written[(cls, name)], 1)
    head = solution.split("\nclass ")[0].split("\ndef ")[0]
    if not head.startswith(("class ", "def ")):
        filled = head.rstrip("\n") + "\n\n\n" + filled
    return filled


_cells = itertools.count()


def define(source: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run ``source`` in ``namespace`` as a notebook cell would (its text registered with
    linecache under a cell's name, so ``inspect.getsource`` finds it); return the namespace."""
    name = f"<notebook 10 cell {next(_cells)}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), namespace)  # noqa: S102 (a learner's cell, simulated)
    return namespace


def slipped(exercise: str, old: str | None, new: str) -> str:
    """The exercise's solution with one slip: ``old`` replaced by ``new``, or ``new`` appended."""
    source = SOLUTIONS[exercise]
    if old is None:
        return source + new
    if old not in source:
        raise ValueError(f"the solution of {exercise} no longer holds {old!r}")
    return source.replace(old, new, 1)


def learner(**replaced: str) -> dict[str, Any]:
    """A namespace holding a whole right engine, network and step (as the notebook does once
    every exercise is right), with some exercises' code replaced: ``learner(engine=code)``."""
    from course_lib.network.scalar_mlp import mean_squared_error

    namespace: dict[str, Any] = {"mean_squared_error": mean_squared_error}
    for exercise in ("ops", "order", "engine"):
        define(replaced.get(exercise, SOLUTIONS[exercise]), namespace)
    namespace["Engine"] = namespace["MyValue"]
    for exercise in ("network", "step"):
        define(replaced.get(exercise, SOLUTIONS[exercise]), namespace)
    return namespace


# Each exercise's Solution with its result left unreturned, two different ways: neither is an
# attempt (nothing to judge), so the rule still waits for two wrong versions that return.
UNRETURNED = {
    "ops": [
        ("return MyValue(self.data + other.data", "MyValue(self.data + other.data"),
        ("return MyValue(self.data + other.data", "node = MyValue(self.data + other.data"),
    ],
    "order": [("    return order", "    _ = order"), ("    return order", "    return None")],
    "network": [
        ("        return total.tanh()", "        total.tanh()"),
        ("        return total.tanh()", "        return None"),
    ],
    "step": [
        ("    return loss.data", "    loss.data"),
        ("    return loss.data", "    return None"),
    ],
}


def assert_unreturned_is_no_attempt(check: Callable[[dict[str, Any]], Any], exercise: str) -> None:
    """``check`` (a namespace's check of ``exercise``) names each unreturned version without
    counting it: the first wrong version that returns gets no rule, the second does."""
    for old, new in UNRETURNED[exercise]:
        report = check(learner(**{exercise: slipped(exercise, old, new)}))
        assert not report.ok and "returned None" in report.message, report
        assert report.rule == "" and not report.answered
    first, second = SLIPS[exercise][0], SLIPS[exercise][1]
    assert check(learner(**{exercise: slipped(exercise, *first[1:3])})).rule == ""
    assert check(learner(**{exercise: slipped(exercise, *second[1:3])})).rule
