"""Scans (cumsum, cumprod, ...: Inductor's `ops.scan`) on the kernel's reduction loop.

A scan runs along the reduction dim of its kernel. Its running value is carried like a
reduction's (iter_args of the `r` tile loop and of each tile's compute loop, which visit the
elements in order), but every element sees it: element r's result is combine(running, x[r]) and
is stored by the same loop. That is eager's sequential order with eager's accumulate type (ATen's
CPU kernel carries f32 in f64 and f16/bf16 in f32, rounding each output), so a cumsum is bit-exact.

Inductor's `combine_fn` is traced once through the kernel's own ops handler on two placeholders
(the running value and the element), so the combine is an ordinary tile-program subgraph.

A scan of several values together (cummax/cummin: the running extreme and its index) is one
`Scan` with a placeholder pair per value; its results are `ScanOutput`s, bound by the same step.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from mlir import ir
from mlir.dialects import arith
from torch._inductor.ir import ReductionHint

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
    """The inclusive scan of `value` along the reduction dim: `combined` = combine(carry, element).
    With several values (`more`: one (value, carry, element, combined) per further value), the
    results are its `outputs` and the Scan's own value is the first."""

    value: Node
    carry: ScanPlaceholder
    element: ScanPlaceholder
    combined: Node
    value_dtype: torch.dtype
    more: tuple = ()
    outputs: list = field(default_factory=list)

    # its value changes along the reduction dim even where `value` does not (cumsum of a broadcast)
    varies_along_reduction = True

    def operands(self):
        return (self.value,) + tuple(m[0] for m in self.more)

    def cse_key(self) -> str:
        return f"scan({self.value.name}, {id(self)})"

    def parts(self) -> list[tuple]:
        """(value, carry, element, combined) per scanned value."""
        return [(self.value, self.carry, self.element, self.combined)] + list(self.more)


@dataclass(eq=False)
class ScanOutput(Node):
    """Result `k` of a scan of several values (bound by `step`)."""

    scan: Scan
    k: int
    value_dtype: torch.dtype

    varies_along_reduction = True

    def operands(self):
        return (self.scan,)

    def cse_key(self) -> str:
        return f"scan_output({self.scan.name}, {self.k})"


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """ATen's CPU accumulate type (at::acc_type<T, false>), which its cumsum/cumprod carry."""
    if dtype == torch.float32:
        return torch.float64
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def record(kernel, dtypes, combine_fn, values) -> tuple:
    """ops.scan(dtypes, combine_fn, values) -> one CSE variable per value."""
    carries, elements, carry_vars, element_vars = [], [], [], []
    for dtype in dtypes:
        acc = accumulator_dtype(dtype)
        carries.append(ScanPlaceholder("carry", acc))
        elements.append(ScanPlaceholder("element", acc))
        carry_vars.append(kernel.cse.generate(kernel.compute, kernel.record(carries[-1]), dtype=acc))
        element_vars.append(kernel.cse.generate(kernel.compute, kernel.record(elements[-1]), dtype=acc))
    combined = []
    for part in combine_fn(tuple(carry_vars), tuple(element_vars)):
        part = getattr(part, "value", part)  # ops.* called from Python return an OpsValue
        if getattr(part, "node", None) is None:
            raise UnsupportedOp("scan", f"the combine function gave {part!r}, not a kernel value")
        combined.append(part.node)
    if len(combined) != len(values):
        raise UnsupportedOp("scan", f"a combine of {len(values)} values gave {len(combined)}")
    more = tuple((v.node, c, e, m) for v, c, e, m in zip(values[1:], carries[1:], elements[1:], combined[1:]))
    node = Scan(values[0].node, carries[0], elements[0], combined[0], dtypes[0], more=more)
    first = kernel.cse.generate(kernel.compute, kernel.record(node), dtype=dtypes[0])
    if len(values) == 1:
        return (first,)
    node = first.node
    results = []
    for k, dtype in enumerate(dtypes):
        output = ScanOutput(node, k, dtype)
        results.append(kernel.cse.generate(kernel.compute, kernel.record(output), dtype=dtype))
        node.outputs.append(results[-1].node)
    return tuple(results)


def identity(scan: Scan) -> float | None:
    """The value the running value starts from when the combine has one (0 for a sum, 1 for a
    product, as ATen's cumsum/cumprod start); None: the first element is taken as it is."""
    combined = scan.combined
    if not scan.more and isinstance(combined, Op) and \
            {id(a) for a in combined.args} == {id(scan.carry), id(scan.element)}:
        return {"add": 0, "mul": 1}.get(combined.op)
    return None


def inits(scans: list[Scan]) -> list[ir.Value]:
    from compiler.emitter import constant

    return [constant(identity(s) or 0, carry.value_dtype) for s in scans for _, carry, *_ in s.parts()]


def step(emitter, scans: list[Scan], element_scope, carried: list[ir.Value], position: ir.Value) -> list[ir.Value]:
    """One element of every scan (in dependency order): binds each scan's value in
    `element_scope` and returns the running values to yield."""
    from compiler.emitter import cast

    updates = []
    carried = iter(carried)
    for scan in scans:
        parts = scan.parts()
        elements = []
        for value, carry, element, _ in parts:  # every placeholder is bound before any combine
            acc = carry.value_dtype
            elements.append(cast(emitter.value(value, element_scope), value.dtype, acc))
            element_scope.memo[id(carry)] = next(carried)
            element_scope.memo[id(element)] = elements[-1]
        first = arith.cmpi(arith.CmpIPredicate.eq, position, const_i64(0))
        news = []
        for (_, carry, _, combined), x in zip(parts, elements):
            acc = carry.value_dtype
            new = cast(emitter.value(combined, element_scope), combined.dtype, acc)
            news.append(arith.select(first, x, new) if identity(scan) is None else new)
        for k, ((_, carry, *_), new) in enumerate(zip(parts, news)):
            result = cast(new, carry.value_dtype, scan.outputs[k].dtype if scan.outputs else scan.dtype)
            if k == 0:
                element_scope.memo[id(scan)] = result
            if scan.outputs:
                element_scope.memo[id(scan.outputs[k])] = result
        updates += news
    return updates


@contextlib.contextmanager
def unsplit_scans():
    """Every scan runs whole along its row: Inductor splits a long scan over few rows into
    partial scans (a Triton cooperative kernel) and sends a split scan of several values
    (cummax/cummin) to ATen on the host. The npusim kernel scans a row in its reduction loop."""
    from torch._inductor import ir as inductor_ir

    saved = inductor_ir.Scan.__dict__["num_splits"]
    inductor_ir.Scan.num_splits = classmethod(lambda cls, *args, **kwargs: (ReductionHint.DEFAULT, 1))
    try:
        yield
    finally:
        inductor_ir.Scan.num_splits = saved
