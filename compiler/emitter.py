"""Kernel emitter: a tile program -> one verified MLIR module (CONTRACTS.md section 1).

Loop structure:
* pointwise kernel: one parallel tile loop over `xindex` (or the innermost kept dim), or
  over 2-D tiles of the two innermost kept dims (compiler/tiles2d.py);
* scan or one-pass row reduction whose accesses are affine: 2-D tiles of rows x r
  (compiler/tiles2d.py `plan_rows`);
* other reduction kernels: a parallel loop over rows (`xindex`, one row per work
  item), inside it one tile loop over `r0_index` per dependency level: a
  reduction or store that consumes a reduction result runs in a later loop
  than that reduction (softmax: max, then sum of exp, then the normalised
  store), re-loading what it needs.

Inside a tile loop: DMA loads into scratchpad buffers, one compute loop over
the tile's elements (reduction accumulators as iter_args), DMA stores. The
last tile is clamped (`arith.minsi(tile, extent - base)`) unless the extent
is static and a multiple of the tile.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import sympy
import torch
from mlir import ir, passmanager
from mlir.dialects import arith, func, linalg, memref, scf
from mlir.dialects import math as mmath

from compiler import argreduce, indirect, masks, scan, search, sort, special_functions, tile_ir, tiles2d
from compiler.errors import InvalidKernel, UnsupportedOp
from compiler.printer import (FloatExprPrinter, IndexPrinter, const_i64, const_index, i64_type, is_float_expr, to_i64,
                              to_index)
from compiler.tiling import TileChoice, choose_tile, is_symbolic_dim
from npusim.mlir_verify import verify
from compiler.tile_ir import Constant, IndexValue, Load, Node, Op, Reduce, Store, walk
from npusim.config import NpuConfig
from simulator.functional.launch_args import MAX_KERNEL_ARGS

# CONTRACTS.md section 1: 2 adds the bounds report of indirect indices, 3 index_put scatters,
# 4 the 2-D tiles of pointwise kernels (compiler/tiles2d.py), 5 their row_block compute kind,
# 6 2-D tiles of scans and row reductions (a row_block compute carrying iter_args)
ABI_VERSION = 6
DYN = ir.ShapedType.get_dynamic_size() if hasattr(ir.ShapedType, "get_dynamic_size") else -(2**63)


def mlir_type(dtype: torch.dtype) -> ir.Type:
    if dtype == torch.float32:
        return ir.F32Type.get()
    if dtype == torch.float64:
        return ir.F64Type.get()
    if dtype == torch.float16:
        return ir.F16Type.get()
    if dtype == torch.bfloat16:
        return ir.BF16Type.get()
    if dtype == torch.bool:
        return ir.IntegerType.get_signless(1)
    if dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        return ir.IntegerType.get_signless(torch.iinfo(dtype).bits)
    raise UnsupportedOp(f"dtype:{dtype}")


def storage_type(dtype: torch.dtype) -> ir.Type:
    """Element type in memory: bool is one byte, as in torch."""
    return ir.IntegerType.get_signless(8) if dtype == torch.bool else mlir_type(dtype)


def elem_bits(dtype: torch.dtype) -> int:
    return 8 if dtype == torch.bool else (torch.finfo(dtype).bits if dtype.is_floating_point
                                          else torch.iinfo(dtype).bits)


def is_float(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point


def is_unsigned(dtype: torch.dtype) -> bool:
    return dtype in (torch.uint8, torch.bool)


def cast(value: ir.Value, src: torch.dtype, dst: torch.dtype) -> ir.Value:
    """Value conversion with torch semantics (truncating float->int, nonzero->True)."""
    if src == dst:
        return value
    target = mlir_type(dst)
    if dst == torch.bool:
        if is_float(src):
            return arith.cmpf(arith.CmpFPredicate.UNE, value, arith.constant(mlir_type(src), 0.0))
        return arith.cmpi(arith.CmpIPredicate.ne, value, arith.constant(mlir_type(src), 0))
    if is_float(src) and is_float(dst):
        src_bits, dst_bits = elem_bits(src), elem_bits(dst)
        if src_bits == dst_bits:  # f16 <-> bf16 through f32
            return arith.truncf(target, arith.extf(ir.F32Type.get(), value))
        return arith.extf(target, value) if dst_bits > src_bits else arith.truncf(target, value)
    if is_float(src):
        return float_to_int(value, src, dst)
    if is_float(dst):
        return arith.uitofp(target, value) if is_unsigned(src) else arith.sitofp(target, value)
    src_bits, dst_bits = (1 if src == torch.bool else elem_bits(src)), elem_bits(dst)
    if dst_bits > src_bits:
        return arith.extui(target, value) if is_unsigned(src) else arith.extsi(target, value)
    if dst_bits < src_bits:
        return arith.trunci(target, value)
    return value


def float_to_int(value: ir.Value, src: torch.dtype, dst: torch.dtype) -> ir.Value:
    """Truncating float -> int as ATen does on x86-64 (cvttss2si and friends): int64 converts
    at 64 bits, every narrower type at 32 bits and then wraps; a NaN or a value outside the
    conversion's range gives its minimum (INT_MIN), never LLVM's poison or RISC-V's saturation."""
    width = 64 if elem_bits(dst) == 64 else 32
    if elem_bits(src) < 32:  # f16/bf16 cannot hold the range bounds
        value, src = arith.extf(ir.F32Type.get(), value), torch.float32
    low, high = constant(-(2.0 ** (width - 1)), src), constant(2.0 ** (width - 1), src)
    in_range = arith.andi(arith.cmpf(arith.CmpFPredicate.OGE, value, low),
                          arith.cmpf(arith.CmpFPredicate.OLT, value, high))  # false for NaN
    wide_type = ir.IntegerType.get_signless(width)
    converted = arith.fptosi(wide_type, arith.select(in_range, value, constant(0.0, src)))
    wide = arith.select(in_range, converted, arith.constant(wide_type, -(2 ** (width - 1))))
    return wide if elem_bits(dst) == width else arith.trunci(mlir_type(dst), wide)


def constant(value, dtype: torch.dtype) -> ir.Value:
    if dtype == torch.bool:
        return arith.constant(mlir_type(dtype), 1 if value else 0)
    if is_float(dtype):
        return arith.constant(mlir_type(dtype), float(value))
    bits = elem_bits(dtype)
    value = int(value)
    if value >= 2 ** (bits - 1):  # unsigned constants wrap into the signless type
        value -= 2 ** bits
    return arith.constant(mlir_type(dtype), value)


# --- elementwise ops: one lowering per Inductor op -----------------------------------
F, I = "float", "int"
FLOAT_UNARY = {
    "exp": mmath.exp, "log": mmath.log, "log1p": mmath.log1p, "exp2": mmath.exp2, "sqrt": mmath.sqrt, "rsqrt": mmath.rsqrt, "erf": mmath.erf,
    "tanh": mmath.tanh, "sin": mmath.sin, "cos": mmath.cos, "tan": mmath.tan, "sinh": mmath.sinh,
    "cosh": mmath.cosh, "asin": mmath.asin, "acos": mmath.acos, "atan": mmath.atan,
    "floor": mmath.floor, "ceil": mmath.ceil, "trunc": mmath.trunc, "round": mmath.roundeven,
}
UNSIGNED_BINARY = {  # ops whose integer form depends on signedness (uint8, bool)
    "maximum": arith.maxui, "minimum": arith.minui, "floordiv": arith.divui, "mod": arith.remui,
    "fmod": arith.remui, "truncdiv": arith.divui, "bitwise_right_shift": arith.shrui,
}
ARITH_BINARY = {  # op -> (float builder, signed-int builder)
    "add": (arith.addf, arith.addi), "sub": (arith.subf, arith.subi), "mul": (arith.mulf, arith.muli),
    "truediv": (arith.divf, None), "maximum": (arith.maximumf, arith.maxsi),
    "minimum": (arith.minimumf, arith.minsi), "floordiv": (None, arith.floordivsi),
    "mod": (arith.remf, arith.remsi), "fmod": (arith.remf, arith.remsi), "truncdiv": (None, arith.divsi),
    "pow": (mmath.powf, None), "atan2": (mmath.atan2, None), "copysign": (mmath.copysign, None),
    "bitwise_and": (None, arith.andi), "bitwise_or": (None, arith.ori), "bitwise_xor": (None, arith.xori),
    "and_": (None, arith.andi), "or_": (None, arith.ori), "xor": (None, arith.xori),
    "bitwise_left_shift": (None, arith.shli), "bitwise_right_shift": (None, arith.shrsi),
}
COMPARE = {  # op -> (float predicate, int predicate); torch: ne is true for NaN
    "eq": ("OEQ", "eq"), "ne": ("UNE", "ne"), "lt": ("OLT", "slt"), "le": ("OLE", "sle"),
    "gt": ("OGT", "sgt"), "ge": ("OGE", "sge"),
}
LOGICAL = {"logical_and": arith.andi, "logical_or": arith.ori, "logical_xor": arith.xori}


def lower_op(node: Op, args: list[tuple[ir.Value, torch.dtype]]) -> ir.Value:
    op, out = node.op, node.dtype
    if op == "to_dtype":
        return cast(args[0][0], args[0][1], node.attrs["dtype"])
    if op == "bitcast":  # the bits of src_dtype reinterpreted (nextafter, frexp)
        return arith.bitcast(mlir_type(node.attrs["dtype"]), cast(args[0][0], args[0][1], node.attrs["src_dtype"]))
    if op == "recurrence":  # a polynomial's n-step recurrence (compiler/special_functions.py)
        return special_functions.lower_recurrence(node, args, cast, mlir_type)
    if op == "zeta":  # Hurwitz zeta: a loop and its unrolled tail (compiler/special_functions.py)
        return special_functions.lower_zeta(node, args, cast, mlir_type)
    if op == "gcd":  # Euclid's loop (compiler/special_functions.py)
        return special_functions.lower_gcd(node, args, cast, mlir_type)
    if op in COMPARE:
        common = torch.promote_types(args[0][1], args[1][1])
        lhs, rhs = (cast(v, d, common) for v, d in args)
        fpred, ipred = COMPARE[op]
        if is_float(common):
            return arith.cmpf(getattr(arith.CmpFPredicate, fpred), lhs, rhs)
        if is_unsigned(common):
            ipred = ipred.replace("s", "u", 1) if ipred.startswith("s") else ipred
        return arith.cmpi(getattr(arith.CmpIPredicate, ipred), lhs, rhs)
    if op in LOGICAL:
        lhs, rhs = (cast(v, d, torch.bool) for v, d in args)
        return LOGICAL[op](lhs, rhs)
    if op == "logical_not":
        return arith.xori(cast(args[0][0], args[0][1], torch.bool), constant(True, torch.bool))
    if op == "where":
        cond = cast(args[0][0], args[0][1], torch.bool)
        return arith.select(cond, cast(args[1][0], args[1][1], out), cast(args[2][0], args[2][1], out))
    if op in ("isnan", "isinf", "signbit"):
        value, dtype = args[0]
        if not is_float(dtype):
            if op != "signbit" or is_unsigned(dtype):
                return constant(False, torch.bool)
            return arith.cmpi(arith.CmpIPredicate.slt, value, constant(0, dtype))
        if op == "isnan":
            return arith.cmpf(arith.CmpFPredicate.UNO, value, value)
        if op == "isinf":
            return arith.cmpf(arith.CmpFPredicate.OEQ, mmath.absf(value), constant(math.inf, dtype))
        bits = ir.IntegerType.get_signless(elem_bits(dtype))
        return arith.cmpi(arith.CmpIPredicate.slt, arith.bitcast(bits, value), arith.constant(bits, 0))
    # Arithmetic: operands take the result dtype.
    values = [cast(v, d, out) for v, d in args]
    if op == "int_truediv":
        return arith.divf(*values)
    if op == "neg":
        return arith.negf(values[0]) if is_float(out) else arith.subi(constant(0, out), values[0])
    if op == "abs":
        if is_unsigned(out):
            return values[0]
        return mmath.absf(values[0]) if is_float(out) else mmath.absi(values[0])
    if op == "bitwise_not":
        return arith.xori(values[0], constant(-1, out))
    if op == "sign":
        zero, one, minus = constant(0, out), constant(1, out), constant(-1, out)
        gt = lower_op(Op("gt", ()), [(values[0], out), (zero, out)])
        lt = lower_op(Op("lt", ()), [(values[0], out), (zero, out)])
        return arith.select(gt, one, arith.select(lt, minus, zero))
    if op in FLOAT_UNARY:
        if not is_float(out):
            if op in ("floor", "ceil", "trunc", "round"):
                return values[0]
            raise UnsupportedOp(op, f"integer operand of dtype {out}")
        return FLOAT_UNARY[op](values[0])
    if op in UNSIGNED_BINARY and is_unsigned(out):
        return UNSIGNED_BINARY[op](*values)
    if op in ARITH_BINARY:
        float_builder, int_builder = ARITH_BINARY[op]
        builder = float_builder if is_float(out) else int_builder
        if builder is None:
            raise UnsupportedOp(op, f"operands of dtype {out}")
        if op == "pow" and not is_float(out):
            raise UnsupportedOp(op, "integer pow")
        return builder(*values)
    raise UnsupportedOp(op)


REDUCTION_COMBINE = {  # type -> (float combine, int combine)
    "sum": (arith.addf, arith.addi), "prod": (arith.mulf, arith.muli),
    "max": (arith.maximumf, arith.maxsi), "min": (arith.minimumf, arith.minsi), "any": (arith.ori, arith.ori),
}
UNSIGNED_COMBINE = {"max": arith.maxui, "min": arith.minui}


def combine(reduction_type: str, dtype: torch.dtype):
    if is_unsigned(dtype) and reduction_type in UNSIGNED_COMBINE:
        return UNSIGNED_COMBINE[reduction_type]
    float_combine, int_combine = REDUCTION_COMBINE[reduction_type]
    return float_combine if is_float(dtype) else int_combine


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """Low-precision floats accumulate in float32, as ATen and Inductor's other backends do."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


# A float sum over a static extent this short keeps one running value: its rounding stays
# within SHORT_STATIC_SUM * eps, and x.sum(1) of a (B, 5, N) tensor runs one reduction per
# output element, where a partial buffer and its combine would multiply the work.
SHORT_STATIC_SUM = 64
# Rows a lane-wise float sum (a reduction over a non-last dim) adds into a block accumulator before
# the block goes into the total.
BLOCK_ROWS = 64


def keeps_partials(reduce: Reduce) -> bool:
    """Float sums keep one partial per tile element: a single running float drifts about
    eps * n from the exact sum (4.6e-4 relative at 2**20 elements), partials stay within an
    ulp or two of eager's cascade sum (CONTRACTS.md section 1, Reductions)."""
    return reduce.reduction_type == "sum" and is_float(accumulator_dtype(reduce.dtype))


def reduction_identity(reduction_type: str, dtype: torch.dtype) -> ir.Value:
    if reduction_type == "sum":
        return constant(0, dtype)
    if reduction_type == "prod":
        return constant(1, dtype)
    if reduction_type == "any":
        return constant(False, dtype)
    if is_float(dtype):
        return constant(-math.inf if reduction_type == "max" else math.inf, dtype)
    if dtype == torch.bool:
        return constant(reduction_type == "min", dtype)
    if dtype == torch.uint8:
        return constant(0 if reduction_type == "max" else 255, dtype)
    info = torch.iinfo(dtype)
    return constant(info.min if reduction_type == "max" else info.max, dtype)


# --- scopes and plans ----------------------------------------------------------------
@dataclass
class Scope:
    """Values available at one loop level; `env` maps loop/size symbols to i64 values."""

    env: dict
    memo: dict = field(default_factory=dict)
    spad_reads: dict = field(default_factory=dict)  # id(load) -> (spad value, element index)


@dataclass
class Access:
    """How a tile loop reaches a buffer: affine (base + stride * t) or element-wise gather/scatter."""

    index: sympy.Expr
    base: sympy.Expr | None
    stride: sympy.Expr | None

    @property
    def affine(self) -> bool:
        return self.base is not None


@dataclass
class Transfer:
    """One tensor's traffic in a tile loop: its scratchpad buffer and how each tile reaches DRAM."""

    buffer: str
    access: Access
    spad: ir.Value
    spad_id: int
    base: ir.Value | None  # i64 offset of the tile at t = 0 (affine access)
    stride: ir.Value | int | None  # elements between consecutive t (affine access)
    mask: Node | None = None  # a masked load: gathered where the mask holds, zero elsewhere
    indices: tuple = ()  # indirect.IndirectIndex nodes of a data-dependent address (a gather)
    # an interval mask (compiler/masks.py): i64 bounds of the tile variable (None: unbounded) and
    # an i1 condition uniform over the tile (None: true); the DMA is clamped to it
    interval: tuple | None = None
    accumulate: bool | str = False  # a scatter that combines into DRAM (its store mode; index_put accumulate=True)


def classify_access(index: sympy.Expr, t: sympy.Symbol) -> Access:
    base = index.subs(t, 0)
    stride = sympy.expand(index.subs(t, 1) - base)
    if t in stride.free_symbols or sympy.expand(index - base - stride * t) != 0:
        return Access(index, None, None)
    return Access(index, base, stride)


@dataclass
class Emitted:
    mlir: str
    program: tile_ir.TileProgram
    tiles: dict

    def metadata(self, kernel_hash: str, config_name: str) -> dict:
        args = []
        for name, _buffer, dtype, kind in self.program.tensor_args:
            args.append({"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""),
                         "elem_bits": elem_bits(dtype), "numel": str(self.program.buffer_numels[name])})
        roles = {str(self.program.xnumel): "xnumel"}
        if self.program.rnumel is not None:
            roles[str(self.program.rnumel)] = "rnumel"
        for name in self.program.size_args:
            args.append({"name": name, "kind": "size", "dtype": "int64", "role": roles.get(name, "size")})
        meta = {"abi_version": ABI_VERSION, "name": self.program.name, "hash": kernel_hash, "entry": "kernel",
                "args": args, "size_args": list(self.program.size_args), "tiles": self.tiles,
                "xnumel": str(self.program.xnumel),
                "rnumel": None if self.program.rnumel is None else str(self.program.rnumel),
                "config": config_name}
        if self.program.xdims:  # the x tile loop runs over the innermost kept dim, per row of the others
            meta["x_tiled_extent"] = str(self.program.xdims[0][1])
        return meta


def kernel_function(name: str, config_name: str, tensors: list[tuple[torch.dtype, sympy.Expr]],
                    n_size_args: int) -> tuple[ir.Module, func.FuncOp]:
    """A kernel module with its attributes and the empty `@kernel` function (CONTRACTS.md section 1):
    one flat memref per tensor (static when its element count is), then the i64 size args. Call
    inside an ir.Context; the function has its entry block."""
    if len(tensors) + n_size_args > MAX_KERNEL_ARGS:
        raise UnsupportedOp("kernel arguments", f"{name} takes {len(tensors) + n_size_args} arguments; the "
                            f"functional launch ABI passes at most {MAX_KERNEL_ARGS}")
    module = ir.Module.create()
    module.operation.attributes["npusim.kernel_name"] = ir.StringAttr.get(name)
    module.operation.attributes["npusim.abi_version"] = ir.IntegerAttr.get(i64_type(), ABI_VERSION)
    # What kernel.json says beyond the MLIR types (torch dtypes: u8 and i8 are both i8; the
    # config), so one kernel hash never stands for two different metadata files.
    module.operation.attributes["npusim.config"] = ir.StringAttr.get(config_name)
    module.operation.attributes["npusim.arg_dtypes"] = ir.ArrayAttr.get(
        [ir.StringAttr.get(str(dtype).replace("torch.", "")) for dtype, _ in tensors])
    arg_types = [ir.MemRefType.get([DYN] if is_symbolic_dim(numel) else [max(1, int(numel))], storage_type(dtype))
                 for dtype, numel in tensors] + [i64_type()] * n_size_args
    with ir.InsertionPoint(module.body):
        function = func.FuncOp("kernel", ir.FunctionType.get(arg_types, []))
        function.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
        function.add_entry_block()
    return module, function


class KernelEmitter:
    def __init__(self, program: tile_ir.TileProgram, config: NpuConfig):
        self.program = program
        self.config = config
        self.loop_syms = {program.xindex} | ({program.rindex} if program.rindex is not None else set()) | \
            {sym for sym, _ in program.xdims}
        self._deps: dict[int, frozenset] = {}
        self._levels: dict[int, int] = {}
        self.tiles: dict = {}
        self.next_spad = 0
        self.next_tile_id = 0

    # --- analysis ------------------------------------------------------------------
    def deps(self, node: Node) -> frozenset:
        """Loop symbols a node's value depends on; a reduction result no longer depends on r."""
        key = id(node)
        if key not in self._deps:
            if isinstance(node, Load):
                found = frozenset(node.symbols() & self.loop_syms).union(*[self.deps(o) for o in node.operands()])
            elif isinstance(node, IndexValue):  # an indirect one also depends on its indices
                found = frozenset(node.symbols() & self.loop_syms).union(*[self.deps(o) for o in node.operands()])
            elif isinstance(node, Reduce):  # a sort's row: every value sorted with its key
                found = frozenset().union(*[self.deps(o) for o in node.operands()]) - {self.program.rindex}
            else:
                found = frozenset().union(*[self.deps(a) for a in node.operands()]) if node.operands() else frozenset()
                if getattr(node, "varies_along_reduction", False):  # a scan (compiler/scan.py)
                    found |= {self.program.rindex}
            self._deps[key] = found
        return self._deps[key]

    @staticmethod
    def reductions_reaching(node: Node) -> list[Reduce]:
        """Reductions whose results `node` consumes (itself included when it is one)."""
        return [n for n in walk([node], stop=lambda n: isinstance(n, Reduce)) if isinstance(n, Reduce)]

    def level(self, item) -> int:
        """The reduction loop an item runs in: one after every reduction it consumes."""
        key = id(item)
        if key not in self._levels:
            consumed = self.reductions_reaching(item.value)  # a Reduce item's value is its operand
            self._levels[key] = 1 + max((self.level(r) for r in consumed), default=-1)
        return self._levels[key]

    # --- building blocks -------------------------------------------------------------
    def new_spad(self, dtype: torch.dtype, size: int) -> tuple[ir.Value, int]:
        with ir.InsertionPoint.at_block_begin(self.entry_block):
            buffer = memref.alloca(ir.MemRefType.get([size], storage_type(dtype)), [], [])
        spad_id = self.next_spad
        self.next_spad += 1
        buffer.owner.attributes["npusim.spad"] = ir.IntegerAttr.get(i64_type(), spad_id)
        return buffer, spad_id

    def arg_index(self, name: str) -> int:
        return self.tensor_names.index(name)

    def arg_dtype(self, name: str) -> torch.dtype:
        return self.program.tensor_args[self.arg_index(name)][2]

    def dma(self, direction: str, arg: str, spad: ir.Value, spad_id: int, offset: ir.Value,
            length, stride, spad_offset: ir.Value | None = None) -> None:
        """One DRAM<->scratchpad transfer; its descriptor is the reinterpret_cast's operands."""
        dtype = self.arg_dtype(arg)
        dram = self.func.arguments[self.arg_index(arg)]
        static_len = length if isinstance(length, int) else DYN
        static_stride = stride if isinstance(stride, int) else DYN
        view_type = ir.MemRefType.get([static_len], storage_type(dtype),
                                      layout=ir.StridedLayoutAttr.get(DYN, [static_stride]))
        dram_view = memref.ReinterpretCastOp(
            view_type, dram, [to_index(offset)], [] if isinstance(length, int) else [length],
            [] if isinstance(stride, int) else [to_index(stride)],
            ir.DenseI64ArrayAttr.get([DYN]), ir.DenseI64ArrayAttr.get([static_len]),
            ir.DenseI64ArrayAttr.get([static_stride])).result
        spad_type = ir.MemRefType.get([static_len], storage_type(dtype), layout=ir.StridedLayoutAttr.get(
            0 if spad_offset is None else DYN, [1]))
        spad_view = memref.SubViewOp(spad_type, spad, [] if spad_offset is None else [to_index(spad_offset)],
                                     [] if isinstance(length, int) else [length], [],
                                     ir.DenseI64ArrayAttr.get([0 if spad_offset is None else DYN]),
                                     ir.DenseI64ArrayAttr.get([static_len]), ir.DenseI64ArrayAttr.get([1])).result
        src, dst = (dram_view, spad_view) if direction == "load" else (spad_view, dram_view)
        copy_op = linalg.copy(src, outs=[dst]).owner  # on memrefs: an empty result list that knows its op
        copy_op.attributes["npusim.dma"] = self.dma_attr(direction, arg, spad_id)

    def dma_attr(self, direction: str, arg: str, spad_id: int, mode: str | None = None) -> ir.Attribute:
        fields = {"dir": ir.StringAttr.get(direction), "arg": ir.IntegerAttr.get(i64_type(), self.arg_index(arg)),
                  "spad": ir.IntegerAttr.get(i64_type(), spad_id)}
        if mode:
            fields["mode"] = ir.StringAttr.get(mode)
        return ir.DictAttr.get(fields)

    def element_loop(self, direction: str, arg: str, spad: ir.Value, spad_id: int, access: Access,
                     scope: Scope, t: sympy.Symbol, tile_base: ir.Value, length, mask: Node | None = None,
                     indices: tuple = (), issued: dict | None = None, accumulate: bool | str = False) -> None:
        """Gather (load) or scatter (store) for an index that is not affine in the tile variable,
        or a masked gather: element i is read only where the mask holds, else it is zero. An
        indirect index (compiler/indirect.py) is read from its scratchpad (`issued`) and checked.
        `accumulate`: each element is added into DRAM, in order (index_put accumulate=True)."""
        dram = self.func.arguments[self.arg_index(arg)]
        upper = const_index(length) if isinstance(length, int) else length
        loop = scf.ForOp(const_index(0), upper, const_index(1))
        with ir.InsertionPoint(loop.body):
            i = loop.induction_variable
            env = _SymbolEnv({**scope.env, str(t): arith.addi(tile_base, to_i64(i))})
            if indices:
                reads = {key: (spad_buffer, i) for key, spad_buffer in (issued or {}).items()}
                env = indirect.bind(self, indices, Scope(env=env, memo=dict(scope.memo), spad_reads=reads))
            if mask is None:
                where = to_index(IndexPrinter(env)(access.index))
                if direction == "load":
                    memref.store(memref.load(dram, [where]), spad, [i])
                else:
                    stored = memref.load(spad, [i])
                    if accumulate:
                        stored = indirect.accumulated(memref.load(dram, [where]), stored, self.arg_dtype(arg),
                                                      "atomic_add" if accumulate is True else accumulate)
                    memref.store(stored, dram, [where])
            else:
                self.masked_element(arg, spad, i, access.index, mask, Scope(env=env, memo=dict(scope.memo)), t)
            scf.YieldOp([])
        mode = "gather" if direction == "load" else "scatter_add" if accumulate else "scatter"
        loop.attributes["npusim.dma"] = self.dma_attr(direction, arg, spad_id, mode)

    def mask_condition(self, mask: Node, scope: Scope, t: sympy.Symbol | None) -> ir.Value:
        """The i1 value of a load mask; it may not read data the same tile loads (that data is
        not in the scratchpad yet when the masked transfer runs)."""
        for node in walk([mask]):
            if isinstance(node, Load) and (t is None or t in self.deps(node)) and id(node) not in scope.memo:
                raise UnsupportedOp("masked", "a load mask computed from data loaded in the same tile")
        return cast(self.value(mask, scope), mask.dtype, torch.bool)

    def masked_element(self, arg: str, spad: ir.Value, slot: ir.Value, index: sympy.Expr, mask: Node,
                       scope: Scope, t: sympy.Symbol | None) -> None:
        """spad[slot] = dram[index] where the mask holds, else zero; the address is formed only inside."""
        branch = scf.IfOp(self.mask_condition(mask, scope, t), has_else=True)
        dram = self.func.arguments[self.arg_index(arg)]
        with ir.InsertionPoint(branch.then_block):
            where = to_index(IndexPrinter(scope.env)(index))
            memref.store(memref.load(dram, [where]), spad, [slot])
            scf.YieldOp([])
        with ir.InsertionPoint(branch.else_block):
            dtype = self.arg_dtype(arg)
            memref.store(constant(0, torch.int8 if dtype == torch.bool else dtype), spad, [slot])
            scf.YieldOp([])

    # --- values --------------------------------------------------------------------------
    def value(self, node: Node, scope: Scope) -> ir.Value:
        key = id(node)
        if key in scope.memo:
            return scope.memo[key]
        if isinstance(node, Constant):
            result = constant(node.value, node.dtype)
        elif isinstance(node, IndexValue):
            if is_float_expr(node.expr):  # a float of sizes (a 1/sqrt(head_dim) scale)
                result = cast(FloatExprPrinter(scope.env)(node.expr), torch.float64, node.dtype)
            else:
                env = indirect.bind(self, node.operands(), scope) if node.operands() else scope.env
                result = cast(IndexPrinter(env)(node.expr), torch.int64, node.dtype)
        elif isinstance(node, Load):
            if key in scope.spad_reads:
                spad, where = scope.spad_reads[key]
                result = memref.load(spad, [where])
            elif node.mask is not None or getattr(node, "indices", ()):
                # uniform over the tile, masked or at a data-dependent address: one element, gathered
                spad, spad_id = self.new_spad(self.arg_dtype(node.buffer), 1)
                gather = scf.ForOp(const_index(0), const_index(1), const_index(1))
                with ir.InsertionPoint(gather.body):
                    # the indices are computed in this loop's body: memoised in its scope, not the outer one
                    # (a value from the body reused after it does not dominate its use)
                    inner = Scope(env=scope.env, memo=dict(scope.memo), spad_reads=scope.spad_reads)
                    inner.env = indirect.bind(self, getattr(node, "indices", ()), inner)
                    if node.mask is not None:
                        self.masked_element(node.buffer, spad, const_index(0), node.index, node.mask, inner, None)
                    else:
                        where = to_index(IndexPrinter(inner.env)(node.index))
                        memref.store(memref.load(self.func.arguments[self.arg_index(node.buffer)], [where]),
                                     spad, [const_index(0)])
                    scf.YieldOp([])
                gather.attributes["npusim.dma"] = self.dma_attr("load", node.buffer, spad_id, "gather")
                result = memref.load(spad, [const_index(0)])
            else:  # a value uniform over the tile: a one-element transfer
                spad, spad_id = self.new_spad(self.arg_dtype(node.buffer), 1)
                self.dma("load", node.buffer, spad, spad_id, IndexPrinter(scope.env)(node.index), 1, 1)
                result = memref.load(spad, [const_index(0)])
            buffer_dtype = self.arg_dtype(node.buffer)
            if buffer_dtype == torch.bool:  # stored as one byte
                result = cast(result, torch.int8, torch.bool)
            result = cast(result, buffer_dtype, node.dtype)
        elif isinstance(node, Op):
            result = lower_op(node, [(self.value(a, scope), a.dtype) for a in node.args])
        elif isinstance(node, indirect.IndirectIndex):
            result = indirect.checked_value(self, node, scope)
        elif isinstance(node, sort.SortOutput):
            result = sort.output_value(self, node, scope)
        elif search.is_search_node(node):  # searchsorted/bucketize (compiler/search.py)
            result = search.value(self, node, scope)
        elif isinstance(node, Reduce):
            raise AssertionError(f"reduction {node.name} used before its loop was emitted")
        else:
            raise UnsupportedOp(type(node).__name__)
        scope.memo[key] = result
        return result

    def stored_value(self, store: Store, scope: Scope) -> ir.Value:
        dtype = self.arg_dtype(store.buffer)
        value = cast(self.value(store.value, scope), store.value.dtype, dtype)
        return cast(value, torch.bool, torch.int8) if dtype == torch.bool else value

    def scalar_store(self, store: Store, scope: Scope) -> None:
        dtype = self.arg_dtype(store.buffer)
        spad, spad_id = self.new_spad(dtype, 1)
        memref.store(self.stored_value(store, scope), spad, [const_index(0)])
        self.dma("store", store.buffer, spad, spad_id, IndexPrinter(scope.env)(store.index), 1, 1)

    # --- loops -------------------------------------------------------------------------------
    def plan_transfer(self, buffer: str, index: sympy.Expr, t: sympy.Symbol, tile: int,
                      printer: IndexPrinter, mask: Node | None = None, indices: tuple = (),
                      scope: Scope | None = None) -> Transfer:
        """A tile-sized scratchpad buffer, and the tile-invariant part of the DRAM address (outside the loop)."""
        access = classify_access(index, t)
        spad, spad_id = self.new_spad(self.arg_dtype(buffer), tile)
        interval = None
        if mask is not None and not indices and access.affine and scope is not None:
            found = masks.interval_of(mask, t, lambda n: t in self.deps(n))
            if found is not None:
                interval = self.interval_values(found, printer, scope)
        # element-wise, so that no masked-off address is formed; a data-dependent address is a gather
        if (mask is not None and interval is None) or indices:
            return Transfer(buffer, Access(index, None, None), spad, spad_id, None, None, mask, indices)
        if not access.affine:
            return Transfer(buffer, access, spad, spad_id, None, None)
        stride = int(access.stride) if access.stride.is_Integer else printer(access.stride)
        return Transfer(buffer, access, spad, spad_id, printer(access.base), stride, interval=interval)

    def plan_store(self, store: Store, t: sympy.Symbol, tile: int, printer: IndexPrinter) -> Transfer:
        """A store's transfer; an index_put's (compiler/indirect.py) is always a scatter loop."""
        if isinstance(store, indirect.IndirectStore):
            spad, spad_id = self.new_spad(self.arg_dtype(store.buffer), tile)
            return Transfer(store.buffer, Access(store.index, None, None), spad, spad_id, None, None,
                            indices=store.indices, accumulate=store.accumulate)
        return self.plan_transfer(store.buffer, store.index, t, tile, printer)

    def interval_values(self, found: "masks.Interval", printer: IndexPrinter, scope: Scope) -> tuple:
        """The interval's bounds (i64, the tightest of each side) and uniform condition (i1)."""
        lower = upper = condition = None
        for bound in found.lower:
            value = printer(bound)
            lower = value if lower is None else arith.maxsi(lower, value)
        for bound in found.upper:
            value = printer(bound)
            upper = value if upper is None else arith.minsi(upper, value)
        for term in found.uniform:
            value = cast(self.value(term, scope), term.dtype, torch.bool)
            condition = value if condition is None else arith.andi(condition, value)
        return lower, upper, condition

    def issue_transfer(self, direction: str, plan: Transfer, outer: Scope, t: sympy.Symbol,
                       tile_base: ir.Value, length, issued: dict | None = None) -> None:
        """The DMA of one tile: strided when affine in the tile variable, else element-wise.
        `issued`: id(load) -> spad of this tile's loads already issued (a gather's indices)."""
        if not plan.access.affine:
            self.element_loop(direction, plan.buffer, plan.spad, plan.spad_id, plan.access, outer, t, tile_base,
                              length, plan.mask, plan.indices, issued, plan.accumulate)
            return
        step = plan.stride if isinstance(plan.stride, ir.Value) else const_i64(plan.stride)
        if plan.interval is not None:
            self.clamped_load(plan, step, tile_base, length)
            return
        offset = arith.addi(plan.base, arith.muli(step, tile_base))
        self.dma(direction, plan.buffer, plan.spad, plan.spad_id, offset, length, plan.stride)

    def clamped_load(self, plan: Transfer, step: ir.Value, tile_base: ir.Value, length) -> None:
        """A masked load over an interval: the DMA moves only the tile's elements inside it, to
        their places in the scratchpad; the rest of the tile is never read from DRAM (the masked
        value's `where` gives them the other value). An empty transfer has offset 0."""
        lower, upper, condition = plan.interval
        tile_len = const_i64(length) if isinstance(length, int) else to_i64(length)
        start = tile_base if lower is None else arith.maxsi(tile_base, lower)
        end = arith.addi(tile_base, tile_len)
        if upper is not None:
            end = arith.minsi(end, upper)
        zero = const_i64(0)
        count = arith.maxsi(arith.subi(end, start), zero)
        if condition is not None:
            count = arith.select(condition, count, zero)
        nonempty = arith.cmpi(arith.CmpIPredicate.sgt, count, zero)
        offset = arith.select(nonempty, arith.addi(plan.base, arith.muli(step, start)), zero)
        spad_offset = arith.select(nonempty, arith.subi(start, tile_base), zero)
        self.dma("load", plan.buffer, plan.spad, plan.spad_id, offset, to_index(count), plan.stride,
                 spad_offset=spad_offset)

    def tile_loop(self, outer: Scope, t: sympy.Symbol, extent: sympy.Expr, items: list, *,
                  dim: str, parallel: bool) -> None:
        reduces = [it for it in items if isinstance(it, Reduce) and not isinstance(it, sort.SortRows)]
        sorts = [it for it in items if isinstance(it, sort.SortRows)]  # rows written to be sorted (compiler/sort.py)
        stores = [it for it in items if isinstance(it, Store)]
        # an index_put's indices are values of the tile too (loaded with it, or uniform over it)
        roots = [r.value for r in reduces] + sort.roots(sorts) + [s.value for s in stores] + \
            [index for s in stores for index in getattr(s, "indices", ())]
        # adds into DRAM at data-dependent addresses: two cores could add into one element at once
        parallel = parallel and not any(indirect.is_scatter_add(s) for s in stores)

        def varies(n: Node) -> bool:
            return t in self.deps(n)

        order = walk(roots, stop=lambda n: not varies(n))
        for node in order:  # values uniform over the tile are computed once, outside the loop
            if not varies(node):
                self.value(node, outer)
        loads = [n for n in order if isinstance(n, Load) and varies(n)]
        dtypes = [self.arg_dtype(n.buffer) for n in loads] + [self.arg_dtype(s.buffer) for s in stores]
        widest = max((elem_bits(d) for d in dtypes), default=32)
        choice: TileChoice = choose_tile(extent, self.config, widest, max(1, len(dtypes)))
        self.tiles[dim] = choice.tile
        printer = IndexPrinter(outer.env)
        extent_index = to_index(printer(extent))

        load_plans = [(load, self.plan_transfer(load.buffer, load.index, t, choice.tile, printer, load.mask,
                                                getattr(load, "indices", ()), outer))
                      for load in loads]
        store_plans = [(store, self.plan_store(store, t, choice.tile, printer)) for store in stores]

        # Float sums add into one partial per tile element (PartialSums); the rest carry one
        # running value per reduction as iter_args.
        short = not is_symbolic_dim(extent) and int(extent) <= SHORT_STATIC_SUM
        carried = [r for r in reduces if short or not keeps_partials(r)]
        partials = {id(r): self.partial_sums(r, choice.tile) for r in reduces if r not in carried}
        reduction_inits = [init for r in carried for init in self.carried_inits(r)]
        scans = [n for n in order if isinstance(n, scan.Scan)]  # their running values follow the reductions'
        inits = reduction_inits + scan.inits(scans)
        tile_const = const_index(choice.tile)
        loop = scf.ForOp(const_index(0), extent_index, tile_const, inits)
        loop.attributes["npusim.tile_loop"] = ir.DictAttr.get(
            {"dim": ir.StringAttr.get(dim), "parallel": ir.BoolAttr.get(parallel)})
        with ir.InsertionPoint(loop.body):
            tile_base = to_i64(loop.induction_variable)
            length = self.clamped_length(choice, tile_const, extent_index, loop)
            issued = {}
            for load, plan in load_plans:
                self.issue_transfer("load", plan, outer, t, tile_base, length, issued)
                issued[id(load)] = plan.spad
            upper = const_index(length) if isinstance(length, int) else length
            compute = scf.ForOp(const_index(0), upper, const_index(1), list(loop.inner_iter_args))
            with ir.InsertionPoint(compute.body):
                i = compute.induction_variable
                element = Scope(env=_SymbolEnv({**outer.env, str(t): arith.addi(tile_base, to_i64(i))}),
                                memo=dict(outer.memo))
                for load, plan in load_plans:
                    element.spad_reads[id(load)] = (plan.spad, i)
                    element.memo.pop(id(load), None)
                running = list(compute.inner_iter_args)
                scan_updates = scan.step(self, scans, element, running[len(reduction_inits):], element.env[t])
                accumulators = []
                carried_values = iter(running[:len(reduction_inits)])
                for reduce in reduces:
                    if argreduce.is_arg_reduction(reduce):
                        position = element.env[t] if getattr(reduce, "index", None) is None else \
                            cast(self.value(reduce.index, element), reduce.index.dtype, torch.int64)
                        accumulators += argreduce.combine(reduce, next(carried_values), next(carried_values),
                                                          self.value(reduce.value, element), position)
                        continue
                    acc_dtype = accumulator_dtype(reduce.dtype)
                    value = cast(self.value(reduce.value, element), reduce.value.dtype, acc_dtype)
                    if id(reduce) in partials:
                        partials[id(reduce)].accumulate(i, value)
                    else:
                        accumulators.append(combine(reduce.reduction_type, acc_dtype)(next(carried_values), value))
                sort.store_element(self, sorts, element, element.env[t])
                for store, plan in store_plans:
                    memref.store(self.stored_value(store, element), plan.spad, [i])
                scf.YieldOp(accumulators + scan_updates)
            self.tag_compute(compute, reads=[p.spad_id for _, p in load_plans] + sort.spads_read(self, order)
                             + search.spads_read(self, order),
                             writes=[p.spad_id for _, p in store_plans] + sort.spads_written(self, sorts))
            for _, plan in store_plans:
                self.issue_transfer("store", plan, outer, t, tile_base, length, issued)
            scf.YieldOp(list(compute.results))
        for group in sorts:
            sort.network(self, group, outer, extent)
        results = iter(loop.results)
        for reduce in carried:
            if argreduce.is_arg_reduction(reduce):
                next(results)  # the best value; the index is the result
            outer.memo[id(reduce)] = cast(next(results), accumulator_dtype(reduce.dtype), reduce.dtype)
        for reduce in reduces:
            if id(reduce) in partials:
                total = partials[id(reduce)].combine(self)
                outer.memo[id(reduce)] = cast(total, accumulator_dtype(reduce.dtype), reduce.dtype)

    @staticmethod
    def carried_inits(reduce: Reduce) -> list[ir.Value]:
        """The iter_args one carried reduction starts from: one running value, or argmax's (value, index)."""
        if argreduce.is_arg_reduction(reduce):
            return argreduce.inits(reduce)
        return [reduction_identity(reduce.reduction_type, accumulator_dtype(reduce.dtype))]

    @staticmethod
    def clamped_length(choice: TileChoice, tile_const: ir.Value, extent_index: ir.Value, loop):
        """Elements of the tile at the loop's induction value: the last partial tile is clamped,
        unless the extent is static and a multiple of the tile (then an int)."""
        if not choice.needs_clamp:
            return choice.tile
        length = arith.minsi(tile_const, arith.subi(extent_index, loop.induction_variable))
        return length

    def tag_compute(self, op, reads: list[int], writes: list[int], kind: str | None = None) -> None:
        """Mark `op` (an scf.for) as compute tile `next_tile_id` (CONTRACTS.md section 1)."""
        fields = {"tile_id": ir.IntegerAttr.get(i64_type(), self.next_tile_id),
                  "unit": ir.StringAttr.get("vector"),
                  "reads": ir.ArrayAttr.get([ir.IntegerAttr.get(i64_type(), r) for r in reads]),
                  "writes": ir.ArrayAttr.get([ir.IntegerAttr.get(i64_type(), w) for w in writes])}
        if kind:
            fields["kind"] = ir.StringAttr.get(kind)
        op.attributes["npusim.compute"] = ir.DictAttr.get(fields)
        self.next_tile_id += 1

    def partial_sums(self, reduce: Reduce, tile: int) -> "PartialSums":
        """A zeroed buffer of `tile` partial sums, allocated once at the top of the kernel."""
        acc_type = mlir_type(accumulator_dtype(reduce.dtype))
        with ir.InsertionPoint.at_block_begin(self.entry_block):
            buffer = memref.alloca(ir.MemRefType.get([tile], acc_type), [], [])
        with ir.InsertionPoint.after(buffer.owner):  # zeroed once; the combine re-zeroes it per row
            zero_fill = scf.ForOp(const_index(0), const_index(tile), const_index(1))
            with ir.InsertionPoint(zero_fill.body):
                memref.store(reduction_identity("sum", accumulator_dtype(reduce.dtype)), buffer,
                             [zero_fill.induction_variable])
                scf.YieldOp([])
        return PartialSums(buffer, tile, accumulator_dtype(reduce.dtype))

    def reduction_rows(self, scope: Scope) -> None:
        """Row loop of a reduction kernel: reduction loops by level, uniform stores when ready."""
        program = self.program
        r = program.rindex
        reduces = {id(n): n for s in program.stores for n in walk([s.value]) if isinstance(n, Reduce)}
        items = list(reduces.values()) + [s for s in program.stores if r in self.deps(s.value)
                                          or r in s.index.free_symbols]
        uniform_stores = [s for s in program.stores if s not in items]
        levels = sorted({self.level(it) for it in items})
        pending = list(uniform_stores)
        for level in levels:
            for store in [s for s in pending if self.level(s) <= level]:
                self.scalar_store(store, scope)
                pending.remove(store)
            self.tile_loop(scope, r, program.rnumel, [it for it in items if self.level(it) == level],
                           dim="r", parallel=False)
        for store in pending:
            self.scalar_store(store, scope)

    def loop_nest(self, scope: Scope, dims: list, body, innermost_tile_loop: bool = False) -> None:
        """Unit-step loops over `dims` (innermost first, built outermost first) around `body(scope)`;
        the innermost may be the parallel row loop of a reduction."""
        if not dims:
            body(scope)
            return
        *inner, (sym, extent) = dims
        loop = scf.ForOp(const_index(0), to_index(IndexPrinter(scope.env)(extent)), const_index(1))
        if innermost_tile_loop and not inner:
            loop.attributes["npusim.tile_loop"] = ir.DictAttr.get(
                {"dim": ir.StringAttr.get("x"), "parallel": ir.BoolAttr.get(True)})
        with ir.InsertionPoint(loop.body):
            env = _SymbolEnv({**scope.env, str(sym): to_i64(loop.induction_variable)})
            self.loop_nest(Scope(env=env, memo=dict(scope.memo)), inner, body, innermost_tile_loop)
            scf.YieldOp([])

    # --- reductions over a non-contiguous dim: vector lanes over x ---------------------------
    def lane_reducible(self) -> bool:
        """A reduction whose inputs are contiguous in the innermost x dim and not in r (x.sum(1) of
        [B, M, N]): lanes run over x, the reduced dim is a loop, each row of r one DMA."""
        program = self.program
        x0, r = (program.xdims or [(program.xindex, None)])[0][0], program.rindex
        reduces = self.program_reduces()
        if not reduces or any(self.level(rd) != 0 or argreduce.is_arg_reduction(rd) or isinstance(rd, sort.SortRows)
                              for rd in reduces):
            return False  # argmax's (value, index) pair and later levels stay one row per work item
        if any(isinstance(n, scan.Scan) for s in program.stores for n in walk([s.value])):
            return False
        for store in program.stores:
            access = classify_access(store.index, x0)
            if r in store.index.free_symbols or not access.affine or access.stride != 1:
                return False
            if any(isinstance(n, Load) for n in walk([store.value], stop=lambda n: isinstance(n, Reduce))):
                return False
        loads = [n for n in walk([rd.value for rd in reduces]) if isinstance(n, Load)]
        contiguous_in_r = False
        for load in loads:
            in_x, in_r = classify_access(load.index, x0), classify_access(load.index, r)
            if load.mask is not None or getattr(load, "indices", ()) or not (in_x.affine and in_r.affine) \
                    or in_x.stride != 1 or in_r.stride == 0:
                return False
            contiguous_in_r |= in_r.stride == 1
        return bool(loads) and not contiguous_in_r

    def program_reduces(self) -> list[Reduce]:
        return list({id(n): n for s in self.program.stores for n in walk([s.value]) if isinstance(n, Reduce)}.values())

    def acc_buffer(self, reduce: Reduce, tile: int) -> tuple[ir.Value, int, torch.dtype]:
        acc_dtype = accumulator_dtype(reduce.dtype)
        spad, spad_id = self.new_spad(acc_dtype, tile)
        return spad, spad_id, acc_dtype

    @staticmethod
    def acc_load(spad, i, acc_dtype) -> ir.Value:
        value = memref.load(spad, [i])
        return cast(value, torch.int8, torch.bool) if acc_dtype == torch.bool else value

    @staticmethod
    def acc_store(value, spad, i, acc_dtype) -> None:
        memref.store(cast(value, torch.bool, torch.int8) if acc_dtype == torch.bool else value, spad, [i])

    def lane_reduction(self, scope: Scope) -> None:
        """Tiles of the innermost x dim (a parallel work item each); per tile the accumulators
        are set to the identity, every step of the r loop loads one tile-wide row per input and
        combines it lane by lane, and the stores' values are computed from the accumulators."""
        program = self.program
        x0, extent = (program.xdims or [(program.xindex, program.xnumel)])[0]
        r = program.rindex
        reduces = self.program_reduces()
        loads = [n for n in walk([rd.value for rd in reduces]) if isinstance(n, Load)]
        dtypes = [self.arg_dtype(n.buffer) for n in loads] + [self.arg_dtype(s.buffer) for s in program.stores] + \
            [accumulator_dtype(rd.dtype) for rd in reduces]
        widest = max(elem_bits(d) for d in dtypes)
        choice = choose_tile(extent, self.config, widest, len(dtypes))
        self.tiles.update(x=choice.tile, r=1)
        printer = IndexPrinter(scope.env)
        accs = [self.acc_buffer(rd, choice.tile) for rd in reduces]
        acc_ids = [spad_id for _, spad_id, _ in accs]
        tile_const = const_index(choice.tile)
        extent_index = to_index(printer(extent))
        loop = scf.ForOp(const_index(0), extent_index, tile_const)
        loop.attributes["npusim.tile_loop"] = ir.DictAttr.get(
            {"dim": ir.StringAttr.get("x"), "parallel": ir.BoolAttr.get(True)})
        with ir.InsertionPoint(loop.body):
            tile_base = to_i64(loop.induction_variable)
            length = self.clamped_length(choice, tile_const, extent_index, loop)
            upper = const_index(length) if isinstance(length, int) else length
            init = scf.ForOp(const_index(0), upper, const_index(1))
            with ir.InsertionPoint(init.body):
                for reduce, (spad, _, acc_dtype) in zip(reduces, accs):
                    self.acc_store(reduction_identity(reduce.reduction_type, acc_dtype), spad,
                                   init.induction_variable, acc_dtype)
                scf.YieldOp([])
            self.tag_compute(init, reads=[], writes=acc_ids)
            # Float sums add BLOCK_ROWS rows into a block accumulator, then the block into the total:
            # rounding grows with BLOCK_ROWS + rows / BLOCK_ROWS, not with the row count.
            blocked = {id(rd): self.acc_buffer(rd, choice.tile) for rd in reduces if keeps_partials(rd)}
            block_ids = [spad_id for _, spad_id, _ in blocked.values()]
            if blocked:
                zero_blocks = scf.ForOp(const_index(0), upper, const_index(1))
                with ir.InsertionPoint(zero_blocks.body):
                    for spad, _, acc_dtype in blocked.values():
                        self.acc_store(reduction_identity("sum", acc_dtype), spad, zero_blocks.induction_variable,
                                       acc_dtype)
                    scf.YieldOp([])
                self.tag_compute(zero_blocks, reads=[], writes=block_ids)
            rows = to_index(printer(program.rnumel))
            block_step = const_index(BLOCK_ROWS)
            block_loop = scf.ForOp(const_index(0), rows, block_step) if blocked else None
            with ir.InsertionPoint(block_loop.body) if blocked else contextlib.nullcontext():
                first = block_loop.induction_variable if blocked else None
                count = arith.minsi(block_step, arith.subi(rows, first)) if blocked else rows
                steps = scf.ForOp(const_index(0), count, const_index(1))
                steps.attributes["npusim.tile_loop"] = ir.DictAttr.get(
                    {"dim": ir.StringAttr.get("r"), "parallel": ir.BoolAttr.get(False)})
                with ir.InsertionPoint(steps.body):
                    row = steps.induction_variable if not blocked else arith.addi(first, steps.induction_variable)
                    step_env = _SymbolEnv({**scope.env, str(r): to_i64(row)})
                    step_scope = Scope(env=step_env, memo=dict(scope.memo))
                    plans = [(load, self.plan_transfer(load.buffer, load.index, x0, choice.tile,
                                                       IndexPrinter(step_env))) for load in loads]
                    for _, plan in plans:
                        self.issue_transfer("load", plan, step_scope, x0, tile_base, length)
                    compute = scf.ForOp(const_index(0), upper, const_index(1))
                    with ir.InsertionPoint(compute.body):
                        i = compute.induction_variable
                        element = Scope(env=_SymbolEnv({**step_env, str(x0): arith.addi(tile_base, to_i64(i))}),
                                        memo=dict(scope.memo))
                        for load, plan in plans:
                            element.spad_reads[id(load)] = (plan.spad, i)
                        for reduce, acc in zip(reduces, accs):
                            spad, _, acc_dtype = blocked.get(id(reduce), acc)
                            value = cast(self.value(reduce.value, element), reduce.value.dtype, acc_dtype)
                            combined = combine(reduce.reduction_type, acc_dtype)(self.acc_load(spad, i, acc_dtype),
                                                                                 value)
                            self.acc_store(combined, spad, i, acc_dtype)
                        scf.YieldOp([])
                    written = [blocked[id(rd)][1] if id(rd) in blocked else a[1] for rd, a in zip(reduces, accs)]
                    self.tag_compute(compute, reads=[p.spad_id for _, p in plans] + written, writes=written)
                    scf.YieldOp([])
                if blocked:  # the block into the total, and the block zeroed
                    fold = scf.ForOp(const_index(0), upper, const_index(1))
                    with ir.InsertionPoint(fold.body):
                        i = fold.induction_variable
                        for reduce, (total, _, acc_dtype) in zip(reduces, accs):
                            if id(reduce) not in blocked:
                                continue
                            block = blocked[id(reduce)][0]
                            self.acc_store(arith.addf(self.acc_load(total, i, acc_dtype),
                                                      self.acc_load(block, i, acc_dtype)), total, i, acc_dtype)
                            self.acc_store(reduction_identity("sum", acc_dtype), block, i, acc_dtype)
                        scf.YieldOp([])
                    folded = [a[1] for rd, a in zip(reduces, accs) if id(rd) in blocked]
                    self.tag_compute(fold, reads=block_ids + folded, writes=block_ids + folded)
                    scf.YieldOp([])
            store_plans = [(store, self.plan_transfer(store.buffer, store.index, x0, choice.tile, printer))
                           for store in program.stores]
            epilogue = scf.ForOp(const_index(0), upper, const_index(1))
            with ir.InsertionPoint(epilogue.body):
                i = epilogue.induction_variable
                element = Scope(env=_SymbolEnv({**scope.env, str(x0): arith.addi(tile_base, to_i64(i))}),
                                memo=dict(scope.memo))
                for reduce, (spad, _, acc_dtype) in zip(reduces, accs):
                    element.memo[id(reduce)] = cast(self.acc_load(spad, i, acc_dtype), acc_dtype, reduce.dtype)
                for store, plan in store_plans:
                    memref.store(self.stored_value(store, element), plan.spad, [i])
                scf.YieldOp([])
            self.tag_compute(epilogue, reads=acc_ids, writes=[p.spad_id for _, p in store_plans])
            for _, plan in store_plans:
                self.issue_transfer("store", plan, scope, x0, tile_base, length)
            scf.YieldOp([])

    # --- module ----------------------------------------------------------------------------
    def emit_body(self, top: Scope, dims: list) -> None:
        program = self.program
        if program.rnumel is None:  # outer dims loop, the innermost is tiled
            program.stores = indirect.declare_overwrites(program.stores, dims)
            operands = tiles2d.plan(program, dims, program.stores)
            if operands is not None:  # rows x columns per tile (compiler/tiles2d.py)
                self.loop_nest(top, dims[2:], lambda scope: tiles2d.tile_loop(
                    self, scope, dims, list(program.stores), operands))
            else:
                self.loop_nest(top, dims[1:], lambda scope: self.tile_loop(
                    scope, dims[0][0], dims[0][1], list(program.stores), dim="x", parallel=True))
        elif self.lane_reducible():
            self.loop_nest(top, dims[1:], self.lane_reduction)
        elif (rows := tiles2d.plan_rows(self, dims)) is not None:  # rows x columns of r per tile
            self.loop_nest(top, dims[1:], lambda scope: tiles2d.row_tile_loop(self, scope, dims, rows))
        else:  # one row (output element) per work item
            self.tiles["x"] = 1
            self.loop_nest(top, dims, self.reduction_rows, innermost_tile_loop=True)

    def emit(self) -> Emitted:
        program = self.program
        with ir.Context(), ir.Location.unknown():
            self.tensor_names = [name for name, *_ in program.tensor_args]
            module, self.func = kernel_function(
                program.name or "kernel", self.config.name,
                [(dtype, program.buffer_numels[name]) for name, _, dtype, _ in program.tensor_args],
                len(program.size_args))
            self.entry_block = self.func.entry_block
            if program.xdims:  # in kernel.json too: one kernel hash, one metadata file
                module.operation.attributes["npusim.x_tiled_extent"] = ir.StringAttr.get(str(program.xdims[0][1]))
            with ir.InsertionPoint(module.body):
                with ir.InsertionPoint(self.entry_block):
                    sizes = {sympy.Symbol(name, integer=True, positive=True): arg for name, arg in zip(
                        program.size_args, list(self.entry_block.arguments)[len(program.tensor_args):])}
                    # size args by name, whatever assumptions their sympy symbols carry
                    env = _SymbolEnv(sizes)
                    top = Scope(env=env)
                    dims = program.xdims or [(program.xindex, program.xnumel)]
                    if program.rnumel is not None and any(isinstance(s, indirect.IndirectStore)
                                                          for s in program.stores):
                        raise UnsupportedOp("index_put/scatter", "a store through data-dependent indices (or one "
                                            "that accumulates) in a reduction kernel")
                    extents = dict(dims)
                    if program.rindex is not None:
                        extents[program.rindex] = program.rnumel
                    out_of_range = indirect.check_ranges_on_entry(self, program.range_checks, extents, env)
                    if out_of_range is None:
                        self.emit_body(top, dims)
                    else:  # the body runs only when every checked index is in range
                        guarded = scf.IfOp(out_of_range, has_else=True)
                        with ir.InsertionPoint(guarded.then_block):
                            scf.YieldOp([])
                        with ir.InsertionPoint(guarded.else_block):
                            self.emit_body(top, dims)
                            scf.YieldOp([])
                    func.ReturnOp([])
            verify(module, InvalidKernel, "the emitted kernel.mlir")
            passmanager.PassManager.parse("builtin.module(cse)").run(module.operation)
            text = str(module)
        return Emitted(mlir=text, program=program, tiles=dict(self.tiles))


@dataclass
class PartialSums:
    """The partial sums of one float reduction: element i of every tile adds into partial i
    (a vector register file on the NPU), and after the reduction loop a pairwise tree adds
    the partials into one value, zeroing them for the next row."""

    buffer: ir.Value
    size: int
    acc_dtype: torch.dtype

    def accumulate(self, i: ir.Value, value: ir.Value) -> None:
        memref.store(arith.addf(memref.load(self.buffer, [i]), value), self.buffer, [i])

    def combine(self, emitter: "KernelEmitter") -> ir.Value:
        """One compute op (a cross-lane reduction): the tree's levels are static loops inside it."""
        zero = reduction_identity("sum", self.acc_dtype)
        op = scf.ForOp(const_index(0), const_index(1), const_index(1))
        with ir.InsertionPoint(op.body):
            width = self.size
            while width > 1:
                half = (width + 1) // 2
                level = scf.ForOp(const_index(0), const_index(width - half), const_index(1))
                with ir.InsertionPoint(level.body):
                    low = level.induction_variable
                    high = arith.addi(low, const_index(half))
                    total = arith.addf(memref.load(self.buffer, [low]), memref.load(self.buffer, [high]))
                    memref.store(total, self.buffer, [low])
                    memref.store(zero, self.buffer, [high])
                    scf.YieldOp([])
                width = half
            scf.YieldOp([])
        emitter.tag_compute(op, reads=[], writes=[], kind="partials_combine")
        result = memref.load(self.buffer, [const_index(0)])
        memref.store(zero, self.buffer, [const_index(0)])
        return result


class _SymbolEnv(dict):
    """Symbol -> value, matched by name: Inductor's symbols carry assumptions ours do not."""

    def __init__(self, mapping):
        super().__init__({str(k): v for k, v in mapping.items()})

    def __contains__(self, key):
        return super().__contains__(str(key))

    def __getitem__(self, key):
        return super().__getitem__(str(key))

    def __setitem__(self, key, value):
        super().__setitem__(str(key), value)
