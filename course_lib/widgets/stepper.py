"""The backward stepper: the engine's backward pass one node at a time, with the numbers of
every move.

The steps are those of :func:`course_lib.autodiff.graph.backward_steps`, the generator that
``backward()`` itself runs: the stepper runs it once on the graph (which leaves every ``grad``
as ``backward()`` would) and keeps each :class:`course_lib.autodiff.graph.Step`. For each step it
says the four moves in words, with the step's own numbers:

1. local partial      d(node)/d(parent), stored by the op (``Value.partials``), with its rule
                      from the op table (:data:`course_lib.autodiff.scalar.OPS`);
2. upstream           dL/d(node), complete because every consumer of ``node`` came earlier;
3. multiply           contribution = local partial × upstream (the node's ``local_backward``);
4. sum at joins       the parent's running sum before and after the contribution, as the
                      engine recorded them; a parent used by several consumers is complete
                      when the last of them has passed back.

``stepper(root)`` shows those steps as a widget: Step / Back / Play / Reset and a slider over
the step index; each step highlights one node in the drawing and states its moves.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from numbers import Real
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_lib.autodiff.graph import Step, backward_steps, check_seed, topological_order
from course_lib.autodiff.scalar import op_named
from course_lib.display.draw import draw, format_data, formula, node_names
from course_lib.numbers.checking import real_number, shown, switch, whole_number
from course_lib.tensor.ops import rule_of
from course_lib.widgets.controls import region_rule_view, row, with_number_box

__all__ = [
    "BackwardStepper",
    "default_seed",
    "explain",
    "local_partial_rule",
    "tensor_rule_text",
    "stepper",
]

MAX_INTERVAL_MS = 60_000  # a Play step of a minute: slower is a typo (the default is 1,500)
# The size of the notebook's code, 13 px, or 16 px in JupyterLab's Presentation Mode (which
# leaves the widgets' own font alone): the stepper's words grow with the notebook's.
NOTEBOOK_TEXT_SIZE = "var(--jp-code-font-size, 13px)"
TEXT_MIN = "22em"  # the step's text beside the drawing is never narrower than this


def local_partial_rule(node: Any, index: int, names: Mapping[Any, str]) -> str:
    """d(node)/d(parent number ``index``) as a formula in the graph's names (``"y"``, ``"1"``,
    ``"1 - t²"``), from the op's entry in the op table; ``""`` for an op it does not hold."""
    op = op_named(str(node.op))
    if op is None or op.arity != len(node.parents):
        return ""
    return op.rule(index, *(names[parent] for parent in node.parents), out=names[node])


def tensor_rule_text(node: Any, index: int, names: Mapping[Any, str]) -> str:
    """A Tensor op's contribution to its input number ``index``, in the graph's names, from the
    engine's rule table (``"Xᵀ @ upstream"``); ``""`` for a node that is not a Tensor op."""
    if not hasattr(node, "_rule"):
        return ""
    try:
        entry = rule_of(str(node.op))
    except KeyError:
        return ""
    if index >= len(entry.text):
        return ""
    return entry.says(index, *(names[parent] for parent in node.parents))


def uses(root: Any) -> dict[Any, int]:
    """How many times each node of the graph is used as an input (its edges to consumers)."""
    count = {node: 0 for node in topological_order(root)}
    for node in count:
        for parent in node.parents:
            count[parent] += 1
    return count


def default_seed(root: Any) -> Any:
    """dL/dL for the output ``root``: 1.0 for a number, ones shaped like an array output
    (a 0-d array of 1 for an array engine's scalar loss)."""
    if hasattr(root.data, "shape"):
        return np.ones_like(root.data, dtype=np.float64)
    return 1.0


def _checked_seed(root: Any, seed: Any) -> Any:
    """``seed`` as the engine needs it, or a clear error saying what a seed is."""
    if seed is None:
        return default_seed(root)
    what = "dL/d(output), the gradient the backward pass starts from"
    shape = getattr(root.data, "shape", None)
    if shape is None:  # a scalar graph: one number
        if isinstance(seed, bool) or not isinstance(seed, Real):
            raise TypeError(
                f"stepper: seed is {what}: a number such as 1.0, got {type(seed).__name__} "
                f"{shown(seed)}"
            )
        return real_number(seed, "seed", "stepper")  # finite, within the floats' range
    try:
        array = np.asarray(seed, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"stepper: seed is {what}: an array of numbers of shape {tuple(shape)}, got "
            f"{type(seed).__name__} {seed!r}"
        ) from None
    return check_seed(array, root, "stepper")  # finite, shaped like the output


def explain(steps: list[Step], names: Mapping[Any, str]) -> list[tuple[str, ...]]:
    """The text of every step: one sentence a line, with the step's numbers.

    Reads what the engine recorded (upstream, each contribution, the running sum before and
    after it); it computes no gradient of its own.
    """
    root = steps[0].node
    out = names[root]
    total_uses = uses(root)
    passed: dict[Any, int] = {node: 0 for node in total_uses}  # uses passed back so far
    via: dict[Any, list[tuple[str, Any]]] = {node: [] for node in total_uses}
    texts = []
    for step in steps:
        node = step.node
        name = names[node]
        head = f"{name} = {formula(node, names)}" if node.parents else name
        if node is root:
            lines = [f"{head}: the output. Seed: d{out}/d{out} = {format_data(step.upstream)}."]
        elif len(via[node]) > 1:
            parts = " + ".join(format_data(c) for _, c in via[node])
            lines = [
                f"{head}: upstream d{out}/d{name} = {parts} = {format_data(step.upstream)}, "
                f"the sum of its {len(via[node])} paths (via "
                + ", ".join(n for n, _ in via[node])
                + "): complete."
            ]
        elif via[node]:
            lines = [
                f"{head}: upstream d{out}/d{name} = {format_data(step.upstream)} "
                f"(1 path, via {via[node][0][0]}): complete."
            ]
        else:  # an array engine's constant: nothing that needs a gradient uses it
            lines = [f"{head}: no gradient needed (a constant, or made only from constants)."]
        partials = getattr(node, "partials", None)
        given = {c.index for c in step.contributions}
        for i, parent in enumerate(node.parents):
            if i not in given and step.upstream is not None:
                lines.append(f"  to {names[parent]}: no gradient needed (a constant).")
        for c in step.contributions:
            pname = names[c.parent]
            passed[c.parent] += 1
            via[c.parent].append((name, c.contribution))
            if partials:
                number = format_data(partials[c.index])
                rule = local_partial_rule(node, c.index, names)
                shown = f"{rule} = {number}" if rule and rule != number else number
                move = (
                    f"  to {pname}: local partial ∂{name}/∂{pname} = {shown}; "
                    f"contribution {number} × {format_data(step.upstream)} = "
                    f"{format_data(c.contribution)}."
                )
            else:
                said = tensor_rule_text(node, c.index, names)
                move = (
                    f"  to {pname}: the local rule of {node.op}"
                    + (f" ({pname} gets {said})" if said else "")
                    + f" turns upstream {format_data(step.upstream)} into "
                    f"{format_data(c.contribution)}."
                )
            k, n = passed[c.parent], total_uses[c.parent]
            if n > 1:
                sum_text = (
                    f"{format_data(c.before)} + {format_data(c.contribution)} = "
                    if c.before is not None
                    else ""
                )
                state = "complete" if k == n else "waiting for the rest"
                move += (
                    f" Join at {pname} ({n} uses): running sum {sum_text}"
                    f"{format_data(c.after)} ({k} of {n}, {state})."
                )
            lines.append(move)
        if not node.parents and node is not root and step.upstream is not None:
            what = "an input" if node.label else "a constant"
            lines.append(f"  {name} is {what}: no local rule, nothing to pass back.")
        texts.append(tuple(lines))
    return texts


class BackwardStepper(widgets.VBox):
    """Step / Back / Play / Reset through the backward pass of a graph (see :func:`stepper`).

    ``steps`` are the engine's :class:`course_lib.autodiff.graph.Step` records, output first;
    ``lines[i]`` explains ``steps[i]``. ``index`` (an ``IntSlider``) is the number of steps
    taken, 0 to ``len(steps)``; setting it renders that state (tests and notebooks can drive
    it from code). ``play`` is an ``ipywidgets.Play`` linked to ``index`` in the kernel, so it
    works in JupyterLab and headlessly alike. ``view`` holds the drawing, ``explanation`` the
    text of the step.

    The Play widget's own buttons are icons with no text (no screen reader can name them, and
    ipywidgets offers no way to name them), so it is hidden and driven by ``play_button``, a
    ``ToggleButton`` that says what it does: "Play" while stopped, "Pause" while playing.

    Laid out for a projector (1280×720 at 150% zoom, the file browser closed: a notebook area
    of about 775×360 CSS px), all on one screen: the buttons as wide as their words, on one
    row with the step's number box and slider; below them the drawing, with the step's text
    beside it where the page is wide enough for both, else under it. The drawing keeps its
    size (its region scrolls sideways where the page is narrower), and it and the step's text
    grow with the notebook's code font, which JupyterLab's Presentation Mode enlarges (see
    :func:`course_lib.display.accessible.text_scaled_width`); so do the buttons' words.
    """

    def __init__(
        self, root: Any, *, interval_ms: int = 1500, partials: bool = True, seed: Any = None
    ) -> None:
        for attribute in ("data", "parents", "op", "local_backward"):
            if not hasattr(root, attribute):
                raise TypeError(
                    f"stepper needs a graph node (data, grad, parents, op, local_backward), "
                    f"got {type(root).__name__} without {attribute!r}"
                )
        interval_ms = whole_number(
            interval_ms, "interval_ms", "stepper", minimum=50, maximum=MAX_INTERVAL_MS
        )
        partials = switch(partials, "partials", "stepper")
        self.root = root
        self.names = node_names(root)
        self.steps: list[Step] = list(backward_steps(root, _checked_seed(root, seed)))
        self.lines = explain(self.steps, self.names)
        self.partials = partials
        self._uses = uses(root)
        n = len(self.steps)
        self.index = widgets.IntSlider(
            value=0,
            min=0,
            max=n,
            description="step",
            readout=True,
            layout=widgets.Layout(width="16em"),  # beside the buttons, on their row
        )
        self.play = widgets.Play(value=0, min=0, max=n, step=1, interval=interval_ms)
        self.play.show_repeat = False
        self.play.layout.display = "none"  # still animates; play_button is what a learner sees
        widgets.link((self.play, "value"), (self.index, "value"))
        self.play_button = widgets.ToggleButton(
            value=False, description="Play", icon="play", tooltip="Play the steps one by one"
        )
        widgets.link((self.play_button, "value"), (self.play, "playing"))
        self.play_button.observe(self._show_playing, names="value")
        self.back_button = widgets.Button(description="Back", icon="step-backward")
        self.step_button = widgets.Button(description="Step", icon="step-forward")
        self.reset_button = widgets.Button(description="Reset", icon="undo")
        for button in (self.back_button, self.step_button, self.play_button, self.reset_button):
            button.layout.width = "auto"  # as wide as its words (ipywidgets gives 148 px)
            button.style.font_size = NOTEBOOK_TEXT_SIZE
        # The drawing takes its own width, or less with its region scrolling; the text takes
        # the rest of the row, wrapping under the drawing when that is less than TEXT_MIN.
        self.view = widgets.HTML(layout=widgets.Layout(flex="0 1 auto", min_width="0"))
        self.explanation = widgets.HTML(layout=widgets.Layout(flex=f"1 1 {TEXT_MIN}"))
        self.back_button.on_click(lambda _: self.back())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.index.observe(lambda _: self.render(), names="value")
        controls = row(
            [
                self.back_button,
                self.step_button,
                self.play_button,
                self.reset_button,
                with_number_box(self.index),
                self.play,
            ]
        )
        super().__init__([controls, row([self.view, self.explanation]), region_rule_view()])
        self.add_class("tgf-stepper")
        self.render()

    def __repr__(self) -> str:
        return (
            f"backward stepper: step {self.index.value} of {len(self.steps)} "
            f"(the text form of a widget; run the notebook in JupyterLab to step)"
        )

    def _show_playing(self, _change: object = None) -> None:
        """The toggle says what pressing it will do; Play at the last step starts over."""
        playing = self.play_button.value
        if playing and self.index.value >= self.index.max:
            self.index.value = 0
        self.play_button.description = "Pause" if playing else "Play"
        self.play_button.icon = "pause" if playing else "play"

    def step(self) -> None:
        """One step further (no-op at the end)."""
        self.index.value = min(self.index.value + 1, self.index.max)

    def back(self) -> None:
        """One step back (no-op at the start)."""
        self.index.value = max(self.index.value - 1, 0)

    def reset(self) -> None:
        """Stop playing and return to the state before the backward pass."""
        self.play.playing = False
        self.index.value = 0

    @property
    def current(self) -> Step | None:
        """The step just taken (``None`` before the first)."""
        return self.steps[self.index.value - 1] if self.index.value else None

    def _step_number(self, k: Any, where: str) -> int:
        """A step number 0 .. the number of steps (0: before the first)."""
        return whole_number(k, "k (a step number)", where, minimum=0, maximum=len(self.lines))

    def text(self, k: int | None = None) -> str:
        """What the stepper says after ``k`` steps (default: the current index), plain text."""
        k = self.index.value if k is None else self._step_number(k, "text")
        if k == 0:
            return "Step 0: before the backward pass; no gradient is computed yet."
        return "\n".join(self.lines[k - 1])

    def state(self, k: int | None = None) -> dict[Any, str]:
        """The gradient text of every node after ``k`` steps (default: the current index):
        the engine's running sums as recorded in the steps."""
        k = self.index.value if k is None else self._step_number(k, "state")
        latest: dict[Any, Any] = {}  # each node's running sum after the steps taken
        count: dict[Any, int] = {}
        for step in self.steps[:k]:
            if step.node is self.root:
                latest[step.node] = step.upstream
            for c in step.contributions:
                latest[c.parent] = c.after
                count[c.parent] = count.get(c.parent, 0) + 1
        text = {}
        for node in self.names:
            if node not in latest:
                text[node] = "not computed yet"
            elif node is self.root:
                text[node] = f"{format_data(latest[node])} (seed)"
            elif count[node] < self._uses[node]:
                text[node] = (
                    f"{format_data(latest[node])} so far ({count[node]} of {self._uses[node]})"
                )
            else:
                text[node] = format_data(latest[node])
        return text

    def render(self) -> None:
        k = self.index.value
        grads = self.state(k)
        styles = {}
        for node, text in grads.items():
            if text != "not computed yet":
                styles[node] = "partial" if "so far" in text else "done"
        edge_labels: dict[tuple[Any, int], str] = {}
        for step in self.steps[:k]:
            for c in step.contributions:
                edge_labels[(step.node, c.index)] = f"{format_data(c.contribution)}"
        step = self.current
        if step is not None:
            partials = getattr(step.node, "partials", None)
            for c in step.contributions:
                factor = format_data(partials[c.index]) if partials else "rule"
                edge_labels[(step.node, c.index)] = (
                    f"{factor} × {format_data(step.upstream)} = {format_data(c.contribution)}"
                )
        if self.partials:
            for node in self.names:
                partials = getattr(node, "partials", None)
                for i in range(len(node.parents)):
                    if partials and (node, i) not in edge_labels:
                        edge_labels[(node, i)] = format_data(partials[i])
        n = len(self.steps)
        if step is None:
            title = f"Step 0 of {n}: before the backward pass"
            body = (
                "No gradient is computed yet. Press Step (or Play) to start at the output "
                f"{html.escape(self.names[self.root])} and walk the graph in reverse "
                "topological order. Edges show local partials; after a node's step they show "
                "the contribution it passed back."
            )
        else:
            title = f"Step {k} of {n}: node {self.names[step.node]}"
            body = "<br>".join(
                html.escape(line).replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;")
                for line in self.lines[k - 1]
            )
            if k == n:
                body += "<br><b>Done: every gradient is complete.</b>"
        self.view.value = draw(
            self.root,
            highlight=step.node if step else None,
            highlight_edges="in",
            grads=grads,
            styles=styles,
            edge_labels=edge_labels,
            title=title,
            names=self.names,
        ).html()
        self.explanation.value = (
            "<div style='font-family:var(--jp-code-font-family, monospace);"
            f"font-size:{NOTEBOOK_TEXT_SIZE};line-height:1.3'>{body}</div>"
        )


def stepper(
    root: Any, *, interval_ms: int = 1500, partials: bool = True, seed: Any = None
) -> BackwardStepper:
    """Step / Back / Play / Reset through the backward pass of the graph ending at ``root``.

    Each step highlights one node (in reverse topological order) and states, with numbers,
    "local partial × upstream = contribution" for each of its parents and, at a parent with
    several consumers, the running sum at the join. ``seed`` is dL/d(root) (default 1, or
    ones shaped like an array output). The steps are the engine's own: making the stepper
    runs the backward pass once, so afterwards every ``grad`` is what ``backward()`` gives.
    """
    return BackwardStepper(root, interval_ms=interval_ms, partials=partials, seed=seed)
