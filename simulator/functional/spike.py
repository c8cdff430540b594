"""Runs a kernel ELF on Spike for one launch (CONTRACTS.md section 3).

The launch dir receives launch.bin and arg<i>.bin; Spike runs there (the
runtime opens files relative to its working directory through HTIF) in its
own process group under a wall-clock limit; out<i>.bin and instret.bin are
read back. spike.log in the launch dir holds Spike's stdout+stderr.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
from pathlib import Path

import torch

from simulator.functional import runtime_build, toolchain
from simulator.functional.errors import (
    INDEX_EXIT_CODE,
    KernelIndexError,
    SpikeExitError,
    SpikeNotFound,
    SpikeOutputError,
    SpikeTimeout,
    tail,
)
from simulator.functional.launch_args import (
    PreparedArg,
    launch_header,
    prepare_arguments,
    tensor_bytes,
    tensor_from_bytes,
)

DEFAULT_TIMEOUT_S = 120.0


def spike_command(elf: Path, *extra: str) -> list[str]:
    try:
        spike = toolchain.spike_executable()
    except Exception as exc:  # ToolNotFound
        raise SpikeNotFound(f"Spike is not available: {exc}", None) from exc
    return [str(spike), f"--isa={toolchain.SPIKE_ISA}", f"-m{toolchain.SPIKE_MEMORY_MB}",
            f"--dtb={runtime_build.spike_dtb()}", *extra, str(elf)]


def write_launch_files(prepared: list[PreparedArg], launch_dir: Path) -> None:
    launch_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(launch_dir.glob("out*.bin")) + [launch_dir / "instret.bin"]:
        stale.unlink(missing_ok=True)  # never read a previous launch's results
    (launch_dir / "launch.bin").write_bytes(launch_header(prepared))
    for arg in prepared:
        if arg.kind in ("input", "inout"):
            with open(launch_dir / f"arg{arg.index}.bin", "wb") as handle:
                handle.write(tensor_bytes(arg.tensor))


def run_process(command: list[str], launch_dir: Path, timeout_s: float) -> tuple[int, bytes]:
    """Runs Spike in its own session; on timeout the whole process group is
    killed and reaped before SpikeTimeout is raised."""
    try:
        process = subprocess.Popen(command, cwd=launch_dir, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    except FileNotFoundError as exc:
        raise SpikeNotFound(f"cannot execute Spike {command[0]}: {exc}", launch_dir) from exc
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        output, _ = process.communicate()
        (launch_dir / "spike.log").write_bytes(output or b"")
        raise SpikeTimeout(f"Spike did not finish within {timeout_s} s and was killed "
                           f"(pid {process.pid}); output tail:\n{tail(output)}", launch_dir, process.pid) from None
    except BaseException:  # KeyboardInterrupt etc.: leave nothing running
        _kill_group(process)
        process.wait()
        raise
    (launch_dir / "spike.log").write_bytes(output or b"")
    return process.returncode, output or b""


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_results(prepared: list[PreparedArg], launch_dir: Path) -> tuple[list[torch.Tensor | None], int]:
    outputs: list[torch.Tensor | None] = [None] * len(prepared)
    for arg in prepared:
        if not arg.produces_output:
            continue
        path = launch_dir / f"out{arg.index}.bin"
        expected = arg.count * arg.elem_bytes
        if not path.exists():
            raise SpikeOutputError(f"Spike exited 0 but {path.name} (argument {arg.index}, {arg.name}) "
                                   f"is missing", launch_dir)
        data = path.read_bytes()
        if len(data) < expected:
            raise SpikeOutputError(f"{path.name} (argument {arg.index}, {arg.name}) has {len(data)} bytes, "
                                   f"expected {expected}", launch_dir)
        outputs[arg.index] = tensor_from_bytes(data[:expected], arg.dtype, arg.count)
    counter = launch_dir / "instret.bin"
    if not counter.exists() or counter.stat().st_size < 8:
        raise SpikeOutputError("Spike exited 0 but instret.bin is missing or short", launch_dir)
    (instret,) = struct.unpack("<Q", counter.read_bytes()[:8])
    return outputs, instret


def run_spike(elf: str | Path, meta: dict, args: list, launch_dir: str | Path,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[list[torch.Tensor | None], int]:
    """Runs one launch of `elf` with `args` (tensors and ints in kernel arg
    order; an output may be a tensor or None). Returns (outputs, instret):
    outputs[i] is a fresh flat tensor for output/inout argument i and None for
    the other arguments; instret counts the instructions retired in the
    kernel call."""
    launch_dir = Path(launch_dir).resolve()
    prepared = prepare_arguments(meta, args, launch_dir)
    write_launch_files(prepared, launch_dir)
    return run_prepared(elf, prepared, launch_dir, timeout_s)


def run_prepared(elf: str | Path, prepared: list[PreparedArg], launch_dir: Path,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[list[torch.Tensor | None], int]:
    """Runs Spike on launch files already written to launch_dir."""
    code, output = run_process(spike_command(Path(elf).resolve()), launch_dir, timeout_s)
    report = launch_dir / "index_error.bin"
    if code == INDEX_EXIT_CODE and report.exists() and report.stat().st_size >= 24:
        raise KernelIndexError(*struct.unpack("<qqq", report.read_bytes()[:24]), launch_dir=launch_dir)
    if code != 0:
        raise SpikeExitError(code, tail(output), launch_dir)
    return read_results(prepared, launch_dir)
