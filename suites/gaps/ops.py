"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch

from harness.spec import OpSpec

SPECS = [
    # sort, topk, median, mode, cummax lower since issue 17 (suites/indexing); a binary search does not yet
    OpSpec("searchsorted", lambda b, v: torch.searchsorted(b, v), inputs=["N", "M"],
           xfail={"*": ("searchsorted", "searchsorted/bucketize (a binary search per element) is not lowered")}),
]
