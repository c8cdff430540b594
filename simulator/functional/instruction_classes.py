"""Instruction-class counts of one kernel launch, for the per-tile cost table.

Runs Spike with `-l --log=FILE` (one line per executed instruction:
`core   0: 0x<pc> (0x<bits>) <mnemonic> <operands>`) and counts the
instructions executed inside the kernel call: from the first instruction of
npusim_call_kernel (the per-kernel call shim, which may tail-call
_mlir_ciface_kernel) until control returns to the runtime's main. That excludes the
runtime's file I/O and HTIF polling, and includes what the kernel calls
(memcpy, expf, ...), so the total matches `instret` up to the few
instructions of the call sequence. scope="kernel" keeps only PCs inside
functions defined in the kernel's own object (kernel.o beside the ELF).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from simulator.functional import elf_symbols, spike
from simulator.functional.errors import SpikeExitError, SpikeOutputError, tail
from simulator.functional.launch_args import prepare_arguments

CLASSES = ("vector_load", "vector_store", "vector_fp", "vector_int", "vector_other",
           "scalar_mem", "scalar_fp", "scalar")
KERNEL_ENTRY = "npusim_call_kernel"  # elf_build.call_shim: called, never tail-called

_VECTOR_LOAD = re.compile(r"^vl(e\d|se\d|uxei|oxei|\dre|m\.v|seg|sseg|uxseg|oxseg)")
_VECTOR_STORE = re.compile(r"^vs(e\d|se\d|uxei|oxei|\dr|m\.v|seg|sseg|uxseg|oxseg)")
# Data movement and configuration rather than arithmetic.
_VECTOR_OTHER = re.compile(r"^(vset|vmv|vfmv|vslide|vfslide|vrgather|vcompress|vid\.|viota|vcpop|vfirst|vmsbf|"
                           r"vmsif|vmsof)")
_SCALAR_MEM = re.compile(r"^(c\.)?(l[bhwd]u?|s[bhwd]|fl[whd]|fs[whd])(sp)?$|^(lr|sc|amo)")


def classify(mnemonic: str) -> str:
    m = mnemonic.lower()
    if m.startswith("v"):
        if _VECTOR_LOAD.match(m):
            return "vector_load"
        if _VECTOR_STORE.match(m):
            return "vector_store"
        if _VECTOR_OTHER.match(m):
            return "vector_other"
        if m.startswith(("vf", "vmf")):
            return "vector_fp"
        return "vector_int"
    if _SCALAR_MEM.match(m):
        return "scalar_mem"
    if m.startswith(("f", "c.f")) and not m.startswith("fence"):
        return "scalar_fp"
    return "scalar"


def count_log(log_path: Path, entry_address: int, kernel_ranges: list[tuple[int, int]] | None = None) -> Counter:
    """Counts classes in a Spike log inside the first call of `entry_address`."""
    counts: Counter = Counter()
    in_call, return_address, previous_end = False, None, None
    with open(log_path, errors="replace") as log:
        for line in log:
            parts = line.split(None, 5)
            if len(parts) < 5 or not parts[2].startswith("0x"):
                continue  # symbol markers (">>>>  name"), traps
            pc = int(parts[2], 16)
            if not in_call:
                if pc == entry_address:
                    in_call, return_address = True, previous_end
                else:
                    bits = int(parts[3].strip("()"), 16)
                    previous_end = pc + (4 if bits & 3 == 3 else 2)
                    continue
            elif pc == return_address:
                break
            if kernel_ranges is None or any(start <= pc < end for start, end in kernel_ranges):
                counts[classify(parts[4])] += 1
    return counts


def count_instruction_classes(elf: str | Path, meta: dict, args: list, launch_dir: str | Path,
                              *, scope: str = "call", timeout_s: float = spike.DEFAULT_TIMEOUT_S) -> dict[str, int]:
    """Runs one launch under `spike -l` and returns {class: count} for every
    class in CLASSES plus "total". scope: "call" (everything executed inside
    the kernel call) or "kernel" (only the kernel object's own functions)."""
    if scope not in ("call", "kernel"):
        raise ValueError(f"scope must be 'call' or 'kernel', got {scope!r}")
    elf, launch_dir = Path(elf).resolve(), Path(launch_dir).resolve()
    symbols = elf_symbols.function_ranges(elf)
    if KERNEL_ENTRY not in symbols:
        raise SpikeOutputError(f"{elf} has no {KERNEL_ENTRY} symbol", launch_dir)
    kernel_ranges = None
    if scope == "kernel":
        own = {s.name for s in elf_symbols.read_symbols(elf.with_name("kernel.o")) if s.is_function and s.defined}
        kernel_ranges = [r for name, r in symbols.items() if name in own]
    prepared = prepare_arguments(meta, args, launch_dir)
    spike.write_launch_files(prepared, launch_dir)
    log_path = launch_dir / "spike-trace.log"
    code, output = spike.run_process(spike.spike_command(elf, "-l", f"--log={log_path}"), launch_dir, timeout_s)
    if code != 0:
        raise SpikeExitError(code, tail(output), launch_dir)
    counts = count_log(log_path, symbols[KERNEL_ENTRY][0], kernel_ranges)
    result = {name: counts.get(name, 0) for name in CLASSES}
    result["total"] = sum(result.values())
    return result
