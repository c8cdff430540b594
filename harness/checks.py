"""The checks a case or a sweep makes. Each raises AssertionError with a precise message."""

from __future__ import annotations

import math

import torch


def check_values(actual, expected, rtol: float, atol: float) -> None:
    """Kernel output vs eager torch (dtype-aware tolerances)."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def check_kernel_launched(launches: list[dict], graph_calls: list[dict] | None = None) -> None:
    """Values count only when npusim kernels produced them: some kernel launched, and every kernel
    a called graph scheduled launched (a kernel that did not run left its work to something else)."""
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
