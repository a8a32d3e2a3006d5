"""Notebook 00 (start here): the one exercise that shows how exercises work."""

from __future__ import annotations

from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import HandExercise, Slip


def exercises() -> list[HandExercise]:
    x = Value(3.0, label="x")
    f = x**2
    f.backward()
    return [
        HandExercise(
            key="start_here.df_dx",
            name="df/dx at x = 3",
            expected=x.grad,
            look="Differentiate x² first, then put in x = 3.",
            rule="d(x²)/dx = 2x.",
            slips=(
                Slip(f.data, "That is f(3), the value of the function, not its slope."),
                Slip(2.0, "That is the factor 2 of the derivative alone: it still depends on x."),
                Slip(x.data, "That is x itself, not the slope of x² there."),
            ),
        )
    ]
