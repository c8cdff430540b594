"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch
import torch.nn.functional as F

from harness.spec import OpSpec

SPECS = [
    OpSpec("sort", lambda x: torch.sort(x).values, inputs=["N"], xfail={"*": ("sort", "sort is not lowered")}),
    OpSpec("cumsum", lambda x: torch.cumsum(x, -1), inputs=["N"], xfail={"*": ("cumsum", "scans are not lowered")}),
    OpSpec("argmax", lambda x: x.argmax(-1), inputs=["M,N"],
           xfail={"*": ("argmax", "argmax/argmin reductions are not lowered")}),
    OpSpec("embedding", lambda w, i: F.embedding(i, w), inputs=["N,4", "M"], values=["normal", "index"],
           xfail={"*": ("indirect_indexing", "indirect indexing (gather) is not lowered")}),
]
