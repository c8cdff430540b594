"""argmax / argmin: a reduction that carries (best value, its index) through the reduction loop.

Eager semantics (ATen's CPU kernel): the first index of the extreme value wins ties, and a NaN
beats every number, so the first NaN's index is the answer. Elements arrive in index order (the
reduction loop and its compute loop run sequentially), so "first" means "replace only when
strictly better": the running pair starts at (identity, 0), which is also eager's answer when no
element beats the identity (a row of -inf for argmax).
"""

from __future__ import annotations

import math

import torch
from mlir import ir
from mlir.dialects import arith

from dataclasses import dataclass

from compiler.errors import UnsupportedOp
from compiler.tile_ir import Load, Node, Reduce, walk

ARG_REDUCTIONS = ("argmax", "argmin")


@dataclass(eq=False)
class ArgReduce(Reduce):
    """argmax/argmin whose index Inductor computes itself (`(value, index)`: a reduction over
    several dims of a view, where the flat reduction index is not the answer). `index` is an
    index expression; without it the index is the reduction loop's position."""

    index: Node | None = None

    def operands(self):
        return (self.value,) if self.index is None else (self.value, self.index)


def record(kernel, dtype: torch.dtype, reduction_type: str, value) -> str:
    """The tile-program node of ops.reduction(argmax|argmin, value or (value, index))."""
    index = None
    if isinstance(value, tuple):
        if len(value) != 2:
            raise UnsupportedOp(f"reduction:{reduction_type}", f"{len(value)} operands")
        value, index = value
        index = index.node
        if any(isinstance(n, Load) for n in walk([index])):
            raise UnsupportedOp(f"reduction:{reduction_type}", "an index computed from loaded data")
    return kernel.record(ArgReduce(reduction_type, value.node, dtype, index))


def is_arg_reduction(reduce: Reduce) -> bool:
    return reduce.reduction_type in ARG_REDUCTIONS


def value_dtype(reduce: Reduce) -> torch.dtype:
    return reduce.value.dtype


def inits(reduce: Reduce) -> list[ir.Value]:
    """(value, index) the loop starts from: the value nothing loses to (strictly), index 0."""
    from compiler.emitter import constant, is_float

    dtype = value_dtype(reduce)
    maximum = reduce.reduction_type == "argmax"
    if is_float(dtype):
        start = constant(-math.inf if maximum else math.inf, dtype)
    elif dtype == torch.bool:
        start = constant(not maximum, dtype)
    elif dtype == torch.uint8:
        start = constant(0 if maximum else 255, dtype)
    else:
        info = torch.iinfo(dtype)
        start = constant(info.min if maximum else info.max, dtype)
    return [start, constant(0, reduce.dtype)]


def combine(reduce: Reduce, best: ir.Value, best_index: ir.Value, value: ir.Value,
            position: ir.Value) -> list[ir.Value]:
    """The pair after one more element `value` at `position` (an i64: the reduction index, or
    the value of the node's own index expression)."""
    from compiler.emitter import cast, is_float, is_unsigned

    dtype = value_dtype(reduce)
    maximum = reduce.reduction_type == "argmax"
    if is_float(dtype):
        better = arith.cmpf(arith.CmpFPredicate.OGT if maximum else arith.CmpFPredicate.OLT, value, best)
        value_nan = arith.cmpf(arith.CmpFPredicate.UNO, value, value)
        best_is_number = arith.cmpf(arith.CmpFPredicate.ORD, best, best)
        take = arith.andi(best_is_number, arith.ori(better, value_nan))  # a NaN, once held, stays
    else:
        if is_unsigned(dtype):
            predicate = arith.CmpIPredicate.ugt if maximum else arith.CmpIPredicate.ult
        else:
            predicate = arith.CmpIPredicate.sgt if maximum else arith.CmpIPredicate.slt
        take = arith.cmpi(predicate, value, best)
    index = cast(position, torch.int64, reduce.dtype)
    return [arith.select(take, value, best), arith.select(take, index, best_index)]
