"""Layout benchmark (issue 12): `python -m compiler.bench_layout`.

Compiles each case with the npusim backend, runs it (values on Spike by default, checked against
eager; `--functional host` for the MLIR JIT) and the trace simulator (cycles), and prints:

* add_broadcast_row ([M, N] + [N]) and mul_broadcast_col ([M, N] * [M, 1]) at M=3, N=131079,
  each as a ratio to add_3d moving the same output ([3, 3, 43693] + [3, 3, 43693], 393,237
  elements); target <= 1.2;
* sum_middle (x.sum(1) of [3, 3, 8193]) as a ratio to its DRAM roofline (its input and output
  bytes at peak bandwidth) plus one load and one store latency; target <= 3;
* for information, transposes of [M, N] and [N, M] (the same bytes) against add_3d.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

M, N = 3, 131079
CASES = {
    "add_3d": (lambda a, b: a + b, [(3, 3, N // 3), (3, 3, N // 3)]),
    "add_broadcast_row": (lambda a, b: a + b, [(M, N), (N,)]),
    "mul_broadcast_col": (lambda a, b: a * b, [(M, N), (M, 1)]),
    "sum_middle": (lambda x: x.sum(1), [(3, 3, 8193)]),
    # no target: a transpose to 3-wide rows was one short tile per row (2,833,992 cycles, 326x
    # add_3d); a 2-D tile now loads many rows, its input column by column (compiler/tiles2d.py)
    "transpose_to_wide_rows": (lambda x: (x.t() * 2).contiguous(), [(N, M)]),
    "transpose_to_narrow_rows": (lambda x: (x.t() * 2).contiguous(), [(M, N)]),
}
BROADCAST_TARGET = 1.2
SUM_MIDDLE_TARGET = 3.0


def run_case(name: str, work: Path) -> dict:
    from npusim import runlog

    fn, shapes = CASES[name]
    log = work / f"{name}.jsonl"
    os.environ["NPUSIM_RUNLOG"] = str(log)
    torch._dynamo.reset()
    gen = torch.Generator().manual_seed(0)
    args = [torch.randn(*shape, generator=gen) for shape in shapes]
    out = torch.compile(fn, backend="npusim", dynamic=True)(*args)
    torch.testing.assert_close(out, fn(*args), rtol=1e-5, atol=1e-5)
    launches = runlog.events("launch", log)
    return {"cycles": sum(e["cycles"] for e in launches), "launches": len(launches),
            "vector_at_peak": sum((e.get("busy_cycles") or {}).get("vector_at_peak", 0.0) for e in launches),
            "input_bytes": sum(a.numel() * a.element_size() for a in args),
            "output_bytes": out.numel() * out.element_size(), "functional": launches[0]["functional"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functional", default="spike", choices=("spike", "host"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="npusim-bench-layout-"))
    os.environ.setdefault("NPUSIM_CACHE_DIR", str(work / "cache"))
    os.environ.update(NPUSIM_FUNCTIONAL=args.functional, NPUSIM_TRACE="1")
    import compiler  # noqa: F401  (registers the backend)
    from npusim import config as npu_config

    config = npu_config.load()
    results = {name: run_case(name, work) for name in CASES}
    print(f"config {config.name}, values from {results['add_3d']['functional']} (checked against eager)")
    for name, r in results.items():
        print(f"{name:24} {r['cycles']:>10,} cycles  {r['launches']} launch(es)  "
              f"{r['input_bytes'] + r['output_bytes']:>10,} bytes moved")
    ok = True
    base = results["add_3d"]["cycles"]
    for name in ("add_broadcast_row", "mul_broadcast_col"):
        ratio = results[name]["cycles"] / base
        ok &= ratio <= BROADCAST_TARGET
        print(f"{name} / add_3d (same output, M={M}, N={N}): {ratio:.3f}  (target <= {BROADCAST_TARGET})")
    r = results["sum_middle"]
    dram = config["dram"]
    noc = config["noc"]["latency_cycles"]
    bytes_per_cycle = dram["channels"] * dram["gbps_per_channel"] * 1000.0 / config["core"]["freq_mhz"]
    roof = (r["input_bytes"] + r["output_bytes"]) / bytes_per_cycle + \
        dram["read_latency_cycles"] + noc + dram["write_latency_cycles"] + noc
    ratio = r["cycles"] / roof
    ok &= ratio <= SUM_MIDDLE_TARGET
    print(f"sum_middle (B=3, M=3, N=8193) / (DRAM roofline + load + store latency = {roof:,.0f} cycles): "
          f"{ratio:.3f}  (target <= {SUM_MIDDLE_TARGET})")
    for name in ("transpose_to_wide_rows", "transpose_to_narrow_rows"):
        print(f"{name} / add_3d (no target): {results[name]['cycles'] / base:.3f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
