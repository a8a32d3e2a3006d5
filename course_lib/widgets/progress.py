"""A download's progress bar: an observer for :func:`course_lib.data.load_mnist`.

``load_mnist("train", progress=download_bar())`` shows one bar per file it downloads, from
``tqdm.auto``: a widget bar in a notebook, a text bar in a terminal. The data layer only
reports (:class:`course_lib.data.DownloadObserver`); drawing the bar is this layer's job.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

__all__ = ["DownloadBar", "download_bar"]


class DownloadBar:
    """A :class:`~course_lib.data.DownloadObserver` that draws a tqdm bar per file; ``bars``
    keeps them (the last one is the file being fetched)."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.bars: list[Any] = []

    def start(self, name: str, host: str, total: int | None) -> None:
        self.bars.append(
            tqdm(
                total=total,
                desc=f"Downloading {name}.gz from {host}",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                **self.options,
            )
        )

    def update(self, done: int) -> None:
        bar = self.bars[-1]
        bar.update(done - bar.n)

    def finish(self, complete: bool) -> None:
        self.bars[-1].close()  # a notebook bar left short of its total turns red


def download_bar(**options: Any) -> DownloadBar:
    """A progress bar for ``load_mnist(..., progress=download_bar())``; ``options`` go to
    each ``tqdm`` bar (``file=``, ``leave=``, ...)."""
    return DownloadBar(**options)
