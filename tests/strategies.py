"""Hypothesis strategies shared by the tests: shapes, broadcast pairs, arrays, matmul shapes.

Import them in any test module: ``from strategies import broadcast_shape_pairs, arrays``
(pytest puts ``tests/`` on the path). Sizes stay small (sides 1..4, up to 3 axes) so that
finite-difference checks over every element run quickly; 0-d shapes ``()`` are included.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "arrays",
    "away_from_zero_arrays",
    "broadcast_shape_pairs",
    "distinct_arrays",
    "matmul_shape_pairs",
    "positive_arrays",
    "shapes",
]

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims``..``max_dims`` axes of size 1..``max_side`` (``()`` too)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def broadcast_shape_pairs(
    max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs of shapes that broadcast together: with added leading axes, size-1 axes that
    expand, and 0-d shapes among them."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda shapes: shapes.input_shapes)


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape: Shape, low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with entries in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=_floats(low, high))


def positive_arrays(
    shape: Shape, low: float = 0.2, high: float = 3.0
) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays with entries in [low, high], low > 0 (for log, square roots)."""
    return arrays(shape, low, high)


def away_from_zero_arrays(
    shape: Shape, low: float = 0.2, high: float = 2.0
) -> st.SearchStrategy[np.ndarray]:
    """Entries with low <= |x| <= high, either sign: divisors, and inputs kept off the kink
    of relu at 0 (where a finite difference straddles two slopes)."""
    magnitude = _floats(low, high)
    signed = st.tuples(magnitude, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
    return hnp.arrays(np.float64, shape, elements=signed)


def distinct_arrays(shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """Entries that differ pairwise by at least 0.1 (no ties for ``max``, and no near-ties a
    finite difference could flip): multiples of 0.1 drawn without repeats, plus 0.013."""
    size = int(np.prod(shape, dtype=int))
    return st.lists(st.integers(-40, 40), min_size=size, max_size=size, unique=True).map(
        lambda ints: (np.array(ints, dtype=np.float64) * 0.1 + 0.013).reshape(shape)
    )


@st.composite
def matmul_shape_pairs(draw: st.DrawFn, max_side: int = 4) -> tuple[Shape, Shape]:
    """Shapes for ``a @ b``: matrices, a vector on either side or both, and batches whose
    batch axes broadcast (for example (2, 1, 3, 4) @ (5, 4, 2))."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    batch_a, batch_b = draw(broadcast_shape_pairs(max_dims=2, max_side=3))
    a = (k,) if draw(st.booleans()) and not batch_a else (*batch_a, n, k)
    b = (k,) if draw(st.booleans()) and not batch_b else (*batch_b, k, m)
    return a, b
