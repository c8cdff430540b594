"""Per-process harness state: compiled functions, case results, the run log and output dirs."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from npusim import runlog


@dataclass
class CaseResult:
    sizes: dict
    status: str
    cycles: int | None
    trace_records: int | None
    instret: int | None
    kernel_hashes: list
    finished: float
    shape_args: dict = field(default_factory=dict)  # kernel hash -> the size args it was launched with


@dataclass
class HarnessState:
    out_dir: Path
    compiled_fns: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)  # (op key, dtype) -> list[CaseResult]
    first_case_end: dict = field(default_factory=dict)  # (op key, dtype) -> ts
    compiles: dict = field(default_factory=dict)  # (op key, dtype) -> [compile events]
    # (op key, dtype) -> {size-0/1 pattern: [compile events]}: Dynamo's specialisations (CONTRACTS.md, Size rule)
    specialisations: dict = field(default_factory=dict)
    graph_starts: dict = field(default_factory=dict)  # (op key, dtype) -> ts of its dynamo_graph events
    ran: dict = field(default_factory=dict)  # (op key, dtype) -> sizes of the cases run here
    selected: dict = field(default_factory=dict)  # (op key, dtype) -> sizes of the cases selected to run
    # (op key, size-0/1 pattern) -> the UnsupportedOp its general graph raised: later sizes reuse it
    refusals: dict = field(default_factory=dict)

    def compiled(self, key, fn):
        """One torch.compile per op and dtype in this process: every size reuses it."""
        if key not in self.compiled_fns:
            import compiler  # noqa: F401  (registers the backend)

            # fullgraph: a graph break would run part of the op eagerly on the host, unverified.
            self.compiled_fns[key] = torch.compile(fn, backend="npusim", dynamic=True, fullgraph=True)
        return self.compiled_fns[key]

    def case_dir(self, nodeid: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.=+-]+", "_", nodeid)[-150:]
        path = self.out_dir / "cases" / safe
        path.mkdir(parents=True, exist_ok=True)
        return path


def forget_float_specialisations() -> None:
    """Starts a case without the float specialisations of the cases before it in this process.

    AOT's tensorify pass records the float symbols it had to specialise in one process-wide set keyed
    by symbol name (zf<n>, the n from a hash of the float's source, which names objects by address);
    only torch._dynamo.reset() clears it. A later case whose float symbol got the same name had that
    float compiled in as a literal instead of a runtime f64 input: the kernel's form followed the
    worker's history (renorm.s0's maxnorm: 533 or 584 cycles from one nightly to the next)."""
    from torch._dynamo.symbolic_convert import TensorifyState

    TensorifyState.clear()


def events_since(start: float, pid: int | None = None, kind: str = "launch") -> list[dict]:
    """This process's run-log events of `kind` (None: all) since `start`."""
    pid = pid or os.getpid()
    return [e for e in runlog.read() if e.get("pid") == pid and e.get("ts", 0) >= start
            and (kind is None or e.get("event") == kind)]



def now() -> float:
    return time.time()
