"""The cross-entropy explorer: p, the one-hot y and the gradient p - y side by side, live.

Sliders set the logits z of one example and a selector picks its true class k. The widget
shows three bar charts of the same length C (the gradient has the shape of the logits):

* p = softmax(z), the model's probabilities;
* y, the one-hot target (1 at class k);
* ∂L/∂z = p - y, one component per class;

and the loss L = -log p_k = logsumexp(z) - z_k, all computed by the fused kernel
:func:`course_lib.kernels.softmax_cross_entropy` (batch of one, so the 1/N is 1). Raising the
true class's logit pushes p_k toward 1: its component p_k - 1 rises toward 0, every other
component p_j shrinks toward 0, and the loss falls toward 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ipywidgets as widgets
import numpy as np

from course_lib.display.accessible import OKABE_ITO
from course_lib.kernels import softmax_cross_entropy
from course_lib.numbers.checking import real_number, whole_number
from course_lib.widgets.charts import bar_chart, fmt, logit_slider
from course_lib.widgets.controls import row, with_number_box

__all__ = ["CrossEntropyExplorer", "cross_entropy_explorer"]

MAX_CLASSES = 10
SLIDER_LIMIT = 1e6  # a slider's ends: far beyond where softmax saturates, far from overflow


class CrossEntropyExplorer(widgets.VBox):
    """The widget :func:`cross_entropy_explorer` returns; controls and numbers as attributes.

    Controls: ``logit_sliders`` (one FloatSlider per class), ``true_class`` (ToggleButtons).
    Views (HTML): ``bars`` (p, y, p - y) and ``summary`` (the loss and the gradient written
    out). State after each update: ``z``, ``p``, ``y``, ``grad`` (= p - y) and ``loss``.
    """

    def __init__(self, logits: Sequence[float], true_class: int, low: float, high: float):
        c = len(logits)
        self.logit_sliders = [
            logit_slider(i, float(v), low, high, "300px") for i, v in enumerate(logits)
        ]
        self.true_class = widgets.ToggleButtons(
            options=[(str(k), k) for k in range(c)],
            value=true_class,
            description="true class k",
            style={"button_width": "34px", "description_width": "initial"},
        )
        self.bars = widgets.HTML()
        self.summary = widgets.HTML()
        super().__init__(
            [
                self.true_class,
                row([widgets.VBox([with_number_box(s) for s in self.logit_sliders]), self.summary]),
                self.bars,
            ]
        )
        for w in (*self.logit_sliders, self.true_class):
            w.observe(self._update, names="value")
        self._update()

    def __repr__(self) -> str:
        # What a notebook saves as the widget's text/plain: short, and the same for every
        # ipywidgets version (the default repr lists traits and changes with the library).
        z = ", ".join(fmt(v, 1) for v in self.z)
        return (
            f"CrossEntropyExplorer(logits ({z}), true class {self.true_class.value}, "
            f"loss {fmt(self.loss, 4)})"
        )

    def _update(self, _change: object = None) -> None:
        k = self.true_class.value
        self.z = np.array([s.value for s in self.logit_sliders])
        c = self.z.size
        result = softmax_cross_entropy(self.z[None, :], np.array([k]))
        self.loss = float(result.loss)
        self.p = result.probs[0]
        self.y = np.eye(c)[k]
        self.grad = result.grad()[0]  # (P - Y) / N with N = 1
        labels = [str(j) for j in range(c)]
        charts = [
            bar_chart(self.p, title="p = softmax(z)", labels=labels, highlight=k),
            bar_chart(
                self.y,
                title="y (one-hot)",
                labels=labels,
                highlight=k,
                color=OKABE_ITO["reddish purple"],
            ),
            bar_chart(
                self.grad,
                title="∂L/∂z = p − y",
                low=-1.0,
                high=1.0,
                labels=labels,
                highlight=k,
                color=OKABE_ITO["orange"],
            ),
        ]
        self.bars.value = (
            "<div style='display:flex;gap:10px;flex-wrap:wrap'>" + "".join(charts) + "</div>"
        )
        self.summary.value = self._summary_html(k)

    def _summary_html(self, k: int) -> str:
        lse = self.loss + self.z[k]  # L = logsumexp(z) - z_k
        rows = "".join(
            f"<tr><td>j = {j}</td><td>{fmt(self.p[j])} − {int(self.y[j])}</td>"
            f"<td style='text-align:right'><b>{fmt(self.grad[j])}</b></td></tr>"
            for j in range(self.z.size)
        )
        others = np.delete(self.grad, k)
        return (
            "<div style='font-size:13px;padding-left:16px'>"
            f"<div>loss L = −log p<sub>{k}</sub> = logsumexp(z) − z<sub>{k}</sub> = "
            f"{fmt(lse)} − {_term(self.z[k])} = <b>{fmt(self.loss, 4)}</b></div>"
            f"<div>true class component p<sub>{k}</sub> − 1 = <b>{fmt(self.grad[k])}</b>; "
            f"largest other component = {fmt(others.max() if others.size else 0.0)}</div>"
            "<table style='font-size:13px'><tr><th>class</th><th>p<sub>j</sub> − y<sub>j</sub>"
            f"</th><th>∂L/∂z<sub>j</sub></th></tr>{rows}</table>"
            f"<div style='color:#555'>the components sum to {fmt(self.grad.sum())} "
            "(Σ p = 1 and Σ y = 1)</div></div>"
        )


def cross_entropy_explorer(
    logits: Sequence[float] = (2.0, 1.0, 0.1),
    true_class: int = 0,
    low: float = -6.0,
    high: float = 6.0,
) -> CrossEntropyExplorer:
    """Logit sliders and a true-class selector; live bars of p, y and p - y, and the loss.

    ``logits`` gives the number of classes (2 to 10) and the starting values; ``true_class``
    the index k of the correct class. All numbers come from the fused kernel
    :func:`course_lib.kernels.softmax_cross_entropy`.
    """
    if isinstance(logits, str | bytes) or not isinstance(logits, Iterable):
        raise TypeError(
            f"cross_entropy_explorer: logits must be a sequence of numbers, such as "
            f"(2.0, 1.0, 0.1), got {logits!r}"
        )
    logits = list(logits)
    if not 2 <= len(logits) <= MAX_CLASSES:
        raise ValueError(
            f"cross_entropy_explorer needs 2 to {MAX_CLASSES} logits, got {len(logits)}"
        )
    where = "cross_entropy_explorer"
    # every number through the one check of a user's number (NaN and ±inf refused there)
    logits = [real_number(v, f"logits[{i}]", where) for i, v in enumerate(logits)]
    low, high = real_number(low, "low", where), real_number(high, "high", where)
    if max(abs(low), abs(high)) > SLIDER_LIMIT:
        raise ValueError(
            f"{where}: low and high must lie within ±{SLIDER_LIMIT:g}, got {low} "
            f"and {high}; softmax is already saturated a few tens of units apart, so a range "
            "like -10 to 10 shows everything"
        )
    if not low < high:
        raise ValueError(f"{where}: the slider range must have low < high, got {low} and {high}")
    if not all(low <= v <= high for v in logits):
        raise ValueError(f"{where}: logits must be numbers in [{low}, {high}], got {logits}")
    true_class = whole_number(
        true_class,
        f"true_class (a class index, 0 to {len(logits) - 1})",
        where,
        minimum=0,
        maximum=len(logits) - 1,
    )
    return CrossEntropyExplorer(logits, true_class, low, high)


def _term(value: float) -> str:
    """A number written after a minus sign: a negative one in brackets (1.342 − (−6.000))."""
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text
