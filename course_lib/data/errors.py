"""The errors :func:`course_lib.data.load_mnist` raises about the data: each names the file,
what is wrong with it, and what to do."""

from __future__ import annotations


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


class CacheNotWritableError(DataError, PermissionError):
    """The cache folder cannot be created or written (read-only, or not a folder)."""


class UnreadableFileError(DataError, PermissionError):
    """A data file is there but cannot be read (no permission, a folder, a failing disk)."""
