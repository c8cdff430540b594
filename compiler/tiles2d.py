"""2-D tiles of a pointwise kernel: one tile spans rows x columns of the two innermost kept dims.

With a 1-D tile per row, a narrow innermost dim (bias_scale_3d at N = 2, a transpose to 3-wide
rows) pays one DMA, and its latency, per row. Here a tile holds `rows` x `cols` elements, with

    C = min(column tile, N)      R = max(1, base tile // C), in whole channel rounds

computed at run time, so one compile serves every size: a wide N (C = the column tile, R = 1)
tiles as the row loop did, a narrow one packs many rows into each tile. One flat parallel loop
runs over the tiles (tile k is row block k // col_tiles, column block k % col_tiles), and each
operand moves by one DMA per tile:

* varying in both dims: a 2-D descriptor (rows x cols at strides s1, s0). A load whose row
  stride is 1 (a transpose) swaps the descriptor's dims when the tile is taller than wide, so
  its inner runs are the contiguous ones; the scratchpad then holds the tile column by column;
* varying in one dim only (a broadcast row [N] or column [M, 1]): a 1-D DMA of that dim alone,
  read by every row or column of the tile, never a gather;
* uniform over the tile: one element before the loop, as in the 1-D tile loop.

Kernels with masked, indirect or non-affine accesses keep the 1-D tile loop (`plan` says None).

Reduction kernels (`plan_rows`, `row_tile_loop`): scans (cumsum, cumprod, cummax, cummin,
logcumsumexp) and row reductions over r, the reduced dim, take the same tiles with r as the
columns and the innermost kept x dim as the rows, so rows of 2 or 7 share one DMA per operand
where each row was a work item with its own load and stores. Per row block (the parallel work
item) a sequential loop runs over the column tiles; its row_block compute runs each row's
elements in order inside a column loop carrying the scans' and reductions' running values
(iter_args), and writes a scan's output per element, a reduction's total per row to registers
(its last column tile's write stands); after the column loop an epilogue over the rows computes
the stored values, one 1-D DMA of the block's rows. When N takes more than one column tile R
is 1, so the values the column loop carries across its tiles are those of the tile's one row;
at the first column tile every row starts from the identities. A transposed operand (a scan
along a middle dim), load or store, swaps its descriptor's dims where that moves fewer DRAM
bursts. It applies to one pass over r (reductions at level 0, no argmax or sort), float sums
only over a short static r (a long float sum keeps its partial sums, one row per work item),
and the same affine, unmasked, direct accesses as pointwise tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from mlir import ir
from mlir.dialects import arith, linalg, memref, scf

from compiler import tile_ir
from compiler.printer import IndexPrinter, const_i64, const_index, to_i64, to_index
from compiler.tile_ir import Constant, IndexValue, Load, Op, Reduce, Store, walk
from compiler.tiling import base_tile, choose_tile

# operand kinds: which of the tile's dims (columns x0, rows x1) its address varies along
BOTH, COLUMNS, ROWS = "both", "columns", "rows"
# compute kind of a 2-D tile's row loop: its own ops run once per row, its inner loop's per
# element (simulator/trace/skeleton.py, CONTRACTS.md section 1)
ROW_BLOCK = "row_block"


@dataclass
class Operand:
    """One tensor's traffic in a 2-D tile: its kind, scratchpad and address (base + s0*x0 + s1*x1)."""

    buffer: str
    kind: str
    base: sympy.Expr
    s0: sympy.Expr
    s1: sympy.Expr
    spad: ir.Value | None = None
    spad_id: int = -1
    may_swap: bool = False  # a transposed load: its rows are contiguous, its columns far apart


def affine_2d(index: sympy.Expr, x0: sympy.Symbol, x1: sympy.Symbol):
    """(base, s0, s1) when index = base + s0*x0 + s1*x1 with base and strides free of x0 and x1."""
    base = index.subs({x0: 0, x1: 0})
    s0 = sympy.expand(index.subs({x0: 1, x1: 0}) - base)
    s1 = sympy.expand(index.subs({x0: 0, x1: 1}) - base)
    loop = {x0, x1}
    if (s0.free_symbols | s1.free_symbols | base.free_symbols) & loop:
        return None
    if sympy.expand(index - base - s0 * x0 - s1 * x1) != 0:
        return None
    return base, s0, s1


def _kind(s0: sympy.Expr, s1: sympy.Expr) -> str | None:
    if s0 != 0 and s1 != 0:
        return BOTH
    if s0 != 0:
        return COLUMNS
    if s1 != 0:
        return ROWS
    return None


def _is_unit(stride: sympy.Expr) -> bool:
    return stride.is_Integer and abs(int(stride)) == 1


def plan(program: tile_ir.TileProgram, dims: list, stores: list) -> dict | None:
    """The operands of a 2-D tiled kernel, or None when it keeps the 1-D tile loop: every store
    plain and affine in both dims with non-zero strides (written once), every load that varies
    over the tile unmasked, direct and affine."""
    if program.rnumel is not None or len(dims) < 2 or not stores:
        return None
    (x0, _), (x1, _) = dims[0], dims[1]
    operands = {}
    for store in stores:
        if type(store) is not Store:
            return None
        found = affine_2d(store.index, x0, x1)
        if found is None or _kind(found[1], found[2]) != BOTH:
            return None
        operands[id(store)] = Operand(store.buffer, BOTH, *found)
    for node in walk([s.value for s in stores]):
        if not isinstance(node, (Load, Op, Constant, IndexValue)) or getattr(node, "varies_along_reduction", False):
            return None
        if not isinstance(node, Load):
            continue
        if type(node) is not Load or node.mask is not None:  # even a uniform one: its mask may vary
            return None
        if not {x0, x1} & node.symbols():
            continue
        found = affine_2d(node.index, x0, x1)
        if found is None:
            return None
        base, s0, s1 = found
        operands[id(node)] = Operand(node.buffer, _kind(s0, s1), base, s0, s1,
                                     may_swap=_is_unit(s1) and not _is_unit(s0))
    return operands


def dma_2d(emitter, direction: str, operand: Operand, offset: ir.Value, rows: ir.Value, cols: ir.Value,
           row_stride: ir.Value, col_stride: ir.Value) -> None:
    """rows x cols elements at offset + r*row_stride + c*col_stride <-> the scratchpad, dense
    (row r at r*cols). Every size and stride is a runtime i64."""
    from compiler.emitter import DYN, storage_type

    element = storage_type(emitter.arg_dtype(operand.buffer))
    dram = emitter.func.arguments[emitter.arg_index(operand.buffer)]
    dynamic = ir.DenseI64ArrayAttr.get([DYN, DYN])
    dram_view = memref.ReinterpretCastOp(
        ir.MemRefType.get([DYN, DYN], element, layout=ir.StridedLayoutAttr.get(DYN, [DYN, DYN])), dram,
        [to_index(offset)], [to_index(rows), to_index(cols)], [to_index(row_stride), to_index(col_stride)],
        ir.DenseI64ArrayAttr.get([DYN]), dynamic, dynamic).result
    spad_view = memref.ReinterpretCastOp(
        ir.MemRefType.get([DYN, DYN], element, layout=ir.StridedLayoutAttr.get(0, [DYN, 1])), operand.spad,
        [], [to_index(rows), to_index(cols)], [to_index(cols)], ir.DenseI64ArrayAttr.get([0]), dynamic,
        ir.DenseI64ArrayAttr.get([DYN, 1])).result
    src, dst = (dram_view, spad_view) if direction == "load" else (spad_view, dram_view)
    copy_op = linalg.copy(src, outs=[dst]).owner
    copy_op.attributes["npusim.dma"] = emitter.dma_attr(direction, operand.buffer, operand.spad_id)


def ceil_div(a: ir.Value, b: ir.Value) -> ir.Value:
    return arith.divsi(arith.addi(a, arith.subi(b, const_i64(1))), b)


def tile_shape(emitter, n: ir.Value, column_tile: int, budget: int, widest: int):
    """(C, R, column tiles) of a 2-D tile at run time: C = min(column tile, N), R = budget // C."""
    one = const_i64(1)
    cols_per_tile = arith.maxsi(arith.minsi(const_i64(column_tile), n), one)
    # A row block of whole channel rounds: when the tile holds that many rows, R is a multiple
    # of the elements one burst per DRAM channel moves, so every full tile's transfers spread
    # evenly over the channels wherever they start (else which channels a tile's few extra
    # bursts land on shifts with N's offsets, and cycles jitter by a burst or two as N grows)
    rows_per_tile = arith.maxsi(arith.divsi(const_i64(budget), cols_per_tile), one)
    dram = emitter.config["dram"]
    granule = const_i64(max(1, dram["channels"] * dram["burst_bytes"] // max(1, widest // 8)))
    rounded = arith.muli(arith.divsi(rows_per_tile, granule), granule)
    rows_per_tile = arith.select(arith.cmpi(arith.CmpIPredicate.sge, rows_per_tile, granule), rounded, rows_per_tile)
    return cols_per_tile, rows_per_tile, ceil_div(n, cols_per_tile)


def taller_than_wide(emitter, operand: Operand, rows: ir.Value, cols: ir.Value, s0: ir.Value) -> ir.Value:
    """The pointwise tiles' swap of a transposed operand: when the tile has more rows than columns."""
    return arith.cmpi(arith.CmpIPredicate.sgt, rows, cols)


def fewer_bursts(emitter, operand: Operand, rows: ir.Value, cols: ir.Value, s0: ir.Value) -> ir.Value:
    """Swap a transposed operand's dims when that moves fewer DRAM bursts: `cols` contiguous runs
    of `rows` elements, against `rows` runs of `cols` elements `s0` apart (each one a burst of its
    own once s0 spans one). Scans along a non-contiguous dim are tall and narrow and wide alike."""
    from compiler.emitter import elem_bits

    one = const_i64(1)
    elem_bytes = max(1, elem_bits(emitter.arg_dtype(operand.buffer)) // 8)
    burst = const_i64(max(1, emitter.config["dram"]["burst_bytes"] // elem_bytes))  # elements per burst
    swapped = arith.muli(cols, ceil_div(rows, burst))
    span = arith.addi(arith.muli(arith.subi(cols, one), s0), one)
    unswapped = arith.muli(rows, arith.minsi(cols, ceil_div(span, burst)))
    return arith.cmpi(arith.CmpIPredicate.slt, swapped, unswapped)


def issue_loads(emitter, loads: list, operands: dict, addresses: dict, offsets: dict, steps: dict,
                rows: ir.Value, cols: ir.Value, swap_when=taller_than_wide) -> None:
    """One DMA per varying load of a tile (rows x cols at `offsets`); `steps` gets each one's
    (row step, column step) in its scratchpad. A transposed load's dims swap where `swap_when`
    says, its scratchpad then holding the tile column by column."""
    one = const_i64(1)
    for load in loads:
        key, op = id(load), operands[id(load)]
        _, s0, s1 = addresses[key]
        if op.kind == COLUMNS:
            steps[key] = (const_i64(0), one)
            emitter.dma("load", op.buffer, op.spad, op.spad_id, offsets[key], to_index(cols), s0)
        elif op.kind == ROWS:
            steps[key] = (one, const_i64(0))
            emitter.dma("load", op.buffer, op.spad, op.spad_id, offsets[key], to_index(rows), s1)
        elif op.may_swap:
            swap = swap_when(emitter, op, rows, cols, s0)
            steps[key] = (arith.select(swap, one, cols), arith.select(swap, rows, one))
            dma_2d(emitter, "load", op, offsets[key], arith.select(swap, cols, rows),
                   arith.select(swap, rows, cols), arith.select(swap, s0, s1), arith.select(swap, s1, s0))
        else:
            steps[key] = (cols, one)
            dma_2d(emitter, "load", op, offsets[key], rows, cols, s1, s0)


def row_scope(emitter, outer, x1: sympy.Symbol, m0: ir.Value, row_in_tile: ir.Value, loads: list, operands: dict,
              per_row: list):
    """(row index, scope) of one row of a tile. What varies by row only (a row's operand of a column
    broadcast, batch norm's 1 / sqrt(var + eps) per channel) is computed here once per row, as the
    1-D tile loop computed it once per tile; the trace counts it per row (kind ROW_BLOCK)."""
    from compiler.emitter import Scope, _SymbolEnv

    row_index = arith.addi(m0, to_i64(row_in_tile))
    row = Scope(env=_SymbolEnv({**outer.env, str(x1): row_index}), memo=dict(outer.memo))
    for load in loads:
        if operands[id(load)].kind == ROWS:
            row.spad_reads[id(load)] = (operands[id(load)].spad, row_in_tile)
    for node in per_row:
        emitter.value(node, row)
    return row_index, row


def element_scope(row, env, loads: list, operands: dict, steps: dict, row_in_tile: ir.Value, column: ir.Value):
    """(scope, slot) of one element of a tile's row: each operand varying along the columns read from
    its scratchpad slot row_in_tile * row step + column * column step (`slot(key)`)."""
    from compiler.emitter import Scope

    element = Scope(env=env, memo=dict(row.memo))

    def slot(key):
        row_step, col_step = steps[key]
        return arith.addi(arith.muli(row_in_tile, to_index(row_step)), arith.muli(column, to_index(col_step)))

    for load in loads:
        if operands[id(load)].kind != ROWS:
            element.spad_reads[id(load)] = (operands[id(load)].spad, slot(id(load)))
            element.memo.pop(id(load), None)
    return element, slot


def tile_loop(emitter, outer, dims: list, stores: list, operands: dict) -> None:
    """The 2-D tile loop of a pointwise kernel over dims[0] (columns) and dims[1] (rows)."""
    from compiler.emitter import Scope, _SymbolEnv, elem_bits

    (x0, n_extent), (x1, m_extent) = dims[0], dims[1]
    loads = [n for n in walk([s.value for s in stores]) if id(n) in operands and isinstance(n, Load)]

    def varies(node) -> bool:
        return bool({x0, x1} & emitter.deps(node))

    for node in walk([s.value for s in stores], stop=lambda n: not varies(n)):
        if not varies(node):  # uniform over the tile: computed once, outside the loop
            emitter.value(node, outer)
    # the largest values that vary along the rows only, computed once per row
    per_row = [node for node in walk([s.value for s in stores], stop=lambda n: x0 not in emitter.deps(n))
               if emitter.deps(node) & {x0, x1} == {x1} and not isinstance(node, Constant)]
    dtypes = [emitter.arg_dtype(n.buffer) for n in loads] + [emitter.arg_dtype(s.buffer) for s in stores]
    widest = max(elem_bits(d) for d in dtypes)
    buffers = max(1, len(dtypes))
    column_tile = choose_tile(n_extent, emitter.config, widest, buffers).tile
    budget = max(column_tile, base_tile(emitter.config, widest, buffers))
    emitter.tiles["x"] = column_tile
    for key, operand in operands.items():
        operand.spad, operand.spad_id = emitter.new_spad(emitter.arg_dtype(operand.buffer), budget)

    printer = IndexPrinter(outer.env)
    n, m = printer(n_extent), printer(m_extent)
    one = const_i64(1)
    cols_per_tile, rows_per_tile, col_tiles = tile_shape(emitter, n, column_tile, budget, widest)
    n_tiles = arith.muli(ceil_div(m, rows_per_tile), col_tiles)
    addresses = {key: (printer(op.base), printer(op.s0), printer(op.s1)) for key, op in operands.items()}

    loop = scf.ForOp(const_index(0), to_index(n_tiles), const_index(1))
    loop.attributes["npusim.tile_loop"] = ir.DictAttr.get(
        {"dim": ir.StringAttr.get("x"), "parallel": ir.BoolAttr.get(True)})
    with ir.InsertionPoint(loop.body):
        k = to_i64(loop.induction_variable)
        m0 = arith.muli(arith.divsi(k, col_tiles), rows_per_tile)
        n0 = arith.muli(arith.remsi(k, col_tiles), cols_per_tile)
        rows = arith.minsi(rows_per_tile, arith.subi(m, m0))
        cols = arith.minsi(cols_per_tile, arith.subi(n, n0))
        # element (r, c) of each operand's scratchpad: r * row_step + c * col_step
        steps, offsets = {}, {}
        for key, op in operands.items():
            base, s0, s1 = addresses[key]
            offsets[key] = arith.addi(base, arith.addi(arith.muli(s0, n0), arith.muli(s1, m0)))
            steps[key] = (cols, one)
        issue_loads(emitter, loads, operands, addresses, offsets, steps, rows, cols)
        compute = scf.ForOp(const_index(0), to_index(rows), const_index(1))
        with ir.InsertionPoint(compute.body):
            r = compute.induction_variable
            row_index, row = row_scope(emitter, outer, x1, m0, r, loads, operands, per_row)
            across = scf.ForOp(const_index(0), to_index(cols), const_index(1))
            with ir.InsertionPoint(across.body):
                c = across.induction_variable
                env = _SymbolEnv({**outer.env, str(x0): arith.addi(n0, to_i64(c)), str(x1): row_index})
                element, slot = element_scope(row, env, loads, operands, steps, r, c)
                for store in stores:
                    memref.store(emitter.stored_value(store, element), operands[id(store)].spad, [slot(id(store))])
                scf.YieldOp([])
            scf.YieldOp([])
        emitter.tag_compute(compute, reads=[operands[id(n)].spad_id for n in loads],
                            writes=[operands[id(s)].spad_id for s in stores], kind=ROW_BLOCK)
        for store in stores:
            _, s0, s1 = addresses[id(store)]
            dma_2d(emitter, "store", operands[id(store)], offsets[id(store)], rows, cols, s1, s0)
        scf.YieldOp([])



# --- reduction kernels: scans and row reductions over a narrow last dim --------------------
@dataclass
class RowPlan:
    """A reduction kernel in 2-D tiles: its operands (columns along r, rows along the innermost
    kept x dim), its level-0 reductions and scans, its stores varying in both dims (a scan's
    output, written per element) and along the rows only (a reduction's result, per row)."""

    operands: dict
    reduces: list
    scans: list
    element_stores: list
    row_stores: list


def plan_rows(emitter, dims: list) -> RowPlan | None:
    """The 2-D tiling of a reduction kernel, or None when it keeps one row per work item: one
    pass over r (every reduction at level 0, no argmax or sort), float sums only over a short
    static r (a long one keeps its partial sums), every store plain and affine in r and the row
    dim, every varying load unmasked, direct and affine."""
    from compiler import argreduce
    from compiler.emitter import REDUCTION_COMBINE, SHORT_STATIC_SUM, keeps_partials
    from compiler.scan import Scan, ScanOutput
    from compiler.tiling import is_symbolic_dim

    program = emitter.program
    r = program.rindex
    if r is None or not dims or not program.stores:
        return None
    x1 = dims[0][0]
    short = not is_symbolic_dim(program.rnumel) and int(program.rnumel) <= SHORT_STATIC_SUM
    reduces = emitter.program_reduces()
    for reduce in reduces:
        if type(reduce) is not Reduce or reduce.reduction_type not in REDUCTION_COMBINE or emitter.level(reduce) != 0 \
                or argreduce.is_arg_reduction(reduce) or (keeps_partials(reduce) and not short):
            return None
    operands, element_stores, row_stores = {}, [], []
    for store in program.stores:
        if type(store) is not Store:
            return None
        found = affine_2d(store.index, r, x1)
        if found is None:
            return None
        kind = _kind(found[1], found[2])
        if dims[0][1] == 1:  # one row (a kernel specialised to M = 1): its address cannot vary along it
            kind = {COLUMNS: BOTH, None: ROWS}.get(kind, kind)
        if kind == BOTH and emitter.level(store) == 0:
            element_stores.append(store)
        elif kind == ROWS and r not in emitter.deps(store.value):
            row_stores.append(store)
        else:
            return None
        # a scan along a non-contiguous dim (cumsum(x, 1) of [B, M, 16]) may store its tile column by
        # column, as a transposed load reads it (`fewer_bursts`)
        operands[id(store)] = Operand(store.buffer, kind, *found,
                                      may_swap=_is_unit(found[2]) and not _is_unit(found[1]))
    scans = []
    for node in walk([s.value for s in program.stores]):
        if isinstance(node, Scan):
            scans.append(node)
        elif isinstance(node, IndexValue) and node.operands():
            return None
        elif not isinstance(node, (Load, Op, Constant, IndexValue, Reduce, ScanOutput)):
            return None
        if not isinstance(node, Load) or not {r, x1} & node.symbols():
            continue
        if type(node) is not Load or node.mask is not None:
            return None
        found = affine_2d(node.index, r, x1)
        if found is None:
            return None
        base, s0, s1 = found
        operands[id(node)] = Operand(node.buffer, _kind(s0, s1), base, s0, s1,
                                     may_swap=_is_unit(s1) and not _is_unit(s0))
    if not scans and not reduces:
        return None
    return RowPlan(operands, reduces, scans, element_stores, row_stores)


def row_tile_loop(emitter, outer, dims: list, plan: RowPlan) -> None:
    """The 2-D tile loop of a reduction kernel (see `plan_rows`): per row block (the work item), a
    sequential loop over column tiles; R = 1 when N takes more than one, so the running values
    it carries across them (iter_args) are those of the tile's one row."""
    from compiler import scan
    from compiler.emitter import (Scope, _SymbolEnv, accumulator_dtype, cast, combine, elem_bits, reduction_identity,
                                  storage_type)

    program = emitter.program
    r, n_extent = program.rindex, program.rnumel
    x1, m_extent = dims[0]
    operands, reduces, scans = plan.operands, plan.reduces, plan.scans
    stores = plan.element_stores + plan.row_stores
    loops = {r, x1}

    def varies(node) -> bool:  # a reduction's result is not ready outside the loop, even when uniform
        return bool(loops & emitter.deps(node)) or bool(emitter.reductions_reaching(node))

    for node in walk([s.value for s in stores], stop=lambda n: not varies(n)):
        if not varies(node):  # uniform over the tile: computed once, outside the loop
            emitter.value(node, outer)
    element_roots = [rd.value for rd in reduces] + [s.value for s in plan.element_stores]
    loads = [n for n in walk([s.value for s in stores]) if id(n) in operands and isinstance(n, Load)]
    # what varies along the rows only and feeds the element loop: computed once per row
    per_row = [node for node in walk(element_roots, stop=lambda n: r not in emitter.deps(n))
               if emitter.deps(node) & loops == {x1} and not isinstance(node, Constant)]
    # the columns' tile as a row loop over r would take it: a row's result (one element per row,
    # an i32 sum's i64) does not narrow it
    tiled = [emitter.arg_dtype(n.buffer) for n in loads] + [emitter.arg_dtype(s.buffer) for s in plan.element_stores]
    widest = max(elem_bits(d) for d in tiled or [emitter.arg_dtype(s.buffer) for s in stores])
    buffers = max(1, len(loads) + len(stores))
    column_tile = choose_tile(n_extent, emitter.config, widest, buffers).tile
    budget = max(column_tile, base_tile(emitter.config, widest, buffers))
    emitter.tiles.update(x=1, r=column_tile)
    for operand in operands.values():
        operand.spad, operand.spad_id = emitter.new_spad(emitter.arg_dtype(operand.buffer), budget)

    # each row's reduction results, kept in registers for the epilogue that computes the stored values
    totals = {}
    for reduce in reduces:
        with ir.InsertionPoint.at_block_begin(emitter.entry_block):
            element = storage_type(accumulator_dtype(reduce.dtype))
            totals[id(reduce)] = memref.alloca(ir.MemRefType.get([budget], element), [], [])

    printer = IndexPrinter(outer.env)
    n, m = printer(n_extent), printer(m_extent)
    one, zero = const_i64(1), const_i64(0)
    # A scan's tile stores as many bytes as it loads: half the rows keep its bytes per tile at a row
    # reduction's, and the pipeline's fill and drain (the first load, the last store, which nothing
    # overlaps) at a row tile's (cumsum [3, 4096]: one 2-row and one 1-row tile took 289 cycles, 3
    # row tiles 268)
    row_budget = budget // 2 if plan.element_stores else budget
    cols_per_tile, rows_per_tile, col_tiles = tile_shape(emitter, n, column_tile, row_budget, widest)
    # one row per tile when a row takes several column tiles: the carried values are its own
    rows_per_tile = arith.select(arith.cmpi(arith.CmpIPredicate.sgt, col_tiles, one), one, rows_per_tile)
    if plan.row_stores:  # an empty row still stores the identity
        col_tiles = arith.maxsi(col_tiles, one)
    addresses = {key: (printer(op.base), printer(op.s0), printer(op.s1)) for key, op in operands.items()}

    loop = scf.ForOp(const_index(0), to_index(ceil_div(m, rows_per_tile)), const_index(1))
    loop.attributes["npusim.tile_loop"] = ir.DictAttr.get(
        {"dim": ir.StringAttr.get("x"), "parallel": ir.BoolAttr.get(True)})
    with ir.InsertionPoint(loop.body):
        m0 = arith.muli(to_i64(loop.induction_variable), rows_per_tile)
        rows = arith.minsi(rows_per_tile, arith.subi(m, m0))
        identities = [reduction_identity(rd.reduction_type, accumulator_dtype(rd.dtype)) for rd in reduces]
        identities += scan.inits(scans)
        columns = scf.ForOp(const_index(0), to_index(col_tiles), const_index(1), identities)
        # a reduction loop: the trace costs the cross-lane combine of its running values after it
        columns.attributes["npusim.tile_loop"] = ir.DictAttr.get(
            {"dim": ir.StringAttr.get("r"), "parallel": ir.BoolAttr.get(False)})
        with ir.InsertionPoint(columns.body):
            n0 = arith.muli(to_i64(columns.induction_variable), cols_per_tile)
            cols = arith.minsi(cols_per_tile, arith.subi(n, n0))
            steps, offsets = {}, {}
            for key in operands:
                base, s0, s1 = addresses[key]
                offsets[key] = arith.addi(base, arith.addi(arith.muli(s0, n0), arith.muli(s1, m0)))
                steps[key] = (cols, one)
            issue_loads(emitter, loads, operands, addresses, offsets, steps, rows, cols, swap_when=fewer_bursts)
            swaps = {}
            for store in plan.element_stores:
                op = operands[id(store)]
                if op.may_swap:
                    swaps[id(store)] = swap = fewer_bursts(emitter, op, rows, cols, addresses[id(store)][1])
                    steps[id(store)] = (arith.select(swap, one, cols), arith.select(swap, rows, one))
            # every row starts from the identities at the first column tile; past it the tile has one
            # row, which goes on from its running values (chosen here, so no row pays for a select)
            first = arith.cmpi(arith.CmpIPredicate.eq, n0, zero)
            starts = [arith.select(first, init, carried) for init, carried in
                      zip(identities, columns.inner_iter_args)]
            # the row loop hands its last row's running values to the next column tile
            compute = scf.ForOp(const_index(0), to_index(rows), const_index(1), starts)
            with ir.InsertionPoint(compute.body):
                row_in_tile = compute.induction_variable
                row_index, row = row_scope(emitter, outer, x1, m0, row_in_tile, loads, operands, per_row)
                across = scf.ForOp(const_index(0), to_index(cols), const_index(1), starts)
                with ir.InsertionPoint(across.body):
                    c = across.induction_variable
                    position = arith.addi(n0, to_i64(c))
                    element, slot = element_scope(row, _SymbolEnv({**outer.env, str(r): position, str(x1): row_index}),
                                                  loads, operands, steps, row_in_tile, c)
                    running = list(across.inner_iter_args)
                    updates = []
                    for reduce, carried in zip(reduces, running):
                        acc_dtype = accumulator_dtype(reduce.dtype)
                        value = cast(emitter.value(reduce.value, element), reduce.value.dtype, acc_dtype)
                        updates.append(combine(reduce.reduction_type, acc_dtype)(carried, value))
                    updates += scan.step(emitter, scans, element, running[len(reduces):], position)
                    for store in plan.element_stores:
                        memref.store(emitter.stored_value(store, element), operands[id(store)].spad,
                                     [slot(id(store))])
                    scf.YieldOp(updates)
                for reduce, total in zip(reduces, across.results):  # the last column tile's write stands
                    emitter.acc_store(total, totals[id(reduce)], row_in_tile, accumulator_dtype(reduce.dtype))
                scf.YieldOp(list(across.results))
            emitter.tag_compute(compute, reads=[operands[id(n)].spad_id for n in loads],
                                writes=[operands[id(s)].spad_id for s in plan.element_stores], kind=ROW_BLOCK)
            for store in plan.element_stores:
                op, (_, s0, s1) = operands[id(store)], addresses[id(store)]
                if op.may_swap:
                    swap = swaps[id(store)]
                    dma_2d(emitter, "store", op, offsets[id(store)], arith.select(swap, cols, rows),
                           arith.select(swap, rows, cols), arith.select(swap, s0, s1), arith.select(swap, s1, s0))
                else:
                    dma_2d(emitter, "store", op, offsets[id(store)], rows, cols, s1, s0)
            scf.YieldOp(list(compute.results))
        if plan.row_stores:  # the rows' results (a mean's sum / n) from the reductions' totals
            epilogue = scf.ForOp(const_index(0), to_index(rows), const_index(1))
            with ir.InsertionPoint(epilogue.body):
                i = epilogue.induction_variable
                row = Scope(env=_SymbolEnv({**outer.env, str(x1): arith.addi(m0, to_i64(i))}), memo=dict(outer.memo))
                row_loads = [n for n in loads if operands[id(n)].kind == ROWS]
                for load in row_loads:
                    row.spad_reads[id(load)] = (operands[id(load)].spad, i)
                for reduce in reduces:
                    acc_dtype = accumulator_dtype(reduce.dtype)
                    row.memo[id(reduce)] = cast(emitter.acc_load(totals[id(reduce)], i, acc_dtype), acc_dtype,
                                                reduce.dtype)
                for store in plan.row_stores:
                    memref.store(emitter.stored_value(store, row), operands[id(store)].spad, [i])
                scf.YieldOp([])
            emitter.tag_compute(epilogue, reads=[operands[id(n)].spad_id for n in row_loads],
                                writes=[operands[id(s)].spad_id for s in plan.row_stores])
        for store in plan.row_stores:
            base, _, s1 = addresses[id(store)]
            emitter.dma("store", store.buffer, operands[id(store)].spad, operands[id(store)].spad_id,
                        arith.addi(base, arith.muli(s1, m0)), to_index(rows), s1)
        scf.YieldOp([])
