"""The fault catalogue: every fault still applies to the tree, and a small subset is caught (CI)."""

from __future__ import annotations

import dataclasses

import pytest

from harness import faults
from npusim.paths import REPO_ROOT


@pytest.mark.parametrize("fault", faults.CATALOGUE, ids=lambda f: f.name)
def test_every_fault_still_applies(fault):
    text = (REPO_ROOT / fault.path).read_text()
    assert fault.patched(text) != text


def test_a_fault_whose_anchor_is_gone_fails_loudly(tmp_path):
    fault = dataclasses.replace(faults.BY_NAME["reduction_identity"], anchor="no such line")
    with pytest.raises(faults.FaultNoLongerApplies, match="fault reduction_identity no longer applies"):
        fault.patched((REPO_ROOT / fault.path).read_text())
    with pytest.raises(faults.FaultNoLongerApplies, match="does not exist"):
        fault.apply(tmp_path)


def test_failure_messages_name_their_check():
    assert faults.which_check("recompiled: 3 compile events") == "compile-once"
    assert faults.which_check("cycles fell as N grew") == "cycle monotonicity"
    assert faults.which_check("torch._dynamo.exc.FailOnRecompileLimitHit: Hard failure").startswith("compile-once")
    assert (faults.which_check("trace simulation failed (exit 5): npusim-trace-sim: error: the timing model "
                               "rejected the trace: a DMA store writes element 7 ...")
            == "trace consistency (timing core)")
    assert faults.which_check("Tensor-likes are not close!\nMismatched elements: 3 / 7") == "values vs eager"


def test_two_faults_on_one_small_suite_are_caught(tmp_path, tmp_path_factory, monkeypatch):
    """CI's subset: two seeded lowering faults, each on a scratch copy, on one op of the reduction
    suite (values only, from the host JIT: no clean run, no cycles; `npusim faults` does the rest)."""
    monkeypatch.setenv("NPUSIM_TRACE", "0")
    chosen = [faults.BY_NAME["reduction_identity"], faults.BY_NAME["tail_clamp_off_by_one"]]
    outcomes = faults.run_faults(chosen, full=False, workers="0", work=tmp_path,
                                 extra=["-k", "sum_all and not sweep", "--functional=host"], echo=print,
                                 cache=tmp_path_factory.getbasetemp() / "npusim-cache", clean_run=False)
    assert [(o.fault, o.caught) for o in outcomes] == [(f.name, True) for f in chosen], outcomes
    assert all("values vs eager" in o.checks for o in outcomes), outcomes


def _junit(path, failing: list[str], passing: list[str]):
    cases = "".join(f'<testcase classname="suites.x" name="{name}"><failure message="Spike did not finish"/>'
                    f'</testcase>' for name in failing)
    cases += "".join(f'<testcase classname="suites.x" name="{name}"/>' for name in passing)
    path.write_text(f'<testsuites><testsuite name="pytest" tests="3">{cases}</testsuite></testsuites>')
    return path


def test_a_case_failing_in_the_clean_run_does_not_count_as_catching_the_fault(tmp_path):
    """Regression: a Spike timeout of sum_middle in both runs made every fault 'caught'."""
    clean = _junit(tmp_path / "clean.xml", ["test_a[slow]"], ["test_b", "test_c"])
    same = _junit(tmp_path / "same.xml", ["test_a[slow]"], ["test_b", "test_c"])
    checks, _ = faults.assess(same, clean, 1, tmp_path / "log")
    assert checks == {}
    new = _junit(tmp_path / "new.xml", ["test_a[slow]", "test_b"], ["test_c"])
    checks, _ = faults.assess(new, clean, 1, tmp_path / "log")
    assert sum(checks.values()) == 1
