"""A hand exercise and how a learner's answer to it is judged.

A :class:`HandExercise` holds what a notebook must not show before the learner answers: the
expected number (or row of numbers), the precision the exercise asks for, the rule, where to
look, and the slips learners make. :meth:`HandExercise.judge` turns an answer into feedback in
tiers:

* a right answer (any answer within the stated precision) is confirmed;
* a first wrong answer gets a sentence that names the slip it shows and where to look, never
  the right number;
* a later wrong answer gets the same, followed by the rule (the formula, in symbols).

The slips are found in two ways. The exercise may list its own (:class:`Slip`: the number a
mistake produces and a sentence naming the mistake). Every exercise also recognises the
**generic slips**, built from the ingredients it declares: the wrong sign, twice or half the
answer, zero, the local partial alone, the upstream gradient alone, one path of several, the
average of the paths where their sum belongs, and a forward value where a gradient belongs. An
answer matching none of them still gets the exercise's "where to look" sentence, so no wrong
number is ever answered with a bare "not right".

Numbers are typed or written as a learner would: ``-4``, ``0.25``, ``3/4``, ``1e-3``, a numpy
scalar. Nothing a learner types makes :meth:`judge` raise: text, an empty answer, ``1e400``,
``nan`` or a complex number each get a sentence saying what to type instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from course_lib.display.accessible import verdict_html
from course_lib.numbers.checking import whole_number

__all__ = [
    "EXACT",
    "AxesExercise",
    "CheckResult",
    "HandExercise",
    "Precision",
    "Slip",
    "decimals",
    "parse_number",
    "significant",
]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check; true when the answer is right."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return verdict_html(self.correct, self.message)


# ---- reading a learner's number --------------------------------------------------------------


def parse_number(text: Any) -> float | None:
    """A learner's entry as a float: a number, or text like ``-4``, ``0.25``, ``3/4``, ``1e-3``.

    ``None`` for an empty entry (``...``, ``None`` or blank text). Anything else that is not a
    finite real number raises ``ValueError`` with a sentence a learner can act on: what they
    gave and what to type instead (a comma decimal such as ``0,5`` is refused with "write 0.5",
    since ``1,000`` would be ambiguous; ``1e400`` and ``nan`` are named as too large / not a
    number; a complex number is named as such).
    """
    if isinstance(text, bool | np.bool_):
        raise ValueError(f"expected a number, got {text!r}")
    if text is None or text is ...:
        return None
    if isinstance(text, str):
        cleaned = text.strip().replace("\u2212", "-").replace(" ", "")
        if not cleaned:
            return None
        if "," in cleaned:
            suggestion = cleaned.replace(",", ".") if cleaned.count(",") == 1 else None
            if suggestion is not None:
                try:
                    float(suggestion)
                except ValueError:
                    suggestion = None  # "[1,2]" is no decimal written with a comma
            raise ValueError(
                f"{text.strip()!r} has a comma: write decimals with a point"
                + (f", like {suggestion}" if suggestion else "")
            )
        try:
            number = float(Fraction(cleaned))
        except (ValueError, ZeroDivisionError):
            try:
                number = float(cleaned)
            except ValueError:
                raise ValueError(
                    f"expected a number like -4, 0.25 or 3/4, got {text.strip()!r}"
                ) from None
        except OverflowError:
            number = math.inf
        if math.isnan(number):
            raise ValueError(f"{text.strip()!r} is not a number: type a finite number")
        if math.isinf(number):
            raise ValueError(
                f"{text.strip()!r} is too large to fit in a float: type a finite number, "
                "like -4 or 0.25"
            )
        return number
    if isinstance(text, complex | np.complexfloating):
        raise ValueError(
            f"{text!r} is a complex number: the answer is a real number, with no imaginary part"
        )
    try:
        number = float(text)  # ints, floats, numpy scalars, 0-d arrays
    except OverflowError:
        raise ValueError(
            "that number is too large to fit in a float: type a finite number, like -4 or 0.25"
        ) from None
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {type(text).__name__} {text!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {number}")
    return number


# ---- precision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Precision:
    """How close an answer must be to count as right.

    ``kind`` is ``"exact"`` (the answer is a short number such as ``-4`` or ``3.01``; any
    way of writing it, ``3/4`` or ``0.75``, is accepted), ``"decimals"`` (right to ``digits``
    decimal places) or ``"significant"`` (right to ``digits`` significant figures). An answer
    is accepted when it is the expected value rounded or cut off at the last asked-for place
    (or more precise than that): within half a unit of that place either way, or its digits
    cut there. So for 0.0900 to 3 decimal places 0.090 counts and 0.091 does not, and for
    4.93e-3 to 2 significant figures 4.9e-3 counts and 5.0e-3 does not.

    ``leeway`` widens the first test to that many units either way, for answers a learner
    works out from numbers the page shows rounded (a drawing that labels each node with 4
    significant figures): the rounding of those inputs carries into the last digit asked for.
    """

    kind: str = "exact"
    digits: int = 0
    leeway: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("exact", "decimals", "significant"):
            raise ValueError(
                f"precision kind must be 'exact', 'decimals' or 'significant', got {self.kind!r}"
            )
        if self.kind != "exact" and not (type(self.digits) is int and 1 <= self.digits <= 15):
            digits = whole_number(self.digits, "digits", f"{self.kind} precision", maximum=15)
            object.__setattr__(self, "digits", digits)  # a NumPy int, as the int it holds
        if not (isinstance(self.leeway, int | float) and 0.5 <= self.leeway <= 10):
            raise ValueError(
                f"precision leeway is in units of the last place, 0.5 (rounded) to 10; got "
                f"{self.leeway!r}"
            )

    def unit(self, expected: float) -> float:
        """One unit in the last asked-for place of ``expected`` (``0`` for exact)."""
        if self.kind == "exact":
            return 0.0
        if self.kind == "decimals":
            return 10.0 ** (-self.digits)
        magnitude = abs(expected)
        if magnitude == 0.0:
            return 10.0 ** (-self.digits)
        return 10.0 ** (math.floor(math.log10(magnitude)) - self.digits + 1)

    def tolerance(self, expected: float) -> float:
        """How far an answer may be from ``expected`` and still be taken for it when a slip's
        value is matched (one unit of the last asked-for place: a slip worked out with
        rounded steps); :meth:`accepts` judges a right answer more strictly."""
        if self.kind == "exact":
            return 1e-9 * max(1.0, abs(expected))
        return self.unit(expected) * (1.0 + 1e-9)

    def accepts(self, answer: float, expected: float, unit: float | None = None) -> bool:
        """Is ``answer`` ``expected`` rounded or cut off at the asked-for place? ``unit``, if
        given, replaces that place's unit (a row judges entries near zero on its own scale)."""
        if self.kind == "exact":
            return abs(answer - expected) <= self.tolerance(expected)
        unit = self.unit(expected) if unit is None else unit
        if abs(answer - expected) <= unit * self.leeway * (1.0 + 1e-9):  # rounded, or finer
            return True
        # cut off: the digits of the expected value as written out (its shortest repr), cut
        # at the asked-for place (0.0900 cut at 3 places is 0.090, never 0.089)
        try:
            places = Decimal(1).scaleb(round(math.log10(unit)))
            cut = float(Decimal(repr(float(expected))).quantize(places, rounding=ROUND_DOWN))
        except (ArithmeticError, ValueError):  # more digits than a Decimal holds: no cut
            return False
        return abs(answer - cut) <= unit * 1e-3  # the same digits, up to float noise

    def describe(self) -> str:
        """The precision in words, as a notebook states it: "to 3 significant figures"."""
        if self.kind == "exact":
            return "exactly"
        if self.kind == "decimals":
            return f"to {self.digits} decimal place{'s' if self.digits != 1 else ''}"
        return f"to {self.digits} significant figure{'s' if self.digits != 1 else ''}"


EXACT = Precision("exact")


def decimals(digits: int) -> Precision:
    """Right to ``digits`` decimal places."""
    return Precision("decimals", digits)


def significant(digits: int) -> Precision:
    """Right to ``digits`` significant figures."""
    return Precision("significant", digits)


# ---- the exercise ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slip:
    """A typical mistake: the answer it produces and a sentence naming it (never the answer)."""

    gives: Any
    says: str


def _shown(value: float, unlike: float | None = None) -> str:
    """A number as feedback echoes it: 6 significant digits. A wrong answer (``unlike`` is the
    right one) gets as many more as it takes to tell the two apart: 3.0000001 echoed as "3"
    next to "is not right" would show the right answer."""
    for digits in (6, 9, 12, 17):
        text = f"{value:.{digits}g}"
        if unlike is None or value == unlike or text != f"{unlike:.{digits}g}":
            break
    return text


def _same_numbers_elsewhere(
    numbers: Sequence[float], want: Sequence[float], accepts: Callable[[float, float], bool]
) -> bool:
    """True when every number matches a different entry of ``want`` (some in the wrong place)."""
    free = list(range(len(want)))
    for number in numbers:
        match = next((j for j in free if accepts(number, want[j])), None)
        if match is None:
            return False
        free.remove(match)
    return True


def _row_text(values: Sequence[float], unlike: Sequence[float] | None = None) -> str:
    """A row of numbers as feedback echoes it; a wrong row (``unlike``: the right one) with
    each entry told apart from the right one (see :func:`_shown`)."""
    if unlike is None:
        return "[" + ", ".join(_shown(v) for v in values) + "]"
    return "[" + ", ".join(_shown(v, w) for v, w in zip(values, unlike, strict=True)) + "]"


@dataclass(frozen=True)
class HandExercise:
    """A number (or a row of numbers) a learner works out by hand.

    ``key`` names it, as a notebook's check call does (``"five_node.df_dx"``); ``name`` is how
    feedback writes it (``"df/dx"``). ``expected`` is computed by the engine wherever it can
    be. ``look`` says where to look and ``rule`` gives the rule in symbols; neither may state
    the answer. ``slips`` are the exercise's own typical mistakes.

    The ingredients of the generic slips, each optional: ``local`` (the local partial of the
    edge alone), ``upstream`` (the upstream gradient alone), ``paths`` (the contribution of
    each path, when the answer sums several), ``values`` (forward values a learner might give
    where a gradient belongs, as ``(number, "the forward value of q")`` pairs). The wrong sign
    and a factor of 2 are recognised for every exercise; zero, one path and the average of the
    paths only when the answer is a gradient (``gradient=True``, the default).
    """

    key: str
    name: str
    expected: Any
    look: str
    rule: str
    precision: Precision = EXACT
    slips: tuple[Slip, ...] = ()
    local: float | None = None
    upstream: float | None = None
    paths: tuple[float, ...] = ()
    values: tuple[tuple[float, str], ...] = ()
    gradient: bool = True  # False for answers that are not gradients (a step, an error)
    # Other values that count as right, judged at the same precision: what a learner gets
    # from a number the page itself rounded earlier (a Solution's), e.g. 3 × 1.790 where the
    # exact answer is 3 × 1.78976. Never shown.
    also: tuple[float, ...] = ()
    _row: tuple[float, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.look.strip() or not self.rule.strip():
            raise ValueError(f"{self.key}: an exercise needs a 'look' and a 'rule' sentence")
        if np.ndim(self.expected) > 0:
            row = tuple(float(v) for v in np.asarray(self.expected, dtype=float).reshape(-1))
            object.__setattr__(self, "_row", row)
        else:
            object.__setattr__(self, "expected", float(self.expected))
        for value in self.expected_values():
            if not math.isfinite(value):
                raise ValueError(f"{self.key}: the expected value {value} is not finite")
        if self.also and (self._row is not None or not all(map(math.isfinite, self.also))):
            raise ValueError(f"{self.key}: 'also' holds finite values of a one-number answer")

    # -- what the notebook may say before an answer ------------------------------------------

    def expected_values(self) -> tuple[float, ...]:
        return self._row if self._row is not None else (self.expected,)

    def asks(self) -> str:
        """What to type, and to which precision (shown while the exercise is unanswered)."""
        return f"Replace the ... with {self._wants()}."

    def _wants(self) -> str:
        what = "your number" if self._row is None else f"a list of {len(self._row)} numbers"
        return f"{what}, {self.precision.describe()}"

    def _unanswered(self, answer: Any) -> CheckResult:
        """The reply to an answer that holds no number yet: the ``...`` as handed out (or an
        empty box of a widget), or ``None`` put in its place (named: the ``...`` is gone)."""
        if answer is None:
            return CheckResult(False, f"{self.name} is None, not a number: type {self._wants()}.")
        return CheckResult(False, f"{self.name}: not answered yet. {self.asks()}")

    # -- judging --------------------------------------------------------------------------------

    def judge(self, answer: Any, misses: int = 0) -> CheckResult:
        """Feedback for ``answer``; ``misses`` is how many wrong answers came before it."""
        if type(misses) is not int or misses < 0:
            misses = whole_number(misses, "misses", "judge", minimum=0)
        if answer is ... or answer is None:
            return self._unanswered(answer)
        if self._row is not None:
            return self._judge_row(answer, misses)
        try:
            number = parse_number(answer)
        except ValueError as error:
            return CheckResult(False, f"{self.name}: {error}.")
        if number is None:
            return self._unanswered(answer)
        if any(self.precision.accepts(number, v) for v in (self.expected, *self.also)):
            return CheckResult(True, f"{self.name} = {_shown(number)}: right.")
        shown = _shown(number, unlike=self.expected)
        return CheckResult(False, self._wrong(shown, self._diagnose(number), misses))

    def _wrong(self, shown: str, why: str, misses: int) -> str:
        text = f"{self.name} = {shown} is not right. {why}"
        if misses >= 1:
            text += f" The rule: {self.rule}"
        return text

    def _matches(self, number: float, value: float) -> bool:
        # A slip "matches" at the exercise's precision, judged on the slip's own scale (a slip
        # far smaller than the answer must not swallow every small number).
        return abs(number - value) <= self.precision.tolerance(value)

    def _diagnose(self, number: float) -> str:
        """The sentence for a wrong scalar answer: a named slip, or where to look."""
        for slip in self._all_slips():
            if self._matches(number, float(slip.gives)):
                return slip.says
        near = self._near_miss(number)
        return near or self.look

    def _near_miss(self, number: float) -> str:
        """A sentence for an answer near the right one: too few digits, or slips in the last."""
        return _near_miss(number, self.expected, self.precision)

    def _all_slips(self) -> list[Slip]:
        """The exercise's own slips first, then the generic ones its ingredients allow."""
        found = list(self.slips)
        e = self.expected
        if self.gradient and len(self.paths) > 1:
            for part in self.paths:
                found.append(
                    Slip(
                        part,
                        f"That is one path only, one of the {len(self.paths)}. The value is "
                        "used in several places, a join: add the contribution of every path.",
                    )
                )
            found.append(
                Slip(
                    sum(self.paths) / len(self.paths),
                    "That is the average of the paths. At a join the contributions add: a "
                    "nudge moves every use at once, and nothing divides by the number of uses.",
                )
            )
        if self.local is not None:
            found.append(
                Slip(
                    self.local,
                    "That is the local partial alone: multiply it by the upstream gradient of "
                    "the node it feeds.",
                )
            )
        if self.upstream is not None:
            found.append(
                Slip(
                    self.upstream,
                    "That is the upstream gradient passed back unchanged: multiply it by the "
                    "local partial of the edge you walk back along.",
                )
            )
        for value, what in self.values:
            found.append(
                Slip(value, f"That is {what}, a forward value: the question asks for a gradient.")
            )
        if e != 0.0:
            found.append(Slip(-e, "The sign is wrong: check the sign of each step."))
            twice = (
                "That is off by a factor of 2: look for a term counted twice, or a factor of 2 "
                "or ½ dropped or added."
            )
            found += [Slip(2 * e, twice), Slip(e / 2, twice)]
            if self.gradient:
                found.append(
                    Slip(
                        0.0,
                        "Zero would mean the output does not move at all when this value is "
                        "nudged. Follow every path from it to the output.",
                    )
                )
        # A slip that gives the right answer here teaches nothing (and would be wrong to show).
        return [s for s in found if not self._matches(float(s.gives), e)]

    def _judge_row(self, answer: Any, misses: int) -> CheckResult:
        want = self._row or ()
        n = len(want)
        flat = (
            f"{self.name}: expected {n} numbers in one flat list, one per entry (a list like "
            f"[{', '.join('...' for _ in want)}])"
        )
        if isinstance(answer, str | bytes) or _is_single(answer):
            return CheckResult(False, f"{flat}, got {answer!r}.")
        try:
            items = list(answer)
        except TypeError:
            return CheckResult(False, f"{flat}, got {answer!r}.")
        if any(isinstance(item, list | tuple) for item in items):
            return CheckResult(False, f"{flat}, not a list of lists.")
        if isinstance(answer, np.ndarray) and answer.ndim != 1:
            return CheckResult(False, f"{flat}, not an array of shape {answer.shape}.")
        if all(item is ... for item in items):
            return CheckResult(False, f"{self.name}: not answered yet. {self.asks()}")
        if len(items) != n:
            return CheckResult(False, f"{self.name}: expected {n} numbers, got {len(items)}.")
        numbers: list[float] = []
        for i, item in enumerate(items):
            try:
                number = parse_number(item)
            except ValueError as error:
                return CheckResult(False, f"{self.name}, entry {i}: {error}.")
            if number is None:
                if item is None:
                    return CheckResult(False, f"{self.name}, entry {i} is None, not a number.")
                return CheckResult(False, f"{self.name}, entry {i}: not answered yet.")
            numbers.append(number)
        shown = _row_text(numbers)
        scale = max(abs(v) for v in want)

        def accepts(a: float, b: float) -> bool:
            if self.precision.kind == "significant":
                # Entries near zero are judged on the row's scale, not their own.
                unit = max(self.precision.unit(b), self.precision.unit(scale) * 0.1)
                return self.precision.accepts(a, b, unit)
            return self.precision.accepts(a, b)

        def matches(a: float, b: float) -> bool:  # a slip's value, within one unit
            tol = self.precision.tolerance(b)
            if self.precision.kind == "significant":
                tol = max(tol, self.precision.tolerance(scale) * 0.1)
            return abs(a - b) <= tol

        off = [i for i, (a, b) in enumerate(zip(numbers, want, strict=True)) if not accepts(a, b)]
        if not off:
            return CheckResult(True, f"{self.name} = {shown}: right.")
        shown = _row_text(numbers, unlike=want)
        for slip in self._row_slips():
            pattern = [float(v) for v in np.asarray(slip.gives, dtype=float).reshape(-1)]
            if len(pattern) == n and all(
                matches(a, b) for a, b in zip(numbers, pattern, strict=True)
            ):
                return CheckResult(False, self._wrong(shown, slip.says, misses))
        if _same_numbers_elsewhere(numbers, want, accepts):
            why = "Those numbers are the right ones, but some sit in another entry's place."
            return CheckResult(False, self._wrong(shown, why, misses))
        nears = [_near_miss(numbers[i], want[i], self.precision) for i in off]
        if all(nears):
            why = f"Entr{'y' if len(off) == 1 else 'ies'} {', '.join(map(str, off))}: {nears[0]}"
            return CheckResult(False, self._wrong(shown, why, misses))
        which = ", ".join(str(i) for i in off)
        one = len(off) == 1
        why = (
            f"Entr{'y' if one else 'ies'} {which} (counting from 0) {'is' if one else 'are'} "
            f"off. {self.look}"
        )
        return CheckResult(False, self._wrong(shown, why, misses))

    def _row_slips(self) -> list[Slip]:
        want = np.asarray(self._row, dtype=float)
        found = list(self.slips)
        if np.any(want != 0):
            found += [
                Slip(-want, "Every sign is wrong: check the sign of each factor."),
                Slip(2 * want, "Every entry is off by the same factor of 2."),
                Slip(want / 2, "Every entry is off by the same factor of 2."),
            ]
            if self.gradient:
                found.append(
                    Slip(
                        np.zeros_like(want),
                        "All zeros would mean the output does not move when these values are "
                        "nudged.",
                    )
                )
        return [s for s in found if not np.allclose(np.asarray(s.gives, dtype=float), want)]


def _is_single(answer: Any) -> bool:
    """True for one number (or a 0-d array): not a list of them."""
    try:
        return np.ndim(answer) == 0
    except (TypeError, ValueError):  # a ragged nesting numpy cannot shape
        return False


def _digits_after_point(number: float) -> int:
    """How many decimals ``number`` is written with (0.25 → 2, 3.0 → 0), at most 15."""
    for d in range(16):
        if abs(round(number, d) - number) <= 1e-12 * max(1.0, abs(number)):
            return d
    return 15


def _near_miss(number: float, expected: float, precision: Precision) -> str:
    """For an answer that is wrong but close: say whether it has too few digits for the
    precision asked, or is off in its last digits (an arithmetic slip). "" when not close."""
    gap = abs(number - expected) * (1 - 1e-9)  # a float's last bit does not move the border
    if expected == 0:  # an exact zero (a max's loser, say): close to it is no arithmetic slip
        return ""
    if precision.kind == "exact":
        close = gap <= 5e-3 * max(1.0, abs(expected))
    elif precision.kind == "decimals":  # 10 places off, but for a small answer 5% of it,
        unit = precision.unit(expected)  # or the answer rounded to fewer places
        given = _digits_after_point(number)
        rounded_early = given < precision.digits and math.isclose(
            round(expected, given), number, rel_tol=1e-9, abs_tol=1e-12
        )
        close = rounded_early or gap <= max(2 * unit, min(10 * unit, 0.05 * abs(expected)))
    else:  # significant figures: close on the answer's own scale
        close = gap <= max(10 * precision.unit(expected), 0.05 * abs(expected))
    if not close:
        return ""
    asked = precision.describe()
    given = _digits_after_point(number)
    if precision.kind == "decimals":
        too_few = given < precision.digits
    elif precision.kind == "significant":
        leading = math.floor(math.log10(abs(number))) if number != 0 else 0
        too_few = given + leading + 1 < precision.digits
    else:
        too_few = False
    # 0.150 typed is the number 0.15: within about a unit, fewer digits shown may be trailing
    # zeros, and the answer is off in its last place rather than short of places
    if too_few and gap > 1.5 * precision.unit(expected):
        return (
            f"That is close, but this exercise asks for the answer {asked}: keep more digits "
            "through every step, and round only at the end."
        )
    return (
        f"That is close, but off in its last digits (the exercise asks for the answer {asked}): "
        "recheck the arithmetic of the last steps, or an intermediate number rounded too early."
    )


@dataclass(frozen=True)
class AxesExercise:
    """Which axes a backward pass sums over: a set of axes of an array with ``ndim`` axes.

    An answer is one int or a tuple / list / set of ints in any order; negative axes count
    from the end as in numpy; ``()`` means no axes; an axis listed twice is refused, as numpy
    refuses it. The generic slips: every axis, the axes
    that were kept instead of the expanded ones, and none.
    """

    key: str
    name: str
    expected: tuple[int, ...]
    ndim: int
    look: str
    rule: str
    slips: tuple[Slip, ...] = ()

    def __post_init__(self) -> None:
        if not self.look.strip() or not self.rule.strip():
            raise ValueError(f"{self.key}: an exercise needs a 'look' and a 'rule' sentence")

    def asks(self) -> str:
        return "Replace the ... with a tuple of axis numbers, or () for none."

    def _normal(self, axes: Sequence[int]) -> tuple[int, ...]:
        return tuple(sorted({int(a) % self.ndim for a in axes}))

    def judge(self, answer: Any, misses: int = 0) -> CheckResult:
        if type(misses) is not int or misses < 0:
            misses = whole_number(misses, "misses", "judge", minimum=0)
        name, ndim = self.name, self.ndim
        if answer is ...:
            return CheckResult(False, f"{name}: not answered yet. {self.asks()}")
        if answer is None:
            return CheckResult(
                False, f"{name} is None, not axes: type a tuple of axis numbers, or () for none."
            )
        if isinstance(answer, bool | str | bytes):
            return CheckResult(
                False, f"{name}: expected axes as integers, like (0, 2) or (), got {answer!r}."
            )
        items = [answer] if isinstance(answer, int | np.integer) else answer
        try:
            items = list(items)
        except TypeError:
            return CheckResult(
                False, f"{name}: expected axes as integers, like (0, 2), got {answer!r}."
            )
        if any(isinstance(a, bool) or not isinstance(a, int | np.integer) for a in items):
            return CheckResult(
                False, f"{name}: every axis is a whole number, like (0, 2); got {answer!r}."
            )
        bad = [int(a) for a in items if not -ndim <= a < ndim]
        if bad:
            return CheckResult(
                False,
                f"{name}: the result has {ndim} axes, numbered 0..{ndim - 1} (or -{ndim}..-1), "
                f"so {bad[0]} is not one of them.",
            )
        seen: set[int] = set()
        for a in items:
            if int(a) % ndim in seen:  # (0, 0), or (0, -ndim): numpy refuses a repeated axis
                return CheckResult(
                    False,
                    f"{name}: axis {int(a) % ndim} is listed twice in {answer!r}; each axis is "
                    "summed over once (numpy's sum refuses a repeated axis).",
                )
            seen.add(int(a) % ndim)
        given, want = self._normal(items), self._normal(self.expected)
        shown = str(given) if len(given) != 1 else f"({given[0]},)"
        if given == want:
            return CheckResult(True, f"{name} = {shown}: right.")
        why = self.look
        everything = tuple(range(ndim))
        kept = tuple(a for a in everything if a not in want)
        generic = [
            Slip(
                everything,
                "That sums over every axis, which leaves one number; sum only over "
                "the axes along which the input was copied.",
            ),
            Slip(
                kept,
                "Those are the axes the input kept; the sum goes over the other ones, "
                "the axes the broadcast added or expanded.",
            ),
            Slip(
                (),
                "Summing over no axis leaves the gradient in the result's shape: one "
                "entry per use, not one per entry of the input.",
            ),
        ]
        for slip in [*self.slips, *generic]:
            if self._normal(slip.gives) == given and self._normal(slip.gives) != want:
                why = slip.says
                break
        text = f"{name} = {shown} is not right. {why}"
        if misses >= 1:
            text += f" The rule: {self.rule}"
        return CheckResult(False, text)
