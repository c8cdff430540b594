"""The trace skeleton and its lowering: kernel.mlir -> emitc-only module -> trace.so."""

from __future__ import annotations

import json

import mlir.ir as ir
import pytest

from simulator.trace.emitc import lower_to_emitc
from simulator.trace.op_classes import walk_ops
from simulator.trace.skeleton import SkeletonError, build_skeleton


def _op_names(module: ir.Module) -> set[str]:
    return {module.operation.name} | {op.name for op in walk_ops(module.operation)}


@pytest.mark.parametrize("fixture", ["add_kernel", "rowsum_kernel", "scatter_kernel"])
def test_lowered_skeleton_contains_only_emitc_ops(fixture, request):
    kernel = request.getfixturevalue(fixture)
    skeleton = build_skeleton(kernel["mlir"])
    lowered = lower_to_emitc(skeleton)
    names = _op_names(lowered)
    assert names - {"builtin.module"}, "empty skeleton"
    assert all(n.startswith("emitc.") or n == "builtin.module" for n in names), sorted(names)


def test_skeleton_keeps_only_loops_index_math_and_abi_calls(add_kernel):
    skeleton = build_skeleton(add_kernel["mlir"])
    names = _op_names(skeleton.module)
    assert not any(n.startswith(("memref.", "linalg.", "math.")) for n in names), sorted(names)
    assert "arith.addf" not in names
    text = str(skeleton.module)
    for callee in ("npusim_work_item_begin", "npusim_dma", "npusim_barrier", "npusim_compute", "npusim_work_item_end"):
        assert f'"{callee}"' in text
    assert skeleton.n_size_args == 1
    assert [s["id"] for s in skeleton.spads] == [0, 1, 2]
    assert all(s["bytes"] == 4096 for s in skeleton.spads)
    assert skeleton.tile_ids == [0]


def test_rowsum_skeleton_drops_iter_args_and_keeps_two_size_args(rowsum_kernel):
    skeleton = build_skeleton(rowsum_kernel["mlir"])
    text = str(skeleton.module)
    assert "iter_args" not in text and "f32" not in text
    assert skeleton.n_size_args == 2
    assert skeleton.tile_ids == [0, 1]


def test_scatter_store_becomes_a_posted_scatter_event(scatter_kernel):
    text = str(build_skeleton(scatter_kernel["mlir"]).module)
    assert '"npusim_dma_scatter"' in text and '"npusim_dma_gather"' not in text
    # a scatter marked as a load is a clear error, not a silent gather
    broken = scatter_kernel["mlir"].replace('{dir = "store", arg = 2 : i64, spad = 2 : i64, mode = "scatter"}',
                                            '{dir = "load", arg = 2 : i64, spad = 2 : i64, mode = "scatter"}')
    assert broken != scatter_kernel["mlir"]
    with pytest.raises(SkeletonError, match="scatter DMA must be an scf.for store"):
        build_skeleton(broken)


def test_dma_without_descriptor_is_a_clear_error(add_kernel):
    # the DRAM side is the whole tensor argument, not a reinterpret_cast descriptor
    broken = add_kernel["mlir"].replace(
        "linalg.copy {npusim.dma = {dir = \"load\", arg = 0 : i64, spad = 0 : i64}} ins(%src0 : memref<?xf32, strided<[1], offset: ?>>) outs(%dst0 : memref<?xf32, strided<[1]>>)",
        "linalg.copy {npusim.dma = {dir = \"load\", arg = 0 : i64, spad = 0 : i64}} ins(%in_ptr0 : memref<?xf32>) outs(%dst0 : memref<?xf32, strided<[1]>>)")
    assert broken != add_kernel["mlir"]
    with pytest.raises(SkeletonError, match="reinterpret_cast"):
        build_skeleton(broken)


def test_trace_so_is_built_once_per_kernel(add_kernel, trace_cache):
    from simulator.trace.artifacts import trace_artifacts

    first = trace_artifacts(add_kernel["mlir"], add_kernel["meta"])
    stamp = first.trace_so.stat().st_mtime_ns
    second = trace_artifacts(add_kernel["mlir"], add_kernel["meta"])
    assert second.trace_so == first.trace_so and second.trace_so.stat().st_mtime_ns == stamp
    assert first.dir.parent.parent == trace_cache
    info = json.loads(first.info_json.read_text())
    assert info["size_args"] == ["s0"] and info["kernel"] == "npusim_add_0"


def test_artifacts_of_another_generator_are_rebuilt(add_kernel):
    """Regression: trace.so and cost.json are cached by kernel hash alone, so a change to the trace
    lowering or the cost sampler reused stale artifacts; `trace.key` names their generator."""
    from npusim import cache
    from simulator.trace.artifacts import KEY_FILE, generator_key, trace_artifacts

    text = add_kernel["mlir"] + "\n// a kernel of its own for this test\n"
    first = trace_artifacts(text, add_kernel["meta"])
    entry = cache.entry(first.kernel_hash)
    assert entry.path(KEY_FILE).read_text() == generator_key()
    entry.put_text("cost.json", "{}")
    built = first.trace_so.stat().st_mtime_ns
    again = trace_artifacts(text, add_kernel["meta"])
    assert again.trace_so.stat().st_mtime_ns == built and entry.valid("cost.json")  # same generator: kept

    entry.path(KEY_FILE).write_text("an older generator")
    rebuilt = trace_artifacts(text, add_kernel["meta"])
    assert rebuilt.trace_so.stat().st_mtime_ns != built and entry.valid("trace.so")
    assert not entry.path("cost.json").exists()
    assert entry.path(KEY_FILE).read_text() == generator_key()


def test_scf_parallel_tile_loop_becomes_a_for_nest(add_kernel, add_cost):
    from simulator.trace import simulate

    parallel = add_kernel["mlir"].replace(
        "scf.for %xbase = %c0 to %xnumel step %tile {", "scf.parallel (%xbase) = (%c0) to (%xnumel) step (%tile) {"
    ).replace('    } {npusim.tile_loop = {dim = "x", parallel = true}}',
              '      scf.reduce\n    } {npusim.tile_loop = {dim = "x", parallel = true}}')
    assert "scf.parallel" in parallel
    for n in (1000, 4096):
        as_parallel = simulate({"mlir": parallel, "meta": add_kernel["meta"]}, shape_args=[n], cost_table=add_cost)
        as_for = simulate(add_kernel, shape_args=[n], cost_table=add_cost)
        timings = {key: as_parallel.stats[key] for key in ("sim_wall_s", "sim_cpu_s")}
        assert as_parallel.stats == {**as_for.stats, **timings}


def test_scf_if_around_a_dma_keeps_its_condition(add_kernel, add_cost):
    from simulator.trace import simulate

    text = add_kernel["mlir"]
    start, end = text.index("      %src2 = memref.subview"), text.index("    } {npusim.tile_loop")
    body = "".join("  " + line for line in text[start:end].splitlines(keepends=True))
    guarded = (text[:start] + "      %full = arith.cmpi eq, %len, %tile : index\n      scf.if %full {\n" + body
               + "      }\n" + text[end:])
    kernel = {"mlir": guarded, "meta": add_kernel["meta"]}
    assert "scf.if" not in str(lower_to_emitc(build_skeleton(guarded)))
    # only full tiles store: 1000 elements, no store; 2000, one of two tiles stores
    assert simulate(kernel, shape_args=[1000], cost_table=add_cost).stats["events"]["dma"] == 2
    assert simulate(kernel, shape_args=[2000], cost_table=add_cost).stats["events"]["dma"] == 5


def test_a_kernel_the_skeleton_cannot_take_is_a_trace_sim_error(add_kernel):
    from simulator.trace import TraceSimError, simulate

    broken = add_kernel["mlir"].replace('dir = "load", arg = 0', 'dir = "sideways", arg = 0')
    with pytest.raises(TraceSimError, match="dir must be load or store") as err:
        simulate({"mlir": broken, "meta": add_kernel["meta"]}, shape_args=[10], cost_table={"tiles": {}})
    assert "kernel cache entry" in str(err.value)
