"""Headless tests of the depth explorer and of nn.layer_gradient_norms behind it."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from course_lib.network import layer_gradient_norms
from course_lib.widgets import depth_explorer

SVG = "{http://www.w3.org/2000/svg}"


def bars(html: str) -> list[float]:
    """The number over each bar of the chart."""
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    found = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]
    return [float(v) for v in found[1::2]]


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_keeps_them():
    sigmoid = layer_gradient_norms(12, "sigmoid", 1.0)
    relu = layer_gradient_norms(12, "relu", math.sqrt(2))
    assert sigmoid.shape == relu.shape == (12,)
    assert sigmoid[0] / sigmoid[-1] < 1e-5  # many orders of magnitude
    assert np.all(np.diff(np.log(sigmoid)) > 0)  # smaller at every step towards the input
    assert 0.05 < relu[0] / relu[-1] < 20  # about the same size
    # the same arguments give the same numbers
    assert np.array_equal(layer_gradient_norms(12, "sigmoid", 1.0), sigmoid)


def test_the_norms_are_the_engines_gradients():
    from course_lib.checks import tensor_gradient_check
    from course_lib.tensor import Tensor

    # a 2-layer tanh stack written out, checked against finite differences in float64
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 32))
    w1 = rng.standard_normal((32, 32)) * (0.7 / math.sqrt(32))
    w2 = rng.standard_normal((32, 32)) * (0.7 / math.sqrt(32))
    readout = rng.standard_normal((16, 32))

    def loss(w1, w2):
        h = ((Tensor(x, requires_grad=False) @ w1).tanh() @ w2).tanh()
        return (h * readout).sum() / 16

    report = tensor_gradient_check(loss, w1, w2)
    assert report.ok
    norms = layer_gradient_norms(2, "tanh", 0.7)
    np.testing.assert_allclose(norms, [np.linalg.norm(g) for g in report.backward], rtol=1e-12)


def test_moving_the_controls_redraws_the_bars():
    w = depth_explorer()
    assert len(bars(w.bars.value)) == 10
    np.testing.assert_allclose(bars(w.bars.value), np.round(np.log10(w.norms), 1), atol=0.051)
    sigmoid_ratio = w.ratio
    w.activation.value = "relu"
    w.scale.value = 1.41
    assert w.ratio > 100 * sigmoid_ratio
    w.depth.value = 20
    assert len(bars(w.bars.value)) == 20 and w.norms.shape == (20,)
    assert repr(w).startswith("DepthExplorer(relu, depth 20, init scale 1.41: first layer's")
    assert "relu stack of 20 layers" in w.summary.value
    for scale in (0.25, 4.0):
        w.scale.value = scale
        assert np.all(np.isfinite(w.norms))
    w.activation.value = "tanh"
    assert np.all(np.isfinite(w.norms))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"depth \(2 to 20\) must be an int >= 2, got 1"):
        depth_explorer(depth=1)
    with pytest.raises(ValueError, match="depth must be an int from 2 to 20, got an int of 401"):
        depth_explorer(depth=10**400)
    with pytest.raises(TypeError, match=r"depth \(2 to 20\) must be a whole number"):
        depth_explorer(depth=3.0)
    with pytest.raises(ValueError, match="scale is an int of 401 digits, too large for a float"):
        depth_explorer(scale=10**400)
    with pytest.raises(TypeError, match="scale must be a number, got the text"):
        depth_explorer(scale="1")
    assert depth_explorer(np.int64(3), scale=np.float32(1.5)).norms.shape == (3,)
    with pytest.raises(ValueError, match="activation"):
        depth_explorer(activation="softplus")
    with pytest.raises(ValueError, match="scale"):
        depth_explorer(scale=10)
    with pytest.raises(ValueError, match="activation"):
        layer_gradient_norms(3, "gelu")
    with pytest.raises(ValueError, match="init_scale"):
        layer_gradient_norms(3, "relu", 0.0)
    with pytest.raises(ValueError):
        layer_gradient_norms(0)
