"""Notebook 12 (review): its six multiple-choice questions.

:func:`review_questions` asks the card's four ideas (notebook 00 explains the card) in
situations no earlier notebook showed: a shared denominator that is not softmax's, a loss on
softmax that is not cross-entropy, cross-entropy with the true class elsewhere, a broadcast
multiply, the upstream gradient of a node in a graph not seen before, and the order of the
backward pass. The numbers in their options are computed here by the engine, so an option
cannot drift from what ``backward()`` gives. (The notebook's hand exercises, the questions of
its tensor sheet, are in :mod:`course_lib.teaching.answers.review`.)
"""

from __future__ import annotations

import numpy as np

from course_lib.autodiff.scalar import Value
from course_lib.numbers.formatting import format_number
from course_lib.teaching.quiz import Question
from course_lib.tensor import Tensor, softmax, softmax_cross_entropy

__all__ = [
    "ce_gradient",
    "join_graph",
    "review_questions",
    "shares_gradient",
    "sum_of_p_gradient",
]

# The fresh situations of the questions (the test holds each option to the engine).
SHARES_X = (1.0, 1.0, 2.0)  # n = x / (x0 + x1 + x2)
SUM_OF_P_Z = (1.0, 2.0, 3.0)  # L = p0 + p1 + p2, p = softmax(z)
CE_P, CE_LABEL = (0.2, 0.7, 0.1), 2  # softmax output and a true class the model ranks last
JOIN_X, JOIN_Y = 1.0, 2.0  # a = x·y, b = a + y, f = a·b


def _row(values) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def shares_gradient() -> tuple[float, float]:
    """∂n0/∂x2 and ∂n0/∂x0 for n = x / sum(x) at :data:`SHARES_X`, by ``backward()``."""
    x = Tensor(np.array(SHARES_X))
    (x / x.sum()).backward(np.array([1.0, 0.0, 0.0]))
    return float(x.grad[2]), float(x.grad[0])


def sum_of_p_gradient() -> np.ndarray:
    """dL/dz for L = p0 + p1 + p2, p = softmax(z), at :data:`SUM_OF_P_Z`, by ``backward()``."""
    z = Tensor(np.array(SUM_OF_P_Z))
    softmax(z).sum().backward()
    return z.grad.copy()


def ce_gradient(label: int = CE_LABEL) -> np.ndarray:
    """dL/dz of cross-entropy with true class ``label`` where softmax(z) = :data:`CE_P`."""
    z = Tensor(np.log(np.array([CE_P])))
    softmax_cross_entropy(z, np.array([label])).backward()
    return z.grad[0].copy()


def join_graph() -> tuple[Value, Value, Value]:
    """a, b, f of the graph a = x·y, b = a + y, f = a·b, after ``backward()``."""
    x, y = Value(JOIN_X, label="x"), Value(JOIN_Y, label="y")
    a = (x * y).named("a")
    b = (a + y).named("b")
    f = (a * b).named("f")
    f.backward()
    return a, b, f


def review_questions() -> list[Question]:
    """The review's questions: the card's four ideas, each in a situation not met before."""
    x0, x1, x2 = (format_number(v) for v in SHARES_X)
    off, diag = shares_gradient()
    total = sum(SHARES_X)
    p_sum = softmax(Tensor(np.array(SUM_OF_P_Z))).data
    ce = ce_gradient()
    guess = int(np.argmax(CE_P))
    ce_guess = ce_gradient(guess)
    a, b, f = join_graph()
    direct, through_b = b.data, a.data  # (df/df)·(∂f/∂a) and (df/db)·(∂b/∂a)
    return [
        Question(
            "Shares without exponentials: n = x / (x₀ + x₁ + x₂) turns three positive numbers "
            f"into shares that sum to 1. At x = ({x0}, {x1}, {x2}), what is ∂n₀/∂x₂?",
            [
                "0: x₂ is not in n₀'s numerator",
                f"{format_number(off)}",
                f"{format_number(diag)}",
                f"{format_number(1 / total)}",
            ],
            correct=1,
            explanations=[
                "That treats n as elementwise. x₂ is in the shared sum S = x₀ + x₁ + x₂ below "
                "every share: raising x₂ makes S bigger and n₀ smaller, as raising z_j lowers "
                "p_i in softmax.",
                "n₀ = x₀ / S, and x₂ is only in S: ∂n₀/∂x₂ = −x₀ / S². The same coupling "
                "through a shared denominator as softmax's −p_i p_j: the Jacobian is dense.",
                "That is the diagonal entry ∂n₀/∂x₀ = 1/S − x₀/S², where x₀ is in both the "
                "numerator and S. x₂ is in S only.",
                "That is 1/S, the derivative of x₀/S with respect to x₀ with S held fixed. x₂ "
                "is not in the numerator, and S does not stay fixed when x₂ moves.",
            ],
            hints=[
                "Write n₀ = x₀ / S with S = x₀ + x₁ + x₂. Which of x₀ and S contains x₂?",
                "The derivative of 1/S with respect to S is −1/S².",
            ],
        ),
        Question(
            "A loss that adds up all the probabilities: L = p₀ + p₁ + p₂ with p = softmax(z), at "
            f"z = {_row(SUM_OF_P_Z)}, where p = {_row(np.round(p_sum, 3))}. What is dL/dz?",
            [
                "(0, 0, 0)",
                "(1, 1, 1)",
                "p ⊙ (1 − p), one entry per logit",
                f"p itself, {_row(np.round(p_sum, 3))}",
            ],
            correct=0,
            explanations=[
                "p₀ + p₁ + p₂ = 1 for every z, so L never moves and its gradient is zero. In "
                "the Jacobian's terms: the VJP with g = (1, 1, 1) adds up each column of J, and "
                "J is symmetric with rows that sum to zero. (backward() may give numbers below "
                "1e-16 there: float rounding, not a slope.)",
                "That passes the upstream 1 of each p_i straight to its own logit, as if "
                "softmax were the identity. Each logit moves every p_i, not only its own.",
                "That keeps only the diagonal of the Jacobian, p_i(1 − p_i). The off-diagonal "
                "entries, −p_i p_j, are not zero.",
                "That is p ⊙ g without the − ⟨g, p⟩ of the VJP p ⊙ (g − ⟨g, p⟩).",
            ],
            hints=[
                "What is p₀ + p₁ + p₂ for any z?",
                "Softmax's VJP is p ⊙ (g − ⟨g, p⟩); here g = (1, 1, 1).",
            ],
        ),
        Question(
            f"A 3-class model gives p = softmax(z) = {_row(CE_P)} for an image whose true class "
            f"is {CE_LABEL} (classes numbered from 0); L = −log p_{CE_LABEL}. What is dL/dz?",
            [
                f"{_row(ce_guess)}",
                f"{_row(ce * (np.arange(3) == CE_LABEL))}",
                f"{_row(-ce)}",
                f"{_row(ce)}",
            ],
            correct=3,
            explanations=[
                f"That subtracts the 1 at class {guess}, the model's best guess. y marks the "
                f"true class, {CE_LABEL}, whatever the model believes.",
                "Every class gets an entry p_k − y_k, and for the wrong classes that is p_k, "
                "not 0: raising a wrong logit takes probability from the true class.",
                "The sign is flipped: raising a wrong class's logit raises the loss, so its "
                "entry of the gradient is positive.",
                f"dL/dz = p − y with y = 1 at class {CE_LABEL} only. The true class's entry is "
                "large and negative because the model gave it little probability; the entries "
                "sum to zero.",
            ],
            hints=[
                "Write y, the one-hot row of the true class, under p.",
                "Notebook 06's result: dL/dz = p − y, one entry per class.",
            ],
        ),
        Question(
            "A layer scales each row of X (shape (N, C)) by its own number: out = X * s with s "
            "of shape (N, 1). Given G = dL/dout, shape (N, C), which is dL/ds?",
            [
                "G.sum(axis=1, keepdims=True)",
                "(G * X).mean(axis=1, keepdims=True)",
                "(G * X).sum(axis=1, keepdims=True)",
                "(G * X).sum(axis=0, keepdims=True)",
            ],
            correct=2,
            explanations=[
                "That is right for an add, out = X + s. For a multiply, each use of s_n "
                "contributes upstream × its local partial, which is not 1: the local partial is "
                "missing.",
                "The uses of a copied value add; they are not averaged. Dividing by C makes "
                "every entry too small by that factor.",
                "s_n is used once in each of the C entries of row n, with local partial "
                "X[n, c], so dL/ds_n = Σ_c G[n, c]·X[n, c]: multiply, then sum over axis 1, "
                "the axis s was expanded along, keeping it as size 1.",
                "That sums over the rows, axis 0, which s kept: it gives shape (1, C), one "
                "number per column, but s has one number per row. s was expanded along axis "
                "1.",
            ],
            hints=[
                "Each s_n is used C times, once per entry of row n.",
                "The local partial of X * s with respect to s is X.",
            ],
        ),
        Question(
            "A graph you have not met: a = x·y, b = a + y, f = a·b, at x = "
            f"{format_number(JOIN_X)}, y = {format_number(JOIN_Y)} (so a = {format_number(a.data)},"
            f" b = {format_number(b.data)}, f = {format_number(f.data)}). What is the upstream "
            "gradient at a, df/da?",
            [
                format_number(through_b),
                format_number(a.grad),
                format_number(direct),
                format_number((direct + through_b) / 2),
            ],
            correct=1,
            explanations=[
                "That is only the path through b. a also feeds f directly, a second path.",
                "a feeds two nodes, f and b, so its upstream gradient sums two paths: "
                "(df/df)·(∂f/∂a) = b into f directly, plus (df/db)·(∂b/∂a) = a·1 through b.",
                "That is only the path from a straight into f. a also feeds b, which feeds f, "
                "a second path.",
                "That is the average of the two paths. At a join the contributions add: a "
                "nudge of a moves both of its uses at once.",
            ],
            hints=[
                "List the nodes that use a.",
                "Work out df/db first: it is the upstream gradient b passes back to a.",
            ],
        ),
        Question(
            "Node c is used by two later nodes, d and e. During backward(), when is c ready "
            "to pass its gradient back to its own inputs?",
            [
                "once both d and e have passed their contributions back to c",
                "as soon as d has passed its contribution back to c",
                "right after c's forward value is computed, since its local partials are known",
                "after c's inputs have their gradients, since backward runs from the inputs",
            ],
            correct=0,
            explanations=[
                "dL/dc is complete only when every node that uses c has added its "
                "contribution. That is why backward() visits nodes in reverse topological "
                "order: each node after every node that uses it.",
                "dL/dc is the sum over both uses. Passed on after d alone, it misses e's "
                "contribution, and every node before c inherits the gap.",
                "The local partials are known then, but the upstream gradient dL/dc comes "
                "from the loss end of the graph, through d and e, which come later.",
                "That is the wrong direction: the backward pass starts at the output and ends "
                "at the inputs. c's inputs need c's gradient, not the other way round.",
            ],
            hints=[
                "What is dL/dc made of when c has two uses?",
                "Notebook 02: the engine visits the nodes in reverse topological order.",
            ],
        ),
    ]
