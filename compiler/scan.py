"""Scans (cumsum, cumprod, ...: Inductor's `ops.scan`) on the kernel's reduction loop.

A scan runs along the reduction dim of its kernel. Its running value is carried like a
reduction's (iter_args of the `r` tile loop and of each tile's compute loop, which visit the
elements in order), but every element sees it: element r's result is combine(running, x[r]) and
is stored by the same loop. That is eager's sequential order with eager's accumulate type (ATen's
CPU kernel carries f32 in f64 and f16/bf16 in f32, rounding each output), so a cumsum is bit-exact.

Inductor's `combine_fn` is traced once through the kernel's own ops handler on two placeholders
(the running value and the element), so the combine is an ordinary tile-program subgraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from mlir import ir
from mlir.dialects import arith

from compiler.errors import UnsupportedOp
from compiler.printer import const_i64
from compiler.tile_ir import Node, Op


@dataclass(eq=False)
class ScanPlaceholder(Node):
    """Inside a scan's combine: the running value (`carry`) or the current element (`element`)."""

    role: str
    value_dtype: torch.dtype

    def cse_key(self) -> str:
        return f"scan_{self.role}({id(self)})"


@dataclass(eq=False)
class Scan(Node):
    """The inclusive scan of `value` along the reduction dim: `combined` = combine(carry, element)."""

    value: Node
    carry: ScanPlaceholder
    element: ScanPlaceholder
    combined: Node
    value_dtype: torch.dtype

    # its value changes along the reduction dim even where `value` does not (cumsum of a broadcast)
    varies_along_reduction = True

    def operands(self):
        return (self.value,)

    def cse_key(self) -> str:
        return f"scan({self.value.name}, {id(self)})"


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """ATen's CPU accumulate type (at::acc_type<T, false>), which its cumsum/cumprod carry."""
    if dtype == torch.float32:
        return torch.float64
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def record(kernel, dtypes, combine_fn, values) -> tuple:
    """ops.scan(dtypes, combine_fn, values) -> one CSE variable per value."""
    if len(values) != 1:
        raise UnsupportedOp("scan", f"a scan of {len(values)} values together (cummax/cummin with indices)")
    (value,), (dtype,) = values, dtypes
    acc = accumulator_dtype(dtype)
    carry, element = ScanPlaceholder("carry", acc), ScanPlaceholder("element", acc)
    carry_var = kernel.cse.generate(kernel.compute, kernel.record(carry), dtype=acc)
    element_var = kernel.cse.generate(kernel.compute, kernel.record(element), dtype=acc)
    (combined,) = combine_fn((carry_var,), (element_var,))
    combined = getattr(combined, "value", combined)  # ops.* called from Python return an OpsValue
    if getattr(combined, "node", None) is None:
        raise UnsupportedOp("scan", f"the combine function gave {combined!r}, not a kernel value")
    node = Scan(value.node, carry, element, combined.node, dtype)
    return (kernel.cse.generate(kernel.compute, kernel.record(node), dtype=dtype),)


def identity(scan: Scan) -> float | None:
    """The value the running value starts from when the combine has one (0 for a sum, 1 for a
    product, as ATen's cumsum/cumprod start); None: the first element is taken as it is."""
    combined = scan.combined
    if isinstance(combined, Op) and {id(a) for a in combined.args} == {id(scan.carry), id(scan.element)}:
        return {"add": 0, "mul": 1}.get(combined.op)
    return None


def inits(scans: list[Scan]) -> list[ir.Value]:
    from compiler.emitter import constant

    return [constant(identity(s) or 0, accumulator_dtype(s.dtype)) for s in scans]


def step(emitter, scans: list[Scan], element_scope, carried: list[ir.Value], position: ir.Value) -> list[ir.Value]:
    """One element of every scan (in dependency order): binds each scan's value in
    `element_scope` and returns the running values to yield."""
    from compiler.emitter import cast

    updates = []
    for scan, running in zip(scans, carried):
        acc = accumulator_dtype(scan.dtype)
        x = cast(emitter.value(scan.value, element_scope), scan.value.dtype, acc)
        element_scope.memo[id(scan.carry)] = running
        element_scope.memo[id(scan.element)] = x
        new = cast(emitter.value(scan.combined, element_scope), scan.combined.dtype, acc)
        if identity(scan) is None:
            new = arith.select(arith.cmpi(arith.CmpIPredicate.eq, position, const_i64(0)), x, new)
        element_scope.memo[id(scan)] = cast(new, acc, scan.dtype)
        updates.append(new)
    return updates
