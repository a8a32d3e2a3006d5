"""The one number formatter: how every number in a drawing, a widget or a message is written.

``format_number(x)`` gives 4 significant digits (``0.2451``, ``-14``, ``1.159e+04``), with whole
numbers written without a decimal point and ``-0`` written as ``0``. ``format_number(x,
decimals=3)`` gives a fixed number of decimals instead, for numbers shown side by side (bar
labels), again never as ``-0.000``.
"""

from __future__ import annotations

import math

__all__ = ["format_number"]


def format_number(x: float, digits: int = 4, *, decimals: int | None = None) -> str:
    """``x`` as short text: ``digits`` significant digits, or ``decimals`` fixed decimals.

    Whole numbers that fit in ``digits`` digits show no decimal point (``-14``, not
    ``-14.0``); a number that rounds to zero shows as ``0`` (never ``-0`` or ``-0.000``);
    ``inf`` and ``nan`` show as such.
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if decimals is not None:
        text = f"{x:.{decimals}f}"
        return text[1:] if text.startswith("-") and float(text) == 0.0 else text
    if x == 0.0:
        return "0"
    text = f"{x:.{digits}g}"
    return "0" if float(text) == 0.0 else text
