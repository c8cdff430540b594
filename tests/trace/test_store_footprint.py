"""StoreFootprint (the check that no store writes a DRAM element twice in one launch) against a
plain element-set model: random store sequences and hand-picked launches must be accepted or refused
identically, with the same element named (data/store_footprint_check.cpp)."""

from __future__ import annotations

import re
import subprocess

import pytest

from npusim.paths import cxx_compiler
from simulator.trace.build import SOURCE_DIR

from trace_helpers import DATA


@pytest.fixture(scope="module")
def footprint_check(tmp_path_factory):
    binary = tmp_path_factory.mktemp("footprint") / "store_footprint_check"
    # undefined behaviour (a shift of a negative page index, an overflow) stops the check with an error
    subprocess.run([str(cxx_compiler()), "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined",
                    "-fno-sanitize-recover=undefined", f"-I{SOURCE_DIR}",
                    "-o", str(binary), str(DATA / "store_footprint_check.cpp"),
                    str(SOURCE_DIR / "store_footprint.cpp")], check=True, capture_output=True, text=True)
    return binary


def test_store_footprint_agrees_with_an_element_set(footprint_check):
    proc = subprocess.run([str(footprint_check), "1", "3000"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    scenarios, stores, refused = map(int, re.fullmatch(r"scenarios (\d+) stores (\d+) refused (\d+)\n",
                                                        proc.stdout).groups())
    # both outcomes seen many times: launches refused (an element stored twice) and launches accepted whole
    assert scenarios > 3000 and stores > 100_000
    assert 0.2 * scenarios < refused < 0.8 * scenarios
