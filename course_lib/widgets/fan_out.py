"""The fan-out explorer: one hidden unit of the MNIST network, one image, taken apart.

In the network of :mod:`course_lib.network` hidden unit j feeds every output logit,
z_k = Σ_j h_j W2[j, k] + b2[k], so its upstream gradient gathers one contribution from each of
the ten outputs (sum at joins). For one image (batch of one, so the mean's 1/N is 1):

    ∂L/∂h_j = Σ_k ∂L/∂z_k · ∂z_k/∂h_j = Σ_k (p_k − y_k) · W2[j, k]        ten paths, summed

and the unit's own gradient multiplies that by the sigmoid's local slope:

    ∂L/∂a_j = ∂L/∂h_j · σ'(a_j),   σ'(a_j) = h_j (1 − h_j).

**Layout.** W2 has shape (H, 10): ``W2[j, k]`` is the weight from hidden unit j to output k
(Nielsen's book writes it W2[k, j]); W1 has shape (784, H), so column ``W1[:, j]`` holds the
unit's 784 incoming weights, shown as a 28 × 28 picture.

The widget computes the ten products itself, with numpy, and puts the engine's own ∂L/∂h_j
(``h.grad`` after ``loss.backward()``) beside their sum: the two agree. It works on a float64
copy of the network, so they agree to about 1e-16. Pictures and charts are hand-built SVG
strings in ``HTML`` widgets (well under a millisecond each), so sliders respond at once.
"""

from __future__ import annotations

import functools
import html

import ipywidgets as widgets
import numpy as np

from course_lib.display.accessible import html_figure, svg_open
from course_lib.kernels import softmax
from course_lib.network import SigmoidNet
from course_lib.numbers.checking import real_number, whole_number
from course_lib.numbers.formatting import format_number
from course_lib.widgets.charts import (
    NEGATIVE,
    NEGATIVE_BAR,
    POSITIVE,
    bar_chart,
    finite_numbers,
    fmt,
    subscript,
)
from course_lib.widgets.controls import row, with_number_box

__all__ = [
    "DigitRow",
    "FanOutExplorer",
    "digit_row",
    "digit_svg",
    "digits_html",
    "fan_out_explorer",
    "number",
    "paths_svg",
    "weight_pictures_alt_text",
    "weights_svg",
]

SIDE = 28  # MNIST images are 28 x 28 pixels, stored as rows of 784


MAX_PICTURE = 1000  # pixels on a side: a digit of 28 x 28 squares needs no more


def _picture_size(size: object, where: str) -> int:
    """A picture's side in pixels, through the one check of a user's number."""
    return whole_number(size, "size (pixels on a side)", where, maximum=MAX_PICTURE)


def digit_svg(pixels: np.ndarray, size: int = 112, title: str | None = None) -> str:
    """A 28 × 28 image (784 values in [0, 1], 1 = ink) as an SVG of grey squares.

    Only inked pixels are drawn, on a white square, so a digit costs about 150 rectangles.
    """
    size = _picture_size(size, "digit_svg")
    values = finite_numbers(pixels, "pixels", "digit_svg")
    if values.size != SIDE * SIDE:
        raise ValueError(f"digit_svg: needs 784 pixel values (28 x 28), got {values.size}")
    cell = size / SIDE
    top = 16 if title else 0
    inked = int((values > 0.02).sum())
    parts = [
        svg_open(
            size,
            size + top,
            f"Handwritten digit, {title}" if title else "Handwritten digit",
            f"A 28 by 28 pixel greyscale image, {inked} of 784 pixels inked.",
            "font-family='sans-serif' font-size='11'",
        ),
        f"<rect x='0' y='{top}' width='{size}' height='{size}' fill='#fff' stroke='#bbb'/>",
    ]
    if title:
        parts.append(
            f"<text x='{size / 2:.0f}' y='12' text-anchor='middle'>{html.escape(title)}</text>"
        )
    for index in np.flatnonzero(values > 0.02):
        row, col = divmod(int(index), SIDE)
        grey = round(255 * (1 - min(1.0, float(values[index]))))
        parts.append(
            f"<rect x='{col * cell:.1f}' y='{top + row * cell:.1f}' width='{cell + 0.2:.1f}' "
            f"height='{cell + 0.2:.1f}' fill='rgb({grey},{grey},{grey})'/>"
        )
    parts.append("</svg>")
    return "".join(parts)


def number(x: float, digits: int = 3, scale: float | None = None) -> str:
    """``x`` in plain notation with ``digits`` significant digits of ``scale`` (default: of
    ``x`` itself): number(-0.0122) = "-0.0122", number(0.000563) = "0.000563", and with
    scale 0.5, number(0.000563, scale=0.5) = "0.001" (numbers on one chart share decimals)."""
    x = float(x)
    scale = abs(x) if scale is None else abs(float(scale))
    if not np.isfinite(x):
        return format_number(x)
    if scale == 0.0 or not np.isfinite(scale):
        return "0"
    decimals = max(0, digits - 1 - int(np.floor(np.log10(scale))))
    return format_number(x, decimals=decimals)


def paths_svg(
    contributions: np.ndarray,
    total: float,
    *,
    unit: int,
    true_class: int | None = None,
    width: int = 470,
    height: int = 210,
) -> str:
    """Ten signed bars W2[j, k] · (p_k − y_k), one per output k, and an eleventh bar Σ, their
    sum, all on one scale (the largest |bar|), each with its number (to the decimals that give
    the largest three significant digits, so tiny paths read as 0). Vermillion (above 0,
    a positive term: raising h_j raises the loss) pulls h_j down, blue (below 0) the other way;
    the bar's direction and its signed number say the same without colour.

    The true class's bar is outlined: it is the only one where y_k = 1, so its p_k − 1 < 0.
    Drawn by the course's one bar chart, :func:`course_lib.widgets.charts.bar_chart`.
    """
    values = [float(v) for v in finite_numbers(contributions, "contributions", "paths_svg")]
    values.append(real_number(total, "total", "paths_svg"))
    vmax = max(abs(v) for v in values) or 1.0
    reach = 1.15 * vmax  # room beyond the longest bar for its number
    colors = [NEGATIVE_BAR if v > 0 else "#0072B2" for v in values[:-1]] + ["#555"]
    return bar_chart(
        values,
        title=f"∂L/∂h{subscript(unit)} = Σ over the ten outputs k of W2[{unit}, k] · (p_k − y_k)",
        low=-reach,
        high=reach,
        labels=[f"k={k}" for k in range(len(values) - 1)] + ["Σ"],
        highlight=true_class,
        colors=colors,
        number=lambda v: number(v, scale=vmax),
        separator_before=len(values) - 1,
        width=width,
        height=height,
    )


def weights_svg(weights: np.ndarray, size: int = 112, title: str | None = None) -> str:
    """784 weights as a 28 × 28 picture on a diverging scale: orange-red (vermillion) > 0,
    blue < 0, white 0.

    The scale runs to ± the largest |weight|, which is printed under the picture.
    """
    size = _picture_size(size, "weights_svg")
    values = finite_numbers(weights, "weights", "weights_svg")
    if values.size != SIDE * SIDE:
        raise ValueError(f"weights_svg: needs 784 weights (28 x 28), got {values.size}")
    vmax = float(np.abs(values).max()) or 1.0
    top = 16 if title else 0
    low, high = int(np.argmin(values)), int(np.argmax(values))
    described = (
        f"784 weights drawn as a 28 by 28 picture, {int((values > 0).sum())} positive and "
        f"{int((values < 0).sum())} negative; the largest is {fmt(values[high], 3)} at row "
        f"{high // SIDE}, column {high % SIDE}; the most negative is {fmt(values[low], 3)} at "
        f"row {low // SIDE}, column {low % SIDE}."
    )
    parts = [
        svg_open(
            size,
            size + top + 14,
            f"Weight picture, {title}" if title else "Weight picture",
            described,
            "font-family='sans-serif' font-size='11'",
        ),
    ]
    if title:
        parts.append(
            f"<text x='{size / 2:.0f}' y='12' text-anchor='middle'>{html.escape(title)}</text>"
        )
    # The colours of diverging_color, computed for all 784 cells at once (about 10x faster
    # than one call per cell, which matters on every slider move).
    t = np.minimum(1.0, np.abs(values) / vmax)[:, None]
    ends = np.where(values[:, None] > 0, POSITIVE, NEGATIVE)
    rgb = np.rint(255 + (ends - 255) * t).astype(int).tolist()
    parts += [
        f"{cell_start}fill='rgb({r},{g},{b})'/>"
        for cell_start, (r, g, b) in zip(_cell_starts(size, top), rgb, strict=True)
    ]
    parts.append(
        f"<text x='{size / 2:.0f}' y='{top + size + 11}' text-anchor='middle' fill='#555' "
        f"font-size='10'>blue −{fmt(vmax, 2)} … orange +{fmt(vmax, 2)}</text></svg>"
    )
    return "".join(parts)


COUNT_WORDS = "One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve".split()


def weight_pictures_alt_text(units: list[int]) -> str:
    """The text alternative of a row of weight pictures, one per hidden unit in ``units``
    (each unit's 784 incoming weights ``W1[:, j]`` as a 28 × 28 image on a red-blue scale
    symmetric about 0, as the notebook draws them with matplotlib)."""
    units = [int(u) for u in units]
    if not units:
        raise ValueError("weight_pictures_alt_text: needs at least one hidden unit")
    n = len(units)
    count = COUNT_WORDS[n - 1] if n <= len(COUNT_WORDS) else str(n)
    if n == 1:
        pictures = f"One 28 by 28 picture, of hidden unit {units[0]}"
    else:
        pictures = f"{count} 28 by 28 pictures, one per hidden unit ({', '.join(map(str, units))})"
    return (
        f"{pictures}: the unit's 784 incoming weights, red where a weight is positive, blue "
        "where it is negative, white near 0, each on a scale symmetric about 0."
    )


@functools.lru_cache(maxsize=8)
def _cell_starts(size: int, top: int) -> tuple[str, ...]:
    """The opening of each pixel's ``<rect>`` (position and size), row by row."""
    cell = size / SIDE
    return tuple(
        f"<rect x='{col * cell:.1f}' y='{top + row * cell:.1f}' width='{cell + 0.2:.1f}' "
        f"height='{cell + 0.2:.1f}' "
        for row in range(SIDE)
        for col in range(SIDE)
    )


def digits_html(images: np.ndarray, labels: np.ndarray, count: int = 10, size: int = 56) -> str:
    """The first ``count`` images in a row, each titled with its label (for a first look)."""
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE:
        raise ValueError(f"digits_html: images must have shape (N, 784), got {images.shape}")
    count = min(
        whole_number(count, "count (images to show)", "digits_html", minimum=0), len(images)
    )
    size = _picture_size(size, "digits_html")
    cells = "".join(
        digit_svg(images[i], size=size, title=f"label {int(labels[i])}") for i in range(count)
    )
    return f"<div style='display:flex;gap:6px;flex-wrap:wrap'>{cells}</div>"


class DigitRow:
    """Images in a row, each titled with its label: SVG in a notebook, a line of text elsewhere.

    What :func:`digit_row` returns. Its text form (the ``text/plain`` a notebook saves beside
    the picture) lists the labels, so it reads the same with every IPython version.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, count: int, size: int) -> None:
        self.html = digits_html(images, labels, count=count, size=size)
        self.labels = [int(v) for v in np.asarray(labels)[: min(count, len(images))]]

    def _repr_html_(self) -> str:
        return html_figure(self.html, "handwritten digits", 0)

    def __repr__(self) -> str:
        return f"{len(self.labels)} images, labels {' '.join(map(str, self.labels))}"


def digit_row(images: np.ndarray, labels: np.ndarray, count: int = 10, size: int = 56) -> DigitRow:
    """The first ``count`` images with their labels, for a first look (see :class:`DigitRow`)."""
    return DigitRow(images, labels, count, size)


class FanOutExplorer(widgets.VBox):
    """The widget :func:`fan_out_explorer` returns; controls and numbers as attributes.

    Controls: ``image`` (IntSlider, index into the images), ``unit`` (IntSlider, hidden unit
    j), ``top_units`` (Dropdown: the units with the largest |∂L/∂h_j| for this image; picking
    one moves ``unit``). Views (HTML): ``digit`` (the image), ``weights`` (the unit's incoming
    weights as a picture), ``note`` (prediction, loss, a_j and h_j), ``paths`` (bar chart of
    the ten path contributions) and ``summary`` (the sum, the engine's value, σ'(a_j) and the
    unit's gradient). Each picture has a view of its own, so moving one slider sends only what
    it changes (a new image leaves the 784-square weight picture in the page as it is).

    State after each update: ``p``, ``y`` (one-hot), ``contributions`` (the ten
    W2[j, k] · (p_k − y_k)), ``total`` (their sum), ``engine_dh`` (``h.grad[0, j]`` from
    ``backward()``), ``sigma_prime`` (h_j (1 − h_j)), ``unit_grad`` (``total · sigma_prime``),
    ``engine_da`` (``a.grad[0, j]``), ``ranking`` (units by |∂L/∂h_j|, largest first).
    """

    def __init__(
        self, net: SigmoidNet, images: np.ndarray, labels: np.ndarray, image: int, unit: int
    ):
        self.net = net.copy(np.float64)  # float64: the hand sum and backward() agree to ~1e-16
        self.images = images
        self.labels = labels
        self.image = widgets.IntSlider(
            value=image,
            min=0,
            max=len(images) - 1,
            description="image",
            continuous_update=False,
            layout=widgets.Layout(width="360px"),
        )
        self.unit = widgets.IntSlider(
            value=unit,
            min=0,
            max=net.hidden - 1,
            description="hidden unit j",
            style={"description_width": "initial"},
            continuous_update=True,
            layout=widgets.Layout(width="360px"),
        )
        self.top_units = widgets.Dropdown(
            description="largest |∂L/∂h|",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="360px"),
        )
        self.digit = widgets.HTML()
        self.weights = widgets.HTML(layout=widgets.Layout(margin="0 0 0 12px"))
        self.note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 12px"))
        self.paths = widgets.HTML()
        self.summary = widgets.HTML()
        super().__init__(
            [
                row(
                    [
                        widgets.VBox(
                            [
                                with_number_box(self.image),
                                with_number_box(self.unit),
                                self.top_units,
                            ]
                        ),
                        self.digit,
                        self.weights,
                        self.note,
                    ]
                ),
                row([self.paths, self.summary]),
            ]
        )
        self._cached_image = -1
        self._weights_unit = -1  # the unit whose weight picture is shown
        self._picking = False
        self.image.observe(self._on_image, names="value")
        self.unit.observe(self._on_unit, names="value")
        self.top_units.observe(self._on_pick, names="value")
        self._on_image()

    def __repr__(self) -> str:
        # What a notebook saves as the widget's text/plain: short, and the same for every
        # ipywidgets version (the default repr lists traits and changes with the library).
        j = self.unit.value
        return (
            f"FanOutExplorer(image {self.image.value} (label {self.label}), hidden unit {j}: "
            f"sum of ten paths {fmt(self.total, 4)}, engine's dL/dh {fmt(self.engine_dh, 4)})"
        )

    # ---- computing -------------------------------------------------------------------------

    def _backward_for_image(self) -> None:
        """Forward and backward on the one chosen image, through the engine."""
        i = self.image.value
        x = self.images[i : i + 1]
        label = np.asarray(self.labels[i : i + 1], dtype=np.int64)
        graph = self.net.trace(x, label)
        graph.loss.backward()
        self.loss = graph.loss.item()
        self.h = graph.h.data[0]
        self.a = graph.a.data[0]
        self.dh = graph.h.grad[0]  # ∂L/∂h for every hidden unit, from backward()
        self.da = graph.a.grad[0]
        self.p = softmax(graph.logits.data[0])  # the library's, as the loss node computes it
        self.y = np.eye(self.net.classes)[int(label[0])]
        self.label = int(label[0])
        self.ranking = np.argsort(-np.abs(self.dh), kind="stable")
        self._cached_image = i

    def _on_image(self, _change: object = None) -> None:
        self._backward_for_image()
        # What the move is for goes first (the digit, then the unit's numbers): the browser
        # shows it before it rebuilds the dropdown's list of units, which comes last.
        self.digit.value = self._digit_html()
        self._on_unit()
        top = [int(j) for j in self.ranking[:8]]
        self._picking = True  # filling the dropdown must not move the unit slider
        try:
            self.top_units.options = [(f"unit {j}: ∂L/∂h = {fmt(self.dh[j], 4)}", j) for j in top]
            self.top_units.value = None
        finally:
            self._picking = False

    def _on_pick(self, change: dict) -> None:
        if not self._picking and change["new"] is not None:
            self.unit.value = change["new"]

    def _on_unit(self, _change: object = None) -> None:
        j = self.unit.value
        if self.top_units.value is not None and self.top_units.value != j:
            self._picking = True  # the slider moved away from the picked unit: clear the pick
            try:
                self.top_units.value = None
            finally:
                self._picking = False
        w2 = self.net.W2.data[j]  # (10,): the weights from unit j to each output k
        self.contributions = w2 * (self.p - self.y)
        self.total = float(self.contributions.sum())
        self.engine_dh = float(self.dh[j])
        self.sigma_prime = float(self.h[j] * (1 - self.h[j]))
        self.unit_grad = self.total * self.sigma_prime
        self.engine_da = float(self.da[j])
        if j != self._weights_unit:  # the weight picture depends on the unit only
            self.weights.value = self._weights_html(j)
            self._weights_unit = j
        self.note.value = self._note_html(j)
        self.paths.value = self._paths_html(j)
        self.summary.value = self._summary_html(j)

    # ---- drawing ---------------------------------------------------------------------------

    def _digit_html(self) -> str:
        i = self.image.value
        return digit_svg(self.images[i], title=f"image {i}: label {self.label}")

    def _weights_html(self, j: int) -> str:
        return weights_svg(self.net.W1.data[:, j], title=f"W1[:, {j}] (into unit {j})")

    def _note_html(self, j: int) -> str:
        predicted = int(np.argmax(self.p))
        return (
            f"<div style='font-size:12px;max-width:190px'>predicted {predicted} "
            f"(p = {fmt(self.p[predicted])}); true {self.label} (p = {fmt(self.p[self.label])}); "
            f"loss {fmt(self.loss, 4)}<br>unit {j}: a = {fmt(self.a[j])}, "
            f"h = σ(a) = {fmt(self.h[j])}</div>"
        )

    def _paths_html(self, j: int) -> str:
        return paths_svg(self.contributions, self.total, unit=j, true_class=self.label)

    def _summary_html(self, j: int) -> str:
        rows = "".join(
            f"<tr><td>{k}</td><td style='text-align:right'>{fmt(self.net.W2.data[j, k], 4)}</td>"
            f"<td style='text-align:right'>{fmt(self.p[k] - self.y[k], 4)}</td>"
            f"<td style='text-align:right'><b>{fmt(self.contributions[k], 5)}</b></td></tr>"
            for k in range(self.net.classes)
        )
        agree = abs(self.total - self.engine_dh) <= 1e-9 * max(1.0, abs(self.total))
        mark = "✓ equal" if agree else "✗ differ"
        return (
            "<div style='font-size:12px;padding-left:10px'>"
            "<table style='font-size:12px'><tr><th>k</th><th>W2[j, k]</th><th>p_k − y_k</th>"
            f"<th>product</th></tr>{rows}</table>"
            f"<div>sum of the ten paths: <b>{fmt(self.total, 5)}</b></div>"
            f"<div>engine's ∂L/∂h<sub>{j}</sub> (h.grad): <b>{fmt(self.engine_dh, 5)}</b> "
            f"{mark}</div>"
            f"<div>× σ'(a<sub>{j}</sub>) = h(1 − h) = {fmt(self.sigma_prime, 4)}</div>"
            f"<div>= ∂L/∂a<sub>{j}</sub> = <b>{fmt(self.unit_grad, 5)}</b> "
            f"(engine's a.grad: {fmt(self.engine_da, 5)})</div></div>"
        )


def fan_out_explorer(
    net: SigmoidNet,
    images: np.ndarray,
    labels: np.ndarray,
    image: int = 0,
    unit: int | None = None,
) -> FanOutExplorer:
    """Pick an image and a hidden unit j; see its ten downstream paths add up to ∂L/∂h_j.

    ``net`` is a :class:`course_lib.network.SigmoidNet` on 28 × 28 images (784 inputs) with ten
    classes; ``images`` (N, 784) and ``labels`` (N,) are the examples to pick from (the test
    set, say). ``unit`` defaults to the unit with the largest |∂L/∂h_j| for the first image.
    """
    if not isinstance(net, SigmoidNet):
        raise TypeError(f"fan_out_explorer: net must be a SigmoidNet, got {type(net).__name__}")
    if net.inputs != SIDE * SIDE:
        raise ValueError(
            f"fan_out_explorer: the network must take 784 inputs (28 x 28 images), not {net.inputs}"
        )
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE or len(images) == 0:
        raise ValueError(
            f"fan_out_explorer: images must have shape (N, 784) with N >= 1, got {images.shape}"
        )
    # Every image and every label checked now, not when the slider first reaches a bad one.
    try:
        net.as_batch(images)  # pixels: finite numbers in [0, 1]
        labels = net.as_labels(labels, len(images))  # class indices in [0, 10)
    except (TypeError, ValueError) as error:
        raise type(error)(f"fan_out_explorer: {error}") from None
    image = whole_number(
        image,
        f"image (an index, 0 to {len(images) - 1})",
        "fan_out_explorer",
        minimum=0,
        maximum=len(images) - 1,
    )
    if unit is not None:
        unit = whole_number(
            unit,
            f"unit (a hidden unit, 0 to {net.hidden - 1})",
            "fan_out_explorer",
            minimum=0,
            maximum=net.hidden - 1,
        )
    explorer = FanOutExplorer(net, images, labels, image, 0 if unit is None else unit)
    if unit is None:
        explorer.unit.value = int(explorer.ranking[0])
    return explorer
