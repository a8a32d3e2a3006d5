"""course_lib.data.moons: two interleaved half-moons made from a seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.data import two_moons


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 300), noise=st.floats(0.0, 0.5), seed=st.integers(0, 2**32))
def test_shapes_labels_and_standardised_columns(n, noise, seed):
    X, y = two_moons(n, noise, seed)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == y.dtype == np.float64
    assert set(np.unique(y)) <= {-1.0, 1.0}
    assert np.allclose(X.mean(axis=0), 0.0, atol=1e-9)
    std = X.std(axis=0)
    assert np.all(np.isclose(std, 1.0) | np.isclose(std, 0.0))


def test_the_same_seed_gives_the_same_points_and_another_seed_others():
    a, b, c = two_moons(50, 0.1, 3), two_moons(50, 0.1, 3), two_moons(50, 0.1, 4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_without_noise_each_point_lies_on_its_moon():
    X, y = two_moons(200, 0.0, 0)
    # Undo the standardisation with the raw points' statistics, which the arcs fix.
    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, np.pi, 200)
    upper = rng.random(200) < 0.5
    raw = np.where(
        upper[:, None],
        np.stack([np.cos(t), np.sin(t)], 1),
        np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1),
    )
    assert np.allclose(X * raw.std(axis=0) + raw.mean(axis=0), raw)
    assert np.array_equal(y, np.where(upper, 1.0, -1.0))
    centres = np.where(upper[:, None], [0.0, 0.0], [1.0, 0.5])
    assert np.allclose(np.hypot(*(raw - centres).T), 1.0)


def test_no_straight_line_separates_the_moons():
    X, y = two_moons(400, 0.05, 1)
    # Least squares is the best linear separator in the squared sense; it still misclassifies.
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.mean(np.sign(A @ w) != y) > 0.05


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n": 1}, ValueError, "n must be an int >= 2"),
        ({"n": 2.5}, TypeError, "n must be a whole number"),
        ({"n": 10**9}, ValueError, "at most"),
        ({"n": 10, "noise": -0.1}, ValueError, "noise is a standard deviation"),
        ({"n": 10, "noise": float("nan")}, ValueError, "finite"),
        ({"n": 10, "noise": "0.1"}, TypeError, "without quotes"),
        ({"n": 10, "seed": -1}, ValueError, "seed must be 0 or more"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        two_moons(**kwargs)
