"""Wrapper codegen: Inductor's Python wrapper, refusing every extern/fallback kernel.

A fallback would run the op with stock ATen on the host and report success,
so each extern call path raises UnsupportedOp naming the op instead.
"""

from __future__ import annotations

from torch._inductor.codegen.wrapper import PythonWrapperCodegen, SubgraphPythonWrapperCodegen

from compiler.errors import UnsupportedOp


def _op_name(node) -> str:
    for attr in ("python_kernel_name", "op_overload", "kernel"):
        value = getattr(node, attr, None)
        if value:
            return str(value)
    return type(node).__name__


class NpuWrapperCodegen(PythonWrapperCodegen):
    supports_caching = False  # the output refers to npusim artifacts, not Inductor's cache

    @staticmethod
    def create(is_subgraph, subgraph_name, parent_wrapper, partition_signatures=None):
        if is_subgraph:
            return SubgraphPythonWrapperCodegen(subgraph_name, parent_wrapper, partition_signatures)
        return NpuWrapperCodegen()

    def _refuse(self, node):
        raise UnsupportedOp(_op_name(node), "Inductor would run it as an extern/fallback kernel on the host")

    generate_fallback_kernel = _refuse
    generate_extern_kernel_alloc = _refuse
    generate_extern_kernel_out = _refuse
    generate_extern_kernel_multi_out = _refuse
    generate_scatter_fallback = _refuse
    generate_index_put_fallback = _refuse

    def generate_fallback_kernel_with_runtime_lookup(self, buf_name, python_kernel_name, *args, **kwargs):
        raise UnsupportedOp(str(python_kernel_name), "Inductor would run it as a fallback kernel on the host")
