"""Multiple-choice questions: the quizzes that close every notebook, and the card's four.

A :class:`Question` is plain Python: ``question.answer("B")`` returns the feedback that explains
*why* a choice is right or wrong, and ``question.hint(1)`` a hint. A notebook shows it as a
widget (radio buttons, a Check button, hints revealed one at a time) with
:func:`course_lib.widgets.quiz_widget`, which gives the same feedback. Numbers a learner works
out by hand are checked by :mod:`course_lib.teaching.hand_check` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from course_lib.display.accessible import verdict_html
from course_lib.numbers.checking import shown, whole_number

__all__ = ["LETTERS", "Feedback", "Question", "card_question"]

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Feedback:
    """What a learner sees after answering: right or wrong, and why."""

    correct: bool
    message: str
    answered: bool = True  # False for a choice that is none of the options (nothing judged)

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        if not self.answered:
            return f"Not an option: {self.message}"
        return f"{'Right' if self.correct else 'Not quite'}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return verdict_html(self.correct, str(self))


class Question:
    """A multiple-choice question with one right option.

    ``explanations`` gives, for every option in order, why it is right or why it is wrong;
    ``hints`` are revealed one at a time on request.
    """

    def __init__(
        self,
        prompt: str,
        options: Sequence[str],
        correct: int,
        explanations: Sequence[str],
        hints: Sequence[str] = (),
    ) -> None:
        if not 2 <= len(options) <= len(LETTERS):
            raise ValueError(f"a question needs 2 to {len(LETTERS)} options, got {len(options)}")
        if len(explanations) != len(options):
            raise ValueError(
                f"give one explanation per option: {len(options)} options but "
                f"{len(explanations)} explanations"
            )
        if not isinstance(prompt, str):
            raise TypeError(f"Question: the prompt must be text, got {type(prompt).__name__}")
        correct = whole_number(correct, "correct (the right option's index)", "Question", minimum=0)
        if not correct < len(options):
            raise ValueError(
                f"correct must be an option index 0..{len(options) - 1}, got {correct!r}"
            )
        for text in (*options, *explanations, *hints):
            if not isinstance(text, str):
                raise TypeError(
                    f"Question: options, explanations and hints are text, got {shown(text)} "
                    f"({type(text).__name__}); write each one in quotes"
                )
        for i, text in enumerate(explanations):
            if text.lstrip().lower().startswith(("right", "not quite", "wrong")):
                raise ValueError(
                    f"explanation {i} starts with a verdict ({text[:12]!r}...); the feedback "
                    "already says 'Right' or 'Not quite', so give only the why"
                )
        self.prompt = prompt
        self.options = tuple(options)
        self.correct = correct
        self.explanations = tuple(explanations)
        self.hints = tuple(hints)

    def letter(self, index: int) -> str:
        return LETTERS[index]

    def _index(self, choice: int | str) -> int:
        if isinstance(choice, bool):
            raise TypeError("answer with an option letter such as 'B' or its index, not a bool")
        if isinstance(choice, Integral):  # an int, or a NumPy integer such as np.int64(1)
            if 0 <= choice < len(self.options):
                return int(choice)
        elif isinstance(choice, str):
            text = choice.strip()
            if len(text) == 1 and text.upper() in LETTERS[: len(self.options)]:
                return LETTERS.index(text.upper())
            for i, option in enumerate(self.options):
                if text == option:
                    return i
        valid = ", ".join(LETTERS[: len(self.options)])
        raise ValueError(
            f"{choice!r} is not one of this question's options: answer with a letter ({valid}), "
            f"an index 0..{len(self.options) - 1}, or the option's exact text"
        )

    def answer(self, choice: int | str) -> Feedback:
        """Check a choice given as a letter (``"B"``), an index (``1``) or the option's text.
        A choice that is none of them (``"Z"``, ``7``, ``True``) gets a Feedback saying so, not
        an exception: a learner typing in a cell should read a sentence, not a traceback."""
        try:
            index = self._index(choice)
        except (TypeError, ValueError) as error:
            return Feedback(False, str(error), answered=False)
        return Feedback(index == self.correct, self.explanations[index])

    def hint(self, number: int = 1) -> str:
        """The ``number``-th hint (1-based)."""
        if not self.hints:
            return "This question has no hints."
        if not 1 <= number <= len(self.hints):
            raise ValueError(f"hint number must be 1..{len(self.hints)}, got {number}")
        return self.hints[number - 1]

    def __repr__(self) -> str:
        lines = [self.prompt]
        lines += [f"  {LETTERS[i]}. {text}" for i, text in enumerate(self.options)]
        return "\n".join(lines)


# ---- the card's four questions, used by notebooks 01, 03, 05, 06 and 10 ---------------------

_CARD_QUESTIONS: dict[int, dict[str, Any]] = {
    # Each wrong option is a mistake learners really make in the notebook that teaches it
    # (its typical-mistake hints and bug gallery); the right option sits at a different
    # letter in each question and is not the longest one everywhere.
    1: dict(
        prompt="The Jacobian of softmax, ∂p/∂z, is:",
        options=[
            "diagonal, like the sigmoid's: z_j is not in p_i's numerator, so ∂p_i/∂z_j = 0 (i ≠ j)",
            "dense, with +p_i p_j off the diagonal: raising any logit raises every probability",
            "the vector p ⊙ (1 − p), one entry per logit, as for any elementwise activation",
            "dense: the shared sum puts every z_j in every p_i, so ∂p_i/∂z_j = −p_i p_j for i ≠ j",
        ],
        correct=3,
        explanations=[
            "That is the sigmoid's rule, the mistake of treating softmax as elementwise. z_j is "
            "not in p_i's numerator, but it is in the shared sum Σ_k e^{z_k} below it: raising "
            "z_j makes the sum bigger and p_i smaller, so ∂p_i/∂z_j is not 0.",
            "Dense, yes, but the sign is wrong: for j ≠ i, z_j appears only in p_i's "
            "denominator, so raising z_j lowers p_i. Only p_j itself goes up (the probabilities "
            "still sum to 1).",
            "p_i(1 − p_i) is only the diagonal. A Jacobian has one entry per (output, input) "
            "pair, C × C numbers, and softmax's off-diagonal ones are not zero.",
            "∂p_i/∂z_j = p_i(δ_ij − p_j): the off-diagonal entries −p_i p_j are non-zero, so "
            "J = diag(p) − p pᵀ is dense.",
        ],
        hints=[
            "Write p_1 for three logits and ask: does it change when z_2 changes?",
            "The denominator Σ_j e^{z_j} is shared by every output.",
        ],
    ),
    2: dict(
        prompt=(
            "Cross-entropy on top of softmax gives a gradient with respect to the logits that has:"
        ),
        options=[
            "a C × C matrix per example: the softmax Jacobian, chained with ∂L/∂p",
            "one component per class, p − y, so it has the same shape as the logits",
            "one component per class, y − p: positive for the true class only",
            "one non-zero entry, p_y − 1 for the true class; the other classes get 0",
        ],
        correct=1,
        explanations=[
            "The Jacobian appears in the chain rule, but multiplying it by ∂L/∂p collapses it "
            "to one vector per example. Nobody needs to store the C × C matrix.",
            "∂L/∂z = p − y: the dense Jacobian cancels against ∂L/∂p, leaving one class error "
            "per logit. This compact form is what fused framework kernels compute.",
            "The sign is flipped: raising a wrong class's logit raises the loss, so its "
            "component of the gradient is positive, and the true class's is negative.",
            "Every wrong class gets a non-zero component too: raising a wrong logit takes "
            "probability from the true class, so it raises the loss.",
        ],
        hints=[
            "Write L = −z_y + log Σ_j e^{z_j} and differentiate with respect to z_k.",
            "The derivative of log Σ_j e^{z_j} with respect to z_k is softmax(z)_k.",
        ],
    ),
    3: dict(
        prompt="When a forward op uses broadcasting, the backward pass must track:",
        options=[
            "nothing: gradients broadcast back the same way the values were broadcast forward",
            "which axes were added or expanded, so it can average the upstream gradient over them",
            "which axes were added or expanded, so it can sum the upstream gradient over exactly "
            "those",
            "nothing: it sums the upstream gradient over every axis, whatever the input's shape",
        ],
        correct=2,
        explanations=[
            "Without a reduction the gradient keeps the result's shape, one entry per use "
            "instead of one per entry of the input. A broadcast input is reused along the "
            "expanded axes, and the gradient of a value used several times is the sum over "
            "its uses.",
            "The uses of a copied value add; they are not averaged. Dividing by the number of "
            "copies makes every gradient of a broadcast input too small by that factor.",
            "Each added or expanded axis is a fan-out of one element to many uses; backward "
            "sums over it so the gradient gets back the input's shape (a bias of shape (C,) "
            "added to (N, C) gains a whole axis).",
            "Summing over every axis leaves one number. A bias of shape (C,) needs C numbers, "
            "each summed only over the axes along which it was copied (the rows), not across "
            "the classes.",
        ],
        hints=[
            "Adding a bias b of shape (C,) to X of shape (N, C) uses each b_c N times.",
            "What is the gradient of a value that is used N times?",
        ],
    ),
    4: dict(
        prompt="During backprop, the 'upstream gradient' at a node represents:",
        options=[
            "the sensitivity of the final loss to an infinitesimal change in that node's output",
            "the local partial: the derivative of the node's output with respect to its own inputs",
            "the node's forward value times the local partial of the edge it is passed back along",
            "the product of the local partials on the path from the graph's inputs up to that node",
        ],
        correct=0,
        explanations=[
            "dL/d(node): how much the loss moves per unit nudge of this node's output. It is "
            "multiplied by the local partials to get the inputs' gradients.",
            "That is the local partial, known to the op alone; the upstream gradient comes from "
            "everything after the node.",
            "A forward value is data, not a gradient: what is passed back is the consumer's "
            "upstream gradient times the local partial, never the consumer's value.",
            "That looks the wrong way: multiplying local partials from an input up to the node "
            "gives d(node)/d(input), how the node moves when that input moves. The upstream "
            "gradient looks from the node to the loss: dL/d(node).",
        ],
        hints=[
            "'Upstream' means: coming from the loss end of the graph.",
            "Nudge the node's output by a tiny ε: how much does the loss move?",
        ],
    ),
}


def card_question(number: int) -> Question:
    """The seed card's question ``number`` (1 to 4) as a :class:`Question`."""
    number = whole_number(number, "number", "card_question")
    if number not in _CARD_QUESTIONS:
        raise ValueError(f"the card has questions 1 to 4 (pick one of them), got {shown(number)}")
    return Question(**_CARD_QUESTIONS[number])
