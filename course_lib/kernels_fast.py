"""The speed-only parts of the fused softmax cross-entropy kernel (course_lib.kernels).

Nothing here checks its input or teaches a formula: :mod:`course_lib.kernels` checks the input,
states the mathematics and calls these. They compute the same numbers as the plain formulas
(``softmax`` there and :func:`course_lib.kernels.softmax_cross_entropy_grad`), faster:
cache-sized blocks of rows, row reductions that numpy runs quickly for short rows, and, for
large batches, two halves of the rows on two threads. ``tests/test_kernels.py`` and
``tests/test_tensor_softmax.py`` check that the fast and plain results agree.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating[Any]]


# Rows are processed in blocks of about this many entries (1 MB of float32), so that each
# block's exp, sum and scaling run on data still in the CPU cache: one trip through memory to
# read the logits and one to write P, instead of one per numpy operation.
_BLOCK = 1 << 18
# From this many entries on (4 blocks), the rows are split into two halves computed at the same
# time on two threads: numpy releases the GIL inside its loops, so the halves run on two cores
# (torch's CPU kernels use every core too). Below it, starting a thread costs more than it saves.
_THREADED = 1 << 20


def _in_two_halves(work: Callable[[int, int], Any], n: int) -> None:
    """Run ``work(start, stop)`` for rows [0, n/2) here and [n/2, n) on a helper thread.

    The helper is a new thread each call, joined before returning (starting one takes about
    0.1 ms, against milliseconds of work at these sizes). Nothing outlives the call: a pool
    kept between calls would not survive ``fork`` (multiprocessing's default on Linux, and
    pytest-xdist's), and a forked child calling the kernel would wait forever for a thread
    that does not exist in it.
    """
    half = n // 2
    failed: list[BaseException] = []

    def other_half() -> None:
        try:
            work(half, n)
        except BaseException as error:  # handed to the caller below
            failed.append(error)

    helper = threading.Thread(target=other_half, name="course_lib.kernels", daemon=True)
    helper.start()
    try:
        work(0, half)
    finally:
        helper.join()
    if failed:
        raise failed[0]


def _softmax_rows(z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """P = softmax(z) along axis 1, with the row maxima m and the sums s = Σ_c e^{z_c - m},
    block by block of rows (and, for large z, two halves of the rows on two threads).

    The speed-only part of the fused kernel (no checks). A few numpy choices matter here:
    a reduction along a short row (C = 10) is slow in numpy, so for short rows the maxima
    come from a transposed copy (a reduction along axis 0 runs across rows at full speed);
    the row sums come from ``einsum`` for the same reason.
    """
    n, c = z.shape
    p = np.empty_like(z)
    rows = max(1, _BLOCK // c)
    m = np.empty(n, z.dtype)
    s = np.empty(n, z.dtype)

    def work(first: int, last: int) -> None:
        # inf - inf for a +inf logit gives NaN: the caller's check names the logit instead of
        # numpy warning; a z - m beyond the largest float is -inf, whose exp, 0, is right
        # (np.errstate holds per thread, so it is set here, in each thread)
        with np.errstate(invalid="ignore", over="ignore"):
            for start in range(first, last, rows):
                stop = min(start + rows, last)
                m[start:stop], s[start:stop] = _softmax_block(z[start:stop], p[start:stop])

    if z.size >= _THREADED and n >= 2 and (os.cpu_count() or 1) >= 2:
        _in_two_halves(work, n)
    else:
        work(0, n)
    return p, m, s


def _softmax_block(z: FloatArray, out: FloatArray) -> tuple[FloatArray, FloatArray]:
    m = z.T.copy().max(axis=0) if z.shape[1] < 64 else z.max(axis=1)
    np.subtract(z, m[:, None], out=out)  # every entry ≤ 0, the row max is 0
    np.exp(out, out=out)
    s = np.einsum("ij->i", out)  # row sums (faster than out.sum(axis=1) for short rows)
    out /= s[:, None]
    return m, s


def _softmax_cross_entropy_grad_fast(p: FloatArray, y: NDArray[Any], upstream: Any) -> FloatArray:
    """:func:`softmax_cross_entropy_grad`, tuned: no Y, one scaling, threads for big batches."""
    n = p.shape[0]
    scale = p.dtype.type(upstream) / p.dtype.type(n)
    if y.ndim == 1:
        if p.size >= _THREADED and n >= 2 and (os.cpu_count() or 1) >= 2:
            grad = np.empty_like(p)
            _in_two_halves(lambda a, b: np.multiply(p[a:b], scale, out=grad[a:b]), n)
        else:
            grad = p * scale
        # subtract Y for one-hot rows without building Y: at [n, y_n] (by flat index, faster)
        if grad.flags.c_contiguous:
            c = p.shape[1]
            grad.reshape(-1)[np.arange(0, n * c, c) + y] -= scale
        else:
            grad[np.arange(n), y] -= scale
        return grad
    return (p - y) * scale
