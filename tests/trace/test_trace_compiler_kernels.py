"""Kernels as the compiler emits them (copied from compiler 0dda092: x.sum(-1) and
softmax(x, -1) under dynamic=True): one row per work item, the reduction
accumulator an iter_arg of the r tile loop, results stored to the scratchpad
outside compute. The skeleton must take them as they are."""

from __future__ import annotations

import math

import pytest

from simulator.trace import simulate
from simulator.trace.emitc import lower_to_emitc
from simulator.trace.skeleton import build_skeleton

from trace_helpers import fixture_kernel

COST = {"tiles": {str(i): {"fixed_cycles": 12, "cycles_per_elem": 0.02} for i in range(5)}}


def _kernel(name: str) -> dict:
    return fixture_kernel(f"compiler_{name}")


@pytest.mark.parametrize("name,tiles,per_row,per_rtile", [
    ("sum", 3, 5, 3),        # begin, lane reduce, result store, store DMA, end per row;
    ("softmax", 5, 4, 10),   # (load, barrier, compute) per r tile. softmax: begin, 2 lane reduces,
])                           # end per row; per r tile 2 x (load, barrier, compute) and (load, barrier, compute, store)
def test_compiler_kernel_sweeps(name, tiles, per_row, per_rtile):
    kernel = _kernel(name)
    skeleton = build_skeleton(kernel["mlir"])
    assert sorted(skeleton.tile_ids) == list(range(tiles))
    lower_to_emitc(skeleton)
    r_arg = next(a["name"] for a in kernel["meta"]["args"] if a.get("role") == "rnumel")
    x_arg = next(a["name"] for a in kernel["meta"]["args"] if a.get("role") == "xnumel")
    for fixed, sweep in ((x_arg, [1, 1000, 1024, 1025, 5000]), (r_arg, [1, 2, 7, 64])):
        cycles = []
        for value in sweep:
            shape = {x_arg: 5, r_arg: value} if fixed == x_arg else {x_arg: value, r_arg: 300}
            result = simulate(kernel, shape_args=shape, cost_table=COST)
            rtiles = math.ceil(shape[r_arg] / 1024)
            assert result.trace_records == shape[x_arg] * (per_row + per_rtile * rtiles), shape
            cycles.append(result.cycles)
        assert all(a < b for a, b in zip(cycles, cycles[1:])), (name, fixed, cycles)


def test_static_kernel_needs_no_shape_args():
    kernel = _kernel("static_mul_add")  # x * y + 1 over 3000 elements, tiles of 1000
    result = simulate(kernel, shape_args={}, cost_table=COST)
    assert result.trace_records == 3 * 8 and result.stats["tiles"]["0"]["max_elems"] == 1000
