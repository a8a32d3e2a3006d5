"""Notebook 05 (softmax couples everything): row 0 of the softmax Jacobian at z = (1, 2, 3).

The expected row is what reverse mode gives: the notebook's graph p = softmax(z), run backward
with the one-hot upstream e_0, leaves e_0ᵀJ = row 0 of J in z.grad. Each slip's row is built
from the same p (and, for "row 1", from the library's dense Jacobian).
"""

from __future__ import annotations

import numpy as np

from course_lib.kernels import softmax_jacobian
from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip, decimals
from course_lib.tensor import Tensor, softmax

LOGITS = (1.0, 2.0, 3.0)


def graph() -> tuple[Tensor, Tensor]:
    """The notebook's z and p = softmax(z), after ``p.backward(e_0)``: z.grad is row 0 of J."""
    z = Tensor(list(LOGITS), label="z")
    p = softmax(z).named("p")
    p.backward(np.eye(len(LOGITS))[0])
    return z, p


def exercises() -> list[HandExercise | AxesExercise]:
    z, p = graph()
    pv = p.data
    one_hot = np.eye(pv.size)[0]
    diagonal = pv * (1 - pv)  # p_j (1 − p_j) for every j: the diagonal of J
    return [
        HandExercise(
            key="softmax.row_0",
            name="row 0",
            expected=z.grad,
            precision=decimals(3),
            look="Row 0 holds ∂p0/∂z_j for j = 0, 1, 2, in that order. The first entry uses the "
            "case j = 0 (z0 is in the numerator and in S), the other two the case of a logit "
            "that is only in S; take every p from the forward pass.",
            rule="∂p0/∂z_j = p0 (δ_0j − p_j): p0 (1 − p0) for j = 0, and −p0 p_j for j ≠ 0.",
            slips=(
                Slip(
                    pv[0] * (one_hot + pv * (1 - 2 * one_hot)),
                    "The first entry is right, but the other two have the wrong sign: z1 and z2 "
                    "appear only in the shared sum S, so raising them makes S bigger and p0 "
                    "smaller. Look at the sign of the case j ≠ 0.",
                ),
                Slip(
                    diagonal[0] * one_hot,
                    "That is the diagonal entry alone, as if p0 depended on z0 only (the "
                    "sigmoid's rule). z1 and z2 are in S, so they move p0 too: use the case "
                    "j ≠ 0 for the other two entries.",
                ),
                Slip(
                    pv[0] * one_hot,
                    "That differentiates the numerator only, as if S were a constant. S holds "
                    "every e^{z_j}, e^{z0} too: use the quotient rule, as in the two cases above "
                    "the exercise.",
                ),
                Slip(
                    -pv[0] * pv,
                    "The diagonal entry has two parts: z0 is in the numerator and in S, so "
                    "∂p0/∂z0 = p0 − p0², not −p0² alone. The other two entries are right.",
                ),
                Slip(
                    pv[0] * one_hot - pv[0] * pv * (1 - one_hot),
                    "The diagonal entry is missing a part: z0 is in S as well as in the "
                    "numerator, and that entry has the numerator's part alone. The other two "
                    "entries are right.",
                ),
                Slip(
                    one_hot - pv,
                    "The factor p0 in front of every entry is missing: (δ_0j − p_j) alone is the "
                    "Jacobian of log-softmax, not of softmax.",
                ),
                Slip(
                    pv[0] * (1 - pv),
                    "That uses p0 (1 − p_j) for every j, as if the Kronecker delta were always 1. "
                    "For j ≠ 0 it is 0, which leaves p0 (0 − p_j).",
                ),
                Slip(
                    diagonal,
                    "That is the diagonal of J, p_j (1 − p_j) for each j, written as a row. Row "
                    "0 holds how p0 alone moves as each z_j moves.",
                ),
                Slip(
                    pv,
                    "That is p itself, the forward pass. Row 0 asks how p0 moves when each "
                    "logit moves: its derivatives, from the two cases above the exercise.",
                ),
                Slip(
                    np.round(z.grad, 2),
                    "That is the row rounded to 2 decimal places; this exercise asks for 3. Keep "
                    "more digits through every step, and round only at the end.",
                ),
                Slip(
                    softmax_jacobian(np.array(LOGITS))[1],
                    "That is row 1, the derivatives of p1. Row 0 differentiates p0.",
                ),
            ),
        ),
    ]
