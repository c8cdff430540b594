"""Wrapper codegen: Inductor's Python wrapper, with nothing computed on the host unseen.

An extern or fallback kernel would run the op with stock ATen on the host and
report success. So, when the wrapper of a graph is created (the graph is
lowered, no kernel is generated yet), every extern kernel of the graph and of
its subgraphs (torch.cond, while_loop, invoke_subgraph) that is not on the
allow-list below raises UnsupportedOp naming the op. The wrapper's extern call
paths check the same allow-list again, as a second line.

Each graph's launcher function (the main `call` and every subgraph function)
starts with one `npusim_graph_call` line naming the npusim kernels it
schedules, so the harness can check that every one of them launched.
"""

from __future__ import annotations

import itertools
import os
import re

from torch._inductor import ir
from torch._inductor.codegen.wrapper import PythonWrapperCodegen, SubgraphPythonWrapperCodegen
from torch._inductor.virtualized import V

from compiler.errors import UnsupportedOp
from npusim import runlog

# Extern nodes that compute nothing on the host: control flow whose subgraphs are checked
# in turn, the outputs of such a node, and scalar reads/asserts of sizes and predicates.
CONTROL_FLOW = (ir.Conditional, ir.WhileLoop, ir.InvokeSubgraph)
ALLOWED_EXTERN = (*CONTROL_FLOW, ir.MultiOutput, ir.AssertScalar, ir.DynamicScalar)

_graph_ids = itertools.count()
_LOAD_LINE = re.compile(r"load_npusim_kernel\('([0-9a-f]+)'\)")


def op_name(node) -> str:
    """The op an extern node runs, as a user names it (`mm`, `bernoulli`, `sort`)."""
    overload = getattr(node, "op_overload", None)
    packet = getattr(overload, "overloadpacket", None) or overload
    name = getattr(packet, "__name__", None)
    if not name:
        kernel = getattr(node, "python_kernel_name", None) or ""
        parts = [p for p in str(kernel).split(".") if p and p not in ("default", "out", "Tensor", "Scalar")]
        name = parts[-1] if parts else type(node).__name__
    return name.rstrip("_") or name


def _moves_no_data(node) -> bool:
    """A fallback that only makes a view (as_strided, view of a fallback output) computes nothing."""
    overload = getattr(node, "op_overload", None)
    return bool(getattr(overload, "is_view", False))


def refuse_host_work(node, where: str = "") -> None:
    """Raise UnsupportedOp for an extern/fallback node that would compute on the host."""
    if isinstance(node, ALLOWED_EXTERN) or _moves_no_data(node):
        return
    kernel = getattr(node, "python_kernel_name", None) or type(node).__name__
    raise UnsupportedOp(op_name(node), f"Inductor would run it on the host as {type(node).__name__} "
                                       f"({kernel}){where}, not on npusim")


def subgraphs_of(node) -> list:
    names = ("true_subgraph", "false_subgraph", "cond_subgraph", "body_subgraph", "subgraph")
    return [sub for sub in (getattr(node, n, None) for n in names) if sub is not None]


def check_graph(graph, where: str = "") -> None:
    """Every operation of `graph` and of its subgraphs runs on npusim, or UnsupportedOp."""
    for operation in graph.operations:
        if not isinstance(operation, ir.ExternKernel):
            continue
        refuse_host_work(operation, where)
        for subgraph in subgraphs_of(operation):
            if subgraph.graph is not None:
                check_graph(subgraph.graph, f" in subgraph {subgraph.name}")


def _checked(name: str):
    """A wrapper method that emits an extern call: refused unless the node is on the allow-list."""
    def method(self, node, *args, **kwargs):
        refuse_host_work(node)
        return getattr(PythonWrapperCodegen, name)(self, node, *args, **kwargs)

    method.__name__ = name
    return method


class _NpuWrapperMixin:
    """Refusals and the per-graph kernel record shared by the main and subgraph wrappers."""

    generate_fallback_kernel = _checked("generate_fallback_kernel")
    generate_extern_kernel_alloc = _checked("generate_extern_kernel_alloc")
    generate_extern_kernel_out = _checked("generate_extern_kernel_out")
    generate_extern_kernel_multi_out = _checked("generate_extern_kernel_multi_out")
    generate_scatter_fallback = _checked("generate_scatter_fallback")
    generate_index_put_fallback = _checked("generate_index_put_fallback")

    def generate_fallback_kernel_with_runtime_lookup(self, buf_name, python_kernel_name, *args, **kwargs):
        raise UnsupportedOp(str(python_kernel_name), "Inductor would run it as a fallback kernel on the host")

    def codegen_device_copy(self, src, dst, non_blocking=False):
        raise UnsupportedOp("copy_", f"a host copy {src} -> {dst} (InplaceCopyFallback / DeviceCopy)")

    def _npusim_setup(self, graph_name: str) -> None:
        """Before the base __init__ (which may already write lines): check the graph, name it."""
        check_graph(V.graph)
        self.npusim_graph = f"{os.getpid()}-{next(_graph_ids)}-{graph_name}"
        self.npusim_kernel_calls: list[str] = []

    def generate_kernel_call(self, kernel_name, call_args, **kwargs):
        self.npusim_kernel_calls.append(kernel_name)
        return super().generate_kernel_call(kernel_name, call_args, **kwargs)

    def scheduled_kernels(self) -> list[dict]:
        """The npusim kernels this graph's own function launches (not its subgraphs')."""
        by_name = {name: src for src, name in self.src_to_kernel.items()}
        kernels = []
        for name in dict.fromkeys(self.npusim_kernel_calls):
            match = _LOAD_LINE.search(by_name.get(name, ""))
            if match is None:
                raise UnsupportedOp(name, "a kernel call that is not an npusim kernel")
            kernels.append({"kernel": name, "kernel_hash": match.group(1)})
        return kernels

    def generate(self, is_inference):
        """Record the graph's kernels and make its function log each call before anything runs."""
        kernels = self.scheduled_kernels()
        runlog.append("graph", {"graph": self.npusim_graph, "kernels": kernels,
                                "subgraph": isinstance(self, SubgraphPythonWrapperCodegen)})
        hashes = [k["kernel_hash"] for k in kernels]
        self.lines[0:0] = ["from compiler.launcher import npusim_graph_call",
                           f"npusim_graph_call({self.npusim_graph!r}, {hashes!r})"]
        return super().generate(is_inference)


class NpuWrapperCodegen(_NpuWrapperMixin, PythonWrapperCodegen):
    supports_caching = False  # the output refers to npusim artifacts, not Inductor's cache

    def __init__(self):
        self._npusim_setup("main")
        super().__init__()

    @staticmethod
    def create(is_subgraph, subgraph_name, parent_wrapper, partition_signatures=None):
        if is_subgraph:
            return NpuSubgraphWrapperCodegen(subgraph_name, parent_wrapper, partition_signatures)
        return NpuWrapperCodegen()


class NpuSubgraphWrapperCodegen(_NpuWrapperMixin, SubgraphPythonWrapperCodegen):
    supports_caching = False

    def __init__(self, subgraph_name, parent_wrapper, partition_signatures=None):
        self._npusim_setup(subgraph_name)
        super().__init__(subgraph_name, parent_wrapper, partition_signatures)
