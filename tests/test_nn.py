"""Tests of course_lib.network: the 784-H-10 sigmoid network, SGD and the training loop.

Gradients are checked against central differences in float64 on tiny networks; one SGD step
is checked against the hand-written numpy reference (benchmarks/mnist_reference.py); training
must lower the loss, and on a small real MNIST subset reach a clearly-better-than-chance
accuracy (that test needs COURSE_LIB_DATA, which CI sets).
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.checks import tensor_gradient_check
from course_lib.network import (
    MAX_DEPTH,
    MAX_EPOCHS,
    SigmoidNet,
    check_learning_rate,
    evaluate,
    glorot_uniform,
    layer_gradient_norms,
    sgd_step,
    train,
    training_epochs,
)
from course_lib.numbers.checking import MAX_ELEMENTS
from course_lib.tensor import Tensor

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "mnist_reference.py"
_spec = importlib.util.spec_from_file_location("mnist_reference", _PATH)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def tiny(seed: int = 0, batch: int = 6, inputs: int = 5, hidden: int = 4, classes: int = 10):
    """A float64 network with non-zero biases, a batch and its labels."""
    rng = np.random.default_rng(seed + 100)
    net = SigmoidNet(hidden, seed, inputs=inputs, classes=classes, dtype=np.float64)
    net.b1.data[:] = rng.normal(size=hidden)
    net.b2.data[:] = rng.normal(size=classes)
    x = rng.uniform(0.0, 1.0, size=(batch, inputs))
    y = rng.integers(0, classes, size=batch)
    return net, x, y


def with_params(net: SigmoidNet, W1, b1, W2, b2) -> SigmoidNet:  # noqa: N803 (math names)
    """The same network code with the given tensors as its parameters."""
    other = SigmoidNet.__new__(SigmoidNet)
    other.W1, other.b1, other.W2, other.b2 = W1, b1, W2, b2
    return other


# ---- initialisation ---------------------------------------------------------------------------


def test_glorot_bounds_and_variance() -> None:
    w = glorot_uniform(784, 100, np.random.default_rng(0))
    r = math.sqrt(6 / 884)
    assert w.shape == (784, 100) and w.dtype == np.float32
    assert np.abs(w).max() <= r
    assert np.var(w) == pytest.approx(2 / 884, rel=0.03)  # Var U(-r, r) = r²/3 = 2/(in+out)


def test_initial_weights_match_the_numpy_reference() -> None:
    net = SigmoidNet(100, seed=3)
    theirs = ref.glorot_init(100, 3)
    for p, name in zip(net.params, ("W1", "b1", "W2", "b2"), strict=True):
        assert p.label == name and p.data.dtype == np.float32
        np.testing.assert_array_equal(p.data, theirs[name])


def test_seed_decides_the_weights() -> None:
    a, b, c = SigmoidNet(8, 1, inputs=5), SigmoidNet(8, 1, inputs=5), SigmoidNet(8, 2, inputs=5)
    np.testing.assert_array_equal(a.W1.data, b.W1.data)
    assert not np.array_equal(a.W1.data, c.W1.data)


# ---- gradients --------------------------------------------------------------------------------


def test_gradients_match_finite_differences() -> None:
    net, x, y = tiny()
    report = tensor_gradient_check(
        lambda W1, b1, W2, b2: with_params(net, W1, b1, W2, b2).loss(x, y),  # noqa: N803
        *(p.data for p in net.params),
    )
    assert report.ok, str(report)
    assert max(report.max_abs_error) < 1e-8


@settings(max_examples=12, deadline=None)
@given(
    batch=st.integers(1, 5),
    inputs=st.integers(1, 4),
    hidden=st.integers(1, 4),
    classes=st.integers(2, 5),
    seed=st.integers(0, 1000),
)
def test_gradients_match_finite_differences_for_any_small_shape(
    batch: int, inputs: int, hidden: int, classes: int, seed: int
) -> None:
    net, x, y = tiny(seed, batch, inputs, hidden, classes)
    report = tensor_gradient_check(
        lambda W1, b1, W2, b2: with_params(net, W1, b1, W2, b2).loss(x, y),  # noqa: N803
        *(p.data for p in net.params),
    )
    assert report.ok, str(report)


def test_hidden_gradient_is_the_sum_of_ten_paths() -> None:
    """dL/dh_j = Σ_k W2[j, k] (p_k - y_k) / N: the fan-out the notebook takes apart."""
    net, x, y = tiny(batch=3, hidden=6)
    graph = net.trace(x, y)
    graph.loss.backward()
    z = graph.logits.data
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (p - np.eye(10)[y]) / len(y)
    for n in range(3):
        for j in range(6):
            paths = [net.W2.data[j, k] * delta[n, k] for k in range(10)]
            assert graph.h.grad[n, j] == pytest.approx(sum(paths), abs=1e-15)
    np.testing.assert_allclose(graph.h.grad, delta @ net.W2.data.T, atol=1e-15)
    h = graph.h.data
    np.testing.assert_allclose(graph.a.grad, graph.h.grad * h * (1 - h), atol=1e-15)
    # over the batch the weight gradient sums one outer product per example
    per_example = sum(np.outer(h[n], delta[n]) for n in range(3))
    np.testing.assert_allclose(net.W2.grad, per_example, atol=1e-15)


def test_trace_names_every_node() -> None:
    net, x, y = tiny()
    graph = net.trace(x, y)
    assert [graph.a.label, graph.h.label, graph.logits.label, graph.loss.label] == [
        "a",
        "h",
        "z",
        "L",
    ]
    assert graph.loss.op == "softmax_cross_entropy" and graph.h.op == "sigmoid"
    assert graph.a.shape == graph.h.shape == (6, 4) and graph.logits.shape == (6, 10)


# ---- SGD and training ---------------------------------------------------------------------------


def test_sgd_step_matches_the_hand_written_numpy_step() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, size=(32, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=32)
    net = SigmoidNet(20, seed=4)
    weights = ref.glorot_init(20, 4)
    for _ in range(5):
        ours = sgd_step(net, x, y, 0.5)
        theirs = ref.sgd_step(weights, x, y, 0.5)
        assert ours == pytest.approx(theirs, rel=1e-5)
    for p, name in zip(net.params, ("W1", "b1", "W2", "b2"), strict=True):
        np.testing.assert_allclose(p.data, weights[name], rtol=1e-4, atol=1e-6)
        assert p.grad is None  # the step used the gradient up
        assert p.data.dtype == np.float32


def test_the_step_is_w_minus_lr_times_grad_in_the_gradients_own_array() -> None:
    import inspect

    source = inspect.getsource(sgd_step)
    assert "step *= lr" in source and "p.data -= step" in source
    net = SigmoidNet(3, inputs=4, classes=3, seed=1)
    before = [p.data.copy() for p in net.params]
    x, y = np.full((2, 4), 0.5, np.float32), np.array([0, 2])
    probe = net.copy()
    probe.loss(x, y).backward()
    grads = [p.grad.copy() for p in probe.params]
    sgd_step(net, x, y, 0.5)
    for p, old, g in zip(net.params, before, grads, strict=True):
        np.testing.assert_allclose(p.data, old - np.float32(0.5) * g, rtol=1e-6)
        assert p.grad is None


def separable(n: int = 400, seed: int = 0):
    """Two blobs in 6 dimensions, in [0, 1] like pixels, classes 0 and 1 (of 3), for quick
    training tests."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 6)) * 0.12 + np.where(y[:, None] == 1, 0.75, 0.25)
    return np.clip(x, 0.0, 1.0).astype(np.float32), y


def test_training_lowers_the_loss_and_learns() -> None:
    x, y = separable()
    net = SigmoidNet(5, seed=0, inputs=6, classes=3)
    before = float(net.loss(x, y).data)
    history = train(net, x, y, epochs=3, batch=16, lr=1.0, test=(x, y), progress=False)
    after = float(net.loss(x, y).data)
    assert after < 0.5 * before
    assert history.loss[-1] < history.loss[0]
    assert history.test_accuracy[-1] > 0.95
    assert evaluate(net, x, y) == history.test_accuracy[-1]
    assert len(history.epoch_seconds) == 3 and history.train_seconds > 0
    assert history.steps == 3 * 25
    assert history.position[-1] == 3.0
    assert "3 epochs, 75 steps" in repr(history)


def test_training_is_reproducible_and_the_seed_shuffles() -> None:
    x, y = separable(200)
    runs = []
    for seed in (0, 0, 1):
        net = SigmoidNet(4, seed=0, inputs=6, classes=3)
        train(net, x, y, epochs=1, batch=32, seed=seed, progress=False)
        runs.append(net.W1.data.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_training_epochs_yields_after_each_epoch_and_takes_a_schedule() -> None:
    x, y = separable(100)
    net = SigmoidNet(4, seed=0, inputs=6, classes=3)
    seen = [
        len(h.epoch_seconds)
        for h in training_epochs(net, x, y, epochs=3, batch=50, lr=[1.0, 0.5, 0.25])
    ]
    assert seen == [1, 2, 3]


def test_evaluate_counts_the_argmax() -> None:
    net = SigmoidNet(3, seed=0, inputs=2, classes=2, dtype=np.float64)
    net.W1.data[:] = 0.0
    net.W2.data[:] = 0.0
    net.b2.data[:] = [0.0, 1.0]  # always predicts class 1
    x = np.zeros((4, 2))
    assert evaluate(net, x, np.array([1, 1, 0, 1])) == 0.75
    np.testing.assert_array_equal(net.predict(x), [1, 1, 1, 1])


def test_copy_is_independent_and_can_change_dtype() -> None:
    net = SigmoidNet(3, seed=0, inputs=2)
    double = net.copy(np.float64)
    assert double.dtype == np.float64 and net.dtype == np.float32
    double.W1.data[0, 0] += 1.0
    assert net.W1.data[0, 0] != double.W1.data[0, 0]
    assert repr(net) == "SigmoidNet(2-3-10, sigmoid hidden layer, softmax cross-entropy, float32)"


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": 0}, "hidden must be a positive int"),
        ({"hidden": 2.5}, "hidden must be a whole number"),
        ({"hidden": "100"}, "hidden must be an int, got '100'"),
        ({"classes": 1}, "classes must be an int >= 2, got 1"),
        ({"dtype": np.int32}, "dtype must be float32 or float64"),
    ],
)
def test_bad_network_settings(kwargs, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        SigmoidNet(**kwargs)


def test_bad_inputs_name_the_shapes() -> None:
    net = SigmoidNet(3, inputs=4)
    with pytest.raises(ValueError, match=r"shape \(N, 4\), got \(2, 5\)"):
        net.loss(np.zeros((2, 5)), [0, 1])
    with pytest.raises(ValueError, match=r"for one image of shape \(4,\) use images\[None, :\]"):
        net.forward(np.zeros(4))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        net.loss(np.zeros((2, 4)), [0, 1, 2])
    with pytest.raises(TypeError, match="integer class indices"):
        net.loss(np.zeros((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"train: labels\[1\] = 10 is not a class.* 0 to 9"):
        train(net, np.zeros((2, 4)), np.array([0, 10]), progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train(net, np.zeros((2, 4)), np.array([0, 1]), epochs=0, progress=False)
    with pytest.raises(ValueError, match="2 learning rates for 3 epochs"):
        train(net, np.zeros((2, 4)), np.array([0, 1]), epochs=3, lr=[1, 2], progress=False)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        train(net, np.zeros((2, 4)), np.array([0, 1]), lr=-1.0, progress=False)


def test_as_batch_and_as_labels_check_and_convert() -> None:
    net = SigmoidNet(3, inputs=4)
    x = net.as_batch([[0, 1, 1, 0]])
    assert x.shape == (1, 4) and x.dtype == np.float32
    assert net.as_labels([2], 1).tolist() == [2]
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        net.as_batch(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="integer class indices"):
        net.as_labels(np.array([0.5]), 1)


def test_float64_images_are_converted_to_the_network_dtype() -> None:
    net = SigmoidNet(3, inputs=4)
    a, h, z = net.forward(np.ones((2, 4), dtype=np.float64))
    assert a.dtype == h.dtype == z.dtype == np.float32
    assert isinstance(z, Tensor)


# ---- bad inputs answered (issue 14) ------------------------------------------------------------


def _set(n: int = 12, inputs: int = 4, classes: int = 3):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (n, inputs)).astype(np.float32), rng.integers(0, classes, n)


@pytest.mark.parametrize(
    "images",
    [
        np.full((12, 4), 255, np.uint8),
        np.random.default_rng(1).integers(0, 256, (12, 4)).astype(np.float32),
    ],
    ids=["uint8", "0-255 floats"],
)
def test_unscaled_pixels_are_refused_with_the_fix(images) -> None:
    """Raw 0..255 pixels used to train silently at chance (9.8% on MNIST)."""
    net = SigmoidNet(3, inputs=4, classes=3)
    _, labels = _set()
    before = net.W1.data.copy()
    for call in (
        lambda: train(net, images, labels),
        lambda: sgd_step(net, images, labels, 1.0),
        lambda: evaluate(net, images, labels),
        lambda: net.logits(images),
    ):
        with pytest.raises(ValueError, match=r"scale to \[0, 1\]: images / 255"):
            call()
    np.testing.assert_array_equal(net.W1.data, before)


SPECIAL = [
    0.0,
    -0.0,
    1.0,
    0.5,
    1e-45,
    5e-324,
    -1e-45,
    np.nextafter(1.0, 2.0),
    1.5,
    255.0,
    -1.0,
    np.inf,
    -np.inf,
    np.nan,
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([np.float32, np.float64, ">f4", ">f8", np.float16]),
    st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats(-2, 2), st.floats(0, 1)), max_size=9),
    st.booleans(),
)
def test_the_pixel_check_is_every_entry_a_number_in_0_1(dtype, values, strided) -> None:
    """In either byte order, contiguous or not (the bit-pattern test and the plain one)."""
    from course_lib.network.validation import pixels_in_unit_range

    with np.errstate(over="ignore"):  # 255.0 and 1e-45 are no float16's: inf and 0, fine
        x = np.array(values, dtype=dtype)
    if strided:
        x = np.repeat(x, 2)[::2]  # the same entries, every other one in memory
    expected = all(0 <= v <= 1 for v in x.tolist())  # NaN compares False
    assert pixels_in_unit_range(x) == expected, x


def test_a_nan_or_negative_pixel_is_named() -> None:
    net = SigmoidNet(3, inputs=4, classes=3)
    images, labels = _set()
    images[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"images\[5, 2\] = nan; pixels must be finite"):
        train(net, images, labels)
    images[5, 2] = -0.5
    with pytest.raises(ValueError, match=r"values down to -0.5.* \[0, 1\]"):
        net.loss(images, labels)
    binary = (images > 0.5).astype(np.uint8)  # 0/1 pixels are in [0, 1]: accepted
    assert net.as_batch(binary).dtype == np.float32


@pytest.mark.parametrize(
    ("lr", "error", "message"),
    [
        (float("nan"), ValueError, "must be a finite number, got nan"),
        (float("inf"), ValueError, "must be a finite number, got inf"),
        (-1.0, ValueError, "must be positive, got -1.0"),
        (0, ValueError, "must be positive, got 0"),
        (
            "0.1",
            TypeError,
            "the learning rate must be a number, got the text '0.1'; write the number without",
        ),
        (None, TypeError, "must be a number, got None"),
        (True, TypeError, "must be a number, got True"),
        (10**400, ValueError, "the learning rate is an int of 401 digits, too large for a float"),
        (1 + 2j, TypeError, "must be a real number, got \\(1\\+2j\\)"),
    ],
)
def test_a_bad_learning_rate_is_refused_before_any_weight_moves(lr, error, message) -> None:
    images, labels = _set()
    for step in (sgd_step,):
        net = SigmoidNet(3, inputs=4, classes=3)
        before = [p.data.copy() for p in net.params]
        with pytest.raises(error, match=message):
            step(net, images, labels, lr)
        for p, old in zip(net.params, before, strict=True):
            np.testing.assert_array_equal(p.data, old)
            assert p.grad is None
    with pytest.raises(error, match=message):
        train(SigmoidNet(3, inputs=4, classes=3), images, labels, lr=lr)
    assert check_learning_rate(0.25) == 0.25 and check_learning_rate(np.float32(2)) == 2.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"seed": -1},
            ValueError,
            r"seed \(it picks the shuffling order\) must be 0 or more, got -1",
        ),
        ({"seed": 1.5}, TypeError, "seed .* must be a whole number \\(an int\\), got 1.5"),
        ({"seed": None}, TypeError, "seed .* must be an int, got None"),
        ({"batch": -1}, ValueError, r"batch \(images per step\) must be a positive int, got -1"),
        ({"batch": "8"}, TypeError, "batch .* must be an int, got '8'"),
        ({"epochs": 2**70}, ValueError, "more than 10,000 passes"),
        ({"epochs": True}, TypeError, "epochs must be an int"),
        (
            {"lr": [1.0, "a"], "epochs": 2},
            TypeError,
            r"lr\[1\]: the learning rate must be a number",
        ),
        ({"records_per_epoch": 0}, ValueError, "records_per_epoch must be a positive int"),
    ],
)
def test_bad_training_settings_get_clear_errors(kwargs, error, message) -> None:
    images, labels = _set()
    net = SigmoidNet(3, inputs=4, classes=3)
    before = net.W1.data.copy()
    with pytest.raises(error, match=message):
        train(net, images, labels, **kwargs)
    np.testing.assert_array_equal(net.W1.data, before)
    assert MAX_EPOCHS == 10_000


def test_a_network_seed_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match=r"SigmoidNet: seed \(it picks the starting weights\)"):
        SigmoidNet(3, seed=-1)


@pytest.mark.parametrize(
    ("batch", "error"), [(-1, ValueError), (0, ValueError), ("8", TypeError), (2.5, TypeError)]
)
def test_logits_refuses_a_bad_chunk_size(batch, error) -> None:
    """batch=-1 used to return an empty array."""
    images, _ = _set()
    with pytest.raises(error, match=r"SigmoidNet.logits: batch \(images per chunk\) must be"):
        SigmoidNet(3, inputs=4, classes=3).logits(images, batch=batch)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (np.full(12, 99), ValueError, r"labels\[0\] = 99 is not a class of this network"),
        (np.full(12, -1), ValueError, r"labels\[0\] = -1 is not a class"),
        (99, ValueError, r"labels must have shape \(12,\)"),
        ("abc", ValueError, r"labels must have shape \(12,\)"),
        (np.ones(3, dtype=int), ValueError, r"labels must have shape \(12,\)"),
        (np.zeros(12), TypeError, "integer class indices"),
    ],
)
def test_evaluate_refuses_labels_it_cannot_score(labels, error, message) -> None:
    """evaluate(labels=99 for every image) used to answer 0.0."""
    images, _ = _set()
    with pytest.raises(error, match=message):
        evaluate(SigmoidNet(3, inputs=4, classes=3), images, labels)


def test_a_diverging_run_stops_with_an_error_that_names_the_rate() -> None:
    """lr=1e300 used to fill every weight with inf and NaN, with numpy warnings at best."""
    import warnings

    images, labels = _set(64)
    net = SigmoidNet(3, inputs=4, classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error says it, not a numpy warning on the way
        with pytest.raises(ValueError, match=r"training diverged in epoch 1.*rate 1e\+300 is"):
            train(net, images, labels, lr=1e300, batch=8)


def test_glorot_draws_into_the_target_dtype_without_a_float64_matrix() -> None:
    import tracemalloc

    rng = np.random.default_rng(0)
    tracemalloc.start()
    try:
        w = glorot_uniform(2000, 500, rng)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert w.dtype == np.float32 and w.nbytes == 4_000_000
    assert peak < 1.2 * w.nbytes  # a float64 matrix first would need 3x (8 MB + 4 MB)
    r = math.sqrt(6 / 2500)
    same = np.random.default_rng(0).uniform(-r, r, size=(2000, 500)).astype(np.float32)
    np.testing.assert_array_equal(w, same)  # the numbers the one-shot draw gives
    double = glorot_uniform(3, 2, np.random.default_rng(5), np.float64)
    assert double.dtype == np.float64
    with pytest.raises(ValueError, match="fan_in must be a positive int"):
        glorot_uniform(0, 3, rng)


# ---- nn shows nothing itself ------------------------------------------------------------------


def test_train_is_quiet_and_nn_imports_no_display_code(capsys) -> None:
    import subprocess
    import sys

    x, y = separable(64)
    train(SigmoidNet(3, inputs=6, classes=3), x, y, epochs=1, batch=32)
    assert capsys.readouterr() == ("", "")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, course_lib.network; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for display_module in ("ipywidgets", "IPython", "matplotlib", "tqdm", "course_lib.widgets"):
        assert f"'{display_module}" not in loaded, display_module


class Recorder:
    """A progress observer that writes down what train tells it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, total_steps: int, epochs: int) -> None:
        self.calls.append(("start", total_steps, epochs))

    def update(self, history, epoch: int) -> None:
        self.calls.append(("update", epoch, history.steps, len(history.test_accuracy)))

    def finish(self, history) -> None:
        self.calls.append(("finish", history.steps))


def test_train_reports_to_its_progress_observer() -> None:
    x, y = separable(64)
    seen = Recorder()
    train(SigmoidNet(3, inputs=6, classes=3), x, y, epochs=2, batch=16, test=(x, y), progress=seen)
    assert seen.calls[0] == ("start", 8, 2) and seen.calls[-1] == ("finish", 8)
    updates = [c for c in seen.calls if c[0] == "update"]
    assert [u[2] for u in updates] == [1, 2, 3, 4, 4, 5, 6, 7, 8, 8]  # records, then the epoch
    assert updates[4][3] == 1 and updates[-1][3] == 2  # the accuracy arrives with the epoch
    with pytest.raises(TypeError, match=r"progress=training_display\(\)"):
        train(SigmoidNet(3, inputs=6, classes=3), x, y, progress=True)


# ---- real MNIST ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_subset():
    if not os.environ.get("COURSE_LIB_DATA"):
        pytest.skip(
            "COURSE_LIB_DATA is not set: point it at the folder holding mnist/ (CI sets it) to "
            "run the real-MNIST training test"
        )
    from course_lib.data import load_mnist

    x_train, y_train = load_mnist("train", progress=False)
    x_test, y_test = load_mnist("test", progress=False)
    return x_train[:10000], y_train[:10000], x_test[:2000], y_test[:2000]


def test_accuracy_on_a_small_real_mnist_subset(mnist_subset) -> None:
    x_train, y_train, x_test, y_test = mnist_subset
    net = SigmoidNet(32, seed=0)
    chance = evaluate(net, x_test, y_test)
    history = train(
        net, x_train, y_train, epochs=2, batch=32, lr=2.0, test=(x_test, y_test), progress=False
    )
    assert chance < 0.3
    assert history.test_accuracy[-1] > 0.85  # 0.891 here: 10,000 images seen twice
    assert history.loss[-1] < 0.6 < history.loss[0]


def test_glorot_refuses_an_integer_dtype() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        glorot_uniform(3, 4, rng, dtype=np.int64)


@pytest.mark.parametrize("dtype", [int, bool, "int8", np.complex64, "banana", object])
def test_weights_only_in_a_float_dtype(dtype):
    net = SigmoidNet(inputs=4, hidden=3, classes=2, seed=0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        net.copy(dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        SigmoidNet(inputs=4, hidden=3, classes=2, seed=0, dtype=dtype)
    assert net.copy(dtype=np.float64).W1.dtype == np.float64


# ---- sizes, counts and batches from a user: refused before anything is allocated ------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden": 10**12}, r"hidden=1000000000000 .* would hold 7\.95e\+14 numbers"),
        ({"inputs": 10**8}, r"inputs=100000000, hidden=100 .*\(40 GB of memory\)"),
        ({"classes": 10**9}, r"classes=1000000000 would hold"),
        ({"hidden": 10**400}, r"hidden=an int of 401 digits"),
    ],
)
def test_a_typod_network_size_is_refused_before_allocating(kwargs, message, monkeypatch) -> None:
    """hidden=10**12 used to ask numpy for 2.79 PiB (MemoryError) or grow until memory ran out."""
    monkeypatch.setattr(np, "empty", _no_allocation)  # glorot_uniform's first array
    with pytest.raises(ValueError, match=message) as caught:
        SigmoidNet(**kwargs)
    assert "is a size mistyped?" in str(caught.value)


def _no_allocation(*args, **kwargs):
    raise AssertionError(f"an array was allocated: np.empty{args}")


def test_the_size_limit_counts_every_weight() -> None:
    # 784·H + H + 10·H + 10 numbers: one hidden unit past the largest H under the limit is
    # refused (the count decides, before any allocation)
    largest = (MAX_ELEMENTS - 10) // (784 + 1 + 10)
    with pytest.raises(ValueError, match="more than this course allows"):
        SigmoidNet(hidden=largest + 1)
    assert SigmoidNet(hidden=3, seed=np.int64(2)).hidden == 3  # NumPy integers pass
    assert SigmoidNet(hidden=np.int32(3), inputs=np.uint16(4)).inputs == 4
    with pytest.raises(
        ValueError, match=r"glorot_uniform: a weight matrix .* 100000 × 100000 would hold"
    ):
        glorot_uniform(10**5, 10**5, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"depth": 10**7}, ValueError, f"depth must be at most {MAX_DEPTH}, got 10000000"),
        ({"depth": 3, "width": 10**6}, ValueError, r"width 1000000 .*\(48 TB of memory\)"),
        ({"depth": 3, "batch": 10**9}, ValueError, "batch 1000000000 .* is a size mistyped"),
        ({"depth": 3, "init_scale": 10**400}, ValueError, "init_scale is an int of 401 digits"),
        ({"depth": 3, "init_scale": float("inf")}, ValueError, "init_scale must be a finite"),
        ({"depth": 3, "init_scale": -1.0}, ValueError, "init_scale must be a positive number"),
        ({"depth": 3, "init_scale": "1"}, TypeError, "init_scale must be a number, got the text"),
        ({"depth": 3, "seed": -1}, ValueError, "seed must be 0 or more, got -1"),
        ({"depth": 3, "seed": 1.5}, TypeError, r"seed must be a whole number \(an int\)"),
        ({"depth": 3.0}, TypeError, "depth must be a whole number .* write 3"),
        ({"depth": 3, "activation": ["relu"]}, ValueError, "activation must be one of"),
    ],
)
def test_layer_gradient_norms_refuses_bad_settings_with_a_sentence(kwargs, error, message):
    """depth=10**7 or width=10**6 used to run out of memory; seed=-1 gave numpy's text, and
    init_scale=10**400 an OverflowError."""
    with pytest.raises(error, match=f"^layer_gradient_norms: .*{message}"):
        layer_gradient_norms(**kwargs)


def test_layer_gradient_norms_takes_numpy_integers() -> None:
    plain = layer_gradient_norms(3, "tanh", 0.7, width=4, batch=2, seed=5)
    numpy = layer_gradient_norms(
        np.int64(3), "tanh", np.float32(0.7), width=np.int8(4), batch=np.uint8(2), seed=np.int64(5)
    )
    np.testing.assert_allclose(numpy, plain, rtol=1e-6)


@pytest.mark.parametrize(
    ("test", "error", "message"),
    [
        (5, TypeError, r"test must be a pair \(images, labels\), .*got 5 \(int\)"),
        ("xy", TypeError, r"test must be a pair .*got 'xy' \(str\)"),
        ((np.zeros((2, 4)),), TypeError, "test must be a pair .*got a tuple of 1 items"),
        ((np.zeros((2, 4)), [0]), ValueError, r"in test=\(images, labels\): labels must have"),
        ((np.zeros((2, 5)), [0, 1]), ValueError, r"in test=\(images, labels\): .*shape \(N, 4\)"),
        ((np.zeros((0, 4)), []), ValueError, "the test set is empty"),
    ],
)
def test_a_bad_test_set_is_refused_before_training(test, error, message) -> None:
    """train(test=5) used to fail with "'int' object is not subscriptable" (and an empty test
    set only after the first epoch's training)."""
    images, labels = _set()
    net = SigmoidNet(3, inputs=4, classes=3)
    before = net.W1.data.copy()
    with pytest.raises(error, match=f"^train: {message}"):
        train(net, images, labels, test=test, progress=False)
    np.testing.assert_array_equal(net.W1.data, before)


@pytest.mark.parametrize("labels", [[], np.zeros(0), np.zeros(0, int), ()])
def test_an_empty_batch_is_named_as_such(labels) -> None:
    """net.loss on an empty batch used to blame the labels' dtype (an empty list is float64)."""
    net = SigmoidNet(3, inputs=4, classes=3)
    with pytest.raises(ValueError, match=r"the batch is empty \(logits of shape \(0, 3\)\)"):
        net.loss(np.zeros((0, 4)), labels)
    with pytest.raises(ValueError, match="the batch is empty"):  # the fused loss node says it
        net.trace(np.zeros((0, 4)), labels)
    with pytest.raises(ValueError, match="no images to evaluate"):
        evaluate(net, np.zeros((0, 4)), labels)
    assert net.as_labels(labels, 0).dtype == np.int64


def test_an_sgd_step_whose_learning_rate_overflows_the_weights_says_so():
    """lr=1e308 left every weight inf without a word (train noticed only at the epoch's end)."""
    rng = np.random.default_rng(0)
    net = SigmoidNet(hidden=3, inputs=4, classes=3)
    images, labels = rng.uniform(0, 1, (6, 4)).astype(np.float32), rng.integers(0, 3, 6)
    stopped = r"learning rate 1e\+308 passed the largest float at the weight W1"
    with pytest.raises(OverflowError, match=stopped):
        sgd_step(net, images, labels, 1e308)
    with np.errstate(over="ignore"):  # inside train's silenced warnings too
        with pytest.raises(OverflowError, match=stopped):
            sgd_step(SigmoidNet(hidden=3, inputs=4, classes=3), images, labels, 1e308)


def test_the_weight_named_by_an_overflowing_step_is_the_one_whose_step_overflowed():
    """One errstate covers every weight's step; the weight named is the first whose grad is
    still set (the steps before it set theirs to None), not the first of the network."""
    from types import SimpleNamespace

    from course_lib.network.validation import overflow_named

    huge = np.full(2, 3e38, np.float32)
    params = [
        SimpleNamespace(label="W1", grad=None),  # its step is done
        SimpleNamespace(label="b1", grad=huge.copy()),
        SimpleNamespace(label="W2", grad=huge.copy()),
    ]
    with pytest.raises(OverflowError, match=r"learning rate 10 passed .* at the weight b1 "):
        with overflow_named(params, 10.0):
            params[1].grad *= 10.0
    with overflow_named(params, 0.5):  # a finite step raises nothing
        params[2].grad *= 0.5
    assert np.isfinite(params[2].grad).all()


def test_a_network_that_is_not_one_and_a_schedule_of_the_wrong_length_are_named():
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (6, 4)).astype(np.float32), rng.integers(0, 3, 6)
    with pytest.raises(TypeError, match="train: net must be a SigmoidNet"):
        train(None, images, labels, progress=None)
    with pytest.raises(TypeError, match="evaluate: net must be a SigmoidNet"):
        evaluate("net", images, labels)
    net = SigmoidNet(hidden=3, inputs=4, classes=3)
    with pytest.raises(ValueError, match="2 learning rates for 1 epochs; give one number"):
        train(net, images, labels, lr=[0.5, 0.1], progress=None)
    with pytest.raises(TypeError, match="rng must be a numpy random Generator"):
        glorot_uniform(3, 4, 5)


def test_the_plain_pixel_test_takes_a_list_and_names_what_is_not_an_array():
    from course_lib.network import pixels_in_unit_range

    assert pixels_in_unit_range([0.5, 1.0]) and not pixels_in_unit_range([2.0])
    with pytest.raises(TypeError, match="needs an array of pixel values, got NoneType"):
        pixels_in_unit_range(None)
