"""`npusim report --runlog` lists graph breaks; the matrix shows three-way verdicts."""

from __future__ import annotations

import json

from npusim import runlog
from reports.cli import report_main


def test_report_lists_graph_breaks_from_the_run_log(stand_in, tmp_path, capsys):
    junit = stand_in.run(stand_in.standard_cases()[:2], "run.xml")
    log = tmp_path / "runlog.jsonl"
    for detail in ("aten.nonzero.default", "aten.nonzero.default", "builtin print"):
        runlog.append("graph_break", {"reason": "a break", "detail": detail}, log_path=log)
    out = tmp_path / "report"
    assert report_main([str(junit), "--out", str(out), "--no-plots", "--runlog", str(log)]) == 0
    printed = capsys.readouterr().out
    assert "3 graph break(s)" in printed and "2 x a break (aten.nonzero.default)" in printed
    breaks = json.loads((out / "summary.json").read_text())["graph_breaks"]
    assert sorted((b["detail"], b["count"]) for b in breaks) == [("aten.nonzero.default", 2), ("builtin print", 1)]


def test_matrix_names_the_side_a_three_way_failure_blames():
    from reports.junit import CaseResult
    from reports.matrix import render_html

    cases = [CaseResult(case_id="neg[f32-N=7]", op="neg", family="elementwise", dtype="f32", sizes={"N": 7},
                        status="fail", values="lowering", message="values off in the lowering"),
             CaseResult(case_id="neg[f32-N=8]", op="neg", family="elementwise", dtype="f32", sizes={"N": 8},
                        status="pass", values="agree")]
    html = render_html(cases)
    assert "FAIL: lowering" in html and "values (spike/host/eager): agree" in html
