"""Compare two runs case by case: ``npusim diff BASE NEW``.

Regressions (any one makes the exit code 1):
  * new failure: a case that was pass/xfail is now fail/error/xpass, or a case
    that is new in NEW and fails;
  * lost coverage: a case that was pass/xfail is now unsupported;
  * cycle increase beyond the threshold (percent of the base cycles);
  * compile-count increase (compile-once broke);
  * kernel cycle increase: in a case that launched several kernels (a model
    block), one kernel's cycles grew beyond the threshold although the case's
    total did not (a 10 % slower attention kernel is a few percent of a block).
A cycle change names the kernel that moved most (`kernel`, its base and new
cycles), matched across runs by name and launch order (reports.junit.kernel_labels).
Listed but not regressions: fixed cases (now pass, or a failure now declared
xfail), cycle decreases beyond the threshold, other status changes (e.g.
pass -> skip), cases added or removed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from reports.junit import CaseResult, kernel_labels
from reports.schema import Status

DEFAULT_THRESHOLD_PCT = 5.0


@dataclass
class CaseChange:
    case_id: str
    base_status: str | None = None
    new_status: str | None = None
    base_cycles: int | float | None = None
    new_cycles: int | float | None = None
    change_pct: float | None = None     # (new - base) / base * 100
    base_compile_count: int | None = None
    new_compile_count: int | None = None
    message: str | None = None          # the NEW run's failure message
    reproducer: str | None = None
    kernel: str | None = None           # the kernel whose cycles moved most (multi-kernel cases)
    kernel_base_cycles: int | float | None = None
    kernel_new_cycles: int | float | None = None
    kernel_change_pct: float | None = None


@dataclass
class DiffResult:
    threshold_pct: float
    base_count: int
    new_count: int
    new_failures: list[CaseChange] = field(default_factory=list)
    lost_coverage: list[CaseChange] = field(default_factory=list)
    cycle_increases: list[CaseChange] = field(default_factory=list)
    compile_increases: list[CaseChange] = field(default_factory=list)
    kernel_cycle_increases: list[CaseChange] = field(default_factory=list)
    fixed: list[CaseChange] = field(default_factory=list)
    cycle_decreases: list[CaseChange] = field(default_factory=list)
    other_status_changes: list[CaseChange] = field(default_factory=list)
    added: list[CaseChange] = field(default_factory=list)
    removed: list[CaseChange] = field(default_factory=list)

    REGRESSION_KINDS = ("new_failures", "lost_coverage", "cycle_increases", "compile_increases",
                        "kernel_cycle_increases")
    INFO_KINDS = ("fixed", "cycle_decreases", "other_status_changes", "added", "removed")

    @property
    def regression_count(self) -> int:
        return sum(len(getattr(self, kind)) for kind in self.REGRESSION_KINDS)

    @property
    def has_regression(self) -> bool:
        return self.regression_count > 0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "threshold_pct": self.threshold_pct,
            "base_cases": self.base_count,
            "new_cases": self.new_count,
            "regression": self.has_regression,
            "regression_count": self.regression_count,
        }
        for kind in self.REGRESSION_KINDS + self.INFO_KINDS:
            data[kind] = [asdict(change) for change in getattr(self, kind)]
        return data


def _change(case_id: str, base: CaseResult | None, new: CaseResult | None) -> CaseChange:
    return CaseChange(
        case_id=case_id,
        base_status=base.status if base else None,
        new_status=new.status if new else None,
        base_cycles=base.cycles if base else None,
        new_cycles=new.cycles if new else None,
        base_compile_count=base.compile_count if base else None,
        new_compile_count=new.compile_count if new else None,
        message=new.message if new and new.status not in Status.GOOD else None,
        reproducer=new.reproducer if new else None,
    )


def _cycle_change_pct(base: int | float, new: int | float) -> float:
    if base == 0:
        return math.inf if new > 0 else 0.0
    return (new - base) / base * 100.0


def _name_moved_kernel(change: CaseChange, base: CaseResult, new: CaseResult, threshold_pct: float) -> None:
    """The kernel that moved the case's cycles most (largest change in cycles, preferring a kernel
    that moved beyond the threshold itself), when both runs launched the same kernels (a changed
    fusion renames them: nothing to match)."""
    if not base.kernels or not new.kernels:
        return
    old = dict(zip(kernel_labels(base.kernels), base.kernels))
    cur = dict(zip(kernel_labels(new.kernels), new.kernels))
    if old.keys() != cur.keys():
        return
    moves = []
    for label in old:
        before, after = old[label].get("cycles"), cur[label].get("cycles")
        if before is None or after is None or before == after:
            continue
        beyond = abs(_cycle_change_pct(before, after)) > threshold_pct
        moves.append((beyond, abs(after - before), label, before, after))
    if not moves:
        return
    _, _, label, before, after = max(moves)
    pct = _cycle_change_pct(before, after)
    change.kernel, change.kernel_base_cycles, change.kernel_new_cycles = label, before, after
    change.kernel_change_pct = None if math.isinf(pct) else round(pct, 3)


def diff_results(base: list[CaseResult], new: list[CaseResult],
                 threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> DiffResult:
    base_by_id = {case.case_id: case for case in base}
    new_by_id = {case.case_id: case for case in new}
    result = DiffResult(threshold_pct=threshold_pct, base_count=len(base_by_id), new_count=len(new_by_id))

    for case_id in sorted(set(base_by_id) | set(new_by_id)):
        old, cur = base_by_id.get(case_id), new_by_id.get(case_id)
        change = _change(case_id, old, cur)
        if old is None:
            result.added.append(change)
            if cur.status in Status.BAD:
                result.new_failures.append(change)
            continue
        if cur is None:
            result.removed.append(change)
            continue

        if old.status != cur.status:
            if old.status in Status.GOOD and cur.status in Status.BAD:
                result.new_failures.append(change)
            elif old.status in Status.GOOD and cur.status == Status.UNSUPPORTED:
                result.lost_coverage.append(change)
            elif cur.status == Status.PASS or (old.status in Status.BAD and cur.status in Status.GOOD):
                # fail/error/xpass/unsupported/xfail -> pass, or a failure now declared xfail
                result.fixed.append(change)
            else:
                result.other_status_changes.append(change)

        _name_moved_kernel(change, old, cur, threshold_pct)
        if old.cycles is not None and cur.cycles is not None:
            pct = _cycle_change_pct(old.cycles, cur.cycles)
            if abs(pct) > threshold_pct:
                change.change_pct = None if math.isinf(pct) else round(pct, 3)
                (result.cycle_increases if cur.cycles > old.cycles else result.cycle_decreases).append(change)
            elif (change.kernel_change_pct is not None and change.kernel_change_pct > threshold_pct
                  and change.kernel_new_cycles > change.kernel_base_cycles):
                change.change_pct = round(pct, 3)
                result.kernel_cycle_increases.append(change)

        if (old.compile_count is not None and cur.compile_count is not None
                and cur.compile_count > old.compile_count):
            result.compile_increases.append(change)

    # Largest moves first: that is what a reader looks for.
    result.cycle_increases.sort(key=lambda c: -(c.change_pct if c.change_pct is not None else math.inf))
    result.cycle_decreases.sort(key=lambda c: c.change_pct if c.change_pct is not None else 0.0)
    result.kernel_cycle_increases.sort(key=lambda c: -(c.kernel_change_pct or 0.0))
    return result


# --------------------------------------------------------------------------- rendering


def _fmt_cycles(value) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _fmt_pct(change: CaseChange) -> str:
    if change.change_pct is None:
        return "+inf%" if (change.new_cycles or 0) > (change.base_cycles or 0) else "-"
    return f"{change.change_pct:+.1f}%"


def _fmt_pct_value(pct: float | None) -> str:
    return "-" if pct is None else f"{pct:+.1f}%"


def _kernel_text(change: CaseChange) -> str:
    """The kernel that moved most, with its own change: 'fused_softmax (+10.0%)'."""
    if not change.kernel:
        return ""
    return f"{change.kernel} ({_fmt_pct_value(change.kernel_change_pct)})"


def _first_line(text: str | None, limit: int = 100) -> str:
    if not text or not text.strip():
        return ""
    line = text.strip().splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


_SECTIONS = {
    # kind: (title, style, columns)
    "new_failures": ("New failures", "bold red", ("case", "was", "now", "message")),
    "lost_coverage": ("Now unsupported (was passing)", "bold red", ("case", "was", "now", "message")),
    "cycle_increases": ("Cycle increases", "bold red", ("case", "base cycles", "new cycles", "change", "kernel")),
    "compile_increases": ("Compile-count increases", "bold red", ("case", "base compiles", "new compiles")),
    "kernel_cycle_increases": ("Model-level regressions: one kernel slower (case total within the threshold)",
                               "bold red", ("case", "kernel", "base cycles", "new cycles", "change",
                                            "case change")),
    "fixed": ("Fixed", "bold green", ("case", "was", "now")),
    "cycle_decreases": ("Cycle decreases", "green", ("case", "base cycles", "new cycles", "change", "kernel")),
    "other_status_changes": ("Other status changes", "yellow", ("case", "was", "now", "message")),
    "added": ("New cases", "cyan", ("case", "status", "cycles")),
    "removed": ("Removed cases", "cyan", ("case", "was", "cycles")),
}


def _row(kind: str, change: CaseChange) -> list[str]:
    if kind in ("new_failures", "lost_coverage", "other_status_changes"):
        return [change.case_id, change.base_status or "(new)", change.new_status or "-", _first_line(change.message)]
    if kind in ("cycle_increases", "cycle_decreases"):
        return [change.case_id, _fmt_cycles(change.base_cycles), _fmt_cycles(change.new_cycles), _fmt_pct(change),
                _kernel_text(change)]
    if kind == "kernel_cycle_increases":
        return [change.case_id, change.kernel or "-", _fmt_cycles(change.kernel_base_cycles),
                _fmt_cycles(change.kernel_new_cycles), _fmt_pct_value(change.kernel_change_pct),
                _fmt_pct_value(change.change_pct)]
    if kind == "compile_increases":
        return [change.case_id, str(change.base_compile_count), str(change.new_compile_count)]
    if kind == "fixed":
        return [change.case_id, change.base_status or "-", change.new_status or "-"]
    if kind == "added":
        return [change.case_id, change.new_status or "-", _fmt_cycles(change.new_cycles)]
    return [change.case_id, change.base_status or "-", _fmt_cycles(change.base_cycles)]


def print_diff(result: DiffResult, console, *, base_label: str = "BASE", new_label: str = "NEW",
               limit: int = 50) -> None:
    """Readable tables on a rich Console; at most `limit` rows per section (0 = all)."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    # Test ids contain "[...]", which rich would take for markup: cells are Text.
    console.print(f"[bold]npusim diff[/bold] {escape(base_label)} ({result.base_count} cases) -> "
                  f"{escape(new_label)} ({result.new_count} cases), cycle threshold {result.threshold_pct:g}%")
    for kind in result.REGRESSION_KINDS + result.INFO_KINDS:
        changes = getattr(result, kind)
        if not changes:
            continue
        title, style, columns = _SECTIONS[kind]
        table = Table(title=f"{title} ({len(changes)})", title_style=style, title_justify="left",
                      show_lines=False, expand=False)
        for column in columns:
            numeric = column not in ("case", "was", "now", "status", "message", "kernel")
            table.add_column(column, justify="right" if numeric else "left", overflow="fold")
        shown = changes if limit <= 0 else changes[:limit]
        for change in shown:
            table.add_row(*(Text(cell) for cell in _row(kind, change)))
        if len(shown) < len(changes):
            table.add_row(Text(f"... and {len(changes) - len(shown)} more (use --limit 0 or --json)"),
                          *[""] * (len(columns) - 1))
        console.print(table)
    if result.has_regression:
        counts = ", ".join(f"{_SECTIONS[k][0].lower()}: {len(getattr(result, k))}"
                           for k in result.REGRESSION_KINDS if getattr(result, k))
        console.print(f"[bold red]REGRESSION[/bold red]: {counts}")
    else:
        fixed = f", {len(result.fixed)} fixed" if result.fixed else ""
        console.print(f"[bold green]OK[/bold green]: no regression{fixed}")
