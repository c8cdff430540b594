"""`npusim diff BASE NEW` on JUnit files of real pytest runs: regressions exit 1,
an unchanged run exits 0, fixed and improved cases are listed."""

from __future__ import annotations

import dataclasses
import json

import pytest

from reports.cli import diff_main, report_main
from reports.diff import diff_results
from reports.junit import read_cases


pytest_plugins = ["pytester"]


def _with(cases: list, index: int, **changes) -> list:
    """A copy of the run where case `index` is re-made with some fields changed
    (its cycles and test id are recomputed from them)."""
    return cases[:index] + [dataclasses.replace(cases[index], **changes)] + cases[index + 1:]


def _diff_json(base, new, capsys, *extra) -> tuple[int, dict]:
    capsys.readouterr()  # drop the output of the pytest runs before this one
    code = diff_main([str(base), str(new), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_unchanged_run_passes(stand_in, capsys):
    cases = stand_in.standard_cases()
    base = stand_in.run(cases, "base.xml")
    new = stand_in.run(cases, "new.xml")  # a second, independent run
    capsys.readouterr()
    assert diff_main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    assert "OK: no regression" in out
    code, data = _diff_json(base, new, capsys)
    assert code == 0 and data["regression"] is False and data["regression_count"] == 0


def test_ten_percent_cycle_increase_and_a_new_failure_exit_1(stand_in, capsys):
    cases = stand_in.standard_cases()
    slower = next(i for i, c in enumerate(cases) if c.op == "sum_last" and c.sizes == {"s0": 17, "s1": 1000})
    broken = next(i for i, c in enumerate(cases) if c.op == "mul" and c.sizes == {"N": 1025})
    base = stand_in.run(cases, "base.xml")
    new_cases = _with(_with(cases, slower, cycle_scale=1.10), broken, outcome="fail")
    new = stand_in.run(new_cases, "new.xml")

    capsys.readouterr()
    assert diff_main([str(base), str(new)]) == 1
    table = capsys.readouterr().out
    assert "New failures (1)" in table and "Cycle increases (1)" in table and "REGRESSION" in table
    assert cases[slower].case_id in table and cases[broken].case_id in table

    code, data = _diff_json(base, new, capsys)
    assert code == 1
    assert [c["case_id"] for c in data["new_failures"]] == [cases[broken].case_id]
    assert data["new_failures"][0]["base_status"] == "pass" and data["new_failures"][0]["new_status"] == "fail"
    assert "wrong tail value" in data["new_failures"][0]["message"]
    [increase] = data["cycle_increases"]
    assert increase["case_id"] == cases[slower].case_id
    assert increase["base_cycles"] == cases[slower].cycles
    assert increase["new_cycles"] == new_cases[slower].cycles
    assert increase["change_pct"] == pytest.approx(10.0, abs=0.1)
    # the failing case recorded the same cycles as before: only one cycle change
    assert data["cycle_decreases"] == [] and data["fixed"] == []


def test_fixed_case_and_faster_case_are_listed_without_failing(stand_in, capsys):
    cases = stand_in.standard_cases()
    gelu = next(i for i, c in enumerate(cases) if c.op == "gelu")       # xfail in the base
    add = next(i for i, c in enumerate(cases) if c.op == "add" and c.sizes == {"N": 65536})
    base_cases = _with(cases, gelu, outcome="fail")
    base = stand_in.run(base_cases, "base.xml")
    new = stand_in.run(_with(_with(cases, gelu, outcome="pass"), add, cycle_scale=0.8), "new.xml")
    code, data = _diff_json(base, new, capsys)
    assert code == 0
    assert [(c["case_id"], c["base_status"], c["new_status"]) for c in data["fixed"]] == [
        (cases[gelu].case_id, "fail", "pass")]
    [faster] = data["cycle_decreases"]
    assert faster["case_id"] == cases[add].case_id
    assert faster["change_pct"] == pytest.approx(-20.0, abs=0.1)
    assert diff_main([str(base), str(new)]) == 0
    assert "Fixed (1)" in capsys.readouterr().out


def test_threshold_compile_count_and_added_removed_cases(stand_in, capsys):
    cases = stand_in.standard_cases()
    base = stand_in.run(cases, "base.xml")
    small = next(i for i, c in enumerate(cases) if c.op == "add" and c.sizes == {"N": 65536})
    recompiled = next(i for i, c in enumerate(cases) if c.op == "mul" and c.sizes == {"N": 7})
    new_cases = _with(_with(cases, small, cycle_scale=1.03), recompiled, compile_count=2)
    removed = new_cases.pop(0)
    new_cases.append(stand_in.case("add", {"N": 3}))
    new = stand_in.run(new_cases, "new.xml")

    code, data = _diff_json(base, new, capsys)
    assert code == 1  # the recompile
    assert data["cycle_increases"] == []  # +3% is inside the default 5%
    assert [c["case_id"] for c in data["compile_increases"]] == [cases[recompiled].case_id]
    assert [c["case_id"] for c in data["removed"]] == [removed.case_id]
    assert [c["case_id"] for c in data["added"]] == [new_cases[-1].case_id]

    code, data = _diff_json(base, new, capsys, "--threshold", "2")
    assert [c["case_id"] for c in data["cycle_increases"]] == [cases[small].case_id]


def test_status_transitions_lost_coverage_new_failing_case_and_fixed_xfail(stand_in):
    cases = stand_in.standard_cases()
    add = next(i for i, c in enumerate(cases) if c.op == "add")
    gelu = next(i for i, c in enumerate(cases) if c.op == "gelu")  # xfail in the base
    erf = next(i for i, c in enumerate(cases) if c.op == "erf")    # unsupported in the base
    sweep = stand_in.case("add", {}, sweep_dim="N")
    base = read_cases([stand_in.run(cases + [sweep], "base.xml")])
    new_cases = _with(_with(_with(cases, add, outcome="unsupported"), gelu, outcome="pass"), erf, outcome="pass")
    new_cases += [dataclasses.replace(sweep, outcome="fail"), stand_in.case("tanh", {"N": 9}, outcome="fail")]
    new = read_cases([stand_in.run(new_cases, "new.xml")])
    result = diff_results(base, new)
    assert [c.case_id for c in result.lost_coverage] == [cases[add].case_id]
    assert sorted(c.case_id for c in result.new_failures) == sorted([sweep.case_id, new_cases[-1].case_id])
    assert sorted(c.case_id for c in result.fixed) == sorted([cases[gelu].case_id, cases[erf].case_id])
    assert result.other_status_changes == []
    assert result.has_regression


def test_diff_accepts_report_dirs_summaries_and_junit_dirs(stand_in, tmp_path, capsys):
    cases = stand_in.standard_cases()
    base_junit = stand_in.run(cases, "base.xml")
    assert report_main([str(base_junit), "--out", str(tmp_path / "base-report"), "--no-plots"]) == 0
    slower = _with(cases, 3, cycle_scale=1.5)
    shards = tmp_path / "new-shards"
    shards.mkdir()
    for index, part in enumerate((slower[:7], slower[7:])):
        junit = stand_in.run(part, f"part{index}.xml")
        (shards / junit.name).write_bytes(junit.read_bytes())
    capsys.readouterr()
    for base in (tmp_path / "base-report", tmp_path / "base-report" / "summary.json", base_junit):
        code, data = _diff_json(base, shards, capsys)
        assert code == 1, base
        assert [c["case_id"] for c in data["cycle_increases"]] == [cases[3].case_id]
    out_json = tmp_path / "diff.json"
    assert diff_main([str(tmp_path / "base-report"), str(shards), "--json-out", str(out_json)]) == 1
    assert "Cycle increases (1)" in capsys.readouterr().out  # tables still printed
    assert json.loads(out_json.read_text())["regression"] is True
    assert diff_main([str(tmp_path / "nothing"), str(shards)]) == 2
    (tmp_path / "empty-baseline").mkdir()
    assert diff_main([str(tmp_path / "empty-baseline"), str(shards)]) == 2
    assert "neither summary.json nor JUnit" in capsys.readouterr().err
