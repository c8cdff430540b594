"""The tile program: what one fused Inductor kernel computes, recorded as a DAG.

Inductor drives codegen through ops handlers; the kernel records each value as
a node here (CSE'd by Inductor) instead of printing text. The emitter then
decides the loop structure (tile loops, reduction loops, DMA) and builds MLIR
from this DAG. Index expressions are sympy over the root loop symbols
(`xindex`, `r0_index`) and the kernel's size-arg symbols.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy
import torch


@dataclass(eq=False)
class Node:
    """One value of the tile program. `dtype` comes from Inductor's dtype propagation."""

    dtype: torch.dtype | None = field(default=None, init=False)
    name: str = field(default="", init=False)

    def operands(self) -> tuple["Node", ...]:
        return ()

    def symbols(self) -> set[sympy.Symbol]:
        """Free symbols this node reads directly (not through operands)."""
        return set()


@dataclass(eq=False)
class Load(Node):
    buffer: str  # kernel tensor-arg name, e.g. in_ptr0
    index: sympy.Expr
    # ops.masked: the element is read only where `mask` holds (a masked-off address, such as
    # x[j - 1] at j = 0, is never dereferenced); elsewhere it reads as zero.
    mask: Node | None = None

    def operands(self):
        return (self.mask,) if self.mask is not None else ()

    def symbols(self):
        return set(self.index.free_symbols)


@dataclass(eq=False)
class Constant(Node):
    value: Any
    const_dtype: torch.dtype


@dataclass(eq=False)
class IndexValue(Node):
    """ops.index_expr: an index expression used as a value."""

    expr: sympy.Expr
    value_dtype: torch.dtype

    def symbols(self):
        return set(self.expr.free_symbols)


@dataclass(eq=False)
class Op(Node):
    """A pointwise op; `op` is an Inductor ops name (add, exp, where, to_dtype, ...)."""

    op: str
    args: tuple[Node, ...]
    attrs: dict = field(default_factory=dict)

    def operands(self):
        return self.args


@dataclass(eq=False)
class Reduce(Node):
    """A reduction over the kernel's reduction variable; its value is uniform in that variable."""

    reduction_type: str
    value: Node
    acc_dtype: torch.dtype

    def operands(self):
        return (self.value,)


@dataclass(eq=False)
class Store:
    buffer: str
    index: sympy.Expr
    value: Node


@dataclass
class TileProgram:
    """Everything the emitter needs for one kernel."""

    name: str
    xnumel: sympy.Expr
    rnumel: sympy.Expr | None  # None: pointwise kernel
    xindex: sympy.Symbol
    rindex: sympy.Symbol | None
    stores: list[Store] = field(default_factory=list)
    # (kernel arg name, buffer name in the graph, dtype, kind) in argument order
    tensor_args: list[tuple[str, str, torch.dtype, str]] = field(default_factory=list)
    size_args: list[str] = field(default_factory=list)
    buffer_numels: dict[str, sympy.Expr] = field(default_factory=dict)
    # Inductor's dims of the x range tree, innermost first (symbol, extent); empty when indexes
    # use the flat `xindex` (kernel.NpuKernel.pointwise_dims)
    xdims: list[tuple[sympy.Symbol, sympy.Expr]] = field(default_factory=list)
    # bounds checks Inductor asked for on an index that is affine in the loop symbols
    # (`p[torch.arange(n)]`: the index is the loop variable itself): compiler/indirect.py RangeCheck
    range_checks: list = field(default_factory=list)


def walk(roots, stop=lambda node: False):
    """Post-order over the DAG under `roots`, each node once; `stop(node)` prunes below a node."""
    seen: set[int] = set()
    order: list[Node] = []

    def visit(node: Node) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if not stop(node):
            for child in node.operands():
                visit(child)
        order.append(node)

    for root in roots:
        visit(root)
    return order
