"""Notebook 02 (six nodes: fan-out and sum at joins): its hand exercises.

The graph is f = a·b with a = x·y and b = x + z, at x = 3, y = -2, z = 1: x feeds both a and
b, so its gradient is the sum of two paths. The sigmoid neuron is σ(w1·x1 + w2·x2 + b0) at
x1 = 2, w1 = 0.5, x2 = -1, w2 = 3, b0 = 2. Every expected number is read off the engine's
graphs, built exactly as the notebook builds them.
"""

from __future__ import annotations

from course_lib.autodiff.scalar import Value
from course_lib.teaching.hand_exercise import AxesExercise, HandExercise, Slip


def graph() -> tuple[Value, Value, Value, Value, Value, Value]:
    """The notebook's graph after ``backward()``: x, y, z, a, b, f."""
    x, y, z = Value(3.0, label="x"), Value(-2.0, label="y"), Value(1.0, label="z")
    a = (x * y).named("a")
    b = (x + z).named("b")
    f = (a * b).named("f")
    f.backward()
    return x, y, z, a, b, f


def neuron() -> tuple[tuple[Value, Value, Value, Value, Value], Value, Value]:
    """The notebook's sigmoid neuron after ``backward()``: its inputs, n and σ(n)."""
    inputs = (
        Value(2.0, label="x1"),
        Value(0.5, label="w1"),
        Value(-1.0, label="x2"),
        Value(3.0, label="w2"),
        Value(2.0, label="b0"),
    )
    x1, w1, x2, w2, b0 = inputs
    n = (w1 * x1 + w2 * x2 + b0).named("n")
    s = n.sigmoid().named("s")
    s.backward()
    return inputs, n, s


def exercises() -> list[HandExercise | AxesExercise]:
    x, y, z, a, b, f = graph()
    da_dx, da_dy = a.partials
    db_dx, _ = b.partials
    df_da, df_db = f.partials
    via_a, via_b = a.grad * da_dx, b.grad * db_dx  # the two paths into x
    (_, _, x2, w2, _), n, s = neuron()
    dn_dw2 = x2.data  # the local partial of w2·x2 with respect to w2
    ds_dn = s.partials[0]  # σ(1 − σ), the upstream at n
    return [
        # ---- step 1: forward -----------------------------------------------------------
        HandExercise(
            key="fan_out.a",
            name="a",
            expected=a.data,
            look="Multiply x by y, each with its sign.",
            rule="a = x · y.",
            slips=(
                Slip(abs(x.data * y.data), "Watch the sign of y: it is negative."),
                Slip(x.data + y.data, "a multiplies x and y; it does not add them."),
            ),
            gradient=False,
        ),
        HandExercise(
            key="fan_out.b",
            name="b",
            expected=b.data,
            look="Add x and z, each with its sign.",
            rule="b = x + z.",
            slips=(
                Slip(x.data * z.data, "b adds x and z; it does not multiply them."),
                Slip(x.data - z.data, "b adds z to x; it does not subtract it."),
                Slip(x.data + y.data, "b's inputs are x and z; y feeds a only."),
            ),
            gradient=False,
        ),
        HandExercise(
            key="fan_out.f",
            name="f",
            expected=f.data,
            look="Multiply a by b, each with its sign (work out a and b first).",
            rule="f = a · b.",
            slips=(
                Slip(
                    abs(a.data) * b.data,
                    "The sign: a is negative and b positive, so their product is negative.",
                ),
                Slip(a.data + b.data, "f multiplies a and b; it does not add them."),
                # a or b with one of their own slips, multiplied rightly: the slip is upstream
                *(
                    Slip(wrong * b.data, "That is built on a wrong a: look at a first.")
                    for wrong in (x.data + y.data,)
                ),
                *(
                    Slip(a.data * wrong, "That is built on a wrong b: look at b first.")
                    for wrong in (x.data * z.data, x.data - z.data, x.data + y.data)
                ),
            ),
            gradient=False,
        ),
        # ---- step 3: the upstream gradients of a and b ---------------------------------
        HandExercise(
            key="fan_out.df_da",
            name="df/da",
            expected=a.grad,
            look="Start from df/df at the output and multiply by the local partial of the edge "
            "from a into f.",
            rule="df/da = (df/df) · (∂f/∂a), and ∂(a·b)/∂a = b.",
            slips=(
                Slip(
                    df_db,
                    "That is ∂f/∂b, the local partial with respect to the other input (it is "
                    "also a's own value).",
                ),
            ),
            upstream=f.grad,
            values=((f.data, "f's value"),),
        ),
        HandExercise(
            key="fan_out.df_db",
            name="df/db",
            expected=b.grad,
            look="Start from df/df at the output and multiply by the local partial of the edge "
            "from b into f.",
            rule="df/db = (df/df) · (∂f/∂b), and ∂(a·b)/∂b = a.",
            slips=(
                Slip(
                    df_da,
                    "That is b's own value (and ∂f/∂a), not the local partial of the edge from "
                    "b into f.",
                ),
            ),
            upstream=f.grad,
            values=((f.data, "f's value"),),
        ),
        # ---- step 4: two paths into x, and their sum ----------------------------------
        HandExercise(
            key="fan_out.path_via_a",
            name="path through a",
            expected=via_a,
            look="Take the upstream gradient at a (step 3) and multiply it by the local partial "
            "of the edge from x into a (the table of step 2).",
            rule="path through a = (df/da) · (∂a/∂x), and ∂(x·y)/∂x = y.",
            slips=(
                Slip(
                    da_dy * a.grad,
                    "That uses the wrong factor: ∂a/∂x is y (multiply swaps: the other input), "
                    "and the upstream is df/da, a gradient, not a's value.",
                ),
                Slip(
                    via_b,
                    "That is the path through b; this one walks back from f through a to x.",
                ),
            ),
            local=da_dx,
            upstream=a.grad,
            values=((x.data, "x's own value"),),
        ),
        HandExercise(
            key="fan_out.path_via_b",
            name="path through b",
            expected=via_b,
            look="Take the upstream gradient at b (step 3) and multiply it by the local partial "
            "of the edge from x into b (add passes a nudge through unchanged).",
            rule="path through b = (df/db) · (∂b/∂x), and ∂(x + z)/∂x = 1.",
            slips=(
                Slip(
                    via_a,
                    "That is the path through a; this one walks back from f through b to x.",
                ),
                Slip(
                    a.grad * db_dx,
                    "That starts from df/da (or b's value): the path through b starts from "
                    "the upstream gradient at b, df/db.",
                ),
            ),
            local=db_dx,
            upstream=b.grad,
            values=((x.data, "x's own value"),),
        ),
        HandExercise(
            key="fan_out.df_dx",
            name="df/dx",
            expected=x.grad,
            look="x feeds two nodes, a and b: work out the path through each (upstream × local "
            "partial) and combine them as the fourth move says.",
            rule="df/dx = (df/da)(∂a/∂x) + (df/db)(∂b/∂x): sum at joins.",
            slips=(
                Slip(
                    a.grad + b.grad,
                    "That adds the upstream gradients df/da and df/db without multiplying each "
                    "by its local partial (or subtracts one path from the other): each path is "
                    "upstream × local partial, and then the paths add.",
                ),
                Slip(via_a * via_b, "Paths add; they do not multiply."),
                Slip(
                    via_b - via_a,
                    "That subtracts one path from the other: each path is upstream × local "
                    "partial, and then the paths add.",
                ),
                Slip(
                    2 * x.data * y.data,
                    "That is the derivative of x²y alone: f = x²y + xyz, and the second term "
                    "depends on x too.",
                ),
                Slip(
                    da_dx + db_dx,
                    "That adds the local partials ∂a/∂x and ∂b/∂x alone: multiply each by the "
                    "upstream gradient of its node first.",
                ),
            ),
            paths=(via_a, via_b),
            values=((x.data, "x's own value"), (f.data, "f's value")),
        ),
        # ---- the sigmoid neuron --------------------------------------------------------
        HandExercise(
            key="fan_out.ds_dw2",
            name="ds/dw2",
            expected=w2.grad,
            look="The upstream at n is σ(1 − σ) at the neuron's σ; multiply it by the local "
            "partial of w2·x2 with respect to w2.",
            rule="ds/dw2 = σ(1 − σ) · ∂n/∂w2, and ∂(w2·x2)/∂w2 = x2.",
            slips=(
                Slip(
                    dn_dw2 * s.data,
                    "That multiplies by σ, the neuron's value; the upstream at n is its "
                    "derivative, σ(1 − σ).",
                ),
                Slip(
                    ds_dn * w2.data,
                    "That uses w2 as the local partial: ∂(w2·x2)/∂w2 is the other factor, x2 "
                    "(multiply swaps).",
                ),
                Slip(
                    ds_dn * w2.data * dn_dw2,
                    "That multiplies by w2 as well: ∂(w2·x2)/∂w2 is x2 alone.",
                ),
            ),
            local=dn_dw2,
            upstream=ds_dn,
            values=((s.data, "σ, the neuron's value"), (w2.data, "w2's own value")),
        ),
    ]
