"""The npusim kernel: Inductor's SIMDKernel, recording a tile program instead of text.

Inductor calls load/store/reduction and the ops overrides while it walks the
fused nodes; each value becomes a tile_ir node (bound to Inductor's CSE
variable). `codegen_kernel` hands the program to the emitter, which builds
kernel.mlir; the artifact cache keeps it under its hash, and the wrapper gets
a one-line loader for the launcher.
"""

from __future__ import annotations

import dataclasses

import json
import time

import sympy
import torch
from torch._inductor.codegen.common import CSE, CSEVariable, SizeArg, TensorArg
from torch._inductor.codegen.simd import SIMDKernel
from torch._inductor.utils import sympy_subs
from torch._inductor.virtualized import V

from compiler import argreduce, indirect, scan, sort, tile_ir
from compiler.emitter import KernelEmitter
from compiler.errors import UnsupportedOp
from compiler.overrides import NpuOverrides
from npusim import cache, runlog
from npusim.config import NpuConfig

SUPPORTED_REDUCTIONS = ("sum", "prod", "max", "min", "any", "argmax", "argmin")


def record_size_expressions(meta: dict, arg_types) -> None:
    """Each size arg's expression over the graph's size symbols (`ks0` = `(s27//4)`), so a
    sample can derive every size arg from one consistent assignment of those symbols."""
    precomputed = V.graph.sizevars.inv_precomputed_replacements
    expressions = {}
    for arg in arg_types:
        if isinstance(arg, SizeArg):
            expr = sympy.sympify(arg.expr)
            for _ in range(8):  # precomputed sizes (ps0) may refer to others
                if not expr.free_symbols & set(precomputed):
                    break
                expr = sympy_subs(expr, {s: precomputed[s] for s in expr.free_symbols if s in precomputed})
            expressions[arg.name] = str(expr)
    for arg in meta["args"]:
        if arg["kind"] == "size" and arg["name"] in expressions:
            arg["expr"] = expressions[arg["name"]]


def publish_kernel(mlir: str, metadata, config_name: str, started: float) -> tuple[str, dict]:
    """Store kernel.mlir and kernel.json under the kernel's hash (CONTRACTS.md section 6) and log
    the compile event; `metadata(hash)` builds kernel.json. Returns (hash, metadata)."""
    kernel_hash = cache.sha256_text(mlir)
    entry = cache.entry(kernel_hash)
    entry.put_text("kernel.mlir", mlir)
    meta = metadata(kernel_hash)
    entry.put_text("kernel.json", json.dumps(meta, indent=1))
    # Two kernels of one graph may be the same program (cat's two copies into views of one
    # output): the wrapper calls that kernel twice, and it is compiled once.
    compiled_here = V.graph.__dict__.setdefault("_npusim_kernel_hashes", set())
    if kernel_hash in compiled_here:
        return kernel_hash, meta
    compiled_here.add(kernel_hash)
    runlog.append("compile", {"kernel": meta["name"], "kernel_hash": kernel_hash,
                              "wall_s": round(time.perf_counter() - started, 6),
                              "config": config_name, "artifacts": str(entry.dir)})
    return kernel_hash, meta


def _divides(small: sympy.Expr, big: sympy.Expr) -> bool:
    """`big` is `small` times a polynomial with integer coefficients in the size symbols, a floor
    of sizes ((s0 - 1)//2) counting as one opaque symbol. Both are products of range lengths, so
    the quotient is a positive integer whatever its signs: `x[..., 1:]` of [B, M, N] has the
    boundaries N - 1 and (N - 1) * M (a coefficient of -1 used to drop its dims, leaving a
    flat gather and scatter)."""
    quotient = sympy.cancel(sympy.sympify(big) / small)
    opaque = {f: sympy.Dummy(positive=True, integer=True) for f in quotient.atoms(sympy.Function)}
    quotient = quotient.xreplace(opaque)
    numerator, denominator = sympy.fraction(quotient)
    return denominator == 1 and quotient.is_polynomial() and all(
        c.is_Integer for c in sympy.Poly(numerator, *numerator.free_symbols or [sympy.Symbol("_")]).coeffs())


def split_range_tree(entries, numel: sympy.Expr, prefix: str):
    """(dims, entry -> expression over the dims) for one range tree, or None (see
    NpuKernel.pointwise_dims). Dim k spans boundaries b_k..b_{k+1} of the flat index."""
    if not entries:
        return None
    boundaries = [sympy.Integer(1), sympy.sympify(numel)]
    for entry in entries:
        for b in (sympy.sympify(entry.divisor), sympy.sympify(entry.divisor * entry.length)):
            if all(sympy.simplify(b - c) != 0 for c in boundaries):
                boundaries.append(b)
    if len(boundaries) <= 2:
        return None
    ordered = []
    remaining = list(boundaries)
    while remaining:  # the boundary that divides all the others comes next
        smallest = [b for b in remaining if all(_divides(b, c) for c in remaining)]
        if not smallest:
            return None
        ordered.append(smallest[0])
        remaining.remove(smallest[0])
    if sympy.simplify(ordered[-1] - sympy.sympify(numel)) != 0:
        return None
    symbols = [sympy.Symbol(f"{prefix}dim{k}", integer=True, nonnegative=True) for k in range(len(ordered) - 1)]
    dims = [(sym, sympy.cancel(ordered[k + 1] / ordered[k])) for k, sym in enumerate(symbols)]

    def position(b):
        return next(k for k, c in enumerate(ordered) if sympy.simplify(b - c) == 0)

    exprs = {}
    for entry in entries:
        low, high = position(sympy.sympify(entry.divisor)), position(sympy.sympify(entry.divisor * entry.length))
        exprs[entry.symbol()] = sum((symbols[k] * sympy.cancel(ordered[k] / ordered[low]) for k in range(low, high)),
                                    sympy.Integer(0))
    return dims, exprs


class NpuCSEVariable(CSEVariable):
    def __init__(self, name, bounds, dtype=None, shape=None):
        super().__init__(name, bounds, dtype, shape)
        self.node: tile_ir.Node | None = None


class NpuCSE(CSE):
    """CSE that binds each new variable to the tile-program node its key names."""

    def put(self, cache_key, val):
        super().put(cache_key, val)
        V.kernel.bind(cache_key, val)


class NpuKernel(SIMDKernel):
    overrides = NpuOverrides  # type: ignore[assignment]
    kexpr = staticmethod(str)
    npu_config: NpuConfig  # set by the scheduling before construction

    def __init__(self, tiling, **kwargs) -> None:
        for prefix in tiling:
            if prefix not in ("x", "r0_"):
                raise UnsupportedOp(f"tiling:{prefix}", "npusim kernels tile one pointwise and one reduction dim")
        super().__init__(tiling, **kwargs)
        self.cse = NpuCSE(self.newvar_prefix, self.suffix)
        self._pending: dict[str, tile_ir.Node] = {}
        self.recorded_stores: list[tile_ir.Store] = []
        self.indirect_indices: dict[str, indirect.IndirectIndex] = {}  # by symbol name (tmp3)
        self.range_checks: list[indirect.RangeCheck] = []  # checks of loop-affine indices
        self.started = time.perf_counter()

    def dtype_to_str(self, dtype: torch.dtype) -> str:
        return str(dtype).replace("torch.", "")

    # --- recording -------------------------------------------------------
    def create_cse_var(self, name, bounds=None, dtype=None, shape=None):
        return NpuCSEVariable(name, bounds, dtype, shape)

    def record(self, node: tile_ir.Node) -> str:
        key = self._key(node)
        self._pending[key] = node
        return key

    def bind(self, key: str, var: NpuCSEVariable) -> None:
        node = self._pending.pop(key, None)
        if node is None:
            raise UnsupportedOp("codegen", f"value {key!r} was not produced by the npusim ops handler")
        node.name = var.name
        node.dtype = var.dtype or getattr(node, "value_dtype", None) or getattr(node, "const_dtype", None)
        if node.dtype is None:
            raise UnsupportedOp(getattr(node, "op", type(node).__name__), "Inductor gave the value no dtype")
        var.node = node

    @staticmethod
    def _key(node: tile_ir.Node) -> str:
        def name(arg):
            return arg.name or f"const({arg.value!r}:{arg.const_dtype})"

        if hasattr(node, "cse_key"):  # nodes of the capability modules (scan.py) name themselves
            return node.cse_key()
        if isinstance(node, tile_ir.Load):
            return f"load({node.buffer}, {node.index}{', mask=' + node.mask.name if node.mask else ''})"
        if isinstance(node, tile_ir.Constant):
            return f"const({node.value!r}:{node.const_dtype})"
        if isinstance(node, tile_ir.IndexValue):
            return f"index({node.expr}:{node.value_dtype})"
        if isinstance(node, tile_ir.Reduce):
            return f"reduce_{node.reduction_type}({name(node.value)}:{node.acc_dtype})"
        attrs = "".join(f", {k}={v}" for k, v in sorted(node.attrs.items()))
        return f"{node.op}({', '.join(name(a) for a in node.args)}{attrs})"

    # --- indexing ----------------------------------------------------------
    def root_symbols(self) -> dict[str, sympy.Symbol]:
        return {tree.prefix: tree.index_sym() for tree in self.range_trees}

    def pointwise_dims(self) -> list[tuple[sympy.Symbol, sympy.Expr]] | None:
        """Inductor's dimensions of the `x` range tree, innermost first, as loop symbols and lengths.

        Each range-tree entry covers [divisor, divisor * length) of the flat index; where their
        boundaries divide one another (1 | N | M*N), every entry is a sum of whole dims
        (x0 = xindex % N is dim 0, xindex is dim 0 + N * dim 1), so a broadcast, transpose or
        strided view is affine in each dim instead of a FloorDiv/ModularIndexing of one flat
        index (cf. the Halide backend's dims). None when the x tree is one dim or its
        boundaries do not nest (the flat index then stays, with gathers where it must)."""
        if not hasattr(self, "_pointwise_dims"):
            self._pointwise_dims = split_range_tree(
                [n for n in self.range_tree_nodes.values() if n.prefix == "x"], self.numels["x"], "x")
        return self._pointwise_dims

    def to_root_index(self, index: sympy.Expr) -> sympy.Expr:
        """Rewrite range-tree variables (x0, r0_1, ...) into the kernel's loop symbols (the x dims,
        else the root index), then rename sizes to kernel args."""
        dims = self.pointwise_dims()
        for _ in range(8):
            replacements = {}
            for s in index.free_symbols:
                if s not in self.range_tree_nodes:
                    continue
                entry = self.range_tree_nodes[s]
                replacements[s] = dims[1][s] if dims and s in dims[1] else entry.expr
            if not replacements:
                break
            index = sympy_subs(index, replacements)
        return self.rename_indexing(index)

    def prepare_value_index(self, expr: sympy.Expr) -> sympy.Expr:
        # Kept over range-tree entries until program(): the dims are known once every entry is.
        return self.prepare_indexing(expr)

    def finish_indexes(self, stores: list[tile_ir.Store]) -> None:
        """Rewrite every recorded index over the kernel's loop symbols (to_root_index)."""
        for store in stores:
            store.index = self.to_root_index(store.index)
        roots = [s.value for s in stores] + [i for s in stores for i in getattr(s, "indices", ())]  # index_put's
        for node in tile_ir.walk(roots):
            if isinstance(node, tile_ir.Load):
                node.index = self.to_root_index(node.index)
            elif isinstance(node, tile_ir.IndexValue):
                node.expr = self.to_root_index(node.expr)

    def bucketize(self, values, boundaries, boundary_indices, indexing_dtype, right, sorter=None,
                  sorter_indices=None):
        """Inductor's CSEProxy hands ops.bucketize to the kernel: a binary search (compiler/search.py)."""
        from compiler import search

        key = search.bucketize(values, boundaries, boundary_indices, indexing_dtype, right, sorter, sorter_indices)
        return self.cse.generate(self.compute, key, dtype=indexing_dtype)

    # --- memory ops ----------------------------------------------------------
    def load(self, name: str, index: sympy.Expr):
        mask = None
        if self._load_mask:  # inside ops.masked (NpuOverrides.masked)
            mask = getattr(self._load_mask, "node", None)
            if mask is None:
                raise UnsupportedOp("masked load", f"mask {self._load_mask!r} is not a kernel value")
        arg = self.args.input(name)
        index = self.prepare_value_index(index)
        indices = indirect.indices_in(self, index)
        node = indirect.IndirectLoad(arg, index, mask, indices) if indices else tile_ir.Load(arg, index, mask)
        key = self.record(node)
        return self.cse.generate(self.loads, key, dtype=V.graph.get_dtype(name))

    def store(self, name: str, index: sympy.Expr, value, mode=None) -> None:
        arg = self.args.output(name)
        index = self.prepare_value_index(index)
        self.recorded_stores.append(indirect.record_store(self, arg, index, value.node, mode))

    def reduction(self, dtype, src_dtype, reduction_type, value):
        if reduction_type == "welford_reduce":
            return self.welford_reduce_fallback(dtype, value)
        if reduction_type == "online_softmax_reduce":
            return self.prepare_softmax_twopass_fallback(dtype, value)
        arg_reduction = reduction_type in argreduce.ARG_REDUCTIONS
        if reduction_type not in SUPPORTED_REDUCTIONS or (isinstance(value, tuple) and not arg_reduction):
            raise UnsupportedOp(f"reduction:{reduction_type}")
        cache_key = (src_dtype, reduction_type, value)
        if cache_key in self.cse.reduction_cache:
            return self.cse.reduction_cache[cache_key]
        if arg_reduction:
            key = argreduce.record(self, dtype, reduction_type, value)
        else:
            key = self.record(tile_ir.Reduce(reduction_type, value.node, dtype))
        result = self.cse.generate(self.compute, key, dtype=dtype)
        self.cse.reduction_cache[cache_key] = result
        return result

    def scan(self, dtypes, combine_fn, values):
        return scan.record(self, dtypes, combine_fn, values)

    def sort(self, dtypes, values, stable, descending):
        return sort.record(self, dtypes, values, stable, descending)

    def indirect_index(self, var, size):
        return indirect.record_index(self, var, size)

    def check_bounds(self, expr, size, lower, upper):
        # Inductor asks for this only around an indirect (data-dependent) index: the kernel checks it
        indirect.mark_checked(self, expr, lower, upper, size)

    def codegen_body(self):
        pass  # the emitter decides the loop structure from the recorded DAG

    def codegen_iteration_ranges_entry(self, entry):
        pass

    # --- kernel ----------------------------------------------------------------
    def program(self) -> tile_ir.TileProgram:
        roots = self.root_symbols()
        xnumel = self.rename_indexing(self.numels["x"])
        is_reduction = self.features.is_reduction()
        rnumel = self.rename_indexing(self.numels["r0_"]) if is_reduction else None
        if self.args.inplace_buffers:
            raise UnsupportedOp("inplace buffer", ", ".join(self.args.inplace_buffers))
        program = tile_ir.TileProgram(
            name=getattr(self, "descriptive_name", "") or "kernel", xnumel=xnumel, rnumel=rnumel,
            xindex=roots["x"], rindex=roots["r0_"] if is_reduction else None, stores=list(self.recorded_stores))

        _, _, arg_types, _ = self.args.python_argdefs()
        # By argument name: a buffer mutated in place is both an input (in_ptr) and an output (out_ptr).
        output_names = set(self.args.output_buffers.values())
        for arg in arg_types:
            if isinstance(arg, TensorArg):
                kind = "output" if arg.name in output_names else "input"
                numel = V.graph.get_buffer(arg.buffer).get_layout().storage_size()
                program.buffer_numels[arg.name] = self.rename_indexing(numel)
                program.tensor_args.append((arg.name, arg.buffer, arg.dtype, kind))
            elif not isinstance(arg, SizeArg):
                raise UnsupportedOp(type(arg).__name__, "kernel argument kind")
        # Stores to buffers Inductor removed (consumed only inside this kernel) are dropped,
        # as Triton's DeferredLine does; their values stay available as DAG nodes.
        live = {name for name, *_ in program.tensor_args}
        program.stores = [s for s in program.stores if s.buffer in live]
        self.finish_indexes(program.stores)
        dims = self.pointwise_dims()
        if dims:
            program.xdims = [(sym, self.rename_indexing(length)) for sym, length in dims[0]]
        program.range_checks = [dataclasses.replace(check, expr=self.to_root_index(check.expr),
                                                    site=len(self.indirect_indices) + number)
                                for number, check in enumerate(self.range_checks)]
        return program

    def codegen_kernel(self, name=None) -> str:
        program = self.program()
        # python_argdefs again: renaming buffer numels may have added size args
        _, call_args, arg_types, _ = self.args.python_argdefs()
        self.call_args = [V.graph.wrapper_code.codegen_python_sizevar(a) if isinstance(a, sympy.Expr) else str(a)
                          for a in call_args]
        program.size_args = [a.name for a in arg_types if isinstance(a, SizeArg)]
        emitted = KernelEmitter(program, self.npu_config).emit()
        self.kernel_hash, self.kernel_meta = publish_kernel(
            emitted.mlir, lambda digest: self._metadata(emitted, digest, arg_types), self.npu_config.name,
            self.started)
        return f"load_npusim_kernel({self.kernel_hash!r})"

    def _metadata(self, emitted, digest: str, arg_types) -> dict:
        meta = emitted.metadata(digest, self.npu_config.name)
        record_size_expressions(meta, arg_types)
        return meta

    def call_kernel(self, name: str, node=None, deallocate_ws: bool = True):
        V.graph.wrapper_code.generate_kernel_call(
            name, self.call_args, device=V.graph.get_current_device_or_throw(), triton=False)
