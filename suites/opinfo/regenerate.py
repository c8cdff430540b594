"""Regenerate suites/opinfo/expectations.yaml from a run of the OpInfo suite.

    python -m suites.opinfo.regenerate                    # every op (slow: see README.md)
    python -m suites.opinfo.regenerate --ops abs,flip     # only these ops; the others' entries stay
    python -m suites.opinfo.regenerate --shard 0/8 -n 2   # one shard of the ops
    python -m suites.opinfo.regenerate --junit run.xml    # from a finished run's JUnit (no new run)

It runs pytest on suites/opinfo with the expectations off (NPUSIM_OPINFO_EXPECT=off), reads each
case's class from the JUnit properties the suite records, and writes the ops that do not pass with
their class and reason. Review the result with `git diff suites/opinfo/expectations.yaml`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from npusim.paths import REPO_ROOT
from suites.opinfo import catalog, expectations

CLASS_PROP, OP_PROP, FAMILY_PROP, REASON_PROP = ("npusim.opinfo_class", "npusim.opinfo_op", "npusim.opinfo_family",
                                                 "npusim.opinfo_reason")


def case_records(junit_paths: list[str]) -> list[dict]:
    """One record per OpInfo case of the JUnit files: name, op, family, class, reason."""
    from reports.junit import _XDIST_GROUP_SUFFIX, case_properties, expand_junit_paths, iter_testcases, read_junit

    records = []
    for path in expand_junit_paths(junit_paths):
        for case in iter_testcases(read_junit(path)):
            props = case_properties(case)
            if OP_PROP not in props:
                continue
            records.append({"name": _XDIST_GROUP_SUFFIX.sub("", case.name), "op": props[OP_PROP], "family": props.get(FAMILY_PROP, ""),
                            "class": props.get(CLASS_PROP, "crash"), "reason": props.get(REASON_PROP, "")})
    return records


def op_entries(records: list[dict]) -> dict[str, dict]:
    """Per op that ran: its class, reason (of its worst case), family and failing cases."""
    by_op: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_op[record["op"]].append(record)
    entries = {}
    for op, cases in by_op.items():
        klass = expectations.op_class([c["class"] for c in cases])
        failing = {c["name"]: {"class": c["class"], "reason": c["reason"]} for c in cases
                   if c["class"] in expectations.CLASSES}
        worst = next((c for c in cases if c["class"] == klass), cases[0])
        entries[op] = {"class": klass, "family": cases[0]["family"], "reason": worst["reason"],
                       "cases": failing}
    return entries


def update(data: dict, entries: dict[str, dict], ran_ops: set[str]) -> dict:
    """The expectations with the ops that ran replaced: failing ones listed, passing ones removed, and
    ops the suite no longer runs (excluded since) dropped."""
    suite_ops = {catalog.full_name(op) for op in catalog.op_database() if catalog.excluded_reason(op) is None}
    ops = {op: entry for op, entry in (data.get("ops") or {}).items() if op not in ran_ops and op in suite_ops}
    ops.update({op: entry for op, entry in entries.items() if entry["class"] != expectations.PASS})
    return {"version": expectations.VERSION, "ops": ops}


def run_suite(args, junit: Path) -> int:
    env = dict(os.environ, NPUSIM_OPINFO_EXPECT="off")
    if args.ops:
        env["NPUSIM_OPINFO_OPS"] = args.ops
    if args.shard:
        env["NPUSIM_OPINFO_SHARD"] = args.shard
    command = [sys.executable, "-m", "pytest", "suites/opinfo", "-q", "-n", str(args.workers),
               "-o", "junit_family=xunit1", f"--junitxml={junit}", "-p", "no:cacheprovider"]
    print(f"[opinfo] {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=REPO_ROOT, env=env).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suites.opinfo.regenerate", description=__doc__.splitlines()[0])
    parser.add_argument("--ops", help="comma-separated OpInfo names (full names: div.floor_rounding)")
    parser.add_argument("--shard", help="k/n: every n-th op from the k-th (0-based)")
    parser.add_argument("-n", "--workers", default="0", help="pytest-xdist workers (default 0)")
    parser.add_argument("--junit", nargs="*", help="read these JUnit files instead of running the suite")
    parser.add_argument("--keep-junit", metavar="PATH", help="write the run's JUnit here (default: a temp file)")
    args = parser.parse_args(argv)
    if args.junit:
        records = case_records(args.junit)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            junit = Path(args.keep_junit).resolve() if args.keep_junit else Path(tmp) / "opinfo.xml"
            status = run_suite(args, junit)
            if not junit.exists():
                print(f"[opinfo] pytest wrote no JUnit (exit {status})", file=sys.stderr)
                return 2
            records = case_records([str(junit)])
    entries = op_entries(records)
    data = update(expectations.load(), entries, set(entries))
    expectations.dump(data)
    counts: dict[str, int] = defaultdict(int)
    for entry in entries.values():
        counts[entry["class"]] += 1
    print(f"[opinfo] {len(entries)} ops ran: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(f"[opinfo] wrote {expectations.PATH} ({len(data['ops'])} ops listed); review: git diff {expectations.PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
