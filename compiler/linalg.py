"""Dense linear algebra as npusim kernels: LU factorisation with partial pivoting (getrf).

Inductor has no lowering for the linalg ops: it would run them as ATen fallbacks on the host,
which the backend refuses. Inside the backend's codegen scope (`linalg_lowerings()`),
`aten.linalg_lu_factor_ex` is lowered to `LuFactorBuffer`, a template whose kernel factors each
matrix of the batch in the scratchpad; the ops built on LU (det, slogdet, logdet, lu, lu_unpack)
are decompositions into it and ordinary Inductor ops (`linalg_decompositions()`).

The kernel, one work item per matrix b of the batch (A is m x n, k = min(m, n), m <= MAX_ROWS):

    DMA A[b][:, 0:w0] -> P                    first column tile (w0 = min(TILE_COLS, n); k <= w0)
    for j in 0 .. k                           getf2, as LAPACK: pivot = first max |P[i, j]|, i >= j
      p = argmax |P[j:m, j]|                  vector compute over m - j rows
      piv[j] = p + 1; info = j + 1 at the first zero pivot
      swap rows j and p                       vector compute over w0 columns
      P[j+1:m, j] *= 1 / P[j, j]              (unless the pivot is 0; divided when below FLT_MIN)
      P[j+1:m, j+1:w0] -= P[j+1:m, j] P[j, j+1:w0]     rank-1 update: (m-j-1)(w0-j-1) multiply-adds
    DMA P -> LU[b][:, 0:w0]
    for each further column tile T of A      the same row swaps and eliminations (U12 = L11^-1 P A12)
      DMA in, per j: swap, T[j+1:m, :] -= L[j+1:m, j] T[j, :], DMA out
    DMA piv -> pivots[b], info -> info[b]

So LU does about m n k - (m + n) k^2 / 2 + k^3 / 3 multiply-adds on the vector unit (n^3 / 3 for a
square matrix), each a compute op the trace skeleton counts with its trip counts, and every
element moves by DMA in and out once. Pivots (1-based, int32) and info come out as LAPACK's.
Rows beyond MAX_ROWS are reported at run time (the scratchpad holds the whole column panel).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import sympy
import torch
from mlir import ir
from mlir.dialects import arith, func, math as mmath, memref, scf
from torch._inductor import ir as inductor_ir
from torch._inductor.virtualized import V

from compiler.emitter import ABI_VERSION, elem_bits, storage_type
from compiler.errors import UnsupportedOp
from compiler.matmul import Operand, SystolicEmitter, TemplateKernel, _dict_attr
from compiler.printer import const_i64, const_index, to_i64, to_index

# The column panel of the factorisation lives in the scratchpad: MAX_ROWS x TILE_COLS f32, twice.
MAX_ROWS = 128
TILE_COLS = 128
FLT_MIN = 1.1754943508222875e-38
# the runtime's report function for an out-of-range index (compiler/indirect.py), reused for m > MAX_ROWS
ROWS_SITE = 1 << 20


class LuFactorBuffer(inductor_ir.TemplateBuffer):
    """LU (the template's output) of linalg_lu_factor_ex; pivots and info are buffers the kernel
    writes too (mutated inputs, as Inductor's multi-output templates do)."""

    def __init__(self, layout, a, pivots, info):
        self.op_name = "linalg_lu_factor_ex"
        super().__init__(layout=layout, inputs=[a, pivots, info], make_kernel_render=_make_kernel_render,
                         mutated_inputs=[pivots, info])


def _meta_layout(value: torch.Tensor) -> inductor_ir.FixedLayout:
    """The layout eager gives an output (the FX node's fake value), in the graph's size symbols."""
    sizes, strides = (inductor_ir.convert_shape_to_inductor(v) for v in (value.shape, value.stride()))
    return inductor_ir.FixedLayout(torch.device("cpu"), value.dtype, sizes, strides)


def _empty(layout: inductor_ir.FixedLayout):
    from torch._inductor.lowering import empty_strided

    return empty_strided(layout.size, layout.stride, dtype=layout.dtype, device=layout.device)


def lower_lu_factor_ex(a, *, pivot: bool = True, check_errors: bool = False):
    name = "linalg_lu_factor_ex"
    if not pivot:
        raise UnsupportedOp(name, "pivot=False (LU without pivoting)")
    if a.get_dtype() != torch.float32:
        raise UnsupportedOp(name, f"dtype {a.get_dtype()} (f32 only)")
    if check_errors:
        raise UnsupportedOp(name, "check_errors=True (a host-side check of info)")
    node = V.graph.current_node
    values = node.meta.get("val") if node is not None else None
    if not isinstance(values, (tuple, list)) or len(values) != 3:
        raise UnsupportedOp(name, "no fake outputs on the FX node to take eager's layouts from")
    lu_layout, piv_layout, info_layout = (_meta_layout(v) for v in values)
    a = inductor_ir.ExternKernel.require_contiguous(a)
    a = inductor_ir.ExternKernel.realize_input(a)
    scalar_info = len(info_layout.size) == 0
    if scalar_info:  # Inductor's empty of a 0-dim buffer is a fill kernel: one element, viewed as ()
        info_layout = inductor_ir.FixedLayout(info_layout.device, info_layout.dtype, [sympy.Integer(1)],
                                              [sympy.Integer(1)])
    pivots, info = _empty(piv_layout), _empty(info_layout)
    for box in (pivots, info):
        box.realize()
    buffer = LuFactorBuffer(lu_layout, a, pivots, info)
    if scalar_info:
        from torch._inductor.lowering import lowerings

        info = lowerings[torch.ops.aten.view.default](info, [])
    return inductor_ir.TensorBox.create(buffer), pivots, info


LINALG_LOWERINGS = {torch.ops.aten.linalg_lu_factor_ex.default: lower_lu_factor_ex}


@contextlib.contextmanager
def linalg_lowerings():
    """Inductor's fallbacks of the linalg ops replaced by npusim kernels for the duration."""
    from torch._inductor.lowering import lowerings

    saved = {op: lowerings[op] for op in LINALG_LOWERINGS if op in lowerings}
    lowerings.update(LINALG_LOWERINGS)
    try:
        yield
    finally:
        for op in LINALG_LOWERINGS:
            lowerings.pop(op, None)
        lowerings.update(saved)


# --- decompositions onto linalg_lu_factor_ex ------------------------------------------------
aten = torch.ops.aten


def _permutation_sign(pivots: torch.Tensor) -> torch.Tensor:
    """(-1)^(rows swapped): pivots[i] != i + 1 is one swap."""
    k = pivots.shape[-1]
    swaps = (pivots != torch.arange(1, k + 1, dtype=pivots.dtype, device=pivots.device)).sum(-1)
    return 1 - 2 * (swaps % 2)


def _linalg_det(a):
    lu, pivots, _ = aten.linalg_lu_factor_ex.default(a)
    diagonal = lu.diagonal(0, -2, -1)
    det = diagonal.prod(-1) * _permutation_sign(pivots).to(a.dtype)
    return det, lu, pivots


def _linalg_slogdet(a):
    lu, pivots, _ = aten.linalg_lu_factor_ex.default(a)
    diagonal = lu.diagonal(0, -2, -1)
    sign = torch.sign(diagonal).prod(-1) * _permutation_sign(pivots).to(a.dtype)
    logabsdet = diagonal.abs().log().sum(-1)
    return sign, logabsdet, lu, pivots


def linalg_decompositions() -> dict:
    """The linalg ops written over linalg_lu_factor_ex (compile_fx's decomposition table)."""
    return {aten._linalg_det.default: _linalg_det, aten._linalg_slogdet.default: _linalg_slogdet}


# --- the kernel ------------------------------------------------------------------------------
def _make_kernel_render(node: LuFactorBuffer, hint_override=None):
    kernel = LuFactorKernel(node)
    return kernel, kernel.render


@dataclass
class LuSpec:
    name: str
    dims: dict          # batch, M, N: sympy over the kernel's size args
    a: Operand
    lu: Operand
    pivots: Operand
    info: Operand
    tensor_args: list = None
    numels: dict = None
    size_args: list = None


def _batched_operand(name: str, node, rows: int | None) -> tuple[Operand, sympy.Expr]:
    """(batch, row, col) strides of a buffer with any number of batch dims (they must collapse into
    one stride, as contiguous batches do) and its batch size. `rows`: how many trailing dims are the
    matrix (2: rows and columns, 1: a vector as one row, 0: a scalar per batch element)."""
    layout = node.get_layout()
    size, stride = list(layout.size), list(layout.stride)
    matrix_size, matrix_stride = size[len(size) - rows:], stride[len(stride) - rows:]
    batch_size, batch_stride = size[:len(size) - rows], stride[:len(stride) - rows]
    sizevars = V.graph.sizevars
    for d in range(len(batch_size) - 1):
        if not sizevars.statically_known_equals(batch_stride[d], batch_stride[d + 1] * batch_size[d + 1]):
            raise UnsupportedOp("linalg_lu_factor_ex", f"batch dims of {name} that do not collapse (strides {stride})")
    batch = sympy.Mul(*batch_size) if batch_size else sympy.Integer(1)
    last_batch_stride = batch_stride[-1] if batch_stride else sympy.Integer(0)
    if rows == 2:
        strides = (last_batch_stride, matrix_stride[0], matrix_stride[1])
    elif rows == 1:
        strides = (last_batch_stride, sympy.Integer(0), matrix_stride[0])
    else:
        strides = (last_batch_stride, sympy.Integer(0), sympy.Integer(0))
    return Operand(node.get_name(), layout.dtype, sympy.sympify(layout.offset),
                   tuple(sympy.sympify(s) for s in strides)), batch


class LuFactorKernel(TemplateKernel):
    def render(self) -> str:
        node = self.node
        a_node, piv_node, info_node = node.inputs
        a, batch = _batched_operand("A", a_node, 2)
        lu, _ = _batched_operand("LU", node, 2)
        pivots, _ = _batched_operand("pivots", piv_node, 1)
        info, _ = _batched_operand("info", info_node, 0)
        m, n = a_node.get_size()[-2:]
        names = {a.buffer: self.args.input(a.buffer)}
        for operand in (lu, pivots, info):
            names[operand.buffer] = self.args.output(operand.buffer)
        rename = self.rename_indexing

        def renamed(operand):
            return Operand(names[operand.buffer], operand.dtype, rename(operand.offset),
                           tuple(rename(s) for s in operand.strides))

        spec = LuSpec(name="lu_factor", dims={"batch": rename(batch), "M": rename(m), "N": rename(n)},
                      a=renamed(a), lu=renamed(lu), pivots=renamed(pivots), info=renamed(info))
        return self.publish(LuFactorEmitter(self.finish_spec(spec), self.npu_config))


class LuFactorEmitter(SystolicEmitter):
    def address(self, operand: Operand, batch: ir.Value, row: ir.Value, col: ir.Value) -> ir.Value:
        sb, sr, sc = self.strides[operand.buffer]
        value = arith.addi(self.offsets[operand.buffer], arith.muli(batch, sb))
        return arith.addi(value, arith.addi(arith.muli(row, sr), arith.muli(col, sc)))

    def vector_loop(self, lower: ir.Value, upper: ir.Value, reads: list[int], writes: list[int],
                    iter_args: list | None = None) -> scf.ForOp:
        """A compute op over [lower, upper) (index values) on the vector unit; the caller fills its body."""
        loop = scf.ForOp(lower, upper, const_index(1), iter_args or [])
        loop.attributes["npusim.compute"] = _dict_attr({"tile_id": self.next_tile_id, "unit": "vector",
                                                        "reads": reads, "writes": writes})
        self.next_tile_id += 1
        return loop

    def swap_rows(self, spad, spad_id, j, p, cols) -> None:
        loop = self.vector_loop(const_index(0), cols, [spad_id], [spad_id])
        with ir.InsertionPoint(loop.body):
            c = loop.induction_variable
            top, other = memref.load(spad, [j, c]), memref.load(spad, [p, c])
            memref.store(other, spad, [j, c])
            memref.store(top, spad, [p, c])
            scf.YieldOp([])

    def eliminate(self, panel, panel_id, target, target_id, j, rows, col_lower, cols) -> None:
        """target[i, c] -= panel[i, j] * target[j, c] for i in (j, rows), c in [col_lower, cols):
        LAPACK's rank-1 update (ger with alpha = -1: a + x * (-y))."""
        row_lower = arith.addi(j, const_index(1))
        loop = self.vector_loop(row_lower, rows, sorted({panel_id, target_id}), [target_id])
        with ir.InsertionPoint(loop.body):
            i = loop.induction_variable
            factor = memref.load(panel, [i, j])
            inner = scf.ForOp(col_lower, cols, const_index(1))
            with ir.InsertionPoint(inner.body):
                c = inner.induction_variable
                updated = arith.addf(memref.load(target, [i, c]),
                                     arith.mulf(factor, arith.negf(memref.load(target, [j, c]))))
                memref.store(updated, target, [i, c])
                scf.YieldOp([])
            scf.YieldOp([])

    def build(self, printer) -> None:
        spec = self.spec
        f32, i32 = ir.F32Type.get(), ir.IntegerType.get_signless(32)
        operands = (spec.a, spec.lu, spec.pivots, spec.info)
        self.offsets = {o.buffer: printer(o.offset) for o in operands}
        self.strides = {o.buffer: tuple(printer(s) for s in o.strides) for o in operands}
        batch, m_given, n = (printer(spec.dims[d]) for d in ("batch", "M", "N"))
        # rows beyond the panel are reported (the runtime raises after the kernel) and not touched
        too_tall = scf.IfOp(arith.cmpi(arith.CmpIPredicate.sgt, m_given, const_i64(MAX_ROWS)))
        with ir.InsertionPoint(too_tall.then_block):
            from compiler.indirect import report_function

            func.CallOp([], ir.FlatSymbolRefAttr.get(report_function(self)),
                        [m_given, const_i64(MAX_ROWS + 1), const_i64(ROWS_SITE)])
            scf.YieldOp([])
        m = arith.minsi(m_given, const_i64(MAX_ROWS))
        k = arith.minsi(m, n)
        w0 = arith.minsi(n, const_i64(TILE_COLS))
        m_ix, k_ix, w0_ix = to_index(m), to_index(k), to_index(w0)
        one_row = const_index(1)

        panel, panel_id = self.new_spad(f32, [MAX_ROWS, TILE_COLS])
        tile, tile_id = self.new_spad(f32, [MAX_ROWS, TILE_COLS])
        piv, piv_id = self.new_spad(i32, [1, MAX_ROWS])
        info_spad, info_id = self.new_spad(i32, [1, 1])
        zero_i64, zero_f32 = const_i64(0), arith.constant(f32, 0.0)

        work = scf.ForOp(const_index(0), to_index(batch), const_index(1))
        work.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(work.body):
            b = to_i64(work.induction_variable)
            _, a_rows, a_cols = self.strides[spec.a.buffer]
            _, lu_rows, lu_cols = self.strides[spec.lu.buffer]
            self.dma("load", spec.a, panel, panel_id, self.address(spec.a, b, zero_i64, zero_i64), m_ix, w0_ix,
                     a_rows, a_cols)

            steps = scf.ForOp(const_index(0), k_ix, const_index(1), [arith.constant(i32, 0)])
            with ir.InsertionPoint(steps.body):
                j = steps.induction_variable
                info_now = steps.inner_iter_args[0]
                # the pivot: the first row of largest |P[i, j]| (LAPACK's i?amax)
                search = self.vector_loop(j, m_ix, [panel_id], [],
                                          [arith.constant(f32, -1.0), j])
                with ir.InsertionPoint(search.body):
                    i = search.induction_variable
                    best, best_row = search.inner_iter_args
                    magnitude = mmath.absf(memref.load(panel, [i, j]))
                    better = arith.cmpf(arith.CmpFPredicate.OGT, magnitude, best)
                    scf.YieldOp([arith.select(better, magnitude, best), arith.select(better, i, best_row)])
                p = search.results[1]
                memref.store(arith.trunci(i32, arith.addi(to_i64(p), const_i64(1))), piv, [const_index(0), j])
                pivot = memref.load(panel, [p, j])
                singular = arith.cmpf(arith.CmpFPredicate.OEQ, pivot, zero_f32)
                first_zero = arith.andi(singular, arith.cmpi(arith.CmpIPredicate.eq, info_now, arith.constant(i32, 0)))
                info_next = arith.select(first_zero, arith.trunci(i32, arith.addi(to_i64(j), const_i64(1))), info_now)
                self.swap_rows(panel, panel_id, j, p, w0_ix)
                # the column below the pivot: times 1/pivot (by it when tiny), untouched when 0
                below = arith.addi(j, one_row)
                reciprocal = arith.divf(arith.constant(f32, 1.0), pivot)
                tiny = arith.cmpf(arith.CmpFPredicate.OLT, mmath.absf(pivot), arith.constant(f32, FLT_MIN))
                scale = self.vector_loop(below, m_ix, [panel_id], [panel_id])
                with ir.InsertionPoint(scale.body):
                    i = scale.induction_variable
                    x = memref.load(panel, [i, j])
                    scaled = arith.select(tiny, arith.divf(x, pivot), arith.mulf(x, reciprocal))
                    memref.store(arith.select(singular, x, scaled), panel, [i, j])
                    scf.YieldOp([])
                self.eliminate(panel, panel_id, panel, panel_id, j, m_ix, below, w0_ix)
                scf.YieldOp([info_next])
            memref.store(steps.results[0], info_spad, [const_index(0), const_index(0)])
            self.dma("store", spec.lu, panel, panel_id, self.address(spec.lu, b, zero_i64, zero_i64), m_ix, w0_ix,
                     lu_rows, lu_cols)

            # the columns right of the panel: the panel's row swaps and eliminations (U12 = L11^-1 P A12)
            rest = scf.ForOp(w0_ix, to_index(n), const_index(TILE_COLS))
            rest.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
            with ir.InsertionPoint(rest.body):
                c0 = to_i64(rest.induction_variable)
                width = to_index(arith.minsi(const_i64(TILE_COLS), arith.subi(n, c0)))
                self.dma("load", spec.a, tile, tile_id, self.address(spec.a, b, zero_i64, c0), m_ix, width,
                         a_rows, a_cols)
                replay = scf.ForOp(const_index(0), k_ix, const_index(1))
                with ir.InsertionPoint(replay.body):
                    j = replay.induction_variable
                    p = to_index(arith.subi(arith.extsi(i64_of(), memref.load(piv, [const_index(0), j])),
                                            const_i64(1)))
                    self.swap_rows(tile, tile_id, j, p, width)
                    self.eliminate(panel, panel_id, tile, tile_id, j, m_ix, const_index(0), width)
                    scf.YieldOp([])
                self.dma("store", spec.lu, tile, tile_id, self.address(spec.lu, b, zero_i64, c0), m_ix, width,
                         lu_rows, lu_cols)
                scf.YieldOp([])

            _, _, piv_cols = self.strides[spec.pivots.buffer]
            self.dma("store", spec.pivots, piv, piv_id, self.address(spec.pivots, b, zero_i64, zero_i64),
                     one_row, k_ix, zero_i64, piv_cols)
            self.dma("store", spec.info, info_spad, info_id, self.address(spec.info, b, zero_i64, zero_i64),
                     one_row, one_row, zero_i64, zero_i64)
            scf.YieldOp([])

    def metadata(self, kernel_hash: str) -> dict:
        spec = self.spec
        args = [{"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "elem_bits": elem_bits(dtype),
                 "numel": str(spec.numels[name])} for name, dtype, kind in spec.tensor_args]
        roles = {str(spec.dims["M"]): "M", str(spec.dims["N"]): "N", str(spec.dims["batch"]): "batch"}
        for name in spec.size_args:
            args.append({"name": name, "kind": "size", "dtype": "int64", "role": roles.get(name, "size")})
        return {"abi_version": ABI_VERSION, "name": spec.name, "hash": kernel_hash, "entry": "kernel",
                "args": args, "size_args": list(spec.size_args),
                "tiles": {"rows": MAX_ROWS, "cols": TILE_COLS}, "xnumel": None, "rnumel": None,
                "linalg": {"op": "lu_factor", **{d: str(e) for d, e in spec.dims.items()}},
                "config": self.config.name}


def i64_of() -> ir.Type:
    return ir.IntegerType.get_signless(64)
