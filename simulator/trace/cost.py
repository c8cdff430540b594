"""The per-tile cost table (`cost.json`), read from the kernel MLIR: NPU work, not RISC-V work.

What is modelled. A compute tile's cost is the NPU vector work of its
compute body. The trace skeleton (skeleton.py, with op_classes.py) lists the
ops of one element of each tile with their class (arith, compare_select,
special, div_sqrt, convert, spad_access, lane_reduce), their width and the
ops they depend on; this module stores that list per tile. The simulator
(timing.cpp `load_cost_table`) turns it into cycles with the config's
`vector.op_classes`:

    occupancy(n) = sum over ops  ceil(n / (lanes * vlen_bits / width)) * issue_cycles[class]
    latency      = longest dependency chain of one element, in latency_cycles[class]

so a tile of n elements issues one NPU vector op per op and vector of
elements, a partial last tile costs its own n (ceil: a partial vector op is a
whole one), f16/bf16 run natively at twice the f32 elements per op, and its
result is ready `latency` after its last issue. Work the kernel does outside
its compute ops is costed the same way as tiles the skeleton adds: the
store of a reduction's result into its scratchpad (and the ops computing
it, e.g. mean = sum / n), and one cross-lane reduction per accumulator after
each reduction tile loop, which combines the per-lane partial sums the
vector adds kept (partials live in registers, so a reduction is vector adds
at the full width plus one cross-lane reduction per row).

What is measured elsewhere. Spike runs the compiled kernel for the output
values and its retired-instruction count (`instret` in the run log); it no
longer prices NPU time: a scalar RISC-V sample counted soft-float f16
conversions and libm's exp as vector-unit work. Costs come from the same
kernel.mlir as the values and the trace; the numbers per class are the
config's, each with its source named.

COST_TABLE_VERSION 2 (version 1 held Spike instruction counts of two
one-tile samples).
"""

from __future__ import annotations

import json
from pathlib import Path

from npusim import cache
from simulator.trace.artifacts import TraceArtifacts
from simulator.trace.errors import CostSamplingError

COST_TABLE_VERSION = 2


def build_cost_table(artifacts: TraceArtifacts, kernel_text: str | None = None, meta: dict | None = None,
                     work_dir: Path | None = None) -> dict:
    """The cost.json dict of a kernel: each tile's ops, as the skeleton read them from kernel.mlir."""
    info = artifacts.info()
    tiles = {}
    for tile in info["tiles"]:
        if "ops" not in tile:
            raise CostSamplingError(f"trace_info.json of {info.get('kernel')} has no ops for tile "
                                    f"{tile['tile_id']}: rebuild its trace artifacts")
        tiles[str(tile["tile_id"])] = {key: tile[key] for key in ("kind", "elem_bits", "ops", "after_previous")}
    return {"version": COST_TABLE_VERSION, "source": "kernel.mlir",
            "model": "per-element NPU vector ops by class (simulator/trace/cost.py)", "tiles": tiles}


def cost_table_path(artifacts: TraceArtifacts, kernel_text: str | None = None, meta: dict | None = None) -> Path:
    """cost.json of the kernel, built once in its cache entry."""
    entry = cache.entry(artifacts.kernel_hash)

    def builder(tmp: Path) -> None:
        tmp.write_text(json.dumps(build_cost_table(artifacts), indent=1))

    path, _ = entry.build("cost.json", builder)
    return path
