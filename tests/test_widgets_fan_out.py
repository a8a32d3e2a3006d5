"""Headless tests of the fan-out explorer: move a control, read the displayed numbers.

A small network on synthetic 28 x 28 "images" (no data files needed): the ten path
contributions shown must be W2[j, k] (p_k - y_k), their sum must equal the engine's dL/dh_j,
and the unit's gradient dL/da_j = dL/dh_j h_j (1 - h_j).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from course_lib.display.accessible import html_figure
from course_lib.network import SigmoidNet, sgd_step
from course_lib.widgets import fan_out, fan_out_explorer
from course_lib.widgets.charts import diverging_color
from course_lib.widgets.fan_out import (
    digit_row,
    digit_svg,
    digits_html,
    number,
    paths_svg,
    weights_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    images = (rng.random((12, 784)) * (rng.random((12, 784)) > 0.7)).astype(np.float32)
    labels = rng.integers(0, 10, size=12)
    net = SigmoidNet(16, seed=1)
    for _ in range(20):  # a little training so that p is not uniform
        sgd_step(net, images, labels, 0.5)
    return net, images, labels


def reference(net: SigmoidNet, x: np.ndarray, label: int, j: int):
    """The numbers by hand, in float64 numpy: p, the ten paths, σ'(a_j)."""
    W1, b1, W2, b2 = (p.data.astype(np.float64) for p in net.params)  # noqa: N806
    a = x.astype(np.float64) @ W1 + b1
    h = 1 / (1 + np.exp(-a))
    z = h @ W2 + b2
    p = np.exp(z - z.max())
    p /= p.sum()
    y = np.eye(10)[label]
    return p, W2[j] * (p - y), h[j] * (1 - h[j])


def bar_numbers(svg: str) -> list[float]:
    """The number printed over each bar of the paths chart (ten paths, then the sum)."""
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")][1:]  # after the title
    return [float(t) for t in texts[0::2]]


def test_paths_sum_to_the_engines_upstream_gradient(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=3, unit=5)
    p, paths, slope = reference(net, images[3], int(labels[3]), 5)
    np.testing.assert_allclose(w.p, p, rtol=1e-6)
    np.testing.assert_allclose(w.contributions, paths, rtol=1e-5, atol=1e-9)
    assert w.total == pytest.approx(w.engine_dh, abs=1e-15)  # hand sum == backward()
    assert w.sigma_prime == pytest.approx(slope, rel=1e-6)
    assert w.unit_grad == pytest.approx(w.engine_da, abs=1e-15)
    assert "✓ equal" in w.summary.value
    shown = bar_numbers(w.paths.value)
    assert len(shown) == 11
    values = [*w.contributions, w.total]
    scale = max(abs(v) for v in values)
    assert shown == [float(number(v, scale=scale)) for v in values]


def test_moving_the_unit_slider_updates_everything(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=0, unit=0)
    seen = set()
    for j in range(net.hidden):
        w.unit.value = j
        _, paths, slope = reference(net, images[0], int(labels[0]), j)
        np.testing.assert_allclose(w.contributions, paths, rtol=1e-5, atol=1e-9)
        assert w.total == pytest.approx(w.engine_dh, abs=1e-15)
        assert w.unit_grad == pytest.approx(w.engine_dh * slope, rel=1e-6, abs=1e-15)
        assert f"W1[:, {j}]" in w.weights.value and f"unit {j}: a = " in w.note.value
        seen.add(w.summary.value)
    assert len(seen) == net.hidden  # every unit shows its own numbers


def test_changing_the_image_recomputes_the_backward_pass(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=0, unit=2)
    before = w.engine_dh
    w.image.value = 7
    p, paths, _ = reference(net, images[7], int(labels[7]), 2)
    np.testing.assert_allclose(w.p, p, rtol=1e-6)
    np.testing.assert_allclose(w.contributions, paths, rtol=1e-5, atol=1e-9)
    assert w.engine_dh != before
    assert f"image 7: label {labels[7]}" in w.digit.value


def test_largest_units_are_listed_and_picking_one_moves_the_slider(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=4)
    dh = np.array([fan_out_explorer(net, images, labels, 4, j).engine_dh for j in range(16)])
    order = np.argsort(-np.abs(dh), kind="stable")
    assert w.unit.value == order[0]  # the default unit is the one with the largest |dL/dh|
    listed = [value for _, value in w.top_units.options]
    assert listed == [int(j) for j in order[:8]]
    w.top_units.value = listed[3]
    assert w.unit.value == listed[3]
    assert w.total == pytest.approx(dh[listed[3]], abs=1e-15)
    w.unit.value = listed[3] + 1 if listed[3] < 15 else 0  # moving away clears the pick
    assert w.top_units.value is None
    w.top_units.value = listed[3]
    w.image.value = 5  # a new image refills the list without moving the unit
    assert w.unit.value == listed[3] and w.top_units.value is None


def test_true_class_path_is_the_only_negative_p_minus_y(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=2, unit=1)
    k = int(labels[2])
    diff = w.p - w.y
    assert diff[k] < 0 and (np.delete(diff, k) > 0).all()
    rects = list(ET.fromstring(w.paths.value).iter(f"{SVG}rect"))
    outlined = [i for i, r in enumerate(rects) if r.get("stroke") == "#222"]
    assert outlined == [k]  # the true class's bar, and only it, is outlined


def test_weights_picture_colours_match_the_diverging_scale(setup) -> None:
    net, _, _ = setup
    column = net.W1.data[:, 3].astype(float)
    svg = weights_svg(column)
    fills = re.findall(r"fill='(rgb\([^)]*\))'", svg)
    vmax = np.abs(column).max()
    assert fills == [diverging_color(v, vmax) for v in column]
    ET.fromstring(svg)


def test_digit_pictures_draw_only_the_ink() -> None:
    pixels = np.zeros(784)
    pixels[[0, 29, 783]] = [1.0, 0.5, 0.03]
    svg = digit_svg(pixels, title="label 3")
    root = ET.fromstring(svg)
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 1 + 3  # the white square, then one per inked pixel
    assert rects[1].get("fill") == "rgb(0,0,0)" and rects[2].get("fill") == "rgb(128,128,128)"
    row = digits_html(np.stack([pixels, pixels]), np.array([3, 4]), count=5)
    assert row.count("<svg") == 2 and "label 4" in row


def test_number_keeps_three_significant_digits() -> None:
    assert [number(v) for v in (-0.012174, 0.00056312, 1.2549, 0.0, -250.4)] == [
        "-0.0122",
        "0.000563",
        "1.25",
        "0",
        "-250",
    ]
    # on a shared scale, tiny values read as zero instead of long strings of digits
    assert [number(v, scale=2.5) for v in (-1.5304, 2.36e-11, -3.2e-6)] == ["-1.53", "0.00", "0.00"]


def test_paths_chart_is_well_formed() -> None:
    svg = paths_svg(np.linspace(-1, 1, 10), 0.0, unit=4, true_class=2)
    ET.fromstring(svg)
    assert bar_numbers(svg)[-1] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"image": 12}, ValueError, r"image \(an index, 0 to 11\) must be at most 11, got 12"),
        ({"unit": -1}, ValueError, r"unit \(a hidden unit, 0 to 15\) must be 0 or more, got -1"),
        ({"unit": 1.5}, TypeError, r"unit .* must be a whole number \(an int\), got 1.5"),
        ({"image": None}, TypeError, r"image .* must be an int, got None"),
        ({"image": 10**400}, ValueError, "image .* must be at most 11, got an int of 401 digits"),
    ],
)
def test_bad_choices_are_refused(setup, kwargs, error, message) -> None:
    """image=None used to reach int() and give its raw TypeError; np.int64 images were refused."""
    net, images, labels = setup
    with pytest.raises(error, match=f"^fan_out_explorer: {message}"):
        fan_out_explorer(net, images, labels, **kwargs)


def test_numpy_integers_pick_the_image_and_the_unit(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=np.int64(3), unit=np.uint8(2))
    assert (w.image.value, w.unit.value) == (3, 2)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([1, 12], ValueError, r"fan_out_explorer: labels\[1\] = 12 is not a class.* 0 to 9"),
        ([1, -1], ValueError, r"fan_out_explorer: labels\[1\] = -1 is not a class"),
        ([1.0, 2.0], TypeError, "fan_out_explorer: labels must be integer class indices"),
    ],
)
def test_every_label_is_checked_when_the_explorer_is_built(setup, bad, error, message) -> None:
    """labels=[1, 12] used to fail only when the slider reached image 1."""
    net, images, _ = setup
    with pytest.raises(error, match=message):
        fan_out_explorer(net, images[:2], np.array(bad), image=0)


def test_unscaled_images_are_refused_when_the_explorer_is_built(setup) -> None:
    net, images, labels = setup
    with pytest.raises(ValueError, match=r"fan_out_explorer: .*images / 255"):
        fan_out_explorer(net, (images * 255).astype(np.uint8), labels)


def test_the_paths_are_drawn_by_the_one_bar_chart(setup, monkeypatch) -> None:
    from course_lib.widgets import charts as _charts
    from course_lib.widgets import fan_out

    drawn = []

    def spy(values, **kwargs):
        drawn.append(list(values))
        return _charts.bar_chart(values, **kwargs)

    monkeypatch.setattr(fan_out, "bar_chart", spy)
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=3, unit=5)
    w.unit.value = 6
    assert drawn[-1] == [*w.contributions, w.total]


def test_bad_inputs_are_refused(setup) -> None:
    net, images, labels = setup
    with pytest.raises(ValueError, match=r"images must have shape \(N, 784\)"):
        fan_out_explorer(net, images[:, :100], labels)
    with pytest.raises(ValueError, match=r"labels must have shape \(12,\)"):
        fan_out_explorer(net, images, labels[:3])
    with pytest.raises(ValueError, match="must take 784 inputs"):
        fan_out_explorer(SigmoidNet(4, inputs=10), images, labels)
    with pytest.raises(TypeError, match="net must be a SigmoidNet"):
        fan_out_explorer("net", images, labels)


def test_text_forms_are_short_and_name_the_state(setup) -> None:
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=3, unit=5)
    text = repr(w)
    assert text.startswith(f"FanOutExplorer(image 3 (label {labels[3]}), hidden unit 5: ")
    assert f"sum of ten paths {w.total:.4f}" in text and len(text) <= 110
    row = digit_row(images, labels, count=4)
    assert repr(row) == "4 images, labels " + " ".join(str(v) for v in labels[:4])
    assert row._repr_html_() == html_figure(digits_html(images, labels, count=4), "digits", 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"count": "10"}, TypeError, r"count \(images to show\) must be an int, got '10'"),
        ({"count": -5}, ValueError, r"count \(images to show\) must be 0 or more, got -5"),
        ({"size": "a"}, TypeError, r"size \(pixels on a side\) must be an int"),
        ({"size": 10**400}, ValueError, r"size .* must be at most 1000, got an int of 401 digits"),
        ({"size": 0}, ValueError, r"size \(pixels on a side\) must be a positive int, got 0"),
    ],
)
def test_digit_pictures_check_their_counts_and_sizes(kwargs, error, message) -> None:
    """count='10' used to fail inside min() ("'<' not supported"), size=10**400 with an
    OverflowError, and count=-5 to show nothing silently."""
    images, labels = np.zeros((3, 784)), np.arange(3)
    with pytest.raises(error, match=f"^digits_html: {message}"):
        digit_row(images, labels, **kwargs)
    assert repr(digit_row(images, labels, count=np.int64(2), size=np.int32(40))).startswith(
        "2 images"
    )


def test_a_slider_move_sends_only_the_pictures_it_changes(setup, monkeypatch) -> None:
    """Each picture is a view of its own: a new image leaves the weight picture as it was (no
    message to the browser, which would parse its 784 squares again), a new unit the digit;
    and the kernel draws only the picture that changes."""
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=0, unit=2)
    sent, drawn = [], []
    for view in (w.digit, w.weights, w.note):
        view.observe(lambda change, view=view: sent.append(view), names="value")
    for name in ("digit_svg", "weights_svg"):
        draw = getattr(fan_out, name)
        monkeypatch.setattr(
            fan_out, name, lambda *a, name=name, draw=draw, **k: drawn.append(name) or draw(*a, **k)
        )
    w.image.value = 7
    assert sent == [w.digit, w.note]
    assert drawn == ["digit_svg"]
    sent.clear(), drawn.clear()
    w.unit.value = 3
    assert sent == [w.weights, w.note]
    assert drawn == ["weights_svg"]
    sent.clear(), drawn.clear()
    w.unit.value = 2
    w.image.value = 8  # back to unit 2's picture, then a new image
    assert sent == [w.weights, w.note, w.digit, w.note]
    assert drawn == ["weights_svg", "digit_svg"]


def test_a_new_image_sends_the_digit_and_numbers_before_the_units_list(setup) -> None:
    """The browser shows what a move is for first: the digit and the unit's numbers reach it
    before the dropdown of largest units, whose rebuilt list comes last; and filling that list
    moves no slider, even when the unit shown had been picked from it."""
    net, images, labels = setup
    w = fan_out_explorer(net, images, labels, image=0, unit=2)
    w.top_units.value = w.top_units.options[1][1]  # a pick from the list moves the unit
    picked = w.unit.value
    order = []
    for view in (w.digit, w.note, w.paths, w.summary):
        view.observe(lambda change, view=view: order.append(view), names="value")
    w.top_units.observe(lambda change: order.append(w.top_units), names="options")
    w.image.value = 5
    assert order == [w.digit, w.note, w.paths, w.summary, w.top_units]
    assert w.unit.value == picked and w.top_units.value is None
