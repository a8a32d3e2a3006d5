"""The depth explorer: the gradient's size in every layer of a deep stack, live.

A depth slider, the activation (sigmoid, tanh, relu) and the initialisation scale; each change
rebuilds the stack, runs the engine's ``backward()`` and draws log₁₀ ‖dL/dW_l‖ for every layer
l as a bar (computed by :func:`course_lib.nn.layer_gradient_norms`). A sigmoid stack's first
layers get gradients many orders of magnitude smaller than its last; relu with the scale √2
keeps them about the same size.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from course_lib.nn import ACTIVATIONS, layer_gradient_norms
from course_lib.widgets._charts import bar_chart, fmt
from course_lib.widgets._controls import with_number_box

__all__ = ["DepthExplorer", "depth_explorer"]

MAX_DEPTH = 20


class DepthExplorer(widgets.VBox):
    """The widget :func:`depth_explorer` returns. Controls: ``depth`` (IntSlider),
    ``activation`` (ToggleButtons), ``scale`` (FloatSlider). Views (HTML): ``bars`` and
    ``summary``. State after each update: ``norms`` (‖dL/dW_l‖ for l = 1 .. depth) and
    ``ratio`` (first layer's norm / last layer's)."""

    def __init__(self, depth: int, activation: str, scale: float) -> None:
        self.depth = widgets.IntSlider(
            value=depth, min=2, max=MAX_DEPTH, step=1, description="depth"
        )
        self.activation = widgets.ToggleButtons(
            options=list(ACTIVATIONS), value=activation, description="activation"
        )
        self.scale = widgets.FloatSlider(
            value=scale,
            min=0.25,
            max=4.0,
            step=0.01,
            description="init scale",
            readout_format=".2f",
        )
        self.bars = widgets.HTML()
        self.summary = widgets.HTML()
        super().__init__(
            [
                self.activation,
                with_number_box(self.depth),  # a labelled box: the slider handle has no name
                with_number_box(self.scale),
                self.summary,
                self.bars,
            ]
        )
        for control in (self.depth, self.activation, self.scale):
            control.observe(self._update, names="value")
        self._update()

    def __repr__(self) -> str:
        return (
            f"DepthExplorer({self.activation.value}, depth {self.depth.value}, init scale "
            f"{self.scale.value:.2f}: first layer's gradient {self.ratio:.1e} × the last's)"
        )

    def _update(self, _change: object = None) -> None:
        self.norms = layer_gradient_norms(
            int(self.depth.value), str(self.activation.value), float(self.scale.value)
        )
        self.ratio = float(self.norms[0] / self.norms[-1]) if self.norms[-1] > 0 else math.inf
        with np.errstate(divide="ignore"):
            logs = np.log10(np.maximum(self.norms, 1e-300))
        low = min(-6.0, math.floor(float(logs.min())))
        high = max(1.0, math.ceil(float(logs.max())))
        self.bars.value = bar_chart(
            logs,
            title="log₁₀ ‖dL/dW‖ for layers 1 (input side) to depth",
            low=low,
            high=high,
            labels=[str(i + 1) for i in range(len(logs))],
            number=lambda v: fmt(v, 1),
            width=max(260, 34 * len(logs)),
            height=220,
        )
        self.summary.value = (
            "<div style='font-size:13px'>"
            f"{self.activation.value} stack of {self.depth.value} layers, weights "
            f"N(0, ({self.scale.value:.2f})²/32): ‖dL/dW‖ is {self.norms[-1]:.2e} in the last "
            f"layer and {self.norms[0]:.2e} in the first: the first layer's gradient is "
            f"<b>{self.ratio:.1e}</b> times the last's</div>"
        )


def depth_explorer(
    depth: int = 10, activation: str = "sigmoid", scale: float = 1.0
) -> DepthExplorer:
    """Sliders for the depth (2 to 20) and the initialisation scale (0.25 to 4), buttons for the
    activation; bars of log₁₀ ‖dL/dW_l‖ per layer from the engine's backward pass."""
    if isinstance(depth, bool) or not isinstance(depth, int) or not 2 <= depth <= MAX_DEPTH:
        raise ValueError(
            f"depth_explorer: depth must be an int from 2 to {MAX_DEPTH}, got {depth!r}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"depth_explorer: activation must be one of {ACTIVATIONS}, got {activation!r}"
        )
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0.25 <= scale <= 4.0:
        raise ValueError(f"depth_explorer: scale must be a number from 0.25 to 4, got {scale!r}")
    return DepthExplorer(depth, activation, float(scale))
