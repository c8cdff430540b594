"""Tools and flags of the functional path, in one place.

The lowering pipeline is upstream MLIR only. Math ops go through
--convert-math-to-llvm (LLVM intrinsics; the RISC-V backend calls expf, logf,
... for the transcendental ones, which runtime/libm.c provides) and then
--convert-math-to-libm for the ops without an intrinsic (erf, erfc, cbrt, and
log1p, which we keep exact with approximate-log1p=false). Known upstream
approximation kept: math.expm1 lowers to exp(x) - 1 (absolute error ~1 ulp of
1, not relative). Host mode runs the same pipeline, so Spike and the host JIT
see the same LLVM IR modulo the target.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from npusim import paths

from simulator.functional.errors import FunctionalBuildError

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"

LOWERING_PASSES = [
    "--convert-linalg-to-loops",
    "--lower-affine",
    "--expand-strided-metadata",
    "--convert-scf-to-cf",
    "--convert-math-to-llvm=approximate-log1p=false",
    "--convert-math-to-libm",
    "--convert-to-llvm",
    "--reconcile-unrealized-casts",
]

RISCV_TARGET_FLAGS = [
    "-target", "riscv64-freestanding-none",
    "-mcpu=generic_rv64+m+a+f+d+c+v",
    "-mcmodel=medany",
]
KERNEL_CFLAGS = ["-O2", "-g0", "-fomit-frame-pointer", "-ffunction-sections", "-fdata-sections"]
# -fno-builtin keeps memcpy/expf/... bodies from being turned back into calls
# to themselves; -fno-math-errno makes __builtin_sqrt a single instruction.
RUNTIME_CFLAGS = KERNEL_CFLAGS + [
    "-ffreestanding", "-fno-builtin", "-fno-math-errno", "-ffp-contract=off",
    "-Wall", "-Wextra", "-Werror",
]
LINK_FLAGS = ["-nostdlib", "-static", "-Wl,--gc-sections"]

RUNTIME_SOURCES = ["crt0.S", "htif.c", "launch_main.c", "mem.c", "libm.c"]
RUNTIME_HEADERS = ["npusim_rt.h"]
LINKER_SCRIPT = RUNTIME_DIR / "link.ld"

# Spike's RAM; link.ld and NPUSIM_RAM_END in npusim_rt.h assume 2 GiB.
SPIKE_ISA = "rv64gcv"
SPIKE_MEMORY_MB = 2048


def zig_cc() -> list[str]:
    """The zig binary of the pinned ziglang wheel run directly (saves the
    Python start-up of `python -m ziglang`), else npusim's argv prefix."""
    try:
        import ziglang

        binary = Path(ziglang.__file__).resolve().parent / "zig"
        if binary.exists():
            return [str(binary), "cc"]
    except ImportError:
        pass
    return paths.zig_cc()


def spike_executable() -> Path:
    """The real Spike binary (the `spike` console script is a Python wrapper
    that execs it: ~40 ms of start-up saved per launch)."""
    try:
        from riscv._utils import find_spike_executable

        binary = Path(find_spike_executable())
        if binary.exists():
            return binary
    except Exception:  # the wrapper package layout changed: use the console script
        pass
    return paths.spike_binary()


def mlir_opt() -> Path:
    return paths.mlir_tool("mlir-opt")


def mlir_translate() -> Path:
    return paths.mlir_tool("mlir-translate")


def run_step(step: str, command: list, artifact_dir: Path, *, cwd: Path | None = None,
             timeout_s: float = 300.0) -> float:
    """Runs one build command; returns its wall time. Raises FunctionalBuildError
    naming the step, the command, the tail of stderr and the artifact dir."""
    command = [str(c) for c in command]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=timeout_s,
                              env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError as exc:
        raise FunctionalBuildError(step, command, str(exc), artifact_dir) from exc
    except subprocess.TimeoutExpired as exc:
        raise FunctionalBuildError(step, command, f"timed out after {timeout_s} s\n{exc.stderr or ''}",
                                   artifact_dir) from exc
    if done.returncode != 0:
        raise FunctionalBuildError(step, command, done.stderr or done.stdout, artifact_dir)
    return time.perf_counter() - start
