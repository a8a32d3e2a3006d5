"""The hand-written numpy reference network (benchmarks/mnist_reference.py) computes true gradients.

The benchmark of course_lib's network is only meaningful if the reference trains the same
network correctly: its hand-derived backward pass is checked against central differences in
float64, and (when PyTorch is installed) a short training run against PyTorch's autograd.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "mnist_reference.py"
_spec = importlib.util.spec_from_file_location("mnist_reference", _PATH)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def tiny_problem(seed: int = 0, batch: int = 6, inputs: int = 5, hidden: int = 4):
    rng = np.random.default_rng(seed)
    weights = {
        k: v.astype(np.float64) for k, v in ref.glorot_init(hidden, seed, inputs=inputs).items()
    }
    weights["b1"] = rng.normal(size=hidden)  # non-zero biases, so their gradients are tested
    weights["b2"] = rng.normal(size=10)
    x = rng.uniform(0.0, 1.0, size=(batch, inputs))
    y = rng.integers(0, 10, size=batch)
    return weights, x, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_gradients_match_central_differences(seed):
    weights, x, y = tiny_problem(seed)
    loss, grads = ref.loss_and_gradients({k: v.copy() for k, v in weights.items()}, x, y)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    h = 1e-6
    for name, value in weights.items():
        numerical = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in weights.items()}
            down = {k: v.copy() for k, v in weights.items()}
            up[name][index] += h
            down[name][index] -= h
            numerical[index] = (
                ref.loss_and_gradients(up, x, y)[0] - ref.loss_and_gradients(down, x, y)[0]
            ) / (2 * h)
        assert grads[name].shape == value.shape
        np.testing.assert_allclose(grads[name], numerical, rtol=1e-5, atol=1e-8, err_msg=name)
    # The loss is the mean of -log softmax(z)_y.
    z = ref.forward(weights, x)
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_p[np.arange(len(y)), y].mean(), rel=1e-12)


def test_loss_stays_finite_for_huge_logits():
    weights, x, y = tiny_problem()
    weights["W2"] *= 1e4
    loss, grads = ref.loss_and_gradients(weights, x, y)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())


def test_training_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1, size=(10, 20)).astype(np.float32)
    labels = rng.integers(0, 10, size=2000)
    images = centres[labels] + rng.normal(0, 0.05, size=(2000, 20)).astype(np.float32)
    weights, seconds = ref.train_numpy(images, labels, hidden=16, batch=32, lr=2.0, epochs=5)
    assert len(seconds) == 5 and all(s > 0 for s in seconds)
    assert weights["W1"].dtype == np.float32 and weights["W1"].shape == (20, 16)
    assert ref.accuracy(weights, images, labels) > 0.95


def test_numpy_and_torch_train_to_the_same_weights():
    pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, size=(300, 784)).astype(np.float32)
    labels = rng.integers(0, 10, size=300)
    kwargs = {"hidden": 12, "batch": 64, "lr": 0.5, "epochs": 2, "seed": 3}
    ours, _ = ref.train_numpy(images, labels, **kwargs)
    theirs, _ = ref.train_torch(images, labels, **kwargs)
    start = ref.glorot_init(12, 3)
    for name in ours:
        assert not np.allclose(ours[name], start[name])  # training moved every weight
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-5, err_msg=name)
