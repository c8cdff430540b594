"""Where an OpInfo op's time goes: a per-op table of wall time by phase.

    python -m suites.opinfo.timing --ops abs,sum,flip,nn.functional.softmax [-- extra pytest args]
    python -m suites.opinfo.timing --junit shard-*.xml [--top 30]   # per op wall and class of finished runs

Runs the suite in this process (expectations off, one worker) with the toolchain's steps
wrapped in timers, and prints per op: cases, wall time, and the seconds spent in
* compile: Dynamo + AOT + Inductor + the npusim emitter (kernel MLIR, wrapper), per graph;
* elf: the RISC-V ELF build of a kernel (cached per kernel after its first launch);
* trace.so: the trace producer's build (lowering + C++ compile, cached per kernel);
* cost: the per-tile cost table (Spike samples of the compute bodies, cached per kernel);
* spike / host: the functional runs (Spike, or the host MLIR JIT);
* tracesim: the C++ trace simulator's runs;
* eager: the op on the host (eager's reference, and the size check of a swept sample);
* other: the rest (pytest, Dynamo's guards, the run log, checks).
Figures for a person to read (issue 17: what to cut), not a timed test.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
from collections import defaultdict

PHASES = ("compile", "elf", "trace.so", "cost", "spike", "host", "tracesim", "eager")


class PhaseTimer:
    """Seconds per (op, phase); the phase of the innermost timed call wins (no double counting)."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.cases: dict[str, int] = defaultdict(int)
        self.wall: dict[str, float] = defaultdict(float)
        self.op = "?"
        self._stack: list[list] = []  # [phase, started, child seconds]

    def wrap(self, phase: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            self._stack.append([phase, time.perf_counter(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                name, started, children = self._stack.pop()
                spent = time.perf_counter() - started
                self.seconds[self.op][name] += spent - children
                if self._stack:
                    self._stack[-1][2] += spent

        return timed

    def patch(self) -> None:
        from compiler import backend
        from harness import spec as harness_spec
        from simulator.functional import elf_build, entry, host, spike
        from simulator.trace import api, cost
        from suites.opinfo import catalog

        backend.compile_fx = self.wrap("compile", backend.compile_fx)
        elf_build.build_elf = self.wrap("elf", elf_build.build_elf)
        api.trace_artifacts = self.wrap("trace.so", api.trace_artifacts)
        cost.cost_table_path = self.wrap("cost", cost.cost_table_path)
        spike.run_spike = self.wrap("spike", spike.run_spike)
        host.run_host = self.wrap("host", host.run_host)
        api.run_simulator = self.wrap("tracesim", api.run_simulator)
        harness_spec.OpSpec.expected = self.wrap("eager", harness_spec.OpSpec.expected)
        original_make_inputs = catalog.OpInfoSpec.make_inputs
        catalog.OpInfoSpec.make_inputs = self.wrap("eager", original_make_inputs)
        del entry  # imported so its module-level references resolve the patched names at call time

    # pytest hooks
    def pytest_runtest_protocol(self, item, nextitem):
        self.op = getattr(getattr(item, "spec", None), "opinfo", "?") or "?"

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.cases[self.op] += 1
        self.wall[self.op] += report.duration

    def table(self) -> str:
        header = f"{'op':34} {'cases':>5} {'wall s':>7} " + " ".join(f"{p:>8}" for p in PHASES) + f" {'other':>7}"
        lines = [header, "-" * len(header)]
        totals = defaultdict(float)
        for op in sorted(self.wall, key=lambda o: -self.wall[o]):
            spent = self.seconds[op]
            other = self.wall[op] - sum(spent.values())
            lines.append(f"{op[:34]:34} {self.cases[op]:5d} {self.wall[op]:7.1f} "
                         + " ".join(f"{spent.get(p, 0.0):8.1f}" for p in PHASES) + f" {other:7.1f}")
            for p in PHASES:
                totals[p] += spent.get(p, 0.0)
            totals["wall"] += self.wall[op]
            totals["other"] += other
        wall = totals["wall"] or 1.0
        lines.append("-" * len(header))
        lines.append(f"{'total':34} {sum(self.cases.values()):5d} {totals['wall']:7.1f} "
                     + " ".join(f"{totals[p]:8.1f}" for p in PHASES) + f" {totals['other']:7.1f}")
        lines.append(f"{'share':34} {'':5} {'':7} " + " ".join(f"{100 * totals[p] / wall:7.0f}%" for p in PHASES)
                     + f" {100 * totals['other'] / wall:6.0f}%")
        return "\n".join(lines)


def junit_table(paths: list[str], top: int) -> str:
    """Per op of finished runs (JUnit): cases, wall seconds, its class; the slowest first, then totals
    per class (where a whole run's time goes without re-running it)."""
    from reports.junit import case_properties, expand_junit_paths, iter_testcases, read_junit
    from suites.opinfo import expectations

    wall: dict[str, float] = defaultdict(float)
    cases: dict[str, list[str]] = defaultdict(list)
    for path in expand_junit_paths(paths):
        for case in iter_testcases(read_junit(path)):
            props = case_properties(case)
            op = props.get("npusim.opinfo_op")
            if op is None:
                continue
            wall[op] += float(case.time or 0.0)
            cases[op].append(props.get("npusim.opinfo_class", "crash"))
    classes = {op: expectations.op_class(found) for op, found in cases.items()}
    lines = [f"{'op':44} {'cases':>5} {'wall s':>8}  class", "-" * 70]
    for op in sorted(wall, key=lambda o: -wall[o])[:top]:
        lines.append(f"{op[:44]:44} {len(cases[op]):5d} {wall[op]:8.1f}  {classes[op]}")
    by_class: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for op, klass in classes.items():
        row = by_class[klass]
        row[0] += 1
        row[1] += len(cases[op])
        row[2] += wall[op]
    lines += ["-" * 70, f"{'class':44} {'ops':>5} {'cases':>6} {'wall s':>8}"]
    for klass, (ops, count, seconds) in sorted(by_class.items(), key=lambda kv: -kv[1][2]):
        lines.append(f"{klass:44} {ops:5d} {count:6d} {seconds:8.1f}")
    total = sum(wall.values())
    lines.append(f"{'total':44} {len(wall):5d} {sum(len(c) for c in cases.values()):6d} {total:8.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suites.opinfo.timing", description=__doc__.splitlines()[0])
    parser.add_argument("--ops", help="comma-separated OpInfo names (full names: div.floor_rounding)")
    parser.add_argument("--junit", nargs="+", help="finished runs' JUnit files: per op wall time and class")
    parser.add_argument("--top", type=int, default=30, help="with --junit: how many of the slowest ops to list")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.junit:
        print(junit_table(args.junit, args.top))
        return 0
    if not args.ops:
        parser.error("give --ops (a timed run) or --junit (finished runs)")
    os.environ["NPUSIM_OPINFO_OPS"] = args.ops
    os.environ.setdefault("NPUSIM_OPINFO_EXPECT", "off")
    import pytest

    timer = PhaseTimer()
    timer.patch()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        status = pytest.main(["suites/opinfo", "-q", "-n", "0", "-p", "no:cacheprovider", *args.pytest_args],
                             plugins=[timer])
    print(timer.table())
    print(f"[opinfo timing] {time.perf_counter() - started:.1f} s in all (pytest exit {int(status)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
