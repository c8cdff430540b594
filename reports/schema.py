"""Names shared by the harness (writer) and the reports (reader).

The harness records one JUnit property per metric on every test case with
pytest's ``record_property`` (needs ``junit_family = xunit1``). The names are
defined here once; the harness imports them instead of spelling strings.

    from reports.schema import Prop, format_sizes
    record_property(Prop.OP, "add")
    record_property(Prop.SIZES, format_sizes({"N": 1000}))   # "N=1000"
    record_property(Prop.STATUS, Status.UNSUPPORTED)         # only when not plain pass/fail
"""

from __future__ import annotations

import re


class Prop:
    """JUnit ``<property name=...>`` names carried by each test case."""

    OP = "npusim.op"                      # "add"
    FAMILY = "npusim.family"              # "elementwise", "reduction", ...
    DTYPE = "npusim.dtype"                # "f32"
    SIZES = "npusim.sizes"                # "N=1000" or "s0=17,s1=1000" (format_sizes);
                                          # "sweep=N" on a sweep-level check (format_sweep)
    STATUS = "npusim.status"              # one of Status.ALL; overrides the JUnit outcome
    CYCLES = "npusim.cycles"              # int, from the trace simulator
    INSTRET = "npusim.instret"            # int, instructions retired on Spike
    TRACE_RECORDS = "npusim.trace_records"  # int, trace events of the launch
    KERNEL_HASH = "npusim.kernel_hash"    # sha256 of kernel.mlir (several joined by ",")
    COMPILE_COUNT = "npusim.compile_count"  # int, compiles of this op's kernel(s) in the run
    SPECIALISATIONS = "npusim.specialisations"  # int, size-0/1 patterns Dynamo compiled apart (Size rule)
    SPECIALISED_CYCLES = "npusim.specialised_cycles"  # "N=1:600,...": cycles of the 0/1 cases a sweep left out
    CONFIG = "npusim.config"              # NPU config name, "tpuv3-1core"
    ARTIFACTS = "npusim.artifacts"        # directory holding the case's artifacts
    REPRODUCER = "npusim.reproducer"      # one-line shell command reproducing the case
    ROOFLINE = "npusim.roofline_cycles"   # int, the case's physical-limit floor (harness/checks.py roofline)
    ROOFLINE_RATIO = "npusim.roofline_ratio"  # float, cycles / roofline (>= 1; above 20 an efficiency finding)
    VALUES = "npusim.values"              # three-way mode: "agree", or which side is off ("lowering",
                                          # "functional: spike", "functional: host", "all differ")

    KERNELS = "npusim.kernels"            # JSON [{"kernel": name, "hash": 16 hex, "cycles": int}], launch order,
                                          # on a case that launched several kernels (a model block)
    FUNCTIONAL = "npusim.functional"      # "host" when a big case took its values from the host JIT

    ALL = (OP, FAMILY, DTYPE, SIZES, STATUS, CYCLES, INSTRET, TRACE_RECORDS,
           KERNEL_HASH, COMPILE_COUNT, SPECIALISATIONS, SPECIALISED_CYCLES, CONFIG, ARTIFACTS, REPRODUCER,
           ROOFLINE, ROOFLINE_RATIO, VALUES, KERNELS, FUNCTIONAL)
    INTEGER = (CYCLES, INSTRET, TRACE_RECORDS, COMPILE_COUNT, SPECIALISATIONS, ROOFLINE)


class Status:
    """Outcome of one case. Ordered from best to worst: merging two records of
    the same case keeps the worse one, so a flaky shard never hides a failure."""

    PASS = "pass"
    SKIP = "skip"
    XFAIL = "xfail"
    UNSUPPORTED = "unsupported"
    XPASS = "xpass"
    FAIL = "fail"
    ERROR = "error"

    ALL = (PASS, SKIP, XFAIL, UNSUPPORTED, XPASS, FAIL, ERROR)
    # Outcomes the run expects (the case behaved as declared).
    GOOD = frozenset({PASS, XFAIL})
    # Outcomes that make a pytest run fail.
    BAD = frozenset({FAIL, ERROR, XPASS})


STATUS_SEVERITY = {status: rank for rank, status in enumerate(Status.ALL)}


def worse_status(a: str, b: str) -> str:
    return a if STATUS_SEVERITY.get(a, 0) >= STATUS_SEVERITY.get(b, 0) else b


def format_sizes(sizes: dict[str, int]) -> str:
    """{"s0": 17, "s1": 1000} -> "s0=17,s1=1000" (order kept: it is the dim order)."""
    return ",".join(f"{name}={int(value)}" for name, value in sizes.items())


_SIZE_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?\d+)\s*$")


def parse_sizes(text: str | None) -> dict[str, int]:
    """Inverse of format_sizes; also accepts "-" or ";" separators. Raises on junk
    so a harness typo shows up at report time instead of as an empty column."""
    if not text or not text.strip():
        return {}
    sizes: dict[str, int] = {}
    for item in re.split(r"[,;]", text):
        if not item.strip():
            continue
        # "s0=17-s1=1000" (test-id style) splits further on "-" between items.
        for piece in re.split(r"-(?=[A-Za-z_])", item):
            match = _SIZE_ITEM.match(piece)
            if not match:
                raise ValueError(f"bad sizes value {text!r}: expected NAME=INT[,NAME=INT...]")
            sizes[match.group(1)] = int(match.group(2))
    return sizes


SWEEP_PREFIX = "sweep="


def format_sweep(dim: str) -> str:
    """npusim.sizes of a sweep-level check item (compile-once, monotonicity over
    the sizes of dim): such an item is listed with the sweep checks, not in the matrix."""
    return f"{SWEEP_PREFIX}{dim}"


def parse_sweep(text: str | None) -> str | None:
    """The swept dim of a "sweep=DIM" sizes value, else None."""
    text = (text or "").strip()
    if text.startswith(SWEEP_PREFIX) and text[len(SWEEP_PREFIX):].strip().isidentifier():
        return text[len(SWEEP_PREFIX):].strip()
    return None


# Version of summary.json; bump when a field changes meaning.
SUMMARY_SCHEMA = "npusim.summary/1"
