"""Checking a learner's own scalar engine: their class's ops, their topological sort, and the
class as a whole with its backward pass (notebook 10).

The learner writes an engine of micrograd's size: a class whose nodes hold ``data``, ``grad``
(0.0 to start with), ``parents`` and ``partials`` (d node / d parent, one per parent, at the same
position), with ``+``, ``*``, ``** k``, ``tanh`` and ``exp``; a function that lists a graph's
nodes in topological order; and a ``backward()`` that seeds the output with dL/dL = 1 and adds
upstream × local partial into every parent's ``grad``. The checks take their class (or their
function) and compare it, on the same expressions, with course_lib's engine
(:class:`course_lib.autodiff.scalar.Value`):

* :func:`check_ops`: each op's value and local partials, read off the node it returns;
* :func:`check_topological_order`: every node once, each after all of its parents, on graphs
  with fan-out, a node used twice by one op, random expressions and a chain of
  :data:`CHAIN_LENGTH` nodes;
* :func:`check_engine`: the whole class: the gradient of every node of fixed and random
  expressions (:mod:`course_lib.teaching.expressions`, seeded), gradients that add up over two
  ``backward()`` calls, and the chain.

They name the mistakes learners make: ``=`` where ``+=`` belongs (a node used twice keeps one
contribution: fan-out gradients lost), a backward pass that visits a node before all of its
consumers, no seed of 1 at the output, a recursive sort that dies on the chain
(``RecursionError``, and why), a backward that resets what it should add to, and the usual slips
of each op's partial. A wrong gradient is diagnosed on the learner's own graph: every node's
``grad`` is compared with the sum of what its consumers pass back with their finished
gradients, so the slip is found whatever order their backward took. (A node with one consumer
cannot lose a contribution to ``=``; a wrong one there means a consumer passed its gradient on
too early.)

Every check runs through :func:`course_lib.teaching.code_exercise.run_exercise`: it never raises
because of the learner's code, stops code that runs too long, reads an untouched ``...`` as
"not written yet", and gives feedback in tiers (a first wrong attempt names the mistake and where
to look, never the correct line; a later different wrong attempt adds the rule; the solution
stays in the notebook's Solution block). The network built on the engine and the training step
are checked by :mod:`course_lib.teaching.network_check`.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from numbers import Real
from typing import Any

import numpy as np

from course_lib.autodiff.graph import topological_order
from course_lib.autodiff.scalar import Value
from course_lib.teaching.backward_diagnosis import (
    backward_slip,
    is_finite_number,
    shown_briefly,
)
from course_lib.teaching.code_exercise import (
    Case,
    Exercise,
    ExerciseReport,
    NamedMistake,
    NothingReturned,
    is_placeholder,
    run_exercise,
    with_article,
)
from course_lib.teaching.expressions import Expression, random_expression, reference_gradients

__all__ = [
    "CHAIN_LENGTH",
    "MATH_NOT_IMPORTED",
    "OP_METHODS",
    "PYTHON_RECURSION_LIMIT",
    "at_pythons_recursion_limit",
    "check_engine",
    "check_ops",
    "check_topological_order",
    "unwritten_methods",
]

CHAIN_LENGTH = 10_000  # a deep graph: ten times Python's default limit of nested calls
PYTHON_RECURSION_LIMIT = 1_000  # Python's default, in force while a learner's sort is checked
OP_METHODS = ("__add__", "__mul__", "__pow__", "tanh", "exp")  # what the learner writes

# Two numbers "agree" when they differ by float64 rounding of a different order of sums.
RTOL, ATOL = 1e-9, 1e-12


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def _node_parts(out: Any, inputs: Sequence[Any], what: str, cls_name: str) -> tuple[float, list]:
    """The value of the node ``out`` an op returned, and its local partial with respect to
    each of ``inputs`` (read by position among its parents: a node other than the inputs is a
    constant the op made); a :class:`NamedMistake` for a node that cannot be read."""
    if out is None:
        raise NothingReturned(
            f"{what} returned None: did you forget to `return` the new node? (An op makes a "
            f"new {cls_name} and returns it.)"
        )
    if out is ...:
        raise NotImplementedError(f"{what} still returns `...`: not written yet")
    if any(out is x for x in inputs):
        raise NamedMistake(
            f"{what} returned one of its inputs: an op makes a new node for its result and "
            "leaves its inputs as they are (they may be used again elsewhere)"
        )
    if not hasattr(out, "data"):
        raise NamedMistake(
            f"{what} returned {shown_briefly(out)}, a {type(out).__name__}: it must return a new "
            f"{cls_name} node"
        )
    if not is_finite_number(out.data):
        raise NamedMistake(
            f"the node {what} returned holds data = {shown_briefly(out.data)}: a node's data is a "
            "plain number (a float)"
            + (", not another node: take its .data" if hasattr(out.data, "data") else "")
        )
    parents = getattr(out, "parents", None)
    partials = getattr(out, "partials", None)
    for field, held in (("parents", parents), ("partials", partials)):
        if not isinstance(held, Sequence):
            raise NamedMistake(
                f"the node {what} returned has {field} = {shown_briefly(held)}: an op's node keeps "
                "its inputs in `parents` and their local partials in `partials`, two tuples of "
                "the same length"
            )
    if len(parents) != len(partials):
        raise NamedMistake(
            f"the node {what} returned has {len(parents)} parents and {len(partials)} "
            "partials: one local partial per parent, at the same position"
        )
    for partial in partials:
        if not is_finite_number(partial):
            node = hasattr(partial, "data")
            raise NamedMistake(
                f"the node {what} returned holds a partial {shown_briefly(partial)}"
                + (
                    f", a {type(partial).__name__} node: store the number (its .data), so the "
                    "backward pass multiplies numbers and builds no new graph"
                    if node
                    else ": a local partial is a plain, finite number"
                )
            )
    found = []
    others = [j for j, p in enumerate(parents) if not any(p is x for x in inputs)]
    for index, x in enumerate(inputs):
        slots = [j for j, p in enumerate(parents) if p is x]
        if not slots and isinstance(x, Real):  # a plain number: the constant node the op made
            slots = others[:1]
        if not slots:
            name = "its first input" if index == 0 else "its second input"
            raise NamedMistake(
                f"{name} is not among the parents of the node {what} returned: the backward "
                "pass could never reach it. An op's parents are its inputs (a plain number "
                "wrapped in a node first)"
            )
        found.append(float(sum(partials[j] for j in slots)))
    return float(out.data), found


def unwritten_methods(cls: type, methods: Sequence[str]) -> list[str]:
    """The methods of ``cls`` among ``methods`` that are missing or still hold their placeholder
    (a body of ``...``)."""
    left = []
    for name in methods:
        method = inspect.getattr_static(cls, name, None)
        if method is None or is_placeholder(method):
            left.append(name)
    return left


def _require_written(cls: type, methods: Sequence[str], needed: Sequence[str]) -> None:
    """NotImplementedError (read "not written yet") when every one of ``methods`` is a
    placeholder, or one of ``needed`` is."""
    left = unwritten_methods(cls, methods)
    if len(left) == len(methods):
        raise NotImplementedError(
            f"{cls.__name__}'s {', '.join(methods)} are not written yet: replace each `...`"
        )
    for name in needed:
        if name in left:
            raise NotImplementedError(
                f"{cls.__name__}.{name} is not written yet: replace its `...`"
            )


def _called_functions(fn: Any, depth: int = 3) -> list[Any]:
    """The functions ``fn`` calls by a global name (the learner's ``my_backward``, and the
    ``my_topological_order`` it calls), up to ``depth`` levels down, each once, in the order
    met; functions of course_lib and of other libraries are left out."""
    found: list[Any] = []

    def visit(function: Any, level: int) -> None:
        code = getattr(function, "__code__", None)
        if code is None or level > depth:
            return
        space = getattr(function, "__globals__", None)
        if not isinstance(space, dict):
            return
        for name in code.co_names:
            called = space.get(name)
            if not inspect.isfunction(called) or any(called is f for f in found):
                continue
            if (getattr(called, "__module__", None) or "").startswith(("course_lib", "numpy")):
                continue
            found.append(called)
            visit(called, level + 1)

    visit(fn, 1)
    return found


def _unwritten_helpers(fn: Any) -> str:
    """The name of a function ``fn`` calls (see :func:`_called_functions`) that still holds
    its placeholder, or ""."""
    for called in _called_functions(fn):
        if is_placeholder(called):
            return called.__name__
    return ""


# ---- the sentences -----------------------------------------------------------------------------

RESETS = (
    "the second backward() replaced the gradients of the first instead of adding to them: your "
    "backward resets the gradients. In this engine (as in micrograd and PyTorch) backward() "
    "adds into .grad, and resetting is the training loop's job; look at the start of your "
    "backward"
)
RECURSION = (
    "a recursive sort calls itself once per node down the chain, and Python stops after about "
    "{limit:,} nested calls (sys.getrecursionlimit()), far short of this chain of {n:,} nodes; "
    "a deep network's graph is such a chain, and raising the limit only moves the wall. Keep "
    "the nodes still to visit in a list of your own (a stack) instead of calling the function "
    "again"
)


# ---- the op check ------------------------------------------------------------------------------

OPS_RULE = (
    "an op returns a new node holding its value, its inputs as parents, and d out/d input for "
    "each input at the same position: x + y → 1, 1; x·y → y, x (multiply swaps); x**k → "
    "k·x**(k − 1); tanh(x) → 1 − out²; exp(x) → out (out is the op's own value)."
)

MATH_NOT_IMPORTED = (
    lambda e: isinstance(e, NameError) and "'math'" in str(e),
    "`import math` is missing where your code runs: add it at the top of the cell",
)
_COMMON_ERRORS = [
    (
        lambda e: isinstance(e, AttributeError) and "has no attribute 'data'" in str(e),
        "a plain number has no .data: an op given a number that is not a node (x + 2.0) first "
        "makes a node of it",
    ),
    MATH_NOT_IMPORTED,
    (
        lambda e: isinstance(e, TypeError) and "positional argument" in str(e),
        "the class's __init__ takes data, then parents, then partials (the last two as tuples)",
    ),
]


def _op_cases(rng: np.random.Generator) -> list[Case]:
    """One case per op: its value and its partials against course_lib's node."""
    cases = []

    def case(
        what: str,
        numbers: tuple[float, ...],
        make: Callable,
        ref: Callable,
        method: str,
        mistakes: list[tuple[list[float], str, str]],
    ) -> Case:
        node = ref(*[Value(v) for v in numbers])
        inputs_text = ", ".join(f"{n} = {v:g}" for n, v in zip("xy", numbers, strict=False))

        def run(cls: type) -> dict[str, np.ndarray]:
            _require_written(cls, OP_METHODS, (method,))
            nodes = [cls(v) for v in numbers]
            out = make(*nodes)
            value, partials = _node_parts(out, nodes, what, cls.__name__)
            return {"value": np.array(value), "partials": np.array(partials)}

        return Case(
            f"{what} at {inputs_text}",
            {},
            {"value": np.array(node.data), "partials": np.array(node.partials[: len(numbers)])},
            mistakes=[(np.array(v), out, why) for v, out, why in mistakes],
            run=run,
            errors=_COMMON_ERRORS,
        )

    x, y = 1.5, -2.0
    cases.append(
        case(
            "x + y",
            (x, y),
            lambda a, b: a + b,
            lambda a, b: a + b,
            "__add__",
            [
                ([x * y], "value", "its value is x·y: + adds"),
                (
                    [0.0, 0.0],
                    "partials",
                    "the partials of x + y are 0: a nudge of either input moves "
                    "the sum by as much, so each partial is the sum's slope along that input",
                ),
            ],
        )
    )
    cases.append(
        case(
            "x * y",
            (x, y),
            lambda a, b: a * b,
            lambda a, b: a * b,
            "__mul__",
            [
                ([x + y], "value", "its value is x + y: * multiplies"),
                (
                    [x, y],
                    "partials",
                    "each input got itself as its partial: ∂(x·y)/∂x is not x. Look "
                    "at the order of the partials __mul__ stores against the order of its parents",
                ),
                (
                    [1.0, 1.0],
                    "partials",
                    "those are +'s partials (1 and 1): a product's slope along "
                    "one input depends on the other input",
                ),
            ],
        )
    )
    cases.append(
        case("x + 2.0 (a plain number)", (x,), lambda a: a + 2.0, lambda a: a + 2.0, "__add__", [])
    )
    cases.append(
        case(
            "x * 3.0 (a plain number)",
            (x,),
            lambda a: a * 3.0,
            lambda a: a * 3.0,
            "__mul__",
            [
                ([x], "partials", "x's partial is x itself: ∂(3x)/∂x is the other factor"),
            ],
        )
    )
    for k, at in ((3, 1.2), (-1, 2.5), (2, -0.5)):
        node_value = at**k
        cases.append(
            case(
                f"x ** {k}",
                (at,),
                lambda a, k=k: a**k,
                lambda a, k=k: a**k,
                "__pow__",
                [
                    ([k * at], "value", "its value is k·x: ** raises x to the power k"),
                    (
                        [at ** (k - 1)],
                        "partials",
                        "that is x**(k − 1) alone: the power rule has a factor in front of it",
                    ),
                    (
                        [k * node_value],
                        "partials",
                        "that is k·x**k: the power in the partial is one less than the op's own",
                    ),
                    (
                        [(k - 1) * at**k],
                        "partials",
                        "that moves the wrong number down: the power rule "
                        "brings the exponent down in front and lowers the power by one",
                    ),
                    (
                        [k * at ** (k + 1)],
                        "partials",
                        "the partial's power is one more than the op's; it is one less",
                    ),
                    (
                        [k * node_value - 1],
                        "partials",
                        "that is k·x**k − 1: the − 1 belongs in the exponent, and ** binds more "
                        "tightly than − (mind the brackets)",
                    ),
                ],
            )
        )
    at = 0.7
    t = math.tanh(at)
    cases.append(
        case(
            "x.tanh()",
            (at,),
            lambda a: a.tanh(),
            lambda a: a.tanh(),
            "tanh",
            [
                (
                    [1 - at * at],
                    "partials",
                    "that is 1 − x² with x the input: tanh's partial is "
                    "written with its output, the value the forward pass just computed",
                ),
                ([1 - t], "partials", "that is 1 − out: the output is squared in tanh's partial"),
                ([1 + t * t], "partials", "that is 1 + out²: check the sign in tanh's partial"),
                ([t], "partials", "that is out itself: tanh's slope is not its value"),
                ([at], "value", "its value is x itself: call math.tanh"),
            ],
        )
    )
    at = 0.8
    cases.append(
        case(
            "x.exp()",
            (at,),
            lambda a: a.exp(),
            lambda a: a.exp(),
            "exp",
            [
                ([at], "partials", "that is x, the input: exp's slope is its own value"),
                ([1.0], "partials", "that is 1: exp's slope grows with it"),
                (
                    [at * math.exp(at - 1)],
                    "partials",
                    "that is the power rule, x·e**(x − 1): exp is "
                    "not a power of x; its slope is its own value",
                ),
            ],
        )
    )
    return cases


def check_ops(cls: Any, seed: int = 0) -> ExerciseReport:
    """Check the ops of the learner's engine class ``cls``: ``+``, ``*`` (also with a plain
    number), ``** k`` for k = 3, −1 and 2, ``tanh`` and ``exp``. For each, the node it returns
    must hold the op's value, the inputs as parents, and each input's local partial at the same
    position, as course_lib's ``Value`` computes them. Never raises because of ``cls``."""
    name = f"{getattr(cls, '__name__', 'MyValue')}'s ops"
    if not inspect.isclass(cls):
        return ExerciseReport(
            name, "error", f"check_ops needs your class itself (MyValue), got {shown_briefly(cls)}"
        )
    exercise = Exercise(
        name,
        f"class {cls.__name__}: {', '.join(OP_METHODS)}",
        ("value", "partials"),
        _op_cases,
        rule=OPS_RULE,
    )
    return run_exercise(exercise, cls, seed)


# ---- the topological order ---------------------------------------------------------------------

ORDER_RULE = (
    "list a node only after every one of its parents is listed; list each node once (a set "
    "of the nodes already placed); the output comes last; keep the nodes still to visit on a "
    "stack of your own (a list), so the graph's depth does not matter."
)


def _labelled(node: Value) -> str:
    if node.label:
        return node.label
    if not node.parents:
        return f"the constant {node.data:g}"
    return f"the {node.op} node"


def _order_case(description: str, root: Value, decisive: bool = True) -> Case:
    graph = topological_order(root)
    members = {id(n): n for n in graph}

    def run(fn: Callable) -> np.ndarray:
        with at_pythons_recursion_limit():
            result = fn(root)
        if result is None:
            raise NothingReturned(
                "my_topological_order returned None: did you forget to `return` the list?"
            )
        if result is ...:
            raise NotImplementedError
        if isinstance(result, set | frozenset | dict):
            raise NamedMistake(
                f"it returned {with_article(type(result).__name__)}, which keeps no order of its "
                "own: an order is a list, each node after its parents"
            )
        try:
            one_pass = iter(result) is result  # a generator, map(...), iter(order): one pass
        except TypeError:
            raise NamedMistake(
                f"it returned {shown_briefly(result)}, {with_article(type(result).__name__)}: "
                "return a list of the nodes"
            ) from None
        if one_pass:
            raise NamedMistake(
                f"it returned {with_article(type(result).__name__)}, which hands out its nodes "
                "only once and keeps none of them: the backward pass walks the order from the "
                "end, which needs the nodes kept. Return a list of the nodes"
            )
        order = list(result)
        strangers = [n for n in order if id(n) not in members]
        if strangers:
            raise NamedMistake(
                f"the list holds {shown_briefly(strangers[0])}, which is not a node of the graph "
                "(append the nodes themselves)"
            )
        counts: dict[int, int] = {}
        for n in order:
            counts[id(n)] = counts.get(id(n), 0) + 1
        twice = [n for n in graph if counts.get(id(n), 0) > 1]
        if twice:
            raise NamedMistake(
                f"{_labelled(twice[0])} is listed {counts[id(twice[0])]} times (it is reached "
                "along more than one path): a backward pass that walks it would add its "
                "contributions again. Look at how your sort remembers the nodes it has placed"
            )
        missing = [n for n in graph if id(n) not in counts]
        if missing:
            raise NamedMistake(
                f"the list lacks {len(missing)} of the graph's {len(graph)} nodes, among them "
                f"{_labelled(missing[0])}: every node the output depends on must be in it. "
                "Look at how your sort goes on to the parents of each node it reaches"
            )
        position = {id(n): i for i, n in enumerate(order)}
        if len(order) > 1 and position[id(root)] == 0:
            raise NamedMistake(
                "the list starts at the output and ends at the inputs: here the order runs "
                "inputs first, output last (the backward pass walks it from the end)"
            )
        for node in order:
            for parent in node.parents:
                if position[id(parent)] > position[id(node)]:
                    raise NamedMistake(
                        f"{_labelled(node)} comes before its parent {_labelled(parent)}. "
                        f"Walked from the end, your order would reach {_labelled(parent)} "
                        f"before all of its consumers had passed back their contributions, "
                        "so its gradient would be incomplete when used. Look at the moment "
                        "your sort appends a node"
                    )
        return np.array(float(len(order)))

    return Case(
        description,
        {},
        {"nodes": np.array(float(len(graph)))},
        run=run,
        decisive=decisive,
        errors=[
            (lambda e: isinstance(e, RecursionError), _recursion_text()),
            (
                lambda e: isinstance(e, AttributeError) and "'Value'" in str(e),
                "the nodes keep their inputs in `parents` (a tuple), as your class does",
            ),
        ],
    )


RAISED_LIMIT = (
    "your code changes Python's recursion limit (sys.setrecursionlimit): that only moves the "
    "wall, a deeper graph (or the C stack under it) still stops a recursive sort. Keep the "
    "nodes still to visit in a list of your own (a stack)"
)


@contextmanager
def at_pythons_recursion_limit() -> Iterator[None]:
    """Run a learner's code at Python's default recursion limit, theirs restored afterwards:
    a limit raised earlier in the session (sys.setrecursionlimit) would let a recursive sort
    pass the chain here and still die on a deeper graph. Code that raises the limit itself is
    a :class:`NamedMistake` saying so."""
    theirs = sys.getrecursionlimit()
    sys.setrecursionlimit(PYTHON_RECURSION_LIMIT)
    try:
        yield
        changed = sys.getrecursionlimit() != PYTHON_RECURSION_LIMIT
    finally:
        sys.setrecursionlimit(theirs)
    if changed:
        raise NamedMistake(RAISED_LIMIT)


def _recursion_text() -> str:
    return RECURSION.format(limit=PYTHON_RECURSION_LIMIT, n=CHAIN_LENGTH)


def _value_chain(n: int) -> Value:
    node = Value(0.5, label="x")
    for _ in range(n):
        node = node.tanh()
    return node.named("out")


def _order_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    x, y, z = Value(3.0, label="x"), Value(-2.0, label="y"), Value(1.0, label="z")
    a, b = (x * y).named("a"), (x + z).named("b")
    cases.append(_order_case("f = a·b, a = x·y, b = x + z (x feeds a and b)", (a * b).named("f")))
    a = Value(3.0, label="a")
    cases.append(_order_case("b = a + a (a is both inputs of one node)", (a + a).named("b")))
    w = Value(0.5, label="w")
    x = (w * 2.0).named("x")
    c = (x.tanh() * 3.0).named("c")
    cases.append(
        _order_case(
            "f = tanh(x)·3 + x, x = w·2 (x reaches f along a long path and a short one)",
            (c + x).named("f"),
        )
    )
    for _ in range(2):
        expression = random_expression(rng, inputs=3, steps=6)
        nodes = expression.build(Value)
        for node, label in zip(nodes, expression.names, strict=True):
            node.label = label
        cases.append(_order_case(expression.text(), nodes[-1]))
    cases.append(_order_case(f"a chain of {CHAIN_LENGTH:,} tanh nodes", _value_chain(CHAIN_LENGTH)))
    return cases


def check_topological_order(fn: Any, seed: int = 0) -> ExerciseReport:
    """Check the learner's ``fn(root)``: it must return every node ``root`` depends on, each
    once, each after all of its parents (so the output comes last), on graphs with fan-out, a
    node used twice by one op, two random expressions and a chain of :data:`CHAIN_LENGTH`
    nodes (where a recursive sort dies). The graphs are course_lib's ``Value`` nodes, whose
    inputs are in ``parents`` as in the learner's class. ``seed`` picks the random
    expressions (the notebook keeps the default). Never raises because of ``fn``."""
    exercise = Exercise(
        getattr(fn, "__name__", "my_topological_order"),
        "my_topological_order(root)",
        ("nodes",),
        _order_cases,
        rule=ORDER_RULE,
    )
    return run_exercise(exercise, fn, seed)


# ---- the whole engine: its backward pass -------------------------------------------------------

BACKWARD_RULE = (
    "start from dL/dL = 1 at the output; walk the topological order from the output back to "
    "the inputs, so that a node's gradient is complete when its turn comes; at each node, add "
    "upstream × local partial into each parent's grad (sum at joins: add, never overwrite); "
    "reset nothing (zeroing the gradients is the training loop's job)."
)


def _engine_prerequisites(cls: type) -> None:
    """Not written yet: the ops, or a function the class's backward() calls."""
    _require_written(cls, OP_METHODS, OP_METHODS)
    backward = inspect.getattr_static(cls, "backward", None)
    if backward is None:
        raise NamedMistake(f"{cls.__name__} has no backward() method")
    if is_placeholder(backward):
        raise NotImplementedError(f"{cls.__name__}.backward is not written yet")
    left = _unwritten_helpers(backward)
    if left:
        raise NotImplementedError(
            f"{left} is not written yet (your backward() calls it): replace its `...`"
        )


def _forward_problem(
    nodes: list, reference: list[Value], expression: Expression, cls: type
) -> None:
    """A NamedMistake when the learner's forward pass differs from course_lib's: each step's
    value, and a primitive step's partials, read by which input each parent is (``a - b`` is a
    composite, ``a + (-b)``, whose own parents are not its operands)."""
    first = len(expression.inputs)
    names = expression.names
    for i, (op, _) in enumerate(expression.steps):
        what = f"the step {names[first + i]}"
        node, ref = nodes[first + i], reference[first + i]
        if op == "-":
            value = getattr(node, "data", None)
            right = is_finite_number(value) and _close(value, ref.data)
        else:
            mine = expression.operands(i, nodes)
            theirs = expression.operands(i, reference)
            value, partials = _node_parts(node, mine, what, cls.__name__)
            want_value, want_partials = _node_parts(ref, theirs, what, "Value")
            right = _close(value, want_value) and all(
                _close(p, q) for p, q in zip(partials, want_partials, strict=True)
            )
        if not right:
            raise NamedMistake(
                f"the forward pass already differs from course_lib's at {what}: its value or "
                f"its local partials are not right yet. Run the check of {cls.__name__}'s ops "
                "first (check_ops), which names the slip"
            )


def _graph_case(description: str, expression: Expression) -> Case:
    reference, grads = reference_gradients(expression)
    names = expression.names

    def run(code: tuple) -> np.ndarray:
        cls = code[0]  # the class; then the functions its backward calls
        _engine_prerequisites(cls)
        nodes = expression.build(cls)
        _forward_problem(nodes, reference, expression, cls)
        if any(getattr(n, "grad", None) != 0 for n in nodes):
            raise NamedMistake(
                f"a new {cls.__name__} node must start with grad = 0.0 (nothing has flowed "
                "back yet); look at __init__"
            )
        nodes[-1].backward()
        slip = backward_slip(nodes[-1], {id(n): name for n, name in zip(nodes, names, strict=True)})
        if slip:
            raise NamedMistake(slip)
        return np.array([float(n.grad) for n in nodes])

    return Case(
        f"{description}: {expression.text()}",
        {},
        {"gradients": grads},
        run=run,
        errors=[(lambda e: isinstance(e, RecursionError), _recursion_text()), *_COMMON_ERRORS],
    )


def _accumulation_case() -> Case:
    first = Expression((0.5, -1.5), (("*", (0, 1)), ("tanh", (2,)), ("+", (3, 0))))
    second = Expression((0.5, -1.5), (("+", (0, 1)), ("**2", (2,))))
    ref_first, ref_second = reference_gradients(first)[1], reference_gradients(second)[1]
    both = ref_first[:2] + ref_second[:2]

    def run(code: tuple) -> np.ndarray:
        cls = code[0]  # the class; then the functions its backward calls
        _engine_prerequisites(cls)
        x, y = cls(0.5), cls(-1.5)
        first.build(cls, [x, y])[-1].backward()
        second.build(cls, [x, y])[-1].backward()
        for node, name in ((x, "x"), (y, "y")):
            if not is_finite_number(node.grad):
                raise NamedMistake(
                    f"after two backward() calls, {name}.grad = "
                    f"{shown_briefly(node.grad)}: a gradient is a number"
                )
        return np.array([x.grad, y.grad])

    return Case(
        "two graphs on the same x = 0.5 and y = -1.5, backward() on each: first "
        "tanh(x·y) + x, then (x + y)**2 (x and y must hold the sum of both passes' gradients)",
        {},
        {"gradients": both},
        mistakes=[(ref_second[:2], "gradients", RESETS)],
        run=run,
        errors=_COMMON_ERRORS,
    )


def _chain_case() -> Case:
    root = _value_chain(CHAIN_LENGTH)
    root.backward()
    x = topological_order(root)[0]

    def run(code: tuple) -> np.ndarray:
        cls = code[0]  # the class; then the functions its backward calls
        _engine_prerequisites(cls)
        start = node = cls(0.5)
        for _ in range(CHAIN_LENGTH):
            node = node.tanh()
        with at_pythons_recursion_limit():
            node.backward()
        if not is_finite_number(start.grad):
            raise NamedMistake(f"after backward(), x.grad = {shown_briefly(start.grad)}")
        return np.array([start.grad])

    return Case(
        f"a chain of {CHAIN_LENGTH:,} tanh nodes from x = 0.5",
        {},
        {"gradients": np.array([x.grad])},
        run=run,
        errors=[(lambda e: isinstance(e, RecursionError), _recursion_text()), *_COMMON_ERRORS],
    )


def _engine_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        _graph_case(
            "x feeds two nodes",
            Expression((2.0, -3.0), (("*", (0, 1)), ("+", (2, 0)))),
        ),
        _graph_case("a is both inputs of one node", Expression((3.0,), (("+", (0, 0)),))),
        _graph_case(
            "x reaches the output along a long path and a short one",
            Expression((0.5,), (("*", (0, 2.0)), ("tanh", (1,)), ("*", (2, 3.0)), ("+", (3, 1)))),
        ),
    ]
    for _ in range(3):
        cases.append(_graph_case("a random expression", random_expression(rng, 3, 7)))
    cases.append(_accumulation_case())
    cases.append(_chain_case())
    return cases


def check_engine(cls: Any, seed: int = 0) -> ExerciseReport:
    """Check the learner's whole engine class ``cls``: build the same expressions with it and
    with course_lib's ``Value`` (fan-out, a node used twice by one op, paths of unequal length,
    three random expressions), call ``backward()`` on the output, and compare the gradient of
    every node; then two ``backward()`` calls on graphs sharing their inputs (the gradients
    must add up) and a chain of :data:`CHAIN_LENGTH` nodes. A wrong gradient is diagnosed on
    the learner's own graph (:func:`course_lib.teaching.backward_diagnosis.backward_slip`).
    ``seed`` picks the random expressions (the notebook keeps the default). Never raises
    because of ``cls``."""
    name = f"{getattr(cls, '__name__', 'MyValue')}'s backward"
    if not inspect.isclass(cls):
        return ExerciseReport(
            name,
            "error",
            f"check_engine needs your class itself (MyValue), got {shown_briefly(cls)}",
        )
    exercise = Exercise(
        name,
        f"class {cls.__name__} with backward()",
        ("gradients",),
        _engine_cases,
        rule=BACKWARD_RULE,
    )
    # The class with the functions its backward() calls: a change to any of them (my_backward,
    # my_topological_order) is a new attempt, and an error in one is located in it.
    backward = inspect.getattr_static(cls, "backward", None)
    return run_exercise(exercise, (cls, *_called_functions(backward)), seed)
