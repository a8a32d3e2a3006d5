"""Per-step cost of ``course_lib.tensor`` against the same step written by hand in numpy.

Run: ``.venv/bin/python benchmarks/bench_tensor.py`` (``--quick`` for a short run,
``--threads N`` for N BLAS threads; default 1, the steady choice on a shared machine;
``--tiny`` for the engine's fixed cost, below).

One SGD step of notebook 07's network, 784-100(sigmoid)-10 with softmax cross-entropy, on a
float32 batch of 64 random "images" in [0, 1]: forward, ``backward()``, and the update of W1,
b1, W2, b2. The ``course_lib`` side is :func:`course_lib.network.sgd_step` (the step ``train``
runs and notebook 07 prints: two fused ``linear`` nodes, a sigmoid, the fused cross-entropy),
so every cost the engine adds per step is in it: building nodes, checking inputs and results,
the backward pass. The ``numpy`` side is the hand-written step of
``benchmarks/mnist_reference.py``.

``--tiny`` shrinks the matrices to nothing (8 inputs, 4 hidden units, the same batch of 64 and
10 classes): the matrix products then cost almost nothing, so the difference between the two
is what the engine adds to every step whatever the network's size (2026-12-06, quiet 2-core
machine: course_lib 98 us against numpy's 43 us, 56 us added; at full size 374 against 300 us,
75 us added, so about 19 us of what the engine adds grows with the arrays).

No MNIST files are needed, and no epoch loop or shuffling is timed: this isolates the engine's
overhead, which ``benchmarks/bench_mnist.py`` measures over whole epochs (target: course_lib
within 1.25x of numpy). Times are CPU seconds of this process (``time.process_time``), which
other jobs on a shared machine inflate far less than wall-clock time; blocks of steps alternate
between the two versions so that what load remains hits both alike. The script prints the
median time per step of each, and the median of the paired ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
B, D, H, C = 64, 784, 100, 10
LR = 0.5


def _set_threads(threads: int, argv: list[str]) -> None:
    """BLAS reads its thread count when numpy is imported: start again with it set if needed."""
    if threads <= 0 or all(os.environ.get(var) == str(threads) for var in THREAD_VARS):
        return
    os.environ.update(dict.fromkeys(THREAD_VARS, str(threads)))
    os.execv(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (0: default)")
    parser.add_argument("--tiny", action="store_true", help="8 inputs, 4 hidden: fixed costs")
    args = parser.parse_args(argv)
    _set_threads(args.threads, argv)

    import mnist_reference
    import numpy as np

    from course_lib.network import SigmoidNet, sgd_step

    inputs, hidden = (8, 4) if args.tiny else (D, H)
    steps, repeats = (100, 5) if args.quick else (300, 21)
    rng = np.random.default_rng(0)
    X = rng.random((B, inputs), dtype=np.float32)
    y = rng.integers(0, C, B)

    net = SigmoidNet(hidden, 0, inputs=inputs)
    weights = mnist_reference.glorot_init(hidden, 0, inputs=inputs)
    for name in ("W1", "b1", "W2", "b2"):  # the same starting point
        np.testing.assert_array_equal(getattr(net, name).data, weights[name])

    def course_lib_block() -> float:
        start = time.process_time()
        for _ in range(steps):
            sgd_step(net, X, y, LR)
        return (time.process_time() - start) / steps

    def numpy_block() -> float:
        start = time.process_time()
        for _ in range(steps):
            mnist_reference.sgd_step(weights, X, y, LR)
        return (time.process_time() - start) / steps

    # The two compute the same steps: check that first (then both keep training in step).
    course_lib_block(), numpy_block()
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(getattr(net, name).data, weights[name], rtol=1e-3, atol=1e-4)

    ours, theirs = [], []
    for k in range(repeats):
        blocks = (course_lib_block, numpy_block) if k % 2 == 0 else (numpy_block, course_lib_block)
        times = {block: block() for block in blocks}
        ours.append(times[course_lib_block])
        theirs.append(times[numpy_block])
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"one SGD step of the {inputs}-{hidden}-{C} sigmoid net, softmax cross-entropy, float32 "
        f"batch {B}; "
        f"{steps} steps x {repeats} blocks; BLAS threads {os.environ.get(THREAD_VARS[0], '?')}; "
        f"load average {load}"
    )
    for name, times in (("numpy by hand", theirs), ("course_lib", ours)):
        print(
            f"{name:<14}: {statistics.median(times) * 1e6:8.1f} us/step "
            f"[{min(times) * 1e6:.1f}, {max(times) * 1e6:.1f}]"
        )
    print(
        f"ratio course_lib / numpy (paired): median {statistics.median(ratios):.3f} "
        f"[{min(ratios):.3f}, {max(ratios):.3f}]; course_lib adds "
        f"{(statistics.median(ours) - statistics.median(theirs)) * 1e6:.1f} us per step"
    )


if __name__ == "__main__":
    main()
