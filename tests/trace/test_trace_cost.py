"""The cost-table flow (pin -> outline -> sample full and 1-element tiles -> cost.json -> cycles),
with the Spike side replaced by a stand-in; the real Spike run is tested when
simulator.functional provides it (test_spike_cost_sample)."""

from __future__ import annotations

import json

import pytest

import simulator.functional as functional
from simulator.trace import simulate
from simulator.trace.artifacts import trace_artifacts
from simulator.trace import cost
from simulator.trace.cost import INSTRUCTION_CLASSES, cost_table_path

from trace_helpers import config_variant


@pytest.fixture
def fake_spike(monkeypatch, tmp_path):
    # a private cache: the stand-in's cost.json must never serve the real Spike test
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    def build_elf(kernel_text):
        assert f"func.func @{cost.COST_ENTRY}" in kernel_text  # the tile is outlined
        path = tmp_path / f"sample{len(calls)}.elf"
        path.write_text(kernel_text)
        return path

    def count_tile_instructions(elf, meta, args, launch_dir):
        sizes = [a for a, spec in zip(args, meta["args"]) if spec["kind"] == "size"]
        for tensor, spec in zip(args, meta["args"]):
            if spec["kind"] != "size":
                assert tensor.numel() >= 1
        elems = 1
        for value in sizes:
            elems *= value
        calls.append((elf, sizes))
        strips = -(-elems // 4)  # VLEN=128, f32
        counts = {"vector_load": 2 * strips, "vector_store": strips, "vector_fp": strips, "vector_other": strips,
                  "scalar": 20 + 6 * strips}
        return {c: counts.get(c, 0) for c in INSTRUCTION_CLASSES}

    monkeypatch.setattr(functional, "build_elf", build_elf, raising=False)
    monkeypatch.setattr(cost, "count_tile_instructions", count_tile_instructions)
    return calls


def test_cost_table_is_sampled_once_per_kernel(add_kernel, fake_spike):
    artifacts = trace_artifacts(add_kernel["mlir"], add_kernel["meta"])
    path = cost_table_path(artifacts, add_kernel["mlir"], add_kernel["meta"])
    table = json.loads(path.read_text())
    tile = table["tiles"]["0"]
    assert table["source"] == "spike"
    assert tile["full"]["n"] == 1024 and tile["one"]["n"] == 1
    assert tile["full"]["shape_args"] == {"s0": 1024} and tile["one"]["shape_args"] == {"s0": 1}
    assert set(tile["full"]["counts"]) == set(INSTRUCTION_CLASSES)
    assert len(fake_spike) == 2
    assert cost_table_path(artifacts, add_kernel["mlir"], add_kernel["meta"]) == path
    assert len(fake_spike) == 2  # cached: no second sample


def test_simulate_uses_the_sampled_table(rowsum_kernel, fake_spike):
    small = simulate(rowsum_kernel, shape_args={"s0": 9, "s1": 129})
    big = simulate(rowsum_kernel, shape_args={"s0": 90, "s1": 1290})
    assert 0 < small.cycles < big.cycles
    assert small.artifacts["cost.json"].endswith("cost.json")
    wide = simulate(rowsum_kernel, shape_args={"s0": 90, "s1": 1290}, config=config_variant(vector__lanes=256))
    assert wide.busy_cycles["vector"] < big.busy_cycles["vector"]


def test_partial_tile_cost_lies_on_the_sampled_line(add_kernel, fake_spike):
    full = simulate(add_kernel, shape_args={"s0": 1024}).stats["tiles"]["0"]["cycles"]
    one = simulate(add_kernel, shape_args={"s0": 1}).stats["tiles"]["0"]["cycles"]
    tail = simulate(add_kernel, shape_args={"s0": 1000}).stats["tiles"]["0"]["cycles"]
    assert one < tail < full
    assert tail == pytest.approx(one + (full - one) * 999 / 1023)


@pytest.mark.spike
def test_spike_cost_sample(add_kernel):
    from npusim.paths import ToolNotFound, dtc_binary, spike_binary

    try:
        spike_binary(), dtc_binary()
    except ToolNotFound as exc:
        pytest.skip(str(exc))
    artifacts = trace_artifacts(add_kernel["mlir"], add_kernel["meta"])
    table = json.loads(cost_table_path(artifacts, add_kernel["mlir"], add_kernel["meta"]).read_text())
    tile = table["tiles"]["0"]
    assert tile["full"]["n"] == 1024 and tile["one"]["n"] == 1
    full, one = sum(tile["full"]["counts"].values()), sum(tile["one"]["counts"].values())
    # the add tile: at least a load, a load, an add and a store per element, a short fixed part
    assert full >= 4 * 1024 and 0 < one < 100
    small = simulate(add_kernel, shape_args={"s0": 100})
    big = simulate(add_kernel, shape_args={"s0": 5000})
    assert 0 < small.cycles < big.cycles
