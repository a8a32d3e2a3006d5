"""Headless tests of the cross-entropy explorer: move a control, read the displayed numbers."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from course_lib.kernels import logsumexp, softmax
from course_lib.widgets import cross_entropy_explorer
from course_lib.widgets.charts import fmt

SVG = "{http://www.w3.org/2000/svg}"


def charts(html: str) -> list[list[float]]:
    """The number over each bar, for every bar chart (p, y, p - y) in the view, as floats."""
    out = []
    for m in re.finditer(r"<svg.*?</svg>", html, re.S):
        found = ["".join(t.itertext()) for t in ET.fromstring(m.group(0)).iter(f"{SVG}text")]
        out.append([float(v) for v in found[1::2]])  # after the title: number, class label, ...
    return out


def shown_gradient(w) -> list[float]:
    """The bold gradient entries of the summary table, in class order."""
    table = w.summary.value.split("<table", 1)[1]
    return [float(v) for v in re.findall(r"<b>(-?\d+\.\d+)</b>", table)]


def shown_loss(w) -> float:
    return float(re.search(r"= <b>(-?\d+\.\d+)</b></div>", w.summary.value).group(1))


def test_default_shows_p_y_and_p_minus_y() -> None:
    w = cross_entropy_explorer()
    z = np.array([2.0, 1.0, 0.1])
    p = softmax(z)
    p_bars, y_bars, g_bars = charts(w.bars.value)
    assert p_bars == [float(fmt(v)) for v in p]
    assert y_bars == [1.0, 0.0, 0.0]
    assert g_bars == [float(fmt(v)) for v in p - np.eye(3)[0]]
    assert shown_gradient(w) == g_bars
    assert shown_loss(w) == pytest.approx(logsumexp(z) - z[0], abs=5e-5)
    assert "0.4170" in w.summary.value  # -log 0.659 for the textbook logits (2, 1, 0.1)


def test_raising_the_true_logit_drives_its_component_to_zero_and_others_shrink() -> None:
    w = cross_entropy_explorer(logits=(1.0, 0.5, -0.5, 2.0), true_class=0)
    grads, losses = [shown_gradient(w)], [shown_loss(w)]
    for value in (2.0, 3.0, 4.0, 6.0):
        w.logit_sliders[0].value = value
        grads.append(shown_gradient(w))
        losses.append(shown_loss(w))
        z = np.array([value, 0.5, -0.5, 2.0])
        np.testing.assert_allclose(w.grad, softmax(z) - np.eye(4)[0], atol=1e-15)
        assert w.loss == pytest.approx(logsumexp(z) - value, rel=1e-12)
    g = np.array(grads)
    assert (np.diff(g[:, 0]) > 0).all()  # p_0 - 1 rises ...
    assert g[0, 0] < -0.7 and -0.03 < g[-1, 0] < 0  # ... from -0.78 to -0.023
    assert (np.diff(g[:, 1:], axis=0) <= 0).all()  # every other component shrinks
    assert (g[-1, 1:] < 0.02).all()
    assert (np.diff(losses) < 0).all() and losses[-1] < 0.03
    # the displayed bars follow too
    assert charts(w.bars.value)[2] == g[-1].tolist()


def test_changing_the_true_class_moves_y_and_the_negative_component() -> None:
    w = cross_entropy_explorer(logits=(2.0, 1.0, 0.1))
    w.true_class.value = 2
    p = softmax([2.0, 1.0, 0.1])
    _, y_bars, g_bars = charts(w.bars.value)
    assert y_bars == [0.0, 0.0, 1.0]
    assert g_bars == [float(fmt(v)) for v in p - np.eye(3)[2]]
    assert g_bars[2] < 0 and g_bars[0] > 0 and g_bars[1] > 0
    assert "−log p<sub>2</sub>" in w.summary.value
    assert shown_loss(w) == pytest.approx(-np.log(p[2]), abs=5e-5)
    assert "sum to 0.000" in w.summary.value


def test_gradient_has_one_component_per_class_for_ten_classes() -> None:
    w = cross_entropy_explorer(logits=[0.1 * k for k in range(10)], true_class=9)
    assert w.grad.shape == (10,) and len(shown_gradient(w)) == 10
    assert [len(c) for c in charts(w.bars.value)] == [10, 10, 10]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="2 to 10 logits, got 1"):
        cross_entropy_explorer(logits=(1.0,))
    with pytest.raises(ValueError, match=r"true_class \(a class index, 0 to 2\) must be at most 2"):
        cross_entropy_explorer(true_class=3)
    with pytest.raises(ValueError, match=r"true_class .* must be 0 or more, got -1"):
        cross_entropy_explorer(true_class=-1)
    with pytest.raises(
        TypeError, match=r"true_class .* must be a whole number \(an int\), got 1.0"
    ):
        cross_entropy_explorer(true_class=1.0)
    with pytest.raises(ValueError, match=r"logits\[1\] must be a finite number, got nan"):
        cross_entropy_explorer(logits=(1.0, np.nan))
    with pytest.raises(ValueError, match="low < high"):
        cross_entropy_explorer(low=2.0, high=2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"logits": ["a", "b"]}, r"logits\[0\] must be a number, got the text 'a'"),
        ({"logits": (1.0, None)}, r"logits\[1\] must be a number, got None"),
        ({"logits": (True, 1.0)}, r"logits\[0\] must be a number, got True \(a bool\)"),
        ({"logits": "ab"}, "logits must be a sequence of numbers"),
        ({"logits": 3}, "logits must be a sequence of numbers"),
        ({"low": "1"}, "low must be a number, got the text '1'"),
        ({"high": 1 + 2j}, "high must be a real number"),
        ({"true_class": "0"}, "true_class .* must be an int, got '0'"),
    ],
)
def test_values_that_are_not_numbers_get_a_sentence(kwargs, message) -> None:
    """cross_entropy_explorer(['a', 'b']) used to fail inside numpy's isfinite."""
    with pytest.raises(TypeError, match=f"cross_entropy_explorer: {message}"):
        cross_entropy_explorer(**kwargs)


def test_the_bars_are_drawn_by_the_one_bar_chart(monkeypatch) -> None:
    from course_lib.widgets import charts as _charts
    from course_lib.widgets import cross_entropy

    titles = []

    def spy(values, **kwargs):
        titles.append(kwargs["title"])
        return _charts.bar_chart(values, **kwargs)

    monkeypatch.setattr(cross_entropy, "bar_chart", spy)
    w = cross_entropy_explorer()
    w.logit_sliders[1].value = 3.0
    assert titles == ["p = softmax(z)", "y (one-hot)", "∂L/∂z = p − y"] * 2


def test_chart_numbers_come_from_the_one_formatter() -> None:
    from course_lib.numbers.formatting import format_number

    for value in (0.4170, -0.0004, -0.25, 1.0, 123.4567):
        assert fmt(value) == format_number(value, decimals=3)
        assert fmt(value, 1) == format_number(value, decimals=1)
    assert fmt(-0.0004) == "0.000"


def test_text_form_is_short_and_names_the_state() -> None:
    w = cross_entropy_explorer()
    assert repr(w) == "CrossEntropyExplorer(logits (2.0, 1.0, 0.1), true class 0, loss 0.4170)"
    w.true_class.value = 2
    assert "true class 2" in repr(w)
    bundle = w._repr_mimebundle_()
    text = bundle[0]["text/plain"] if isinstance(bundle, tuple) else bundle["text/plain"]
    assert text == repr(w)  # what a notebook saves: no ipywidgets trait listing


@pytest.mark.parametrize(
    ("low", "high", "says"),
    [
        (-1e308, 1e308, "must lie within"),
        (-math.inf, 6.0, "finite"),
        (-6.0, math.nan, "finite"),
        (-(10**400), 6.0, "low is an int of 401 digits, too large for a float"),
        (-6.0, 10**7, "must lie within"),
    ],
)
def test_slider_ends_are_finite_and_far_from_overflow(low, high, says):
    """Infinite ends were refused already; low=-10**400 used to fail inside numpy's isfinite."""
    with pytest.raises(ValueError, match=f"^cross_entropy_explorer: .*{says}"):
        cross_entropy_explorer(low=low, high=high)


def test_numpy_numbers_are_taken_as_they_are() -> None:
    w = cross_entropy_explorer(np.array([2.0, 1.0, 0.1]), np.int64(2), np.int32(-6), np.float32(6))
    assert w.true_class.value == 2 and type(w.true_class.value) is int
    assert w.logit_sliders[0].min == -6.0 and w.logit_sliders[0].max == 6.0


def test_the_widest_allowed_range_survives_logits_dragged_to_opposite_ends():
    w = cross_entropy_explorer(low=-1e6, high=1e6)
    w.logit_sliders[0].value, w.logit_sliders[1].value = 1e6, -1e6
    assert np.isfinite(w.loss) and np.all(np.isfinite(w.grad))


def test_a_negative_true_logit_is_bracketed_after_the_minus():
    w = cross_entropy_explorer((2.0, 1.0, -6.0), true_class=2)
    assert "− (-6.000) =" in w.summary.value and "− -6" not in w.summary.value
