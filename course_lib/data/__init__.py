"""MNIST for the course: find it, download it once, verify it, parse it with numpy. (And
``two_moons``, a small 2-D set made from a seed, for notebook 10: :mod:`course_lib.data.moons`.)

``load_mnist("train")`` returns ``(images, labels)``: images float32 of shape (N, 784) with
pixel values x / 255 in [0, 1], labels int64 of shape (N,) in 0..9 (N = 60,000 for "train",
10,000 for "test").

Where the four IDX files are looked for, in this order (the first source that is configured
is the only one used; there is no silent fallback to another):

1. ``folder`` given as an argument: the files in it, or in its ``mnist/`` subfolder;
2. the folder named by the environment variable ``COURSE_LIB_DATA`` (holding ``mnist/``);
3. the per-user cache, ``<cache>/mnist`` (see :func:`default_cache_dir`);
4. a download into that cache from the public mirrors in :data:`MIRRORS`, tried in turn.

Every file is checked against the SHA-256 of its *decompressed* content (:data:`SHA256`), so a
gzip file and the same file uncompressed pass the same check. A download streams into a
temporary file in the cache folder, decompresses and hashes as it goes, checks the IDX header,
and only then is renamed into place with ``os.replace`` (atomic): an interrupted, corrupted or
truncated download never becomes a cache file, and its temporary file is removed.

Cost of a load on the course machines (2 cores): train images gunzip ~0.19 s, SHA-256 of the
47 MB decompressed ~0.03 s, float conversion ~0.05 s. Hashing is a small part, so files are
verified on every first load in a process; parsed arrays are then remembered in-process, keyed
by each file's path, size, modification time and expected hash, so a changed file is read and
verified again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from course_lib.data.download import download_file, not_writable, remove_stale_parts
from course_lib.data.errors import (
    CacheNotWritableError,
    ChecksumError,
    CorruptFileError,
    DataError,
    DataNotFoundError,
    DownloadError,
    IdxFormatError,
    UnreadableFileError,
)
from course_lib.data.idx import IMAGE_SIDE, clear_memory_cache, load_verified
from course_lib.data.moons import two_moons
from course_lib.data.progress import DownloadObserver, TextProgress, as_observer
from course_lib.data.sources import (
    CACHE_ENV,
    DATA_ENV,
    FILES,
    MIRRORS,
    SHA256,
    default_cache_dir,
    files_in,
    find_file,
    offline_help,
)
from course_lib.numbers.checking import real_number, shown, switch

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "FILES",
    "MIRRORS",
    "SHA256",
    "CacheNotWritableError",
    "ChecksumError",
    "CorruptFileError",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "DownloadObserver",
    "IdxFormatError",
    "MnistFiles",
    "TextProgress",
    "UnreadableFileError",
    "clear_memory_cache",
    "default_cache_dir",
    "load_mnist",
    "locate_mnist",
    "two_moons",
]


def _require_files(folder: Path, names: Sequence[str], source: str, split: str) -> list[Path]:
    try:
        return _files_or_error(folder, names, source, split)
    except DataError:
        raise
    except OSError as error:  # a folder on the way this user may not look into
        what = "the folder given" if source == "The folder" else f"named by ${DATA_ENV}"
        place = f" at {error.filename}" if error.filename and error.filename != str(folder) else ""
        raise UnreadableFileError(
            f"Cannot look for the MNIST files in {str(folder)!r} ({what}): "
            f"{error.strerror or error}{place}. Make that folder readable, or copy the files "
            "into a folder you can read. " + offline_help(split)
        ) from error


def _files_or_error(folder: Path, names: Sequence[str], source: str, split: str) -> list[Path]:
    if not folder.is_dir():
        raise DataNotFoundError(f"{source} {str(folder)!r} is not a folder. " + offline_help(split))
    found = files_in(folder, names)
    if found is None:
        wanted = " and ".join(f"{name}(.gz)" for name in names)
        raise DataNotFoundError(
            f"{source} {str(folder)!r} does not hold {wanted} (looked in the folder and in its "
            f"'mnist' subfolder). " + offline_help(split)
        )
    return found


class MnistFiles(NamedTuple):
    """Where a split's two IDX files are, and which source they came from."""

    images: Path
    labels: Path
    source: str  # "folder argument", "$COURSE_LIB_DATA" or "cache"


def _checksum_table(split: str, checksums: Mapping[str, str] | None) -> Mapping[str, str]:
    if not isinstance(split, str):
        more = (
            "; load one split at a time: load_mnist('train'), then load_mnist('test')"
            if isinstance(split, list | tuple | set)
            else ""
        )
        raise TypeError(
            f"split must be the text 'train' or 'test', got {type(split).__name__} "
            f"{shown(split)}{more}"
        )
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {shown(split)}")
    table = SHA256 if checksums is None else checksums
    if not isinstance(table, Mapping):
        raise TypeError(
            f"checksums must map each file name to its SHA-256 (a dict such as "
            f"{{'{FILES[split][0]}': '0fa7...'}}), got {type(table).__name__} {shown(table)}"
        )
    missing = [name for name in FILES[split] if name not in table]
    if missing:
        raise ValueError(f"no expected SHA-256 given for {', '.join(missing)}")
    for name in FILES[split]:
        digest = table[name]
        if not (isinstance(digest, str) and len(digest) == 64):
            raise ValueError(
                f"checksums[{name!r}] must be a SHA-256 written as 64 hexadecimal digits, got "
                f"{shown(digest)}"
            )
    return table


def _path_argument(value: object, name: str) -> Path | None:
    """``value`` as a folder path with ``~`` expanded, or ``None``; an error that says why."""
    if value is None or isinstance(value, str | os.PathLike):
        if isinstance(value, str) and not value.strip():
            raise ValueError(f"{name} is an empty string; give a folder's path, or leave it out")
        if value is None:
            return None
        try:
            return Path(value).expanduser()
        except RuntimeError:  # "~someone" for a user this machine does not have
            raise ValueError(
                f"{name} {str(value)!r} starts with ~ and a user name this machine does not "
                "know; write the folder's full path"
            ) from None
    raise TypeError(
        f"{name} must be a folder's path (a str or pathlib.Path), got "
        f"{type(value).__name__} {value!r}"
    )


def _mirrors_argument(mirrors: object) -> Sequence[str] | None:
    if mirrors is None:
        return None
    if isinstance(mirrors, str):  # one mirror given as a plain string: a list of one
        mirrors = [mirrors]
    try:
        mirrors = list(mirrors)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"mirrors must be a list of base URLs, got {type(mirrors).__name__} {mirrors!r}"
        ) from None
    for base in mirrors:
        if not isinstance(base, str) or "://" not in base:
            raise ValueError(f"each mirror must be a URL like 'https://host/path/', got {base!r}")
    return mirrors


def _flag_argument(value: object, name: str) -> None:
    switch(value, name, "load_mnist")


def _timeout_argument(timeout: object, name: str = "timeout") -> float:
    """A number of seconds: positive and finite (through the one check of a user's number)."""
    seconds = real_number(timeout, f"{name} (a number of seconds)", "load_mnist", finite=False)
    if not (0 < seconds < float("inf")):
        raise ValueError(
            f"load_mnist: {name} must be a positive, finite number of seconds (like 30), got "
            f"{shown(timeout)}"
        )
    return seconds


def locate_mnist(
    split: str = "train",
    folder: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool | DownloadObserver = True,
    timeout: float = 30.0,
    deadline: float = 900.0,
) -> MnistFiles:
    """Find (or download into the cache) the split's two files; see :func:`load_mnist`.

    Files found in a folder or the cache are not verified here (:func:`load_mnist` does that);
    downloaded files are verified before they are kept.
    """
    table = _checksum_table(split, checksums)
    folder = _path_argument(folder, "folder")
    cache_dir = _path_argument(cache_dir, "cache_dir")
    mirrors = _mirrors_argument(mirrors)
    _flag_argument(download, "download")
    observer = as_observer(progress)
    timeout = _timeout_argument(timeout)
    deadline = _timeout_argument(deadline, "deadline")
    until = time.monotonic() + deadline
    names = FILES[split]
    env_folder = os.environ.get(DATA_ENV)
    if folder is not None:
        source = "folder argument"
        found = _require_files(folder, names, "The folder", split)
    elif env_folder:
        source = f"${DATA_ENV}"
        found = _require_files(
            _path_argument(env_folder, f"${DATA_ENV}"), names, f"{DATA_ENV} points to", split
        )
    else:  # the cache, filled by a download when a file is missing
        source = "cache"
        cache = cache_dir if cache_dir is not None else default_cache_dir()
        mnist_dir = cache / "mnist"
        try:
            for place in (cache, mnist_dir):
                if place.exists() and not place.is_dir():
                    raise CacheNotWritableError(
                        f"The MNIST cache {place} is a file, not a folder. Pass cache_dir= (or "
                        f"set {CACHE_ENV}) to a folder, or move that file away."
                    )
            remove_stale_parts(mnist_dir)
            cached = {name: find_file(mnist_dir, name) for name in names}
        except OSError as error:  # a cache folder this user may not look into
            if isinstance(error, DataError):
                raise
            raise not_writable(mnist_dir, error) from error
        found = []
        for name in names:
            path = cached[name]
            if path is None:
                if not download:
                    raise DataNotFoundError(
                        f"{name}(.gz) is not in the cache {mnist_dir} and download=False. "
                        + offline_help(split)
                    )
                path = download_file(
                    name,
                    table[name],
                    mnist_dir,
                    MIRRORS if mirrors is None else mirrors,
                    split=split,
                    timeout=timeout,
                    progress=observer,
                    until=until,
                )
            found.append(path)
    return MnistFiles(found[0], found[1], source)


def load_mnist(
    split: str = "train",
    folder: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool | DownloadObserver = True,
    timeout: float = 30.0,
    deadline: float = 900.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split as ``(images, labels)``.

    images: float32, shape (N, 784), pixel p (0..255) stored as p / 255 in [0, 1];
    labels: int64, shape (N,), digits 0..9. N = 60,000 for "train", 10,000 for "test".

    Args:
        split: "train" or "test".
        folder: a folder holding the IDX files (gzip or not), directly or in ``mnist/``.
            When given, only this folder is used.
        cache_dir: the cache folder (default :func:`default_cache_dir`); files go in its
            ``mnist/`` subfolder. Used when neither ``folder`` nor ``$COURSE_LIB_DATA`` is set.
        download: fetch missing files into the cache; False raises DataNotFoundError instead.
        mirrors: base URLs to try in turn (default :data:`MIRRORS`).
        checksums: expected SHA-256 of the decompressed files by name (default :data:`SHA256`).
        progress: where a download reports (nothing is reported when the files are there):
            True writes a line on stderr as each file starts and ends, False is silent, and an
            observer (:class:`~course_lib.data.progress.DownloadObserver`) gets every step:
            ``course_lib.widgets.download_bar()`` shows a progress bar.
        timeout: seconds to wait for a mirror to answer (each wait).
        deadline: seconds the whole download may take, over every file and mirror (15
            minutes by default); a mirror still sending then is abandoned.

    Raises:
        TypeError: a split that is not text (a list such as ['train']: one split at a time).
        ValueError: unknown split.
        DataNotFoundError: the folder given (or ``$COURSE_LIB_DATA``) lacks the files, or they
            are not cached and ``download`` is False.
        ChecksumError: a file's decompressed SHA-256 is not the expected one.
        CorruptFileError: a gzip file is truncated or not gzip.
        IdxFormatError: a bad IDX header, or sizes that do not match the content.
        UnreadableFileError: a file is there but cannot be read (permissions, a folder).
        DownloadError: no mirror could be reached.
    """
    table = _checksum_table(split, checksums)
    image_name, label_name = FILES[split]
    files = locate_mnist(
        split,
        folder,
        cache_dir=cache_dir,
        download=download,
        mirrors=mirrors,
        checksums=table,
        progress=progress,
        timeout=timeout,
        deadline=deadline,
    )
    images_u8 = load_verified(files.images, image_name, table[image_name], files.source)
    labels_u8 = load_verified(files.labels, label_name, table[label_name], files.source)
    if images_u8.shape[0] != labels_u8.shape[0]:
        raise IdxFormatError(
            f"{files.images} holds {images_u8.shape[0]} images but {files.labels} holds "
            f"{labels_u8.shape[0]} labels."
        )
    if labels_u8.size and labels_u8.max() > 9:
        raise IdxFormatError(f"{files.labels} holds a label {labels_u8.max()}; digits are 0..9.")
    images = np.empty((images_u8.shape[0], IMAGE_SIDE * IMAGE_SIDE), dtype=np.float32)
    np.divide(images_u8.reshape(images.shape), np.float32(255), out=images, dtype=np.float32)
    return images, labels_u8.astype(np.int64)
