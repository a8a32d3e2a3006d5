"""The step explorer: a gradient check's two errors, truncation and round-off, at any step h.

A slider sets log₁₀ h and buttons the number type. On each change the explorer computes the
central difference (g(1 + h) − g(1 − h)) / 2h of g(x) = x³, whose true slope at 1 is 3, with
:func:`course_lib.checks.central_difference_sweep` in that type, and shows its error beside the
two errors that make it up: truncation, exactly h² for this g, and round-off, about ε/h. Bars
show the three on a log scale, so the learner sees which one rules at each h and where their
sum is smallest.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_lib.checks import central_difference_sweep
from course_lib.numbers.checking import real_number
from course_lib.widgets.charts import bar_chart, fmt
from course_lib.widgets.controls import with_number_box

__all__ = [
    "StepSizeExplorer",
    "error_curve_alt_text",
    "step_size_explorer",
    "two_types_alt_text",
]

TYPES = ("float64", "float32")
LOWEST, HIGHEST = -12.0, 0.0  # the slider's range of log₁₀ h
CHECK_RTOL = 1e-5  # gradient_check's relative tolerance, as the notebook quotes it
# The bars' scale starts at log₁₀ = -17: the smallest error float64 shows at h near 1e-5. Smaller
# numbers (h² below h = 3e-9) are drawn to the edge, broken, labelled with their own log. An
# error of exactly 0 has log₁₀ -∞: its bar stands at EXACT, below the scale, labelled -∞.
BARS_LOW = -17.0
EXACT = BARS_LOW - 100.0


def _log_label(value: float) -> str:
    return "−∞" if value == EXACT else fmt(value, 1)


def _cube(x):  # g(x) = x³, written with arithmetic so that float32 stays float32
    return x * x * x


class StepSizeExplorer(widgets.VBox):
    """The widget :func:`step_size_explorer` returns. Controls: ``exponent`` (FloatSlider,
    log₁₀ h) and ``dtype`` (ToggleButtons). Views (HTML): ``summary`` and ``bars``. State after
    each update: ``h``, ``estimate``, ``error`` (|estimate − 3|), ``truncation`` (h²) and
    ``round_off`` (ε/h)."""

    def __init__(self, exponent: float, dtype: str) -> None:
        self.exponent = widgets.FloatSlider(
            value=exponent,
            min=LOWEST,
            max=HIGHEST,
            step=0.25,
            description="log₁₀ h",
            readout_format=".2f",
        )
        self.dtype = widgets.ToggleButtons(options=list(TYPES), value=dtype, description="type")
        self.summary = widgets.HTML()
        self.bars = widgets.HTML()
        super().__init__([self.dtype, with_number_box(self.exponent), self.summary, self.bars])
        for control in (self.exponent, self.dtype):
            control.observe(self._update, names="value")
        self._update()

    def __repr__(self) -> str:
        return f"StepSizeExplorer(h = {self.h:.1e}, {self.dtype.value}: error {self.error:.1e})"

    def _update(self, _change: object = None) -> None:
        kind = np.dtype(self.dtype.value).type
        self.h = float(10.0 ** float(self.exponent.value))
        (estimate,) = central_difference_sweep(_cube, 1.0, [self.h], dtype=kind)
        self.estimate = float(estimate)
        self.error = abs(self.estimate - 3.0)
        self.truncation = self.h**2
        self.round_off = float(np.finfo(kind).eps) / self.h
        passes = self.error <= CHECK_RTOL * 3.0
        ruler = "truncation" if self.truncation > self.round_off else "round-off"
        self.summary.value = (
            "<div style='font-size:13px'>"
            f"h = {self.h:.1e} in {self.dtype.value}: (g(1 + h) − g(1 − h)) / 2h = "
            f"<b>{self.estimate:.8f}</b>, off from g'(1) = 3 by <b>{self.error:.1e}</b> "
            f"(relative error {self.error / 3.0:.1e}). Truncation h² = {self.truncation:.1e}, "
            f"round-off ε/h = {self.round_off:.1e}: {ruler} is the larger here. A gradient "
            f"check with a relative tolerance of {CHECK_RTOL:g} would "
            f"<b>{'pass' if passes else 'fail'}</b>.</div>"
        )
        logs = [
            float(np.log10(value)) if value > 0 else EXACT
            for value in (self.error, self.truncation, self.round_off)
        ]
        self.bars.value = bar_chart(
            logs,
            title="log₁₀ of: the measured error, h², ε/h",
            low=BARS_LOW,
            high=2.0,
            labels=["error", "h²", "ε/h"],
            number=_log_label,
            width=300,
            height=200,
        )


def step_size_explorer(exponent: float = -6.0, dtype: str = "float64") -> StepSizeExplorer:
    """A slider for log₁₀ h (−12 to 0) and buttons for float64 / float32; the central
    difference of x³ at 1, its error, and the truncation and round-off errors it is made of."""
    exponent = real_number(exponent, "exponent", "step_size_explorer")
    if not LOWEST <= exponent <= HIGHEST:
        raise ValueError(
            f"step_size_explorer: exponent is log₁₀ h, from {LOWEST:g} to {HIGHEST:g}; got "
            f"{exponent!r}"
        )
    if not isinstance(dtype, str) or dtype not in TYPES:
        raise ValueError(f"step_size_explorer: dtype must be one of {TYPES}, got {dtype!r}")
    return StepSizeExplorer(exponent, dtype)


def error_curve_alt_text(hs: np.ndarray, errors: np.ndarray) -> str:
    """The text alternative of notebook 04's log-log plot of the central difference's error
    against the step h (float64), with where the error is smallest."""
    best = int(np.argmin(errors))
    return (
        "Log-log plot of the error of the central difference of x³ at x = 1 against the step "
        f"h, from {hs[0]:.0e} to {hs[-1]:g}. The error is smallest, {errors[best]:.0e}, at h = "
        f"{hs[best]:.0e}. For smaller h it grows as h shrinks, along the dotted round-off line "
        "ε/h; for larger h it grows with h, along the dashed truncation line h²."
    )


def two_types_alt_text(hs: np.ndarray, errors64: np.ndarray, errors32: np.ndarray) -> str:
    """The text alternative of notebook 04's plot of the same error in float64 and float32,
    with each type's smallest error and float32's at gradient_check's step 1e-6."""
    best64, best32 = int(np.argmin(errors64)), int(np.argmin(errors32))
    at_check = int(np.argmin(np.abs(hs - 1e-6)))
    return (
        "Log-log plot of the same error in float64 (circles) and float32 (squares) against the "
        "step h, with a grey vertical line at h = 1e-6, the step gradient_check uses. float32's "
        f"error is smallest, {errors32[best32]:.0e}, at h = {hs[best32]:.0e}; float64's is "
        f"{errors64[best64]:.0e} at h = {hs[best64]:.0e}. At h = 1e-6 float32's error is "
        f"{errors32[at_check]:.0e}."
    )
