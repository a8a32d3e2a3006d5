"""How a download reports its progress: an observer, as training reports to its own.

:func:`course_lib.data.load_mnist` takes ``progress``: an object with the three methods of
:class:`DownloadObserver`, which the download calls for each file it fetches (nothing is called
when the files are already there). ``True`` means :class:`TextProgress`, a line on stderr when
a file starts and when it is done; ``False`` means silence. The data layer draws no bars
itself: :func:`course_lib.widgets.progress.download_bar` is an observer that shows a tqdm bar
(a widget in a notebook, a text bar in a terminal).
"""

from __future__ import annotations

import sys
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["DownloadObserver", "TextProgress", "as_observer"]


@runtime_checkable
class DownloadObserver(Protocol):
    """What a download reports to: ``start`` once per file (its name, the server's host, its
    size in bytes or None when the server does not say), ``update`` with the bytes received so
    far, ``finish`` once (``complete`` is False when the file did not arrive whole)."""

    def start(self, name: str, host: str, total: int | None) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self, complete: bool) -> None: ...


def _size(count: int | None) -> str:
    if count is None:
        return "size unknown"
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 2**10:.0f} KiB"


class TextProgress:
    """The default observer: one line on stderr as a file starts, one as it ends."""

    def __init__(self) -> None:
        self.name, self.done = "", 0

    def start(self, name: str, host: str, total: int | None) -> None:
        self.name, self.done = name, 0
        print(f"Downloading {name}.gz from {host} ({_size(total)}) ...", file=sys.stderr)

    def update(self, done: int) -> None:
        self.done = done

    def finish(self, complete: bool) -> None:
        outcome = "done" if complete else "stopped"
        print(f"{self.name}.gz: {outcome}, {_size(self.done)} received", file=sys.stderr)


def as_observer(progress: Any) -> DownloadObserver | None:
    """``progress`` as an observer: True gives a :class:`TextProgress`, False None, and an
    observer (start, update and finish methods) is itself; anything else is a TypeError."""
    if isinstance(progress, bool | np.bool_):
        return TextProgress() if progress else None
    if isinstance(progress, DownloadObserver):
        return progress
    raise TypeError(
        f"progress must be True, False or an observer with start, update and finish methods "
        f"(such as course_lib.widgets.download_bar()), got {type(progress).__name__} "
        f"{progress!r}"
    )
