"""Tensor practice sheets: four small array questions from a seed, with an answer key.

The scalar sheets (:mod:`course_lib.practice`) train the four moves on graphs of numbers.
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

    python -m course_lib.tensor_practice 101 102 --answers
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass

import numpy as np

from course_lib.check import jacobian_finite_differences, jacobian_reverse_mode
from course_lib.formatting import format_number
from course_lib.tensor import Tensor, broadcast_axes, layer_norm, softmax, softmax_cross_entropy

__all__ = ["TensorSheet", "tensor_practice_sheet", "tensor_sheet"]

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
    return "none" if not axes else ", ".join(str(a) for a in axes)


def _numbers(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def _four(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(format_number(v, decimals=4) for v in values) + ")"


def tensor_sheet(seed: int) -> TensorSheet:
    """The questions and the answer key of sheet ``seed`` (the same for the same seed)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
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
    s = tensor_sheet(seed)
    (shape_a, shape_b), (axes_a, axes_b) = s.shapes, s.sum_axes
    result = tuple(np.broadcast_shapes(shape_a, shape_b))
    lines = [
        f"Tiny Graphs First: tensor practice sheet {s.seed}",
        "",
        f"1. Broadcasting. out = a + b with a of shape {shape_a} and b of shape {shape_b}, so out",
        f"   has shape {result}. Given dL/dout, over which axes of it do you sum to get dL/da?",
        "   And dL/db? (Number the axes of out from 0; keep size-1 axes as size 1.)",
        "",
        f"2. A softmax Jacobian row. p = softmax(z) with z = {_numbers(s.logits)}. Write row "
        f"{s.row},",
        f"   dp_{s.row}/dz_j for j = 0, 1, 2, with p_i (δ_ij − p_j). 4 decimals.",
        "",
        f"3. A cross-entropy gradient row. One example with logits {_numbers(s.ce_logits)} and",
        f"   true class {s.label}; L = −log p_{s.label}. Write dL/dz (one entry per class). 4 "
        "decimals.",
        "",
        f"4. A layer-norm row. y = layer_norm(x), x = {_numbers(s.ln_x)}, ε = 1e-5, and the",
        f"   upstream dL/dy = {_numbers(s.ln_upstream)}. Write dL/dx with",
        "   (g − mean(g) − y·mean(g·y)) / s, s = √(var(x) + ε). 4 decimals.",
    ]
    if answers:
        lines += [
            "",
            "-" * 30 + " answer key " + "-" * 30,
            f"1. dL/da: sum over axes {_axes_text(axes_a)}; dL/db: sum over axes "
            f"{_axes_text(axes_b)}",
            f"2. row {s.row}: {_four(s.jacobian_row)}",
            f"3. dL/dz = p − y = {_four(s.ce_grad)}",
            f"4. dL/dx = {_four(s.ln_grad)}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print one tensor sheet per seed (``python -m course_lib.tensor_practice SEED ...``)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.tensor_practice",
        description="Print tensor practice sheets, one per seed (a form feed between them).",
    )
    parser.add_argument("seeds", nargs="+", type=int, help="one integer seed per sheet")
    parser.add_argument("--answers", action="store_true", help="add each sheet's answer key")
    args = parser.parse_args(argv)
    sys.stdout.write("\f".join(tensor_practice_sheet(s, args.answers) for s in args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
