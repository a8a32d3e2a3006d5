"""MNIST for the course: find it, download it once, verify it, parse it with numpy.

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

IDX format (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the
number of dimensions d, then d 32-bit sizes, then prod(sizes) data bytes. Images have d = 3
(N, 28, 28), labels d = 1 (N,).

Cost of a load on the course machines (2 cores): train images gunzip ~0.19 s, SHA-256 of the
47 MB decompressed ~0.03 s, float conversion ~0.05 s. Hashing is a small part, so files are
verified on every first load in a process; parsed arrays are then remembered in-process, keyed
by each file's path, size, modification time and expected hash, so a changed file is read and
verified again.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from course_lib.frontend import in_notebook as _in_notebook

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "FILES",
    "MIRRORS",
    "SHA256",
    "ChecksumError",
    "CorruptFileError",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "IdxFormatError",
    "clear_memory_cache",
    "default_cache_dir",
    "MnistFiles",
    "load_mnist",
    "locate_mnist",
]

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

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16
_UBYTE = 0x08
_IMAGE_SIDE = 28


class DataError(Exception):
    """Base class of every error :func:`load_mnist` raises about the data."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The configured folder does not hold the files, or downloading was switched off."""


class ChecksumError(DataError):
    """A file's decompressed content does not have the expected SHA-256."""


class CorruptFileError(DataError):
    """A file could not be read as gzip: truncated, or not gzip where gzip was expected."""


class IdxFormatError(DataError):
    """A file's IDX header is wrong (magic, number of dimensions, sizes) or its size mismatches."""


class DownloadError(DataError, ConnectionError):
    """No mirror could deliver a file (network unreachable, HTTP error, timeout)."""


def _offline_help(split: str) -> str:
    names = ", ".join(f"{name}.gz" for name in FILES[split])
    return (
        f"To work offline, copy the MNIST files ({names}) into a folder and call "
        f"load_mnist({split!r}, folder='that/folder'), or put them in a subfolder 'mnist' of a "
        f"folder and set the environment variable {DATA_ENV} to that folder "
        f"(e.g. export {DATA_ENV}=/path/to/data, where /path/to/data/mnist holds the files)."
    )


# ----------------------------------------------------------------------------- where files live


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


def _find_file(folder: Path, name: str) -> Path | None:
    """``name.gz`` or ``name`` in ``folder`` (gzip preferred when both exist), else None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _files_in(folder: Path, names: Sequence[str]) -> list[Path] | None:
    """The files for ``names`` in ``folder/mnist`` or in ``folder`` itself, else None."""
    for place in (folder / "mnist", folder):
        found = [_find_file(place, name) for name in names]
        if all(path is not None for path in found):
            return found  # type: ignore[return-value]
    return None


def _require_files(folder: Path, names: Sequence[str], source: str, split: str) -> list[Path]:
    if not folder.is_dir():
        raise DataNotFoundError(
            f"{source} {str(folder)!r} is not a folder. " + _offline_help(split)
        )
    found = _files_in(folder, names)
    if found is None:
        wanted = " and ".join(f"{name}(.gz)" for name in names)
        raise DataNotFoundError(
            f"{source} {str(folder)!r} does not hold {wanted} (looked in the folder and in its "
            f"'mnist' subfolder). " + _offline_help(split)
        )
    return found


# ----------------------------------------------------------------------------- reading and checks


def _decompressed_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic bytes."""
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        if path.suffix == ".gz":
            raise CorruptFileError(
                f"{path} is named .gz but is not a gzip file (it does not start with 1f 8b). "
                "Replace it with a good copy or delete it so it is downloaded again."
            )
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptFileError(
            f"{path} is not a complete gzip file ({type(exc).__name__}: {exc}); it is probably "
            "truncated. Replace it with a good copy, or delete it so it is downloaded again."
        ) from exc


def _check_sha256(digest: str, expected: str, what: str, remedy: str) -> None:
    if digest != expected:
        raise ChecksumError(
            f"SHA-256 mismatch for {what}: the decompressed content has SHA-256 {digest}, "
            f"expected {expected}. {remedy}"
        )


def _check_header(head: bytes, total: int, name: str, what: str) -> tuple[int, ...]:
    """Check an IDX header against the file's decompressed length; return the dimensions.

    ``head`` holds (at least) the first 16 bytes, ``total`` is the decompressed length. ``name``
    (a file name from :data:`FILES`) says whether images (3 dims) or labels (1 dim) are expected.
    """
    expected_dims = 3 if "images" in name else 1
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != _UBYTE:
        raise IdxFormatError(
            f"{what} does not start with the IDX magic 00 00 08 (unsigned bytes); it starts with "
            f"{head[:4].hex(' ') or 'nothing'}. It is not an MNIST IDX file."
        )
    ndim = head[3]
    if ndim != expected_dims:
        kind = "image" if expected_dims == 3 else "label"
        raise IdxFormatError(
            f"{what} declares {ndim} dimensions; an MNIST {kind} file has {expected_dims}."
        )
    header_size = 4 + 4 * ndim
    if len(head) < header_size or total < header_size:
        raise IdxFormatError(f"{what} ends inside its IDX header ({total} bytes in all).")
    dims = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if expected_dims == 3 and dims[1:] != (_IMAGE_SIDE, _IMAGE_SIDE):
        raise IdxFormatError(
            f"{what} declares images of {dims[1]}x{dims[2]} pixels; MNIST images are 28x28."
        )
    expected_total = header_size + int(np.prod(dims, dtype=np.int64))
    if total != expected_total:
        raise IdxFormatError(
            f"{what}: the header declares sizes {dims}, i.e. {expected_total} bytes in all, but "
            f"the decompressed file has {total} bytes."
        )
    return dims


def _parse(content: bytes, name: str, what: str) -> np.ndarray:
    """Parse checked IDX content into a uint8 array of its declared shape (a copy)."""
    dims = _check_header(content[:16], len(content), name, what)
    offset = 4 + 4 * len(dims)
    return np.frombuffer(content, dtype=np.uint8, offset=offset).reshape(dims).copy()


# In-process memo: (resolved path, size, mtime_ns, inode, expected sha) -> parsed uint8 array.
_MEMO: dict[tuple[str, int, int, int, str], np.ndarray] = {}


def clear_memory_cache() -> None:
    """Forget the arrays parsed in this process (the next load reads and verifies again)."""
    _MEMO.clear()


def _memo_key(path: Path, expected: str) -> tuple[str, int, int, int, str]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino, expected)


def _load_verified(path: Path, name: str, expected: str, source: str) -> np.ndarray:
    """Read, decompress, verify and parse one local file (remembered while it is unchanged)."""
    key = _memo_key(path, expected)
    if key in _MEMO:
        return _MEMO[key]
    content = _decompressed_bytes(path)
    _check_sha256(
        hashlib.sha256(content).hexdigest(),
        expected,
        f"{path} ({source})",
        "The file is damaged or is not the MNIST file of that name. Replace it with a good copy"
        + (" or delete it so it is downloaded again." if source == "cache" else "."),
    )
    array = _parse(content, name, f"{path}")
    if _memo_key(path, expected) == key:  # unchanged while we read it
        _MEMO[key] = array
    return array


# ----------------------------------------------------------------------------- progress display


class _TextProgress:
    """One line on stderr, redrawn in place on a terminal, printed once otherwise."""

    def __init__(self, label: str, total: int | None, stream=None) -> None:
        self.label, self.total = label, total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = 0.0

    def _line(self, done: int) -> str:
        if self.total:
            return f"{self.label}: {100 * done / self.total:5.1f}% of {self.total / 1e6:.1f} MB"
        return f"{self.label}: {done / 1e6:.1f} MB"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.last = now
            self.stream.write("\r" + self._line(done))
            self.stream.flush()

    def close(self, done: int, ok: bool) -> None:
        end = "" if ok else " (failed)"
        self.stream.write(("\r" if self.tty else "") + self._line(done) + end + "\n")
        self.stream.flush()


class _WidgetProgress:
    """An ipywidgets progress bar shown in the notebook."""

    def __init__(self, label: str, total: int | None) -> None:
        import ipywidgets
        from IPython.display import display

        self.total = total
        self.bar = ipywidgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="MNIST", bar_style="info"
        )
        self.text = ipywidgets.HTML(value=label)
        self.box = ipywidgets.HBox([self.bar, self.text])
        self.label = label
        display(self.box)

    def update(self, done: int) -> None:
        if self.total:
            self.bar.value = min(done / self.total, 1.0)
        self.text.value = f"{self.label}: {done / 1e6:.1f} MB"

    def close(self, done: int, ok: bool) -> None:
        self.update(done)
        if ok:
            self.bar.value = 1.0
        self.bar.bar_style = "success" if ok else "danger"


def _progress(show: bool, label: str, total: int | None):
    if not show:
        return None
    if _in_notebook():
        with contextlib.suppress(ImportError):
            return _WidgetProgress(label, total)
    return _TextProgress(label, total)


# ----------------------------------------------------------------------------- downloading


def _download_one(
    url: str,
    name: str,
    expected: str,
    target: Path,
    *,
    timeout: float,
    progress: bool,
) -> None:
    """Stream ``url`` into a temporary file beside ``target``; verify; ``os.replace`` it in.

    While streaming, the bytes are gunzipped and hashed (SHA-256 of the decompressed content)
    and the first 16 decompressed bytes kept for the header check. The temporary file is
    removed on any failure, so ``target`` either keeps its old state or gets a verified file.
    """
    host = urllib.parse.urlsplit(url).netloc or url
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    bar = None
    done = 0
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "course_lib"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = _progress(progress, f"Downloading {name}.gz from {host}", total)
                inflate = zlib.decompressobj(wbits=31)  # gzip container
                digest = hashlib.sha256()
                head = b""
                inflated = 0
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    try:
                        piece = inflate.decompress(chunk)
                    except zlib.error as exc:
                        raise CorruptFileError(
                            f"{url} did not deliver a valid gzip file ({exc})."
                        ) from exc
                    digest.update(piece)
                    inflated += len(piece)
                    if len(head) < 16:
                        head += piece[: 16 - len(head)]
                    if bar is not None:
                        bar.update(done)
                piece = inflate.flush()
                digest.update(piece)
                inflated += len(piece)
                if total is not None and done != total:
                    raise CorruptFileError(f"{url} was cut off: received {done} of {total} bytes.")
                if not inflate.eof:
                    raise CorruptFileError(
                        f"{url} delivered a truncated gzip file ({done} bytes, the gzip stream "
                        "does not end)."
                    )
            out.flush()
            os.fsync(out.fileno())
        _check_sha256(
            digest.hexdigest(),
            expected,
            f"{name} downloaded from {url}",
            "The download was not kept.",
        )
        _check_header(head, inflated, name, f"{name} downloaded from {url}")
        os.replace(tmp, target)
        ok = True
    finally:
        if bar is not None:
            bar.close(done, ok)
        if not ok:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


_STALE_SECONDS = 3600.0


def _remove_stale_parts(folder: Path) -> None:
    """Delete temporary ``.part`` files that a killed download left (older than an hour).

    Younger ones may belong to a download running in another process, so they stay.
    """
    now = time.time()
    for part in folder.glob(".*.part"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime > _STALE_SECONDS:
                part.unlink()


# What a mirror that cannot deliver raises: URLError (HTTPError is one), a refused or reset
# connection, a timeout, a broken HTTP exchange; ValueError for a malformed URL in the list.
_NETWORK_ERRORS = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    ValueError,
)


def _download(
    name: str,
    expected: str,
    folder: Path,
    mirrors: Sequence[str],
    *,
    split: str,
    timeout: float,
    progress: bool,
) -> Path:
    """Fetch ``name.gz`` into ``folder`` from the first mirror that delivers a verified file."""
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(folder)
    target = folder / f"{name}.gz"
    failures: list[str] = []
    content_error: DataError | None = None
    for base in mirrors:
        url = base if base.endswith(f"{name}.gz") else base.rstrip("/") + f"/{name}.gz"
        try:
            _download_one(url, name, expected, target, timeout=timeout, progress=progress)
            return target
        except (ChecksumError, CorruptFileError, IdxFormatError) as exc:
            content_error = exc
            failures.append(f"  {url}: {exc}")
        except _NETWORK_ERRORS as exc:  # URLError, HTTPError, timeouts, refused connections
            if isinstance(exc, urllib.error.HTTPError):
                detail = str(exc)  # "HTTP Error 404: Not Found"
            else:  # a URLError's reason is often the socket error itself: name that
                reason = getattr(exc, "reason", None)
                cause = reason if isinstance(reason, BaseException) else exc
                detail = f"{type(cause).__name__}: {cause}"
            failures.append(f"  {url}: {detail}")
    if not mirrors:
        failures.append("  (the list of mirrors is empty)")
    tried = "\n".join(failures)
    if content_error is not None:
        # A mirror answered with bad content: report that kind of error, with every attempt.
        raise type(content_error)(
            f"Could not get a verified {name}.gz; every mirror failed:\n{tried}\n"
            f"Nothing was written to {folder}. " + _offline_help(split)
        ) from content_error
    raise DownloadError(
        f"Could not download {name}.gz from any mirror (is this machine offline?):\n{tried}\n"
        + _offline_help(split)
    )


# ----------------------------------------------------------------------------- the loader


class MnistFiles(NamedTuple):
    """Where a split's two IDX files are, and which source they came from."""

    images: Path
    labels: Path
    source: str  # "folder argument", "$COURSE_LIB_DATA" or "cache"


def _checksum_table(split: str, checksums: Mapping[str, str] | None) -> Mapping[str, str]:
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    table = SHA256 if checksums is None else checksums
    missing = [name for name in FILES[split] if name not in table]
    if missing:
        raise ValueError(f"no expected SHA-256 given for {', '.join(missing)}")
    return table


def locate_mnist(
    split: str = "train",
    folder: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> MnistFiles:
    """Find (or download into the cache) the split's two files; see :func:`load_mnist`.

    Files found in a folder or the cache are not verified here (:func:`load_mnist` does that);
    downloaded files are verified before they are kept.
    """
    table = _checksum_table(split, checksums)
    names = FILES[split]
    env_folder = os.environ.get(DATA_ENV)
    if folder is not None:
        source = "folder argument"
        found = _require_files(Path(folder).expanduser(), names, "The folder", split)
    elif env_folder:
        source = f"${DATA_ENV}"
        found = _require_files(Path(env_folder).expanduser(), names, f"{DATA_ENV} points to", split)
    else:  # the cache, filled by a download when a file is missing
        source = "cache"
        cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        mnist_dir = cache / "mnist"
        found = []
        for name in names:
            path = _find_file(mnist_dir, name)
            if path is None:
                if not download:
                    raise DataNotFoundError(
                        f"{name}(.gz) is not in the cache {mnist_dir} and download=False. "
                        + _offline_help(split)
                    )
                path = _download(
                    name,
                    table[name],
                    mnist_dir,
                    MIRRORS if mirrors is None else mirrors,
                    split=split,
                    timeout=timeout,
                    progress=progress,
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
    progress: bool = True,
    timeout: float = 30.0,
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
        progress: show a progress bar while downloading (a widget in a notebook, a text line
            on a terminal); False is silent.
        timeout: seconds to wait for a mirror to answer.

    Raises:
        ValueError: unknown split.
        DataNotFoundError: the folder given (or ``$COURSE_LIB_DATA``) lacks the files, or they
            are not cached and ``download`` is False.
        ChecksumError: a file's decompressed SHA-256 is not the expected one.
        CorruptFileError: a gzip file is truncated or not gzip.
        IdxFormatError: a bad IDX header, or sizes that do not match the content.
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
    )
    images_u8 = _load_verified(files.images, image_name, table[image_name], files.source)
    labels_u8 = _load_verified(files.labels, label_name, table[label_name], files.source)
    if images_u8.shape[0] != labels_u8.shape[0]:
        raise IdxFormatError(
            f"{files.images} holds {images_u8.shape[0]} images but {files.labels} holds "
            f"{labels_u8.shape[0]} labels."
        )
    if labels_u8.size and labels_u8.max() > 9:
        raise IdxFormatError(f"{files.labels} holds a label {labels_u8.max()}; digits are 0..9.")
    images = np.empty((images_u8.shape[0], _IMAGE_SIDE * _IMAGE_SIDE), dtype=np.float32)
    np.divide(images_u8.reshape(images.shape), np.float32(255), out=images, dtype=np.float32)
    return images, labels_u8.astype(np.int64)
