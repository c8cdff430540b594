"""Kernel arguments <-> the launch ABI (CONTRACTS.md sections 2 and 3).

`prepare_arguments(meta, args)` checks the call against kernel.json and
returns one PreparedArg per kernel argument: the flat contiguous tensor (or
None for an output the caller did not allocate), the element count, the size
value. Shared by the Spike runner and host mode.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from simulator.functional.errors import LaunchArgumentError

KIND_CODES = {"input": 0, "output": 1, "inout": 2, "size": 3}
# Far above what Inductor fuses into one kernel (npusim_rt.h NPUSIM_MAX_ARGS is the same
# number); the compiler refuses a larger kernel at compile time.
MAX_KERNEL_ARGS = 1024


@dataclass
class PreparedArg:
    index: int
    name: str
    kind: str  # input | output | inout | size
    dtype: torch.dtype | None = None
    count: int = 0  # element count of a tensor, the value of a size arg
    tensor: torch.Tensor | None = None  # flat, contiguous, CPU (inputs and inouts)

    @property
    def elem_bytes(self) -> int:
        return 8 if self.kind == "size" else _itemsize(self.dtype)

    @property
    def produces_output(self) -> bool:
        return self.kind in ("output", "inout")


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def torch_dtype(name: str, where: str) -> torch.dtype:
    dtype = getattr(torch, str(name), None)
    if not isinstance(dtype, torch.dtype):
        raise LaunchArgumentError(f"{where}: unknown dtype {name!r} in kernel.json", None)
    return dtype


def _evaluate_numel(expression, sizes: dict[str, int], where: str) -> int | None:
    if isinstance(expression, int):
        return expression
    if expression is None:
        return None
    try:
        import sympy

        # Size names are symbols even when they shadow builtins (e.g. "len").
        symbols = {name: sympy.Symbol(name) for name in sizes}
        value = sympy.sympify(str(expression), locals=symbols).subs({symbols[k]: v for k, v in sizes.items()})
        return int(value)
    except Exception as exc:
        raise LaunchArgumentError(f"{where}: cannot evaluate numel {expression!r} with sizes {sizes}: {exc}",
                                  None) from exc


def prepare_arguments(meta: dict, args: list, launch_dir: Path | None = None) -> list[PreparedArg]:
    arg_specs = meta["args"]
    if len(args) != len(arg_specs):
        raise LaunchArgumentError(
            f"kernel {meta.get('name')!r} takes {len(arg_specs)} arguments "
            f"({', '.join(a['name'] for a in arg_specs)}), got {len(args)}", launch_dir)
    if len(arg_specs) > MAX_KERNEL_ARGS:
        raise LaunchArgumentError(f"kernel {meta.get('name')!r} has {len(arg_specs)} arguments; the "
                                  f"functional runtime passes at most {MAX_KERNEL_ARGS}", launch_dir)
    sizes = {}
    for spec, value in zip(arg_specs, args):
        if spec["kind"] == "size":
            if isinstance(value, torch.Tensor):
                value = value.item()
            sizes[spec["name"]] = int(value)
    prepared = []
    for index, (spec, value) in enumerate(zip(arg_specs, args)):
        kind, name = spec["kind"], spec["name"]
        where = f"argument {index} ({name})"
        if kind not in KIND_CODES:
            raise LaunchArgumentError(f"{where}: unknown kind {kind!r} in kernel.json", launch_dir)
        if kind == "size":
            prepared.append(PreparedArg(index, name, kind, count=sizes[name]))
            continue
        dtype = torch_dtype(spec["dtype"], where)
        expected = _evaluate_numel(spec.get("numel"), sizes, where)
        if value is None:
            if kind != "output":
                raise LaunchArgumentError(f"{where}: an {kind} needs a tensor, got None", launch_dir)
            if expected is None:
                raise LaunchArgumentError(f"{where}: output given as None and kernel.json has no numel",
                                          launch_dir)
            prepared.append(PreparedArg(index, name, kind, dtype, expected))
            continue
        if not isinstance(value, torch.Tensor):
            raise LaunchArgumentError(f"{where}: expected a tensor, got {type(value).__name__}", launch_dir)
        if value.dtype != dtype:
            raise LaunchArgumentError(f"{where}: tensor dtype {value.dtype} but kernel.json says {dtype}",
                                      launch_dir)
        flat = value.detach().to("cpu").contiguous().view(-1)
        # An empty tensor is never indexed (its loops run zero times), though Inductor's storage
        # size of a (5, 0) tensor, 1 + sum((size - 1) * stride), is not 0.
        if expected is not None and 0 < flat.numel() < expected:
            raise LaunchArgumentError(f"{where}: tensor has {flat.numel()} elements, the kernel indexes "
                                      f"{expected} (numel {spec.get('numel')!r} at {sizes})", launch_dir)
        prepared.append(PreparedArg(index, name, kind, dtype, flat.numel(),
                                    None if kind == "output" else flat))
    return prepared


def launch_header(prepared: list[PreparedArg]) -> bytes:
    words = [len(prepared)]
    for arg in prepared:
        words += [KIND_CODES[arg.kind], arg.elem_bytes, arg.count]
    return struct.pack(f"<{len(words)}q", *words)


def tensor_bytes(tensor: torch.Tensor) -> memoryview:
    """Raw bytes of a flat contiguous CPU tensor, without a copy."""
    return memoryview(tensor.view(torch.uint8).numpy()) if tensor.numel() else memoryview(b"")


def tensor_from_bytes(data: bytes | bytearray, dtype: torch.dtype, count: int) -> torch.Tensor:
    if count == 0:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(bytearray(data) if isinstance(data, bytes) else data, dtype=dtype, count=count)
