"""course_lib.teaching.notebook_quizzes: the closing quizzes kept out of the notebooks' pages."""

from __future__ import annotations

import json
import re

import pytest
from notebook_harness import NOTEBOOKS

from course_lib.teaching.notebook_quizzes import QUIZZES, closing_quiz
from course_lib.teaching.quiz import Question

ASKED = re.compile(r'closing_quiz\("(\w+)"\)')


def test_every_quiz_is_questions_each_with_one_right_option_explained() -> None:
    for key in QUIZZES:
        questions = closing_quiz(key)
        assert questions and all(isinstance(q, Question) for q in questions), key
        for q in questions:
            verdicts = [q.answer(i).correct for i in range(len(q.options))]
            assert verdicts.count(True) == 1, (key, q.prompt)
            assert len(q.explanations) == len(q.options), (key, q.prompt)


def test_each_call_gives_new_questions() -> None:
    first, second = closing_quiz("gates"), closing_quiz("gates")
    assert all(a is not b for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("bad", ["nope", "", None, 4])
def test_an_unknown_quiz_is_named_with_the_ones_there_are(bad) -> None:
    with pytest.raises(KeyError, match=r"no quiz named .*; the notebooks' quizzes are start_here"):
        closing_quiz(bad)


def test_each_quiz_closes_exactly_one_notebook_and_every_one_is_asked() -> None:
    asked: dict[str, list[str]] = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                for key in ASKED.findall("".join(cell["source"])):
                    asked.setdefault(key, []).append(path.name)
    assert sorted(asked) == sorted(QUIZZES)
    assert all(len(names) == 1 for names in asked.values()), asked
