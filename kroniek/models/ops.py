"""thinc's NumpyOps multiplies matrices with the bundled BLIS, which on these
CPUs (AMD EPYC, 2 cores) ran 3.4x slower than numpy's OpenBLAS for the
shapes of our CNNs (measured: 8.3 vs 28 GFLOPS on 14,000 x 384 x 384).
``NumpyBlasOps`` routes ``gemm`` through numpy; everything else is thinc's.
Installed as the current ops when ``kroniek.models`` is imported, before any
model is built or loaded, so training and tagging both use it."""

from __future__ import annotations

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


def install() -> None:
    set_current_ops(NumpyBlasOps())
