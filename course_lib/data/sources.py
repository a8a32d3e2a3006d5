"""Where MNIST lives: the file names, their checksums, the mirrors, the offline folder and the
per-user cache, and the advice an error gives for working offline."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

DATA_ENV = "COURSE_LIB_DATA"
"""Environment variable naming an offline folder that holds ``mnist/``."""

CACHE_ENV = "COURSE_LIB_CACHE"
"""Environment variable that overrides the per-user cache folder (it then holds ``mnist/``)."""

FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The (images, labels) IDX file names of each split, without the ``.gz`` suffix."""

SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
"""SHA-256 of each file's decompressed content."""

MIRRORS: list[str] = [
    # The mirror torchvision downloads from.
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    # The mirror TensorFlow Datasets downloads from.
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    # The original host (often refuses scripted downloads nowadays).
    "http://yann.lecun.com/exdb/mnist/",
]
"""Base URLs tried in turn; each serves ``<name>.gz`` for the four names in :data:`FILES`."""


def offline_help(split: str) -> str:
    names = ", ".join(f"{name}.gz" for name in FILES[split])
    return (
        f"To work offline, copy the MNIST files ({names}) into a folder and call "
        f"load_mnist({split!r}, folder='that/folder'), or put them in a subfolder 'mnist' of a "
        f"folder and set the environment variable {DATA_ENV} to that folder "
        f"(e.g. export {DATA_ENV}=/path/to/data, where /path/to/data/mnist holds the files)."
    )


def default_cache_dir() -> Path:
    """The per-user cache folder of course_lib (MNIST goes in its ``mnist/`` subfolder).

    ``$COURSE_LIB_CACHE`` if set; otherwise ``%LOCALAPPDATA%\\course_lib\\Cache`` on Windows,
    ``~/Library/Caches/course_lib`` on macOS, ``$XDG_CACHE_HOME/course_lib`` or
    ``~/.cache/course_lib`` elsewhere.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "course_lib" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "course_lib"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "course_lib"


def find_file(folder: Path, name: str) -> Path | None:
    """``name.gz`` or ``name`` in ``folder`` (gzip preferred when both exist), else None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def files_in(folder: Path, names: Sequence[str]) -> list[Path] | None:
    """The files for ``names`` in ``folder/mnist`` or in ``folder`` itself, else None."""
    for place in (folder / "mnist", folder):
        found = [find_file(place, name) for name in names]
        if all(path is not None for path in found):
            return found  # type: ignore[return-value]
    return None
