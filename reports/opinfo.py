"""OpInfo coverage in the nightly report: ops per class and per family, and the trend against the baseline.

The OpInfo suite (suites/opinfo) records on each case `npusim.opinfo_op`, `npusim.opinfo_family` and
`npusim.opinfo_class` (pass, skip or a failure class, whether or not expectations.yaml declares it).
An op passes when none of its cases failed; its class is otherwise its worst case's
(suites/opinfo/expectations.py CLASSES). `npusim report` adds the counts to summary.json
(key "opinfo") and writes opinfo.md; with a baseline summary that has the key, each count shows
its change and the ops that changed class are listed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

OP_PROP, FAMILY_PROP, CLASS_PROP = "npusim.opinfo_op", "npusim.opinfo_family", "npusim.opinfo_class"
# worst first, as suites/opinfo/expectations.py (kept here too: reports/ does not import suites/)
CLASSES = ("crash", "wrong", "timeout", "no-kernel", "recompile", "check", "graph-break", "unsupported")
PASS = "pass"


def op_classes(junit_paths: list[str | Path]) -> tuple[dict[str, str], dict[str, str]]:
    """({op: class}, {op: family}) over the OpInfo cases of the JUnit files."""
    from reports.junit import case_properties, expand_junit_paths, iter_testcases, read_junit

    classes: dict[str, list[str]] = defaultdict(list)
    families: dict[str, str] = {}
    for path in expand_junit_paths(junit_paths):
        for case in iter_testcases(read_junit(path)):
            props = case_properties(case)
            op = props.get(OP_PROP)
            if not op:
                continue
            classes[op].append(props.get(CLASS_PROP) or "crash")
            families[op] = props.get(FAMILY_PROP) or "other"
    result = {}
    for op, found in classes.items():
        failures = [c for c in found if c in CLASSES]
        result[op] = min(failures, key=CLASSES.index) if failures else PASS
    return result, families


def coverage(classes: dict[str, str], families: dict[str, str]) -> dict:
    by_class: dict[str, int] = {k: 0 for k in (PASS, *CLASSES)}
    by_family: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for op, klass in classes.items():
        by_class[klass] = by_class.get(klass, 0) + 1
        by_family[families.get(op, "other")][klass] += 1
    total = len(classes)
    return {"ops": total, "pass_pct": round(100.0 * by_class[PASS] / total, 1) if total else 0.0,
            "by_class": by_class, "by_family": {f: dict(c) for f, c in sorted(by_family.items())},
            "op_class": dict(sorted(classes.items()))}


def trend(new: dict, base: dict | None) -> dict:
    """Count changes per class and the ops whose class changed (ops in both runs)."""
    if not base:
        return {}
    delta = {k: new["by_class"].get(k, 0) - base.get("by_class", {}).get(k, 0) for k in new["by_class"]}
    old = base.get("op_class", {})
    changed = {op: [old[op], klass] for op, klass in new["op_class"].items() if op in old and old[op] != klass}
    return {"by_class": delta, "pass_pct": round(new["pass_pct"] - base.get("pass_pct", 0.0), 1), "changed": changed}


def markdown(cov: dict, change: dict) -> str:
    classes = [PASS, *CLASSES]
    lines = [f"# OpInfo coverage: {cov['by_class'][PASS]} of {cov['ops']} ops pass ({cov['pass_pct']}%)", ""]

    def cell(klass):
        text = str(cov["by_class"].get(klass, 0))
        if change:
            text += f" ({change['by_class'].get(klass, 0):+d})"
        return text

    lines += ["| " + " | ".join(classes) + " |", "|" + "---|" * len(classes),
              "| " + " | ".join(cell(k) for k in classes) + " |", "", "## Per family", "",
              "| family | ops | " + " | ".join(classes) + " |", "|---|---|" + "---|" * len(classes)]
    for family, counts in cov["by_family"].items():
        lines.append(f"| {family} | {sum(counts.values())} | " + " | ".join(str(counts.get(k, 0)) for k in classes)
                     + " |")
    if change:
        lines += ["", f"## Against the baseline (pass {change['pass_pct']:+.1f} points)", ""]
        lines += [f"* {op}: {old} -> {new}" for op, (old, new) in sorted(change["changed"].items())] or ["* no op changed class"]
    return "\n".join(lines) + "\n"


def add_to_report(junit_paths: list[str | Path], out_dir: Path, summary_path: Path,
                  baseline: Path | None) -> dict | None:
    """summary.json's "opinfo" key and opinfo.md; None when the run had no OpInfo case."""
    classes, families = op_classes(junit_paths)
    if not classes:
        return None
    cov = coverage(classes, families)
    base = None
    if baseline is not None and Path(baseline).is_file():
        base = json.loads(Path(baseline).read_text()).get("opinfo")
    change = trend(cov, base)
    summary = json.loads(summary_path.read_text())
    summary["opinfo"] = {**cov, "trend": change}
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    (out_dir / "opinfo.md").write_text(markdown(cov, change))
    return {**cov, "trend": change}
