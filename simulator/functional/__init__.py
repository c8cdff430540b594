"""Functional path: kernel.mlir -> bare-metal RISC-V ELF (rv64gcv) -> Spike
for output values and retired instructions; host JIT as the fast mode.

Entry points (see each module's docstring):
  launch(kernel_mlir_path, meta, args, mode=None, launch_dir=None, timeout_s=...) -> LaunchResult
  build_elf(kernel_mlir) -> Path                     once per kernel hash, cached
  run_spike(elf, meta, args, launch_dir, timeout_s) -> (outputs, instret)
  run_host(kernel_mlir, meta, args) -> outputs
    outputs[i] is a fresh flat tensor for output/inout arg i, None otherwise
  count_instruction_classes(elf, meta, args, launch_dir) -> {class: count}

Submodules are imported lazily so `import simulator.functional` stays cheap.
(No submodule is named like an exported function: importing it would shadow
the function on the package.)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "launch": "entry", "LaunchResult": "entry", "default_mode": "entry",
    "build_elf": "elf_build", "BuildReport": "elf_build",
    "run_spike": "spike",
    "run_host": "host",
    "count_instruction_classes": "instruction_classes", "classify": "instruction_classes",
    "FunctionalError": "errors", "FunctionalBuildError": "errors", "FunctionalRunError": "errors",
    "SpikeNotFound": "errors", "SpikeTimeout": "errors", "SpikeExitError": "errors",
    "SpikeOutputError": "errors", "LaunchArgumentError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
