"""Notebook 09 (layers): its hand exercises.

Layer norm's and the embedding's expected numbers are read off the engine (``layer_norm`` and
``embedding`` on the notebook's inputs, then ``backward()``). The saturation exercise reads a
hidden unit of the MNIST network trained in the notebook; its numbers are stored here, and the
notebook's test holds them to the values the notebook's engine computes.
"""

from __future__ import annotations

import numpy as np

from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip, decimals
from course_lib.tensor import Tensor, embedding, layer_norm

# ---- layer norm: a row of 3 and its upstream gradient ----------------------------------------
ROW = (1.0, 2.0, 3.0)
UPSTREAM = (1.0, -1.0, 2.0)

# ---- embedding: a table of 4 tokens × 2, three positions, token 2 used twice ------------------
TABLE = np.arange(8.0).reshape(4, 2)
TOKENS = (2, 0, 2)
ROWS_UPSTREAM = ((1.0, 2.0), (3.0, 4.0), (10.0, 20.0))
TOKEN = 2  # the row of dL/dW the exercise asks for

# ---- saturation: hidden unit 50 of the trained network on test image 8 (float64 copy) -------
# Stored (they need MNIST training); tests/test_notebook_09.py holds them to the notebook's
# h8[50], dh8[50] and da8[50].
UNIT = 50
H50 = 0.7234689050753573  # h = σ(a), the unit's output
DH50 = 1.9868071440115642  # dL/dh, the sum of its ten downstream paths
DA50 = 0.3974839124118417  # dL/da = dL/dh · h(1 − h), as backward() computes it


def layer_norm_parts() -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(dL/dx, y, s, g) for the notebook's row, from the engine's ``layer_norm``."""
    x = Tensor(np.array(ROW), label="x")
    out = layer_norm(x)
    g = np.array(UPSTREAM)
    out.backward(g)
    s = float(1 / out.ctx[0])  # the engine keeps 1/s per row from the forward pass
    return x.grad, out.data, s, g


def embedding_grad() -> np.ndarray:
    """dL/dW for the notebook's lookup, from the engine's ``embedding``."""
    weights = Tensor(TABLE.copy(), label="W")
    embedding(weights, np.array(TOKENS)).backward(np.array(ROWS_UPSTREAM))
    return weights.grad


def exercises() -> list[HandExercise | AxesExercise]:
    grad, y, s, g = layer_norm_parts()
    mean_g, mean_gy = g.mean(), (g * y).mean()
    bracket = g[0] - mean_g - y[0] * mean_gy  # the rule without its factor 1/s
    dW = embedding_grad()
    ups = np.array(ROWS_UPSTREAM)
    uses = [i for i, t in enumerate(TOKENS) if t == TOKEN]
    other = [i for i, t in enumerate(TOKENS) if t != TOKEN]
    slope = H50 * (1 - H50)
    return [
        HandExercise(
            key="layers.dL_dx0",
            name="dL/dx0",
            expected=grad[0],
            precision=decimals(3),
            look="Put g0, mean(g), y0 and mean(g⊙y) into the rule above: the three terms in the "
            "bracket, then the factor 1/s in front.",
            rule="dL/dx0 = (1/s)·(g0 − mean(g) − y0·mean(g⊙y)).",
            slips=(
                Slip(
                    bracket,
                    "That is the bracket g0 − mean(g) − y0·mean(g⊙y) alone: the factor 1/s in "
                    "front of it is missing.",
                ),
                Slip(
                    bracket * s,
                    "That multiplies the bracket by s; the rule divides it by s (multiplies by "
                    "1/s).",
                ),
                Slip(
                    g[0] / s,
                    "That is g0/s, as if y0 depended on x0 alone: subtract the paths through the "
                    "mean μ and through s.",
                ),
                Slip(
                    (g[0] - mean_g) / s,
                    "That is (g0 − mean(g))/s: the path through s, − y0·mean(g⊙y), is missing.",
                ),
                Slip(
                    (g[0] - y[0] * mean_gy) / s,
                    "That is (g0 − y0·mean(g⊙y))/s: the path through the mean, − mean(g), is "
                    "missing.",
                ),
                Slip(
                    (g[0] - mean_g + y[0] * mean_gy) / s,
                    "The sign of the path through s is off: y0 is negative, so −y0·mean(g⊙y) "
                    "adds to the bracket.",
                ),
                Slip(
                    (1 - 1 / len(ROW) - y[0] * y[0] / len(ROW)) / s,
                    "That is the Jacobian's entry (0, 0) alone: every y_i depends on x0, so "
                    "weight each row's entry by its g_i and add.",
                ),
                Slip(grad[1], "That is dL/dx1, the middle entry; the question asks for entry 0."),
            ),
            upstream=g[0],
            values=((y[0], "y0, the layer's output"), (ROW[0], "x0 itself")),
        ),
        HandExercise(
            key="layers.dW_row2",
            name="row 2 of dL/dW",
            expected=dW[TOKEN],
            look="Find every position whose token is 2; each of them copied row 2 of W, so each "
            "sends its upstream row back to row 2.",
            rule="row t of dL/dW = the sum of the upstream rows of all positions n with "
            "tokens[n] = t.",
            slips=(
                Slip(
                    ups[uses[-1]],
                    "That is the upstream row of the last position holding token 2 only. Token 2 "
                    "is used twice, and the gradients of the uses of one value add up.",
                ),
                Slip(
                    ups[uses[0]],
                    "That is the upstream row of the first position holding token 2 only. Token 2 "
                    "is used twice, and the gradients of the uses of one value add up.",
                ),
                Slip(
                    ups[uses].mean(axis=0),
                    "That averages the uses of token 2. At a join the gradients add: a nudge of "
                    "row 2 moves every position that copied it.",
                ),
                Slip(
                    ups.sum(axis=0),
                    "That adds the upstream rows of every position; only the positions holding "
                    "token 2 copied row 2.",
                ),
                Slip(
                    ups[other[0]],
                    "That is the upstream row of a position holding another token.",
                ),
                Slip(
                    TABLE[TOKEN],
                    "That is row 2 of W itself, a forward value: the question asks for its "
                    "gradient.",
                ),
            ),
        ),
        HandExercise(
            key="layers.dL_da50",
            name="dL/da_50",
            expected=DA50,
            precision=decimals(3),
            look="Sigmoid's local partial is written with its own output: work out h(1 − h) for "
            "unit 50, then multiply the upstream dL/dh by it.",
            rule="dL/da = dL/dh · σ'(a), and σ'(a) = h(1 − h).",
            slips=(
                Slip(DH50 * H50, "That multiplies by h only; the slope is h(1 − h)."),
                Slip(DH50 * (1 - H50), "That multiplies by 1 − h only; the slope is h(1 − h)."),
                Slip(
                    DH50 / slope,
                    "That divides by the slope; the chain rule multiplies by it.",
                ),
            ),
            local=slope,
            upstream=DH50,
            values=((H50, "h, the unit's output"),),
        ),
    ]
