"""Errors of the functional path. Every message names where to look: the
build step and its artifact dir, or the launch dir of a Spike run."""

from __future__ import annotations

from pathlib import Path


def tail(text: str | bytes | None, lines: int = 25) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


class FunctionalError(RuntimeError):
    """Base of every functional-path failure."""


class FunctionalBuildError(FunctionalError):
    """A step of kernel.mlir -> kernel.elf (or of the runtime build) failed."""

    def __init__(self, step: str, command: list[str] | str, stderr: str | bytes | None, artifact_dir: Path):
        self.step, self.command, self.artifact_dir = step, command, Path(artifact_dir)
        self.stderr_tail = tail(stderr)
        shown = command if isinstance(command, str) else " ".join(str(c) for c in command)
        super().__init__(
            f"functional build step '{step}' failed (artifacts: {artifact_dir})\n"
            f"  command: {shown}\n  stderr (tail):\n{_indent(self.stderr_tail)}"
        )


class FunctionalRunError(FunctionalError):
    """A launch of a kernel ELF on Spike (or on the host JIT) failed."""

    def __init__(self, message: str, launch_dir: Path | None):
        self.launch_dir = Path(launch_dir) if launch_dir is not None else None
        super().__init__(f"{message} (launch dir: {launch_dir})")


class SpikeNotFound(FunctionalRunError):
    """The Spike binary is not installed."""


class SpikeTimeout(FunctionalRunError):
    """Spike ran past the wall-clock limit; its process group was killed."""

    def __init__(self, message: str, launch_dir: Path | None, pid: int | None = None):
        self.pid = pid
        super().__init__(message, launch_dir)


class SpikeExitError(FunctionalRunError):
    """Spike (or the runtime inside it) exited with a non-zero code."""

    def __init__(self, exit_code: int, output_tail: str, launch_dir: Path):
        self.exit_code, self.output_tail = exit_code, output_tail
        meaning = RUNTIME_EXIT_CODES.get(exit_code)
        if meaning is None and exit_code >= TRAP_EXIT_BASE and exit_code < TRAP_EXIT_BASE + 64:
            meaning = f"the kernel trapped: {TRAP_CAUSES.get(exit_code - TRAP_EXIT_BASE, 'exception')} " \
                      f"(mcause {exit_code - TRAP_EXIT_BASE})"
        if meaning is None and exit_code < 0:
            meaning = f"Spike was killed by signal {-exit_code}"
        meaning = meaning or "Spike itself failed (bad ELF or options?)"
        super().__init__(
            f"Spike exited with code {exit_code}: {meaning}\n  Spike output (tail):\n{_indent(output_tail)}",
            launch_dir,
        )


# compiler/linalg.py reports through the same runtime call, with sites from LINALG_SITE_BASE: a
# matrix larger than its scratchpad panel, or the info of a factorisation the op checks (eager's
# _linalg_check_errors).
LINALG_SITE_BASE = 1 << 20
LINALG_REPORTS = {
    0: "a matrix of {index} rows, more than the linalg kernels' scratchpad panel holds ({size} - 1)",
    1: "linalg: the input matrix is singular (info = {index}: U[{index}, {index}] is zero)",
    2: "linalg: the input is not positive-definite (the leading minor of order {index} is not positive-definite)",
}


class KernelIndexError(FunctionalRunError, IndexError):
    """The kernel found an indirect index out of range (compiler/indirect.py) and stopped before
    forming its address. The launcher adds the kernel's name."""

    def __init__(self, index: int, size: int, site: int, launch_dir: Path | None, kernel: str = "the kernel"):
        self.index, self.size, self.site, self.kernel = index, size, site, kernel
        message = LINALG_REPORTS.get(site - LINALG_SITE_BASE) if site >= LINALG_SITE_BASE else None
        if message is None:
            message = "index {index} is out of bounds for a dimension of size {size} (indirect index #{site})"
        super().__init__(f"{kernel}: " + message.format(index=index, size=size, site=site), launch_dir)

    def __reduce__(self):
        return type(self), (self.index, self.size, self.site, self.launch_dir, self.kernel)


class SpikeOutputError(FunctionalRunError):
    """Spike exited 0 but an output file is missing or short."""


class LaunchArgumentError(FunctionalRunError):
    """The arguments do not match the kernel metadata."""


# Mirrors enum npusim_exit_code in runtime/npusim_rt.h.
RUNTIME_EXIT_CODES = {
    2: "launch.bin could not be opened",
    3: "launch.bin is shorter than its header says",
    4: "launch.bin: n_args is negative or above 16",
    5: "launch.bin: unknown kind, elem_bytes or negative count",
    6: "the tensor buffers do not fit in Spike's RAM",
    7: "an arg<i>.bin input file could not be opened",
    8: "an arg<i>.bin input file is shorter than count * elem_bytes",
    9: "an out<i>.bin output file could not be created",
    10: "short write of an out<i>.bin output file",
    11: "instret.bin could not be written",
    12: "the kernel called abort() (a failed cf.assert?)",
    13: "an indirect index was out of range (index_error.bin: index, size, site)",
}
INDEX_EXIT_CODE = 13
TRAP_EXIT_BASE = 100
TRAP_CAUSES = {
    0: "instruction address misaligned",
    1: "instruction access fault",
    2: "illegal instruction",
    3: "breakpoint",
    4: "load address misaligned",
    5: "load access fault",
    6: "store address misaligned",
    7: "store access fault",
    8: "ecall from U-mode",
    11: "ecall from M-mode",
    12: "instruction page fault",
    13: "load page fault",
    15: "store page fault",
}


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()) or "    (empty)"
