"""Conv cycles against the rooflines: `python -m simulator.trace.bench_conv [--config NAME]`.

Compiles each convolution once (torch.compile, dynamic batch/H/W, values on the host JIT at a
small size), then runs its trace.so on the C++ trace simulator at ResNet-like sizes (Spike would
take hours; the kernel is shape-agnostic). Prints cycles, the MAC roofline (B*Cout*Ho*Wo*Cin_g*kh*kw
MACs at the config's systolic peak), the DRAM roofline (input, weights and output moved once at
peak bandwidth), the utilisation of the systolic peak and whether the cycles are at or above both.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from npusim import config as npu_config
from simulator.trace.bench_matmul import (RooflinePoint, compile_one, config_header, config_with, peak_rates,
                                          shape_args_by_role)


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
    weight = torch.randn(case.out_channels, case.in_channels // case.groups, case.kernel, case.kernel).to(dtype)

    def conv(x, w):
        return F.conv2d(x, w, stride=case.stride, padding=case.padding, groups=case.groups)

    x = torch.randn(2, case.in_channels, 7, 9).to(dtype)
    return compile_one(case.name, conv, (x, weight), conv(x.double(), weight.double()))


def conv_shape_args(kernel_dir: Path, batch: int, h: int, w: int) -> dict[str, int]:
    return shape_args_by_role(kernel_dir, {"B": batch, "H": h, "W": w})


ConvPoint = RooflinePoint


def conv_point(kernel_dir: Path, case: ConvCase, batch: int, h: int, w: int, config: dict,
               elem_bytes: int = 4) -> ConvPoint:
    from simulator.trace import simulate

    result = simulate(kernel_dir, shape_args=conv_shape_args(kernel_dir, batch, h, w), config=config)
    macs_per_cycle, bytes_per_cycle = peak_rates(config)
    return ConvPoint(result.cycles, case.macs(batch, h, w) / macs_per_cycle,
                     case.moved_bytes(batch, h, w, elem_bytes) / bytes_per_cycle, result.stats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="NPU config name or path (default: the default config)")
    args = parser.parse_args(argv)
    config = npu_config.load(args.config)
    data = config_with(config)
    print(f"{config_header(config.name, data)}; f32")
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
                  f"{point.verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
