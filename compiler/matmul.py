"""Matmul on the systolic array: a template kernel for aten mm / addmm / bmm / baddbmm.

Inside the backend's codegen scope (`matmul_lowerings()`), Inductor's lowerings
of these ops are swapped for ours: each builds a `MatmulBuffer` (an Inductor
TemplateBuffer) over its realised operands with their own layouts, so a
transposed weight (`w.t()` of linear) is a stride, not a copy. The
scheduling renders it through `MatmulKernel`, which emits one kernel.mlir
(CONTRACTS.md section 1) per template:

    for t in 0 .. batch * ceil(M/TM) * ceil(N/TN)      parallel tile loop "x" (a work item per C tile)
      acc[TM x TN] (f32) = 0, or the bias tile          vector compute (or a bias DMA straight into acc)
      for k0 in 0 .. K step TK                          tile loop "r"
        DMA A[mlen x klen], B[klen x nlen] (2-D, runtime strides)
        acc += A @ B                                    compute {unit = "systolic"}: each K tile's
                                                        partial sum from zero, then added to acc
      fused epilogue on acc (compiler/epilogue.py)      vector compute; its operands/results by DMA
      C = acc (cast to the output dtype)                vector compute when the output is not f32
      DMA C[mlen x nlen]                                unless only the epilogue reads C

Tails in M, N and K are clamped (`arith.minsi(tile, extent - base)`), K = 0
leaves the bias or zeros, f16/bf16 operands accumulate in f32. TK is the
array's rows, TN and TM whole multiples of its columns/rows, so one
scratchpad tile feeds several weight tiles and the trace skeleton splits the
systolic compute into per-array preload/accumulate events (skeleton.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sympy
import torch
from mlir import ir, passmanager
from mlir.dialects import arith, func, linalg, memref, scf
from torch._inductor import ir as inductor_ir
from torch._inductor.codegen.common import Kernel, SizeArg, TensorArg
from torch._inductor.virtualized import V

from compiler.emitter import ABI_VERSION, DYN, _SymbolEnv, elem_bits, kernel_function, mlir_type, storage_type
from compiler import tile_ir
from compiler.epilogue import COORDS, CTile, Epilogue
from compiler.errors import InvalidKernel, UnsupportedOp
from npusim.mlir_verify import verify
from compiler.inductor_lowerings import inductor_lowering, lowerings_replaced
from compiler.kernel import publish_kernel
from compiler.printer import IndexPrinter, const_i64, const_index, i64_type, to_i64, to_index
from npusim.config import NpuConfig

# Tile shape in array units: TM = TILE_ARRAYS * rows, TN = TILE_ARRAYS * cols, TK = rows. An A tile
# is reused over TN / cols weight tiles and a B tile over TM rows, which keeps a large GEMM
# compute-bound on the default config (2 x 128x128 arrays, ~510 B/cycle of DRAM: a 1024x1024
# C tile needs 256 B/cycle at full array rate).
TILE_ARRAYS = 8
# Scratchpad buffers are memref.alloca on the bare-metal runtime's 8 MiB stack (runtime/link.ld)
# and on the host JIT's thread stack: the tiles shrink until their buffers fit this budget.
STACK_BUDGET_BYTES = 6 << 20
SYSTOLIC_UNIT = "systolic"


@dataclass
class Operand:
    """One matrix operand as the kernel addresses it: flat buffer + offset + (batch, row, col) strides."""

    buffer: str       # graph buffer name
    dtype: torch.dtype
    offset: sympy.Expr
    strides: tuple    # (batch, row, col), batch stride 0 for a 2-D operand


def _operand(node, batched: bool) -> Operand:
    layout = node.get_layout()
    stride = list(layout.stride)
    if not batched:
        stride = [sympy.Integer(0), *stride]
    return Operand(node.get_name(), layout.dtype, sympy.sympify(layout.offset), tuple(sympy.sympify(s) for s in stride))


class MatmulBuffer(inductor_ir.TemplateBuffer):
    """C = A @ B (+ bias), batched or not; rendered by MatmulKernel."""

    def __init__(self, layout, inputs, *, batched: bool, has_bias: bool, op_name: str):
        self.batched = batched
        self.has_bias = has_bias
        self.op_name = op_name
        super().__init__(layout=layout, inputs=inputs, make_kernel_render=_make_kernel_render)


def _fixed(node):
    """A realised operand with a fixed layout (Inductor may not change its strides afterwards)."""
    # ExternKernel.realize_input turns a view that strides can express into a ReinterpretView, so
    # w.t() of a (1, K) weight (a reshape-like view once N = 1 is specialised) is a stride, not a copy
    node = inductor_ir.ExternKernel.realize_input(node)
    if isinstance(node.get_layout(), inductor_ir.FlexibleLayout):
        node.freeze_layout()
    return node


def _matmul(op_name: str, mat1, mat2, bias=None, batched: bool = False):
    from torch._inductor.kernel.mm_common import mm_args

    from torch._inductor.lowering import expand

    m, n, k, layout, mat1, mat2 = mm_args(mat1, mat2)
    if bias is not None:
        # The bias broadcast to C's shape is a strided view (stride 0 where it broadcasts), read in
        # place; mm_args would realise it, a copy kernel once a dim of 1 is specialised.
        bias = inductor_ir.TensorBox(inductor_ir.ExternKernel.realize_input(expand(bias, layout.size)))
    for node in (mat1, mat2) + ((bias,) if bias is not None else ()):
        if node.get_dtype() != layout.dtype or not layout.dtype.is_floating_point or layout.dtype == torch.float64:
            raise UnsupportedOp(op_name, f"operands of dtype {node.get_dtype()} (f32/f16/bf16, all alike)")
    inputs = [_fixed(mat1), _fixed(mat2)] + ([_fixed(bias)] if bias is not None else [])
    buffer = MatmulBuffer(layout, inputs, batched=batched, has_bias=bias is not None, op_name=op_name)
    return inductor_ir.TensorBox.create(buffer)


def lower_mm(mat1, mat2, out_dtype=None, **kwargs):
    if out_dtype is not None:
        raise UnsupportedOp("aten.mm", "out_dtype")
    return _matmul("aten.mm", mat1, mat2)


def lower_bmm(mat1, mat2, out_dtype=None, **kwargs):
    if out_dtype is not None:
        raise UnsupportedOp("aten.bmm", "out_dtype")
    return _matmul("aten.bmm", mat1, mat2, batched=True)


def _lower_with_bias(op_name: str, batched: bool):
    def lower(inp, mat1, mat2, *, beta=1, alpha=1, out_dtype=None, **kwargs):
        from torch._inductor.lowering import lowerings

        if out_dtype is not None:
            raise UnsupportedOp(op_name, "out_dtype")
        if alpha == 1 and beta == 1:  # the bias initialises the accumulator tile
            return _matmul(op_name, mat1, mat2, inp, batched=batched)
        # Scaled forms: the product on the array, the scaling and the add as npusim vector kernels.
        product = _matmul(op_name, mat1, mat2, batched=batched)
        product = product if alpha == 1 else lowerings[torch.ops.aten.mul.Tensor](product, alpha)
        if beta == 0:
            return product
        scaled_bias = inp if beta == 1 else lowerings[torch.ops.aten.mul.Tensor](inp, beta)
        return lowerings[torch.ops.aten.add.Tensor](product, scaled_bias)

    return lower


MATMUL_LOWERINGS = {
    "mm": lower_mm,
    "bmm": lower_bmm,
    "addmm": _lower_with_bias("aten.addmm", batched=False),
    "baddbmm": _lower_with_bias("aten.baddbmm", batched=True),
}


def matmul_lowerings():
    """Inductor's lowerings of the matmul ops (their default and dtype overloads) replaced by ours
    for the duration; restored after."""
    replacements = {}
    for name, lowering in MATMUL_LOWERINGS.items():
        packet = getattr(torch.ops.aten, name)
        for overload in packet.overloads():
            op = getattr(packet, overload)
            if overload in ("default", "dtype") and inductor_lowering(op) is not None:
                replacements[op] = lowering
    return lowerings_replaced(replacements)


def matmul_decompositions() -> dict:
    """Inductor's decomposition table without its CPU shortcuts for the matmul ops (an mm with
    M = 1 and N = 1 as a sum of products, a small addmm with M = 1 as mul + sum): on the NPU a
    GEMV or a dot product still runs on the systolic array, so a size-1 specialisation of a
    matmul keeps the kernel its other sizes run (CONTRACTS.md section 7)."""
    from torch._inductor.decomposition import select_decomp_table

    from compiler.matmul_compositions import matmul_composition_decompositions

    own = {getattr(torch.ops.aten, name) for name in MATMUL_LOWERINGS}
    table = {op: fn for op, fn in select_decomp_table().items() if getattr(op, "overloadpacket", None) not in own}
    return {**table, **matmul_composition_decompositions()}  # addbmm, bilinear, cdist, pdist


# --- the kernel ----------------------------------------------------------------------------
def _make_kernel_render(node: MatmulBuffer, hint_override=None):
    kernel = MatmulKernel(node)
    return kernel, kernel.render


@dataclass(frozen=True)
class MatmulTiles:
    tm: int
    tn: int
    tk: int
    rows: int
    cols: int


def choose_tiles(config: NpuConfig, in_bits: int, out_bits: int, has_bias: bool, extra_bits: int = 0,
                 c_stored: bool = True) -> MatmulTiles:
    """TK = array rows; TM, TN whole multiples of the array, halved until the buffers fit.
    `extra_bits`: per C-tile element, the scratchpad tiles a fused epilogue adds; `c_stored`:
    False when only the epilogue reads C (no narrowed C tile then)."""
    rows, cols = config["systolic"]["rows"], config["systolic"]["cols"]
    budget = min(STACK_BUDGET_BYTES, config.scratchpad_bytes // config["scratchpad"]["buffers_per_operand"])
    mult_m = mult_n = TILE_ARRAYS

    def need(mm: int, mn: int) -> int:
        tm, tn, tk = mm * rows, mn * cols, rows
        total = tm * tn * 4 + (tm * tk + tk * tn) * in_bits // 8
        if (out_bits != 32 and c_stored) or has_bias:
            total += tm * tn * out_bits // 8
        return total + tm * tn * extra_bits // 8

    while need(mult_m, mult_n) > budget and (mult_m > 1 or mult_n > 1):
        if mult_m >= mult_n and mult_m > 1:
            mult_m //= 2
        else:
            mult_n //= 2
    if need(mult_m, mult_n) > budget:
        raise UnsupportedOp("matmul", f"a {rows}x{cols} array tile does not fit the scratchpad budget {budget}")
    return MatmulTiles(tm=mult_m * rows, tn=mult_n * cols, tk=rows, rows=rows, cols=cols)


class TemplateKernel(Kernel):
    """Inductor's Kernel for a systolic template (matmul, conv): owns the args; `render` builds the
    template's spec and emits kernel.mlir through its emitter."""

    def __init__(self, node):
        from npusim import config as npu_config

        super().__init__()
        self.node = node
        self.npu_config = npu_config.load()
        self.prologue_fused_inputs = set()
        self.kernel_name = None
        self.started = time.perf_counter()

    def get_unfused_epilogues(self):
        return []

    def bind_args(self, input_buffers: list[str], output_buffer: str) -> dict[str, str]:
        """Graph buffer name -> kernel argument name, inputs in order, then the output (unless a
        fused epilogue consumed it: then it is not an argument)."""
        names = {buffer: self.args.input(buffer) for buffer in input_buffers}
        if output_buffer not in self.removed_buffers:
            names[output_buffer] = self.args.output(output_buffer)
        return names

    def finish_spec(self, spec):
        """Fill the spec's tensor args, storage numels and size args (in kernel argument order)."""
        rename = self.rename_indexing
        _, call_args, arg_types, _ = self.args.python_argdefs()
        tensor_args, numels = [], {}
        outputs = {arg for arg in self.args.output_buffers.values() if isinstance(arg, str)}
        for arg in arg_types:
            if isinstance(arg, TensorArg):
                kind = "output" if arg.name in outputs else "input"
                tensor_args.append((arg.name, arg.dtype, kind))
                numels[arg.name] = rename(V.graph.get_buffer(arg.buffer).get_layout().storage_size())
            elif not isinstance(arg, SizeArg):
                raise UnsupportedOp(type(arg).__name__, f"{spec.name} kernel argument kind")
        _, call_args, arg_types, _ = self.args.python_argdefs()  # renaming numels may add size args
        spec.tensor_args = tensor_args
        spec.numels = numels
        spec.size_args = [a.name for a in arg_types if isinstance(a, SizeArg)]
        self.call_args = [V.graph.wrapper_code.codegen_python_sizevar(x) if isinstance(x, sympy.Expr) else str(x)
                          for x in call_args]
        return spec

    def publish(self, emitter) -> str:
        emitted = emitter.emit()
        self.kernel_hash, self.kernel_meta = publish_kernel(emitted["mlir"], emitted["metadata"],
                                                            self.npu_config.name, self.started)
        return f"load_npusim_kernel({self.kernel_hash!r})"

    def call_kernel(self, name: str, node=None, deallocate_ws: bool = True):
        V.graph.wrapper_code.generate_kernel_call(
            name, self.call_args, device=V.graph.get_current_device_or_throw(), triton=False)


class MatmulKernel(TemplateKernel):
    """The matmul template's kernel: C = A @ B (+ bias)."""

    def render(self, epilogue: Epilogue | None = None) -> str:
        node = self.node
        inputs = list(node.inputs)
        a, b = _operand(inputs[0], node.batched), _operand(inputs[1], node.batched)
        bias = _operand(inputs[2], node.batched) if node.has_bias else None
        out = _operand(node, node.batched) if epilogue is None or epilogue.c_stored else None
        size = list(node.get_layout().size)
        batch = size[0] if node.batched else sympy.Integer(1)
        m, n = size[-2], size[-1]
        k = inputs[0].get_size()[-1]
        names = self.bind_args([o.buffer for o in (a, b, bias) if o is not None], node.get_name())
        rename = self.rename_indexing
        dims = {"batch": rename(batch), "M": rename(m), "N": rename(n), "K": rename(k)}

        def renamed(operand):
            if operand is None:
                return None
            return Operand(names[operand.buffer], operand.dtype, rename(operand.offset),
                           tuple(rename(s) for s in operand.strides))

        spec = MatmulSpec(name=f"{node.op_name.split('.')[-1]}", dims=dims, a=renamed(a), b=renamed(b),
                          bias=renamed(bias), out=renamed(out), out_dtype=node.get_dtype(), epilogue=epilogue)
        return self.publish(MatmulEmitter(self.finish_spec(spec), self.npu_config))


@dataclass
class MatmulSpec:
    name: str
    dims: dict           # batch, M, N, K: sympy over the kernel's size args
    a: Operand
    b: Operand
    bias: Operand | None
    out: Operand | None        # None: C lives only inside the kernel (a fused epilogue consumes it)
    out_dtype: torch.dtype = None
    epilogue: Epilogue | None = None
    tensor_args: list = None   # (kernel arg name, dtype, kind) in argument order
    numels: dict = None        # kernel arg name -> storage numel
    size_args: list = None


def _dict_attr(fields: dict) -> ir.Attribute:
    def attr(value):
        if isinstance(value, str):
            return ir.StringAttr.get(value)
        if isinstance(value, bool):
            return ir.BoolAttr.get(value)
        if isinstance(value, int):
            return ir.IntegerAttr.get(i64_type(), value)
        if isinstance(value, (list, tuple)):
            return ir.ArrayAttr.get([attr(v) for v in value])
        raise TypeError(value)

    return ir.DictAttr.get({k: attr(v) for k, v in fields.items()})


class SystolicEmitter:
    """Building blocks of a systolic template's kernel.mlir (matmul, conv): scratchpad buffers,
    2-D DMAs with runtime strides, vector element nests and the systolic compute. A subclass sets
    `tiles`, `in_dtype`, and writes `build(printer)` and `metadata(hash)`; its spec has `name`,
    `tensor_args`, `numels` and `size_args`."""

    def __init__(self, spec, config: NpuConfig):
        self.spec = spec
        self.config = config
        self.next_spad = 0
        self.next_tile_id = 0

    def arg_index(self, name: str) -> int:
        return [n for n, _, _ in self.spec.tensor_args].index(name)

    def new_spad(self, dtype: ir.Type, shape: list[int]) -> tuple[ir.Value, int]:
        with ir.InsertionPoint.at_block_begin(self.entry_block):
            buffer = memref.alloca(ir.MemRefType.get(shape, dtype), [], [])
        spad_id = self.next_spad
        self.next_spad += 1
        buffer.owner.attributes["npusim.spad"] = ir.IntegerAttr.get(i64_type(), spad_id)
        return buffer, spad_id

    def dma(self, direction: str, operand: Operand, spad: ir.Value, spad_id: int, offset: ir.Value,
            rows: ir.Value, cols: ir.Value, row_stride: ir.Value, col_stride: ir.Value,
            spad_at: tuple[ir.Value, ir.Value] | None = None) -> None:
        """A 2-D DRAM <-> scratchpad transfer: rows x cols elements at offset + r*row_stride + c*col_stride,
        in the scratchpad at (0, 0) or at `spad_at` (row, column; index values)."""
        element = storage_type(operand.dtype)
        dram = self.func.arguments[self.arg_index(operand.buffer)]
        view_type = ir.MemRefType.get([DYN, DYN], element, layout=ir.StridedLayoutAttr.get(DYN, [DYN, DYN]))
        dram_view = memref.ReinterpretCastOp(
            view_type, dram, [to_index(offset)], [rows, cols], [to_index(row_stride), to_index(col_stride)],
            ir.DenseI64ArrayAttr.get([DYN]), ir.DenseI64ArrayAttr.get([DYN, DYN]),
            ir.DenseI64ArrayAttr.get([DYN, DYN])).result
        spad_shape = ir.MemRefType(spad.type).shape
        if spad_at is None:
            spad_type = ir.MemRefType.get([DYN, DYN], element, layout=ir.StridedLayoutAttr.get(0, [spad_shape[1], 1]))
            spad_view = memref.SubViewOp(spad_type, spad, [], [rows, cols], [], ir.DenseI64ArrayAttr.get([0, 0]),
                                         ir.DenseI64ArrayAttr.get([DYN, DYN]),
                                         ir.DenseI64ArrayAttr.get([1, 1])).result
        else:
            # a cast, not a subview: a subview's dynamic offset leaves affine maps after the
            # functional lowering's lower-affine pass
            row, col = spad_at
            start = arith.addi(arith.muli(row, const_index(spad_shape[1])), col)
            spad_type = ir.MemRefType.get([DYN, DYN], element, layout=ir.StridedLayoutAttr.get(DYN, [spad_shape[1], 1]))
            spad_view = memref.ReinterpretCastOp(
                spad_type, spad, [start], [rows, cols], [], ir.DenseI64ArrayAttr.get([DYN]),
                ir.DenseI64ArrayAttr.get([DYN, DYN]), ir.DenseI64ArrayAttr.get([spad_shape[1], 1])).result
        src, dst = (dram_view, spad_view) if direction == "load" else (spad_view, dram_view)
        copy_op = linalg.copy(src, outs=[dst]).owner
        copy_op.attributes["npusim.dma"] = _dict_attr(
            {"dir": direction, "arg": self.arg_index(operand.buffer), "spad": spad_id})

    def element_nest(self, rows: ir.Value, cols: ir.Value, body, attr: dict) -> None:
        """A compute tile over rows x cols elements: `body(i, j)` per element (index values)."""
        outer = scf.ForOp(const_index(0), rows, const_index(1))
        with ir.InsertionPoint(outer.body):
            inner = scf.ForOp(const_index(0), cols, const_index(1))
            with ir.InsertionPoint(inner.body):
                body(outer.induction_variable, inner.induction_variable)
                scf.YieldOp([])
            scf.YieldOp([])
        outer.attributes["npusim.compute"] = _dict_attr({"tile_id": self.next_tile_id, **attr})
        self.next_tile_id += 1

    def emit(self) -> dict:
        spec = self.spec
        with ir.Context(), ir.Location.unknown():
            module, self.func = kernel_function(spec.name, self.config.name,
                                                [(dtype, spec.numels[name]) for name, dtype, _ in spec.tensor_args],
                                                len(spec.size_args))
            self.entry_block = self.func.entry_block
            with ir.InsertionPoint(module.body):
                with ir.InsertionPoint(self.entry_block):
                    sizes = dict(zip(spec.size_args, list(self.entry_block.arguments)[len(spec.tensor_args):]))
                    self.build(IndexPrinter(_SymbolEnv(sizes)))
                    func.ReturnOp([])
            verify(module, InvalidKernel, f"the emitted {spec.name} kernel.mlir")
            passmanager.PassManager.parse("builtin.module(cse)").run(module.operation)
            text = str(module)
        return {"mlir": text, "metadata": self.metadata}

    def systolic(self, a_spad, a_id, b_spad, b_id, acc, acc_id, mlen, nlen, klen, transposed: bool = False,
                 b_at=None) -> None:
        """acc[i, j] += sum_k A[i, k] * B[k, j]: rows i stream through the k x n weight tiles of B.
        `transposed`: A and acc are held transposed in the scratchpad (A[k, i], acc[j, i]), so that
        their DMAs run along a DRAM-contiguous dim (conv's output pixels). `b_at(k, j)`: where
        B[k, j] is in b_spad when it is not [k, j] (conv's weight slab of several taps).

        The loop nest is m (outer), n, k (inner), which the trace skeleton reads as the
        accumulate's m, n and k; its weights are `weights`, the array shape `array`."""
        f32 = ir.F32Type.get()
        widen = self.in_dtype != torch.float32
        outer = scf.ForOp(const_index(0), mlen, const_index(1))
        with ir.InsertionPoint(outer.body):
            i = outer.induction_variable
            cols = scf.ForOp(const_index(0), nlen, const_index(1))
            with ir.InsertionPoint(cols.body):
                j = cols.induction_variable
                acc_at = [j, i] if transposed else [i, j]
                # the column's partial sum of this K tile starts at zero, as in the array; only
                # then does the accumulator add it: K = 131079 sums 128 terms in each of ~1024
                # tile partials, not one running float (linear's sum was 30.8 off float64,
                # eager's 3.5, this 1.3; tests/compiler/test_matmul_precision.py)
                red = scf.ForOp(const_index(0), klen, const_index(1), [arith.constant(f32, 0.0)])
                with ir.InsertionPoint(red.body):
                    kk = red.induction_variable
                    x = memref.load(a_spad, [kk, i] if transposed else [i, kk])
                    w = memref.load(b_spad, b_at(kk, j) if b_at else [kk, j])
                    if widen:
                        x, w = arith.extf(f32, x), arith.extf(f32, w)
                    scf.YieldOp([arith.addf(red.inner_iter_args[0], arith.mulf(x, w))])
                memref.store(arith.addf(memref.load(acc, acc_at), red.results[0]), acc, acc_at)
                scf.YieldOp([])
            scf.YieldOp([])
        outer.attributes["npusim.compute"] = _dict_attr({
            "tile_id": self.next_tile_id, "unit": SYSTOLIC_UNIT, "reads": [a_id, b_id], "writes": [acc_id],
            "weights": b_id, "array": [self.tiles.rows, self.tiles.cols]})
        self.next_tile_id += 1


class MatmulEmitter(SystolicEmitter):
    def __init__(self, spec: MatmulSpec, config: NpuConfig):
        super().__init__(spec, config)
        self.in_dtype = spec.a.dtype
        self.out_dtype = spec.out_dtype
        extra = spec.epilogue.extra_tile_bits() if spec.epilogue else 0
        self.tiles = choose_tiles(config, elem_bits(self.in_dtype), elem_bits(self.out_dtype), spec.bias is not None,
                                  extra, c_stored=spec.out is not None)

    def address(self, operand: Operand, batch: ir.Value, row: ir.Value, col: ir.Value) -> ir.Value:
        """Element offset of (batch, row, col) of an operand (i64)."""
        sb, sr, sc = self.strides[id(operand)]
        value = arith.addi(self.offsets[id(operand)], arith.muli(batch, sb))
        return arith.addi(value, arith.addi(arith.muli(row, sr), arith.muli(col, sc)))

    def build(self, printer: IndexPrinter) -> None:
        spec, t = self.spec, self.tiles
        f32 = ir.F32Type.get()
        in_type, out_type = storage_type(self.in_dtype), storage_type(self.out_dtype)
        operands = [o for o in (spec.a, spec.b, spec.bias, spec.out) if o is not None]
        if spec.epilogue is not None:
            operands += [access for _, access in spec.epilogue.loads] + [access for access, _ in spec.epilogue.stores]
        # by operand, not by buffer: x @ x.t() reads one buffer as A and, transposed, as B
        self.offsets = {id(o): printer(o.offset) for o in operands}
        self.strides = {id(o): tuple(printer(s) for s in o.strides) for o in operands}
        batch, m, n, k = (printer(spec.dims[d]) for d in ("batch", "M", "N", "K"))
        tm, tn, tk = const_i64(t.tm), const_i64(t.tn), const_i64(t.tk)
        one = const_i64(1)
        m_tiles = arith.floordivsi(arith.addi(m, arith.subi(tm, one)), tm)
        n_tiles = arith.floordivsi(arith.addi(n, arith.subi(tn, one)), tn)
        total = arith.muli(batch, arith.muli(m_tiles, n_tiles))

        acc, acc_id = self.new_spad(f32, [t.tm, t.tn])
        a_spad, a_id = self.new_spad(in_type, [t.tm, t.tk])
        b_spad, b_id = self.new_spad(in_type, [t.tk, t.tn])
        low_precision = self.out_dtype != torch.float32
        epilogue_loads = []
        bias_rows_broadcast = spec.bias is not None and spec.bias.strides[1] == 0
        out_spad = out_id = None
        if low_precision and (spec.out is not None or spec.bias is not None):
            # the narrowed C tile, and the bias on its way into the f32 accumulator
            out_spad, out_id = self.new_spad(out_type, [t.tm, t.tn])

        loop = scf.ForOp(const_index(0), to_index(total), const_index(1))
        loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(loop.body):
            tile = to_i64(loop.induction_variable)
            n_index = arith.remsi(tile, n_tiles)
            rest = arith.floordivsi(tile, n_tiles)
            m_index = arith.remsi(rest, m_tiles)
            b_index = arith.floordivsi(rest, m_tiles)
            m0, n0 = arith.muli(m_index, tm), arith.muli(n_index, tn)
            mlen = to_index(arith.minsi(tm, arith.subi(m, m0)))
            nlen = to_index(arith.minsi(tn, arith.subi(n, n0)))

            # the accumulator tile: bias or zeros
            zero_f32 = arith.constant(f32, 0.0)
            if spec.bias is not None and not low_precision:
                # f32 bias: straight into the accumulator (a broadcast row is a stride-0 row)
                _, sr, sc = self.strides[id(spec.bias)]
                self.dma("load", spec.bias, acc, acc_id, self.address(spec.bias, b_index, m0, n0), mlen, nlen, sr, sc)
            elif spec.bias is not None:
                _, sr, sc = self.strides[id(spec.bias)]
                bias_rows = const_index(1) if bias_rows_broadcast else mlen
                self.dma("load", spec.bias, out_spad, out_id, self.address(spec.bias, b_index, m0, n0),
                         bias_rows, nlen, sr, sc)

                def init(i, j):
                    row = const_index(0) if bias_rows_broadcast else i
                    memref.store(arith.extf(f32, memref.load(out_spad, [row, j])), acc, [i, j])

                self.element_nest(mlen, nlen, init, {"unit": "vector", "reads": [out_id], "writes": [acc_id]})
            else:
                self.element_nest(mlen, nlen, lambda i, j: memref.store(zero_f32, acc, [i, j]),
                                  {"unit": "vector", "reads": [], "writes": [acc_id]})
            if spec.epilogue is not None:  # the epilogue's operands, fetched while the array works
                epilogue_loads = [self.epilogue_load(node, access, b_index, m0, n0, mlen, nlen)
                                  for node, access in spec.epilogue.loads]

            k_loop = scf.ForOp(const_index(0), to_index(k), const_index(t.tk))
            k_loop.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
            with ir.InsertionPoint(k_loop.body):
                k0 = to_i64(k_loop.induction_variable)
                klen = to_index(arith.minsi(tk, arith.subi(k, k0)))
                _, a_rows, a_cols = self.strides[id(spec.a)]
                _, b_rows, b_cols = self.strides[id(spec.b)]
                self.dma("load", spec.a, a_spad, a_id, self.address(spec.a, b_index, m0, k0), mlen, klen,
                         a_rows, a_cols)
                self.dma("load", spec.b, b_spad, b_id, self.address(spec.b, b_index, k0, n0), klen, nlen,
                         b_rows, b_cols)
                self.systolic(a_spad, a_id, b_spad, b_id, acc, acc_id, mlen, nlen, klen)
                scf.YieldOp([])

            if spec.epilogue is not None:
                self.epilogue(spec.epilogue, acc, acc_id, epilogue_loads, printer, b_index, m0, n0, mlen, nlen)
            if spec.out is None:
                scf.YieldOp([])
                return
            store_spad, store_id = acc, acc_id
            if low_precision:
                def narrow(i, j):
                    memref.store(arith.truncf(out_type, memref.load(acc, [i, j])), out_spad, [i, j])

                self.element_nest(mlen, nlen, narrow, {"unit": "vector", "reads": [acc_id], "writes": [out_id]})
                store_spad, store_id = out_spad, out_id
            _, c_rows, c_cols = self.strides[id(spec.out)]
            self.dma("store", spec.out, store_spad, store_id, self.address(spec.out, b_index, m0, n0), mlen, nlen,
                     c_rows, c_cols)
            scf.YieldOp([])

    def epilogue_load(self, node, access, b_index, m0, n0, mlen, nlen):
        """An epilogue operand's part of the C tile in a scratchpad: a row when it is the same for
        every row of C (a bias), a column when the same for every column, else a whole tile."""
        _, sr, sc = access.strides
        rows_vary, cols_vary = sr != 0, sc != 0
        shape = [self.tiles.tm if rows_vary else 1, self.tiles.tn if cols_vary else 1]
        spad, spad_id = self.new_spad(storage_type(access.dtype), shape)
        _, row_stride, col_stride = self.strides[id(access)]
        self.dma("load", access, spad, spad_id, self.address(access, b_index, m0, n0),
                 mlen if rows_vary else const_index(1), nlen if cols_vary else const_index(1), row_stride, col_stride)
        return node, access, spad, spad_id, rows_vary, cols_vary

    def epilogue(self, epilogue: Epilogue, acc, acc_id, loads, printer, b_index, m0, n0, mlen, nlen) -> None:
        """The fused pointwise nodes on each element of the C tile (one vector compute), each
        result into its own scratchpad tile, then stored by DMA."""
        from compiler.emitter import cast, constant, lower_op
        from compiler.printer import IndexPrinter

        outs = []
        for k, (access, value) in enumerate(epilogue.stores):
            if k == epilogue.in_place():
                spad, spad_id = acc, acc_id
            else:
                spad, spad_id = self.new_spad(storage_type(access.dtype), [self.tiles.tm, self.tiles.tn])
            outs.append((access, value, spad, spad_id))
        needs_coords = any(isinstance(n, tile_ir.IndexValue) for n in tile_ir.walk([v for _, v in epilogue.stores]))

        def body(i, j):
            memo = {}
            env = None
            if needs_coords:
                env = dict(printer.env)
                env.update({str(COORDS[0]): b_index, str(COORDS[1]): arith.addi(m0, to_i64(i)),
                            str(COORDS[2]): arith.addi(n0, to_i64(j))})
                env = _SymbolEnv(env)
            loaded = {id(node): (spad, rows_vary, cols_vary, access) for node, access, spad, _, rows_vary, cols_vary
                      in loads}

            def value(node):
                if id(node) in memo:
                    return memo[id(node)]
                if isinstance(node, CTile):
                    result = cast(memref.load(acc, [i, j]), torch.float32, node.dtype)
                elif isinstance(node, tile_ir.Constant):
                    result = constant(node.value, node.dtype)
                elif isinstance(node, tile_ir.IndexValue):
                    result = cast(IndexPrinter(env)(node.expr), torch.int64, node.dtype)
                elif isinstance(node, tile_ir.Load):
                    spad, rows_vary, cols_vary, access = loaded[id(node)]
                    result = memref.load(spad, [i if rows_vary else const_index(0), j if cols_vary else const_index(0)])
                    if access.dtype == torch.bool:
                        result = cast(result, torch.int8, torch.bool)
                    result = cast(result, access.dtype, node.dtype)
                elif isinstance(node, tile_ir.Op):
                    result = lower_op(node, [(value(a), a.dtype) for a in node.args])
                else:
                    raise UnsupportedOp("matmul epilogue", type(node).__name__)
                memo[id(node)] = result
                return result

            results = []  # every value before any store: one output may overwrite the accumulator
            for access, node, spad, _ in outs:
                result = cast(value(node), node.dtype, access.dtype)
                if access.dtype == torch.bool:
                    result = cast(result, torch.bool, torch.int8)
                results.append(result)
            for (_, _, spad, _), result in zip(outs, results):
                memref.store(result, spad, [i, j])

        self.element_nest(mlen, nlen, body, {"unit": "vector", "reads": [acc_id] + [l[3] for l in loads],
                                             "writes": [o[3] for o in outs]})
        for access, _, spad, spad_id in outs:
            _, row_stride, col_stride = self.strides[id(access)]
            self.dma("store", access, spad, spad_id, self.address(access, b_index, m0, n0), mlen, nlen,
                     row_stride, col_stride)

    def metadata(self, kernel_hash: str) -> dict:
        spec = self.spec
        args = [{"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "elem_bits": elem_bits(dtype),
                 "numel": str(spec.numels[name])} for name, dtype, kind in spec.tensor_args]
        roles = {str(spec.dims["M"]): "M", str(spec.dims["N"]): "N", str(spec.dims["K"]): "K",
                 str(spec.dims["batch"]): "batch"}
        for name in spec.size_args:
            args.append({"name": name, "kind": "size", "dtype": "int64", "role": roles.get(name, "size")})
        dims = {d: str(e) for d, e in spec.dims.items()}
        return {"abi_version": ABI_VERSION, "name": spec.name, "hash": kernel_hash, "entry": "kernel",
                "args": args, "size_args": list(spec.size_args),
                "tiles": {"m": self.tiles.tm, "n": self.tiles.tn, "k": self.tiles.tk},
                "xnumel": None, "rnumel": None, "matmul": dims,
                "config": self.config.name}
