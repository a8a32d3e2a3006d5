"""Notebook 03 (tensors and broadcasting): its hand exercises.

Every expected number is read off the engine's graph, built exactly as the notebook builds it
(a bias add, an outer product by broadcasting, a 2 x 2 matrix product), and every expected set
of axes comes from :func:`course_lib.tensor.broadcast_axes`.
"""

from __future__ import annotations

import numpy as np

from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip
from course_lib.tensor import Tensor, broadcast_axes

# The bias add Y = X + b with upstream G (the notebook's numbers).
BIAS_X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
BIAS_B = [20.0, 30.0, 40.0]
BIAS_G = [[2.0, -1.0, 3.0], [5.0, 0.0, 1.0]]

# The outer product Z = x * y of a column (3, 1) and a row (1, 4), L = sum of Z.
OUTER_X = [[-2.0], [3.0], [5.0]]
OUTER_Y = [[1.0, 2.0, 3.0, 4.0]]

# The matrix product Y = X W with upstream G.
MATMUL_X = [[1.0, 2.0], [3.0, 4.0]]
MATMUL_W = [[5.0, 6.0], [7.0, 8.0]]
MATMUL_G = [[1.0, -1.0], [2.0, 0.0]]

# Which axes: a + b and a + c (shapes before the broadcast, and the result's).
AXES_A = ((2, 4, 1), (2, 4, 3))
AXES_B = ((1, 3), (2, 4, 3))
AXES_C = ((4, 1), (2, 4, 1))

AXES_RULE = (
    "line the shapes up from the right; sum over every axis of the result that the input "
    "lacks (added) and every axis where the input has size 1 and the result does not "
    "(expanded), numbered in the result."
)


def bias_graph() -> tuple[Tensor, Tensor, Tensor, np.ndarray]:
    """X, b, Y = X + b after ``Y.backward(G)``, and G."""
    X, b = Tensor(BIAS_X, label="X"), Tensor(BIAS_B, label="b")
    Y = (X + b).named("Y")
    G = np.array(BIAS_G)
    Y.backward(G)
    return X, b, Y, G


def outer_graph() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """x, y, Z = x * y, L = sum of Z, after ``L.backward()``."""
    x, y = Tensor(OUTER_X, label="x"), Tensor(OUTER_Y, label="y")
    Z = (x * y).named("Z")
    L = Z.sum().named("L")
    L.backward()
    return x, y, Z, L


def matmul_graph() -> tuple[Tensor, Tensor, Tensor, np.ndarray]:
    """X, W, Y = X @ W after ``Y.backward(G)``, and G."""
    X, W = Tensor(MATMUL_X, label="X"), Tensor(MATMUL_W, label="W")
    Y = (X @ W).named("Y")
    G = np.array(MATMUL_G)
    Y.backward(G)
    return X, W, Y, G


def summed(shape: tuple[int, ...], result: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``result`` that backward sums over for an input of ``shape``."""
    added, expanded = broadcast_axes(shape, result)
    return added + expanded


def _bias() -> HandExercise:
    X, b, Y, G = bias_graph()
    return HandExercise(
        key="broadcasting.dL_db0",
        name="dL/db0",
        expected=b.grad[0],
        look="b0 is copied into every row of column 0 of Y: find each use of b0 in the picture "
        "of the broadcast, and add up what each use passes back.",
        rule="dL/db0 = Σ_n G_n0 · ∂Y_n0/∂b0, and ∂Y_n0/∂b0 = 1 (add passes the upstream on).",
        slips=(
            Slip(
                G[0].sum(),
                "That sums along row 0, across the classes (axis 1). b0 lives in column 0: "
                "sum down that column, over the rows (axis 0).",
            ),
            Slip(
                G.sum(),
                "That adds every entry of G, the uses of all three biases; b0 gets only the "
                "uses in its own column, column 0.",
            ),
        ),
        local=1.0,
        paths=tuple(float(g) for g in G[:, 0]),
        values=(
            (b.data[0], "b0's own value"),
            (Y.data[0, 0] + Y.data[1, 0], "the sum of Y00 and Y10, the outputs b0 feeds"),
        ),
    )


def _outer() -> HandExercise:
    x, y, Z, L = outer_graph()
    return HandExercise(
        key="broadcasting.dL_dx0",
        name="dL/dx0",
        expected=x.grad[0, 0],
        look="x0 is used in the four entries of row 0 of Z. Each use passes back the upstream "
        "(1, since L is a plain sum) times its local partial ∂Z_0j/∂x0: add the four.",
        rule="dL/dx0 = Σ_j 1 · ∂Z_0j/∂x0, and ∂(x0 · y_j)/∂x0 = y_j.",
        slips=(
            Slip(
                y.grad[0, 0],
                "That is the sum of the x_i, y's gradient (each y_j is used by the three "
                "rows); for x0 the local partials are the y_j.",
            ),
        ),
        paths=tuple(float(v) for v in y.data[0]),
        values=(
            (Z.data[0].sum(), "the sum of row 0 of Z"),
            (L.data, "L itself"),
            (x.data[0, 0], "x0's own value"),
        ),
    )


def _matmul() -> HandExercise:
    X, W, Y, G = matmul_graph()
    x, g = X.data, G
    return HandExercise(
        key="broadcasting.dL_dW00",
        name="dL/dW00",
        expected=W.grad[0, 0],
        look="W00 appears in Y00 (times X00) and in Y10 (times X10): multiply each use's "
        "upstream by its local partial, and add the two.",
        rule="dL/dW00 = G00 · X00 + G10 · X10 = (Xᵀ G)00.",
        slips=(
            Slip(
                g[0, 0] * x[0, 0],
                "That is one use of W00 only, the one in Y00 (G00 · X00); W00 also feeds Y10, "
                "times X10.",
            ),
            Slip(
                g[1, 0] * x[1, 0],
                "That is one use of W00 only, the one in Y10 (G10 · X10); add the use in Y00, "
                "G00 · X00.",
            ),
            Slip(
                (x @ g)[0, 0],
                "That is (X G)00, which has the right shape, but the transpose is missing (it "
                "is also W00's own value).",
            ),
            Slip(
                (g @ W.data.T)[0, 0],
                "That is (G Wᵀ)00, the gradient of X00, not of W00.",
            ),
        ),
        paths=(g[0, 0] * x[0, 0], g[1, 0] * x[1, 0]),
        values=((Y.data[0, 0], "Y00"),),
    )


def _axes() -> list[AxesExercise]:
    return [
        AxesExercise(
            key="broadcasting.axes_a",
            name="axes for a",
            expected=summed(*AXES_A),
            ndim=3,
            look="Write a's shape (2, 4, 1) under the result's (2, 4, 3) and compare the sizes "
            "axis by axis: an axis is summed where the result is bigger than a.",
            rule=AXES_RULE,
            slips=(
                Slip(
                    (),
                    "a has all three axes, so none was added; but compare its sizes with the "
                    "result's axis by axis: where a has size 1 and the result does not, each "
                    "entry of a was copied.",
                ),
                Slip(
                    (0, 1),
                    "Those are the axes where a already has the result's size: nothing was "
                    "copied along them. Sum over the axes along which a was copied.",
                ),
                Slip(
                    (0,), "Axis 0 has size 2 in a and in the result: nothing was copied along it."
                ),
                Slip(
                    (1,), "Axis 1 has size 4 in a and in the result: nothing was copied along it."
                ),
                Slip(
                    (0, 2),
                    "Axis 0 has size 2 in a and in the result: nothing was copied along it, so "
                    "it is not summed.",
                ),
                Slip(
                    (1, 2),
                    "Axis 1 has size 4 in a and in the result: nothing was copied along it, so "
                    "it is not summed.",
                ),
            ),
        ),
        AxesExercise(
            key="broadcasting.axes_b",
            name="axes for b",
            expected=summed(*AXES_B),
            ndim=3,
            look="Line b's shape up under the result's from the right, (1, 3) under the last two "
            "axes of (2, 4, 3), and compare axis by axis, in the result's numbering.",
            rule=AXES_RULE,
            slips=(
                Slip(
                    (0,),
                    "That is the added leading axis only (or b's size-1 axis, counted in b's "
                    "own numbering): b's size-1 axis was copied too. Line the shapes up from the "
                    "right to see which axis of the result it sits under.",
                ),
                Slip(
                    (1,),
                    "That is the expanded axis only: b has two axes and the result three, and "
                    "the axis the broadcast added in front is summed too (and then dropped).",
                ),
                Slip(
                    (0, 2),
                    "Axis 2 has size 3 in b and in the result: nothing was copied along it. "
                    "Axes are numbered in the result: find which of its axes b's size-1 axis "
                    "sits under.",
                ),
                Slip(
                    (0, 1, 2),
                    "Summing all three axes leaves one number, but b has 3 entries: its axis "
                    "of size 3 was not copied along.",
                ),
                Slip(
                    (1, 2),
                    "Axis 2 has size 3 in b and in the result: nothing was copied along it. "
                    "And b has fewer axes than the result: look at the one it lacks.",
                ),
            ),
        ),
        AxesExercise(
            key="broadcasting.axes_c",
            name="axes for c",
            expected=summed(*AXES_C),
            ndim=3,
            look="Line c's shape up under the result's from the right, (4, 1) under the last two "
            "axes of (2, 4, 1): which axis does c lack, and did any of its size-1 axes grow?",
            rule=AXES_RULE,
            slips=(
                Slip(
                    (),
                    "c has two axes and the result three: a leading axis was added, and every "
                    "entry of c is used once along it for each of a[0] and a[1].",
                ),
                Slip(
                    (0, 2),
                    "c's size-1 axis sits under the result's axis 2, which has size 1 as well: "
                    "nothing was copied along it, so there is nothing to sum there.",
                ),
                Slip(
                    (2,),
                    "The result's axis 2 has size 1: nothing was copied along it. Look for an "
                    "axis of the result that c does not have at all.",
                ),
                Slip(
                    (1,), "Axis 1 has size 4 in c and in the result: nothing was copied along it."
                ),
                Slip(
                    (0, 1),
                    "Axis 1 has size 4 in c and in the result: nothing was copied along it, so "
                    "it is not summed.",
                ),
            ),
        ),
    ]


def exercises() -> list[HandExercise | AxesExercise]:
    return [_bias(), _outer(), *_axes(), _matmul()]
