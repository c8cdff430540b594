"""Conv cycles against the rooflines: `python -m simulator.trace.bench_conv [--config NAME]`.

Compiles each convolution once (torch.compile, dynamic batch/H/W, values on the host JIT at a
small size), then runs its trace.so on the C++ trace simulator at ResNet-like sizes (Spike would
take hours; the kernel is shape-agnostic). Prints cycles, the MAC roofline (B*Cout*Ho*Wo*Cin_g*kh*kw
MACs at the config's systolic peak), the DRAM roofline (input, weights and output moved once at
peak bandwidth), the utilisation of the systolic peak and whether the cycles are at or above both.
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
import torch.nn.functional as F

from npusim import config as npu_config
from simulator.trace.bench_matmul import config_with


@dataclass(frozen=True)
class ConvCase:
    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1

    def out_size(self, size: int) -> int:
        return (size + 2 * self.padding - self.kernel) // self.stride + 1

    def macs(self, batch: int, h: int, w: int) -> int:
        return (batch * self.out_channels * self.out_size(h) * self.out_size(w) *
                (self.in_channels // self.groups) * self.kernel * self.kernel)

    def moved_bytes(self, batch: int, h: int, w: int, elem_bytes: int) -> int:
        x = batch * self.in_channels * h * w
        weights = self.out_channels * (self.in_channels // self.groups) * self.kernel ** 2
        out = batch * self.out_channels * self.out_size(h) * self.out_size(w)
        return (x + weights + out) * elem_bytes


CASES = [
    (ConvCase("resnet 3x3", 64, 64, 3, padding=1), [(1, 56, 56), (4, 56, 56)]),
    (ConvCase("resnet 1x1", 64, 256, 1), [(1, 56, 56), (4, 56, 56)]),
    (ConvCase("resnet 3x3 c128", 128, 128, 3, padding=1), [(1, 28, 28)]),
    (ConvCase("3x3 stride 2", 64, 128, 3, stride=2, padding=1), [(1, 56, 56)]),
    (ConvCase("depthwise 3x3", 64, 64, 3, padding=1, groups=64), [(1, 56, 56)]),
]


def compile_conv(case: ConvCase, dtype: torch.dtype = torch.float32) -> Path:
    """The kernel directory of the case's conv2d compiled by the npusim backend."""
    import compiler  # noqa: F401  (registers the backend)
    from npusim import runlog

    weight = torch.randn(case.out_channels, case.in_channels // case.groups, case.kernel, case.kernel).to(dtype)

    def conv(x, w):
        return F.conv2d(x, w, stride=case.stride, padding=case.padding, groups=case.groups)

    with tempfile.TemporaryDirectory(prefix="npusim-conv-") as tmp:
        log = Path(tmp) / "runlog.jsonl"
        saved = {k: os.environ.get(k) for k in ("NPUSIM_RUNLOG", "NPUSIM_FUNCTIONAL", "NPUSIM_TRACE")}
        os.environ.update(NPUSIM_RUNLOG=str(log), NPUSIM_FUNCTIONAL="host", NPUSIM_TRACE="0")
        try:
            torch._dynamo.reset()
            compiled = torch.compile(conv, backend="npusim", dynamic=True)
            x = torch.randn(2, case.in_channels, 7, 9).to(dtype)
            expected = conv(x.double(), weight.double())
            torch.testing.assert_close(compiled(x, weight).double(), expected, rtol=2e-2, atol=2e-2)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        compiles = runlog.events("compile", log)
    if len(compiles) != 1:
        raise RuntimeError(f"expected one compiled kernel for {case.name}, got {len(compiles)}")
    return Path(compiles[0]["artifacts"])


def conv_shape_args(kernel_dir: Path, batch: int, h: int, w: int) -> dict[str, int]:
    import json

    meta = json.loads((kernel_dir / "kernel.json").read_text())
    roles = {"B": batch, "H": h, "W": w}
    shape = {}
    for arg in meta["args"]:
        if arg["kind"] == "size":
            if arg["role"] not in roles:
                raise RuntimeError(f"size arg {arg['name']} has role {arg['role']!r}, not B, H or W")
            shape[arg["name"]] = roles[arg["role"]]
    return shape


@dataclass
class ConvPoint:
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


def conv_point(kernel_dir: Path, case: ConvCase, batch: int, h: int, w: int, config: dict,
               elem_bytes: int = 4) -> ConvPoint:
    from simulator.trace import simulate

    result = simulate(kernel_dir, shape_args=conv_shape_args(kernel_dir, batch, h, w), config=config)
    s, dram = config["systolic"], config["dram"]
    macs_per_cycle = config["core"]["count"] * s["arrays_per_core"] * s["rows"] * s["cols"]
    bytes_per_cycle = dram["channels"] * dram["gbps_per_channel"] * 1000.0 / config["core"]["freq_mhz"]
    return ConvPoint(result.cycles, case.macs(batch, h, w) / macs_per_cycle,
                     case.moved_bytes(batch, h, w, elem_bytes) / bytes_per_cycle, result.stats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="NPU config name or path (default: the default config)")
    args = parser.parse_args(argv)
    config = npu_config.load(args.config)
    data = config_with(config)
    print(f"config {config.name}: {data['systolic']['arrays_per_core']} x {data['systolic']['rows']}x"
          f"{data['systolic']['cols']} arrays per core, {data['core']['count']} core(s); f32")
    print(f"{'conv':<18} {'B':>3} {'H':>4} {'W':>4} {'cycles':>11} {'MAC roof':>10} {'DRAM roof':>10} "
          f"{'util':>7} {'DRAM MB':>8}  ok")
    failures = 0
    for case, sizes in CASES:
        kernel_dir = compile_conv(case)
        for batch, h, w in sizes:
            point = conv_point(kernel_dir, case, batch, h, w, data)
            failures += not point.at_or_above_roofline
            moved = point.stats.get("dram_bytes", 0) / 1e6
            print(f"{case.name:<18} {batch:3d} {h:4d} {w:4d} {point.cycles:11d} {point.mac_roofline:10.0f} "
                  f"{point.dram_roofline:10.0f} {point.utilisation:7.1%} {moved:8.2f}  "
                  f"{'yes' if point.at_or_above_roofline else 'BELOW ROOFLINE'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
