"""Kernels as the compiler emits them (copied from compiler 0dda092: x.sum(-1) and
softmax(x, -1) under dynamic=True): one row per work item, the reduction
accumulator an iter_arg of the r tile loop, results stored to the scratchpad
outside compute. The skeleton must take them as they are."""

from __future__ import annotations

import json
import math

import pytest

from simulator.trace import simulate
from simulator.trace.cost import COST_ENTRY, outline_tile, pin_loops_to_one_tile, sample_shape_args
from simulator.trace.emitc import lower_to_emitc
from simulator.trace.skeleton import build_skeleton

from conftest import DATA

COST = {"tiles": {str(i): {"fixed_cycles": 12, "cycles_per_elem": 0.02} for i in range(3)}}


def _kernel(name: str) -> dict:
    return {"mlir": (DATA / f"compiler_{name}.mlir").read_text(),
            "meta": json.loads((DATA / f"compiler_{name}.json").read_text())}


@pytest.mark.parametrize("name,tiles,per_row,per_rtile", [
    ("sum", 1, 3, 3),        # begin, store, end per row; (load, barrier, compute) per r tile
    ("softmax", 3, 2, 10),   # begin, end per row; per r tile 2 x (load, barrier, compute)
])                           # and (load, barrier, compute, store)
def test_compiler_kernel_sweeps(name, tiles, per_row, per_rtile):
    kernel = _kernel(name)
    skeleton = build_skeleton(kernel["mlir"])
    assert skeleton.tile_ids == list(range(tiles))
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


def test_compiler_kernel_cost_samples_build(tmp_path):
    kernel = _kernel("softmax")
    pinned = pin_loops_to_one_tile(kernel["mlir"])
    for tile_id in range(3):
        text = outline_tile(pinned, tile_id)
        outlined = text[text.index(f"func.func @{COST_ENTRY}"):]
        assert f"tile_id = {tile_id}" in outlined and "npusim.dma" not in outlined
    shape = sample_shape_args(kernel["meta"], full=True)
    assert sorted(shape.values()) == [1, 1024]


def test_static_kernel_needs_no_shape_args():
    kernel = _kernel("static_mul_add")  # x * y + 1 over 3000 elements, tiles of 1000
    result = simulate(kernel, shape_args={}, cost_table=COST)
    assert result.trace_records == 3 * 8 and result.stats["tiles"]["0"]["max_elems"] == 1000


def test_static_kernel_cost_line_goes_through_the_origin(tmp_path):
    from simulator.trace.api import run_simulator
    from simulator.trace.artifacts import trace_artifacts

    kernel = _kernel("static_mul_add")
    artifacts = trace_artifacts(kernel["mlir"], kernel["meta"])
    counts = {"vector_load": 500, "vector_store": 250, "vector_fp": 500, "vector_other": 250, "scalar": 1500}
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps({"spike_vlen_bits": 128, "tiles": {"0": {"elem_bits": 32, "full": {"n": 1000, "counts": counts}}}}))
    from npusim import config as npu_config

    (tmp_path / "config.json").write_text(json.dumps(npu_config.load().data))
    (tmp_path / "launch.json").write_text(json.dumps({"shape_args": []}))
    report = run_simulator(artifacts.trace_so, artifacts.info_json, tmp_path / "launch.json", tmp_path / "config.json",
                           cost, tmp_path / "out.json")
    # 3 tiles x 1000 elements x (3000 ops / 1000 elements) x (4 / 1024 elements per NPU op)
    assert report["tiles"]["0"]["cycles"] == pytest.approx(3 * 3000 * 4 / 1024)
