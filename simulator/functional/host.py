"""Host mode: the same kernel.mlir, lowered with the same upstream pipeline,
JIT-compiled for the host by MLIR's ExecutionEngine. The fast developer mode
and the second opinion for Spike's values (math calls resolve to the host
libm here, to runtime/libm.c on Spike). No instruction count.

Engines are cached per kernel hash in this process; ExecutionEngine needs the
MLIR context alive for as long as it is, so the context is kept with it.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import torch

from npusim import cache

from simulator.functional import toolchain
from simulator.functional.errors import FunctionalBuildError, FunctionalRunError, KernelIndexError
from simulator.functional.launch_args import prepare_arguments

_engines: dict[str, tuple] = {}
_lock = threading.Lock()
_index_reports = threading.local()


@ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
def _index_out_of_bounds(index, size, site):
    """The runtime's npusim_index_out_of_bounds on the host: the kernel goes on (with index 0,
    compiler/indirect.py) and run_host raises once the call returns."""
    reports = getattr(_index_reports, "reports", None)
    if reports is not None and not reports:
        reports.append((index, size, site))


class _Rank1Descriptor(ctypes.Structure):
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64), ("size", ctypes.c_int64), ("stride", ctypes.c_int64)]


def _pipeline_string() -> str:
    # mlir-opt flags -> a textual pipeline for PassManager.parse.
    passes = []
    for flag in toolchain.LOWERING_PASSES:
        name, _, options = flag.lstrip("-").partition("=")
        passes.append(f"{name}{{{options}}}" if options else name)
    return "builtin.module(" + ",".join(passes) + ")"


def _runtime_libraries() -> list[str]:
    """MLIR's C runner utils (memrefCopy for memref.copy), from the mlir wheel."""
    from mlir import ir  # `mlir` itself is a namespace package without __file__

    library = Path(ir.__file__).resolve().parent / "lib" / "libmlir_c_runner_utils.so"
    return [str(library)] if library.exists() else []


def host_engine(kernel_text: str):
    """The ExecutionEngine of a kernel, compiled once per hash per process."""
    kernel_hash = cache.sha256_text(kernel_text)
    with _lock:
        if kernel_hash in _engines:
            return _engines[kernel_hash][0]
        from mlir import ir
        from mlir.execution_engine import ExecutionEngine
        from mlir.passmanager import PassManager

        entry_dir = cache.entry(kernel_hash).dir
        context = ir.Context()
        try:
            with context:
                module = ir.Module.parse(kernel_text)
                PassManager.parse(_pipeline_string()).run(module.operation)
                engine = ExecutionEngine(module, opt_level=2, shared_libs=_runtime_libraries())
                engine.raw_register_runtime("npusim_index_out_of_bounds",
                                            ctypes.cast(_index_out_of_bounds, ctypes.c_void_p))
        except Exception as exc:
            raise FunctionalBuildError("host JIT (lower + ExecutionEngine)", _pipeline_string(), str(exc),
                                       entry_dir) from exc
        _engines[kernel_hash] = (engine, context, module)
        return engine


def run_host(kernel_mlir, meta: dict, args: list) -> list[torch.Tensor]:
    """Runs the kernel in-process. Returns outputs like run_spike: a fresh
    flat tensor at the index of each output/inout argument, None elsewhere."""
    from simulator.functional.elf_build import kernel_text_and_hash

    text, _ = kernel_text_and_hash(kernel_mlir)
    engine = host_engine(text)
    prepared = prepare_arguments(meta, args)
    keep_alive, packed = [], []
    outputs: list[torch.Tensor | None] = [None] * len(prepared)
    for arg in prepared:
        if arg.kind == "size":
            value = ctypes.c_int64(arg.count)
            keep_alive.append(value)
            packed.append(ctypes.pointer(value))
            continue
        if arg.kind == "output":
            buffer = torch.zeros(arg.count, dtype=arg.dtype)
        elif arg.kind == "inout":
            buffer = arg.tensor.clone()
        else:
            buffer = arg.tensor
        if arg.produces_output:
            outputs[arg.index] = buffer
        pointer = buffer.data_ptr() if buffer.numel() else None
        descriptor = _Rank1Descriptor(pointer, pointer, 0, arg.count, 1)
        descriptor_pointer = ctypes.pointer(descriptor)
        keep_alive += [buffer, descriptor, descriptor_pointer]
        packed.append(ctypes.pointer(descriptor_pointer))
    _index_reports.reports = []
    try:
        engine.invoke("kernel", *packed)
    except RuntimeError as exc:
        raise FunctionalRunError(f"host JIT call of kernel failed: {exc}", None) from exc
    finally:
        reports, _index_reports.reports = _index_reports.reports, None
    if reports:
        raise KernelIndexError(*reports[0], launch_dir=None)
    return outputs
