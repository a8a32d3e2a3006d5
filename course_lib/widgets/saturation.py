"""The depth explorer: the gradient's size in every layer of a deep stack, live.

A depth slider, the activation (sigmoid, tanh, relu) and the initialisation scale; each change
rebuilds the stack, runs the engine's ``backward()`` and draws log₁₀ ‖dL/dW_l‖ for every layer
l as a bar (computed by :func:`course_lib.network.layer_gradient_norms`). A sigmoid stack's first
layers get gradients many orders of magnitude smaller than its last; relu with the scale √2
keeps them about the same size.

Two text alternatives for the saturation figures the notebooks draw with matplotlib (shown
through :func:`course_lib.display.accessible.describe_figure`): :func:`slopes_alt_text` for the
slopes of tanh and sigmoid, and :func:`layer_norms_alt_text` for ‖dL/dW_l‖ per layer of several
stacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np

from course_lib.network import ACTIVATIONS, layer_gradient_norms
from course_lib.numbers.checking import real_number, shown, whole_number
from course_lib.widgets.charts import bar_chart, fmt
from course_lib.widgets.controls import with_number_box

__all__ = ["DepthExplorer", "depth_explorer", "layer_norms_alt_text", "slopes_alt_text"]

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
    depth = whole_number(depth, f"depth (2 to {MAX_DEPTH})", "depth_explorer", minimum=2)
    if depth > MAX_DEPTH:
        raise ValueError(
            f"depth_explorer: depth must be an int from 2 to {MAX_DEPTH}, got {shown(depth)}"
        )
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"depth_explorer: activation must be one of {ACTIVATIONS}, got {activation!r}"
        )
    scale = real_number(scale, "scale", "depth_explorer")
    if not 0.25 <= scale <= 4.0:
        raise ValueError(f"depth_explorer: scale must be a number from 0.25 to 4, got {scale!r}")
    return DepthExplorer(depth, activation, scale)


def slopes_alt_text(low: float = -6.0, high: float = 6.0, at: float = 5.0) -> str:
    """The text alternative of a plot of tanh' = 1 - t² (solid) and σ' = σ(1 - σ) (dashed)
    for inputs a from ``low`` to ``high``, with a dotted line at 0.25: their shape, and both
    slopes at a = ``at``."""
    t, sig = math.tanh(at), 1 / (1 + math.exp(-at))
    return (
        f"tanh'(a) = 1 - t² (solid line) and σ'(a) = σ(1 - σ) (dashed line) for a from "
        f"{low:g} to {high:g}: two bumps centred at a = 0, tanh' reaching 1 and σ' reaching "
        "0.25 (the dotted line), both falling towards 0 as |a| grows (at a = "
        f"{at:g}: tanh' {1 - t * t:.5f}, σ' {sig * (1 - sig):.5f})."
    )


def layer_norms_alt_text(norms: Mapping[str, Sequence[float]]) -> str:
    """The text alternative of a log-scale plot of ‖dL/dW_l‖ per layer, one line per
    activation (``norms`` maps an activation to its norms, layer 1 first, as
    :func:`course_lib.network.layer_gradient_norms` returns them): each line's first and last
    value, and which lines climb and which stay flat."""
    if not norms:
        raise ValueError("layer_norms_alt_text needs the norms of at least one stack")
    depth = max(len(values) for values in norms.values())
    lines = "; ".join(
        f"{act} from {values[0]:.1e} at layer 1 to {values[-1]:.1e} at layer {len(values)}"
        for act, values in norms.items()
    )
    # A line "climbs" (or "falls") when its last layer's norm is over 10 times its first's (or
    # under a tenth of it); otherwise it stays nearly flat.
    kinds: dict[str, list[str]] = {"climb": [], "fall": [], "stay": []}
    for act, values in norms.items():
        first, last = float(values[0]), float(values[-1])
        kind = "climb" if last > 10 * first else "fall" if first > 10 * last else "stay"
        kinds[kind].append(act)
    says = {
        "climb": "steeply towards the last layer",
        "fall": "steeply towards the last layer",
        "stay": "nearly flat",
    }
    shape = "; ".join(
        f"the {' and '.join(acts)} line{'s' if len(acts) > 1 else ''} "
        f"{kind}{'' if len(acts) > 1 else 's'} {says[kind]}"
        for kind, acts in kinds.items()
        if acts
    )
    return (
        f"‖dL/dW‖ per layer on a log scale, layers 1 (input side) to {depth}: {lines}. "
        f"{shape[0].upper()}{shape[1:]}."
    )
