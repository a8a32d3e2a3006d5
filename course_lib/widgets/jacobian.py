"""The Jacobian explorer: softmax's dense Jacobian J = diag(p) - p pᵀ, live.

Sliders set a handful of logits z (2 to 10 classes) and a temperature T; the widget shows the
probabilities p = softmax(z / T) as bars and the Jacobian ∂p/∂z as a heatmap on a diverging
colour scale centred at 0 (blue negative, red positive). By the chain rule through u = z / T,

    ∂p_i/∂z_j = (1/T) · p_i (δ_ij - p_j),

so at T = 1 it is exactly diag(p) - p pᵀ. A row selector spells out one row i entry by entry as
p_i(δ_ij - p_j) with the numbers. A toggle computes the matrix three ways, which must agree:

* ``analytic``: :func:`course_lib.kernels.softmax_jacobian`, the formula above;
* ``reverse mode``: the engine itself. :func:`course_lib.checks.jacobian_reverse_mode` builds the
  graph of ``softmax(z / T)`` from :class:`course_lib.tensor.Tensor` ops once and calls
  ``backward`` once per row with the one-hot upstream e_i, which returns e_iᵀ J, row i (the
  softmax op's rule is the vector-Jacobian product: no sweep ever forms J);
* ``finite differences``: :func:`course_lib.checks.jacobian_finite_differences`, column j is
  (p(z + h e_j) - p(z - h e_j)) / 2h: forward passes only, no derivative rules at all.

The contrast view adds the Jacobian of the elementwise sigmoid s_i = σ(z_i / T): diagonal,
∂s_i/∂z_j = δ_ij s_i (1 - s_i) / T, because s_i depends on z_i alone. Every number the widget
writes is formatted by :func:`course_lib.numbers.formatting.format_number`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_lib.checks import jacobian_finite_differences, jacobian_reverse_mode
from course_lib.display.accessible import OKABE_ITO
from course_lib.kernels import sigmoid, softmax, softmax_jacobian
from course_lib.numbers.checking import real_number, shown
from course_lib.numbers.formatting import format_number
from course_lib.tensor import Tensor
from course_lib.tensor import softmax as softmax_op
from course_lib.widgets.charts import bar_chart, fmt, heatmap, logit_slider
from course_lib.widgets.controls import row, with_number_box

__all__ = ["MODES", "JacobianExplorer", "jacobian_explorer", "jacobian_of"]

MODES = ("analytic", "reverse mode", "finite differences")
FUNCTIONS = ("softmax", "sigmoid")
MAX_CLASSES = 10
CAPTIONS = {
    "analytic": "J = (diag(p) − p pᵀ) / T, straight from the formula "
    "(<code>softmax_jacobian(z / T) / T</code>).",
    "reverse mode": "The engine: the graph of <code>softmax(z / T)</code> from <code>Tensor</code>"
    " ops, and one <code>backward(e<sub>i</sub>)</code> per row (e<sub>i</sub>ᵀJ, row i; "
    "<code>jacobian_reverse_mode</code>): C sweeps build the matrix, and no sweep ever forms J.",
    "finite differences": "Column j is (p(z + h e<sub>j</sub>) − p(z − h e<sub>j</sub>)) / 2h "
    "with h = 1e-5 (<code>jacobian_finite_differences</code>): 2C forward passes, no "
    "derivative rules at all.",
}
FD_STEP = 1e-5  # error ~h² ≈ 1e-10 from the Taylor term, ~1e-16/h ≈ 1e-11 from rounding
AGREE_REVERSE = 1e-12  # reverse mode and the formula differ only by rounding
AGREE_FD = 1e-8  # finite differences are approximate
TEMPERATURES = (0.1, 5.0)  # the temperature slider's range


def _graph(function: str, temperature: float) -> Callable[[Tensor], Tensor]:
    """f(z) = softmax(z / T) or σ(z / T), written with Tensor ops (what the engine runs)."""
    if function == "softmax":
        return lambda z: softmax_op(z / temperature)
    return lambda z: (z / temperature).sigmoid()


def jacobian_of(
    function: str, z: Sequence[float] | np.ndarray, temperature: float = 1.0, mode: str = "analytic"
) -> np.ndarray:
    """∂f/∂z for f(z) = softmax(z / T) or elementwise sigmoid(z / T), computed by ``mode``.

    ``function`` is ``"softmax"`` or ``"sigmoid"``; ``mode`` one of :data:`MODES`: the formula,
    the engine's reverse mode (one ``backward`` per row) or central finite differences. The
    temperature enters by the chain rule: ∂f/∂z = (∂f/∂u) · (1/T) with u = z / T (the formula
    writes it out; the other two modes differentiate z / T like any other op).
    """
    if function not in FUNCTIONS:
        raise ValueError(f"jacobian_of: function must be 'softmax' or 'sigmoid', got {function!r}")
    if mode not in MODES:
        raise ValueError(f"jacobian_of: mode must be one of {MODES}, got {mode!r}")
    temperature = _positive_number(temperature, "jacobian_of", "temperature")
    z = _logits(z, "jacobian_of")
    if mode == "reverse mode":
        return jacobian_reverse_mode(_graph(function, temperature), z)
    if mode == "finite differences":
        return jacobian_finite_differences(_graph(function, temperature), z, h=FD_STEP)
    u = z / temperature
    if function == "softmax":
        return softmax_jacobian(u) / temperature
    s = sigmoid(u)
    return np.diag(s * (1.0 - s)) / temperature  # σ'(u) = σ(u)(1 - σ(u)), on the diagonal


def _positive_number(x: Any, where: str, name: str) -> float:
    x = real_number(x, name, where)  # the one check of a user's number: finite, real
    if not x > 0:
        raise ValueError(f"{where}: the {name} must be positive (and finite), got {x}")
    return x


def _logits(z: Any, where: str) -> np.ndarray:
    """``z`` as a non-empty float64 vector of finite logits, or a clear error."""
    if isinstance(z, (str, bytes)) or z is None:
        raise TypeError(f"{where}: z must be a vector of numbers (logits), got {z!r}")
    try:
        array = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(
            f"{where}: z must be a vector of numbers (logits), got {type(z).__name__} {z!r}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{where}: z must be a non-empty vector of logits, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: the logits must be finite numbers, got {z!r}")
    return array


class JacobianExplorer(widgets.HBox):
    """The widget :func:`jacobian_explorer` returns; controls and current numbers as attributes.

    Controls: ``classes`` (IntSlider), ``logit_sliders`` (ten FloatSliders, the first
    ``classes`` shown, each in ``logit_rows`` beside its number box), ``temperature``
    (FloatSlider), ``row`` (IntSlider i), ``mode``
    (ToggleButtons over :data:`MODES`), ``contrast`` (Checkbox: show the sigmoid's Jacobian).
    Views (HTML): ``caption`` (how the current mode computes J), ``bars`` and ``matrix`` (p and
    its Jacobian), ``sigmoid_bars`` and ``sigmoid_matrix`` (the contrast row, empty when off),
    ``row_view``. State after each update: ``z``, ``p``,
    ``jacobian`` (the matrix shown, by the current mode), ``analytic``, ``differences``
    (max |mode - analytic| for each mode) and, with the contrast on, ``sigmoid_jacobian``.
    """

    def __init__(self, logits: Sequence[float], temperature: float, low: float, high: float):
        values = [float(v) for v in logits] + [0.0] * (MAX_CLASSES - len(logits))
        self.logit_sliders = [logit_slider(i, v, low, high, "260px") for i, v in enumerate(values)]
        self.classes = widgets.IntSlider(
            value=len(logits),
            min=2,
            max=MAX_CLASSES,
            description="classes C",
            layout=widgets.Layout(width="260px"),
        )
        self.temperature = widgets.FloatSlider(
            value=temperature,
            min=TEMPERATURES[0],
            max=TEMPERATURES[1],
            step=0.05,
            description="temperature T",
            readout_format=".2f",
            layout=widgets.Layout(width="260px"),
            style={"description_width": "initial"},
        )
        self.row = widgets.IntSlider(
            value=0,
            min=0,
            max=len(logits) - 1,
            description="row i",
            layout=widgets.Layout(width="260px"),
        )
        self.mode = widgets.ToggleButtons(
            options=list(MODES),
            value="analytic",
            description="J by",
            style={"button_width": "130px"},
        )
        self.contrast = widgets.Checkbox(
            value=False, description="contrast: elementwise sigmoid", indent=False
        )
        self.bars = widgets.HTML()
        self.matrix = widgets.HTML()
        self.sigmoid_bars = widgets.HTML()
        self.sigmoid_matrix = widgets.HTML()
        self.row_view = widgets.HTML()
        self.caption = widgets.HTML()
        self._busy = False
        self.logit_rows = [with_number_box(s) for s in self.logit_sliders]
        controls = widgets.VBox(
            [
                with_number_box(self.classes),
                with_number_box(self.temperature),
                *self.logit_rows,
                with_number_box(self.row),
                self.contrast,
            ],
            layout=widgets.Layout(min_width="270px"),
        )
        views = widgets.VBox(
            [
                self.mode,
                self.caption,
                row([self.bars, self.matrix]),
                row([self.sigmoid_bars, self.sigmoid_matrix]),
                self.row_view,
            ]
        )
        super().__init__([controls, views], layout=widgets.Layout(flex_flow="row wrap"))
        for w in (
            *self.logit_sliders,
            self.classes,
            self.temperature,
            self.row,
            self.mode,
            self.contrast,
        ):
            w.observe(self._update, names="value")
        self._update()

    # -- computing ------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"Jacobian explorer: C = {self.classes.value} classes, "
            f"T = {format_number(self.temperature.value)}, "
            f"row {self.row.value}, {self.mode.value}"
        )

    def _update(self, _change: object = None) -> None:
        if self._busy:
            return
        self._busy = True  # changing row.max below may move row.value: one redraw, not two
        try:
            c = self.classes.value
            for i, logit_row in enumerate(self.logit_rows):  # a slider and its number box
                logit_row.layout.display = "" if i < c else "none"
            self.row.max = c - 1
            self._compute()
            self._draw()
        finally:
            self._busy = False

    def _compute(self) -> None:
        c, t = self.classes.value, self.temperature.value
        self.z = np.array([s.value for s in self.logit_sliders[:c]])
        self.p = softmax(self.z / t)
        by_mode = {m: jacobian_of("softmax", self.z, t, m) for m in MODES}
        self.analytic = by_mode["analytic"]
        self.jacobian = by_mode[self.mode.value]
        self.differences = {m: float(np.abs(by_mode[m] - self.analytic).max()) for m in MODES}
        if self.contrast.value:
            self.s = sigmoid(self.z / t)
            self.sigmoid_jacobian = jacobian_of("sigmoid", self.z, t, self.mode.value)
        else:
            self.s = self.sigmoid_jacobian = None

    # -- drawing --------------------------------------------------------------------------------

    def _draw(self) -> None:
        c, t, i = self.classes.value, self.temperature.value, self.row.value
        labels = [str(k) for k in range(c)]
        vmax = 0.25 / t  # |J_ij| ≤ 1/(4T) for softmax and for sigmoid: a fixed scale
        self.bars.value = bar_chart(self.p, title="p = softmax(z / T)", labels=labels, highlight=i)
        self.matrix.value = heatmap(
            self.jacobian, title=f"J = ∂p/∂z ({self.mode.value})", vmax=vmax, highlight_row=i
        ) + _nonzero_note("softmax", self.analytic, "dense: every p_i depends on every z_j")
        if self.contrast.value:
            self.sigmoid_bars.value = bar_chart(
                self.s,
                title="s = σ(z / T), elementwise",
                labels=labels,
                highlight=i,
                color=OKABE_ITO["bluish green"],
            )
            self.sigmoid_matrix.value = heatmap(
                self.sigmoid_jacobian,
                title=f"∂s/∂z ({self.mode.value})",
                vmax=vmax,
                highlight_row=i,
            ) + _nonzero_note("sigmoid", self.sigmoid_jacobian, "diagonal: s_i depends on z_i only")
        else:
            self.sigmoid_bars.value = self.sigmoid_matrix.value = ""
        self.row_view.value = self._row_html(i, t) + self._agreement_html()
        self.caption.value = (
            f"<div style='font-size:12px;color:#444'>{CAPTIONS[self.mode.value]}</div>"
        )

    def _row_html(self, i: int, t: float) -> str:
        p = self.p
        # "/ T" only when T is not 1 (a browser's slider may send 1.0000000000000002 for 1)
        scale = "" if abs(t - 1.0) < 1e-9 else f" / {format_number(t, decimals=2)}"
        head = (
            f"<b>Row i = {i}</b>: J<sub>{i}j</sub> = ∂p<sub>{i}</sub>/∂z<sub>j</sub> = "
            f"p<sub>{i}</sub>(δ<sub>{i}j</sub> − p<sub>j</sub>){' / T' if scale else ''}"
            f"&nbsp; (p<sub>{i}</sub> = {fmt(p[i])})"
        )
        rows = []
        for j in range(p.size):
            delta = 1 if j == i else 0
            formula = f"{fmt(p[i])} × ({delta} − {fmt(p[j])}){scale}"
            rows.append(
                f"<tr><td>j = {j}</td><td>{formula}</td>"
                f"<td style='text-align:right'><b>{fmt(self.jacobian[i, j])}</b></td></tr>"
            )
        total = fmt(self.jacobian[i].sum())
        rows.append(
            f"<tr><td colspan='2'>row sum (Σ<sub>j</sub> p<sub>j</sub> = 1 makes it 0)</td>"
            f"<td style='text-align:right'>{total}</td></tr>"
        )
        if self.contrast.value:
            sig = self.sigmoid_jacobian[i]
            s_i = self.s[i]
            rows.append(
                f"<tr><td colspan='3' style='padding-top:6px'>sigmoid row {i}: only j = {i} is "
                f"non-zero: s<sub>{i}</sub>(1 − s<sub>{i}</sub>){' / T' if scale else ''} = "
                f"{fmt(s_i)} × (1 − {fmt(s_i)}){scale} = <b>{fmt(sig[i])}</b></td></tr>"
            )
        return f"<div>{head}<table style='font-size:13px'>{''.join(rows)}</table></div>"

    def _agreement_html(self) -> str:
        parts = []
        for m, tol in (("reverse mode", AGREE_REVERSE), ("finite differences", AGREE_FD)):
            d = self.differences[m]
            ok = d < tol
            colour = "#2a7a2a" if ok else "#b30000"
            verdict = (
                f"agrees (max |difference| < {format_number(tol)})"
                if ok
                else f"DISAGREES: max |difference| = {format_number(d)}"
            )
            parts.append(
                f"<span style='color:{colour}'>{html.escape(m)} vs analytic: {verdict}</span>"
            )
        return "<div style='font-size:12px'>" + "; ".join(parts) + "</div>"


def _nonzero_note(name: str, matrix: np.ndarray, why: str) -> str:
    """How many entries are non-zero, as computed and as the heatmap's 3 decimals show them
    (an almost one-hot p makes most entries of a dense Jacobian too small to show)."""
    nonzero = int(np.count_nonzero(matrix))
    shown = sum(fmt(float(v)) not in ("0.000", "-0.000") for v in matrix.ravel())
    hidden = f"; {shown} of them large enough to show at 3 decimals" if shown < nonzero else ""
    return (
        "<div style='font-size:12px;line-height:1.3;color:#555;max-width:300px'>"
        f"{name}: {nonzero} of {matrix.size} entries non-zero{hidden} ({html.escape(why)})</div>"
    )


def jacobian_explorer(
    logits: Sequence[float] = (1.0, 2.0, 3.0, 0.0),
    temperature: float = 1.0,
    low: float = -6.0,
    high: float = 6.0,
) -> JacobianExplorer:
    """Sliders for 2 to 10 logits and a temperature; live bars of p and a heatmap of ∂p/∂z.

    ``logits`` sets the starting values and the number of classes (2 to 10; the ``classes``
    slider changes it later). The row selector writes row i out as p_i(δ_ij - p_j); the mode
    toggle switches between the formula, reverse mode one row at a time and finite
    differences; the contrast checkbox adds the diagonal Jacobian of an elementwise sigmoid.
    """
    where = "jacobian_explorer"
    low = real_number(low, "low (the logit sliders' end)", where)
    high = real_number(high, "high (the logit sliders' end)", where)
    if not low < high:
        raise ValueError(f"{where}: the slider range must have low < high, got {low} and {high}")
    if isinstance(logits, (str, bytes)) or not isinstance(logits, Sequence | np.ndarray):
        raise TypeError(
            f"{where}: logits must be a list of 2 to {MAX_CLASSES} numbers, like (1.0, 2.0, 3.0);"
            f" got {type(logits).__name__} {shown(logits)}"
        )
    logits = list(logits)
    if not 2 <= len(logits) <= MAX_CLASSES:
        raise ValueError(f"{where} needs 2 to {MAX_CLASSES} logits, got {len(logits)}")
    logits = [real_number(v, f"logits[{i}]", where) for i, v in enumerate(logits)]
    if not all(low <= v <= high for v in logits):
        raise ValueError(f"{where}: logits must be numbers in [{low}, {high}], got {logits}")
    lo, hi = TEMPERATURES
    temperature = real_number(temperature, "temperature", where)
    if not lo <= temperature <= hi:
        raise ValueError(f"{where}: temperature must be in [{lo:g}, {hi:g}], got {temperature}")
    return JacobianExplorer(logits, temperature, low, high)
