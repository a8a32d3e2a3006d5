"""Endless hand-trace practice: a fresh small graph from a seed, with its answer key.

``practice_graph(seed)`` draws a graph of 3 to 6 *operation nodes* (the nodes a learner traces
a local rule through; the 2 to 4 inputs come in addition) using the ops ``+``, ``*``,
``sigmoid`` and ``exp``. Inputs are small friendly numbers (halves and small integers). With
``fan_out=True`` (the default) at least one node feeds two or more later nodes, so its
gradient is a sum at a join; with ``fan_out=False`` the graph is a tree and no node does.

The answer key holds, for every node n, the forward value and dL/dn with L = f the output,
computed by the course's engine (``Value.backward()``) and verified against central
differences by nudging that node alone and re-running everything downstream of it:

    dL/dn ≈ (L(n + h) - L(n - h)) / (2h)

``practice_sheet(seed)`` prints a sheet as text: a different graph for every seed, so an
instructor can hand each student their own sheet, and the same seed always gives the same one.
From a shell, one sheet per seed, separated by form feeds (a new page when printed)::

    python -m course_lib.practice 101 102 103            # the sheets for three students
    python -m course_lib.practice 101 102 103 --answers  # the same sheets with their keys
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass

from course_lib.scalar import Value

__all__ = ["LOCAL_RULES", "PracticeGraph", "Step", "practice_graph", "practice_sheet"]

OPS = ("+", "*", "sigmoid", "exp")
LOCAL_RULES = "d(u+v)/du = 1; d(u*v)/du = v; dσ(u)/du = σ(u)(1 - σ(u)); d e^u/du = e^u."
MIN_NODES, MAX_NODES = 3, 6
INPUT_NAMES = ("x", "y", "z", "w")
STEP_NAMES = ("a", "b", "c", "d", "e")  # intermediate nodes; the output is always "f"
FRIENDLY = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0)

# Limits that keep every number on the sheet small enough to work out on paper.
_MAX_EXP_INPUT = 2.0  # e^2 ≈ 7.39 and e^-2 ≈ 0.135
_MAX_SIGMOID_INPUT = 4.0  # past that, σ'(a) is nearly 0 and teaches little
_MAX_ABS_VALUE = 20.0
_MAX_ABS_GRAD = 30.0
_MIN_ABS_GRAD = 1e-3
_ATTEMPTS = 10_000

_H = 1e-6
_RTOL, _ATOL = 1e-6, 1e-8


@dataclass(frozen=True)
class Step:
    """One operation node: ``name = op(operands)``, the operands named by earlier nodes."""

    name: str
    op: str
    operands: tuple[str, ...]

    def formula(self) -> str:
        if self.op in ("+", "*"):
            return f"{self.operands[0]} {self.op} {self.operands[1]}"
        return f"{self.op}({self.operands[0]})"


@dataclass(frozen=True)
class PracticeGraph:
    """A practice graph and its answer key.

    ``inputs`` pairs each input's name with its value; ``steps`` lists the operation nodes in
    forward order (the last one, ``f``, is the output). ``values``, ``grads`` (dL/dn, L = f) and
    ``partials`` (for each step, d(step)/d(operand) in operand order) form the answer key.
    """

    seed: int
    inputs: tuple[tuple[str, float], ...]
    steps: tuple[Step, ...]
    values: dict[str, float]
    grads: dict[str, float]
    partials: dict[str, tuple[float, ...]]

    @property
    def size(self) -> int:
        """The number of operation nodes (3 to 6)."""
        return len(self.steps)

    @property
    def names(self) -> tuple[str, ...]:
        """Every node's name, inputs first, in forward order."""
        return tuple(name for name, _ in self.inputs) + tuple(s.name for s in self.steps)

    def consumers(self, name: str) -> tuple[str, ...]:
        """The nodes that take ``name`` as an operand, in forward order."""
        self._known(name)
        return tuple(s.name for s in self.steps if name in s.operands)

    def fan_out_nodes(self) -> tuple[str, ...]:
        """The nodes that feed two or more later nodes (their gradients sum at a join)."""
        return tuple(n for n in self.names if len(self.consumers(n)) >= 2)

    def build(self) -> Value:
        """A fresh ``Value`` graph with every node labelled by its name; returns the output.

        Gradients are not computed yet (``grad`` is ``None``): call ``backward()`` on it, or
        hand it to a widget. Each call builds a new graph, so nothing is shared between uses.
        """
        nodes = _forward(self.inputs, self.steps)
        return nodes[self.steps[-1].name]

    def nudged_output(self, name: str, delta: float) -> float:
        """The output's value when node ``name``'s output is moved by ``delta``.

        Everything downstream of ``name`` is recomputed from the moved value; ``name``'s own
        inputs are not touched. So for a small ``h``,

            (nudged_output(n, h) - nudged_output(n, -h)) / (2h) ≈ dL/dn,

        the upstream gradient at ``n`` measured directly: how much the output moves per unit
        nudge of that node. ``delta = 0`` gives the output's value itself.
        """
        self._known(name)
        delta = float(delta)
        return _forward(self.inputs, self.steps, (name, delta))[self.steps[-1].name].data

    def answer_key(self) -> str:
        """The answer key as a text table: value, local partials and dL/dn for every node."""
        width = max(len(s.formula()) for s in self.steps) + 2
        lines = [
            f"{'node':<6}{'made by':<{width}}{'value':>10}{'local partials':>34}{'df/dnode':>12}"
        ]
        for name, value in self.inputs:
            lines.append(
                f"{name:<6}{'input':<{width}}{value:>10.4f}{'':>34}{self.grads[name]:>12.4f}"
            )
        for step in self.steps:
            local = ", ".join(
                f"d{step.name}/d{operand} = {p:.4f}"
                for operand, p in zip(step.operands, self.partials[step.name], strict=True)
            )
            lines.append(
                f"{step.name:<6}{step.formula():<{width}}{self.values[step.name]:>10.4f}"
                f"{local:>34}{self.grads[step.name]:>12.4f}"
            )
        for name in self.fan_out_nodes():
            users = self.consumers(name)
            lines.append(
                f"{name} feeds {', '.join(users)}: df/d{name} is the sum of {len(users)} paths."
            )
        return "\n".join(lines)

    def _known(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(f"this practice graph has no node named {name!r}; it has {self.names}")


def practice_graph(seed: int, size: int | None = None, fan_out: bool = True) -> PracticeGraph:
    """A random practice graph, the same one for the same arguments.

    ``size`` is the number of operation nodes, 3 to 6 (drawn from the seed when ``None``).
    ``fan_out=True`` asks for at least one node that feeds two or more later nodes;
    ``fan_out=False`` asks for a tree, where every node feeds exactly one.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an integer or None, got {type(size).__name__}")
        if not MIN_NODES <= size <= MAX_NODES:
            raise ValueError(
                f"size counts operation nodes and must be {MIN_NODES} to {MAX_NODES}, got {size}"
            )
    if not isinstance(fan_out, bool):
        raise TypeError(f"fan_out must be True or False, got {fan_out!r}")
    rng = random.Random(seed)
    n_ops = size if size is not None else rng.randint(MIN_NODES, MAX_NODES)
    for _ in range(_ATTEMPTS):
        candidate = _draw(rng, n_ops, fan_out)
        if candidate is None:
            continue
        inputs, steps = candidate
        if _has_fan_out(inputs, steps) != fan_out:
            continue
        graph = _solve(seed, inputs, steps)
        if graph is not None:
            return graph
    raise RuntimeError(  # not reached for sizes 3-6 (the tests draw thousands of seeds)
        f"no practice graph of {n_ops} nodes (fan_out={fan_out}) found for seed {seed}"
    )


def practice_sheet(
    seed: int, size: int | None = None, fan_out: bool = True, answers: bool = False
) -> str:
    """A printable practice sheet for ``seed``; with ``answers=True`` the key follows it."""
    graph = practice_graph(seed, size, fan_out)
    inputs = ", ".join(f"{name} = {_friendly(value)}" for name, value in graph.inputs)
    out = graph.steps[-1].name
    lines = [
        f"Tiny Graphs First: practice sheet {seed}",
        "",
        f"Inputs: {inputs}",
        "",
        "The graph (each line is one node; compute them in this order):",
        *(f"    {s.name} = {s.formula()}" for s in graph.steps),
        "",
        f"Local rules: {LOCAL_RULES}",
        "",
        "1. Forward: the value of every node, to 4 decimals.",
        "2. Local partials: for each line, d(node)/d(each operand).",
        f"3. Backward: d{out}/d(node) for every node, from {out} back to the inputs.",
        "   Upstream times local partial; a node feeding several lines sums their contributions.",
    ]
    if answers:
        lines += ["", "-" * 30 + " answer key " + "-" * 30, graph.answer_key()]
    return "\n".join(lines) + "\n"


# ---- drawing and solving -------------------------------------------------------------


def _draw(
    rng: random.Random, n_ops: int, fan_out: bool
) -> tuple[tuple[tuple[str, float], ...], tuple[Step, ...]] | None:
    """One random candidate: inputs and steps in which every node reaches the output.

    ``pending`` holds the nodes no step has used yet; they must all be used by the end, so
    exactly one (the output) is left. A binary op takes two different nodes, at least one of
    them pending; a unary op takes a pending node. For a tree every operand is pending, so
    a tree with k inputs has k - 1 binary ops.
    """
    if fan_out:
        n_inputs = rng.choice((2, 3))
        n_binary = rng.randint(max(n_inputs - 1, 1), n_ops)
    else:
        n_inputs = rng.choice([k for k in (2, 3, 4) if k - 1 <= n_ops - 1 or k == 2])
        n_binary = n_inputs - 1
    kinds = ["binary"] * n_binary + ["unary"] * (n_ops - n_binary)
    rng.shuffle(kinds)
    inputs = tuple((INPUT_NAMES[i], rng.choice(FRIENDLY)) for i in range(n_inputs))
    pending = [name for name, _ in inputs]
    used: list[str] = []
    names = [*STEP_NAMES[: n_ops - 1], "f"]
    steps = []
    for name, kind in zip(names, kinds, strict=True):
        if kind == "binary":
            if not pending or len(pending) + len(used) < 2:
                return None
            first = rng.choice(pending)
            others = [n for n in pending + (used if fan_out else []) if n != first]
            if not others:
                return None
            operands = (first, rng.choice(others))
            if rng.random() < 0.5:
                operands = operands[::-1]
            steps.append(Step(name, rng.choice(("+", "*")), operands))
        else:
            pool = pending if pending else []
            if not pool:
                return None
            operands = (rng.choice(pool),)
            steps.append(Step(name, rng.choice(("sigmoid", "exp")), operands))
        for operand in operands:
            if operand in pending:
                pending.remove(operand)
                used.append(operand)
        pending.append(name)
    if pending != [names[-1]]:
        return None  # a node that no later node uses: a dead branch
    return inputs, tuple(steps)


def _has_fan_out(inputs: tuple[tuple[str, float], ...], steps: tuple[Step, ...]) -> bool:
    counts: dict[str, int] = {}
    for s in steps:
        for operand in s.operands:
            counts[operand] = counts.get(operand, 0) + 1
    return any(c >= 2 for c in counts.values())


def _forward(
    inputs: tuple[tuple[str, float], ...],
    steps: tuple[Step, ...],
    nudge: tuple[str, float] | None = None,
) -> dict[str, Value]:
    """Build the graph with ``Value`` ops; ``nudge`` adds a small number to one node's value.

    A nudged node keeps its parents' values but passes ``value + delta`` downstream, which is
    exactly what dL/d(node) measures.
    """
    nodes: dict[str, Value] = {}
    for name, value in inputs:
        nodes[name] = Value(value, label=name)
        if nudge is not None and nudge[0] == name:
            nodes[name] = Value(value + nudge[1], label=name)
    for step in steps:
        args = [nodes[o] for o in step.operands]
        if step.op == "+":
            node = args[0] + args[1]
        elif step.op == "*":
            node = args[0] * args[1]
        elif step.op == "sigmoid":
            node = args[0].sigmoid()
        else:
            node = args[0].exp()
        node.named(step.name)
        if nudge is not None and nudge[0] == step.name:
            node = Value(node.data + nudge[1], label=step.name)
        nodes[step.name] = node
    return nodes


def _solve(
    seed: int, inputs: tuple[tuple[str, float], ...], steps: tuple[Step, ...]
) -> PracticeGraph | None:
    """Run forward and backward; ``None`` when the numbers are not friendly enough."""
    try:
        nodes = _forward(inputs, steps)
    except OverflowError:  # exp of a huge number: far from friendly anyway
        return None
    for step in steps:
        operand = nodes[step.operands[0]].data
        if step.op == "exp" and abs(operand) > _MAX_EXP_INPUT:
            return None
        if step.op == "sigmoid" and abs(operand) > _MAX_SIGMOID_INPUT:
            return None
    out = nodes[steps[-1].name]
    out.backward()
    values = {name: node.data for name, node in nodes.items()}
    grads = {name: float(node.grad) for name, node in nodes.items()}
    if any(abs(v) > _MAX_ABS_VALUE for v in values.values()):
        return None
    if any(not _MIN_ABS_GRAD <= abs(g) <= _MAX_ABS_GRAD for g in grads.values()):
        return None
    for name in nodes:  # the key is verified, not just computed
        numerical = _finite_difference(inputs, steps, name)
        if not math.isclose(grads[name], numerical, rel_tol=_RTOL, abs_tol=_ATOL):
            raise AssertionError(
                f"practice seed {seed}: backward() gives d{steps[-1].name}/d{name} = "
                f"{grads[name]} but finite differences give {numerical}"
            )
    partials = {s.name: tuple(nodes[s.name].partials) for s in steps}
    return PracticeGraph(seed, inputs, steps, values, grads, partials)


def _finite_difference(
    inputs: tuple[tuple[str, float], ...], steps: tuple[Step, ...], name: str, h: float = _H
) -> float:
    """dL/d(name) by central differences, nudging only that node (float64)."""
    out = steps[-1].name
    up = _forward(inputs, steps, (name, h))[out].data
    down = _forward(inputs, steps, (name, -h))[out].data
    return (up - down) / (2.0 * h)


def _friendly(x: float) -> str:
    return str(int(x)) if x.is_integer() else f"{x:g}"


def main(argv: list[str] | None = None) -> int:
    """Print one practice sheet per seed (``python -m course_lib.practice SEED ...``)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.practice",
        description="Print hand-trace practice sheets, one per seed (a form feed between them).",
    )
    parser.add_argument("seeds", nargs="+", type=int, help="one integer seed per sheet")
    parser.add_argument("--size", type=int, default=None, help="operation nodes, 3 to 6")
    parser.add_argument("--tree", action="store_true", help="no fan-out (every node used once)")
    parser.add_argument("--answers", action="store_true", help="add each sheet's answer key")
    args = parser.parse_args(argv)
    try:
        sheets = [
            practice_sheet(seed, args.size, fan_out=not args.tree, answers=args.answers)
            for seed in args.seeds
        ]
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    sys.stdout.write("\f".join(sheets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
