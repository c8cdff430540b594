"""The OpInfo suite (suites/opinfo): its generation, classes, strict expectations and report.

The suite itself runs in the nightly (`make run`); here a few of its ops run end to end
(Spike values) so a broken generator or expectation mechanism shows in `make test`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from suites.opinfo import catalog, expectations

REPO = Path(__file__).resolve().parents[2]


def op_named(name):
    return next(op for op in catalog.op_database() if catalog.full_name(op) == name)


def test_random_and_uninitialised_ops_are_left_out_by_name():
    names = {catalog.full_name(op) for op in catalog.selected_ops()}
    assert not names & (catalog.RANDOM_OPS | catalog.UNINITIALISED_OPS)
    assert {"abs", "add", "sum", "nn.functional.normalize", "squeeze"} <= names
    assert catalog.excluded_reason(op_named("bernoulli")).startswith("random")
    assert catalog.excluded_reason(op_named("empty_like")).startswith("uninitialised")


def test_cuda_only_ops_are_left_out_and_no_other_op_changes_shard(monkeypatch):
    """The jiterator_* ops have CPU dtypes but compile their kernel for a CUDA device: they were counted
    as graph-breaks. They are left out by OpInfo's onlyCUDA, and the shards keep every other op."""
    assert catalog.excluded_reason(op_named("jiterator_unary")).startswith("CUDA-only")
    assert catalog.excluded_reason(op_named("abs")) is None
    monkeypatch.delenv("NPUSIM_OPINFO_OPS", raising=False)
    monkeypatch.setenv("NPUSIM_OPINFO_SHARD", "0/10")
    shard = [catalog.full_name(op) for op in catalog.selected_ops()]
    # shard 0 held jiterator_binary (position 480); native_dropout_backward, at 490 past all five, stays
    assert not any(name.startswith("jiterator") for name in shard)
    assert shard[:2] == ["abs", "addmm"] and "native_dropout_backward" in shard


def test_families():
    assert catalog.family_of(op_named("abs")) == "pointwise"
    assert catalog.family_of(op_named("sum")) == "reduction"
    assert catalog.family_of(op_named("squeeze")) == "view"
    assert catalog.family_of(op_named("linalg.det")) == "linalg"
    assert catalog.family_of(op_named("nn.functional.conv2d")) == "conv_pool"
    assert catalog.family_of(op_named("nn.functional.pad.constant")) == "view"  # was "nn"
    assert catalog.family_of(op_named("addcmul")) == "pointwise"


def test_swept_dim_repeats_the_sample_and_broadcasts_stay_broadcasts():
    a, b, scalar = torch.randn(3, 5), torch.randn(5), torch.randn(3, 1)
    assert catalog.sweep_dims([a, b, scalar]) == [1, 0, None]
    grown = catalog.resize_dim(a, 1, 12)
    assert grown.shape == (3, 12) and torch.equal(grown[:, 5:10], a)
    assert catalog.resize_dim(a, 1, 2).shape == (3, 2)


def test_a_spec_calls_the_op_as_its_sample_does_at_every_size():
    spec = catalog.specs_of(op_named("add"), samples=2)[1]  # add(x of (5,), a 0-d tensor)
    inputs = spec.make_inputs({}, "f32", 0)
    sample = list(op_named("add").sample_inputs("cpu", torch.float32))[1]
    torch.testing.assert_close(spec.fn(*inputs), torch.add(sample.input, *sample.args, **sample.kwargs))
    own = catalog.own_size(spec)
    sizes = [size for size, _ in catalog.swept_sizes(spec, 1024)]
    assert sizes[0] == own and {1, 7, 1025} <= set(sizes)
    bigger = spec.make_inputs({catalog.SWEPT: 1025}, "bf16", 0)
    assert all(t.shape[d] == 1025 for t, d in zip(bigger, spec.swept) if d is not None)
    assert all(t.dtype == torch.bfloat16 for t in bigger)
    first = catalog.specs_of(op_named("add"), samples=2)[0]
    assert first.dims() == [] and not first.full_sweep and spec.full_sweep  # 0-d: nothing to sweep
    assert first.dtypes == ("f32",) and spec.dtypes == ("f32", "f16", "bf16")


def test_a_sample_s_int_arguments_are_constants_of_the_traced_call():
    """max_pool2d_with_indices_backward's kernel_size=3 reached Dynamo as a SymInt (a closure's int under
    dynamic=True) and its int[2] schema refused it in the fake-tensor call: a crash of the suite's making.
    A user's literal arguments are constants; the sample's are now too (the graph holds no int input)."""
    spec = catalog.specs_of(op_named("max_pool2d_with_indices_backward"), samples=1)[0]
    inputs = spec.make_inputs({}, "f32", 0)
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    torch.testing.assert_close(torch.compile(spec.fn, backend=backend, dynamic=True)(*inputs), spec.fn(*inputs))
    calls = [node for node in graphs[0].graph.nodes
             if node.target is torch.ops.aten.max_pool2d_with_indices_backward.default]
    assert len(calls) == 1 and calls[0].args[2:6] == (3, 2, 0, 1), calls


def test_classes_of_exceptions():
    from harness.collect import CaseUnsupported

    assert expectations.classify(None) is None
    assert expectations.classify(CaseUnsupported("npusim backend cannot lower op 'sort': x")) == "unsupported"
    assert expectations.classify(AssertionError("the compiled function launched no npusim kernel: ...")) == \
        "no-kernel"
    assert expectations.classify(AssertionError("Tensor-likes are not close!")) == "wrong"
    assert expectations.classify(AssertionError("recompiled: 2 compile events")) == "recompile"
    assert expectations.classify(AssertionError("faster than the hardware allows")) == "check"
    assert expectations.classify(ZeroDivisionError("integer modulo by zero")) == "crash"
    import torch._dynamo.exc

    assert expectations.classify(torch._dynamo.exc.Unsupported("Data dependent operator")) == "graph-break"
    data_dependent = torch._dynamo.exc.UserError(torch._dynamo.exc.UserErrorType.CONSTRAINT_VIOLATION, "u0")
    assert expectations.classify(data_dependent) == "graph-break"
    assert expectations.op_class(["pass", "skip", "unsupported", "wrong"]) == "wrong"
    assert expectations.op_class(["pass", "skip"]) == "pass"


def test_an_expectation_matches_only_its_class_and_refused_op():
    from harness.collect import CaseUnsupported

    wrong = expectations.Expected.of("wrong")
    assert isinstance(AssertionError("Tensor-likes are not close!"), wrong)
    assert not isinstance(RuntimeError("boom"), wrong)
    sort = expectations.Expected.of("unsupported", "sort")
    assert isinstance(CaseUnsupported("npusim backend cannot lower op 'sort'"), sort)
    assert not isinstance(CaseUnsupported("npusim backend cannot lower op 'scatter'"), sort)


def run_suite(tmp_path, ops: str, expectations_file: Path | None = None) -> tuple[int, str, Path]:
    junit = tmp_path / "junit.xml"
    env = dict(os.environ, NPUSIM_OPINFO_OPS=ops, NPUSIM_OPINFO_SAMPLES="1", NPUSIM_OUT=str(tmp_path / "out"),
               NPUSIM_RUNLOG=str(tmp_path / "runlog.jsonl"))
    env.pop("PYTEST_XDIST_WORKER", None)
    if expectations_file is not None:
        env["NPUSIM_OPINFO_EXPECTATIONS"] = str(expectations_file)
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/opinfo", "-q", "-n", "0", "-p", "no:cacheprovider",
                             "-o", "junit_family=xunit1", f"--junitxml={junit}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr, junit


@pytest.mark.spike
def test_a_few_ops_run_end_to_end_and_a_fixed_op_xpasses(tmp_path):
    """abs (swept, Spike values, host values for the large size), squeeze (a view: no kernel
    needed) and diag (at N = 8193 it reads 10 elements of a (10, 8193) matrix: the physical floor
    counted the whole input and called it faster than the hardware) pass; declaring one of abs's
    cases `wrong` makes the run fail strictly (XPASS)."""
    empty = tmp_path / "none.yaml"
    expectations.dump({"version": expectations.VERSION, "ops": {}}, empty)
    code, output, junit = run_suite(tmp_path, "abs,squeeze,diag", empty)
    assert code == 0, output[-3000:]
    from reports.opinfo import coverage, op_classes

    classes, families = op_classes([junit])
    assert classes == {"abs": "pass", "squeeze": "pass", "diag": "pass"}, classes
    assert coverage(classes, families)["pass_pct"] == 100.0

    declared = tmp_path / "declared.yaml"
    expectations.dump({"version": expectations.VERSION, "ops": {"abs": {
        "class": "wrong", "family": "pointwise", "reason": "declared for the test",
        "cases": {"abs.s0[f32-N=7]": {"class": "wrong", "reason": "declared for the test"}}}}}, declared)
    code, output, _ = run_suite(tmp_path, "abs", declared)
    assert code == 1 and "XPASS(strict)" in output and "abs.s0[f32-N=7]" in output, output[-3000:]


def test_coverage_report_counts_ops_per_class_and_family_and_the_trend():
    from reports.opinfo import coverage, markdown, trend

    base = coverage({"abs": "pass", "sort": "unsupported", "flip": "crash"},
                    {"abs": "pointwise", "sort": "scan_sort", "flip": "view"})
    new = coverage({"abs": "pass", "sort": "unsupported", "flip": "pass", "cov": "graph-break"},
                   {"abs": "pointwise", "sort": "scan_sort", "flip": "view", "cov": "linalg"})
    assert new["ops"] == 4 and new["by_class"]["pass"] == 2 and new["pass_pct"] == 50.0
    assert new["by_family"]["view"] == {"pass": 1}
    change = trend(new, base)
    assert change["by_class"]["pass"] == 1 and change["by_class"]["crash"] == -1
    assert change["changed"] == {"flip": ["crash", "pass"]}
    text = markdown(new, change)
    assert "2 of 4 ops pass" in text and "flip: crash -> pass" in text


def test_a_size_that_changes_the_number_of_outputs_is_not_a_size_of_the_sample():
    """unbind of a vector swept to N = 8193 made 8193 outputs, a graph per size: it timed out (issue 17).
    Its sample (5, N) unbound along dim 0 keeps 5 outputs at every N and still sweeps."""
    vector, matrix = catalog.specs_of(op_named("unbind"), samples=2)
    assert vector.inputs == ["N"] and vector.own_output_count() == 5
    with pytest.raises(pytest.skip.Exception, match="gives 8193 outputs, its own size 5"):
        vector.make_inputs({catalog.SWEPT: 8193}, "f32", 0)
    assert [t.shape for t in matrix.make_inputs({catalog.SWEPT: 8193}, "f32", 0)] == [(5, 8193)]


def test_a_same_size_dim_that_is_no_broadcast_of_the_swept_one_stays():
    """_native_batch_norm_legit's sample (5, 5, 5) with a weight of C = 5 swept the weight with the input's
    last dim: eager's CPU kernel read it anyway, Dynamo's fake tensors crashed (issue 17). The weight
    pairs with dim 1, so it stays; add's broadcast row still sweeps with its matrix."""
    spec = catalog.specs_of(op_named("_native_batch_norm_legit"), samples=1)[0]
    assert spec.inputs == ["5,5,N", "5", "5", "5", "5"]
    x, row = torch.randn(3, 5), torch.randn(5)
    assert catalog.sweep_dims([x, row], lambda a, b: a + b) == [1, 0]


def test_the_nightly_runs_its_shard_of_the_suite_and_the_whole_db_when_asked(monkeypatch):
    """make run (npusim nightly) runs OPINFO_NIGHTLY_SHARD of the db; --opinfo every op; none: left out."""
    from harness import nightly

    monkeypatch.delenv("NPUSIM_OPINFO_SHARD", raising=False)
    assert nightly.opinfo_env(nightly.parse([])) == {"NPUSIM_OPINFO": "1",
                                                     "NPUSIM_OPINFO_SHARD": nightly.OPINFO_NIGHTLY_SHARD}
    assert nightly.opinfo_env(nightly.parse(["--opinfo"])) == {"NPUSIM_OPINFO": "1"}
    assert nightly.opinfo_env(nightly.parse(["--opinfo-shard", "none"])) == {"NPUSIM_OPINFO": "0"}
    assert nightly.opinfo_env(nightly.parse(["--opinfo-shard", "3/10"]))["NPUSIM_OPINFO_SHARD"] == "3/10"
    with pytest.raises(SystemExit):
        nightly.opinfo_env(nightly.parse(["--opinfo-shard", "10/10"]))


def test_a_quadratic_op_is_swept_to_small_sizes_only():
    """multilabel_margin_loss at N = 8193 does 67M element steps (every class against every target):
    its cases timed out at 60 s on Spike (issue 17). It sweeps to the prime only."""
    specs = catalog.specs_of(op_named("nn.functional.multilabel_margin_loss"), samples=2)
    for spec in specs:
        assert all(size <= max(catalog.SMALL_SWEEP, catalog.own_size(spec) or 0)
                   for size, _ in catalog.swept_sizes(spec, 8192)), spec.name
    assert max(size for size, _ in catalog.swept_sizes(catalog.specs_of(op_named("abs"))[0], 8192)) > 8192


def test_regenerating_drops_ops_the_suite_no_longer_runs():
    from suites.opinfo import regenerate

    entry = {"class": "crash", "family": "other", "reason": "r", "cases": {}}
    data = {"version": expectations.VERSION, "ops": {"sort": dict(entry), "renamed_away": dict(entry),
                                                     "abs": dict(entry)}}
    updated = regenerate.update(data, {"abs": {**entry, "class": "pass"}}, {"abs"})
    assert set(updated["ops"]) == {"sort"}  # abs passes now; renamed_away is no op of the db


def test_summing_families_allow_the_running_sum_s_drift_and_pointwise_ops_do_not():
    """interpolate(mode="area") at N = 131079 averages 43,693-wide windows in one running float: 7e-4 off
    eager's pairwise sums (issue 17). Its atol grows eps * N like a hand-written `summed` dim; abs does not."""
    area = catalog.specs_of(op_named("nn.functional.interpolate.area"), samples=1)[0]
    assert area.tolerance("f32", {catalog.SWEPT: 131079})[1] >= 7e-4 > area.tolerance("f32", {catalog.SWEPT: 7})[1]
    pointwise = catalog.specs_of(op_named("abs"), samples=1)[0]
    assert pointwise.tolerance("f32", {catalog.SWEPT: 131079}) == pointwise.tolerance("f32", {catalog.SWEPT: 7})
