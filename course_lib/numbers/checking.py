"""The one check of a number a user passes in: a real number, a whole number, a size.

Every entry point of the library that takes a number from a user (a seed, a count, a step
size, an upstream gradient, a starting value) sends it through one of these, so each kind of
bad number gets the same sentence wherever it is typed:

* ``real_number(x, name, where)``: a float. Python and NumPy ints and floats pass (``3``,
  ``np.int64(3)``, ``np.float32(0.5)``); an int too large for a float (``10**400``) is a
  ValueError saying so (``float()`` would raise a bare OverflowError); a complex number, text,
  None or a bool is a TypeError naming what was given and what to write instead; NaN and ±inf
  are a ValueError unless ``finite=False``.
* ``whole_number(x, name, where, minimum=1)``: an int. NumPy integers pass; ``3.0`` and
  ``2.5`` are refused with the int to write; below ``minimum`` (a negative seed) is a
  ValueError.
* ``switch(x, name, where)``: a bool (``True``/``False``, or NumPy's ``np.True_``); ``1``,
  ``"yes"`` or ``None`` is a TypeError, so a typo never reads as a silent True or False.
* ``check_size(count, what, where)``: refuses an allocation of more than ``MAX_ELEMENTS``
  numbers *before* it is tried, saying how much memory it would take (``hidden=10**12`` is a
  typo, not a request for eight terabytes).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

__all__ = [
    "MAX_ELEMENTS",
    "check_size",
    "not_an_array",
    "real_number",
    "shown",
    "switch",
    "whole_number",
]

# 2**28 float64 numbers are 2 GiB: more than any exercise of this course needs by a factor of
# ten (the MNIST training set as float32 is 47 million numbers), less than most laptops hold.
MAX_ELEMENTS = 2**28


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut short for a message (an int of 400 digits shows its length)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"an int of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}... ({len(text)} characters)"


def _kind(value: Any) -> str:
    return type(value).__name__


def real_number(value: Any, name: str, where: str, *, finite: bool = True) -> float:
    """``value`` as a Python float, or an error naming ``name`` in ``where`` and the fix.

    Accepts any real number that is not a bool: Python and NumPy ints and floats, a
    ``fractions.Fraction``. Raises TypeError for anything else (with a hint for text, a
    complex number and a 0-d or 1-element array), ValueError for an int beyond the floats'
    range (about 1.8e308) and, when ``finite`` is true, for NaN and ±inf.
    """
    if type(value) is float and (not finite or math.isfinite(value)):
        return value  # the common case, decided at once
    if isinstance(value, bool):
        raise TypeError(
            f"{where}: {name} must be a number, got {value} (a bool); write 1.0 or 0.0 if you "
            "mean a number"
        )
    if isinstance(value, complex) or _kind(value).startswith("complex"):
        raise TypeError(
            f"{where}: {name} must be a real number, got {shown(value)}, which has an "
            "imaginary part; the course works with real numbers only"
        )
    if isinstance(value, str):
        raise TypeError(
            f"{where}: {name} must be a number, got the text {shown(value)}; write the number "
            "without quotes"
        )
    if not isinstance(value, Real):
        size = getattr(value, "size", None)
        hint = f"; for a one-number array write {name}=float(x) or x.item()" if size == 1 else ""
        raise TypeError(
            f"{where}: {name} must be a number, got {shown(value)} ({_kind(value)}){hint}"
        )
    try:
        number = float(value)
    except OverflowError:  # an int (or Fraction) beyond the floats
        raise ValueError(
            f"{where}: {name} is {shown(value)}, too large for a float (the largest is about "
            "1.8e308)"
        ) from None
    if finite and not math.isfinite(number):
        raise ValueError(f"{where}: {name} must be a finite number, got {number}")
    return number


def whole_number(
    value: Any, name: str, where: str, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """``value`` as a Python int in [``minimum``, ``maximum``], or an error naming it.

    Python and NumPy integers pass; a bool, a float (even ``3.0``: write ``3``), text or
    anything else is a TypeError; a number outside the range is a ValueError.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        if isinstance(value, Real) and not isinstance(value, bool):
            number = float(value)
            hint = f"; write {int(number)}" if math.isfinite(number) and number.is_integer() else ""
            raise TypeError(
                f"{where}: {name} must be a whole number (an int), got {shown(value)}{hint}"
            )
        extra = "; write it without quotes" if isinstance(value, str) else ""
        raise TypeError(
            f"{where}: {name} must be an int, got {shown(value)} ({_kind(value)}){extra}"
        )
    number = int(value)
    if number < minimum:
        kind = {0: "0 or more", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{where}: {name} must be {kind}, got {shown(number)}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{where}: {name} must be at most {maximum}, got {shown(number)}")
    return number


def switch(value: Any, name: str, where: str) -> bool:
    """``value`` as a bool when it is one (Python's or NumPy's), else a TypeError naming it."""
    if value is True or value is False:
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)  # NumPy's bool (np.True_), without importing numpy here
    raise TypeError(
        f"{where}: {name} must be True or False (it is a switch), got {shown(value)} "
        f"({_kind(value)})"
    )


def not_an_array(value: Any, error: BaseException) -> str:
    """Why numpy could not make an array of numbers of ``value`` (``error`` is what
    ``np.asarray`` raised), in words: a ragged list, or what was given."""
    text = str(error)
    if "inhomogeneous" in text or "setting an array element with a sequence" in text:
        return (
            f"{shown(value)} has rows of different lengths (a ragged list); an array needs the "
            "same number of entries in every row"
        )
    return f"{shown(value)} is not a table of numbers ({type(error).__name__})"


def check_size(count: int, what: str, where: str, *, itemsize: int = 8) -> None:
    """Refuse, before allocating, an array of ``count`` numbers beyond ``MAX_ELEMENTS``.

    ``what`` says which array and why it is that large ("W1, hidden × 784 weights"); the
    message gives the memory it would take, ``count × itemsize`` bytes. ``count`` is a whole
    number ≥ 0 (a Python or NumPy int); anything else is refused by :func:`whole_number`.
    """
    if type(count) is not int or count < 0:
        count = whole_number(count, f"the size of {what}", where, minimum=0)
    if count <= MAX_ELEMENTS:
        return
    size = count * itemsize
    if size >= 10**30:
        amount = f"more than 10^{len(str(size)) - 1} bytes"
        numbers = f"about 10^{len(str(count)) - 1}"
    else:
        units = (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6))
        amount = next(f"{size / scale:.3g} {unit}" for unit, scale in units if size >= scale)
        numbers = f"{float(count):.3g}"
    raise ValueError(
        f"{where}: {what} would hold {numbers} numbers ({amount} of memory), more than this "
        f"course allows ({MAX_ELEMENTS:,} numbers); is a size mistyped?"
    )
