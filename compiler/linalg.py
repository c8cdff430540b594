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
    for each further column tile T of A      U12 = L11^-1 P A12: the panel's row swaps, then
      DMA in, all swaps, per j: T[j+1:m, :] -= L[j+1:m, j] T[j, :], DMA out
    DMA piv -> pivots[b], info -> info[b]

So LU does about m n k - (m + n) k^2 / 2 + k^3 / 3 multiply-adds on the vector unit (n^3 / 3 for a
square matrix), each a compute op the trace skeleton counts with its trip counts, and every
element moves by DMA in and out once. Pivots (1-based, int32) and info come out as LAPACK's.
Rows beyond MAX_ROWS are reported at run time (the scratchpad holds the whole column panel).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import sympy
import torch
from mlir import ir
from mlir.dialects import arith, func, math as mmath, memref, scf
from torch._inductor import ir as inductor_ir
from torch._inductor.virtualized import V

from compiler.emitter import ABI_VERSION, elem_bits, storage_type
from compiler.errors import UnsupportedOp
from compiler.inductor_lowerings import lowerings_replaced
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
        self.check_site = None  # set by a later _linalg_check_errors of info: report a nonzero info
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
    _register_info(buffer, info)
    if scalar_info:
        from torch._inductor.lowering import lowerings

        info = lowerings[torch.ops.aten.view.default](info, [])
    return inductor_ir.TensorBox.create(buffer), pivots, info


LINALG_LOWERINGS = {torch.ops.aten.linalg_lu_factor_ex.default: lower_lu_factor_ex}


def linalg_lowerings():
    """Inductor's fallbacks of the linalg ops replaced by npusim kernels for the duration."""
    return lowerings_replaced(LINALG_LOWERINGS)


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
    return {aten._linalg_det.default: _linalg_det, aten._linalg_slogdet.default: _linalg_slogdet,
            **_solve_decompositions(), aten.cholesky.default: _cholesky,
            aten.cholesky_solve.default: _cholesky_solve, aten.cholesky_inverse.default: _cholesky_inverse,
            aten.lu_unpack.default: _lu_unpack, aten.linalg_lu.default: _linalg_lu}


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
    check_site: int | None = None
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
                      a=renamed(a), lu=renamed(lu), pivots=renamed(pivots), info=renamed(info),
                      check_site=node.check_site)
        return self.publish(LuFactorEmitter(self.finish_spec(spec), self.npu_config))


class LinalgEmitter(SystolicEmitter):
    """Vector-unit building blocks of the linalg kernels: row swaps and eliminations in the scratchpad."""

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

    def eliminate(self, panel, panel_id, target, target_id, j, rows, col_lower, cols, row_lower=None) -> None:
        """target[i, c] -= panel[i, j] * target[j, c] for i in [row_lower (j + 1), rows), c in
        [col_lower, cols): LAPACK's rank-1 update (ger with alpha = -1: a + x * (-y))."""
        row_lower = arith.addi(j, const_index(1)) if row_lower is None else row_lower
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

    def report_rows(self, rows: ir.Value) -> ir.Value:
        """`rows` clamped to the panel; more rows are reported (the runtime raises after the kernel)."""
        from compiler.indirect import report_function

        too_tall = scf.IfOp(arith.cmpi(arith.CmpIPredicate.sgt, rows, const_i64(MAX_ROWS)))
        with ir.InsertionPoint(too_tall.then_block):
            func.CallOp([], ir.FlatSymbolRefAttr.get(report_function(self)),
                        [rows, const_i64(MAX_ROWS + 1), const_i64(ROWS_SITE)])
            scf.YieldOp([])
        return arith.minsi(rows, const_i64(MAX_ROWS))

    def report_info(self, info: ir.Value, site: int) -> None:
        from compiler.indirect import report_function

        info = arith.extsi(i64_of(), info)
        failed = scf.IfOp(arith.cmpi(arith.CmpIPredicate.ne, info, const_i64(0)))
        with ir.InsertionPoint(failed.then_block):
            func.CallOp([], ir.FlatSymbolRefAttr.get(report_function(self)), [info, const_i64(0), const_i64(site)])
            scf.YieldOp([])

    def metadata(self, kernel_hash: str) -> dict:
        spec = self.spec
        args = [{"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "elem_bits": elem_bits(dtype),
                 "numel": str(spec.numels[name])} for name, dtype, kind in spec.tensor_args]
        roles = {str(e): d for d, e in spec.dims.items()}
        for name in spec.size_args:
            args.append({"name": name, "kind": "size", "dtype": "int64", "role": roles.get(name, "size")})
        return {"abi_version": ABI_VERSION, "name": spec.name, "hash": kernel_hash, "entry": "kernel",
                "args": args, "size_args": list(spec.size_args),
                "tiles": {"rows": MAX_ROWS, "cols": TILE_COLS}, "xnumel": None, "rnumel": None,
                "linalg": {"op": spec.name, **{d: str(e) for d, e in spec.dims.items()}},
                "config": self.config.name}


class LuFactorEmitter(LinalgEmitter):
    def build(self, printer) -> None:
        spec = self.spec
        f32, i32 = ir.F32Type.get(), ir.IntegerType.get_signless(32)
        operands = (spec.a, spec.lu, spec.pivots, spec.info)
        self.offsets = {o.buffer: printer(o.offset) for o in operands}
        self.strides = {o.buffer: tuple(printer(s) for s in o.strides) for o in operands}
        batch, m_given, n = (printer(spec.dims[d]) for d in ("batch", "M", "N"))
        m = self.report_rows(m_given)
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

            # the pivots' buffer written before its store DMA even when k = 0 (an empty matrix)
            memref.store(arith.constant(i32, 0), piv, [const_index(0), const_index(0)])
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
            if spec.check_site is not None:  # linalg.lu_factor, inv, solve: a singular matrix raises
                self.report_info(steps.results[0], spec.check_site)
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
                # every swap first (laswp), then the forward substitution with the final L (trsm):
                # a later swap moved the rows of L the earlier steps used
                swaps = scf.ForOp(const_index(0), k_ix, const_index(1))
                with ir.InsertionPoint(swaps.body):
                    j = swaps.induction_variable
                    p = to_index(arith.subi(arith.extsi(i64_of(), memref.load(piv, [const_index(0), j])),
                                            const_i64(1)))
                    self.swap_rows(tile, tile_id, j, p, width)
                    scf.YieldOp([])
                solve = scf.ForOp(const_index(0), k_ix, const_index(1))
                with ir.InsertionPoint(solve.body):
                    self.eliminate(panel, panel_id, tile, tile_id, solve.induction_variable, m_ix, const_index(0),
                                   width)
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


def i64_of() -> ir.Type:
    return ir.IntegerType.get_signless(64)


# --- triangular solves (trsm) and LU solves (getrs) ------------------------------------------
@dataclass(frozen=True)
class SolveStep:
    """One pass over the right-hand side: `swap` applies the pivots' row swaps (last first when
    `reverse`), `lower` / `upper` solve with that triangle of the factor (unit diagonal: `unit`)."""

    kind: str
    unit: bool = False
    reverse: bool = False


class SolveBuffer(inductor_ir.TemplateBuffer):
    """X = op(F)^-1 B as a sequence of SolveSteps; `transpose_factor` / `transpose_rhs` read F and
    B, X through transposed strides (right-hand and adjoint solves)."""

    def __init__(self, layout, factor, pivots, rhs, *, steps: tuple, transpose_factor: bool, transpose_rhs: bool,
                 op_name: str):
        self.steps, self.transpose_factor, self.transpose_rhs, self.op_name = \
            steps, transpose_factor, transpose_rhs, op_name
        self.has_pivots = pivots is not None
        self.has_factor = factor is not None  # no factor: only the pivots' row swaps (laswp)
        inputs = ([factor] if factor is not None else []) + [rhs] + ([pivots] if pivots is not None else [])
        super().__init__(layout=layout, inputs=inputs, make_kernel_render=_make_solve_render)


def _make_solve_render(node: SolveBuffer, hint_override=None):
    kernel = SolveKernel(node)
    return kernel, kernel.render


def _expanded(node, batch: list, trailing: int):
    """`node` viewed with the output's batch dims (a broadcast is a stride-0 dim), realised."""
    from torch._inductor.lowering import expand

    size = list(node.get_size())
    return inductor_ir.ExternKernel.realize_input(expand(node, [*batch, *size[len(size) - trailing:]]))


def _solve(op_name: str, factor, pivots, rhs, steps, transpose_factor: bool, transpose_rhs: bool):
    for operand in (factor, rhs):
        if operand is not None and operand.get_dtype() != torch.float32:
            raise UnsupportedOp(op_name, f"dtype {operand.get_dtype()} (f32 only)")
    node = V.graph.current_node
    value = node.meta.get("val") if node is not None else None
    value = value[0] if isinstance(value, (tuple, list)) else value
    if not isinstance(value, torch.Tensor):
        raise UnsupportedOp(op_name, "no fake output on the FX node to take eager's layout from")
    layout = _meta_layout(value)
    batch = list(layout.size[:-2])
    factor = _expanded(factor, batch, 2) if factor is not None else None
    rhs = _expanded(rhs, batch, 2)
    pivots = _expanded(pivots, batch, 1) if pivots is not None else None
    buffer = SolveBuffer(layout, factor, pivots, rhs, steps=tuple(steps), transpose_factor=transpose_factor,
                         transpose_rhs=transpose_rhs, op_name=op_name)
    return inductor_ir.TensorBox.create(buffer)


def lower_solve_triangular(a, b, *, upper: bool, left: bool = True, unitriangular: bool = False):
    # X A = B is A^T X^T = B^T, and A^T has the other triangle
    lower = (not upper) if left else upper
    return _solve("linalg_solve_triangular", a, None, b, [SolveStep("lower" if lower else "upper", unitriangular)],
                  transpose_factor=not left, transpose_rhs=not left)


def lower_lu_solve(lu, pivots, b, *, left: bool = True, adjoint: bool = False):
    # A = P L U. A X = B: swaps, L (unit), U. A^T X = B: U^T, L^T (unit), swaps undone (last first).
    # X A = B is A^T X^T = B^T; X A^T = B is A X^T = B^T.
    transposed = adjoint != (not left)
    if transposed:
        steps = [SolveStep("lower"), SolveStep("upper", unit=True), SolveStep("swap", reverse=True)]
    else:
        steps = [SolveStep("swap"), SolveStep("lower", unit=True), SolveStep("upper")]
    if pivots.get_dtype() != torch.int32:
        raise UnsupportedOp("linalg_lu_solve", f"pivots of dtype {pivots.get_dtype()}")
    return _solve("linalg_lu_solve", lu, pivots, b, steps, transpose_factor=transposed, transpose_rhs=not left)


LINALG_LOWERINGS.update({
    torch.ops.aten.linalg_solve_triangular.default: lower_solve_triangular,
    torch.ops.aten.linalg_lu_solve.default: lower_lu_solve,
})


@dataclass
class SolveSpec:
    name: str
    dims: dict          # batch, N (the factor's order), R (right-hand sides)
    factor: Operand
    rhs: Operand
    out: Operand
    pivots: Operand | None
    steps: tuple
    tensor_args: list = None
    numels: dict = None
    size_args: list = None


def _transposed(operand: Operand) -> Operand:
    sb, sr, sc = operand.strides
    return Operand(operand.buffer, operand.dtype, operand.offset, (sb, sc, sr))


class SolveKernel(TemplateKernel):
    def render(self) -> str:
        node = self.node
        inputs = list(node.inputs)
        factor_node = inputs.pop(0) if node.has_factor else None
        rhs_node = inputs.pop(0)
        factor = _batched_operand("the factor", factor_node, 2)[0] if factor_node is not None else None
        rhs, _ = _batched_operand("B", rhs_node, 2)
        out, batch = _batched_operand("X", node, 2)
        pivot_node = inputs.pop(0) if node.has_pivots else None
        pivots = _batched_operand("pivots", pivot_node, 1)[0] if pivot_node is not None else None
        n = factor_node.get_size()[-1] if factor_node is not None else node.get_size()[-2]
        swaps = pivot_node.get_size()[-1] if pivot_node is not None else n
        r = node.get_size()[-2] if node.transpose_rhs else node.get_size()[-1]
        if node.transpose_factor:
            factor = _transposed(factor)
        if node.transpose_rhs:
            rhs, out = _transposed(rhs), _transposed(out)
        inputs = [o.buffer for o in (factor, rhs, pivots) if o is not None]
        names = {buffer: self.args.input(buffer) for buffer in inputs}
        names[out.buffer] = self.args.output(out.buffer)
        rename = self.rename_indexing

        def renamed(operand):
            if operand is None:
                return None
            return Operand(names[operand.buffer], operand.dtype, rename(operand.offset),
                           tuple(rename(s) for s in operand.strides))

        spec = SolveSpec(name=node.op_name.replace("linalg_", ""),
                         dims={"batch": rename(batch), "N": rename(n), "R": rename(r), "K": rename(swaps)},
                         factor=renamed(factor), rhs=renamed(rhs), out=renamed(out), pivots=renamed(pivots),
                         steps=node.steps)
        return self.publish(SolveEmitter(self.finish_spec(spec), self.npu_config))


class SolveEmitter(LinalgEmitter):
    """Per work item (a matrix of the batch): the factor (n x n, n <= MAX_ROWS) and the pivots in the
    scratchpad, then per column tile of B: DMA in, the steps, DMA out. A triangular step is LAPACK's
    trsm (left side): per pivot row j, X[j, :] /= F[j, j] (unless unit), then the rows below
    (lower) or above (upper) lose F[i, j] X[j, :]: n^2 / 2 multiply-adds per column."""

    def build(self, printer) -> None:
        spec = self.spec
        f32, i32 = ir.F32Type.get(), ir.IntegerType.get_signless(32)
        operands = [o for o in (spec.factor, spec.rhs, spec.out, spec.pivots) if o is not None]
        # by operand (id), not buffer: X A = B reads and writes through transposed views
        self.offsets = {o.buffer: printer(o.offset) for o in operands}
        self.strides = {o.buffer: tuple(printer(s) for s in o.strides) for o in operands}
        batch, n_given, r, swaps = (printer(spec.dims[d]) for d in ("batch", "N", "R", "K"))
        n = self.report_rows(n_given)
        n_ix = to_index(n)
        k_ix = to_index(arith.minsi(swaps, n))
        zero_i64 = const_i64(0)
        factor = factor_id = None
        if spec.factor is not None:
            factor, factor_id = self.new_spad(f32, [MAX_ROWS, MAX_ROWS])
        tile, tile_id = self.new_spad(f32, [MAX_ROWS, TILE_COLS])
        piv = piv_id = None
        if spec.pivots is not None:
            piv, piv_id = self.new_spad(i32, [1, MAX_ROWS])

        work = scf.ForOp(const_index(0), to_index(batch), const_index(1))
        work.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(work.body):
            b = to_i64(work.induction_variable)
            if factor is not None:
                _, f_rows, f_cols = self.strides[spec.factor.buffer]
                self.dma("load", spec.factor, factor, factor_id,
                         self.address(spec.factor, b, zero_i64, zero_i64), n_ix, n_ix, f_rows, f_cols)
            if piv is not None:
                _, _, p_cols = self.strides[spec.pivots.buffer]
                self.dma("load", spec.pivots, piv, piv_id, self.address(spec.pivots, b, zero_i64, zero_i64),
                         const_index(1), k_ix, zero_i64, p_cols)
            columns = scf.ForOp(const_index(0), to_index(r), const_index(TILE_COLS))
            columns.attributes["npusim.tile_loop"] = _dict_attr({"dim": "r", "parallel": False})
            with ir.InsertionPoint(columns.body):
                c0 = to_i64(columns.induction_variable)
                width = to_index(arith.minsi(const_i64(TILE_COLS), arith.subi(r, c0)))
                _, b_rows, b_cols = self.strides[spec.rhs.buffer]
                _, x_rows, x_cols = self.strides[spec.out.buffer]
                self.dma("load", spec.rhs, tile, tile_id, self.address(spec.rhs, b, zero_i64, c0), n_ix, width,
                         b_rows, b_cols)
                for step in spec.steps:
                    self.solve_step(step, factor, factor_id, tile, tile_id, piv, k_ix if step.kind == "swap" else n_ix,
                                    width)
                self.dma("store", spec.out, tile, tile_id, self.address(spec.out, b, zero_i64, c0), n_ix, width,
                         x_rows, x_cols)
                scf.YieldOp([])
            scf.YieldOp([])

    def solve_step(self, step: SolveStep, factor, factor_id, tile, tile_id, piv, n, width) -> None:
        steps = scf.ForOp(const_index(0), n, const_index(1))
        with ir.InsertionPoint(steps.body):
            jj = steps.induction_variable
            backwards = step.kind == "upper" or (step.kind == "swap" and step.reverse)
            j = arith.subi(arith.subi(n, const_index(1)), jj) if backwards else jj
            if step.kind == "swap":
                p = to_index(arith.subi(arith.extsi(i64_of(), memref.load(piv, [const_index(0), j])), const_i64(1)))
                self.swap_rows(tile, tile_id, j, p, width)
            else:
                if not step.unit:
                    diagonal = memref.load(factor, [j, j])
                    divide = self.vector_loop(const_index(0), width, [factor_id, tile_id], [tile_id])
                    with ir.InsertionPoint(divide.body):
                        c = divide.induction_variable
                        memref.store(arith.divf(memref.load(tile, [j, c]), diagonal), tile, [j, c])
                        scf.YieldOp([])
                if step.kind == "lower":
                    self.eliminate(factor, factor_id, tile, tile_id, j, n, const_index(0), width)
                else:
                    self.eliminate(factor, factor_id, tile, tile_id, j, j, const_index(0), width,
                                   row_lower=const_index(0))
            scf.YieldOp([])


# --- decompositions onto the kernels -----------------------------------------------------------
def _triangular_solve(b, a, upper=True, transpose=False, unitriangular=False):
    x = aten.linalg_solve_triangular.default(a.mT if transpose else a, b, upper=upper != transpose, left=True,
                                             unitriangular=unitriangular)
    return x, a.clone()


def _is_vector_rhs(a, b) -> bool:
    return b.ndim == 1 or (a.ndim - 1 == b.ndim and b.shape == a.shape[:-1])


def _linalg_solve_ex(a, b, *, left=True, check_errors=False):
    if check_errors:
        raise UnsupportedOp("_linalg_solve_ex", "check_errors=True (a host-side check of info)")
    lu, pivots, info = aten.linalg_lu_factor_ex.default(a)
    vector = _is_vector_rhs(a, b)
    x = aten.linalg_lu_solve.default(lu, pivots, b.unsqueeze(-1) if vector else b, left=left)
    return (x.squeeze(-1) if vector else x), lu, pivots, info


def _linalg_inv_ex(a, *, check_errors=False):
    if check_errors:
        raise UnsupportedOp("linalg_inv_ex", "check_errors=True (a host-side check of info)")
    lu, pivots, info = aten.linalg_lu_factor_ex.default(a)
    identity = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device).expand(a.shape)
    return aten.linalg_lu_solve.default(lu, pivots, identity), info


def _solve_decompositions() -> dict:
    return {aten.triangular_solve.default: _triangular_solve, aten._linalg_solve_ex.default: _linalg_solve_ex,
            aten.linalg_inv_ex.default: _linalg_inv_ex}


# --- eager's _linalg_check_errors: the factorisation kernel checks its own info --------------
INFO_SITES = {"singular": ROWS_SITE + 1, "not_positive_definite": ROWS_SITE + 2}


def _register_info(buffer, info) -> None:
    """Remember which factorisation kernel writes `info`, for a later check of it."""
    V.graph.__dict__.setdefault("_npusim_linalg_info", {})[info.get_name()] = buffer


def lower_check_errors(info, api_name: str, *, is_matrix: bool):
    """The kernel that computed `info` reports its first nonzero value (the runtime raises after the
    kernel, naming the failure): the check stays on the NPU, in the kernel that knows the info."""
    producer = V.graph.__dict__.get("_npusim_linalg_info", {}).get(info.get_name())
    if producer is None:
        raise UnsupportedOp("_linalg_check_errors", f"{api_name}: info that no npusim factorisation wrote")
    producer.check_site = INFO_SITES["not_positive_definite" if "cholesky" in api_name else "singular"]
    # Inductor wants an operation from an effectful op's lowering: an empty buffer, which allocates
    # nothing and runs no kernel
    _empty(inductor_ir.FixedLayout(torch.device("cpu"), torch.int32, [sympy.Integer(0)], [sympy.Integer(1)])).realize()
    return None


LINALG_LOWERINGS[torch.ops.aten._linalg_check_errors.default] = lower_check_errors


# --- Cholesky (potrf) ------------------------------------------------------------------------
class CholeskyBuffer(inductor_ir.TemplateBuffer):
    """L (or U = L^T) of linalg_cholesky_ex; info is a buffer the kernel writes too."""

    def __init__(self, layout, a, info, *, upper: bool):
        self.op_name = "linalg_cholesky_ex"
        self.upper = upper
        self.check_site = None
        super().__init__(layout=layout, inputs=[a, info], make_kernel_render=_make_cholesky_render,
                         mutated_inputs=[info])


def _make_cholesky_render(node: CholeskyBuffer, hint_override=None):
    kernel = CholeskyKernel(node)
    return kernel, kernel.render


def lower_cholesky_ex(a, *, upper: bool = False, check_errors: bool = False):
    name = "linalg_cholesky_ex"
    if a.get_dtype() != torch.float32:
        raise UnsupportedOp(name, f"dtype {a.get_dtype()} (f32 only)")
    node = V.graph.current_node
    values = node.meta.get("val") if node is not None else None
    if not isinstance(values, (tuple, list)) or len(values) != 2:
        raise UnsupportedOp(name, "no fake outputs on the FX node to take eager's layouts from")
    l_layout, info_layout = (_meta_layout(v) for v in values)
    scalar_info = len(info_layout.size) == 0
    if scalar_info:  # Inductor's empty of a 0-dim buffer is a fill kernel: one element, viewed as ()
        info_layout = inductor_ir.FixedLayout(info_layout.device, info_layout.dtype, [sympy.Integer(1)],
                                              [sympy.Integer(1)])
    a = inductor_ir.ExternKernel.realize_input(inductor_ir.ExternKernel.require_contiguous(a))
    info = _empty(info_layout)
    info.realize()
    buffer = CholeskyBuffer(l_layout, a, info, upper=upper)
    _register_info(buffer, info)
    if check_errors:
        buffer.check_site = INFO_SITES["not_positive_definite"]
    if scalar_info:
        from torch._inductor.lowering import lowerings

        info = lowerings[torch.ops.aten.view.default](info, [])
    return inductor_ir.TensorBox.create(buffer), info


LINALG_LOWERINGS[torch.ops.aten.linalg_cholesky_ex.default] = lower_cholesky_ex


@dataclass
class CholeskySpec:
    name: str
    dims: dict
    a: Operand
    out: Operand
    info: Operand
    check_site: int | None = None
    tensor_args: list = None
    numels: dict = None
    size_args: list = None


class CholeskyKernel(TemplateKernel):
    def render(self) -> str:
        node = self.node
        a_node, info_node = node.inputs
        a, batch = _batched_operand("A", a_node, 2)
        out, _ = _batched_operand("L", node, 2)
        info, _ = _batched_operand("info", info_node, 0)
        if node.upper:  # U^T U = A from A's upper triangle: the lower factor of A^T, stored transposed
            a, out = _transposed(a), _transposed(out)
        names = {a.buffer: self.args.input(a.buffer), out.buffer: self.args.output(out.buffer),
                 info.buffer: self.args.output(info.buffer)}
        rename = self.rename_indexing

        def renamed(operand):
            return Operand(names[operand.buffer], operand.dtype, rename(operand.offset),
                           tuple(rename(s) for s in operand.strides))

        spec = CholeskySpec(name="cholesky", dims={"batch": rename(batch), "N": rename(a_node.get_size()[-1])},
                            a=renamed(a), out=renamed(out), info=renamed(info), check_site=node.check_site)
        return self.publish(CholeskyEmitter(self.finish_spec(spec), self.npu_config))


class CholeskyEmitter(LinalgEmitter):
    """LAPACK's potf2 (lower, left-looking), per work item in the scratchpad:

        for j in 0 .. n
          d = A[j, j] - A[j, :j] . A[j, :j]               vector compute over j elements
          d <= 0 or NaN: info = j + 1, and the factorisation stops (later columns stay A's)
          L[j, j] = sqrt(d)
          L[j+1:, j] = (A[j+1:, j] - L[j+1:, :j] L[j, :j]^T) * (1 / L[j, j])   (n - j - 1) x j multiply-adds
        the strict upper triangle set to 0                 vector compute over n x n

    n^3 / 6 multiply-adds in all; upper=True factors A^T and stores L^T (transposed strides)."""

    def build(self, printer) -> None:
        spec = self.spec
        f32, i32 = ir.F32Type.get(), ir.IntegerType.get_signless(32)
        operands = (spec.a, spec.out, spec.info)
        self.offsets = {o.buffer: printer(o.offset) for o in operands}
        self.strides = {o.buffer: tuple(printer(s) for s in o.strides) for o in operands}
        batch, n_given = printer(spec.dims["batch"]), printer(spec.dims["N"])
        n = self.report_rows(n_given)
        n_ix = to_index(n)
        zero_i64, zero_f32 = const_i64(0), arith.constant(f32, 0.0)
        panel, panel_id = self.new_spad(f32, [MAX_ROWS, MAX_ROWS])
        info_spad, info_id = self.new_spad(i32, [1, 1])

        work = scf.ForOp(const_index(0), to_index(batch), const_index(1))
        work.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(work.body):
            b = to_i64(work.induction_variable)
            _, a_rows, a_cols = self.strides[spec.a.buffer]
            _, o_rows, o_cols = self.strides[spec.out.buffer]
            self.dma("load", spec.a, panel, panel_id, self.address(spec.a, b, zero_i64, zero_i64), n_ix, n_ix,
                     a_rows, a_cols)
            false = arith.constant(ir.IntegerType.get_signless(1), 0)
            steps = scf.ForOp(const_index(0), n_ix, const_index(1), [arith.constant(i32, 0), false])
            with ir.InsertionPoint(steps.body):
                j = steps.induction_variable
                info_now, stopped = steps.inner_iter_args
                dot = self.vector_loop(const_index(0), j, [panel_id], [], [memref.load(panel, [j, j])])
                with ir.InsertionPoint(dot.body):
                    x = memref.load(panel, [j, dot.induction_variable])
                    scf.YieldOp([arith.subf(dot.inner_iter_args[0], arith.mulf(x, x))])
                d = dot.results[0]
                # not (d > 0) catches NaN too, as LAPACK's `ajj <= 0 .or. disnan(ajj)`
                fails = arith.xori(arith.cmpf(arith.CmpFPredicate.OGT, d, zero_f32),
                                   arith.constant(ir.IntegerType.get_signless(1), 1))
                new_failure = arith.andi(fails, arith.xori(stopped, arith.constant(ir.IntegerType.get_signless(1), 1)))
                info_next = arith.select(new_failure, arith.trunci(i32, arith.addi(to_i64(j), const_i64(1))),
                                         info_now)
                stopped_next = arith.ori(stopped, fails)
                root = mmath.sqrt(d)
                old_diagonal = memref.load(panel, [j, j])
                # a failed pivot keeps d, as LAPACK stores ajj before it returns; after that nothing changes
                memref.store(arith.select(stopped, old_diagonal, arith.select(fails, d, root)), panel, [j, j])
                reciprocal = arith.divf(arith.constant(f32, 1.0), root)
                column = self.vector_loop(arith.addi(j, const_index(1)), n_ix, [panel_id], [panel_id])
                with ir.InsertionPoint(column.body):
                    i = column.induction_variable
                    old = memref.load(panel, [i, j])
                    gemv = scf.ForOp(const_index(0), j, const_index(1), [old])
                    with ir.InsertionPoint(gemv.body):
                        kk = gemv.induction_variable
                        product = arith.mulf(memref.load(panel, [i, kk]), memref.load(panel, [j, kk]))
                        scf.YieldOp([arith.subf(gemv.inner_iter_args[0], product)])
                    scaled = arith.mulf(gemv.results[0], reciprocal)
                    memref.store(arith.select(stopped_next, old, scaled), panel, [i, j])
                    scf.YieldOp([])
                scf.YieldOp([info_next, stopped_next])
            info = steps.results[0]
            memref.store(info, info_spad, [const_index(0), const_index(0)])
            if spec.check_site is not None:
                self.report_info(info, spec.check_site)
            upper = self.vector_loop(const_index(0), n_ix, [panel_id], [panel_id])
            with ir.InsertionPoint(upper.body):
                i = upper.induction_variable
                row = scf.ForOp(const_index(0), n_ix, const_index(1))
                with ir.InsertionPoint(row.body):
                    c = row.induction_variable
                    above = arith.cmpi(arith.CmpIPredicate.ugt, c, i)
                    memref.store(arith.select(above, zero_f32, memref.load(panel, [i, c])), panel, [i, c])
                    scf.YieldOp([])
                scf.YieldOp([])
            self.dma("store", spec.out, panel, panel_id, self.address(spec.out, b, zero_i64, zero_i64), n_ix, n_ix,
                     o_rows, o_cols)
            self.dma("store", spec.info, info_spad, info_id, self.address(spec.info, b, zero_i64, zero_i64),
                     const_index(1), const_index(1), zero_i64, zero_i64)
            scf.YieldOp([])


def _cholesky(a, upper=False):
    return aten.linalg_cholesky_ex.default(a, upper=upper, check_errors=True)[0]


def _cholesky_solve(b, factor, upper=False):
    # A = L L^T: L Y = B, then L^T X = Y (A = U^T U: U^T Y = B, then U X = Y), as LAPACK's potrs
    lower = factor.mT if upper else factor
    y = aten.linalg_solve_triangular.default(lower, b, upper=False)
    return aten.linalg_solve_triangular.default(lower.mT, y, upper=True)


def _cholesky_inverse(factor, upper=False):
    identity = torch.eye(factor.shape[-1], dtype=factor.dtype, device=factor.device).expand(factor.shape)
    return _cholesky_solve(identity, factor, upper)



# --- the pivots as a permutation: lu_unpack, linalg.lu ------------------------------------------
@torch.library.custom_op("npusim::apply_pivots", mutates_args=())
def apply_pivots(pivots: torch.Tensor, b: torch.Tensor, reverse: bool) -> torch.Tensor:
    """B with LAPACK's row swaps (1-based pivots) applied, first to last (last to first when
    `reverse`): laswp. Compiled, it is the solve kernel's swap step; this eager form is its reference."""
    x = b.clone()
    order = range(pivots.shape[-1] - 1, -1, -1) if reverse else range(pivots.shape[-1])
    for batch in torch.ndindex(*pivots.shape[:-1]):
        for j in order:
            p = int(pivots[batch][j]) - 1
            rows = x[batch]
            rows[[j, p]] = rows[[p, j]]
    return x


@apply_pivots.register_fake
def _(pivots, b, reverse):
    return torch.empty_like(b)


def lower_apply_pivots(pivots, b, reverse: bool):
    if pivots.get_dtype() != torch.int32:
        raise UnsupportedOp("apply_pivots", f"pivots of dtype {pivots.get_dtype()}")
    return _solve("apply_pivots", None, pivots, b, [SolveStep("swap", reverse=reverse)], transpose_factor=False,
                  transpose_rhs=False)


LINALG_LOWERINGS[torch.ops.npusim.apply_pivots.default] = lower_apply_pivots


def _lu_unpack(lu, pivots, unpack_data=True, unpack_pivots=True):
    if not (unpack_data and unpack_pivots):
        raise UnsupportedOp("lu_unpack", "unpack_data=False or unpack_pivots=False")
    m, n = lu.shape[-2], lu.shape[-1]
    k = torch.sym_min(m, n)  # not min(): a guard on m < n would recompile across the sweep
    eye = torch.eye(m, dtype=lu.dtype, device=lu.device)
    lower = lu[..., :, :k].tril(-1) + eye[:, :k]
    upper = lu[..., :k, :].triu()
    # A = P L U: P undoes getrf's swaps, last first
    permutation = torch.ops.npusim.apply_pivots(pivots, eye.expand(*lu.shape[:-2], m, m), True)
    return permutation, lower, upper


def _linalg_lu(a, pivot=True):
    if not pivot:
        raise UnsupportedOp("linalg_lu", "pivot=False (LU without pivoting)")
    lu, pivots, _ = aten.linalg_lu_factor_ex.default(a)
    return _lu_unpack(lu, pivots)


# --- symmetric eigenvalues (eigvalsh): cyclic Jacobi -------------------------------------------
# Sweeps of the cyclic Jacobi method: a fixed count (the trace skeleton needs its loop bounds from
# the sizes, not from the data); f32 matrices of the OpInfo sizes converge in 5-6 (quadratically),
# the rest is margin. A rotation of an already-zero a_pq is the identity.
JACOBI_SWEEPS = 10


class EigvalshBuffer(inductor_ir.TemplateBuffer):
    def __init__(self, layout, a, *, lower: bool):
        self.lower = lower
        super().__init__(layout=layout, inputs=[a], make_kernel_render=_make_eigvalsh_render)


def _make_eigvalsh_render(node: EigvalshBuffer, hint_override=None):
    kernel = EigvalshKernel(node)
    return kernel, kernel.render


def lower_eigh(a, uplo: str = "L", compute_v: bool = True):
    if a.get_dtype() != torch.float32:
        raise UnsupportedOp("_linalg_eigh", f"dtype {a.get_dtype()} (f32 only)")
    node = V.graph.current_node
    # eigvalsh traces as _linalg_eigh(A) whose eigenvectors nothing reads: those are not computed
    vectors_read = any(user.target is not operator.getitem or user.args[1] != 0 for user in node.users)
    if compute_v and vectors_read:
        raise UnsupportedOp("_linalg_eigh", "eigenvectors: only eigenvalues (eigvalsh) run on npusim")
    values = node.meta.get("val") if node is not None else None
    if not isinstance(values, (tuple, list)) or len(values) != 2:
        raise UnsupportedOp("_linalg_eigh", "no fake outputs on the FX node to take eager's layouts from")
    w_layout, v_layout = (_meta_layout(v) for v in values)
    a = inductor_ir.ExternKernel.realize_input(inductor_ir.ExternKernel.require_contiguous(a))
    vectors = _empty(v_layout)  # eager's empty eigenvector tensor: nothing to compute
    buffer = EigvalshBuffer(w_layout, a, lower=uplo.upper() == "L")
    return inductor_ir.TensorBox.create(buffer), vectors


LINALG_LOWERINGS[torch.ops.aten._linalg_eigh.default] = lower_eigh


@dataclass
class EigvalshSpec:
    name: str
    dims: dict
    a: Operand
    out: Operand
    lower: bool
    tensor_args: list = None
    numels: dict = None
    size_args: list = None


class EigvalshKernel(TemplateKernel):
    def render(self) -> str:
        node = self.node
        (a_node,) = node.inputs
        a, batch = _batched_operand("A", a_node, 2)
        out, _ = _batched_operand("eigenvalues", node, 1)
        names = {a.buffer: self.args.input(a.buffer), out.buffer: self.args.output(out.buffer)}
        rename = self.rename_indexing

        def renamed(operand):
            return Operand(names[operand.buffer], operand.dtype, rename(operand.offset),
                           tuple(rename(s) for s in operand.strides))

        spec = EigvalshSpec(name="eigvalsh", dims={"batch": rename(batch), "N": rename(a_node.get_size()[-1])},
                            a=renamed(a), out=renamed(out), lower=node.lower)
        return self.publish(EigvalshEmitter(self.finish_spec(spec), self.npu_config))


class EigvalshEmitter(LinalgEmitter):
    """Per work item: A symmetrised from its UPLO triangle, JACOBI_SWEEPS cyclic sweeps of
    rotations J^T A J (Golub & Van Loan's sym.schur2 per pair p < q: its columns, then its rows,
    two vector computes over n), then the diagonal sorted ascending (a selection sort: n searches
    over the rest). About 4 n^3 multiply-adds per sweep."""

    def build(self, printer) -> None:
        spec = self.spec
        f32 = ir.F32Type.get()
        self.offsets = {o.buffer: printer(o.offset) for o in (spec.a, spec.out)}
        self.strides = {o.buffer: tuple(printer(s) for s in o.strides) for o in (spec.a, spec.out)}
        batch, n_given = printer(spec.dims["batch"]), printer(spec.dims["N"])
        n = self.report_rows(n_given)
        n_ix = to_index(n)
        zero_i64 = const_i64(0)
        zero, one, two = (arith.constant(f32, v) for v in (0.0, 1.0, 2.0))
        a, a_id = self.new_spad(f32, [MAX_ROWS, MAX_ROWS])
        w, w_id = self.new_spad(f32, [1, MAX_ROWS])
        row0 = const_index(0)

        work = scf.ForOp(const_index(0), to_index(batch), const_index(1))
        work.attributes["npusim.tile_loop"] = _dict_attr({"dim": "x", "parallel": True})
        with ir.InsertionPoint(work.body):
            b = to_i64(work.induction_variable)
            _, a_rows, a_cols = self.strides[spec.a.buffer]
            self.dma("load", spec.a, a, a_id, self.address(spec.a, b, zero_i64, zero_i64), n_ix, n_ix, a_rows, a_cols)
            # the other triangle from the one UPLO names (eager reads only that one)
            mirror = self.vector_loop(const_index(0), n_ix, [a_id], [a_id])
            with ir.InsertionPoint(mirror.body):
                i = mirror.induction_variable
                cols = scf.ForOp(const_index(0), n_ix, const_index(1))
                with ir.InsertionPoint(cols.body):
                    c = cols.induction_variable
                    outside = arith.cmpi(arith.CmpIPredicate.ugt if spec.lower else arith.CmpIPredicate.ult, c, i)
                    memref.store(arith.select(outside, memref.load(a, [c, i]), memref.load(a, [i, c])), a, [i, c])
                    scf.YieldOp([])
                scf.YieldOp([])
            sweeps = scf.ForOp(const_index(0), const_index(JACOBI_SWEEPS), const_index(1))
            with ir.InsertionPoint(sweeps.body):
                pairs = scf.ForOp(const_index(0), n_ix, const_index(1))
                with ir.InsertionPoint(pairs.body):
                    p = pairs.induction_variable
                    partners = scf.ForOp(arith.addi(p, const_index(1)), n_ix, const_index(1))
                    with ir.InsertionPoint(partners.body):
                        q = partners.induction_variable
                        self.rotate(a, a_id, p, q, n_ix, zero, one, two)
                        scf.YieldOp([])
                    scf.YieldOp([])
                scf.YieldOp([])
            diagonal = self.vector_loop(const_index(0), n_ix, [a_id], [w_id])
            with ir.InsertionPoint(diagonal.body):
                i = diagonal.induction_variable
                memref.store(memref.load(a, [i, i]), w, [row0, i])
                scf.YieldOp([])
            order = scf.ForOp(const_index(0), n_ix, const_index(1))
            with ir.InsertionPoint(order.body):
                i = order.induction_variable
                search = self.vector_loop(i, n_ix, [w_id], [], [memref.load(w, [row0, i]), i])
                with ir.InsertionPoint(search.body):
                    k = search.induction_variable
                    best, best_at = search.inner_iter_args
                    x = memref.load(w, [row0, k])
                    smaller = arith.cmpf(arith.CmpFPredicate.OLT, x, best)
                    scf.YieldOp([arith.select(smaller, x, best), arith.select(smaller, k, best_at)])
                smallest, at = search.results
                memref.store(memref.load(w, [row0, i]), w, [row0, at])
                memref.store(smallest, w, [row0, i])
                scf.YieldOp([])
            _, _, w_cols = self.strides[spec.out.buffer]
            self.dma("store", spec.out, w, w_id, self.address(spec.out, b, zero_i64, zero_i64), const_index(1), n_ix,
                     zero_i64, w_cols)
            scf.YieldOp([])

    def rotate(self, a, a_id, p, q, n, zero, one, two) -> None:
        app, aqq, apq = memref.load(a, [p, p]), memref.load(a, [q, q]), memref.load(a, [p, q])
        nonzero = arith.cmpf(arith.CmpFPredicate.ONE, apq, zero)
        safe_apq = arith.select(nonzero, apq, one)
        tau = arith.divf(arith.subf(aqq, app), arith.mulf(two, safe_apq))
        magnitude = arith.addf(mmath.absf(tau), mmath.sqrt(arith.addf(one, arith.mulf(tau, tau))))
        sign = arith.select(arith.cmpf(arith.CmpFPredicate.OLT, tau, zero), arith.negf(one), one)
        t = arith.select(nonzero, arith.divf(sign, magnitude), zero)
        c = arith.divf(one, mmath.sqrt(arith.addf(one, arith.mulf(t, t))))
        s = arith.mulf(t, c)
        for by_rows in (False, True):  # A J (columns p, q), then J^T (A J) (rows p, q)
            loop = self.vector_loop(const_index(0), n, [a_id], [a_id])
            with ir.InsertionPoint(loop.body):
                k = loop.induction_variable
                at_p, at_q = ([p, k], [q, k]) if by_rows else ([k, p], [k, q])
                x, y = memref.load(a, at_p), memref.load(a, at_q)
                memref.store(arith.subf(arith.mulf(c, x), arith.mulf(s, y)), a, at_p)
                memref.store(arith.addf(arith.mulf(s, x), arith.mulf(c, y)), a, at_q)
                scf.YieldOp([])
        # the 2x2 block exactly as the rotation defines it (Golub & Van Loan 8.5.2): a_pq = 0 and the
        # diagonal from t, not from the rounded rotations of rows and columns (10x the error in f32)
        memref.store(arith.subf(app, arith.mulf(t, apq)), a, [p, p])
        memref.store(arith.addf(aqq, arith.mulf(t, apq)), a, [q, q])
        zero_pq = arith.select(nonzero, zero, apq)
        memref.store(zero_pq, a, [p, q])
        memref.store(zero_pq, a, [q, p])
