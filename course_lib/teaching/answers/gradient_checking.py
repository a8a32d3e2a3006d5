"""Gradient checking done well: the relative error, the step h, kinks, float32."""

from __future__ import annotations

from course_lib.checks import central_difference, central_difference_sweep, relative_error
from course_lib.teaching.hand_exercise import HandExercise, Slip, significant

# The two checks of the notebook's table: (backward(), finite differences).
CHECK_A = (2e-8, 1e-8)
CHECK_B = (1000.0, 1000.001)
FLOAT32_EPS = 1.2e-7  # float32's machine epsilon as the notebook rounds it
ABSOLUTE = "That is the absolute error |a − b|: it is not on the numbers' scale."
PERCENT = "That is the relative error as a percentage: the check compares the plain ratio."


def exercises() -> list[HandExercise]:
    a_error = abs(CHECK_A[0] - CHECK_A[1])
    b_error = abs(CHECK_B[0] - CHECK_B[1])
    (central,) = central_difference_sweep(lambda x: x * x * x, 1.0, [0.1])
    kink = central_difference(lambda x, y: x.relu() * y, (0.0, 2.0), 0, h=1e-3)
    return [
        HandExercise(
            key="gradient_checking.rel_error_A",
            name="relative error of A",
            expected=relative_error(*CHECK_A),
            look="Divide |a − b| by the larger of |a| and |b|.",
            rule="relative error(a, b) = |a − b| / max(|a|, |b|).",
            slips=(
                Slip(a_error, ABSOLUTE),
                Slip(a_error / min(map(abs, CHECK_A)), "That divides by the smaller number."),
                Slip(100 * relative_error(*CHECK_A), PERCENT),
            ),
            gradient=False,
        ),
        HandExercise(
            key="gradient_checking.rel_error_B",
            name="relative error of B",
            expected=relative_error(*CHECK_B),
            precision=significant(3),
            look="Divide |a − b| by the larger of |a| and |b|.",
            rule="relative error(a, b) = |a − b| / max(|a|, |b|).",
            slips=(Slip(b_error, ABSOLUTE), Slip(100 * relative_error(*CHECK_B), PERCENT)),
            gradient=False,
        ),
        HandExercise(
            key="gradient_checking.central_at_h01",
            name="central difference at h = 0.1",
            expected=central,
            look="Subtract the two cubes, then divide by the width of the interval they span.",
            rule="central difference = (g(x + h) − g(x − h)) / 2h.",
            slips=(
                Slip(
                    3.0,
                    "That is the true derivative g'(1); the question asks what the formula "
                    "gives at this h.",
                ),
                Slip(2 * central, "That divides by h; the two points are 2h apart."),
                Slip(central * 0.2, "That is the difference of the cubes, not yet divided."),
                Slip(
                    (1.1**3 - 1.0) / 0.1,
                    "That is the one-sided difference (g(1.1) − g(1)) / h; "
                    "the central one uses both sides.",
                ),
            ),
            gradient=False,
        ),
        HandExercise(
            key="gradient_checking.kink_estimate",
            name="central difference at the kink",
            expected=kink,
            look="Work out k(0.001, 2) and k(−0.001, 2) with relu(x) = max(x, 0), subtract, and "
            "divide by 2h.",
            rule="central difference = (k(x + h, y) − k(x − h, y)) / 2h.",
            slips=(
                Slip(
                    0.0,
                    "That is what backward() reports, the slope on the left only; the "
                    "central difference looks at both sides.",
                ),
                Slip(
                    2.0,
                    "That is the slope on the right only; the central difference looks at "
                    "both sides.",
                ),
            ),
            gradient=False,
        ),
        HandExercise(
            key="gradient_checking.h_float32",
            name="h for float32",
            expected=FLOAT32_EPS ** (1 / 3),
            precision=significant(2),
            look="Multiply both sides of h² = ε/h by h, then take a root.",
            rule="h² = ε/h, so h³ = ε.",
            slips=(
                Slip(2.2e-16 ** (1 / 3), "That is float64's step; use float32's ε."),
                Slip(FLOAT32_EPS**0.5, "That is the square root of ε, which solves h = ε/h."),
                Slip(FLOAT32_EPS, "That is ε itself: h³ = ε, so take the cube root."),
            ),
            gradient=False,
        ),
    ]
