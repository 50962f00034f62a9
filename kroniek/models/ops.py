"""thinc's NumpyOps multiplies matrices with the bundled BLIS, which on these
CPUs (AMD EPYC, 2 cores) ran 3.4x slower than numpy's OpenBLAS for the
shapes of our CNNs (measured: 8.3 vs 28 GFLOPS on 14,000 x 384 x 384).
``NumpyBlasOps`` routes ``gemm`` through numpy; everything else is thinc's.
Installed as the current ops when ``kroniek.models`` is imported, before any
model is built or loaded, so training and tagging both use it.

``install`` also keeps freed large arrays in glibc's heap (``tune_malloc``)."""

from __future__ import annotations

import os

import numpy as np
from thinc.api import NumpyOps, set_current_ops


class NumpyBlasOps(NumpyOps):
    name = "numpy"  # same serialised identity as thinc's NumpyOps

    def gemm(self, x, y, out=None, trans1=False, trans2=False):
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return np.matmul(a, b)
        np.matmul(a, b, out=out)
        return out


def tune_malloc() -> None:
    """The CNNs allocate arrays of tens of MB per batch (a batch of 64
    articles: 30,000 tokens x 288 floats). By default glibc serves each from a
    fresh mmap and gives it back on free, so the kernel zeroes new pages for
    every batch (measured, nl_fast over ned.testa: 0.4-0.5 s of system time,
    mostly zeroing pages, in ~3 s of CPU; 0.2-0.3 s with this). Serving them
    from the heap, which is not trimmed, reuses the pages; the process keeps
    its peak heap. Arrays over 32 MB (glibc's cap on the threshold) are still
    mapped afresh. glibc only; MALLOC_* variables set by the user win."""
    if any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (glibc's maximum)
    except (OSError, AttributeError):
        pass


def install() -> None:
    set_current_ops(NumpyBlasOps())
    tune_malloc()
