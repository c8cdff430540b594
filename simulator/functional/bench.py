"""Benchmark of the functional path: `python -m simulator.functional.bench`.

Per kernel: build time (kernel.mlir -> ELF by step; the target is LLVM IR ->
ELF <= 1 s), then per size the wall time of one launch split into writing
the inputs, the Spike process and reading the outputs, the instructions
retired in the kernel call and instructions per second of the Spike process.
The launch at N=1 is the per-launch overhead (target <= 0.2 s). Builds go
into a fresh temporary cache so they are measured, not cache hits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "functional" / "data"


def _add_case(n: int):
    return [torch.randn(n), torch.randn(n), None, n], f"N={n}"


def _rowsum_case(n: int):
    columns = 100
    rows = max(1, n // columns)
    return [torch.randn(rows, columns), None, rows, columns], f"N={rows * columns} ({rows}x{columns})"


KERNELS = {"add": _add_case, "rowsum": _rowsum_case}


def _timed_launch(elf, meta, args, launch_dir: Path) -> dict:
    from simulator.functional import spike
    from simulator.functional.launch_args import prepare_arguments

    start = time.perf_counter()
    prepared = prepare_arguments(meta, args, launch_dir)
    spike.write_launch_files(prepared, launch_dir)
    written = time.perf_counter()
    code, output = spike.run_process(spike.spike_command(Path(elf)), launch_dir, 600)
    ran = time.perf_counter()
    if code != 0:
        raise RuntimeError(f"Spike exited {code}: {output[-2000:]!r}")
    _, instret = spike.read_results(prepared, launch_dir)
    done = time.perf_counter()
    return {"write_s": written - start, "spike_s": ran - written, "read_s": done - ran,
            "wall_s": done - start, "instret": instret}


def bench(sizes: list[int], repeats: int, kernels: list[str]) -> list[dict]:
    from simulator.functional import elf_build, runtime_build

    rows = []
    start = time.perf_counter()
    runtime_build.runtime_archive()
    runtime_build.spike_dtb()
    print(f"runtime archive + device tree (once per runtime version): {time.perf_counter() - start:.3f} s")
    for name in kernels:
        path = FIXTURES / f"{name}.mlir"
        meta = json.loads((FIXTURES / f"{name}.json").read_text())
        report = elf_build.build_elf(path, report=True)
        steps = report.step_seconds or {"llvm_ir_to_elf_wall": float("nan")}  # cache hit with --keep-cache
        print(f"\n== {name}  ({report.elf})")
        print("build: " + "  ".join(f"{k} {v * 1000:.0f} ms" for k, v in steps.items()
                                     if k != "llvm_ir_to_elf_wall"))
        print(f"build LLVM IR -> ELF (compile + assemble + link): {steps['llvm_ir_to_elf_wall']:.3f} s"
              f"   whole kernel.mlir -> ELF: {sum(v for k, v in steps.items() if k != 'llvm_ir_to_elf_wall'):.3f} s")
        print(f"{'size':>22} {'launch wall':>12} {'write':>8} {'spike':>8} {'read':>8} {'instret':>10} "
              f"{'instr/s (spike)':>16}")
        with tempfile.TemporaryDirectory(prefix="npusim-bench-") as work:
            for n in [1] + sizes:
                args, label = KERNELS[name](n)
                runs = [_timed_launch(report.elf, meta, args, Path(work) / f"{name}-{n}") for _ in range(repeats)]
                row = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                row.update(kernel=name, n=n, label=label, build_llvm_ir_to_elf_s=steps["llvm_ir_to_elf_wall"])
                rows.append(row)
                rate = row["instret"] / row["spike_s"]
                print(f"{label:>22} {row['wall_s']:>10.3f} s {row['write_s'] * 1000:>6.1f}ms "
                      f"{row['spike_s']:>6.3f} s {row['read_s'] * 1000:>6.1f}ms {row['instret']:>10d} "
                      f"{rate / 1e6:>12.1f} M/s")
        overhead = next(r for r in rows if r["kernel"] == name and r["n"] == 1)["wall_s"]
        print(f"per-launch overhead (N=1: start + I/O): {overhead:.3f} s (target <= 0.2 s); "
              f"build {steps['llvm_ir_to_elf_wall']:.3f} s (target <= 1 s)")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated element counts")
    parser.add_argument("--repeats", type=int, default=3, help="launches per size (median reported)")
    parser.add_argument("--kernels", default=",".join(KERNELS), help=f"subset of {','.join(KERNELS)}")
    parser.add_argument("--keep-cache", action="store_true",
                        help="use $NPUSIM_CACHE_DIR instead of a fresh temporary cache")
    options = parser.parse_args(argv)
    sizes = [int(float(s)) for s in options.sizes.split(",") if s]
    kernels = [k for k in options.kernels.split(",") if k]
    if options.keep_cache:
        bench(sizes, options.repeats, kernels)
        return
    with tempfile.TemporaryDirectory(prefix="npusim-bench-cache-") as cache:
        os.environ["NPUSIM_CACHE_DIR"] = cache
        bench(sizes, options.repeats, kernels)


if __name__ == "__main__":
    main()
