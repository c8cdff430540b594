"""The one entry the compiler calls per kernel launch.

    result = launch(kernel_mlir_path, meta, args, mode="spike"|"host",
                    launch_dir=..., timeout_s=...)
    result.outputs   # one entry per kernel arg: a fresh flat tensor for each
                     # output/inout arg, None for inputs and sizes
    result.instret   # instructions retired in the kernel call (None in host mode)
    result.elf_path  # the kernel's one ELF (None in host mode)

mode defaults to $NPUSIM_FUNCTIONAL, else "spike". Without a launch_dir a
temporary one is made under the kernel's cache entry and removed after a
successful launch (kept on failure: the error names it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from npusim import cache

from simulator.functional import elf_build, host, spike
from simulator.functional.signature import check_kernel_signature
from simulator.functional.errors import FunctionalRunError

MODES = ("spike", "host")
ENV_VAR = "NPUSIM_FUNCTIONAL"


@dataclass
class LaunchResult:
    outputs: list[torch.Tensor | None]  # indexed like the kernel's args
    instret: int | None
    elf_path: Path | None
    wall_s: float
    mode: str = "spike"
    launch_dir: Path | None = None
    built_elf: bool = False  # this call built the ELF (first launch of the kernel)

    def runlog_fields(self) -> dict:
        """The functional part of a run-log launch event (CONTRACTS.md section 5)."""
        return {"functional": self.mode, "instret": self.instret,
                "elf": str(self.elf_path) if self.elf_path else None,
                "functional_wall_s": round(self.wall_s, 6)}


def default_mode() -> str:
    mode = os.environ.get(ENV_VAR, "spike").strip().lower() or "spike"
    if mode not in MODES:
        raise FunctionalRunError(f"{ENV_VAR}={mode!r} is not one of {', '.join(MODES)}", None)
    return mode


def launch(kernel_mlir_path: str | Path, meta: dict, args: list, mode: str | None = None,
           launch_dir: str | Path | None = None, timeout_s: float = spike.DEFAULT_TIMEOUT_S) -> LaunchResult:
    mode = mode or default_mode()
    if mode not in MODES:
        raise FunctionalRunError(f"functional mode {mode!r} is not one of {', '.join(MODES)}", launch_dir)
    start = time.perf_counter()
    text, _ = elf_build.kernel_text_and_hash(kernel_mlir_path)
    check_kernel_signature(text, meta)
    if mode == "host":
        outputs = host.run_host(text, meta, args)
        return LaunchResult(outputs, None, None, time.perf_counter() - start, "host")

    report = elf_build.build_elf(text, report=True)
    temporary = launch_dir is None
    if temporary:
        launches = cache.entry(report.kernel_hash).dir / "launches"
        launches.mkdir(exist_ok=True)
        launch_dir = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=launches)
    outputs, instret = spike.run_spike(report.elf, meta, args, launch_dir, timeout_s)
    if temporary:
        shutil.rmtree(launch_dir, ignore_errors=True)
    return LaunchResult(outputs, instret, report.elf, time.perf_counter() - start, "spike",
                        None if temporary else Path(launch_dir), report.built)
