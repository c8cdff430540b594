"""GEMM cycles against the rooflines: `python -m simulator.trace.bench_matmul [--config NAME]`.

Compiles `a @ b` once (torch.compile, dynamic shapes, values on the host JIT
at a small size), then runs the kernel's trace.so on the C++ trace simulator
at every size (no functional run: Spike would take hours at 2048^3; the
kernel is shape-agnostic, so the same kernel.mlir serves every size). For
square and skinny GEMMs it prints cycles, the MAC roofline
M*N*K / (arrays * rows * cols), the DRAM roofline (A, B and C moved once at
the config's peak bandwidth), the utilisation of the systolic peak, and
whether the cycles are at or above both rooflines.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from npusim import config as npu_config

SQUARE = [64, 128, 256, 512, 1024, 2048]
SKINNY = [(1, 2048, 2048), (16, 2048, 2048), (2048, 64, 2048), (2048, 2048, 64), (64, 2048, 2048)]
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def compile_one(name: str, fn, args: tuple, expected) -> Path:
    """The kernel directory of `fn` compiled by the npusim backend (dynamic shapes), its values
    checked on the host JIT against `expected` at the small size `args`; one kernel expected."""
    import compiler  # noqa: F401  (registers the backend)
    from npusim import runlog

    with tempfile.TemporaryDirectory(prefix="npusim-bench-") as tmp:
        log = Path(tmp) / "runlog.jsonl"
        saved = {k: os.environ.get(k) for k in ("NPUSIM_RUNLOG", "NPUSIM_FUNCTIONAL", "NPUSIM_TRACE")}
        os.environ.update(NPUSIM_RUNLOG=str(log), NPUSIM_FUNCTIONAL="host", NPUSIM_TRACE="0")
        try:
            torch._dynamo.reset()
            compiled = torch.compile(fn, backend="npusim", dynamic=True)
            torch.testing.assert_close(compiled(*args).double(), expected.double(), rtol=2e-2, atol=2e-2)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        compiles = runlog.events("compile", log)
    if len(compiles) != 1:
        raise RuntimeError(f"expected one compiled kernel for {name}, got {len(compiles)}")
    return Path(compiles[0]["artifacts"])


def compile_gemm(dtype: torch.dtype = torch.float32) -> Path:
    """The kernel directory of `a @ b` compiled by the npusim backend (dynamic M, N, K)."""
    a, b = torch.randn(9, 5).to(dtype), torch.randn(5, 7).to(dtype)
    return compile_one("a @ b", lambda a, b: a @ b, (a, b), a.float() @ b.float())


def shape_args_by_role(kernel_dir: Path, roles: dict[str, int]) -> dict[str, int]:
    """The kernel's size args from the values of their roles (kernel.json)."""
    import json

    meta = json.loads((kernel_dir / "kernel.json").read_text())
    shape = {}
    for arg in meta["args"]:
        if arg["kind"] == "size":
            if arg["role"] not in roles:
                raise RuntimeError(f"size arg {arg['name']} has role {arg['role']!r}, not one of {sorted(roles)}")
            shape[arg["name"]] = roles[arg["role"]]
    return shape


def gemm_shape_args(kernel_dir: Path, m: int, n: int, k: int) -> dict[str, int]:
    return shape_args_by_role(kernel_dir, {"M": m, "N": n, "K": k, "batch": 1})


def config_with(config: npu_config.NpuConfig, **systolic) -> dict:
    """The config's values with systolic knobs replaced (a variant for a sweep)."""
    data = {section: dict(value) if isinstance(value, dict) else value for section, value in config.data.items()}
    data["systolic"].update(systolic)
    if systolic:
        data["name"] = config.name + "-" + "-".join(f"{k}{v}" for k, v in sorted(systolic.items()))
    return data


@dataclass
class RooflinePoint:
    """A simulated kernel's cycles beside its MAC and DRAM rooflines."""

    cycles: int
    mac_roofline: float
    dram_roofline: float
    stats: dict

    @property
    def utilisation(self) -> float:
        return self.mac_roofline / self.cycles if self.cycles else 0.0

    @property
    def at_or_above_roofline(self) -> bool:
        return self.cycles >= math.floor(max(self.mac_roofline, self.dram_roofline))

    @property
    def verdict(self) -> str:
        return "yes" if self.at_or_above_roofline else "BELOW ROOFLINE"


@dataclass
class GemmPoint(RooflinePoint):
    m: int = 0
    n: int = 0
    k: int = 0


def peak_rates(config: dict) -> tuple[float, float]:
    """(MACs per cycle of every array of every core, DRAM bytes per core cycle) at peak."""
    s, dram = config["systolic"], config["dram"]
    macs_per_cycle = config["core"]["count"] * s["arrays_per_core"] * s["rows"] * s["cols"]
    bytes_per_cycle = dram["channels"] * dram["gbps_per_channel"] * 1000.0 / config["core"]["freq_mhz"]
    return macs_per_cycle, bytes_per_cycle


def config_header(name: str, data: dict) -> str:
    s = data["systolic"]
    return f"config {name}: {s['arrays_per_core']} x {s['rows']}x{s['cols']} arrays per core, {data['core']['count']} core(s)"


def rooflines(config: dict, m: int, n: int, k: int, elem_bytes: int) -> tuple[float, float]:
    macs_per_cycle, bytes_per_cycle = peak_rates(config)
    return m * n * k / macs_per_cycle, (m * k + k * n + m * n) * elem_bytes / bytes_per_cycle


def gemm_point(kernel_dir: Path, m: int, n: int, k: int, config: dict, elem_bytes: int = 4) -> GemmPoint:
    from simulator.trace import simulate

    result = simulate(kernel_dir, shape_args=gemm_shape_args(kernel_dir, m, n, k), config=config)
    mac, dram = rooflines(config, m, n, k, elem_bytes)
    return GemmPoint(result.cycles, mac, dram, result.stats, m, n, k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="NPU config name or path (default: the default config)")
    parser.add_argument("--dtype", default="f32", choices=sorted(DTYPES))
    parser.add_argument("--max", type=int, default=2048, help="largest square size")
    args = parser.parse_args(argv)
    config = npu_config.load(args.config)
    data = config_with(config)
    kernel_dir = compile_gemm(DTYPES[args.dtype])
    elem_bytes = torch.finfo(DTYPES[args.dtype]).bits // 8
    shapes = [(s, s, s) for s in SQUARE if s <= args.max] + [p for p in SKINNY if max(p) <= args.max]
    print(f"{config_header(config.name, data)}; dtype {args.dtype}; kernel {kernel_dir.name[:12]}")
    print(f"{'M':>6} {'N':>6} {'K':>6} {'cycles':>12} {'MAC roof':>12} {'DRAM roof':>12} {'util':>7}  ok")
    failures = 0
    for m, n, k in shapes:
        point = gemm_point(kernel_dir, m, n, k, data, elem_bytes)
        failures += not point.at_or_above_roofline
        print(f"{m:6d} {n:6d} {k:6d} {point.cycles:12d} {point.mac_roofline:12.0f} {point.dram_roofline:12.0f} "
              f"{point.utilisation:7.1%}  {point.verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
