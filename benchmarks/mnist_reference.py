"""The 784-H-10 sigmoid network on MNIST written by hand in numpy: the speed reference.

Run: ``COURSE_LIB_DATA=<folder holding mnist/> .venv/bin/python benchmarks/mnist_reference.py``
(options: ``--epochs 5 --hidden 100 --batch 64 --lr 2.0 --seed 0 --repeats 1 --no-torch``).

The network, for a minibatch X (B, 784) with one-hot targets Y (B, 10):

    A = X W1 + b1          (B, H)      W1: (784, H), b1: (H,)
    S = sigmoid(A)         (B, H)
    Z = S W2 + b2          (B, 10)     W2: (H, 10),  b2: (10,)
    P = softmax(Z)         (B, 10)     row-wise, computed stably (Z minus its row max)
    L = -(1/B) sum_i log P[i, y_i]

and its gradients, by hand:

    dZ  = (P - Y) / B                  the fused softmax cross-entropy gradient
    dW2 = S^T dZ,   db2 = sum_i dZ[i]
    dS  = dZ W2^T                      each hidden unit sums its 10 output paths (fan-out)
    dA  = dS * S * (1 - S)             sigmoid'(A) = S (1 - S)
    dW1 = X^T dA,   db1 = sum_i dA[i]

Glorot (Xavier) uniform initialisation W ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)), zero
biases; plain minibatch SGD (W <- W - lr dW); the training set shuffled each epoch; float32.

``train_numpy`` is importable so the course_lib benchmark can time the same network against it.
``main`` also times the same network in PyTorch (CPU) when torch imports, with the same initial
weights and the same batch order (both reach the same test accuracy to 0.01% at every epoch),
alternating the two epoch by epoch.

Measured on the 2-core course machine (numpy 2.4.6, torch 2.13.0 CPU), ``--threads 1
--repeats 3``: numpy 0.334 s/epoch, torch 0.611 s/epoch (torch / numpy 1.83); test accuracy
after 1 / 3 / 5 epochs, mean of seeds 0-2: 94.6% / 96.6% / 97.0%. With two BLAS threads the first
epochs ran at 0.27 s (numpy) and 0.47 s (torch), but whenever other jobs shared the machine
two-thread epochs became 10-40x slower; one thread stays steady, so prefer ``--threads 1``
there.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np

Weights = dict[str, np.ndarray]


def glorot_init(hidden: int = 100, seed: int = 0, inputs: int = 784, classes: int = 10) -> Weights:
    """W1 (inputs, hidden), W2 (hidden, classes) ~ U(-r, r), r = sqrt(6/(fan_in+fan_out)); b = 0."""
    rng = np.random.default_rng(seed)
    r1 = np.sqrt(6.0 / (inputs + hidden))
    r2 = np.sqrt(6.0 / (hidden + classes))
    return {
        "W1": rng.uniform(-r1, r1, size=(inputs, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "W2": rng.uniform(-r2, r2, size=(hidden, classes)).astype(np.float32),
        "b2": np.zeros(classes, dtype=np.float32),
    }


def epoch_orders(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    """The shuffled example order of each epoch (shared with the PyTorch run)."""
    rng = np.random.default_rng(seed + 1)
    return [rng.permutation(n) for _ in range(epochs)]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), computed in place on a fresh array (float32 in, float32 out)."""
    out = np.negative(a)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def forward(weights: Weights, images: np.ndarray) -> np.ndarray:
    """Logits Z = sigmoid(X W1 + b1) W2 + b2 for images (N, 784)."""
    hidden = sigmoid(images @ weights["W1"] + weights["b1"])
    return hidden @ weights["W2"] + weights["b2"]


def accuracy(weights: Weights, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of images whose largest logit is at the true label."""
    correct = 0
    for start in range(0, len(images), 10_000):
        logits = forward(weights, images[start : start + 10_000])
        correct += int((logits.argmax(axis=1) == labels[start : start + 10_000]).sum())
    return correct / len(images)


def loss_and_gradients(weights: Weights, x: np.ndarray, y: np.ndarray) -> tuple[float, Weights]:
    """Mean cross-entropy loss on the batch (x, y) and its gradient for each weight, by hand."""
    W1, b1, W2, b2 = weights["W1"], weights["b1"], weights["W2"], weights["b2"]
    batch = x.shape[0]
    rows = np.arange(batch)
    # Forward.
    a = x @ W1
    a += b1
    s = sigmoid(a)  # (B, H)
    z = s @ W2
    z += b2  # (B, 10)
    z -= z.max(axis=1, keepdims=True)  # stable softmax: shift each row by its max
    p = np.exp(z)
    total = p.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - z[rows, y]))  # -log p_y = log sum e^z - z_y
    p /= total
    # Backward: dZ = (P - Y) / B, then the chain rule by hand.
    dz = p
    dz[rows, y] -= 1.0
    dz /= batch
    dW2 = s.T @ dz
    db2 = dz.sum(axis=0)
    ds = dz @ W2.T  # (B, H): hidden unit j gets sum_k W2[j, k] dZ[:, k], its 10 paths
    ds *= s
    ds *= 1.0 - s  # dA = dS * sigmoid'(A), sigmoid'(A) = S (1 - S)
    dW1 = x.T @ ds
    db1 = ds.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_step(weights: Weights, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One forward and backward pass on the batch (x, y) and an SGD update; returns the loss."""
    loss, grads = loss_and_gradients(weights, x, y)
    for name, grad in grads.items():  # W <- W - lr dW, in place (numpy keeps float32)
        grad *= lr
        weights[name] -= grad
    return loss


def numpy_epochs(
    images: np.ndarray,
    labels: np.ndarray,
    hidden: int = 100,
    batch: int = 64,
    lr: float = 2.0,
    epochs: int = 5,
    seed: int = 0,
) -> Iterator[tuple[float, Weights]]:
    """Train epoch by epoch, yielding (seconds this epoch took, the weights after it)."""
    images = np.ascontiguousarray(images, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    if images.ndim != 2 or labels.shape != (images.shape[0],):
        raise ValueError(
            f"images (N, D) and labels (N,) expected, got {images.shape}, {labels.shape}"
        )
    weights = glorot_init(hidden, seed, inputs=images.shape[1])
    for order in epoch_orders(len(images), epochs, seed):
        start = time.perf_counter()
        for first in range(0, len(order), batch):
            idx = order[first : first + batch]
            sgd_step(weights, images[idx], labels[idx], lr)
        yield time.perf_counter() - start, weights


def torch_epochs(
    images: np.ndarray,
    labels: np.ndarray,
    hidden: int = 100,
    batch: int = 64,
    lr: float = 2.0,
    epochs: int = 5,
    seed: int = 0,
) -> Iterator[tuple[float, Weights]]:
    """The same network in PyTorch CPU: same initial weights, same batch order, mean CE loss."""
    import torch

    init = glorot_init(hidden, seed, inputs=images.shape[1])
    params = {name: torch.tensor(value, requires_grad=True) for name, value in init.items()}
    optimizer = torch.optim.SGD(list(params.values()), lr=lr)
    x_all = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    y_all = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    for order in epoch_orders(len(images), epochs, seed):
        order_t = torch.from_numpy(order)
        start = time.perf_counter()
        for first in range(0, len(order), batch):
            idx = order_t[first : first + batch]
            x, y = x_all[idx], y_all[idx]
            s = torch.sigmoid(x @ params["W1"] + params["b1"])
            z = s @ params["W2"] + params["b2"]
            loss = torch.nn.functional.cross_entropy(z, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        yield seconds, {k: v.detach().numpy().copy() for k, v in params.items()}


def _collect(
    epochs_iter: Iterator[tuple[float, Weights]],
    after_epoch: Callable[[int, Weights], None] | None,
) -> tuple[Weights, list[float]]:
    seconds: list[float] = []
    weights: Weights = {}
    for epoch, (took, weights) in enumerate(epochs_iter, start=1):
        seconds.append(took)
        if after_epoch is not None:
            after_epoch(epoch, weights)
    return weights, seconds


def run_summary(seconds: list[float], accs: list[float]) -> tuple[str, float | None]:
    """One run as a line (seconds and test accuracy per epoch, when 97% was first reached),
    and the seconds of training it took to reach 97% (None if it never did)."""
    elapsed = np.cumsum(seconds)
    reached = next((i for i, a in enumerate(accs) if a >= 0.97), None)
    when = (
        f"97% after epoch {reached + 1} ({elapsed[reached]:.2f} s of training)"
        if reached is not None
        else "97% not reached"
    )
    line = (
        "s/epoch "
        + " ".join(f"{t:.3f}" for t in seconds)
        + " | test acc "
        + " ".join(f"{100 * a:.2f}%" for a in accs)
        + f" | {when}"
    )
    return line, None if reached is None else float(elapsed[reached])


def train_numpy(
    images: np.ndarray,
    labels: np.ndarray,
    hidden: int = 100,
    batch: int = 64,
    lr: float = 2.0,
    epochs: int = 5,
    seed: int = 0,
    after_epoch: Callable[[int, Weights], None] | None = None,
) -> tuple[Weights, list[float]]:
    """Train the 784-H-10 sigmoid network by minibatch SGD; return (weights, seconds per epoch).

    images float32 (N, 784), labels int (N,). ``after_epoch(epoch, weights)`` (1-based epoch) is
    called after each epoch outside the timed region, e.g. to measure test accuracy.
    """
    return _collect(numpy_epochs(images, labels, hidden, batch, lr, epochs, seed), after_epoch)


def train_torch(
    images: np.ndarray,
    labels: np.ndarray,
    hidden: int = 100,
    batch: int = 64,
    lr: float = 2.0,
    epochs: int = 5,
    seed: int = 0,
    after_epoch: Callable[[int, Weights], None] | None = None,
) -> tuple[Weights, list[float]]:
    """:func:`train_numpy` in PyTorch CPU (needs torch); same return value."""
    return _collect(torch_epochs(images, labels, hidden, batch, lr, epochs, seed), after_epoch)


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return f"{torch.__version__}, {torch.get_num_threads()} threads"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="numpy/torch runs, alternated")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS / OpenMP threads for numpy and torch (default: the libraries' own choice); "
        "1 is far steadier on a machine shared with other jobs",
    )
    args = parser.parse_args(argv)
    wanted = str(args.threads) if args.threads else None
    thread_vars = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    if wanted and any(os.environ.get(var) != wanted for var in thread_vars):
        # BLAS reads its thread count when numpy is imported: start again with it set.
        os.environ.update(dict.fromkeys(thread_vars, wanted))
        args_again = sys.argv[1:] if argv is None else argv
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), *args_again])

    from course_lib.data import load_mnist

    x_train, y_train = load_mnist("train", progress=True)
    x_test, y_test = load_mnist("test", progress=True)
    torch_version = None if args.no_torch else _torch_version()
    print(
        f"MNIST 784-{args.hidden}-10 sigmoid, softmax CE, SGD lr {args.lr}, batch {args.batch}, "
        f"{args.epochs} epochs, seed {args.seed}, float32; numpy {np.__version__} "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}); "
        f"torch {torch_version or 'not importable'}"
    )

    engines = {"numpy": numpy_epochs}
    if torch_version:
        engines["torch"] = torch_epochs
    epoch_times: dict[str, list[float]] = {name: [] for name in engines}
    for repeat in range(args.repeats):
        # Alternate the engines epoch by epoch, so a busy neighbour slows both alike.
        runs = {
            name: make(
                x_train,
                y_train,
                hidden=args.hidden,
                batch=args.batch,
                lr=args.lr,
                epochs=args.epochs,
                seed=args.seed + repeat,
            )  # fmt: skip
            for name, make in engines.items()
        }
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        accs: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(args.epochs):
            for name, run in runs.items():
                took, weights = next(run)
                seconds[name].append(took)
                accs[name].append(accuracy(weights, x_test, y_test))
        for name in engines:
            epoch_times[name] += seconds[name]
            line, _ = run_summary(seconds[name], accs[name])
            print(f"[{name:>5} run {repeat + 1}] {line}")
    summary = {name: statistics.median(times) for name, times in epoch_times.items()}
    for name, times in epoch_times.items():
        print(
            f"{name:>5}: median {summary[name]:.3f} s/epoch [min {min(times):.3f}, "
            f"max {max(times):.3f}] over {len(times)} epochs"
        )
    if "torch" in summary:
        print(f"torch / numpy = {summary['torch'] / summary['numpy']:.2f} (median s/epoch)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    print(f"peak resident memory of this process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
