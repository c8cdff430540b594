"""The checks a case or a sweep makes. Each raises AssertionError with a precise message."""

from __future__ import annotations

import math

import torch


def check_values(actual, expected, rtol: float, atol: float) -> None:
    """Kernel output vs eager torch (dtype-aware tolerances)."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def check_kernel_launched(launches: list[dict]) -> None:
    """Values count only when an npusim kernel produced them (not an eager fallback)."""
    if not launches:
        raise AssertionError("the compiled function launched no npusim kernel: its values came from "
                             "somewhere else (an eager fallback?), so nothing was verified")


def check_compile_once(compiles: list[dict], first_case_end: float) -> None:
    """One compile per kernel, and none after the first size ran."""
    by_hash: dict[str, int] = {}
    for event in compiles:
        by_hash[event["kernel_hash"]] = by_hash.get(event["kernel_hash"], 0) + 1
    repeated = {h[:12]: n for h, n in by_hash.items() if n > 1}
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


def check_trace_scaling(points: list[tuple[int, int | None]], tile: int, dim: str) -> None:
    """Trace records grow with the tile count: more tiles, strictly more records."""
    check_monotonic(points, "trace records", dim)
    ordered = sorted(points)
    for (small, low), (big, high) in zip(ordered, ordered[1:]):
        if math.ceil(big / tile) > math.ceil(small / tile) and not high > low:
            raise AssertionError(f"trace records did not grow with the tile count (tile {tile}): "
                                 f"{dim}={small} -> {low} records, {dim}={big} -> {high} records")


def roofline(config, *, input_bytes: int, output_bytes: int, vector_at_peak: float, macs: int = 0) -> dict:
    """The physical-limit floor of a case, in core cycles, from its own tensors and the NPU config:

        max(bytes / peak DRAM bandwidth, vector work at peak / cores, MACs / systolic peak)
        + the minimal load latency (when it reads DRAM) + the minimal store latency (when it writes)

    bytes: the case's input and output tensors, each once (the least traffic any schedule needs);
    vector_at_peak: the vector-unit cycles of the kernels' ops at each class's configured peak, no
    partial vector op rounded up (the trace simulator's busy_cycles.vector_at_peak, summed over
    launches); macs: multiply-accumulates of a matmul case (OpSpec.macs), 0 otherwise.
    """
    dram, noc, systolic = config["dram"], config["noc"]["latency_cycles"], config["systolic"]
    cores = config["core"]["count"]
    bytes_moved = input_bytes + output_bytes
    macs_per_cycle = cores * systolic["arrays_per_core"] * systolic["rows"] * systolic["cols"]
    parts = {"dram": bytes_moved / config.dram_bytes_per_cycle, "vector": vector_at_peak / cores,
             "systolic": macs / macs_per_cycle if macs else 0.0}
    latency = (dram["read_latency_cycles"] + noc if input_bytes else 0) + \
        (dram["write_latency_cycles"] + noc if output_bytes else 0)
    bound = max(parts, key=parts.get)
    return {"cycles": max(parts.values()) + latency, "bound": bound, "parts": parts, "latency": latency,
            "bytes": bytes_moved, "macs": macs}


def check_floor(cycles: int, roof: dict, config_name: str) -> None:
    """A case may not finish faster than the hardware allows."""
    if cycles < roof["cycles"] - 1e-6:
        parts = ", ".join(f"{k} {v:,.1f}" for k, v in roof["parts"].items())
        raise AssertionError(
            f"faster than the hardware allows: {cycles:,} cycles, below the physical floor of "
            f"{roof['cycles']:,.1f} on {config_name} (max of {parts}, {roof['bound']}-bound, plus "
            f"{roof['latency']} cycles of minimal load + store latency; {roof['bytes']:,} bytes, "
            f"{roof['macs']:,} MACs): the timing model let something happen before its inputs existed or "
            "moved data faster than the config's peak")
