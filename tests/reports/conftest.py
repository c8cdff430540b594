"""Fixtures for the report tests: real pytest runs (pytester, in process) of a
small stand-in suite that records the npusim JUnit properties exactly as the
harness does, so the reports read what pytest actually writes.

Each test describes its cases as data (op, sizes, outcome, cycles model) and
gets back the JUnit file of the run: ``stand_in.run(cases, "shard1.xml")``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from reports.schema import Status

# The stand-in suite. It reads the case list from spec.json next to it, so one
# module serves every run; the outcome of each case is forced through pytest's
# own mechanisms (assert, skip, strict xfail, a failing fixture).
SUITE_SOURCE = r'''
import json
import pathlib

import pytest

from reports.schema import Prop, Status, format_sizes, format_sweep

CASES = json.loads(pathlib.Path(__file__).with_name("spec.json").read_text())


@pytest.fixture
def setup_step(request):
    if request.param == "error":
        raise RuntimeError("simulator failed to start")
    return request.param


@pytest.mark.parametrize(
    "case,setup_step",
    [(c, c["outcome"]) for c in CASES],
    ids=[c["test_id"] for c in CASES],
    indirect=["setup_step"],
)
def test_case(case, setup_step, record_property, request):
    record_property(Prop.OP, case["op"])
    record_property(Prop.FAMILY, case["family"])
    record_property(Prop.DTYPE, case["dtype"])
    record_property(Prop.CONFIG, case["config"])
    outcome = case["outcome"]
    if case["sweep_dim"]:
        # a sweep-level check item, like the harness's compile-once/monotonicity item
        record_property(Prop.SIZES, format_sweep(case["sweep_dim"]))
        record_property(Prop.COMPILE_COUNT, case["compile_count"])
        assert outcome == "pass", f"cycles decrease along {case['sweep_dim']}"
        return
    record_property(Prop.SIZES, format_sizes(case["sizes"]))
    if outcome == "unsupported":
        record_property(Prop.STATUS, Status.UNSUPPORTED)
        pytest.skip(f"UnsupportedOp: {case['op']} has no lowering")
    record_property(Prop.CYCLES, case["cycles"])
    record_property(Prop.INSTRET, case["instret"])
    record_property(Prop.TRACE_RECORDS, case["trace_records"])
    record_property(Prop.KERNEL_HASH, case["kernel_hash"])
    record_property(Prop.COMPILE_COUNT, case["compile_count"])
    if case["roofline"]:  # as harness/collect.py records the physical-limit floor
        record_property(Prop.ROOFLINE, case["roofline"])
        record_property(Prop.ROOFLINE_RATIO, round(case["cycles"] / case["roofline"], 3))
    if case["kernels"]:
        record_property(Prop.KERNELS, json.dumps(case["kernels"]))
    record_property(Prop.ARTIFACTS, f"/cache/{case['test_id']}")
    record_property(Prop.REPRODUCER, f"pytest 'suites/test_x.py::test_case[{case['test_id']}]'")
    if outcome == "xfail":
        request.applymarker(pytest.mark.xfail(strict=True, reason="declared: tail mismatch"))
        assert False, "tail mismatch"
    if outcome == "xpass":
        request.applymarker(pytest.mark.xfail(strict=True, reason="declared: tail mismatch"))
    if outcome == "fail":
        assert case["cycles"] < 0, f"wrong tail value in {case['test_id']}"
'''

# outcome -> the status the reports must derive for it
EXPECTED_STATUS = {
    "pass": Status.PASS,
    "fail": Status.FAIL,
    "error": Status.ERROR,
    "xfail": Status.XFAIL,
    "xpass": Status.XPASS,
    "unsupported": Status.UNSUPPORTED,
}


def model_cycles(sizes: dict[str, int], scale: float = 1.0) -> int:
    """A plausible cost: fixed overhead, per-element work and per-tile DMA."""
    elements = math.prod(sizes.values())
    tiles = -(-elements // 1024)
    return int(scale * (300 + 2 * elements + 45 * tiles))


@dataclass
class SpecCase:
    op: str
    sizes: dict[str, int]
    family: str = "elementwise"
    dtype: str = "f32"
    outcome: str = "pass"
    cycle_scale: float = 1.0
    compile_count: int = 1
    config: str = "tpuv3-1core"
    sweep_dim: str | None = None  # set: a sweep-level check item instead of one size
    # set: a multi-kernel case (a model block), [{"kernel", "hash", "cycles"}]; its cycles are their sum
    kernels: list | None = None
    roofline: int | None = None  # set: the case's floor in cycles, recorded with cycles / roofline
    cycles: int = field(init=False)
    instret: int = field(init=False)
    trace_records: int = field(init=False)
    kernel_hash: str = field(init=False)
    test_id: str = field(init=False)

    def __post_init__(self):
        self.cycles = (sum(k["cycles"] for k in self.kernels) if self.kernels
                       else model_cycles(self.sizes, self.cycle_scale))
        elements = math.prod(self.sizes.values())
        self.instret = 900 + elements // 2
        self.trace_records = 2 + 3 * -(-elements // 1024)
        self.kernel_hash = hashlib.sha256(f"{self.op}:{self.dtype}".encode()).hexdigest()
        if self.sweep_dim:
            self.test_id = f"{self.op}-{self.dtype}-sweep-{self.sweep_dim}"
        else:
            self.test_id = "-".join([self.op, self.dtype] + [f"{k}={v}" for k, v in self.sizes.items()])

    @property
    def case_id(self) -> str:
        return f"test_stand_in_suite::test_case[{self.test_id}]"

    @property
    def expected_status(self) -> str:
        return EXPECTED_STATUS[self.outcome]


def standard_cases() -> list[SpecCase]:
    """A small matrix like the smoke policy: 1-D elementwise ops, a 2-D
    reduction with tails in both dims, a failing, an xfail and an unsupported op."""
    cases = [SpecCase("add", {"N": n}) for n in (1, 7, 1000, 1024, 1025, 65536)]
    cases += [SpecCase("mul", {"N": n}) for n in (1, 7, 1000, 1024, 1025, 65536)]
    cases += [SpecCase("sum_last", {"s0": s0, "s1": s1}, family="reduction")
              for s0 in (1, 17) for s1 in (7, 1000, 1024)]
    cases += [SpecCase("erf", {"N": n}, outcome="unsupported") for n in (7, 1000)]
    cases += [SpecCase("gelu", {"N": 1000}, outcome="xfail")]
    return cases


class StandInSuite:
    """What the report tests get: build cases, run them with pytest, get JUnit.
    (A fixture rather than imports from this conftest, so the tests work under
    any --import-mode.)"""

    case = SpecCase

    def __init__(self, pytester: pytest.Pytester):
        self.pytester = pytester
        pytester.makepyfile(test_stand_in_suite=SUITE_SOURCE)

    @staticmethod
    def standard_cases() -> list[SpecCase]:
        return standard_cases()

    def run(self, cases: list[SpecCase], junit_name: str) -> Path:
        """Run the cases in a real pytest session; returns the JUnit file it wrote."""
        ids = [c.test_id for c in cases]
        assert len(ids) == len(set(ids)), "duplicate test ids in one run"
        (self.pytester.path / "spec.json").write_text(json.dumps([asdict(c) for c in cases]))
        junit = self.pytester.path / junit_name
        result = self.pytester.runpytest_inprocess(
            "test_stand_in_suite.py", f"--junitxml={junit}", "-o", "junit_family=xunit1",
            "-p", "no:cacheprovider", "-q")
        assert junit.is_file(), result.stdout.str()
        return junit


@pytest.fixture
def stand_in(pytester, monkeypatch) -> StandInSuite:
    # Only pytest's own plugins in the inner runs: installed ones (the npusim
    # harness, hypothesis, xdist) would be re-imported on every run (pytester
    # restores sys.modules after each), which costs seconds and isolates nothing.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return StandInSuite(pytester)
