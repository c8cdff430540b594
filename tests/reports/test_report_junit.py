"""JUnit reading and shard merging, on files written by real pytest runs."""

from __future__ import annotations

import pytest
from junitparser import Failure, JUnitXml, Properties, Property, TestCase, TestSuite

from reports.junit import ReportInputError, identity_from_id, load_results, merge_junit, read_cases, write_summary
from reports.schema import Prop, Status, format_sizes, format_sweep, parse_sizes, parse_sweep, worse_status


pytest_plugins = ["pytester"]


def test_every_outcome_and_metric_is_read_back(stand_in):
    cases = stand_in.standard_cases() + [
        stand_in.case("sub", {"N": 1000}, outcome="fail"),
        stand_in.case("add", {"N": 4096}, outcome="error"),  # fails in setup: no properties recorded
        stand_in.case("neg", {"N": 1000}, outcome="xpass"),
    ]
    junit = stand_in.run(cases, "run.xml")
    results = {r.case_id: r for r in read_cases([junit])}
    assert set(results) == {c.case_id for c in cases}
    for spec in cases:
        got = results[spec.case_id]
        assert got.status == spec.expected_status, spec.case_id
        # A setup error records nothing: op, dtype and sizes come from the test
        # id, the family from the op's other cases.
        assert (got.op, got.family, got.dtype, got.sizes) == (spec.op, spec.family, spec.dtype, spec.sizes)
        if spec.outcome == "error":
            assert got.cycles is None and got.config is None
            continue
        assert (got.op, got.family, got.dtype, got.sizes, got.config) == (
            spec.op, spec.family, spec.dtype, spec.sizes, spec.config)
        if spec.outcome == "unsupported":
            assert got.cycles is None and "UnsupportedOp" in got.message
            continue
        assert (got.cycles, got.instret, got.trace_records, got.compile_count, got.kernel_hash) == (
            spec.cycles, spec.instret, spec.trace_records, spec.compile_count, spec.kernel_hash)
        assert spec.test_id in got.reproducer
        assert got.artifacts.endswith(spec.test_id)
    assert "wrong tail value" in results[cases[-3].case_id].message
    assert "simulator failed to start" in results[cases[-2].case_id].message


def test_two_shards_merge_into_one_suite_keeping_the_worst_status(stand_in, tmp_path):
    cases = stand_in.standard_cases()
    half = len(cases) // 2
    overlap = cases[0]  # run by both shards: passes in one, fails in the other
    shard1 = stand_in.run(cases[:half], "shard1.xml")
    shard2 = stand_in.run(cases[half:] + [stand_in.case(overlap.op, overlap.sizes, outcome="fail")], "shard2.xml")

    merged = merge_junit([shard1, shard2])
    by_id = {r.case_id: r for r in merged.cases}
    assert set(by_id) == {c.case_id for c in cases}
    assert merged.duplicates == [overlap.case_id]
    assert by_id[overlap.case_id].status == Status.FAIL
    for spec in cases[1:]:
        assert by_id[spec.case_id].status == spec.expected_status

    # The merged file is one suite, its counters agree with the cases, and it
    # reads back to the same records (it is what a later report consumes).
    out = tmp_path / "junit-merged.xml"
    merged.xml.write(str(out))
    suites = list(JUnitXml.fromfile(str(out)))
    assert len(suites) == 1
    assert suites[0].tests == len(cases)
    assert suites[0].failures == 1
    assert suites[0].skipped == sum(c.outcome in ("unsupported", "xfail") for c in cases)
    reread = {r.case_id: (r.status, r.cycles, r.sizes) for r in read_cases([out])}
    assert reread == {r.case_id: (r.status, r.cycles, r.sizes) for r in merged.cases}


def test_a_directory_of_shards_and_a_summary_load_the_same_cases(stand_in, tmp_path):
    cases = stand_in.standard_cases()
    shards = tmp_path / "shards"
    shards.mkdir()
    for index in range(3):
        junit = stand_in.run(cases[index::3], f"shard{index}.xml")
        (shards / junit.name).write_bytes(junit.read_bytes())
    from_dir = {r.case_id: r.status for r in load_results(shards)}
    assert from_dir == {c.case_id: c.expected_status for c in cases}

    summary = write_summary(tmp_path / "summary.json", read_cases([shards]))
    assert {r.case_id: r.status for r in load_results(summary)} == from_dir
    assert {r.case_id: r.status for r in load_results(tmp_path)} == from_dir  # report dir


def test_broken_inputs_are_reported_with_their_path(tmp_path):
    empty = tmp_path / "crashed-shard.xml"
    empty.write_text("")
    with pytest.raises(ReportInputError, match="crashed-shard.xml"):
        read_cases([empty])
    with pytest.raises(ReportInputError, match="no such file"):
        read_cases([tmp_path / "missing.xml"])
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(ReportInputError, match="no \\*.xml"):
        read_cases([tmp_path / "empty-dir"])


def test_sizes_round_trip_and_status_order():
    sizes = {"s0": 17, "s1": 1000}
    assert format_sizes(sizes) == "s0=17,s1=1000"
    assert parse_sizes(format_sizes(sizes)) == sizes
    assert list(parse_sizes("s1=3,s0=5")) == ["s1", "s0"]  # dim order is kept
    assert parse_sizes("s0=17-s1=1000") == sizes            # test-id spelling
    with pytest.raises(ValueError):
        parse_sizes("N=big")
    assert worse_status(Status.PASS, Status.FAIL) == Status.FAIL
    assert worse_status(Status.ERROR, Status.FAIL) == Status.ERROR
    assert worse_status(Status.UNSUPPORTED, Status.XFAIL) == Status.UNSUPPORTED


def test_identity_from_test_id_for_cases_without_properties():
    assert identity_from_id("add[f32-N=1000]") == ("add", "f32", {"N": 1000})
    assert identity_from_id("test_binary[mul-bf16-s0=17-s1=3]") == ("mul", "bf16", {"s0": 17, "s1": 3})
    # sweep-level checks and plain tests carry no sizes: not matrix cases
    assert identity_from_id("test_compile_once[add]") == (None, None, {})
    assert identity_from_id("test_plain") == (None, None, {})


def test_xdist_group_suffix_and_sweep_items_built_with_junitparser(tmp_path):
    suite = TestSuite("pytest")
    grouped = TestCase("add[f32-N=7]@elementwise.add.f32", classname="suites.elementwise.ops")
    sweep = TestCase("add[f32-sweep-N]", classname="suites.elementwise.ops")
    props = Properties()
    for name, value in ((Prop.OP, "add"), (Prop.SIZES, format_sweep("N")), (Prop.COMPILE_COUNT, "2")):
        props.add_property(Property(name, value))
    sweep.append(props)
    sweep.result = [Failure("compile-once: 2 compiles of add")]
    suite.add_testcases([grouped, sweep])
    xml = JUnitXml()
    xml.add_testsuite(suite)
    path = tmp_path / "junit.xml"
    xml.write(str(path))
    by_id = {r.case_id: r for r in read_cases([path])}
    assert set(by_id) == {"suites.elementwise.ops::add[f32-N=7]", "suites.elementwise.ops::add[f32-sweep-N]"}
    case = by_id["suites.elementwise.ops::add[f32-N=7]"]
    assert (case.op, case.dtype, case.sizes, case.is_matrix_case) == ("add", "f32", {"N": 7}, True)
    check = by_id["suites.elementwise.ops::add[f32-sweep-N]"]
    assert (check.sweep, check.sizes, check.is_matrix_case, check.status, check.compile_count) == (
        "N", {}, False, Status.FAIL, 2)
    assert parse_sweep("sweep=s1") == "s1" and parse_sweep("N=7") is None
