"""Notebook 10 (review): its hand exercises."""

from __future__ import annotations

from course_lib.teaching.hand_exercise import AxesExercise, HandExercise


def exercises() -> list[HandExercise | AxesExercise]:
    return []
