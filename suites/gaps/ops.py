"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch

from harness.spec import OpSpec

# searchsorted/bucketize lower since issue 17d (compiler/search.py, suites/indexing). histc stays refused
# (Inductor's ATen fallback): the `host_fallback` fault (harness/faults.py) must see it XPASS.
SPECS = [
    OpSpec("histc", lambda x: torch.histc(x, 4), inputs=["N"],
           xfail={"*": ("histc", "histc (a histogram: a scatter-add of ones into bins) is not lowered")}),
]
