"""Build step of the C++ trace simulator: `python -m simulator.trace.build`.

Compiles simulator/trace/src/*.cpp with the ABI header into
`build/trace/npusim-trace-sim`. A stamp holds the sha256 of the sources, the
header and the compiler command, so the binary is rebuilt only when one of
them changes. Concurrent callers (pytest -n) serialise on a file lock and the
binary is renamed into place, never seen half-written.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from filelock import FileLock

from npusim.paths import REPO_ROOT, cxx_compiler

TRACE_DIR = Path(__file__).resolve().parent
SOURCE_DIR = TRACE_DIR / "src"
INCLUDE_DIR = TRACE_DIR / "include"
ABI_HEADER = INCLUDE_DIR / "npusim" / "trace_abi.h"
BUILD_DIR = Path(os.environ.get("NPUSIM_TRACE_BUILD_DIR", REPO_ROOT / "build" / "trace"))
BINARY_NAME = "npusim-trace-sim"
# -flto: the event handlers inline into the ABI callbacks (main.cpp) and the helpers they call across files.
# -ffp-contract=off: no fused multiply-adds, so the cycle arithmetic gives the same doubles on every
# target (x86-64-v3 has FMA).
CXXFLAGS = ["-std=c++17", "-O3", "-flto", "-fno-plt", "-ffp-contract=off", "-Wall", "-Wextra"]
# The x86-64-v3 level (AVX2, BMI1/2, LZCNT, POPCNT: the channel masks' bit counts and scans are one
# instruction each) when the build machine has it: ~6 % fewer instructions per trace record. Not
# -march=native: valgrind, the tool that measures the simulator (simulator/trace/README.md), does not
# run AVX-512 code. The binary is built on the machine that runs it (build/trace).
X86_64_V3_CPU_FLAGS = frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave", "cx16",
                                 "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"})
# The C++ runtime linked in: a small launch no longer spends ~0.5 ms relocating
# libstdc++ (trace.so is built -fno-exceptions and links no C++ runtime).
LDFLAGS = ["-static-libstdc++", "-static-libgcc"]


class BuildError(RuntimeError):
    """The simulator did not compile; the message carries the compiler output."""


def _sources() -> list[Path]:
    return sorted(SOURCE_DIR.glob("*.cpp"))


def _inputs_digest(command: list[str]) -> str:
    digest = hashlib.sha256(" ".join(command).encode())
    for path in sorted([*SOURCE_DIR.iterdir(), ABI_HEADER]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def target_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """["-march=x86-64-v3"] on an x86-64 machine whose CPU has every feature of that level, else []."""
    if platform.machine() != "x86_64":
        return []
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return ["-march=x86-64-v3"] if X86_64_V3_CPU_FLAGS <= set(flags) else []


def _command(output: Path) -> list[str]:
    return [str(cxx_compiler()), *CXXFLAGS, *target_flags(), f"-I{INCLUDE_DIR}", f"-I{SOURCE_DIR}", "-o",
            str(output), *map(str, _sources()), "-ldl", *LDFLAGS]


def _inputs_signature() -> tuple:
    """Names, sizes and mtimes of the inputs, the compiler choice: a cheap stand-in for the digest
    once it has been checked in this process (hashing the sources cost ~1 ms per launch)."""
    files = sorted([*SOURCE_DIR.iterdir(), ABI_HEADER])
    stats = tuple((p.name, st.st_mtime_ns, st.st_size) for p in files for st in [p.stat()])
    return str(BUILD_DIR), os.environ.get("CXX"), os.environ.get("PATH"), stats


_up_to_date: dict[tuple, Path] = {}  # inputs signature -> binary checked against the stamp


def simulator_binary(force: bool = False, verbose: bool = False) -> Path:
    """Path of the up-to-date simulator binary, building it when missing or stale."""
    signature = _inputs_signature()
    known = _up_to_date.get(signature)
    if not force and known is not None and known.exists():
        return known
    binary = _checked_binary(force, verbose)
    _up_to_date.clear()
    _up_to_date[signature] = binary
    return binary


def _checked_binary(force: bool, verbose: bool) -> Path:
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    binary = BUILD_DIR / BINARY_NAME
    stamp = BUILD_DIR / f"{BINARY_NAME}.stamp"
    wanted = _inputs_digest(_command(binary))
    if not force and binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return binary
    with FileLock(str(BUILD_DIR / ".build.lock")):
        if not force and binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return binary
        fd, tmp = tempfile.mkstemp(prefix=f".{BINARY_NAME}.", dir=BUILD_DIR)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            command = _command(tmp_path)
            if verbose:
                print(" ".join(command))
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise BuildError(f"building the trace simulator failed:\n$ {' '.join(command)}\n{result.stderr}")
            os.chmod(tmp_path, 0o755)
            os.replace(tmp_path, binary)
        finally:
            tmp_path.unlink(missing_ok=True)
        stamp.write_text(wanted)
    return binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        binary = simulator_binary(force=args.force, verbose=args.verbose)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"[trace] simulator: {binary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
