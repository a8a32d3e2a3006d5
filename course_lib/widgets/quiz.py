"""A multiple-choice question as a widget: radio buttons, a Check button, hints one at a time.

The question and its feedback are :class:`course_lib.teaching.quiz.Question`'s: the widget shows
``question.answer(choice)`` and ``question.hint(n)``, so a learner gets the same feedback in the
widget as in plain Python.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from course_lib.display.accessible import verdict_html
from course_lib.teaching.quiz import LETTERS, Question
from course_lib.widgets.panel import Panel

__all__ = ["quiz_widget"]


def quiz_widget(question: Question) -> Panel:
    """Radio buttons for ``question``'s options, a Check button, a Hint button and feedback.

    The box has ``choices``, ``check_button``, ``hint_button``, ``feedback`` and
    ``hints_shown`` as attributes, for tests and for notebooks that drive it from code.
    """
    if not isinstance(question, Question):
        raise TypeError(f"quiz_widget needs a Question, got {type(question).__name__}")
    prompt = widgets.HTMLMath(value=f"<b>{question.prompt}</b>")
    choices = widgets.RadioButtons(
        options=[(f"{LETTERS[i]}. {text}", i) for i, text in enumerate(question.options)],
        value=None,
        description="Your answer",  # the group's name, as every other control has one
        style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"),
    )
    check_button = widgets.Button(description="Check", button_style="primary")
    hint_button = widgets.Button(
        description=f"Hint (0 of {len(question.hints)})", disabled=not question.hints
    )
    feedback = widgets.HTMLMath(value="")
    hints_shown = widgets.HTMLMath(value="")
    state = {"hints": 0}

    def on_check(_: Any) -> None:
        if choices.value is None:
            feedback.value = "<i>Pick an option first.</i>"
            return
        result = question.answer(choices.value)
        feedback.value = verdict_html(result.correct, str(result))

    def on_hint(_: Any) -> None:
        if state["hints"] < len(question.hints):
            state["hints"] += 1
        shown = question.hints[: state["hints"]]
        hints_shown.value = "".join(
            f"<div>Hint {i + 1}: {html.escape(h)}</div>" for i, h in enumerate(shown)
        )
        hint_button.description = f"Hint ({state['hints']} of {len(question.hints)})"
        hint_button.disabled = state["hints"] == len(question.hints)

    def on_choice(_: Any) -> None:
        feedback.value = ""  # a verdict belongs to the option it was given for

    choices.observe(on_choice, names="value")
    check_button.on_click(on_check)
    hint_button.on_click(on_hint)
    box = Panel(
        [prompt, choices, widgets.HBox([check_button, hint_button]), hints_shown, feedback],
        # The text a page shows where no widget runs (a saved notebook before its kernel
        # starts): no prompt, which may quote what an exercise above it asks the learner
        text=f"Quiz ({len(question.options)} options): run this cell to answer it",
    )
    # Handles for tests and for notebooks that drive the widget from code.
    box.choices, box.check_button, box.hint_button = choices, check_button, hint_button
    box.feedback, box.hints_shown = feedback, hints_shown
    return box
