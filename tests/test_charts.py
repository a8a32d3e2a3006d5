"""Tests of the hand-built SVG charts (course_lib.widgets.charts)."""

from __future__ import annotations

import re

from course_lib.widgets.charts import bar_chart


def _bars(svg: str) -> list[tuple[float, float]]:
    return [
        (float(y), float(h))
        for y, h in re.findall(
            r"<rect x='[\d.]+' y='([\d.]+)' width='[\d.]+' height='([\d.]+)'", svg
        )
    ]


def test_a_value_off_the_scale_is_drawn_to_its_edge_broken_and_named():
    svg = bar_chart([0.5, 3.0, -2.0], title="t", low=-1.0, high=1.0, labels=["a", "b", "c"])
    inside, above, below = _bars(svg)
    top_edge, bottom_edge = above[0], below[0] + below[1]
    assert inside[0] > top_edge and inside[0] + inside[1] < bottom_edge  # 0.5 ends inside
    assert svg.count("<polyline") == 2  # a break across each clipped bar, none across a
    desc = re.search(r"<desc>(.*?)</desc>", svg).group(1)
    assert desc == (
        "a: 0.500, b: 3.000 (off the scale, drawn to its edge), "
        "c: -2.000 (off the scale, drawn to its edge)"
    )
    assert ">3.000</text>" in svg and ">-2.000</text>" in svg  # labelled with their own numbers


def test_values_on_the_scale_have_no_break():
    svg = bar_chart([0.0, 1.0, -1.0], title="t", low=-1.0, high=1.0)
    assert "<polyline" not in svg and "off the scale" not in svg
