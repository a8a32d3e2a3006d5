"""Notebook 06 (cross-entropy on softmax): its hand exercises.

Both expected numbers are computed the way the notebook computes them: ∂L/∂z₀ by chaining the
dense softmax Jacobian of the kernels with ∂L/∂p, and ∂L/∂Z₁,₀ by ``backward()`` through the
fused ``softmax_cross_entropy`` node of the ``Tensor`` engine.
"""

from __future__ import annotations

import numpy as np

from course_lib import kernels
from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip, decimals
from course_lib.tensor import Tensor, softmax_cross_entropy

# Derivation 1: one example, logits z, true class k.
LOGITS = (1.0, 2.0, 3.0)
TRUE_CLASS = 2
# The batch: the example above and a second one whose true class is 0.
BATCH = ((1.0, 2.0, 3.0), (0.5, -1.0, 0.0))
BATCH_LABELS = (2, 0)


def chained_gradient() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """p, J, ∂L/∂p and ∂L/∂z = Jᵀ ∂L/∂p for L = −log p_k, from the kernels (as the notebook)."""
    z = np.array(LOGITS)
    p = kernels.softmax(z)
    jacobian = kernels.softmax_jacobian(z)
    dL_dp = np.zeros(len(z))  # noqa: N806
    dL_dp[TRUE_CLASS] = -1 / p[TRUE_CLASS]
    return p, jacobian, dL_dp, jacobian.T @ dL_dp


def batch_gradient() -> tuple[np.ndarray, np.ndarray, float]:
    """P, ∂L/∂Z from ``backward()`` through the fused node, and the batch loss L."""
    logits = Tensor(np.array(BATCH), label="Z")
    loss = softmax_cross_entropy(logits, np.array(BATCH_LABELS))
    loss.backward()
    return kernels.softmax(np.array(BATCH)), logits.grad, float(loss.item())


def exercises() -> list[HandExercise | AxesExercise]:
    p, jacobian, dL_dp, chained = chained_gradient()
    k = TRUE_CLASS
    P, grad, batch_loss = batch_gradient()  # noqa: N806
    n, c = P.shape
    row, label = 1, BATCH_LABELS[1]
    own_gradient = P[row, label] - 1.0  # the row's p − y, before the mean
    return [
        HandExercise(
            key="cross_entropy.dL_dz0",
            name="dL/dz0",
            expected=chained[0],
            precision=decimals(3),
            look="Only p2 enters the loss, so the chain has one term: the upstream gradient "
            "∂L/∂p2 times the Jacobian entry J[2, 0] = ∂p2/∂z0 = p2(δ20 − p0). Mind both minus "
            "signs.",
            rule="∂L/∂z0 = Σ_i (∂L/∂p_i) J[i, 0] = (∂L/∂p2) · J[2, 0], with ∂L/∂p2 = −1/p2 and "
            "J[2, 0] = −p2 p0.",
            slips=(
                Slip(
                    0.0,
                    "Class 0 is not the true class, but its logit still moves the loss: "
                    "raising z0 takes probability away from p2.",
                ),
                Slip(
                    -chained[0],
                    "The sign is wrong: two minus signs meet here, one in ∂L/∂p2 and one in "
                    "J[2, 0]. Raising a wrong class's logit lowers p2 and so raises the loss.",
                ),
                Slip(
                    p[0] - 1.0,
                    "That subtracts 1 as for the true class; here the true class is k = 2, "
                    "and z0 is the logit of a wrong class.",
                ),
                Slip(
                    jacobian[k, 0],
                    "That is J[2, 0] = ∂p2/∂z0 alone, the local partial: multiply it by the "
                    "upstream gradient ∂L/∂p2.",
                ),
                Slip(
                    dL_dp[k],
                    "That is ∂L/∂p2 passed back unchanged: multiply it by J[2, 0], the local "
                    "partial of the edge from z0 into p2.",
                ),
                Slip(
                    dL_dp[k] * p[0],
                    "That multiplies ∂L/∂p2 by p0 alone: J[2, 0] = −p2 p0 has a second factor, p2.",
                ),
                Slip(
                    jacobian[0, 0],
                    "That is J[0, 0] = ∂p0/∂z0 = p0(1 − p0), the diagonal entry (the first "
                    "entry of row 0 in notebook 05). The loss reaches z0 through p2 only, so the "
                    "entry on that path is J[2, 0], row 2, column 0, and it is multiplied by the "
                    "upstream gradient ∂L/∂p2.",
                ),
                Slip(
                    jacobian[0, 1],
                    "That is J[0, 1] = −p0 p1, an entry of row 0 (notebook 05's row), which says "
                    "how p0 moves. The loss reaches z0 through p2 only: use J[2, 0], row 2, "
                    "column 0, times the upstream gradient ∂L/∂p2.",
                ),
                Slip(
                    -jacobian[k, 0],
                    "That is p2 p0, the size of J[2, 0] alone: J[2, 0] = −p2 p0 keeps its minus "
                    "sign, and it is multiplied by the upstream gradient ∂L/∂p2.",
                ),
                Slip(
                    -dL_dp[k],
                    "That is 1/p2, the size of ∂L/∂p2 alone: ∂L/∂p2 = −1/p2 keeps its minus "
                    "sign, and it is multiplied by J[2, 0], the local partial of the edge from z0 "
                    "into p2.",
                ),
                Slip(
                    dL_dp[k] * jacobian[0, 0],
                    "That uses the diagonal entry J[0, 0]; the loss reaches z0 through p2, so "
                    "the entry is J[2, 0], row 2, column 0.",
                ),
                Slip(
                    chained[k],
                    "That is the gradient for z2, the true class's logit (it uses J[2, 2]); "
                    "the question asks about z0: row 2, column 0 of J.",
                ),
                Slip(
                    chained[1],
                    "That is the gradient for z1; the question asks about z0: row 2, column 0 "
                    "of J.",
                ),
            ),
            values=(
                (-np.log(p[k]), "the loss L"),
                (p[k], "p2, a probability"),
            ),
        ),
        HandExercise(
            key="cross_entropy.dL_dZ10",
            name="dL/dZ[1, 0]",
            expected=grad[row, label],
            precision=decimals(3),
            look="Row 1's own loss L_1 gives p − y at its true class, class 0; the batch loss "
            "is the mean of the N row losses, so each row's term carries the mean's factor.",
            rule="∂L/∂Z[1, 0] = (P[1, 0] − Y[1, 0]) / N, with Y[1, 0] = 1 (class 0 is row 1's "
            "true class) and N = 2 rows.",
            slips=(
                Slip(
                    own_gradient,
                    "That is p − y for row 1 alone, the gradient of its own loss L_1; the batch "
                    "loss is the mean over the N rows, and the 1/N of the mean is missing.",
                ),
                Slip(
                    -own_gradient / n,
                    "The sign is wrong: that is (y − p)/N. Raising the true class's logit "
                    "raises its probability and lowers the loss.",
                ),
                Slip(
                    P[row, label] / n,
                    "That leaves out the target: class 0 is row 1's true class, so "
                    "Y[1, 0] = 1 is subtracted first.",
                ),
                Slip(
                    own_gradient / c,
                    "That divides by C, the number of classes; the batch loss is a mean over "
                    "the examples, not over the classes.",
                ),
                Slip(
                    own_gradient / (n * c),
                    "That divides by N·C, as if the mean ran over every entry of Z; it runs "
                    "over the examples only.",
                ),
                Slip(
                    grad[0, 0],
                    "That is the entry for row 0; Z[1, 0] is the second example (rows are "
                    "numbered from 0), column 0.",
                ),
                *(
                    Slip(
                        grad[r, col],
                        f"That is the entry at row {r}, column {col}; Z[1, 0] is row 1 (the "
                        "second example), column 0 (the first class).",
                    )
                    for r in range(grad.shape[0])
                    for col in range(1, grad.shape[1])
                ),
            ),
            values=(
                (P[row, label], "P[1, 0], a probability"),
                (-np.log(P[row, label]), "row 1's loss L_1"),
                (batch_loss, "the batch loss L"),
            ),
        ),
    ]
