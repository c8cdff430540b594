"""Row sorts (Inductor's `ops.sort`): sort, argsort, msort, and topk, kthvalue, median and mode,
which Inductor decomposes into a stable sort (`config.triton.decompose_sort_ops`, set by the
backend), all as npusim kernels.

A sort runs along the reduction dim of its kernel, one row per work item, in three steps:
1. the reduction loop at the sort's level computes the sorted values (the key and every value
   sorted with it, e.g. Inductor's iota of indices) and writes them into row buffers in the
   scratchpad (ROW_CAPACITY elements each); a fill loop writes each slot's position (0..P-1);
2. a bitonic network over the row padded to P = 2^L >= n sorts the buffers in place: L(L+1)/2
   passes, each a compute tile of P/2 compare-exchanges (load both elements, compare, select,
   store both). Elements are ordered by (key, position), so the result is eager's stable sort:
   NaN is larger than every number (last ascending, first descending), -0.0 == 0.0, ties keep
   their index order. The padding (positions n..P-1) sorts after every element;
3. the next reduction loop reads the sorted row back at each r and stores it.

The trace counts what the kernel does: the row write and read in the loops' compute tiles, and
per pass one compute tile of P/2 elements whose ops (4 + 2m spad accesses, the compares, 2m
selects for m sorted values) come from the pass's own body; index arithmetic of the network
runs on the address generators, as for every tile. A row longer than ROW_CAPACITY is reported at
run time like an out-of-range index (KernelIndexError) and its values are not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from mlir import ir
from mlir.dialects import arith, func, memref, scf

from compiler.errors import UnsupportedOp
from compiler.printer import IndexPrinter, const_i64, const_index, to_i64, to_index
from compiler.tile_ir import Node, Reduce

# Elements of one row buffer (a static scratchpad buffer; the network sorts its first P)
ROW_CAPACITY = 1 << 18  # the OpInfo sweep's large size (131079) fits; ~4 MiB of stack at 64-bit keys
SORT_SITE = 1000  # the "site" a too-long row is reported with (indirect indices count from 0)


@dataclass(eq=False)
class SortRows(Reduce):
    """The sort of `values` (the key first) along the reduction dim; its outputs are SortOutputs."""

    values: tuple = ()
    stable: bool = True
    descending: bool = False

    def operands(self):
        return tuple(self.values)

    def cse_key(self) -> str:
        return f"sort({', '.join(v.name for v in self.values)}, descending={self.descending})"


@dataclass(eq=False)
class SortOutput(Node):
    """Value `output_index` of a sorted row, at the reduction index."""

    group: SortRows
    output_index: int
    value_dtype: torch.dtype

    varies_along_reduction = True

    def operands(self):
        return (self.group,)

    def cse_key(self) -> str:
        return f"sort_output({self.group.name}, {self.output_index})"


@dataclass
class RowBuffers:
    values: list  # (memref, spad id) per sorted value
    positions: tuple  # (memref, spad id): each element's index in the unsorted row (i32)

    def spad_ids(self) -> list[int]:
        return [spad_id for _, spad_id in self.values] + [self.positions[1]]


def record(kernel, dtypes, values, stable, descending) -> tuple:
    """ops.sort(dtypes, values, stable, descending) -> one CSE variable per value."""
    nodes = []
    for value in values:
        node = getattr(value, "node", None)
        if node is None:
            raise UnsupportedOp("sort", f"a sorted value {value!r} that is not a kernel value")
        nodes.append(node)
    if any(d not in SORTABLE for d in dtypes):
        raise UnsupportedOp("sort", f"sorting {', '.join(str(d) for d in dtypes)}")
    # always stable: eager's CPU sort gives the stable order for stable=False too
    group = SortRows("sort", nodes[0], dtypes[0], values=tuple(nodes), stable=True, descending=bool(descending))
    group_var = kernel.cse.generate(kernel.compute, kernel.record(group), dtype=dtypes[0])
    group = group_var.node
    outputs = []
    for k, dtype in enumerate(dtypes):
        out = SortOutput(group, k, dtype)
        outputs.append(kernel.cse.generate(kernel.compute, kernel.record(out), dtype=dtype))
    return tuple(outputs)


SORTABLE = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8, torch.int16,
            torch.int32, torch.int64, torch.bool)


def rows_of(emitter, group: SortRows) -> RowBuffers:
    """The row buffers of `group`, allocated once per kernel."""
    table = emitter.__dict__.setdefault("sort_rows", {})
    if id(group) not in table:
        table[id(group)] = RowBuffers([emitter.new_spad(v.dtype, ROW_CAPACITY) for v in group.values],
                                      emitter.new_spad(torch.int32, ROW_CAPACITY))
    return table[id(group)]


def roots(sorts: list[SortRows]) -> list[Node]:
    return [v for group in sorts for v in group.values]


def spads_written(emitter, sorts: list[SortRows]) -> list[int]:
    return [spad_id for group in sorts for _, spad_id in rows_of(emitter, group).values]


def spads_read(emitter, nodes) -> list[int]:
    groups = {id(n.group): n.group for n in nodes if isinstance(n, SortOutput)}
    return [rows_of(emitter, g).values[n][1] for g in groups.values() for n in range(len(g.values))]


def clamped(position: ir.Value) -> ir.Value:
    """An index into a row buffer; past its capacity (a row that is reported) the last element."""
    return to_index(arith.minsi(position, const_i64(ROW_CAPACITY - 1)))


def store_element(emitter, sorts: list[SortRows], scope, position: ir.Value) -> None:
    """Writes one element of each sort's row (at reduction index `position`, an i64)."""
    from compiler.emitter import cast

    if not sorts:
        return  # no dead clamp in kernels that sort nothing
    where = clamped(position)
    for group in sorts:
        rows = rows_of(emitter, group)
        for value, (buffer, _) in zip(group.values, rows.values):
            x = emitter.value(value, scope)
            if value.dtype == torch.bool:  # stored as one byte
                x = cast(x, torch.bool, torch.int8)
            memref.store(x, buffer, [where])


def output_value(emitter, out: SortOutput, scope) -> ir.Value:
    from compiler.emitter import cast

    buffer, _ = rows_of(emitter, out.group).values[out.output_index]
    value = memref.load(buffer, [clamped(scope.env[emitter.program.rindex])])
    dtype = out.group.values[out.output_index].dtype
    if dtype == torch.bool:
        value = cast(value, torch.int8, torch.bool)
    return cast(value, dtype, out.dtype)


def bit_length(v: ir.Value) -> ir.Value:
    """Bits of a non-negative i64 (0 for 0): a binary search of shifts (plain integer ops, so
    the trace skeleton computes the network's pass counts too)."""
    zero = const_i64(0)
    length = zero
    for shift in (32, 16, 8, 4, 2, 1):
        shifted = arith.shrui(v, const_i64(shift))
        nonzero = arith.cmpi(arith.CmpIPredicate.ne, shifted, zero)
        v = arith.select(nonzero, shifted, v)
        length = arith.addi(length, arith.select(nonzero, const_i64(shift), zero))
    return arith.addi(length, arith.select(arith.cmpi(arith.CmpIPredicate.ne, v, zero), const_i64(1), zero))


def precedes(group: SortRows, key_a, pos_a, key_b, pos_b, n32) -> ir.Value:
    """Whether element a comes before element b in the sorted row."""
    from compiler.emitter import cast, is_float, is_unsigned

    P = arith.CmpIPredicate
    dtype = group.values[0].dtype
    by_position = arith.cmpi(P.slt, pos_a, pos_b)
    padding = arith.ori(arith.cmpi(P.sge, pos_a, n32), arith.cmpi(P.sge, pos_b, n32))
    if is_float(dtype):
        if dtype in (torch.float16, torch.bfloat16):  # compared exactly as f32
            key_a, key_b = cast(key_a, dtype, torch.float32), cast(key_b, dtype, torch.float32)
        F = arith.CmpFPredicate
        nan_a, nan_b = arith.cmpf(F.UNO, key_a, key_a), arith.cmpf(F.UNO, key_b, key_b)
        if group.descending:
            before = arith.ori(arith.cmpf(F.OGT, key_a, key_b), arith.andi(nan_a, arith.xori(nan_b, true())))
        else:
            before = arith.ori(arith.cmpf(F.OLT, key_a, key_b), arith.andi(nan_b, arith.xori(nan_a, true())))
        equal = arith.ori(arith.cmpf(F.OEQ, key_a, key_b), arith.andi(nan_a, nan_b))
    else:
        unsigned = is_unsigned(dtype) or dtype == torch.bool
        if group.descending:
            predicate = P.ugt if unsigned else P.sgt
        else:
            predicate = P.ult if unsigned else P.slt
        before = arith.cmpi(predicate, key_a, key_b)
        equal = arith.cmpi(P.eq, key_a, key_b)
    ordered = arith.ori(before, arith.andi(equal, by_position))
    return arith.select(padding, by_position, ordered)


def true() -> ir.Value:
    return arith.constant(ir.IntegerType.get_signless(1), 1)


def network(emitter, group: SortRows, scope, extent) -> None:
    """The bitonic network over the row of `extent` elements (a sympy size), after its loop."""
    from compiler import indirect

    i32 = ir.IntegerType.get_signless(32)
    P = arith.CmpIPredicate
    zero, one = const_i64(0), const_i64(1)
    rows = rows_of(emitter, group)
    n = IndexPrinter(scope.env)(extent)  # an i64
    capacity = const_i64(ROW_CAPACITY)
    report = scf.IfOp(arith.cmpi(P.sgt, n, capacity))
    with ir.InsertionPoint(report.then_block):
        func.CallOp([], ir.FlatSymbolRefAttr.get(indirect.report_function(emitter)),
                    [n, capacity, const_i64(SORT_SITE)])
        scf.YieldOp([])
    n = arith.minsi(n, capacity)
    length = bit_length(arith.maxsi(arith.subi(n, one), zero))  # L: the row padded to 2^L
    padded = arith.shli(one, length)
    n32 = arith.trunci(i32, n)
    positions, positions_id = rows.positions

    # every slot's position, the padding's too: one pass over 2^L, so the cost only grows with n
    fill = scf.ForOp(const_index(0), to_index(padded), const_index(1))
    with ir.InsertionPoint(fill.body):
        memref.store(arith.index_cast(i32, fill.induction_variable), positions, [fill.induction_variable])
        scf.YieldOp([])
    emitter.tag_compute(fill, reads=[], writes=[positions_id])

    buffers = [b for b, _ in rows.values] + [positions]
    ids = rows.spad_ids()
    stages = scf.ForOp(const_index(1), to_index(arith.addi(length, one)), const_index(1))
    with ir.InsertionPoint(stages.body):
        stage = to_i64(stages.induction_variable)
        block = arith.shli(one, stage)  # blocks of 2^stage elements alternate ascending/descending
        steps = scf.ForOp(const_index(0), stages.induction_variable, const_index(1))
        with ir.InsertionPoint(steps.body):
            distance_log = arith.subi(arith.subi(stage, one), to_i64(steps.induction_variable))
            distance = arith.shli(one, distance_log)
            exchanges = scf.ForOp(const_index(0), to_index(arith.shrui(padded, one)), const_index(1))
            with ir.InsertionPoint(exchanges.body):
                i = to_i64(exchanges.induction_variable)
                low = arith.ori(arith.shli(arith.shrui(i, distance_log), arith.addi(distance_log, one)),
                                arith.andi(i, arith.subi(distance, one)))
                high = arith.ori(low, distance)
                ascending = arith.cmpi(P.eq, arith.andi(low, block), zero)
                at_low, at_high = to_index(low), to_index(high)
                lows = [memref.load(b, [at_low]) for b in buffers]
                highs = [memref.load(b, [at_high]) for b in buffers]
                # (key, position) is a strict total order: "low first" is "not high first"
                high_first = precedes(group, highs[0], highs[-1], lows[0], lows[-1], n32)
                swap = arith.xori(high_first, arith.xori(ascending, true()))
                for buffer, a, b in zip(buffers, lows, highs):
                    memref.store(arith.select(swap, b, a), buffer, [at_low])
                    memref.store(arith.select(swap, a, b), buffer, [at_high])
                scf.YieldOp([])
            emitter.tag_compute(exchanges, reads=ids, writes=ids)
            scf.YieldOp([])
        scf.YieldOp([])
    scope.memo[id(group)] = n


# --- decompositions onto the sort ---------------------------------------------------------------
# Inductor's own median decompositions take sorted[(n - 1) // 2], which is a number where eager
# gives NaN for a row holding one; these follow eager (ATen's median/nanmedian kernels).
def _middle(x, dim: int, keepdim: bool, skip_nan: bool):
    """The row's lower middle (median), or of its numbers (nanmedian), and its index. Sorted
    ascending and stable, the numbers come first and the first NaN follows them: median of a row
    with a NaN is that NaN and its index; nanmedian of a row of NaN gives its first NaN."""
    if x.dim() == 0:
        return x.clone(), torch.zeros((), dtype=torch.int64)
    values, indices = torch.sort(x, dim=dim, stable=True)
    n = x.shape[dim]
    if x.is_floating_point():
        numbers = (~torch.isnan(x)).sum(dim, keepdim=True)
        if skip_nan:
            middle = torch.clamp((numbers - 1) // 2, min=0)
        else:
            middle = torch.where(numbers < n, numbers, (n - 1) // 2)
    else:
        middle = torch.full_like(values.narrow(dim, 0, 1), (n - 1) // 2, dtype=torch.int64)
    value, index = values.gather(dim, middle), indices.gather(dim, middle)
    if not keepdim:
        value, index = value.squeeze(dim), index.squeeze(dim)
    return value, index


def median_dim(x, dim: int = -1, keepdim: bool = False):
    return _middle(x, dim, keepdim, skip_nan=False)


def nanmedian_dim(x, dim: int = -1, keepdim: bool = False):
    return _middle(x, dim, keepdim, skip_nan=True)


def median_all(x):
    return _middle(x.reshape(-1), 0, False, skip_nan=False)[0]


def nanmedian_all(x):
    return _middle(x.reshape(-1), 0, False, skip_nan=True)[0]


def sort_decompositions() -> dict:
    """op -> decomposition onto the row sort, for the backend's table."""
    aten = torch.ops.aten
    return {aten.median.dim: median_dim, aten.median.default: median_all,
            aten.nanmedian.dim: nanmedian_dim, aten.nanmedian.default: nanmedian_all}
