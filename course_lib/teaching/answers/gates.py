"""Notebook 08 (gates, accumulation, direction): its hand exercises.

Every expected number is read off the engine: the gates graph f = tanh(max(x·y, z) + x) at
x = 0.25, y = 2, z = −1 built with ``Value`` exactly as the notebook builds it, three
``backward()`` calls added up as PyTorch's ``.grad`` adds them, and a forward-mode pass of
``course_lib.autodiff.forward.jvp``.
"""

from __future__ import annotations

from course_lib.autodiff.forward import jvp
from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip, decimals

POINT = (0.25, 2.0, -1.0)  # x, y, z of the gates graph
CALLS = 3  # backward() calls in the accumulation exercise
TWO_OUTPUTS_AT = (3.0, -2.0)  # x, y of f(x, y) = (x·y, x + y)


def gates_graph() -> tuple[Value, ...]:
    """The notebook's gates graph after ``backward()``: x, y, z, a, m, s, f."""
    x, y, z = (Value(v, label=n) for v, n in zip(POINT, "xyz", strict=True))
    a = (x * y).named("a")
    m = a.max(z).named("m")
    s = (m + x).named("s")
    f = s.tanh().named("f")
    f.backward()
    return x, y, z, a, m, s, f


def accumulated_grad(calls: int = CALLS) -> float:
    """x's ``.grad`` after ``calls`` backward() calls in PyTorch's convention (each call adds)."""
    x, *_, f = gates_graph()
    total = 0.0
    for _ in range(calls):
        f.backward()  # this engine starts afresh on every call ...
        total += x.grad  # ... and PyTorch's .grad adds the new gradient to what it holds
    return total


def two_outputs(x, y):
    """f(x, y) = (x·y, x + y), the notebook's function with two outputs."""
    return [x * y, x + y]


def exercises() -> list[HandExercise | AxesExercise]:
    x, y, z, a, m, s, f = gates_graph()
    once = x.grad
    _, column_0 = jvp(two_outputs, TWO_OUTPUTS_AT, [1.0, 0.0])
    _, column_1 = jvp(two_outputs, TWO_OUTPUTS_AT, [0.0, 1.0])
    row_0 = [TWO_OUTPUTS_AT[1], TWO_OUTPUTS_AT[0]]  # reverse mode from x·y: y, x
    return [
        HandExercise(
            key="gates.df_dy",
            name="df/dy",
            expected=y.grad,
            precision=decimals(3),
            look="y feeds the product a = x·y, and a wins the max: take the upstream gradient at "
            "a, and multiply by the local partial of the edge from y into the product.",
            rule="df/dy = (df/da) · (∂a/∂y), and multiply swaps: ∂(x·y)/∂y = x.",
            slips=(
                Slip(
                    a.grad * y.data,
                    "That multiplies the upstream by y itself. Multiply swaps: the local partial "
                    "of the edge from y into the product is the other input.",
                ),
                Slip(
                    0.0,
                    "Zero is what a loser of the max passes back. Compare a and z: which one "
                    "won, and is y under the winner?",
                ),
                Slip(
                    x.grad,
                    "That is df/dx, which sums two paths (x is used twice); the question asks "
                    "for y.",
                ),
            ),
            local=a.partials[1],
            upstream=a.grad,
            values=(
                (y.data, "y's own value"),
                (a.data, "the value of a"),
                (f.data, "f's value"),
            ),
        ),
        HandExercise(
            key="gates.df_dz",
            name="df/dz",
            expected=z.grad,
            precision=decimals(3),
            look="z enters the max. Which input won, a or z? The max's local partials are in "
            "the table at the top of this section.",
            rule="df/dz = (df/dm) · (∂m/∂z), and max routes: ∂max(a, z)/∂z is 1 if z won, else 0.",
            slips=(
                Slip(
                    m.grad,
                    "That passes the whole upstream of m back to z, as if z had won the max. "
                    "Compare a and z, and look up the loser's local partial in the table.",
                ),
                Slip(
                    1.0,
                    "That is the winner's local partial. Which input won the max, and did z?",
                ),
            ),
            upstream=m.grad,
            values=((z.data, "z's own value"), (m.data, "the value of m"), (f.data, "f's value")),
        ),
        HandExercise(
            key="gates.grad_after_three",
            name="x.grad after three backward() calls",
            expected=accumulated_grad(),
            precision=decimals(3),
            also=(CALLS * round(once, 3),),  # from section 1's Solution, x.grad = 1.790
            look="In PyTorch every backward() adds its gradient to what .grad already holds, "
            "and nothing here resets it; one call's gradient is the df/dx of section 1.",
            rule=".grad after k calls = (one call's gradient) + ... + (one call's gradient), "
            "k times: k × df/dx.",
            slips=(
                Slip(
                    once,
                    "That is one call's gradient, which is what this engine holds after any "
                    "number of calls (it resets). In PyTorch each call adds to .grad.",
                ),
                Slip(
                    2 * once,
                    "That is what .grad holds after two calls; count the calls.",
                ),
                Slip(
                    0.0,
                    "Zero is what micrograd's zero_grad() leaves (PyTorch's leaves None), and no "
                    "zero_grad() is called here.",
                ),
                Slip(
                    CALLS * y.grad,
                    "That is y's .grad after the calls; the question asks for x's.",
                ),
            ),
            values=((x.data, "x's own value"), (f.data, "f's value")),
        ),
        HandExercise(
            key="gates.column_1",
            name="column 1 (the tangents)",
            expected=column_1,
            look="Seed ẋ = 0 and ẏ = 1, then give each output its tangent: the sum of (local "
            "partial × tangent) over the output's inputs.",
            rule="(x·y)˙ = y·ẋ + x·ẏ and (x + y)˙ = ẋ + ẏ.",
            slips=(
                Slip(
                    column_0,
                    "That is column 0, the tangents with x seeded: this time seed y with 1 and "
                    "x with 0.",
                ),
                Slip(
                    row_0,
                    "That is a row of the Jacobian (reverse mode from x·y): forward mode gives a "
                    "column.",
                ),
                Slip(
                    [column_1[0], 0.0],
                    "The product's tangent is right. The sum's tangent adds the tangents of both "
                    "of its inputs, ẋ + ẏ.",
                ),
            ),
        ),
    ]
