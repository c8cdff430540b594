"""cycles / roofline in the HTML matrix (issue 15): every cell with a floor shows its ratio, each row
its largest, and a case above 20x is listed as an efficiency finding; checked in the written HTML
and, where Debian's chromium is installed, in the page a headless browser rendered (DOM and a
screenshot)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from reports.cli import report_main

# add at three sizes, about 1.5x, 3x and 25x their (stand-in) floors; mul at one size without a floor
RATIOS = {1000: 1.5, 65536: 3.0, 7: 25.0}


def _cases(stand_in):
    cases = []
    for n, ratio in RATIOS.items():
        cycles = stand_in.case("add", {"N": n}).cycles
        cases.append(stand_in.case("add", {"N": n}, roofline=round(cycles / ratio)))
    cases.append(stand_in.case("mul", {"N": 1000}))
    return cases


class _Matrix(HTMLParser):
    """The matrix cells' (op, size, data-roofline-ratio, text), the rows' "max ×roofline" texts and
    the efficiency findings' rows."""

    def __init__(self):
        super().__init__()
        self.cells, self.row_max, self.findings = [], [], []
        self._cell = self._row_max = self._finding = None
        self._in_findings = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "td" and "cell" in classes:
            self._cell = [attrs["data-op"], attrs["data-size"], attrs["data-roofline-ratio"], ""]
        elif tag == "td" and "roofline" in classes:
            self._row_max = ""
        elif tag == "table" and "findings" in classes:
            self._in_findings = True
        elif tag == "td" and self._in_findings and self._finding is None:  # a row of cases (not the heads)
            self._finding = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append(tuple(self._cell))
            self._cell = None
        elif tag == "td" and self._row_max is not None:
            self.row_max.append(self._row_max)
            self._row_max = None
        elif tag == "tr" and self._finding is not None:
            if self._finding:
                self.findings.append(self._finding)
            self._finding = None
        elif tag == "table":
            self._in_findings = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[3] += data
        if self._row_max is not None:
            self._row_max += data
        if self._finding is not None:
            self._finding += data + "|"


def _check(html: str, cases) -> None:
    parsed = _Matrix()
    parsed.feed(html)
    by_key = {(op, size): (ratio, text) for op, size, ratio, text in parsed.cells}
    ratios = {c.sizes["N"]: c.cycles / c.roofline for c in cases if c.roofline}
    for c in cases:
        if c.roofline:
            data_ratio, text = by_key[("add", f"N={c.sizes['N']}")]
            ratio = ratios[c.sizes["N"]]
            assert float(data_ratio) == pytest.approx(ratio, abs=1e-3)
            assert text.endswith(f"×{ratio:,.1f}") and f"{c.cycles:,}" in text
    assert ratios[7] > 20 > ratios[65536] > ratios[1000] > 1
    data_ratio, text = by_key[("mul", "N=1000")]
    assert data_ratio == "" and "×" not in text  # no floor recorded: no ratio shown
    assert parsed.row_max == [f"×{ratios[7]:,.1f}", ""]  # add's row (its largest), mul's row
    [finding] = parsed.findings  # only the case above 20x
    assert "add-f32-N=7" in finding and f"×{ratios[7]:,.1f}" in finding


def _report(stand_in, tmp_path):
    """The cases, run and reported: (cases, the matrix page)."""
    cases = _cases(stand_in)
    junit = stand_in.run(cases, "run.xml")
    assert report_main([str(junit), "--out", str(tmp_path / "report"), "--no-plots"]) == 0
    return cases, tmp_path / "report" / "matrix.html"


def test_roofline_ratio_in_the_matrix(stand_in, tmp_path):
    cases, page = _report(stand_in, tmp_path)
    _check(page.read_text(), cases)


def test_roofline_ratio_in_the_matrix_a_browser_renders(stand_in, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless browser (Debian's chromium: NPUSIM_SETUP_BROWSER=1 make setup installs it, as .ci/run does)")
    cases, page = _report(stand_in, tmp_path)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    _check(dom, cases)
    screenshot = tmp_path / "matrix.png"
    subprocess.run([browser, *flags, "--window-size=1200,900", f"--screenshot={screenshot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000  # the page painted (a blank page is a few KB)
