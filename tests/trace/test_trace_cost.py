"""The cost table: NPU vector work read from the compute bodies of kernel.mlir, priced by the config."""

from __future__ import annotations

import json

import pytest

from simulator.trace import simulate
from simulator.trace.api import TraceSimError
from simulator.trace.artifacts import trace_artifacts
from simulator.trace.cost import COST_TABLE_VERSION, build_cost_table, cost_table_path
from simulator.trace.op_classes import CostModelError

from trace_helpers import config_variant

F16_ADD = """
        %a = memref.load %sp0[%i] : memref<1024xf16>
        %b = memref.load %sp1[%i] : memref<1024xf16>
        %wa = arith.extf %a : f16 to f32
        %wb = arith.extf %b : f16 to f32
        %w = arith.addf %wa, %wb : f32
        %r = arith.truncf %w : f32 to f16
        memref.store %r, %sp2[%i] : memref<1024xf16>"""
F32_ADD = """
        %a = memref.load %sp0[%i] : memref<1024xf32>
        %b = memref.load %sp1[%i] : memref<1024xf32>
        %r = arith.addf %a, %b : f32
        memref.store %r, %sp2[%i] : memref<1024xf32>"""


def _variant(kernel: dict, body: str, dtype: str = "f32") -> dict:
    text = kernel["mlir"].replace(F32_ADD, body)
    assert text != kernel["mlir"] or body == F32_ADD
    if dtype != "f32":
        text = text.replace("xf32", f"x{dtype}")
    return {"mlir": text, "meta": kernel["meta"]}


def _classes(kernel: dict, tile: str = "0") -> list[tuple[str, int]]:
    table = build_cost_table(trace_artifacts(kernel["mlir"], kernel["meta"]))
    assert table["version"] == COST_TABLE_VERSION and table["source"] == "kernel.mlir"
    return [(op["class"], op["bits"]) for op in table["tiles"][tile]["ops"]]


def test_add_tile_is_two_loads_an_add_and_a_store(add_kernel):
    assert _classes(add_kernel) == [("spad_access", 32), ("spad_access", 32), ("arith", 32), ("spad_access", 32)]
    path = cost_table_path(trace_artifacts(add_kernel["mlir"], add_kernel["meta"]))
    assert cost_table_path(trace_artifacts(add_kernel["mlir"], add_kernel["meta"])) == path  # built once


def test_half_precision_is_native_on_the_vector_unit(add_kernel):
    """extf/truncf around f32 arithmetic cost nothing in an f16 tile and the add runs at 16 bits,
    so f16 at 2N costs what f32 costs at N."""
    f16 = _variant(add_kernel, F16_ADD, "f16")
    f16["mlir"] = f16["mlir"].replace("1024", "2048")  # the compiler's f16 tile: one vector op of 16-bit lanes
    assert _classes(f16) == [("spad_access", 16), ("spad_access", 16), ("arith", 16), ("spad_access", 16)]
    n = 65536 * 4
    f32_busy = simulate(add_kernel, shape_args={"s0": n}).busy_cycles["vector"]
    f16_busy = simulate(f16, shape_args={"s0": 2 * n}).busy_cycles["vector"]
    assert f16_busy == pytest.approx(f32_busy)


@pytest.mark.parametrize("body,expected", [
    ("%r0 = math.exp %a : f32\n        %r = arith.addf %r0, %b : f32", "special"),
    ("%r = arith.divf %a, %b : f32", "div_sqrt"),
    ("%c = arith.cmpf ogt, %a, %b : f32\n        %r = arith.select %c, %a, %b : f32", "compare_select"),
])
def test_op_classes_and_their_costs(add_kernel, body, expected):
    text = F32_ADD.replace("%r = arith.addf %a, %b : f32", body)
    kernel = _variant(add_kernel, text)
    assert expected in {cls for cls, _ in _classes(kernel)}
    plain = simulate(add_kernel, shape_args={"s0": 1 << 16}).busy_cycles["vector"]
    heavier = simulate(kernel, shape_args={"s0": 1 << 16}).busy_cycles["vector"]
    assert heavier > plain  # an exp, a divide, a compare+select each cost more than an add alone


def test_op_without_a_class_is_an_error(add_kernel):
    kernel = _variant(add_kernel, F32_ADD.replace("%r = arith.addf %a, %b : f32",
                                                   "%v = vector.broadcast %a : f32 to vector<4xf32>\n"
                                                   "        %r = vector.extract %v[0] : f32 from vector<4xf32>"))
    with pytest.raises(CostModelError, match="vector.broadcast on the data path has no op class"):
        _classes(kernel)
    assert issubclass(CostModelError, TraceSimError)


def test_partial_tile_costs_whole_vector_ops(add_kernel):
    """A tile of 1000 f32 elements needs one NPU vector op per op (1024 lanes x words), like a full one;
    one element more than a vector needs two."""
    cycles = {n: simulate(add_kernel, shape_args={"s0": n}).stats["tiles"]["0"]["cycles"] for n in (1, 1000, 1024)}
    assert cycles[1] == cycles[1000] == cycles[1024] == 4
    narrow = config_variant(vector__lanes=64)  # 512 f32 per vector op: two per 1024-element tile
    assert simulate(add_kernel, shape_args={"s0": 1024}, config=narrow).stats["tiles"]["0"]["cycles"] == 8


def test_missing_op_class_in_the_config_is_an_error(add_kernel, tmp_path):
    cost = {"tiles": {"0": {"ops": [{"op": "x", "class": "quantum", "bits": 32, "deps": []}]}}}
    with pytest.raises(TraceSimError, match="class 'quantum'.*does not define"):
        simulate(add_kernel, shape_args={"s0": 8}, cost_table=cost)


def test_negative_cost_is_an_error(add_kernel):
    with pytest.raises(TraceSimError, match="negative cost"):
        simulate(add_kernel, shape_args={"s0": 8}, cost_table={"tiles": {"0": {"fixed_cycles": -1,
                                                                                "cycles_per_elem": 0}}})


def test_reduction_result_store_and_lane_reduce_are_tiles(compiler_sum_kernel):
    table = build_cost_table(trace_artifacts(compiler_sum_kernel["mlir"], compiler_sum_kernel["meta"]))
    kinds = {t: entry["kind"] for t, entry in table["tiles"].items()}
    assert sorted(kinds.values()) == ["compute", "lane_reduce", "store"]
    store = next(entry for entry in table["tiles"].values() if entry["kind"] == "store")
    assert store["after_previous"] and store["ops"][-1]["class"] == "spad_access"
