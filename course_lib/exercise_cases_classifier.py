"""Cases for the classifier's code exercises (notebooks 05 to 07): the softmax VJP, the fused
cross-entropy backward and its find-the-bug variant, and the whole network's backward pass.

Each case builder returns random cases whose expected answers come from the engine
(``Tensor`` and ``backward()``, float64), with the answers the usual mistakes give and the
sentence each one earns. :mod:`course_lib.exercise_bank` registers them as exercises.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib import kernels
from course_lib.exercises import Case
from course_lib.tensor import Tensor, linear, softmax, softmax_cross_entropy

__all__ = [
    "NETWORK_OUTPUTS",
    "PLANTED_BUG_HINT",
    "cross_entropy_cases",
    "network_cases",
    "softmax_vjp_cases",
    "softmax_vjp_memory",
]


def _t(array: np.ndarray) -> Tensor:
    """A float64 Tensor of ``array``: the engine's answers are computed in float64."""
    return Tensor(np.array(array, dtype=np.float64))


# ---- softmax: the vector-Jacobian product ---------------------------------------------------


def softmax_vjp_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape in [(3,), (10,), (4, 5), (1, 4)]:
        z = rng.normal(size=shape)
        g = rng.normal(size=shape)
        tz = _t(z)
        p = softmax(tz)
        p.backward(g)
        P = p.data
        dot = (g * P).sum(axis=-1, keepdims=True)  # ⟨g, p⟩, one per row
        mistakes = [
            (
                g * P * (1 - P),
                "vjp",
                "that keeps only the diagonal p_i(1 − p_i) of the Jacobian, "
                "as if softmax were elementwise: every p_i also depends on every other z_j, which "
                "adds the −p_i p_j terms: Jᵀg = p ⊙ (g − ⟨g, p⟩)",
            ),
            (
                P * (1 - (P).sum(axis=-1, keepdims=True)),
                "vjp",
                "the upstream gradient g is missing: Jᵀg = p ⊙ (g − ⟨g, p⟩)",
            ),
            (
                P * (dot - g),
                "vjp",
                "the sign is flipped: p ⊙ (g − ⟨g, p⟩), not p ⊙ (⟨g, p⟩ − g)",
            ),
            (
                P * (g - g.sum(axis=-1, keepdims=True)),
                "vjp",
                "⟨g, p⟩ is the p-weighted sum Σ_i g_i p_i, not the plain sum Σ_i g_i: "
                "(upstream * p).sum(...)",
            ),
            (
                g - dot,
                "vjp",
                "the factor p is missing in front: (Jᵀg)_j = p_j (g_j − ⟨g, p⟩)",
            ),
        ]
        if P.ndim == 2 and P.shape[0] > 1:
            mistakes.append(
                (
                    P * (g - (g * P).sum(axis=0, keepdims=True)),
                    "vjp",
                    "⟨g, p⟩ is summed over axis 0, across the examples of the batch; "
                    "it is one dot product per row, over the classes (axis -1)",
                )
            )
        cases.append(
            Case(
                f"p of shape {shape}",
                {"p": P, "upstream": g},
                {"vjp": tz.grad},
                mistakes=mistakes,
                upstream="upstream",
            )
        )
    return cases


def softmax_vjp_memory(fn: Callable[..., Any]) -> str:
    """A VJP that builds the C × C Jacobian: right numbers, wrong cost."""
    c = 2000
    p = kernels.softmax(np.random.default_rng(1).normal(size=c))
    g = np.ones(c)
    tracemalloc.start()
    try:
        fn(p, g)
        peak = tracemalloc.get_traced_memory()[1]
    except Exception:
        return ""
    finally:
        tracemalloc.stop()
    if peak > 8 * c * c / 4:  # a quarter of J's 32 MB: far more than O(C) ever needs
        return (
            f"right numbers, but at C = {c} it used {peak / 1e6:.0f} MB, as much as building "
            f"the {c} × {c} Jacobian: compute ⟨g, p⟩ once and use p ⊙ (g − ⟨g, p⟩), O(C)"
        )
    return ""


# ---- cross-entropy on softmax -------------------------------------------------------------


PLANTED_BUG_HINT = (
    "this is what the teammate's function gave before any change: the bug is still there. It "
    "passed the case with one example, so it goes wrong only when a batch has several rows. "
    "Compare it, row by row, with (P − Y) / N for two rows with different labels"
)


def cross_entropy_cases(rng: np.random.Generator, planted: bool = False) -> list[Case]:
    """Batches of N = 1, 4 and 6; with ``planted``, the find-the-bug exercise's untouched
    function is recognised first (and answered with a hint, not with the fix)."""
    cases = []
    for n, c in [(1, 3), (4, 3), (6, 10)]:
        Z = rng.normal(size=(n, c)) * 2
        y = rng.integers(0, c, size=n)
        tz = _t(Z)
        softmax_cross_entropy(tz, y).backward()
        P = kernels.softmax(Z)
        Y = np.eye(c)[y]
        columns = np.zeros((n, c))
        columns[:, y] = 1  # every row gets a 1 at every label of the batch
        mistakes = [
            (P / n, "dlogits", "that is P / N: subtract the one-hot target, (P − Y) / N"),
            ((Y - P) / n, "dlogits", "the sign is flipped: (P − Y) / N, not (Y − P) / N"),
        ]
        if planted:
            mistakes.insert(0, ((P - columns) / n, "dlogits", PLANTED_BUG_HINT))
        if y.max() < n:  # otherwise P[y] raises, and the learner sees that error
            rows = P.copy()
            rows[y] -= 1  # indexing with y alone picks whole rows
            mistakes.append(
                (
                    rows / n,
                    "dlogits",
                    "indexing with the labels alone, P[y] (or Y[y]), picks whole rows y[0], "
                    "y[1], ...; index one entry per row: [np.arange(N), y]",
                )
            )
        mistakes.append(
            (
                (P - columns) / n,
                "dlogits",
                "[:, y] picks whole columns: every row gets a 1 (or a −1) at every label of the "
                "batch, not only at its own; index one entry per row: [np.arange(N), y]",
            )
        )
        e = np.exp(Z - Z.max(axis=0))
        mistakes.append(
            (
                (e / e.sum(axis=0) - Y) / n,
                "dlogits",
                "the softmax normalises over axis 0 (across the batch); each row's "
                "probabilities are over its classes, axis 1",
            )
        )
        mistakes.append(
            (
                (P - Y) / c,
                "dlogits",
                f"that divides by C = {c}, the number of classes; the loss is the mean over the "
                f"N = {n} row{'s' if n != 1 else ''} of the batch, so divide by N",
            )
        )
        cases.append(
            Case(
                f"logits of shape ({n}, {c}), labels {y.tolist()}",
                {"logits": Z, "labels": y},
                {"dlogits": tz.grad},
                mistakes=mistakes,
                batch=n,
            )
        )
    return cases


# ---- the whole network --------------------------------------------------------------------


NETWORK_OUTPUTS = ("dlogits", "dW2", "db2", "dh", "da", "dW1", "db1")


def network_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d, hidden, c in [(1, 6, 4, 3), (5, 6, 4, 3), (8, 784, 100, 10)]:
        X = rng.uniform(0, 1, size=(n, d))
        y = rng.integers(0, c, size=n)
        W1, b1 = rng.normal(size=(d, hidden)) * 0.3, rng.normal(size=hidden) * 0.1
        W2, b2 = rng.normal(size=(hidden, c)) * 0.3, rng.normal(size=c) * 0.1
        tW1, tb1, tW2, tb2 = _t(W1), _t(b1), _t(W2), _t(b2)
        a = linear(Tensor(X, requires_grad=False), tW1, tb1)
        h = a.sigmoid()
        z = linear(h, tW2, tb2)
        softmax_cross_entropy(z, y).backward()
        H, P = h.data, kernels.softmax(z.data)
        Y = np.eye(c)[y]
        dz = (P - Y) / n
        want = {
            "dlogits": z.grad,
            "dW2": tW2.grad,
            "db2": tb2.grad,
            "dh": h.grad,
            "da": a.grad,
            "dW1": tW1.grad,
            "db1": tb1.grad,
        }
        last_path = dz[:, -1:] * W2[:, -1]
        mistakes = [
            (
                P - Y,
                "dlogits",
                "that is P − Y for each example; the loss is the mean over the "
                "N examples, so dlogits = (P − Y) / N",
            ),
            (
                last_path,
                "dh",
                "dh holds only the path through the last output: a loop over the outputs "
                "overwrote dh instead of adding each path (sum at joins); dh = dlogits @ W2ᵀ",
            ),
            (
                want["dh"] * (1 - H),
                "da",
                "that multiplies by (1 − h) only; the sigmoid's local partial is h (1 − h)",
            ),
            (
                want["dh"],
                "da",
                "that is dh itself: passing through the sigmoid multiplies by "
                "its local partial h (1 − h)",
            ),
            (
                want["dh"] * a.data * (1 - a.data),
                "da",
                "that uses a, the sigmoid's input, in "
                "h (1 − h): the local partial of σ is σ(a)(1 − σ(a)) = h (1 − h), the output",
            ),
            (
                X.T @ want["dh"],
                "dW1",
                "that is Xᵀ @ dh: the gradient must pass through the sigmoid first, dW1 = Xᵀ @ da",
            ),
        ]
        cases.append(
            Case(
                f"a {d}-{hidden}-{c} network on a batch of N = {n}",
                {"X": X, "labels": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "h": H, "P": P},
                want,
                mistakes=mistakes,
                broadcast={"db2": (n, c), "db1": (n, hidden)},
                batch=n,
            )
        )
    return cases
