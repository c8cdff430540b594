"""Cycles of the compiled GEMM kernel on the trace simulator (systolic events, config-driven costs).

One `a @ b` kernel is compiled (values checked on the host JIT at a small size) and its trace.so
is simulated at large sizes directly: the kernel is shape-agnostic, Spike would take hours."""

from __future__ import annotations

import pytest

from npusim import config as npu_config
from simulator.trace.bench_matmul import compile_gemm, config_with, gemm_point


@pytest.fixture(scope="module")
def gemm(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("NPUSIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "npusim-cache"))
    try:
        yield compile_gemm()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def default_config():
    return npu_config.load()


def test_trace_holds_preload_and_accumulate_per_weight_tile(gemm, default_config):
    rows = default_config["systolic"]["rows"]
    point = gemm_point(gemm, 2 * rows + 1, 2 * rows, 3 * rows, config_with(default_config))
    events = point.stats["events"]
    # K = 3 weight-tile rows x N = 2 weight-tile columns, one C tile (TM, TN >= 2 rows)
    assert events["systolic_preload"] == 6 and events["systolic_accumulate"] == 6
    # each accumulate streams the tile's real 2*rows + 1 rows; nothing is vector work on the array
    assert point.stats["busy_cycles"]["systolic"] == 6 * (2 * rows + 1)


def test_a_tail_tile_costs_its_real_rows(gemm, default_config):
    config = config_with(default_config)
    full = gemm_point(gemm, 128, 128, 128, config)
    tail = gemm_point(gemm, 129, 128, 128, config)
    assert tail.stats["busy_cycles"]["systolic"] == full.stats["busy_cycles"]["systolic"] + 1
    assert full.cycles <= tail.cycles <= full.cycles + 8


@pytest.mark.parametrize("dim", ["m", "n", "k"])
def test_cycles_never_fall_as_a_dim_grows(gemm, default_config, dim):
    config = config_with(default_config)
    previous = None
    for size in [1, 2, 127, 128, 129, 255, 1023, 1024, 1025, 1500]:
        shape = {"m": 200, "n": 200, "k": 200, dim: size}
        cycles = gemm_point(gemm, shape["m"], shape["n"], shape["k"], config).cycles
        assert previous is None or cycles >= previous[1], f"{dim}: {previous} -> {(size, cycles)}"
        previous = (size, cycles)


def test_halving_the_arrays_nearly_doubles_a_compute_bound_gemm(gemm, default_config):
    arrays = default_config["systolic"]["arrays_per_core"]
    assert arrays >= 2
    two = gemm_point(gemm, 2048, 2048, 2048, config_with(default_config))
    one = gemm_point(gemm, 2048, 2048, 2048, config_with(default_config, arrays_per_core=arrays // 2))
    assert two.cycles < 1.2 * two.mac_roofline  # compute bound on the full config
    # not quite 2: the first tile's loads and zero fill and the last tile's store do not overlap the arrays
    assert 1.8 < one.cycles / two.cycles <= 2.0, (one.cycles, two.cycles)


def test_one_weight_column_splits_its_rows_over_the_arrays(gemm, default_config):
    """N = cols: the C tile has one weight column, so only a row split keeps the second array
    busy (it copies the weights into its own slot first). With DRAM fast enough that the arrays
    bound the GEMM, two arrays beat one by well over the 1.0 of a column-only split; the rows
    streamed are the same either way."""
    def fast(**systolic):
        config = config_with(default_config, **systolic)
        config["dram"] = {**config["dram"], "gbps_per_channel": config["dram"]["gbps_per_channel"] * 16}
        return config

    cols = default_config["systolic"]["cols"]
    two = gemm_point(gemm, 2048, cols, 2048, fast())
    one = gemm_point(gemm, 2048, cols, 2048, fast(arrays_per_core=1))
    assert two.stats["busy_cycles"]["systolic"] == one.stats["busy_cycles"]["systolic"]
    assert 1.5 < one.cycles / two.cycles <= 2.0, (one.cycles, two.cycles)


def test_gemv_follows_dram_bandwidth(gemm, default_config):
    """M = 1: every weight is used once, so the DRAM roofline decides, not the arrays."""
    point = gemm_point(gemm, 1, 2048, 2048, config_with(default_config))
    assert point.dram_roofline <= point.cycles <= 1.25 * point.dram_roofline, (point.cycles, point.dram_roofline)
    slow = dict(config_with(default_config))
    slow["dram"] = {**slow["dram"], "gbps_per_channel": slow["dram"]["gbps_per_channel"] / 2}
    slower = gemm_point(gemm, 1, 2048, 2048, slow)
    assert 1.7 < slower.cycles / point.cycles < 2.1
    fewer_arrays = gemm_point(gemm, 1, 2048, 2048, config_with(default_config, arrays_per_core=1))
    # One array loads every weight tile through its single load path (one row of `cols` weights
    # per preload_cycles_per_row), which on the HBM2 config is a little slower than DRAM: the
    # GEMV is then bound by that path, never faster than with more arrays.
    systolic = default_config["systolic"]
    preload_bound = (2048 // systolic["cols"]) * 2048 * systolic["preload_cycles_per_row"]
    assert point.cycles <= fewer_arrays.cycles <= 1.1 * max(fewer_arrays.dram_roofline, preload_bound), \
        (fewer_arrays.cycles, fewer_arrays.dram_roofline, preload_bound)


def test_large_gemm_reaches_the_systolic_peak_and_no_size_beats_a_roofline(gemm, default_config):
    config = config_with(default_config)
    big = gemm_point(gemm, 2048, 2048, 2048, config)
    assert big.utilisation >= 0.6, f"{big.utilisation:.1%} of the systolic peak"
    for m, n, k in [(64, 64, 64), (256, 256, 256), (1, 512, 512), (512, 64, 512), (1000, 7, 300)]:
        point = gemm_point(gemm, m, n, k, config)
        assert point.at_or_above_roofline, (m, n, k, point.cycles, point.mac_roofline, point.dram_roofline)


def test_systolic_tile_is_costed_from_the_config_not_sampled(gemm):
    """The skeleton turns the systolic compute into preload/accumulate calls; only the vector
    tiles (the accumulator's zero fill) are in trace_info.json, costed by their op classes."""
    import json

    from mlir import ir

    from simulator.trace.artifacts import trace_artifacts
    from simulator.trace.op_classes import walk_ops
    from simulator.trace.skeleton import COMPUTE_ATTR, build_skeleton

    text = (gemm / "kernel.mlir").read_text()
    units = {}
    with ir.Context():
        for op in walk_ops(ir.Module.parse(text).operation):
            if COMPUTE_ATTR in op.attributes:
                attr = ir.DictAttr(op.attributes[COMPUTE_ATTR])
                units[ir.IntegerAttr(attr["tile_id"]).value] = ir.StringAttr(attr["unit"]).value
    assert sorted(units.values()) == ["systolic", "vector"]
    skeleton = build_skeleton(text)
    assert set(skeleton.tile_ids) == {t for t, unit in units.items() if unit == "vector"}
    artifacts = trace_artifacts(text, json.loads((gemm / "kernel.json").read_text()))
    assert "npusim_systolic_preload" in artifacts.trace_cpp.read_text()
    assert {t["tile_id"] for t in artifacts.info()["tiles"]} == set(skeleton.tile_ids)
