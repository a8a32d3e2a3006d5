"""Downloading MNIST into the cache, safely.

A download streams into a temporary ``.part`` file in the cache folder, decompresses and hashes
as it goes, checks the IDX header, and only then is renamed into place with ``os.replace``
(atomic): an interrupted, corrupted or truncated download never becomes a cache file, and its
temporary file is removed. Mirrors are tried in turn. Progress goes to an observer
(:mod:`course_lib.data.progress`), which the caller chooses.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

from course_lib.data.errors import (
    CacheNotWritableError,
    ChecksumError,
    CorruptFileError,
    DataError,
    DownloadError,
    IdxFormatError,
)
from course_lib.data.idx import check_header, check_sha256
from course_lib.data.progress import DownloadObserver
from course_lib.data.sources import CACHE_ENV, offline_help

CHUNK = 1 << 16


def download_one(
    url: str,
    name: str,
    expected: str,
    target: Path,
    *,
    timeout: float,
    progress: DownloadObserver | None,
    until: float = float("inf"),
) -> None:
    """Stream ``url`` into a temporary file beside ``target``; verify; ``os.replace`` it in.

    ``timeout`` bounds each wait for the mirror; ``until`` (a ``time.monotonic()`` reading) ends
    the whole download, so a mirror that trickles a byte at a time cannot hold it for days: the
    bytes are read as they come (``read1``) and the clock is checked after each piece. While
    streaming, the bytes are gunzipped and hashed (SHA-256 of the decompressed content)
    and the first 16 decompressed bytes kept for the header check. The temporary file is
    removed on any failure, so ``target`` either keeps its old state or gets a verified file.
    """
    host = urllib.parse.urlsplit(url).netloc or url
    # The process id in the name lets a later run tell a killed download's leftover from a
    # download that another process is still running (see remove_stale_parts).
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{name}.{os.getpid()}-", suffix=".part"
        )
    except OSError as exc:
        raise not_writable(target.parent, exc) from exc
    tmp = Path(tmp_name)
    started = False
    done = 0
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "course_lib"})
            wait = max(0.001, min(timeout, until - time.monotonic()))
            with urllib.request.urlopen(request, timeout=wait) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if progress is not None:
                    progress.start(name, host, total)
                    started = True
                inflate = zlib.decompressobj(wbits=31)  # gzip container
                digest = hashlib.sha256()
                head = b""
                inflated = 0
                read = getattr(response, "read1", response.read)
                while True:
                    if time.monotonic() > until:
                        raise TimeoutError(
                            f"the download's deadline passed after {done} bytes (a mirror this "
                            "slow would take hours; pass a larger deadline= to wait longer)"
                        )
                    chunk = read(CHUNK)
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
                    if progress is not None:
                        progress.update(done)
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
        check_sha256(
            digest.hexdigest(),
            expected,
            f"{name} downloaded from {url}",
            "The download was not kept.",
        )
        check_header(head, inflated, name, f"{name} downloaded from {url}")
        # mkstemp makes the file private (0600); a cache a class shares must be readable by
        # all of its users, as any file this user creates would be (0666 less the umask).
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        ok = True
    finally:
        if started:
            progress.finish(ok)  # a notebook bar left short of its total turns red
        if not ok:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


_STALE_SECONDS = 3600.0


def _umask() -> int:
    """This process's umask (read by setting it and putting it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (on Windows, where this cannot be asked the same
    way, every process counts as alive, so only age removes a leftover)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to another user
        return True
    return True


def remove_stale_parts(folder: Path) -> None:
    """Delete temporary ``.part`` files that a killed download left behind.

    A part file is named ``.<file>.<pid>-<random>.part`` after the process writing it. It is
    removed at once when that process no longer runs, and in any case once it is an hour
    old; a younger part file of a running process may be a download in progress, so it stays.
    Called whenever the cache is consulted, not only before a download.
    """
    if not folder.is_dir():
        return
    now = time.time()
    for part in folder.glob(".*.part"):
        pid_text = part.name.rsplit(".", 2)[-2].split("-", 1)[0]
        dead = (
            pid_text.isdigit()
            and int(pid_text) != os.getpid()
            and not _process_alive(int(pid_text))
        )
        with contextlib.suppress(OSError):
            if dead or now - part.stat().st_mtime > _STALE_SECONDS:
                part.unlink()


def not_writable(folder: Path, exc: OSError) -> CacheNotWritableError:
    return CacheNotWritableError(
        f"Cannot write the MNIST cache folder {folder} ({type(exc).__name__}: "
        f"{exc.strerror or exc}). Point the cache at a folder you can write: pass "
        f"cache_dir='some/folder' or set the environment variable {CACHE_ENV}; or, with the "
        "files already on disk, pass folder='that/folder'."
    )


# What a mirror that cannot deliver raises: URLError (HTTPError is one), a refused or reset
# connection, a timeout, a broken HTTP exchange; ValueError for a malformed URL in the list.
_NETWORK_ERRORS = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    ValueError,
)


def download_file(
    name: str,
    expected: str,
    folder: Path,
    mirrors: Sequence[str],
    *,
    split: str,
    timeout: float,
    progress: DownloadObserver | None,
    until: float = float("inf"),
) -> Path:
    """Fetch ``name.gz`` into ``folder`` from the first mirror that delivers a verified file,
    before the ``time.monotonic()`` reading ``until``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_writable(folder, exc) from exc
    target = folder / f"{name}.gz"
    failures: list[str] = []
    content_error: DataError | None = None
    for base in mirrors:
        url = base if base.endswith(f"{name}.gz") else base.rstrip("/") + f"/{name}.gz"
        if time.monotonic() > until:
            failures.append(f"  {url}: not tried, the download's deadline had passed")
            continue
        try:
            download_one(
                url, name, expected, target, timeout=timeout, progress=progress, until=until
            )
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
            f"Nothing was written to {folder}. " + offline_help(split)
        ) from content_error
    raise DownloadError(
        f"Could not download {name}.gz from any mirror (is this machine offline?):\n{tried}\n"
        + offline_help(split)
    )
