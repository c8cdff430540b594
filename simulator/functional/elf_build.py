"""kernel.mlir -> kernel.elf, once per kernel hash (CONTRACTS.md sections 3, 6).

Steps, each a FunctionalBuildError naming itself on failure:
  lower     mlir-opt (toolchain.LOWERING_PASSES)      -> kernel.llvm.mlir
  translate mlir-translate --mlir-to-llvmir            -> kernel.ll
  compile   zig cc -O2 -S, rv64gcv                     -> kernel.s
  assemble  zig cc -c                                  -> kernel.o
  link      zig cc -nostdlib -T link.ld + runtime      -> kernel.elf
The ELF lives in the kernel's cache entry and is built under the entry's lock
with a sha256 stamp, so it is built once across processes and rebuilt when
the file is missing or corrupted, or when the runtime or the pipeline changed
(kernel.elf.toolchain records the toolchain key, CacheEntry.require_generator). The
intermediates are kept beside it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from npusim import cache

from simulator.functional import runtime_build, toolchain

ELF_NAME = "kernel.elf"
CALL_SHIM_VERSION = "call_shim/1"  # bump when call_shim() changes: it is part of every ELF
KEPT_INTERMEDIATES = ("kernel.llvm.mlir", "kernel.ll", "kernel.s", "kernel.o")


@dataclass
class BuildReport:
    """What the last build_elf call did; `built` is False on a cache hit."""

    elf: Path
    kernel_hash: str
    built: bool
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def llvm_ir_to_elf_s(self) -> float:
        return sum(self.step_seconds.get(s, 0.0) for s in ("compile", "assemble", "link"))


# In-process record of builds, for tests and the benchmark ("no rebuild").
build_log: list[BuildReport] = []


def kernel_text_and_hash(kernel_mlir: str | Path) -> tuple[str, str]:
    """Accepts a path to kernel.mlir or the module text itself."""
    if isinstance(kernel_mlir, Path):
        text = kernel_mlir.read_text()
    elif "\n" not in kernel_mlir and len(kernel_mlir) < 4096 and Path(kernel_mlir).is_file():
        text = Path(kernel_mlir).read_text()
    else:
        text = kernel_mlir
    return text, cache.sha256_text(text)


def toolchain_key() -> str:
    """Everything besides kernel.mlir that goes into kernel.elf: the runtime
    (sources, flags, zig version), the lowering passes and the kernel flags."""
    parts = [runtime_build.runtime_key(), CALL_SHIM_VERSION, *toolchain.LOWERING_PASSES, *toolchain.RISCV_TARGET_FLAGS,
             *toolchain.KERNEL_CFLAGS, *toolchain.LINK_FLAGS]
    return cache.sha256_text("\0".join(parts))


def build_elf(kernel_mlir: str | Path, *, report: bool = False) -> Path | BuildReport:
    """Returns the path of kernel.elf for this kernel (building it if needed).
    With report=True returns a BuildReport (path, hash, built_now, step times)."""
    text, kernel_hash = kernel_text_and_hash(kernel_mlir)
    entry = cache.entry(kernel_hash)
    entry.put_text("kernel.mlir", text)
    steps: dict[str, float] = {}
    entry.require_generator(ELF_NAME + ".toolchain", toolchain_key(), (ELF_NAME,))
    elf, built = entry.build(ELF_NAME, lambda target: _build(entry, target, steps))
    result = BuildReport(elf=elf, kernel_hash=kernel_hash, built=built, step_seconds=steps)
    build_log.append(result)
    return result if report else elf


def _build(entry: cache.CacheEntry, target: Path, steps: dict[str, float]) -> None:
    archive = runtime_build.runtime_archive()
    with tempfile.TemporaryDirectory(prefix="elf-", dir=entry.dir) as work:
        work_dir = Path(work)
        lowered, llvm_ir = work_dir / "kernel.llvm.mlir", work_dir / "kernel.ll"
        assembly, obj, elf = work_dir / "kernel.s", work_dir / "kernel.o", work_dir / "kernel.elf"
        run = toolchain.run_step
        steps["lower"] = run("lower (mlir-opt)", [toolchain.mlir_opt(), entry.path("kernel.mlir")]
                             + toolchain.LOWERING_PASSES + ["-o", lowered], entry.dir)
        steps["translate"] = run("translate (mlir-translate --mlir-to-llvmir)",
                                 [toolchain.mlir_translate(), "--mlir-to-llvmir", lowered, "-o", llvm_ir],
                                 entry.dir)
        start = time.perf_counter()
        cc = toolchain.zig_cc() + toolchain.RISCV_TARGET_FLAGS
        # The module carries no target triple; clang's override warning is expected.
        steps["compile"] = run("compile (LLVM IR -> rv64gcv assembly)",
                               cc + toolchain.KERNEL_CFLAGS + ["-Wno-override-module", "-S", llvm_ir,
                                                               "-o", assembly], entry.dir)
        steps["assemble"] = run("assemble", cc + ["-c", assembly, "-o", obj], entry.dir)
        shim_c, shim = work_dir / "call_shim.c", work_dir / "call_shim.o"
        shim_c.write_text(call_shim(kernel_arity(entry.path("kernel.mlir").read_text())))
        steps["shim"] = run("compile the call shim", cc + toolchain.KERNEL_CFLAGS + ["-c", shim_c, "-o", shim],
                            entry.dir)
        steps["link"] = run("link (kernel + runtime)",
                            cc + toolchain.LINK_FLAGS + ["-T", toolchain.LINKER_SCRIPT, obj, shim,
                                                         "-Wl,--whole-archive", archive,
                                                         "-Wl,--no-whole-archive", "-o", elf], entry.dir)
        steps["llvm_ir_to_elf_wall"] = time.perf_counter() - start
        for name in KEPT_INTERMEDIATES:
            shutil.copyfile(work_dir / name, entry.path(name))
        shutil.copyfile(elf, target)


def kernel_arity(kernel_text: str) -> int:
    """Number of arguments of the kernel's entry function (CONTRACTS.md section 1)."""
    from mlir import ir

    with ir.Context():
        module = ir.Module.parse(kernel_text)
        for op in module.body.operations:
            if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == "kernel":
                return len(ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value).inputs)
    raise ValueError("kernel.mlir has no func.func @kernel")


def call_shim(arity: int) -> str:
    """C source of `npusim_call_kernel(args)`: the runtime's call of _mlir_ciface_kernel with
    exactly `arity` 64-bit integer-class arguments (memref descriptor pointers and sizes)."""
    params = ", ".join(["uint64_t"] * arity) or "void"
    call = ", ".join(f"args[{i}]" for i in range(arity))
    return ("#include <stdint.h>\n"
            f"extern void _mlir_ciface_kernel({params});\n"
            f"void npusim_call_kernel(const uint64_t *args) {{ _mlir_ciface_kernel({call}); }}\n")


def intermediate(kernel_mlir: str | Path, name: str) -> Path:
    """Path of a kept intermediate (kernel.s, kernel.ll, ...) of a built kernel."""
    _, kernel_hash = kernel_text_and_hash(kernel_mlir)
    return cache.entry(kernel_hash).path(name)
