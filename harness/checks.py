"""The checks a case or a sweep makes. Each raises AssertionError with a precise message."""

from __future__ import annotations

import math

import torch


def check_values(actual, expected, rtol: float, atol: float) -> None:
    """Kernel output vs eager torch (dtype-aware tolerances)."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def check_kernel_launched(launches: list[dict], outputs=None) -> None:
    """Values count only when an npusim kernel produced them (not an eager fallback). An output
    with no elements (softmax over a 0-length dim) has no values to produce: no launch is needed."""
    produced = _tensors(outputs)
    if produced and all(t.numel() == 0 for t in produced):
        return
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
