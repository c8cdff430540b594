"""Entry points behind ``npusim report`` and ``npusim diff`` (wired in npusim/cli.py).

    npusim report JUNIT_OR_DIR... --out DIR
        DIR/junit-merged.xml   all shards merged, one record per case
        DIR/summary.json       machine-readable case list (what diff and the baseline use)
        DIR/matrix.html        coverage matrix, self-contained
        DIR/matrix.md          the same in Markdown
        DIR/plots/<op>.png     cycles vs size per op

    npusim diff BASE NEW [--threshold 5] [--json] [--json-out PATH] [--limit 50]
        BASE/NEW: a JUnit file, a directory of JUnit files, a report directory
        or a summary.json. Exit 1 on a regression, 0 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from reports.diff import DEFAULT_THRESHOLD_PCT, diff_results, print_diff
from reports.junit import (MERGED_FILE_NAME, CaseResult, ReportInputError, load_results, merge_junit,
                           status_counts, write_summary)
from reports.matrix import BREAKDOWN_FAMILIES, write_matrix
from reports.plots import write_kernel_plots, write_plots
from reports.schema import Status
from reports.sweeps import SweepViolation, cycle_monotonicity_violations

BASELINE_DIR = Path(__file__).resolve().parent / "baseline"


def _console(stream=None):
    from rich.console import Console

    stream = stream or sys.stdout
    # CI logs are not terminals; rich would wrap tables at 80 columns there.
    width = None if stream.isatty() else 160
    return Console(file=stream, width=width, highlight=False)


@dataclass
class ReportFiles:
    out_dir: Path
    junit: Path
    summary: Path
    html: Path
    markdown: Path
    plots: dict[str, Path]      # op -> PNG
    cases: list[CaseResult]
    duplicates: list[str]       # case ids seen in more than one input
    sweep_violations: list[SweepViolation]


def build_report(inputs: list[str], out_dir: str | Path, *, plots: bool = True,
                 title: str = "npusim coverage matrix") -> ReportFiles:
    """Merge the JUnit inputs and write every report file."""
    out_dir = Path(out_dir)
    merged = merge_junit(inputs)  # directories skip earlier junit-merged.xml outputs
    out_dir.mkdir(parents=True, exist_ok=True)
    junit_path = out_dir / MERGED_FILE_NAME
    merged.xml.write(str(junit_path))
    violations = cycle_monotonicity_violations(merged.cases)
    summary_path = write_summary(out_dir / "summary.json", merged.cases, merged.sources,
                                 extra={"cycle_monotonicity_violations": [v.to_dict() for v in violations]})
    plots_dir = out_dir / "plots"
    if plots_dir.exists():
        shutil.rmtree(plots_dir)  # stale PNGs of ops no longer in the run would be linked otherwise
    # OpInfo samples (suites/opinfo) are a coverage measure, a thousand small sweeps: no plot each
    plotted = [case for case in merged.cases if case.family != "opinfo"]
    plot_paths = write_plots(plotted, plots_dir) if plots else {}
    plot_links = {op: path.relative_to(out_dir).as_posix() for op, path in plot_paths.items()}
    kernel_plots = write_kernel_plots(merged.cases, plots_dir, BREAKDOWN_FAMILIES) if plots else {}
    kernel_links = {key: path.relative_to(out_dir).as_posix() for key, path in kernel_plots.items()}
    html_path, md_path = write_matrix(merged.cases, out_dir, plots=plot_links, kernel_plots=kernel_links,
                                      sources=merged.sources,
                                      title=title)
    return ReportFiles(out_dir=out_dir, junit=junit_path, summary=summary_path, html=html_path,
                       markdown=md_path, plots=plot_paths, cases=merged.cases, duplicates=merged.duplicates,
                       sweep_violations=violations)


def graph_breaks(runlogs: list[str]) -> dict[tuple[str, str], int]:
    """(reason, detail) -> count of the graph_break events in these run logs."""
    from npusim import runlog

    counts: dict[tuple[str, str], int] = {}
    for path in runlogs:
        for event in runlog.events("graph_break", Path(path)):
            key = (event.get("reason", "?"), event.get("detail", ""))
            counts[key] = counts.get(key, 0) + 1
    return counts


def report_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="npusim report",
        description="Merge JUnit shard files and write the coverage matrix, plots and summary.json.")
    parser.add_argument("junit", nargs="+",
                        help="JUnit XML files, or directories: every *.xml below them except "
                             "earlier junit-merged.xml outputs")
    parser.add_argument("--out", required=True, help="report directory (created)")
    parser.add_argument("--title", default="npusim coverage matrix")
    parser.add_argument("--no-plots", action="store_true", help="skip the per-op PNGs")
    parser.add_argument("--runlog", nargs="*", default=[], metavar="FILE",
                        help="run logs whose Dynamo graph breaks (code that ran eagerly, never on the NPU) "
                             "are listed and added to summary.json")
    parser.add_argument("--baseline", default=str(Path(__file__).parent / "baseline" / "summary.json"),
                        help="summary.json whose OpInfo coverage the run's is compared with")
    args = parser.parse_args(argv)
    try:
        report = build_report(args.junit, args.out, plots=not args.no_plots, title=args.title)
    except ReportInputError as exc:
        print(f"npusim report: {exc}", file=sys.stderr)
        return 2
    counts = status_counts(report.cases)
    print("cases: " + ", ".join(f"{counts[s]} {s}" for s in Status.ALL if counts[s])
          + f" ({len(report.cases)} total)")
    if report.duplicates:
        print(f"{len(report.duplicates)} case ids appeared in more than one input; the worst status was kept")
    from reports.matrix import EFFICIENCY_FINDING_RATIO, efficiency_findings

    findings = efficiency_findings(report.cases)
    if findings:
        print(f"{len(findings)} efficiency findings (cycles above {EFFICIENCY_FINDING_RATIO}x the roofline), worst: "
              + ", ".join(f"{c.case_id} x{c.roofline_ratio:,.1f}" for c in findings[:5]))
    if report.sweep_violations:
        print(f"{len(report.sweep_violations)} cycle monotonicity violations over the merged run (see the HTML)")
    breaks = graph_breaks(args.runlog)
    if breaks:
        print(f"{sum(breaks.values())} graph break(s): that code ran eagerly on the host, never on the NPU:")
        for (reason, detail), count in sorted(breaks.items(), key=lambda item: -item[1]):
            print(f"  {count} x {reason}" + (f" ({detail})" if detail else ""))
        summary = json.loads(report.summary.read_text())
        summary["graph_breaks"] = [{"reason": r, "detail": d, "count": n} for (r, d), n in breaks.items()]
        report.summary.write_text(json.dumps(summary, indent=1))
    from reports.opinfo import add_to_report

    opinfo = add_to_report([report.junit], report.out_dir, report.summary, Path(args.baseline))
    if opinfo:
        trend = opinfo["trend"]
        print(f"OpInfo: {opinfo['by_class']['pass']} of {opinfo['ops']} ops pass ({opinfo['pass_pct']}%"
              + (f", {trend['pass_pct']:+.1f} points against the baseline" if trend else "") + "); "
              + ", ".join(f"{n} {k}" for k, n in opinfo["by_class"].items() if n and k != "pass")
              + f" (per family: {report.out_dir / 'opinfo.md'})")
    print(f"merged:   {report.junit}")
    print(f"summary:  {report.summary}")
    print(f"markdown: {report.markdown}")
    print(f"plots:    {len(report.plots)} PNG in {report.out_dir / 'plots'}")
    print(f"HTML report: {report.html.resolve()}")
    return 0


def diff_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="npusim diff",
        description="Compare two runs: new failures, fixed cases, cycle and compile-count changes. "
                    "Exit status 1 on a regression.")
    parser.add_argument("base", help=f"baseline: JUnit file or dir, report dir or summary.json "
                                     f"(committed baseline: {BASELINE_DIR})")
    parser.add_argument("new", help="new run: JUnit file or dir, report dir or summary.json")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD_PCT,
                        help="cycle change in percent beyond which a case is listed (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON instead of tables")
    parser.add_argument("--json-out", metavar="PATH", help="also write the diff as JSON to PATH")
    parser.add_argument("--limit", type=int, default=50, help="rows per table, 0 for all (default %(default)s)")
    args = parser.parse_args(argv)
    if args.threshold < 0:
        parser.error("--threshold must be >= 0")
    try:
        base = load_results(args.base)
        new = load_results(args.new)
    except ReportInputError as exc:
        print(f"npusim diff: {exc}", file=sys.stderr)
        return 2
    result = diff_results(base, new, args.threshold)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_diff(result, _console(), base_label=args.base, new_label=args.new, limit=args.limit)
    return 1 if result.has_regression else 0


if __name__ == "__main__":  # python -m reports.cli report|diff ...
    commands = {"report": report_main, "diff": diff_main}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python -m reports.cli {report,diff} ...", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]](sys.argv[2:]))
