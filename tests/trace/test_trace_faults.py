"""A broken producer is that launch's error, never the caller's crash or hang."""

from __future__ import annotations

import json
import time

import pytest

from npusim import config as npu_config
from simulator.trace.api import TraceSimError, run_simulator


def _launch(tmp_path, producer, info, tiles=8, timeout_s=20.0, cost=None):
    (tmp_path / "config.json").write_text(json.dumps(npu_config.load("tpuv3-1core").data))
    (tmp_path / "launch.json").write_text(json.dumps({"shape_args": [tiles]}))
    cost_path = None
    if cost is not None:
        cost_path = tmp_path / "cost.json"
        cost_path.write_text(json.dumps(cost))
    return run_simulator(producer, info, tmp_path / "launch.json", tmp_path / "config.json", cost_path,
                         tmp_path / "out.json", timeout_s=timeout_s)


HAND_COST = {"tiles": {"0": {"fixed_cycles": 8, "cycles_per_elem": 0.01}}}


def test_healthy_handwritten_producer(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_OK")
    report = _launch(tmp_path, so, info, cost=HAND_COST)
    assert report["trace_records"] == 8 * 6 and report["cycles"] > 0


def test_segfaulting_producer_is_a_clear_error(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_SEGFAULT")
    started = time.monotonic()
    with pytest.raises(TraceSimError, match="SIGSEGV") as err:
        _launch(tmp_path, so, info, cost=HAND_COST)
    assert time.monotonic() - started < 10
    assert str(so) in str(err.value)


def test_producer_that_never_returns_times_out(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_HANG")
    started = time.monotonic()
    with pytest.raises(TraceSimError, match="did not finish within 2 s") as err:
        _launch(tmp_path, so, info, timeout_s=2, cost=HAND_COST)
    assert time.monotonic() - started < 10
    assert str(so) in str(err.value)


def test_wrong_abi_version_is_refused(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_WRONG_VERSION")
    with pytest.raises(TraceSimError, match="trace ABI version 42"):
        _launch(tmp_path, so, info, cost=HAND_COST)


def test_missing_cost_for_a_tile_is_an_error(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_OK")
    with pytest.raises(TraceSimError, match="no cost for compute tile_id 0"):
        _launch(tmp_path, so, info, cost={"tiles": {}})


def test_systolic_preload_and_accumulate_have_separate_occupancy_and_latency(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_SYSTOLIC")
    one = _launch(tmp_path, so, info, tiles=1)
    cfg = npu_config.load("tpuv3-1core").data["systolic"]
    # one accumulate streams 128 rows through the array (the preload uses the load path) ...
    assert one["busy_cycles"]["systolic"] == 128
    assert one["events"]["systolic_preload"] == 1 and one["events"]["systolic_accumulate"] == 1
    # ... after the 128-row preload, and the store waits for the fill/drain skew
    skew = cfg["hop_cycles"] * (128 + 128 - 2) + cfg["latency_cycles"]
    assert one["cycles"] > 128 * cfg["preload_cycles_per_row"] + 128 + skew
    many = _launch(tmp_path, so, info, tiles=16)
    # pipelined over two arrays: far less than 16 serial tiles
    assert many["cycles"] < 16 * one["cycles"]


def test_systolic_accumulate_uses_the_latest_preload_of_a_handle(tmp_path, producer_builder):
    """Each tile preloads under the same handle on one array: its accumulate waits for its own
    128-row preload, which waits for the previous one (one load path), so tiles cost >= 128 each."""
    so, info = producer_builder("PRODUCER_SYSTOLIC_REUSED_HANDLE")
    six, seven = (_launch(tmp_path, so, info, tiles=n) for n in (6, 7))
    assert seven["busy_cycles"]["systolic"] == 7 * 4
    # the 7th tile's weights go to slot 0 while slot 1 still holds handle 0 from tile 6: with the
    # stale slot its accumulate would start 124 cycles early and the kernel end 4 cycles later
    assert seven["cycles"] - six["cycles"] >= 128
def test_strided_stores_that_do_not_overlap_are_accepted(tmp_path, producer_builder):
    """The store-footprint check follows strides: columns of a matrix, one per tile, never collide."""
    so, info = producer_builder("PRODUCER_STORE_COLUMNS")
    report = _launch(tmp_path, so, info, tiles=7, cost=HAND_COST)
    assert report["events"]["dma"] == 2 * 7


@pytest.mark.parametrize("define,message", [
    ("PRODUCER_BAD_SPAD", "scratchpad id 64 is outside 0..63"),
    ("PRODUCER_UNMATCHED_BARRIER", "barrier on tag 7 slot 0 waits for no outstanding DMA"),
    ("PRODUCER_READ_UNWRITTEN", "compute tile 0 reads scratchpad 0 .* before anything wrote it"),
    ("PRODUCER_STORE_UNWRITTEN", "a DMA store reads scratchpad 1 .* before anything wrote it"),
    ("PRODUCER_NEVER_WAITS", "4096 asynchronous DMAs are outstanding without a barrier"),
    ("PRODUCER_NESTED_WORK_ITEM", "work_item_begin inside a work item"),
    ("PRODUCER_STORE_TWICE", "a DMA store writes element 1023 of tensor argument 1 a second time in one launch"),
    ("PRODUCER_STORE_ZERO_STRIDE", "a DMA store writes element 0 of tensor argument 1 a second time"),
    # strided columns over ~150 bitmap pages: the one element written twice is found, by its offset
    ("PRODUCER_STORE_COLUMNS_TWICE", "a DMA store writes element 4999 of tensor argument 1 a second time"),
    # a contiguous run (kept as an interval) over strided elements (kept as bits): the lowest is named
    ("PRODUCER_STORE_ROW_OVER_COLUMNS", "a DMA store writes element 15000 of tensor argument 1 a second time"),
    # row tiles stored chunk by chunk (each row continuing its run): the last chunk runs one element
    # into the next row, already stored (tiles = 5000: row tile 1249, element 4997 * 64)
    ("PRODUCER_STORE_ROW_TILES_TWICE", "a DMA store writes element 319808 of tensor argument 1 a second time"),
])
def test_impossible_trace_is_rejected_loudly(tmp_path, producer_builder, define, message):
    """No masking, evicting or ignoring: the timing core refuses the trace, exit 5, with the reason."""
    so, info = producer_builder(define)
    with pytest.raises(TraceSimError, match=f"exit 5.*rejected the trace: (.*: )?{message}") as err:
        _launch(tmp_path, so, info, tiles=5000, cost=HAND_COST)
    assert str(so) in str(err.value)


def test_reduction_result_store_is_a_dependency(compiler_sum_kernel):
    """sum over one element: the store DMA waits for the result written into its scratchpad, so the
    launch takes at least a load and a store latency (it took 123 cycles against a 221 floor when the
    store DMA read a never-written slot at cycle 2)."""
    from simulator.trace import simulate

    cfg = npu_config.load("tpuv3-1core")
    result = simulate(compiler_sum_kernel, shape_args={"ks0": 1, "ks1": 1}, config=cfg)
    floor = cfg["dram"]["read_latency_cycles"] + cfg["dram"]["write_latency_cycles"] + 2 * cfg["noc"]["latency_cycles"]
    assert result.cycles >= floor + cfg["vector"]["op_classes"]["lane_reduce"]["latency_cycles"]


def test_json_inputs_reject_nan(tmp_path, producer_builder):
    so, info = producer_builder("PRODUCER_OK")
    (tmp_path / "config.json").write_text(json.dumps(npu_config.load("tpuv3-1core").data).replace(
        '"gbps_per_channel": 32', '"gbps_per_channel": NaN'))
    (tmp_path / "launch.json").write_text(json.dumps({"shape_args": [1]}))
    (tmp_path / "cost.json").write_text(json.dumps(HAND_COST))
    with pytest.raises(TraceSimError, match="exit 2.*config.json.*parse error"):
        run_simulator(so, info, tmp_path / "launch.json", tmp_path / "config.json", tmp_path / "cost.json",
                      tmp_path / "out.json")
