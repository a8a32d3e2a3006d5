"""The one number formatter: how every number in a drawing, a widget or a message is written.

``format_number(x)`` gives 4 significant digits (``0.2451``, ``-14``, ``1.159e+04``), with whole
numbers written without a decimal point and ``-0`` written as ``0``. ``format_number(x,
decimals=3)`` gives a fixed number of decimals instead, for numbers shown side by side (bar
labels), again never as ``-0.000``.

A Python int beyond the floats' range (``10**400``; floats end near 1.8e308) is written from its
exact digits, in the same style (``1e+400``, ``-1.235e+404``; with ``decimals`` every digit,
then the decimals), rather than raising the bare ``OverflowError`` that ``float()`` would:
the formatter writes numbers, so it writes this one too, while the library's computations
refuse it (:func:`course_lib.numbers.checking.real_number`). Anything that is not a real number
(text, None, a complex number) is refused by that same check, with its sentence.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from course_lib.numbers.checking import real_number, whole_number

__all__ = ["MAX_DIGITS", "format_number"]

_LARGEST = 1.7976931348623157e308  # the largest float: a Python int beyond it has no float
# The most digits (or decimals) a number is written with: a float64 holds 17 significant
# digits and its exact binary value at most 767; Python's format refuses far fewer than 10**400.
MAX_DIGITS = 1000


def format_number(x: Any, digits: int = 4, *, decimals: int | None = None) -> str:
    """``x`` as short text: ``digits`` significant digits, or ``decimals`` fixed decimals.

    Whole numbers that fit in ``digits`` digits show no decimal point (``-14``, not
    ``-14.0``); a number that rounds to zero shows as ``0`` (never ``-0`` or ``-0.000``);
    ``inf`` and ``nan`` show as such; an int too large for a float shows its own digits
    (``format_number(10**400)`` is ``1e+400``). ``digits`` is a positive int, ``decimals`` an
    int ≥ 0, both at most ``MAX_DIGITS`` (1000).
    """
    if type(digits) is not int or not 1 <= digits <= MAX_DIGITS:
        digits = whole_number(digits, "digits", "format_number", maximum=MAX_DIGITS)
    if decimals is not None and (type(decimals) is not int or not 0 <= decimals <= MAX_DIGITS):
        decimals = whole_number(
            decimals, "decimals", "format_number", minimum=0, maximum=MAX_DIGITS
        )
    if isinstance(x, int) and not isinstance(x, bool) and not -_LARGEST <= x <= _LARGEST:
        return _exact_int(x, digits, decimals)
    try:
        if isinstance(x, (str, bytes)):
            raise TypeError  # float() would read "0.5"; text is not a number to format
        x = float(x)
    except (TypeError, ValueError, OverflowError):  # text, None, a complex, a huge Fraction
        x = real_number(x, "x", "format_number", finite=False)  # raises its sentence
    if not math.isfinite(x):
        return str(x)
    if decimals is not None:
        text = f"{x:.{decimals}f}"
        return text[1:] if text.startswith("-") and float(text) == 0.0 else text
    if x == 0.0:
        return "0"
    text = f"{x:.{digits}g}"
    return "0" if float(text) == 0.0 else text


def _exact_int(x: int, digits: int, decimals: int | None) -> str:
    """An int beyond the floats, from its exact digits: as ``{:g}`` would write it if it could
    (scientific, trailing zeros dropped), or with ``decimals`` zeros after the point."""
    if decimals is not None:
        return f"{x}.{'0' * decimals}" if decimals else str(x)
    mantissa, exponent = f"{Decimal(x):.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"
