"""The npusim kernel: Inductor's SIMDKernel, recording a tile program instead of text.

Inductor calls load/store/reduction and the ops overrides while it walks the
fused nodes; each value becomes a tile_ir node (bound to Inductor's CSE
variable). `codegen_kernel` hands the program to the emitter, which builds
kernel.mlir; the artifact cache keeps it under its hash, and the wrapper gets
a one-line loader for the launcher.
"""

from __future__ import annotations

import json
import time

import sympy
import torch
from torch._inductor.codegen.common import CSE, CSEVariable, SizeArg, TensorArg
from torch._inductor.codegen.simd import SIMDKernel
from torch._inductor.utils import sympy_subs
from torch._inductor.virtualized import V

from compiler import argreduce, indirect, scan, tile_ir
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
    runlog.append("compile", {"kernel": meta["name"], "kernel_hash": kernel_hash,
                              "wall_s": round(time.perf_counter() - started, 6),
                              "config": config_name, "artifacts": str(entry.dir)})
    return kernel_hash, meta


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

    def to_root_index(self, index: sympy.Expr) -> sympy.Expr:
        """Rewrite range-tree variables (x0, r0_1, ...) into the root loop symbols, then rename sizes to kernel args."""
        for _ in range(8):
            replacements = {s: self.range_tree_nodes[s].expr for s in index.free_symbols if s in self.range_tree_nodes}
            if not replacements:
                break
            index = sympy_subs(index, replacements)
        return self.rename_indexing(index)

    def prepare_value_index(self, expr: sympy.Expr) -> sympy.Expr:
        return self.to_root_index(self.prepare_indexing(expr))

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
        if mode is not None:
            raise UnsupportedOp(f"store mode {mode}")
        arg = self.args.output(name)
        index = self.prepare_value_index(index)
        if indirect.indices_in(self, index):
            raise UnsupportedOp("index_put/scatter", f"the store to {name} at {index} goes through a data-dependent "
                                "index: it needs the scatter DMA")
        self.recorded_stores.append(tile_ir.Store(arg, index, value.node))

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

    def indirect_index(self, var, size):
        return indirect.record_index(self, var, size)

    def check_bounds(self, expr, size, lower, upper):
        # Inductor asks for this only around an indirect (data-dependent) index: the kernel checks it
        indirect.mark_checked(self, expr, lower, upper)

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
