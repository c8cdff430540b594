"""The NPU work of a compute tile, read from the kernel MLIR: the ops of one element by class.

`compute_ops(loop)` lists the ops one element of a compute tile (`scf.for
{npusim.compute}`) costs on the NPU's vector unit; `store_ops(store)` those of
a scratchpad write outside a compute op (a reduction's result stored for its
DMA); `lane_reduce_ops(loop)` the cross-lane reductions that combine a
reduction loop's per-lane partials into its results. Each op is
`{"op": name, "class": c, "bits": width, "deps": [indices of the ops it waits for]}`;
the simulator turns them into cycles with the config's `vector.op_classes`
(timing.cpp `load_cost_table`).

What counts: ops on the data path, i.e. with an operand loaded from a
scratchpad, carried by an accumulator, or computed from those (and every
scratchpad access). Address arithmetic and tail masks made from loop indices
only run on the address generators and cost nothing here.

Half precision is native: in a tile whose scratchpad data is f16/bf16, the
extf/truncf pairs Inductor puts around f32 arithmetic are register-level
widenings of the NPU's mixed-precision unit and cost nothing, and the
arithmetic between them runs at 16 bits (twice the elements per vector op).

Registers: a buffer the kernel allocates without `npusim.spad` (a float
sum's tile-wide partial sums, compiler/emitter.py PartialSums) is a vector
register file; loading or storing it costs nothing, the arithmetic on it
counts. Its combine after the reduction loop (a compute op of kind
`partials_combine`) is costed by `partials_combine_ops`.

An op with no class (a func.call, an unknown dialect op) on the data path is
a CostModelError naming it: nothing is costed by a default.
"""

from __future__ import annotations

import mlir.ir as ir

from simulator.trace.errors import SkeletonError


class CostModelError(SkeletonError):
    """An op of a compute body the cost model has no class for."""


OP_CLASS: dict[str, str] = {}
for _cls, _ops in {
    "arith": ["arith.addf", "arith.subf", "arith.mulf", "arith.negf", "arith.maximumf", "arith.minimumf",
              "arith.maxnumf", "arith.minnumf", "math.fma", "math.absf", "math.absi", "math.copysign",
              "math.floor", "math.ceil", "math.trunc", "math.round", "math.roundeven", "arith.addi",
              "arith.subi", "arith.muli", "arith.maxsi", "arith.minsi", "arith.maxui", "arith.minui",
              "arith.andi", "arith.ori", "arith.xori", "arith.shli", "arith.shrsi", "arith.shrui"],
    "compare_select": ["arith.cmpf", "arith.cmpi", "arith.select", "math.isnan", "math.isinf", "math.isfinite"],
    "special": ["math.exp", "math.exp2", "math.expm1", "math.log", "math.log1p", "math.log2", "math.log10",
                "math.tanh", "math.erf", "math.erfc", "math.sin", "math.cos", "math.tan", "math.sinh",
                "math.cosh", "math.asin", "math.acos", "math.atan", "math.atan2", "math.asinh", "math.acosh",
                "math.atanh", "math.powf", "math.fpowi", "math.ipowi", "math.cbrt"],
    "div_sqrt": ["arith.divf", "arith.remf", "math.sqrt", "math.rsqrt", "arith.divsi", "arith.divui",
                 "arith.remsi", "arith.remui", "arith.floordivsi", "arith.ceildivsi", "arith.ceildivui"],
    "convert": ["arith.extf", "arith.truncf", "arith.sitofp", "arith.uitofp", "arith.fptosi", "arith.fptoui",
                "arith.extsi", "arith.extui", "arith.trunci", "arith.bitcast", "arith.index_cast",
                "arith.index_castui"],
    "spad_access": ["memref.load", "memref.store", "vector.load", "vector.store"],
}.items():
    for _op in _ops:
        OP_CLASS[_op] = _cls
# Structure: no work of its own.
FREE = {"arith.constant", "scf.yield", "scf.for", "scf.if", "scf.condition", "scf.while", "affine.yield"}
NARROW_FLOATS = (ir.F16Type, ir.BF16Type)
SPAD_ATTR = "npusim.spad"  # skeleton.SPAD_ATTR (skeleton imports this module)
ACCESS_MEMREF = {"memref.load": 0, "vector.load": 0, "memref.store": 1, "vector.store": 1}
VIEW_OPS = {"memref.subview", "memref.reinterpret_cast", "memref.cast", "memref.collapse_shape",
            "memref.expand_shape", "memref.view"}


# compiler/indirect.py REPORT_FUNCTION: the call an out-of-range indirect index makes
INDEX_REPORT = "npusim_index_out_of_bounds"


def is_index_report(op: ir.Operation) -> bool:
    return op.name == "func.call" and ir.FlatSymbolRefAttr(op.attributes["callee"]).value == INDEX_REPORT


def is_register_access(op: ir.Operation) -> bool:
    """A load or store of a buffer allocated without `npusim.spad`: a register file, not the scratchpad."""
    index = ACCESS_MEMREF.get(op.name)
    if index is None or len(op.operands) <= index:
        return False
    value = op.operands[index]
    while not isinstance(value.owner, ir.Block) and value.owner.name in VIEW_OPS:
        value = value.owner.operands[0]
    owner = value.owner
    return not isinstance(owner, ir.Block) and owner.name in ("memref.alloca", "memref.alloc") and \
        SPAD_ATTR not in owner.attributes


def _bits(t: ir.Type) -> int:
    if isinstance(t, ir.ShapedType):
        t = ir.ShapedType(t).element_type
    for cls in (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type):
        if isinstance(t, cls):
            return cls(t).width
    if isinstance(t, ir.IntegerType):
        return max(8, ir.IntegerType(t).width)  # an i1 mask lane is at least a byte
    if isinstance(t, ir.IndexType):
        return 64
    return 32


def _is_float(t: ir.Type) -> bool:
    return any(isinstance(t, cls) for cls in (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type))


def walk_ops(op: ir.Operation):
    """Every operation nested in op (not op itself), in pre-order."""
    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                yield inner.operation
                yield from walk_ops(inner.operation)


class _Counter:
    """Numbers the data-path ops of a region and links them to what they wait for."""

    def __init__(self, native_bits: int | None):
        self.native_bits = native_bits  # 16 when the tile's data is f16/bf16
        self.ops: list[dict] = []
        self.producers: dict[ir.Value, frozenset] = {}  # value -> counted ops it waits for
        self.data: set = set()                            # values on the data path

    def width(self, op: ir.Operation) -> int:
        types = [r.type for r in op.results] or [v.type for v in op.operands]
        if op.name in ("arith.cmpf", "arith.cmpi", "memref.store", "vector.store") and op.operands:
            types = [op.operands[0].type]
        bits = max(_bits(t) for t in types) if types else 32
        if self.native_bits and types and _is_float(types[0] if not isinstance(types[0], ir.ShapedType)
                                                    else ir.ShapedType(types[0]).element_type):
            bits = min(bits, self.native_bits)
        return bits

    def visit(self, op: ir.Operation, where: str) -> None:
        name = op.name
        if is_index_report(op):  # the out-of-range trap: taken only where the launch stops
            return
        if is_register_access(op):  # a register read is data with no cost; a register write costs nothing
            for result in op.results:
                self.producers[result] = frozenset()
                self.data.add(result)
            return
        waits = frozenset().union(*(self.producers.get(v, frozenset()) for v in op.operands))
        on_data_path = any(v in self.data for v in op.operands) or name in ("memref.load", "vector.load")
        counted = name in ("memref.store", "vector.store", "memref.load", "vector.load") or (
            on_data_path and name not in FREE and not self._native_widening(op))
        if counted:
            if name not in OP_CLASS:
                raise CostModelError(f"{where}: {name} on the data path has no op class in the NPU cost model "
                                     f"(simulator/trace/op_classes.py)")
            self.ops.append({"op": name, "class": OP_CLASS[name], "bits": self.width(op), "deps": sorted(waits)})
            waits = frozenset([len(self.ops) - 1])
        for result in op.results:
            self.producers[result] = waits
            if counted or on_data_path:
                self.data.add(result)
        # loop-carried values and nested loops' results: follow their inits / yields
        if name == "scf.for":
            body = op.regions[0].blocks[0]
            for arg, init in zip(list(body.arguments)[1:], list(op.operands)[3:]):
                self.producers[arg] = self.producers.get(init, frozenset())
                if init in self.data:
                    self.data.add(arg)

    def _native_widening(self, op: ir.Operation) -> bool:
        """extf f16/bf16 -> f32 or truncf f32 -> f16/bf16 in a native half-precision tile."""
        if not self.native_bits or op.name not in ("arith.extf", "arith.truncf"):
            return False
        narrow = op.operands[0].type if op.name == "arith.extf" else op.results[0].type
        return isinstance(narrow, NARROW_FLOATS)


def _native_bits(op: ir.Operation) -> int | None:
    """16 when the floats a tile loads or stores are all f16/bf16."""
    widths = set()
    for inner in walk_ops(op):
        if inner.name in ("memref.load", "vector.load"):
            t = inner.results[0].type
        elif inner.name in ("memref.store", "vector.store"):
            t = inner.operands[0].type
        else:
            continue
        if isinstance(t, ir.ShapedType):
            t = ir.ShapedType(t).element_type
        if _is_float(t):
            widths.add(_bits(t))
    return 16 if widths == {16} else None


def compute_ops(loop: ir.Operation, tile_id: int) -> tuple[list[dict], bool]:
    """(ops of one element, waits for the previous compute's result) of a compute loop."""
    return _count(loop, walk_ops(loop), tile_id)


def row_block_ops(loop: ir.Operation, tile_id: int) -> tuple[list[dict], bool, ir.Operation]:
    """A 2-D tile's row loop (compute kind `row_block`, compiler/tiles2d.py): (the ops of one row
    outside its inner loop, whether they wait for the previous compute, that inner loop). The
    inner loop's ops run once per element, the others once per row."""
    body = loop.regions[0].blocks[0]
    nested = [op.operation for op in body.operations if op.operation.name == "scf.for"]
    if len(nested) != 1:
        raise SkeletonError(f"compute tile {tile_id} of kind row_block has {len(nested)} inner loops, not 1")
    inner_loop = nested[0]

    def row_level():
        for op in body.operations:
            if op.operation != inner_loop:
                yield op.operation
                yield from walk_ops(op.operation)

    ops, after_previous = _count(loop, row_level(), tile_id)
    return ops, after_previous, inner_loop


def _count(loop: ir.Operation, ops, tile_id: int) -> tuple[list[dict], bool]:
    counter = _Counter(_native_bits(loop))
    inside = {r for inner in walk_ops(loop) for r in inner.results}
    body = loop.regions[0].blocks[0]
    for arg, init in zip(list(body.arguments)[1:], list(loop.operands)[3:]):  # accumulators
        counter.data.add(arg)
    after_previous = False
    for inner in ops:
        for value in inner.operands:
            # a float computed outside by earlier work (e.g. a row's max for softmax) lives in a
            # register that the previous compute wrote: this tile waits for it
            if value not in inside and _is_float(value.type) and not isinstance(value.owner, ir.Block) \
                    and value.owner.name != "arith.constant":
                after_previous = True
                counter.data.add(value)
        counter.visit(inner, f"compute tile {tile_id}")
    return counter.ops, after_previous


def store_ops(store: ir.Operation) -> list[dict]:
    """Ops of a scratchpad store outside a compute op: the store and the data-path ops
    of the same block that compute its value from loop results (e.g. mean = sum / n)."""
    value = store.operands[0]
    slice_ops: list[ir.Operation] = []
    pending = [value]
    seen = set()
    while pending:
        v = pending.pop()
        owner = v.owner
        if isinstance(owner, ir.Block):
            continue
        owner = owner.operation
        if owner in seen or owner.name in ("scf.for", "scf.while"):
            continue
        if owner.block != store.block:
            continue
        seen.add(owner)
        slice_ops.append(owner)
        pending.extend(owner.operands)
    counter = _Counter(16 if isinstance(value.type, NARROW_FLOATS) else None)
    # loop results and block arguments are the data the slice starts from
    for op in slice_ops:
        for v in op.operands:
            if isinstance(v.owner, ir.Block) or v.owner.name in ("scf.for", "scf.while"):
                counter.data.add(v)
    if isinstance(value.owner, ir.Block) or value.owner.name in ("scf.for", "scf.while"):
        counter.data.add(value)
    for op in _in_block_order(slice_ops):
        counter.visit(op, "a scratchpad store outside a compute op")
    counter.visit(store, "a scratchpad store outside a compute op")
    return counter.ops


def _in_block_order(ops: list[ir.Operation]) -> list[ir.Operation]:
    if not ops:
        return []
    block = ops[0].block
    position = {}
    for i, op in enumerate(block.operations):
        position[op.operation] = i
    return sorted(ops, key=lambda o: position[o])


def lane_reduce_ops(loop: ir.Operation) -> list[dict]:
    """One cross-lane reduction per float result of a reduction tile loop."""
    return [{"op": "lane_reduce", "class": "lane_reduce", "bits": _bits(r.type), "deps": []}
            for r in loop.results if _is_float(r.type) or isinstance(r.type, ir.IntegerType)]


def partials_combine_ops(loop: ir.Operation) -> tuple[int, list[dict]]:
    """(elements, ops of one element) of a `partials_combine` compute: the tile-wide partial
    sums of a float reduction (registers) added into one vector, costed as one vector add per
    vector of partials over the whole buffer; the cross-lane reduction of that vector is the
    lane_reduce tile the skeleton adds after it. The emitter writes the adds as a pairwise
    tree of static loops (the order the values need), which the vector unit does not run
    level by level: counting its ops per level would charge log2(tile) passes."""
    for inner in walk_ops(loop):
        if inner.name in ("memref.load", "vector.load"):
            memref_type = ir.MemRefType(inner.operands[0].type)
            size = 1
            for extent in memref_type.shape:
                size *= extent
            bits = _bits(memref_type.element_type)
            return size, [{"op": "arith.addf", "class": "arith", "bits": bits, "deps": []}]
    return 0, []  # a one-element buffer: nothing to add
