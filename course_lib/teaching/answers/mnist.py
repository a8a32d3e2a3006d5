"""Notebook 07 (MNIST fan-out): one hidden unit of the trained network, taken apart by hand.

The numbers come from the network the notebook trains (784-100-10, seed 0, three epochs), for
test image 8 and hidden unit 75, copied to float64. Training takes tens of seconds, too long
to repeat on every import, so the few numbers the exercises need are stored here: the ten path
contributions W2[75, k]·(p_k − y_k), the unit's output h_75 and the weight W2[75, 5] to the true
class. Every expected value and every slip is computed from them. ``tests/test_notebook_07.py``
holds each stored number to what the notebook's engine computes.
"""

from __future__ import annotations

import math

from course_lib.teaching.hand_exercise import HandExercise, Slip, decimals

IMAGE, UNIT, LABEL = 8, 75, 5  # test image 8 is a 5; the network takes it for a 6
PREDICTED = 6

# W2[75, k]·(p_k − y_k) for k = 0..9: the ten paths from h_75 to the loss (engine, float64).
PATHS = (
    0.00068384,
    0.00006643,
    0.01857575,
    -0.00031852,
    0.01526953,
    1.66317145,
    -0.53814063,
    0.00000075,
    -0.00065640,
    0.00026686,
)
H_75 = 0.43011758  # σ(a_75), the unit's output for image 8
W2_TRUE = -1.90881622  # W2[75, 5], the weight from unit 75 to the true class's logit

ADD_EVERY_ROW = "Unit 75 feeds all ten outputs: add every row's product."
DROPPED_SIGN = (
    "That drops a minus sign: some rows' products are negative (the row k = 6 most of all), "
    "and a negative path pulls the sum down."
)


def dL_dh() -> float:
    """∂L/∂h_75: the ten paths summed at the join."""
    return math.fsum(PATHS)


def sigma_prime() -> float:
    """σ'(a_75) = h_75 (1 − h_75), the sigmoid's local partial."""
    return H_75 * (1.0 - H_75)


def dL_da() -> float:
    """∂L/∂a_75 = ∂L/∂h_75 · σ'(a_75)."""
    return dL_dh() * sigma_prime()


def exercises() -> list[HandExercise]:
    dh, da, slope = dL_dh(), dL_da(), sigma_prime()
    return [
        HandExercise(
            key="mnist.dL_dh",
            name="dL/dh_75",
            expected=dh,
            precision=decimals(3),
            look="Add the ten numbers of the table's product column, each with its sign.",
            rule="∂L/∂h_75 = Σ_k W2[75, k]·(p_k − y_k): one path per output, summed at the join.",
            slips=(
                Slip(-dh, "The sign is flipped: look at the sign of the largest product, k = 5."),
                Slip(
                    PATHS[LABEL],
                    "That is the row k = 5 alone, the path through the true class. "
                    + ADD_EVERY_ROW,
                ),
                Slip(
                    PATHS[PREDICTED],
                    "That is the row k = 6 alone, the path through the class the network "
                    "picked. " + ADD_EVERY_ROW,
                ),
                Slip(PATHS[2], "That is the row k = 2 alone. " + ADD_EVERY_ROW),
                Slip(PATHS[4], "That is the row k = 4 alone. " + ADD_EVERY_ROW),
                Slip(
                    0.0,
                    "Zero would mean the loss does not move when h_75 is nudged. Most rows are "
                    "close to zero, but not all of them: add every row's product.",
                ),
                Slip(
                    dh + W2_TRUE,  # Σ_k W2[75, k]·p_k
                    "That is the sum of W2[75, k]·p_k: the −y_k is missing. The upstream at "
                    "logit k is p_k − y_k, so the true class's row uses p_5 − 1.",
                ),
                Slip(dh - 2 * PATHS[PREDICTED], DROPPED_SIGN),
                Slip(math.fsum(abs(path) for path in PATHS), DROPPED_SIGN),
                Slip(
                    da,
                    "That is already multiplied by σ'(a_75): it is ∂L/∂a_75, the next step. "
                    "∂L/∂h_75 stops at the sum.",
                ),
            ),
            paths=PATHS,  # one path alone, and the average of the ten (a tenth of the sum)
            values=((H_75, "h_75, the unit's output"),),
        ),
        HandExercise(
            key="mnist.dL_da",
            name="dL/da_75",
            expected=da,
            precision=decimals(3),
            look="Multiply ∂L/∂h_75 by the sigmoid's local partial h_75(1 − h_75), with h_75 as "
            "printed above.",
            rule="∂L/∂a_75 = ∂L/∂h_75 · σ'(a_75), and σ'(a_75) = h_75 (1 − h_75).",
            slips=(
                Slip(
                    slope,
                    "That is σ'(a_75) = h_75(1 − h_75) alone, the sigmoid's local partial: "
                    "multiply it by the upstream gradient ∂L/∂h_75.",
                ),
                Slip(
                    dh,
                    "That is ∂L/∂h_75 itself, the upstream gradient: multiply it by the sigmoid's "
                    "local partial h_75(1 − h_75) to pass through the sigmoid.",
                ),
                Slip(
                    dh * H_75,
                    "That multiplies by h_75 = σ(a_75). The local partial is the slope "
                    "σ'(a_75) = h_75(1 − h_75).",
                ),
                Slip(
                    dh * (1.0 - H_75),
                    "That multiplies by 1 − h_75 only; σ'(a_75) = h_75(1 − h_75).",
                ),
                Slip(
                    dh / slope,
                    "That divides by σ'(a_75). Walking back through a node multiplies by its "
                    "local partial.",
                ),
            ),
            local=slope,
            upstream=dh,
            values=((H_75, "h_75, the unit's output"),),
        ),
    ]
