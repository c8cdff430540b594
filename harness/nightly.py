"""`npusim nightly` (= `make run`): the suites on one NPU config, reports written, diffed against the baseline.

Steps, each visible as it runs: pytest over suites/ with -n auto and
pytest's progress, JUnit into a dated report folder, `npusim report` (matrix,
plots, summary), `npusim diff` against reports/baseline/summary.json when a
baseline is committed. Exit status: non-zero when any case failed or the diff
found a regression.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from npusim.paths import REPO_ROOT

BASELINE = REPO_ROOT / "reports" / "baseline" / "summary.json"
# The OpInfo ops `make run` runs (issue 17): one tenth of the db, about 67 ops and 580 cases, some
# 5 minutes on the idle 2-core machine; the whole db is --opinfo (reports/README.md, suites/opinfo/README.md).
OPINFO_NIGHTLY_SHARD = "0/10"


def opinfo_env(args) -> dict[str, str]:
    """The environment that selects the OpInfo suite's part for this run (harness/plugin.py)."""
    shard = "all" if args.opinfo else args.opinfo_shard
    if shard == "none":
        return {"NPUSIM_OPINFO": "0"}
    if shard == "all":
        return {"NPUSIM_OPINFO": "1"}
    k, n = (int(x) for x in shard.split("/"))  # a malformed shard fails here, before any case runs
    if not 0 <= k < n:
        raise SystemExit(f"npusim nightly: --opinfo-shard {shard}: k must be in [0, n)")
    return {"NPUSIM_OPINFO": "1", "NPUSIM_OPINFO_SHARD": shard}


def parse(argv):
    parser = argparse.ArgumentParser(prog="npusim nightly", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("NPUSIM_SIZES", "nightly"), choices=("smoke", "nightly"),
                        help="size policy (default: $NPUSIM_SIZES or nightly, the full matrix)")
    parser.add_argument("--npu-config", default=None,
                        help="NPU config name or path (default: tpuv3-1core); several comma-separated "
                             "(a,b,c) run the suites once per config and report them side by side")
    parser.add_argument("--functional", default=None, choices=("spike", "host", "both"),
                        help="both: three-way values (Spike, host JIT, eager), the matrix names the side that is off")
    parser.add_argument("--opinfo", action="store_true",
                        help="run the whole generated OpInfo suite (suites/opinfo, every op: hours on 2 cores), "
                             "the same as --opinfo-shard all")
    parser.add_argument("--opinfo-shard", default=os.environ.get("NPUSIM_OPINFO_SHARD", OPINFO_NIGHTLY_SHARD),
                        help="the part of the OpInfo suite to run: k/n (every n-th op from the k-th), all, or none "
                             f"(default: $NPUSIM_OPINFO_SHARD, else {OPINFO_NIGHTLY_SHARD})")
    parser.add_argument("--hardware-monotonic", action=argparse.BooleanOptionalAction, default=True,
                        help="check per case that doubling a resource (DRAM bandwidth, channels, lanes, cores, "
                             "arrays, scratchpad) never costs cycles: six trace re-simulations per case (default: "
                             "on; --no-hardware-monotonic skips them)")
    parser.add_argument("--out", default=None, help="report folder (default: reports/out/<date-time>)")
    parser.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers (default: auto)")
    parser.add_argument("--baseline", default=str(BASELINE), help="summary.json to diff against")
    parser.add_argument("--suites", nargs="*", default=["suites"],
                        help="suite paths or names under suites/ (default: suites, all of them)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")
    args = parser.parse_args(argv)
    args.suites = [suite_path(parser, suite) for suite in args.suites]
    return args


def suite_path(parser: argparse.ArgumentParser, suite: str) -> str:
    """A suite as pytest takes it (relative to the repository): a path, or a name under suites/
    (`--suites elementwise` ran no case at all, pytest's exit 5, before)."""
    for candidate in (Path(suite), Path("suites") / suite):
        path = candidate if candidate.is_absolute() else REPO_ROOT / candidate
        if path.exists():
            return str(candidate)
    known = sorted(p.name for p in (REPO_ROOT / "suites").iterdir() if p.is_dir() and not p.name.startswith("_"))
    parser.error(f"no suite {suite!r}: neither a path nor one of suites/ ({', '.join(known)})")


def pytest_command(args, config: str | None, junit: Path, several: bool) -> list[str]:
    """The pytest run of the suites on one config."""
    command = [sys.executable, "-m", "pytest", *args.suites, "-n", str(args.workers), f"--sizes={args.sizes}",
               "-o", "junit_family=xunit1", f"--junitxml={junit}", "-p", "no:cacheprovider", "-rfE"]
    if config:
        command.append(f"--npu-config={config}")
    if several:
        command.append(f"--junit-prefix={Path(config).stem}")
    if args.functional:
        command.append(f"--functional={args.functional}")
    if args.hardware_monotonic:
        command.append("--hardware-monotonic")
    return command + [a for a in args.pytest_args if a != "--"]


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    out = Path(args.out or REPO_ROOT / "reports" / "out" / time.strftime("%Y-%m-%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    configs = [c.strip() for c in args.npu_config.split(",") if c.strip()] if args.npu_config else [None]
    several = len(configs) > 1
    junits, returncodes, runlogs = [], [], []
    for config in configs:
        # one pytest run per config; with several, case ids carry the config (--junit-prefix)
        suffix = f"-{Path(config).stem}" if several else ""
        junit = out / f"junit{suffix}.xml"
        run_dir = out / f"run{suffix}"
        env = dict(os.environ, NPUSIM_OUT=str(run_dir), NPUSIM_RUNLOG=str(run_dir / "runlog.jsonl"))
        env.pop("NPUSIM_OPINFO_SHARD", None)
        env.update(opinfo_env(args))
        command = pytest_command(args, config, junit, several)
        print(f"[nightly] {' '.join(command)}", flush=True)
        started = time.perf_counter()
        tests = subprocess.run(command, cwd=REPO_ROOT, env=env)
        print(f"[nightly] suites finished in {time.perf_counter() - started:.0f} s with exit status "
              f"{tests.returncode}", flush=True)
        if not junit.exists():
            print(f"[nightly] no JUnit file was written ({junit}); pytest failed before running cases",
                  file=sys.stderr)
            return tests.returncode or 2
        junits.append(str(junit))
        runlogs.append(env["NPUSIM_RUNLOG"])
        returncodes.append(tests.returncode)
    bad = [code for code in returncodes if code not in (0, 1)]
    tests = subprocess.CompletedProcess(args=[], returncode=bad[0] if bad else max(returncodes))

    from reports.cli import diff_main, report_main

    report_status = report_main([*junits, "--out", str(out), "--runlog", *runlogs])
    diff_status = 0
    if several:
        print("[nightly] several configs: baseline diff skipped (the baseline is one config's run)", flush=True)
    elif Path(args.baseline).exists():
        print(f"[nightly] diff against baseline {args.baseline}", flush=True)
        diff_status = diff_main([args.baseline, str(out / "summary.json")])
    else:
        print(f"[nightly] no baseline at {args.baseline}: diff skipped (commit one with "
              f"`cp {out / 'summary.json'} {args.baseline}`)", flush=True)
    print(f"[nightly] report: {out / 'matrix.html'}", flush=True)
    if tests.returncode not in (0, 1):
        return tests.returncode
    return 1 if (tests.returncode or diff_status or report_status) else 0


if __name__ == "__main__":
    sys.exit(main())
