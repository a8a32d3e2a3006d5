"""Headless tests of the Jacobian explorer: move a control, read the displayed numbers back."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import course_lib.widgets.jacobian as jacobian_module
from course_lib.kernels import sigmoid, softmax, softmax_jacobian
from course_lib.numbers.formatting import format_number
from course_lib.widgets import jacobian_explorer
from course_lib.widgets.jacobian import MODES, jacobian_of


def fmt(x: float) -> str:
    """How the explorer writes every number: course_lib's one formatter, three decimals."""
    return format_number(x, decimals=3)


SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str) -> list[ET.Element]:
    """Every <svg> element in an HTML string, parsed (so malformed SVG fails the test)."""
    return [ET.fromstring(m.group(0)) for m in re.finditer(r"<svg.*?</svg>", html, re.S)]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def bar_numbers(svg: ET.Element, count: int) -> list[str]:
    """The number printed above each bar: every second text after the title."""
    found = texts(svg)[1:]
    return found[0 : 2 * count : 2]


def cell_numbers(svg: ET.Element, c: int) -> np.ndarray:
    """The C×C numbers printed in the heatmap cells, as strings in a C×C array."""
    found = texts(svg)[2:]  # after the title and the column caption
    cells = [t for k, t in enumerate(found[: c * (c + 1)]) if k % (c + 1) != 0]  # skip row labels
    return np.array(cells).reshape(c, c)


def expected_cells(matrix: np.ndarray) -> np.ndarray:
    return np.vectorize(fmt)(matrix)


def test_default_shows_p_and_the_dense_jacobian() -> None:
    w = jacobian_explorer()
    z = np.array([1.0, 2.0, 3.0, 0.0])
    p = softmax(z)
    (bars,) = svgs(w.bars.value)
    assert bar_numbers(bars, 4) == [fmt(v) for v in p]
    (heat,) = svgs(w.matrix.value)
    np.testing.assert_array_equal(
        cell_numbers(heat, 4), expected_cells(np.diag(p) - np.outer(p, p))
    )
    np.testing.assert_allclose(w.jacobian, softmax_jacobian(z), atol=1e-15)
    assert "16 of 16 entries non-zero" in w.matrix.value


def test_moving_a_logit_slider_updates_bars_heatmap_and_row() -> None:
    w = jacobian_explorer()
    before_bars, before_heat = w.bars.value, w.matrix.value
    w.logit_sliders[0].value = 3.0  # z = (3, 2, 3, 0): classes 0 and 2 now tie
    z = np.array([3.0, 2.0, 3.0, 0.0])
    p = softmax(z)
    assert w.bars.value != before_bars and w.matrix.value != before_heat
    (bars,) = svgs(w.bars.value)
    shown = bar_numbers(bars, 4)
    assert shown == [fmt(v) for v in p]
    assert shown[0] == shown[2]
    (heat,) = svgs(w.matrix.value)
    np.testing.assert_array_equal(cell_numbers(heat, 4), expected_cells(softmax_jacobian(z)))
    # row 0 written out: p_0 × (1 − p_0) on the diagonal, p_0 × (0 − p_j) elsewhere
    assert f"{fmt(p[0])} × (1 − {fmt(p[0])})" in w.row_view.value
    assert f"{fmt(p[0])} × (0 − {fmt(p[1])})" in w.row_view.value
    assert f"<b>{fmt(p[0] * (1 - p[0]))}</b>" in w.row_view.value


def test_row_selector_writes_out_the_chosen_row() -> None:
    w = jacobian_explorer(logits=(1.0, 2.0, 3.0))
    w.row.value = 2
    p = softmax([1.0, 2.0, 3.0])
    view = w.row_view.value
    assert "Row i = 2" in view
    assert f"{fmt(p[2])} × (1 − {fmt(p[2])})" in view
    # the hand-trace numbers of notebook 05: J_22 = 0.665 × 0.335 = 0.223, J_20 = -0.060
    assert "<b>0.223</b>" in view and "<b>-0.060</b>" in view and "<b>-0.163</b>" in view
    (heat,) = svgs(w.matrix.value)
    outline = [r for r in heat.iter(f"{SVG}rect") if r.get("fill") == "none"]
    assert len(outline) == 1  # the highlighted row
    rows_y = sorted(
        {float(r.get("y")) for r in heat.iter(f"{SVG}rect") if r.get("stroke") == "#ddd"}
    )
    assert float(outline[0].get("y")) == rows_y[2]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_shows_the_same_matrix(mode: str) -> None:
    w = jacobian_explorer(logits=(0.5, -1.0, 2.0, 1.5, 0.0))
    analytic_cells = cell_numbers(svgs(w.matrix.value)[0], 5)
    w.mode.value = mode
    assert f"({mode})" in w.matrix.value
    how = {"analytic": "softmax_jacobian", "reverse mode": "jacobian_reverse_mode"}
    assert how.get(mode, "jacobian_finite_differences") in w.caption.value
    np.testing.assert_allclose(w.jacobian, w.analytic, atol=1e-9)
    assert w.differences["reverse mode"] < 1e-12
    assert w.differences["finite differences"] < 1e-8
    assert w.row_view.value.count("agrees") == 2 and "DISAGREES" not in w.row_view.value
    np.testing.assert_array_equal(cell_numbers(svgs(w.matrix.value)[0], 5), analytic_cells)


def test_temperature_divides_logits_and_scales_the_jacobian() -> None:
    w = jacobian_explorer(logits=(1.0, 2.0, 3.0))
    w.temperature.value = 2.0
    u = np.array([1.0, 2.0, 3.0]) / 2.0
    p = softmax(u)
    np.testing.assert_allclose(w.p, p)
    np.testing.assert_allclose(w.jacobian, softmax_jacobian(u) / 2.0, atol=1e-15)
    assert bar_numbers(svgs(w.bars.value)[0], 3) == [fmt(v) for v in p]
    assert f"{fmt(p[0])} × (1 − {fmt(p[0])}) / 2.00" in w.row_view.value
    w.mode.value = "finite differences"  # the 1/T from the chain rule shows up numerically too
    np.testing.assert_allclose(w.jacobian, softmax_jacobian(u) / 2.0, atol=1e-9)
    # A browser's slider, snapping to its step grid, may send 1.0000000000000002 for "1.00".
    w.temperature.value = 1.0000000000000002
    assert w.temperature.value != 1.0 and "/ 1.00" not in w.row_view.value


def test_classes_slider_shows_more_or_fewer_logits() -> None:
    w = jacobian_explorer()
    w.classes.value = 10
    assert [r.layout.display for r in w.logit_rows] == [""] * 10
    assert w.row.max == 9
    w.row.value = 9
    w.logit_sliders[9].value = 4.0
    assert w.jacobian.shape == (10, 10)
    z = np.array([1.0, 2.0, 3.0, 0.0] + [0.0] * 5 + [4.0])
    np.testing.assert_array_equal(
        cell_numbers(svgs(w.matrix.value)[0], 10), expected_cells(softmax_jacobian(z))
    )
    w.classes.value = 3
    assert [r.layout.display for r in w.logit_rows] == [""] * 3 + ["none"] * 7
    assert w.row.value == 2 and w.row.max == 2  # clamped to the last row that exists
    assert w.jacobian.shape == (3, 3)
    assert len(bar_numbers(svgs(w.bars.value)[0], 3)) == 3
    assert "Row i = 2" in w.row_view.value


def test_contrast_view_shows_the_diagonal_sigmoid_jacobian() -> None:
    w = jacobian_explorer(logits=(1.0, 2.0, 3.0, 0.0))
    assert w.sigmoid_bars.value == w.sigmoid_matrix.value == ""
    w.contrast.value = True
    z = np.array([1.0, 2.0, 3.0, 0.0])
    s = sigmoid(z)
    (sig_bars,) = svgs(w.sigmoid_bars.value)
    assert bar_numbers(sig_bars, 4) == [fmt(v) for v in s]
    (sig_heat,) = svgs(w.sigmoid_matrix.value)
    cells = cell_numbers(sig_heat, 4)
    np.testing.assert_array_equal(cells, expected_cells(np.diag(s * (1 - s))))
    assert (cells[~np.eye(4, dtype=bool)] == "0.000").all()
    assert "sigmoid: 4 of 16 entries non-zero (diagonal" in w.sigmoid_matrix.value
    assert "softmax: 16 of 16 entries non-zero (dense" in w.matrix.value
    w.row.value = 1
    assert f"{fmt(s[1])} × (1 − {fmt(s[1])}) = <b>{fmt(s[1] * (1 - s[1]))}</b>" in w.row_view.value
    w.mode.value = "reverse mode"
    np.testing.assert_allclose(w.sigmoid_jacobian, np.diag(s * (1 - s)), atol=1e-15)
    w.contrast.value = False
    assert w.sigmoid_bars.value == w.sigmoid_matrix.value == ""
    assert "sigmoid row" not in w.row_view.value


@settings(deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(2, 10), elements=st.floats(-6, 6)),
    st.floats(0.1, 5.0),
)
def test_jacobian_of_agrees_across_modes(z: np.ndarray, t: float) -> None:
    for function in ("softmax", "sigmoid"):
        analytic = jacobian_of(function, z, t, "analytic")
        np.testing.assert_allclose(
            jacobian_of(function, z, t, "reverse mode"), analytic, atol=1e-14
        )
        np.testing.assert_allclose(
            jacobian_of(function, z, t, "finite differences"), analytic, atol=1e-7
        )


# ---- the widget shows the engine, it does not re-implement it ----------------------------------


def test_reverse_mode_is_the_engines_backward(monkeypatch) -> None:
    """Break the Tensor softmax op's rule and the widget's reverse mode must break with it: it
    runs the engine (check.jacobian_reverse_mode), not a copy of the formula."""
    w = jacobian_explorer(logits=(1.0, 2.0, 3.0))
    w.mode.value = "reverse mode"
    assert "DISAGREES" not in w.row_view.value
    import dataclasses

    from course_lib.tensor.ops import RULES

    real = RULES["softmax"].backward
    broken = dataclasses.replace(
        RULES["softmax"], backward=lambda upstream, out, a: 2 * real(upstream, out, a)
    )
    monkeypatch.setitem(RULES, "softmax", broken)
    w.logit_sliders[0].value = 0.5  # recompute
    np.testing.assert_allclose(w.jacobian, 2 * w.analytic, atol=1e-12)
    assert "reverse mode vs analytic: DISAGREES" in w.row_view.value
    assert "finite differences vs analytic: agrees" in w.row_view.value  # no rules involved


def test_the_three_modes_call_the_checks_of_course_lib(monkeypatch) -> None:
    calls = []
    for name in ("jacobian_reverse_mode", "jacobian_finite_differences"):
        real = getattr(jacobian_module, name)
        monkeypatch.setattr(
            jacobian_module,
            name,
            lambda *args, _real=real, _name=name, **kwargs: (
                calls.append(_name) or _real(*args, **kwargs)
            ),
        )
    jacobian_of("softmax", [1.0, 2.0], 1.5, "reverse mode")
    jacobian_of("sigmoid", [1.0, 2.0], 1.5, "finite differences")
    assert calls == ["jacobian_reverse_mode", "jacobian_finite_differences"]


def test_every_number_written_uses_the_one_formatter() -> None:
    w = jacobian_explorer(logits=(0.3, -1.7, 2.2))
    w.temperature.value = 1.5
    w.contrast.value = True
    w.row.value = 1
    shown = re.findall(r"-?\d+\.\d+", re.sub(r"<[^>]+>", " ", w.row_view.value))
    p, s_ = w.p, w.s
    expected = {
        fmt(v) for v in (*p, *w.jacobian[1], w.jacobian[1].sum(), *s_, w.sigmoid_jacobian[1, 1])
    }
    expected |= {"1.50"}  # the temperature in "/ 1.50"
    assert shown and set(shown) <= expected
    assert repr(w).startswith("Jacobian explorer: C = 3 classes, T = 1.5, row 1")


# ---- bad arguments get clear errors -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"temperature": "1"},
            TypeError,
            r"^jacobian_explorer: temperature must be a number, got ",
        ),
        ({"temperature": None}, TypeError, r"temperature must be a number, got None"),
        ({"temperature": True}, TypeError, r"temperature must be a number"),
        (
            {"temperature": float("nan")},
            ValueError,
            r"temperature must be a finite number, got nan",
        ),
        ({"temperature": 10**400}, ValueError, r"temperature is an int of 401 digits, too large"),
        ({"temperature": 10}, ValueError, r"temperature must be in \[0.1, 5\], got 10"),
        ({"logits": "abc"}, TypeError, r"^jacobian_explorer: logits must be a list of 2 to 10 "),
        ({"logits": None}, TypeError, r"logits must be a list of 2 to 10 numbers"),
        ({"logits": 3.0}, TypeError, r"logits must be a list of 2 to 10 numbers"),
        ({"logits": [1.0, "a"]}, TypeError, r"logits\[1\] must be a number, got the text 'a'"),
        ({"logits": [1.0, None]}, TypeError, r"logits\[1\] must be a number, got None"),
        ({"logits": [1.0, float("nan")]}, ValueError, r"logits\[1\] must be a finite number"),
        ({"logits": [1.0, 10**400]}, ValueError, r"logits\[1\] is an int of 401 digits"),
        ({"low": "x"}, TypeError, r"low \(the logit sliders' end\) must be a number"),
        ({"low": -(10**400)}, ValueError, r"low \(the logit sliders' end\) is an int of 401"),
        ({"high": float("inf")}, ValueError, r"high \(the logit sliders' end\) must be a finite"),
    ],
)
def test_bad_explorer_arguments_get_clear_errors(kwargs, error, match) -> None:
    """Numbers go through the one check of a user's number: 10**400 used to raise a bare
    OverflowError, an infinite end a TypeError."""
    with pytest.raises(error, match=match) as caught:
        jacobian_explorer(**kwargs)
    assert "not supported between" not in str(caught.value)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("softmax", [1.0, 2.0]), {"temperature": "1"}, TypeError, r"temperature must be a number"),
        (("softmax", "ab"), {}, TypeError, r"z must be a vector of numbers"),
        (("softmax", [1.0, "a"]), {}, TypeError, r"z must be a vector of numbers"),
        (("softmax", [1.0, np.inf]), {}, ValueError, r"the logits must be finite"),
        (("softmax", [1.0, 2.0]), {"temperature": -1.0}, ValueError, r"must be positive"),
    ],
)
def test_bad_jacobian_of_arguments_get_clear_errors(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        jacobian_of(*args, **kwargs)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="2 to 10 logits, got 1"):
        jacobian_explorer(logits=(1.0,))
    with pytest.raises(ValueError, match="2 to 10 logits, got 11"):
        jacobian_explorer(logits=[0.0] * 11)
    with pytest.raises(ValueError, match=r"logits must be numbers in \[-6.0, 6.0\]"):
        jacobian_explorer(logits=(1.0, 20.0))
    with pytest.raises(ValueError, match="temperature must be in"):
        jacobian_explorer(temperature=0.0)
    with pytest.raises(ValueError, match="low < high"):
        jacobian_explorer(low=1.0, high=-1.0)
    with pytest.raises(ValueError, match="'softmax' or 'sigmoid'"):
        jacobian_of("tanh", [1.0, 2.0])
    with pytest.raises(ValueError, match="mode must be one of"):
        jacobian_of("softmax", [1.0, 2.0], mode="forward")
    with pytest.raises(ValueError, match="temperature must be positive"):
        jacobian_of("softmax", [1.0, 2.0], temperature=0.0)
    with pytest.raises(ValueError, match=r"non-empty vector of logits, got shape \(2, 2\)"):
        jacobian_of("softmax", np.zeros((2, 2)))


def test_numpy_numbers_start_the_explorer() -> None:
    w = jacobian_explorer(np.array([1.0, 2.0]), np.float32(1.5), np.int64(-6), np.int32(6))
    assert w.p.shape == (2,) and w.temperature.value == 1.5
    np.testing.assert_allclose(
        jacobian_of("softmax", [1.0, 2.0], np.float32(1.5)), jacobian_of("softmax", [1.0, 2.0], 1.5)
    )


def test_an_almost_one_hot_p_says_its_entries_are_too_small_to_show():
    # p ≈ (1, 6e-6, 6e-6): every entry is non-zero, none shows at the heatmap's 3 decimals
    w = jacobian_explorer((6.0, -6.0, -6.0), temperature=1.0)
    assert (
        "softmax: 9 of 9 entries non-zero; 0 of them large enough to show at 3 decimals (dense"
        in w.matrix.value
    )
