"""Tensor practice sheets: four small array questions from a seed, an answer key, a checker.

The scalar sheets (:mod:`course_lib.teaching.practice`) train the four moves on graphs of numbers.
These train the places where arrays make them harder, one question each:

1. **broadcasting**: for ``a + b`` with two shapes that broadcast, over which axes of the
   upstream gradient do you sum to get dL/da, and dL/db (notebook 03)?
2. **a softmax Jacobian row**: ∂p_i/∂z_j = p_i (δ_ij − p_j) for one row i (notebook 05);
3. **a cross-entropy gradient row**: dL/dz = p − y for one example (notebook 06);
4. **a layer-norm row**: dL/dx = (g − mean g − y·mean(g y)) / s for one row and an upstream g
   (notebook 09).

The same seed always gives the same sheet. Every number of the key comes from the engine
(``Tensor`` and ``backward()``, :func:`course_lib.tensor.broadcast_axes`) and is checked
against central differences when the sheet is made. From a shell::

    python -m course_lib.teaching.tensor_practice 101 102 --answers

A learner checks an answer with ``tensor_sheet_check(seed, part, answer)``, the part one of
:data:`PARTS`. The judging is :mod:`course_lib.teaching.hand_exercise`'s: the sheet's key
becomes an :class:`~course_lib.teaching.hand_exercise.AxesExercise` or a
:class:`~course_lib.teaching.hand_exercise.HandExercise` row at the precision the sheet states
(:func:`tensor_sheet_exercises`), with the slips learners make on that question. A wrong answer
is told the slip it shows and where to look, never the answer; a repeated wrong answer also
gets the rule.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass

import numpy as np

from course_lib.checks import jacobian_finite_differences, jacobian_reverse_mode
from course_lib.numbers.checking import shown, switch, whole_number
from course_lib.numbers.formatting import format_number
from course_lib.teaching.hand_exercise import (
    AxesExercise,
    CheckResult,
    HandExercise,
    Precision,
    Slip,
    decimals,
)
from course_lib.teaching.tiers import judge_in_tiers
from course_lib.tensor import Tensor, broadcast_axes, layer_norm, softmax, softmax_cross_entropy

__all__ = [
    "PARTS",
    "TensorSheet",
    "tensor_practice_sheet",
    "tensor_sheet",
    "tensor_sheet_check",
    "tensor_sheet_exercises",
]

# (shape of a, shape of b): pairs that broadcast, with added and expanded axes among them
_SHAPE_PAIRS = [
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((5, 1), (5, 3)),
    ((2, 1, 3), (4, 1)),
    ((4,), (2, 3, 4)),
    ((1, 3), (2, 1, 3)),
    ((3, 2), (1,)),
]
_FRIENDLY = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
_EPS = 1e-5

# The parts of a sheet a learner can check, in the sheet's order, and where each was taught.
PARTS = ("axes_a", "axes_b", "softmax_row", "ce_row", "layer_norm_row")
TAUGHT_IN = {"broadcasting": "03", "softmax": "05", "cross_entropy": "06", "layer_norm": "09"}
# The precision each row is asked for (the sheet prints it, the checker applies it).
ROW_PRECISION: dict[str, Precision] = {
    "softmax_row": decimals(4),
    "ce_row": decimals(4),
    "layer_norm_row": decimals(3),
}


@dataclass(frozen=True)
class TensorSheet:
    """The questions of one sheet (``seed``) and their answers, each computed by the engine."""

    seed: int
    shapes: tuple[tuple[int, ...], tuple[int, ...]]
    sum_axes: tuple[tuple[int, ...], tuple[int, ...]]  # for dL/da and dL/db
    logits: tuple[float, ...]
    row: int  # the Jacobian row asked for
    jacobian_row: tuple[float, ...]
    label: int
    ce_logits: tuple[float, ...]
    ce_grad: tuple[float, ...]
    ln_x: tuple[float, ...]
    ln_upstream: tuple[float, ...]
    ln_grad: tuple[float, ...]


def _axes_text(axes: tuple[int, ...]) -> str:
    return "no axis" if not axes else "axes " + ", ".join(str(a) for a in axes)


def _numbers(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def _four(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(format_number(v, decimals=4) for v in values) + ")"


def tensor_sheet(seed: int) -> TensorSheet:
    """The questions and the answer key of sheet ``seed`` (the same for the same seed)."""
    # A sheet number is a whole number >= 0 (NumPy integers too); -1 would silently be sheet 1,
    # since random.Random takes the absolute value of its seed.
    seed = whole_number(seed, "seed (the sheet number)", "tensor_sheet", minimum=0)
    rng = random.Random(seed)
    shape_a, shape_b = rng.choice(_SHAPE_PAIRS)
    if rng.random() < 0.5:
        shape_a, shape_b = shape_b, shape_a
    result = np.broadcast_shapes(shape_a, shape_b)
    axes_a = tuple(sorted(sum(broadcast_axes(shape_a, result), ())))
    axes_b = tuple(sorted(sum(broadcast_axes(shape_b, result), ())))
    # the engine agrees: backward sums over exactly those axes
    a, b = Tensor(np.zeros(shape_a)), Tensor(np.zeros(shape_b))
    (a + b).backward(np.ones(result))
    if a.grad.shape != shape_a or b.grad.shape != shape_b:
        raise AssertionError(f"tensor sheet {seed}: backward gave the wrong shapes")

    def distinct(count: int) -> tuple[float, ...]:
        return tuple(rng.sample(_FRIENDLY, count))

    logits = distinct(3)
    row = rng.randrange(3)
    J = jacobian_reverse_mode(softmax, np.array(logits))
    numeric = jacobian_finite_differences(softmax, np.array(logits))
    if not np.allclose(J, numeric, atol=1e-7):
        raise AssertionError(f"tensor sheet {seed}: the softmax Jacobian disagrees")

    classes = rng.choice((3, 4))
    ce_logits = distinct(classes)
    label = rng.randrange(classes)
    z = Tensor(np.array([ce_logits]))
    softmax_cross_entropy(z, np.array([label])).backward()

    ln_x = distinct(3)
    ln_upstream = tuple(rng.choice((-1.0, 1.0, 2.0, -2.0, 0.5)) for _ in range(3))
    x = Tensor(np.array(ln_x))
    layer_norm(x, _EPS).backward(np.array(ln_upstream))
    numeric = np.array(ln_upstream) @ jacobian_finite_differences(
        lambda t: layer_norm(t, _EPS), np.array(ln_x)
    )
    if not np.allclose(x.grad, numeric, atol=1e-6):
        raise AssertionError(f"tensor sheet {seed}: the layer-norm gradient disagrees")

    return TensorSheet(
        seed,
        (shape_a, shape_b),
        (axes_a, axes_b),
        logits,
        row,
        tuple(float(v) for v in J[row]),
        label,
        ce_logits,
        tuple(float(v) for v in z.grad[0]),
        ln_x,
        ln_upstream,
        tuple(float(v) for v in x.grad),
    )


def tensor_practice_sheet(seed: int, answers: bool = False) -> str:
    """A printable tensor sheet for ``seed``; with ``answers=True`` its key follows it."""
    answers = switch(answers, "answers", "tensor_practice_sheet")
    s = tensor_sheet(seed)
    (shape_a, shape_b), (axes_a, axes_b) = s.shapes, s.sum_axes
    result = tuple(np.broadcast_shapes(shape_a, shape_b))
    taught, asked = TAUGHT_IN, {part: p.describe() for part, p in ROW_PRECISION.items()}
    lines = [
        f"Tiny Graphs First: tensor practice sheet {s.seed}",
        "",
        f"1. Broadcasting (notebook {taught['broadcasting']}). out = a + b with a of shape "
        f"{shape_a} and b of shape {shape_b},",
        f"   so out has shape {result}. Given dL/dout, over which axes of it do you sum to get "
        "dL/da?",
        "   And dL/db? (Number the axes of out from 0; keep size-1 axes as size 1.)",
        "",
        f"2. A softmax Jacobian row (notebook {taught['softmax']}). p = softmax(z) with "
        f"z = {_numbers(s.logits)}.",
        f"   Write row {s.row}, dp_{s.row}/dz_j for j = 0, 1, 2, with p_i (δ_ij − p_j), "
        f"{asked['softmax_row']}.",
        "",
        f"3. A cross-entropy gradient row (notebook {taught['cross_entropy']}). One example with "
        f"logits {_numbers(s.ce_logits)}",
        f"   and true class {s.label} (classes numbered from 0); L = −log p_{s.label}.",
        f"   Write dL/dz, one entry per class, {asked['ce_row']}.",
        "",
        f"4. A layer-norm row (notebook {taught['layer_norm']}). y = layer_norm(x) with "
        f"x = {_numbers(s.ln_x)}, ε = 1e-5,",
        f"   and the upstream g = dL/dy = {_numbers(s.ln_upstream)}. Write dL/dx with",
        f"   (g − mean(g) − y·mean(g·y)) / s, s = √(var(x) + ε), {asked['layer_norm_row']}.",
    ]
    if answers:
        lines += [
            "",
            "-" * 30 + " answer key " + "-" * 30,
            f"1. dL/da: sum over {_axes_text(axes_a)}; dL/db: sum over {_axes_text(axes_b)}",
            f"2. row {s.row}: {_four(s.jacobian_row)}",
            f"3. dL/dz = p − y = {_four(s.ce_grad)}",
            f"4. dL/dx = {_four(s.ln_grad)}",
        ]
    return "\n".join(lines) + "\n"


# ---- checking a learner's answers ------------------------------------------------------------

_AXES_LOOK = (
    "Line the two shapes up from the right. Sum over each axis of out that the input did not "
    "have (added in front), and over each axis where the input has size 1 and out does not "
    "(expanded)."
)
_AXES_RULE = (
    "sum dL/dout over the axes broadcasting added or expanded for that input: a value copied "
    "along an axis gets the sum of the gradients of its copies."
)


def _axes_exercise(
    key: str, name: str, shape: tuple[int, ...], other: str, other_axes: tuple[int, ...], result
) -> AxesExercise:
    added, expanded = broadcast_axes(shape, tuple(result))
    want = tuple(sorted(added + expanded))
    slips = []
    if added and expanded:
        slips += [
            Slip(
                added,
                "That sums over the added axes only. The input's size-1 axes were expanded "
                "too, and every copy along them is a use: sum over those as well.",
            ),
            Slip(
                expanded,
                "That sums over the expanded axes only. The leading axes the input did not "
                "have at all were added, and they are summed away too.",
            ),
        ]
        own = tuple(i - len(added) for i in expanded)
        slips.append(
            Slip(
                own,
                "That numbers the axes of the input itself. Number the axes of dL/dout "
                "instead (line the shapes up from the right), and remember the added axes.",
            )
        )
    if other_axes and tuple(sorted(other_axes)) != want:
        slips.append(
            Slip(
                other_axes,
                f"Those are the axes for {other}, the other input: look at this input's own "
                "shape against out's.",
            )
        )
    return AxesExercise(
        key=key,
        name=name,
        expected=want,
        ndim=len(result),
        look=_AXES_LOOK,
        rule=_AXES_RULE,
        slips=tuple(slips),
    )


def _softmax_row_exercise(key: str, name: str, logits, row: int, want) -> HandExercise:
    p = softmax(Tensor(np.array(logits))).data
    n = len(p)
    delta = np.eye(n)[row]
    diagonal_only = delta * p[row] * (1 - p[row])
    slips = [
        Slip(
            diagonal_only,
            "That keeps only the diagonal entry, as for an elementwise function like the "
            "sigmoid. Every z_j sits in the shared sum below p_i, so the other entries are not "
            "zero.",
        ),
        Slip(
            diagonal_only + (1 - delta) * p[row] * p,
            "The entries off the diagonal have the wrong sign: raising another logit z_j makes "
            "the shared sum bigger, so p_i goes down.",
        ),
        Slip(
            delta - p,
            "That leaves out the factor p_i in front: every entry of the row is p_i times "
            "(δ_ij − p_j).",
        ),
        Slip(
            -p[row] * p,
            "That leaves out the δ_ij term: on the diagonal z_i is also in p_i's numerator, "
            "which adds p_i there.",
        ),
        Slip(p, "That is p itself, the forward values: the question asks for derivatives."),
    ]
    for other in range(n):
        if other != row:
            slips.append(
                Slip(
                    p[other] * (np.eye(n)[other] - p),
                    f"That is row {other}, the derivatives of p_{other}; row {row} "
                    f"differentiates p_{row}.",
                )
            )
    return HandExercise(
        key=key,
        name=name,
        expected=want,
        precision=ROW_PRECISION["softmax_row"],
        look="Compute p = softmax(z) first, e^{z_j} divided by the sum of all three; then each "
        f"entry of row {row} is p_{row} times (δ_{row}j − p_j).",
        rule="∂p_i/∂z_j = p_i (δ_ij − p_j), with δ_ij = 1 when j = i and 0 otherwise.",
        slips=tuple(slips),
    )


def _ce_row_exercise(key: str, name: str, logits, label: int, want) -> HandExercise:
    p = softmax(Tensor(np.array(logits))).data
    n = len(p)
    y = np.eye(n)[label]
    slips = [
        Slip(p, "That is p alone: subtract y, the one-hot row with its 1 at the true class."),
        Slip(
            y * (p - 1),
            "Only the true class has an entry there. Every other class k gets p_k − 0, which is "
            "not zero: raising a wrong logit raises the loss.",
        ),
        Slip(
            -y / p[label],
            "That is dL/dp, the gradient with respect to the probabilities; the question asks "
            "for dL/dz, with respect to the logits.",
        ),
    ]
    for other in range(n):
        if other != label:
            slips.append(
                Slip(
                    p - np.eye(n)[other],
                    f"That puts the 1 of y at class {other}. y marks the true class the sheet "
                    "names, and classes are numbered from 0.",
                )
            )
    return HandExercise(
        key=key,
        name=name,
        expected=want,
        precision=ROW_PRECISION["ce_row"],
        look="Compute p = softmax(z) first, e^{z_j} divided by the sum over all classes; then "
        "subtract 1 at the true class only.",
        rule="dL/dz = p − y, with p = softmax(z) and y the one-hot row of the true class.",
        slips=tuple(slips),
    )


def _layer_norm_row_exercise(key: str, name: str, x, g, want) -> HandExercise:
    x, g = np.array(x), np.array(g)
    d = x - x.mean()
    var = (d * d).mean()
    s = np.sqrt(var + _EPS)
    y = d / s
    n = len(x)
    sample_s = np.sqrt(var * n / (n - 1) + _EPS)
    sample_y = d / sample_s
    slips = [
        Slip(
            g / s,
            "That is g / s alone: subtract mean(g) and y·mean(g·y) from g before dividing by s.",
        ),
        Slip(
            (g - g.mean()) / s,
            "That leaves out the path through s: subtract y·mean(g·y) as well.",
        ),
        Slip(
            (g - y * (g * y).mean()) / s,
            "That leaves out the path through the mean: subtract mean(g) as well.",
        ),
        Slip(
            g - g.mean() - y * (g * y).mean(),
            "That is not divided by s yet, s = √(var(x) + ε).",
        ),
        Slip(
            (g - g.mean() - y * (g * y).mean()) / (s * s),
            "That divides by the variance; divide by its square root, s = √(var(x) + ε).",
        ),
        Slip(
            (g - g.mean() - sample_y * (g * sample_y).mean()) / sample_s,
            "That takes the variance with n − 1 below it; layer norm's variance is the mean of "
            "the squared deviations, divided by n.",
        ),
        Slip(y, "That is y = layer_norm(x), the forward values: the question asks for dL/dx."),
        Slip(
            g,
            "That is the upstream dL/dy passed back unchanged: apply layer norm's backward rule "
            "to it.",
        ),
    ]
    return HandExercise(
        key=key,
        name=name,
        expected=want,
        precision=ROW_PRECISION["layer_norm_row"],
        look="Work out mean(x), var(x) (the mean of the squared deviations), s and y first, "
        "then mean(g) and mean(g·y); keep every digit until the end.",
        rule="dL/dx = (g − mean(g) − y·mean(g·y)) / s, with y = (x − mean(x)) / s and "
        "s = √(var(x) + ε).",
        slips=tuple(slips),
    )


def tensor_sheet_exercises(
    seed: int, key_prefix: str | None = None
) -> dict[str, AxesExercise | HandExercise]:
    """The exercises of sheet ``seed``, by part (:data:`PARTS`), built from its answer key.

    The expected answers are the engine's (:func:`tensor_sheet`); the precision of each row
    is :data:`ROW_PRECISION`'s, the one the printed sheet states. ``key_prefix`` names the
    exercises' keys (``"tensor_sheet_7."`` by default).
    """
    s = tensor_sheet(seed)
    if key_prefix is not None and not isinstance(key_prefix, str):
        raise TypeError(
            f"tensor_sheet_exercises: key_prefix must be text such as 'tensor_sheet_7.', got "
            f"{key_prefix!r}"
        )
    prefix = f"tensor_sheet_{s.seed}." if key_prefix is None else key_prefix
    (shape_a, shape_b), (axes_a, axes_b) = s.shapes, s.sum_axes
    result = np.broadcast_shapes(shape_a, shape_b)
    where = f"sheet {s.seed}"
    return {
        "axes_a": _axes_exercise(
            prefix + "axes_a", f"{where}, the axes to sum for dL/da", shape_a, "b", axes_b, result
        ),
        "axes_b": _axes_exercise(
            prefix + "axes_b", f"{where}, the axes to sum for dL/db", shape_b, "a", axes_a, result
        ),
        "softmax_row": _softmax_row_exercise(
            prefix + "softmax_row",
            f"{where}, row {s.row} of ∂p/∂z",
            s.logits,
            s.row,
            s.jacobian_row,
        ),
        "ce_row": _ce_row_exercise(
            prefix + "ce_row", f"{where}, dL/dz", s.ce_logits, s.label, s.ce_grad
        ),
        "layer_norm_row": _layer_norm_row_exercise(
            prefix + "layer_norm_row", f"{where}, dL/dx", s.ln_x, s.ln_upstream, s.ln_grad
        ),
    }


def tensor_sheet_check(seed: int, part: str, answer: object) -> CheckResult:
    """Judge ``answer`` to one question of tensor sheet ``seed``; never raises for an answer.

    ``part`` is one of :data:`PARTS`: ``"axes_a"`` and ``"axes_b"`` (question 1, a tuple of
    axes of dL/dout, ``()`` for none), ``"softmax_row"`` (question 2), ``"ce_row"`` (3) and
    ``"layer_norm_row"`` (4), each a list of numbers at the precision the sheet states. The
    first wrong answer to a part names the slip and where to look; each later different one
    also gives the rule (the tiers of :mod:`course_lib.teaching.tiers`).
    The answer itself is never shown. An unknown ``part`` raises ``KeyError`` naming
    the parts there are.
    """
    if part not in PARTS:
        raise KeyError(f"a tensor sheet has the parts {PARTS}, got {part!r}")
    try:
        seed = whole_number(seed, "the sheet number", "tensor_sheet_check", minimum=0)
    except (TypeError, ValueError):
        return CheckResult(
            False, f"The sheet number is a whole number, 0 or more, like 7; got {shown(seed)}."
        )
    task = tensor_sheet_exercises(seed)[part]
    return judge_in_tiers(("tensor_sheet", seed, part), task, answer)


def main(argv: list[str] | None = None) -> int:
    """Print one tensor sheet per seed (``python -m course_lib.teaching.tensor_practice SEED``)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.teaching.tensor_practice",
        description="Print tensor practice sheets, one per seed (a form feed between them).",
    )
    parser.add_argument("seeds", nargs="+", type=int, help="one integer seed per sheet")
    parser.add_argument("--answers", action="store_true", help="add each sheet's answer key")
    args = parser.parse_args(argv)
    try:
        sheets = [tensor_practice_sheet(s, args.answers) for s in args.seeds]
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    sys.stdout.write("\f".join(sheets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
