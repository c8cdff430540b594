"""Cycles vs size, one PNG per op.

One subplot per size dim: that dim is on x, every combination of the other
dims (and dtype / config) is one line. Failing cases that still recorded
cycles are marked with a red cross. Axes go logarithmic when the values span
two decades or more, so 7 and 65536 both stay readable.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from matplotlib.figure import Figure  # the OO API needs no pyplot state; savefig uses Agg
from matplotlib.ticker import StrMethodFormatter

from reports.junit import CaseResult
from reports.schema import Status

# More lines than this make an unreadable legend; the longest sweeps are kept.
MAX_LINES_PER_AXES = 12
LOG_SPAN = 100.0


def plot_filename(op: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", op) + ".png"


def _log_scale_fits(values: Iterable[float]) -> bool:
    values = [v for v in values if v is not None]
    if not values or min(values) <= 0:
        return False
    return max(values) / min(values) >= LOG_SPAN


def _series_label(dtype: str | None, config: str | None, fixed: dict[str, int], show_config: bool) -> str:
    parts = [dtype or "?"]
    if show_config and config:
        parts.append(config)
    parts.extend(f"{k}={v}" for k, v in fixed.items())
    return " ".join(parts)


def plot_op(op: str, cases: list[CaseResult], out_path: Path) -> Path | None:
    """Write the PNG for one op; None when no case of it has cycles."""
    measured = [c for c in cases if c.cycles is not None and c.sizes]
    if not measured:
        return None
    dims: list[str] = []
    for case in measured:
        for dim in case.sizes:
            if dim not in dims:
                dims.append(dim)
    show_config = len({c.config for c in measured}) > 1

    fig = Figure(figsize=(6.4 * len(dims), 4.4), dpi=100, layout="constrained")
    axes_list = fig.subplots(1, len(dims), squeeze=False)[0]
    for axes, swept in zip(axes_list, dims):
        # key: (dtype, config, other dims) -> points along the swept dim
        series: dict[tuple, list[CaseResult]] = defaultdict(list)
        for case in measured:
            if swept not in case.sizes:
                continue
            fixed = tuple((k, v) for k, v in case.sizes.items() if k != swept)
            series[(case.dtype, case.config, fixed)].append(case)
        lines = [(key, sorted(points, key=lambda c: c.sizes[swept])) for key, points in series.items()]
        sweeps = [item for item in lines if len(item[1]) >= 2]
        # A dim that is never swept (a single value everywhere) still shows its points.
        shown = sweeps if sweeps else lines
        shown.sort(key=lambda item: (-len(item[1]), str(item[0])))
        dropped = max(0, len(shown) - MAX_LINES_PER_AXES)
        shown = shown[:MAX_LINES_PER_AXES]
        shown.sort(key=lambda item: (str(item[0][0]), str(item[0][1]), tuple(v for _, v in item[0][2])))

        xs_all, ys_all = [], []
        for (dtype, config, fixed), points in shown:
            xs = [c.sizes[swept] for c in points]
            ys = [c.cycles for c in points]
            xs_all += xs
            ys_all += ys
            line, = axes.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.2,
                              label=_series_label(dtype, config, dict(fixed), show_config))
            roof = [(c.sizes[swept], c.roofline) for c in points if c.roofline]
            if roof:  # the physical-limit floor of the same cases, dashed in the series' colour
                axes.plot(*zip(*roof), linestyle="--", linewidth=0.9, color=line.get_color(), alpha=0.7)
                ys_all += [y for _, y in roof]
            bad = [(c.sizes[swept], c.cycles) for c in points if c.status in Status.BAD]
            if bad:
                axes.plot(*zip(*bad), linestyle="none", marker="x", color="red", markersize=8, mew=2)
        if _log_scale_fits(xs_all):
            axes.set_xscale("log")
        if _log_scale_fits(ys_all):
            axes.set_yscale("log")
        else:
            axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        axes.set_xlabel(f"{swept} (elements)")
        axes.set_ylabel("cycles")
        title = f"{op}: cycles vs {swept}"
        if dropped:
            title += f" ({dropped} more series not shown)"
        axes.set_title(title, fontsize=10)
        axes.grid(True, which="both", alpha=0.3)
        if shown:
            axes.legend(fontsize=7, loc="best", ncol=2 if len(shown) > 6 else 1)
    families = sorted({c.family for c in measured if c.family})
    heading = f"{op} ({', '.join(families)})" if families else op
    if any(c.roofline for c in measured):
        heading += "; dashed = roofline (physical floor)"
    if any(c.status in Status.BAD for c in measured):
        heading += "; red x = failing case"
    fig.suptitle(heading, fontsize=11)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png")
    return out_path


def write_plots(cases: list[CaseResult], out_dir: str | Path) -> dict[str, Path]:
    """One PNG per op under out_dir; returns op -> path for the ops that have cycles."""
    out_dir = Path(out_dir)
    by_op: dict[str, list[CaseResult]] = defaultdict(list)
    for case in cases:
        if case.is_matrix_case:
            by_op[case.op].append(case)
    written = {}
    for op, op_cases in sorted(by_op.items()):
        path = plot_op(op, op_cases, out_dir / plot_filename(op))
        if path is not None:
            written[op] = path
    return written


# Kernels drawn separately in a breakdown plot; the rest of a block's kernels are stacked as "other".
MAX_KERNELS_PER_PLOT = 8


def kernel_plot_filename(op: str, dtype: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{op}.{dtype}") + ".kernels.png"


def plot_kernel_breakdown(op: str, dtype: str, cases: list[CaseResult], out_path: Path) -> Path | None:
    """Stacked cycles per kernel along the block's longest sweep (the last dim, the others fixed):
    which kernel dominates as the size grows. None when fewer than two sizes carry kernels."""
    from reports.junit import kernel_labels

    measured = [c for c in cases if c.kernels and c.sizes]
    if not measured:
        return None
    swept = list(measured[0].sizes)[-1]
    series: dict[tuple, list[CaseResult]] = defaultdict(list)
    for case in measured:
        series[tuple((k, v) for k, v in case.sizes.items() if k != swept)].append(case)
    fixed, points = max(series.items(), key=lambda item: (len(item[1]), str(item[0])))
    if len(points) < 2:
        return None
    points.sort(key=lambda c: c.sizes[swept])
    per_case = [dict(zip(kernel_labels(c.kernels), (k.get("cycles") or 0 for k in c.kernels))) for c in points]
    totals: dict[str, float] = defaultdict(float)
    for cycles in per_case:
        for label, value in cycles.items():
            totals[label] += value
    shown = sorted(totals, key=lambda label: -totals[label])[:MAX_KERNELS_PER_PLOT]
    fig = Figure(figsize=(max(6.4, 0.9 * len(points) + 3), 4.6), dpi=100, layout="constrained")
    axes = fig.subplots()
    positions = range(len(points))
    bottom = [0.0] * len(points)
    for label in shown + ["other"]:
        heights = [sum(v for k, v in cycles.items() if k not in shown) if label == "other" else cycles.get(label, 0)
                   for cycles in per_case]
        if not any(heights):
            continue
        axes.bar(positions, heights, bottom=bottom, label=label if len(label) <= 40 else label[:39] + "…")
        bottom = [b + h for b, h in zip(bottom, heights)]
    axes.set_xticks(list(positions), [str(c.sizes[swept]) for c in points])
    axes.set_xlabel(swept + "".join(f", {k}={v}" for k, v in fixed))
    axes.set_ylabel("cycles")
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.legend(fontsize=7, loc="upper left")
    axes.set_title(f"{op} [{dtype}]: cycles per kernel vs {swept}", fontsize=10)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="png")
    return out_path


def write_kernel_plots(cases: list[CaseResult], out_dir: str | Path, families: tuple[str, ...]) -> dict:
    """(op, dtype) -> PNG of its per-kernel breakdown, for the matrix cases of `families`."""
    out_dir = Path(out_dir)
    groups: dict[tuple[str, str], list[CaseResult]] = defaultdict(list)
    for case in cases:
        if case.is_matrix_case and case.family in families:
            groups[(case.op, case.dtype or "")].append(case)
    written = {}
    for (op, dtype), group in sorted(groups.items()):
        path = plot_kernel_breakdown(op, dtype, group, out_dir / kernel_plot_filename(op, dtype))
        if path is not None:
            written[(op, dtype)] = path
    return written
