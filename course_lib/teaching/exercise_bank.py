"""The course's code exercises: for each, random cases with the engine's answers, and the
answers the usual mistakes give, so :func:`course_lib.teaching.code_check.check_exercise` can
name them.

Every expected answer here comes from the engine itself (``Value`` or ``Tensor`` and
``backward()``), in float64; the mistakes are computed from the same inputs, each with the
sentence a learner sees when their answer matches it. That sentence names the slip and where to
look, never the correct line; each exercise's ``rule`` (in symbols) is added from the second
wrong attempt on (see :func:`course_lib.teaching.code_check.check_exercise`).

The notebook each exercise is in:

==============================  ==============================================  ========
exercise                        the function to write                           notebook
==============================  ==============================================  ========
``tanh_backward``               a scalar op's rule: upstream × (1 − out²)       02
``sum_to_shape``                undo a broadcast: sum back to an input's shape  03
``matmul_backward``             dA = G Bᵀ, dB = Aᵀ G (batched: summed)          03
``softmax_vjp``                 Jᵀg = p ⊙ (g − ⟨g, p⟩), in O(C)                 05
``cross_entropy_backward``      dL/dZ = (P − Y) / N for a batch                 06
``cross_entropy_find_the_bug``  a teammate's (P − Y) / N with a bug to fix      06
``network_backward``            the 784-H-10 network's whole backward pass      07
``layer_norm_backward``         (g − mean g − y·mean(g y)) / s, row by row      09
``embedding_backward``          dW: a scatter-add, repeated tokens summed       09
==============================  ==============================================  ========
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.autodiff.scalar import Value, define_op
from course_lib.teaching.classifier_cases import (
    CROSS_ENTROPY_RULE,
    NETWORK_OUTPUT_RULES,
    NETWORK_OUTPUTS,
    NETWORK_RULE,
    PLANTED_BUG_HINT,
    SOFTMAX_VJP_RULE,
    cross_entropy_cases,
    network_cases,
    softmax_vjp_cases,
    softmax_vjp_memory,
)
from course_lib.teaching.code_exercise import Case, Exercise
from course_lib.tensor import Tensor, embedding, layer_norm

__all__ = ["EXERCISES", "PLANTED_BUG_HINT", "tanh_op"]


def _t(array: np.ndarray) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64))


def _if_defined(
    candidates: list[tuple[Callable[..., np.ndarray], str, str]], **arrays: np.ndarray
) -> list[tuple[np.ndarray, str, str]]:
    """The mistakes whose wrong answer exists for this case (some need shapes that match):
    each ``make(**arrays)`` computes what the mistake gives."""
    found = []
    for make, output, why in candidates:
        try:
            found.append((make(**arrays), output, why))
        except (ValueError, IndexError):
            pass
    return found


# ---- tanh: a scalar op's backward rule, plugged into graphs ---------------------------------


def tanh_op(x: Value, backward: Callable[[float, float, float], float]) -> Value:
    """tanh as a new op of the scalar engine whose rule is ``backward(upstream, x, out)``.

    The hook the exercise plugs into is :func:`course_lib.autodiff.scalar.define_op`
    (unregistered, so the engine's own tanh stays as it is). ``Value`` stores each node's local
    partial when the node is made, and a rule is linear in its upstream, so the partial is the
    rule's contribution for an upstream of 1.
    """

    def compute(a: float) -> tuple[float, tuple[float]]:
        out = math.tanh(a)
        partial = backward(1.0, a, out)
        if isinstance(partial, bool) or not isinstance(partial, int | float | np.floating):
            raise TypeError(
                f"tanh_backward must return a number, got {type(partial).__name__} {partial!r}"
            )
        return out, (float(partial),)

    return define_op("tanh", "tanh({a})", compute, ("1 - {out}²",), register=False)(x)


def _tanh_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for x in (0.5, -1.3, 2.0):
        g = float(rng.choice([-1.5, 2.0, 0.75]))
        node = Value(x)
        (node.tanh() * g).backward()
        out = math.tanh(x)
        cases.append(
            Case(
                f"x = {x:g}, upstream = {g:g}",
                {"upstream": g, "x": x, "out": out},
                {"contribution": np.array(node.grad)},
                mistakes=[
                    (
                        np.array(g * (1 - x * x)),
                        "contribution",
                        "that is upstream × (1 − x²), written with tanh's input x: tanh's local "
                        "partial uses its output, out = tanh(x), as the engine stores it",
                    ),
                    (
                        np.array(1 - out * out),
                        "contribution",
                        "that is the local partial alone: the upstream gradient is missing from "
                        "the contribution",
                    ),
                    (
                        np.array(g * out),
                        "contribution",
                        "that is upstream × out: out is tanh's value, not its slope; the local "
                        "partial is tanh's derivative, written with out",
                    ),
                    (
                        np.array(g * out * (1 - out)),
                        "contribution",
                        "that is upstream × out (1 − out), the sigmoid's local partial written "
                        "with its output; tanh's derivative is another function of out",
                    ),
                ],
                upstream="upstream",
            )
        )

    # In a graph with fan-out: x feeds tanh twice and a multiply, so its gradient is a sum.
    def graph(x: float, y: float, rule: Callable[..., Any] | None) -> tuple[float, float]:
        vx, vy = Value(x), Value(y)

        def th(v: Value) -> Value:
            return v.tanh() if rule is None else tanh_op(v, rule)

        f = th(vx * vy) * vx + th(vx)
        f.backward()
        return vx.grad, vy.grad

    x, y = 0.7, -1.1
    dx, dy = graph(x, y, None)
    cases.append(
        Case(
            "f(x, y) = tanh(x·y)·x + tanh(x) at x = 0.7, y = -1.1, with your rule for tanh "
            "(x feeds three nodes: the gradients must add)",
            {},
            {"contribution": np.array([dx, dy])},
            run=lambda fn: np.array(graph(x, y, fn)),
        )
    )
    return cases


# ---- broadcasting: sum_to_shape ----------------------------------------------------------

_BROADCASTS = [  # (input shape, shape of the broadcast result)
    ((3,), (4, 3)),  # the bias case: a leading axis added
    ((4, 1), (4, 3)),  # a size-1 axis expanded
    ((1, 3), (1, 3)),  # a batch of 1: nothing to undo
    ((4, 1), (2, 4, 3)),  # both at once: (2, 1, 3)-style shapes
    ((), (2, 3)),  # a scalar used everywhere
    ((2, 1, 3), (2, 4, 3)),
    ((1, 3), (2, 1, 3)),  # a size-1 axis that stays size 1: not summed
]


def _axes_text(axes: tuple[int, ...]) -> str:
    return "no axis" if not axes else f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"


def _wrong_sums(
    grad: np.ndarray, shape: tuple[int, ...], want: np.ndarray
) -> list[tuple[np.ndarray, str, str]]:
    """What the usual slips of sum_to_shape give on ``grad``, each with its sentence: the
    specific ones first (the first match is shown), then every other choice of axes."""
    big = grad.shape
    added = tuple(range(len(big) - len(shape)))
    expanded = tuple(
        len(added) + i for i, n in enumerate(shape) if n == 1 and big[len(added) + i] != 1
    )
    right = added + expanded
    where = (
        f"for an input of shape {shape} in a result of shape {big} the broadcast added "
        f"{_axes_text(added)} and expanded {_axes_text(expanded)}"
    )
    found = [
        (
            np.array(grad.sum()),
            "that sums over every axis; sum only over the axes the broadcast added or expanded, "
            f"so the result keeps the input's shape ({where})",
        )
    ]
    if expanded:
        found.append(
            (
                grad.sum(axis=right),
                "right numbers, but the expanded axes were dropped: keep them as size 1 "
                "(keepdims=True), so the result has the input's shape",
            )
        )
    if added:
        found.append(
            (
                grad.sum(axis=right, keepdims=True),
                f"right numbers, but the added leading {_axes_text(added)} is still there as "
                "size 1: the input never had it, so it must go away (sum without keepdims, or "
                "reshape to the input's shape)",
            )
        )
    if added and expanded:
        found.append(
            (
                grad.sum(axis=added),
                f"that sums over the added leading {_axes_text(added)} only; "
                f"{_axes_text(expanded)} was expanded from size 1 too, so sum over it as well "
                "(keeping it as size 1)",
            )
        )
        found.append(
            (
                grad.sum(axis=expanded, keepdims=True),
                f"that sums over the expanded {_axes_text(expanded)} only; the leading "
                f"{_axes_text(added)} was added by the broadcast: sum it away too",
            )
        )
    copies = max(1, grad.size // max(1, int(np.prod(shape, dtype=int))))
    found.append(
        (
            want / copies,
            "that averages the copies; the gradients of the uses of one value add up (sum at "
            "joins), they are not averaged",
        )
    )
    for count in range(1, len(big) + 1):
        for axes in itertools.combinations(range(len(big)), count):
            if set(axes) == set(right):
                continue
            for keepdims in (False, True):
                found.append(
                    (
                        grad.sum(axis=axes, keepdims=keepdims),
                        f"that sums over {_axes_text(axes)} of grad; {where}: sum over exactly "
                        "those",
                    )
                )
    return [(wrong, "result", why) for wrong, why in found]


def _sum_to_shape_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape, big in _BROADCASTS:
        grad = rng.integers(-4, 5, size=big).astype(np.float64)
        a = _t(np.zeros(shape))
        (a + Tensor(np.zeros(big), requires_grad=False)).backward(grad)
        cases.append(
            Case(
                f"grad of shape {big}, input shape {shape}",
                {"grad": grad, "shape": shape},
                {"result": a.grad},
                mistakes=_wrong_sums(grad, shape, a.grad),
                broadcast={"result": big},
            )
        )
    return cases


# ---- matmul -------------------------------------------------------------------------------


def _matmul_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    # The square case first: a mix-up of factors still runs there, and gets its diagnosis.
    # Then rectangles, a batch of 1, a stack of matrices sharing one B (its gradient sums over
    # the stack) and a stack with one B per matrix (nothing to sum).
    for sa, sb in [
        ((3, 3), (3, 3)),
        ((3, 4), (4, 2)),
        ((1, 4), (4, 2)),
        ((5, 3, 4), (4, 2)),
        ((2, 3, 4), (2, 4, 5)),
    ]:
        A = rng.integers(-3, 4, size=sa).astype(np.float64)
        B = rng.integers(-3, 4, size=sb).astype(np.float64)
        G = rng.integers(-3, 4, size=np.broadcast_shapes(sa[:-2], sb[:-2]) + sa[-2:-1] + sb[-1:])
        G = G.astype(np.float64)
        ta, tb = _t(A), _t(B)
        (ta @ tb).backward(G)
        mistakes = _if_defined(
            [
                (
                    lambda A, B, G: G @ B,
                    "dA",
                    "that is upstream @ B, with B as it is: the shapes fit only because this "
                    "case is square; write each factor's shape beside it and see which "
                    "orientation of B gives dA the shape of A",
                ),
                (
                    lambda A, B, G: B @ G.T,
                    "dA",
                    "the factors are in the wrong order (matrix products do not commute): look "
                    "at which side A sits on in A @ B",
                ),
                (
                    lambda A, B, G: G.T @ A,
                    "dB",
                    "dB is transposed: that is upstreamᵀ @ A, the transpose of what dB must "
                    "be; compare its shape with B's",
                ),
                (
                    lambda A, B, G: A @ G,
                    "dB",
                    "that is A @ upstream, with A as it is: the shapes fit only because this "
                    "case is square; write each factor's shape beside it and see which "
                    "arrangement gives dB the shape of B",
                ),
                (
                    lambda A, B, G: np.ones_like(G) @ B.swapaxes(-1, -2),
                    "dA",
                    "that is ones @ Bᵀ: the upstream gradient is missing; a rule's "
                    "contribution is upstream × local partial",
                ),
            ],
            A=A,
            B=B,
            G=G,
        )
        stack = len(sa) == 3
        if stack and len(sb) == 2:
            mistakes.append(
                (
                    (A.swapaxes(-1, -2) @ G).mean(axis=0),
                    "dB",
                    f"that averages over the stack: B is used by each of the {sa[0]} products "
                    "of the stack, and the gradients of a value's uses add up (sum at joins), "
                    "they are not averaged",
                )
            )
        cases.append(
            Case(
                f"A {sa} @ B {sb}"
                + (
                    ""
                    if not stack
                    else " (a stack of matrices times one B)"
                    if len(sb) == 2
                    else " (a stack of products, each with its own B)"
                ),
                {"upstream": G, "A": A, "B": B},
                {"dA": ta.grad, "dB": tb.grad},
                mistakes=mistakes,
                broadcast={"dB": sa[:-2] + sb} if stack and len(sb) == 2 else {},
                upstream="upstream",
            )
        )
    return cases


# ---- layer norm: the fused backward rule -----------------------------------------------------

LAYER_NORM_EPS = 1e-5

LAYER_NORM_RULE = (
    "with μ and var the mean and variance of a row's D entries, s = √(var + ε) and "
    "y = (x − μ) / s: ∂L/∂x = (g − mean(g) − y · mean(g ⊙ y)) / s, each mean over the row (the "
    "last axis)"
)


def _layer_norm_rule(
    X: np.ndarray, G: np.ndarray, eps: float, ddof: int = 0, axis: int = -1
) -> np.ndarray:
    """The fused rule with a variance over D − ``ddof``, the given ε, and every mean (the
    forward's too) over ``axis``: the slips of s, and a row normalised along the wrong axis."""
    d = X - X.mean(axis=axis, keepdims=True)
    s = np.sqrt((d * d).sum(axis=axis, keepdims=True) / (X.shape[axis] - ddof) + eps)
    y = d / s
    return (G - G.mean(axis=axis, keepdims=True) - y * (G * y).mean(axis=axis, keepdims=True)) / s


def _layer_norm_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape in [(3,), (4, 5), (1, 6), (2, 3, 4)]:
        X = rng.normal(size=shape) * 2 + 1
        G = rng.normal(size=shape)
        tx = _t(X)
        layer_norm(tx, LAYER_NORM_EPS).backward(G)
        d = X - X.mean(axis=-1, keepdims=True)
        s = np.sqrt((d * d).mean(axis=-1, keepdims=True) + LAYER_NORM_EPS)
        Y = d / s
        mean_g = G.mean(axis=-1, keepdims=True)
        mean_gy = (G * Y).mean(axis=-1, keepdims=True)
        mistakes = [
            (
                G / s,
                "dx",
                "that is upstream / s, as if each y_i depended on x_i alone: μ and s depend on "
                "every entry of the row, so each x_i also acts on every y of its row through "
                "the mean and through s",
            ),
            (
                (G - Y * mean_gy) / s,
                "dx",
                "the path through the mean μ is missing: each x_i moves μ, and μ moves every y "
                "of the row",
            ),
            (
                (G - mean_g) / s,
                "dx",
                "the path through s (the standard deviation) is missing: each x_i moves s, and "
                "s scales every y of the row",
            ),
            (
                (G - mean_g + Y * mean_gy) / s,
                "dx",
                "the sign of the path through s is flipped: a larger s shrinks every y",
            ),
            (
                (G - G.sum(axis=-1, keepdims=True) - Y * (G * Y).sum(axis=-1, keepdims=True)) / s,
                "dx",
                "those are sums over the row where the rule has means: μ and the variance "
                "are means over D entries, so each term carries a 1/D",
            ),
            (
                (G - mean_g - Y * mean_gy) * s,
                "dx",
                "that multiplies by s where the rule divides by it (y = (x − μ) / s)",
            ),
            (
                G - mean_g - Y * mean_gy,
                "dx",
                "the factor 1/s is missing: y = (x − μ) / s, so every path from x to y "
                "passes through that division",
            ),
            (
                (G - G.sum(axis=-1, keepdims=True) - Y * mean_gy) / s,
                "dx",
                "the path through μ sums upstream over the row where the rule has its mean: μ "
                "is a mean over D entries, so that term carries a 1/D",
            ),
            (
                (G - mean_g - Y * (G * Y).sum(axis=-1, keepdims=True)) / s,
                "dx",
                "the path through s sums upstream ⊙ y over the row where the rule has its mean: "
                "the variance is a mean over D entries, so that term carries a 1/D",
            ),
            (
                _layer_norm_rule(X, G, eps=0.0),
                "dx",
                "ε is missing from s: the forward pass divides by the square root of "
                "(variance + ε), so the backward's s holds ε too (a small difference, but far "
                "above float64 rounding)",
            ),
            (
                _layer_norm_rule(X, G, LAYER_NORM_EPS, ddof=1),
                "dx",
                "the variance divides by D − 1 (ddof=1, the sample variance); layer norm's "
                "variance is the plain mean of the squared deviations over the D entries of "
                "the row",
            ),
        ]
        if len(shape) >= 2 and shape[0] > 1:
            mistakes.append(
                (
                    (G - G.mean(axis=0, keepdims=True) - Y * (G * Y).mean(axis=0, keepdims=True))
                    / s,
                    "dx",
                    "the means run over axis 0, across the rows; each row is normalised on its "
                    "own, so its means run along the row, the last axis",
                )
            )
            mistakes.append(
                (
                    _layer_norm_rule(X, G, LAYER_NORM_EPS, axis=0),
                    "dx",
                    "every mean, μ and the variance too, runs over axis 0, across the rows; each "
                    "row is normalised on its own, so its means run along the row, the last axis",
                )
            )
            mistakes.append(
                (
                    (G - G.mean() - Y * (G * Y).mean()) / s,
                    "dx",
                    "the means run over the whole array; each row is normalised on its own, so "
                    "its means run along the row, the last axis",
                )
            )
        cases.append(
            Case(
                f"x of shape {shape} (rows along the last axis), eps = {LAYER_NORM_EPS:g}",
                {"x": X, "upstream": G, "eps": LAYER_NORM_EPS},
                {"dx": tx.grad},
                mistakes=mistakes,
                upstream="upstream",
            )
        )
    return cases


# ---- embedding: backward is a scatter-add ------------------------------------------------------


EMBEDDING_RULE = (
    "dW[v] = the sum of upstream[position] over every position, in every sequence, that holds "
    "token v (a row of zeros for a token never used)"
)


def _embedding_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for vocab, dim, tokens in [
        (5, 2, np.array([2, 0, 3])),  # no token twice
        (4, 3, np.array([1, 3, 1, 1, 0])),  # token 1 three times, token 2 unused
        (6, 2, np.array([[0, 5, 0], [5, 2, 0]])),  # a batch of two sequences
    ]:
        W = rng.normal(size=(vocab, dim))
        # halves: exact in floats, and not whole, so an integer dW (which cuts them) shows
        G = rng.integers(-8, 9, size=(*tokens.shape, dim)).astype(np.float64) / 2
        G[G == 0] = 0.5  # every row of upstream counts: a lost row always shows
        tw = _t(W)
        embedding(tw, tokens).backward(G)
        overwritten = np.zeros((vocab, dim))
        overwritten[tokens] = G  # keeps one row per repeated token
        counts = np.bincount(tokens.ravel(), minlength=vocab).astype(np.float64)[:, None]
        mistakes = []
        if not np.array_equal(overwritten, tw.grad):
            mistakes.append(
                (
                    overwritten,
                    "dW",
                    "a repeated token kept only one of its upstream rows: dW[tokens] = upstream "
                    "and dW[tokens] += upstream both write a repeated row once (numpy does not "
                    "add up repeats in a fancy-index assignment); a repeated token's rows must "
                    "add up, one for each use",
                )
            )
            mistakes.append(
                (
                    tw.grad / np.maximum(counts, 1.0),
                    "dW",
                    "that averages a repeated token's rows; the uses of one value add up "
                    "(sum at joins), they are not averaged",
                )
            )
        if tokens.ndim > 1:
            by_sequence = np.zeros((vocab, dim))
            for n, sequence in enumerate(tokens):
                by_sequence[sequence] += G[n]  # a repeat within one sequence is written once
            mistakes.append(
                (
                    by_sequence,
                    "dW",
                    f"right for one sequence of tokens, but here tokens is a batch of shape "
                    f"{tokens.shape}: each step of your loop takes a whole sequence, and a token "
                    "repeated within that sequence is written once; count each token's uses in "
                    "every sequence",
                )
            )
        mistakes.append(
            (
                np.repeat(counts, dim, axis=1),
                "dW",
                "that counts each token's uses; each use contributes its upstream row, so add "
                "the rows of upstream, not 1s",
            )
        )
        cases.append(
            Case(
                f"tokens {tokens.tolist()}, a table of {vocab} rows of {dim}",
                {"tokens": tokens, "upstream": G, "vocab_size": vocab},
                {"dW": tw.grad},
                mistakes=mistakes,
                upstream="upstream",
                errors=[
                    (
                        lambda e: isinstance(e, ValueError) and "broadcast" in str(e),
                        f"the gradient dL/dW has W's shape, ({vocab}, {dim}) here: one row per "
                        f"token id, and D = {dim} numbers in a row, the length of upstream's last "
                        f"axis (upstream has shape {G.shape}); check the shape your dW was made "
                        "with",
                    )
                ],
            )
        )
    return cases


EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in [
        Exercise(
            "tanh_backward",
            "tanh_backward(upstream, x, out)",
            ("contribution",),
            _tanh_cases,
            rule="a rule's contribution is upstream × local partial; tanh(x) = num / den with "
            "num = eˣ − e⁻ˣ and den = eˣ + e⁻ˣ, whose derivatives are num′ = den and den′ = num, "
            "so the quotient rule gives the local partial (den² − num²) / den²: write it with "
            "out = num / den",
        ),
        Exercise(
            "sum_to_shape",
            "my_sum_to_shape(grad, shape)",
            ("result",),
            _sum_to_shape_cases,
            rule="each copy a broadcast makes is a use, and the gradients of the uses add: sum "
            "grad over the leading axes the broadcast added (they go away) and over each axis it "
            "expanded from size 1 (kept as size 1)",
        ),
        Exercise(
            "matmul_backward",
            "my_matmul_backward(upstream, A, B) -> (dA, dB)",
            ("dA", "dB"),
            _matmul_cases,
            rule="for Y = A B with upstream G = ∂L/∂Y: ∂L/∂A = G Bᵀ and ∂L/∂B = Aᵀ G (ᵀ "
            "swaps the last two axes); a B shared by a stack of products gets Aᵀ G summed over "
            "the stack",
        ),
        Exercise(
            "softmax_vjp",
            "my_softmax_vjp(p, upstream)",
            ("vjp",),
            softmax_vjp_cases,
            check_memory=softmax_vjp_memory,
            rule=SOFTMAX_VJP_RULE,
        ),
        Exercise(
            "cross_entropy_backward",
            "cross_entropy_backward(logits, labels)",
            ("dlogits",),
            cross_entropy_cases,
            rule=CROSS_ENTROPY_RULE,
        ),
        Exercise(
            "cross_entropy_find_the_bug",
            "fused_backward(logits, labels)",
            ("dlogits",),
            lambda rng: cross_entropy_cases(rng, planted=True),
            rule=CROSS_ENTROPY_RULE,
            handed_out=PLANTED_BUG_HINT,
        ),
        Exercise(
            "network_backward",
            "network_backward(X, labels, W1, b1, W2, b2, h, P) -> dict of "
            + ", ".join(NETWORK_OUTPUTS),
            NETWORK_OUTPUTS,
            network_cases,
            depends={
                "dW2": "dlogits",
                "db2": "dlogits",
                "dh": "dlogits",
                "da": "dh",
                "dW1": "da",
                "db1": "da",
            },
            rule=NETWORK_RULE,
            output_rules=NETWORK_OUTPUT_RULES,
            returns="dict",
            arrays=True,
        ),
        Exercise(
            "layer_norm_backward",
            "layer_norm_backward(x, upstream, eps)",
            ("dx",),
            _layer_norm_cases,
            rule=LAYER_NORM_RULE,
        ),
        Exercise(
            "embedding_backward",
            "embedding_backward(tokens, upstream, vocab_size)",
            ("dW",),
            _embedding_cases,
            rule=EMBEDDING_RULE,
        ),
    ]
}
