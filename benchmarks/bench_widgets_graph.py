"""Re-render time of the graph widgets per slider move / step / entry, for graphs of 5 to 60 nodes.

Run: ``.venv/bin/python benchmarks/bench_widgets_graph.py`` (add ``--quick`` for fewer moves).

Kernel side, no browser: each figure is the median wall time [min, max] of one change, from
setting the control's value to the new HTML string being in the view widget:

* ``explore`` slider move: rebuild ``f`` on fresh ``Value`` inputs, ``backward()``, draw the
  SVG and the table (the default view); also with the drawing alone (``table=False``);
* stepper: setting the step index (what Step, Back and each Play tick do);
* hand-trace: ``enter`` one gradient (check, hints, redraw).

The graphs are seeded random ``Value`` graphs of three inputs (x, y, z), every op taking one
or two earlier nodes, so they have fan-out and joins like the course's graphs. The issue's
target: a slider move re-renders in under 30 ms (median) for graphs up to 30 nodes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from course_lib.autodiff.scalar import Value
from course_lib.widgets import explore, hand_trace, stepper

SIZES = (5, 10, 20, 30, 60)
TARGET_MS = 30.0


def graph_function(nodes: int, seed: int = 0) -> Callable[[Value, Value, Value], Value]:
    """f(x, y, z) whose graph has exactly ``nodes`` nodes (3 inputs plus ``nodes - 3`` ops)."""
    rng = random.Random(seed)
    plan = []
    for k in range(nodes - 3):
        available = 3 + k
        # Each op takes the newest node (so every node reaches the output) and, for a binary
        # op, one earlier node (fan-out and joins). The first two ops bring in x and y.
        if k < 2:
            op, b = rng.choice(("+", "*")), k
        else:
            op, b = rng.choice(("+", "*", "tanh", "sigmoid")), rng.randrange(available - 1)
        plan.append((op, available - 1, b))

    def f(x: Value, y: Value, z: Value) -> Value:
        made = [x, y, z]
        for op, a, b in plan:
            if op == "+":
                made.append(made[a] + made[b])
            elif op == "*":
                made.append(made[a] * made[b])
            elif op == "tanh":
                made.append(made[a].tanh())
            else:
                made.append(made[a].sigmoid())
        return made[-1]

    return f


def timed(change: Callable[[int], None], moves: int) -> list[float]:
    times = []
    for i in range(moves):
        start = time.perf_counter()
        change(i)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} [{min(times):.2f}, {max(times):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 moves per case instead of 300")
    args = parser.parse_args()
    moves = 50 if args.quick else 300
    values = [round(-2.9 + 0.1 * (i % 59), 1) for i in range(moves)]

    print(f"median ms [min, max] over {moves} changes each; target: explore < {TARGET_MS} ms")
    header = (
        f"{'nodes':>5}  {'explore (graph+table)':>24}  {'explore (graph only)':>24}  "
        f"{'stepper step':>22}  {'hand-trace enter':>22}  {'view KB':>7}"
    )
    print(header)
    worst = 0.0
    for n in SIZES:
        f = graph_function(n)
        start = {"x": 0.5, "y": -1.0, "z": 1.5}
        box = explore(f, values=start)
        assert len(box.result.graph_nodes()) == n, "the generator made the wrong size"
        slider = box.sliders["x"]
        both = timed(lambda i, s=slider: setattr(s, "value", values[i]), moves)
        kb = len(box.view.value.encode()) / 1024
        graph_box = explore(f, values=start, table=False)
        g_slider = graph_box.sliders["x"]
        graph_only = timed(lambda i, s=g_slider: setattr(s, "value", values[i]), moves)

        out = f(Value(0.5, "x"), Value(-1.0, "y"), Value(1.5, "z"))
        st = stepper(out)
        steps = st.index.max
        step_times = timed(lambda i, st=st, k=steps: setattr(st.index, "value", i % (k + 1)), moves)
        trace = hand_trace(out)
        asked = trace.asked
        enter_times = timed(lambda i, t=trace, a=asked: t.enter(a[i % len(a)], values[i]), moves)
        if n <= 30:
            worst = max(worst, statistics.median(both))
        print(
            f"{n:>5}  {summary(both):>24}  {summary(graph_only):>24}  "
            f"{summary(step_times):>22}  {summary(enter_times):>22}  {kb:>7.1f}"
        )
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(
        f"target: explore slider move < {TARGET_MS:.0f} ms median for graphs up to 30 nodes: "
        f"{verdict} (worst median {worst:.2f} ms)"
    )


if __name__ == "__main__":
    main()
