"""Coverage gaps: ops the backend refuses today, declared as expected failures.

Each names the op the backend must refuse and fails unless UnsupportedOp names it (shown as `unsupported` in the
matrix, never as a pass). The expectation is strict: once an op lowers, its
case XPASSes and fails, and the spec moves to its family's suite.
"""

import torch

from harness.spec import OpSpec

# searchsorted/bucketize lower since issue 17d (compiler/search.py, suites/indexing): no declared gap left
SPECS = []
