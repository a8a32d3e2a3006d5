"""Kernel-side time per slider move of the Jacobian explorer, for 2 to 10 classes.

Run: ``.venv/bin/python benchmarks/bench_widgets_jacobian.py`` (``--quick`` for fewer moves).

One "move" sets one logit slider to a new value; its observer recomputes p, the Jacobian in all
three modes (formula, reverse mode one row at a time, finite differences) and redraws the SVG
bars, heatmap and row table into the HTML widgets. Measured with no browser attached, so this
is the Python work per move (issue 13: a median under 30 ms per slider move), not the
browser's paint time. Each configuration prints the median, the 95th percentile and the worst
of its moves; the machine's load average is printed too, since other jobs inflate the worst.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from course_lib.widgets.jacobian import MODES, jacobian_explorer

TARGET_MS = 30.0


def time_moves(classes: int, mode: str, contrast: bool, moves: int) -> list[float]:
    w = jacobian_explorer()
    w.classes.value = classes
    w.mode.value = mode
    w.contrast.value = contrast
    times = []
    for k in range(moves):
        slider = w.logit_sliders[k % classes]
        new = round(((k * 7) % 120) / 10.0 - 6.0, 1)
        if new == slider.value:
            new = round(new + 0.1, 1) if new < 6.0 else 5.9
        start = time.perf_counter()
        slider.value = new  # the observer recomputes and redraws synchronously
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 moves per configuration")
    args = parser.parse_args()
    moves = 20 if args.quick else 200
    print(
        f"Jacobian explorer, kernel-side ms per slider move ({moves} moves each), "
        f"target < {TARGET_MS:.0f} ms"
    )
    print(
        f"{'classes':>7}  {'mode':<19}{'contrast':>9}  {'median ms':>9}  "
        f"{'p95 ms':>7}  {'max ms':>7}"
    )
    worst = 0.0
    for classes in (2, 4, 7, 10):
        for mode in MODES:
            for contrast in (False, True):
                t = time_moves(classes, mode, contrast, moves)
                med, top = statistics.median(t), max(t)
                p95 = statistics.quantiles(t, n=20)[-1]
                worst = max(worst, med)
                print(
                    f"{classes:>7}  {mode:<19}{'on' if contrast else 'off':>9}  {med:>9.2f}  "
                    f"{p95:>7.2f}  {top:>7.2f}"
                )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"slowest median: {worst:.2f} ms per move: {verdict} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
