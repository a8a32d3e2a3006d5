"""Tests of course_lib.teaching.quiz: questions, in plain Python and as a widget."""

from __future__ import annotations

import pytest

from course_lib.teaching.quiz import Question, card_question


def make_question() -> Question:
    return Question(
        "2 + 2 = ?",
        ["3", "4", "5"],
        correct=1,
        explanations=["one short", "2 + 2 = 4", "one too many"],
        hints=["count on your fingers", "it is even"],
    )


def test_right_answer_accepted_in_every_form():
    q = make_question()
    for choice in ("B", "b", 1, "4"):
        feedback = q.answer(choice)
        assert feedback.correct and "2 + 2 = 4" in feedback.message


def test_wrong_answers_rejected_with_their_explanation():
    q = make_question()
    assert not q.answer("A") and q.answer("A").message == "one short"
    assert not q.answer(2) and "too many" in str(q.answer(2))


def test_a_choice_that_is_no_option_gets_a_sentence_not_a_traceback():
    q = make_question()
    for choice, says in (
        ("D", "not one of this question's options"),
        (7, "not one of"),
        (True, "not a bool"),
        ("", "not one of"),
        (None, "not one of"),
    ):
        feedback = q.answer(choice)
        assert not feedback and not feedback.answered, choice
        assert str(feedback).startswith("Not an option: ") and says in str(feedback), choice
        assert "Not quite" not in str(feedback) and "Not an option" in feedback._repr_html_()
    assert q.answer("A").answered


def test_a_numpy_integer_is_an_option_index():
    """q.answer(np.int64(1)) used to be refused as "not one of this question's options"."""
    import numpy as np

    q = make_question()
    assert q.answer(np.int64(1)).correct == q.answer(1).correct
    assert q.answer(np.uint8(2)).message == q.answer(2).message
    assert "not one of" in q.answer(np.int64(7)).message
    assert card_question(np.int64(2)).prompt == card_question(2).prompt
    with pytest.raises(TypeError, match="^card_question: number must be an int, got"):
        card_question([1])  # used to be "unhashable type: 'list'"


def test_an_explanation_gives_the_why_not_a_second_verdict():
    # Feedback already starts with "Right:" or "Not quite:" ("Right: Right: ..." was shown).
    with pytest.raises(ValueError, match="starts with a verdict"):
        Question("?", ["a", "b"], 0, ["Right: a is a", "b is not a"])
    assert str(make_question().answer("B")) == "Right: 2 + 2 = 4"


def test_question_construction_errors():
    with pytest.raises(ValueError, match="one explanation per option"):
        Question("?", ["a", "b"], 0, ["only one"])
    with pytest.raises(ValueError, match="correct must be"):
        Question("?", ["a", "b"], 2, ["x", "y"])
    with pytest.raises(ValueError, match="2 to"):
        Question("?", ["a"], 0, ["x"])


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_card_questions_have_one_right_answer(number):
    q = card_question(number)
    results = [q.answer(i).correct for i in range(len(q.options))]
    assert results.count(True) == 1
    assert len(q.hints) >= 1


def test_card_question_answers_match_the_card():
    right = {n: card_question(n).options[card_question(n).correct] for n in (1, 2, 3, 4)}
    assert "dense" in right[1] and "−p_i p_j" in right[1]
    assert "p − y" in right[2] and "same shape as the logits" in right[2]
    assert "expanded" in right[3] and "sum" in right[3]
    assert "sensitivity of the final loss" in right[4] and "node's output" in right[4]
    with pytest.raises(ValueError, match="questions 1 to 4"):
        card_question(5)


def test_card_questions_put_the_right_option_at_varied_places():
    letters = [card_question(n).letter(card_question(n).correct) for n in (1, 2, 3, 4)]
    assert letters == ["D", "B", "C", "A"]
    assert len(set(letters)) == 4


def test_the_right_card_option_is_not_always_the_longest_or_the_shortest():
    questions = [card_question(n) for n in (1, 2, 3, 4)]
    longest = [len(q.options[q.correct]) == max(map(len, q.options)) for q in questions]
    shortest = [len(q.options[q.correct]) == min(map(len, q.options)) for q in questions]
    assert not all(longest) and not all(shortest)
    for q in questions:  # options of similar length: length gives nothing away
        lengths = [len(o) for o in q.options]
        assert max(lengths) <= 1.25 * min(lengths), q.prompt


@pytest.mark.parametrize(
    ("number", "mistake", "words"),
    [
        (1, "diagonal, like the sigmoid's", "elementwise"),  # notebook 05's bug 3
        (1, "+p_i p_j", "sign is wrong"),  # notebook 05's sign slip
        (2, "C × C matrix", "collapses"),  # "a C × C Jacobian per example"
        (2, "y − p", "sign is flipped"),
        (2, "one non-zero entry", "non-zero component too"),  # notebook 06: class 0 moves L
        (3, "average", "not averaged"),  # notebook 03's mean-instead-of-sum mistake
        (3, "over every axis", "one number"),
        (3, "broadcast back the same way", "sum over its uses"),  # no reduction
        (4, "the local partial:", "known to the op alone"),
        (4, "forward value", "data, not a gradient"),
    ],
)
def test_card_distractors_are_typical_mistakes_and_explained(number, mistake, words):
    q = card_question(number)
    [index] = [i for i, option in enumerate(q.options) if mistake in option]
    assert index != q.correct
    feedback = q.answer(index)
    assert not feedback.correct and words in feedback.message


def test_card_question_prompts_are_the_ones_the_notebooks_saved():
    """Notebooks 01, 03, 05, 06 and 10 keep each prompt in their saved outputs."""
    assert card_question(1).prompt == "The Jacobian of softmax, ∂p/∂z, is:"
    assert card_question(2).prompt.startswith("Cross-entropy on top of softmax gives a gradient")
    assert card_question(3).prompt.startswith("When a forward op uses broadcasting")
    assert (
        card_question(4).prompt == "During backprop, the 'upstream gradient' at a node represents:"
    )


def test_quiz_checks_import_without_ipywidgets():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "from course_lib.teaching.quiz import card_question\n"
        "from course_lib.teaching.hand_check import check\n"
        "assert check('start_here.df_dx', 6).correct\n"
        "assert card_question(1).answer(card_question(1).correct)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_question_takes_a_numpy_index_and_refuses_what_is_not_text_or_an_index():
    import numpy as np

    q = Question("p", ["a", "b"], np.int64(1), ["x", "y"])
    assert q.correct == 1 and type(q.correct) is int
    with pytest.raises(TypeError, match="correct .* must be an int, got True"):
        Question("p", ["a", "b"], True, ["x", "y"])
    with pytest.raises(TypeError, match="the prompt must be text, got NoneType"):
        Question(None, ["a", "b"], 0, ["x", "y"])
    with pytest.raises(TypeError, match="explanations and hints are text, got None"):
        Question("p", ["a", "b"], 0, [None, None])


def test_card_question_names_a_huge_number_by_its_length():
    with pytest.raises(ValueError, match="questions 1 to 4 .*, got an int of 401 digits$"):
        card_question(10**400)


def test_no_wrong_options_explanation_quotes_the_right_option():
    """A first wrong pick names its slip; it does not hand over the right option (its text up
    to the first colon: a number, a formula, a claim), in any quiz of the course."""
    from course_lib.teaching.notebook_quizzes import QUIZZES, closing_quiz
    from course_lib.teaching.review_quiz import review_questions

    questions = [card_question(n) for n in (1, 2, 3, 4)] + review_questions()
    questions += [q for key in QUIZZES for q in closing_quiz(key)]
    for q in questions:
        key = q.options[q.correct].split(":")[0].strip()
        for i, why in enumerate(q.explanations):
            if i != q.correct and len(key) >= 3:
                assert key not in why, (q.prompt, key, why)
