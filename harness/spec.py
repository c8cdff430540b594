"""Op specs: the data a suite declares. A new op family is a folder of specs, not harness code.

    OpSpec("add", lambda a, b: a + b, inputs=["N", "N"])
    OpSpec("softmax", lambda x: torch.softmax(x, -1), inputs=["M,N"], family tolerances...)

`inputs` gives one shape per argument: comma-separated dims, each a name (a
dynamic dim the size policy sweeps; the same name means the same size) or an
integer (a static dim). `values` picks how inputs are drawn ("normal",
"positive", "int", "unit", "index": int64 zeros, "index:V": int64 indices drawn from [0, size of
dim V) or [0, 7) for "index:7"; "perm:V": distinct ones, a shuffled [0, V) cut to the shape). `summed` names
the dims a sum runs over, so its atol grows with their product.

A model block is a spec with a `module` factory: `fn(module, *inputs)` runs it,
its weights are drawn once per process and dtype from `module_seed`, and
`sizes` lists each dim's sizes explicitly (suites/models).
"""

from __future__ import annotations

import math
import re

import types
import zlib
from dataclasses import dataclass, field
from typing import Callable

import torch

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16, "i32": torch.int32,
          "i64": torch.int64}

DTYPE_BITS = {"f32": 32, "f16": 16, "bf16": 16, "i32": 32, "i64": 64}

# Default tolerances per dtype: Spike's float32 arithmetic and our libm differ from
# ATen's in the last bits, and reductions sum in a different order.
TOLERANCES = {"f32": (1e-4, 1e-5), "f16": (1e-2, 1e-3), "bf16": (2e-2, 1e-2), "i32": (0, 0), "i64": (0, 0)}


@dataclass
class OpSpec:
    name: str
    fn: Callable
    inputs: list[str]
    dtypes: tuple[str, ...] = ("f32",)
    values: str | list[str] = "normal"
    rtol: float | None = None
    atol: float | None = None
    # dtype (or "*") -> (op, reason): a declared gap. The backend must refuse exactly that op
    # (UnsupportedOp naming it); a refusal of another op, or a pass, fails the case.
    xfail: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Dims a sum runs over. The kernel adds into one running float, whose rounding grows
    # about eps * n with the summed length n (eager sums in vector partials and drifts
    # far less), so a float case's atol grows to at least eps * n: a 131079-wide f32 row
    # allows 0.016, where a wrong or missing element moves the sum by about 1.
    summed: tuple[str, ...] = ()
    # "eager": values are compared with fn on the same inputs; "float64": with fn on the inputs
    # widened to float64 and rounded back, so a tolerance can bound the kernel's own rounding
    # (an accurate sum stays within a few ulps; one running float drifts eps * n).
    reference: str = "eager"
    # Which tile the size policy's sizes follow: "vector" (the vector/DMA tile; the innermost dim
    # sweeps, the others take a few sizes) or "systolic" (the array's rows; every dim sweeps the
    # full list while the others stay small, as a GEMM's M, N and K each have their own tiles) or
    # "image" (a conv's batch and spatial dims: small images, harness/sizes.py IMAGE_SIZES).
    size_tile: str = "vector"
    # Multiply-accumulates of one case, from its sizes (a matmul's M*N*K): the systolic term of the
    # physical-limit floor (harness/checks.py roofline). None: no MACs.
    macs: Callable[[dict[str, int]], int] | None = None
    # A model block: a factory of the torch.nn.Module that `fn` takes first, fn(module, *inputs).
    # Built once per process and dtype (weights drawn from module_seed, then cast), in eval().
    module: Callable[[], torch.nn.Module] | None = None
    module_seed: int = 0
    # Explicit sizes per dynamic dim, in place of the tile-derived size policy: a function of
    # (npu config, size policy) -> {"T": (1, 7, ...), "B": (1, 3, 5)}. Each dim sweeps its sizes while
    # the others stay at their first size of at least 2 (harness/sizes.py explicit_sweeps).
    sizes: Callable | None = None
    # Values from the host JIT instead of Spike for a case whose dims' product exceeds this (a big
    # model size); the cycles still come from the trace simulator. None: Spike at every size.
    host_values_above: int | None = None
    # Inputs read only where another input points (an embedding table): the physical-limit floor
    # leaves their bytes out, as a gather moves only the rows it is asked for.
    gathered: tuple[int, ...] = ()
    family: str = ""  # filled from the suite folder when empty

    def __post_init__(self) -> None:
        if self.reference not in ("eager", "float64"):
            raise ValueError(f"op spec {self.name}: reference must be 'eager' or 'float64', got {self.reference!r}")
        for key, gap in self.xfail.items():
            if not (isinstance(gap, tuple) and len(gap) == 2 and all(isinstance(x, str) and x for x in gap)):
                raise ValueError(f"OpSpec {self.name!r}: xfail[{key!r}] must be (op, reason), naming the op "
                                 f"the backend is expected to refuse; got {gap!r}")

    def instance(self, dtype: torch.dtype) -> torch.nn.Module:
        """The spec's module for this dtype: built once per process, seeded, in eval()."""
        built = self.__dict__.setdefault("_instances", {})
        if dtype not in built:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.module_seed)
                module = self.module()
            built[dtype] = module.to(dtype).eval()
        return built[dtype]

    def bound_fn(self, dtype: torch.dtype | None = None) -> Callable:
        """fn with the module bound (a model block), else fn itself."""
        if self.module is None:
            return self.fn
        module, fn = self.instance(dtype or torch.float32), self.fn
        return lambda *args: fn(module, *args)

    def functional_for(self, sizes: dict[str, int]) -> str | None:
        """'host' when the case is big enough for host values (host_values_above), else None."""
        if self.host_values_above is not None and math.prod(sizes.values()) > self.host_values_above:
            return "host"
        return None

    def expected(self, inputs: list[torch.Tensor]):
        """The values a case is checked against (see `reference`)."""
        if self.reference == "eager":
            return self.bound_fn(_dtype_of(inputs))(*inputs)
        wide = [t.double() if t.is_floating_point() else t for t in inputs]
        result = self.bound_fn(torch.float64)(*wide)
        if isinstance(result, torch.Tensor):
            return result.to(inputs[0].dtype) if result.is_floating_point() else result
        return type(result)(r.to(inputs[0].dtype) if r.is_floating_point() else r for r in result)

    def exact_reference(self, inputs: list[torch.Tensor], dtype: str):
        """A second reference a case may match when it misses `expected`: None here (eager is the
        reference). The OpInfo suite gives the float64 value for its summing ops, whose eager f32 sum
        can itself be farther off the exact value than the tolerance (torch.norm over 655k elements)."""
        return None

    def dims(self) -> list[str]:
        """Dynamic dim names in first-use order."""
        names: list[str] = []
        for shape in self.inputs:
            for dim in shape.split(","):
                dim = dim.strip()
                if dim and not dim.isdigit() and dim not in names:
                    names.append(dim)
        return names

    def static_dims(self) -> list[tuple[int, int]]:
        """(input index, dim) of every literal dim: those stay static (a broadcast 1 must)."""
        return [(i, d) for i, shape in enumerate(self.inputs)
                for d, dim in enumerate(x.strip() for x in shape.split(",") if x.strip()) if dim.isdigit()]

    def call_inputs(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Fresh copies for the compiled call, literal dims marked static for Dynamo."""
        copies = [t.clone() for t in inputs]
        for index, dim in self.static_dims():
            torch._dynamo.mark_static(copies[index], dim)
        return copies

    def traced_fn(self, dtype: str | torch.dtype = "f32") -> Callable:
        """A Python function around `fn`: Dynamo traces Python frames, so a bare builtin
        (torch.sqrt, F.gelu) given to torch.compile could otherwise run eagerly."""
        fn = self.bound_fn(DTYPES[dtype] if isinstance(dtype, str) else dtype)

        def case_fn(*args):
            return fn(*args)

        # Dynamo keeps compiled code and its recompile budget per code object: one
        # shared wrapper would spend that budget across every op, so each op gets its own.
        name = f"npusim_case_{''.join(c if c.isalnum() else '_' for c in self.name)}"
        code = case_fn.__code__.replace(co_name=name, co_qualname=name)
        wrapper = types.FunctionType(code, case_fn.__globals__, name, None, case_fn.__closure__)
        return wrapper

    def shapes(self, sizes: dict[str, int]) -> list[tuple[int, ...]]:
        return [tuple(int(d) if d.strip().isdigit() else sizes[d.strip()] for d in shape.split(",") if d.strip())
                for shape in self.inputs]

    def check_values(self, actual, expected, rtol: float, atol: float, inputs: list[torch.Tensor]) -> None:
        """Kernel output vs the expected values (a spec may check an op's unspecified parts its own way)."""
        from harness.checks import check_values

        check_values(actual, expected, rtol, atol)

    def tolerance(self, dtype: str, sizes: dict[str, int] | None = None) -> tuple[float, float]:
        rtol, atol = TOLERANCES[dtype]
        rtol, atol = (self.rtol if self.rtol is not None else rtol, self.atol if self.atol is not None else atol)
        if self.summed and sizes and DTYPES[dtype].is_floating_point:
            summed_length = math.prod(sizes[dim] for dim in self.summed)
            atol = max(atol, torch.finfo(torch.float32).eps * summed_length)  # low-precision sums accumulate in f32
        return rtol, atol

    def macs_of(self, sizes: dict[str, int]) -> int:
        return int(self.macs(sizes)) if self.macs is not None else 0

    def declared_gap(self, dtype: str) -> tuple[str, str] | None:
        """(op, reason) of the gap declared for this dtype, or None."""
        return self.xfail.get(dtype) or self.xfail.get("*")

    def xfail_reason(self, dtype: str) -> str | None:
        gap = self.declared_gap(dtype)
        return f"{gap[1]} (refuses {gap[0]!r})" if gap else None

    def make_inputs(self, sizes: dict[str, int], dtype: str, seed: int) -> list[torch.Tensor]:
        generator = torch.Generator().manual_seed(seed)
        kinds = self.values if isinstance(self.values, list) else [self.values] * len(self.inputs)
        return [draw(shape, DTYPES[dtype], kind, generator, sizes) for shape, kind in zip(self.shapes(sizes), kinds)]


def _dtype_of(inputs) -> torch.dtype:
    """The dtype a model block runs in: that of its first floating input."""
    return next((t.dtype for t in inputs if isinstance(t, torch.Tensor) and t.is_floating_point()), torch.float32)


def refusal_matches(declared: str, refused: str) -> bool:
    """A refusal of `reduction:argmax` or `argmax` matches a gap declared for `argmax`."""
    return declared == refused or declared in re.split(r"[^A-Za-z0-9_]+", refused)


def case_seed(op: str, dtype: str, sizes: dict[str, int]) -> int:
    """The input seed of a case: stable across processes (str hashes are salted per process)."""
    return zlib.crc32(repr((op, dtype, sorted(sizes.items()))).encode()) & 0x7FFFFFFF


def draw(shape, dtype: torch.dtype, kind: str, generator: torch.Generator,
         sizes: dict[str, int] | None = None) -> torch.Tensor:
    if kind == "index":  # int64 indices valid for any indexed dim (every dim has size >= 1)
        return torch.zeros(shape, dtype=torch.int64)
    if kind.startswith("index:"):  # int64 indices into a dim of the case (or a literal extent)
        bound = kind.partition(":")[2]
        high = int(bound) if bound.isdigit() else (sizes or {})[bound]
        return torch.randint(0, high, shape, generator=generator, dtype=torch.int64)
    if kind.startswith("perm:"):  # distinct int64 indices into a dim (an index_put without duplicates)
        bound = kind.partition(":")[2]
        high = int(bound) if bound.isdigit() else (sizes or {})[bound]
        numel = math.prod(shape)
        if numel > high:
            raise ValueError(f"{kind}: {numel} distinct indices below {high} do not exist")
        return torch.randperm(high, generator=generator)[:numel].reshape(shape)
    if kind == "edge":  # the values where semantics differ: NaN, infinities, signed zeros, extremes
        return draw_edges(shape, dtype, generator)
    if not dtype.is_floating_point or kind == "int":
        return torch.randint(-100, 100, shape, generator=generator).to(dtype)
    if kind == "normal":
        value = torch.randn(shape, generator=generator)
    elif kind == "positive":
        value = torch.rand(shape, generator=generator) * 4 + 0.05
    elif kind == "unit":
        value = torch.rand(shape, generator=generator) * 0.5 + 0.75
    else:
        raise ValueError(f"unknown input kind {kind!r}")
    return value.to(dtype)


def draw_edges(shape, dtype: torch.dtype, generator: torch.Generator) -> torch.Tensor:
    """Normal (or small integer) values with about a third replaced by edge values of the dtype:
    for floats NaN, +-inf, +-0, +-max, +-tiny; for integers the minimum, maximum, 0 and -1."""
    if dtype.is_floating_point:
        info = torch.finfo(dtype)
        edges = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, info.max, -info.max,
                              info.tiny, -info.tiny], dtype=torch.float64)
        base = torch.randn(shape, generator=generator, dtype=torch.float64)
    else:
        info = torch.iinfo(dtype)
        edges = torch.tensor([info.min, info.max, 0, -1 if info.min < 0 else 1], dtype=torch.int64)
        base = torch.randint(-100, 100, shape, generator=generator, dtype=torch.int64)
    pick = torch.randint(0, 3 * len(edges), shape, generator=generator)
    chosen = edges[pick.clamp(max=len(edges) - 1)]
    return torch.where(pick < len(edges), chosen, base).to(dtype)
