"""`npusim report`: merged JUnit, summary.json, HTML/Markdown matrix and plots,
built from shard files of real pytest runs and parsed back."""

from __future__ import annotations

import json
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

from reports.cli import report_main
from reports.junit import load_summary
from reports.schema import Status


pytest_plugins = ["pytester"]

VOID_TAGS = {"meta", "br", "img", "link", "hr", "input"}


class MatrixParser(HTMLParser):
    """Collects matrix cells, summary totals and links; checks tag nesting."""

    def __init__(self):
        super().__init__()
        self.cells: dict[str, dict[str, str]] = {}
        self.cell_text: dict[str, str] = {}
        self.totals: dict[str, int] = {}
        self.links: list[str] = []
        self.cell_links: dict[str, str] = {}
        self.sweep_status: dict[str, str] = {}
        self.problem_ids: set[str] = set()
        self.stack: list[str] = []
        self._cell: str | None = None
        self._total: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID_TAGS:
            self.stack.append(tag)
        classes = (attrs.get("class") or "").split()
        if tag == "td" and "cell" in classes:
            self._cell = attrs["data-case"]
            self.cells[self._cell] = attrs
            self.cell_text[self._cell] = ""
        if tag == "td" and "cell" not in classes and attrs.get("data-case"):
            self.sweep_status[attrs["data-case"]] = attrs["data-status"]
            self._cell = attrs["data-case"]
        if tag == "td" and "total" in classes:
            self._total = attrs["data-status"]
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._cell is not None:
                self.cell_links[self._cell] = attrs["href"]
        if tag == "details" and "problem" in classes:
            self.problem_ids.add(attrs["id"])

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag == "td":
            self._cell = self._total = None

    def handle_data(self, data):
        if self._cell is not None:
            self.cell_text[self._cell] = self.cell_text.get(self._cell, "") + data
        if self._total is not None and data.strip():
            self.totals[self._total] = int(data)


def _shards(stand_in, cases: list) -> list[Path]:
    return [stand_in.run(cases[0::2], "shard-a.xml"), stand_in.run(cases[1::2], "shard-b.xml")]


def _report_cases(stand_in) -> list:
    return stand_in.standard_cases() + [
        stand_in.case("sub", {"N": 1000}, outcome="fail"),
        stand_in.case("neg", {"N": 1000}, outcome="xpass"),
        # sweep-level check items: listed with the sweep checks, not as matrix cells
        stand_in.case("add", {}, sweep_dim="N"),
        stand_in.case("sum_last", {}, family="reduction", sweep_dim="s0", outcome="fail"),
    ]


def test_report_writes_every_file_and_the_html_shows_every_case(stand_in, tmp_path, capsys):
    cases = _report_cases(stand_in)
    out = tmp_path / "report"
    assert report_main([str(p) for p in _shards(stand_in, cases)] + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"HTML report: {(out / 'matrix.html').resolve()}" in printed
    for name in ("junit-merged.xml", "summary.json", "matrix.html", "matrix.md"):
        assert (out / name).is_file(), name

    html = (out / "matrix.html").read_text()
    parser = MatrixParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], parser.stack  # every tag closed in order
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained

    # every op x size is a cell with its status and its cycles
    sweep_checks = [c for c in cases if c.sweep_dim]
    cases_at_a_size = [c for c in cases if not c.sweep_dim]
    assert set(parser.cells) == {c.case_id for c in cases_at_a_size}
    for spec in cases_at_a_size:
        cell = parser.cells[spec.case_id]
        assert cell["data-op"] == spec.op
        assert cell["data-size"] == ",".join(f"{k}={v}" for k, v in spec.sizes.items())
        assert cell["data-status"] == spec.expected_status
        assert spec.expected_status in cell["class"]
        if spec.outcome == "unsupported":
            assert cell["data-cycles"] == ""
        else:
            assert cell["data-cycles"] == str(spec.cycles)
            assert f"{spec.cycles:,}" in parser.cell_text[spec.case_id]
        if spec.outcome != "pass":
            # the tooltip and the linked Non-passing entry carry message and reproducer
            assert "message:" in cell["title"]
            assert parser.cell_links[spec.case_id][1:] in parser.problem_ids
        if spec.outcome in ("fail", "xpass"):
            assert f"reproduce: pytest 'suites/test_x.py::test_case[{spec.test_id}]'" in cell["title"]

    # sweep checks have their own table; the failing one is under Non-passing cases
    assert f"Sweep checks ({len(sweep_checks)})" in html
    assert parser.sweep_status == {c.case_id: c.expected_status for c in sweep_checks}
    failing_sweep = next(c for c in sweep_checks if c.outcome == "fail")
    assert parser.cell_links[failing_sweep.case_id][1:] in parser.problem_ids
    assert "cycles decrease along s0" in html

    # summary counts per status, unsupported and sweep checks included
    expected = {status: sum(c.expected_status == status for c in cases) for status in Status.ALL}
    assert parser.totals == expected
    assert expected[Status.UNSUPPORTED] == 2

    # plots: one per op that has cycles, linked from the matrix
    ops_with_cycles = {c.op for c in cases if c.outcome != "unsupported"}
    assert {Path(link).stem for link in parser.links if link.startswith("plots/")} == ops_with_cycles

    markdown = (out / "matrix.md").read_text()
    for spec in cases:
        assert spec.op in markdown
        if spec.outcome == "pass":
            assert f"{spec.cycles:,}" in markdown

    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == expected
    assert {c.case_id: c.status for c in load_summary(out / "summary.json")} == {
        c.case_id: c.expected_status for c in cases}


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR"
    ihdr = data[16:16 + length]
    assert struct.unpack(">I", data[16 + length:20 + length])[0] == zlib.crc32(b"IHDR" + ihdr)
    assert data.endswith(b"IEND\xaeB`\x82"), f"{path} is truncated"
    return struct.unpack(">II", ihdr[:8])


def test_plots_are_valid_pngs_one_per_op_and_one_panel_per_dim(stand_in, tmp_path):
    cases = _report_cases(stand_in)
    out = tmp_path / "report"
    assert report_main([str(p) for p in _shards(stand_in, cases)] + ["--out", str(out)]) == 0
    plots = {p.stem: p for p in (out / "plots").glob("*.png")}
    assert set(plots) == {c.op for c in cases if c.outcome != "unsupported"}
    width_1d, height_1d = _png_size(plots["add"])
    width_2d, height_2d = _png_size(plots["sum_last"])  # s0 and s1: two panels side by side
    assert height_1d == height_2d and width_2d > 1.8 * width_1d


def test_report_of_a_directory_ignores_its_own_earlier_output(stand_in, tmp_path):
    cases = stand_in.standard_cases()
    shard_dir = tmp_path / "nightly"
    shard_dir.mkdir()
    for junit in _shards(stand_in, cases):
        (shard_dir / junit.name).write_bytes(junit.read_bytes())
    out = shard_dir / "report"
    assert report_main([str(shard_dir), "--out", str(out), "--no-plots"]) == 0
    # a second report in the same place must not read report/junit-merged.xml back
    assert report_main([str(shard_dir), "--out", str(out), "--no-plots"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["cases"]) == len(cases)
    assert all("report" not in Path(source).parts for source in summary["sources"])
    assert not (out / "plots").exists()
    # the report may also live in the directory of its input, named explicitly
    assert report_main([str(shard_dir / "shard-a.xml"), "--out", str(shard_dir), "--no-plots"]) == 0
    assert len(json.loads((shard_dir / "summary.json").read_text())["cases"]) == len(cases[0::2])
    assert report_main([str(shard_dir), "--out", str(shard_dir), "--no-plots"]) == 0
    assert len(json.loads((shard_dir / "summary.json").read_text())["cases"]) == len(cases)


def test_report_of_missing_input_exits_2(tmp_path, capsys):
    assert report_main([str(tmp_path / "none.xml"), "--out", str(tmp_path / "r")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cycle_drop_across_shards_is_listed_in_the_merged_report(stand_in, tmp_path):
    cases = [stand_in.case("add", {"N": n}) for n in (7, 1000, 1024, 4096)]
    # the sweep is split between two shards, and the larger size in the second
    # shard got cheaper than the smaller one in the first
    shard1 = stand_in.run(cases[:2], "shard1.xml")
    shard2 = stand_in.run([stand_in.case("add", {"N": 1024}, cycle_scale=0.5), cases[3]], "shard2.xml")
    out = tmp_path / "report"
    assert report_main([str(shard1), str(shard2), "--out", str(out), "--no-plots"]) == 0
    [violation] = json.loads((out / "summary.json").read_text())["cycle_monotonicity_violations"]
    assert (violation["op"], violation["dim"], violation["smaller_size"], violation["larger_size"]) == (
        "add", "N", 1000, 1024)
    assert violation["larger_cycles"] < violation["smaller_cycles"] == cases[1].cycles
    html = (out / "matrix.html").read_text()
    assert "Cycle monotonicity over the merged run (1)" in html
    assert "Cycle monotonicity over the merged run (1)" in (out / "matrix.md").read_text()
