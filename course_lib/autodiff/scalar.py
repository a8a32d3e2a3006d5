"""``Value``: scalar reverse-mode automatic differentiation.

Every operation computes its output *and* its local partials d(out)/d(input), and stores the
partials on the output node. ``backward()`` then does the rest with the four moves of
:mod:`course_lib.autodiff.graph`: take the upstream gradient dL/d(out), multiply it by each local
partial, and add the product into the input's gradient (sum at joins).

**One table of ops.** Everything the course knows about an op is one entry of :data:`OPS`, an
:class:`Op`: its name, how a formula writes it, one function that returns its output and its
local partials side by side, and the text of each partial's rule. ``Value``'s methods apply
those entries; the drawings (:mod:`course_lib.display.draw`), the backward stepper's explanations
and the practice sheets read the same entries. The table is one :func:`define_op` line per op
(below, after :class:`Op`): ``+``, ``*``, ``neg``, ``exp``, ``log``, ``tanh``, ``sigmoid``,
``relu`` and ``max``; :func:`power` makes ``**k`` for each exponent k. Adding an op is one more
line.

Subtraction and division are built from these: a - b = a + (-b), a / b = a * b**-1.

**Errors.** Every number in a graph is finite. An op whose result or local partial would
overflow to ±inf raises ``OverflowError``; one that is not a number (NaN) raises
``ValueError``; an input outside the op's domain raises ``ValueError`` (log of 0) or
``ZeroDivisionError`` (0 to a negative power). Each message starts with the op's name and
shows the op on its inputs, e.g. ``exp: exp(1000) is too large for a float ...``. The
backward pass checks the gradients the same way (an overflow names the node and the edge);
numbers a user passes go through :func:`course_lib.numbers.checking.real_number`; and
:func:`define_op` refuses to replace the engine's own ops.
"""

from __future__ import annotations

import functools
import inspect
import math
import string
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import Any

from course_lib.autodiff.graph import backpropagate, topological_order
from course_lib.numbers.checking import real_number, shown, switch
from course_lib.numbers.formatting import format_number

__all__ = ["OPS", "Op", "Value", "define_op", "op_named", "power"]

_LARGEST = "1.8e+308"  # the largest float, about (2 - 2^-52) · 2^1023
_isfinite = math.isfinite
_new_value = object.__new__


# ---- an op: forward, local partials, rule text and formula, in one place ------------------


@dataclass(frozen=True, eq=False)
class Op:
    """One operation of the scalar engine: everything the course knows about it.

    ``name``
        the op's one name, what ``node.op`` holds: ``"+"``, ``"*"``, ``"tanh"``, ``"**2"``;
    ``formula``
        how a formula writes the node, ``{a}`` and ``{b}`` standing for its inputs:
        ``"{a} * {b}"``, ``"tanh({a})"``;
    ``compute``
        the forward pass and the local partials side by side: a function of the inputs'
        numbers that returns ``(out, partials)``, the output's number and a tuple of
        d out/d input, one per input, in order (``a * b`` gives ``(a * b, (b, a))``);
    ``rules``
        each local partial as text, in the names of the inputs (``{a}``, ``{b}``) and of the
        output (``{out}``): ``("{b}", "{a}")`` for ``*``, ``("1 - {out}²",)`` for tanh;
    ``domain``
        ``None``, or a function of the inputs' numbers that raises ``ValueError`` or
        ``ZeroDivisionError`` (with a sentence saying why) where the op is not defined.

    Calling an ``Op`` on ``Value`` inputs (or plain numbers) applies it: ``OPS["*"](x, y)``
    is ``x * y``.
    """

    name: str
    formula: str
    compute: Callable[..., tuple[float, tuple[float, ...]]]
    rules: tuple[str, ...]
    domain: Callable[..., None] | None = None

    @property
    def arity(self) -> int:
        """How many inputs the op takes."""
        return len(self.rules)

    def write(self, *inputs: str) -> str:
        """The formula in the given input names: ``OPS["*"].write("x", "y")`` is ``x * y``."""
        return self.formula.format(**dict(zip("abcdefgh", inputs, strict=False)))

    def rule(self, index: int, *inputs: str, out: str) -> str:
        """The local partial d out/d (input number ``index``) as text in the given names."""
        return self.rules[index].format(out=out, **dict(zip("abcdefgh", inputs, strict=False)))

    def __call__(self, *inputs: Value | float) -> Value:
        """Apply the op: the output node, its inputs as parents, its local partials stored."""
        if len(inputs) != len(self.rules):
            raise TypeError(f"{self.name} takes {self.arity} input(s), got {len(inputs)}")
        for x in inputs:
            if type(x) is not Value:  # a plain number becomes a constant node
                inputs = tuple([_lift(x, self.name) for x in inputs])
                break
        # The inputs' numbers, spelled out for one and two inputs: this runs for every node.
        if len(inputs) == 2:
            numbers: tuple[float, ...] = (inputs[0].data, inputs[1].data)
        elif len(inputs) == 1:
            numbers = (inputs[0].data,)
        else:
            numbers = tuple([node.data for node in inputs])
        if self.domain is not None:
            try:
                self.domain(*numbers)
            except (ValueError, ZeroDivisionError) as error:
                raise type(error)(f"{self.name}: {self._on(inputs)}: {error}") from None
        try:
            result = self.compute(*numbers)
        except OverflowError:  # math.exp and ** raise where + and * give inf: the same problem
            result = (math.inf, ())
        # The common case, decided at once: a float and a tuple of partials, one per input,
        # finite (out + the partials is finite when each one is; rarely the sum overflows, and
        # _checked then looks at each one and finds nothing wrong).
        try:
            out, partials = result
            fine = (
                type(out) is float
                and type(partials) is tuple
                and len(partials) == len(numbers)
                and _isfinite(out + sum(partials))
            )
        except (TypeError, ValueError, OverflowError):  # not a pair, not numbers, an int
            # beyond the floats (10**400 + 1.0 overflows): _checked says which
            fine = False
        if not fine:
            out, partials = self._checked(inputs, result)
        node = _new_value(Value)  # Value._node written out: this runs for every node
        node.data, node.grad, node.label = out, None, None
        node.parents, node.op, node.partials = inputs, self.name, partials
        return node

    # ---- the error messages: the op's name first, then the op on its inputs -------------

    def _on(self, nodes: tuple[Value, ...]) -> str:
        """``x * 10 at x = 1e+308``: the op written on its inputs (labelled ones by name)."""
        text = self.write(*(_short(node) for node in nodes))
        named = [f"{node.label} = {format_number(node.data)}" for node in nodes if node.label]
        return text + (" at " + ", ".join(named) if named else "")

    def _checked(self, nodes: tuple[Value, ...], result: Any) -> tuple[float, tuple[float, ...]]:
        """``compute``'s result as ``(out, partials)`` of floats, or the error that says what
        is wrong with it and what to write (its shape, a number that is not real, inf, NaN)."""
        where = f"{self.name}: {self._on(nodes)}"
        letters = "abcdefgh"[: len(nodes)]
        shape = "return out, (" + ", ".join(f"d_out_d_{x}" for x in letters)
        shape += ",)" if len(nodes) == 1 else ")"
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise TypeError(
                f"{where}: the op's compute returned {shown(result)}; it must return two things, "
                f"the output's number and a tuple of its local partials, one per input: "
                f"{shape}"
            )
        out = real_number(result[0], "the output the op's compute returned", where, finite=False)
        if not _isfinite(out):
            self._check_finite(nodes, out, ())
        partials = result[1]
        if not isinstance(partials, tuple | list):
            raise TypeError(
                f"{where}: the op's compute returned {shown(partials)} as its local partials; "
                f"they must be a tuple, one per input (the comma makes a tuple of one): {shape}"
            )
        if len(partials) != len(nodes):
            raise TypeError(
                f"{where}: the op's compute gave {len(partials)} local partials for "
                f"{len(nodes)} input(s); it must give one per input: {shape}"
            )
        partials = tuple(
            real_number(
                p, f"the local partial d out/d {x} the op's compute returned", where, finite=False
            )
            for p, x in zip(partials, letters, strict=True)
        )
        self._check_finite(nodes, out, partials)
        return out, partials

    def _check_finite(
        self, nodes: tuple[Value, ...], out: float, partials: tuple[float, ...]
    ) -> None:
        """Raise for a result or a local partial that is ±inf (OverflowError) or NaN
        (ValueError), naming the op and its inputs."""
        where = f"{self.name}: {self._on(nodes)}"
        if math.isnan(out):
            raise ValueError(f"{where} is not a number (NaN)")
        if math.isinf(out):
            raise OverflowError(
                f"{where} is too large for a float: it overflows to inf (the largest float is "
                f"about {_LARGEST})"
            )
        names = [_short(node) for node in nodes]
        for index, partial in enumerate(partials):
            which = f" d out/d {names[index]}" if len(nodes) > 1 else ""
            text = f"its local partial{which}, {self.rule(index, *names, out=format_number(out))},"
            if math.isnan(partial):
                raise ValueError(f"{where}: {text} is not a number (NaN)")
            if math.isinf(partial):
                raise OverflowError(
                    f"{where}: {text} is too large for a float (it overflows to inf; the "
                    f"largest float is about {_LARGEST}), so no gradient can flow back through it"
                )


OPS: dict[str, Op] = {}
"""The op table: every op of the scalar engine by its name (powers ``**k`` are made by
:func:`power`, one per exponent)."""


def define_op(
    name: str,
    formula: str,
    compute: Callable[..., tuple[float, tuple[float, ...]]],
    rules: tuple[str, ...],
    domain: Callable[..., None] | None = None,
    *,
    register: bool = True,
) -> Op:
    """Add an op to the scalar engine: the hook, and how every op below is made.

    Give the op's name, its formula (``{a}``, ``{b}`` for the inputs), its ``compute``
    function (the inputs' numbers → ``(out, local partials)``) and the text of each local
    partial's rule (``{out}`` for the output). For example softplus, log(1 + e^a), whose local
    partial is σ(a)::

        def softplus(a):
            return math.log1p(math.exp(a)), (1 / (1 + math.exp(-a)),)

        SOFTPLUS = define_op("softplus", "softplus({a})", softplus, rules=("σ({a})",))
        y = SOFTPLUS(x)          # a Value node; y.backward() works through it

    The returned :class:`Op` is applied by calling it. With ``register=True`` it joins
    :data:`OPS`, so drawings and the stepper write it with its own formula and rule; a
    ``Value`` method for it is one line (``def softplus(self): return OPS["softplus"](self)``).
    ``register=False`` makes an op used once without changing the table (the tanh exercise
    plugs a learner's rule in this way). ``compute`` may let an ``OverflowError`` escape for a
    result too large for a float; a result or partial that is inf or NaN is refused too, and so
    is a result of another shape than ``(out, (partial, ...))`` or one that is not real.

    The engine's own ops cannot be replaced: registering a new op under one of their names
    (``"tanh"``, ``"+"``) would silently change every later ``.tanh()`` or ``+`` of the
    session, so it is refused (give yours its own name, ``"my_tanh"``). A name of your own can
    be registered again (re-running the cell that defines it). The formula and rules may name
    only ``{a}``, ``{b}``, ... (one letter per input, as many as ``rules`` has entries) and, in
    the rules, ``{out}``; ``compute`` (and ``domain``) must take one number per input.
    """
    for field_name, text in (("name", name), ("formula", formula)):
        if not isinstance(text, str) or not text:
            raise TypeError(f"define_op: {field_name} must be a non-empty string, got {text!r}")
    if not callable(compute):
        raise TypeError(f"define_op: compute must be a function, got {compute!r}")
    register = switch(register, "register", "define_op")
    if isinstance(rules, str) or not rules or not all(isinstance(r, str) for r in rules):
        raise TypeError(
            f"define_op: rules must be a tuple of strings, one per input, got {rules!r}"
        )
    if len(rules) > len(_LETTERS):
        raise ValueError(
            f"define_op: an op takes at most {len(_LETTERS)} inputs, got {len(rules)} rules"
        )
    if domain is not None and not callable(domain):
        raise TypeError(f"define_op: domain must be a function or None, got {domain!r}")
    if register and (name in _BUILT_IN or name.startswith("**")):
        mine = {"+": "my_add", "*": "my_mul"}.get(name, f"my_{name.lstrip('*') or 'op'}")
        which = (
            "the name of the engine's powers (**2, **0.5, ...)"
            if name.startswith("**")
            else ("the name of one of the engine's own ops")
        )
        raise ValueError(
            f"define_op: {name!r} is {which}; registering your op under it would change that "
            "op for every later use in this session. Give your op a name of its own, such as "
            f"{mine!r} (or pass register=False to use it without adding it to the table)"
        )
    letters = _LETTERS[: len(rules)]
    _check_fields("formula", formula, letters, letters)
    for index, rule in enumerate(rules):
        _check_fields(f"rules[{index}]", rule, letters, (*letters, "out"))
    _check_arity("compute", compute, letters)
    if domain is not None:
        _check_arity("domain", domain, letters)
    op = Op(name, formula, compute, tuple(rules), domain)
    if register:
        OPS[name] = op
    return op


_LETTERS = "abcdefgh"  # how formulas and rules name an op's inputs, in order
_BUILT_IN: set[str] = set()  # the engine's own ops: filled right after the table below


def _check_fields(what: str, text: str, letters: str, allowed: tuple[str, ...] | str) -> None:
    """Refuse a formula or rule text naming a placeholder other than ``allowed``."""
    inputs = ", ".join("{" + x + "}" for x in letters)
    hint = f"the op has {len(letters)} input(s) (one per rule), written {inputs}"
    if "out" in allowed:
        hint += ", and {out} for its output"
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as error:  # a lone { or }
        raise ValueError(
            f"define_op: the {what} {text!r} cannot be read ({error}); write a placeholder "
            "as {a}, and a brace itself as {{ or }}"
        ) from None
    for field in fields:
        if field not in allowed:
            raise ValueError(
                f"define_op: the {what} {text!r} names {{{field}}}, but {hint}; write "
                f"{{{letters[0]}}} for the first input"
            )


def _check_arity(what: str, function: Callable[..., Any], letters: str) -> None:
    """Refuse a ``compute`` or ``domain`` that cannot take one number per input."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a built-in without a signature: it will tell when called
        return
    try:
        signature.bind(*(0.0 for _ in letters))
    except TypeError:
        names = ", ".join(letters)
        raise TypeError(
            f"define_op: {what} must take one number per input, {len(letters)} here "
            f"({names}: the op has as many inputs as rules), but its parameters are "
            f"{signature}; write def {what}({names}): ..."
        ) from None


# ---- the table: each op's forward and local partials, its formula and its rule text --------


def _exp(a: float) -> tuple[float, tuple[float]]:
    out = math.exp(a)
    return out, (out,)


def _log(a: float) -> tuple[float, tuple[float]]:
    return math.log(a), (1.0 / a,)


def _tanh(a: float) -> tuple[float, tuple[float]]:
    out = math.tanh(a)
    return out, (1.0 - out * out,)


def _sigmoid(a: float) -> tuple[float, tuple[float]]:
    # Two forms of 1 / (1 + e^-a), each used where its exponential cannot overflow: for a
    # negative a, e^-a could exceed the largest float, but e^a / (1 + e^a) never does.
    if a >= 0.0:
        out = 1.0 / (1.0 + math.exp(-a))
    else:
        e = math.exp(a)
        out = e / (1.0 + e)
    return out, (out * (1.0 - out),)


def _relu(a: float) -> tuple[float, tuple[float]]:
    return max(a, 0.0), (1.0 if a > 0.0 else 0.0,)


def _max(a: float, b: float) -> tuple[float, tuple[float, float]]:
    # The winner moved the output, the loser did not. At a tie (a == b) the first input gets
    # it all, as Tensor.max gives it to the first arg-max: max has a kink there, and any split
    # that adds up to 1 is a valid choice (PyTorch's torch.maximum splits a tie half and half).
    if a >= b:
        return a, (1.0, 0.0)
    return b, (0.0, 1.0)


def _positive(a: float) -> None:
    if a <= 0.0:
        raise ValueError(
            f"log needs a positive input, got {format_number(a)}: the logarithm is only "
            "defined for numbers greater than 0"
        )


define_op("+", "{a} + {b}", lambda a, b: (a + b, (1.0, 1.0)), rules=("1", "1"))
define_op("*", "{a} * {b}", lambda a, b: (a * b, (b, a)), rules=("{b}", "{a}"))
define_op("neg", "-{a}", lambda a: (-a, (-1.0,)), rules=("-1",))
define_op("exp", "exp({a})", _exp, rules=("exp({a}) = {out}",))
define_op("log", "log({a})", _log, rules=("1/{a}",), domain=_positive)
define_op("tanh", "tanh({a})", _tanh, rules=("1 - {out}²",))
define_op("sigmoid", "sigmoid({a})", _sigmoid, rules=("σ(1 - σ) = {out}·(1 - {out})",))
define_op("relu", "relu({a})", _relu, rules=("1 if {a} > 0 else 0",))
define_op("max", "max({a}, {b})", _max, rules=("1 if {a} >= {b} else 0", "1 if {b} > {a} else 0"))
_BUILT_IN.update(OPS)  # from here on, define_op refuses to register these names again


def power(k: float) -> Op:
    """The op ``a**k`` for a plain number ``k``: d out/d a = k a^(k-1) (the power rule).

    Its name is ``**k`` (``**2``, ``**-1``, ``**0.5``). At a = 0 the rule's a^(k-1) divides
    by zero when k < 1, so the op refuses 0 there, saying so. One op per exponent: asking
    again for the same k gives the same op.
    """
    return _power(real_number(k, "the exponent k", "power"))


@functools.lru_cache(maxsize=256)
def _power(k: float) -> Op:
    text = format_number(k)

    def compute(a: float) -> tuple[float, tuple[float]]:
        out = a**k  # an OverflowError here: the result is too large
        try:
            partial = k * a ** (k - 1.0) if k != 0.0 else 0.0
        except OverflowError:
            partial = math.inf  # refused by the op, which names the partial
        return out, (partial,)

    def domain(a: float) -> None:
        if a < 0.0 and not k.is_integer():
            raise ValueError(
                f"a negative base ({format_number(a)}) with a non-integer exponent has no "
                "real value"
            )
        if a == 0.0 and k < 0.0:
            raise ZeroDivisionError(
                f"the base is 0, and 0 to a negative power is 1 divided by 0**{format_number(-k)}"
            )
        if a == 0.0 and 0.0 < k < 1.0:
            raise ZeroDivisionError(
                f"its value is 0, but its local partial {text}·0^{format_number(k - 1)} = "
                f"{text}/0^{format_number(1 - k)} divides by zero (the power rule at 0: the "
                "slope there is vertical), so no gradient can flow back through it; keep the "
                "base above 0"
            )

    return Op(
        f"**{text}", f"{{a}}**{text}", compute, (f"{text}·{{a}}^{format_number(k - 1)}",), domain
    )


def op_named(name: str) -> Op | None:
    """The table's op called ``name`` (``"**k"`` gives :func:`power` of k), or ``None``."""
    if not isinstance(name, str):
        raise TypeError(
            f"op_named needs an op's name, such as 'tanh' or '**2', got {shown(name)} "
            f"({type(name).__name__})"
        )
    op = OPS.get(name)
    if op is None and name.startswith("**"):
        try:
            k = float(name[2:])
        except ValueError:
            return None
        return power(k) if math.isfinite(k) else None
    return op


# ---- the node ------------------------------------------------------------------------------


class Value:
    """A scalar node of a computation graph.

    Attributes: ``data`` (the forward value, a float), ``grad`` (dL/d(this node) after
    ``backward()``, ``None`` before), ``label`` (a name for drawings, or ``None``), ``parents``
    (the input nodes, in order), ``op`` (the name of the operation that made it, a key of
    :data:`OPS`; ``""`` for an input) and ``partials`` (d(this)/d(parent) for each parent,
    in the same order).

    A ``Value`` is a node of a graph, not a plain number; what Python's number habits do:

    * ``v + w``, ``v * 2``, ``v - w``, ``v / w``, ``v ** 2``, ``-v``, ``sum([v, w])`` and
      ``abs(v)`` (written max(v, -v)) make new nodes, so gradients flow through them;
    * ``round(v, 3)`` and ``f"{v:.3f}"`` give the number for showing (rounding has slope 0,
      so nothing is lost by leaving the graph there);
    * ``float(v)``, ``int(v)`` and ``math.exp(v)`` are refused with a TypeError: the plain
      number they would give is cut out of the graph, and no gradient flows back through it.
      Write ``v.data`` for the number, and ``v.exp()`` (``v.log()``, ``v.tanh()``, ...) for a
      function of it;
    * ``v < w``, ``v <= 2``, ``max(v, w)``, ``sorted(values)`` and ``if v:`` are refused: a
      node has no order or truth of its own. Compare the numbers (``v.data < 2``); the larger
      of two as a node of the graph is ``v.max(w)``;
    * ``v == w`` is ``v is w``: a node equals only itself, and hashes by identity, so nodes
      can be kept in sets and dicts (the topological order does). ``v == 2.0``, comparing a
      node with a number, is refused: write ``v.data == 2.0``.
    """

    __slots__ = ("data", "grad", "label", "parents", "op", "partials")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy hands here every numpy function given a Value. ``array + v`` (and ``-``,
        ``*``, ``/``, ``**``) goes to the Value's own operator, which refuses an array the same
        as ``v + array`` does, and takes a NumPy number (``np.float64(2) * v``); a numpy
        function of a Value, such as ``np.exp(v)``, is refused with what to write instead."""
        operator = _NUMPY_OPERATORS.get(ufunc.__name__)
        if operator and method == "__call__" and len(inputs) == 2 and not kwargs:
            if inputs[1] is self:
                return getattr(self, f"__r{operator}__")(inputs[0])
            return getattr(self, f"__{operator}__")(inputs[1])
        raise TypeError(_numpy_function(ufunc.__name__, self))

    def __init__(self, data: float, label: str | None = None) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(...) got a Value; use it directly instead of wrapping it")
        data = real_number(data, "data", "Value")  # a finite float, or why not
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        self.data = data
        self.grad: float | None = None
        self.label = label
        self.parents: tuple[Value, ...] = ()
        self.op = ""
        self.partials: tuple[float, ...] = ()

    @staticmethod
    def _node(data: float, parents: tuple[Value, ...], op: str, partials: tuple) -> Value:
        """The output node of an op: its value, inputs, and local partials."""
        out = Value.__new__(Value)
        out.data = data
        out.grad = None
        out.label = None
        out.parents = parents
        out.op = op
        out.partials = partials
        return out

    def named(self, label: str) -> Value:
        """Set ``label`` and return the node itself: ``q = (x + y).named("q")``."""
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        self.label = label
        return self

    def __repr__(self) -> str:
        grad = "not computed yet" if self.grad is None else format_number(self.grad, 6)
        name = f"{self.label!r}, " if self.label else ""
        return f"Value({name}data={format_number(self.data, 6)}, grad={grad})"

    # ---- the operations: each applies its entry of the op table --------------------------

    def __add__(self, other: Value | float) -> Value:
        return OPS["+"](self, _lift(other, "+"))

    def __mul__(self, other: Value | float) -> Value:
        return OPS["*"](self, _lift(other, "*"))

    def __neg__(self) -> Value:
        return OPS["neg"](self)

    def __pow__(self, k: float) -> Value:
        if isinstance(k, Value):
            raise TypeError(
                "x ** y needs a plain number as the exponent, not a Value: the course's "
                "power rule d(x^k)/dx = k x^(k-1) holds for a constant k. For a variable "
                "exponent write (y * x.log()).exp()."
            )
        return _power(real_number(k, "the exponent k", "x ** k"))(self)

    def exp(self) -> Value:
        return OPS["exp"](self)

    def log(self) -> Value:
        return OPS["log"](self)

    def tanh(self) -> Value:
        return OPS["tanh"](self)

    def sigmoid(self) -> Value:
        return OPS["sigmoid"](self)

    def relu(self) -> Value:
        return OPS["relu"](self)

    def max(self, other: Value | float) -> Value:
        """max(self, other): the larger input gets the whole upstream gradient, the other 0
        (at a tie, the first input)."""
        return OPS["max"](self, _lift(other, "max"))

    # ---- composites, written with the primitives above -----------------------------

    def __sub__(self, other: Value | float) -> Value:
        return self + (-_lift(other, "-"))

    def __truediv__(self, other: Value | float) -> Value:
        other = _lift(other, "/")
        if other.data == 0.0:
            named = f" ({other.label} is 0)" if other.label else ""
            raise ZeroDivisionError(
                f"/: {_short(self)} / {_short(other)} divides by zero{named}: the divisor is 0"
            )
        return self * other**-1

    def __radd__(self, other: float) -> Value:
        return _lift(other, "+") + self

    def __rmul__(self, other: float) -> Value:
        return _lift(other, "*") * self

    def __rsub__(self, other: float) -> Value:
        return _lift(other, "-") - self

    def __rtruediv__(self, other: float) -> Value:
        return _lift(other, "/") / self

    def __rpow__(self, base: float) -> Value:
        raise TypeError(
            "b ** x with a Value exponent x is not a primitive here (the exponent must be a "
            "plain number); write (x * math.log(b)).exp() instead"
        )

    def __pos__(self) -> Value:
        """``+v`` is ``v`` itself."""
        return self

    def __floordiv__(self, other: object) -> Value:
        raise TypeError(_no_such_op("//", self))

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: object) -> Value:
        raise TypeError(_no_such_op("%", self))

    __rmod__ = __mod__

    def __divmod__(self, other: object) -> Value:
        raise TypeError(_no_such_op("divmod", self))

    __rdivmod__ = __divmod__

    def __abs__(self) -> Value:
        """|v|, written max(v, -v): d|v|/dv is 1 for v >= 0 (the tie at 0 goes to v) and -1
        below."""
        return self.max(-self)

    # ---- a node is not a plain number: each says what to write (see the class docstring) --

    def __round__(self, ndigits: int | None = None) -> float:
        """``round(v, n)`` is ``round(v.data, n)``, a plain number for showing."""
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{v:.3f}"`` formats ``v.data``; ``f"{v}"`` is ``repr(v)``."""
        return format(self.data, spec) if spec else repr(self)

    def __float__(self) -> float:
        raise TypeError(_cut_out("float", self))

    def __int__(self) -> int:
        raise TypeError(_cut_out("int", self))

    def __bool__(self) -> bool:
        name = _name(self)
        raise TypeError(
            f"if {name}: a Value has no truth of its own (every node would count as true); "
            f"test its number instead, such as if {name}.data > 0 or if {name}.data != 0"
        )

    __hash__ = object.__hash__  # by identity: nodes are kept in sets and dicts

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value):
            return self is other  # a node equals only itself
        if isinstance(other, Real):
            raise TypeError(_compared(self, "==", other))
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Value):
            return self is not other
        if isinstance(other, Real):
            raise TypeError(_compared(self, "!=", other))
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return _order(self, "<", other)

    def __le__(self, other: object) -> bool:
        return _order(self, "<=", other)

    def __gt__(self, other: object) -> bool:
        return _order(self, ">", other)

    def __ge__(self, other: object) -> bool:
        return _order(self, ">=", other)

    # ---- reverse mode -----------------------------------------------------------------

    def local_backward(self, upstream: float) -> list[float]:
        """Multiply: each parent's contribution is upstream × its local partial."""
        return [upstream * partial for partial in self.partials]

    def backward(self) -> None:
        """Set ``grad`` on every node this one depends on to d(self)/d(node).

        The seed d(self)/d(self) is 1. Gradients are reset first, so calling ``backward()``
        again gives the same numbers rather than adding to the old ones. A gradient that would
        pass the largest float raises ``OverflowError`` naming the node and the edge where it
        did (:func:`course_lib.autodiff.graph.backward_steps`), and leaves every ``grad`` at
        ``None``.
        """
        backpropagate(self, 1.0)

    def graph_nodes(self) -> list[Value]:
        """Every node of the graph that ends here, inputs first (a topological order)."""
        return topological_order(self)

    # ---- copies: without recursion, so a graph of any depth can be copied or pickled -----

    def __copy__(self) -> Value:
        """A new node with the same numbers and the same parents (the graph is shared)."""
        twin = Value._node(self.data, self.parents, self.op, self.partials)
        twin.grad, twin.label = self.grad, self.label
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the whole graph ending here, made inputs first (no recursion)."""
        for node in topological_order(self):
            if id(node) not in memo:
                parents = tuple(memo[id(parent)] for parent in node.parents)
                twin = Value._node(node.data, parents, node.op, node.partials)
                twin.grad, twin.label = node.grad, node.label
                memo[id(node)] = twin
        return memo[id(self)]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the graph ending here as a flat list of nodes (inputs first), so its depth
        does not matter. Each pickled node brings its own copy of the graph behind it."""
        order = topological_order(self)
        index = {node: i for i, node in enumerate(order)}
        records = [
            (
                node.data,
                node.grad,
                node.label,
                node.op,
                node.partials,
                tuple(index[p] for p in node.parents),
            )
            for node in order
        ]
        return (_rebuild, (records,))


def _rebuild(records: list[tuple[Any, ...]]) -> Value:
    """The last node of a graph pickled by :meth:`Value.__reduce__`."""
    nodes: list[Value] = []
    for data, grad, label, op, partials, parents in records:
        node = Value._node(data, tuple(nodes[i] for i in parents), op, partials)
        node.grad, node.label = grad, label
        nodes.append(node)
    return nodes[-1]


def _lift(x: Any, op: str) -> Value:
    """Wrap a plain number as a constant node; reject anything else with a clear message."""
    if isinstance(x, Value):
        return x
    if type(x) is float and _isfinite(x):  # the common case, made without Value's checks
        return Value._node(x, (), "", ())
    if isinstance(x, Real):
        try:
            return Value(x)
        except (ValueError, OverflowError) as error:
            raise type(error)(f"{op}: {error}") from None
    hint = ""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        hint = ": a Value holds one number; for arrays use course_lib.tensor.Tensor"
    elif isinstance(x, str):
        hint = ": convert the text to a number first, e.g. float('2.5')"
    raise TypeError(f"{op}: cannot combine a Value with {type(x).__name__} {_show(x)}{hint}")


def _name(node: Value) -> str:
    """A node in a sentence that shows code: its label, or ``v``."""
    return node.label if node.label and node.label.isidentifier() else "v"


def _cut_out(function: str, node: Value) -> str:
    name = _name(node)
    return (
        f"{function}({name}): a Value cannot become a plain number, because the number would "
        "be cut out of the graph and no gradient could flow back through it. Write "
        f"{name}.data for its number ({format_number(node.data)}); for a function of it use "
        f"the Value's own op, such as {name}.exp(), {name}.log() or {name}.tanh(), not math.exp"
    )


# numpy's functions that are operators a Value has, by name: numpy hands them back to Value.
_NUMPY_OPERATORS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "true_divide": "truediv",
    "divide": "truediv",
    "power": "pow",
}


def _numpy_function(function: str, node: Value) -> str:
    """The error for ``np.exp(v)``: numpy works on numbers; the engine's op keeps the graph."""
    name = _name(node)
    own = (
        f"use {name}.{function}(), the engine's own op"
        if function in OPS
        else (
            f"the engine has no {function} op: build it from the ops it has, or add one with "
            "define_op"
        )
    )
    return (
        f"np.{function}({name}): numpy's functions work on plain numbers and arrays, not on a "
        f"Value (a node of the graph, whose gradient numpy cannot follow); {own}. "
        f"{name}.data is its plain number ({format_number(node.data)}), without a gradient"
    )


def _no_such_op(symbol: str, node: Value) -> str:
    """The error for ``v // 2``, ``v % 2`` and ``divmod``: the engine has no such op."""
    name = _name(node)
    return (
        f"{symbol} on a Value: the engine has no {symbol} op (its derivative is 0 or undefined "
        f"almost everywhere, so no gradient would flow). For the plain number write "
        f"{name}.data {symbol if symbol != 'divmod' else '//'} ...; for division write {name} / ..."
    )


def _compared(node: Value, symbol: str, number: Any) -> str:
    """The error for ``v == 2.0`` (and ``!=``): a node is not a number; compare its number."""
    name = _name(node)
    return (
        f"{name} {symbol} {shown(number)}: a Value is a node of the graph, not a number, so it "
        f"is equal only to itself; compare its number: {name}.data {symbol} {shown(number)}"
    )


def _order(node: Value, symbol: str, other: Any) -> bool:
    """The error for ``v < w`` (and <=, >, >=): Values have no order; compare their numbers."""
    if not isinstance(other, Value | Real):
        return NotImplemented
    name, right = _name(node), shown(other)
    if isinstance(other, Value):
        right = "w" if other is not node and _name(other) == name else _name(other)
    number = f"{right}.data" if isinstance(other, Value) else right
    raise TypeError(
        f"{name} {symbol} {right}: a Value is a node of the graph, not a number, so it has no "
        "order (and a comparison gives a bool, which no gradient flows through). Compare the "
        f"numbers: {name}.data {symbol} {number}. For the larger of two Values as a node of the "
        f"graph write {name}.max(w); to sort Values or pick one by its number, use "
        "key=lambda v: v.data"
    )


def _short(node: Value) -> str:
    """A node in a message: its label, or its number."""
    return node.label if node.label else format_number(node.data)


def _show(x: Any) -> str:
    """``repr(x)``, cut short for messages."""
    try:
        text = repr(x)
    except Exception:  # a broken __repr__ must not hide the real error
        return f"<{type(x).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."
