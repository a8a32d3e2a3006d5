"""Text alternatives for everything course_lib draws: one place for how a picture is named.

A learner using a screen reader must get what a picture says, and a learner who cannot see
colour must not need it. This module holds the three pieces every drawing goes through:

* :func:`svg_open` starts an SVG that is an image with a name and a description:
  ``role="img"``, ``aria-label`` (its accessible name), a ``<title>`` (the same name, shown
  as a tooltip and read by SVG viewers) and a ``<desc>`` (what the picture says, in words:
  every node of a graph with its value and gradient, every bar of a chart with its number).
* :func:`html_figure` is how a drawing shows in a notebook: inline SVG inside ``text/html``.
  JupyterLab shows ``image/svg+xml`` and ``image/png`` outputs as an ``<img>`` without any
  ``alt`` text (its renderers never set one), so a drawing shown that way has no text
  alternative at all; inline, its name and description reach the browser. A drawing keeps
  its size, never shrinking its text to fit a narrow column (a projector at 150% zoom with
  the file browser open made graph text 10 px): it sits in a region that scrolls sideways
  when the column is narrower, which the keyboard can reach (:func:`scroll_region`).
* :func:`text_scaled_width` sizes a drawing with the notebook's code font, so that
  JupyterLab's Presentation Mode (which enlarges that font) enlarges the drawing too.
* :func:`describe_figure` does the same for a matplotlib figure: the PNG inside an HTML
  ``<img>`` that carries the ``alt`` text the notebook gives it.

JupyterLab sanitizes the HTML of a notebook that is not trusted yet (freshly opened, not run):
it removes every SVG element and keeps their text, which would show as a run-on line of
labels and numbers. :func:`html_figure` therefore sets the drawing's text to size 0 (an SVG
sets its own font size, so a drawing is unaffected) and puts a note inside the ``<svg>`` that
no browser draws there (an unknown element in SVG), but that sanitizing turns into plain,
visible HTML: "run the cell to see it". ``<img alt=...>`` survives sanitizing unchanged.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys
from numbers import Integral
from typing import Any

from course_lib.numbers.checking import real_number, shown

__all__ = [
    "verdict_html",
    "CONTROL_CHARACTERS",
    "CODE_FONT_PX",
    "OKABE_ITO",
    "DescribedFigure",
    "describe_figure",
    "UNTRUSTED_NOTE",
    "WIDGET_REGION_RULE",
    "html_figure",
    "ink_on",
    "scroll_region",
    "svg_open",
    "text_scaled_width",
    "xml_text",
]

SVG_NS = "http://www.w3.org/2000/svg"
CODE_FONT_PX = 13  # JupyterLab's code font size (--jp-code-font-size), but in Presentation Mode

# The Okabe–Ito palette: eight colours that stay apart under the common colour-vision
# deficiencies (protanopia, deuteranopia, tritanopia). Every colour that means something in a
# course drawing comes from here, and never alone: a border style, a mark, a sign or words say
# the same thing (README.md, "Accessibility").
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

# Characters XML 1.0 cannot hold (a label may contain them; a drawing drops them).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(s: object) -> str:
    """``s`` escaped for XML text and attributes, without the characters XML cannot hold."""
    return html.escape(CONTROL_CHARACTERS.sub("", str(s)), quote=True)


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG 2) of an sRGB colour."""

    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_on(rgb: tuple[int, int, int]) -> str:
    """Black or white, whichever contrasts more with the background ``rgb`` (WCAG 2)."""
    if not (
        isinstance(rgb, tuple | list)
        and len(rgb) == 3
        and all(isinstance(c, Integral) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb)
    ):
        raise ValueError(
            f"ink_on needs a colour as three whole numbers 0 to 255, such as (0, 114, 178), got "
            f"{rgb!r}"
        )
    light = _luminance(rgb)
    return "#000000" if (light + 0.05) / 0.05 >= 1.05 / (light + 0.05) else "#ffffff"


def _size(value: Any, name: str, where: str) -> float:
    """A drawing's width or height in px: a finite number, 0 or more."""
    size = real_number(value, name, where)
    if size < 0:
        raise ValueError(f"{where}: {name} is a size in pixels, 0 or more, got {shown(value)}")
    return size


def svg_open(
    width: float, height: float, label: str, description: str = "", attributes: str = ""
) -> str:
    """The start of an SVG image named ``label`` and described by ``description``.

    Gives ``<svg ... role="img" aria-label="label"><title>label</title><desc>...</desc>``;
    ``attributes`` are added to the ``<svg>`` tag as written (fonts, a style). The caller
    appends the picture and ``</svg>``. Both texts are escaped here.
    """
    width, height = _size(width, "width", "svg_open"), _size(height, "height", "svg_open")
    if not isinstance(label, str):
        raise TypeError(f"svg_open: label (the drawing's name) must be text, got {label!r}")
    name = xml_text(label)
    desc = f"<desc>{xml_text(description)}</desc>" if description else ""
    extra = f" {attributes.strip()}" if attributes.strip() else ""
    return (
        f'<svg xmlns="{SVG_NS}" width="{width:.0f}" height="{height:.0f}"{extra} role="img" '
        f'aria-label="{name}"><title>{name}</title>{desc}'
    )


# Shown instead of a drawing only where the notebook's HTML was sanitized (see above).
UNTRUSTED_NOTE = (
    '<label style="font-size:13px">[a drawing: run this cell to see it; JupyterLab does not '
    "show drawings saved in a notebook it does not trust yet]</label>"
)


def text_scaled_width(width: float) -> str:
    """CSS that shows a drawing ``width`` px wide, times the notebook's code font over 13 px.

    A drawing of the course is laid out for 11–12 px monospace text beside 13 px code
    (:data:`CODE_FONT_PX`, JupyterLab's ``--jp-code-font-size``). Presentation Mode sets that
    font to 16 px, and a larger code font in the settings does the same; the drawing grows by
    the same factor, 16/13, so its text keeps pace with the notebook's. Where the variable is
    not set (a saved ``.svg`` file, another front end) the drawing is ``width`` px wide; the
    height follows from the ``viewBox``. Browser zoom scales it as it scales everything.
    """
    return (
        f"width:calc({width:.0f} * var(--jp-code-font-size, {CODE_FONT_PX}px) / "
        f"{CODE_FONT_PX});height:auto"
    )


# An ipywidgets HTML view lays its content out as a flex item, which never shrinks below its
# content's width (min-width: auto): a drawing in it would stick out of the page instead of
# scrolling in its region. This rule lets such a view shrink. A widget that shows drawings holds
# it once, in a view of its own whose content never changes
# (course_lib.widgets.controls.region_rule_view). Sent inside every drawing, as it first was, it
# made the browser take in a new style sheet on each slider move and check the whole page
# against it again: about 20 ms per move in notebook 02, in Chromium's performance trace.
WIDGET_REGION_RULE = (
    "<style>.jupyter-widget-html-content:has(.tgf-scroll-region),"
    ".widget-html-content:has(.tgf-scroll-region){min-width:0}</style>"
)


def scroll_region(content: str, label: str) -> str:
    """``content`` at its own size, in a region that scrolls sideways where the page is narrower.

    The region can take the keyboard's focus (``tabindex="0"``), so arrow keys scroll it, and
    is named for a screen reader: ``label`` and that it scrolls. Its role is ``group``, not
    ``region``: a region is a landmark, and a notebook that draws one graph twice would have
    two landmarks of one name (axe: landmark-unique). A drawing is never shrunk to fit its
    column: shrunk, its text fell to 10 px at a projector's 150% zoom with the file browser
    open. Inside an ipywidgets ``HTML`` view the region needs :data:`WIDGET_REGION_RULE` in the
    page to shrink below the drawing's width; the widget holds it.
    """
    return (
        f'<div class="tgf-scroll-region" role="group" tabindex="0" '
        f'aria-label="{xml_text(label)} (scrolls sideways)" '
        f'style="overflow-x:auto;max-width:100%;font-size:0">'
        f"{content}</div>"
    )


def html_figure(svg: str, label: str, width: float) -> str:
    """A drawing as a notebook shows it: the inline ``svg`` in a ``<div>``.

    ``svg`` may also be HTML holding several drawings (a row of pictures); the note goes into
    the first.

    A drawing (``width`` > 0: its width in px) keeps its size, in a :func:`scroll_region`
    named ``label``. ``width=0`` is for content that reflows to any width (a row of small
    pictures that wraps): it is shown as it is. For a notebook not trusted yet, the drawing's
    text is hidden and :data:`UNTRUSTED_NOTE` shows instead.
    """
    width = _size(width, "width", "html_figure")
    if not isinstance(svg, str) or "<svg" not in svg:
        raise TypeError(f"html_figure needs the drawing's SVG text (<svg ...>), got {shown(svg)}")
    start = svg.index(">", svg.index("<svg")) + 1  # the end of the <svg ...> tag
    for tag in ("<title>", "<desc>"):  # the note goes after these (a name comes first)
        if svg.startswith(tag, start):
            start = svg.index(tag.replace("<", "</"), start) + len(tag) + 1
    svg = svg[:start] + UNTRUSTED_NOTE + svg[start:]
    if width <= 0:
        return f'<div style="font-size:0">{svg}</div>'
    return scroll_region(svg, label)


class DescribedFigure:
    """A matplotlib figure as a PNG with alt text; made by :func:`describe_figure`.

    In a notebook it shows as HTML ``<img alt=...>`` (the PNG inline, as base64); its text
    form is the figure's own (``<Figure size 600x400 with 1 Axes>``), the same as before.
    ``alt`` is the text alternative, ``png`` the image's bytes (at ``dpi``, default the
    figure's own).
    """

    def __init__(self, figure: Any, alt: str, dpi: float | None = None) -> None:
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(
                "describe_figure needs alt text: a sentence saying what the figure shows, "
                "for a learner who cannot see it"
            )
        if not hasattr(figure, "savefig"):
            raise TypeError(
                f"describe_figure needs a matplotlib Figure, got {type(figure).__name__}"
            )
        self.alt = " ".join(alt.split())
        self.text = repr(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi or figure.dpi)
        self.png = buffer.getvalue()

    def html(self) -> str:
        """``<img alt=... src="data:image/png;base64,...">``, shrinking with the page."""
        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<img alt="{xml_text(self.alt)}" src="data:image/png;base64,{data}" '
            'style="max-width:100%;height:auto">'
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text


def describe_figure(figure: Any, alt: str) -> DescribedFigure:
    """Show a matplotlib ``figure`` with ``alt`` text: make it a cell's last line.

    ``alt`` says what the figure shows (its axes, what the curves do, the numbers that matter)
    for a learner who cannot see it; JupyterLab would show the plain figure as an image without
    any. The figure is closed in pyplot, so the notebook does not show it a second time.
    """
    described = DescribedFigure(figure, alt)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(figure)
    return described


def verdict_html(correct: bool, text: str) -> str:
    """A verdict as HTML: green with ✔ when right, orange with ✘ when not (the mark says it
    without the colour), and the text escaped."""
    if not isinstance(text, str):
        raise TypeError(f"verdict_html: text must be the sentence to show, got {text!r}")
    colour = "#1a7f37" if correct else "#b35900"
    mark = "✔" if correct else "✘"
    return f'<div style="color:{colour}"><b>{mark}</b> {html.escape(text)}</div>'
