"""Notebook 01 (a five-node graph by hand): f = (x + y)·z at x = −2, y = 5, z = −4.

Every expected number is read off the engine's graph, built exactly as the notebook builds it.
"""

from __future__ import annotations

from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import HandExercise, Slip


def graph() -> tuple[Value, Value, Value, Value, Value]:
    """The notebook's graph after ``backward()``: x, y, z, q, f."""
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = (x + y).named("q")
    f = (q * z).named("f")
    f.backward()
    return x, y, z, q, f


def exercises() -> list[HandExercise]:
    x, y, z, q, f = graph()
    nudge = 0.5
    dq_dx, dq_dy = q.partials
    df_dq, df_dz = f.partials
    return [
        HandExercise(
            key="five_node.q",
            name="q",
            expected=q.data,
            look="Add the two inputs of the add node, each with its sign.",
            rule="q = x + y.",
            slips=(Slip(abs(x.data) + y.data, "That drops the sign of x, which is negative."),),
            gradient=False,
        ),
        HandExercise(
            key="five_node.f",
            name="f",
            expected=f.data,
            look="Multiply q by z, each with its sign.",
            rule="f = q · z.",
            slips=(
                Slip(
                    (abs(x.data) + y.data) * z.data,
                    "That is built on a q with the sign of x dropped: look at q first.",
                ),
            ),
            gradient=False,
        ),
        HandExercise(
            key="five_node.df_dx",
            name="df/dx",
            expected=x.grad,
            look="Step 3 gives the upstream gradient at q; step 2's table the local partial of "
            "the edge from x into q.",
            rule="df/dx = (df/dq) · (dq/dx): the upstream gradient at q times the local partial.",
            local=dq_dx,
            values=((q.data, "the value of q"), (x.data, "x's own value"), (f.data, "f's value")),
        ),
        HandExercise(
            key="five_node.df_dy",
            name="df/dy",
            expected=y.grad,
            look="y enters the graph the way x does: the upstream gradient at q, times the local "
            "partial of the edge from y into q.",
            rule="df/dy = (df/dq) · (dq/dy).",
            local=dq_dy,
            values=((q.data, "the value of q"), (y.data, "y's own value"), (f.data, "f's value")),
        ),
        HandExercise(
            key="five_node.df_dz",
            name="df/dz",
            expected=z.grad,
            look="z feeds f directly, so its upstream gradient is df/df: multiply it by the "
            "local partial of the edge from z into f.",
            rule="df/dz = (df/df) · (∂f/∂z), and ∂(q·z)/∂z = q.",
            slips=(Slip(df_dq, "That is the local partial with respect to q, the other input."),),
            values=((z.data, "z's own value"), (f.data, "f's value")),
        ),
        HandExercise(
            key="five_node.f_moves_by",
            name="change of f",
            expected=q.grad * nudge,
            look="The upstream gradient at q is the change of f per unit change of q's output; "
            "this nudge is not one unit.",
            rule="change of f ≈ (df/dq) × (change of q's output).",
            slips=(
                Slip(nudge, "That is the nudge of q itself, not the change of f it causes."),
                Slip(q.grad, "That is the change of f per unit of q; this nudge is not one unit."),
                Slip(
                    (q.data + nudge) * z.data,
                    "That is the new value of f; the question asks how much f changed.",
                ),
                Slip(
                    f.data,
                    "That is f's value before the nudge; the question asks how much f changes.",
                ),
                Slip(df_dz * nudge, "That uses df/dz; a nudge of q moves f through df/dq."),
            ),
        ),
    ]
