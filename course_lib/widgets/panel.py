"""``Panel``: a container whose text form is a sentence of the course's, not ipywidgets' own.

Where widgets cannot be drawn (a notebook viewer, a frontend without the ipywidgets extension)
a notebook shows each widget's text form, and nbval compares that text with the saved one. The
text ipywidgets gives by default lists every trait of every child (``VBox(children=(
IntSlider(value=3, ...``): hard to read, and it changes between ipywidgets versions. Every
widget the course shows is a ``Panel`` (or defines ``__repr__`` the same way), so its text form
is a short sentence that depends only on what it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

__all__ = ["Panel"]


class Panel(widgets.VBox):
    """A ``VBox`` whose ``repr`` is ``text`` (a string, or a function called each time)."""

    def __init__(
        self,
        children: Sequence[widgets.Widget] = (),
        *,
        text: str | Callable[[], str],
        **kwargs: Any,
    ) -> None:
        if not (isinstance(text, str) or callable(text)):
            raise TypeError(
                f"Panel: text (what the panel says as plain text) must be text or a function "
                f"giving it, got {type(text).__name__}"
            )
        if isinstance(children, str) or not hasattr(children, "__iter__"):
            raise TypeError(f"Panel: children must be a list of widgets, got {children!r}")
        children = list(children)
        for child in children:
            if not isinstance(child, widgets.Widget):
                raise TypeError(
                    f"Panel: children must be widgets (sliders, HTML, ...), got "
                    f"{type(child).__name__} {child!r}"
                )
        super().__init__(children, **kwargs)
        self._text = text

    def __repr__(self) -> str:
        return self._text() if callable(self._text) else self._text
