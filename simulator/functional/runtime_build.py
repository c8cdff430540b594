"""Builds the bare-metal runtime once into an archive in the artifact cache.

Key: sha256 of the runtime sources, the linker script, the flags and the zig
version, so editing any of them builds a new archive; an unchanged runtime is
never rebuilt (the cache's stamp also catches a corrupted archive). The
device tree blob Spike needs at start-up is cached beside it, so launches
need neither `dtc` nor Spike's DTS round trip.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from npusim import paths
from npusim.cache import CacheEntry

from simulator.functional import toolchain
from simulator.functional.errors import FunctionalBuildError

ARCHIVE_NAME = "npusim_rt.a"
DTB_NAME = "spike.dtb"


def _zig_version() -> str:
    try:
        from importlib.metadata import version

        return version("ziglang")
    except Exception:
        return "unknown"


def runtime_key() -> str:
    digest = hashlib.sha256()
    for name in toolchain.RUNTIME_SOURCES + toolchain.RUNTIME_HEADERS:
        digest.update(name.encode() + b"\0" + (toolchain.RUNTIME_DIR / name).read_bytes() + b"\0")
    digest.update(toolchain.LINKER_SCRIPT.read_bytes())
    flags = toolchain.RISCV_TARGET_FLAGS + toolchain.RUNTIME_CFLAGS + [_zig_version()]
    digest.update("\0".join(flags).encode())
    digest.update(f"{toolchain.SPIKE_ISA} {toolchain.SPIKE_MEMORY_MB}".encode())
    return digest.hexdigest()


def runtime_entry() -> CacheEntry:
    # A sibling tree of kernels/: the runtime is not a kernel.
    return CacheEntry(runtime_key(), root=paths.cache_dir() / "functional-runtime")


def _build_archive(entry: CacheEntry, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rt-", dir=entry.dir) as work:
        work_dir = Path(work)
        objects = []
        for source in toolchain.RUNTIME_SOURCES:
            obj = work_dir / (source + ".o")
            toolchain.run_step(
                f"compile runtime {source}",
                toolchain.zig_cc() + toolchain.RISCV_TARGET_FLAGS + toolchain.RUNTIME_CFLAGS
                + ["-I", toolchain.RUNTIME_DIR, "-c", toolchain.RUNTIME_DIR / source, "-o", obj],
                entry.dir,
            )
            objects.append(obj)
        archive = work_dir / ARCHIVE_NAME
        zig = toolchain.zig_cc()[:-1]  # [zig] or [python, -m, ziglang]
        toolchain.run_step("archive runtime", zig + ["ar", "rcs", archive] + objects, entry.dir)
        shutil.copyfile(archive, target)


def _build_dtb(entry: CacheEntry, target: Path) -> None:
    """Spike's own device tree for our ISA and RAM size, compiled once."""
    archive, _ = entry.build(ARCHIVE_NAME, lambda t: _build_archive(entry, t))
    command = [str(toolchain.spike_executable()), f"--isa={toolchain.SPIKE_ISA}",
               f"-m{toolchain.SPIKE_MEMORY_MB}", "--dump-dts", str(archive)]
    dump = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if dump.returncode != 0 or "/dts-v1/" not in dump.stdout:
        raise FunctionalBuildError("dump Spike device tree", command, dump.stderr or dump.stdout, entry.dir)
    dts = target.with_suffix(".dts")
    dts.write_text(dump.stdout)
    try:
        dtc = paths.dtc_binary()
    except paths.ToolNotFound as exc:
        raise FunctionalBuildError("compile Spike device tree", ["dtc"], str(exc), entry.dir) from exc
    toolchain.run_step("compile Spike device tree",
                       [dtc, "-q", "-I", "dts", "-O", "dtb", "-o", target, dts], entry.dir)
    dts.unlink(missing_ok=True)


@lru_cache(maxsize=None)
def _cached_paths(key: str, cache_root: str) -> tuple[Path, Path]:
    entry = runtime_entry()
    archive, _ = entry.build(ARCHIVE_NAME, lambda target: _build_archive(entry, target))
    dtb, _ = entry.build(DTB_NAME, lambda target: _build_dtb(entry, target))
    return archive, dtb


def runtime_archive() -> Path:
    """Path of the runtime archive, built now if needed."""
    return _ensure()[0]


def spike_dtb() -> Path:
    """Path of the device tree blob passed to Spike with --dtb."""
    return _ensure()[1]


def _ensure() -> tuple[Path, Path]:
    key, root = runtime_key(), str(paths.cache_dir())
    archive, dtb = _cached_paths(key, root)
    if not archive.exists() or not dtb.exists():  # cache dir wiped under a live process
        _cached_paths.cache_clear()
        archive, dtb = _cached_paths(key, root)
    return archive, dtb
