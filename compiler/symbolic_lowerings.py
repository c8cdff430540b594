"""Inductor lowerings whose output size stays a size expression instead of a guard.

Inductor's `aten.diagonal` lowering decides the diagonal's length min(H, W - offset) (then max with
0) with `evaluate_min` / `evaluate_max`, which guard on which operand is smaller: a (5, N) input
with offset 2 compiled for N = 5 (guard 3 <= N <= 6) compiled again at N = 1025, a second kernel
for the same op (OpInfo's diagonal_copy, diagonal_scatter). Dynamo's own meta keeps the length
symbolic (sym_min), so the lowering may too: inside `symbolic_lowerings()` the length is the sympy
Max(0, Min(...)), an index expression the kernels take as a size argument (compiler/printer.py
prints Min and Max), and one kernel serves every N.
"""

from __future__ import annotations

import sympy
import torch
from torch._inductor.virtualized import V

from compiler.inductor_lowerings import inductor_lowering, lowerings_replaced


def _symbolic_diagonal(original):
    def lower(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
        sizevars = V.graph.sizevars
        saved = sizevars.evaluate_min, sizevars.evaluate_max
        # the original's only use of them is the diagonal's length: keep it an expression
        sizevars.evaluate_min = lambda left, right: sympy.Min(left, right)
        sizevars.evaluate_max = lambda left, right: sympy.Max(left, right)
        try:
            return original(input, offset, dim1, dim2)
        finally:
            sizevars.evaluate_min, sizevars.evaluate_max = saved

    return lower


def symbolic_lowerings():
    """The lowerings above in place of Inductor's for the duration; restored after."""
    diagonal = torch.ops.aten.diagonal.default
    original = inductor_lowering(diagonal)
    return lowerings_replaced({} if original is None else {diagonal: _symbolic_diagonal(original)})
