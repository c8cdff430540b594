"""Checks @kernel's signature against kernel.json before a launch.

The runtime passes rank-1 descriptors and int64 values blindly (CONTRACTS.md
section 3), so a kernel whose arguments drift from its metadata (a rank-2
memref, a size arg missing, f16 data declared float32) would read garbage
instead of failing. This turns that into a LaunchArgumentError. Checked once
per (kernel text, args metadata) per process.
"""

from __future__ import annotations

import json
import threading

from npusim import cache

from simulator.functional.errors import LaunchArgumentError

_checked: set[str] = set()
_lock = threading.Lock()


def _parameter_types(text: str) -> list:
    from mlir import ir

    with ir.Context():
        module = ir.Module.parse(text)
        for op in module.body.operations:
            if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == "kernel":
                function_type = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
                return [_describe(t) for t in function_type.inputs]
    raise LaunchArgumentError("kernel.mlir has no func.func @kernel", None)


def _describe(mlir_type) -> tuple[str, int, int, bool]:
    """(kind, rank, element bits, is float) of one parameter type."""
    from mlir import ir

    if isinstance(mlir_type, ir.MemRefType):  # the bindings return downcast types
        memref = mlir_type
        element = memref.element_type
        return "memref", memref.rank, _bits(element), _is_float(element)
    return "scalar", 0, _bits(mlir_type), _is_float(mlir_type)


def _bits(mlir_type) -> int:
    from mlir import ir

    if isinstance(mlir_type, (ir.IntegerType, ir.FloatType)):
        return mlir_type.width
    if isinstance(mlir_type, ir.IndexType):
        return 64
    return 0  # anything else matches no dtype


def _is_float(mlir_type) -> bool:
    from mlir import ir

    return isinstance(mlir_type, ir.FloatType)


def check_kernel_signature(text: str, meta: dict) -> None:
    key = cache.sha256_text(text + json.dumps(meta.get("args"), sort_keys=True, default=str))
    with _lock:
        if key in _checked:
            return
    import torch

    from simulator.functional.launch_args import torch_dtype

    try:
        parameters = _parameter_types(text)
    except LaunchArgumentError:
        raise
    except Exception as exc:  # not parseable: the build reports it with its own step name
        raise LaunchArgumentError(f"kernel.mlir does not parse: {exc}", None) from exc
    specs = meta["args"]
    name = meta.get("name")
    if len(parameters) != len(specs):
        raise LaunchArgumentError(f"kernel {name!r}: @kernel has {len(parameters)} parameters, kernel.json lists "
                                  f"{len(specs)} args", None)
    for index, (spec, (kind, rank, bits, is_float)) in enumerate(zip(specs, parameters)):
        where = f"kernel {name!r} argument {index} ({spec['name']})"
        if spec["kind"] == "size":
            if kind != "scalar" or bits != 64 or is_float:
                raise LaunchArgumentError(f"{where}: a size arg must be an i64 parameter", None)
            continue
        if kind != "memref" or rank != 1:
            raise LaunchArgumentError(f"{where}: a tensor arg must be a rank-1 memref "
                                      f"(got {kind}{f' of rank {rank}' if kind == 'memref' else ''})", None)
        dtype = torch_dtype(spec["dtype"], where)
        storage_bits = 8 * torch.empty((), dtype=dtype).element_size()
        if (bits == 1 and storage_bits != 8) or (bits != 1 and bits != storage_bits) \
                or is_float != dtype.is_floating_point:
            raise LaunchArgumentError(f"{where}: memref element of {bits} bits "
                                      f"({'float' if is_float else 'integer'}) does not hold {spec['dtype']}", None)
    with _lock:
        _checked.add(key)
