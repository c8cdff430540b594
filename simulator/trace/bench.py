"""Benchmark of the trace path: `python -m simulator.trace.bench`.

* throughput: trace records per second the C++ simulator consumes while the
  producer (trace.so) runs, on the elementwise add at a size giving >= 10^6
  records (the simulator's own wall time of npusim_trace_main, from its report);
* per-launch overhead: wall time of a whole simulate() call at a one-tile size
  (process start, dlopen, attribute/config files, report), trace.so cached.

Uses a hand-written cost table (tests/trace/data), so no Spike run is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from npusim.paths import REPO_ROOT

DATA = REPO_ROOT / "tests" / "trace" / "data"
TARGET_RECORDS_PER_S = 1e7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=float, default=2e6, help="minimum trace records of the big launch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--launches", type=int, default=20, help="small launches for the overhead")
    parser.add_argument("--config", default="tpuv3-1core")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("NPUSIM_CACHE_DIR", tempfile.mkdtemp(prefix="npusim-bench-"))
    from simulator.trace import simulate

    kernel = {"mlir": (DATA / "add.mlir").read_text(), "meta": json.loads((DATA / "add.json").read_text())}
    cost = DATA / "add_cost_sample.json"
    records_per_tile = 8
    n = int(args.records / records_per_tile + 1) * 1024

    started = time.monotonic()
    simulate(kernel, shape_args={"s0": 1000}, config=args.config, cost_table=cost)  # builds trace.so once
    first_launch_s = time.monotonic() - started

    runs = []
    for _ in range(args.repeat):
        result = simulate(kernel, shape_args={"s0": n}, config=args.config, cost_table=cost)
        runs.append((result.stats["sim_wall_s"], result.wall_s, result.trace_records, result.cycles))
    sim_s = min(r[0] for r in runs)
    records = runs[0][2]
    overheads = []
    for _ in range(args.launches):
        t0 = time.monotonic()
        simulate(kernel, shape_args={"s0": 1000}, config=args.config, cost_table=cost)
        overheads.append(time.monotonic() - t0)
    figures = {
        "kernel": "add (tests/trace/data/add.mlir)", "config": args.config, "n": n,
        "trace_records": records, "cycles": runs[0][3],
        "sim_wall_s": sim_s, "records_per_s": records / sim_s,
        "launch_wall_s_big": min(r[1] for r in runs),
        "records_per_s_end_to_end": records / min(r[1] for r in runs),
        "per_launch_overhead_s_median": statistics.median(overheads),
        "per_launch_overhead_s_min": min(overheads),
        "first_launch_s_incl_trace_so_build": first_launch_s,
        "target_records_per_s": TARGET_RECORDS_PER_S,
    }
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(f"kernel: {figures['kernel']}, config {args.config}, N = {n}")
        print(f"trace records: {records:,}  cycles: {figures['cycles']:,}")
        print(f"simulator throughput: {figures['records_per_s']:.3e} records/s "
              f"(producer + timing core, {sim_s * 1e3:.1f} ms; target {TARGET_RECORDS_PER_S:.0e})")
        print(f"end to end incl. process start: {figures['records_per_s_end_to_end']:.3e} records/s")
        print(f"per-launch overhead (one-tile launch, trace.so cached): median "
              f"{figures['per_launch_overhead_s_median'] * 1e3:.1f} ms, min {figures['per_launch_overhead_s_min'] * 1e3:.1f} ms")
        print(f"first launch incl. building trace.so: {first_launch_s:.2f} s")
    return 0 if figures["records_per_s"] >= TARGET_RECORDS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
