"""The capstone network (course_lib.network.capstone): its numpy forward pass and its Tensor
twin agree node by node, the engine's gradients agree with finite differences in float64, and
SGD with any gradient function is reproducible and refuses what it cannot use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from course_lib.network.capstone import (
    EPS,
    INTERMEDIATES,
    PARAMETERS,
    CapstoneRun,
    accuracy,
    engine_gradients,
    engine_parameter_gradients,
    forward,
    forward_graph,
    init_parameters,
    train_capstone,
)
from course_lib.teaching.capstone_cases import random_network

sizes = st.tuples(
    st.integers(1, 5), st.integers(1, 6), st.integers(2, 5), st.integers(2, 4)
)  # N, D, H, C


@settings(max_examples=30, deadline=None)
@given(sizes, st.integers(0, 2**16))
def test_the_numpy_forward_and_the_graph_compute_the_same_values(size, seed):
    X, labels, params = random_network(np.random.default_rng(seed), *size)
    f = forward(X, labels, params)
    nodes = forward_graph(X, labels, params)
    for name in (*INTERMEDIATES, "loss"):
        np.testing.assert_allclose(nodes[name].data, f[name], rtol=1e-12, atol=1e-14)
    assert set(f) >= {"X", "labels", "eps", *PARAMETERS, *INTERMEDIATES, "loss"}


def _loss(X, labels, params):
    return float(forward(X, labels, params)["loss"])


@settings(max_examples=12, deadline=None)
@given(sizes, st.integers(0, 2**16))
def test_the_engines_weight_gradients_match_central_differences(size, seed):
    X, labels, params = random_network(np.random.default_rng(seed), *size)
    grads = engine_parameter_gradients(X, labels, params)
    h = 1e-6
    for name in PARAMETERS:
        numeric = np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            nudged = {k: v.copy() for k, v in params.items()}
            nudged[name][index] += h
            up = _loss(X, labels, nudged)
            nudged[name][index] -= 2 * h
            down = _loss(X, labels, nudged)
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads["d" + name], numeric, rtol=1e-5, atol=1e-8)


# How each intermediate follows from the ones before it (the forward code, line by line).
RECOMPUTE = {
    "mu": lambda v: v["a"].mean(axis=1, keepdims=True),
    "c": lambda v: v["a"] - v["mu"],
    "var": lambda v: (v["c"] ** 2).mean(axis=1, keepdims=True),
    "inv_std": lambda v: (v["var"] + EPS) ** -0.5,
    "a_hat": lambda v: v["c"] * v["inv_std"],
    "n": lambda v: v["gain"] * v["a_hat"] + v["shift"],
    "h": lambda v: np.tanh(v["n"]),
    "z": lambda v: v["h"] @ v["W2"] + v["b2"],
    "z_max": lambda v: v["z"].max(axis=1, keepdims=True),
    "shifted": lambda v: v["z"] - v["z_max"],
    "e": lambda v: np.exp(v["shifted"]),
    "e_sum": lambda v: v["e"].sum(axis=1, keepdims=True),
    "log_p": lambda v: v["shifted"] - np.log(v["e_sum"]),
}


@settings(max_examples=12, deadline=None)
@given(sizes, st.integers(0, 2**16))
@example((1, 6, 2, 2), 21)  # a layer norm over two units: its gradient at a is about 3e-6
def test_each_intermediates_gradient_matches_a_nudge_of_that_value(size, seed):
    """Nudge one intermediate, recompute every line after it, and compare the loss's change
    with the engine's gradient there (a few entries of every intermediate)."""
    X, labels, params = random_network(np.random.default_rng(seed), *size)
    f, g = engine_gradients(X, labels, params)

    def loss_with(name, value):
        v = {**f, name: value}
        for later in INTERMEDIATES[INTERMEDIATES.index(name) + 1 :]:
            v[later] = RECOMPUTE[later](v)
        return -v["log_p"][np.arange(len(labels)), labels].mean()

    for name in INTERMEDIATES:
        for index in list(np.ndindex(f[name].shape))[:3]:
            # a step relative to the value: var can be tiny, and (var + ε)^(-1/2) is steep there
            h = 1e-6 * max(abs(f[name][index]), 1e-2)
            up, down = f[name].copy(), f[name].copy()
            up[index] += h
            down[index] -= h
            loss_up, loss_down = loss_with(name, up), loss_with(name, down)
            numeric = (loss_up - loss_down) / (2 * h)
            # Rounding: each loss is off by a few ulps, and the difference divides that by 2h
            # (h = 1e-8 for a value near 0, where 8 ulps of a loss of 0.7 make 9e-8).
            rounding = 8 * np.spacing(max(abs(loss_up), abs(loss_down))) / (2 * h)
            expected = g["d" + name][index]
            assert numeric == pytest.approx(expected, rel=1e-5, abs=1e-8 + rounding), name


def test_init_parameters_are_glorot_for_the_weights_ones_and_zeros_for_the_rest():
    p = init_parameters(784, 64, 10, seed=0)
    assert {k: v.shape for k, v in p.items()} == {
        "W1": (784, 64),
        "b1": (64,),
        "gain": (64,),
        "shift": (64,),
        "W2": (64, 10),
        "b2": (10,),
    }
    assert all(v.dtype == np.float64 for v in p.values())
    assert np.abs(p["W1"]).max() <= np.sqrt(6 / (784 + 64))
    assert (p["gain"] == 1).all() and not p["b1"].any() and not p["shift"].any()
    assert np.array_equal(init_parameters(784, 64, 10, seed=0)["W1"], p["W1"])
    with pytest.raises(ValueError, match="at least 2 hidden units"):
        init_parameters(784, 1, 10)
    with pytest.raises(TypeError, match="whole number"):
        init_parameters(784, 6.0, 10)


def test_training_is_reproducible_and_the_same_batches_give_the_same_weights():
    rng = np.random.default_rng(3)
    X, labels, params = random_network(rng, 60, 8, 5, 3)
    common = dict(steps=12, batch=10, lr=0.3, test=(X[:20], labels[:20]), every=4, seed=2)
    one = train_capstone(params, X, labels, engine_parameter_gradients, **common)
    two = train_capstone(params, X, labels, engine_parameter_gradients, **common)
    assert one.steps == [4, 8, 12] and one.loss == two.loss
    for k in PARAMETERS:
        assert np.array_equal(one.params[k], two.params[k])
        assert not np.shares_memory(one.params[k], params[k])  # the start is not changed
    assert one.loss[-1] < one.loss[0]
    assert "12 steps" in repr(one) and repr(CapstoneRun()) == "CapstoneRun(nothing recorded)"
    assert accuracy(one.params, X, labels) == pytest.approx(
        np.mean(forward(X, labels, one.params)["z"].argmax(axis=1) == labels)
    )


def test_training_refuses_a_gradient_of_the_wrong_shape_or_with_nan():
    rng = np.random.default_rng(4)
    X, labels, params = random_network(rng, 20, 4, 3, 2)
    common = dict(steps=2, batch=5, lr=0.1, test=(X, labels))

    def transposed(X, labels, params):
        grads = engine_parameter_gradients(X, labels, params)
        grads["dW1"] = grads["dW1"].T
        return grads

    def nan(X, labels, params):
        grads = engine_parameter_gradients(X, labels, params)
        grads["db2"] = grads["db2"] * np.nan
        return grads

    with pytest.raises(ValueError, match="the gradient dW1 has shape"):
        train_capstone(params, X, labels, transposed, **common)
    with pytest.raises(ValueError, match="db2 .* inf/NaN"):
        train_capstone(params, X, labels, nan, **common)
    with pytest.raises(ValueError, match="lacking dgain, dshift"):
        train_capstone(
            params,
            X,
            labels,
            lambda X, labels, params: {
                k: v
                for k, v in engine_parameter_gradients(X, labels, params).items()
                if k not in ("dgain", "dshift")
            },
            **common,
        )
    with pytest.raises(ValueError, match="returned NoneType"):
        train_capstone(params, X, labels, lambda X, labels, params: None, **common)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        train_capstone(params, X, labels, engine_parameter_gradients, **{**common, "lr": -1.0})
    with pytest.raises(ValueError, match="a batch of 50 needs at least that many"):
        train_capstone(params, X, labels, engine_parameter_gradients, **{**common, "batch": 50})


def test_bad_inputs_get_a_sentence():
    X, labels, params = random_network(np.random.default_rng(5), 4, 3, 2, 2)
    with pytest.raises(ValueError, match="lack gain"):
        engine_gradients(X, labels, {k: v for k, v in params.items() if k != "gain"})
    with pytest.raises(TypeError, match="must be a dict"):
        engine_gradients(X, labels, list(params.values()))
    with pytest.raises(ValueError, match="batch of rows"):
        engine_gradients(X[0], labels, params)
    with pytest.raises(ValueError, match="W1 expects 3 inputs"):
        engine_gradients(X[:, :2], labels, params)
    with pytest.raises(ValueError, match="not a class of this network"):
        engine_gradients(X, labels + 5, params)


def test_the_seed_of_the_backward_pass_is_one_and_every_name_has_a_gradient():
    X, labels, params = random_network(np.random.default_rng(6), 3, 4, 3, 2)
    f, g = engine_gradients(X, labels, params)
    assert g["dloss"] == 1.0
    for name in (*INTERMEDIATES, *PARAMETERS):
        assert np.shape(g["d" + name]) == np.shape(f[name]), name


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"eps": 0.0}, ValueError, "eps .* must be a small positive number"),
        ({"eps": float("nan")}, ValueError, "eps .* must be a finite number"),
        ({"eps": "1e-5"}, TypeError, "got the text '1e-5'"),
        ({"W1": "nan"}, ValueError, "the parameter W1 holds inf or NaN"),
        ({"b2": "short"}, ValueError, "the parameter b2 has shape"),
        ({"X": "empty"}, ValueError, "the batch is empty"),
        ({"X": "nan"}, ValueError, "the images hold inf or NaN|the images holds"),
        ({"labels": None}, ValueError, "labels must have shape"),
    ],
)
def test_the_forward_pass_refuses_what_would_come_back_as_nan(change, error, words):
    """forward took eps=-1, NaN weights and an empty batch and returned NaN intermediates (and
    a NaN loss) without a word; every entry point now goes through the one check."""
    X, labels, params = random_network(np.random.default_rng(3), 4, 3, 2, 2)
    eps = change.get("eps", EPS)
    if change.get("W1") == "nan":
        params = {**params, "W1": np.full_like(params["W1"], np.nan)}
    if change.get("b2") == "short":
        params = {**params, "b2": params["b2"][:1]}
    if change.get("X") == "empty":
        X, labels = X[:0], labels[:0]
    if change.get("X") == "nan":
        X = np.where(X > 0, np.nan, X)
    if "labels" in change:
        labels = change["labels"]
    for call in (forward, forward_graph, engine_gradients):
        with pytest.raises(error, match=words):
            call(X, labels, params, eps)
    if "eps" not in change:
        with pytest.raises(error, match=words):
            accuracy(params, X, labels)


@pytest.mark.parametrize("seed", [-1, 2.5, "0", None, True, float("nan")])
def test_a_bad_seed_is_refused_in_words(seed):
    """init_parameters and train_capstone gave numpy's 'expected non-negative integer' or
    'SeedSequence expects int' text, and seed=None or [] silently drew fresh random weights."""
    with pytest.raises((TypeError, ValueError), match="init_parameters: seed"):
        init_parameters(4, 3, 2, seed=seed)
    X, labels, params = random_network(np.random.default_rng(4), 8, 3, 2, 2)
    with pytest.raises((TypeError, ValueError), match="train_capstone: seed"):
        train_capstone(
            params, X, labels, engine_parameter_gradients,
            steps=2, batch=4, lr=0.1, test=(X, labels), seed=seed,
        )  # fmt: skip


def test_train_capstone_refuses_an_endless_run_a_gradient_that_is_not_a_function_and_no_test():
    from course_lib.network.capstone import MAX_STEPS

    X, labels, params = random_network(np.random.default_rng(4), 8, 3, 2, 2)
    common = dict(steps=2, batch=4, lr=0.1, test=(X, labels))
    with pytest.raises(ValueError, match=f"steps must be at most {MAX_STEPS}, got an int of"):
        train_capstone(
            params, X, labels, engine_parameter_gradients, **{**common, "steps": 10**400}
        )
    with pytest.raises(TypeError, match="gradients must be a function"):
        train_capstone(params, X, labels, None, **common)
    with pytest.raises(TypeError, match="test must be a pair"):
        train_capstone(params, X, labels, engine_parameter_gradients, **{**common, "test": X})
    with pytest.raises(ValueError, match="W1 expects 3 inputs"):
        train_capstone(
            params, X, labels, engine_parameter_gradients, **{**common, "test": (X[:, :2], labels)}
        )
