"""Cycle regression check for work on the timing core: run the same launches with two simulator
binaries and compare their full reports (every field but the simulator's own wall and CPU time).

    python -m simulator.trace.compare_reports collect --out launches.json [--cache DIR ...] [--per-kernel 3]
    python -m simulator.trace.compare_reports run --binary BIN --launches launches.json --out reports.json
    python -m simulator.trace.compare_reports compare before.json after.json

`collect` lists launch directories already in artifact caches (each holds config.json and
launch.json, which names its trace.so and cost table; trace_info.json is in the kernel directory),
for instance a nightly's cache: every kernel, a few launches of each per config (base and scaled
variants), up to --max-records records. `--fixtures` adds the trace fixtures of tests/trace/data at
the benchmark's sizes and some small ones, on 1 and 2 cores, the small config and the scaled variants
(run through simulate() into this process's cache, so the current binary must build).
`run` writes the reports of one binary, `compare` prints how many differ and the first differences;
its exit status is 1 when any report differs. Compared exactly: every field but the simulator's
own time, the channel-busy average (a float sum, to 1e-9 relative), `dram_requests` (booking work) and
`dram_calendar_peak` (the calendar's size in its own representation: intervals, then 64-slot words).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

TIMING_KEYS = ("sim_wall_s", "sim_cpu_s")
# how much booking work the simulator did, not what it computed
DIAGNOSTIC_KEYS = ("dram_requests", "dram_calendar_peak")


def _launch_dirs(cache: Path, per_kernel: int, max_records: float) -> list[str]:
    chosen = []
    for kernel_dir in sorted((cache / "kernels").iterdir()):
        launches = kernel_dir / "launches"
        if not launches.is_dir() or not (kernel_dir / "trace_info.json").exists():
            continue
        by_config: dict[str, list[tuple[str, Path]]] = {}
        for launch in sorted(launches.iterdir()):
            result = launch / "result.json"
            if not (result.exists() and (launch / "launch.json").exists() and (launch / "config.json").exists()):
                continue
            try:
                records = json.loads(result.read_text())["trace_records"]
            except (OSError, ValueError, KeyError):
                continue
            if records > max_records:
                continue
            config = launch.name.split("-")[0] + "-" + launch.name.split("-")[1]
            # a deterministic spread over the sizes: order by a hash of the name
            by_config.setdefault(config, []).append((hashlib.sha256(launch.name.encode()).hexdigest(), launch))
        for items in by_config.values():
            chosen += [str(p) for _, p in sorted(items)[:per_kernel]]
    return chosen


def _fixture_launches() -> list[str]:
    from npusim import config as npu_config
    from simulator.trace import simulate

    data = Path(__file__).resolve().parents[2] / "tests" / "trace" / "data"
    base = npu_config.load("tpuv3-1core")
    configs = ["tpuv3-1core", "tpuv3-2core", "small-8x8", *npu_config.scaled_variants(base).values()]
    cases = {
        "add": [[1], [1000], [1 << 12], [262151], [256001024]],
        "softmax": [[3, 5], [257, 1000], [8000, 2000], [80000, 2000]],
        "compiler_softmax": [[7, 100], [100, 4099], [1000, 100000]],
        "rowsum": [[3, 5], [1000, 777]],
        "gather": [[1000, 64], [5, 3]],
        "scatter": [[1000, 64], [5, 3]],
        "compiler_add_row": [[131079, 1], [32781, 1], [1000, 3]],
        "compiler_cumsum_middle": [[16385, 1], [1000, 7]],
        "compiler_layer_norm_affine": [[100, 1000], [3, 4099]],
        "compiler_sum": [[1000, 100], [3, 70000]],
        "compiler_neg": [[16387], [1000003]],
        "compiler_add_size1": [[]], "compiler_static_mul_add": [[]],
    }
    dirs = []
    for name, shapes in cases.items():
        kernel = {"mlir": (data / f"{name}.mlir").read_text(), "meta": json.loads((data / f"{name}.json").read_text())}
        cost = data / f"{name}_cost.json"
        for shape in shapes:
            if len(shape) != len(kernel["meta"]["size_args"]):
                shape = (shape + [1, 1])[:len(kernel["meta"]["size_args"])]
            for config in configs:
                big = shape and max(shape) * (shape[1] if len(shape) > 1 else 1) > 5e6
                if big and not isinstance(config, str):
                    continue  # the big launches on the named configs only
                try:
                    result = simulate(kernel, shape_args=shape, config=config,
                                      cost_table=cost if cost.exists() else None)
                except Exception as exc:  # noqa: BLE001 (a fixture a config cannot run is skipped, and said)
                    print(f"skipped {name} {shape} on {getattr(config, 'name', None) or config.get('name')}: "
                          f"{str(exc)[:120]}", file=sys.stderr)
                    continue
                dirs.append(result.artifacts["launch_dir"])
    return dirs


def collect(args) -> int:
    dirs = []
    for cache in args.cache:
        dirs += _launch_dirs(Path(cache), args.per_kernel, args.max_records)
    if args.fixtures:
        dirs += _fixture_launches()
    Path(args.out).write_text(json.dumps(dirs, indent=0))
    print(f"{len(dirs)} launches -> {args.out}")
    return 0


def _run_one(binary: str, launch_dir: str, out: Path, timeout: float) -> dict:
    d = Path(launch_dir)
    attrs = json.loads((d / "launch.json").read_text())
    command = [binary, "--config", str(d / "config.json"), "--attribute", str(d / "launch.json"),
               "--info", str(d.parent.parent / "trace_info.json"), "--trace-so", attrs["trace_so"], "--out", str(out)]
    if attrs.get("cost"):
        command += ["--cost", attrs["cost"]]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    report = json.loads(out.read_text())
    for key in TIMING_KEYS:
        report.pop(key, None)
    return report


def run(args) -> int:
    dirs = json.loads(Path(args.launches).read_text())
    out = Path(args.out).with_suffix(".tmp-result.json")
    reports = {}
    for i, d in enumerate(dirs):
        reports[d] = _run_one(args.binary, d, out, args.timeout)
        if args.verbose and i % 100 == 0:
            print(f"{i}/{len(dirs)}", file=sys.stderr)
    out.unlink(missing_ok=True)
    Path(args.out).write_text(json.dumps(reports))
    errors = sum("error" in r for r in reports.values())
    print(f"{len(reports)} reports ({errors} errors) -> {args.out}")
    return 0


def _comparable(report: dict) -> tuple[dict, float | None]:
    """The report without the fields a different booking order may change: the channel-busy average
    (a float sum, now of whole burst slots: compared to 1e-9) and the booking-work diagnostics."""
    report = json.loads(json.dumps(report))
    busy = report.get("busy_cycles", {}).pop("dram_channel_avg", None)
    for key in DIAGNOSTIC_KEYS:
        report.pop(key, None)
    return report, busy


def _same(x: dict, y: dict) -> bool:
    (rx, bx), (ry, by) = _comparable(x), _comparable(y)
    return rx == ry and (bx == by or (bx is not None and by is not None and abs(bx - by) <= 1e-9 * max(abs(bx), 1)))


def compare(args) -> int:
    a, b = (json.loads(Path(p).read_text()) for p in (args.before, args.after))
    common = sorted(set(a) & set(b))
    differ = [d for d in common if not _same(a[d], b[d])]
    cycles_differ = [d for d in differ if a[d].get("cycles") != b[d].get("cycles")]
    print(f"{len(common)} launches compared ({len(set(a) ^ set(b))} in one file only): {len(differ)} reports differ, "
          f"{len(cycles_differ)} in cycles")
    for d in differ[:args.show]:
        keys = sorted(k for k in set(a[d]) | set(b[d]) if a[d].get(k) != b[d].get(k))
        print(f"  {d}: {', '.join(keys)}")
        for k in keys[:4]:
            print(f"    {k}: {str(a[d].get(k))[:200]} -> {str(b[d].get(k))[:200]}")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--out", required=True)
    c.add_argument("--cache", action="append", default=[], help="an artifact cache (NPUSIM_CACHE_DIR)")
    c.add_argument("--per-kernel", type=int, default=2, help="launches per kernel and config")
    c.add_argument("--max-records", type=float, default=2e5)
    c.add_argument("--fixtures", action="store_true", help="add the tests/trace/data fixtures")
    r = sub.add_parser("run")
    r.add_argument("--binary", required=True)
    r.add_argument("--launches", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--timeout", type=float, default=300)
    r.add_argument("--verbose", action="store_true")
    m = sub.add_parser("compare")
    m.add_argument("before")
    m.add_argument("after")
    m.add_argument("--show", type=int, default=10)
    args = parser.parse_args(argv)
    return {"collect": collect, "run": run, "compare": compare}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
