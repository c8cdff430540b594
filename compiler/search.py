"""searchsorted and bucketize (Inductor's `ops.bucketize`) as npusim kernels (issue 17d).

The boundaries tensor (every row of it: `numel` elements of its storage) is loaded into a
scratchpad buffer once, outside the tile loop (one DMA, `BoundaryRows`); each element then runs
eager's binary search over its row in that buffer (ATen's cus_lower_bound / cus_upper_bound):

    start, end = 0, M
    while start < end:
        mid = start + (end - start) // 2
        if not (row[mid] >= value)  (right: not (row[mid] > value)):  start = mid + 1
        else:                                                          end = mid

as an `scf.while` per element (`Bucketize`), so NaN values go past every boundary as in eager.
A storage longer than the buffer (sort.ROW_CAPACITY elements) is reported at run time like an
out-of-range index (KernelIndexError) and its search results are not used.

Cost: the trace has the boundary DMA and one compute tile per value tile; a compute body's loop is
counted once per element, not once per step (the trace has no trip counts; cf. the orthogonal
polynomials in compiler/special_functions.py), so the search's log2(M) steps are undercounted.
A `sorter` (searchsorted's argsort of unsorted boundaries) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch
from mlir import ir
from mlir.dialects import arith, func, memref, scf

from compiler.errors import UnsupportedOp
from compiler.printer import const_i64, to_index, while_loop
from compiler.tile_ir import IndexValue, Node

SEARCH_SITE = 1001  # the "site" a too-long boundary storage is reported with (sort's is 1000)


@dataclass(eq=False)
class BoundaryRows(Node):
    """The boundaries buffer `buffer` (a kernel arg), its first `numel` elements, in a scratchpad."""

    buffer: str
    numel: IndexValue

    def operands(self):
        return (self.numel,)

    def cse_key(self) -> str:
        return f"boundary_rows({self.buffer}, {self.numel.expr})"


@dataclass(eq=False)
class Bucketize(Node):
    """The bucket of `value` in the row of `length` boundaries at `base`, `stride` apart."""

    value: Node
    rows: BoundaryRows
    base: Node
    length: IndexValue
    stride: IndexValue
    right: bool

    def operands(self):
        return (self.value, self.rows, self.base, self.length, self.stride)

    def cse_key(self) -> str:
        return (f"bucketize({self.value.name}, {self.rows.cse_key()}, {getattr(self.base, 'name', None)}, "
                f"{self.length.expr}, {self.stride.expr}, {self.right})")


def bucketize(values, boundaries, boundary_indices, indexing_dtype, right, sorter=None, sorter_indices=None):
    """NpuOverrides.bucketize: records the search; the kernel binds its result."""
    from torch._inductor.virtualized import V

    from compiler.overrides import _as_node

    if sorter is not None:
        raise UnsupportedOp("searchsorted", "a sorter (unsorted boundaries read through their argsort)")
    name, length, numel, stride = boundaries
    kernel = V.kernel

    def size(expr):  # a size expression as an i64 operand (never bound by CSE: its dtype set here)
        node = IndexValue(kernel.prepare_value_index(sympy.sympify(expr)), torch.int64)
        node.dtype = torch.int64
        return node

    rows = BoundaryRows(kernel.args.input(name), size(numel))
    base = size(boundary_indices) if isinstance(boundary_indices, int) else _as_node(boundary_indices)
    return kernel.record(Bucketize(_as_node(values), rows, base, size(length), size(stride), bool(right)))


def is_search_node(node) -> bool:
    return isinstance(node, (BoundaryRows, Bucketize))


def spads_read(emitter, nodes) -> list[int]:
    """The boundary buffers a compute tile's searches read (it waits for their DMA)."""
    return [emitter._search_rows[id(n.rows)][1] for n in nodes
            if isinstance(n, Bucketize) and id(n.rows) in getattr(emitter, "_search_rows", {})]


def value(emitter, node, scope) -> ir.Value:
    """The emitter's value of a search node: the loaded buffer (a memref), or a bucket (i64)."""
    from compiler import indirect, sort
    from compiler.emitter import cast

    if isinstance(node, BoundaryRows):
        table = emitter.__dict__.setdefault("_search_rows", {})
        dtype = emitter.arg_dtype(node.buffer)
        spad, spad_id = emitter.new_spad(dtype, sort.ROW_CAPACITY)
        table[id(node)] = (spad, spad_id)
        numel = emitter.value(node.numel, scope)
        capacity = const_i64(sort.ROW_CAPACITY)
        report = scf.IfOp(arith.cmpi(arith.CmpIPredicate.sgt, numel, capacity))
        with ir.InsertionPoint(report.then_block):
            func.CallOp([], ir.FlatSymbolRefAttr.get(indirect.report_function(emitter)),
                        [numel, capacity, const_i64(SEARCH_SITE)])
            scf.YieldOp([])
        emitter.dma("load", node.buffer, spad, spad_id, const_i64(0), to_index(arith.minsi(numel, capacity)), 1)
        return spad
    if not isinstance(node, Bucketize):
        raise UnsupportedOp(type(node).__name__)
    spad = emitter.value(node.rows, scope)
    row_dtype = emitter.arg_dtype(node.rows.buffer)
    value_dtype = node.value.dtype
    common = torch.promote_types(row_dtype, value_dtype)
    target = cast(emitter.value(node.value, scope), value_dtype, common)
    base = cast(emitter.value(node.base, scope), node.base.dtype, torch.int64)
    length = emitter.value(node.length, scope)
    stride = emitter.value(node.stride, scope)
    i64 = ir.IntegerType.get_signless(64)
    last = const_i64(sort.ROW_CAPACITY - 1)

    def halve(start, end):
        mid = arith.addi(start, arith.shrsi(arith.subi(end, start), const_i64(1)))
        where = arith.minsi(arith.addi(base, arith.muli(mid, stride)), last)  # a reported storage: any slot
        boundary = memref.load(spad, [to_index(where)])
        if row_dtype == torch.bool:
            boundary = cast(boundary, torch.int8, torch.bool)
        boundary = cast(boundary, row_dtype, common)
        if common.is_floating_point:
            at_or_above = arith.cmpf(arith.CmpFPredicate.OGT if node.right else arith.CmpFPredicate.OGE,
                                     boundary, target)
        else:
            predicate = arith.CmpIPredicate.sgt if node.right else arith.CmpIPredicate.sge
            if common == torch.uint8:
                predicate = arith.CmpIPredicate.ugt if node.right else arith.CmpIPredicate.uge
            at_or_above = arith.cmpi(predicate, boundary, target)
        return [arith.select(at_or_above, start, arith.addi(mid, const_i64(1))), arith.select(at_or_above, mid, end)]

    first, _ = while_loop([i64, i64], [const_i64(0), length],
                          lambda start, end: arith.cmpi(arith.CmpIPredicate.slt, start, end), halve)
    return cast(first, torch.int64, node.dtype)
