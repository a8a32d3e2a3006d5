"""Tests of course_lib.data: real MNIST from the offline folder, the order of sources, the checks
on every file, and real downloads from a local HTTP server serving small IDX files.

The real-data tests need ``COURSE_LIB_DATA`` (CI sets it); every other test builds its own
synthetic IDX files, computes their SHA-256 and passes them as ``checksums``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib import data
from course_lib.data import (
    CACHE_ENV,
    DATA_ENV,
    FILES,
    ChecksumError,
    CorruptFileError,
    DataNotFoundError,
    DownloadError,
    IdxFormatError,
    default_cache_dir,
    load_mnist,
    locate_mnist,
)

# Read before the autouse fixture below removes the variable from each test's environment.
REAL_DATA = os.environ.get(DATA_ENV)
needs_real = pytest.mark.skipif(
    not REAL_DATA or not (Path(REAL_DATA) / "mnist").is_dir(),
    reason=f"real MNIST not available: set {DATA_ENV} to a folder holding mnist/ "
    "(the four *-ubyte.gz files), as .ci/run does",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No COURSE_LIB_DATA, a fresh empty cache, nothing remembered from another test."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    data.clear_memory_cache()
    yield
    data.clear_memory_cache()


# ----------------------------------------------------------------------------- synthetic files


def idx(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array: 00 00 08 ndim, the sizes as big-endian uint32, the data."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_split(split: str = "test", n: int = 7, seed: int = 0):
    """(contents by file name, images uint8 (n, 28, 28), labels uint8 (n,))."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    image_name, label_name = FILES[split]
    return {image_name: idx(images), label_name: idx(labels)}, images, labels


def sha(contents: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(body).hexdigest() for name, body in contents.items()}


def write(folder: Path, contents: dict[str, bytes], gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in contents.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(body, mtime=0))
        else:
            (folder / name).write_bytes(body)
    return folder


def assert_same(loaded, images: np.ndarray, labels: np.ndarray) -> None:
    x, y = loaded
    assert x.dtype == np.float32 and x.shape == (len(images), 784)
    assert y.dtype == np.int64 and y.shape == (len(labels),)
    np.testing.assert_array_equal(x, images.reshape(len(images), 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(y, labels)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- real MNIST


@needs_real
def test_real_mnist_from_env_var(monkeypatch):
    monkeypatch.setenv(DATA_ENV, REAL_DATA)
    x, y = load_mnist("train", download=False)
    assert x.shape == (60000, 784) and x.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert abs(float(x.mean()) - 0.1307) < 1e-3  # the well-known MNIST pixel mean
    counts = np.bincount(y, minlength=10)
    assert len(counts) == 10 and counts.sum() == 60000
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    # Values are exactly p / 255 for integer p.
    np.testing.assert_array_equal(np.round(x[:100] * 255) / 255, x[:100])

    xt, yt = load_mnist("test", download=False)
    assert xt.shape == (10000, 784) and yt.shape == (10000,)
    assert 0.0 <= xt.min() and xt.max() <= 1.0
    assert np.bincount(yt, minlength=10).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert yt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@needs_real
def test_real_mnist_from_folder_argument_either_layout():
    x1, y1 = load_mnist("test", folder=REAL_DATA)  # holds mnist/
    x2, y2 = load_mnist("test", folder=Path(REAL_DATA) / "mnist")  # holds the files
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


@needs_real
def test_returned_arrays_are_fresh_copies(monkeypatch):
    monkeypatch.setenv(DATA_ENV, REAL_DATA)
    x, y = load_mnist("test")
    x[:] = -1.0
    y[:] = 42
    x2, y2 = load_mnist("test")  # from the in-process memo
    assert x2.min() == 0.0 and y2.max() == 9


# ----------------------------------------------------------------------------- sources and order


def test_env_var_folder(monkeypatch, tmp_path):
    contents, images, labels = make_split("train", n=5)
    write(tmp_path / "data" / "mnist", contents)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    assert_same(load_mnist("train", checksums=sha(contents), download=False), images, labels)


def test_cache_is_used_when_nothing_else_is_set(tmp_path):
    contents, images, labels = make_split("test")
    write(tmp_path / "cache" / "mnist", contents)  # the cache the fixture points at
    assert_same(load_mnist("test", checksums=sha(contents), download=False), images, labels)
    # An explicit cache_dir wins over COURSE_LIB_CACHE.
    other, images2, labels2 = make_split("test", seed=1)
    write(tmp_path / "elsewhere" / "mnist", other)
    assert_same(
        load_mnist("test", cache_dir=tmp_path / "elsewhere", checksums=sha(other), download=False),
        images2,
        labels2,
    )


def test_folder_argument_beats_env_var_beats_cache(monkeypatch, tmp_path):
    a, images_a, labels_a = make_split("test", seed=1)
    b, images_b, labels_b = make_split("test", seed=2)
    c, images_c, labels_c = make_split("test", seed=3)
    write(tmp_path / "a", a)
    write(tmp_path / "b" / "mnist", b)
    write(tmp_path / "cache" / "mnist", c)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "b"))
    assert_same(load_mnist("test", folder=tmp_path / "a", checksums=sha(a)), images_a, labels_a)
    assert_same(load_mnist("test", checksums=sha(b)), images_b, labels_b)
    monkeypatch.delenv(DATA_ENV)
    assert_same(load_mnist("test", checksums=sha(c), download=False), images_c, labels_c)
    # locate_mnist says where the files were found.
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "b"))
    found = locate_mnist("test", folder=tmp_path / "a", checksums=sha(a))
    assert found == (
        tmp_path / "a" / f"{FILES['test'][0]}.gz",
        tmp_path / "a" / f"{FILES['test'][1]}.gz",
        "folder argument",
    )
    assert locate_mnist("test", checksums=sha(b)).source == "$COURSE_LIB_DATA"
    monkeypatch.delenv(DATA_ENV)
    assert (
        locate_mnist("test", checksums=sha(c), download=False).images.parent
        == tmp_path / "cache" / "mnist"
    )


def test_no_silent_fallback_when_the_chosen_folder_is_bad(monkeypatch, tmp_path):
    good, _, _ = make_split("test", seed=1)
    write(tmp_path / "good" / "mnist", good)
    write(tmp_path / "cache" / "mnist", good)
    bad, _, _ = make_split("test", seed=2)
    write(tmp_path / "bad", bad)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "good"))
    # Folder argument with the wrong data: an error, not the env var's or the cache's good data.
    with pytest.raises(ChecksumError) as err:
        load_mnist("test", folder=tmp_path / "bad", checksums=sha(good))
    message = str(err.value)
    assert str(tmp_path / "bad" / "t10k-images-idx3-ubyte.gz") in message
    assert sha(good)["t10k-images-idx3-ubyte"] in message  # expected
    assert sha(bad)["t10k-images-idx3-ubyte"] in message  # found
    # The env var pointing at a folder without the files: an error naming it, no download.
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match=DATA_ENV) as err:
        load_mnist("test", checksums=sha(good), mirrors=["http://127.0.0.1:9/"])
    assert "t10k-images-idx3-ubyte" in str(err.value)


def test_folder_argument_that_is_missing_or_lacks_files(tmp_path):
    contents, _, _ = make_split("test")
    with pytest.raises(DataNotFoundError, match="not a folder"):
        load_mnist("test", folder=tmp_path / "nowhere", checksums=sha(contents))
    only_images = {k: v for k, v in contents.items() if "images" in k}
    write(tmp_path / "half", only_images)
    with pytest.raises(DataNotFoundError, match="t10k-labels-idx1-ubyte") as err:
        load_mnist("test", folder=tmp_path / "half", checksums=sha(contents))
    assert "COURSE_LIB_DATA" in str(err.value)


def test_uncompressed_and_mixed_files_are_accepted(tmp_path):
    contents, images, labels = make_split("test")
    write(tmp_path / "raw", contents, gz=False)
    assert_same(
        load_mnist("test", folder=tmp_path / "raw", checksums=sha(contents)), images, labels
    )
    image_name, label_name = FILES["test"]
    write(tmp_path / "mixed", {image_name: contents[image_name]}, gz=True)
    write(tmp_path / "mixed", {label_name: contents[label_name]}, gz=False)
    assert_same(
        load_mnist("test", folder=tmp_path / "mixed", checksums=sha(contents)), images, labels
    )


def test_download_false_with_an_empty_cache_says_what_to_do():
    contents, _, _ = make_split("test")
    with pytest.raises(DataNotFoundError) as err:
        load_mnist("test", download=False, checksums=sha(contents))
    assert "download=False" in str(err.value) and DATA_ENV in str(err.value)


def test_unknown_split_and_missing_checksum():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="no expected SHA-256"):
        load_mnist("test", checksums={"t10k-images-idx3-ubyte": "0" * 64})


def test_module_table_of_checksums_can_be_replaced(monkeypatch, tmp_path):
    contents, images, labels = make_split("test")
    write(tmp_path / "f", contents)
    monkeypatch.setattr(data, "SHA256", {**data.SHA256, **sha(contents)})
    assert_same(load_mnist("test", folder=tmp_path / "f"), images, labels)


def test_published_checksums_reject_synthetic_files(tmp_path):
    contents, _, _ = make_split("test")
    write(tmp_path / "f", contents)
    with pytest.raises(ChecksumError, match="SHA-256 mismatch"):
        load_mnist("test", folder=tmp_path / "f")


# ----------------------------------------------------------------------------- checks on files


def test_a_changed_file_is_verified_again(tmp_path):
    contents, images, labels = make_split("test")
    folder = write(tmp_path / "f", contents)
    checksums = sha(contents)
    assert_same(load_mnist("test", folder=folder, checksums=checksums), images, labels)
    path = folder / "t10k-images-idx3-ubyte.gz"
    before = path.stat()
    other, _, _ = make_split("test", seed=9)
    path.write_bytes(gzip.compress(other["t10k-images-idx3-ubyte"], mtime=0))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte"):
        load_mnist("test", folder=folder, checksums=checksums)


def test_truncated_gzip_in_a_folder(tmp_path):
    contents, _, _ = make_split("test")
    folder = write(tmp_path / "f", contents)
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptFileError, match="truncated") as err:
        load_mnist("test", folder=folder, checksums=sha(contents))
    assert str(path) in str(err.value)


def test_gz_name_without_gzip_content(tmp_path):
    contents, _, _ = make_split("test")
    folder = write(tmp_path / "f", contents)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(contents["t10k-labels-idx1-ubyte"])
    with pytest.raises(CorruptFileError, match="not a gzip file"):
        load_mnist("test", folder=folder, checksums=sha(contents))


def bad_header_cases():
    """(file name, IDX bytes with a broken header or size, what the error must say)."""
    labels = np.arange(7, dtype=np.uint8) % 10
    images = np.zeros((7, 28, 28), dtype=np.uint8)
    good_labels = idx(labels)
    good_images = idx(images)
    return [
        ("t10k-labels-idx1-ubyte", b"\x00\x00\x09\x01" + good_labels[4:], "magic"),
        ("t10k-labels-idx1-ubyte", b"PK\x03\x04" + good_labels[4:], "magic"),
        ("t10k-labels-idx1-ubyte", idx(labels.reshape(7, 1)), "2 dimensions"),
        ("t10k-labels-idx1-ubyte", good_labels + b"\x00", "15 bytes in all, but .* 16 bytes"),
        ("t10k-labels-idx1-ubyte", good_labels[:-1], "declares sizes"),
        ("t10k-labels-idx1-ubyte", b"\x00\x00\x08\x01\x00", "inside its IDX header"),
        ("t10k-images-idx3-ubyte", idx(np.zeros((7, 27, 28), np.uint8)), "27x28"),
        ("t10k-images-idx3-ubyte", good_images[:-100], "declares sizes"),
    ]


@pytest.mark.parametrize(
    ("name", "body", "match"), bad_header_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_bad_idx_header_in_a_folder(tmp_path, name, body, match):
    contents, _, _ = make_split("test")
    contents[name] = body
    folder = write(tmp_path / "f", contents)
    # The checksum is computed for the broken file, so only the header check can catch it.
    with pytest.raises(IdxFormatError, match=match) as err:
        load_mnist("test", folder=folder, checksums=sha(contents))
    assert name in str(err.value)


def test_image_and_label_counts_must_agree(tmp_path):
    contents, _, _ = make_split("test", n=7)
    contents["t10k-labels-idx1-ubyte"] = idx(np.zeros(6, np.uint8))
    folder = write(tmp_path / "f", contents)
    with pytest.raises(IdxFormatError, match="7 images but .* 6 labels"):
        load_mnist("test", folder=folder, checksums=sha(contents))


def test_labels_must_be_digits(tmp_path):
    contents, _, _ = make_split("test", n=7)
    contents["t10k-labels-idx1-ubyte"] = idx(np.full(7, 10, np.uint8))
    folder = write(tmp_path / "f", contents)
    with pytest.raises(IdxFormatError, match="label 10"):
        load_mnist("test", folder=folder, checksums=sha(contents))


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    if os.name == "posix" and os.uname().sysname == "Linux":
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_dir() == tmp_path / "xdg" / "course_lib"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
        assert default_cache_dir() == Path.home() / ".cache" / "course_lib"


def test_default_cache_dir_on_macos_and_windows(monkeypatch, tmp_path):
    """Each platform's own cache folder, checked from Linux by pretending to be the platform."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    monkeypatch.setattr(data.sources.sys, "platform", "darwin")
    assert default_cache_dir() == tmp_path / "home" / "Library" / "Caches" / "course_lib"
    monkeypatch.setattr(data.sources.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "AppData" / "Local"))
    assert default_cache_dir() == tmp_path / "AppData" / "Local" / "course_lib" / "Cache"
    monkeypatch.delenv("LOCALAPPDATA")
    assert default_cache_dir() == tmp_path / "home" / "AppData" / "Local" / "course_lib" / "Cache"


# ----------------------------------------------------------------------------- real downloads


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder; paths under /cutoff/ promise 1000 more bytes than they send."""

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/trickle/"):  # a byte every 50 ms, for as long as it is read
            body = Path(self.directory, self.path[len("/trickle/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:  # the client gave up: good
                pass
            self.close_connection = True
            return
        if self.path.startswith("/cutoff/"):
            body = Path(self.directory, self.path[len("/cutoff/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 (random port) in a thread, serving tmp_path/"www"."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    httpd.requests = []
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.root = root
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "mnist"


def download(mirrors, checksums, **kwargs):
    return load_mnist(
        "test", mirrors=mirrors, checksums=checksums, progress=False, timeout=5, **kwargs
    )


def test_download_good_files_then_use_the_cache(server, tmp_path):
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    assert_same(download([server.url + "/good/"], sha(contents)), images, labels)
    assert listing(cache_dir(tmp_path)) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    for name in contents:  # stored exactly as served
        assert (cache_dir(tmp_path) / f"{name}.gz").read_bytes() == (
            server.root / "good" / f"{name}.gz"
        ).read_bytes()
    assert sorted(server.requests) == [
        "/good/t10k-images-idx3-ubyte.gz",
        "/good/t10k-labels-idx1-ubyte.gz",
    ]
    # Next time, in a fresh process state: from the cache, no request at all.
    data.clear_memory_cache()
    server.requests.clear()
    assert_same(download([closed_port_url()], sha(contents)), images, labels)
    assert server.requests == []


def test_download_removes_parts_left_by_a_killed_download(server, tmp_path):
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    cache = cache_dir(tmp_path)
    cache.mkdir(parents=True)
    old = cache / ".t10k-images-idx3-ubyte.abc123.part"
    old.write_bytes(b"half a download")
    os.utime(old, (old.stat().st_atime - 7200, old.stat().st_mtime - 7200))
    young = cache / ".t10k-images-idx3-ubyte.def456.part"  # maybe another process's download
    young.write_bytes(b"in progress")
    assert_same(download([server.url + "/good/"], sha(contents)), images, labels)
    assert not old.exists() and young.exists()


def test_download_fetches_only_what_is_missing(server, tmp_path):
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    write(cache_dir(tmp_path), {"t10k-labels-idx1-ubyte": contents["t10k-labels-idx1-ubyte"]})
    assert_same(download([server.url + "/good/"], sha(contents)), images, labels)
    assert server.requests == ["/good/t10k-images-idx3-ubyte.gz"]


def test_download_corrupted_file_leaves_the_cache_untouched(server, tmp_path):
    contents, _, _ = make_split("test", seed=1)
    corrupted, _, _ = make_split("test", seed=2)
    write(server.root / "bad", corrupted)
    label_name = "t10k-labels-idx1-ubyte"
    write(cache_dir(tmp_path), {label_name: contents[label_name]})
    before = (cache_dir(tmp_path) / f"{label_name}.gz").stat()
    with pytest.raises(ChecksumError) as err:
        download([server.url + "/bad/"], sha(contents))
    message = str(err.value)
    assert sha(contents)["t10k-images-idx3-ubyte"] in message
    assert sha(corrupted)["t10k-images-idx3-ubyte"] in message
    assert server.url + "/bad/t10k-images-idx3-ubyte.gz" in message
    assert DATA_ENV in message
    assert listing(cache_dir(tmp_path)) == [f"{label_name}.gz"]  # no image file, no .part
    after = (cache_dir(tmp_path) / f"{label_name}.gz").stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_download_truncated_gzip(server, tmp_path):
    contents, _, _ = make_split("test")
    folder = write(server.root / "trunc", contents)
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])  # the server sends this shorter file whole
    with pytest.raises(CorruptFileError, match="truncated gzip"):
        download([server.url + "/trunc/"], sha(contents))
    assert listing(cache_dir(tmp_path)) == []


def test_download_cut_off_connection(server, tmp_path):
    contents, _, _ = make_split("test")
    write(server.root, contents)
    with pytest.raises(CorruptFileError, match="cut off"):
        download([server.url + "/cutoff/"], sha(contents))
    assert listing(cache_dir(tmp_path)) == []


def test_download_unreachable_server(tmp_path):
    contents, _, _ = make_split("test")
    url = closed_port_url()
    with pytest.raises(DownloadError) as err:
        download([url], sha(contents))
    message = str(err.value)
    assert url in message and "offline" in message
    assert DATA_ENV in message and "folder=" in message
    assert isinstance(err.value, ConnectionError)
    assert listing(cache_dir(tmp_path)) == []


def test_download_bad_header(server, tmp_path):
    contents, _, _ = make_split("test")
    contents["t10k-images-idx3-ubyte"] = (
        b"\x00\x00\x08\x02" + contents["t10k-images-idx3-ubyte"][4:]
    )
    write(server.root / "hdr", contents)
    with pytest.raises(IdxFormatError, match="2 dimensions"):
        download([server.url + "/hdr/"], sha(contents))
    assert listing(cache_dir(tmp_path)) == []


def test_download_not_gzip(server, tmp_path):
    contents, _, _ = make_split("test")
    write(server.root / "raw", contents)
    (server.root / "raw" / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(CorruptFileError, match="valid gzip"):
        download([server.url + "/raw/"], sha(contents))
    assert listing(cache_dir(tmp_path)) == []


def test_first_mirror_failing_then_second_working(server, tmp_path):
    contents, images, labels = make_split("test")
    write(server.root / "second", contents)
    mirrors = [closed_port_url(), server.url + "/missing/", server.url + "/second/"]
    assert_same(download(mirrors, sha(contents)), images, labels)
    assert server.requests == [
        "/missing/t10k-images-idx3-ubyte.gz",  # 404, then the next mirror
        "/second/t10k-images-idx3-ubyte.gz",
        "/missing/t10k-labels-idx1-ubyte.gz",
        "/second/t10k-labels-idx1-ubyte.gz",
    ]
    assert listing(cache_dir(tmp_path)) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]


def test_corrupt_first_mirror_then_good_second(server, tmp_path):
    contents, images, labels = make_split("test", seed=1)
    corrupted, _, _ = make_split("test", seed=2)
    write(server.root / "bad", corrupted)
    write(server.root / "good", contents)
    assert_same(
        download([server.url + "/bad/", server.url + "/good/"], sha(contents)), images, labels
    )


def test_every_mirror_failing_lists_every_attempt(server, tmp_path):
    contents, _, _ = make_split("test", seed=1)
    corrupted, _, _ = make_split("test", seed=2)
    write(server.root / "bad", corrupted)
    refused = closed_port_url()
    with pytest.raises(ChecksumError) as err:  # bad content is the more telling failure
        download([refused, server.url + "/missing/", server.url + "/bad/"], sha(contents))
    message = str(err.value)
    assert refused in message and "ConnectionRefusedError" in message
    assert "/missing/t10k-images-idx3-ubyte.gz: HTTP Error 404" in message
    assert "/bad/t10k-images-idx3-ubyte.gz: SHA-256 mismatch" in message
    with pytest.raises(DownloadError, match="empty"):
        download([], sha(contents))


def test_text_progress_on_stderr(server, capsys):
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    loaded = load_mnist(
        "test", mirrors=[server.url + "/good/"], checksums=sha(contents), progress=True, timeout=5
    )
    assert_same(loaded, images, labels)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Downloading t10k-images-idx3-ubyte.gz from 127.0.0.1" in captured.err
    assert "t10k-labels-idx1-ubyte.gz: done," in captured.err


def test_an_observer_hears_each_file_start_grow_and_finish(server):
    """progress= takes any object with start, update and finish: the data layer reports, a
    layer above draws (course_lib.widgets.download_bar)."""
    events = []

    class Recording:
        def start(self, name, host, total):
            events.append(("start", name, host, total))

        def update(self, done):
            events.append(("update", done))

        def finish(self, complete):
            events.append(("finish", complete))

    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    loaded = load_mnist(
        "test", mirrors=[server.url + "/good/"], checksums=sha(contents), progress=Recording()
    )
    assert_same(loaded, images, labels)
    starts = [e for e in events if e[0] == "start"]
    assert [e[1] for e in starts] == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    assert all(e[2] == "127.0.0.1" or e[2].startswith("127.0.0.1:") for e in starts)
    assert [e for e in events if e[0] == "finish"] == [("finish", True), ("finish", True)]
    sizes = [e[3] for e in starts]
    updates = [e[1] for e in events if e[0] == "update"]
    assert updates and max(updates) == max(sizes)


def test_the_data_layer_draws_no_bars() -> None:
    import ast
    import inspect

    for module in (data.download, data.progress, data):
        tree = ast.parse(inspect.getsource(module))
        nodes = list(ast.walk(tree))
        imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module}
        imported = {name.split(".")[0] for name in imported}
        assert "tqdm" not in imported and "ipywidgets" not in imported, module.__name__


def test_silent_download(server, capsys):
    contents, _, _ = make_split("test")
    write(server.root / "good", contents)
    download([server.url + "/good/"], sha(contents))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"timeout": 0}, ValueError, "positive, finite"),
        ({"timeout": -1}, ValueError, "positive, finite"),
        ({"timeout": float("nan")}, ValueError, "positive, finite"),
        ({"timeout": float("inf")}, ValueError, "positive, finite"),
        ({"timeout": "30"}, TypeError, "number of seconds"),
        ({"folder": 123}, TypeError, "folder must be a folder's path"),
        ({"folder": ""}, ValueError, "empty string"),
        ({"cache_dir": 1.5}, TypeError, "cache_dir must be a folder's path"),
        ({"mirrors": 5}, TypeError, "list of base URLs"),
        ({"mirrors": ["ossci-datasets"]}, ValueError, "must be a URL"),
        ({"mirrors": [None]}, ValueError, "must be a URL"),
        ({"download": "no"}, TypeError, "download must be True or False"),
        ({"progress": 1}, TypeError, "progress must be True, False or an observer"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, says):
    with pytest.raises(error, match=says):
        load_mnist("test", **kwargs)


def test_one_mirror_given_as_a_string_is_one_mirror(server, tmp_path):
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    assert_same(download(server.url + "/good/", sha(contents)), images, labels)
    assert len(server.requests) == 2  # not one request per character of the string


def test_a_cache_that_is_a_file_is_named(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(data.CacheNotWritableError, match="is a file, not a folder"):
        load_mnist("test", cache_dir=blocker, progress=False)


def test_a_cache_that_cannot_be_written_is_named(server, tmp_path, monkeypatch):
    contents, _, _ = make_split("test")
    write(server.root / "good", contents)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.download.tempfile, "mkstemp", refuse)
    with pytest.raises(data.CacheNotWritableError, match="Cannot write the MNIST cache") as caught:
        download([server.url + "/good/"], sha(contents))
    assert isinstance(caught.value, PermissionError)
    assert "cache_dir=" in str(caught.value) and CACHE_ENV in str(caught.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write a read-only folder"
)
def test_a_read_only_cache_folder(server, tmp_path):
    contents, _, _ = make_split("test")
    write(server.root / "good", contents)
    cache = cache_dir(tmp_path)
    cache.mkdir(parents=True)
    cache.chmod(0o555)
    try:
        with pytest.raises(data.CacheNotWritableError, match="Cannot write"):
            download([server.url + "/good/"], sha(contents))
    finally:
        cache.chmod(0o755)


def test_cached_files_are_readable_by_everyone_the_umask_allows(server, tmp_path):
    contents, _, _ = make_split("test")
    write(server.root / "good", contents)
    old = os.umask(0o022)
    try:
        download([server.url + "/good/"], sha(contents))
    finally:
        os.umask(old)
    for path in cache_dir(tmp_path).iterdir():
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_a_dead_downloads_part_file_goes_at_once_even_without_a_download(tmp_path):
    import subprocess
    import sys

    contents, images, labels = make_split("test")
    cache = write(cache_dir(tmp_path), contents)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    dead = cache / f".t10k-images-idx3-ubyte.{dead_pid}-abc123.part"
    dead.write_bytes(b"half a download")
    mine = cache / f".t10k-images-idx3-ubyte.{os.getpid()}-def456.part"  # a live process's
    mine.write_bytes(b"in progress")
    assert_same(
        load_mnist("test", checksums=sha(contents), download=False, progress=False),
        images,
        labels,
    )
    assert not dead.exists() and mine.exists()


def test_a_trickling_mirror_is_abandoned_at_the_deadline(server, tmp_path):
    """Each read answers well within the timeout, so only the whole download's deadline ends
    it: the next mirror is tried, and with none left the error names the deadline."""
    contents, images, labels = make_split("test")
    write(server.root / "good", contents)
    started = time.monotonic()
    with pytest.raises(DownloadError, match="deadline"):
        download([server.url + "/trickle/good/"], sha(contents), deadline=0.6)
    assert time.monotonic() - started < 5
    assert not any(p.name.endswith(".part") for p in cache_dir(tmp_path).glob(".*"))


def test_the_deadline_is_checked_like_the_timeout():
    with pytest.raises(ValueError, match="deadline must be a positive"):
        load_mnist("test", deadline=0)
    with pytest.raises(TypeError, match=r"deadline \(a number of seconds\) must be a number"):
        load_mnist("test", deadline="soon")


def test_a_tilde_with_an_unknown_user_is_named():
    with pytest.raises(ValueError, match="user name this machine does not know"):
        load_mnist("test", folder="~no_such_user_here_0")


# ---------------------------------------------------------------- arguments and unreadable files


@pytest.mark.parametrize("split", [["train"], ("test",), None, 3, b"train"])
def test_a_split_that_is_not_text_is_named(split):
    """load_mnist(['train']) used to fail with "unhashable type: 'list'"."""
    with pytest.raises(
        TypeError, match=r"^split must be the text 'train' or 'test', got"
    ) as caught:
        load_mnist(split, download=False)
    if isinstance(split, list | tuple):
        assert "load one split at a time: load_mnist('train')" in str(caught.value)


def _refuse_reading(path, *args, **kwargs):
    raise PermissionError(13, "Permission denied", str(path))


@pytest.mark.parametrize("source", ["folder", "cache"])
def test_an_unreadable_file_is_a_data_error_naming_the_file_and_the_fix(
    source, tmp_path, monkeypatch
):
    """A file of the folder that could not be read used to raise the bare errno text
    ("[Errno 13] Permission denied"). Tests run as root here, where chmod 000 does not stop a
    read, so reading is refused by a stand-in for Path.read_bytes (the real case is below)."""
    contents, _, _ = make_split("test")
    folder = write(tmp_path / "f" if source == "folder" else cache_dir(tmp_path), contents)
    monkeypatch.setattr(Path, "read_bytes", _refuse_reading)
    kwargs = {"folder": folder} if source == "folder" else {"download": False}
    with pytest.raises(data.UnreadableFileError) as caught:
        load_mnist("test", checksums=sha(contents), **kwargs)
    message = str(caught.value)
    assert isinstance(caught.value, data.DataError) and isinstance(caught.value, PermissionError)
    assert message.startswith(f"Cannot read {folder / 't10k-images-idx3-ubyte.gz'}")
    assert "Permission denied" in message and "Errno" not in message
    fix = "pass folder= that folder" if source == "folder" else "delete it so it is downloaded"
    assert fix in message


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a file of mode 000"
)
def test_a_file_of_mode_000_is_a_data_error(tmp_path):
    contents, _, _ = make_split("test")
    folder = write(tmp_path / "f", contents)
    locked = folder / "t10k-labels-idx1-ubyte.gz"
    locked.chmod(0)
    try:
        with pytest.raises(data.UnreadableFileError, match=f"Cannot read {locked}"):
            load_mnist("test", folder=folder, checksums=sha(contents))
    finally:
        locked.chmod(0o644)


def test_a_folder_that_cannot_be_searched_is_a_data_error(tmp_path, monkeypatch):
    """Path.is_dir passes a PermissionError on (a folder inside one this user may not enter)."""
    monkeypatch.setattr(Path, "is_dir", _refuse_reading)
    with pytest.raises(data.UnreadableFileError) as caught:
        load_mnist("test", folder=tmp_path)
    assert str(caught.value).startswith(
        f"Cannot look for the MNIST files in {str(tmp_path)!r} (the folder given): Permission "
        "denied. Make that folder readable"
    )
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(data.UnreadableFileError, match=r"\(named by \$COURSE_LIB_DATA\)"):
        load_mnist("test")
    monkeypatch.delenv(DATA_ENV)
    with pytest.raises(data.CacheNotWritableError, match="Cannot write the MNIST cache folder"):
        load_mnist("test", cache_dir=tmp_path, download=False)


def test_a_folder_in_place_of_a_file_is_not_taken_for_it(tmp_path):
    contents, _, _ = make_split("test")
    folder = write(tmp_path / "f", {k: v for k, v in contents.items() if "labels" in k})
    (folder / "t10k-images-idx3-ubyte.gz").mkdir()  # a folder where the images file belongs
    with pytest.raises(DataNotFoundError, match="does not hold t10k-images-idx3-ubyte"):
        load_mnist("test", folder=folder, checksums=sha(contents))


@pytest.mark.parametrize("name", ["timeout", "deadline"])
@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (10**400, ValueError, "is an int of 401 digits, too large for a float"),
        (1j, TypeError, "must be a real number"),
        (float("nan"), ValueError, "must be a positive, finite number of seconds"),
        (-1, ValueError, "must be a positive, finite number of seconds"),
    ],
)
def test_seconds_go_through_the_one_check_of_a_number(name, bad, error, message):
    """timeout=10**400 used to raise a bare OverflowError."""
    with pytest.raises(error, match=f"^load_mnist: {name}.*{message}"):
        load_mnist("test", download=False, **{name: bad})


@pytest.mark.parametrize(
    ("checksums", "error", "message"),
    [
        (5, TypeError, "checksums must map each file name to its SHA-256"),
        (["a"], TypeError, "checksums must map each file name to its SHA-256"),
        (
            {"t10k-images-idx3-ubyte": 5, "t10k-labels-idx1-ubyte": "0" * 64},
            ValueError,
            r"checksums\['t10k-images-idx3-ubyte'\] must be a SHA-256 written as 64 hex",
        ),
    ],
)
def test_checksums_that_are_not_a_table_of_digests_are_named(checksums, error, message):
    """checksums=5 used to fail with "argument of type 'int' is not iterable", and a digest
    of 5 with a checksum mismatch that blamed the file."""
    with pytest.raises(error, match=f"^{message}"):
        load_mnist("test", download=False, checksums=checksums)
