"""Notebook 12 (review): the hand exercises of its tensor sheet.

:func:`exercises` holds the notebook's hand exercises: the questions of the tensor sheet the
notebook prints (:data:`SHEET`), built by
:func:`course_lib.teaching.tensor_practice.tensor_sheet_exercises` from the sheet's engine-computed
key, exactly as ``tensor_sheet_check`` judges them. (The notebook's multiple-choice questions are in
:mod:`course_lib.teaching.review_quiz`.)
"""

from __future__ import annotations

from course_lib.teaching.hand_exercise import AxesExercise, HandExercise
from course_lib.teaching.tensor_practice import tensor_sheet_exercises

SHEET = 7  # the tensor sheet the notebook prints and checks


def exercises() -> list[HandExercise | AxesExercise]:
    """The questions of tensor sheet :data:`SHEET`, one exercise per part."""
    return list(tensor_sheet_exercises(SHEET, key_prefix=f"review.sheet{SHEET}_").values())
