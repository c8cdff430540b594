"""Skeleton -> EmitC -> C++ -> trace.so.

The skeleton (skeleton.py) is lowered with upstream passes only:
canonicalize + remove-dead-values (drop what fed nothing), lower-affine,
then the combined `arith-expand, convert-to-emitc` (the separate scf/arith
conversions leave index <-> size_t casts mlir-to-cpp cannot print). After the
passes only emitc ops may remain; anything else is an error here rather than
a confusing `mlir-translate` failure. `mlir-translate --mlir-to-cpp` prints
the C++, and an `extern "C"` entry (an `emitc.verbatim`) reads shape_args[k]
into the body's size parameters, so the exported names are not mangled.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import mlir.ir as ir
from mlir.dialects import emitc
from mlir.passmanager import PassManager

from npusim.mlir_verify import verify
from npusim.paths import cxx_compiler, mlir_tool
from simulator.trace.errors import LoweringError
from simulator.trace.op_classes import walk_ops
from simulator.trace.skeleton import BODY_NAME, Skeleton

INCLUDE_DIR = Path(__file__).resolve().parent / "include"
PIPELINE = ("builtin.module(canonicalize, cse, remove-dead-values, canonicalize, lower-affine, cse, "
            "arith-expand, convert-to-emitc, canonicalize)")
ALLOWED_AFTER_LOWERING = ("emitc.", "builtin.module")
SO_FLAGS = ["-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-fno-exceptions"]


def _entry_verbatim(n_size_args: int) -> str:
    args = "".join(f", shape_args[{k}]" for k in range(n_size_args))
    return (
        '#define NPUSIM_EXPORT extern "C" __attribute__((visibility("default")))\n'
        "NPUSIM_EXPORT int32_t npusim_trace_abi_version(void) { return NPUSIM_TRACE_ABI_VERSION; }\n"
        "NPUSIM_EXPORT int32_t npusim_trace_main(npusim_ctx *ctx, const int64_t *shape_args, int32_t n) {\n"
        f"  if (n != {n_size_args} || ctx == nullptr || ctx->abi_version != NPUSIM_TRACE_ABI_VERSION)\n"
        "    return NPUSIM_ERR_SHAPE_ARGS;\n"
        f"  {BODY_NAME}(ctx{args});\n"
        "  return 0;\n"
        "}"
    )


def lower_to_emitc(skeleton: Skeleton) -> ir.Module:
    """Run the upstream pipeline on the skeleton module (in place) and check the result."""
    module = skeleton.module
    with module.context, ir.Location.unknown():
        PassManager.parse(PIPELINE).run(module.operation)
        with ir.InsertionPoint(module.body):
            emitc.VerbatimOp(_entry_verbatim(skeleton.n_size_args), [])
        leftovers = sorted({op.name for op in walk_ops(module.operation)
                            if not op.name.startswith(ALLOWED_AFTER_LOWERING)})
        if leftovers:
            raise LoweringError(f"ops left after convert-to-emitc (not printable as C++): {', '.join(leftovers)}")
        verify(module, LoweringError, "the lowered skeleton", skeleton.kernel_name)
    return module


def emit_cpp(module: ir.Module) -> str:
    """mlir-translate --mlir-to-cpp of a lowered module."""
    result = subprocess.run([str(mlir_tool("mlir-translate")), "--mlir-to-cpp"], input=str(module),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise LoweringError(f"mlir-translate --mlir-to-cpp failed:\n{result.stderr}")
    return result.stdout


def compile_shared_object(cpp_text: str, output: Path, keep_source: Path | None = None) -> None:
    """g++ -O2 -shared -fPIC the producer into `output`."""
    with tempfile.TemporaryDirectory(prefix="npusim-trace-") as tmp:
        source = Path(tmp) / "trace.cpp"
        source.write_text(cpp_text)
        if keep_source is not None:
            keep_source.write_text(cpp_text)
        command = [str(cxx_compiler()), *SO_FLAGS, f"-I{INCLUDE_DIR}", "-o", str(output), str(source)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise LoweringError(f"compiling the trace producer failed:\n$ {' '.join(command)}\n{result.stderr}")
    os.chmod(output, 0o755)
