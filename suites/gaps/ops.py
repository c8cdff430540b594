"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch

from harness.spec import OpSpec

SPECS = [
    OpSpec("sort", lambda x: torch.sort(x).values, inputs=["N"], xfail={"*": ("sort", "sort is not lowered")}),
    # From N = 2: at N = 1 every index is 0, the store is no longer indirect, and M duplicate indices
    # write one element M times (eager leaves the result of duplicates undefined).
    OpSpec("index_put", lambda x, i, v: x.index_put((i,), v), inputs=["N,4", "M", "M,4"],
           values=["normal", "index:N", "normal"],
           sizes=lambda config, policy: {"N": (2, 7, 8193), "M": (3, 5, 8193)},
           xfail={"*": ("scatter", "index_put stores through data-dependent indices: the scatter DMA takes "
                                   "affine and non-affine addresses, not addresses read from data")}),
]
