"""Coverage matrix: op x size -> status + cycles, as one self-contained HTML
file (inline CSS, no scripts) and as Markdown.

Ops whose size dims differ (N vs s0,s1) cannot share columns, so there is one
table per (family, size dims). The columns are the values of the last (swept)
dim; a row is (op, dtype, values of the leading dims), plus the config when
the run covers more than one NPU config. So a softmax over (s0, s1) reads as
one row per s0 with s1 across, instead of one very wide row.
"""

from __future__ import annotations

import html
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from reports.junit import CaseResult, kernel_labels, status_counts
from reports.plots import plot_filename
from reports.schema import Status
from reports.sweeps import SweepViolation, cycle_monotonicity_violations

STATUS_STYLE = {
    # status: (background, text colour, short cell label, markdown mark)
    Status.PASS: ("#c8ecc9", "#0b3d0e", "pass", "✅"),
    Status.FAIL: ("#f6b4b0", "#5c0b06", "FAIL", "❌"),
    Status.ERROR: ("#d9534f", "#ffffff", "ERROR", "💥"),
    Status.XPASS: ("#f9c784", "#5a3100", "XPASS", "⚠️"),
    Status.XFAIL: ("#fbeeb8", "#4d3d00", "xfail", "🟡"),
    Status.UNSUPPORTED: ("#c9c3e6", "#2b2160", "unsupported", "⛔"),
    Status.SKIP: ("#e4e4e4", "#444444", "skip", "⏭️"),
}
# Every case that did not pass gets an entry (message, reproducer, artifacts)
# under "Non-passing cases", worst first; its matrix cell links there.
PROBLEM_STATUSES = (Status.ERROR, Status.FAIL, Status.XPASS, Status.UNSUPPORTED, Status.XFAIL, Status.SKIP)


Row = tuple[str, str, str, tuple[int, ...]]  # (op, dtype, config, leading dim values)


@dataclass
class MatrixTable:
    family: str
    dims: tuple[str, ...]
    columns: list[int | None] = field(default_factory=list)  # values of the last dim
    rows: list[Row] = field(default_factory=list)
    cells: dict[tuple[Row, int | None], CaseResult] = field(default_factory=dict)

    @property
    def lead_dims(self) -> tuple[str, ...]:
        return self.dims[:-1]

    @property
    def column_dim(self) -> str | None:
        return self.dims[-1] if self.dims else None

    def column_label(self, column: int | None) -> str:
        return f"{self.column_dim}={column}" if self.column_dim else "-"


@dataclass
class Matrix:
    tables: list[MatrixTable]
    sweep_checks: list[CaseResult]  # sweep-level items: compile-once, monotonicity, trace scaling
    other_cases: list[CaseResult]   # no npusim.op: harness self-tests and the like
    cases: list[CaseResult]
    multi_config: bool


def build_matrix(cases: list[CaseResult]) -> Matrix:
    matrix_cases = [c for c in cases if c.is_matrix_case]
    multi_config = len({c.config for c in matrix_cases if c.config}) > 1
    tables: dict[tuple[str, tuple[str, ...]], MatrixTable] = {}
    for case in matrix_cases:
        family = case.family or "(no family)"
        dims = tuple(case.sizes)
        table = tables.setdefault((family, dims), MatrixTable(family, dims))
        values = tuple(case.sizes.values())
        row = (case.op, case.dtype or "", (case.config or "") if multi_config else "", values[:-1])
        table.cells[(row, values[-1] if values else None)] = case
    for table in tables.values():
        table.rows = sorted({row for row, _ in table.cells})
        table.columns = sorted({column for _, column in table.cells}, key=lambda v: (v is None, v or 0))
    ordered = [tables[key] for key in sorted(tables)]
    sweep_checks = sorted((c for c in cases if c.op and c.sweep is not None),
                          key=lambda c: (c.family or "", c.op, c.dtype or "", c.sweep, c.case_id))
    others = sorted((c for c in cases if not c.op), key=lambda c: c.case_id)
    return Matrix(tables=ordered, sweep_checks=sweep_checks, other_cases=others, cases=list(cases),
                  multi_config=multi_config)


def _cycles_text(cycles) -> str:
    if cycles is None:
        return ""
    return f"{cycles:,}" if isinstance(cycles, int) else f"{cycles:,.1f}"


def _first_line(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _anchor_ids(cases: list[CaseResult]) -> dict[str, str]:
    return {case.case_id: f"case-{index}-" + re.sub(r"[^A-Za-z0-9]+", "-", case.case_id).strip("-")[:80]
            for index, case in enumerate(sorted(cases, key=lambda c: c.case_id))}


def _tooltip(case: CaseResult) -> str:
    lines = [case.case_id, f"status: {case.status}"]
    for label, value in (("cycles", _cycles_text(case.cycles)), ("instret", case.instret),
                         ("roofline", _cycles_text(case.roofline) if case.roofline else None),
                         ("cycles / roofline", case.roofline_ratio),
                         ("trace records", case.trace_records), ("compile count", case.compile_count),
                         ("kernel", case.kernel_hash and case.kernel_hash[:16]), ("config", case.config),
                         ("values (spike/host/eager)", case.values)):
        if value not in (None, ""):
            lines.append(f"{label}: {value}")
    if case.message:
        lines.append(f"message: {case.message.strip()[:600]}")
    if case.reproducer:
        lines.append(f"reproduce: {case.reproducer}")
    if case.artifacts:
        lines.append(f"artifacts: {case.artifacts}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; }
th { background: #f3f3f3; font-weight: 600; }
table.matrix th.col { font-size: 11px; white-space: nowrap; }
table.matrix td.cell { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; font-size: 12px; min-width: 4em; }
table.matrix td.cell .st { display: block; font-size: 10px; text-align: left; opacity: 0.8; }
table.matrix td.cell .rl { display: block; font-size: 9px; text-align: right; opacity: 0.7; }
table.matrix td.none { background: repeating-linear-gradient(45deg, #fafafa, #fafafa 4px, #f0f0f0 4px, #f0f0f0 8px); }
table.matrix td.cell a { color: inherit; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #888; vertical-align: middle; margin-right: 0.3em; }
details.problem { margin: 0.3em 0; border: 1px solid #ddd; border-left-width: 6px; padding: 0.3em 0.6em; }
details.problem summary { cursor: pointer; }
details.problem:target { outline: 2px solid #2a6fdb; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; white-space: pre-wrap; font-size: 12px; }
code { background: #f1f1f1; padding: 0 3px; }
.plots img { max-width: 100%; border: 1px solid #ddd; margin: 0.4em 0; }
table.breakdown td.dominant { font-weight: 700; background: #ffe3c2; }
table.breakdown .share { display: block; font-size: 10px; opacity: 0.75; }
"""


def _status_css() -> str:
    rules = []
    for status, (background, colour, _, _) in STATUS_STYLE.items():
        rules.append(f".st-{status} {{ background: {background}; color: {colour}; }}")
        rules.append(f"details.problem.st-{status} {{ border-left-color: {background}; background: #fff; color: #222; }}")
    return "\n".join(rules)


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _summary_groups(matrix: Matrix) -> list[tuple[str, list[CaseResult]]]:
    """Matrix cases per family, then the sweep checks, then other tests."""
    by_family: dict[str, list[CaseResult]] = defaultdict(list)
    for case in matrix.cases:
        if case.is_matrix_case:
            by_family[case.family or "(no family)"].append(case)
    groups = sorted(by_family.items())
    if matrix.sweep_checks:
        groups.append(("sweep checks", matrix.sweep_checks))
    if matrix.other_cases:
        groups.append(("other tests", matrix.other_cases))
    return groups


def _summary_html(matrix: Matrix) -> str:
    groups = _summary_groups(matrix)
    head = "".join(f'<th class="st-{s}">{_e(s)}</th>' for s in Status.ALL)
    out = ['<table class="summary" id="summary"><tr><th>cases</th>' + head + "<th>total</th></tr>"]
    for family, group in groups:
        counts = status_counts(group)
        cells = "".join(f'<td class="num" data-status="{s}">{counts[s] or ""}</td>' for s in Status.ALL)
        out.append(f"<tr><td>{_e(family)}</td>{cells}<td class='num'>{len(group)}</td></tr>")
    counts = status_counts(matrix.cases)
    cells = "".join(f'<td class="num total" data-status="{s}"><b>{counts[s]}</b></td>' for s in Status.ALL)
    out.append(f"<tr><th>all</th>{cells}<td class='num'><b>{len(matrix.cases)}</b></td></tr></table>")
    return "\n".join(out)


EFFICIENCY_FINDING_RATIO = 20  # cycles / roofline above this: listed as an efficiency finding


def _row_heads(table: MatrixTable, matrix: Matrix) -> list[str]:
    return ["op", "dtype"] + (["config"] if matrix.multi_config else []) + list(table.lead_dims) + \
        ["max ×roofline"]


def _ratio_text(ratio) -> str:
    return "" if ratio is None else f"×{ratio:,.1f}"


def _row_max_ratio(table: MatrixTable, row) -> float | None:
    ratios = [case.roofline_ratio for column in table.columns
              if (case := table.cells.get((row, column))) is not None and case.roofline_ratio is not None]
    return max(ratios) if ratios else None


def config_comparison(cases: list[CaseResult]) -> tuple[list[str], list[tuple[tuple, dict[str, CaseResult]]]]:
    """The same case (op, dtype, sizes) on several configs: (configs in first-seen order, rows of
    (key, config -> case)), for the cases run on at least two configs."""
    configs: list[str] = []
    by_key: dict[tuple, dict[str, CaseResult]] = {}
    for case in cases:
        if not case.is_matrix_case or not case.config:
            continue
        if case.config not in configs:
            configs.append(case.config)
        key = (case.family or "", case.op, case.dtype or "", tuple(case.sizes.items()))
        by_key.setdefault(key, {})[case.config] = case
    rows = [(key, per_config) for key, per_config in sorted(by_key.items()) if len(per_config) >= 2]
    return configs, rows


def _comparison_cells(configs: list[str], per_config: dict[str, CaseResult]) -> list[str]:
    """cycles per config, then the ratio of each later config to the first."""
    base = per_config.get(configs[0])
    cells = [_cycles_text(per_config[c].cycles) if c in per_config else "" for c in configs]
    for config in configs[1:]:
        other = per_config.get(config)
        if base is None or other is None or not base.cycles or other.cycles is None:
            cells.append("")
        else:
            cells.append(f"{other.cycles / base.cycles:.3f}")
    return cells


def _comparison_html(cases: list[CaseResult]) -> str:
    configs, rows = config_comparison(cases)
    if len(configs) < 2 or not rows:
        return ""
    heads = ["family", "op", "dtype", "sizes"] + [f"cycles {c}" for c in configs] + \
        [f"{c} / {configs[0]}" for c in configs[1:]]
    out = [f'<h2 id="configs">Configs side by side ({len(rows)} cases)</h2>',
           "<table class='configs'><tr>" + "".join(f"<th>{_e(h)}</th>" for h in heads) + "</tr>"]
    for (family, op, dtype, sizes), per_config in rows:
        label = ",".join(f"{k}={v}" for k, v in sizes) or "-"
        cells = [family, op, dtype, label] + _comparison_cells(configs, per_config)
        out.append("<tr>" + "".join(f"<td class='num'>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def efficiency_findings(cases: list[CaseResult]) -> list[CaseResult]:
    """Cases above EFFICIENCY_FINDING_RATIO times their physical floor, worst first."""
    found = [c for c in cases if c.roofline_ratio is not None and c.roofline_ratio > EFFICIENCY_FINDING_RATIO]
    return sorted(found, key=lambda c: -c.roofline_ratio)


def _table_html(table: MatrixTable, matrix: Matrix, anchors: dict[str, str], plots: dict[str, str]) -> str:
    dims = "×".join(table.dims) or "no sizes"
    out = [f'<h3>{_e(table.family)} <span class="meta">sizes {_e(dims)}; columns: '
           f'{_e(table.column_dim or "-")}</span></h3>',
           f'<table class="matrix" data-family="{_e(table.family)}" data-dims="{_e(",".join(table.dims))}">',
           "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in _row_heads(table, matrix))
           + "".join(f'<th class="col">{_e(table.column_label(c))}</th>' for c in table.columns) + "</tr>"]
    previous_op = None
    for row in table.rows:
        op, dtype, config, lead = row
        plot = plots.get(op)
        # The op name and plot link once per op: its leading-dim rows follow.
        if op != previous_op:
            op_cell = f"<b>{_e(op)}</b>" + (f' <a href="{_e(plot)}" class="plot">plot</a>' if plot else "")
        else:
            op_cell = f'<span class="meta">{_e(op)}</span>'
        previous_op = op
        cells = [f"<th style='text-align:left'>{op_cell}</th><td>{_e(dtype)}</td>"]
        if matrix.multi_config:
            cells.append(f"<td>{_e(config)}</td>")
        cells.extend(f"<td class='num'>{_e(value)}</td>" for value in lead)
        cells.append(f"<td class='num roofline'>{_e(_ratio_text(_row_max_ratio(table, row)))}</td>")
        for column in table.columns:
            case = table.cells.get((row, column))
            if case is None:
                cells.append('<td class="none" title="not run"></td>')
                continue
            label = STATUS_STYLE.get(case.status, ("", "", case.status, ""))[2]
            if case.values and case.values != "agree":  # three-way mode: the side that is off
                label = f"{label}: {case.values}"
            body = f'<span class="st">{_e(label)}</span>{_e(_cycles_text(case.cycles))}'
            if case.roofline_ratio is not None:
                body += f'<span class="rl"> {_e(_ratio_text(case.roofline_ratio))}</span>'
            if case.status in PROBLEM_STATUSES:
                body = f'<a href="#{anchors[case.case_id]}">{body}</a>'
            cells.append(
                f'<td class="cell st-{_e(case.status)}" data-case="{_e(case.case_id)}" data-op="{_e(op)}" '
                f'data-dtype="{_e(dtype)}" data-size="{_e(case.size_label)}" data-status="{_e(case.status)}" '
                f'data-cycles="{_e(case.cycles)}" data-roofline-ratio="{_e(case.roofline_ratio)}" '
                f'title="{_e(_tooltip(case))}">{body}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


# Families whose cases get a per-kernel breakdown in the report (every multi-kernel case records one).
BREAKDOWN_FAMILIES = ("models",)


@dataclass
class Breakdown:
    """One block (op, dtype, config): its cases by size and the kernels they ran."""

    op: str
    dtype: str
    config: str
    cases: list[CaseResult]                       # ordered by size
    kernels: list[str]                            # kernel labels, launch order of the first case
    cycles: dict[tuple[str, str], int | float]    # (case id, kernel label) -> cycles

    def share(self, case: CaseResult, label: str) -> float | None:
        value = self.cycles.get((case.case_id, label))
        total = sum(v for (cid, _), v in self.cycles.items() if cid == case.case_id and v is not None)
        return None if value is None or not total else value / total

    def dominant(self, case: CaseResult) -> str | None:
        """The kernel with the most cycles in this case."""
        mine = [(v, label) for (cid, label), v in self.cycles.items() if cid == case.case_id and v is not None]
        return max(mine)[1] if mine else None


def model_breakdowns(cases: list[CaseResult]) -> list[Breakdown]:
    """Per block of the BREAKDOWN_FAMILIES: every size that ran, the kernels with their cycles."""
    groups: dict[tuple[str, str, str], list[CaseResult]] = defaultdict(list)
    for case in cases:
        if case.is_matrix_case and case.family in BREAKDOWN_FAMILIES:
            groups[(case.op, case.dtype or "", case.config or "")].append(case)
    result = []
    for (op, dtype, config), group in sorted(groups.items()):
        group.sort(key=lambda c: tuple(c.sizes.values()))
        labels: list[str] = []
        cycles = {}
        for case in group:
            for label, kernel in zip(kernel_labels(case.kernels or []), case.kernels or []):
                if label not in labels:
                    labels.append(label)
                cycles[(case.case_id, label)] = kernel.get("cycles")
        result.append(Breakdown(op, dtype, config, group, labels, cycles))
    return result


def _breakdown_html(breakdowns: list[Breakdown], plots: dict[str, str], anchors: dict[str, str],
                    kernel_plots: dict[tuple[str, str], str]) -> str:
    out = [f'<h2 id="models">Per-model kernel breakdown ({len(breakdowns)})</h2>',
           "<p class='meta'>Per block and size: the kernels it launched with their cycles and share of the "
           "case's total; the kernel that dominates each size is highlighted. Compiles: the block's compile "
           "count at that case (compile-once: it stays at the first general case's count).</p>"]
    for block in breakdowns:
        plot = plots.get(block.op)
        title = f"{block.op} [{block.dtype}]" + (f" {block.config}" if block.config else "")
        out.append(f'<h3 id="model-{_e(block.op)}-{_e(block.dtype)}">{_e(title)}'
                   + (f' <a href="{_e(plot)}" class="plot">plot: total cycles vs size</a>' if plot else "")
                   + "</h3>")
        kernel_plot = kernel_plots.get((block.op, block.dtype))
        if kernel_plot:
            out.append(f'<details class="plots"><summary>cycles per kernel vs size</summary>'
                       f'<img class="kernel-plot" src="{_e(kernel_plot)}" alt="cycles per kernel of {_e(block.op)}">'
                       "</details>")
        out.append(f'<table class="breakdown" data-op="{_e(block.op)}" data-dtype="{_e(block.dtype)}">')
        head = "".join(f'<th class="col">{_e(c.size_label)}</th>' for c in block.cases)
        out.append(f"<tr><th>kernel</th>{head}</tr>")

        def row(label: str, cells: list[str], css: str = "") -> str:
            return f"<tr class='{css}'><th style='text-align:left'>{_e(label)}</th>{''.join(cells)}</tr>"

        status_cells = []
        for case in block.cases:
            text = _e(STATUS_STYLE.get(case.status, ("", "", case.status, ""))[2])
            if case.status in PROBLEM_STATUSES:
                text = f'<a href="#{anchors[case.case_id]}">{text}</a>'
            status_cells.append(f'<td class="st-{_e(case.status)}" data-case="{_e(case.case_id)}">{text}</td>')
        out.append(row("status", status_cells))
        out.append(row("total cycles", [f"<td class='num total'>{_e(_cycles_text(c.cycles))}</td>"
                                        for c in block.cases], "total"))
        out.append(row("compiles", [f"<td class='num'>{_e(c.compile_count)}</td>" for c in block.cases]))
        out.append(row("values from", [f"<td>{_e(c.functional or ('spike' if c.kernels else ''))}</td>"
                                       for c in block.cases]))
        for label in block.kernels:
            cells = []
            for case in block.cases:
                value = block.cycles.get((case.case_id, label))
                if value is None:
                    cells.append("<td class='none'></td>")
                    continue
                share = block.share(case, label)
                css = "num dominant" if block.dominant(case) == label else "num"
                cells.append(f"<td class='{css}' data-kernel='{_e(label)}' data-size='{_e(case.size_label)}'>"
                             f"{_e(_cycles_text(value))}<span class='share'>"
                             f"{'' if share is None else f'{share:.1%}'}</span></td>")
            out.append(row(label, cells, "kernel"))
        out.append("</table>")
    return "\n".join(out)


def _sweep_checks_html(checks: list[CaseResult], anchors: dict[str, str]) -> str:
    out = [f'<h2 id="sweep-checks">Sweep checks ({len(checks)})</h2>',
           "<p class='meta'>Per op and swept dim: compile-once, cycle monotonicity and trace scaling "
           "over the sizes that ran.</p>",
           "<table class='sweep-checks'><tr><th>family</th><th>op</th><th>dtype</th><th>swept dim</th>"
           "<th>status</th><th>compiles</th><th>message</th></tr>"]
    for case in checks:
        status = _e(case.status)
        if case.status in PROBLEM_STATUSES:
            status = f'<a href="#{anchors[case.case_id]}">{status}</a>'
        out.append(f"<tr><td>{_e(case.family)}</td><td>{_e(case.op)}</td><td>{_e(case.dtype)}</td>"
                   f"<td>{_e(case.sweep)}</td><td class='st-{_e(case.status)}' data-case='{_e(case.case_id)}' "
                   f"data-status='{_e(case.status)}'>{status}</td><td class='num'>{_e(case.compile_count)}</td>"
                   f"<td>{_e(_first_line(case.message))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _problem_html(case: CaseResult, anchor: str) -> str:
    if case.is_matrix_case:
        what = f"{case.op}[{case.dtype or '?'}] {case.size_label}"
    elif case.sweep is not None:
        what = f"{case.op}[{case.dtype or '?'}] sweep over {case.sweep}"
    else:
        what = case.case_id
    parts = [f'<details class="problem st-{_e(case.status)}" id="{anchor}">',
             f'<summary><b class="st-{_e(case.status)}">&nbsp;{_e(case.status)}&nbsp;</b> '
             f"<code>{_e(what)}</code> {_e(_first_line(case.message))}</summary>",
             f"<p>case <code>{_e(case.case_id)}</code></p>"]
    if case.reproducer:
        parts.append(f"<p>reproduce:</p><pre>{_e(case.reproducer)}</pre>")
    if case.artifacts:
        parts.append(f"<p>artifacts: <code>{_e(case.artifacts)}</code></p>")
    if case.message:
        parts.append(f"<p>message:</p><pre>{_e(case.message)}</pre>")
    if case.details and case.details.strip() != (case.message or "").strip():
        parts.append(f"<p>details:</p><pre>{_e(case.details)}</pre>")
    parts.append("</details>")
    return "\n".join(parts)


def _fixed_text(violation: SweepViolation) -> str:
    parts = [violation.dtype or "?"] + ([violation.config] if violation.config else [])
    parts += [f"{k}={v}" for k, v in violation.fixed.items()]
    return " ".join(parts)


def _sweeps_html(violations: list[SweepViolation]) -> str:
    out = [f'<h2 id="sweeps">Cycle monotonicity over the merged run ({len(violations)})</h2>',
           "<p class='meta'>A larger size that took fewer cycles than a smaller one, all else fixed. "
           "Checked across shards; the harness's per-sweep check is the one that fails a run.</p>"]
    if not violations:
        out.append("<p>None.</p>")
        return "\n".join(out)
    out.append("<table class='sweeps'><tr><th>op</th><th>fixed</th><th>swept</th><th>smaller size</th>"
               "<th>cycles</th><th>larger size</th><th>cycles</th></tr>")
    for v in violations:
        out.append(f"<tr><td>{_e(v.op)}</td><td>{_e(_fixed_text(v))}</td><td>{_e(v.dim)}</td>"
                   f"<td class='num'>{v.smaller_size}</td><td class='num'>{_e(_cycles_text(v.smaller_cycles))}</td>"
                   f"<td class='num'>{v.larger_size}</td><td class='num st-fail'>{_e(_cycles_text(v.larger_cycles))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(cases: list[CaseResult], *, plots: dict[str, str] | None = None,
                title: str = "npusim coverage matrix", sources: list[str] | None = None,
                kernel_plots: dict[tuple[str, str], str] | None = None) -> str:
    """plots: op -> path of its PNG relative to the HTML file; kernel_plots: (op, dtype) -> the PNG of
    a block's cycles per kernel."""
    plots = plots or {}
    matrix = build_matrix(cases)
    anchors = _anchor_ids(cases)
    configs = sorted({c.config for c in cases if c.config})
    legend = " ".join(f'<span class="swatch st-{s}"></span>{_e(s)}&nbsp;&nbsp;' for s in Status.ALL)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{_e(title)}</title>", f"<style>{_CSS}\n{_status_css()}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           f'<p class="meta">generated {_e(time.strftime("%Y-%m-%d %H:%M:%S %Z"))}; '
           f"{len(cases)} cases; config {_e(', '.join(configs) or 'unknown')}"
           + (f"; from {_e(', '.join(sources))}" if sources else "") + "</p>",
           "<h2>Summary</h2>", _summary_html(matrix),
           f"<p>{legend}</p>",
           "<p class='meta'>Each cell: status, cycles and ×(cycles / roofline), the roofline being the "
           "case's physical floor (DRAM bytes, vector work, MACs at the config's peak plus the minimal load "
           "and store latency). Hover a cell for the metrics, message and "
           "reproducer; a cell that did not pass links to its entry under Non-passing cases.</p>",
           "<h2>Matrix</h2>"]
    if not matrix.tables:
        out.append("<p>No case carries an op (npusim.op property); nothing to tabulate.</p>")
    for table in matrix.tables:
        out.append(_table_html(table, matrix, anchors, plots))
    breakdowns = model_breakdowns(cases)
    if breakdowns:
        out.append(_breakdown_html(breakdowns, plots, anchors, kernel_plots or {}))
    if matrix.sweep_checks:
        out.append(_sweep_checks_html(matrix.sweep_checks, anchors))
    problems = sorted((c for c in cases if c.status in PROBLEM_STATUSES),
                      key=lambda c: (PROBLEM_STATUSES.index(c.status), c.case_id))
    out.append(f'<h2 id="problems">Non-passing cases ({len(problems)})</h2>')
    if not problems:
        out.append("<p>None.</p>")
    out.extend(_problem_html(case, anchors[case.case_id]) for case in problems)
    out.append(_sweeps_html(cycle_monotonicity_violations(cases)))
    out.append(_comparison_html(cases))
    findings = efficiency_findings(cases)
    out.append(f'<h2 id="efficiency">Efficiency findings: cases above {EFFICIENCY_FINDING_RATIO}× their '
               f'roofline ({len(findings)})</h2>')
    if findings:
        out.append("<table class='findings'><tr><th>case</th><th>cycles</th><th>roofline</th><th>×</th></tr>")
        out.extend(f"<tr><td>{_e(c.case_id)}</td><td class='num'>{_e(_cycles_text(c.cycles))}</td>"
                   f"<td class='num'>{_e(_cycles_text(c.roofline))}</td>"
                   f"<td class='num'>{_e(_ratio_text(c.roofline_ratio))}</td></tr>" for c in findings)
        out.append("</table>")
    else:
        out.append("<p>None.</p>")
    if matrix.other_cases:
        out.append(f"<h2>Other tests ({len(matrix.other_cases)})</h2><table class='others'>"
                   "<tr><th>test</th><th>status</th><th>message</th></tr>")
        for case in matrix.other_cases:
            status = f'<a href="#{anchors[case.case_id]}">{_e(case.status)}</a>' if case.status in PROBLEM_STATUSES else _e(case.status)
            out.append(f'<tr><td><code>{_e(case.case_id)}</code></td><td class="st-{_e(case.status)}" '
                       f'data-case="{_e(case.case_id)}" data-status="{_e(case.status)}">{status}</td>'
                       f"<td>{_e(_first_line(case.message))}</td></tr>")
        out.append("</table>")
    if plots:
        out.append('<h2>Plots</h2><div class="plots">')
        for op, path in sorted(plots.items()):
            out.append(f'<details><summary>{_e(op)}</summary><a href="{_e(path)}">'
                       f'<img src="{_e(path)}" alt="cycles vs size for {_e(op)}" loading="lazy"></a></details>')
        out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Markdown


def _md(text) -> str:
    return ("" if text is None else str(text)).replace("|", "\\|").replace("\n", " ")


def render_markdown(cases: list[CaseResult], *, plots: dict[str, str] | None = None,
                    title: str = "npusim coverage matrix") -> str:
    plots = plots or {}
    matrix = build_matrix(cases)
    counts = status_counts(cases)
    lines = [f"# {title}", "",
             f"{len(cases)} cases, generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.", "",
             "| " + " | ".join(f"{STATUS_STYLE[s][3]} {s}" for s in Status.ALL) + " | total |",
             "|" + "---:|" * (len(Status.ALL) + 1),
             "| " + " | ".join(str(counts[s]) for s in Status.ALL) + f" | {len(cases)} |", ""]
    groups = _summary_groups(matrix)
    if len(groups) > 1:
        lines += ["| cases | " + " | ".join(Status.ALL) + " | total |", "|---|" + "---:|" * (len(Status.ALL) + 1)]
        for name, group in groups:
            group_counts = status_counts(group)
            lines.append(f"| {_md(name)} | " + " | ".join(str(group_counts[s] or "") for s in Status.ALL)
                         + f" | {len(group)} |")
        lines.append("")
    for table in matrix.tables:
        lines.append(f"## {table.family} ({'×'.join(table.dims) or 'no sizes'})")
        lines.append("")
        heads = _row_heads(table, matrix)
        lines.append("| " + " | ".join(_md(h) for h in heads + [table.column_label(c) for c in table.columns]) + " |")
        lines.append("|" + "---|" * len(heads) + "---:|" * len(table.columns))
        for row in table.rows:
            op, dtype, config, lead = row
            op_text = f"[{op}]({plots[op]})" if op in plots else op
            cells = [_md(op_text), _md(dtype)] + ([_md(config)] if matrix.multi_config else [])
            cells += [str(value) for value in lead]
            cells.append(_ratio_text(_row_max_ratio(table, row)))
            for column in table.columns:
                case = table.cells.get((row, column))
                if case is None:
                    cells.append("")
                else:
                    mark = STATUS_STYLE.get(case.status, ("", "", "", "?"))[3]
                    cells.append(f"{mark} {_md(_cycles_text(case.cycles)) or _md(case.status)}".strip())
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if matrix.sweep_checks:
        lines += [f"## Sweep checks ({len(matrix.sweep_checks)})", "",
                  "| family | op | dtype | swept dim | status | compiles |", "|---|---|---|---|---|---:|"]
        for case in matrix.sweep_checks:
            mark = STATUS_STYLE.get(case.status, ("", "", "", "?"))[3]
            lines.append(f"| {_md(case.family)} | {_md(case.op)} | {_md(case.dtype)} | {_md(case.sweep)} | "
                         f"{mark} {case.status} | {'' if case.compile_count is None else case.compile_count} |")
        lines.append("")
    breakdowns = model_breakdowns(cases)
    if breakdowns:
        lines += [f"## Per-model kernel breakdown ({len(breakdowns)})", "",
                  "| block | dtype | sizes | status | total cycles | compiles | dominant kernel | its share |",
                  "|---|---|---|---|---:|---:|---|---:|"]
        for block in breakdowns:
            for case in block.cases:
                top = block.dominant(case)
                share = block.share(case, top) if top else None
                lines.append(f"| {_md(block.op)} | {_md(block.dtype)} | {_md(case.size_label)} | {case.status} | "
                             f"{_cycles_text(case.cycles)} | {'' if case.compile_count is None else case.compile_count}"
                             f" | {_md(top or '')} | {'' if share is None else f'{share:.1%}'} |")
        lines.append("")
    legend = ", ".join(f"{STATUS_STYLE[s][3]} {s}" for s in Status.ALL)
    lines += [f"Legend: {legend}. Numbers are cycles.", ""]
    problems = sorted((c for c in cases if c.status in PROBLEM_STATUSES),
                      key=lambda c: (PROBLEM_STATUSES.index(c.status), c.case_id))
    lines.append(f"## Non-passing cases ({len(problems)})")
    lines.append("")
    for case in problems:
        lines.append(f"- **{case.status}** `{case.case_id}`: {_md(_first_line(case.message, 300))}")
        if case.reproducer:
            lines.append(f"  - reproduce: `{case.reproducer}`")
        if case.artifacts:
            lines.append(f"  - artifacts: `{case.artifacts}`")
    if not problems:
        lines.append("None.")
    configs, rows = config_comparison(cases)
    if len(configs) >= 2 and rows:
        heads = ["family", "op", "dtype", "sizes"] + [f"cycles {c}" for c in configs] + \
            [f"{c} / {configs[0]}" for c in configs[1:]]
        lines += ["", f"## Configs side by side ({len(rows)} cases)", "", "| " + " | ".join(heads) + " |",
                  "|" + "---|" * 4 + "---:|" * (len(heads) - 4)]
        for (family, op, dtype, sizes), per_config in rows:
            label = ",".join(f"{k}={v}" for k, v in sizes) or "-"
            lines.append("| " + " | ".join([_md(family), _md(op), _md(dtype), label]
                                           + _comparison_cells(configs, per_config)) + " |")
    findings = efficiency_findings(cases)
    lines += ["", f"## Efficiency findings: cases above {EFFICIENCY_FINDING_RATIO}× their roofline "
              f"({len(findings)})", ""]
    lines += [f"- `{c.case_id}`: {_cycles_text(c.cycles)} cycles, roofline {_cycles_text(c.roofline)} "
              f"({_ratio_text(c.roofline_ratio)})" for c in findings] or ["None."]
    violations = cycle_monotonicity_violations(cases)
    lines += ["", f"## Cycle monotonicity over the merged run ({len(violations)})", ""]
    if violations:
        lines += ["| op | fixed | swept | smaller size | cycles | larger size | cycles |",
                  "|---|---|---|---:|---:|---:|---:|"]
        lines += [f"| {_md(v.op)} | {_md(_fixed_text(v))} | {v.dim} | {v.smaller_size} | "
                  f"{_cycles_text(v.smaller_cycles)} | {v.larger_size} | {_cycles_text(v.larger_cycles)} |"
                  for v in violations]
    else:
        lines.append("None.")
    if matrix.other_cases:
        lines += ["", f"## Other tests ({len(matrix.other_cases)})", "", "| test | status |", "|---|---|"]
        lines += [f"| `{_md(c.case_id)}` | {c.status} |" for c in matrix.other_cases]
    return "\n".join(lines) + "\n"


def write_matrix(cases: list[CaseResult], out_dir: str | Path, *, plots: dict[str, str] | None = None,
                 sources: list[str] | None = None, title: str = "npusim coverage matrix",
                 kernel_plots: dict[tuple[str, str], str] | None = None) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    html_path = out_dir / "matrix.html"
    md_path = out_dir / "matrix.md"
    html_path.write_text(render_html(cases, plots=plots, sources=sources, title=title, kernel_plots=kernel_plots),
                         encoding="utf-8")
    md_path.write_text(render_markdown(cases, plots=plots, title=title), encoding="utf-8")
    return html_path, md_path


__all__ = ["build_matrix", "render_html", "render_markdown", "write_matrix", "plot_filename", "STATUS_STYLE"]
