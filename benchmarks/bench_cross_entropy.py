"""Softmax cross-entropy, forward + backward: the fused kernel against unfused paths and torch.

Run: ``.venv/bin/python benchmarks/bench_cross_entropy.py`` (``--quick`` for a short run).

For float32 logits of shape (64, 10), (1024, 10) and (8192, 1000) with integer labels, each
path computes the mean loss and dL/dlogits:

* ``fused``: :func:`course_lib.kernels.softmax_cross_entropy` and ``.grad()``: log-sum-exp
  forward, (P - Y) / N backward from the forward's P;
* ``fused node``: the same kernel as one ``Tensor`` node
  (:func:`course_lib.tensor.softmax_cross_entropy`), ``backward()`` through the engine;
* ``unfused graph``: ``Tensor`` ops softmax → pick → log → mean, each op its own node (the
  softmax rule is the O(C) VJP);
* ``dense Jacobian``: numpy, p = softmax(z), dL/dp = -Y / (N p), then dL/dz = Jᵀ dL/dp with the
  dense J = diag(p) - p pᵀ of every row built by :func:`course_lib.kernels.softmax_jacobian`
  (in chunks of rows, so that at (8192, 1000) no more than ~64 MB of J exists at once);
* ``torch``: ``torch.nn.functional.cross_entropy`` on the CPU and ``loss.backward()``, when
  torch imports (skipped with a message otherwise), with torch's default thread count, and
  again as ``torch 1 thread`` (``torch.set_num_threads(1)`` around each block of calls): numpy
  runs these kernels on one core, and on a loaded machine torch's second thread is often
  descheduled, which can make its default setting many times slower than its 1-thread one.

Every path is first checked to give the same loss and gradient. The timed repeats interleave
the paths (one block of calls of each path per round, the order rotating between rounds), so
load from other jobs on a shared machine hits all of them alike; the figures are medians over
rounds, with [min, max], and the ratios are paired (same round). Then the targets of issue 6 are
printed with whether each is met, and which paths give inf or NaN (or refuse) at logits ±1000.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course_lib import kernels  # noqa: E402
from course_lib.tensor import Tensor, softmax, softmax_cross_entropy  # noqa: E402

try:
    import torch
    import torch.nn.functional as F  # noqa: N812
except ImportError:  # torch is not a dependency of the course
    torch = None

SHAPES = [(64, 10), (1024, 10), (8192, 1000)]
JACOBIAN_CHUNK_BYTES = 64 * 2**20

Path_ = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


# ---- the paths: each returns (loss, dL/dlogits as a numpy array) --------------------------------


def fused(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    result = kernels.softmax_cross_entropy(z, y)
    return result.loss, result.grad()


def fused_node(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    x = Tensor(z)
    loss = softmax_cross_entropy(x, y)
    loss.backward()
    return loss.data, x.grad


def unfused_graph(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    x = Tensor(z)
    p = softmax(x)
    loss = -(p[np.arange(len(y)), y].log().mean())
    loss.backward()
    return loss.data, x.grad


def dense_jacobian(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    n, c = z.shape
    rows = np.arange(n)
    p = kernels.softmax(z)
    picked = p[rows, y]
    loss = -np.log(picked).mean()
    dp = np.zeros_like(p)  # dL/dp: -1 / (N p_y) at the label, 0 elsewhere
    dp[rows, y] = -1.0 / (n * picked)
    grad = np.empty_like(p)
    chunk = max(1, JACOBIAN_CHUNK_BYTES // (c * c * z.itemsize))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        jac = kernels.softmax_jacobian(z[start:stop])  # (rows, C, C)
        # (Jᵀ g)_j = Σ_i g_i J_ij: a row vector times J, for every row of the chunk
        grad[start:stop] = np.matmul(dp[start:stop, None, :], jac)[:, 0, :]
    return loss, grad


def torch_path(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    zt = torch.from_numpy(z).requires_grad_()
    loss = F.cross_entropy(zt, torch.from_numpy(y))
    loss.backward()
    return loss.detach().numpy(), zt.grad.numpy()


PATHS: dict[str, Path_] = {
    "fused": fused,
    "fused node": fused_node,
    "unfused graph": unfused_graph,
    "dense Jacobian": dense_jacobian,
}
if torch is not None:
    PATHS["torch"] = torch_path
    PATHS["torch 1 thread"] = torch_path  # the same call, timed with torch.set_num_threads(1)
    TORCH_THREADS = torch.get_num_threads()


def per_block(name: str, z: np.ndarray, y: np.ndarray, number: int) -> float:
    """Seconds per call of path ``name`` over ``number`` calls (torch's thread count set for the
    whole block, not per call)."""
    if name == "torch 1 thread":
        torch.set_num_threads(1)
        try:
            return per_call(PATHS[name], z, y, number)
        finally:
            torch.set_num_threads(TORCH_THREADS)
    return per_call(PATHS[name], z, y, number)


# ---- measuring --------------------------------------------------------------------------------


def problem(shape: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * 3).astype(np.float32)
    return z, rng.integers(0, shape[1], shape[0])


def per_call(path: Path_, z: np.ndarray, y: np.ndarray, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        path(z, y)
    return (time.perf_counter() - start) / number


def calls_per_block(name: str, z: np.ndarray, y: np.ndarray, budget: float) -> int:
    """How many calls fill about ``budget`` seconds (at least 1)."""
    once = per_block(name, z, y, 1)
    return max(1, min(10_000, int(budget / max(once, 1e-7))))


def measure(shape, rounds: int, budget: float, dense_rounds: int) -> dict[str, list[float]]:
    z, y = problem(shape)
    ref_loss, ref_grad = fused(z.astype(np.float64), y)
    for name, path in PATHS.items():  # same numbers first
        loss, grad = path(z, y)
        assert abs(float(loss) - ref_loss) <= 1e-4 * max(1.0, abs(ref_loss)), (name, loss)
        np.testing.assert_allclose(grad, ref_grad, atol=1e-5, err_msg=name)
    numbers = {name: calls_per_block(name, z, y, budget) for name in PATHS}
    times: dict[str, list[float]] = {name: [] for name in PATHS}
    names = list(PATHS)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name == "dense Jacobian" and r >= dense_rounds:
                continue
            times[name].append(per_block(name, z, y, numbers[name]))
    return times


def stability() -> dict[str, str]:
    """What each path returns for logits of ±1000 (float32), the true class often at -1000."""
    rng = np.random.default_rng(1)
    z = np.where(rng.random((64, 10)) < 0.5, -1000.0, 1000.0).astype(np.float32)
    y = rng.integers(0, 10, 64)
    paths = {name: path for name, path in PATHS.items() if name != "torch 1 thread"}
    paths["naive graph"] = naive_graph
    verdicts = {}
    for name, path in paths.items():
        try:
            with np.errstate(all="ignore"):
                loss, grad = path(z, y)
        except (ValueError, OverflowError, FloatingPointError, ZeroDivisionError) as error:
            verdicts[name] = f"refuses: {type(error).__name__}: {str(error).split(', ')[0]}"
            continue
        loss_ok = bool(np.isfinite(loss))
        grad_ok = bool(np.isfinite(grad).all())
        verdicts[name] = (
            "finite loss and gradient"
            if loss_ok and grad_ok
            else f"loss {float(loss)}, gradient {'finite' if grad_ok else 'has inf/NaN'}"
        )
    return verdicts


def naive_graph(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax from primitive Tensor ops, no max subtracted: exp / sum / divide → log."""
    x = Tensor(z)
    e = x.exp()
    p = e / e.sum(axis=1, keepdims=True)
    loss = -(p[np.arange(len(y)), y].log().mean())
    loss.backward()
    return loss.data, x.grad


def summary(values: list[float]) -> str:
    med = statistics.median(values) * 1e6
    return f"{med:11,.0f} [{min(values) * 1e6:,.0f}, {max(values) * 1e6:,.0f}]"


def paired(times: dict[str, list[float]], slow: str, fast: str) -> float:
    """Median over rounds of slow / fast (rounds where both ran)."""
    k = min(len(times[slow]), len(times[fast]))
    return statistics.median(s / f for s, f in zip(times[slow][:k], times[fast][:k], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter blocks")
    args = parser.parse_args()
    rounds, budget, dense_rounds = (5, 0.02, 1) if args.quick else (15, 0.05, 3)

    load = os.getloadavg()[0]
    threads = f", torch threads {torch.get_num_threads()}" if torch is not None else ""
    print(f"softmax cross-entropy, forward + backward, float32, int labels{threads}")
    print(f"numpy {np.__version__}; load average {load:.2f}; {rounds} interleaved rounds")
    if torch is None:
        print("torch is not importable: the torch column is skipped")
    header = "".join(f"{name:>26}" for name in PATHS)
    print(f"\nmicroseconds per call, median [min, max]\n{'logits':<12}{header}")
    results = {}
    for shape in SHAPES:
        times = measure(shape, rounds, budget, dense_rounds)
        results[shape] = times
        row = "".join(f"{summary(times[name]):>26}" for name in PATHS)
        print(f"{str(shape):<12}{row}", flush=True)
    dense_note = (
        f"(the dense-Jacobian path at (8192, 1000) is timed in {dense_rounds} round(s), one "
        f"call each, J built in chunks of {JACOBIAN_CHUNK_BYTES // 2**20} MB)"
    )
    print(dense_note)

    print("\ntargets (paired ratios, median over rounds)")
    checks = [
        ((1024, 10), "dense Jacobian", "fused", 2.0, "fused >= 2x faster than dense Jacobian"),
        ((8192, 1000), "dense Jacobian", "fused", 5.0, "fused >= 5x faster than dense Jacobian"),
    ]
    if torch is not None:
        checks += [
            ((64, 10), "torch", "fused", 1.0, "fused no slower than torch"),
            ((1024, 10), "torch", "fused", 1.0, "fused no slower than torch"),
            ((8192, 1000), "torch", "fused", 1 / 1.5, "fused within 1.5x of torch"),
            ((64, 10), "torch 1 thread", "fused", 1.0, "fused no slower than torch, 1 thread"),
            ((1024, 10), "torch 1 thread", "fused", 1.0, "fused no slower than torch, 1 thread"),
            ((8192, 1000), "torch 1 thread", "fused", 1 / 1.5, "fused within 1.5x, 1 thread"),
        ]
    for shape, slow, fast, need, text in checks:
        ratio = paired(results[shape], slow, fast)
        verdict = "MET" if ratio >= need else "NOT MET"
        print(
            f"  {str(shape):<14}{text:<40} {slow} / {fast} = {ratio:7.2f} "
            f"(need >= {need:.2f})  {verdict}"
        )
    ratio = paired(results[(64, 10)], "fused node", "fused")
    print(f"  (64, 10)      the Tensor node around the kernel: fused node / fused = {ratio:.2f}")

    print("\nat logits of +-1000 (float32, (64, 10)):")
    for name, verdict in stability().items():
        print(f"  {name:<16}{verdict}")


if __name__ == "__main__":
    main()
