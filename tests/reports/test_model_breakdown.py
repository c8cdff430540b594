"""Model blocks in the reports: the per-kernel breakdown in the HTML (checked in a headless
browser), and `npusim diff` naming the kernel behind a model-level cycle change."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from reports.cli import diff_main, report_main

# The launches of the GPT-2 block of suites/models at B=3 (f32, tpuv3-1core) as the harness
# recorded them: (kernel, cycles at T=7, cycles at T=31).
GPT2_LAUNCHES = [
    ("fused_native_layer_norm", 1800, 7704), ("addmm", 1855, 2164),
    ("fused_clone_split_transpose_view", 246, 829), ("fused_clone_split_transpose_view", 246, 829),
    ("bmm", 454, 665), ("fused__softmax_bitwise_not_masked_fill_mul_slice_view", 15213, 67053),
    ("fused_clone_split_transpose_view", 246, 829), ("bmm", 387, 774), ("fused_clone_transpose_view", 246, 829),
    ("addmm", 791, 964), ("fused_add_native_layer_norm_view", 2060, 8828), ("addmm", 2355, 2731),
    ("fused_gelu_view", 283, 575), ("addmm", 2391, 2666), ("fused_add_view", 138, 297)]
SOFTMAX = "fused__softmax_bitwise_not_masked_fill_mul_slice_view"


def gpt2_cases(stand_in, slower: dict[tuple[int, int], float] | None = None):
    """GPT-2 block cases at T=7 and T=31; `slower` scales the cycles of launch i at T as {(T, i): factor}."""
    slower = slower or {}
    cases = []
    for column, length in ((1, 7), (2, 31)):
        kernels = [{"kernel": launch[0], "hash": f"{index:016x}",
                    "cycles": int(launch[column] * slower.get((length, index), 1.0))}
                   for index, launch in enumerate(GPT2_LAUNCHES)]
        cases.append(stand_in.case("gpt2_block", {"B": 3, "T": length}, family="models", kernels=kernels))
    return cases


def _diff(base, new, capsys) -> tuple[int, dict, str]:
    capsys.readouterr()
    table_code = diff_main([str(base), str(new), "--limit", "0"])
    table = capsys.readouterr().out
    code = diff_main([str(base), str(new), "--json"])
    assert code == table_code
    return code, json.loads(capsys.readouterr().out), table


def test_ten_percent_slower_attention_kernel_is_a_model_level_regression(stand_in, capsys):
    scores = 4  # the first bmm: the attention scores q @ k^T
    base = stand_in.run(gpt2_cases(stand_in), "base.xml")
    new = stand_in.run(gpt2_cases(stand_in, {(31, scores): 1.10}), "new.xml")
    code, data, table = _diff(base, new, capsys)
    assert code == 1 and data["regression"]
    assert data["cycle_increases"] == []  # the block's total moved well under 5 %
    [change] = data["kernel_cycle_increases"]
    assert change["case_id"].endswith("gpt2_block-f32-B=3-T=31]")
    assert change["kernel"] == "bmm#1"
    assert change["kernel_base_cycles"] == 665 and change["kernel_new_cycles"] == int(665 * 1.10)
    assert change["kernel_change_pct"] == pytest.approx(10.0, abs=0.2) and 0 < change["change_pct"] < 1
    assert "Model-level regressions" in table and "bmm#1" in table and "REGRESSION" in table


def test_model_cycle_increase_names_the_kernel_that_caused_it(stand_in, capsys):
    softmax = 5
    base = stand_in.run(gpt2_cases(stand_in), "base.xml")
    new = stand_in.run(gpt2_cases(stand_in, {(7, softmax): 1.10, (7, 0): 1.02}), "new.xml")
    code, data, table = _diff(base, new, capsys)
    assert code == 1
    [change] = data["cycle_increases"]  # the softmax dominates the block: its 10 % is > 5 % of the total
    assert change["kernel"] == SOFTMAX and change["case_id"].endswith("T=7]")
    assert f"{SOFTMAX} (+10.0%)" in table


def test_unchanged_blocks_and_faster_kernels_are_no_regression(stand_in, capsys):
    base = stand_in.run(gpt2_cases(stand_in), "base.xml")
    new = stand_in.run(gpt2_cases(stand_in, {(31, 7): 0.5}), "new.xml")
    code, data, _ = _diff(base, new, capsys)
    assert code == 0 and data["kernel_cycle_increases"] == []
    code, _, _ = _diff(base, base, capsys)
    assert code == 0


class _Cells(HTMLParser):
    """The breakdown tables' cells as the browser laid them out: (op, kernel, size, dominant, text)."""

    def __init__(self):
        super().__init__()
        self.table_op = None
        self.cell = None
        self.cells = []
        self.matrix_cells = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "breakdown" in (attrs.get("class") or ""):
            self.table_op = attrs.get("data-op")
        if tag == "td" and self.table_op and attrs.get("data-kernel"):
            self.cell = [self.table_op, attrs["data-kernel"], attrs.get("data-size"),
                         "dominant" in (attrs.get("class") or ""), ""]
        if tag == "td" and "cell" in (attrs.get("class") or "").split():
            self.matrix_cells += 1

    def handle_endtag(self, tag):
        if tag == "td" and self.cell:
            self.cells.append(tuple(self.cell))
            self.cell = None
        if tag == "table":
            self.table_op = None

    def handle_data(self, data):
        if self.cell:
            self.cell[4] += data


def test_matrix_and_model_breakdown_render_in_a_headless_browser(stand_in, tmp_path, capsys):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless browser (Debian's chromium: NPUSIM_SETUP_BROWSER=1 make setup installs it, as .ci/run does)")
    junit = stand_in.run(gpt2_cases(stand_in), "run.xml")
    assert report_main([str(junit), "--out", str(tmp_path / "report")]) == 0
    page = tmp_path / "report" / "matrix.html"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    parsed = _Cells()
    parsed.feed(dom)
    assert parsed.matrix_cells == 2  # the matrix: the block at two sizes
    by_key = {(kernel, size): (dominant, text) for _, kernel, size, dominant, text in parsed.cells}
    assert len(by_key) == 2 * len(GPT2_LAUNCHES)
    dominant, text = by_key[(SOFTMAX, "B=3,T=31")]
    total = sum(launch[2] for launch in GPT2_LAUNCHES)
    assert dominant and text == f"67,053{67053 / total:.1%}"
    assert [k for (k, size), (d, _) in by_key.items() if d] == [SOFTMAX, SOFTMAX]
    assert "addmm#4" in {k for k, _ in by_key} and "Per-model kernel breakdown (1)" in dom
    kernel_plot = tmp_path / "report" / "plots" / "gpt2_block.f32.kernels.png"  # cycles per kernel vs T
    assert kernel_plot.stat().st_size > 10_000 and 'src="plots/gpt2_block.f32.kernels.png"' in dom
    screenshot = tmp_path / "models.png"
    # the top of the page: the matrix, then the breakdown (a screenshot taken at a #fragment of a long
    # page comes out blank in headless chromium 156)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000",
                    f"--screenshot={screenshot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000  # the page painted (a blank page is a few KB)
