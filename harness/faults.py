"""`npusim faults`: the harness's own fault-detection power, measured.

A catalogue of seeded faults in the system under test. Each is one small
patch (an exact anchor replaced) applied to a scratch copy of the tree; the
smoke matrix (or the part of it the fault touches) runs against the copy, and
the fault counts as caught when a check fails or the run's cycles move against
a clean run of the same targets (the baseline diff). The command prints, per
fault, caught/missed and the check that caught it, then the score and the
wall time.

    npusim faults                      every fault, each on the targets it touches
    npusim faults --full               every fault on the whole smoke matrix
    npusim faults tail_clamp_off_by_one reduction_identity   some faults
    npusim faults --list               the catalogue
    npusim faults NAME -- -k sum_all   extra pytest arguments (clean and faulty runs alike)

A fault whose anchor is gone (the code moved on) fails loudly with "fault X no
longer applies"; tests/harness/test_faults.py checks that every fault applies
to the current tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from npusim.paths import REPO_ROOT

SMOKE = ("suites",)
# Ops that exercise tails, several tiles, a strided (middle-dim) DMA, sweeps and cycles.
# ops.py only: the fuzz tests would shrink a fault's failures for minutes
SUMS = "sum_last and not lowp and not i32 or sum_middle"
# What a scratch copy leaves out: environments, caches, build output, reports.
IGNORED = (".git", ".venv", ".npusim-cache", "build", ".stamps", "__pycache__", ".pytest_cache", ".hypothesis",
           "out")


class FaultNoLongerApplies(RuntimeError):
    pass


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    path: str  # relative to the repo root
    anchor: str  # must occur exactly once
    replacement: str
    targets: tuple[str, ...]  # pytest targets the fault touches (the smoke matrix with --full)
    select: str = ""  # a -k expression narrowing the targets to ops that exercise the fault

    def patched(self, text: str) -> str:
        count = text.count(self.anchor)
        if count != 1:
            raise FaultNoLongerApplies(
                f"fault {self.name} no longer applies: its anchor occurs {count} times in {self.path} "
                f"(expected once): {self.anchor!r}")
        return text.replace(self.anchor, self.replacement)

    def apply(self, root: Path) -> None:
        file = root / self.path
        if not file.exists():
            raise FaultNoLongerApplies(f"fault {self.name} no longer applies: {self.path} does not exist")
        file.write_text(self.patched(file.read_text()))


CATALOGUE = [
    Fault("tail_clamp_off_by_one", "the last partial tile is clamped one element short",
          "compiler/emitter.py",
          "length = arith.minsi(tile_const, arith.subi(extent_index, loop.induction_variable))",
          "length = arith.minsi(tile_const, arith.subi(arith.subi(extent_index, const_index(1)), "
          "loop.induction_variable))",
          ("suites/reduction/ops.py",), SUMS),
    Fault("reduction_identity", "a sum starts from 1 instead of 0",
          "compiler/emitter.py",
          'if reduction_type == "sum":\n        return constant(0, dtype)',
          'if reduction_type == "sum":\n        return constant(1, dtype)',
          ("suites/reduction/ops.py",), SUMS),
    Fault("dropped_last_tile", "the tile loop stops one tile early",
          "compiler/emitter.py",
          "loop = scf.ForOp(const_index(0), extent_index, tile_const, inits)",
          "loop = scf.ForOp(const_index(0), arith.maxsi(arith.subi(extent_index, tile_const), const_index(0)), "
          "tile_const, inits)",
          ("suites/reduction/ops.py",), SUMS),
    Fault("dma_strides_swapped", "a strided DMA takes the scratchpad's unit stride on its DRAM side (the two "
          "strides swapped): a column load reads a contiguous run",
          "compiler/emitter.py",
          "        static_stride = stride if isinstance(stride, int) else DYN\n",
          "        stride = 1  # swapped with the scratchpad side's unit stride\n"
          "        static_stride = stride if isinstance(stride, int) else DYN\n",
          ("suites/reduction/ops.py",), SUMS),
    Fault("trace_dma_strides_swapped", "the trace skeleton swaps the two strides of a DMA descriptor "
          "(cycles only: values are right)",
          "simulator/trace/skeleton.py",
          "d0, s0, d1, s1 = sizes[0], strides[0], self.const(1, self.i64, ip), self.const(0, self.i64, ip)",
          "d0, s1, d1, s0 = sizes[0], strides[0], self.const(1, self.i64, ip), self.const(0, self.i64, ip)",
          ("suites/reduction/ops.py",), SUMS),
    Fault("recompile_per_size", "the backend specialises every size symbol (one compile per size)",
          "compiler/backend.py",
          "    for value in example_inputs:\n",
          "    [int(v) for v in example_inputs if isinstance(v, torch.SymInt)]  # specialises: recompiles\n"
          "    for value in example_inputs:\n",
          ("suites/reduction/ops.py",), SUMS),
    Fault("bigger_is_cheaper", "DRAM transfer time falls as a transfer grows",
          "simulator/trace/src/timing.cpp",
          "const double done = std::max(start, static_cast<double>(end_slot) * burst_cycles_);",
          "const double done = start + 4096.0 * burst_cycles_ / static_cast<double>(n_bursts);",
          ("suites/reduction/ops.py",), SUMS),
    Fault("dma_model_10pct_slower", "every DRAM transfer takes 10 % longer",
          "simulator/trace/src/timing.cpp",
          "  return done + latency + cfg_.noc_latency;",
          "  return start + (done - start) * 1.1 + (latency + cfg_.noc_latency) * 1.1;",
          ("suites/reduction/ops.py",), SUMS),
    Fault("host_fallback", "extern/fallback kernels run on the host instead of being refused",
          "compiler/wrapper.py",
          "    if isinstance(node, ALLOWED_EXTERN) or _moves_no_data(node):\n        return\n",
          "    return  # every extern kernel allowed: ATen runs it on the host\n",
          ("suites/gaps/ops.py",), "histc"),
    Fault("libm_ulp", "the runtime's exp is off by 10 ulp, one more than its 9-ulp budget (2e-15)",
          "simulator/functional/runtime/libm.c",
          "  return scale_pow2(1.0 + expm1_reduced(r), (int)k);\n",
          "  return scale_pow2(1.0 + expm1_reduced(r), (int)k) * (1.0 + 10 * 0x1p-52);\n",
          ("tests/functional/test_functional_math.py",), "libm"),
]
BY_NAME = {fault.name: fault for fault in CATALOGUE}

# Which check a failure message comes from (first match wins).
CHECKS = (
    ("declared gap for op", "strict declared gap"),
    ("scheduled did not launch", "every scheduled kernel launched"),
    ("launched no npusim kernel", "kernel launched"),
    ("values off", "three-way values"),
    ("Mismatched elements", "values vs eager"),
    ("are not close", "values vs eager"),
    ("recompiled", "compile-once"),
    ("FailOnRecompileLimitHit", "compile-once (Dynamo's recompile limit)"),
    ("rejected the trace", "trace consistency (timing core)"),
    ("fell as", "cycle monotonicity"),
    ("did not grow with the tile count", "trace scaling"),
    ("XPASS", "strict declared gap (xpass)"),
    ("relative error", "libm accuracy"),
    ("f32 ", "libm accuracy"),
)


def which_check(message: str) -> str:
    for needle, check in CHECKS:
        if needle in message:
            return check
    return "other failure: " + (message.strip().splitlines() or ["?"])[0][:100]


@dataclass
class Outcome:
    fault: str
    caught: bool
    checks: dict[str, int]  # check -> failing cases
    wall_s: float
    detail: str = ""


def scratch_copy(dest: Path) -> Path:
    shutil.copytree(REPO_ROOT, dest, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return dest


def _simulator_sources() -> list[Path]:
    trace = REPO_ROOT / "simulator" / "trace"
    return [p.relative_to(REPO_ROOT) for p in sorted([*(trace / "src").iterdir(), *(trace / "include").rglob("*")])
            if p.is_file()]


def run_targets(root: Path, targets: tuple[str, ...], out: Path, cache: Path, workers: str,
                extra: list[str]) -> tuple[int, Path]:
    """The harness on `targets` inside the scratch tree `root`; its own code, simulator build and run dir."""
    junit = out / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPUSIM_OUT", "NPUSIM_RUNLOG"))}
    # The C++ simulator is rebuilt only where its sources differ from this tree's (its build stamp
    # covers them, so sharing this tree's build dir otherwise is safe and saves a compile per run).
    same_simulator = all((root / p).read_bytes() == (REPO_ROOT / p).read_bytes() for p in _simulator_sources())
    build = REPO_ROOT / "build" / "trace" if same_simulator else root / "build" / "trace"
    env.update(PYTHONPATH=str(root), NPUSIM_CACHE_DIR=str(cache), NPUSIM_TRACE_BUILD_DIR=str(build),
               NPUSIM_OUT=str(out / "run"), NPUSIM_RUNLOG=str(out / "run" / "runlog.jsonl"))
    command = [sys.executable, "-m", "pytest", *targets, "-n", workers, "--sizes=smoke", "-q", "-p",
               "no:cacheprovider", "-o", "junit_family=xunit1", f"--junitxml={junit}", "-rN",
               *extra]
    with open(out / "pytest.log", "w") as log:
        status = subprocess.run(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    return status, junit


def assess(junit: Path, baseline: Path | None, status: int, log: Path) -> tuple[dict[str, int], str]:
    """Failing cases grouped by the check that failed them, plus cycle moves against the clean run."""
    from reports.diff import diff_results
    from reports.junit import read_cases

    checks: dict[str, int] = {}
    if not junit.exists():
        return {f"pytest exited {status} without a report": 1}, log.read_text()[-2000:]
    cases = read_cases([junit])
    clean = read_cases([baseline]) if baseline is not None and baseline.exists() else []
    # A case that fails in the clean run too (a Spike timeout under load, a known finding) says
    # nothing about the fault: only new failures count.
    failing_clean = {case.case_id for case in clean if case.status in ("fail", "error", "xpass")}
    for case in cases:
        if case.status in ("fail", "error", "xpass") and case.case_id not in failing_clean:
            text = case.message or case.details or ""
            check = "strict declared gap (xpass)" if case.status == "xpass" else which_check(text)
            checks[check] = checks.get(check, 0) + 1
    if clean:
        diff = diff_results(clean, cases)
        if diff.cycle_increases:
            checks["baseline diff: cycles up > 5 %"] = len(diff.cycle_increases)
        if diff.cycle_decreases:
            checks["baseline diff: cycles down > 5 %"] = len(diff.cycle_decreases)
        if diff.compile_increases:
            checks["baseline diff: more compiles"] = len(diff.compile_increases)
    if status not in (0, 1) and not checks:
        checks[f"pytest exited {status}"] = 1
    return checks, ""


def _with_select(extra: list[str], select: str) -> list[str]:
    return [*extra, "-k", select] if select and "-k" not in extra else list(extra)


def _describe(targets: tuple[str, ...], select: str) -> str:
    return " ".join(targets) + (f" -k '{select}'" if select else "")


def run_faults(faults: list[Fault], *, full: bool, workers: str, work: Path, extra: list[str],
               echo=print, cache: Path | None = None, clean_run: bool = True) -> list[Outcome]:
    """Each fault on a scratch copy; one clean run of the same targets gives the baseline for the diff."""
    cache = cache or work / "cache"  # shared by the runs: artifacts are keyed by kernel hash and generator
    outcomes = []
    def plan(fault: Fault) -> tuple[tuple[str, ...], str]:
        return (SMOKE, "") if full else (fault.targets, fault.select)

    baselines: dict[tuple, Path] = {}
    clean = scratch_copy(work / "clean") if clean_run else None
    for targets, select in sorted({plan(fault) for fault in faults}) if clean_run else ():
        out = work / "baseline" / "-".join(t.replace("/", "_") for t in targets) / str(len(baselines))
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        status, junit = run_targets(clean, targets, out, cache, workers, _with_select(extra, select))
        checks, _ = assess(junit, None, status, out / "pytest.log")
        echo(f"[faults] clean run of {_describe(targets, select)}: {time.perf_counter() - started:.0f} s"
             + (f"; FAILING WITHOUT A FAULT: {checks}" if checks else ""))
        baselines[(targets, select)] = junit
    for fault in faults:
        started = time.perf_counter()
        targets, select = plan(fault)
        root = scratch_copy(work / fault.name)
        fault.apply(root)
        out = work / f"{fault.name}-out"
        out.mkdir(parents=True, exist_ok=True)
        status, junit = run_targets(root, targets, out, cache, workers, _with_select(extra, select))
        checks, detail = assess(junit, baselines.get((targets, select)), status, out / "pytest.log")
        outcome = Outcome(fault.name, bool(checks), checks, time.perf_counter() - started, detail)
        outcomes.append(outcome)
        found = ", ".join(f"{check} ({n})" for check, n in checks.items()) or "no check failed"
        echo(f"[faults] {'CAUGHT' if outcome.caught else 'MISSED'} {fault.name}: {found} "
             f"[{outcome.wall_s:.0f} s, {_describe(targets, select)}]")
        shutil.rmtree(root, ignore_errors=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npusim faults", description=__doc__.splitlines()[0])
    parser.add_argument("faults", nargs="*", help="fault names (default: the whole catalogue)")
    parser.add_argument("--full", action="store_true", help="run every fault on the whole smoke matrix")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers (default: auto)")
    parser.add_argument("--work", default=None, help="scratch dir (default: a temporary dir, removed after)")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # extra pytest arguments after --
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.list:
        for fault in CATALOGUE:
            print(f"{fault.name:<26} {fault.what}  [{fault.path}; {_describe(fault.targets, fault.select)}]")
        return 0
    unknown = [name for name in args.faults if name not in BY_NAME]
    if unknown:
        print(f"npusim faults: unknown fault(s) {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    faults = [BY_NAME[name] for name in args.faults] or list(CATALOGUE)
    for fault in faults:  # every patch applies, before anything slow runs
        fault.patched((REPO_ROOT / fault.path).read_text())
    started = time.perf_counter()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="npusim-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        outcomes = run_faults(faults, full=args.full, workers=args.workers, work=work,
                              extra=extra)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    caught = sum(o.caught for o in outcomes)
    print(f"[faults] score: {caught}/{len(outcomes)} caught; wall time {time.perf_counter() - started:.0f} s")
    for outcome in outcomes:
        if not outcome.caught:
            print(f"[faults] missed: {outcome.fault} ({BY_NAME[outcome.fault].what})")
    return 0 if caught == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
