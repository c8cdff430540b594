"""The harness plugin end to end, in throwaway projects (pytester), with injected faults.

Each run uses the real backend; values come from the host JIT (--functional=host)
to keep the tests fast, cycles from the real trace simulator.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from compiler.tiling import base_tile
from npusim import config

SPEC_HEADER = "import torch\nfrom harness.spec import OpSpec\n"
TILE = base_tile(config.load(), 32)  # the size policy's tile edges


@pytest.fixture
def project(pytester, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "npusim-cache"))
    monkeypatch.delenv("NPUSIM_RUNLOG", raising=False)
    monkeypatch.delenv("NPUSIM_OUT", raising=False)
    pytester.makefile(".ini", pytest="[pytest]\njunit_family = xunit1\n")

    def write(ops: str, conftest: str = ""):
        pytester.mkpydir("suites")
        pytester.mkpydir("suites/fam")
        (pytester.path / "suites" / "fam" / "ops.py").write_text(SPEC_HEADER + ops)
        if conftest:
            (pytester.path / "conftest.py").write_text(conftest)
        return pytester

    return write


def run(pytester, *args, targets=("suites",)):
    return pytester.runpytest_subprocess(*targets, "--functional=host", "-p", "no:cacheprovider",
                                         "--junitxml=junit.xml", *args)


def junit_cases(pytester):
    tree = ET.parse(pytester.path / "junit.xml")
    cases = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        cases[case.get("name")] = props
    return cases


ADD = 'SPECS = [OpSpec("add", lambda a, b: a + b, inputs=["N", "N"])]\n'


def test_add_sweep_passes_with_metrics(project):
    pytester = project(ADD)
    result = run(pytester)
    result.assert_outcomes(passed=7)  # 6 smoke sizes + 1 sweep
    cases = junit_cases(pytester)
    case = cases[f"add[f32-N={TILE + 1}]"]
    assert case["npusim.status"] == "pass"
    assert int(case["npusim.cycles"]) > 0 and int(case["npusim.trace_records"]) > 0
    assert len(case["npusim.kernel_hash"]) == 64 and case["npusim.compile_count"] == "1"
    assert cases["add[f32-sweep-N]"]["npusim.status"] == "pass"


def test_wrong_tail_value_fails_the_value_check(project):
    conftest = f'''
import compiler.launcher as launcher

_call = launcher.NpusimKernel.__call__

def corrupt_tail(self, *args):
    _call(self, *args)
    out = [a for a, s in zip(args, self.meta["args"]) if s["kind"] == "output"][0]
    if out.numel() > {TILE}:
        out.view(-1)[-1] += 1.0  # the tail tile's last element goes wrong

launcher.NpusimKernel.__call__ = corrupt_tail
'''
    pytester = project(ADD, conftest)
    result = run(pytester)
    result.assert_outcomes(passed=5, failed=2)  # the two sizes with a tail beyond one tile
    result.stdout.fnmatch_lines([f"*add[[]f32-N={TILE + 1}[]]*", f"*reproduce: *pytest*add[[]f32-N={TILE + 1}[]]*",
                                 "*standalone: python *reproduce.py*"])
    assert junit_cases(pytester)[f"add[f32-N={TILE}]"]["npusim.status"] == "pass"


def test_larger_size_cheaper_fails_monotonicity(project):
    conftest = '''
import compiler.launcher as launcher

_simulate = launcher.NpusimKernel.simulate

def cheaper_when_bigger(self, shape_args, launch_dir, config):
    stats = _simulate(self, shape_args, launch_dir, config)
    stats["cycles"] = 10**9 // max(1, sum(shape_args.values()))  # a broken timing model
    return stats

launcher.NpusimKernel.simulate = cheaper_when_bigger
'''
    pytester = project(ADD, conftest)
    result = run(pytester)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*cycles fell as N grew*"])


def test_forced_recompile_fails_compile_once(project):
    conftest = f'''
import pytest, torch

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if "N={TILE}]" in item.name:
        torch._dynamo.reset()  # the compiled function recompiles at the next size
'''
    pytester = project(ADD, conftest)
    result = run(pytester)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["*recompiled*"])


def test_unsupported_op_is_shown_not_passed(project):
    ops = '''SPECS = [
    OpSpec("histc", lambda x: torch.histc(x, 4), inputs=["N"]),
    OpSpec("histc_declared", lambda x: torch.histc(x, 4), inputs=["N"], xfail={"*": ("histc", "not lowered")}),
]
'''
    pytester = project(ops)
    result = run(pytester, targets=("suites/fam/ops.py::histc[f32-N=7]", "suites/fam/ops.py::histc_declared[f32-N=7]"))
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*UNSUPPORTED*histc*"])
    cases = junit_cases(pytester)
    assert cases["histc[f32-N=7]"]["npusim.status"] == "unsupported"
    assert cases["histc_declared[f32-N=7]"]["npusim.status"] in ("unsupported", "xfail")


def test_a_refused_op_is_compiled_once_not_at_every_size(project, tmp_path, monkeypatch):
    """Issue 17: a refusal of the general graph was recompiled (and refused again) at every size;
    later sizes now reuse it, each still shown as unsupported naming the op."""
    import json

    runlog = tmp_path / "runlog.jsonl"
    monkeypatch.setenv("NPUSIM_RUNLOG", str(runlog))
    pytester = project('SPECS = [OpSpec("histc", lambda x: torch.histc(x, 4), inputs=["N"])]\n')
    result = run(pytester, targets=("suites/fam/ops.py::histc[f32-N=7]", f"suites/fam/ops.py::histc[f32-N={TILE + 1}]"))
    result.assert_outcomes(failed=2)
    cases = junit_cases(pytester)
    assert {cases[f"histc[f32-N={n}]"]["npusim.status"] for n in (7, TILE + 1)} == {"unsupported"}
    result.stdout.fnmatch_lines(["*UNSUPPORTED*histc*", "*UNSUPPORTED*histc*"])
    graphs = [e for e in map(json.loads, runlog.read_text().splitlines()) if e["event"] == "dynamo_graph"]
    assert len(graphs) == 1, graphs


def test_declared_gap_refusing_another_op_fails_naming_both(project):
    ops = '''SPECS = [
    OpSpec("gap", lambda x: torch.igamma(x.abs(), x.abs()), inputs=["N"],
           xfail={"*": ("histc", "histc is not lowered")}),
]
'''
    pytester = project(ops)
    result = run(pytester, targets=("suites/fam/ops.py::gap[f32-N=7]",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*declared gap for op 'histc'*refused a different op 'igamma'*"])


def test_gap_must_name_its_op():
    from harness.spec import OpSpec

    with pytest.raises(ValueError, match=r"must be \(op, reason\)"):
        OpSpec("sort", lambda x: x, inputs=["N"], xfail={"*": "sort is not lowered"})


LIBM_BUG = '''
import shutil, tempfile
from pathlib import Path
from simulator.functional import toolchain

_runtime = Path(tempfile.mkdtemp()) / "runtime"
shutil.copytree(toolchain.RUNTIME_DIR, _runtime)
_libm = (_runtime / "libm.c").read_text()
assert "FLOAT_FROM_DOUBLE_1(exp)\\n" in _libm
(_runtime / "libm.c").write_text(_libm.replace(
    "FLOAT_FROM_DOUBLE_1(exp)\\n", "float expf(float x) { return (float)(exp((double)x) * 1.001); }\\n"))
toolchain.RUNTIME_DIR = _runtime  # Spike's ELFs link this runtime; the host JIT uses the host libm
'''

LOWERING_BUG = '''
from compiler.overrides import NpuOverrides, _make

NpuOverrides.neg = _make("abs", 1)  # the kernel MLIR itself is wrong: both functional paths agree on it
'''


@pytest.mark.parametrize("bug, op, verdict, message", [
    (LIBM_BUG, "exp", "functional: spike", "*values off on the functional path*libm*"),
    (LOWERING_BUG, "neg", "lowering", "*values off in the lowering*both differ from eager*"),
], ids=["libm", "lowering"])
def test_three_way_names_the_side_that_is_off(project, tmp_path, monkeypatch, bug, op, verdict, message):
    ops = f'SPECS = [OpSpec("{op}", lambda a: torch.{op}(a), inputs=["N"])]\n'
    pytester = project(ops, bug)
    monkeypatch.setenv("NPUSIM_CACHE_DIR", str(tmp_path / "cache"))  # a patched runtime stays private
    monkeypatch.setenv("NPUSIM_TRACE", "0")
    result = run(pytester, "--functional=both", targets=(f"suites/fam/ops.py::{op}[f32-N=7]",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    assert junit_cases(pytester)[f"{op}[f32-N=7]"]["npusim.values"] == verdict


def test_three_way_agrees_on_a_correct_kernel(project, monkeypatch):
    pytester = project('SPECS = [OpSpec("exp", lambda a: torch.exp(a), inputs=["N"])]\n')
    monkeypatch.setenv("NPUSIM_TRACE", "0")
    result = run(pytester, "--functional=both", targets=("suites/fam/ops.py::exp[f32-N=7]",))
    result.assert_outcomes(passed=1)
    assert junit_cases(pytester)["exp[f32-N=7]"]["npusim.values"] == "agree"


def test_bad_config_is_a_usage_error(project):
    pytester = project(ADD)
    result = pytester.runpytest_subprocess("suites", "--npu-config=no-such-config")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no NPU config named 'no-such-config'*"])


def test_xdist_keeps_each_op_in_one_worker(project):
    ops = ADD.replace("]\n", ', OpSpec("mul", lambda a, b: a * b, inputs=["N", "N"])]\n')
    pytester = project(ops)
    result = run(pytester, "-n", "2")
    result.assert_outcomes(passed=14)  # both sweeps see all their cases


def test_case_without_a_kernel_launch_fails(project):
    """A value in its own storage with no kernel launched came from the host and fails; an
    output that is the input or a view of it moves no data and needs no kernel (issue 17)."""
    pytester = project('HOST_VALUE = torch.ones(3)\n'  # returned as it is: no graph, no kernel
                       'SPECS = [OpSpec("constant", lambda x: HOST_VALUE, inputs=["N"]),\n'
                       '         OpSpec("identity", lambda x: x, inputs=["N"])]\n')
    result = run(pytester, targets=("suites/fam/ops.py::constant[f32-N=7]", "suites/fam/ops.py::identity[f32-N=7]"))
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*launched no npusim kernel*"])


def test_sweep_checks_the_selected_part(project):
    """A shard or -k selection holding part of a sweep checks that part, not the cases it never ran."""
    pytester = project(ADD)
    ids = [f"suites/fam/ops.py::add[f32-N={n}]" for n in (1, 7, TILE + 1)] + ["suites/fam/ops.py::add[f32-sweep-N]"]
    result = run(pytester, targets=tuple(ids))
    result.assert_outcomes(passed=4)


def test_graph_break_is_not_a_silent_eager_pass(project):
    """Boolean-mask indexing breaks the graph: part of the op would run eagerly, unverified."""
    pytester = project('SPECS = [OpSpec("masked_select", lambda x: (x * 2)[x > 0] + 1, inputs=["N"])]\n')
    result = run(pytester, targets=("suites/fam/ops.py::masked_select[f32-N=7]",))
    result.assert_outcomes(failed=1)


def test_in_place_update_of_an_input_is_checked(project):
    conftest = '''
import compiler.launcher as launcher

_call = launcher.NpusimKernel.__call__

def forget_in_place_updates(self, *args):
    before = [a.clone() for a in args if hasattr(a, "clone")]
    _call(self, *args)
    for arg, old in zip([a for a in args if hasattr(a, "clone")], before):
        if arg.data_ptr() == args[0].data_ptr():
            arg.copy_(old)  # a broken write-back: the input keeps its old values

launcher.NpusimKernel.__call__ = forget_in_place_updates
'''
    ops = 'SPECS = [OpSpec("mul_", lambda x, y: (x.mul_(2), y + 1)[1], inputs=["N", "N"])]\n'
    pytester = project(ops)
    run(pytester, targets=("suites/fam/ops.py::mul_[f32-N=7]",)).assert_outcomes(passed=1)
    (pytester.path / "conftest.py").write_text(conftest)
    result = run(pytester, targets=("suites/fam/ops.py::mul_[f32-N=7]",))
    result.assert_outcomes(failed=1)


def test_opinfo_suite_runs_only_when_asked_for(pytester, monkeypatch):
    """`pytest suites` leaves suites/opinfo out; naming it or NPUSIM_OPINFO=1 (what npusim nightly sets) runs it."""
    monkeypatch.delenv("NPUSIM_OPINFO", raising=False)
    for folder in ("suites", "suites/opinfo", "suites/fam"):
        pytester.mkpydir(folder)
    (pytester.path / "suites" / "opinfo" / "test_generated.py").write_text("def test_op():\n    pass\n")
    (pytester.path / "suites" / "fam" / "test_hand.py").write_text("def test_op():\n    pass\n")
    pytester.runpytest_subprocess("suites", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.runpytest_subprocess("suites/opinfo", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    monkeypatch.setenv("NPUSIM_OPINFO", "1")
    pytester.runpytest_subprocess("suites", "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_case_s_kernel_does_not_depend_on_the_cases_before_it(project):
    """AOT's tensorify pass keeps the float symbols it specialised in one process-wide set of names
    (zf<n>); a later case whose float got a name in it was compiled with the float as a literal, not
    as the runtime f64 input it is when run alone (renorm.s0's maxnorm, 533 or 584 cycles between
    nightlies). Here every name is taken before each case: the kernels must be those of a clean run."""
    ops = 'SCALE = 0.5\nSPECS = [OpSpec("scale", lambda x: x * SCALE, inputs=["N"])]\n'
    polluting = '''
import pytest
from torch._dynamo.symbolic_convert import TensorifyState

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    TensorifyState.force_specializations.update(f"zf{i}" for i in range(100000))
'''
    pytester = project(ops)
    hashes = []
    for conftest in ("", polluting):
        (pytester.path / "conftest.py").write_text(conftest)
        run(pytester, "-k", f"f32 and {TILE + 1} and not sweep").assert_outcomes(passed=1)
        hashes.append(junit_cases(pytester)[f"scale[f32-N={TILE + 1}]"]["npusim.kernel_hash"])
    assert hashes[0] == hashes[1], hashes
