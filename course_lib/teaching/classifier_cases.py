"""Cases for the classifier's code exercises (notebooks 05 to 07): the softmax VJP, the fused
cross-entropy backward and its find-the-bug variant, and the whole network's backward pass.

Each case builder returns random cases whose expected answers come from the engine
(``Tensor`` and ``backward()``, float64), with the answers the usual mistakes give and the
sentence each one earns. A sentence names the slip and where to look, never the correct line:
the rule itself (``*_RULE``) is shown only from a learner's second wrong attempt on, and for
the network only the rule of an output that slips again (``NETWORK_OUTPUT_RULES``).
:mod:`course_lib.teaching.exercise_bank` registers them as exercises.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib import kernels
from course_lib.teaching.code_exercise import Case, shapes_named
from course_lib.tensor import Tensor, linear, softmax, softmax_cross_entropy

__all__ = [
    "CROSS_ENTROPY_RULE",
    "NETWORK_OUTPUTS",
    "NETWORK_OUTPUT_RULES",
    "NETWORK_RULE",
    "PLANTED_BUG_HINT",
    "SOFTMAX_VJP_RULE",
    "cross_entropy_cases",
    "network_cases",
    "softmax_vjp_cases",
    "softmax_vjp_memory",
]


def _t(array: np.ndarray) -> Tensor:
    """A float64 Tensor of ``array``: the engine's answers are computed in float64."""
    return Tensor(np.array(array, dtype=np.float64))


# ---- softmax: the vector-Jacobian product ---------------------------------------------------

SOFTMAX_VJP_RULE = (
    "(Jᵀg)_j = p_j (g_j − ⟨g, p⟩), with ⟨g, p⟩ = Σ_i g_i p_i: one dot product per row, over "
    "the classes (the last axis), kept as size 1 so that each row subtracts its own"
)


def _no_keepdims(shape: tuple[int, ...]) -> Callable[[BaseException], bool]:
    """Does a broadcast error name ``shape`` and ``shape`` without its last axis?"""
    return lambda error: {shape, shape[:-1]} <= set(shapes_named(error))


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
                "adds the −p_i p_j terms",
            ),
            (
                P * (1 - (P).sum(axis=-1, keepdims=True)),
                "vjp",
                "the upstream gradient g is missing: a vector-Jacobian product takes g through "
                "the Jacobian, so g appears in every entry",
            ),
            (
                P * (dot - g),
                "vjp",
                "the sign is flipped everywhere: check the order of the two terms inside the "
                "bracket",
            ),
            (
                P * (g - g.sum(axis=-1, keepdims=True)),
                "vjp",
                "⟨g, p⟩ is the p-weighted sum Σ_i g_i p_i, not the plain sum Σ_i g_i: each "
                "g_i comes weighted by its own probability",
            ),
            (
                g - dot,
                "vjp",
                "the factor p is missing in front: every entry j of the product carries its own "
                "probability p_j as a factor",
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
            mistakes.append(
                (
                    P * (g - (g * P).sum()),
                    "vjp",
                    "⟨g, p⟩ is summed over the whole array, every row's products together (a "
                    "sum with no axis); it is one dot product per row, over the classes (axis -1)",
                )
            )
        cases.append(
            Case(
                f"p of shape {shape}",
                {"p": P, "upstream": g},
                {"vjp": tz.grad},
                mistakes=mistakes,
                upstream="upstream",
                errors=[
                    (
                        _no_keepdims(shape),
                        f"⟨g, p⟩ has shape (N,) = {shape[:-1]} here, one number per row, and "
                        f"cannot line up with g's {shape}: sum with keepdims=True so each row "
                        "subtracts its own",
                    )
                ]
                if len(shape) == 2 and shape[0] > 1
                else [],
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
            f"the {c} × {c} Jacobian: the product needs only ⟨g, p⟩, one number per row, and "
            "then one pass over the entries, O(C)"
        )
    return ""


# ---- cross-entropy on softmax -------------------------------------------------------------


PLANTED_BUG_HINT = (
    "this is what the teammate's function gave before any change: the bug is still there. It "
    "passed the case with one example, so it goes wrong only when a batch has several rows. "
    "Compare it, row by row, with (P − Y) / N for two rows with different labels"
)


CROSS_ENTROPY_RULE = (
    "L = (1/N) Σ_n −log P[n, y_n], with P the softmax of each row of logits (computed stably: "
    "each row's largest logit subtracted before exp); ∂L/∂Z = (P − Y) / N, where row n of Y is "
    "1 at column y_n and 0 elsewhere"
)

LARGE_LOGIT_HINT = (
    "exp of a logit near 1000 overflows float64 (exp stops at about e^709.8): the softmax is "
    'computed unstably; notebook 05\'s section "Stability: softmax at z = 1000" keeps every '
    "exp finite without changing the softmax"
)

PLANTED_BUG_LEFT = (
    "the division by N is gone, and the teammate's bug is still there: the loss is a mean over "
    "the N rows, so the / N was right. The bug goes wrong only when a batch has several rows: "
    "compare the function, row by row, with (P − Y) / N for two rows with different labels"
)


def _one_hot_of_batch_size(n: int, c: int) -> Callable[[BaseException], bool]:
    """Does a broadcast error name the logits' shape (N, C) and an N × N one-hot matrix?"""
    return lambda error: {(n, c), (n, n)} <= set(shapes_named(error))


def cross_entropy_cases(rng: np.random.Generator, planted: bool = False) -> list[Case]:
    """Batches of N = 1, 4 and 6, then logits near 1000 (a softmax that does not subtract each
    row's max overflows there); with ``planted``, the find-the-bug exercise's untouched function
    is recognised first (and answered with a hint, not with the fix).

    The batch of one is not decisive: there P − Y and (P − Y) / N agree, a division by C and one
    by N·C agree, and an identity of size N makes the same numbers as whole rows P[y]. Its
    failure is reported only when the batches of several rows (N ≠ C) pass.
    """
    cases = []
    for n, c, large in [(1, 3, False), (4, 3, False), (6, 10, False), (3, 4, True)]:
        Z = rng.normal(size=(n, c)) * 2 + (1000.0 if large else 0.0)
        y = rng.integers(0, c, size=n)
        tz = _t(Z)
        softmax_cross_entropy(tz, y).backward()
        P = kernels.softmax(Z)
        Y = np.eye(c)[y]
        columns = np.zeros((n, c))
        columns[:, y] = 1  # every row gets a 1 at every label of the batch
        mistakes = [
            (
                P / n,
                "dlogits",
                "that is P / N, the probabilities alone: the one-hot target's part is missing "
                "(the loss picks each row's true class, and that pick has a gradient too)",
            ),
            (
                (Y - P) / n,
                "dlogits",
                "the sign is flipped: that is the target minus the probabilities; raising the "
                "true class's logit lowers the loss, so the gradient there is negative",
            ),
        ]
        if planted:
            mistakes.insert(0, ((P - columns) / n, "dlogits", PLANTED_BUG_HINT))
            if n > 1:  # the / N taken out, the planted bug left in
                mistakes.insert(1, (P - columns, "dlogits", PLANTED_BUG_LEFT))
        if y.max() < n:  # otherwise P[y] raises, and the learner sees that error
            rows = P.copy()
            rows[y] -= 1  # indexing with y alone picks whole rows
            mistakes.append(
                (
                    rows / n,
                    "dlogits",
                    "indexing with the labels alone, P[y] (or Y[y]), picks whole rows y[0], "
                    "y[1], ...; each row needs one entry changed, the one at its own label",
                )
            )
        mistakes.append(
            (
                (P - columns) / n,
                "dlogits",
                "[:, y] picks whole columns: every row gets a 1 (or a −1) at every label of the "
                "batch, not only at its own; each row needs one entry changed, at its own label",
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
                f"N = {n} row{'s' if n != 1 else ''} of the batch, not over the classes",
            )
        )
        mistakes.append(
            (
                (P - Y) / (n * c),
                "dlogits",
                f"that divides by N·C = {n * c}, the number of entries of the logits "
                f"(logits.size); the loss is the mean over the N = {n} "
                f"row{'s' if n != 1 else ''} only: within a row the classes are not averaged",
            )
        )
        log_p = Z - Z.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        mistakes.append(
            (
                (log_p - Y) / n,
                "dlogits",
                "that uses the log-probabilities, log P (a log_softmax), where the gradient has "
                "the probabilities P themselves: the log is in the loss, and differentiating "
                "the loss through the softmax takes it away",
            )
        )
        cases.append(
            Case(
                f"logits of shape ({n}, {c})"
                + (" near 1000 (exp(1000) overflows float64)" if large else "")
                + f", labels {y.tolist()}",
                {"logits": Z, "labels": y},
                {"dlogits": tz.grad},
                mistakes=mistakes,
                batch=n,
                decisive=n > 1,
                errors=[
                    (
                        _one_hot_of_batch_size(n, c),
                        f"the one-hot matrix is N × N = {n} × {n}, an identity of the batch "
                        f"size (np.eye(N)): a one-hot row needs one entry per class, C = {c}",
                    )
                ]
                if n != c
                else [],
                overflow=LARGE_LOGIT_HINT if large else "",
            )
        )
    return cases


# ---- the whole network --------------------------------------------------------------------


NETWORK_OUTPUTS = ("dlogits", "dW2", "db2", "dh", "da", "dW1", "db1")

NETWORK_RULE = (
    "go through the forward pass from its last line to its first: the gradient of each "
    "intermediate is the sum, over every use of it, of the upstream gradient (that of what it "
    "feeds) times the op's local partial, and it has the shape of that intermediate"
)

# Each output's rule, shown only when that output is wrong in a second attempt too: never the
# whole list at once (the notebook asks for the backward from the forward pass alone).
NETWORK_OUTPUT_RULES = {
    "dlogits": "dlogits = (P − Y) / N, with row n of Y one-hot at label n: the softmax "
    "cross-entropy's gradient, carrying the 1/N of the mean over the batch.",
    "dW2": "logits = h W2 + b2, a matmul: dW2 = hᵀ dlogits (notebook 03's dB = Aᵀ dY).",
    "db2": "logits = h W2 + b2 adds b2 to each of the N rows (a broadcast): db2 = dlogits "
    "summed over the N rows.",
    "dh": "dh = dlogits W2ᵀ (notebook 03's dA = dY Bᵀ): each hidden unit's paths through all "
    "C outputs, summed.",
    "da": "h = σ(a), whose local partial is σ'(a) = h (1 − h): da = dh ⊙ h ⊙ (1 − h).",
    "dW1": "a = X W1 + b1, a matmul: dW1 = Xᵀ da.",
    "db1": "a = X W1 + b1 adds b1 to each of the N rows (a broadcast): db1 = da summed over "
    "the N rows.",
}


def network_cases(rng: np.random.Generator) -> list[Case]:
    """A 6-4-3 network on batches of 1 and 5, and a 784-100-10 one on a batch of 8. The batch
    of one is not decisive (P − Y and (P − Y) / N agree there)."""
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
        rows = np.arange(n)
        sigma_of_h = 1 / (1 + np.exp(-H))
        mistakes = [
            (
                P - Y,
                "dlogits",
                "that is P − Y for each example; the loss is the mean over the "
                "N examples, so its gradient carries the mean's factor too",
            ),
            (
                P / n,
                "dlogits",
                "that is P / N, the probabilities alone: the one-hot target's part is missing "
                "(the loss picks each row's true class, and that pick has a gradient too)",
            ),
            (
                dz[:, -1:] * W2[:, -1],
                "dh",
                "dh holds only the path through the last output: a loop over the outputs "
                "overwrote dh instead of adding each path (sum at joins)",
            ),
            (
                dz[:, :1] * W2[:, 0],
                "dh",
                "dh holds only the path through the first output: each hidden unit feeds all C "
                "outputs, and its gradient adds the paths through every one of them (sum at "
                "joins)",
            ),
            (
                dz[rows, y][:, None] * W2[:, y].T,
                "dh",
                "dh follows only each example's true-class output: every logit depends on h and "
                "moves the loss (the softmax couples them), so dh adds the paths through all C "
                "outputs",
            ),
            (
                want["dh"] * (1 - H),
                "da",
                "that multiplies by (1 − h) only: a factor of the sigmoid's local partial is "
                "missing",
            ),
            (
                want["dh"] * H,
                "da",
                "that multiplies by h only: a factor of the sigmoid's local partial is missing",
            ),
            (
                want["dh"],
                "da",
                "that is dh itself: passing through the sigmoid multiplies by its local partial",
            ),
            (
                want["dh"] * (1 - H**2),
                "da",
                "that multiplies by 1 − h², tanh's slope: this hidden layer is a sigmoid, whose "
                "slope written with its output is another expression",
            ),
            (
                want["dh"] * a.data * (1 - a.data),
                "da",
                "that uses a, the sigmoid's input, where its output h belongs: the sigmoid's "
                "local partial is written with its output",
            ),
            (
                want["dh"] * sigma_of_h * (1 - sigma_of_h),
                "da",
                "that applies σ to h, but h is already σ(a), the sigmoid's output: the local "
                "partial written with the output needs no further σ",
            ),
            (
                X.T @ want["dh"],
                "dW1",
                "that is Xᵀ @ dh: the gradient must pass through the sigmoid first",
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
                decisive=n > 1,
            )
        )
    return cases
