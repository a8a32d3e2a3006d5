"""Two moons: a small 2-D data set two classes of which no straight line can separate.

Made with numpy from a seed (nothing is downloaded): each point picks a moon at random, an angle
t uniform in [0, π], and sits on that moon's half circle, moved by Gaussian noise:

* the upper moon (label +1): (cos t, sin t), the arc of the unit circle above its centre (0, 0);
* the lower moon (label −1): (1 − cos t, 1/2 − sin t), the same arc turned over and shifted
  right by 1 and down by 1/2, so that each moon's tip reaches into the other's hollow.

Finally both coordinates are standardised (mean 0, standard deviation 1 over the set), the scale
at which a small tanh network learns fastest. Notebook 10 trains its own engine's MLP on it.
"""

from __future__ import annotations

import numpy as np

from course_lib.numbers.checking import check_size, real_number, whole_number

__all__ = ["MAX_POINTS", "two_moons"]

MAX_POINTS = 1_000_000  # far more than a pure-Python engine can train on; a typo's guard


def two_moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of two interleaved half-moons: ``(X, y)``.

    ``X`` has shape (n, 2), float64, standardised per column (mean 0, standard deviation 1);
    ``y`` has shape (n,), float64, +1.0 for the upper moon and −1.0 for the lower one (the
    targets of a tanh output). ``noise`` is the standard deviation of the Gaussian added to
    each coordinate before standardising (0 puts every point on its arc); the same ``seed``
    gives the same points. ``n`` must be at least 2 (a standard deviation needs two points).
    """
    where = "two_moons"
    n = whole_number(n, "n", where, minimum=2, maximum=MAX_POINTS)
    noise = real_number(noise, "noise", where)
    if noise < 0:
        raise ValueError(f"{where}: noise is a standard deviation, so 0 or more; got {noise}")
    seed = whole_number(seed, "seed", where, minimum=0)
    check_size(2 * n, "X, n × 2 coordinates", where)
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, np.pi, n)
    upper = rng.random(n) < 0.5
    points = np.where(
        upper[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    points += rng.normal(0.0, noise, size=(n, 2))
    spread = points.std(axis=0)
    spread[spread == 0.0] = 1.0  # all points on one line: nothing to scale in that column
    X = (points - points.mean(axis=0)) / spread
    y = np.where(upper, 1.0, -1.0)
    return X, y
