"""The checks a case or a sweep makes. Each raises AssertionError with a precise message."""

from __future__ import annotations

import bisect

import math

import torch


def check_values(actual, expected, rtol: float, atol: float) -> None:
    """Kernel output vs eager torch (dtype-aware tolerances)."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def values_close(actual, expected, rtol: float, atol: float) -> bool:
    try:
        check_values(actual, expected, rtol, atol)
    except AssertionError:
        return False
    return True


def _numbers(value, kind) -> list:
    if isinstance(value, kind):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v, kind)]
    return []


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def check_kernel_launched(launches: list[dict], graph_calls: list[dict] | None = None, outputs=None,
                          inputs=None) -> None:
    """Values count only when npusim kernels produced them: some kernel launched, and every kernel
    a called graph scheduled launched (a kernel that did not run left its work to something else).
    An output with no elements (softmax over a 0-length dim) has no values, and an output that is a
    view of an input (squeeze, transpose) moves no data, and a function that returns no tensor at all
    (torch.broadcast_shapes: a shape) has no values: none of these needs a launch."""
    produced = _tensors(outputs)
    scheduled = any(call.get("kernels") for call in graph_calls or [])
    if not produced and not scheduled and not _numbers(outputs, float):
        return  # no tensor out (broadcast_shapes returns a shape): no values to produce anywhere
    if produced and all(t.numel() == 0 for t in produced) and not scheduled:
        return
    input_storages = {t.untyped_storage().data_ptr() for t in _tensors(inputs)}
    if produced and not scheduled and all(t.numel() == 0 or t.untyped_storage().data_ptr() in input_storages
                                          for t in produced):
        return
    if not launches:
        raise AssertionError("the compiled function launched no npusim kernel: its values came from "
                             "somewhere else (an eager fallback?), so nothing was verified")
    launched = {e["kernel_hash"] for e in launches}
    missing: dict[str, list[str]] = {}
    for call in graph_calls or []:
        for kernel_hash in call.get("kernels", []):
            if kernel_hash not in launched:
                missing.setdefault(call["graph"], []).append(kernel_hash[:12])
    if missing:
        detail = "; ".join(f"graph {graph}: {', '.join(hashes)}" for graph, hashes in missing.items())
        raise AssertionError(f"kernels the compiled graph scheduled did not launch ({detail}): their work ran "
                             "elsewhere or not at all, so the values were not all produced on npusim")


def _mismatch(actual, expected, rtol: float, atol: float) -> str | None:
    try:
        check_values(actual, expected, rtol, atol)
    except AssertionError as error:
        return str(error).strip().replace("\n\n", "\n")
    return None


def three_way_verdict(spike, host, expected, rtol: float, atol: float) -> tuple[str, str | None]:
    """Spike and the host JIT ran the same kernels; each is compared with eager and with the other.
    Returns (verdict, failure message or None). Both off but agreeing: the kernel MLIR (the lowering)
    is wrong. One off: that side's path (Spike: RISC-V codegen, bare-metal runtime, its libm; host:
    the ExecutionEngine and the host libm)."""
    spike_off = _mismatch(spike, expected, rtol, atol)
    host_off = _mismatch(host, expected, rtol, atol)
    if not spike_off and not host_off:
        return "agree", None
    apart = _mismatch(spike, host, rtol, atol)
    if spike_off and host_off and not apart:
        return "lowering", ("values off in the lowering: Spike and the host JIT agree with each other but both "
                            f"differ from eager, so the kernel MLIR is wrong:\n{spike_off}")
    if spike_off and not host_off:
        return "functional: spike", ("values off on the functional path: Spike differs from eager and from the "
                                     "host JIT (which matches eager) on the same kernel MLIR, so the ELF path "
                                     f"(RISC-V codegen, bare-metal runtime or its libm) is wrong:\n{spike_off}")
    if host_off and not spike_off:
        return "functional: host", ("values off on the host JIT: it differs from eager and from Spike (which "
                                    "matches eager) on the same kernel MLIR, so the host path (ExecutionEngine "
                                    f"or the host libm) is wrong:\n{host_off}")
    return "all differ", (f"Spike, the host JIT and eager all differ: Spike vs eager:\n{spike_off}\n"
                          f"host JIT vs eager:\n{host_off}\nSpike vs host JIT:\n{apart}")


def check_compile_once(compiles: list[dict], first_case_end: float, graph_starts: list[float] = ()) -> None:
    """One compile per kernel, and none after the first size ran. `graph_starts` are the times Dynamo
    handed the backend a graph (dynamo_graph events): one graph may hold the same kernel twice (the
    two LayerNorms of an encoder layer emit identical MLIR), which is one kernel, not a recompile."""
    starts = sorted(graph_starts)
    by_hash: dict[str, set] = {}
    for index, event in enumerate(compiles):
        graph = bisect.bisect_right(starts, event["ts"]) if starts else index
        by_hash.setdefault(event["kernel_hash"], set()).add(graph)
    repeated = {h[:12]: len(graphs) for h, graphs in by_hash.items() if len(graphs) > 1}
    late = [e for e in compiles if e["ts"] > first_case_end]
    if repeated or late:
        raise AssertionError(
            f"recompiled: {len(compiles)} compile events for {len(by_hash)} kernel(s); "
            f"kernels compiled more than once: {repeated or 'none'}; "
            f"compiles after the first size: {[(e['kernel'], e['kernel_hash'][:12]) for e in late] or 'none'}")


def check_monotonic(points: list[tuple[int, int | None]], what: str, dim: str) -> None:
    """`points` are (size, metric) along one sweep; the metric must never fall as the size grows."""
    missing = [size for size, value in points if value is None]
    if missing:
        raise AssertionError(f"no {what} recorded for {dim}={missing} (is the trace simulator running?)")
    ordered = sorted(points)
    for (small, low), (big, high) in zip(ordered, ordered[1:]):
        if big > small and high < low:
            raise AssertionError(f"{what} fell as {dim} grew: {dim}={small} -> {low}, {dim}={big} -> {high}; "
                                 f"sweep: {ordered}")


def check_trace_scaling(points: list[tuple[int, int | None]], tile: int, dim: str,
                        extents: list[int | None] | None = None) -> None:
    """Trace records grow with the tile count: more tiles, strictly more records. `extents` are the
    kernel's tiled extents at each point when they differ from the swept size (a pad's N + 3)."""
    check_monotonic(points, "trace records", dim)
    extents = extents or [size for size, _ in points]
    ordered = sorted(((size, records, extent if extent is not None else size)
                      for (size, records), extent in zip(points, extents)))
    for (small, low, small_extent), (big, high, big_extent) in zip(ordered, ordered[1:]):
        if math.ceil(big_extent / tile) > math.ceil(small_extent / tile) and not high > low:
            raise AssertionError(f"trace records did not grow with the tile count (tile {tile}): "
                                 f"{dim}={small} -> {low} records, {dim}={big} -> {high} records")


def roofline(config, *, input_bytes: int, output_bytes: int, vector_at_peak: float, macs: int = 0) -> dict:
    """The physical-limit floor of a case, in core cycles, from its own tensors and the NPU config.

    Throughput terms at the config's peak: DRAM = the case's input and output tensors, each moved
    once (the least traffic any schedule needs) / peak bandwidth; vector = the kernels' ops at each
    class's peak throughput (the trace simulator's busy_cycles.vector_at_peak summed over launches,
    no partial vector op rounded up) / cores; systolic = MACs (OpSpec.macs) / (cores x arrays x rows
    x cols). Latency terms: L_r = DRAM read + NoC latency, L_w = write + NoC latency.

        floor = max(dram + L_w,                          all traffic, then the last write lands
                    L_r + max(vector, systolic, dram_out) + L_w)   compute and output traffic
                                                         follow the first input, then a write lands
    (an L_r / L_w term is 0 when the case reads / writes no tensor). The simpler
    max(dram, vector, systolic) + L_r + L_w is not a floor: a pipelined schedule moves tile k+1's
    inputs while tile k's load latency elapses, and the timing core does.
    """
    dram, noc, systolic = config["dram"], config["noc"]["latency_cycles"], config["systolic"]
    cores = config["core"]["count"]
    bytes_moved = input_bytes + output_bytes
    macs_per_cycle = cores * systolic["arrays_per_core"] * systolic["rows"] * systolic["cols"]
    parts = {"dram": bytes_moved / config.dram_bytes_per_cycle if hasattr(config, "dram_bytes_per_cycle")
             else bytes_moved / _dram_bytes_per_cycle(config),
             "vector": vector_at_peak / cores,
             "systolic": macs / macs_per_cycle if macs and macs_per_cycle else 0.0}
    read = dram["read_latency_cycles"] + noc if input_bytes else 0
    write = dram["write_latency_cycles"] + noc if output_bytes else 0
    out_traffic = parts["dram"] * output_bytes / bytes_moved if bytes_moved else 0.0
    streaming = parts["dram"] + (write or read)
    compute = read + max(parts["vector"], parts["systolic"], out_traffic) + write
    bound = max(parts, key=parts.get)
    return {"cycles": max(streaming, compute), "bound": bound, "parts": parts, "latency": read + write,
            "bytes": bytes_moved, "macs": macs}


def _dram_bytes_per_cycle(config) -> float:
    return config["dram"]["channels"] * config["dram"]["gbps_per_channel"] * 1000.0 / config["core"]["freq_mhz"]


def check_hardware_monotonic(base_cycles: int, scaled_cycles: dict[str, int], config_name: str) -> None:
    """More of a resource (bandwidth, channels, lanes, cores, arrays, scratchpad) never costs cycles."""
    worse = {resource: cycles for resource, cycles in scaled_cycles.items() if cycles > base_cycles}
    if worse:
        raise AssertionError(
            f"more hardware cost more cycles: {base_cycles:,} cycles on {config_name}, but "
            + ", ".join(f"{cycles:,} with {resource} doubled" for resource, cycles in worse.items())
            + f" (all variants: {scaled_cycles})")


def check_floor(cycles: int, roof: dict, config_name: str) -> None:
    """A case may not finish faster than the hardware allows."""
    if cycles < roof["cycles"] - 1e-6:
        parts = ", ".join(f"{k} {v:,.1f}" for k, v in roof["parts"].items())
        raise AssertionError(
            f"faster than the hardware allows: {cycles:,} cycles, below the physical floor of "
            f"{roof['cycles']:,.1f} on {config_name} ({parts} at peak, {roof['bound']}-bound, with "
            f"{roof['latency']} cycles of load + store latency; {roof['bytes']:,} bytes, "
            f"{roof['macs']:,} MACs): the timing model let something happen before its inputs existed or "
            "moved data faster than the config's peak")
