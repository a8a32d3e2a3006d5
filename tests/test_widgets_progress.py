"""course_lib.widgets.progress: a download's progress as tqdm bars (an observer of load_mnist)."""

from __future__ import annotations

import io

from course_lib.data import DownloadObserver
from course_lib.widgets import download_bar


def test_a_download_bar_is_an_observer_with_one_bar_per_file_filled_to_its_size() -> None:
    bar = download_bar(file=io.StringIO())
    assert isinstance(bar, DownloadObserver)
    for name, size in (("t10k-images-idx3-ubyte", 5000), ("t10k-labels-idx1-ubyte", 120)):
        bar.start(name, "example.org", size)
        for done in range(0, size + 1, 1000):
            bar.update(done)
        bar.update(size)
        bar.finish(True)
    assert [b.desc for b in bar.bars] == [
        "Downloading t10k-images-idx3-ubyte.gz from example.org",
        "Downloading t10k-labels-idx1-ubyte.gz from example.org",
    ]
    assert [(b.n, b.total) for b in bar.bars] == [(5000, 5000), (120, 120)]


def test_a_bar_of_unknown_size_counts_bytes() -> None:
    bar = download_bar(file=io.StringIO())
    bar.start("train-labels-idx1-ubyte", "example.org", None)
    bar.update(700)
    bar.finish(False)
    assert bar.bars[0].n == 700 and bar.bars[0].total is None
