"""Cycle monotonicity over the merged run: a bigger input never takes fewer
cycles (all other dims, dtype and config fixed).

The harness checks this per sweep inside one pytest run. When the nightly is
sharded, an op whose sizes fall into two shards is checked there in two parts;
this pass over the merged cases covers the whole sweep. It is informational
in the report (the harness's check is the one that fails a run).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reports.junit import CaseResult


@dataclass
class SweepViolation:
    op: str
    dtype: str | None
    config: str | None
    dim: str                      # the swept dim
    fixed: dict[str, int]         # the other dims
    smaller_size: int
    smaller_cycles: int | float
    smaller_case: str
    larger_size: int
    larger_cycles: int | float
    larger_case: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cycle_monotonicity_violations(cases: list[CaseResult]) -> list[SweepViolation]:
    sweeps: dict[tuple, list[CaseResult]] = defaultdict(list)
    for case in cases:
        if not case.is_matrix_case or case.cycles is None:
            continue
        for dim in case.sizes:
            fixed = tuple((k, v) for k, v in case.sizes.items() if k != dim)
            sweeps[(case.op, case.dtype, case.config, dim, fixed)].append(case)
    violations = []
    for (op, dtype, config, dim, fixed), points in sorted(sweeps.items(), key=lambda item: str(item[0])):
        points.sort(key=lambda c: c.sizes[dim])
        costliest: CaseResult | None = None  # most cycles among the smaller sizes so far
        for case in points:
            if (costliest is not None and case.sizes[dim] > costliest.sizes[dim]
                    and case.cycles < costliest.cycles):
                violations.append(SweepViolation(
                    op=op, dtype=dtype, config=config, dim=dim, fixed=dict(fixed),
                    smaller_size=costliest.sizes[dim], smaller_cycles=costliest.cycles,
                    smaller_case=costliest.case_id, larger_size=case.sizes[dim],
                    larger_cycles=case.cycles, larger_case=case.case_id))
            if costliest is None or case.cycles > costliest.cycles:
                costliest = case
    return violations
