"""Tests of course_lib.display.accessible: every picture the course shows has a text alternative."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest

from course_lib.display.accessible import (
    OKABE_ITO,
    UNTRUSTED_NOTE,
    WIDGET_REGION_RULE,
    describe_figure,
    html_figure,
    ink_on,
    scroll_region,
    svg_open,
    text_scaled_width,
)
from course_lib.widgets.charts import bar_chart, heatmap
from course_lib.widgets.fan_out import digit_svg, paths_svg, weights_svg

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

SVG = "{http://www.w3.org/2000/svg}"


def name_and_description(svg: str) -> tuple[str, str]:
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == root.get("aria-label")
    desc = root.find(f"{SVG}desc")
    return root.get("aria-label"), "" if desc is None else desc.text


def test_svg_open_names_describes_and_escapes() -> None:
    svg = svg_open(120, 40, 'a <b> & "c"', "x\x00 < y", "font-size='11'") + "</svg>"
    root = ET.fromstring(svg)
    assert (root.get("width"), root.get("height"), root.get("font-size")) == ("120", "40", "11")
    assert name_and_description(svg) == ('a <b> & "c"', "x < y")
    assert "<desc>" not in svg_open(10, 10, "plain")


def test_html_figure_keeps_a_drawing_its_size_in_a_region_that_scrolls() -> None:
    svg = svg_open(100, 50, "small") + "<text>1</text></svg>"
    for width in (100, 2000):  # never shrunk, however narrow or wide: it scrolls instead
        shown = html_figure(svg, "big & wide", width)
        assert shown.startswith(
            '<div class="tgf-scroll-region" role="group" tabindex="0" '
            'aria-label="big &amp; wide (scrolls sideways)" '
            'style="overflow-x:auto;max-width:100%;font-size:0"><svg '
        )
        assert "<text>1</text>" in shown and "<style>" not in shown
        ET.fromstring(shown)  # still well-formed
    # width 0: content that reflows to any width (a row of small pictures), shown as it is
    assert html_figure(svg, "row", 0).startswith('<div style="font-size:0"><svg ')


def test_a_region_brings_no_style_rule_its_widget_holds_it() -> None:
    svg = svg_open(100, 50, "g") + "</svg>"
    assert "<style>" not in scroll_region(svg, "g")
    assert WIDGET_REGION_RULE.startswith("<style>") and WIDGET_REGION_RULE.endswith("</style>")
    assert ".jupyter-widget-html-content:has(.tgf-scroll-region)" in WIDGET_REGION_RULE
    assert "{min-width:0}" in WIDGET_REGION_RULE


def test_a_drawing_grows_with_the_notebooks_code_font() -> None:
    """Presentation Mode sets --jp-code-font-size to 16 px: the drawing grows by 16/13."""
    style = text_scaled_width(655)
    assert style == "width:calc(655 * var(--jp-code-font-size, 13px) / 13);height:auto"


def test_an_untrusted_notebook_shows_a_note_instead_of_the_drawings_text() -> None:
    """What JupyterLab's sanitizer leaves of a drawing: SVG tags go, their text stays."""
    svg = svg_open(100, 50, "a graph", "x: value 3") + "<text>data 3</text></svg>"
    shown = html_figure(svg, "a graph", 100)
    # inside <svg>, the note is an element no browser draws; the drawing draws as before
    assert shown.index(UNTRUSTED_NOTE) == shown.index("</desc>") + len("</desc>")
    assert "<text>data 3</text>" in shown
    sanitized = re.sub(r"</?(svg|title|desc|text)\b[^>]*>", "", shown)
    assert sanitized.endswith(
        f'style="overflow-x:auto;max-width:100%;font-size:0">a graphx: value 3{UNTRUSTED_NOTE}'
        "data 3</div>"
    )  # the run-on text at size 0, the note at 13 px
    plain = html_figure(svg_open(10, 10, "no description") + "</svg>", "x", 10)
    assert f"<title>no description</title>{UNTRUSTED_NOTE}</svg>" in plain


def test_charts_say_their_numbers_in_words() -> None:
    label, desc = name_and_description(
        bar_chart([0.25, -0.5, 1.0], title="p", low=-1.0, labels=["a", "b", "c"], highlight=2)
    )
    assert label == "Bar chart: p"
    assert desc == "a: 0.250, b: -0.500, c: 1.000; bar c is outlined"
    label, desc = name_and_description(
        heatmap(np.array([[0.1, -0.2], [0.0, 0.3]]), title="J", vmax=0.25, highlight_row=1)
    )
    assert label == "Heatmap: J"
    assert "row 0: 0.100, -0.200; row 1: 0.000, 0.300; row 1 is outlined" in desc
    label, desc = name_and_description(paths_svg(np.linspace(-1, 1, 10), 0.0, unit=4))
    assert label.startswith("Bar chart: ∂L/∂h₄") and desc.startswith("k=0: -1.00, k=1: -0.78,")
    pixels = np.zeros(784)
    pixels[:5] = 1.0
    assert name_and_description(digit_svg(pixels, title="label 3")) == (
        "Handwritten digit, label 3",
        "A 28 by 28 pixel greyscale image, 5 of 784 pixels inked.",
    )
    weights = np.zeros(784)
    weights[30], weights[700] = 0.5, -0.25
    label, desc = name_and_description(weights_svg(weights, title="W1[:, 0]"))
    assert label == "Weight picture, W1[:, 0]"
    assert "1 positive and 1 negative" in desc
    assert "largest is 0.500 at row 1, column 2" in desc
    assert "most negative is -0.250 at row 25, column 0" in desc


def test_describe_figure_shows_a_png_with_alt_text_and_keeps_the_text_form() -> None:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    shown = describe_figure(fig, alt='A line falling from 1 to 0, "steeply".')
    assert repr(shown) == "<Figure size 300x200 with 1 Axes>"
    assert not plt.fignum_exists(fig.number)  # closed in pyplot: shown once, not twice
    page = shown._repr_html_()
    assert page.startswith('<img alt="A line falling from 1 to 0, &quot;steeply&quot;." ')
    data = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(data) == shown.png and shown.png.startswith(b"\x89PNG")


def test_describe_figure_refuses_a_figure_without_alt_text() -> None:
    fig = plt.figure()
    try:
        with pytest.raises(ValueError, match="needs alt text"):
            describe_figure(fig, alt="  ")
        with pytest.raises(TypeError, match="matplotlib Figure"):
            describe_figure("not a figure", alt="words")
    finally:
        plt.close(fig)


def test_the_palette_is_okabe_ito_and_text_on_colour_takes_the_contrasting_ink() -> None:
    assert list(OKABE_ITO.values()) == [
        "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"
    ]  # fmt: skip
    assert ink_on((0, 114, 178)) == "#ffffff"  # blue: white text, 5.2:1
    assert ink_on((213, 94, 0)) == "#000000"  # vermillion: black text, 5.4:1 (white is 3.9:1)
    assert ink_on((255, 255, 255)) == "#000000" and ink_on((0, 0, 0)) == "#ffffff"
