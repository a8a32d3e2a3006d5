"""The closing quiz of each notebook that ends with questions of its own, kept out of the page.

A notebook's quiz cell asks ``closing_quiz("gates")`` and shows each question with
:func:`course_lib.widgets.quiz_widget`; the right option and what each option's choice means
live here, so the page a learner reads before answering holds the question and the options
only. Keys are the notebooks' answer-key modules (:mod:`course_lib.teaching.answers`), and
``capstone`` for notebook 11. Notebooks 01, 03, 05 and 06 ask the seed card's questions
(:func:`course_lib.teaching.quiz.card_question`), notebook 12 its review questions
(:mod:`course_lib.teaching.review_quiz`).
"""

from __future__ import annotations

from collections.abc import Callable

from course_lib.teaching.quiz import Question

__all__ = ["QUIZZES", "closing_quiz"]


def closing_quiz(notebook: str) -> list[Question]:
    """The questions that close ``notebook`` (a key of :data:`QUIZZES`, such as ``"gates"``), in
    the order the notebook asks them; new objects on every call."""
    if not isinstance(notebook, str) or notebook not in QUIZZES:
        raise KeyError(
            f"closing_quiz: no quiz named {notebook!r}; the notebooks' quizzes are "
            f"{', '.join(QUIZZES)}"
        )
    return QUIZZES[notebook]()


def _start_here() -> list[Question]:
    """Notebook 00 · start here."""
    return [
        Question(
            "Which list gives the four moves of a backward pass, in order?",
            [
                "local partials, upstream sensitivity, multiply, average at joins",
                "local partials, forward values, multiply, sum at joins",
                "local partials, upstream sensitivity, multiply, sum at joins",
                "local partials, upstream sensitivity, add, sum at joins",
            ],
            correct=2,
            explanations=[
                "A value used in two places gets the full contribution of each use: a nudge of it "
                "moves both uses at once, so the contributions add. Nothing divides by the number "
                "of uses.",
                "Forward values are what the nodes compute. The second move needs the gradient of "
                "the final result with respect to the node's output (its upstream sensitivity); "
                "using a node's value where its gradient belongs is a classic slip.",
                "Each op's local partials, the upstream sensitivity at its output, their "
                "product (the chain rule), and a sum where a value is used several times.",
                "Along one path the chain rule multiplies: upstream × local partial. Adding is "
                "what happens between different paths, at a join.",
            ],
            hints=[
                "The four moves are listed at the top of this notebook.",
                "Two of the wrong lists swap in a typical mistake: a value for a gradient, or an "
                "average for a sum.",
            ],
        ),
    ]


def _fan_out() -> list[Question]:
    """Notebook 02 · six nodes, fan-out."""
    return [
        Question(
            prompt="In f = a·b with a = x·y and b = x + z, at x = 3, y = -2, z = 1, the upstream "
            "gradients are df/da = 4 and df/db = -6. What is df/dx?",
            options=[
                "-8: the path through a, (df/da)(da/dx) = 4·(-2)",
                "-2: the upstream gradients added, 4 + (-6)",
                "48: the two paths multiplied, (-8)·(-6)",
                "-14: the two paths added, (-8) + (-6)",
            ],
            correct=3,
            explanations=[
                "That is one of x's two uses. A nudge of x moves a and b, and f feels both; "
                "dropping the path through b drops part of the effect. A value used twice gets the "
                "sum over its uses.",
                "That adds the upstream gradients as they are; each must first be multiplied by "
                "the local partial of its edge into x.",
                "Multiplication happens along one path (upstream × local partial); separate paths "
                "add. A product would even have the wrong sign here.",
                "Sum at joins. df/dx = (df/da)(da/dx) + (df/db)(db/dx) = -8 + (-6) = -14, "
                "which is also 2xy + yz from the algebra.",
            ],
            hints=[
                "Nudge x by a tiny ε: how much do a and b move, and what does f feel?",
                "Look at the one line of the engine that touches parent.grad.",
            ],
        ),
    ]


def _gradient_checking() -> list[Question]:
    """Notebook 04 · checking gradients."""
    return [
        Question(
            "A gradient check prints, for one input: backward() 3e-9, finite diff. 1.5e-9, ok: "
            "yes. What do you conclude?",
            [
                "the rule is right for this input: the check passed",
                "make h much smaller, say 1e-12, and check again to be sure",
                "the rule is probably off by a factor of 2: the relative error is 0.5",
                "the input must sit at a kink, so the check says nothing here",
            ],
            correct=2,
            explanations=[
                "It passed on the absolute floor (1e-7), which is far larger than both numbers: "
                "at this size, an absolute test says nothing. Compare the two numbers relative to "
                "their size.",
                "A smaller step makes the round-off error ε/h grow: at h = 1e-12 the estimate is "
                "worse, not better.",
                "One number is twice the other. A relative error of order 1 is what a wrong rule "
                "gives; a right one in float64 gives something tiny.",
                "At a kink the check adds a note with the slopes on the two sides. Nothing here "
                "points to a kink: tiny gradients are not kinks.",
            ],
            hints=["Compute the relative error of the two numbers."],
        ),
    ]


def _mnist() -> list[Question]:
    """Notebook 07 · MNIST fan-out."""
    return [
        Question(
            "In a 784-100-10 sigmoid network with softmax cross-entropy, the upstream gradient "
            "∂L/∂h_j of hidden unit j (one image) is:",
            [
                "the sum over all ten outputs k of W2[j, k]·(p_k − y_k)",
                "the true class's path alone: W2[j, y]·(p_y − 1)",
                "the mean over the ten outputs k of W2[j, k]·(p_k − y_k)",
                "σ'(a_j) times the sum over k of W2[j, k]·(p_k − y_k)",
            ],
            correct=0,
            explanations=[
                "One path per output it feeds, each the local partial W2[j, k] times the upstream "
                "p_k − y_k, summed at the join. For all units at once that is (p − y) W2ᵀ.",
                "Unit j feeds all ten logits, not just the true class's; every output whose p_k is "
                "not 0 contributes a path (image 8's class-6 path was large and of the other "
                "sign).",
                "Contributions of a value used several times add; they are not averaged. (The 1/N "
                "of a batch is a mean over images, not over outputs.)",
                "That is ∂L/∂a_j, one step further: σ'(a_j) is the local partial of the sigmoid, "
                "which comes after h_j in the backward pass.",
            ],
            hints=[
                "How many output neurons does one hidden unit feed?",
                "What happens to gradients at a node used by several consumers?",
            ],
        ),
    ]


def _gates() -> list[Question]:
    """Notebook 08 · gates."""
    return [
        Question(
            "f = max(a, b) with a = 2 and b = 5, and df/df = 1. What are df/da and df/db?",
            ["0.5 and 0.5", "2/7 and 5/7", "0 and 1", "1 and 1"],
            correct=2,
            explanations=[
                "Splitting evenly is a convention for a tie only; here b wins outright.",
                "Max does not share in proportion to the inputs: a small nudge of a changes "
                "nothing.",
                "Max routes all of the upstream to the winner; the loser's local partial is 0.",
                "That is what add does (it distributes). A nudge of a does not move max(2, 5).",
            ],
            hints=["Nudge a by a tiny amount: does max(a, 5) move?"],
        ),
        Question(
            "In PyTorch, a training loop calls loss.backward() and optimizer.step() but never "
            "zero_grad(). What happens?",
            [
                "nothing: PyTorch resets .grad at every backward(), like this engine",
                "each step uses the sum of all gradients so far, so old gradients keep pushing",
                "the gradients are averaged over the steps, which smooths training",
                "backward() raises an error the second time",
            ],
            correct=1,
            explanations=[
                "PyTorch's backward() does not reset .grad; this engine is the one that resets.",
                ".grad accumulates, so the step direction includes every past gradient.",
                "Nothing divides by the number of steps.",
                "No error: each step runs the forward pass again, so each backward() walks a "
                "fresh graph once.",
            ],
            hints=["What does PyTorch's backward() do with a .grad that already holds numbers?"],
        ),
        Question(
            "A loss depends on a million weights. How many passes does each mode need for the "
            "whole gradient?",
            [
                "forward mode 1, reverse mode a million",
                "both need a million: one per weight",
                "forward mode a million, reverse mode 1",
                "both need 1: a pass always gives every derivative",
            ],
            correct=2,
            explanations=[
                "A forward pass gives a column of the Jacobian (one input), a reverse pass a row "
                "(one output): which of the two is the gradient of one loss?",
                "One of the two modes gets every derivative of one output in a single pass.",
                "One column per forward pass, one row per reverse pass; the gradient of one "
                "loss is one row.",
                "A forward pass follows one input direction at a time.",
            ],
            hints=["Is the gradient of one loss a row or a column of the Jacobian?"],
        ),
    ]


def _layers() -> list[Question]:
    """Notebook 09 · layers."""
    return [
        Question(
            "Why is layer norm's Jacobian dense, like softmax's?",
            [
                "every y_i depends on every x_j through the row's mean and standard deviation",
                "because it divides, and division always gives a dense Jacobian",
                "it is not: layer norm is elementwise, so its Jacobian is diagonal",
                "because of ε, which is added to every entry",
            ],
            correct=0,
            explanations=[
                "The row's μ and s are computed from all of it, so moving any x_j moves every y_i.",
                "x / 2 divides and has a diagonal Jacobian; the coupling comes from μ and s.",
                "y_i = (x_i − μ)/s, and μ and s depend on the whole row: the off-diagonal terms "
                "−1/D − y_i y_j / D are not 0.",
                "ε is a constant inside s; it keeps s away from 0 but couples nothing.",
            ],
            hints=["Which quantities in y_i = (x_i − μ)/s depend on the other entries of the row?"],
        ),
        Question(
            "tokens = [4, 1, 4] look up rows of W. Which rows of dL/dW are non-zero, and what is "
            "row 4?",
            [
                "rows 1 and 4; row 4 is the mean of the upstream rows at positions 0 and 2",
                "rows 1 and 4; row 4 is the upstream row at position 2 (the last use)",
                "every row: a lookup spreads the gradient over the whole table",
                "rows 1 and 4; row 4 is the sum of the upstream rows at positions 0 and 2",
            ],
            correct=3,
            explanations=[
                "Uses of one value add up; they are not averaged.",
                "That is what dW[tokens] += upstream gives in numpy: the last write wins. Both "
                "uses count.",
                "Only the rows that were looked up moved the loss; the others get 0.",
                "A scatter-add, np.add.at(dW, tokens, upstream): sum at joins.",
            ],
            hints=[
                "Token 4 is used twice: what happens to a value's gradient when it is used twice?"
            ],
        ),
        Question(
            "A sigmoid hidden unit has h = 0.999 and a large ∂L/∂h. What reaches its incoming "
            "weights?",
            [
                "almost nothing: ∂L/∂a = ∂L/∂h · h(1 − h), and h(1 − h) ≈ 0.001",
                "the large ∂L/∂h, unchanged: sigmoid passes the gradient through",
                "∂L/∂h · h, about the same size as ∂L/∂h",
                "nothing at all: a saturated unit's gradient is exactly 0",
            ],
            correct=0,
            explanations=[
                "The unit is saturated; its local partial σ' = h(1 − h) is tiny.",
                "Every op multiplies by its local partial: what is the sigmoid's at h = 0.999?",
                "That local partial is not the sigmoid's.",
                "At h = 0.999 the slope h(1 − h) is about 0.001: small, not 0. σ' is exactly 0 "
                "only once h rounds to exactly 1 or to exactly 0: in float32, for a above about "
                "16.6 (4 of the 100,000 hidden activations measured above) or below about −88.7 "
                "(none here).",
            ],
            hints=["What is sigmoid's local partial, written with its output h?"],
        ),
    ]


def _build_engine() -> list[Question]:
    """Notebook 10 · build your engine."""
    return [
        Question(
            "A learner's engine gives a.grad = 1 for b = a + a at a = 3 (the right gradient is 2), "
            "and right gradients on every graph where each node is used once. Where is the bug?",
            [
                "the seed: the output's gradient must start at 2 for a node used twice",
                "the line that writes a contribution into a parent's gradient: = where += belongs",
                "the topological order: a + a lists a twice",
                "the partial of +: it is 1/2 for each input when both inputs are the same node",
            ],
            correct=1,
            explanations=[
                "The seed is dL/dL = 1 whatever the graph.",
                "With =, the second contribution replaces the first: a keeps 1 of its 2. Every "
                "graph without a node used twice hides the bug.",
                "Listing a twice would pass its gradient on twice; here a is a leaf and its own "
                "gradient is the one that is short.",
                "Each input slot of + has the partial 1, whichever node fills it.",
            ],
            hints=["Which graphs does the engine get right, and what do they lack?"],
        ),
        Question(
            "A topological sort written by recursion (visit the parents, then append the node) "
            "passes on every small graph and raises RecursionError on a chain of 10,000 nodes. "
            "Why?",
            [
                "the chain has a cycle, and the recursion never stops",
                "a set cannot hold 10,000 nodes",
                "tanh of tanh of ... underflows to 0, and 0 has no parents",
                "each visit calls the function again for the node's parent, so the chain needs "
                "10,000 nested calls, and Python stops at about 1,000",
            ],
            correct=3,
            explanations=[
                "A graph built by ops has no cycle: every node is made after its parents.",
                "A set holds millions of nodes; the limit is the depth of the calls.",
                "The values have nothing to do with it: the structure of the graph does.",
                "Python limits nested calls (sys.getrecursionlimit(), 1,000 by default); a stack "
                "of your own, a list, has no such limit.",
            ],
            hints=["How deep do the calls nest on a chain?"],
        ),
        Question(
            "A training loop on an engine whose backward() adds into .grad forgets to set the "
            "gradients to 0 at each step. What happens?",
            [
                "the first step is right; from the second on, each update uses the sum of every "
                "gradient so far, so old gradients keep pushing",
                "nothing: backward() replaces the gradients",
                "the loss is NaN from the first step",
                "only the biases stop learning",
            ],
            correct=0,
            explanations=[
                "The gradients grow with every step; the checker calls the bug by that name.",
                "That is course_lib's Value; this engine, like micrograd's and PyTorch's, adds.",
                "Nothing overflows at first: the steps are merely wrong, growing ever larger.",
                "Every parameter's gradient adds up the same way.",
            ],
            hints=["What does .grad hold when the second step calls backward()?"],
        ),
    ]


def _capstone() -> list[Question]:
    """Notebook 11 · capstone."""
    return [
        Question(
            "On the batch of 32 the engine's dz_max came out below 1e-16, while dz reached about "
            "3e-2: dz_max is zero, up to rounding. Why?",
            [
                "subtracting the same number from a whole row of logits leaves the softmax, and "
                "so the loss, unchanged: the loss does not depend on z_max at all",
                "max has no gradient, so the engine returns zeros for it",
                "z_max is computed without the engine, as a constant",
                "float64 rounds every gradient below 1e-10 to zero",
            ],
            correct=0,
            explanations=[
                "softmax(z − m) = softmax(z) for any m per row, so moving z_max moves nothing; "
                "its two paths (into shifted, and back through the max into z) cancel. That is "
                "also why leaving out the max's path into dz reads close, not wrong.",
                "max has a gradient: it goes to each row's arg-max (notebook 08).",
                "The engine builds z_max as a node like any other (z.max(axis=1, keepdims=True)) "
                "and differentiates through it.",
                "Nothing is rounded to zero on purpose; a number below 1e-16 is what is left of an "
                "exact 0 after rounding in the sums.",
            ],
            hints=["What happens to softmax(z) if you subtract 5 from every logit of a row?"],
        ),
        Question(
            "Inside layer norm, why does dc have two terms?",
            [
                "because c has two axes, the N rows of the batch and the H hidden units, and "
                "each axis adds a term of its own",
                "because layer norm's Jacobian is dense",
                "c is read by two lines, a_hat = c * inv_std and var = (c**2).mean(...): each "
                "use contributes, and the contributions add",
                "one term is for the forward pass, the other for the backward pass",
            ],
            correct=2,
            explanations=[
                "Axes decide shapes, not how many contributions a value gets.",
                "The dense Jacobian is a result, not the cause.",
                "Sum at joins: a value used twice gets the gradients of both uses. a has two "
                "terms for the same reason (read by c and by mu).",
                "Both terms are backward contributions.",
            ],
            hints=["Find every line of the forward code with c on its right-hand side."],
        ),
        Question(
            "In a stack h_l = act(h_(l−1) W_l + b_l), the δ of layer l − 1 comes from layer l's δ. "
            "Which slope does it pass through?",
            [
                "act' of layer l, written with h_l, the output of the layer above",
                "act' of layer l − 1, written with h_(l−1), the output of the layer below",
                "none: only the top layer's δ is multiplied by a slope",
                "act' of layer l − 2, written with h_(l−2), the input of layer l − 1",
            ],
            correct=1,
            explanations=[
                "Layer l's slope was already used to get layer l's own δ.",
                "Carried back through W_lᵀ, the gradient arrives at h_(l−1) = act(a_(l−1)); to "
                "reach a_(l−1) it passes through that activation, whose slope is written with "
                "h_(l−1).",
                "Every layer has an activation, so every δ passes through one; that is why deep "
                "sigmoid stacks shrink the gradient layer after layer (notebook 09).",
                "h_(l−2) is layer l − 1's input, not what its activation put out.",
            ],
            hints=["δ_(l−1) is the gradient at a_(l−1). What lies between a_(l−1) and h_(l−1)?"],
        ),
    ]


# notebook key -> its questions (a function, so every call gives fresh objects)
QUIZZES: dict[str, Callable[[], list[Question]]] = {
    "start_here": _start_here,  # 00
    "fan_out": _fan_out,  # 02
    "gradient_checking": _gradient_checking,  # 04
    "mnist": _mnist,  # 07
    "gates": _gates,  # 08
    "layers": _layers,  # 09
    "build_engine": _build_engine,  # 10
    "capstone": _capstone,  # 11
}
