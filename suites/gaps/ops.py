"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch

from harness.spec import OpSpec

SPECS = [
    OpSpec("sort", lambda x: torch.sort(x).values, inputs=["N"], xfail={"*": ("sort", "sort is not lowered")}),
    OpSpec("index_put", lambda x, i, v: x.index_put((i,), v), inputs=["N,4", "M", "M,4"],
           values=["normal", "index", "normal"],
           xfail={"*": ("scatter", "index_put stores through data-dependent indices: the scatter DMA takes "
                                   "affine and non-affine addresses, not addresses read from data")}),
]
