"""Endless hand-trace practice: a fresh small graph from a seed, with its answer key.

``practice_graph(seed)`` (the sheet number, a whole number from 0) draws a graph of 3 to 6
*operation nodes* (the nodes a learner traces a local rule through; the 2 to 4 inputs come in
addition) using the ops ``+``, ``*``, ``sigmoid`` and ``exp`` of the scalar engine's op table
(:data:`course_lib.autodiff.scalar.OPS`), which also gives each line's formula and the local
rules printed on the sheet. Inputs are small friendly numbers (halves and small integers).
With ``fan_out=True`` (the default) at least one node feeds two or more later nodes, so its
gradient is a sum at a join; with ``fan_out=False`` the graph is a tree and no node does.

The answer key holds, for every node n, the forward value and dL/dn with L = f the output,
computed by the course's engine (``Value.backward()``) and verified against central
differences by nudging that node alone and re-running everything downstream of it:

    dL/dn ≈ (L(n + h) - L(n - h)) / (2h)

``practice_sheet(seed)`` prints a sheet as text: a different graph for every seed, so an
instructor can hand each student their own sheet, and the same seed always gives the same one.
From a shell, one sheet per seed, separated by form feeds (a new page when printed)::

    python -m course_lib.teaching.practice 101 102 103            # the sheets for three students
    python -m course_lib.teaching.practice 101 102 103 --answers  # the same sheets with their keys
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass

from course_lib.autodiff.scalar import OPS, Value
from course_lib.numbers.checking import real_number, switch, whole_number
from course_lib.numbers.formatting import format_number

__all__ = ["LOCAL_RULES", "Operation", "PracticeGraph", "practice_graph", "practice_sheet"]

SHEET_OPS = ("+", "*", "sigmoid", "exp")  # the ops a sheet draws from (names in OPS)
_BINARY = tuple(name for name in SHEET_OPS if OPS[name].arity == 2)
_UNARY = tuple(name for name in SHEET_OPS if OPS[name].arity == 1)


def _local_rules() -> tuple[str, ...]:
    """The rule of each sheet op, from the op table: ``d(u * v)/du = v``, ..."""
    rules = []
    for name in SHEET_OPS:
        op = OPS[name]
        inputs = ("u", "v")[: op.arity]
        written = f"d({op.write(*inputs)})" if op.arity > 1 else f"d {op.write(*inputs)}"
        rules.append(f"{written}/du = {op.rule(0, *inputs, out='out')}")
    return tuple(rules)


LOCAL_RULES = _local_rules()
"""The local rule of each op a sheet uses, ``out`` standing for the node's own value."""
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
class Operation:
    """One operation node of a sheet: ``name = op(operands)``, the operands named by earlier
    nodes, ``op`` a name in the op table."""

    name: str
    op: str
    operands: tuple[str, ...]

    def formula(self) -> str:
        """The line's right-hand side, written by the op table: ``y * x``, ``exp(c)``."""
        return OPS[self.op].write(*self.operands)


@dataclass(frozen=True)
class PracticeGraph:
    """A practice graph and its answer key.

    ``inputs`` pairs each input's name with its value; ``operations`` lists the operation nodes in
    forward order (the last one, ``f``, is the output). ``values``, ``grads`` (dL/dn, L = f) and
    ``partials`` (for each operation, d(operation)/d(operand) in operand order) form the answer
    key.
    """

    seed: int
    inputs: tuple[tuple[str, float], ...]
    operations: tuple[Operation, ...]
    values: dict[str, float]
    grads: dict[str, float]
    partials: dict[str, tuple[float, ...]]

    @property
    def size(self) -> int:
        """The number of operation nodes (3 to 6)."""
        return len(self.operations)

    @property
    def names(self) -> tuple[str, ...]:
        """Every node's name, inputs first, in forward order."""
        return tuple(name for name, _ in self.inputs) + tuple(s.name for s in self.operations)

    def consumers(self, name: str) -> tuple[str, ...]:
        """The nodes that take ``name`` as an operand, in forward order."""
        self._known(name)
        return tuple(s.name for s in self.operations if name in s.operands)

    def fan_out_nodes(self) -> tuple[str, ...]:
        """The nodes that feed two or more later nodes (their gradients sum at a join)."""
        return tuple(n for n in self.names if len(self.consumers(n)) >= 2)

    def build(self) -> Value:
        """A fresh ``Value`` graph with every node labelled by its name; returns the output.

        Gradients are not computed yet (``grad`` is ``None``): call ``backward()`` on it, or
        hand it to a widget. Each call builds a new graph, so nothing is shared between uses.
        """
        nodes = _forward(self.inputs, self.operations)
        return nodes[self.operations[-1].name]

    def nudged_output(self, name: str, delta: float) -> float:
        """The output's value when node ``name``'s output is moved by ``delta``.

        Everything downstream of ``name`` is recomputed from the moved value; ``name``'s own
        inputs are not touched. So for a small ``h``,

            (nudged_output(n, h) - nudged_output(n, -h)) / (2h) ≈ dL/dn,

        the upstream gradient at ``n`` measured directly: how much the output moves per unit
        nudge of that node. ``delta = 0`` gives the output's value itself.
        """
        self._known(name)
        delta = real_number(delta, "delta (the nudge, such as h = 1e-4)", "nudged_output")
        return _forward(self.inputs, self.operations, (name, delta))[self.operations[-1].name].data

    def answer_key(self) -> str:
        """The answer key as a text table: value, local partials and dL/dn for every node."""
        width = max(len(s.formula()) for s in self.operations) + 2
        lines = [
            f"{'node':<6}{'made by':<{width}}{'value':>10}{'local partials':>34}{'df/dnode':>12}"
        ]
        for name, value in self.inputs:
            lines.append(
                f"{name:<6}{'input':<{width}}{_four(value):>10}{'':>34}{_four(self.grads[name]):>12}"
            )
        for operation in self.operations:
            name = operation.name
            local = ", ".join(
                f"d{name}/d{operand} = {_four(p)}"
                for operand, p in zip(operation.operands, self.partials[name], strict=True)
            )
            lines.append(
                f"{name:<6}{operation.formula():<{width}}{_four(self.values[name]):>10}"
                f"{local:>34}{_four(self.grads[name]):>12}"
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
    where = "practice_graph"
    # A sheet number is a whole number >= 0 (NumPy integers too); -1 would silently be sheet 1,
    # since random.Random takes the absolute value of its seed.
    seed = whole_number(seed, "seed (the sheet number)", where, minimum=0)
    if size is not None:
        size = whole_number(
            size,
            f"size (the operation nodes, {MIN_NODES} to {MAX_NODES}, or None)",
            where,
            minimum=MIN_NODES,
            maximum=MAX_NODES,
        )
    fan_out = switch(fan_out, "fan_out", where)
    rng = random.Random(seed)
    n_ops = size if size is not None else rng.randint(MIN_NODES, MAX_NODES)
    for _ in range(_ATTEMPTS):
        candidate = _draw(rng, n_ops, fan_out)
        if candidate is None:
            continue
        inputs, operations = candidate
        if _has_fan_out(inputs, operations) != fan_out:
            continue
        graph = _solve(seed, inputs, operations)
        if graph is not None:
            return graph
    raise RuntimeError(  # not reached for sizes 3-6 (the tests draw thousands of seeds)
        f"no practice graph of {n_ops} nodes (fan_out={fan_out}) found for seed {seed}"
    )


def practice_sheet(
    seed: int, size: int | None = None, fan_out: bool = True, answers: bool = False
) -> str:
    """A printable practice sheet for ``seed``; with ``answers=True`` the key follows it."""
    answers = switch(answers, "answers", "practice_sheet")
    graph = practice_graph(seed, size, fan_out)
    inputs = ", ".join(f"{name} = {format_number(value)}" for name, value in graph.inputs)
    out = graph.operations[-1].name
    lines = [
        f"Tiny Graphs First: practice sheet {seed}",
        "",
        f"Inputs: {inputs}",
        "",
        "The graph (each line is one node; compute them in this order):",
        *(f"    {s.name} = {s.formula()}" for s in graph.operations),
        "",
        "Local rules (out is the node's own value):",
        *(f"    {rule}" for rule in LOCAL_RULES),
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
) -> tuple[tuple[tuple[str, float], ...], tuple[Operation, ...]] | None:
    """One random candidate: inputs and operations in which every node reaches the output.

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
    operations = []
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
            operations.append(Operation(name, rng.choice(_BINARY), operands))
        else:
            pool = pending if pending else []
            if not pool:
                return None
            operands = (rng.choice(pool),)
            operations.append(Operation(name, rng.choice(_UNARY), operands))
        for operand in operands:
            if operand in pending:
                pending.remove(operand)
                used.append(operand)
        pending.append(name)
    if pending != [names[-1]]:
        return None  # a node that no later node uses: a dead branch
    return inputs, tuple(operations)


def _has_fan_out(inputs: tuple[tuple[str, float], ...], operations: tuple[Operation, ...]) -> bool:
    counts: dict[str, int] = {}
    for s in operations:
        for operand in s.operands:
            counts[operand] = counts.get(operand, 0) + 1
    return any(c >= 2 for c in counts.values())


def _forward(
    inputs: tuple[tuple[str, float], ...],
    operations: tuple[Operation, ...],
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
    for operation in operations:
        node = OPS[operation.op](*(nodes[o] for o in operation.operands))  # the op table's op
        node.named(operation.name)
        if nudge is not None and nudge[0] == operation.name:
            node = Value(node.data + nudge[1], label=operation.name)
        nodes[operation.name] = node
    return nodes


def _solve(
    seed: int, inputs: tuple[tuple[str, float], ...], operations: tuple[Operation, ...]
) -> PracticeGraph | None:
    """Run forward and backward; ``None`` when the numbers are not friendly enough."""
    try:
        nodes = _forward(inputs, operations)
    except OverflowError:  # exp of a huge number: far from friendly anyway
        return None
    for operation in operations:
        operand = nodes[operation.operands[0]].data
        if operation.op == "exp" and abs(operand) > _MAX_EXP_INPUT:
            return None
        if operation.op == "sigmoid" and abs(operand) > _MAX_SIGMOID_INPUT:
            return None
    out = nodes[operations[-1].name]
    out.backward()
    values = {name: node.data for name, node in nodes.items()}
    grads = {name: float(node.grad) for name, node in nodes.items()}
    if any(abs(v) > _MAX_ABS_VALUE for v in values.values()):
        return None
    if any(not _MIN_ABS_GRAD <= abs(g) <= _MAX_ABS_GRAD for g in grads.values()):
        return None
    for name in nodes:  # the key is verified, not just computed
        numerical = _finite_difference(inputs, operations, name)
        if not math.isclose(grads[name], numerical, rel_tol=_RTOL, abs_tol=_ATOL):
            raise AssertionError(
                f"practice seed {seed}: backward() gives d{operations[-1].name}/d{name} = "
                f"{grads[name]} but finite differences give {numerical}"
            )
    partials = {s.name: tuple(nodes[s.name].partials) for s in operations}
    return PracticeGraph(seed, inputs, operations, values, grads, partials)


def _finite_difference(
    inputs: tuple[tuple[str, float], ...],
    operations: tuple[Operation, ...],
    name: str,
    h: float = _H,
) -> float:
    """dL/d(name) by central differences, nudging only that node (float64)."""
    out = operations[-1].name
    up = _forward(inputs, operations, (name, h))[out].data
    down = _forward(inputs, operations, (name, -h))[out].data
    return (up - down) / (2.0 * h)


def _four(x: float) -> str:
    """A number of the answer key: 4 decimals."""
    return format_number(x, decimals=4)


def main(argv: list[str] | None = None) -> int:
    """Print one practice sheet per seed (``python -m course_lib.teaching.practice SEED ...``)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.teaching.practice",
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
