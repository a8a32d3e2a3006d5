"""Reading MNIST's IDX files: decompress, verify the SHA-256, check the header, parse.

IDX format (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the
number of dimensions d, then d 32-bit sizes, then prod(sizes) data bytes. Images have d = 3
(N, 28, 28), labels d = 1 (N,).

Parsed arrays are remembered in-process, keyed by each file's path, size, modification time,
inode and expected hash, so a changed file is read and verified again.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from course_lib.data.errors import (
    ChecksumError,
    CorruptFileError,
    IdxFormatError,
    UnreadableFileError,
)

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08
IMAGE_SIDE = 28


def decompressed_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic bytes."""
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
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


def check_sha256(digest: str, expected: str, what: str, remedy: str) -> None:
    if digest != expected:
        raise ChecksumError(
            f"SHA-256 mismatch for {what}: the decompressed content has SHA-256 {digest}, "
            f"expected {expected}. {remedy}"
        )


def check_header(head: bytes, total: int, name: str, what: str) -> tuple[int, ...]:
    """Check an IDX header against the file's decompressed length; return the dimensions.

    ``head`` holds (at least) the first 16 bytes, ``total`` is the decompressed length. ``name``
    (a file name from :data:`FILES`) says whether images (3 dims) or labels (1 dim) are expected.
    """
    expected_dims = 3 if "images" in name else 1
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != UBYTE:
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
    if expected_dims == 3 and dims[1:] != (IMAGE_SIDE, IMAGE_SIDE):
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


def parse(content: bytes, name: str, what: str) -> np.ndarray:
    """Parse checked IDX content into a uint8 array of its declared shape (a copy)."""
    dims = check_header(content[:16], len(content), name, what)
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


def unreadable(path: Path, error: OSError, source: str) -> UnreadableFileError:
    """The error for a data file the operating system will not let us read, with the fix."""
    reason = error.strerror or type(error).__name__
    if isinstance(error, IsADirectoryError):
        reason = "it is a folder, not a file"
    fix = (
        "delete it so it is downloaded again, or point cache_dir= at another folder"
        if source == "cache"
        else "make it readable (chmod a+r on a shell) or copy the MNIST files into a folder "
        "you can read and pass folder= that folder"
    )
    return UnreadableFileError(f"Cannot read {path} ({source}): {reason}. To fix it, {fix}.")


def load_verified(path: Path, name: str, expected: str, source: str) -> np.ndarray:
    """Read, decompress, verify and parse one local file (remembered while it is unchanged).

    A file that cannot be read (no permission, a folder, an I/O error) raises
    :class:`UnreadableFileError` naming it and the fix, not the operating system's errno text.
    """
    try:
        key = _memo_key(path, expected)
        if key in _MEMO:
            return _MEMO[key]
        content = decompressed_bytes(path)
    except OSError as error:
        raise unreadable(path, error, source) from error
    check_sha256(
        hashlib.sha256(content).hexdigest(),
        expected,
        f"{path} ({source})",
        "The file is damaged or is not the MNIST file of that name. Replace it with a good copy"
        + (" or delete it so it is downloaded again." if source == "cache" else "."),
    )
    array = parse(content, name, f"{path}")
    if _memo_key(path, expected) == key:  # unchanged while we read it
        _MEMO[key] = array
    return array
