"""Per-step cost of ``course_lib.tensor`` against the same step written by hand in numpy.

Run: ``.venv/bin/python benchmarks/bench_tensor.py`` (add ``--quick`` for a short run).

One training step of a 784-100(sigmoid)-10 network on a float32 batch of 64 random inputs,
with a mean squared error loss (the softmax cross-entropy ops arrive in a later issue):
forward, backward, and an SGD update of W1, b1, W2, b2. Prints the median time per step
of each version over several repeats, and their ratio (course_lib / numpy). The repeats
alternate between the two versions so that load from other jobs hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_lib.tensor import Tensor  # noqa: E402

B, D, H, C = 64, 784, 100, 10
LR = np.float32(0.1)


def make_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((B, D), dtype=np.float32)
    Y = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]
    W1 = (rng.standard_normal((D, H)) * np.sqrt(2 / (D + H))).astype(np.float32)
    W2 = (rng.standard_normal((H, C)) * np.sqrt(2 / (H + C))).astype(np.float32)
    return X, Y, W1, np.zeros(H, np.float32), W2, np.zeros(C, np.float32)


def numpy_step(X, Y, params):
    W1, b1, W2, b2 = params
    h = 1 / (1 + np.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    dz = (z - Y) * (2 / z.size)
    dW2 = h.T @ dz
    db2 = dz.sum(axis=0)
    dh = dz @ W2.T
    da = dh * h * (1 - h)
    dW1 = X.T @ da
    db1 = da.sum(axis=0)
    W1 -= LR * dW1
    b1 -= LR * db1
    W2 -= LR * dW2
    b2 -= LR * db2


def tensor_step(X, Y, params):
    W1, b1, W2, b2 = params
    h = (X @ W1 + b1).sigmoid()
    loss = ((h @ W2 + b2 - Y) ** 2).mean()
    loss.backward()
    for p in params:
        p.data -= LR * p.grad


def timed(step, X, Y, params, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step(X, Y, params)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    steps, repeats = (100, 5) if args.quick else (500, 15)

    X, Y, *arrays = make_problem()
    np_params = [a.copy() for a in arrays]
    t_params = [
        Tensor(a.copy(), label=name)
        for a, name in zip(arrays, ["W1", "b1", "W2", "b2"], strict=True)
    ]

    # The two versions compute the same step: check that first.
    numpy_step(X, Y, np_params)
    tensor_step(X, Y, t_params)
    for a, t in zip(np_params, t_params, strict=True):
        assert t.data.dtype == np.float32
        np.testing.assert_allclose(t.data, a, rtol=1e-4, atol=1e-6)

    numpy_times, tensor_times = [], []
    for _ in range(repeats):
        numpy_times.append(timed(numpy_step, X, Y, np_params, steps))
        tensor_times.append(timed(tensor_step, X, Y, t_params, steps))
    ratios = [t / n for t, n in zip(tensor_times, numpy_times, strict=True)]
    print(f"784-{H}-{C} sigmoid net, MSE loss, float32 batch {B}, {steps} steps x {repeats}")
    print(
        f"numpy by hand : {statistics.median(numpy_times) * 1e6:8.1f} us/step "
        f"[{min(numpy_times) * 1e6:.1f}, {max(numpy_times) * 1e6:.1f}]"
    )
    print(
        f"course_lib    : {statistics.median(tensor_times) * 1e6:8.1f} us/step "
        f"[{min(tensor_times) * 1e6:.1f}, {max(tensor_times) * 1e6:.1f}]"
    )
    print(
        f"ratio course_lib / numpy (paired): median {statistics.median(ratios):.3f} "
        f"[{min(ratios):.3f}, {max(ratios):.3f}]"
    )


if __name__ == "__main__":
    main()
