"""What loading MNIST costs, and how much of it is the SHA-256 check.

Run: ``COURSE_LIB_DATA=<folder holding mnist/> .venv/bin/python benchmarks/bench_data.py``

Prints, for the train split, the median of a few repeats of: reading the gzip file, gunzipping
it, hashing the decompressed bytes, a first ``load_mnist`` (read, verify, parse, convert), and a
repeated ``load_mnist`` served from the in-process memo (convert only).
"""

from __future__ import annotations

import gzip
import hashlib
import statistics
import time

from course_lib import data
from course_lib.data import load_mnist, locate_mnist


def timed(fn, repeats: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    files = locate_mnist("train")  # (downloads them first if need be)
    path = files.images

    t_read, raw = timed(path.read_bytes)
    t_gunzip, content = timed(lambda: gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    t_sha, _ = timed(lambda: hashlib.sha256(content).hexdigest())

    def first_load():
        data.clear_memory_cache()
        return load_mnist("train", progress=False)

    t_first, _ = timed(first_load)
    t_memo, _ = timed(lambda: load_mnist("train", progress=False))
    print(f"source: {files.source} ({path.parent})")
    print(
        f"train images: {path.name}, {len(raw) / 1e6:.1f} MB on disk, {len(content) / 1e6:.1f} MB"
    )
    print(f"  read file        {1000 * t_read:7.1f} ms")
    print(f"  gunzip           {1000 * t_gunzip:7.1f} ms")
    print(f"  SHA-256          {1000 * t_sha:7.1f} ms")
    print(f"load_mnist('train') first in process (images + labels): {1000 * t_first:7.1f} ms")
    print(f"load_mnist('train') again (in-process memo):           {1000 * t_memo:7.1f} ms")
    print(f"SHA-256 share of a first load: {100 * t_sha / t_first:.0f}%")


if __name__ == "__main__":
    main()
