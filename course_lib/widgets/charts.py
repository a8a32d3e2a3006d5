"""Small hand-built SVG charts for the widgets (one bar chart, a diverging heatmap), and the
logit slider the softmax widgets share.

Plain strings, no matplotlib: building one chart takes well under a millisecond, so a widget
can redraw on every slider move. :func:`bar_chart` is the one bar chart every widget draws
(cross-entropy, fan-out, Jacobian). Every ``<text>`` holds a number written by
:func:`course_lib.numbers.formatting.format_number` (through :func:`fmt` unless a chart passes its
own), so tests can read the displayed values back out of the SVG.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np

from course_lib.display.accessible import OKABE_ITO, ink_on, svg_open
from course_lib.numbers.checking import real_number, shown
from course_lib.numbers.formatting import format_number

FONT = "font-family='sans-serif'"

# Diverging scale: Okabe–Ito blue for negative, white at 0, vermillion (orange-red) for
# positive; told apart under the common colour-vision deficiencies, and every cell also shows
# its signed number.
NEGATIVE = (0, 114, 178)
POSITIVE = (213, 94, 0)
BAR = OKABE_ITO["blue"]  # a bar >= 0, unless a chart picks its own colour
NEGATIVE_BAR = OKABE_ITO["vermillion"]  # a bar < 0: also drawn below the zero line, signed


def finite_numbers(values: object, name: str, where: str, ndim: int = 1) -> np.ndarray:
    """``values`` as a float64 array of ``ndim`` axes (1: a flat list) whose every entry is a
    finite number, or an error saying what it is instead: a drawing of NaN or inf has nothing
    to show (a bar of NaN height, a cell of no colour)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be numbers, got {type(values).__name__} {shown(values)}"
        ) from None
    if ndim == 1:
        array = array.reshape(-1)
    elif array.ndim != ndim:
        raise ValueError(f"{where}: {name} must have {ndim} axes, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{where}: {name} holds inf or NaN, which a drawing cannot show; draw finite numbers"
        )
    return array


def fmt(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals, never as "-0.000": ``format_number(x, decimals=digits)``,
    the course's one number formatter, in the form charts use (numbers side by side)."""
    return format_number(x, decimals=digits)


def subscript(i: int) -> str:
    """``i`` in Unicode subscript digits, for slider labels such as z₁₀."""
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in str(i))


def _diverging_rgb(value: float, vmax: float) -> tuple[int, int, int]:
    t = min(1.0, abs(value) / vmax) if vmax > 0 else 0.0
    end = POSITIVE if value > 0 else NEGATIVE
    r, g, b = (round(255 + (c - 255) * t) for c in end)
    return r, g, b


def diverging_color(value: float, vmax: float) -> str:
    """The fill for ``value`` on a scale centred at 0: white at 0, full colour at ±``vmax``."""
    return "rgb({},{},{})".format(*_diverging_rgb(value, vmax))


def bar_chart(
    values: Sequence[float],
    *,
    title: str,
    low: float = 0.0,
    high: float = 1.0,
    labels: Sequence[str] | None = None,
    highlight: int | None = None,
    color: str = BAR,
    colors: Sequence[str] | None = None,
    number: Callable[[float], str] = fmt,
    separator_before: int | None = None,
    width: int = 260,
    height: int = 170,
) -> str:
    """Vertical bars of ``values`` on the fixed range [low, high], each with its number.

    A fixed range (not rescaled to the data) lets the eye compare one slider position with the
    next. A bar grows up from 0 for positive values and down from 0 for negative ones; bar
    ``highlight`` gets a dark outline. A value outside the range is drawn to the range's edge
    with a zig-zag break across its bar, still labelled with its own number, and the text
    alternative says it is off the scale.

    Colours: ``color`` for bars >= 0 and vermillion for negative ones (which also grow down
    from 0 and carry their minus sign), or one colour per bar in
    ``colors``. ``number`` writes each bar's value (default :func:`fmt`, three decimals);
    ``separator_before`` draws a dashed line before that bar (to set a total apart).
    """
    values = finite_numbers(values, "values", "bar_chart")
    n = len(values)
    labels = list(labels) if labels is not None else [str(i) for i in range(n)]
    top, bottom, left = 34, 22, 8
    plot_h = height - top - bottom
    slot = (width - 2 * left) / max(n, 1)
    bar_w = max(4.0, slot * 0.7)

    def y_of(v: float) -> float:
        v = min(max(v, low), high)
        return top + (high - v) / (high - low) * plot_h

    zero_y = y_of(0.0)

    def off_scale(v: float) -> bool:
        return not low <= v <= high

    described = ", ".join(
        f"{labels[i]}: {number(float(v))}" + (" (off the scale, drawn to its edge)" * off_scale(v))
        for i, v in enumerate(values)
    )
    if highlight is not None and 0 <= highlight < n:
        described += f"; bar {labels[highlight]} is outlined"
    parts = [
        svg_open(width, height, f"Bar chart: {title}", described, f"{FONT} font-size='11'"),
        f"<text x='{width / 2:.0f}' y='13' text-anchor='middle' font-weight='bold'>"
        f"{html.escape(title)}</text>",
        f"<line x1='{left}' x2='{width - left}' y1='{zero_y:.1f}' y2='{zero_y:.1f}' "
        "stroke='#888' stroke-width='1'/>",
    ]
    if separator_before is not None:
        x = left + separator_before * slot
        parts.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{height - bottom}' stroke='#bbb' "
            "stroke-dasharray='3,3'/>"
        )
    size = 10 if n <= 6 else 8
    for i, v in enumerate(values):
        v = float(v)
        x = left + i * slot + (slot - bar_w) / 2
        y0, y1 = sorted((zero_y, y_of(v)))
        stroke = " stroke='#222' stroke-width='2'" if i == highlight else ""
        fill = colors[i] if colors is not None else (color if v >= 0 else NEGATIVE_BAR)
        parts.append(
            f"<rect x='{x:.1f}' y='{y0:.1f}' width='{bar_w:.1f}' height='{max(y1 - y0, 0.5):.1f}' "
            f"fill='{fill}'{stroke}/>"
        )
        if off_scale(v):  # a zig-zag break near the clipped end: the bar goes on beyond it
            y = y0 + 8 if v > high else y1 - 8
            steps = 4
            points = " ".join(
                f"{x + bar_w * k / steps:.1f},{y + (3 if k % 2 else -3):.1f}"
                for k in range(steps + 1)
            )
            parts.append(
                f"<polyline points='{points}' fill='none' stroke='#fff' stroke-width='2'/>"
            )
        label_y = y0 - 3 if v >= 0 else y1 + 11
        parts.append(
            f"<text x='{x + bar_w / 2:.1f}' y='{label_y:.1f}' text-anchor='middle' "
            f"font-size='{size}'>{number(v)}</text>"
        )
        parts.append(
            f"<text x='{x + bar_w / 2:.1f}' y='{height - 6}' text-anchor='middle' "
            f"fill='#555'>{html.escape(labels[i])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(
    matrix: np.ndarray,
    *,
    title: str,
    vmax: float,
    highlight_row: int | None = None,
    size: int = 300,
) -> str:
    """A C×C matrix as coloured cells with their numbers, on a diverging scale centred at 0.

    Row i is ∂(output i), column j is ∂/∂z_j. ``vmax`` fixes the scale (the same colour means
    the same number from one slider position to the next); row ``highlight_row`` is outlined.
    A legend bar under the matrix shows -vmax, 0, +vmax.
    """
    matrix = finite_numbers(matrix, "matrix", "heatmap", ndim=2)
    if matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
        raise ValueError(f"heatmap: needs a square matrix (C × C, C ≥ 1), got shape {matrix.shape}")
    vmax = real_number(vmax, "vmax (the scale's end)", "heatmap")
    if vmax <= 0:
        raise ValueError(f"heatmap: vmax (the scale's end) must be positive, got {vmax}")
    c = matrix.shape[0]
    left, top = 26, 34
    cell = min(48.0, (size - left - 6) / c)
    side = cell * c
    height = top + side + 46
    font = 11 if c <= 5 else 9 if c <= 7 else 7
    rows = "; ".join(
        f"row {i}: " + ", ".join(fmt(float(matrix[i, j])) for j in range(c)) for i in range(c)
    )
    outlined = (
        f"; row {highlight_row} is outlined"
        if highlight_row is not None and 0 <= highlight_row < c
        else ""
    )
    parts = [
        svg_open(
            left + side + 6,
            height,
            f"Heatmap: {title}",
            f"{c} by {c} matrix, row i is ∂(output i), column j is ∂/∂z_j. {rows}{outlined}",
            f"{FONT} font-size='11'",
        ),
        f"<text x='{left + side / 2:.1f}' y='13' text-anchor='middle' font-weight='bold'>"
        f"{html.escape(title)}</text>",
        f"<text x='{left + side / 2:.1f}' y='28' text-anchor='middle' fill='#555'>"
        "column j: ∂/∂z_j</text>",
    ]
    for i in range(c):
        y = top + i * cell
        parts.append(
            f"<text x='{left - 4}' y='{y + cell / 2 + 4:.1f}' text-anchor='end' fill='#555'>"
            f"{i}</text>"
        )
        for j in range(c):
            v = float(matrix[i, j])
            x = left + j * cell
            parts.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{cell:.1f}' height='{cell:.1f}' "
                f"fill='{diverging_color(v, vmax)}' stroke='#ddd' stroke-width='0.5'/>"
            )
            ink = ink_on(_diverging_rgb(v, vmax))  # black or white, whichever reads better
            parts.append(
                f"<text x='{x + cell / 2:.1f}' y='{y + cell / 2 + 3:.1f}' text-anchor='middle' "
                f"font-size='{font}' fill='{ink}'>{fmt(v)}</text>"
            )
    if highlight_row is not None and 0 <= highlight_row < c:
        parts.append(
            f"<rect x='{left:.1f}' y='{top + highlight_row * cell:.1f}' width='{side:.1f}' "
            f"height='{cell:.1f}' fill='none' stroke='#222' stroke-width='2.5'/>"
        )
    # legend: -vmax ... 0 ... +vmax
    ly = top + side + 14
    steps = 20
    seg = side / steps
    for k in range(steps):
        v = -vmax + (k + 0.5) * 2 * vmax / steps
        parts.append(
            f"<rect x='{left + k * seg:.1f}' y='{ly:.1f}' width='{seg + 0.3:.1f}' height='8' "
            f"fill='{diverging_color(v, vmax)}'/>"
        )
    for frac, v, anchor in ((0.0, -vmax, "start"), (0.5, 0.0, "middle"), (1.0, vmax, "end")):
        parts.append(
            f"<text x='{left + frac * side:.1f}' y='{ly + 22:.1f}' text-anchor='{anchor}' "
            f"fill='#555' font-size='10'>{fmt(v)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def logit_slider(i: int, value: float, low: float, high: float, width: str) -> widgets.FloatSlider:
    """The slider for logit z_i, as the softmax and cross-entropy explorers show it."""
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=0.1,
        description=f"z{subscript(i)}",
        readout_format=".1f",
        continuous_update=True,
        layout=widgets.Layout(width=width),
    )
