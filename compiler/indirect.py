"""Indirect (data-dependent) indexing: embedding, index_select, gather, x[idx], index_put.

Inductor turns a tensor of indices into a symbol (`ops.indirect_indexing(var, size)` returns
`tmp3`) that appears in a later load's index (`w[s1 * tmp3 + x1]`). The kernel records the
symbol as an `IndirectIndex` (the value `var`, the indexed extent `size`, which bounds Inductor
could not prove) and the load as an `IndirectLoad` that depends on it.

Such a load is always an element-wise gather DMA (`npusim.dma {mode = "gather"}`): its address
comes from data, so neither a strided descriptor nor the trace skeleton can compute it (the
skeleton counts the gather's elements; the timing core charges each its own DRAM access). The
gather reads the index from the scratchpad its own tile loaded it into.

Bounds: where Inductor asks for a check, the kernel compares the index with [0, size) itself.
An index out of range calls `npusim_index_out_of_bounds(index, size, site)` (the functional
runtime writes `index_error.bin` and exits with NPUSIM_EXIT_INDEX; the host JIT records it), and
the address uses index 0 instead, so no out-of-range address is ever formed. The launcher turns
the report into `KernelIndexError` (an IndexError) naming the kernel, the index and the size.

A store through such an index (index_put, `x[idx] = v`: Inductor's Scatter node) is an
`IndirectStore`: an element-wise scatter loop (`npusim.dma {mode = "scatter"}`) after the tile's
compute, with the same bounds check. With accumulate=True (Inductor's store mode `atomic_add`)
each element is a read-modify-write of DRAM (`mode = "scatter_add"`), done in order, so duplicate
indices sum in eager's (serial) order; such a kernel's tile loop is not parallel: two cores
adding into one element would race, so the kernel runs on one core. The trace producer cannot
know a data-dependent address: it charges one DRAM access per element (a read and a write for
scatter_add) and records no store footprint for it (the store-once check covers affine stores).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy
import torch
from mlir import ir
from mlir.dialects import arith, func, scf
from torch._inductor.utils import sympy_index_symbol

from compiler.errors import UnsupportedOp
from compiler.tile_ir import IndexValue, Load, Node, Op, Store

REPORT_FUNCTION = "npusim_index_out_of_bounds"  # simulator/functional/runtime/launch_main.c


@dataclass(eq=False)
class IndirectIndex(Node):
    """The value of `var` used as an index into a dim of extent `size` (kernel size args)."""

    var: Node
    symbol: sympy.Symbol
    size: sympy.Expr
    check_lower: bool = False
    check_upper: bool = False
    site: int = 0  # its number in the kernel, named in an out-of-range report

    def operands(self):
        return (self.var,)


@dataclass(eq=False)
class IndirectLoad(Load):
    """A load whose index holds IndirectIndex symbols."""

    indices: tuple = ()

    def operands(self):
        return super().operands() + tuple(self.indices)


@dataclass(eq=False)
class IndirectIndexValue(IndexValue):
    """An index expression used as a value that holds IndirectIndex symbols (max_pool2d's
    indices: the window's origin plus the offset of its maximum, loaded from data)."""

    indices: tuple = ()

    def operands(self):
        return tuple(self.indices)


def index_value(kernel, expr: sympy.Expr, dtype: torch.dtype) -> IndexValue:
    """ops.index_expr's node: one that binds the indirect symbols of `expr` when it has any."""
    indices = indices_in(kernel, expr)
    return IndirectIndexValue(expr, dtype, indices) if indices else IndexValue(expr, dtype)


@dataclass(eq=False)
class IndirectStore(Store):
    """A store whose address holds IndirectIndex symbols, or any store that accumulates
    (Inductor's `atomic_add` mode: index_put with accumulate=True): always element-wise."""

    indices: tuple = ()
    accumulate: bool | str = False  # False, or the store mode that combines into DRAM


# Inductor's atomic_add, and the combining modes of scatter_reduce's prod/amax/amin
# (compiler/scatter.py): each element a read-modify-write of DRAM, in order
COMBINING_MODES = ("atomic_add", "npusim_prod", "npusim_amax", "npusim_amin")
STORE_MODES = (None, *COMBINING_MODES)


def record_store(kernel, buffer: str, index: sympy.Expr, value: Node, mode) -> Store:
    """The store of `ops.store(name, index, value, mode)`: affine stores stay plain Stores."""
    if mode not in STORE_MODES:
        raise UnsupportedOp(f"store mode {mode}")
    found = indices_in(kernel, index)
    if not found and mode is None:
        return Store(buffer, index, value)
    return IndirectStore(buffer, index, value, found, accumulate=mode or False)


def declare_overwrites(stores: list, loop_dims: list) -> list:
    """Stores of a pointwise kernel whose address does not depend on one of its loop dims write
    each element once per value of that dim: an index_put whose indexed dim has size 1 (Inductor
    folds the index to 0, at N = 1 every index is 0) writes one row M times. Such a store is an
    element-wise scatter in program order (the last write wins, as in eager's serial loop), not
    a strided store, which the timing core's store-once check would rightly reject."""
    result = []
    for store in stores:
        missing = [sym for sym, extent in loop_dims if sympy.sympify(extent) != 1 and sym not in store.index.free_symbols]
        if missing and not isinstance(store, IndirectStore):
            store = IndirectStore(store.buffer, store.index, store.value)
        result.append(store)
    return result


def is_scatter_add(store) -> bool:
    return isinstance(store, IndirectStore) and store.accumulate


# store mode -> (float combine, signed int combine, unsigned int combine)
COMBINE = {"atomic_add": (arith.addf, arith.addi, arith.addi), "npusim_prod": (arith.mulf, arith.muli, arith.muli),
           # NaN-propagating, as eager's `isnan(src) ? src : std::max(*dst, src)`
           "npusim_amax": (arith.maximumf, arith.maxsi, arith.maxui),
           "npusim_amin": (arith.minimumf, arith.minsi, arith.minui)}


def accumulated(old: ir.Value, new: ir.Value, dtype: torch.dtype, mode: str = "atomic_add") -> ir.Value:
    """old (+, *, max, min) new in `dtype`, as eager's serial `*dst op= *src` (a half combines in
    float, rounds once)."""
    from compiler.emitter import cast

    float_op, int_op, unsigned_op = COMBINE[mode]
    if dtype.is_floating_point:
        if dtype in (torch.float16, torch.bfloat16):
            return cast(float_op(cast(old, dtype, torch.float32), cast(new, dtype, torch.float32)),
                        torch.float32, dtype)
        return float_op(old, new)
    if dtype == torch.bool:
        raise UnsupportedOp("index_put", "accumulate=True into a bool tensor")
    return (unsigned_op if dtype == torch.uint8 else int_op)(old, new)


def record_index(kernel, var, size) -> sympy.Symbol:
    """ops.indirect_indexing: the symbol later index expressions use for `var`'s value."""
    node = getattr(var, "node", None)
    if node is None:
        raise UnsupportedOp("indirect_indexing", f"index {var!r} is not a kernel value")
    symbol = sympy_index_symbol(str(var))
    indices = kernel.indirect_indices
    if str(symbol) not in indices:
        index = IndirectIndex(node, symbol, kernel.rename_indexing(sympy.sympify(size)), site=len(indices))
        index.dtype, index.name = torch.int64, str(symbol)
        indices[str(symbol)] = index
    return symbol


def in_range_by_construction(expr, size) -> bool:
    """`expr` is a Python-style remainder by `size` itself, so 0 <= expr < size for any value."""
    expr, size = sympy.sympify(expr), sympy.sympify(size)
    name = type(expr).__name__
    if name == "ModularIndexing":
        return expr.args[2] == size
    return name in ("PythonMod", "Mod") and expr.args[1] == size


@dataclass
class RangeCheck:
    """A bounds check of an index that is no data but affine in the loop symbols: an index
    tensor Inductor folded into the loop variable (`p[torch.arange(n)]`, GPT-2's position
    embedding, reads row i of p for i < n; eager raises when n exceeds p's rows). Its extreme
    values over the loop domain are known at launch, so the kernel checks them once on entry
    and runs nothing when they are out of range: no out-of-range address is ever formed."""

    expr: sympy.Expr  # over range-tree variables until finish (kernel.finish_indexes)
    size: sympy.Expr
    check_lower: bool
    check_upper: bool
    site: int = 0


def in_loop_range(kernel, expr, size, lower: bool, upper: bool) -> bool:
    """`expr` of the kernel's loop variables (each in [0, length)) provably stays in [0, size)."""
    from torch._inductor.virtualized import V

    try:
        lengths = {str(var): length for var, length in kernel.var_ranges().items()}
    except (AttributeError, NotImplementedError):
        return False
    if size is None:
        return False
    known = V.graph.sizevars.statically_known_true

    def bounds(e):  # (lowest, highest) over the loop ranges, or None
        if e.is_Integer:
            return e, e
        if e.is_Symbol:
            return (sympy.Integer(0), lengths[str(e)] - 1) if str(e) in lengths else (e, e)
        if e.is_Add or type(e).__name__ in ("Max", "Min"):  # sympy's or torch's own Max/Min
            parts = [bounds(a) for a in e.args]
            if any(p is None for p in parts):
                return None
            los, his = zip(*parts)
            combine = sympy.Add if e.is_Add else e.func
            return combine(*los), combine(*his)
        if e.is_Mul and len(e.args) == 2 and e.args[0].is_Integer:
            inner = bounds(e.args[1])
            if inner is None:
                return None
            lo, hi = (e.args[0] * b for b in inner)
            return (lo, hi) if e.args[0] >= 0 else (hi, lo)
        return None

    def at_least_zero(e):
        if type(e).__name__ == "Max":
            return any(at_least_zero(a) for a in e.args)
        return known(sympy.Ge(e, 0))

    def below_size(e):
        if type(e).__name__ == "Max":
            return all(below_size(a) for a in e.args)
        return known(sympy.Lt(e, size))

    found = bounds(sympy.sympify(expr))
    if found is None:
        return False
    return (not lower or at_least_zero(found[0])) and (not upper or below_size(found[1]))


def mark_checked(kernel, expr, lower: bool, upper: bool, size=None) -> None:
    """Inductor's check_bounds: which bounds of an indirect index the kernel must check."""
    if not (lower or upper):
        return  # nothing asked: nothing to check
    index = getattr(kernel, "indirect_indices", {}).get(str(expr))
    if index is None and in_range_by_construction(expr, size):
        return  # roll's (i + shift) % size: Inductor asks, the modulus already bounds it
    if index is None and in_loop_range(kernel, expr, size, lower, upper):
        return  # mode's gather at max(r - 1, 0): the loop ranges bound it
    if index is None:
        loop_vars = getattr(kernel, "range_tree_nodes", {})
        if not all(s in loop_vars or re.fullmatch(r"k?s\d+", str(s)) for s in sympy.sympify(expr).free_symbols):
            raise UnsupportedOp("indirect_indexing", f"a bounds check of {expr}, which is neither an indirect index "
                                "nor affine in the loop variables")
        checks = kernel.range_checks
        checks.append(RangeCheck(sympy.sympify(expr), kernel.rename_indexing(sympy.sympify(size)), bool(lower),
                                 bool(upper), site=len(kernel.indirect_indices) + len(checks)))
        return
    index.check_lower |= bool(lower)
    index.check_upper |= bool(upper)


def affine_extremes(expr: sympy.Expr, extents: dict) -> tuple[sympy.Expr, sympy.Expr]:
    """(min, max) of `expr`, linear in loop symbols with numeric coefficients, over loop symbol s
    in [0, extents[s])."""
    expr = sympy.expand(expr)
    loop = [s for s in expr.free_symbols if s in extents]
    low = high = expr.subs({s: 0 for s in loop})
    for s in loop:
        coefficient = expr.coeff(s)
        if not coefficient.is_number or (expr - coefficient * s).has(s):
            raise UnsupportedOp("indirect_indexing", f"a bounds check of {expr}, which is not linear in {s}")
        span = coefficient * (extents[s] - 1)
        if coefficient > 0:
            high += span
        else:
            low += span
    return low, high


def check_ranges_on_entry(emitter, checks: list, extents: dict, env) -> ir.Value | None:
    """i1 `bad` for the kernel's range checks (each reported by the runtime, naming the extreme
    index that is out of range), or None when there are none."""
    from compiler.printer import IndexPrinter, const_i64

    if not checks:
        return None
    printer = IndexPrinter(env)
    bad_any = None
    for check in checks:
        low, high = affine_extremes(check.expr, extents)
        size = printer(check.size)
        for wanted, value, predicate in ((check.check_lower, low, arith.CmpIPredicate.slt),
                                         (check.check_upper, high, arith.CmpIPredicate.sge)):
            if not wanted:
                continue
            value = printer(value)
            bad = arith.cmpi(predicate, value, const_i64(0) if predicate == arith.CmpIPredicate.slt else size)
            report = scf.IfOp(bad)
            with ir.InsertionPoint(report.then_block):
                func.CallOp([], ir.FlatSymbolRefAttr.get(report_function(emitter)),
                            [value, size, const_i64(check.site)])
                scf.YieldOp([])
            bad_any = bad if bad_any is None else arith.ori(bad_any, bad)
    return bad_any


def indices_in(kernel, index: sympy.Expr) -> tuple[IndirectIndex, ...]:
    return tuple(kernel.indirect_indices[str(s)] for s in sorted(index.free_symbols, key=str)
                 if str(s) in kernel.indirect_indices)


def checked_value(emitter, index: IndirectIndex, scope) -> ir.Value:
    """The i64 index, checked against [0, size) where Inductor asked: out of range, it is
    reported and replaced by 0."""
    from compiler.emitter import cast
    from compiler.printer import IndexPrinter, const_i64

    value = cast(emitter.value(index.var, scope), index.var.dtype, torch.int64)
    if not (index.check_lower or index.check_upper):
        return value
    size = IndexPrinter(scope.env)(index.size)
    conditions = []
    if index.check_lower:
        conditions.append(arith.cmpi(arith.CmpIPredicate.slt, value, const_i64(0)))
    if index.check_upper:
        conditions.append(arith.cmpi(arith.CmpIPredicate.sge, value, size))
    bad = conditions[0] if len(conditions) == 1 else arith.ori(*conditions)
    raw = before_wrap(index.var)
    reported = value if raw is None else cast(emitter.value(raw, scope), raw.dtype, torch.int64)
    report = scf.IfOp(bad)
    with ir.InsertionPoint(report.then_block):
        func.CallOp([], ir.FlatSymbolRefAttr.get(report_function(emitter)), [reported, size, const_i64(index.site)])
        scf.YieldOp([])
    return arith.select(bad, const_i64(0), value)


def before_wrap(node: Node) -> Node | None:
    """The index as the user gave it, when `node` is Inductor's wrap of negatives
    (`where(i < 0, i + size, i)`): an out-of-range -7 at size 6 is reported as -7, as eager
    names it, not as the wrapped -1. None for any other index."""
    if not (isinstance(node, Op) and node.op == "where" and len(node.args) == 3):
        return None
    condition, wrapped, raw = node.args
    if isinstance(condition, Op) and condition.op == "lt" and condition.args[0] is raw and \
            isinstance(wrapped, Op) and wrapped.op == "add" and raw in wrapped.args:
        return raw
    return None


def report_function(emitter) -> str:
    """Declares the runtime's report function in the kernel module (once)."""
    if not getattr(emitter, "_declared_index_report", False):
        module_body = emitter.func.operation.parent.regions[0].blocks[0]
        i64 = ir.IntegerType.get_signless(64)
        with ir.InsertionPoint.at_block_begin(module_body):
            declaration = func.FuncOp(REPORT_FUNCTION, ir.FunctionType.get([i64, i64, i64], []),
                                      visibility="private")
        del declaration
        emitter._declared_index_report = True
    return REPORT_FUNCTION


def bind(emitter, indices, scope):
    """`scope.env` with each indirect symbol bound to its checked value in `scope`."""
    from compiler.emitter import _SymbolEnv

    env = _SymbolEnv(dict(scope.env))
    for index in indices:
        env[index.symbol] = emitter.value(index, scope)
    return env
