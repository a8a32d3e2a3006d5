"""The backward stepper: reverse mode one node at a time, with the numbers of every move.

``backward_steps(root)`` replays the backward pass of :mod:`course_lib.graph` in its order
(reverse topological) and records, for each node, the four moves with numbers:

1. local partial      d(node)/d(parent), stored by the op (``Value.partials``);
2. upstream           dL/d(node), complete because every consumer of ``node`` came earlier;
3. multiply           contribution = local partial × upstream (the node's ``local_backward``);
4. sum at joins       the parent's running sum grows by the contribution; a parent used by
                      several consumers is complete when the last of them has passed back.

``stepper(root)`` shows those steps as a widget: Step / Back / Play / Reset and a slider over
the step index; each step highlights one node in the drawing and states its moves.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_lib.draw import draw, format_data, formula, node_names
from course_lib.graph import topological_order

__all__ = [
    "BackwardStepper",
    "Contribution",
    "Step",
    "backward_steps",
    "default_seed",
    "local_partial_rule",
    "stepper",
]


@dataclass(frozen=True)
class Contribution:
    """One edge of one step: what ``node`` passes back to its parent number ``index``."""

    parent: Any
    index: int
    partial: Any  # the local partial d(node)/d(parent), or None if the node stores none
    rule: str  # the partial as a formula in the graph's names ("y", "1", "1 - n1²"), or ""
    upstream: Any  # dL/d(node)
    contribution: Any  # partial × upstream (None: the engine skips this parent)
    before: Any  # the parent's running sum before this contribution (None: nothing yet)
    after: Any  # the running sum after it
    uses_done: int  # how many of the parent's uses have passed back, counting this one
    uses_total: int  # how many uses (edges to consumers) the parent has


@dataclass(frozen=True)
class Step:
    """The backward pass at one node, in reverse topological order."""

    node: Any
    upstream: Any  # dL/d(node), complete when the step runs
    is_seed: bool  # the output: dL/dL = seed
    contributions: tuple[Contribution, ...]
    lines: tuple[str, ...]  # the explanation, plain text, one sentence a line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def local_partial_rule(node: Any, index: int, names: Mapping[Any, str]) -> str:
    """d(node)/d(parent number ``index``) as a formula in the graph's names, for ``Value`` ops.

    ``""`` for an op this table does not know (the number is still shown).
    """
    op = str(node.op)
    parents = node.parents
    me = names[node]
    p = names[parents[index]]
    if op == "+":
        return "1"
    if op == "*" and len(parents) == 2:
        return names[parents[1 - index]]
    if op == "neg":
        return "-1"
    if op.startswith("**"):
        k = op[2:]
        try:
            km1 = format_data(float(k) - 1.0)
        except ValueError:
            return ""
        return f"{k}·{p}^{km1}"
    rules = {
        "exp": f"exp({p}) = {me}",
        "log": f"1/{p}",
        "tanh": f"1 - {me}²",
        "sigmoid": f"σ(1 - σ) = {me}·(1 - {me})",
        "relu": f"1 if {p} > 0 else 0",
    }
    return rules.get(op, "")


def _uses(order: list[Any]) -> dict[Any, int]:
    uses = {node: 0 for node in order}
    for node in order:
        for parent in node.parents:
            uses[parent] += 1
    return uses


def default_seed(root: Any) -> Any:
    """dL/dL for the output ``root``: 1.0 for a number, ones shaped like an array output
    (a 0-d array of 1 for an array engine's scalar loss)."""
    if hasattr(root.data, "shape"):
        return np.ones_like(root.data, dtype=np.float64)
    return 1.0


def backward_steps(root: Any, seed: Any = None) -> list[Step]:
    """The backward pass from ``root`` as a list of steps, one per node, output first.

    ``seed`` is dL/d(root), by default :func:`default_seed`. The graph is not changed (no
    ``grad`` is written): the running sums live in the steps. Every node's final gradient
    equals what ``root.backward()`` computes.
    """
    if seed is None:
        seed = default_seed(root)
    order = topological_order(root)
    names = node_names(root)
    uses = _uses(order)
    running: dict[Any, Any] = {root: seed}
    done: dict[Any, int] = {node: 0 for node in order}
    via: dict[Any, list[tuple[str, Any]]] = {node: [] for node in order}
    out_name = names[root]
    steps: list[Step] = []
    for node in reversed(order):
        name = names[node]
        upstream = running.get(node)
        is_seed = node is root
        head = f"{name} = {formula(node, names)}" if node.parents else name
        if is_seed:
            lines = [
                f"{head}: the output. Seed: d{out_name}/d{out_name} = {format_data(seed)}.",
            ]
        else:
            paths = via[node]
            if len(paths) > 1:
                total = " + ".join(format_data(c) for _, c in paths)
                lines = [
                    f"{head}: upstream d{out_name}/d{name} = {total} = {format_data(upstream)}, "
                    f"the sum of its {len(paths)} paths (via "
                    + ", ".join(n for n, _ in paths)
                    + "): complete."
                ]
            elif paths:
                lines = [
                    f"{head}: upstream d{out_name}/d{name} = {format_data(upstream)} "
                    f"(1 path, via {paths[0][0]}): complete."
                ]
            else:
                lines = [f"{head}: no path leads from here to {out_name}: gradient 0."]
        contributions: list[Contribution] = []
        if node.parents and upstream is not None:
            local = node.local_backward(upstream)
            partials = getattr(node, "partials", None)
            for i, (parent, contribution) in enumerate(zip(node.parents, local, strict=True)):
                pname = names[parent]
                partial = partials[i] if partials else None
                rule = local_partial_rule(node, i, names) if partials else ""
                if contribution is None:
                    lines.append(f"  to {pname}: no gradient needed (a constant).")
                    continue
                before = running.get(parent)
                after = contribution if before is None else before + contribution
                running[parent] = after
                done[parent] += 1
                via[parent].append((name, contribution))
                contributions.append(
                    Contribution(
                        parent,
                        i,
                        partial,
                        rule,
                        upstream,
                        contribution,
                        before,
                        after,
                        done[parent],
                        uses[parent],
                    )
                )
                if partial is not None:
                    number = format_data(partial)
                    shown = f"{rule} = {number}" if rule and rule != number else number
                    move = (
                        f"  to {pname}: local partial ∂{name}/∂{pname} = {shown}; "
                        f"contribution {format_data(partial)} × {format_data(upstream)} = "
                        f"{format_data(contribution)}."
                    )
                else:
                    move = (
                        f"  to {pname}: the local rule of {node.op} turns upstream "
                        f"{format_data(upstream)} into {format_data(contribution)}."
                    )
                if uses[parent] > 1:
                    sum_text = (
                        f"{format_data(before)} + {format_data(contribution)} = "
                        if before is not None
                        else ""
                    )
                    state = "complete" if done[parent] == uses[parent] else "waiting for the rest"
                    move += (
                        f" Join at {pname} ({uses[parent]} uses): running sum "
                        f"{sum_text}{format_data(after)} ({done[parent]} of {uses[parent]}, "
                        f"{state})."
                    )
                lines.append(move)
        elif not node.parents and not is_seed:
            what = "an input" if node.label else "a constant"
            lines.append(f"  {name} is {what}: no local rule, nothing to pass back.")
        steps.append(Step(node, upstream, is_seed, tuple(contributions), tuple(lines)))
    return steps


class BackwardStepper(widgets.VBox):
    """Step / Back / Play / Reset through the backward pass of a graph (see :func:`stepper`).

    ``index`` (an ``IntSlider``) is the number of steps taken, 0 to ``len(steps)``; setting
    it renders that state (tests and notebooks can drive it from code). ``play`` is an
    ``ipywidgets.Play`` linked to ``index`` in the kernel, so it works in JupyterLab and
    headlessly alike. ``view`` holds the drawing, ``explanation`` the text of the step.
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
        if not isinstance(interval_ms, int) or interval_ms < 50:
            raise ValueError(f"interval_ms must be an int of at least 50, got {interval_ms!r}")
        self.root = root
        self.names = node_names(root)
        self.steps = backward_steps(root, seed)
        self.partials = partials
        self._uses = _uses(topological_order(root))
        n = len(self.steps)
        self.index = widgets.IntSlider(value=0, min=0, max=n, description="step", readout=True)
        self.play = widgets.Play(value=0, min=0, max=n, step=1, interval=interval_ms)
        self.play.show_repeat = False
        widgets.link((self.play, "value"), (self.index, "value"))
        self.back_button = widgets.Button(description="Back", icon="step-backward")
        self.step_button = widgets.Button(description="Step", icon="step-forward")
        self.reset_button = widgets.Button(description="Reset", icon="undo")
        self.view = widgets.HTML()
        self.explanation = widgets.HTML()
        self.back_button.on_click(lambda _: self.back())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.index.observe(lambda _: self.render(), names="value")
        controls = widgets.HBox(
            [self.back_button, self.step_button, self.play, self.reset_button, self.index]
        )
        super().__init__([controls, self.view, self.explanation])
        self.render()

    def __repr__(self) -> str:
        return (
            f"backward stepper: step {self.index.value} of {len(self.steps)} "
            f"(the text form of a widget; run the notebook in JupyterLab to step)"
        )

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

    def state(self, k: int | None = None) -> dict[Any, str]:
        """The gradient text of every node after ``k`` steps (default: the current index)."""
        k = self.index.value if k is None else k
        running: dict[Any, Any] = {}
        count: dict[Any, int] = {}
        for step in self.steps[:k]:
            if step.is_seed:
                running[step.node] = step.upstream
            for c in step.contributions:
                running[c.parent] = c.after
                count[c.parent] = c.uses_done
        text = {}
        for node in self.names:
            if node not in running:
                text[node] = "not computed yet"
            elif node is self.root:
                text[node] = f"{format_data(running[node])} (seed)"
            elif count[node] < self._uses[node]:
                text[node] = (
                    f"{format_data(running[node])} so far ({count[node]} of {self._uses[node]})"
                )
            else:
                text[node] = format_data(running[node])
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
            for c in step.contributions:
                factor = format_data(c.partial) if c.partial is not None else "rule"
                edge_labels[(step.node, c.index)] = (
                    f"{factor} × {format_data(c.upstream)} = {format_data(c.contribution)}"
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
                html.escape(line).replace("  ", "&nbsp;&nbsp;&nbsp;&nbsp;") for line in step.lines
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
        ).svg
        self.explanation.value = f"<div style='font-family:monospace'>{body}</div>"


def stepper(
    root: Any, *, interval_ms: int = 1500, partials: bool = True, seed: Any = None
) -> BackwardStepper:
    """Step / Back / Play / Reset through the backward pass of the graph ending at ``root``.

    Each step highlights one node (in reverse topological order) and states, with numbers,
    "local partial × upstream = contribution" for each of its parents and, at a parent with
    several consumers, the running sum at the join. ``seed`` is dL/d(root) (default 1, or
    ones shaped like an array output). The graph itself is not changed.
    """
    return BackwardStepper(root, interval_ms=interval_ms, partials=partials, seed=seed)
