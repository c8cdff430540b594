"""Epilogue fusion on a matmul's C tile: the pointwise nodes Inductor schedules after an mm /
addmm / bmm (a relu, gelu, silu, a residual add, a cast) run on the C tile inside the matmul
kernel, before its store, instead of as a separate kernel that reads C back from DRAM.

Scheduling (`fusable`): a pointwise node fuses after the template when it iterates over C's
own grid (its loop sizes split at C's dims) and reads C, and any buffer an earlier fused
epilogue wrote, at the element it computes (the contiguous index of its loop), with every
other access affine in its loop variables. Like Triton's template epilogues, the nodes are
then recorded by an npusim kernel (`record`) whose x range is C's flat index, with C itself
served from the store cache as one value (`CTile`): its loads, ops and stores become a
tile_ir DAG, each index rewritten over C's coordinates (b, m, n). The matmul emitter
evaluates that DAG per element of the C tile (`MatmulEmitter.epilogue`): other operands
arrive by DMA (a row, a column or a whole tile, per their strides), results leave by DMA.
Whatever the recorder cannot place on the C grid raises UnsupportedOp, and the scheduling
then falls back to the unfused kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy
import torch
from torch._inductor.codegen.simd_kernel_features import SIMDKernelFeatures
from torch._inductor.dependencies import MemoryDep, WeakDep
from torch._inductor.utils import sympy_product
from torch._inductor.virtualized import V
from torch.utils._sympy.functions import FloorDiv, ModularIndexing
from torch.utils._sympy.symbol import SymT, symbol_is_type

from compiler import indirect, tile_ir
from compiler.errors import UnsupportedOp

# C's coordinates in an epilogue index: batch, row, column
COORDS = tuple(sympy.Symbol(name, integer=True, nonnegative=True) for name in ("epilogue_b", "epilogue_m",
                                                                                "epilogue_n"))


@dataclass(eq=False)
class CTile(tile_ir.Node):
    """The template's output element, as the epilogue reads it (in C's dtype)."""

    def cse_key(self) -> str:
        return "matmul_c_tile"


@dataclass
class EpilogueAccess:
    """A DRAM operand of the epilogue: arg name, dtype, and its address offset + b*sb + m*sm + n*sn."""

    buffer: str
    dtype: torch.dtype
    offset: sympy.Expr
    strides: tuple  # (batch, row, col)


@dataclass
class Epilogue:
    loads: list = field(default_factory=list)    # (tile_ir.Load, EpilogueAccess)
    stores: list = field(default_factory=list)   # (EpilogueAccess, tile_ir.Node value)
    c_stored: bool = True                        # C is still needed outside the kernel

    def in_place(self) -> int | None:
        """The store whose tile is the f32 accumulator itself (when C is not stored): each element
        of C is read before its result is written, so the accumulator can hold the result."""
        if self.c_stored:
            return None
        return next((k for k, (access, _) in enumerate(self.stores) if access.dtype == torch.float32), None)

    def extra_tile_bits(self) -> int:
        """Bits per C-tile element of the scratchpad tiles the epilogue adds (full tiles only)."""
        full_loads = sum(_bits(a.dtype) for _, a in self.loads if a.strides[1] != 0 and a.strides[2] != 0)
        in_place = self.in_place()
        return full_loads + sum(_bits(a.dtype) for k, (a, _) in enumerate(self.stores) if k != in_place)


def _bits(dtype: torch.dtype) -> int:
    from compiler.emitter import elem_bits

    return elem_bits(dtype)


# --- scheduling ------------------------------------------------------------------------------
def template_of(node):
    return next((n.node for n in node.get_nodes() if n.is_template()), None)


def boundaries(sizes) -> list[sympy.Expr]:
    """C's flat-index boundaries, innermost first: 1, N, M*N (, B*M*N)."""
    out = [sympy.Integer(1)]
    for size in reversed(list(sizes)):
        out.append(out[-1] * size)
    return out


def _position(value, bounds, start: int = 0) -> int | None:
    known = V.graph.sizevars.statically_known_equals
    return next((k for k in range(start, len(bounds)) if known(value, bounds[k])), None)


def _contiguous_index(var_names, sizes) -> sympy.Expr:
    index, stride = sympy.Integer(0), sympy.Integer(1)
    for var, size in reversed(list(zip(var_names, sizes))):
        index += var * stride
        stride *= size
    return index


def _elementwise(dep, numel) -> bool:
    """The dep addresses the element at its loop's contiguous index, over all of C."""
    return (isinstance(dep, MemoryDep) and V.graph.sizevars.statically_known_equals(sympy_product(dep.size), numel)
            and sympy.expand(dep.index - _contiguous_index(dep.var_names, dep.size)) == 0)


def fusable(node1, node2) -> bool:
    """Whether pointwise node2 can run on the C tile of the matmul template in node1."""
    from compiler.matmul import MatmulBuffer
    from torch._inductor.scheduler import SchedulerNode

    template = template_of(node1)
    if not isinstance(template, MatmulBuffer):
        return False
    layout = template.get_layout()
    sizes = list(layout.size)
    if not (layout.is_contiguous() and sympy.sympify(layout.offset) == 0):
        return False
    bounds = boundaries(sizes)
    numel = bounds[-1]
    written = node1.get_buffer_names()
    for node in node2.get_nodes():
        if not isinstance(node, SchedulerNode) or node.is_template() or node.is_reduction():
            return False
        loop_sizes, reduction_sizes = node.get_ranges()
        if sympy_product(reduction_sizes) != 1:
            return False
        cumulative = sympy.Integer(1)
        for size in reversed(list(loop_sizes)):
            cumulative *= size
            if _position(cumulative, bounds) is None:
                return False
        if not V.graph.sizevars.statically_known_equals(cumulative, numel):
            return False
        for dep in node.read_writes.reads | node.read_writes.writes:
            if isinstance(dep, WeakDep):
                continue
            if not isinstance(dep, MemoryDep) or dep.index.has(FloorDiv, ModularIndexing):
                return False
            loop_vars = set(dep.var_names)
            if any(s not in loop_vars and not symbol_is_type(s, (SymT.SIZE, SymT.PRECOMPUTED_SIZE))
                   for s in dep.index.free_symbols):
                return False
        if any(dep.name in written and not _elementwise(dep, numel) for dep in node.read_writes.reads):
            return False
    read_by_node2 = node2.used_buffer_names()
    for node in node1.get_nodes():
        if node.is_template():
            continue
        if any(dep.name in read_by_node2 and not _elementwise(dep, numel) for dep in node.read_writes.writes):
            return False
    return True


# --- recording ---------------------------------------------------------------------------------
def record(template_kernel, template, epilogue_nodes) -> Epilogue:
    """Run the epilogue nodes' codegen on an npusim kernel sharing the template's args; returns
    their DAG over C's coordinates. Marks the buffers only the fused kernel uses as removed (on
    the template kernel)."""
    from compiler.kernel import NpuKernel

    sizes = list(template.get_size())
    bounds = boundaries(sizes)
    numel = bounds[-1]
    recorder = NpuKernel.__new__(NpuKernel)
    recorder.npu_config = template_kernel.npu_config
    recorder.__init__({"x": numel, "r0_": sympy.S.One}, features=SIMDKernelFeatures([], numel))
    recorder.args = template_kernel.args
    c_name = template.get_name()
    c_tile = CTile()
    c_tile.dtype, c_tile.name = template.get_dtype(), "matmul_c_tile"
    with recorder:
        c_var = recorder.cse.newvar(dtype=c_tile.dtype)
        c_var.node = c_tile
        recorder.cse.store_cache[c_name] = c_var
        recorder.store_buffer_names.add(c_name)
        for node in epilogue_nodes:
            node.codegen(recorder.split_and_set_ranges(node.get_ranges()))
    template_kernel.removed_buffers |= recorder.removed_buffers
    template_kernel.inplaced_to_remove |= recorder.inplaced_to_remove

    coords = [COORDS[2], COORDS[1], COORDS[0]][:len(sizes)]  # n, m, b: innermost first

    def entry_expr(entry) -> sympy.Expr:
        low = _position(entry.divisor, bounds)
        high = _position(entry.divisor * entry.length, bounds, low or 0)
        if low is None or high is None:
            raise UnsupportedOp("matmul epilogue", f"an index ({entry.divisor}, {entry.length}) off C's grid")
        return sum((coords[k] * sympy.cancel(bounds[k] / bounds[low]) for k in range(low, high)), sympy.Integer(0))

    def on_c_grid(index: sympy.Expr) -> sympy.Expr:
        index = sympy.sympify(index)
        for _ in range(8):
            found = {s: entry_expr(recorder.range_tree_nodes[s]) for s in index.free_symbols
                     if s in recorder.range_tree_nodes}
            if not found:
                break
            index = index.xreplace(found)
        return sympy.expand(recorder.rename_indexing(index))

    def access(buffer_arg: str, index: sympy.Expr, dtype: torch.dtype) -> EpilogueAccess:
        index = on_c_grid(index)
        if index.has(FloorDiv, ModularIndexing) and any(
                f.free_symbols & set(COORDS) for f in index.atoms(FloorDiv, ModularIndexing)):
            raise UnsupportedOp("matmul epilogue", f"a non-affine index {index}")
        strides = [sympy.expand(sympy.diff(index, c)) for c in COORDS]
        offset = sympy.expand(index.xreplace({c: 0 for c in COORDS}))
        if any(s.free_symbols & set(COORDS) for s in strides) or \
                sympy.expand(offset + sum(s * c for s, c in zip(strides, COORDS)) - index) != 0:
            raise UnsupportedOp("matmul epilogue", f"a non-affine index {index}")
        return EpilogueAccess(buffer_arg, dtype, offset, tuple(strides))

    arg_to_buffer = {arg: name for name, arg in recorder.args.input_buffers.items()}
    arg_to_buffer.update({arg: name for name, arg in recorder.args.output_buffers.items() if isinstance(arg, str)})
    live_outputs = {arg for arg in recorder.args.output_buffers.values() if isinstance(arg, str)}
    epilogue = Epilogue(c_stored=c_name not in recorder.removed_buffers)
    for store in recorder.recorded_stores:
        if store.buffer not in live_outputs:
            continue
        dtype = V.graph.get_dtype(arg_to_buffer[store.buffer])
        epilogue.stores.append((access(store.buffer, store.index, dtype), store.value))
    for node in tile_ir.walk([value for _, value in epilogue.stores]):
        if isinstance(node, tile_ir.Load):
            if node.mask is not None or isinstance(node, indirect.IndirectLoad):
                raise UnsupportedOp("matmul epilogue", "a masked or indirect load")
            epilogue.loads.append((node, access(node.buffer, node.index, V.graph.get_dtype(arg_to_buffer[node.buffer]))))
        elif isinstance(node, tile_ir.IndexValue):
            node.expr = on_c_grid(node.expr)
        elif not isinstance(node, (tile_ir.Op, tile_ir.Constant, CTile)):
            raise UnsupportedOp("matmul epilogue", f"a {type(node).__name__} in the epilogue")
    for access_, _ in epilogue.stores:
        if access_.strides[1] == 0 and sizes[-2] != 1 or access_.strides[2] == 0 and sizes[-1] != 1:
            raise UnsupportedOp("matmul epilogue", "a store that does not cover the C tile")
    return epilogue
