"""Hand-trace mode: the gradients are hidden and the learner types each one.

Each entry is checked against the engine's backward pass (the steps of
:func:`course_lib.autodiff.graph.backward_steps`, which ``backward()`` runs) and answered right or
wrong. A wrong number is matched against the numbers the typical mistakes produce, so the hint can
say which move went wrong:

* forgot to sum at a join: the entry equals the contribution of one path (or of some but not
  all paths) into a node that several consumers use;
* forgot the local partial: the entry equals a consumer's upstream gradient dL/d(consumer),
  passed back without multiplying by d(consumer)/d(node);
* used the downstream value instead of the upstream gradient: the entry equals a forward
  value (the consumer's ``data``, local partial × the consumer's ``data``, or the node's own
  ``data``);
* a sign slip: the entry equals minus the gradient.

It works for any scalar ``Value`` graph, so practice graphs can be fed in. Making a hand-trace
runs the backward pass once (its numbers are the answers), which leaves every ``grad`` of the
graph as ``backward()`` would; the drawing hides them until they are typed right.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any

import ipywidgets as widgets
import numpy as np

from course_lib.autodiff.graph import backward_steps, check_node, topological_order
from course_lib.display.draw import MAX_NODES, draw, format_data, node_names
from course_lib.numbers.checking import switch
from course_lib.numbers.formatting import format_number
from course_lib.teaching.hand_exercise import (
    CheckResult,
    HandExercise,
    Precision,
    Slip,
    parse_number,
)
from course_lib.teaching.tiers import judge_in_tiers, misses_before
from course_lib.widgets.controls import region_rule_view, row

__all__ = ["HandTrace", "hand_trace"]

_LOADS = itertools.count()  # one number per graph a hand-trace loads: the key of its tiers
# The drawing labels every value with 4 significant figures; a gradient worked out from those
# labels can be off in its 4th figure (over sheets 0-199 of the practice trainer, 92 of 1,161
# such answers were refused at 4 figures). So the boxes ask for 3, and where a label is rounded
# allow one unit either way: all 1,161 count, and a slip (a missed join, a missing partial)
# still moves the 3rd figure. Where every label is exact (notebook 02's whole numbers) the
# answer is the value rounded or cut off, as everywhere else.
PRECISION = Precision("significant", 3)
FROM_ROUNDED_LABELS = Precision("significant", 3, leeway=1.0)


def _labels_rounded(nodes: Iterable[Any]) -> bool:
    """Whether the drawing's 4-figure label of some node's value differs from the value."""
    for node in nodes:
        for value in np.asarray(node.data, dtype=np.float64).ravel():
            if float(f"{value:.4g}") != value:
                return True
    return False


class HandTrace(widgets.VBox):
    """Hidden gradients, one entry box per node, right/wrong feedback with targeted hints.

    Plain Python works too: ``trace.enter("x", -4.0)`` checks an entry, updates the widget and
    returns the :class:`course_lib.teaching.quiz.CheckResult`. ``trace.asked`` lists the names to
    fill in (in the order the backward pass reaches them), ``trace.expected`` the right numbers,
    ``trace.results`` the latest check of each entry (``None`` while its box holds no number)
    and ``trace.done`` whether all are right.
    """

    def __init__(
        self, root: Any, *, ask: Sequence[str] | None = None, partials: bool = True
    ) -> None:
        self.partials = switch(partials, "partials", "hand_trace")
        self.asked: list[str] = []
        self.entries: dict[str, widgets.Text] = {}
        self.feedback: dict[str, widgets.HTML] = {}
        self._rows: dict[str, tuple[widgets.Text, widgets.HTML, widgets.HBox]] = {}  # by node
        self._busy = False
        self.intro = widgets.HTML()
        self.view = widgets.HTML()
        self.rows = widgets.VBox()
        self.score = widgets.HTML()
        self.reveal_button = widgets.Button(description="Show answers", icon="eye")
        self.reveal_button.on_click(lambda _: self.reveal())
        super().__init__(
            [
                self.intro,
                self.view,
                self.rows,
                row([self.score, self.reveal_button]),
                region_rule_view(),
            ]
        )
        self.load(root, ask=ask)

    def load(self, root: Any, *, ask: Sequence[str] | None = None) -> None:
        """Trace the graph ending at ``root`` in this widget, from the start: every box empty,
        nothing revealed, no wrong answer counted. ``ask`` as in :func:`hand_trace`.

        A node named as in an earlier graph keeps its box (emptied), so for a practice sheet of
        the same shape the browser redraws only what changed. A graph that cannot be
        traced raises before anything changes.
        """
        check_node(root, "hand_trace")
        order = topological_order(root)
        if len(order) > MAX_NODES:
            raise ValueError(
                f"hand_trace: this graph has {len(order):,} nodes, more than the {MAX_NODES} a "
                "hand trace asks about (one answer box each); trace a smaller graph, such as one "
                "part of the computation"
            )
        for node in order:
            if not isinstance(node.data, Real) or not hasattr(node, "partials"):
                raise TypeError(
                    "hand-trace mode needs a scalar graph (Value nodes): node "
                    f"{node_names(root)[node]!r} is a {type(node).__name__} holding "
                    f"{type(node.data).__name__} data"
                )
        names = node_names(root)
        nodes = {name: node for node, name in names.items()}
        steps = list(backward_steps(root, 1.0))
        expected: dict[str, float] = {names[root]: float(steps[0].upstream)}
        # For each node: the edges to its consumers with their numbers, for the hints.
        uses: dict[Any, list[tuple[Any, float, float, float]]] = {n: [] for n in order}
        for step in steps:
            for c in step.contributions:
                expected[names[c.parent]] = float(c.after)  # the last is the total
                uses[c.parent].append(
                    (
                        step.node,
                        float(step.node.partials[c.index]),
                        float(step.upstream),
                        float(c.contribution),
                    )
                )
        if ask is None:
            ask = [
                names[step.node]
                for step in steps
                if step.node is not root and (step.node.parents or step.node.label)
            ]
        else:
            if isinstance(ask, str):
                ask = [ask]  # one name
            if not isinstance(ask, Sequence | set | frozenset):
                raise TypeError(f"hand_trace: ask lists node names, like ['x', 'q'], got {ask!r}")
            ask = list(ask)
            unknown = [name for name in ask if name not in nodes]
            if unknown:
                raise ValueError(
                    f"ask names nodes this graph does not have: {unknown}; "
                    f"its nodes are {list(nodes)}"
                )
        asked = list(ask)

        self.root, self.names, self.nodes = root, names, nodes
        self._labels_rounded = _labels_rounded(nodes.values())
        self.expected, self._uses = expected, uses
        self.results: dict[str, CheckResult | None] = {name: None for name in asked}
        self._revealed = False
        # the tiers of this graph's boxes (course_lib.teaching.tiers), counted afresh per load
        self._tiers = ("hand_trace", next(_LOADS))
        out = names[root]
        for name in asked:  # a node's box is made the first time a graph asks about it
            if name not in self._rows:
                entry = widgets.Text(
                    placeholder="type a number",
                    continuous_update=False,
                    style={"description_width": "8em"},
                    layout=widgets.Layout(width="18em"),
                )
                entry.observe(lambda change, name=name: self._typed(name, change["new"]), "value")
                note = widgets.HTML()
                self._rows[name] = (entry, note, row([entry, note]))
        self.asked = asked
        self.entries = {name: self._rows[name][0] for name in asked}
        self.feedback = {name: self._rows[name][1] for name in asked}
        self.rows.children = tuple(self._rows[name][2] for name in asked)
        self._busy = True  # emptying a box is no answer to check
        try:
            for name in asked:
                self.entries[name].description = f"d{out}/d{name} ="
                self.entries[name].value = ""
                self.feedback[name].value = ""
        finally:
            self._busy = False
        self.intro.value = (
            "<div>Type the gradient of the output with respect to each node, to 3 significant "
            "figures (the drawing's values are rounded to 4, and working from them can move the "
            "4th), in any order (working back from the output is easiest: "
            f"{html.escape(out)}'s own gradient is the seed, {format_data(expected[out])}). "
            "Press Enter to check.</div>"
        )
        self.render()

    # ---- checking ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"hand-trace: a box for d{self.names[self.root]}/d(node) at {', '.join(self.asked)}"

    def mistakes(self, name: str) -> list[tuple[float, str]]:
        """The numbers the typical mistakes give for node ``name``, each with its hint."""
        node = self.nodes[name]
        out = self.names[self.root]
        uses = self._uses[node]
        found: list[tuple[float, str]] = []
        if len(uses) > 1:
            k = len(uses)
            sizes = range(1, k) if k <= 8 else range(1, 2)
            for size in sizes:
                for subset in itertools.combinations(range(k), size):
                    part = sum(uses[i][3] for i in subset)
                    via = ", ".join(self.names[uses[i][0]] for i in subset)
                    every = "both" if k == 2 else f"all {k}"
                    found.append(
                        (
                            part,
                            f"That is only the path through {via}. {name} is used {k} times "
                            f"(a join): its gradient is the sum of {every} contributions, "
                            "local partial × upstream for each use.",
                        )
                    )
        for consumer, _partial, upstream, _ in uses:
            c = self.names[consumer]
            found.append(
                (
                    upstream,
                    f"That is the upstream gradient d{out}/d{c} passed back unchanged: multiply "
                    f"it by the local partial ∂{c}/∂{name} first.",
                )
            )
        if len(uses) > 1:
            found.append(
                (
                    sum(u[2] for u in uses),
                    "That adds the upstream gradients of the consumers without multiplying "
                    "each by its local partial.",
                )
            )
            found.append(
                (
                    sum(u[3] for u in uses) / len(uses),
                    f"That is the average of the paths into {name}. At a join the "
                    "contributions add: nothing divides by the number of uses.",
                )
            )
        for consumer, partial, _upstream, _ in uses:
            found.append(
                (
                    partial,
                    f"That is the local partial ∂{self.names[consumer]}/∂{name} alone: "
                    f"multiply it by the upstream gradient d{out}/d{self.names[consumer]}.",
                )
            )
        for consumer, partial, _upstream, _ in uses:
            c = self.names[consumer]
            found.append(
                (
                    partial * consumer.data,
                    f"That multiplies the local partial by the forward value of {c}; use its "
                    f"gradient d{out}/d{c}, the upstream sensitivity, instead.",
                )
            )
            found.append(
                (
                    consumer.data,
                    f"That is the forward value of {c}, not a gradient: the upstream is "
                    f"d{out}/d{c}.",
                )
            )
        found.append(
            (
                node.data,
                f"That is {name}'s own forward value (its data), not d{out}/d{name}.",
            )
        )
        expected = self.expected[name]
        if expected != 0.0:
            found.append((-expected, "Right size, wrong sign: check the signs of the partials."))
        return found

    def exercise(self, name: str) -> HandExercise:
        """Node ``name``'s gradient as a :class:`HandExercise`: its number from the engine,
        its slips from :meth:`mistakes`."""
        if name not in self.nodes:
            raise ValueError(
                f"no node named {name!r} in this graph; its nodes are {list(self.nodes)}"
            )
        out = self.names[self.root]
        return HandExercise(
            key=f"hand_trace.{name}",
            name=f"d{out}/d{name}",
            expected=self.expected[name],
            precision=FROM_ROUNDED_LABELS if self._labels_rounded else PRECISION,
            look=f"Work back from the output: local partial × upstream, summed over every "
            f"consumer of {name}.",
            rule=f"d{out}/d{name} = the sum, over every node that uses {name}, of (d{out}/d that "
            f"node) · (∂ that node/∂{name}).",
            slips=tuple(Slip(value, why) for value, why in self.mistakes(name)),
        )

    def check(self, name: str, value: Any) -> CheckResult:
        """Check an entry for node ``name`` without changing the widget; a wrong number
        after an earlier, different wrong one also shows the rule."""
        return self.exercise(name).judge(value, misses=misses_before(self._tier(name), value))

    def _tier(self, name: str) -> tuple[Any, ...]:
        """The key of node ``name``'s box in the tiers: this graph's, then the node's."""
        return (*self._tiers, name)

    def enter(self, name: str, value: Any) -> CheckResult:
        """Type ``value`` as the gradient of node ``name``; returns the feedback.

        ``value`` may be anything a learner could type or pass (a number, text, ``...``);
        it is shown in the box as text and checked exactly as typing it would be.
        """
        if name not in self.entries:
            raise ValueError(
                f"{name!r} is not one of the entries of this hand-trace; they are {self.asked}"
            )
        result = judge_in_tiers(self._tier(name), self.exercise(name), value)
        self._busy = True
        try:
            self.entries[name].value = _as_text(value)
        finally:
            self._busy = False
        self._record(name, self.entries[name].value, result)
        return result

    def _typed(self, name: str, text: str) -> None:
        """The observer of an entry box: check what was typed, never raise. A box of a node
        the current graph does not ask about is off the page: what reaches it is ignored."""
        if self._busy or name not in self.entries:
            return
        self._record(name, text, judge_in_tiers(self._tier(name), self.exercise(name), text))

    def _record(self, name: str, text: str, result: CheckResult) -> None:
        """Show ``result`` beside the box; keep it only if the box holds a number; redraw.

        An empty box or an entry that is not a number (``abc``, ``0,5``, ``1e400``) is no
        answer yet: its message shows, but the node is not marked wrong in the drawing.
        """
        empty = not text.strip()
        try:
            is_number = parse_number(text) is not None
        except ValueError:
            is_number = False
        self.results[name] = result if is_number else None
        if empty:  # not an answer, so not wrong: a neutral note, and the node stays hidden
            label = html.escape(self.entries[name].description.rstrip(" ="))
            note = f"<i>{label} is empty: type a number (like -4, 0.25 or 3/4) and press Enter.</i>"
        else:
            note = result._repr_html_()
        self.feedback[name].value = note
        self.render()

    @property
    def done(self) -> bool:
        """True when every entry has been answered right."""
        return all(r is not None and r.correct for r in self.results.values())

    def reveal(self) -> None:
        """Show every gradient in the drawing (the entries keep what was typed)."""
        self._revealed = True
        self.render()

    # ---- drawing -----------------------------------------------------------------------

    def render(self) -> None:
        grads: dict[Any, str] = {}
        styles: dict[Any, str] = {}
        for node, name in self.names.items():
            if node is self.root:
                grads[node] = f"{format_data(self.expected[name])} (seed)"
                continue
            result = self.results.get(name)
            if name not in self.results:
                grads[node] = format_data(self.expected[name]) if self._revealed else "not asked"
                continue
            if result is not None and result.correct:
                grads[node] = format_data(self.expected[name])
                styles[node] = "right"
            else:
                grads[node] = format_data(self.expected[name]) if self._revealed else "?"
                styles[node] = "wrong" if result is not None else "hidden"
        right = sum(1 for r in self.results.values() if r is not None and r.correct)
        self.view.value = draw(
            self.root,
            partials=self.partials,
            grads=grads,
            styles=styles,
            names=self.names,
            title=f"Hand-trace: {right} of {len(self.asked)} right",
        ).html()
        verdict = " All right!" if self.done else ""
        self.score.value = f"<b>{right} of {len(self.asked)} right.{verdict}</b>"


def _as_text(value: Any) -> str:
    """How an entry passed from code shows in its box: text as is, numbers short."""
    if isinstance(value, str):
        return value
    if value is None or value is ...:
        return ""
    try:
        if isinstance(value, Real) and not isinstance(value, bool):
            return format_number(value, 6)
        return str(value)[:80]
    except (OverflowError, ValueError):  # an int too large for a float, or to print
        return "a number too large to show"


def hand_trace(root: Any, *, ask: Sequence[str] | None = None, partials: bool = True) -> HandTrace:
    """Hand-trace mode for the graph ending at ``root``: gradients hidden, typed and checked.

    ``ask`` lists the node names to fill in (default: every node but the output and the
    constants, in the order the backward pass reaches them); ``partials`` shows the local
    partials on the edges. The answers come from the engine's backward pass, run once on the
    graph (so afterwards its ``grad`` values are what ``backward()`` gives).
    """
    return HandTrace(root, ask=ask, partials=partials)
