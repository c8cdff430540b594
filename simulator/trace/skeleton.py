"""The trace skeleton: kernel.mlir reduced to what decides timing.

`build_skeleton(kernel_text)` walks the kernel function (CONTRACTS.md
section 1) and builds a new module holding one function,

    func.func @npusim_trace_body(%ctx: !emitc.ptr<!emitc.opaque<"npusim_ctx">>, <size args: i64>...)

with only the loops that contain DMA or compute ops, the integer/index
arithmetic those loops and the DMA descriptors need, and calls to the trace
ABI helpers (`include/npusim/trace_abi.h`) in place of the simulator ops:

* `linalg.copy {npusim.dma}` -> `npusim_dma(ctx, dir, arg, spad, elem_bits,
  offset, d0, stride0, d1, stride1, tag, slot)`, the descriptor read from the
  DRAM side's `memref.reinterpret_cast` (a 2-D copy: d1 rows of d0);
* a gather loop `scf.for {npusim.dma = {mode = "gather"}}` ->
  `npusim_dma_gather(ctx, arg, spad, elem_bits, extent, tag, slot)`, after the loads of the
  scratchpads its body reads (an indirect gather's indices); a scatter loop
  (`mode = "scatter"`, a store) -> `npusim_dma_scatter(...)` with a store's tag, after the loads
  of the scratchpads it reads (an index_put's indices); a read-modify-write scatter
  (`mode = "scatter_add"`, index_put accumulate=True) -> a gather of the old values into the
  stored buffer, a barrier on it, then the scatter (no new ABI event: its addresses are as
  unknown as a gather's, and each element is read before it is written);
* a compute loop `scf.for {npusim.compute}` -> `npusim_compute(ctx, tile_id,
  n_elems, reads_mask, writes_mask)`; n_elems is the loop's extent (ub - lb,
  the trip count of a unit-step loop) times that of the deepest loop nest
  inside it whose bounds are known outside the tile (rows x columns of a 2-D
  tile); reads/writes come from the attribute
  or, when absent, from the scratchpad buffers the body loads and stores;
* a compute loop of kind `partials_combine` (a float sum's tile-wide
  partial sums, registers, added into one value) -> `npusim_compute` over
  the partial buffer's elements (one vector add per vector of partials)
  followed by a one-element lane_reduce tile; no scratchpad dependency, it
  waits for the previous compute's result;
* a compute loop tagged `unit = "systolic"` (a matmul's m > n > k nest) ->
  per k x n weight tile of the array (`array = [rows, cols]`), a
  `npusim_systolic_preload(ctx, array, handle, weights, k, n)` and a
  `npusim_systolic_accumulate(ctx, tile_id, array, handle, m, k, n, reads,
  writes)`; its cost comes from the config, so it is not in `tiles`;
* a `memref.store` / `vector.store` into a scratchpad outside a compute op
  (a reduction's result stored for its DMA) -> `npusim_compute` of a tile of
  its own (id above the kernel's compute tiles, one element, writes that
  buffer), so the store DMA that reads it waits for it;
* a reduction tile loop (an `npusim.tile_loop` with results) is followed by
  a tile of its own costing the cross-lane reductions that combine its
  per-lane partial accumulators;
* a `memref.load` / `vector.load` of a scratchpad outside a compute op (a
  value uniform over the tile, read into a register) awaits that buffer's
  load, so the compute using the value waits for its DMA;
* any other op that writes a scratchpad outside a DMA or compute op is a
  SkeletonError;
* each iteration of an outermost parallel tile loop is a work item
  (`npusim_work_item_begin/end`); the core is left to the simulator;
* an `scf.parallel` holding DMA/compute becomes a nest of `scf.for` (EmitC
  has no scf.parallel); an `scf.if` holding them keeps its condition.

Loads are asynchronous (tag = scratchpad id, slot = the enclosing tile loop's
induction value) and a `npusim_barrier` on the same (tag, slot) is placed
right before the first op that reads that buffer, or at the end of the block,
so the next tile's loads may overlap this tile's compute. Stores are posted:
tag = 64 + scratchpad id with a constant slot and no barrier; the kernel's
end waits for them.

Floating-point values, memrefs, iter_args and everything else without a
timing dependency are dropped. Integer arithmetic is copied as is (the
lowering turns affine ops into arith), and a value the skeleton needs but
cannot compute (e.g. a loop bound loaded from memory) is a SkeletonError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mlir.ir as ir
from mlir.dialects import arith, emitc, func, scf

from npusim.mlir_verify import verify
from simulator.trace import op_classes
from simulator.trace.op_classes import walk_ops
from simulator.trace.errors import SkeletonError

DMA_ATTR = "npusim.dma"
COMPUTE_ATTR = "npusim.compute"
TILE_LOOP_ATTR = "npusim.tile_loop"
SPAD_ATTR = "npusim.spad"
SYSTOLIC_UNIT = "systolic"
PARTIALS_COMBINE = "partials_combine"  # compute kind of a float sum's partials combine (emitter.py)
ROW_BLOCK = "row_block"  # compute kind of a 2-D tile's row loop (compiler/tiles2d.py ROW_BLOCK)
BODY_NAME = "npusim_trace_body"
CTX_TYPE = '!emitc.ptr<!emitc.opaque<"npusim_ctx">>'
STORE_TAG_BASE = 64
DMA_DIRS = {"load": 0, "store": 1}

# Ops copied into the skeleton when all their operands are available and all
# their results are integers or indices.
SCALAR_OPS = {
    "arith.constant", "arith.addi", "arith.subi", "arith.muli", "arith.divsi", "arith.divui",
    "arith.ceildivsi", "arith.ceildivui", "arith.floordivsi", "arith.remsi", "arith.remui",
    "arith.minsi", "arith.maxsi", "arith.minui", "arith.maxui", "arith.index_cast",
    "arith.index_castui", "arith.extsi", "arith.extui", "arith.trunci", "arith.cmpi",
    "arith.select", "arith.andi", "arith.ori", "arith.xori", "arith.shli", "arith.shrsi",
    "arith.shrui", "affine.min", "affine.max", "affine.apply",
}
# Ops that only view a memref: followed back to the buffer they alias.
VIEW_OPS = {"memref.subview", "memref.cast", "memref.reinterpret_cast", "memref.collapse_shape",
            "memref.expand_shape", "memref.view"}


@dataclass
class Skeleton:
    module: ir.Module            # owns the context it was built in
    n_size_args: int              # i64 kernel args, in shape_args order
    spads: list[dict]             # {"id", "bytes", "elem_bits"}
    tile_ids: list[int]
    tile_elem_bits: dict[int, int] = field(default_factory=dict)
    kernel_name: str = ""
    # tile id -> {"kind": compute|store|lane_reduce, "ops": [...], "after_previous": bool} (op_classes.py)
    tile_work: dict[int, dict] = field(default_factory=dict)


def _is_int_like(t: ir.Type) -> bool:
    return isinstance(t, ir.IntegerType) or isinstance(t, ir.IndexType)


def _elem_bits(memref_type: ir.Type) -> int:
    elem = ir.MemRefType(memref_type).element_type
    for cls in (ir.IntegerType, ir.F32Type, ir.F64Type, ir.F16Type, ir.BF16Type):
        if isinstance(elem, cls):
            return cls(elem).width
    raise SkeletonError(f"unsupported element type {elem}")


def _int_list(attr) -> list[int]:
    return [ir.IntegerAttr(a).value for a in ir.ArrayAttr(attr)]




def _is_spad(value: ir.Value) -> bool:
    root = _root_of(value)
    return not isinstance(root.owner, ir.Block) and root.owner.name == "memref.alloca" and \
        SPAD_ATTR in root.owner.attributes


SPAD_STORES = {"memref.store": 1, "vector.store": 1}  # op -> operand index of the memref


def _is_spad_store(op: ir.Operation) -> bool:
    index = SPAD_STORES.get(op.name)
    return index is not None and len(op.operands) > index and _is_spad(op.operands[index])


def _has_sim_ops(op: ir.Operation) -> bool:
    """Holds DMA or compute ops, or a scratchpad store outside them."""
    def visit(o: ir.Operation) -> bool:
        if DMA_ATTR in o.attributes or COMPUTE_ATTR in o.attributes or _is_spad_store(o):
            return True
        return any(visit(inner.operation) for region in o.regions for block in region.blocks
                   for inner in block.operations)
    return any(visit(inner.operation) for region in op.regions for block in region.blocks
               for inner in block.operations)


def _root_of(value: ir.Value) -> ir.Value:
    """The memref a view chain starts from."""
    while not isinstance(value.owner, ir.Block) and value.owner.name in VIEW_OPS:
        value = value.owner.operands[0]
    return value


def _defining(value: ir.Value, name: str) -> ir.Operation | None:
    while not isinstance(value.owner, ir.Block):
        if value.owner.name == name:
            return value.owner
        if value.owner.name not in VIEW_OPS:
            return None
        value = value.owner.operands[0]
    return None


class _Builder:
    def __init__(self, kernel: func.FuncOp, body: ir.Block, ctx_value: ir.Value):
        self.kernel = kernel
        self.ctx_value = ctx_value
        self.values: dict[ir.Value, ir.Value] = {}
        self.spad_of: dict[ir.Value, int] = {}  # alloca result -> spad id
        self.i32 = ir.IntegerType.get_signless(32)
        self.i64 = ir.IntegerType.get_signless(64)
        self.tile_ids: list[int] = []  # vector tiles (costed from their op classes, op_classes.py)
        self.systolic_tile_ids: list[int] = []  # costed from the config's systolic section
        self.tile_elem_bits: dict[int, int] = {}
        self.tile_work: dict[int, dict] = {}
        self.spads: dict[int, dict] = {}
        ids = [ir.IntegerAttr(ir.DictAttr(o.attributes[COMPUTE_ATTR])["tile_id"]).value
               for o in walk_ops(kernel) if COMPUTE_ATTR in o.attributes]
        self.next_tile_id = max(ids, default=-1) + 1  # ids of the tiles the skeleton adds

    # -- small emitters -------------------------------------------------
    def const(self, value: int, ty: ir.Type, ip: ir.InsertionPoint) -> ir.Value:
        return arith.ConstantOp(ty, value, ip=ip).result

    def to_i64(self, value: ir.Value, ip: ir.InsertionPoint) -> ir.Value:
        if isinstance(value.type, ir.IndexType):
            return arith.IndexCastOp(self.i64, value, ip=ip).result
        width = ir.IntegerType(value.type).width
        if width == 64:
            return value
        return arith.ExtSIOp(self.i64, value, ip=ip).result if width < 64 else arith.TruncIOp(self.i64, value, ip=ip).result

    def call(self, callee: str, operands: list[ir.Value], ip: ir.InsertionPoint) -> None:
        emitc.CallOpaqueOp([], callee, [self.ctx_value, *operands], ip=ip)

    def mapped(self, value: ir.Value, what: str) -> ir.Value:
        try:
            return self.values[value]
        except KeyError:
            where = value.owner.name if not isinstance(value.owner, ir.Block) else "a block argument"
            raise SkeletonError(f"{what} depends on a value the skeleton cannot compute (defined by {where})") from None

    def trip_count(self, loop: ir.Operation, ip: ir.InsertionPoint) -> ir.Value | None:
        """Elements a loop covers, max(ub - lb, 0) in i64 (the trip count of a unit-step
        loop; a strip-mined loop of step s covers s elements per trip), or None when a
        bound is not available."""
        lb, ub = loop.operands[0], loop.operands[1]
        if any(v not in self.values for v in (lb, ub)):
            return None
        lb, ub = (self.to_i64(self.values[v], ip) for v in (lb, ub))
        return arith.MaxSIOp(arith.SubIOp(ub, lb, ip=ip).result, self.const(0, self.i64, ip), ip=ip).result

    def nest_elems(self, block: ir.Block, ip: ir.InsertionPoint) -> ir.Value:
        """Trip count of the deepest nest of loops in block whose bounds are known outside it."""
        best = self.const(1, self.i64, ip)
        for op in block.operations:
            op = op.operation
            if op.name != "scf.for":
                continue
            trips = self.trip_count(op, ip)
            if trips is None:
                continue
            nest = arith.MulIOp(trips, self.nest_elems(op.regions[0].blocks[0], ip), ip=ip).result
            best = arith.MaxSIOp(best, nest, ip=ip).result
        return best

    def spad_id(self, memref: ir.Value, what: str) -> int:
        root = _root_of(memref)
        if root not in self.spad_of:
            raise SkeletonError(f"{what} does not refer to a scratchpad buffer (memref.alloca tagged {SPAD_ATTR})")
        return self.spad_of[root]

    # -- the walk -------------------------------------------------------
    def emit_block(self, block: ir.Block, ip: ir.InsertionPoint, slot: ir.Value | None, in_work_item: bool) -> None:
        pending: dict[int, ir.Value] = {}  # spad id -> slot of its unawaited load

        def await_spads(spads) -> None:
            for spad in spads:
                if spad in pending:
                    self.call("npusim_barrier", [self.const(spad, self.i32, ip), pending.pop(spad)], ip)

        for op in block.operations:
            op = op.operation
            name = op.name
            attrs = op.attributes
            if name == "memref.alloca" and SPAD_ATTR in attrs:
                spad = ir.IntegerAttr(attrs[SPAD_ATTR]).value
                mtype = ir.MemRefType(op.results[0].type)
                if not mtype.has_static_shape:
                    raise SkeletonError(f"scratchpad buffer {spad} must have a static shape, got {mtype}")
                numel = 1
                for dim in mtype.shape:
                    numel *= dim
                bits = _elem_bits(mtype)
                self.spad_of[op.results[0]] = spad
                self.spads[spad] = {"id": spad, "bytes": (numel * bits + 7) // 8, "elem_bits": bits}
            elif DMA_ATTR in attrs:
                self.emit_dma(op, ip, slot, pending, await_spads)
            elif COMPUTE_ATTR in attrs:
                self.emit_compute(op, ip, await_spads, slot)
            elif _is_spad_store(op):
                self.emit_spad_store(op, ip, await_spads)
            elif name in ("memref.load", "vector.load") and _is_spad(op.operands[0]):
                # a scratchpad value read into a register outside a compute op (a value uniform
                # over the tile, e.g. both operands of a size-1 add): the compute using it waits
                # for its DMA
                await_spads([self.spad_id(op.operands[0], f"{name} outside a compute op")])
            elif name in ("scf.for", "scf.parallel"):
                if _has_sim_ops(op):
                    self.emit_loop(op, ip, in_work_item)
            elif name == "scf.if":
                if _has_sim_ops(op):
                    self.emit_if(op, ip, slot, in_work_item)
            elif name in SCALAR_OPS:
                if all(v in self.values for v in op.operands) and all(_is_int_like(r.type) for r in op.results):
                    attributes = {key: op.attributes[key] for key in op.attributes}
                    new = ir.Operation.create(name, results=[r.type for r in op.results],
                                              operands=[self.values[v] for v in op.operands],
                                              attributes=attributes, ip=ip)
                    for old, res in zip(op.results, new.results):
                        self.values[old] = res
            elif op.regions and _has_sim_ops(op):
                raise SkeletonError(f"{name} containing DMA/compute ops is not supported by the trace skeleton")
            elif name not in VIEW_OPS and name not in ("memref.load", "vector.load") and \
                    any(isinstance(v.type, ir.MemRefType) and _is_spad(v) for v in op.operands):
                raise SkeletonError(f"{name} touches a scratchpad outside a DMA or compute op: the trace "
                                    "skeleton cannot order it")
            # anything else (memref, float math, terminators) has no timing dependency
        await_spads(list(pending))

    def emit_loop(self, op: ir.Operation, ip: ir.InsertionPoint, in_work_item: bool) -> None:
        """An scf.for, or an scf.parallel as a nest of scf.for (EmitC has no scf.parallel)."""
        if op.name == "scf.parallel":
            view = op.opview
            bounds = list(zip(view.lowerBound, view.upperBound, view.step))
        else:
            bounds = [tuple(op.operands[:3])]
        after_loop = ip
        old_body = op.regions[0].blocks[0]
        for index, (lb, ub, step) in enumerate(bounds):
            loop = scf.ForOp(*(self.mapped(v, "a tile loop bound") for v in (lb, ub, step)), ip=ip)
            with ir.InsertionPoint(loop.body):
                scf.YieldOp([])
            ip = ir.InsertionPoint(loop.body.operations[0])
            self.values[old_body.arguments[index]] = loop.induction_variable
        tile = op.attributes[TILE_LOOP_ATTR] if TILE_LOOP_ATTR in op.attributes else None
        parallel = tile is not None and "parallel" in tile and ir.BoolAttr(tile["parallel"]).value
        work_item = parallel and not in_work_item
        slot = self.to_i64(loop.induction_variable, ip)
        if work_item:
            self.call("npusim_work_item_begin", [], ip)
        self.emit_block(old_body, ip, slot, in_work_item or work_item)
        if work_item:
            self.call("npusim_work_item_end", [], ip)
        if tile is not None and len(op.results):
            ops = op_classes.lane_reduce_ops(op)
            if ops:  # the per-lane partials of the loop's accumulators meet in one value each
                self.emit_added_tile("lane_reduce", ops, after_loop, reads=set(), writes=set(), bits=ops[0]["bits"])

    def emit_added_tile(self, kind: str, ops: list[dict], ip, reads: set, writes: set, bits: int,
                        n_elems: ir.Value | None = None, after_previous: bool = True) -> None:
        """A compute event (one element unless `n_elems` says) for work the kernel does outside its
        compute ops, or beside them (a 2-D tile's per-row work), with a tile id of its own."""
        tile_id = self.next_tile_id
        self.next_tile_id += 1
        self.call("npusim_compute", [self.const(tile_id, self.i32, ip),
                                     self.const(1, self.i64, ip) if n_elems is None else n_elems,
                                     self.const(sum(1 << s for s in reads), self.i64, ip),
                                     self.const(sum(1 << s for s in writes), self.i64, ip)], ip)
        self.tile_ids.append(tile_id)
        self.tile_elem_bits[tile_id] = bits
        self.tile_work[tile_id] = {"kind": kind, "ops": ops, "after_previous": after_previous}

    def emit_spad_store(self, op, ip, await_spads) -> None:
        spad = self.spad_id(op.operands[1], f"{op.name} outside a compute op")
        await_spads([spad])
        ops = op_classes.store_ops(op)
        self.emit_added_tile("store", ops, ip, reads=set(), writes={spad}, bits=ops[-1]["bits"] if ops else 32)

    def emit_if(self, op: ir.Operation, ip: ir.InsertionPoint, slot, in_work_item: bool) -> None:
        """An scf.if around DMA/compute (e.g. a guarded tail) keeps its condition; its results are dropped."""
        cond = self.mapped(op.operands[0], "the condition of an scf.if around DMA/compute ops")
        has_else = bool(op.regions[1].blocks)
        branch = scf.IfOp(cond, [], has_else=has_else, ip=ip)
        for old_region, new_block in zip(op.regions, [branch.then_block] + ([branch.else_block] if has_else else [])):
            with ir.InsertionPoint(new_block):
                terminator = scf.YieldOp([])
            self.emit_block(old_region.blocks[0], ir.InsertionPoint(terminator), slot, in_work_item)

    def emit_dma(self, op, ip, slot, pending, await_spads) -> None:
        attr = ir.DictAttr(op.attributes[DMA_ATTR])
        direction = ir.StringAttr(attr["dir"]).value
        if direction not in DMA_DIRS:
            raise SkeletonError(f"npusim.dma dir must be load or store, got {direction!r}")
        arg = ir.IntegerAttr(attr["arg"]).value
        spad = ir.IntegerAttr(attr["spad"]).value
        mode = ir.StringAttr(attr["mode"]).value if "mode" in attr else "strided"
        kernel_args = self.kernel.regions[0].blocks[0].arguments
        if not 0 <= arg < len(kernel_args) or not isinstance(kernel_args[arg].type, ir.MemRefType):
            raise SkeletonError(f"npusim.dma arg = {arg} is not a tensor argument of the kernel")
        bits = _elem_bits(kernel_args[arg].type)
        i32 = self.i32
        slot_value = slot if slot is not None else self.const(0, self.i64, ip)
        if mode in ("gather", "scatter", "scatter_add"):
            expected = "load" if mode == "gather" else "store"
            if op.name != "scf.for" or direction != expected:
                raise SkeletonError(f"a {mode} DMA must be an scf.for {expected}")
            trips = self.trip_count(op, ip)
            if trips is None:
                raise SkeletonError(f"the {mode} loop's bounds are not computable in the skeleton")
            # an indirect gather or scatter (compiler/indirect.py) reads its indices from scratchpad
            # buffers: it starts once their loads have landed
            await_spads(sorted({self.spad_id(inner.operands[0], f"a scratchpad read by a {mode}")
                                for inner in walk_ops(op) if inner.name in ("memref.load", "vector.load")
                                and _is_spad(inner.operands[0])}))
            if mode == "gather":
                self.call("npusim_dma_gather", [self.const(arg, i32, ip), self.const(spad, i32, ip),
                                                self.const(bits, i32, ip), trips, self.const(spad, i32, ip),
                                                slot_value], ip)
                pending[spad] = slot_value
            else:  # posted like a strided store
                await_spads([spad])
                if mode == "scatter_add":  # the old values are read first
                    self.call("npusim_dma_gather", [self.const(arg, i32, ip), self.const(spad, i32, ip),
                                                    self.const(bits, i32, ip), trips, self.const(spad, i32, ip),
                                                    slot_value], ip)
                    self.call("npusim_barrier", [self.const(spad, i32, ip), slot_value], ip)
                self.call("npusim_dma_scatter", [self.const(arg, i32, ip), self.const(spad, i32, ip),
                                                 self.const(bits, i32, ip), trips,
                                                 self.const(STORE_TAG_BASE + spad, i32, ip),
                                                 self.const(0, self.i64, ip)], ip)
            return
        if mode != "strided":
            raise SkeletonError(f"npusim.dma mode must be gather, scatter or scatter_add, got {mode!r}")
        if op.name != "linalg.copy":
            raise SkeletonError(f"npusim.dma on {op.name}: expected linalg.copy")
        src, dst = op.operands[0], op.operands[1]
        dram = src if direction == "load" else dst
        cast = _defining(dram, "memref.reinterpret_cast")
        if cast is None:
            raise SkeletonError("the DRAM side of a DMA must be a memref.reinterpret_cast of the tensor argument")
        descriptor = cast.opview
        dims = []
        for static_name, dynamic in (("static_offsets", descriptor.offsets), ("static_sizes", descriptor.sizes),
                                     ("static_strides", descriptor.strides)):
            dynamic = list(dynamic)
            values = []
            for static in ir.DenseI64ArrayAttr(cast.attributes[static_name]):
                if static == ir.ShapedType.get_dynamic_size():
                    values.append(self.to_i64(self.mapped(dynamic.pop(0), "a DMA descriptor"), ip))
                else:
                    values.append(self.const(static, self.i64, ip))
            dims.append(values)
        (offset,), sizes, strides = dims
        if len(sizes) == 1:
            d0, s0, d1, s1 = sizes[0], strides[0], self.const(1, self.i64, ip), self.const(0, self.i64, ip)
        elif len(sizes) == 2:
            d1, d0, s1, s0 = sizes[0], sizes[1], strides[0], strides[1]
        else:
            raise SkeletonError(f"a DMA descriptor has {len(sizes)} dims; the trace ABI carries at most 2")
        spad_side = dst if direction == "load" else src
        if self.spad_id(spad_side, "the scratchpad side of a DMA") != spad:
            raise SkeletonError(f"npusim.dma spad = {spad} does not match the buffer the copy uses")
        if direction == "load":
            tag, slot_arg = spad, slot_value
        else:
            await_spads([spad])
            tag, slot_arg = STORE_TAG_BASE + spad, self.const(0, self.i64, ip)
        self.call("npusim_dma", [self.const(DMA_DIRS[direction], i32, ip), self.const(arg, i32, ip),
                                 self.const(spad, i32, ip), self.const(bits, i32, ip), offset, d0, s0, d1, s1,
                                 self.const(tag, i32, ip), slot_arg], ip)
        if direction == "load":
            pending[spad] = slot_value

    def emit_compute(self, op, ip, await_spads, tile_base=None) -> None:
        attr = ir.DictAttr(op.attributes[COMPUTE_ATTR])
        tile_id = ir.IntegerAttr(attr["tile_id"]).value
        if tile_id in self.tile_ids or tile_id in self.systolic_tile_ids:
            raise SkeletonError(f"compute tile_id {tile_id} appears twice")
        if op.name != "scf.for":
            raise SkeletonError(f"npusim.compute on {op.name}: expected scf.for")
        if "unit" in attr and ir.StringAttr(attr["unit"]).value == SYSTOLIC_UNIT:
            self.emit_systolic(op, ip, attr, tile_id, await_spads, tile_base)
            return
        if "kind" in attr and ir.StringAttr(attr["kind"]).value == PARTIALS_COMBINE:
            self.emit_partials_combine(op, ip, tile_id)
            return
        reads = set(_int_list(attr["reads"])) if "reads" in attr else None
        writes = set(_int_list(attr["writes"])) if "writes" in attr else None
        if reads is None or writes is None:
            seen_reads, seen_writes = set(), set()
            for inner in walk_ops(op):
                if inner.name in ("memref.load", "vector.load", "vector.transfer_read"):
                    seen_reads.add(self.spad_id(inner.operands[0], f"a load in compute tile {tile_id}"))
                elif inner.name in ("memref.store", "vector.store", "vector.transfer_write"):
                    seen_writes.add(self.spad_id(inner.operands[1], f"a store in compute tile {tile_id}"))
            reads = seen_reads if reads is None else reads
            writes = seen_writes if writes is None else writes
        for spad in reads | writes:
            if not 0 <= spad < 64:
                raise SkeletonError(f"scratchpad id {spad} does not fit the 64-bit masks of the trace ABI")
        trips = self.trip_count(op, ip)
        if trips is None:
            raise SkeletonError(f"the bounds of compute tile {tile_id} are not computable in the skeleton")
        n_elems = arith.MulIOp(trips, self.nest_elems(op.regions[0].blocks[0], ip), ip=ip).result
        await_spads(sorted(reads))
        reads_mask = sum(1 << s for s in reads)
        writes_mask = sum(1 << s for s in writes)
        bits = [self.spads[s]["elem_bits"] for s in sorted(reads | writes) if s in self.spads]
        if "kind" in attr and ir.StringAttr(attr["kind"]).value == ROW_BLOCK:
            # a 2-D tile: what its rows compute once each is a compute of its own over the rows,
            # and the element loop waits for it
            row_ops, row_after, inner = op_classes.row_block_ops(op, tile_id)
            if row_ops:
                self.emit_added_tile("compute", row_ops, ip, reads=reads, writes=set(), bits=max(bits) if bits else 32,
                                     n_elems=trips, after_previous=row_after)
            ops, after_previous = op_classes.compute_ops(inner, tile_id)
            after_previous = after_previous or bool(row_ops)
        else:
            ops, after_previous = op_classes.compute_ops(op, tile_id)
        self.call("npusim_compute", [self.const(tile_id, self.i32, ip), n_elems,
                                     self.const(reads_mask, self.i64, ip), self.const(writes_mask, self.i64, ip)], ip)
        self.tile_ids.append(tile_id)
        self.tile_elem_bits[tile_id] = max(bits) if bits else 32
        self.tile_work[tile_id] = {"kind": "compute", "ops": ops, "after_previous": after_previous}


    def emit_partials_combine(self, op, ip, tile_id: int) -> None:
        """The combine of a float sum's partials (compiler/emitter.py PartialSums): registers, so no
        scratchpad dependency; it waits for the reduction loop's last compute (after_previous) and
        is followed by the cross-lane reduction of the vector it leaves."""
        n, ops = op_classes.partials_combine_ops(op)
        self.call("npusim_compute", [self.const(tile_id, self.i32, ip), self.const(n, self.i64, ip),
                                     self.const(0, self.i64, ip), self.const(0, self.i64, ip)], ip)
        self.tile_ids.append(tile_id)
        bits = ops[0]["bits"] if ops else 32
        self.tile_elem_bits[tile_id] = bits
        self.tile_work[tile_id] = {"kind": "compute", "ops": ops, "after_previous": True}
        if ops:
            self.emit_added_tile("lane_reduce", [{"op": "lane_reduce", "class": "lane_reduce", "bits": bits,
                                                  "deps": []}], ip, reads=set(), writes=set(), bits=bits)

    def emit_systolic(self, op, ip, attr, tile_id: int, await_spads, tile_base) -> None:
        """A systolic compute (compiler/matmul.py): a loop nest m (op) > n > k over one A x B tile,
        split into the array's k x n weight tiles, each a preload and an accumulate of m rows.
        Logical array = the weight tile's column block (so arrays split N); weight handle = the
        weight tile's row block in K (from the enclosing k tile loop's base) and column block,
        unique within a work item; the simulator maps both onto its arrays and weight slots."""
        chain = [op]
        for _ in range(2):
            inner = [o.operation for o in chain[-1].regions[0].blocks[0].operations if o.operation.name == "scf.for"]
            if not inner:
                raise SkeletonError(f"systolic compute tile {tile_id} must be a loop nest m > n > k")
            chain.append(inner[0])
        m, n, k = (self.trip_count(loop, ip) for loop in chain)
        if any(v is None for v in (m, n, k)):
            raise SkeletonError(f"the bounds of systolic compute tile {tile_id} are not computable in the skeleton")
        rows, cols = _int_list(attr["array"])
        weights = ir.IntegerAttr(attr["weights"]).value
        reads, writes = set(_int_list(attr["reads"])), set(_int_list(attr["writes"]))
        await_spads(sorted(reads | writes))
        index = ir.IndexType.get()
        i64, i32 = self.i64, self.i32
        c_rows, c_cols = self.const(rows, i64, ip), self.const(cols, i64, ip)
        n_blocks = arith.DivSIOp(arith.AddIOp(n, self.const(cols - 1, i64, ip), ip=ip).result, c_cols, ip=ip).result
        k_loop = scf.ForOp(self.const(0, index, ip), arith.IndexCastOp(index, k, ip=ip).result,
                           self.const(rows, index, ip), ip=ip)
        with ir.InsertionPoint(k_loop.body):
            scf.YieldOp([])
        kip = ir.InsertionPoint(k_loop.body.operations[0])
        kb = self.to_i64(k_loop.induction_variable, kip)
        n_loop = scf.ForOp(self.const(0, index, kip), arith.IndexCastOp(index, n, ip=kip).result,
                           self.const(cols, index, kip), ip=kip)
        with ir.InsertionPoint(n_loop.body):
            scf.YieldOp([])
        nip = ir.InsertionPoint(n_loop.body.operations[0])
        nb = self.to_i64(n_loop.induction_variable, nip)
        k_len = arith.MinSIOp(c_rows, arith.SubIOp(k, kb, ip=nip).result, ip=nip).result
        n_len = arith.MinSIOp(c_cols, arith.SubIOp(n, nb, ip=nip).result, ip=nip).result
        column_block = arith.DivSIOp(nb, c_cols, ip=nip).result
        array = arith.TruncIOp(i32, column_block, ip=nip).result
        k_row = kb if tile_base is None else arith.AddIOp(tile_base, kb, ip=nip).result
        handle = arith.AddIOp(arith.MulIOp(arith.DivSIOp(k_row, c_rows, ip=nip).result, n_blocks, ip=nip).result,
                              column_block, ip=nip).result
        self.call("npusim_systolic_preload", [array, handle, self.const(weights, i32, nip), k_len, n_len], nip)
        self.call("npusim_systolic_accumulate",
                  [self.const(tile_id, i32, nip), array, handle, m, k_len, n_len,
                   self.const(sum(1 << r for r in reads), i64, nip),
                   self.const(sum(1 << w for w in writes), i64, nip)], nip)
        self.systolic_tile_ids.append(tile_id)


def find_kernel(module: ir.Module, entry: str = "kernel") -> func.FuncOp:
    for op in module.body.operations:
        if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == entry:
            return op
    raise SkeletonError(f"kernel.mlir has no func.func @{entry}")


def build_skeleton(kernel_text: str, entry: str = "kernel", context: ir.Context | None = None) -> Skeleton:
    """Parse kernel.mlir and build its trace skeleton (see the module docstring)."""
    ctx = context or ir.Context()
    ctx.allow_unregistered_dialects = False
    with ctx, ir.Location.unknown():
        kernel_module = ir.Module.parse(kernel_text)
        kernel = find_kernel(kernel_module, entry)
        kernel_name = ""
        if "npusim.kernel_name" in kernel_module.operation.attributes:
            kernel_name = ir.StringAttr(kernel_module.operation.attributes["npusim.kernel_name"]).value
        entry_block = kernel.regions[0].blocks[0]
        size_arg_indices = [i for i, a in enumerate(entry_block.arguments) if isinstance(a.type, ir.IntegerType)]
        for i, a in enumerate(entry_block.arguments):
            if not (isinstance(a.type, ir.IntegerType) or isinstance(a.type, ir.MemRefType)):
                raise SkeletonError(f"kernel argument {i} has type {a.type}: expected a memref or an i64 size arg")
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            emitc.IncludeOp("stdint.h", is_standard_include=True)
            emitc.IncludeOp("stddef.h", is_standard_include=True)
            emitc.IncludeOp("npusim/trace_abi.h")
            i64 = ir.IntegerType.get_signless(64)
            fn_type = ir.FunctionType.get([ir.Type.parse(CTX_TYPE)] + [i64] * len(size_arg_indices), [])
            body_fn = func.FuncOp(BODY_NAME, fn_type)
            block = body_fn.add_entry_block()
            with ir.InsertionPoint(block):
                ret = func.ReturnOp([])
        builder = _Builder(kernel, block, block.arguments[0])
        for k, index in enumerate(size_arg_indices):
            arg = entry_block.arguments[index]
            builder.values[arg] = builder.to_i64(block.arguments[k + 1], ir.InsertionPoint(ret)) \
                if ir.IntegerType(arg.type).width != 64 else block.arguments[k + 1]
        builder.emit_block(entry_block, ir.InsertionPoint(ret), None, False)
        verify(module, SkeletonError, "the skeleton", kernel_name)
        return Skeleton(module=module, n_size_args=len(size_arg_indices),
                        spads=[builder.spads[k] for k in sorted(builder.spads)],
                        tile_ids=builder.tile_ids, tile_elem_bits=builder.tile_elem_bits,
                        kernel_name=kernel_name, tile_work=builder.tile_work)

